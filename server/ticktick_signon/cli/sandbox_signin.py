"""The embedded sandbox behind ``login --sandbox``: start it, play its browser, prove the new token works.

No account and no prompts: the sandbox approves at once, a stand-in browser
follows its redirect, and one API call checks the token it issued. The two
loopback calls use httpx directly (never a proxy); upstream/ has no call that
returns the project list.
"""

from __future__ import annotations

import logging
from typing import Any

from ticktick_signon.cli.console import Console

log = logging.getLogger("ticktick_signon")


def play_browser(authorize_url: str) -> None:
    """For --sandbox: fetch the authorize URL and follow its redirect, as a browser would."""
    import httpx

    try:
        httpx.get(authorize_url, follow_redirects=True, timeout=30, trust_env=False)  # loopback: never a proxy
    except httpx.HTTPError as exc:
        log.warning("The sandbox browser could not follow the redirect: %s", type(exc).__name__)


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
    import httpx

    response = httpx.get(
        f"{provider.base_url}/open/v1/project",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
        trust_env=False,  # the sandbox is on loopback: the token never goes through a proxy
    )
    if response.status_code == 200:
        console.success(f"The token works: the sandbox API listed {len(response.json())} project(s).")
    else:
        console.warning(f"The sandbox API refused the new token (HTTP {response.status_code}).")
