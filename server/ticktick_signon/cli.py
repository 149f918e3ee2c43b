"""The ``ticktick-signon`` command line: login, token, status, logout, serve, sandbox.

Logging is set up in ``runtime``. Conversation with the person goes to
stderr; stdout carries only what a command was asked to print (a token, a
status in JSON), so it can be piped. Heavy imports happen inside the commands
that need them: ``token`` never loads pygls or httpx.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .errors import SignonError
from .protocol_docs import protocol_doc
from .runtime import configure_logging
from .runtime import default_service as _service
from .runtime import default_store as _store

log = logging.getLogger("ticktick_signon")

CLIPBOARD_COMMANDS = (
    ("wl-copy",),
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
    ("pbcopy",),
    ("clip.exe",),
)


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


# -- login -------------------------------------------------------------------


class _LoopbackResult:
    """Collects what the loopback listener reports while the CLI waits."""

    def __init__(self) -> None:
        import threading

        self.done = threading.Event()
        self.error: SignonError | None = None

    def completed(self, profile: str, expires_at: int) -> None:
        self.done.set()

    def failed(self, profile: str, error: SignonError) -> None:
        self.error = error
        self.done.set()


def _resolve_login_credentials(
    profile: str, client_id: str | None, client_secret: str | None, redirect_url: str | None, interactive: bool
) -> tuple[str | None, str | None, str | None]:
    """Fill in what neither flags, the saved profile nor pyticktick's env names give, by asking."""
    from .oauth import DEFAULT_REDIRECT_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REDIRECT_URL

    try:
        saved = _store().read().profile(profile)
    except SignonError as error:
        _fail(error)
    if not interactive:
        return client_id, client_secret, redirect_url
    if not (client_id or saved.client_id or os.environ.get(ENV_CLIENT_ID)):
        client_id = click.prompt("Enter your client_id", err=True)
    if not (client_secret or saved.client_secret or os.environ.get(ENV_CLIENT_SECRET)):
        client_secret = click.prompt("Enter your client_secret", hide_input=True, err=True)
    if not (redirect_url or saved.redirect_url or os.environ.get(ENV_REDIRECT_URL)):
        redirect_url = click.prompt("Enter your OAuth redirect URL", default=DEFAULT_REDIRECT_URL, err=True)
    return client_id, client_secret, redirect_url


def _wait_for_redirect(service: Any, profile: str, started: dict[str, Any], loopback: _LoopbackResult) -> dict[str, Any]:
    """Wait for whichever comes first: the loopback capture or a redirect URL typed on stdin."""
    import select

    from .errors import InvalidParams, NoPendingSignon, StateMismatch

    stdin_open = not sys.stdin.closed
    while True:
        if loopback.done.is_set():
            if loopback.error is not None:
                raise loopback.error
            return service.get_token(profile)
        if time.time() >= started["stateExpiresAt"]:
            raise NoPendingSignon("The sign-in link expired after 10 minutes; run login again.")
        if not stdin_open:
            loopback.done.wait(0.2)
            continue
        try:
            readable, _, _ = select.select([sys.stdin], [], [], 0.2)
        except (ValueError, OSError):
            stdin_open = False
            continue
        if not readable:
            continue
        line = sys.stdin.readline()
        if not line:
            stdin_open = False
            if not started["listening"]:
                raise NoPendingSignon("No redirect URL was given and nothing is listening; run login again.")
            continue
        if not line.strip():
            continue
        try:
            return service.complete(line.strip(), profile)
        except (InvalidParams, StateMismatch) as error:
            click.echo(f"{error.message}", err=True)
            click.echo("What is the URL you were redirected to?: ", err=True, nl=False)
        except NoPendingSignon:
            if loopback.done.wait(5):  # the browser won the race a moment ago
                continue
            raise


def _play_browser(authorize_url: str) -> None:
    """For --sandbox: fetch the authorize URL and follow its redirect, as a browser would."""
    import httpx

    try:
        httpx.get(authorize_url, follow_redirects=True, timeout=30)
    except httpx.HTTPError as exc:
        log.warning("The sandbox browser could not follow the redirect: %s", type(exc).__name__)


