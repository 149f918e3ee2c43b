"""``ticktick-signon logout``: remove a profile's token (with ``--forget``, its saved credentials too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps


@dataclass(frozen=True)
class LogoutOptions:
    """What ``logout`` was given."""

    profile: str = "default"
    #: Also forget the saved client id, secret, redirect URL and region.
    forget: bool = False


def run(options: LogoutOptions, deps: CliDeps) -> None:
    """Sign the profile out and say what actually changed.

    Args:
        options: the profile and ``forget``.
        deps: the service factory and the streams.

    Raises:
        SignonError: a bad profile name, or a cache that cannot be written.
    """
    from ticktick_signon.core.messages import parse_sign_out

    console = deps.console
    request = parse_sign_out({"profile": options.profile, "forget": options.forget})
    report = deps.services(deps.environ).sign_out(request.profile, request.forget)
    name = f"profile '{request.profile}'"
    if report.token_removed:
        said = [f"Signed out of {name}."]
    elif report.settings_forgotten or report.sign_in_cancelled:
        said = [f"The {name} was not signed in."]
    else:
        console.say(f"Nothing to do: {name} was not signed in{' and had nothing saved' if options.forget else ''}.")
        return
    if report.sign_in_cancelled:
        said.append("Cancelled the sign-in it was waiting for.")
    if report.settings_forgotten:
        said.append("Forgot its saved client id and secret.")
    elif report.token_removed and not options.forget:
        said.append("Kept its client id and secret for the next login (--forget drops them).")
    console.success(" ".join(said))
