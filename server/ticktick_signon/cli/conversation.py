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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ticktick_signon.cli import console
from ticktick_signon.cli.typed_lines import TypedLines, is_terminal
from ticktick_signon.core.records import Profile
from ticktick_signon.errors import SignonError
from ticktick_signon.runtime import default_service as _service
from ticktick_signon.runtime import default_store as _store

if TYPE_CHECKING:
    from ticktick_signon.signin.results import StartResult, TokenResult
    from ticktick_signon.signin.service import SignonService

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


class NoRedirect(Exception):
    """No redirect came back: input ended with nothing pasted, or the sign-in link expired."""


PASTE_PROMPT = "Paste the address your browser was sent to: "
NOT_AN_ADDRESS = (
    "That is not a web address: copy the whole address from the browser's address bar (it starts with http)."
)


def login_command(profile: str, sandbox: bool = False) -> str:
    """The command that signs ``profile`` in (again), as the person would type it."""
    words = ["ticktick-signon", "login"]
    if sandbox:
        words.append("--sandbox")
    if profile != ("sandbox" if sandbox else "default"):
        words += ["--profile", profile]
    return " ".join(words)


def _profile_flag(profile: str) -> str:
    return "" if profile == "default" else f" --profile {profile}"


def sign_in(options: LoginOptions) -> None:
    """Hold the whole sign-in conversation, from the prompts to the delivered token.

    A sign-on that does not finish (Ctrl-C, nothing pasted, an error) leaves no
    pending state behind in the cache; the token the profile had stays.

    Args:
        options: what the command line gave.

    Raises:
        SignonError: the sign-on failed; the caller reports it and exits with its status.
        KeyboardInterrupt, click.Abort: the person cancelled; the caller says so.
    """
    import threading

    from ticktick_signon.core.messages import StartParams, parse_start
    from ticktick_signon.core.oauth import ENV_AUTH_URL

    profile = options.profile or ("sandbox" if options.sandbox else "default")
    interactive = is_terminal(sys.stdin) and not options.sandbox
    params = parse_start({"profile": profile, "region": options.region})
    if interactive and not _may_replace_token(params.profile):
        return
    environ = _without_blanks(os.environ)
    provider = service = started = None
    finished = False
    try:
        if options.sandbox:
            provider, client_id, client_secret, redirect_url = start_sandbox()
            environ[ENV_AUTH_URL] = provider.base_url
            console.say(f"Sandbox provider running at {provider.base_url} (no TickTick account involved).")
        else:
            client_id, client_secret, redirect_url = resolve_credentials(params.profile, options, environ, interactive)
        loopback = LoopbackResult()
        service = _service(environ, events=loopback)
        started = service.start(
            StartParams(params.profile, client_id, client_secret, redirect_url, params.region, listen=True)
        )
        if options.sandbox:
            console.say(f"Sign-in URL (opened by the sandbox's own stand-in browser):\n\n  {started.authorize_url}\n")
            threading.Thread(target=play_browser, args=(started.authorize_url,), daemon=True).start()
        else:
            offer_browser(started.authorize_url, interactive and not options.no_browser)
        explain_wait(started, interactive)
        result = wait_for_redirect(service, params.profile, started, loopback)
        finished = True
        if interactive and started.listening:
            console.say()  # the browser came back while the paste prompt was showing
        saved = _store().read().profile(params.profile)
        where = "the sandbox" if saved.sandbox else "TickTick"
        console.success(
            f"Signed in to {where} (profile '{params.profile}'); the token expires {console.when(result.expires_at)}."
        )
        if provider is not None:
            check_sandbox_token(provider, result.access_token)
        deliver(result, saved, options, interactive)
    except NoRedirect as stop:
        console.fail(str(stop), console.EXIT_NO_REDIRECT)
    finally:
        if service is not None:
            if started is not None and not finished:
                _abandon(service, started.state)
            service.close()
        if provider is not None:
            provider.close()


