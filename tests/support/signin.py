"""A whole sign-in through the real helper by pasting, against the sandbox app: where most helper tests start."""

from __future__ import annotations

from typing import Any

from tests.support.rpc import HelperProcess

from .fake_browser import follow_authorize
from .ports import free_port

#: The sandbox app's credentials, as startSignon takes them.
CREDS = {"clientId": "sandbox-client", "clientSecret": "sandbox-secret"}


def paste_redirect(port: int | None = None) -> str:
    """A loopback redirect URL on ``port`` (default: one free a moment ago), for sign-ins completed by pasting."""
    return f"http://127.0.0.1:{port or free_port()}/callback"


def sign_in(helper: HelperProcess, profile: str = "default") -> dict[str, Any]:
    """Sign ``profile`` in: startSignon without a listener, Allow in the fake browser, completeSignon.

    Returns:
        completeSignon's result (the token).

    Raises:
        RpcError: the helper refused a step.
    """
    started = helper.request(
        "startSignon", {**CREDS, "redirectUrl": paste_redirect(), "listen": False, "profile": profile}
    )
    return helper.request("completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})
