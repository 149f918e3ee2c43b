"""Importing other tools' tokens: the format readers (pure), importToken over stdio, and `ticktick-signon import`."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.support.cli_harness import cli_in_process, make_world, run_cli
from tests.support.rpc import HelperProcess
from tests.support.schema import assert_valid
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.records import Profile, Token
from ticktick_signon.errors import InvalidParams
from ticktick_signon.imports.formats import FoundToken, read_pyticktick_settings, read_token_text
from ticktick_signon.sandbox import SandboxProvider

TOKEN = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"
OTHER = "7d1f3b2a-9e8c-4d6b-a5f4-3c2b1a0f9e8d"
SECRET = "app-secret-that-must-not-leak"
LATER = int(time.time()) + 30 * 86400


def pyticktick_split(token: str = TOKEN, expiration: Any = LATER) -> str:
    """The four lines pyticktick's generate_v1_token.py writes (its documented form)."""
    return (
        f"PYTICKTICK_V1_CLIENT_ID=my-app\nPYTICKTICK_V1_CLIENT_SECRET={SECRET}\n"
        f"PYTICKTICK_V1_TOKEN_VALUE={token}\nPYTICKTICK_V1_TOKEN_EXPIRATION={expiration}\n"
    )


def pyticktick_json(token: str = TOKEN, expiration: int = LATER) -> str:
    value = json.dumps({"value": token, "expiration": expiration})
    return f"PYTICKTICK_V1_CLIENT_ID=my-app\nPYTICKTICK_V1_CLIENT_SECRET='{SECRET}'\nPYTICKTICK_V1_TOKEN='{value}'\n"


def ticktick_py(token: str = TOKEN, expire_time: int = LATER) -> str:
    return json.dumps(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": 15551999,
            "scope": "tasks:read tasks:write",
            "expire_time": expire_time,
            "readable_expire_time": _readable(expire_time),
        }
    )


def _readable(when: int) -> str:
    try:
        return time.asctime(time.localtime(when))
    except (OverflowError, OSError, ValueError):  # past Windows' localtime (year 3000), as some cases are
        return "far in the future"


def ticktick_mcp(token: str = TOKEN, base: str = "") -> str:
    text = f"TICKTICK_CLIENT_ID=mcp-app\nTICKTICK_CLIENT_SECRET={SECRET}\nTICKTICK_ACCESS_TOKEN={token}\n"
    return text + (f"TICKTICK_BASE_URL={base}\n" if base else "")


# -- the readers: pure --------------------------------------------------------------------------


