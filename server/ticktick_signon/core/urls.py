"""The URL rules of the flow, as pure functions: what is an http(s) URL, what is loopback, what to listen on.

The redirect URL, a pasted address and ``TICKTICK_SIGNON_AUTH_URL`` are checked
here; loopback decides both where the listener binds (RFC 8252 section 7.3) and
whether a provider is a local sandbox, or may be reached without a proxy. No I/O.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from ticktick_signon.errors import InvalidParams

#: Redirect URLs longer than this are refused before any parsing work.
MAX_URL_LENGTH = 8192

_LOOPBACK_NAMES = ("localhost",)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a URL's hostname) is ``localhost`` or a loopback IP address."""
    host = host.lower().strip("[]")
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_http_url(url: Any, field: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL with a host.

    Args:
        url: the value to check (any JSON value).
        field: the param or variable it came from, for the error.

    Returns:
        The URL, stripped of surrounding white space.

    Raises:
        InvalidParams: naming ``field``; the URL itself is not echoed, as a
            redirect URL may carry an authorization code.
    """
    if not isinstance(url, str) or not url:
        raise InvalidParams(f"Give {field} as an absolute http(s) URL.", field=field)
    if len(url) > MAX_URL_LENGTH:
        raise InvalidParams(
            f"{field} is longer than {MAX_URL_LENGTH} characters; paste only the URL.",
            field=field,
        )
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidParams(f"{field} is not a valid URL; give an absolute http(s) URL.", field=field) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidParams(f"Give {field} as an absolute http(s) URL.", field=field)
    return url.strip()


def same_origin_and_path(url: str, other: str) -> bool:
    """Whether two URLs go to the same scheme, host, port (default ports filled in) and path.

    The query is not compared: a redirect carries ``code`` and ``state`` that the
    issued redirect URL does not.
    """
    return _origin_and_path(url) == _origin_and_path(other)


def _origin_and_path(url: str) -> tuple[str, str, int | None, str]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return (
        parts.scheme.lower(),
        (parts.hostname or "").lower(),
        parts.port or default_port,
        parts.path or "/",
    )


def loopback_address(redirect_url: str) -> tuple[str, int, str] | None:
    """Return ``(host, port, path)`` to listen on for this redirect, or None.

    Only plain http to a loopback host with an explicit port qualifies
    (RFC 8252 section 7.3); ``localhost`` stays a name, for the listener to
    bind every loopback address it resolves to.
    """
    parts = urlsplit(redirect_url)
    try:
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "http" or port is None or port == 0:
        return None
    if host in _LOOPBACK_NAMES:
        return host, port, parts.path or "/"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_loopback:
        return None
    return str(address), port, parts.path or "/"


def is_local_provider(auth_base: str) -> bool:
    """Whether the provider at ``auth_base`` runs on this machine (a sandbox), so it cannot be TickTick."""
    return is_loopback_host(urlsplit(auth_base).hostname or "")
