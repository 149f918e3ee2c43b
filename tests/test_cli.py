"""The CLI through its real entry points: login (sandbox, paste, loopback, prompts), token, status, logout."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from ticktick_signon.records import Profile, Token
from ticktick_signon.sandbox import SandboxProvider
from ticktick_signon.token_store import TokenStore

from .portability import assert_owner_only
from .rpc import follow_authorize, free_port

#: The installed console script (ticktick-signon.exe on Windows), in a venv or not.
SCRIPT = Path(sysconfig.get_path("scripts")) / ("ticktick-signon.exe" if os.name == "nt" else "ticktick-signon")


def cli(*args: str, stdin: str | None = "", env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ticktick_signon", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=timeout,
    )


def store_token(config_dir: Path, value: str = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10", expires_at: int | None = None) -> None:
    expires = expires_at if expires_at is not None else int(time.time()) + 3600
    profile = Profile("my-id", "my-secret", "http://127.0.0.1:8080/", "ticktick", Token(value, "bearer", "tasks:read tasks:write", expires))
    TokenStore(config_dir).update(lambda c: (c.with_profile("default", profile), None))


class TestSandboxLogin:
    def test_login_sandbox_runs_the_whole_flow_unattended(self, config_dir: Path) -> None:
        done = cli("login", "--sandbox", stdin=None)
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""  # nothing secret on stdout unless asked
        assert "The token works" in done.stderr and "profile 'sandbox'" in done.stderr
        token = cli("token", "--profile", "sandbox")
        assert token.returncode == 0 and len(token.stdout.strip()) == 36
        assert token.stdout.strip() not in done.stderr
        status = json.loads(cli("status", "--profile", "sandbox", "--json").stdout)
        assert status["signedIn"] is True and status["clientId"] == "sandbox-client"
        assert cli("token").returncode == 3  # the default profile was not touched

    def test_debug_logs_hold_no_secret_code_or_token(self, config_dir: Path, tmp_path: Path) -> None:
        log_file = tmp_path / "cli.log"
        done = cli("--log-level", "debug", "--log-file", str(log_file), "login", "--sandbox", "--print")
        assert done.returncode == 0, done.stderr
        cache = json.loads((config_dir / "config.json").read_text())["profiles"]["sandbox"]
        logs = done.stderr + log_file.read_text()
        assert "Sign-on completed" in logs and "Token endpoint answered HTTP 200" in logs
        for secret in (cache["clientSecret"], cache["token"]["accessToken"], "code="):
            assert secret not in logs
        assert cache["token"]["accessToken"] in done.stdout  # only where --print asked for it

    def test_console_script_and_print(self, config_dir: Path) -> None:
        done = subprocess.run([str(SCRIPT), "login", "--sandbox", "--print"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith("Token: ") and lines[1].startswith("Expiration: ")
        assert lines[0].removeprefix("Token: ") == cli("token", "--profile", "sandbox").stdout.strip()

    def test_save_writes_a_private_env_file_that_pyticktick_loads(self, config_dir: Path, tmp_path: Path) -> None:
        env_file = tmp_path / "pyticktick.env"
        env_file.write_text("# mine\nPYTICKTICK_V1_BASE_URL=https://api.ticktick.com/open/v1/\nPYTICKTICK_V1_TOKEN='stale'\n")
        done = cli("login", "--sandbox", "--save", str(env_file))
        assert done.returncode == 0, done.stderr
        assert_owner_only(env_file, 0o600)
        text = env_file.read_text()
        assert text.startswith("# mine\nPYTICKTICK_V1_BASE_URL=") and "stale" not in text
        settings = load_pyticktick(env_file)
        assert str(settings.v1_token.value) == cli("token", "--profile", "sandbox").stdout.strip()
        assert settings.v1_client_id == "sandbox-client"


def load_pyticktick(env_file: Path):
    code = (
        "import json, sys, warnings; warnings.simplefilter('ignore');"
        "from pyticktick import Settings;"
        "s = Settings(_env_file=sys.argv[1]);"
        "print(json.dumps({'id': s.v1_client_id, 'secret': s.v1_client_secret.get_secret_value(),"
        " 'value': str(s.v1_token.value), 'expiration': s.v1_token.expiration}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTICKTICK_")}
    done = subprocess.run([sys.executable, "-c", code, str(env_file)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)

    class Loaded:
        v1_client_id = loaded["id"]
        v1_client_secret = loaded["secret"]

        class v1_token:  # noqa: N801 - mirrors pyticktick's attribute names
            value = loaded["value"]
            expiration = loaded["expiration"]

    return Loaded


class TestTokenCommand:
    def test_plain_and_json(self, config_dir: Path) -> None:
        store_token(config_dir)
        assert cli("token").stdout == "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10\n"
        result = json.loads(cli("token", "--format", "json").stdout)
        assert result["accessToken"] == "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10" and result["profile"] == "default"

    def test_pyticktick_env_is_loaded_by_pyticktick_as_is(self, config_dir: Path, tmp_path: Path) -> None:
        expires = int(time.time()) + 30 * 86400
        store_token(config_dir, expires_at=expires)
        out = cli("token", "--format", "pyticktick-env").stdout
        env_file = tmp_path / ".env"
        env_file.write_text(out)
        settings = load_pyticktick(env_file)
        assert (settings.v1_client_id, settings.v1_client_secret) == ("my-id", "my-secret")
        assert (settings.v1_token.value, settings.v1_token.expiration) == ("0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10", expires)

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
        done = cli("token", *args)
        assert done.returncode == code
        assert done.stdout == "" and done.stderr.strip()

    def test_token_path_imports_neither_pygls_nor_httpx(self, config_dir: Path) -> None:
        store_token(config_dir)
        code = (
            "import sys; from ticktick_signon.cli import main\n"
            "try:\n    main(['token'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pygls', 'httpx', 'http.server') if m in sys.modules), file=sys.stderr)"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"
        assert done.stderr.strip().splitlines()[-1] == "[]"


def test_unwritable_log_file_is_a_usage_error(tmp_path: Path) -> None:
    done = cli("--log-file", str(tmp_path / "missing" / "x.log"), "status")
    assert done.returncode == 2 and "--log-file" in done.stderr and "Traceback" not in done.stderr


def test_status_and_logout(config_dir: Path) -> None:
    assert "not signed in" in cli("status").stdout
    store_token(config_dir)
    text = cli("status").stdout
    assert "signed in" in text and "my-id" in text and "my-secret" not in text and "0b6e2a50" not in text
    assert cli("logout").returncode == 0
    assert cli("token").returncode == 3
    assert json.loads(cli("status", "--json").stdout)["clientId"] == "my-id"
    assert cli("logout", "--forget").returncode == 0
    assert json.loads(cli("status", "--json").stdout)["clientId"] is None


class _LoginProcess:
    """A running `login` whose stderr is read line by line, as a person would watch it."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ticktick_signon", "login", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.seen: list[str] = []

    def authorize_url(self) -> str:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.seen.append(line)
            if "/oauth/authorize?" in line:
                return line.strip()
        raise AssertionError("".join(self.seen))

    def finish(self, stdin: str = "") -> tuple[int, str, str]:
        out, err = self.proc.communicate(stdin, timeout=60)
        return self.proc.returncode, out, "".join(self.seen) + err


