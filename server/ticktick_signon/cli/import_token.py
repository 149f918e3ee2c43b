"""``ticktick-signon import``: take the token pyticktick, ticktick-py or ticktick-mcp already has."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ticktick_signon.cli.console import when
from ticktick_signon.errors import SignonError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ticktick_signon.cli.deps import CliDeps
    from ticktick_signon.imports.importer import ImportResult


@dataclass(frozen=True)
class ImportOptions:
    """What ``import`` was given: a file's ``path``, or ``from_env`` (the click function refuses both or neither)."""

    path: Path | None = None
    profile: str = "default"
    #: ``auto``, ``pyticktick``, ``ticktick-py`` or ``ticktick-mcp``.
    fmt: str = "auto"
    from_env: bool = False
    #: Replace a valid token without asking.
    force: bool = False


def run(options: ImportOptions, deps: CliDeps) -> None:
    """Import the token into the profile; over a valid token, ask first (or need ``force``).

    Args:
        options: where the token is, its format, the profile, and ``force``.
        deps: the service factory, the environment (for ``from_env``), the prompter and the streams.

    Raises:
        SystemExit: 1 when the person chose not to replace the profile's token.
        SignonError: the file cannot be read, holds no usable token, or a valid token is in the way.
    """
    from ticktick_signon.core.messages import parse_profile
    from ticktick_signon.errors import InvalidParams
    from ticktick_signon.imports.formats import read_pyticktick_settings

    console = deps.console
    service = deps.services(deps.environ)
    name = parse_profile({"profile": options.profile}).profile

    def attempt(replace: bool) -> ImportResult:
        if options.path is None:
            found = read_pyticktick_settings(dict(deps.environ), "the environment")
            return service.import_found(found, "the environment", name, replace)
        return service.import_file(options.path, name, options.fmt, replace)

    try:
        result = _naming_login(attempt, options.force, name)
    except InvalidParams as error:
        if error.data.get("field") != "force" or not deps.can_prompt:
            raise
        console.warning(error.message.split(";")[0] + ".")
        if not deps.prompter.confirm("Replace it?", default=False):
            console.say("Nothing was imported.")
            raise SystemExit(1) from None
        result = _naming_login(attempt, True, name)
    issuer = service.status(name).issuer  # the profile is now bound to whoever the environment names
    where = issuer.name if issuer else "TickTick"
    console.success(
        f"Imported the {result.format} token into profile '{name}', signed in to {where}; "
        f"it expires {when(result.expires_at)}."
    )
    if result.expires_at_estimated:
        who = issuer.title if issuer else "TickTick"
        console.say(f"{who} accepts it. Its file keeps no expiry, so that date is an estimate: 180 days from now.")


def _naming_login(attempt: Callable[[bool], ImportResult], replace: bool, profile: str) -> ImportResult:
    """``attempt(replace)``; an error that says "sign in instead" names the command that does it.

    The service's sentence is the editors' too, so the command line's words are added here.

    Raises:
        SignonError: the import's error, its advice completed with ``ticktick-signon login``.
    """
    from ticktick_signon.cli.login import signin_command

    try:
        return attempt(replace)
    except SignonError as error:
        if error.message.endswith("; sign in instead."):
            error.message = error.message[: -len(".")] + f" with `{signin_command(profile)}`."
        raise
