"""The network edge of the flow: POSTs the authorization code to the token endpoint with httpx.

httpx is imported on the first exchange only, so reading a cached token never pays for it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping

from .errors import NetworkError, TokenExchangeFailed
from .oauth import TokenRequest, parse_token_response
from .records import Token

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
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            with client.stream(
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
    except httpx.TimeoutException:
        log.warning("Token endpoint timed out after %.0fs", timeout)
        raise NetworkError(
            "TickTick did not answer in time; check your connection and sign in again.",
            reason="timeout",
        ) from None
    except httpx.HTTPError as exc:
        # The exception text names the host only; the request body is never in it.
        log.warning("Token endpoint unreachable: %s", type(exc).__name__)
        raise NetworkError(
            "Could not reach TickTick; check your connection and sign in again.",
            reason=type(exc).__name__,
        ) from None
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