def _abandon(service: Any, state: str) -> None:
    """Drop an unfinished sign-on's pending state (client secret included) from the cache."""
    try:
        service.cancel_signon(state)
    except SignonError as error:  # the cache went bad meanwhile: the state dies in 10 minutes anyway
        log.warning("Could not remove the unfinished sign-on from the cache: %s", error.message)


def _without_blanks(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with pyticktick's credential names and the provider override trimmed; blank ones dropped."""
    from ticktick_signon.core.oauth import ENV_AUTH_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REDIRECT_URL

    cleaned = dict(environ)
    for name in (ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REDIRECT_URL, ENV_AUTH_URL):
        value = cleaned.pop(name, "").strip()
        if value:
            cleaned[name] = value
    return cleaned


def _may_replace_token(profile: str) -> bool:
    """Ask before replacing a token that still works (as ``gh auth login`` does); True to go on."""
    saved = _store().read().profile(profile)
    if saved.token is None or time.time() >= saved.token.expires_at:
        return True
    where = "the sandbox" if saved.sandbox else "TickTick"
    console.say(f"Profile '{profile}' is signed in to {where} until {console.when(saved.token.expires_at)}.")
    if click.confirm("Sign in again and replace its token?", default=False, err=True):
        return True
    console.say(f"Kept the current token (`ticktick-signon token{_profile_flag(profile)}` prints it).")
    return False


def resolve_credentials(
    profile: str, options: LoginOptions, environ: Mapping[str, str], interactive: bool
) -> tuple[str | None, str | None, str | None]:
    """Each credential from its flag, else the saved profile, else pyticktick's env names, else a prompt.

    Returns:
        client id, secret and redirect URL; None where nothing gave one and
        nobody can be asked (the service then names what is missing).

    Raises:
        InvalidParams: a redirect URL from a flag or the environment is not an http(s) URL.
        ConfigUnreadable: the cache file cannot be used.
    """
    from ticktick_signon.core.oauth import (
        DEFAULT_REDIRECT_URL,
        ENV_CLIENT_ID,
        ENV_CLIENT_SECRET,
        ENV_REDIRECT_URL,
    )
    from ticktick_signon.core.urls import check_http_url

    saved = _store().read().profile(profile)
    client_id = options.client_id or saved.client_id or environ.get(ENV_CLIENT_ID)
    client_secret = options.client_secret or saved.client_secret or environ.get(ENV_CLIENT_SECRET)
    redirect_url = options.redirect_url or saved.redirect_url or environ.get(ENV_REDIRECT_URL)
    if options.redirect_url:
        check_http_url(options.redirect_url, "--redirect-url")
    elif redirect_url and not saved.redirect_url:
        check_http_url(redirect_url, ENV_REDIRECT_URL)
    if interactive and not (client_id and client_secret and redirect_url):
        console.say("Your app's client id, secret and redirect URL are at https://developer.ticktick.com/manage.")
        if not client_id:
            client_id = _ask("Client id")
        if not client_secret:
            client_secret = _ask("Client secret", hint="typing is hidden", hide_input=True)
        if not redirect_url:
            redirect_url = _ask("OAuth redirect URL", default=DEFAULT_REDIRECT_URL, web_address=True)
    return client_id, client_secret, redirect_url


def _ask(
    label: str, *, hint: str = "", hide_input: bool = False, default: str | None = None, web_address: bool = False
) -> str:
    """Ask for ``label`` until the answer is not blank (and, if asked for, is an http(s) URL); trimmed."""
    from ticktick_signon.core.urls import check_http_url
    from ticktick_signon.errors import InvalidParams

    question = f"{label} ({hint})" if hint else label
    while True:
        answer = click.prompt(
            question, default=default or "", show_default=default is not None, hide_input=hide_input, err=True
        ).strip()
        if not answer:
            console.failure(f"{label} cannot be blank.")
            continue
        if web_address:
            try:
                check_http_url(answer, "redirectUrl")
            except InvalidParams:
                console.failure("Give an absolute http(s) URL, such as http://127.0.0.1:8080/.")
                continue
        return answer


def _over_ssh() -> bool:
    return bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))