class TestRealLogin:
    """login against a sandbox given by TICKTICK_SIGNON_AUTH_URL, as with a real provider."""

    def env(self, auth_url: str) -> dict[str, str]:
        return {**os.environ, "PYTICKTICK_V1_CLIENT_ID": "sandbox-client", "PYTICKTICK_V1_CLIENT_SECRET": "sandbox-secret"}

    def test_pasted_redirect_when_the_port_is_busy(self, sandbox: SandboxProvider, auth_url: str) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            redirect = f"http://127.0.0.1:{taken.getsockname()[1]}/"
            login = _LoginProcess("--redirect-url", redirect, "--no-browser", env=self.env(auth_url))
            location = follow_authorize(login.authorize_url())
            code, out, err = login.finish("not a url\n" + location + "\n")
        assert code == 0, err
        assert "absolute http(s) URL" in err  # the bad paste was refused, then the good one taken
        assert "What is the URL you were redirected to?" in err
        assert "sandbox-secret" not in err + out

    def test_loopback_capture_needs_no_paste(self, sandbox: SandboxProvider, auth_url: str) -> None:
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        login = _LoginProcess("--redirect-url", redirect, "--no-browser", "--print", env=self.env(auth_url))
        page = httpx.get(follow_authorize(login.authorize_url()))
        assert page.status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        assert out.startswith("Token: ")

    def test_denied_login_exits_non_zero_and_keeps_the_old_token(self, sandbox: SandboxProvider, auth_url: str, config_dir: Path) -> None:
        store_token(config_dir)
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        # The saved profile's credentials beat the environment's, so name the sandbox app's.
        login = _LoginProcess(
            "--client-id", "sandbox-client", "--client-secret", "sandbox-secret", "--redirect-url", redirect, "--no-browser",
            env=self.env(auth_url),
        )
        httpx.get(follow_authorize(login.authorize_url(), "deny"))
        code, _, err = login.finish()
        assert code == 6 and "did not allow access" in err
        assert cli("token").stdout.strip() == "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"

    def test_secret_on_the_command_line_is_warned_about(self, sandbox: SandboxProvider, auth_url: str) -> None:
        env = {k: v for k, v in self.env(auth_url).items() if k != "PYTICKTICK_V1_CLIENT_SECRET"}
        login = _LoginProcess("--client-secret", "sandbox-secret", "--redirect-url", f"http://127.0.0.1:{free_port()}/", "--no-browser", env=env)
        httpx.get(follow_authorize(login.authorize_url()))
        code, _, err = login.finish()
        assert code == 0 and "visible to other users" in err

    def test_missing_credentials_without_a_terminal(self, auth_url: str) -> None:
        done = cli("login", "--no-browser", stdin="")
        assert done.returncode == 2 and "clientId and clientSecret" in done.stderr