class TestFormats:
    def test_pyticktick_either_form(self) -> None:
        expected = FoundToken("pyticktick", TOKEN, LATER, "my-app", SECRET)
        assert read_token_text(pyticktick_split(), "a.env") == expected
        assert read_token_text(pyticktick_json(), "a.env") == expected
        exported = "export pyticktick_v1_token_value='%s'\nexport PYTICKTICK_V1_TOKEN_EXPIRATION=%d\n" % (TOKEN, LATER)
        assert read_token_text(exported, "a.env") == FoundToken("pyticktick", TOKEN, LATER)

    def test_pyticktick_split_lines_win_over_the_json_form_as_in_pyticktick(self) -> None:
        both = pyticktick_json(OTHER, LATER + 5) + pyticktick_split()
        assert read_token_text(both, "a.env").access_token == TOKEN
        assert read_token_text(both, "a.env").expires_at == LATER

    def test_pyticktick_region_redirect_and_environment(self) -> None:
        text = pyticktick_split() + "PYTICKTICK_V1_BASE_URL=https://api.dida365.com/open/v1/\n"
        text += "PYTICKTICK_V1_OAUTH_REDIRECT_URL=http://127.0.0.1:9000/\n"
        found = read_token_text(text, "a.env", "pyticktick")
        assert (found.region, found.redirect_url) == ("dida365", "http://127.0.0.1:9000/")
        environ = {"PYTICKTICK_V1_TOKEN_VALUE": TOKEN, "PYTICKTICK_V1_TOKEN_EXPIRATION": str(LATER), "HOME": "/x"}
        assert read_pyticktick_settings(environ, "the environment") == FoundToken("pyticktick", TOKEN, LATER)

    def test_ticktick_py_json_or_python_literal(self) -> None:
        assert read_token_text(ticktick_py(), ".token-oauth") == FoundToken("ticktick-py", TOKEN, LATER)
        literal = repr({"access_token": TOKEN, "expire_time": LATER})
        assert read_token_text(literal, ".token-oauth", "ticktick-py") == FoundToken("ticktick-py", TOKEN, LATER)

    def test_ticktick_mcp_has_no_expiry(self) -> None:
        found = read_token_text(ticktick_mcp(base="https://api.dida365.com/open/v1"), ".env")
        redirect = "http://localhost:8000/callback"
        assert found == FoundToken("ticktick-mcp", TOKEN, None, "mcp-app", SECRET, redirect, "dida365")

    @pytest.mark.parametrize(
        ("text", "fmt", "problem"),
        [
            ("HELLO=world\n", "auto", "holds no token ticktick-signon knows"),
            ("", "auto", "holds no token ticktick-signon knows"),
            (pyticktick_split(expiration="next-week"), "auto", "PYTICKTICK_V1_TOKEN_EXPIRATION that is no time"),
            (pyticktick_split(expiration=""), "auto", "has no PYTICKTICK_V1_TOKEN_EXPIRATION"),
            (f"PYTICKTICK_V1_TOKEN_VALUE={TOKEN}\n", "auto", "has no PYTICKTICK_V1_TOKEN_EXPIRATION"),
            (f"PYTICKTICK_V1_TOKEN_EXPIRATION={LATER}\n", "auto", "has no PYTICKTICK_V1_TOKEN_VALUE"),
            ('PYTICKTICK_V1_TOKEN=\'{"value": "%s", \' \n' % SECRET, "auto", "PYTICKTICK_V1_TOKEN that is not JSON"),
            ("PYTICKTICK_V1_TOKEN='[1]'\n", "auto", "not a JSON object"),
            (pyticktick_split(token="has space\u0007" + SECRET), "auto", "no token"),
            ('{"access_token": "%s", "expires_in": 3600}' % TOKEN, "auto", "has no expire_time"),
            ('{"access_token": "%s"' % SECRET, "auto", "is not JSON (line 1, column"),
            ('{"expire_time": %d}' % LATER, "auto", "has no access_token"),
            ('{"access_token": 12, "expire_time": %d}' % LATER, "auto", "access_token that is no token"),
            (ticktick_py(expire_time=10**12), "auto", "expire_time that is no time"),
            ("TICKTICK_CLIENT_ID=x\n", "ticktick-mcp", "has no TICKTICK_ACCESS_TOKEN"),
            (ticktick_py(), "pyticktick", "holds no PYTICKTICK_V1_TOKEN_VALUE"),
            # str.isdigit() is true for these, int() is not; a digit string past int()'s limit
            (pyticktick_split(expiration="\u00b2"), "auto", "PYTICKTICK_V1_TOKEN_EXPIRATION that is no time"),
            (pyticktick_split(expiration="\u2460"), "auto", "PYTICKTICK_V1_TOKEN_EXPIRATION that is no time"),
            (pyticktick_split(expiration="9" * 5000), "auto", "PYTICKTICK_V1_TOKEN_EXPIRATION that is no time"),
            ('{"expire_time": "\u00b2", "access_token": "%s"}' % TOKEN, "auto", "expire_time that is no time"),
            # JSON nested past the parser's stack, as a ticktick-py file and inside PYTICKTICK_V1_TOKEN
            ('{"a": ' + "[" * 20_000 + "]" * 20_000 + "}", "auto", "is nested too deeply"),
            ('{"a": ' + "[" * 20_000, "auto", "is nested too deeply"),
            ("PYTICKTICK_V1_TOKEN='" + "[" * 20_000 + "]" * 20_000 + "'\n", "auto", "nested too deeply"),
        ],
    )
    def test_malformed_files_are_named_and_never_echoed(self, text: str, fmt: str, problem: str) -> None:
        with pytest.raises(InvalidParams) as caught:
            read_token_text(text, "/home/ada/.env", fmt)
        message = caught.value.message
        assert message.startswith("Cannot import from /home/ada/.env: it ") and problem in message, message
        assert caught.value.data == {"kind": "invalidParams", "field": "path"}
        for secret in (SECRET, TOKEN, "has space"):
            assert secret not in message

    def test_broken_lines_are_counted_in_one_log_line(self, caplog: pytest.LogCaptureFixture) -> None:
        """10,000 broken lines, 50 KiB, once gave 10,000 python-dotenv warnings (1 MiB of log)."""
        text = "not a line\n" * 5_000 + pyticktick_split() + "=nor this\n" * 5_000
        with caplog.at_level(logging.DEBUG):
            found = read_token_text(text, "/home/ada/.env")
        assert found.access_token == TOKEN
        [record] = caplog.records
        assert record.getMessage() == "Skipped 10000 line(s) of /home/ada/.env that are not NAME=value"


