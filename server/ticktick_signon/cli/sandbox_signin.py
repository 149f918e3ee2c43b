"""The embedded sandbox behind ``login --sandbox``: start it, play its browser, prove the new token works.

No account and no prompts: the sandbox approves at once, a stand-in browser
follows its redirect, and one API call checks the token it issued. Both calls
go through upstream/ (loopback only, never through a proxy).
"""

from __future__ import annotations

import logging
from typing import Any

from ticktick_signon.cli.console import Console

log = logging.getLogger("ticktick_signon")


def play_browser(authorize_url: str) -> None:
    """For --sandbox: fetch the authorize URL and follow its redirect, as a browser would."""
    from ticktick_signon.errors import NetworkError
    from ticktick_signon.upstream.http import visit

    try:
        visit(authorize_url, timeout=30)
    except NetworkError as exc:
        log.warning("The sandbox browser could not follow the redirect: %s", exc.message)


def start_sandbox() -> tuple[Any, str, str, str]:
    """Start the embedded sandbox with a fresh app whose redirect URL is a free loopback port."""
    import secrets
    import socket

    from ticktick_signon.sandbox import SandboxClient, SandboxProvider

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redirect_url = f"http://127.0.0.1:{port}/callback"
    client = SandboxClient("sandbox-client", secrets.token_urlsafe(24), (redirect_url,))
    provider = SandboxProvider((client,), auto_approve=True).start()
    return provider, client.client_id, client.client_secret, redirect_url


def check_sandbox_token(provider: Any, access_token: str, console: Console) -> None:
    """Prove the new token works: call the sandbox's GET /open/v1/project with it."""
    from ticktick_signon.upstream.api_client import list_projects

    # The sandbox is on loopback, which open_client never reaches through a proxy.
    status, projects = list_projects(provider.base_url, access_token, timeout=10)
    if status == 200 and projects is not None:
        console.success(f"The token works: the sandbox API listed {len(projects)} project(s).")
    else:
        console.warning(f"The sandbox API refused the new token (HTTP {status}).")