@pytest.mark.posix_only("a pseudo-terminal (pexpect.spawn); the paste path without one is TestRealLogin's")
def test_interactive_login_prompts_and_hides_the_secret(sandbox: SandboxProvider, auth_url: str) -> None:
    import pexpect  # a declared test dependency: a missing one must fail, not skip
    redirect = f"http://127.0.0.1:{free_port()}/cb"
    child = pexpect.spawn(sys.executable, ["-m", "ticktick_signon", "login"], env=dict(os.environ), encoding="utf-8", timeout=30)
    child.logfile_read = transcript = io.StringIO()
    child.expect("Enter your client_id: ")
    child.sendline("sandbox-client")
    child.expect("Enter your client_secret: ")
    child.sendline("sandbox-secret")
    child.expect(r"Enter your OAuth redirect URL \[http://127.0.0.1:8080/\]: ")
    child.sendline(redirect)
    child.expect(r"(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)")
    url = child.match.group(1)
    child.expect(r"Open the browser to signon\? \[Y/n\]: ")
    child.sendline("n")
    child.expect("paste the URL")
    location = follow_authorize(url)
    child.sendline(location)  # paste, although the listener is also waiting
    child.expect(r"copied to the clipboard\? \[Y/n\]: ")
    child.sendline("n")
    child.expect(r"print the token and its expiration\? \[Y/n\]: ")
    child.sendline("n")
    child.expect("Enter the file path")
    child.sendline("")
    child.expect("Signed in")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "sandbox-client" in transcript.getvalue()  # typed input is echoed...
    assert "sandbox-secret" not in transcript.getvalue()  # ...but never the secret
