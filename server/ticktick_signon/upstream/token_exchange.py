"""The network edge of the flow: POSTs the authorization code to the token endpoint with httpx.

httpx and truststore are imported on the first exchange only, so reading a cached
token never pays for them. Certificates are checked against the OS trust store
(truststore, as pip does), with certifi's bundle as the fallback; a loopback
endpoint is never reached through a proxy.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ticktick_signon.core.oauth import TokenRequest, is_loopback_host, parse_token_response
from ticktick_signon.errors import NetworkError, TokenExchangeFailed

if TYPE_CHECKING:
    import ssl

    import httpx
from ticktick_signon.core.records import Token

log = logging.getLogger(__name__)

ENV_HTTP_TIMEOUT = "TICKTICK_SIGNON_HTTP_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 20.0
#: A token answer is a few hundred bytes; anything far bigger is not one.
MAX_BODY_BYTES = 64 * 1024


def timeout_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """Return the HTTP timeout in seconds: ``$TICKTICK_SIGNON_HTTP_TIMEOUT`` or 20."""
    try:
        value = float(environ.get(ENV_HTTP_TIMEOUT, DEFAULT_TIMEOUT_SECONDS))
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS
    return value if value > 0 else DEFAULT_TIMEOUT_SECONDS


def exchange_code(request: TokenRequest, clock: Callable[[], float], timeout: float) -> Token:
    """Trade an authorization code for a token, as TickTick's spec and RFC 6749 say.

    Form-encoded body, client credentials in a Basic header (never in the URL),
    a timeout on every phase, and redirects never followed, so the secret cannot
    travel to another address.

    Args:
        request: what to send (from ``oauth.build_token_request``).
        clock: returns unix seconds; read when the answer arrives.
        timeout: seconds for connecting, sending and reading.

    Returns:
        The token, expiring at ``clock() + expires_in``.

    Raises:
        NetworkError: timeout, refused or reset connection, DNS failure.
        TokenExchangeFailed: a non-2xx answer, a redirect, or a body that is not a token.
    """
    import httpx

    try:
        with open_client(request.url, timeout) as client, client.stream(
            "POST",
            request.url,
            data=request.form,
            auth=httpx.BasicAuth(request.client_id, request.client_secret),
            headers={"Accept": "application/json"},
        ) as response:
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) > MAX_BODY_BYTES:
                    break
    except httpx.HTTPError as exc:
        raise network_error(exc, request.url, timeout, "sign in again") from None
    status = response.status_code
    log.info("Token endpoint answered HTTP %d", status)
    if 300 <= status < 400:
        raise TokenExchangeFailed(
            f"TickTick's token endpoint answered with a redirect (HTTP {status}), which is "
            "not followed so your secret stays put; check TICKTICK_SIGNON_AUTH_URL.",
            status=status,
            error="unexpected_redirect",
        )
    try:
        body = json.loads(raw) if raw and len(raw) <= MAX_BODY_BYTES else None
    except ValueError:
        body = None
    return parse_token_response(status, body, clock())


def open_client(url: str, timeout: float) -> httpx.Client:
    """An httpx client for calls to TickTick at ``url``, with the project's transport rules.

    A timeout on every phase; redirects never followed, so a secret or a token
    cannot travel to another address; the OS trust store (``trust_context``);
    proxies from the environment (``trust_env`` reads HTTP(S)_PROXY, ALL_PROXY
    and NO_PROXY), except for a loopback host, which is never reached through one.
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
    if isinstance(exc, httpx.TimeoutException):
        log.warning("%s timed out after %.0fs", host, timeout)
        return NetworkError(f"TickTick did not answer in time; check your connection and {then}.", reason="timeout")
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
    return NetworkError(f"Could not reach TickTick; check your connection and {then}.", reason=type(exc).__name__)


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
