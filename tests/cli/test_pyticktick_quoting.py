"""pyticktick's .env lines read back exactly, by python-dotenv (pyticktick's reader) and by a shell."""

from __future__ import annotations

import io
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import load_pyticktick
from ticktick_signon.imports.formats import read_token_text
from ticktick_signon.imports.pyticktick import env_lines, env_problems

TOKEN = "0b6e2a50-7c55-4f5f-9c1e-2f5b0c1d9a10"
LATER = int(time.time()) + 30 * 86400
SECRETS = [
    "plain-Secret_1.2",
    "p@ss'word",
    'it\'s "quoted"',
    "back\\slash",
    "two\\\\backslashes\\'",
    "dollar$HOME and `cmd`",
    "spaces and # hash",
    'mixed "double" only',
    "tab\tand\nnewline",
    "ünïcode ✓",
    "ends with backslash\\",
]
SECRET_NAME = "PYTICKTICK_V1_CLIENT_SECRET"


def _dotenv_reads(lines: list[str]) -> dict[str, str | None]:
    from dotenv import dotenv_values

    # As pyticktick's pydantic-settings reads a .env: interpolation on.
    return dict(dotenv_values(stream=io.StringIO("\n".join(lines) + "\n"), interpolate=True))


@pytest.mark.parametrize("secret", SECRETS)
def test_python_dotenv_reads_back_the_exact_secret(secret: str) -> None:
    lines = env_lines("my-app", secret, TOKEN, LATER)
    assert not env_problems({"clientSecret": secret})
    assert _dotenv_reads(lines)[SECRET_NAME] == secret


@pytest.mark.posix_only("a POSIX shell sources the file")
@pytest.mark.parametrize("secret", SECRETS)
def test_a_shell_reads_back_the_exact_secret(secret: str, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(env_lines("my-app", secret, TOKEN, LATER)) + "\n")
    done = subprocess.run(
        ["sh", "-c", f'set -a; . "$1"; printf %s "${SECRET_NAME}"', "sh", str(env_file)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/bin:/usr/bin")},
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == secret


@pytest.mark.parametrize("secret", ["pre${HOME}post", "a${X:-b}c", "it's $x"])
def test_a_secret_no_form_carries_is_warned_about_without_its_value(secret: str) -> None:
    [problem] = env_problems({"clientSecret": secret})
    assert problem.startswith("clientSecret holds") and secret not in problem
    if "{" not in secret:  # written for python-dotenv, pyticktick's reader
        assert _dotenv_reads(env_lines("my-app", secret, TOKEN, LATER))[SECRET_NAME] == secret


def test_pyticktick_itself_reads_a_secret_with_a_quote(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(env_lines("my-app", "p@ss'word", TOKEN, LATER)) + "\n")
    loaded = load_pyticktick(env_file)
    assert loaded.v1_client_secret == "p@ss'word" and loaded.v1_token.value == TOKEN


def test_a_dida365_profile_names_dida365_and_reads_back_as_dida365() -> None:
    """Without the base URL pyticktick sent a Dida365 token to api.ticktick.com."""
    lines = env_lines("my-app", "s", TOKEN, LATER, "dida365")
    assert "PYTICKTICK_V1_BASE_URL=https://api.dida365.com/open/v1/" in lines
    assert read_token_text("\n".join(lines) + "\n", "/home/ada/.env").region == "dida365"
    for region in (None, "ticktick"):
        assert not any(line.startswith("PYTICKTICK_V1_BASE_URL") for line in env_lines("a", "s", TOKEN, LATER, region))
