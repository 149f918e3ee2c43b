"""``ticktick-signon sandbox``: run a local stand-in for TickTick's OAuth server until Ctrl-C.

It says where it listens, the app it knows and how to approve without a browser,
then one line per request (``SandboxProvider``'s request log). Ctrl-C is how a
server one started on purpose is stopped: "Sandbox stopped." and status 0, as
``python -m http.server`` does, not the "Cancelled." and 130 of an interrupted command.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps


@dataclass(frozen=True)
class SandboxOptions:
    """What ``sandbox`` was given; the click function has checked that ``host`` is a loopback address."""

    host: str = "127.0.0.1"
    port: int = 8765
    auto_approve: bool = False
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    expires_in: int = 15_552_000


def run(options: SandboxOptions, deps: CliDeps) -> None:
    """Start the sandbox, say how to point ``login`` at it, and serve until interrupted.

    Args:
        options: where to listen, the app it knows, and how it approves.
        deps: the streams.

    Raises:
        SystemExit: 1 when the port cannot be listened on.
    """
    from ticktick_signon.sandbox import SandboxClient, SandboxProvider

    provider = SandboxProvider(
        (SandboxClient(options.client_id, options.client_secret),),
        auto_approve=options.auto_approve,
        expires_in=options.expires_in,
        host=options.host,
        port=options.port,
        request_log=deps.console.say,
    )
    try:
        provider.start()
    except OSError as exc:
        deps.console.fail(
            f"Cannot listen on {options.host} port {options.port} ({exc.strerror}); try another --port.", 1
        )
    deps.console.say(
        f"Sandbox TickTick on {provider.base_url}\n"
        f"  export TICKTICK_SIGNON_AUTH_URL={provider.base_url}\n"
        f"  client id: {options.client_id}   client secret: {options.client_secret}\n"
        "  any http://127.0.0.1:PORT/ redirect URL is accepted.\n"
        + (
            "  --auto-approve is on: every sign-in is approved at once, no page is shown.\n"
            if options.auto_approve
            else "  No browser? Start it with --auto-approve, or approve with the page's form:\n"
            "  POST /oauth/authorize/decision with request=ID (from the page) and decision=allow.\n"
        )
        + "  One line per request follows. Ctrl-C stops it."
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        # On a terminal the cursor still sits after the ^C echo.
        deps.console.say(("\n" if deps.console.on_terminal() else "") + "Sandbox stopped.")
    finally:
        provider.close()
