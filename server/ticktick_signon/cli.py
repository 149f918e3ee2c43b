"""The ``ticktick-signon`` command line: login, token, status, import, logout, serve, sandbox.

This module wires the commands; ``login``'s conversation with the person
lives in signin_conversation.py. Logging is set up in ``runtime``. Conversation with the person goes to
stderr; stdout carries only what a command was asked to print (a token, a
status in JSON), so it can be piped. Heavy imports happen inside the commands
that need them: ``token`` never loads pygls or httpx.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .errors import InvalidParams, SignonError
from .protocol_docs import protocol_doc
from .runtime import configure_logging
from .runtime import default_service as _service
from .runtime import default_store as _store


def _fail(error: SignonError) -> NoReturn:
    click.echo(f"Error: {error.message}", err=True)
    sys.exit(error.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ticktick-signon")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default=None,
    help="How much to log on stderr (default: info for serve, warning otherwise).",
)
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), help="Also append logs to this file (0600).")
@click.pass_context
def main(ctx: click.Context, log_level: str | None, log_file: Path | None) -> None:
    """Sign in to TickTick's Open API and keep the OAuth token for every tool on this machine.

    The token lives in a private file under your config folder
    (TICKTICK_SIGNON_CONFIG_DIR overrides it). Try it without an account:
    `ticktick-signon login --sandbox`.
    """
    default = "info" if ctx.invoked_subcommand == "serve" else "warning"
    try:
        configure_logging(log_level or default, log_file)
    except OSError as exc:
        raise click.BadParameter(f"cannot write to {log_file} ({exc.strerror or exc})", param_hint="--log-file") from None


def _named_profile(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse ``--profile ""``: a script's unset variable must not mean 'default' (think ``logout --forget``)."""
    if value == "":
        raise click.BadParameter("is empty; give a profile name, or leave --profile out for 'default'.")
    return value


# -- login -------------------------------------------------------------------


@main.command()
@click.option("--client-id", help="Your app's client id (else the saved one, else $PYTICKTICK_V1_CLIENT_ID, else asked).")
@click.option(
    "--client-secret",
    help="Your app's client secret. Visible to other users in the process list: prefer "
    "$PYTICKTICK_V1_CLIENT_SECRET or the hidden prompt.",
)
@click.option("--redirect-url", help="Your app's OAuth redirect URL [default: http://127.0.0.1:8080/].")
@click.option("--profile", default=None, callback=_named_profile, help="Profile to sign in [default: default; 'sandbox' with --sandbox].")
@click.option("--region", type=click.Choice(["ticktick", "dida365"]), help="ticktick.com or dida365.com [default: ticktick].")
@click.option("--no-browser", is_flag=True, help="Do not offer to open a browser; just print the URL.")
@click.option("--print", "want_print", is_flag=True, help="Print the token and its expiration on stdout.")
@click.option("--copy", "want_copy", is_flag=True, help="Copy the token and its expiration to the clipboard.")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), help="Save the token to a pyticktick .env file.")
@click.option("--sandbox", is_flag=True, help="Sign in to an embedded local sandbox: no account needed, no prompts.")
def login(**given: Any) -> None:
    """Sign in through the browser and cache the token.

    Prints the sign-in URL, offers to open it, then waits for the browser to
    come back to the loopback redirect URL, or for you to paste the URL it was
    sent to, whichever comes first.
    """
    from .signin_conversation import LoginOptions, sign_in

    ctx = click.get_current_context()
    if ctx.get_parameter_source("client_secret") == click.core.ParameterSource.COMMANDLINE:
        click.echo(
            "Warning: a secret on the command line is visible to other users (ps); "
            "use $PYTICKTICK_V1_CLIENT_SECRET or the prompt instead.",
            err=True,
        )
    try:
        sign_in(LoginOptions(**given))
    except SignonError as error:
        _fail(error)


# -- token / status / logout ---------------------------------------------------


