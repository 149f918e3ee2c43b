"""``ticktick-signon token``: print the cached token on stdout, and nothing else.

entry.py answers the plain success case without click; this module owns every
other case: each message and exit status (tests/cli/test_token_fast_path.py holds
the two to the same output).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ticktick_signon.streams import EXIT_NO_STDOUT, NO_STDOUT, quiet_stdout

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps


@dataclass(frozen=True)
class TokenOptions:
    """What ``token`` was given."""

    profile: str = "default"
    #: ``plain``, ``json`` or ``pyticktick-env``.
    fmt: str = "plain"
    min_valid: int = 0


def run(options: TokenOptions, deps: CliDeps) -> None:
    """Print the profile's token in the format asked for.

    Args:
        options: the profile, the format and how long the token must still be valid.
        deps: the store, the clock and the streams.

    Raises:
        SystemExit: not signed in (3) or expired (4), said in the command line's words;
            1 when stdout is closed.
        SignonError: a bad profile name, or a cache that cannot be read.
    """
    import json

    from ticktick_signon.cli.console import when
    from ticktick_signon.cli.login import signin_command
    from ticktick_signon.core.messages import parse_profile
    from ticktick_signon.core.oauth import check_token
    from ticktick_signon.errors import NotSignedIn, TokenExpired
    from ticktick_signon.helper.wire import token_result
    from ticktick_signon.signin.results import TokenResult

    console = deps.console
    profile = parse_profile({"profile": options.profile}).profile
    saved = deps.store.read().profile(profile)
    try:
        tok = check_token(saved.token, deps.clock(), options.min_valid)
    except NotSignedIn as error:
        again = signin_command(profile, saved.sandbox)
        named = "Not signed in" if profile == "default" else f"Profile '{profile}' is not signed in"
        console.fail(f"{named}; run `{again}` first.", error.exit_code)
    except TokenExpired as error:
        again = signin_command(profile, saved.sandbox)
        expires_at = saved.token.expires_at  # type: ignore[union-attr]
        if deps.clock() >= expires_at:
            said = f"The token of profile '{profile}' expired {when(expires_at)}"
        else:
            said = f"The token of profile '{profile}' expires {when(expires_at)}, within --min-valid"
        console.fail(f"{said}; run `{again}` to sign in again.", error.exit_code)
    if options.fmt == "plain":
        text = tok.access_token
    elif options.fmt == "json":
        text = json.dumps(token_result(TokenResult.of(tok, profile, deps.clock())))
    else:
        from ticktick_signon.imports.pyticktick import env_lines, env_problems

        values = {"clientId": saved.client_id, "clientSecret": saved.client_secret, "accessToken": tok.access_token}
        for problem in env_problems(values):
            console.warning(f"The profile's {problem}.")
        lines = env_lines(saved.client_id, saved.client_secret, tok.access_token, tok.expires_at, saved.region)
        text = "\n".join(lines)
    _print(text, deps)


def _print(text: str, deps: CliDeps) -> None:
    """Print the token's text on stdout, or fail as entry.py's fast path does when there is no stdout.

    click's ``echo`` prints nothing, silently, when ``sys.stdout`` is None (``token >&-``):
    a script would take the empty output for a token.

    Raises:
        SystemExit: ``streams.EXIT_NO_STDOUT``, said on stderr.
    """
    stdout = deps.stdout
    try:
        if stdout is None or stdout.closed:
            raise ValueError("no stdout")
        deps.console.echo(text)
    except (OSError, ValueError):
        quiet_stdout()
        deps.console.fail(NO_STDOUT, EXIT_NO_STDOUT)
