"""The ``ticktick-signon`` command line: login, token, status, import, logout, serve, sandbox, help.

This module only wires the commands, as gh's command tree does: each click
function declares its options, builds the command's options value and runs
``run(options, deps)`` from the command's own module (login.py, token.py,
status.py, import_token.py, logout.py, sandbox.py), with the process's
``CliDeps`` (deps.py) or the one a test passed as click's ``obj``. A service
error ends a command here, in the command line's words (exits.py). ``serve``
and ``help`` stay here: one is a single call into the helper, the other is
click's own introspection. ``login``'s conversation uses prompts.py (the
credential questions), handover.py (clipboard, print, .env) and
sandbox_signin.py (``--sandbox``); console.py is how lines look. Logging is
set up in ``runtime``. Conversation goes to stderr; stdout carries only what a command was asked to
print (a token, a status, help), so it can be piped. Heavy imports happen
inside the commands that need them: ``token`` never loads pygls or httpx.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import click

from ticktick_signon import __version__
from ticktick_signon.cli import exits
from ticktick_signon.cli.deps import CliDeps, default_deps
from ticktick_signon.core import pyticktick_names as names
from ticktick_signon.errors import SignonError
from ticktick_signon.helper.protocol_docs import protocol_doc


def _deps(ctx: click.Context) -> CliDeps:
    """The command's world: the test's ``CliDeps`` when one was passed as ``obj``, else the process's."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliDeps):
        root.obj = default_deps()
    return root.obj


def _run(command: Any, options: Any) -> None:
    """Run ``command.run(options, deps)``; a service error ends it in the command line's words and status.

    Args:
        command: the command's module (its ``run``).
        options: the command's options value.

    Raises:
        SystemExit: the command's status (the error's ``exit_code`` for a service error).
    """
    deps = _deps(click.get_current_context())
    try:
        command.run(options, deps)
    except SignonError as error:
        _fail(deps, error)


def _fail(deps: CliDeps, error: SignonError) -> NoReturn:
    deps.console.fail(exits.in_cli_words(error), error.exit_code)


def _named_profile(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse ``--profile ""``: a script's unset variable must not mean 'default' (think ``logout --forget``)."""
    if value == "":
        raise click.BadParameter("is empty; give a profile name, or leave --profile out for 'default'.")
    return value


def _trimmed(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Strip pasted whitespace; a blank value counts as not given, like an empty one."""
    if value is None:
        return None
    return value.strip() or None


class _Commands(click.Group):
    """The command group; Ctrl-C anywhere ends with one message and status 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, click.Abort):  # click turns Ctrl-C at a prompt into Abort
            exits.cancelled(_deps(ctx).console)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=exits.EXIT_STATUSES,
    # Plain `ticktick-signon` prints the help on stdout and exits 0, as gh does: asking is not a mistake.
    invoke_without_command=True,
)
@click.version_option(__version__, prog_name="ticktick-signon")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default=None,
    help="How much to log on stderr (default: info for serve, warning otherwise).",
)
@click.option(
    "--log-file", type=click.Path(dir_okay=False, path_type=Path), help="Also append logs to this file (0600)."
)
@click.pass_context
def main(ctx: click.Context, log_level: str | None, log_file: Path | None) -> None:
    """Sign in to TickTick's Open API and keep the OAuth token for every tool on this machine.

    The token lives in a private file under your config folder
    (TICKTICK_SIGNON_CONFIG_DIR overrides it). Try it without an account:
    `ticktick-signon login --sandbox`. `ticktick-signon help COMMAND` (or
    COMMAND --help) shows a command's options and examples.
    """
    default = "info" if ctx.invoked_subcommand == "serve" else "warning"
    try:
        _deps(ctx).set_up_logging(log_level or default, log_file)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot write to {log_file} ({exc.strerror or exc})", param_hint="--log-file"
        ) from None
    if ctx.invoked_subcommand is None:
        _deps(ctx).console.echo(ctx.get_help())


# -- login -------------------------------------------------------------------