def _copy_to_clipboard(text: str) -> bool:
    import shutil
    import subprocess

    for command in CLIPBOARD_COMMANDS:
        if shutil.which(command[0]):
            try:
                subprocess.run(command, input=text.encode(), check=True, timeout=5, capture_output=True)
                return True
            except (OSError, subprocess.SubprocessError):
                continue
    return False


def _save_env(path: Path, lines: list[str]) -> None:
    from .private_files import read_private, write_private
    from .pyticktick_env import merge_env

    try:
        existing = read_private(path)[0].decode("utf-8")
    except FileNotFoundError:
        existing = ""
    write_private(path, merge_env(existing, lines).encode("utf-8"))


def _deliver(
    result: dict[str, Any], profile: str, want_print: bool, want_copy: bool, save: Path | None, interactive: bool
) -> None:
    """Offer the token as pyticktick's script does: clipboard, print, or a .env file."""
    from .pyticktick_env import env_lines, token_json

    saved = _store().read().profile(profile)
    access_token, expires_at = result["accessToken"], result["expiresAt"]
    expires = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(expires_at))
    if interactive and not (want_print or want_copy or save):
        want_copy = click.confirm("Do you want the token to be copied to the clipboard?", default=True, err=True)
        if not want_copy:
            want_print = click.confirm("Do you want to print the token and its expiration?", default=True, err=True)
        if not (want_copy or want_print):
            answer = click.prompt(
                "Enter the file path to save the token and expiration (empty to skip)", default="", show_default=False, err=True
            )
            save = Path(answer).expanduser() if answer.strip() else None
    if want_copy:
        if _copy_to_clipboard(token_json(access_token, expires_at)):
            click.echo("Copied the token and its expiration to the clipboard.", err=True)
        else:
            click.echo("No clipboard tool found (wl-copy, xclip, xsel, pbcopy); use --print or `ticktick-signon token`.", err=True)
    if want_print:
        click.echo(f"Token: {access_token}")
        click.echo(f"Expiration: {expires_at}")
    if save is not None:
        try:
            _save_env(save, env_lines(saved.client_id, saved.client_secret, access_token, expires_at))
        except OSError as exc:
            click.echo(f"Error: could not save to {save} ({exc.strerror or exc}); the token is still cached.", err=True)
            sys.exit(1)
        click.echo(f"Saved the token to {save} (pyticktick .env format, mode 0600).", err=True)
    click.echo(f"Signed in (profile '{profile}'); the token expires {expires}.", err=True)


