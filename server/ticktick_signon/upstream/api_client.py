"""The network edge towards TickTick's Open API: the authenticated ``GET`` of the project list.

``projects_status`` says whether a token works (the status alone); ``list_projects``
also reads the list (``login --sandbox`` shows how many the new token sees).

httpx is imported on the first call only, so start-up and ``getToken`` never pay for it.
"""

from __future__ import annotations

import logging

from ticktick_signon.core.oauth import VERIFY_PATH
from ticktick_signon.upstream.http import network_error, open_client

log = logging.getLogger(__name__)


#: The most of a project list read (the sandbox's is a few hundred bytes).
MAX_LIST_BYTES = 1 << 20


def projects_status(api_base: str, access_token: str, timeout: float) -> int:
    """Call ``GET {api_base}/open/v1/project`` with the token and return the HTTP status.

    The body is not read (only the status matters).

    Args:
        api_base: the Open API's base URL (``oauth.api_base``).
        access_token: sent as ``Authorization: Bearer``; never logged.
        timeout: seconds for connecting, sending and reading.

    Returns:
        The status code of TickTick's answer.

    Raises:
        NetworkError: timeout, refused or reset connection, DNS failure, an untrusted certificate.
    """
    status, _ = _get_projects(api_base, access_token, timeout, read_body=False)
    log.info("TickTick's API answered HTTP %d to the token check", status)
    return status


def list_projects(api_base: str, access_token: str, timeout: float) -> tuple[int, list[object] | None]:
    """Call ``GET {api_base}/open/v1/project`` with the token and read the list it answers.

    Args:
        api_base: the Open API's base URL (``oauth.api_base``).
        access_token: sent as ``Authorization: Bearer``; never logged.
        timeout: seconds for connecting, sending and reading.

    Returns:
        The HTTP status and, for a 200 whose body is a JSON list (at most ``MAX_LIST_BYTES``), that list; else None.

    Raises:
        NetworkError: timeout, refused or reset connection, DNS failure, an untrusted certificate.
    """
    import json

    status, body = _get_projects(api_base, access_token, timeout, read_body=True)
    if status != 200 or body is None:
        return status, None
    try:
        projects = json.loads(body)
    except ValueError:
        return status, None
    return status, projects if isinstance(projects, list) else None


def _get_projects(api_base: str, access_token: str, timeout: float, *, read_body: bool) -> tuple[int, bytes | None]:
    """The one authenticated GET: its status and, if asked for, its body (None past ``MAX_LIST_BYTES``).

    The client is the token request's (``http.open_client``): redirects not
    followed, so the token goes to no other address; the same trust store and
    proxy rules.
    """
    import httpx

    url = api_base + VERIFY_PATH
    body: bytes | None = None
    try:
        with (
            open_client(url, timeout) as client,
            client.stream(
                "GET", url, headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
            ) as response,
        ):
            status = response.status_code
            if read_body:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_LIST_BYTES:
                        body = None
                        break
    except httpx.HTTPError as exc:
        raise network_error(exc, url, timeout, "try again") from None
    return status, body
