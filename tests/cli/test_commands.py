"""The CLI's commands: token, status, logout, help, and the exit statuses.

Most run in process through the click group with fake deps (tests/support/cli_harness.py);
what needs a real process (the module graph of `token`, logging set-up, SIGINT)
runs `python -m ticktick_signon`. login has its own file, test_login.py; the token
fast path, test_token_fast_path.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import cli, load_pyticktick, store_token
from tests.support.cli_harness import cli_in_process

OLD_TOKEN = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"


class TestTokenCommand:
    def test_plain_and_json(self, config_dir: Path) -> None:
        store_token(config_dir)
        assert cli_in_process("token").stdout == "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10\n"
        result = json.loads(cli_in_process("token", "--format", "json").stdout)
        assert result["accessToken"] == "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10" and result["profile"] == "default"

    def test_pyticktick_env_is_loaded_by_pyticktick_as_is(self, config_dir: Path, tmp_path: Path) -> None:
        expires = int(time.time()) + 30 * 86400
        store_token(config_dir, expires_at=expires)
        out = cli_in_process("token", "--format", "pyticktick-env").stdout
        env_file = tmp_path / ".env"
        env_file.write_text(out)
        settings = load_pyticktick(env_file)
        assert (settings.v1_client_id, settings.v1_client_secret) == ("my-id", "my-secret")
        assert (settings.v1_token.value, settings.v1_token.expiration) == (
            "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10",
            expires,
        )

    @pytest.mark.parametrize(
        ("setup", "args", "code"),
        [
            ("none", (), 3),
            ("expired", (), 4),
            ("valid", ("--min-valid", "7200"), 4),
            ("broken", (), 5),
            ("valid", ("--format", "yaml"), 2),
            ("valid", ("--profile", "../x"), 2),
        ],
    )
    def test_exit_codes(self, config_dir: Path, setup: str, args: tuple[str, ...], code: int) -> None:
        if setup == "valid":
            store_token(config_dir)
        elif setup == "expired":
            store_token(config_dir, expires_at=1000)
        elif setup == "broken":
            config_dir.mkdir(mode=0o700)
            (config_dir / "config.json").write_text("nope")
        done = cli_in_process("token", *args)
        assert done.returncode == code
        assert done.stdout == "" and done.stderr.strip()

    def test_token_path_imports_neither_pygls_nor_httpx(self, config_dir: Path) -> None:
        store_token(config_dir)
        code = (
            "import sys; from ticktick_signon.cli.app import main\n"
            "try:\n    main(['token'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pygls', 'httpx', 'http.server') if m in sys.modules), file=sys.stderr)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"
        assert done.stderr.strip().splitlines()[-1] == "[]"


def test_unwritable_log_file_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("--log-file", str(tmp_path / "missing" / "x.log"), "status")
    assert done.returncode == 2 and "--log-file" in done.stderr and "Traceback" not in done.stderr


class TestStatus:
    def test_signed_in_or_not_and_its_exit_status(self, config_dir: Path) -> None:
        """Exit 1 when not signed in or expired, as `gh auth status`; 0 when signed in."""
        done = cli_in_process("status")
        assert done.returncode == 1 and "not signed in; run `ticktick-signon login`" in done.stdout
        assert cli_in_process("status", "--json").returncode == 1
        store_token(config_dir)
        done = cli_in_process("status")
        assert done.returncode == 0, done.stderr
        text = done.stdout
        assert (
            "signed in to TickTick" in text and "my-id" in text and "my-secret" not in text and "0b6e2a50" not in text
        )
        assert json.loads(cli_in_process("status", "--json").stdout)["sandbox"] is False
        store_token(config_dir, expires_at=1000)
        done = cli_in_process("status", "--profile", "default")
        assert done.returncode == 1 and "the token expired" in done.stdout
        assert "\x1b[" not in done.stdout and "✗" not in done.stdout  # piped: no colour, no symbols


class TestTokenWording:
    def test_not_signed_in_names_the_command_with_the_profile(self, config_dir: Path) -> None:
        """`token` for a profile that is not signed in names the login command with that profile."""
        done = cli_in_process("token", "--profile", "work")
        assert done.returncode == 3
        assert "Profile 'work' is not signed in; run `ticktick-signon login --profile work` first." in done.stderr
        assert "run `ticktick-signon login` first." in cli_in_process("token").stderr

    def test_expired_names_when_and_the_command(self, config_dir: Path) -> None:
        store_token(config_dir, expires_at=1000)
        done = cli_in_process("token")
        assert (
            done.returncode == 4
            and "expired" in done.stderr
            and "run `ticktick-signon login` to sign in again" in done.stderr
        )
        store_token(config_dir)
        done = cli_in_process("token", "--min-valid", "7200")
        assert done.returncode == 4 and "within --min-valid" in done.stderr

    def test_a_sandbox_profile_is_signed_in_again_with_the_sandbox(self, config_dir: Path) -> None:
        assert cli_in_process("login", "--sandbox").returncode == 0
        assert cli_in_process("logout", "--profile", "sandbox").returncode == 0
        assert "run `ticktick-signon login --sandbox` first." in cli_in_process("token", "--profile", "sandbox").stderr


class TestLogout:
    def test_says_what_actually_changed(self, config_dir: Path) -> None:
        """--forget twice does not claim twice that it forgot something."""
        store_token(config_dir)
        done = cli_in_process("logout")
        assert done.returncode == 0 and "Signed out of profile 'default'. Kept its client id and secret" in done.stderr
        assert cli_in_process("token").returncode == 3
        assert json.loads(cli_in_process("status", "--json").stdout)["clientId"] == "my-id"
        first = cli_in_process("logout", "--forget")
        assert first.returncode == 0 and "Forgot its saved client id and secret." in first.stderr
        assert json.loads(cli_in_process("status", "--json").stdout)["clientId"] is None
        second = cli_in_process("logout", "--forget")
        assert second.returncode == 0
        assert (
            "Forgot" not in second.stderr
            and "Nothing to do: profile 'default' was not signed in and had nothing saved." in second.stderr
        )


def _commands() -> list[str]:
    """Every command the group registers, so a new one is held to the same help standard."""
    import click

    from ticktick_signon.cli.app import main

    return main.list_commands(click.Context(main))


COMMANDS = _commands()


class TestHelp:
    @pytest.mark.parametrize("command", COMMANDS)
    def test_help_command_equals_dash_dash_help_and_has_an_example(self, command: str) -> None:
        """`ticktick-signon help COMMAND` as in gh, and an example in every command's help."""
        via_help = cli_in_process("help", command)
        via_flag = cli_in_process(command, "--help")
        assert via_help.returncode == via_flag.returncode == 0
        assert via_help.stdout == via_flag.stdout
        assert "Examples:" in via_flag.stdout and f"ticktick-signon {command}" in via_flag.stdout.split("Examples:")[1]

    def test_help_alone_is_the_main_help_and_an_unknown_command_is_usage(self) -> None:
        assert cli_in_process("help").stdout == cli_in_process("--help").stdout
        unknown = cli_in_process("help", "nope")
        assert unknown.returncode == 2 and "No command 'nope'" in unknown.stderr

    def test_login_help_names_the_environment_it_reads(self) -> None:
        text = cli_in_process("login", "--help").stdout
        for name in (
            "PYTICKTICK_V1_CLIENT_ID",
            "PYTICKTICK_V1_CLIENT_SECRET",
            "PYTICKTICK_V1_OAUTH_REDIRECT_URL",
            "TICKTICK_SIGNON_AUTH_URL",
            "TICKTICK_SIGNON_CONFIG_DIR",
            "TICKTICK_SIGNON_HTTP_TIMEOUT",
            "NO_COLOR",
            "SSH_CONNECTION",
        ):
            assert name in text


