"""The sign-in conversation of ``ticktick-signon login``: offer the browser, wait for its return or a paste.

Asks before replacing a working token, gets the credentials (prompts.py), starts
the sign-in, then waits for the loopback redirect or a pasted address, whichever
comes first, and hands the token over (handover.py). ``--sandbox`` runs the same
flow against the embedded sandbox (sandbox_signin.py). Conversation goes to
stderr; stdout carries only a printed token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticktick_signon.cli.console import when
from ticktick_signon.cli.exits import EXIT_HANGUP, EXIT_NO_REDIRECT, EXIT_TERMINATED
from ticktick_signon.cli.handover import deliver
from ticktick_signon.cli.prompts import resolve_credentials
from ticktick_signon.cli.sandbox_signin import check_sandbox_token, play_browser, start_sandbox
from ticktick_signon.cli.typed_lines import TypedLines
from ticktick_signon.errors import SignonError

if TYPE_CHECKING:
    from ticktick_signon.cli.deps import CliDeps
    from ticktick_signon.signin.results import StartResult, TokenResult
    from ticktick_signon.signin.service import SignInService

log = logging.getLogger("ticktick_signon")


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
    #: With ``sandbox``: replace a profile bound to another provider without asking.
    force: bool = False
    #: The secret came from ``--client-secret``, where other users see it (ps).
    secret_on_command_line: bool = False


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


def signin_command(profile: str, sandbox: bool = False) -> str:
    """The command that signs ``profile`` in (again), as the person would type it."""
    words = ["ticktick-signon", "login"]
    if sandbox:
        words.append("--sandbox")
    if profile != ("sandbox" if sandbox else "default"):
        words += ["--profile", profile]
    return " ".join(words)


def _profile_flag(profile: str) -> str:
    return "" if profile == "default" else f" --profile {profile}"


def run(options: LoginOptions, deps: CliDeps) -> None:
    """Hold the whole sign-in conversation, from the prompts to the delivered token.

    A sign-in that does not finish (Ctrl-C, nothing pasted, an error) leaves no
    pending state behind in the cache; the token the profile had stays.

    Args:
        options: what the command line gave.
        deps: the streams, environment, store, service, prompter, browser and clock.

    Raises:
        SignonError: the sign-in failed; the caller reports it and exits with its status.
        SystemExit: ``EXIT_NO_REDIRECT``, or ``EXIT_SAVE_FAILED`` (said first).
        KeyboardInterrupt, click.Abort: the person cancelled; the caller says so.
    """
    import threading

    from ticktick_signon.core.messages import StartParams, parse_start
    from ticktick_signon.core.oauth import ENV_AUTH_URL, ENV_CLIENT_SECRET

    console = deps.console
    if options.secret_on_command_line:
        console.warning(
            "A secret on the command line is visible to other users (ps); "
            f"use ${ENV_CLIENT_SECRET} or the prompt instead."
        )
    profile = options.profile or ("sandbox" if options.sandbox else "default")
    interactive = deps.can_prompt and not options.sandbox
    params = parse_start({"profile": profile, "region": options.region})
    if options.sandbox and not _may_rebind_to_sandbox(params.profile, options.force, deps):
        return
    if interactive and not _may_replace_token(params.profile, deps):
        return
    environ = _without_blanks(deps.environ)
    provider = service = started = None
    client_id: str | None
    client_secret: str | None
    redirect_url: str | None
    finished = False
    stop_signals = _ending_signals_raise()
    try:
        if options.sandbox:
            provider, client_id, client_secret, redirect_url = start_sandbox()
            environ[ENV_AUTH_URL] = provider.base_url
            console.say(f"Sandbox provider running at {provider.base_url} (no TickTick account involved).")
        else:
            client_id, client_secret, redirect_url = resolve_credentials(
                params.profile, options, environ, interactive, deps
            )
        loopback = LoopbackResult()
        service = deps.services(environ, events=loopback)
        started = service.start(
            StartParams(params.profile, client_id, client_secret, redirect_url, params.region, listen=True)
        )
        if options.sandbox:
            console.say(f"Sign-in URL (opened by the sandbox's own stand-in browser):\n\n  {started.authorize_url}\n")
            threading.Thread(target=play_browser, args=(started.authorize_url,), daemon=True).start()
        else:
            offer_browser(started.authorize_url, interactive and not options.no_browser, deps)
        explain_wait(started, interactive, deps)
        result = wait_for_redirect(service, params.profile, started, loopback, deps)
        finished = True
        if interactive and started.listening:
            console.say()  # the browser came back while the paste prompt was showing
        saved = deps.store.read().profile(params.profile)
        access_token, expires_at = result.access_token, result.expires_at
        where = saved.issuer.name if saved.issuer else "TickTick"
        console.success(f"Signed in to {where} (profile '{params.profile}'); the token expires {when(expires_at)}.")
        if provider is not None:
            check_sandbox_token(provider, access_token, console)
        deliver(access_token, expires_at, saved, options, interactive, deps)
    except NoRedirect as stop:
        console.fail(str(stop), EXIT_NO_REDIRECT)
    finally:
        try:
            if service is not None:
                if started is not None and not finished:
                    _abandon(service, started.state)
                service.close()
            if provider is not None:
                provider.close()
        finally:
            stop_signals()


class Signalled(SystemExit):
    """The terminal closed (SIGHUP) or the process was asked to end (SIGTERM, Windows' SIGBREAK) during ``login``.

    A ``SystemExit`` with status 128 + the signal's number (``EXIT_HANGUP``, ``EXIT_TERMINATED``),
    as a shell reports a process the signal ended; raised in the main thread, so ``run``'s
    ``finally`` drops the pending sign-in as Ctrl-C's KeyboardInterrupt does.
    """


#: The signals that end ``login`` like Ctrl-C; each exists only where the platform has it (no SIGHUP on Windows).
ENDING_SIGNALS = ("SIGHUP", "SIGTERM", "SIGBREAK")


def _ending_signals_raise() -> Any:
    """Make SIGHUP and SIGTERM raise ``Signalled`` in the main thread until the returned function undoes it.

    Their default ends the process at once, which skips ``run``'s clean-up and leaves the sign-in
    pending ("A sign-in is waiting for its browser redirect." in ``status``). A second signal
    during the clean-up is ignored, so the clean-up finishes. Off the main thread (Python lets only
    the main thread set handlers) nothing changes.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    numbers = [getattr(signal, name) for name in ENDING_SIGNALS if hasattr(signal, name)]
    previous: dict[int, Any] = {}

    hangup = getattr(signal, "SIGHUP", None)

    def end(signum: int, frame: object) -> None:
        for number in numbers:
            signal.signal(number, signal.SIG_IGN)  # the clean-up gets to finish
        log.info("Ending the sign-in: the process got signal %d", signum)
        raise Signalled(EXIT_HANGUP if signum == hangup else EXIT_TERMINATED)

    for number in numbers:
        try:
            previous[number] = signal.signal(number, end)
        except (OSError, ValueError):  # not settable here
            continue
        if previous[number] == signal.SIG_IGN:  # nohup: the person asked for the terminal's close to be ignored
            signal.signal(number, signal.SIG_IGN)

    def restore() -> None:
        for number, handler in previous.items():
            # None: the handler was not set from Python (it is the default then).
            signal.signal(number, signal.SIG_DFL if handler is None else handler)

    return restore


def _abandon(service: Any, state: str) -> None:
    """Drop an unfinished sign-in's pending state (client secret included) from the cache."""
    try:
        service.cancel_sign_in(state)
    except SignonError as error:  # the cache went bad meanwhile: the state dies in 10 minutes anyway
        log.warning("Could not remove the unfinished sign-in from the cache: %s", error.message)


def _without_blanks(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment with pyticktick's credential names and the provider override trimmed; blank ones dropped."""
    from ticktick_signon.core.oauth import ENV_AUTH_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REDIRECT_URL

    cleaned = dict(environ)
    for name in (ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REDIRECT_URL, ENV_AUTH_URL):
        value = cleaned.pop(name, "").strip()
        if value:
            cleaned[name] = value
    return cleaned


def _may_replace_token(profile: str, deps: CliDeps) -> bool:
    """Ask before replacing a token that still works (as ``gh auth login`` does); True to go on."""
    saved = deps.store.read().profile(profile)
    if saved.token is None or deps.clock() >= saved.token.expires_at:
        return True
    where = saved.issuer.name if saved.issuer else "TickTick"
    deps.console.say(f"Profile '{profile}' is signed in to {where} until {when(saved.token.expires_at)}.")
    if deps.prompter.confirm("Sign in again and replace its token?", default=False):
        return True
    deps.console.say(f"Kept the current token (`ticktick-signon token{_profile_flag(profile)}` prints it).")
    return False


def _may_rebind_to_sandbox(profile: str, force: bool, deps: CliDeps) -> bool:
    """``login --sandbox`` over a profile another provider signed in: ask on a terminal, else need ``--force``.

    The sandbox's sign-in would replace that provider's token and app settings
    (client secret included). True to go on.

    Raises:
        InvalidParams: no terminal to ask and no ``--force`` (exit 2); nothing was changed.
    """
    from ticktick_signon.errors import InvalidParams

    saved = deps.store.read().profile(profile)
    issuer = saved.issuer
    if force or issuer is None or issuer.local or (saved.token is None and not saved.client_secret):
        return True
    said = (
        f"Profile '{profile}' belongs to {issuer.described()}; signing it in to the sandbox would replace "
        f"its {issuer.name} token and app settings"
    )
    if not deps.can_prompt:
        raise InvalidParams(
            f"{said}, so nothing was changed; add --force to replace them, or leave out --profile "
            "(the sandbox's own profile is 'sandbox').",
            field="force",
        )
    deps.console.warning(said + ".")
    if deps.prompter.confirm("Replace them with the sandbox's?", default=False):
        return True
    deps.console.say(f"Kept the {issuer.name} sign-in; `ticktick-signon login --sandbox` uses the profile 'sandbox'.")
    return False


def _over_ssh(environ: Mapping[str, str]) -> bool:
    return bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))


