"""Export to pyticktick: the documented lines, and `login --save` over a .env in each older form, read by pyticktick.

The defect this guards: merging the JSON ``PYTICKTICK_V1_TOKEN`` line into a file
that holds ``PYTICKTICK_V1_TOKEN_VALUE``/``_EXPIRATION`` left pyticktick loading the old token, because
those lines win.
"""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from tests.support.cli import cli, load_pyticktick
from tests.support.cli_harness import cli_in_process
from ticktick_signon.imports.pyticktick import env_lines, merge_env

OLD = "11111111-2222-4333-8444-555555555555"
OLD_EXPIRES = int(time.time()) + 20 * 86400


def load_in_pyticktick(env_file: Path) -> dict[str, object]:
    """What pyticktick 0.3's own ``Settings(_env_file=...)`` makes of the file (a clean environment)."""
    loaded = load_pyticktick(env_file)
    return {
        "id": loaded.v1_client_id,
        "secret": loaded.v1_client_secret,
        "value": loaded.v1_token.value,
        "expiration": loaded.v1_token.expiration,
    }


OLD_JSON = json.dumps({"value": OLD, "expiration": OLD_EXPIRES})
OLD_APP = "PYTICKTICK_V1_CLIENT_ID=old-app\nPYTICKTICK_V1_CLIENT_SECRET=old-secret\n"
OLDER_FORMS = {
    # What pyticktick's generate_v1_token.py writes, and its documentation shows.
    "split lines": f"{OLD_APP}PYTICKTICK_V1_TOKEN_VALUE={OLD}\nPYTICKTICK_V1_TOKEN_EXPIRATION={OLD_EXPIRES}\n",
    # What ticktick-signon wrote before.
    "json": f"{OLD_APP}PYTICKTICK_V1_TOKEN='{OLD_JSON}'\n",
    # Both, as a merge by the old ticktick-signon left the file: the split lines win in pyticktick.
    "both": f"{OLD_APP}PYTICKTICK_V1_TOKEN='{OLD_JSON}'\n"
    f"PYTICKTICK_V1_TOKEN_VALUE={OLD}\nPYTICKTICK_V1_TOKEN_EXPIRATION={OLD_EXPIRES}\n",
    # Names in another case, `export`, and the JSON over two lines: pyticktick reads all of it.
    "lower case, export, multi-line": "export pyticktick_v1_client_id=old-app\npyticktick_v1_client_secret=old-secret\n"
    f"export pyticktick_v1_token_value={OLD}\n"
    f'pyticktick_v1_token=\'{{"value": "{OLD}",\n "expiration": {OLD_EXPIRES}}}\'\n'
    f"Pyticktick_V1_Token_Expiration={OLD_EXPIRES}\n",
}