@main.command()
@click.option("--client-id", help="Your app's client id (else the saved one, else $PYTICKTICK_V1_CLIENT_ID, else asked).")
@click.option(
    "--client-secret",
    help="Your app's client secret. Visible to other users in the process list: prefer "
    "$PYTICKTICK_V1_CLIENT_SECRET or the hidden prompt.",
)
@click.option("--redirect-url", help="Your app's OAuth redirect URL [default: http://127.0.0.1:8080/].")
@click.option("--profile", default=None, help="Profile to sign in [default: default; 'sandbox' with --sandbox].")
@click.option("--region", type=click.Choice(["ticktick", "dida365"]), help="ticktick.com or dida365.com [default: ticktick].")
@click.option("--no-browser", is_flag=True, help="Do not offer to open a browser; just print the URL.")
@click.option("--print", "want_print", is_flag=True, help="Print the token and its expiration on stdout.")
@click.option("--copy", "want_copy", is_flag=True, help="Copy the token and its expiration to the clipboard.")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), help="Save the token to a pyticktick .env file.")
@click.option("--sandbox", is_flag=True, help="Sign in to an embedded local sandbox: no account needed, no prompts.")
def login(
    client_id: str | None,
    client_secret: str | None,
    redirect_url: str | None,
    profile: str | None,
    region: str | None,
    no_browser: bool,
    want_print: bool,
    want_copy: bool,
    save: Path | None,
    sandbox: bool,
) -> None:
    """Sign in through the browser and cache the token.

    Prints the sign-in URL, offers to open it, then waits for the browser to
    come back to the loopback redirect URL, or for you to paste the URL it was
    sent to, whichever comes first.
    """
    import threading

    from .messages import StartParams, parse_start

    ctx = click.get_current_context()
    if ctx.get_parameter_source("client_secret") == click.core.ParameterSource.COMMANDLINE:
        click.echo(
            "Warning: a secret on the command line is visible to other users (ps); "
            "use $PYTICKTICK_V1_CLIENT_SECRET or the prompt instead.",
            err=True,
        )
    environ = dict(os.environ)
    provider = None
    if sandbox:
        provider, client_id, client_secret, redirect_url = _start_sandbox()
        environ["TICKTICK_SIGNON_AUTH_URL"] = provider.base_url
        profile = profile or "sandbox"
        click.echo(f"Sandbox provider running at {provider.base_url} (no TickTick account involved).", err=True)
    profile = profile or "default"
    interactive = sys.stdin.isatty() and not sandbox
    try:
        params = parse_start({"profile": profile, "region": region})
    except SignonError as error:
        _fail(error)
    client_id, client_secret, redirect_url = _resolve_login_credentials(
        profile, client_id, client_secret, redirect_url, interactive
    )
    loopback = _LoopbackResult()
    service = _service(environ, events=loopback)
    try:
        started = service.start(
            StartParams(params.profile, client_id, client_secret, redirect_url, params.region, listen=True)
        )
        click.echo(f"Request URL:\n\n {started['authorizeUrl']}\n", err=True)
        if sandbox:
            threading.Thread(target=_play_browser, args=(started["authorizeUrl"],), daemon=True).start()
        elif interactive and not no_browser:
            if click.confirm("Open the browser to signon?", default=True, err=True):
                import webbrowser

                webbrowser.open(started["authorizeUrl"])
        if started["listening"]:
            click.echo(f"Waiting for the browser to come back to {started['redirectUrl']}", err=True)
            if interactive:
                click.echo("(or paste the URL you were redirected to and press Enter): ", err=True, nl=False)
        else:
            click.echo("What is the URL you were redirected to?: ", err=True, nl=False)
        result = _wait_for_redirect(service, params.profile, started, loopback)
        if interactive:
            click.echo("", err=True)
        if provider is not None:
            _check_sandbox_token(provider, result["accessToken"])
        _deliver(result, params.profile, want_print, want_copy, save, interactive)
    except SignonError as error:
        _fail(error)
    except KeyboardInterrupt:
        click.echo("\nCancelled; nothing was changed.", err=True)
        sys.exit(130)
    finally:
        service.close()
        if provider is not None:
            provider.close()


def _start_sandbox() -> tuple[Any, str, str, str]:
    """Start the embedded sandbox with a fresh app whose redirect URL is a free loopback port."""
    import secrets
    import socket

    from .sandbox import SandboxClient, SandboxProvider

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redirect_url = f"http://127.0.0.1:{port}/callback"
    client = SandboxClient("sandbox-client", secrets.token_urlsafe(24), (redirect_url,))
    provider = SandboxProvider((client,), auto_approve=True).start()
    return provider, client.client_id, client.client_secret, redirect_url


def _check_sandbox_token(provider: Any, access_token: str) -> None:
    """Prove the new token works: call the sandbox's GET /open/v1/project with it."""
    import httpx

    response = httpx.get(
        f"{provider.base_url}/open/v1/project", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )
    if response.status_code == 200:
        click.echo(f"The token works: the sandbox API listed {len(response.json())} project(s).", err=True)
    else:
        click.echo(f"Warning: the sandbox API refused the new token (HTTP {response.status_code}).", err=True)


# -- token / status / logout ---------------------------------------------------


@main.command()
@click.option("--profile", default="default", show_default=True, help="Profile to read.")
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
        state = f"signed in; the token expires {when} ({days} days left)"
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
@click.option("--profile", default="default", show_default=True, help="Profile to describe.")
@click.option("--json", "as_json", is_flag=True, help="Print getStatus's result as JSON.")
def status(profile: str, as_json: bool) -> None:
    """Say whether you are signed in and when the token expires (never the token itself)."""
    import json

    from .messages import parse_profile

    try:
        result = _service().status(parse_profile({"profile": profile}).profile)
    except SignonError as error:
        _fail(error)
    click.echo(json.dumps(result) if as_json else _describe(result))


@main.command()
@click.option("--profile", default="default", show_default=True, help="Profile to sign out.")
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