def offer_browser(authorize_url: str, may_offer: bool, deps: CliDeps) -> None:
    """Show the sign-in URL and, on a terminal that is not an SSH session, offer to open it."""
    console = deps.console
    console.say(f"Open this address in a browser to sign in:\n\n  {authorize_url}\n")
    if _over_ssh(deps.environ):
        console.say(
            "You are connected over SSH, so no browser is opened here: open the address above in a browser "
            "on your own computer."
        )
        return
    if not may_offer or not deps.prompter.confirm("Open it in your browser now?", default=True):
        return
    if not deps.open_browser(authorize_url):
        console.warning("No browser could be opened here; open the address above by hand.")


def explain_wait(started: StartResult, interactive: bool, deps: CliDeps) -> None:
    """Say what the sign-in now waits for: the browser's return, a pasted address, or both."""
    from ticktick_signon.core.urls import loopback_address

    console = deps.console
    redirect_url = started.redirect_url
    address = loopback_address(redirect_url)
    if started.listening:
        console.say(f"Waiting for the browser to come back to {redirect_url}")
        if _over_ssh(deps.environ) and address is not None:
            port = address[1]
            console.say(
                "Over SSH the browser reaches this machine only if you forward the port "
                f"(ssh -L {port}:127.0.0.1:{port}); otherwise it lands on a page that does not load: "
                "copy that page's address and paste it here."
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
    service: SignInService, profile: str, started: StartResult, loopback: LoopbackResult, deps: CliDeps
) -> TokenResult:
    """Wait for whichever comes first: the loopback capture or a redirect URL typed on stdin.

    Raises:
        NoRedirect: input ended with nothing pasted and nothing listening, or the link expired.
        SignonError: the sign-in failed (refused, the exchange failed, ...).
    """
    from ticktick_signon.core.urls import check_http_url
    from ticktick_signon.errors import InvalidParams, NoPendingSignon, StateMismatch

    console, stdin = deps.console, deps.stdin
    expired = NoRedirect(f"The sign-in link expired after 10 minutes; run `{signin_command(profile)}` again.")
    stdin_open = stdin is not None and not stdin.closed
    typed = TypedLines(stdin) if stdin is not None and stdin_open else None
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
        if deps.clock() >= started.state_expires_at:
            raise expired
        if not stdin_open:
            loopback.done.wait(0.2)
            continue
        assert typed is not None
        try:
            line = typed.next(0.2)
        except (ValueError, OSError):
            stdin_open = False
            continue
        if line is None:
            continue
        if line and not deps.can_prompt:
            console.say()  # end the prompt's line, as a terminal's echo would
        if not line:
            stdin_open = False
            if not started.listening:
                raise NoRedirect(
                    "No address was pasted (the input ended) and nothing is listening for the browser; "
                    f"run `{signin_command(profile)}` again and paste the address the browser lands on."
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