@main.command(
    epilog=f"""\b
Examples:
  ticktick-signon login                   asks for what it does not know yet
  ticktick-signon login --profile work --region dida365
  ticktick-signon login --save .env       pyticktick's .env, ready to load
  ticktick-signon login --sandbox --print try it without an account

\b
Environment:
  {names.CLIENT_ID}, {names.CLIENT_SECRET},
  {names.OAUTH_REDIRECT_URL}
                  the app's credentials, when neither a flag nor the
                  profile's saved ones give them (pyticktick's names)
  TICKTICK_SIGNON_AUTH_URL
                  sign in at this provider instead of ticktick.com or
                  dida365.com (a sandbox)
  TICKTICK_SIGNON_CONFIG_DIR
                  the folder of the token cache
  TICKTICK_SIGNON_HTTP_TIMEOUT
                  seconds to wait for the token request (default 20)
  BROWSER         the browser to open (Python's webbrowser module)
  SSH_CONNECTION, SSH_TTY
                  when set, no browser is offered: open the URL on your
                  own computer and paste the address it lands on
  NO_COLOR        no colour or symbols""",
)
@click.option(
    "--client-id",
    callback=_trimmed,
    help=f"Your app's client id (else the saved one, else ${names.CLIENT_ID}, else asked).",
)
@click.option(
    "--client-secret",
    callback=_trimmed,
    help="Your app's client secret. Visible to other users in the process list: prefer "
    f"${names.CLIENT_SECRET} or the hidden prompt.",
)
@click.option(
    "--redirect-url", callback=_trimmed, help="Your app's OAuth redirect URL [default: http://127.0.0.1:8080/]."
)
@click.option(
    "--profile",
    default=None,
    callback=_named_profile,
    help="Profile to sign in [default: default; 'sandbox' with --sandbox].",
)
@click.option(
    "--region", type=click.Choice(["ticktick", "dida365"]), help="ticktick.com or dida365.com [default: ticktick]."
)
@click.option("--no-browser", is_flag=True, help="Do not offer to open a browser; just print the URL.")
@click.option("--print", "want_print", is_flag=True, help="Print the token and its expiration on stdout.")
@click.option("--copy", "want_copy", is_flag=True, help="Copy the token and its expiration to the clipboard.")
@click.option(
    "--save", type=click.Path(dir_okay=False, path_type=Path), help="Save the token to a pyticktick .env file."
)
@click.option("--sandbox", is_flag=True, help="Sign in to an embedded local sandbox: no account needed, no prompts.")
@click.option(
    "--force",
    is_flag=True,
    help="With --sandbox: replace a profile another provider signed in (its token and app settings) without asking.",
)
def login(**given: Any) -> None:
    """Sign in through the browser and cache the token.

    Prints the sign-in URL, offers to open it, then waits for the browser to
    come back to the loopback redirect URL, or for you to paste the address
    it was sent to, whichever comes first. Without a terminal it asks nothing:
    give what it needs with flags or the environment.
    """
    from ticktick_signon.cli import login as command

    ctx = click.get_current_context()
    on_command_line = ctx.get_parameter_source("client_secret") == click.core.ParameterSource.COMMANDLINE
    _run(command, command.LoginOptions(**given, secret_on_command_line=on_command_line))


# -- token / status / logout ---------------------------------------------------


@main.command(
    epilog="""\b
Examples:
  ticktick-signon token
  ticktick-signon token --profile work --min-valid 3600
  ticktick-signon token --format pyticktick-env > .env
  curl -H "Authorization: Bearer $(ticktick-signon token)" \\
       https://api.ticktick.com/open/v1/project""",
)
@click.option("--profile", default="default", show_default=True, callback=_named_profile, help="Profile to read.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["plain", "json", "pyticktick-env"]),
    default="plain",
    show_default=True,
    help="plain: the token alone; json: token and expiry; pyticktick-env: lines pyticktick's Settings loads.",
)
@click.option(
    "--min-valid",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Fail if the token expires within this many seconds.",
)
def token(profile: str, fmt: str, min_valid: int) -> None:
    """Print the cached token on stdout, and nothing else.

    Exit status: 0 printed; 3 not signed in; 4 expired (or expiring within
    --min-valid); 5 the cache file is unreadable; 2 bad usage.
    """
    from ticktick_signon.cli import token as command

    _run(command, command.TokenOptions(profile, fmt, min_valid))


@main.command(
    epilog="""\b
Examples:
  ticktick-signon status
  ticktick-signon status --profile work --json
  ticktick-signon status >/dev/null || ticktick-signon login""",
)
@click.option("--profile", default="default", show_default=True, callback=_named_profile, help="Profile to describe.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print getStatus's result as JSON (with --verify, its answer too)."
)
@click.option(
    "--verify",
    is_flag=True,
    help="Also ask the profile's provider (TickTick, or the sandbox it signed in to) whether the token still works.",
)
def status(profile: str, as_json: bool, verify: bool) -> None:
    """Say whether you are signed in and when the token expires (never the token itself).

    Exits 0 when the profile is signed in, 1 when it is not, its token has
    expired, or (with --verify) its provider rejected the token: sign in again.
    """
    from ticktick_signon.cli import status as command

    _run(command, command.StatusOptions(profile, as_json, verify))