@pytest.mark.parametrize("form", list(OLDER_FORMS))
def test_login_save_over_an_older_file_makes_pyticktick_load_the_new_token(
    form: str, tmp_path: Path, config_dir: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# my settings\nPYTICKTICK_V1_BASE_URL=https://api.ticktick.com/open/v1/\n" + OLDER_FORMS[form])
    assert load_in_pyticktick(env_file)["value"] == OLD  # the file really is in a form pyticktick loads
    done = cli_in_process("login", "--sandbox", "--save", str(env_file))
    assert done.returncode == 0, done.stderr
    new = json.loads(cli_in_process("token", "--profile", "sandbox", "--format", "json").stdout)
    loaded = load_in_pyticktick(env_file)
    assert (loaded["value"], loaded["expiration"]) == (new["accessToken"], new["expiresAt"])
    assert loaded["id"] == "sandbox-client"
    text = env_file.read_text()
    assert text.startswith("# my settings\nPYTICKTICK_V1_BASE_URL=https://api.ticktick.com/open/v1/\n")
    assert OLD not in text and "old-app" not in text and "old-secret" not in text
    assert f"PYTICKTICK_V1_TOKEN_VALUE={new['accessToken']}\n" in text
    assert f"PYTICKTICK_V1_TOKEN_EXPIRATION={new['expiresAt']}\n" in text
    assert "PYTICKTICK_V1_TOKEN=" not in text.upper().replace("PYTICKTICK_V1_TOKEN_", "")


def test_token_format_pyticktick_env_writes_the_documented_lines(tmp_path: Path, config_dir: Path) -> None:
    assert cli_in_process("login", "--sandbox").returncode == 0
    new = json.loads(cli_in_process("token", "--profile", "sandbox", "--format", "json").stdout)
    fast = cli("token", "--profile", "sandbox", "--format", "pyticktick-env").stdout  # entry.py's fast path
    # A repeated option is beyond the fast path: click's `token` command answers it.
    slow = cli_in_process(
        "token", "--profile=sandbox", "--format", "pyticktick-env", "--min-valid", "0", "--min-valid", "0"
    )
    assert fast.splitlines()[-2:] == [
        f"PYTICKTICK_V1_TOKEN_VALUE={new['accessToken']}",
        f"PYTICKTICK_V1_TOKEN_EXPIRATION={new['expiresAt']}",
    ]
    env_file = tmp_path / ".env"
    env_file.write_text(fast)
    loaded = load_in_pyticktick(env_file)
    assert (loaded["value"], loaded["expiration"], loaded["id"]) == (
        new["accessToken"],
        new["expiresAt"],
        "sandbox-client",
    )
    assert (slow.returncode, slow.stdout) == (0, fast)


# -- merge_env: pure -------------------------------------------------------------------------------------


def test_merge_replaces_every_token_key_and_only_the_credentials_it_sets() -> None:
    existing = (
        "# keep me\nPYTICKTICK_V1_CLIENT_ID=mine\nPYTICKTICK_V1_CLIENT_SECRET='s'\n"
        'PYTICKTICK_V1_TOKEN_VALUE=old\nexport pyticktick_v1_token=\'{"value":\n "old"}\'\n'
        "OTHER=1\nnot an assignment\n\n\n"
    )
    merged = merge_env(existing, env_lines(None, None, "new-token", 1800000000))
    assert merged == (
        "# keep me\nPYTICKTICK_V1_CLIENT_ID=mine\nPYTICKTICK_V1_CLIENT_SECRET='s'\nOTHER=1\nnot an assignment\n"
        "PYTICKTICK_V1_TOKEN_VALUE=new-token\nPYTICKTICK_V1_TOKEN_EXPIRATION=1800000000\n"
    )
    merged = merge_env(existing, env_lines("id 2", "p@ss'word", "new-token", 1800000000))
    # a quote inside the secret, written so python-dotenv reads it too (shlex's '"'"' it cannot)
    assert "mine" not in merged and 'PYTICKTICK_V1_CLIENT_SECRET="p@ss\'word"\n' in merged
    assert merge_env("", ["A=1"]) == "A=1\n"


def test_login_save_refuses_an_env_file_too_large_to_be_one_and_leaves_it(tmp_path: Path, config_dir: Path) -> None:
    from ticktick_signon.cache.reader import MAX_PRIVATE_FILE_BYTES

    env_file = tmp_path / ".env"
    env_file.write_bytes(b"# " + b"x" * MAX_PRIVATE_FILE_BYTES + b"\n")
    done = cli("login", "--sandbox", "--save", str(env_file))
    assert done.returncode == 10, done.stderr  # the save failed; the sign-in itself worked
    assert f"Could not save the token to {env_file} (it is larger than 4 MiB)" in done.stderr
    assert "Traceback" not in done.stderr
    assert env_file.stat().st_size == MAX_PRIVATE_FILE_BYTES + 3
    assert cli("token", "--profile", "sandbox").returncode == 0


def _save_fails_and_leaves_it(env_file: Path, reason: str) -> None:
    before = (env_file.read_bytes(), stat.S_IMODE(env_file.stat().st_mode)) if env_file.is_file() else None
    done = cli("login", "--sandbox", "--save", str(env_file), timeout=60)
    assert done.returncode == 10, done.stderr  # the save failed; the sign-in itself worked
    assert f"Could not save the token to {env_file} ({reason}" in done.stderr and "Traceback" not in done.stderr
    if before is not None:
        assert (env_file.read_bytes(), stat.S_IMODE(env_file.stat().st_mode)) == before
    assert cli("token", "--profile", "sandbox").returncode == 0


def test_login_save_into_an_env_file_that_is_not_utf8_exits_10_and_leaves_it(tmp_path: Path, config_dir: Path) -> None:
    """Once a UnicodeDecodeError traceback after a successful sign-in."""
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"# caf\xe9 in Latin-1\nOTHER=1\n")
    env_file.chmod(0o600)
    _save_fails_and_leaves_it(env_file, "it is not UTF-8 text")


@pytest.mark.posix_only("FIFOs do not exist on Windows")
def test_login_save_into_a_fifo_exits_10_at_once(tmp_path: Path, config_dir: Path) -> None:
    """The reader must not open it blocking (the writer would refuse it anyway)."""
    import os

    fifo = tmp_path / ".env"
    os.mkfifo(fifo)
    _save_fails_and_leaves_it(fifo, "it is not a regular file")


@pytest.mark.parametrize("mode", [0o400, 0o444])
def test_login_save_into_a_read_only_env_file_exits_10_with_file_and_mode_unchanged(
    tmp_path: Path, config_dir: Path, mode: int
) -> None:
    """A 0400 .env was replaced silently and left 0600 and writable."""
    env_file = tmp_path / ".env"
    env_file.write_text("MINE=1\n")
    env_file.chmod(mode)
    _save_fails_and_leaves_it(env_file, "it is read-only")


ODD_LINES = [
    "# a comment\n",
    "\n",
    "export OTHER_EXPORTED=1\n",
    "SPACED = value with spaces\n",
    "TABBED\t=\ttabbed\n",
    "INLINE=value # a comment after it\n",
    "HASH='#not a comment'\n",
    'DOUBLE="line one\nline two"\n',
    "SINGLE='it''s'\n",
    "BARE_KEY\n",
    "UNICODE=ünïcødé ✓\n",
    "EMPTY=\n",
    "CRLF=windows\r\n",
    "not an assignment at all\n",
]


def test_the_merge_keeps_every_other_line_in_14_odd_forms_byte_for_byte() -> None:
    """Issue 18 section 3, an attack that held: a merge touches only pyticktick's token and app lines."""
    existing = "".join(ODD_LINES[:7]) + "PYTICKTICK_V1_TOKEN_VALUE=old\n" + "".join(ODD_LINES[7:])
    merged = merge_env(existing, env_lines("id", "s", "new-token", 1800000000))
    for line in ODD_LINES:
        assert line.rstrip("\n") in merged, line
    assert "old" not in merged and merged.endswith("PYTICKTICK_V1_TOKEN_EXPIRATION=1800000000\n")
    assert merged.index("# a comment") < merged.index("not an assignment") < merged.index("PYTICKTICK_V1_CLIENT_ID")
