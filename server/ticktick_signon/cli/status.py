"""``ticktick-signon status``: whether a profile is signed in and until when (never the token itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ticktick_signon.cli.console import Console, when
from ticktick_signon.cli.exits import EXIT_NOT_SIGNED_IN
from ticktick_signon.cli.login import signin_command

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps
    from ticktick_signon.signin.results import ProfileStatus


@dataclass(frozen=True)
class StatusOptions:
    """What ``status`` was given."""

    profile: str = "default"
    #: Print getStatus's result as JSON instead of sentences.
    as_json: bool = False
    #: Also ask the profile's provider whether the token still works.
    verify: bool = False


def time_left(seconds: int) -> str:
    """``180 days left``, ``23 hours left``, ``5 minutes left``, ``less than a minute left`` or ``expired``.

    The one rule of every client (docs/protocol.md, "Writing a client in another language"):
    whole units of ``expiresIn``, rounded down.
    """
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} left"
    return "less than a minute left" if seconds > 0 else "expired"


def describe(status: ProfileStatus, console: Console) -> str:
    """``status``'s words for a profile, with ✓/✗ when stdout is a terminal."""
    issuer = status.issuer
    where = issuer.name if issuer else "TickTick"
    if issuer is not None and issuer.local:
        where = "the local sandbox (not TickTick)"
    again = signin_command(status.profile, status.sandbox)
    if status.signed_in and status.expires_at is not None and status.expires_in is not None:
        mark = console.badge("success", err=False)
        estimated = " (estimated: it was imported from a file without an expiry)" if status.expires_at_estimated else ""
        left = time_left(status.expires_in)
        state = f"signed in to {where}; the token expires {when(status.expires_at)}{estimated} ({left})"
    elif status.expires_at is not None:
        mark = console.badge("failure", err=False)
        state = f"the token expired {when(status.expires_at)}; run `{again}` to sign in again"
    else:
        mark = console.badge("failure", err=False)
        state = f"not signed in; run `{again}`"
    lines = [f"{mark}Profile '{status.profile}': {state}."]
    if status.client_id:
        lines.append(f"App client id: {status.client_id} (region {status.region or 'ticktick'}).")
    if issuer is not None and issuer.kind == "custom":
        lines.append(f"Provider: {issuer.described()}; its token and secret are sent nowhere else.")
    if status.pending_signon:
        lines.append("A sign-in is waiting for its browser redirect.")
    lines.append(f"Cache: {status.config_path}")
    return "\n".join(lines)


def run(options: StatusOptions, deps: CliDeps) -> None:
    """Describe the profile (or print it as JSON), and with ``verify`` ask its provider about its token.

    Args:
        options: the profile, JSON or words, and whether to verify.
        deps: the service factory and the streams.

    Raises:
        SystemExit: 1 when the profile is not signed in, its token expired, or its provider rejected it.
        SignonError: a bad profile name, an unreadable cache, the environment's provider is not the
            profile's (IssuerMismatch: nothing is sent), or the provider could not be asked.
    """
    import json

    from ticktick_signon.core.messages import parse_profile

    console = deps.console
    service = deps.services(deps.environ)
    name = parse_profile({"profile": options.profile}).profile
    from ticktick_signon.helper.wire import status_result

    status = service.status(name)
    if not options.as_json:
        console.echo(describe(status, console))
    checked = service.verify(name) if options.verify and status.signed_in else None
    if options.as_json:
        result = status_result(status)  # getStatus's result, with verifyToken's answer under "verified"
        if checked is not None:
            result["verified"] = {"valid": checked.valid, "checkedAt": checked.checked_at}
        console.echo(json.dumps(result))
    if not status.signed_in:
        raise SystemExit(EXIT_NOT_SIGNED_IN)
    if checked is None:
        return
    # verify sent the token only to the profile's issuer, so that is who answered.
    who = status.issuer.title if status.issuer else "TickTick"
    if not checked.valid:
        again = signin_command(name, status.sandbox)
        console.fail(f"{who} rejected the token of profile '{name}'; sign in again with `{again}`.", 1)
    if not options.as_json:
        console.echo(f"{console.badge('success', err=False)}{who} accepts the token (checked just now).")