@main.command()
@click.option("--profile", default="default", show_default=True, callback=_named_profile, help="Profile to read.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["plain", "json", "pyticktick-env"]),
    default="plain",
    show_default=True,
    help="plain: the token alone; json: token and expiry; pyticktick-env: lines pyticktick's Settings loads.",
)
@click.option("--min-valid", type=click.IntRange(min=0), default=0, show_default=True, help="Fail if the token expires within this many seconds.")
def token(profile: str, fmt: str, min_valid: int) -> None:
    """Print the cached token on stdout, and nothing else.

    Exit status: 0 printed; 3 not signed in; 4 expired (or expiring within
    --min-valid); 5 the cache file is unreadable; 2 bad usage.
    """
    import json

    from .messages import parse_profile
    from .oauth import check_token, token_result

    try:
        profile = parse_profile({"profile": profile}).profile
        saved = _store().read().profile(profile)
        tok = check_token(saved.token, time.time(), min_valid)
    except SignonError as error:
        _fail(error)
    if fmt == "plain":
        click.echo(tok.access_token)
    elif fmt == "json":
        click.echo(json.dumps(token_result(tok, profile, time.time())))
    else:
        from .pyticktick_env import env_lines

        click.echo("\n".join(env_lines(saved.client_id, saved.client_secret, tok.access_token, tok.expires_at)))


def _describe(status: dict[str, Any]) -> str:
    if status["signedIn"]:
        days = status["expiresIn"] // 86400
        when = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(status["expiresAt"]))
        estimated = " (estimated: it was imported from a file without an expiry)" if status["expiresAtEstimated"] else ""
        state = f"signed in; the token expires {when}{estimated} ({days} days left)"
    elif status["expiresAt"] is not None:
        state = "the token has expired; run `ticktick-signon login`"
    else:
        state = "not signed in; run `ticktick-signon login`"
    lines = [f"Profile '{status['profile']}': {state}."]
    if status["clientId"]:
        lines.append(f"App client id: {status['clientId']} (region {status['region'] or 'ticktick'}).")
    if status["pendingSignon"]:
        lines.append("A sign-on is waiting for its redirect.")
    lines.append(f"Cache: {status['configPath']}")
    return "\n".join(lines)


@main.command()
@click.option("--profile", default="default", show_default=True, callback=_named_profile, help="Profile to describe.")
@click.option("--json", "as_json", is_flag=True, help="Print getStatus's result as JSON (with --verify, its answer too).")
@click.option("--verify", is_flag=True, help="Also ask TickTick whether the token still works (one API call).")
def status(profile: str, as_json: bool, verify: bool) -> None:
    """Say whether you are signed in and when the token expires (never the token itself).

    With --verify, exit status 1 means TickTick rejected the token: sign in again.
    """
    import json

    from .messages import parse_profile

    service = _service()
    try:
        name = parse_profile({"profile": profile}).profile
        result = service.status(name)
        if not as_json:
            click.echo(_describe(result))
        if verify:
            checked = service.verify(name)
            result["verified"] = {"valid": checked["valid"], "checkedAt": checked["checkedAt"]}
    except SignonError as error:
        _fail(error)
    if as_json:
        click.echo(json.dumps(result))
    elif verify and result["verified"]["valid"]:
        click.echo("TickTick accepts the token (checked just now).")
    if verify and not result["verified"]["valid"]:
        click.echo(
            f"Error: TickTick rejected the token of profile '{name}'; sign in again with "
            f"`ticktick-signon login{'' if name == 'default' else f' --profile {name}'}`.",
            err=True,
        )
        sys.exit(1)