@main.command(
    "import",
    epilog="""\b
Examples:
  ticktick-signon import ~/projects/tasks/.env
  ticktick-signon import ~/.token-oauth --profile work
  ticktick-signon import --from-env --force""",
)
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--profile", default="default", show_default=True, callback=_named_profile, help="Profile to import into."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "pyticktick", "ticktick-py", "ticktick-mcp"]),
    default="auto",
    show_default=True,
    help="pyticktick: its .env (either form); ticktick-py: its .token-oauth; ticktick-mcp: its .env.",
)
@click.option("--from-env", is_flag=True, help="Read pyticktick's PYTICKTICK_V1_* variables from the environment.")
@click.option("--force", is_flag=True, help="Replace a valid token the profile has, without asking.")
def import_(path: Path | None, profile: str, fmt: str, from_env: bool, force: bool) -> None:
    """Import a token that pyticktick, ticktick-py or ticktick-mcp already has, instead of signing in.

    The client id and secret found beside it are saved to the profile too. A
    file without an expiry (ticktick-mcp) is checked with TickTick first and
    given an estimated 180 days. Replacing a valid token asks first (or needs
    --force without a terminal).
    """
    if (path is None) == (not from_env):
        raise click.UsageError("Give the token file's PATH, or --from-env (not both).")
    from ticktick_signon.cli import import_token as command

    _run(command, command.ImportOptions(path, profile, fmt, from_env, force))


@main.command(
    epilog="""\b
Examples:
  ticktick-signon logout
  ticktick-signon logout --profile sandbox --forget""",
)
@click.option("--profile", default="default", show_default=True, callback=_named_profile, help="Profile to sign out.")
@click.option("--forget", is_flag=True, help="Also forget the saved client id, secret, redirect URL and region.")
def logout(profile: str, forget: bool) -> None:
    """Remove the cached token (and with --forget the app's saved credentials)."""
    from ticktick_signon.cli import logout as command

    _run(command, command.LogoutOptions(profile, forget))


# -- serve / sandbox -----------------------------------------------------------------


@main.command(
    epilog="""\b
Examples:
  ticktick-signon serve
  ticktick-signon --log-level debug --log-file /tmp/ticktick-signon.log serve""",
)
def serve() -> None:
    """Run the JSON-RPC helper on stdin/stdout (for editors and other programs).

    Speaks JSON-RPC 2.0 with Content-Length framing and exits with status 0
    when stdin closes. The protocol, with its JSON Schema (protocol.schema.json)
    in the same folder:

    \b
    PROTOCOL_DOC
    """
    from ticktick_signon.helper.server import run_stdio

    deps = _deps(click.get_current_context())
    run_stdio(deps.services(deps.environ))


if serve.help:  # None under python -OO
    serve.help = serve.help.replace("PROTOCOL_DOC", protocol_doc())


@main.command(
    epilog="""\b
Examples:
  ticktick-signon sandbox
  ticktick-signon sandbox --port 0 --auto-approve
  ticktick-signon sandbox & trap "kill $!" EXIT   stops when the shell ends
  TICKTICK_SIGNON_AUTH_URL=http://127.0.0.1:8765 ticktick-signon login \\
      --client-id sandbox-client --client-secret sandbox-secret""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0 picks a free one)."
)
@click.option("--auto-approve", is_flag=True, help="Approve at once instead of showing Allow / Deny.")
@click.option("--client-id", default="sandbox-client", show_default=True, help="The app's client id.")
@click.option("--client-secret", default="sandbox-secret", show_default=True, help="The app's client secret.")
@click.option(
    "--expires-in",
    type=click.IntRange(min=1),
    default=15_552_000,
    show_default=True,
    help="Lifetime of issued tokens, in seconds.",
)
def sandbox(host: str, port: int, auto_approve: bool, client_id: str, client_secret: str, expires_in: int) -> None:
    """Run a local stand-in for TickTick's OAuth server, to try the flow without an account.

    Each sign-in shows an approval page with Allow and Deny. Without a
    browser, start it with --auto-approve (every sign-in is approved at
    once), or approve as the page's form does: GET the authorize URL, take
    the request=ID from its form, and POST /oauth/authorize/decision with
    request=ID&decision=allow (or deny); the answer redirects to the app.
    The protocol document (`ticktick-signon help serve`) describes the form
    for test authors. It logs one line per request on stderr (never a
    secret, code or token). Ctrl-C stops it: "Sandbox stopped." and status 0.
    """
    import ipaddress

    from ticktick_signon.cli import sandbox as command

    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise click.BadParameter("the sandbox binds loopback addresses only", param_hint="--host")
    except ValueError:
        raise click.BadParameter("give a loopback IP address such as 127.0.0.1", param_hint="--host") from None
    _run(command, command.SandboxOptions(host, port, auto_approve, client_id, client_secret, expires_in))


# -- help ------------------------------------------------------------------------------


@main.command(
    "help",
    epilog="""\b
Examples:
  ticktick-signon help
  ticktick-signon help login""",
)
@click.argument("command", required=False)
@click.pass_context
def help_command(ctx: click.Context, command: str | None) -> None:
    """Show the help of ticktick-signon, or of one of its commands."""
    parent = ctx.parent
    assert parent is not None
    console = _deps(ctx).console
    if command is None:
        console.echo(parent.get_help())
        return
    found = main.get_command(parent, command)
    if found is None:
        raise click.UsageError(
            f"No command {command!r}; the commands are {', '.join(main.list_commands(parent))}.", ctx
        )
    console.echo(found.get_help(click.Context(found, info_name=command, parent=parent)))
