"""``ticktick-signon status``: whether a profile is signed in and until when (never the token itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ticktick_signon.cli.console import Console, when
from ticktick_signon.cli.exits import EXIT_NOT_SIGNED_IN
from ticktick_signon.cli.login import signin_command

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps


@dataclass(frozen=True)
class StatusOptions:
    """What ``status`` was given."""

    profile: str = "default"
    #: Print getStatus's result as JSON instead of sentences.
    as_json: bool = False
    #: Also ask TickTick whether the token still works.
    verify: bool = False


def describe(status: dict[str, Any], console: Console) -> str:
    """``status``'s words for a profile, with ✓/✗ when stdout is a terminal."""
    where = "the local sandbox (not TickTick)" if status["sandbox"] else "TickTick"
    again = signin_command(status["profile"], status["sandbox"])
    if status["signedIn"]:
        days = status["expiresIn"] // 86400
        mark = console.badge("success", err=False)
        estimated = (
            " (estimated: it was imported from a file without an expiry)" if status["expiresAtEstimated"] else ""
        )
        state = f"signed in to {where}; the token expires {when(status['expiresAt'])}{estimated} ({days} days left)"
    elif status["expiresAt"] is not None:
        mark = console.badge("failure", err=False)
        state = f"the token expired {when(status['expiresAt'])}; run `{again}` to sign in again"
    else:
        mark = console.badge("failure", err=False)
        state = f"not signed in; run `{again}`"
    lines = [f"{mark}Profile '{status['profile']}': {state}."]
    if status["clientId"]:
        lines.append(f"App client id: {status['clientId']} (region {status['region'] or 'ticktick'}).")
    if status["pendingSignon"]:
        lines.append("A sign-in is waiting for its browser redirect.")
    lines.append(f"Cache: {status['configPath']}")
    return "\n".join(lines)


def run(options: StatusOptions, deps: CliDeps) -> None:
    """Describe the profile (or print it as JSON), and with ``verify`` ask TickTick about its token.

    Args:
        options: the profile, JSON or words, and whether to verify.
        deps: the service factory and the streams.

    Raises:
        SystemExit: 1 when the profile is not signed in, its token expired, or TickTick rejected it.
        SignonError: a bad profile name, an unreadable cache, or TickTick could not be asked.
    """
    import json

    from ticktick_signon.core.messages import parse_profile

    console = deps.console
    service = deps.services(deps.environ)
    name = parse_profile({"profile": options.profile}).profile
    result = service.status(name)
    if not options.as_json:
        console.echo(describe(result, console))
    if options.verify and result["signedIn"]:
        checked = service.verify(name)
        result["verified"] = {"valid": checked["valid"], "checkedAt": checked["checkedAt"]}
    if options.as_json:
        console.echo(json.dumps(result))
    if not result["signedIn"]:
        raise SystemExit(EXIT_NOT_SIGNED_IN)
    if not options.verify:
        return
    if not result["verified"]["valid"]:
        again = signin_command(name, result["sandbox"])
        console.fail(f"TickTick rejected the token of profile '{name}'; sign in again with `{again}`.", 1)
    if not options.as_json:
        console.echo(f"{console.badge('success', err=False)}TickTick accepts the token (checked just now).")