@main.command("import")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--profile", default="default", show_default=True, callback=_named_profile, help="Profile to import into.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "pyticktick", "ticktick-py", "ticktick-mcp"]),
    default="auto",
    show_default=True,
    help="pyticktick: its .env (either form); ticktick-py: its .token-oauth; ticktick-mcp: its .env.",
)
@click.option("--from-env", is_flag=True, help="Read pyticktick's PYTICKTICK_V1_* variables from the environment instead.")
@click.option("--force", is_flag=True, help="Replace a valid token the profile has, without asking.")
def import_(path: Path | None, profile: str, fmt: str, from_env: bool, force: bool) -> None:
    """Import a token that pyticktick, ticktick-py or ticktick-mcp already has, instead of signing in.

    The client id and secret found beside it are saved to the profile too. A
    file without an expiry (ticktick-mcp) is checked with TickTick first and
    given an estimated 180 days. Replacing a valid token asks first (or needs
    --force without a terminal).
    """
    if (path is None) == (not from_env):
        raise click.UsageError("give the token file's PATH, or --from-env (not both)")
    from .messages import parse_profile
    from .token_formats import read_pyticktick_settings

    importer = _service().importer

    def run(replace: bool) -> dict[str, Any]:
        if path is None:
            found = read_pyticktick_settings(dict(os.environ), "the environment")
            return importer.import_found(found, "the environment", name, replace)
        return importer.import_file(path, name, fmt, replace)

    try:
        name = parse_profile({"profile": profile}).profile
        try:
            result = run(force)
        except InvalidParams as error:
            if error.data.get("field") != "force" or not sys.stdin.isatty():
                raise
            click.echo(error.message.split(";")[0] + ".", err=True)
            if not click.confirm("Replace it?", default=False, err=True):
                click.echo("Nothing was imported.", err=True)
                sys.exit(1)
            result = run(True)
    except SignonError as error:
        _fail(error)
    when = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(result["expiresAt"]))
    click.echo(f"Imported the {result['format']} token into profile '{name}'; it expires {when}.", err=True)
    if result["expiresAtEstimated"]:
        click.echo(
            "TickTick accepts it. Its file keeps no expiry, so that date is an estimate: "
            "TickTick's usual 180 days from now.",
            err=True,
        )


@main.command()
@click.option("--profile", default="default", show_default=True, callback=_named_profile, help="Profile to sign out.")
@click.option("--forget", is_flag=True, help="Also forget the saved client id and secret.")
def logout(profile: str, forget: bool) -> None:
    """Remove the cached token (and with --forget the app's saved credentials)."""
    from .messages import parse_sign_out

    try:
        request = parse_sign_out({"profile": profile, "forget": forget})
        result = _service().sign_out(request.profile, request.forget)
    except SignonError as error:
        _fail(error)
    what = "Signed out" if result["signedOut"] else "Was not signed in"
    click.echo(f"{what} (profile '{request.profile}'){'; saved credentials forgotten' if forget else ''}.", err=True)


# -- serve / sandbox -----------------------------------------------------------------


@main.command()
def serve() -> None:
    """Run the JSON-RPC helper on stdin/stdout (for editors and other programs).

    Speaks JSON-RPC 2.0 with Content-Length framing and exits with status 0
    when stdin closes. The protocol, with its JSON Schema (protocol.schema.json)
    in the same folder:

    \b
    PROTOCOL_DOC
    """
    from .server import run_stdio

    run_stdio(_service())


if serve.help:  # None under python -OO
    serve.help = serve.help.replace("PROTOCOL_DOC", protocol_doc())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0 picks a free one).")
@click.option("--auto-approve", is_flag=True, help="Approve at once instead of showing Allow / Deny.")
@click.option("--client-id", default="sandbox-client", show_default=True, help="The app's client id.")
@click.option("--client-secret", default="sandbox-secret", show_default=True, help="The app's client secret.")
@click.option("--expires-in", type=click.IntRange(min=1), default=15_552_000, show_default=True, help="Lifetime of issued tokens, in seconds.")
def sandbox(host: str, port: int, auto_approve: bool, client_id: str, client_secret: str, expires_in: int) -> None:
    """Run a local stand-in for TickTick's OAuth server, to try the flow without an account."""
    import ipaddress

    from .sandbox import SandboxClient, SandboxProvider

    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise click.BadParameter("the sandbox binds loopback addresses only", param_hint="--host")
    except ValueError:
        raise click.BadParameter("give a loopback IP address such as 127.0.0.1", param_hint="--host") from None
    provider = SandboxProvider(
        (SandboxClient(client_id, client_secret),), auto_approve=auto_approve, expires_in=expires_in, host=host, port=port
    )
    try:
        provider.start()
    except OSError as exc:
        click.echo(f"Error: cannot listen on {host} port {port} ({exc.strerror}); try another --port.", err=True)
        sys.exit(1)
    click.echo(
        f"Sandbox TickTick on {provider.base_url}\n"
        f"  export TICKTICK_SIGNON_AUTH_URL={provider.base_url}\n"
        f"  client id: {client_id}   client secret: {client_secret}\n"
        "  any http://127.0.0.1:PORT/ redirect URL is accepted. Ctrl-C stops it.",
        err=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        provider.close()