def offer_browser(authorize_url: str, may_offer: bool) -> None:
    """Show the sign-in URL and, on a terminal that is not an SSH session, offer to open it."""
    console.say(f"Open this address in a browser to sign in:\n\n  {authorize_url}\n")
    if _over_ssh():
        console.say(
            "You are connected over SSH, so no browser is opened here: open the address above in a browser "
            "on your own computer."
        )
        return
    if not may_offer or not click.confirm("Open it in your browser now?", default=True, err=True):
        return
    import webbrowser

    try:
        opened = webbrowser.open(authorize_url)
    except webbrowser.Error:
        opened = False
    if not opened:
        console.warning("No browser could be opened here; open the address above by hand.")


def explain_wait(started: StartResult, interactive: bool) -> None:
    """Say what the sign-in now waits for: the browser's return, a pasted address, or both."""
    from ticktick_signon.core.urls import loopback_address

    redirect_url = started.redirect_url
    address = loopback_address(redirect_url)
    if started.listening:
        console.say(f"Waiting for the browser to come back to {redirect_url}")
        if _over_ssh() and address is not None:
            port = address[1]
            console.say(
                f"Over SSH the browser reaches this machine only if you forward the port (ssh -L {port}:127.0.0.1:{port}); "
                "otherwise it lands on a page that does not load: copy that page's address and paste it here."
            )
        if interactive:
            console.say(PASTE_PROMPT, nl=False)
        return
    if address is not None:
        console.warning(
            f"Port {address[1]} on {address[0]} is in use, so the browser's return cannot be caught here. "
            "After you allow access the browser lands on a page that does not load: paste that page's address instead."
        )
    else:
        console.warning(
            f"The redirect URL {redirect_url} is not a loopback address (http://127.0.0.1:PORT/), so the browser's "
            "return cannot be caught here. After you allow access, paste the address the browser lands on."
        )
    console.say(PASTE_PROMPT, nl=False)


def wait_for_redirect(
    service: SignonService, profile: str, started: StartResult, loopback: LoopbackResult
) -> TokenResult:
    """Wait for whichever comes first: the loopback capture or a redirect URL typed on stdin.

    Raises:
        NoRedirect: input ended with nothing pasted and nothing listening, or the link expired.
        SignonError: the sign-on failed (refused, the exchange failed, ...).
    """
    from ticktick_signon.core.urls import check_http_url
    from ticktick_signon.errors import InvalidParams, NoPendingSignon, StateMismatch

    expired = NoRedirect(f"The sign-in link expired after 10 minutes; run `{login_command(profile)}` again.")
    stdin_open = sys.stdin is not None and not sys.stdin.closed
    typed = TypedLines() if stdin_open else None
    while True:
        if loopback.done.is_set():
            if loopback.error is None:
                return service.get_token(profile)
            reason = loopback.error.data.get("reason") if isinstance(loopback.error, NoPendingSignon) else "failed"
            if reason is None:  # the listener's time ran out
                raise expired
            if reason == "endedElsewhere":
                raise NoPendingSignon(
                    "Another program finished or cancelled this sign-in; "
                    f"`ticktick-signon status{_profile_flag(profile)}` says whether you are signed in."
                )
            raise loopback.error  # refused, the exchange failed, or replaced by a newer sign-in
        if time.time() >= started.state_expires_at:
            raise expired
        if not stdin_open:
            loopback.done.wait(0.2)
            continue
        try:
            line = typed.next(0.2)
        except (ValueError, OSError):
            stdin_open = False
            continue
        if line is None:
            continue
        if line and not is_terminal(sys.stdin):
            console.say()  # end the prompt's line, as a terminal's echo would
        if not line:
            stdin_open = False
            if not started.listening:
                raise NoRedirect(
                    "No address was pasted (the input ended) and nothing is listening for the browser; "
                    f"run `{login_command(profile)}` again and paste the address the browser lands on."
                )
            continue
        pasted = line.strip()
        if not pasted:
            still = "; still waiting for the browser" if started.listening else ""
            console.say(f"Nothing was pasted{still}.")
            console.say(PASTE_PROMPT, nl=False)
            continue
        try:
            check_http_url(pasted, "redirectUrl")
        except InvalidParams:
            console.failure(NOT_AN_ADDRESS)
            console.say(PASTE_PROMPT, nl=False)
            continue
        try:
            return service.complete(pasted, profile)
        except (InvalidParams, StateMismatch) as error:
            console.failure(error.message)
            console.say(PASTE_PROMPT, nl=False)
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
    from ticktick_signon.cache.private_files import read_private, write_private
    from ticktick_signon.imports.pyticktick import merge_env

    try:
        existing = read_private(path)[0].decode("utf-8")
    except FileNotFoundError:
        existing = ""
    write_private(path, merge_env(existing, lines).encode("utf-8"))


