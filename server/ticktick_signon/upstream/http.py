"""The HTTP client of every call to TickTick: transport rules, trust store, timeouts and network errors.

httpx, truststore and certifi are imported on the first call only, so start-up
and reading a cached token never pay for them. Certificates are checked
against the OS trust store (truststore, as pip does), with certifi's bundle as
the fallback; redirects are never followed; a loopback host is never reached
through a proxy. ``token_exchange`` and ``api_client`` make their calls with
``open_client`` and report failures with ``network_error``.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ticktick_signon.core.urls import is_loopback_host
from ticktick_signon.errors import NetworkError

if TYPE_CHECKING:
    import ssl

    import httpx

log = logging.getLogger(__name__)

ENV_HTTP_TIMEOUT = "TICKTICK_SIGNON_HTTP_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 20.0
#: The longest timeout taken from the environment: a sign-in link lives 10 minutes, so a longer wait is never
#: useful, and a huge one (``1e300``, ``inf``) overflows the socket layer's timeout.
MAX_TIMEOUT_SECONDS = 600.0


def warm_imports() -> None:
    """Import the HTTP stack in a background thread, so the first token exchange does not wait for it.

    httpx, httpcore and the trust store take about half a second to import; a
    sign-in starts this while the person is in the browser. Failures are left to
    the exchange itself to report.
    """
    import threading

    def load() -> None:
        try:
            import certifi  # noqa: F401  (the trust store's fallback)
            import httpcore  # noqa: F401  (httpx loads its transport only when the first client is made)
            import httpx  # noqa: F401
            import truststore  # noqa: F401  (the exchange's trust store)

            from ticktick_signon.upstream import token_exchange  # noqa: F401
        except Exception:  # the exchange itself will report whatever is wrong
            log.debug("Warming the HTTP imports failed", exc_info=True)

    threading.Thread(target=load, name="warm-httpx", daemon=True).start()


def visit(url: str, timeout: float) -> int:
    """Fetch ``url`` and follow its redirects, as a browser would; for loopback addresses only.

    ``login --sandbox`` plays the person's browser with this: the embedded
    sandbox approves at once and redirects to the CLI's own listener.

    Args:
        url: an http URL on a loopback host.
        timeout: seconds for each request.

    Returns:
        The HTTP status of the last page.

    Raises:
        ValueError: ``url`` is not on a loopback host (nothing else is ever visited).
        NetworkError: the page could not be fetched.
    """
    import httpx

    if not is_loopback_host(urlsplit(url).hostname or ""):
        raise ValueError("visit() fetches loopback addresses only")
    try:
        return httpx.get(url, follow_redirects=True, timeout=timeout, trust_env=False).status_code  # never a proxy
    except httpx.HTTPError as exc:
        raise network_error(exc, url, timeout, "try again") from None


def timeout_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """Return the HTTP timeout in seconds: ``$TICKTICK_SIGNON_HTTP_TIMEOUT``, or 20 when unset or unusable.

    A value that is not a finite number of seconds above 0 and at most ``MAX_TIMEOUT_SECONDS``
    (``abc``, ``-1``, ``nan``, ``inf``, ``1e300``) is replaced by the default, with a warning in the log.
    """
    raw = environ.get(ENV_HTTP_TIMEOUT)
    if raw is None:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT_SECONDS:  # also false for nan
        log.warning(
            "%s=%r is not a number of seconds above 0 and at most %g; using %g",
            ENV_HTTP_TIMEOUT,
            raw[:40],
            MAX_TIMEOUT_SECONDS,
            DEFAULT_TIMEOUT_SECONDS,
        )
        return DEFAULT_TIMEOUT_SECONDS
    return value


def open_client(url: str, timeout: float) -> httpx.Client:
    """An httpx client for calls to TickTick at ``url``, with the project's transport rules.

    A timeout on every phase; redirects never followed, so a secret or a token
    cannot travel to another address; the OS trust store (``trust_context``);
    proxies from the environment (``trust_env`` reads HTTP(S)_PROXY, ALL_PROXY
    and NO_PROXY), except for a loopback host, which is never reached through one.

    Args:
        url: the address to be called (its host decides the proxy rule).
        timeout: seconds for connecting, sending and reading.

    Returns:
        A client to use as a context manager.
    """
    import httpx

    proxied = not is_loopback_host(urlsplit(url).hostname or "")
    return httpx.Client(timeout=timeout, follow_redirects=False, verify=trust_context(), trust_env=proxied)


def network_error(exc: Exception, url: str, timeout: float, then: str) -> NetworkError:
    """The ``NetworkError`` for an httpx failure calling ``url``; ``then`` says what to do after fixing it.

    Its message and log name the host only: the exception text never carries
    a request body or header.
    """
    import httpx

    host = urlsplit(url).hostname or ""
    who = _provider_words(host)
    if isinstance(exc, httpx.TimeoutException):
        log.warning("%s timed out after %.0fs", host, timeout)
        return NetworkError(f"{who} did not answer in time; check your connection and {then}.", reason="timeout")
    untrusted = _certificate_error(exc)
    if untrusted is not None:
        log.warning("The certificate of %s was not trusted: %s", host, untrusted)
        return NetworkError(
            f"The certificate of {host} could not be verified ({untrusted}), so nothing was sent. "
            "If your network inspects TLS (a company proxy, an antivirus), add its CA to the "
            f"system's trust store or point SSL_CERT_FILE at it, then {then}.",
            reason="certificate",
        )
    log.warning("%s unreachable: %s", host, type(exc).__name__)
    return NetworkError(f"Could not reach {who}; check your connection and {then}.", reason=type(exc).__name__)


def _provider_words(host: str) -> str:
    """Who a person is told did not answer: TickTick or Dida365 by their hosts, else the host itself."""
    from ticktick_signon.core.issuers import known_name_of_host

    return known_name_of_host(host) or f"the provider at {host}"


def trust_context() -> ssl.SSLContext:
    """The CAs a token request trusts: the OS trust store, else certifi's bundle.

    truststore (as pip uses it) asks the OS: Keychain on macOS, CryptoAPI on
    Windows, OpenSSL's system files on Linux, which honour ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` themselves. It loads them at the handshake, so a plain-http
    request builds no CA store. Where truststore cannot run, or a Linux system
    has no CA files, certifi's bundle is used.
    """
    import ssl

    try:
        import truststore
    except ImportError:  # a platform truststore does not support
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    else:
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if sys.platform.startswith("linux") or "bsd" in sys.platform:
            defaults = ssl.get_default_verify_paths()
            if not (defaults.cafile or defaults.capath):
                import certifi

                context.load_verify_locations(cafile=certifi.where())
            return context
    # macOS and Windows verify with the OS; the variables name extra CAs there.
    cafile, capath = os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None
    if cafile or capath:
        try:
            context.load_verify_locations(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError) as exc:
            log.warning("SSL_CERT_FILE / SSL_CERT_DIR could not be loaded (%s); using the system's CAs", exc)
    return context


def _certificate_error(exc: BaseException) -> str | None:
    """The verifier's reason if a certificate check caused ``exc``, else None."""
    import ssl

    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            return str(cause.verify_message or cause.reason or "certificate verify failed")
        cause = cause.__cause__ or cause.__context__
    return None
