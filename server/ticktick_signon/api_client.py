"""The network edge towards TickTick's Open API: one authenticated ``GET`` that says whether a token works.

httpx is imported on the first call only, so start-up and ``getToken`` never pay for it.
"""

from __future__ import annotations

import logging

from .errors import NetworkError
from .oauth import VERIFY_PATH

log = logging.getLogger(__name__)


def projects_status(api_base: str, access_token: str, timeout: float) -> int:
    """Call ``GET {api_base}/open/v1/project`` with the token and return the HTTP status.

    The body is not read (only the status matters) and redirects are not
    followed, so the token is never sent to another address.

    Args:
        api_base: the Open API's base URL (``oauth.api_base``).
        access_token: sent as ``Authorization: Bearer``; never logged.
        timeout: seconds for connecting, sending and reading.

    Returns:
        The status code of TickTick's answer.

    Raises:
        NetworkError: timeout, refused or reset connection, DNS failure.
    """
    import httpx

    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            with client.stream(
                "GET",
                api_base + VERIFY_PATH,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            ) as response:
                status = response.status_code
    except httpx.TimeoutException:
        log.warning("TickTick's API timed out after %.0fs", timeout)
        raise NetworkError("TickTick did not answer in time; check your connection and try again.", reason="timeout") from None
    except httpx.HTTPError as exc:
        log.warning("TickTick's API unreachable: %s", type(exc).__name__)
        raise NetworkError(
            "Could not reach TickTick; check your connection and try again.", reason=type(exc).__name__
        ) from None
    log.info("TickTick's API answered HTTP %d to the token check", status)
    return status
