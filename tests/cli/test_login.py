"""`ticktick-signon login` as a person meets it: the conversation in process, and what only a terminal shows.

Most tests run the command in process through the click group with fake deps
(tests/support/cli_harness.py): a scripted prompter stands for the person at a
terminal, a pipe for what they paste, a recording browser for theirs. A thin
layer runs the real program: in a pseudo-terminal (pexpect) for the hidden
secret, Ctrl-C and colour; as a subprocess for logging, the console script and
SIGINT. Each test is named after what the person sees; its docstring says what
went wrong before.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import httpx
import pexpect  # a declared test dependency: a missing one must fail, not skip
import pytest

from tests.support.cli import cli, store_token
from tests.support.cli_harness import CTRL_C, Running, cli_in_process, make_world, run_cli
from tests.support.fake_browser import follow_authorize
from tests.support.portability import assert_owner_only
from tests.support.ports import free_port

#: The installed console script (ticktick-signon.exe on Windows), in a venv or not.
SCRIPT = Path(sysconfig.get_path("scripts")) / ("ticktick-signon.exe" if os.name == "nt" else "ticktick-signon")
OLD_TOKEN = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"
PASTE_PROMPT = "Paste the address your browser was sent to: "


def creds_env(**extra: str) -> dict[str, str]:
    """The sandbox app's credentials in pyticktick's names, no browser, no terminal colour unless asked."""
    env = {**os.environ, "PYTICKTICK_V1_CLIENT_ID": "sandbox-client", "PYTICKTICK_V1_CLIENT_SECRET": "sandbox-secret"}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY", "NO_COLOR", "BROWSER"):
        env.pop(name, None)
    env["TERM"] = "dumb"  # webbrowser then offers no console browser either
    env.update(extra)
    return env


def cache(config_dir: Path) -> dict:
    return json.loads((config_dir / "config.json").read_text())


class Terminal:
    """`ticktick-signon login` in a real pseudo-terminal; everything it shows is kept in ``seen``."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "ticktick_signon", "login", *args],
            env=env if env is not None else creds_env(),
            encoding="utf-8",
            timeout=30,
            dimensions=(40, 1000),  # no wrapping of the long sign-in URL
        )
        self.transcript = io.StringIO()
        self.child.logfile_read = self.transcript

    def expect(self, pattern: str) -> str:
        self.child.expect(pattern)
        return self.child.match.group(0)

    def expect_exact(self, text: str) -> None:
        self.child.expect_exact(text)

    def send(self, line: str) -> None:
        self.child.sendline(line)

    def authorize_url(self) -> str:
        return self.expect(r"http://127\.0\.0\.1:\d+/oauth/authorize\?\S+")

    def finish(self) -> int | None:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus

    @property
    def seen(self) -> str:
        return self.transcript.getvalue()


class Piped:
    """`ticktick-signon login` with pipes for stdin, stdout and stderr; stderr read line by line, with time limits."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ticktick_signon", "login", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env if env is not None else creds_env(),
        )
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.put(line)
        self._lines.put(None)

    def _next_line(self, deadline: float) -> str | None:
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.proc.kill()
            raise AssertionError(f"login still running after its time; stderr so far:\n{''.join(self.seen)}") from None
        if line is not None:
            self.seen.append(line)
        return line

    def read_until(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while (line := self._next_line(deadline)) is not None:
            if text in line:
                return line
        raise AssertionError(f"{text!r} never came; stderr was:\n{''.join(self.seen)}")

    def authorize_url(self) -> str:
        return self.read_until("/oauth/authorize?").strip()

    def finish(self, stdin: str = "", timeout: float = 60) -> tuple[int, str, str]:
        """Give ``stdin`` and close it; then the exit status, stdout, and all of stderr."""
        assert self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # it had exited already
        deadline = time.monotonic() + timeout
        while self._next_line(deadline) is not None:
            pass
        out = self.proc.stdout.read()  # a few lines at most, so it cannot have blocked the child
        return self.proc.wait(10), out, "".join(self.seen)


def busy_port() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


def running(*args: str, env: dict[str, str] | None = None, **world: object) -> Running:
    """`ticktick-signon login ARGS` in process, in a thread, with the sandbox app's credentials in the environment."""
    return Running("login", *args, world=make_world(environ=env if env is not None else creds_env(), **world))


