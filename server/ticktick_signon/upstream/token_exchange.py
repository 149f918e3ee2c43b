"""The network edge of the flow: POSTs the authorization code to the token endpoint with httpx.

The client and its transport rules (trust store, proxies, timeouts) are
``upstream.http``'s; httpx is imported on the first exchange only, so reading
a cached token never pays for it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from ticktick_signon.core.oauth import TokenRequest, parse_token_response
from ticktick_signon.core.records import Token
from ticktick_signon.errors import TokenExchangeFailed
from ticktick_signon.upstream.http import network_error, open_client

log = logging.getLogger(__name__)

#: A token answer is a few hundred bytes; anything far bigger is not one.
MAX_BODY_BYTES = 64 * 1024


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
        with (
            open_client(request.url, timeout) as client,
            client.stream(
                "POST",
                request.url,
                data=request.form,
                auth=httpx.BasicAuth(request.client_id, request.client_secret),
                headers={"Accept": "application/json"},
            ) as response,
        ):
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
        who = request.provider[:1].upper() + request.provider[1:]
        raise TokenExchangeFailed(
            f"{who}'s token endpoint answered with a redirect (HTTP {status}), which is "
            "not followed so your secret stays put; check TICKTICK_SIGNON_AUTH_URL.",
            status=status,
            error="unexpected_redirect",
        )
    try:
        body = json.loads(raw) if raw and len(raw) <= MAX_BODY_BYTES else None
    except ValueError:
        body = None
    return parse_token_response(status, body, clock(), request.provider)