# -- importToken over stdio --------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def call(helper: HelperProcess, **params: Any) -> dict[str, Any]:
    reply = helper.call("importToken", params)
    assert_valid(None, reply)
    return reply


def test_import_each_format_then_get_the_token(helper: HelperProcess, tmp_path: Path, sandbox: SandboxProvider) -> None:
    helper.request("getStatus")
    result = call(helper, path=str(write(tmp_path, "py.env", pyticktick_split())), profile="py")["result"]
    assert result == {
        "profile": "py",
        "format": "pyticktick",
        "expiresAt": LATER,
        "expiresIn": result["expiresIn"],
        "expiresAtEstimated": False,
        "clientId": "my-app",
    }
    assert helper.request("getToken", {"profile": "py"})["accessToken"] == TOKEN
    status = helper.request("getStatus", {"profile": "py"})
    assert status["signedIn"] and not status["expiresAtEstimated"] and status["clientId"] == "my-app"
    assert helper.notification("tokenChanged", timeout=10) == {"profile": "py", "signedIn": True, "expiresAt": LATER}

    result = call(helper, path=str(write(tmp_path, ".token-oauth", ticktick_py(OTHER))), profile="tpy")["result"]
    assert (result["format"], result["clientId"]) == ("ticktick-py", None)
    assert helper.request("getToken", {"profile": "tpy"})["accessToken"] == OTHER

    # ticktick-mcp: no expiry, so TickTick is asked first; the expiry is an estimate.
    issued = sandbox.issue_token()
    before = int(time.time())
    result = call(helper, path=str(write(tmp_path, "mcp.env", ticktick_mcp(issued))), profile="mcp")["result"]
    assert result["expiresAtEstimated"] is True and result["format"] == "ticktick-mcp"
    assert before + 15_552_000 <= result["expiresAt"] <= int(time.time()) + 15_552_000
    status = helper.request("getStatus", {"profile": "mcp"})
    assert status["expiresAtEstimated"] is True and status["clientId"] == "mcp-app"
    # Its saved credentials start the next sign-in with no questions, on ticktick-mcp's redirect URL.
    started = helper.request("startSignon", {"profile": "mcp", "listen": False})
    assert started["redirectUrl"] == "http://localhost:8000/callback"
    # Importing the same token again keeps its estimate.
    again = call(helper, path=str(tmp_path / "mcp.env"), profile="mcp", force=False)["result"]
    assert again["expiresAt"] == result["expiresAt"]
    out = helper.stdout_bytes().decode()
    assert SECRET not in out and out.count(TOKEN) == 1 and issued not in out  # TOKEN: getToken's reply only


def test_a_rejected_or_unverifiable_token_without_expiry_is_not_imported(
    helper: HelperProcess, tmp_path: Path, sandbox: SandboxProvider
) -> None:
    path = str(write(tmp_path, "mcp.env", ticktick_mcp(OTHER)))  # a token the provider does not know
    error = call(helper, path=path)["error"]
    assert error["code"] == -32602 and error["data"]["field"] == "path" and "The sandbox refused" in error["message"]
    sandbox.api_status = 503
    assert call(helper, path=path)["error"]["data"] == {"kind": "providerError", "status": 503}
    assert helper.request("getStatus")["signedIn"] is False


