"""The interactive sign-in conversation of ``ticktick-signon login``.

Asks for what is missing, offers the browser, waits for the loopback redirect
or a pasted URL, and hands the token over (clipboard, stdout, a .env file).
The click command in cli.py only gathers the options and maps errors to exit
statuses. Conversation goes to stderr; stdout carries only a printed token.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .errors import SignonError
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


@dataclass(frozen=True)
class LoginOptions:
    """What the ``login`` command was given; None means "not given"."""

    client_id: str | None = None
    client_secret: str | None = None
    redirect_url: str | None = None
    profile: str | None = None
    region: str | None = None
    no_browser: bool = False
    want_print: bool = False
    want_copy: bool = False
    save: Path | None = None
    sandbox: bool = False


class LoopbackResult:
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


def sign_in(options: LoginOptions) -> None:
    """Hold the whole sign-in conversation, from the prompts to the delivered token.

    Args:
        options: what the command line gave.

    Raises:
        SignonError: the sign-on failed; the caller reports it and exits with its status.
    """
    import threading

    from .messages import StartParams, parse_start

    client_id, client_secret, redirect_url = options.client_id, options.client_secret, options.redirect_url
    environ = dict(os.environ)
    provider = None
    profile = options.profile
    if options.sandbox:
        provider, client_id, client_secret, redirect_url = start_sandbox()
        environ["TICKTICK_SIGNON_AUTH_URL"] = provider.base_url
        profile = profile or "sandbox"
        click.echo(f"Sandbox provider running at {provider.base_url} (no TickTick account involved).", err=True)
    profile = profile or "default"
    interactive = sys.stdin.isatty() and not options.sandbox
    service = None
    try:
        params = parse_start({"profile": profile, "region": options.region})
        client_id, client_secret, redirect_url = resolve_credentials(
            profile, client_id, client_secret, redirect_url, interactive
        )
        loopback = LoopbackResult()
        service = _service(environ, events=loopback)
        started = service.start(
            StartParams(params.profile, client_id, client_secret, redirect_url, params.region, listen=True)
        )
        click.echo(f"Request URL:\n\n {started['authorizeUrl']}\n", err=True)
        if options.sandbox:
            threading.Thread(target=play_browser, args=(started["authorizeUrl"],), daemon=True).start()
        elif interactive and not options.no_browser:
            if click.confirm("Open the browser to signon?", default=True, err=True):
                import webbrowser

                webbrowser.open(started["authorizeUrl"])
        if started["listening"]:
            click.echo(f"Waiting for the browser to come back to {started['redirectUrl']}", err=True)
            if interactive:
                click.echo("(or paste the URL you were redirected to and press Enter): ", err=True, nl=False)
        else:
            click.echo("What is the URL you were redirected to?: ", err=True, nl=False)
        result = wait_for_redirect(service, params.profile, started, loopback)
        if interactive:
            click.echo("", err=True)
        if provider is not None:
            check_sandbox_token(provider, result["accessToken"])
        deliver(result, params.profile, options.want_print, options.want_copy, options.save, interactive)
    except KeyboardInterrupt:
        click.echo("\nCancelled; nothing was changed.", err=True)
        sys.exit(130)
    finally:
        if service is not None:
            service.close()
        if provider is not None:
            provider.close()


def resolve_credentials(
    profile: str, client_id: str | None, client_secret: str | None, redirect_url: str | None, interactive: bool
) -> tuple[str | None, str | None, str | None]:
    """Fill in what neither flags, the saved profile nor pyticktick's env names give, by asking."""
    from .oauth import DEFAULT_REDIRECT_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REDIRECT_URL

    saved = _store().read().profile(profile)
    if not interactive:
        return client_id, client_secret, redirect_url
    if not (client_id or saved.client_id or os.environ.get(ENV_CLIENT_ID)):
        client_id = click.prompt("Enter your client_id", err=True)
    if not (client_secret or saved.client_secret or os.environ.get(ENV_CLIENT_SECRET)):
        client_secret = click.prompt("Enter your client_secret", hide_input=True, err=True)
    if not (redirect_url or saved.redirect_url or os.environ.get(ENV_REDIRECT_URL)):
        redirect_url = click.prompt("Enter your OAuth redirect URL", default=DEFAULT_REDIRECT_URL, err=True)
    return client_id, client_secret, redirect_url


def wait_for_redirect(service: Any, profile: str, started: dict[str, Any], loopback: LoopbackResult) -> dict[str, Any]:
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


def play_browser(authorize_url: str) -> None:
    """For --sandbox: fetch the authorize URL and follow its redirect, as a browser would."""
    import httpx

    try:
        httpx.get(authorize_url, follow_redirects=True, timeout=30, trust_env=False)  # loopback: never a proxy
    except httpx.HTTPError as exc:
        log.warning("The sandbox browser could not follow the redirect: %s", type(exc).__name__)


def copy_to_clipboard(text: str) -> bool:
    """Hand ``text`` to the first clipboard tool found; False when none worked."""
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


def save_env(path: Path, lines: list[str]) -> None:
    """Merge pyticktick's .env ``lines`` into the private file at ``path``.

    Raises:
        OSError: the file could not be read or written.
    """
    from .private_files import read_private, write_private
    from .pyticktick_env import merge_env

    try:
        existing = read_private(path)[0].decode("utf-8")
    except FileNotFoundError:
        existing = ""
    write_private(path, merge_env(existing, lines).encode("utf-8"))


def deliver(
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
        if copy_to_clipboard(token_json(access_token, expires_at)):
            click.echo("Copied the token and its expiration to the clipboard.", err=True)
        else:
            click.echo("No clipboard tool found (wl-copy, xclip, xsel, pbcopy); use --print or `ticktick-signon token`.", err=True)
    if want_print:
        click.echo(f"Token: {access_token}")
        click.echo(f"Expiration: {expires_at}")
    if save is not None:
        try:
            save_env(save, env_lines(saved.client_id, saved.client_secret, access_token, expires_at))
        except OSError as exc:
            click.echo(f"Error: could not save to {save} ({exc.strerror or exc}); the token is still cached.", err=True)
            sys.exit(1)
        click.echo(f"Saved the token to {save} (pyticktick .env format, mode 0600).", err=True)
    click.echo(f"Signed in (profile '{profile}'); the token expires {expires}.", err=True)


def start_sandbox() -> tuple[Any, str, str, str]:
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


def check_sandbox_token(provider: Any, access_token: str) -> None:
    """Prove the new token works: call the sandbox's GET /open/v1/project with it."""
    import httpx

    response = httpx.get(
        f"{provider.base_url}/open/v1/project",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
        trust_env=False,  # the sandbox is on loopback: the token never goes through a proxy
    )
    if response.status_code == 200:
        click.echo(f"The token works: the sandbox API listed {len(response.json())} project(s).", err=True)
    else:
        click.echo(f"Warning: the sandbox API refused the new token (HTTP {response.status_code}).", err=True)