# -- the sandbox, unattended ----------------------------------------------------------


class TestSandboxLogin:
    def test_login_sandbox_runs_the_whole_flow_unattended(self, config_dir: Path) -> None:
        done = cli_in_process("login", "--sandbox", stdin=None)
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""  # nothing secret on stdout unless asked
        assert "The token works" in done.stderr and "profile 'sandbox'" in done.stderr
        token = cli_in_process("token", "--profile", "sandbox")
        assert token.returncode == 0 and len(token.stdout.strip()) == 36
        assert token.stdout.strip() not in done.stderr
        status = json.loads(cli_in_process("status", "--profile", "sandbox", "--json").stdout)
        assert status["signedIn"] is True and status["clientId"] == "sandbox-client"
        assert cli_in_process("token").returncode == 3  # the default profile was not touched

    def test_debug_logs_hold_no_secret_code_or_token(self, config_dir: Path, tmp_path: Path) -> None:
        log_file = tmp_path / "cli.log"
        done = cli("--log-level", "debug", "--log-file", str(log_file), "login", "--sandbox", "--print")
        assert done.returncode == 0, done.stderr
        saved = cache(config_dir)["profiles"]["sandbox"]
        logs = done.stderr + log_file.read_text()
        assert "Sign-on completed" in logs and "Token endpoint answered HTTP 200" in logs
        for secret in (saved["clientSecret"], saved["token"]["accessToken"], "code="):
            assert secret not in logs
        assert saved["token"]["accessToken"] in done.stdout  # only where --print asked for it

    def test_console_script_and_print_with_a_human_date(self, config_dir: Path) -> None:
        done = subprocess.run(
            [str(SCRIPT), "login", "--sandbox", "--print"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        token_line, expiry_line = done.stdout.splitlines()
        assert token_line.removeprefix("Token: ") == cli_in_process("token", "--profile", "sandbox").stdout.strip()
        expires_at = cache(config_dir)["profiles"]["sandbox"]["token"]["expiresAt"]
        human = time.strftime("%Y-%m-%d %H:%M", time.localtime(expires_at))
        assert expiry_line.startswith(f"Expiration: {expires_at} ({human}")  # the expiry as a number and in words

    def test_save_writes_a_private_env_file_that_pyticktick_loads(self, config_dir: Path, tmp_path: Path) -> None:
        from tests.support.cli import load_pyticktick

        env_file = tmp_path / "pyticktick.env"
        env_file.write_text(
            "# mine\nPYTICKTICK_V1_BASE_URL=https://api.ticktick.com/open/v1/\nPYTICKTICK_V1_TOKEN='stale'\n"
        )
        done = cli_in_process("login", "--sandbox", "--save", str(env_file))
        assert done.returncode == 0, done.stderr
        assert_owner_only(env_file, 0o600)
        text = env_file.read_text()
        assert text.startswith("# mine\nPYTICKTICK_V1_BASE_URL=") and "stale" not in text
        settings = load_pyticktick(env_file)
        assert str(settings.v1_token.value) == cli_in_process("token", "--profile", "sandbox").stdout.strip()
        assert settings.v1_client_id == "sandbox-client"

    def test_a_sandbox_profile_says_so_in_status_and_get_status(self, config_dir: Path) -> None:
        """A sandbox sign-in is not shown as a TickTick token."""
        assert cli_in_process("login", "--sandbox").returncode == 0
        text = cli_in_process("status", "--profile", "sandbox").stdout
        assert "signed in to the local sandbox (not TickTick)" in text
        assert json.loads(cli_in_process("status", "--profile", "sandbox", "--json").stdout)["sandbox"] is True
        assert cache(config_dir)["profiles"]["sandbox"]["sandbox"] is True

    def test_an_existing_token_is_replaced_without_asking_when_nobody_can_answer(self, config_dir: Path) -> None:
        """With no one at a terminal to ask, the existing token is replaced."""
        assert cli_in_process("login", "--sandbox").returncode == 0
        first = cli_in_process("token", "--profile", "sandbox").stdout
        again = cli_in_process("login", "--sandbox", stdin="")
        assert again.returncode == 0 and "replace" not in again.stderr
        assert cli_in_process("token", "--profile", "sandbox").stdout != first

    def test_the_sandbox_asks_nothing_even_at_a_terminal(self, config_dir: Path) -> None:
        """--sandbox is unattended: no prompts, even where a person could answer."""
        world = make_world(terminal=True)
        done = run_cli("login", "--sandbox", world=world)
        assert done.returncode == 0, done.stderr
        assert world.prompter.asked == [] and world.opened == []


# -- a real provider (the sandbox behind TICKTICK_SIGNON_AUTH_URL), nobody at a terminal -----------


class TestWithoutTerminal:
    def test_loopback_capture_needs_no_paste_and_the_browser_gets_its_page(self, auth_url: str) -> None:
        login = running("--redirect-url", f"http://127.0.0.1:{free_port()}/callback", "--no-browser", "--print")
        page = httpx.get(follow_authorize(login.authorize_url()))
        assert page.status_code == 200 and "Signed in" in page.text
        done = login.finish()
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Token: ")
        assert login.world.opened == []  # --no-browser, and nobody to ask anyway

    def test_deny_shows_the_failure_page_exits_6_and_keeps_the_old_token(self, auth_url: str, config_dir: Path) -> None:
        """The browser gets the "Sign-in failed" page, not an empty reply."""
        store_token(config_dir)
        # The saved profile's credentials beat the environment's, so name the sandbox app's.
        login = running(
            "--client-id",
            "sandbox-client",
            "--redirect-url",
            f"http://127.0.0.1:{free_port()}/callback",
            "--no-browser",
        )
        page = httpx.get(follow_authorize(login.authorize_url(), "deny"))
        assert page.status_code == 400 and "Sign-in failed" in page.text and "</html>" in page.text
        done = login.finish()
        assert done.returncode == 6 and "did not allow access" in done.stderr
        assert cli_in_process("token").stdout.strip() == OLD_TOKEN

    def test_a_busy_port_is_named_and_the_pasted_address_is_taken(self, auth_url: str, config_dir: Path) -> None:
        """The busy port is named, and a pasted address (with spaces around it) completes the sign-in."""
        with busy_port() as taken:
            port = taken.getsockname()[1]
            login = running("--redirect-url", f"http://127.0.0.1:{port}/", "--no-browser")
            location = follow_authorize(login.authorize_url())
            line = login.wait_for_line("in use")
            done = login.finish("not a url\n   " + location + "  \n")
        assert f"Port {port} on 127.0.0.1 is in use" in line and "paste" in line
        assert done.returncode == 0, done.stderr
        assert "That is not a web address" in done.stderr  # the bad paste was refused, then the good one taken
        assert done.stderr.count(PASTE_PROMPT) == 2  # the same prompt both times
        assert "sandbox-secret" not in done.stderr + done.stdout

    def test_a_redirect_url_that_is_not_loopback_is_explained(self, auth_url: str) -> None:
        """Nothing can listen for https://example.invalid/; the CLI says so, and that pasting is the way."""
        done = cli_in_process(
            "login", "--redirect-url", "https://example.invalid/cb", "--no-browser", stdin="", environ=creds_env()
        )
        assert "is not a loopback address" in done.stderr and "paste" in done.stderr
        assert done.returncode == 9

    def test_nothing_pasted_has_its_own_status_and_leaves_no_pending_sign_in(
        self, auth_url: str, config_dir: Path
    ) -> None:
        """Exit 9, not "refused" (6); and the abandoned sign-in's state is gone from the cache."""
        with busy_port() as taken:
            done = cli_in_process(
                "login",
                "--redirect-url",
                f"http://127.0.0.1:{taken.getsockname()[1]}/",
                "--no-browser",
                environ=creds_env(),
            )
        assert done.returncode == 9, done.stderr
        assert "No address was pasted" in done.stderr and "Traceback" not in done.stderr
        assert cache(config_dir).get("pendingSignons", {}) == {}

    def test_the_link_expiring_while_waiting_has_the_no_redirect_status(self, auth_url: str, config_dir: Path) -> None:
        """Ten minutes without a redirect end with 9 and the advice to run login again (a fake clock)."""
        started = time.time()
        clock = iter([started] * 3)

        def later() -> float:
            return next(clock, started + 601)  # the state's 10 minutes are over after the start

        login = running("--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser", clock=later)
        done = login.finish(timeout=30)
        assert done.returncode == 9, done.stderr
        assert "The sign-in link expired after 10 minutes; run `ticktick-signon login` again." in done.stderr
        assert cache(config_dir).get("pendingSignons", {}) == {}

    def test_missing_credentials_name_the_flags(self, auth_url: str) -> None:
        """The message names the flags, not protocol fields (clientId, clientSecret)."""
        env = {k: v for k, v in creds_env().items() if not k.startswith("PYTICKTICK_")}
        done = cli_in_process("login", "--no-browser", environ=env)
        assert done.returncode == 2
        assert "--client-id and --client-secret" in done.stderr and "clientId" not in done.stderr

    @pytest.mark.parametrize(
        ("args", "env_extra", "named"),
        [
            (("--redirect-url", "not-a-url"), {}, "--redirect-url"),
            ((), {"PYTICKTICK_V1_OAUTH_REDIRECT_URL": "ftp://x/"}, "PYTICKTICK_V1_OAUTH_REDIRECT_URL"),
        ],
    )
    def test_a_bad_redirect_url_names_where_it_came_from(
        self, auth_url: str, args: tuple[str, ...], env_extra: dict[str, str], named: str
    ) -> None:
        done = cli_in_process("login", "--no-browser", *args, environ=creds_env(**env_extra))
        assert done.returncode == 2
        assert f"Give {named} as an absolute http(s) URL." in done.stderr and "redirectUrl" not in done.stderr

    def test_blank_ids_count_as_missing_and_ids_are_trimmed(self, auth_url: str, config_dir: Path) -> None:
        """A client id of spaces never reaches the sign-in URL or the cache."""
        blank = cli_in_process("login", "--no-browser", environ=creds_env(PYTICKTICK_V1_CLIENT_ID="   "))
        assert blank.returncode == 2 and "--client-id" in blank.stderr
        login = running(
            "--client-id", "  sandbox-client  ", "--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser"
        )
        url = login.authorize_url()
        assert "client_id=sandbox-client&" in url
        httpx.get(follow_authorize(url))
        done = login.finish()
        assert done.returncode == 0, done.stderr
        assert cache(config_dir)["profiles"]["default"]["clientId"] == "sandbox-client"

    def test_secret_on_the_command_line_is_warned_about(self, auth_url: str) -> None:
        env = {k: v for k, v in creds_env().items() if k != "PYTICKTICK_V1_CLIENT_SECRET"}
        login = running(
            "--client-secret",
            "sandbox-secret",
            "--redirect-url",
            f"http://127.0.0.1:{free_port()}/",
            "--no-browser",
            env=env,
        )
        httpx.get(follow_authorize(login.authorize_url()))
        done = login.finish()
        assert done.returncode == 0 and "visible to other users" in done.stderr

    def test_a_sign_in_finished_by_another_program_is_said_in_cli_words(self, auth_url: str, config_dir: Path) -> None:
        """The listener's sign-on ended elsewhere (pasted into another client): no protocol advice like getToken."""
        from ticktick_signon.cache.store import TokenStore
        from ticktick_signon.signin.service import SignInService

        login = running("--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser")
        location = follow_authorize(login.authorize_url())
        login.wait_for_line("Waiting for the browser")
        SignInService(TokenStore(config_dir), environ={"TICKTICK_SIGNON_AUTH_URL": auth_url}).complete(location, None)
        done = login.finish()
        assert done.returncode == 6, done.stderr
        assert "Another program finished or cancelled this sign-in; `ticktick-signon status` says" in done.stderr
        assert "getToken" not in done.stderr

    def test_a_failed_save_reports_the_sign_in_and_exits_10(self, auth_url: str, tmp_path: Path) -> None:
        """Through pipes: the sign-in is reported done, the save failed, status 10."""
        target = tmp_path / "missing" / "x.env"
        login = running("--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser", "--save", str(target))
        httpx.get(follow_authorize(login.authorize_url()))
        done = login.finish()
        assert done.returncode == 10, done.stderr
        assert "Signed in to the sandbox (profile 'default')" in done.stderr
        assert f"Could not save the token to {target}" in done.stderr and "the token is cached" in done.stderr
        assert done.stdout == "" and cli_in_process("token").returncode == 0

    def test_copy_hands_pyticktick_s_json_to_the_clipboard_or_says_there_is_none(self, auth_url: str) -> None:
        """--copy: the clipboard gets {"value", "expiration"}, as pyticktick's script gives it."""
        for works in (True, False):
            login = running(
                "--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser", "--copy", clipboard=works
            )
            httpx.get(follow_authorize(login.authorize_url()))
            done = login.finish()
            assert done.returncode == 0, done.stderr
            (copied,) = login.world.copied
            token = json.loads(cli_in_process("token", "--format", "json").stdout)
            assert json.loads(copied) == {"value": token["accessToken"], "expiration": token["expiresAt"]}
            said = "Copied the token" if works else "No clipboard tool was found"
            assert said in done.stderr and token["accessToken"] not in done.stderr + done.stdout

    @pytest.mark.posix_only("SIGINT to a piped child: Windows sends Ctrl+C only through a console")
    def test_interrupt_while_waiting_is_130_and_removes_the_pending_sign_in(
        self, auth_url: str, config_dir: Path
    ) -> None:
        """SIGINT while waiting for the browser, through pipes: cancelled, the old token kept."""
        store_token(config_dir)
        login = Piped(
            "--client-id", "sandbox-client", "--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser"
        )
        login.read_until("Waiting for the browser")
        assert len(cache(config_dir)["pendingSignons"]) == 1
        login.proc.send_signal(signal.SIGINT)
        code, _, err = login.finish()
        assert code == 130 and err.rstrip().endswith("Cancelled.")
        assert cache(config_dir).get("pendingSignons", {}) == {}
        assert cli_in_process("token").stdout.strip() == OLD_TOKEN  # the token it had stays
        assert json.loads(cli_in_process("status", "--json").stdout)["pendingSignon"] is False

    @pytest.mark.posix_only("SIGHUP does not exist on Windows, and SIGTERM there cannot be caught from outside")
    @pytest.mark.parametrize("signame", ["SIGHUP", "SIGTERM"])
    def test_a_closed_terminal_or_sigterm_while_waiting_leaves_nothing_pending(
        self, auth_url: str, config_dir: Path, signame: str
    ) -> None:
        """An abandoned login left "A sign-in is waiting for its browser redirect." in status, as Ctrl-C does not."""
        store_token(config_dir)
        login = Piped(
            "--client-id", "sandbox-client", "--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser"
        )
        login.read_until("Waiting for the browser")
        assert len(cache(config_dir)["pendingSignons"]) == 1
        number = getattr(signal, signame)
        login.proc.send_signal(number)
        code, _, err = login.finish()
        assert code == 128 + number and "Traceback" not in err
        assert cache(config_dir).get("pendingSignons", {}) == {}
        assert cli_in_process("token").stdout.strip() == OLD_TOKEN  # the token it had stays
        assert json.loads(cli_in_process("status", "--json").stdout)["pendingSignon"] is False
        logout = cli_in_process("logout")
        assert "Cancelled the sign-in" not in logout.stderr + logout.stdout

    def test_no_colour_or_symbols_through_a_pipe(self, auth_url: str) -> None:
        """Plain words when stderr is not a terminal."""
        env = {k: v for k, v in creds_env().items() if k != "PYTICKTICK_V1_CLIENT_SECRET"}
        done = cli_in_process("login", "--client-secret", "x", "--no-browser", "--redirect-url", "nope", environ=env)
        assert "Warning: A secret on the command line" in done.stderr and "Error: Give --redirect-url" in done.stderr
        assert "\x1b[" not in done.stderr and "✓" not in done.stderr and "✗" not in done.stderr


# -- a person at a terminal: the scripted prompter answers, a pipe carries what is pasted ---------------


class TestConversation:
    def test_prompts_trim_and_refuse_blanks_and_the_secret_is_asked_hidden(
        self, auth_url: str, config_dir: Path
    ) -> None:
        """Items 2 and 14: blank answers are refused with a reason; the secret is asked for without echo."""
        env = {k: v for k, v in creds_env().items() if not k.startswith("PYTICKTICK_")}
        port = free_port()
        answers = ["   ", "  sandbox-client ", "sandbox-secret", "not a url", f"http://127.0.0.1:{port}/cb", "n"]
        login = running(env=env, terminal=True, answers=[*answers, "n", "n", ""])
        url = login.authorize_url()
        assert "client_id=sandbox-client&" in url
        login.wait_for(re.escape(PASTE_PROMPT))
        login.type("\n")  # an empty Enter says something
        login.wait_for(re.escape("Nothing was pasted; still waiting for the browser.\n" + PASTE_PROMPT))
        login.type(follow_authorize(url) + "\n")  # paste, although the listener is also waiting
        done = login.finish()
        assert done.returncode == 0, done.stderr
        asked = [(a.question, a.hidden) for a in login.world.prompter.asked]
        assert asked == [
            ("Client id: ", False),
            ("Client id: ", False),
            ("Client secret (typing is hidden): ", True),
            ("OAuth redirect URL [http://127.0.0.1:8080/]: ", False),
            ("OAuth redirect URL [http://127.0.0.1:8080/]: ", False),
            ("Open it in your browser now? [Y/n]: ", False),
            ("Copy the token and its expiration to the clipboard? [Y/n]: ", False),
            ("Print the token and its expiration here? [Y/n]: ", False),
            ("Save them to a pyticktick .env file at (Enter to skip): ", False),
        ]
        assert "Client id cannot be blank." in done.stderr and "Give an absolute http(s) URL" in done.stderr
        assert "Signed in to the sandbox (profile 'default')" in done.stderr
        assert "sandbox-client" in done.stderr and "sandbox-secret" not in done.stderr
        assert "?:" not in done.stderr and "signon?" not in done.stderr
        assert login.world.opened == [] and login.world.copied == [] and done.stdout == ""
        assert cache(config_dir)["profiles"]["default"]["clientId"] == "sandbox-client"

    def test_the_browser_is_opened_and_comes_back_by_itself(self, auth_url: str) -> None:
        seen: list[int] = []
        browsing: list[threading.Thread] = []

        def browser(url: str) -> bool:
            browsing.append(threading.Thread(target=lambda: seen.append(httpx.get(follow_authorize(url)).status_code)))
            browsing[0].start()
            return True

        login = running(
            "--redirect-url",
            f"http://127.0.0.1:{free_port()}/cb",
            "--print",
            terminal=True,
            answers=[""],
            browser=browser,
        )
        done = login.finish()
        browsing[0].join(10)
        assert done.returncode == 0, done.stderr
        assert [a.question for a in login.world.prompter.asked] == ["Open it in your browser now? [Y/n]: "]
        assert len(login.world.opened) == 1 and "/oauth/authorize?" in login.world.opened[0]
        assert seen == [200] and done.stdout.startswith("Token: ")

    def test_a_browser_that_fails_to_open_is_said_and_the_url_stays_usable(self, auth_url: str) -> None:
        """The browser opener returned False: the CLI says so and the address stays usable."""
        login = running(
            "--redirect-url",
            f"http://127.0.0.1:{free_port()}/cb",
            "--print",
            terminal=True,
            answers=["y"],
            browser=lambda url: False,
        )
        url = login.authorize_url()
        login.wait_for("No browser could be opened here; open the address above by hand.")
        httpx.get(follow_authorize(url))
        done = login.finish()
        assert done.returncode == 0 and done.stdout.startswith("Token: ")

    def test_over_ssh_no_browser_is_offered_and_pasting_is_explained(self, auth_url: str) -> None:
        """With SSH_CONNECTION set, no browser is offered and pasting is explained."""
        port = free_port()
        login = running(
            "--redirect-url",
            f"http://127.0.0.1:{port}/cb",
            "--print",
            env=creds_env(SSH_CONNECTION="10.0.0.2 50000 10.0.0.1 22"),
            terminal=True,
        )
        url = login.authorize_url()
        login.wait_for(re.escape(PASTE_PROMPT))
        login.type(follow_authorize(url) + "\n")
        done = login.finish()
        assert done.returncode == 0, done.stderr
        assert "You are connected over SSH, so no browser is opened here" in done.stderr
        assert f"ssh -L {port}:127.0.0.1:{port}" in done.stderr
        assert login.world.prompter.asked == [] and login.world.opened == []
        assert done.stdout.startswith("Token: ")

    def test_a_signed_in_profile_asks_before_its_token_is_replaced(self, auth_url: str, config_dir: Path) -> None:
        """Say until when the token is valid, ask, and keep the token on No."""
        expires = int(time.time()) + 30 * 86400
        store_token(config_dir, expires_at=expires)
        world = make_world(environ=creds_env(), terminal=True, answers=[""])
        done = run_cli("login", "--no-browser", world=world)
        assert done.returncode == 0, done.stderr
        human = time.strftime("%Y-%m-%d %H:%M", time.localtime(expires))
        assert f"Profile 'default' is signed in to the sandbox until {human}" in done.stderr  # its issuer, named
        assert [a.question for a in world.prompter.asked] == ["Sign in again and replace its token? [y/N]: "]
        assert "Kept the current token" in done.stderr
        assert cli_in_process("token").stdout.strip() == OLD_TOKEN

    def test_ctrl_c_at_a_prompt_is_cancelled_130(self, auth_url: str, config_dir: Path) -> None:
        """Ctrl-C is "cancelled" with status 130, not click's "Aborted!" with status 1; nothing is left pending."""
        env = {k: v for k, v in creds_env().items() if not k.startswith("PYTICKTICK_")}
        done = cli_in_process("login", environ=env, terminal=True, answers=[CTRL_C])
        assert done.returncode == 130 and done.stderr.rstrip().endswith("Cancelled.")
        assert "Aborted" not in done.stderr
        assert not (config_dir / "config.json").exists() or cache(config_dir).get("pendingSignons", {}) == {}

    def test_a_failed_save_is_said_and_asked_again(self, auth_url: str, tmp_path: Path) -> None:
        """At a terminal: the failed save is said, and the CLI asks again."""
        missing = tmp_path / "missing" / "x.env"
        good = tmp_path / "x.env"
        login = running(
            "--redirect-url",
            f"http://127.0.0.1:{free_port()}/cb",
            "--no-browser",
            "--save",
            str(missing),
            terminal=True,
            answers=[str(good)],
        )
        httpx.get(follow_authorize(login.authorize_url()))
        done = login.finish()
        assert done.returncode == 0, done.stderr
        assert "Signed in to the sandbox" in done.stderr
        assert f"Could not save the token to {missing}" in done.stderr
        assert [a.question for a in login.world.prompter.asked] == ["Save it at another path (Enter to skip): "]
        assert f"Saved the token to {good}" in done.stderr
        assert "PYTICKTICK_V1_TOKEN_VALUE=" in good.read_text()


# -- the browser opener: Python's webbrowser module, $BROWSER first -----------------------------------


@pytest.mark.posix_only("a $BROWSER command line with %s; Windows' webbrowser has its own registry")
def test_the_browser_opener_uses_dollar_browser_and_says_when_it_failed(
    auth_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the in-process tests fake: $BROWSER runs (here the fake browser), and a failing one is False."""
    import webbrowser

    from ticktick_signon.cli.deps import open_in_browser

    seen = tmp_path / "seen"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" > {seen}\n')
    script.chmod(0o755)
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # webbrowser reads $BROWSER once, at first use
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setenv("BROWSER", f"{script} %s")
    assert open_in_browser("http://127.0.0.1:9/x") is True
    deadline = time.monotonic() + 10
    while not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen.read_text().strip() == "http://127.0.0.1:9/x"
    failing = tmp_path / "no-browser"
    failing.write_text("#!/bin/sh\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setenv("BROWSER", str(failing))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("TERM", "dumb")
    assert open_in_browser("http://127.0.0.1:9/x") is False


# -- in a real terminal: what only a terminal shows ---------------------------------------------------


@pytest.mark.posix_only("a pseudo-terminal (pexpect.spawn); TestConversation holds the same flows in process")
class TestTerminal:
    def test_the_secret_is_not_echoed_and_click_s_prompts_take_their_answers(
        self, auth_url: str, config_dir: Path
    ) -> None:
        """Typing the secret shows nothing; the real prompter's questions, defaults and answers."""
        env = {k: v for k, v in creds_env().items() if not k.startswith("PYTICKTICK_")}
        term = Terminal(env=env)
        term.expect_exact("Client id: ")
        term.send("  sandbox-client ")
        term.expect_exact("Client secret (typing is hidden): ")
        term.send("sandbox-secret")
        term.expect_exact("OAuth redirect URL [http://127.0.0.1:8080/]: ")
        term.send(f"http://127.0.0.1:{free_port()}/cb")
        url = term.authorize_url()
        assert "client_id=sandbox-client&" in url
        term.expect_exact("Open it in your browser now? [Y/n]: ")
        term.send("n")
        term.expect_exact(PASTE_PROMPT)
        term.send(follow_authorize(url))
        term.expect_exact("Copy the token and its expiration to the clipboard? [Y/n]: ")
        term.send("n")
        term.expect_exact("Print the token and its expiration here? [Y/n]: ")
        term.send("n")
        term.expect_exact("Save them to a pyticktick .env file at (Enter to skip): ")
        term.send("")
        assert term.finish() == 0
        assert "Signed in to the sandbox (profile 'default')" in term.seen
        assert "sandbox-client" in term.seen and "sandbox-secret" not in term.seen
        assert cache(config_dir)["profiles"]["default"]["clientId"] == "sandbox-client"

    def test_ctrl_c_at_a_prompt_is_cancelled_130(self, auth_url: str) -> None:
        """Ctrl-C at a prompt is "cancelled" with status 130, not click's "Aborted!" with status 1."""
        env = {k: v for k, v in creds_env().items() if not k.startswith("PYTICKTICK_")}
        term = Terminal(env=env)
        term.expect_exact("Client id: ")
        term.child.sendintr()
        term.expect_exact("Cancelled.")
        assert term.finish() == 130
        assert "Aborted" not in term.seen

    def test_ctrl_c_while_waiting_is_cancelled_130_and_removes_the_pending_sign_in(
        self, auth_url: str, config_dir: Path
    ) -> None:
        """The same message and status, and `status` no longer reports a sign-in waiting."""
        term = Terminal("--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser")
        term.expect_exact(PASTE_PROMPT)
        assert json.loads(cli("status", "--json").stdout)["pendingSignon"] is True
        term.child.sendintr()
        term.expect_exact("Cancelled.")
        assert term.finish() == 130
        assert json.loads(cli("status", "--json").stdout)["pendingSignon"] is False
        assert "clientSecret" not in json.dumps(cache(config_dir).get("pendingSignons", {}))

    def test_colour_and_symbols_on_a_terminal_and_none_with_no_color(self, auth_url: str) -> None:
        """Colour and symbols on a terminal; none with NO_COLOR."""
        args = ("--redirect-url", f"http://127.0.0.1:{free_port()}/cb", "--no-browser", "--print")
        coloured = Terminal(*args)
        httpx.get(follow_authorize(coloured.authorize_url()))
        assert coloured.finish() == 0
        assert "\x1b[32m\x1b[1m✓\x1b[0m Signed in to the sandbox" in coloured.seen
        plain = Terminal(
            "--profile",
            "other",
            "--redirect-url",
            f"http://127.0.0.1:{free_port()}/cb",
            "--no-browser",
            "--print",
            env=creds_env(NO_COLOR="1"),
        )
        httpx.get(follow_authorize(plain.authorize_url()))
        assert plain.finish() == 0
        assert (
            "\x1b[" not in plain.seen
            and "✓" not in plain.seen
            and "Signed in to the sandbox (profile 'other')" in plain.seen
        )
