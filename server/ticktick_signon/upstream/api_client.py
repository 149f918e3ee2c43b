"""The network edge towards TickTick's Open API: one authenticated ``GET`` that says whether a token works.

httpx is imported on the first call only, so start-up and ``getToken`` never pay for it.
"""

from __future__ import annotations

import logging

from ticktick_signon.core.oauth import VERIFY_PATH
from ticktick_signon.upstream.http import network_error, open_client

log = logging.getLogger(__name__)


def projects_status(api_base: str, access_token: str, timeout: float) -> int:
    """Call ``GET {api_base}/open/v1/project`` with the token and return the HTTP status.

    The body is not read (only the status matters). The client is the token
    project's (``http.open_client``): redirects not followed, so the
    token goes to no other address; the same trust store and proxy rules.

    Args:
        api_base: the Open API's base URL (``oauth.api_base``).
        access_token: sent as ``Authorization: Bearer``; never logged.
        timeout: seconds for connecting, sending and reading.

    Returns:
        The status code of TickTick's answer.

    Raises:
        NetworkError: timeout, refused or reset connection, DNS failure, an untrusted certificate.
    """
    import httpx

    url = api_base + VERIFY_PATH
    try:
        with (
            open_client(url, timeout) as client,
            client.stream(
                "GET", url, headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
            ) as response,
        ):
            status = response.status_code
    except httpx.HTTPError as exc:
        raise network_error(exc, url, timeout, "try again") from None
    log.info("TickTick's API answered HTTP %d to the token check", status)
    return status