def test_expired_malformed_and_missing_files(helper: HelperProcess, tmp_path: Path) -> None:
    expired = call(helper, path=str(write(tmp_path, "old.env", pyticktick_split(expiration=int(time.time()) - 60))))
    assert expired["error"]["code"] == -32002 and expired["error"]["data"]["expiresAt"] < time.time()
    broken = call(helper, path=str(write(tmp_path, "broken.env", pyticktick_split(expiration="soon"))))["error"]
    assert broken["code"] == -32602 and str(tmp_path / "broken.env") in broken["message"]
    assert SECRET not in json.dumps(broken) and TOKEN not in json.dumps(broken)
    missing = call(helper, path=str(tmp_path / "nothing.env"))["error"]
    assert missing["data"]["field"] == "path" and "cannot be read" in missing["message"]
    folder = call(helper, path=str(tmp_path))["error"]
    assert folder["data"]["field"] == "path"
    assert call(helper, path="relative/.env")["error"]["data"]["field"] == "path"
    assert call(helper, path=str(tmp_path / "x"), format="yaml")["error"]["data"]["allowed"] == [
        "auto",
        "pyticktick",
        "ticktick-py",
        "ticktick-mcp",
    ]
    assert helper.request("getStatus")["signedIn"] is False


def test_a_valid_token_is_replaced_only_with_force(helper: HelperProcess, tmp_path: Path, config_dir: Path) -> None:
    token = Token(OTHER, "bearer", "tasks:read tasks:write", LATER)
    TokenStore(config_dir).update(lambda c: (c.with_profile("default", Profile("old-app", "old", token=token)), None))
    path = str(write(tmp_path, "py.env", pyticktick_split()))
    error = call(helper, path=path)["error"]
    assert error["code"] == -32602 and error["data"]["field"] == "force"
    assert helper.request("getToken")["accessToken"] == OTHER
    assert call(helper, path=path, force=True)["result"]["clientId"] == "my-app"
    assert helper.request("getToken")["accessToken"] == TOKEN


# -- the CLI -------------------------------------------------------------------------------------------


def test_cli_import_status_and_force(tmp_path: Path, sandbox: SandboxProvider, auth_url: str) -> None:
    done = cli_in_process("import", str(write(tmp_path, "py.env", pyticktick_split())))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "Imported the pyticktick token into profile 'default'" in done.stderr
    assert cli_in_process("token").stdout.strip() == TOKEN
    # Over a valid token, without a terminal: refused, naming --force.
    done = cli_in_process("import", str(write(tmp_path, ".token-oauth", ticktick_py(OTHER))))
    assert done.returncode == 2 and "--force" in done.stderr and cli_in_process("token").stdout.strip() == TOKEN
    assert cli_in_process("import", str(tmp_path / ".token-oauth"), "--force").returncode == 0
    assert cli_in_process("token").stdout.strip() == OTHER
    # ticktick-mcp: verified, then an estimated expiry, shown by status.
    issued = sandbox.issue_token()
    done = cli_in_process("import", str(write(tmp_path, "mcp.env", ticktick_mcp(issued))), "--profile", "mcp")
    assert done.returncode == 0 and "estimate" in done.stderr
    status = cli_in_process("status", "--profile", "mcp")
    assert "estimated" in status.stdout
    assert json.loads(cli_in_process("status", "--profile", "mcp", "--json").stdout)["expiresAtEstimated"] is True
    for output in (done.stdout, done.stderr, status.stdout, status.stderr):
        assert issued not in output and SECRET not in output