def deliver(result: TokenResult, saved: Profile, options: LoginOptions, interactive: bool) -> None:
    """Hand the token over as pyticktick's script does: clipboard, print, or a .env file.

    Without a terminal, a ``--save`` that fails ends the command with its own
    status (the sign-in itself worked); on a terminal the person is asked again.
    """
    from ticktick_signon.imports.pyticktick import env_lines, token_json

    access_token, expires_at = result.access_token, result.expires_at
    want_print, want_copy, save = options.want_print, options.want_copy, options.save
    if interactive and not (want_print or want_copy or save):
        want_copy = click.confirm("Copy the token and its expiration to the clipboard?", default=True, err=True)
        if not want_copy:
            want_print = click.confirm("Print the token and its expiration here?", default=True, err=True)
        if not (want_copy or want_print):
            save = _ask_path("Save them to a pyticktick .env file at (Enter to skip)")
    if want_copy:
        if copy_to_clipboard(token_json(access_token, expires_at)):
            console.success("Copied the token and its expiration to the clipboard.")
        else:
            console.warning(
                "No clipboard tool was found (wl-copy, xclip, xsel, pbcopy, clip.exe); "
                "`ticktick-signon token` prints the token whenever you need it."
            )
    if want_print:
        click.echo(f"Token: {access_token}")
        click.echo(f"Expiration: {expires_at} ({console.when(expires_at)})")
    while save is not None:
        try:
            save_env(save, env_lines(saved.client_id, saved.client_secret, access_token, expires_at))
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            if not interactive:
                console.fail(
                    f"Could not save the token to {save} ({reason}). The sign-in worked and the token is cached: "
                    "`ticktick-signon token --format pyticktick-env > FILE` writes the file later.",
                    console.EXIT_SAVE_FAILED,
                )
            console.failure(f"Could not save the token to {save} ({reason}).")
            save = _ask_path("Save it at another path (Enter to skip)")
            continue
        console.success(f"Saved the token to {save} (pyticktick .env format, mode 0600).")
        save = None


def _ask_path(question: str) -> Path | None:
    answer = click.prompt(question, default="", show_default=False, err=True).strip()
    return Path(answer).expanduser() if answer else None


def start_sandbox() -> tuple[Any, str, str, str]:
    """Start the embedded sandbox with a fresh app whose redirect URL is a free loopback port."""
    import secrets
    import socket

    from ticktick_signon.sandbox import SandboxClient, SandboxProvider

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
        console.success(f"The token works: the sandbox API listed {len(response.json())} project(s).")
    else:
        console.warning(f"The sandbox API refused the new token (HTTP {response.status_code}).")
