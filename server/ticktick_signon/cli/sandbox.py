"""``ticktick-signon sandbox``: run a local stand-in for TickTick's OAuth server until Ctrl-C."""

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
        KeyboardInterrupt: Ctrl-C, the way it stops (the caller says so).
    """
    from ticktick_signon.sandbox import SandboxClient, SandboxProvider

    provider = SandboxProvider(
        (SandboxClient(options.client_id, options.client_secret),),
        auto_approve=options.auto_approve,
        expires_in=options.expires_in,
        host=options.host,
        port=options.port,
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
        "  any http://127.0.0.1:PORT/ redirect URL is accepted. Ctrl-C stops it."
    )
    try:
        while True:
            time.sleep(3600)
    finally:
        provider.close()