def test_cli_import_from_the_environment(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        PYTICKTICK_V1_TOKEN=json.dumps({"value": TOKEN, "expiration": LATER}),
        PYTICKTICK_V1_CLIENT_ID="env-app",
        PYTICKTICK_V1_CLIENT_SECRET=SECRET,
    )
    done = cli_in_process("import", "--from-env", "--profile", "envp", environ=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(cli_in_process("status", "--profile", "envp", "--json").stdout)["clientId"] == "env-app"
    done = cli_in_process("import", "--from-env")
    assert done.returncode == 2 and "Cannot import from the environment" in done.stderr
    assert cli_in_process("import").returncode == 2 and cli_in_process("import", "x.env", "--from-env").returncode == 2


def test_cli_import_errors(tmp_path: Path) -> None:
    expired = cli_in_process(
        "import", str(write(tmp_path, "old.env", pyticktick_split(expiration=int(time.time()) - 60)))
    )
    assert expired.returncode == 4 and "has expired" in expired.stderr
    broken = cli_in_process("import", str(write(tmp_path, "broken.env", "PYTICKTICK_V1_TOKEN='{not json'\n")))
    assert broken.returncode == 2 and "broken.env" in broken.stderr and "Traceback" not in broken.stderr
    for name, text in (  # once a traceback and exit 1
        ("super.env", pyticktick_split(expiration="\u00b2")),
        ("deep.token-oauth", '{"a": ' + "[" * 20_000 + "]" * 20_000 + "}"),
    ):
        done = cli_in_process("import", str(write(tmp_path, name, text)))
        assert done.returncode == 2 and name in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_cli_import_over_a_valid_token_asks_at_a_terminal(tmp_path: Path, config_dir: Path) -> None:
    token = Token(OTHER, "bearer", "tasks:read tasks:write", LATER)
    TokenStore(config_dir).update(lambda c: (c.with_profile("default", Profile(token=token)), None))
    path = str(write(tmp_path, "py.env", pyticktick_split()))
    for answer, expected in (("n", OTHER), ("y", TOKEN)):
        world = make_world(terminal=True, answers=[answer])
        done = run_cli("import", path, world=world)
        assert "already has a valid token" in done.stderr
        assert [a.question for a in world.prompter.asked] == ["Replace it? [y/N]: "]
        assert done.returncode == (0 if answer == "y" else 1)
        assert ("Nothing was imported." in done.stderr) == (answer == "n")
        assert cli_in_process("token").stdout.strip() == expected


@pytest.mark.posix_only("a pseudo-terminal (pexpect.spawn)")
def test_the_real_terminal_asks_before_replacing_and_no_keeps_the_token(tmp_path: Path, config_dir: Path) -> None:
    """click's own confirm on a real terminal: the question, its [y/N], and No as exit 1 with the token kept."""
    token = Token(OTHER, "bearer", "tasks:read tasks:write", LATER)
    TokenStore(config_dir).update(lambda c: (c.with_profile("default", Profile(token=token)), None))
    path = str(write(tmp_path, "py.env", pyticktick_split()))
    child = pexpect.spawn(
        sys.executable, ["-m", "ticktick_signon", "import", path], env=dict(os.environ), encoding="utf-8", timeout=30
    )
    child.expect("already has a valid token")
    child.expect(r"Replace it\? \[y/N\]")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert cli_in_process("token").stdout.strip() == OTHER


def test_the_disk_edge_refuses_big_binary_and_unreadable_files(tmp_path: Path) -> None:
    from ticktick_signon.imports.files import read_token_file

    big = tmp_path / "big.env"
    big.write_bytes(b"A=" + b"x" * 70_000)
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"PYTICKTICK_V1_TOKEN_VALUE=\xff\xfe" + SECRET.encode())
    bom = tmp_path / "bom.env"
    bom.write_bytes(b"\xef\xbb\xbf" + pyticktick_split().encode())
    assert read_token_file(bom) == pyticktick_split()  # Windows editors write a byte-order mark
    for path, problem in (
        (big, "too big"),
        (binary, "not UTF-8"),
        (tmp_path, "is a folder"),
        (tmp_path / "no", "cannot"),
    ):
        with pytest.raises(InvalidParams) as caught:
            read_token_file(path)
        assert caught.value.message.startswith(f"Cannot import from {path}: it ") and problem in caught.value.message
        assert SECRET not in caught.value.message