def _help_exit_statuses() -> dict[int, str]:
    text = cli_in_process("--help").stdout.split("Exit status:")[1]
    rows: dict[int, str] = {}
    for line in text.splitlines():
        match = re.match(r"\s+(\d+)\s+(.*)", line)
        if match:
            rows[int(match.group(1))] = match.group(2)
    return rows


def _readme_exit_statuses() -> dict[int, str]:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exit status")[1].split("\n#")[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*(\d+)\s*\|(.*)\|\s*$", line)
        if match:
            rows[int(match.group(1))] = match.group(2).strip()
    return rows


def test_one_exit_status_table_in_the_readme_and_in_help_matching_the_code() -> None:
    """Every status the CLI can end with is in both tables, and nothing else is."""
    from ticktick_signon import errors
    from ticktick_signon.cli import exits

    used = {error.exit_code for error in errors.LEAVES if not issubclass(error, (errors.InternalError,))}
    used |= {
        0,
        exits.EXIT_NOT_SIGNED_IN,
        exits.EXIT_USAGE,
        exits.EXIT_NO_REDIRECT,
        exits.EXIT_SAVE_FAILED,
        exits.EXIT_CANCELLED,
        exits.EXIT_HANGUP,
        exits.EXIT_TERMINATED,
    }
    assert set(_help_exit_statuses()) == used
    assert set(_readme_exit_statuses()) == used


@pytest.mark.posix_only("SIGINT to a piped child: Windows sends Ctrl+C only through a console")
@pytest.mark.parametrize("args", [("serve",), ("--log-level", "info", "serve")])
def test_ctrl_c_is_cancelled_130_for_every_command(args: tuple[str, ...]) -> None:
    """One message and one status, whether click runs the command or entry.py's fast path does."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "ticktick_signon", *args], stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Helper ready" in line or "Sandbox TickTick on" in line:
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(30) == 130
    assert rest.rstrip().endswith("Cancelled.") and "Aborted" not in rest and "Traceback" not in rest


def test_commands_run_in_the_world_they_are_given(config_dir: Path, tmp_path: Path) -> None:
    """The in-process tests above are only worth it if the commands use their deps, not the process's."""
    store_token(tmp_path / "elsewhere")  # a cache the process's environment does not point at
    later = time.time() + 7200  # the token (an hour) has expired by this clock
    done = cli_in_process("token", config_dir=tmp_path / "elsewhere", clock=lambda: later)
    assert done.returncode == 4 and "expired" in done.stderr
    assert cli_in_process("token", config_dir=tmp_path / "elsewhere").stdout.strip() == OLD_TOKEN
    assert cli_in_process("token").returncode == 3  # $TICKTICK_SIGNON_CONFIG_DIR's cache is empty


