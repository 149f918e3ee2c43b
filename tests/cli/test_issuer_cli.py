"""Issue 18 §1 in the command line: every line names the profile's issuer, and `login --sandbox` asks first."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx

from tests.support.cli import store_token
from tests.support.cli_harness import Running, cli_in_process, make_world, run_cli
from tests.support.fake_browser import follow_authorize
from tests.support.ports import free_port
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.sandbox import SandboxProvider

REAL = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"


def ticktick_profile(config_dir: Path) -> None:
    store_token(config_dir, REAL, int(time.time()) + 30 * 86400, issuer="https://ticktick.com")


class TestSandboxOverAnotherProvider:
    def test_without_a_terminal_it_refuses_and_changes_nothing(self, config_dir: Path) -> None:
        ticktick_profile(config_dir)
        before = (config_dir / "config.json").read_bytes()
        done = cli_in_process("login", "--sandbox", "--profile", "default")
        assert done.returncode == 2, done.stderr
        assert "TickTick (https://ticktick.com)" in done.stderr and "--force" in done.stderr
        assert (config_dir / "config.json").read_bytes() == before

    def test_on_a_terminal_it_asks_and_no_keeps_the_real_sign_in(self, config_dir: Path) -> None:
        ticktick_profile(config_dir)
        world = make_world(terminal=True, answers=[""])
        done = run_cli("login", "--sandbox", "--profile", "default", world=world)
        assert done.returncode == 0, done.stderr
        assert [asked.question for asked in world.prompter.asked] == ["Replace them with the sandbox's? [y/N]: "]
        assert "belongs to TickTick" in done.stderr and "Kept the TickTick sign-in" in done.stderr
        saved = TokenStore(config_dir).read().profile("default")
        assert saved.token is not None and saved.token.access_token == REAL and saved.client_secret == "my-secret"

    def test_force_replaces_it_and_the_profile_becomes_the_sandboxs(self, config_dir: Path) -> None:
        ticktick_profile(config_dir)
        done = cli_in_process("login", "--sandbox", "--profile", "default", "--force")
        assert done.returncode == 0, done.stderr
        assert "Signed in to the sandbox (profile 'default')" in done.stderr
        saved = TokenStore(config_dir).read().profile("default")
        assert saved.sandbox and saved.client_secret != "my-secret"

    def test_its_own_profile_and_a_sandbox_profile_are_not_asked_about(self, config_dir: Path) -> None:
        assert cli_in_process("login", "--sandbox").returncode == 0
        again = cli_in_process("login", "--sandbox")  # over the sandbox's own profile: as before, no question
        assert again.returncode == 0, again.stderr


class TestWording:
    def test_status_and_verify_name_the_override(
        self, sandbox: SandboxProvider, auth_url: str, config_dir: Path
    ) -> None:
        store_token(config_dir, sandbox.issue_token())
        done = cli_in_process("status", "--verify")
        assert done.returncode == 0, done.stderr
        assert "signed in to the local sandbox (not TickTick)" in done.stdout
        assert f"Provider: the sandbox ({sandbox.base_url})" in done.stdout
        assert "The sandbox accepts the token" in done.stdout and "TickTick accepts" not in done.stdout
        as_json = json.loads(cli_in_process("status", "--json").stdout)
        assert as_json["issuer"] == {"kind": "custom", "url": sandbox.base_url, "local": True, "name": "the sandbox"}
        sandbox.api_status = 500
        done = cli_in_process("status", "--verify")
        assert done.returncode == 7 and "The sandbox's API answered HTTP 500" in done.stderr

    def test_verify_at_an_override_refuses_a_ticktick_profile_with_exit_11(
        self, sandbox: SandboxProvider, auth_url: str, config_dir: Path
    ) -> None:
        ticktick_profile(config_dir)
        done = cli_in_process("status", "--verify")
        assert done.returncode == 11, done.stderr
        assert "TickTick (https://ticktick.com)" in done.stderr and sandbox.base_url in done.stderr
        assert "Traceback" not in done.stderr and REAL not in done.stdout + done.stderr

    def test_import_under_the_override_says_the_sandbox(
        self, sandbox: SandboxProvider, auth_url: str, tmp_path: Path
    ) -> None:
        path = tmp_path / ".env"
        path.write_text(f"TICKTICK_ACCESS_TOKEN={sandbox.issue_token()}\n")
        done = cli_in_process("import", str(path))
        assert done.returncode == 0, done.stderr
        assert "signed in to the sandbox" in done.stderr and "The sandbox accepts it" in done.stderr
        assert "TickTick" not in done.stderr

    def test_the_login_prompt_points_at_the_override_not_developer_ticktick(self, auth_url: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTICKTICK_")}
        world = make_world(environ=env, terminal=True, answers=[])  # no answers: the first question aborts
        done = run_cli("login", "--no-browser", world=world)
        assert "developer.ticktick.com" not in done.stderr and auth_url in done.stderr
        dida = make_world(environ={k: v for k, v in env.items() if k != "TICKTICK_SIGNON_AUTH_URL"}, terminal=True)
        assert "developer.dida365.com/manage" in run_cli("login", "--region", "dida365", world=dida).stderr


class TestTheProvidersName:
    """The loopback page, the denial and a failed exchange name the provider the sign-in ran against."""

    def test_the_loopback_page_says_the_sandbox(self, auth_url: str) -> None:
        login = Running(
            "login", "--redirect-url", f"http://127.0.0.1:{free_port()}/cb", world=make_world(environ=creds())
        )
        page = httpx.get(follow_authorize(login.authorize_url()))
        assert page.status_code == 200 and "Signed in to the sandbox" in page.text and "TickTick" not in page.text
        assert login.finish().returncode == 0

    def test_a_denial_and_a_failed_exchange_say_the_sandbox(self, sandbox: SandboxProvider, auth_url: str) -> None:
        login = Running(
            "login", "--redirect-url", f"http://127.0.0.1:{free_port()}/cb", world=make_world(environ=creds())
        )
        httpx.get(follow_authorize(login.authorize_url(), "deny"))
        assert "The sandbox did not allow access" in login.finish().stderr
        sandbox.token_fault = "server-error-html"
        login = Running(
            "login", "--redirect-url", f"http://127.0.0.1:{free_port()}/cb", world=make_world(environ=creds())
        )
        httpx.get(follow_authorize(login.authorize_url()))
        done = login.finish()
        assert done.returncode == 7 and "The sandbox refused the token request (HTTP 500)" in done.stderr


def creds() -> dict[str, str]:
    return {**os.environ, "PYTICKTICK_V1_CLIENT_ID": "sandbox-client", "PYTICKTICK_V1_CLIENT_SECRET": "sandbox-secret"}