@pytest.mark.parametrize(
    "command",
    [
        ("logout", "--forget"),
        ("logout",),
        ("token",),
        ("token", "--format", "json"),
        ("status",),
        ("status", "--json"),
        ("login", "--sandbox"),
    ],
)
def test_an_empty_profile_is_a_usage_error_and_changes_nothing(config_dir: Path, command: tuple[str, ...]) -> None:
    """`--profile ""` is refused with exit 2, never taken for 'default'.

    A script with an unset variable ran `logout --forget --profile "$P"` and wiped the default profile.
    """
    store_token(config_dir)
    before = (config_dir / "config.json").read_bytes()
    done = cli_in_process(*command, "--profile", "", stdin=None)
    assert done.returncode == 2, done.stderr
    assert "--profile" in done.stderr and "is empty" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert (config_dir / "config.json").read_bytes() == before
    assert json.loads(before)["profiles"]["default"]["clientSecret"] == "my-secret"


class TestWhatANewcomerMeets:
    """Issue 22: plain `ticktick-signon`, the sandbox's --help, banner and Ctrl-C, and two sentences."""

    def test_plain_ticktick_signon_prints_the_help_on_stdout_and_exits_0(self) -> None:
        """As gh does: asking for nothing is not a mistake (the exit table's row 0 says so)."""
        done = cli_in_process()
        assert done.returncode == 0, done.stderr
        assert "Usage: ticktick-signon" in done.stdout and "login" in done.stdout and "Exit status:" in done.stdout
        assert "no command: the help" in _help_exit_statuses()[0]
        assert "no command: the help" in _readme_exit_statuses()[0]

    def test_sandbox_help_says_how_to_approve_without_a_browser(self) -> None:
        text = " ".join(cli_in_process("sandbox", "--help").stdout.split())
        assert "--auto-approve" in text
        assert "POST /oauth/authorize/decision" in text and "decision=allow" in text
        assert "Sandbox stopped." in text

    def test_the_import_usage_error_is_a_sentence(self, tmp_path: Path) -> None:
        done = cli_in_process("import")
        assert done.returncode == 2 and "Error: Give the token file's PATH, or --from-env (not both)." in done.stderr

    def test_an_expired_import_names_the_command_that_signs_in(self, tmp_path: Path) -> None:
        old = tmp_path / ".env"
        old.write_text('PYTICKTICK_V1_TOKEN=\'{"value": "%s", "expiration": 1000}\'\n' % OLD_TOKEN)
        done = cli_in_process("import", str(old), "--profile", "work")
        assert done.returncode == 4, done.stderr
        assert "sign in instead with `ticktick-signon login --profile work`." in done.stderr


@pytest.mark.posix_only("SIGINT to a piped child: Windows sends Ctrl+C only through a console")
def test_the_sandbox_banner_logs_each_request_and_ctrl_c_stops_it_with_0() -> None:
    """The sandbox is a server one stops on purpose: "Sandbox stopped." and 0, as `python -m http.server`."""

    proc = subprocess.Popen(
        [sys.executable, "-m", "ticktick_signon", "sandbox", "--port", "0", "--client-id", "my-app"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        _banner_log_and_stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()


def _banner_log_and_stop(proc: subprocess.Popen[str]) -> None:
    import signal

    assert proc.stderr is not None
    banner = []
    for line in proc.stderr:
        banner.append(line)
        if "Ctrl-C stops it" in line:
            break
    text = "".join(banner)
    base = re.search(r"http://127\.0\.0\.1:\d+", text)
    assert base is not None, text
    assert "--auto-approve" in text and "POST /oauth/authorize/decision" in text
    import httpx

    httpx.get(f"{base.group(0)}/oauth/authorize", params={"client_id": "typo", "redirect_uri": "http://127.0.0.1:1/"})
    logged = proc.stderr.readline()
    assert "GET /oauth/authorize 400" in logged and "'typo'" in logged and "'my-app'" in logged
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(30) == 0
    assert rest.strip() == "Sandbox stopped."


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (15552000, "180 days left"),
        (15551999, "179 days left"),
        (86400, "1 day left"),
        (86399, "23 hours left"),
        (3599, "59 minutes left"),
        (59, "less than a minute left"),
        (0, "expired"),
    ],
)
def test_status_says_the_time_left_by_the_one_rule_of_every_client(seconds: int, words: str) -> None:
    """docs/protocol.md's rule, which the Neovim, Vim and Emacs suites hold their clients to, row for row."""
    from ticktick_signon.cli.status import time_left

    assert time_left(seconds) == words


def test_status_shows_the_time_left(config_dir: Path) -> None:
    store_token(config_dir, expires_at=int(time.time()) + 3 * 86400 + 60)
    assert re.search(r"\((2|3) days left\)", cli_in_process("status").stdout)
