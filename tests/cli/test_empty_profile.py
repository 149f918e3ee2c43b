"""`--profile ""` in the CLI (issue 12 item 12): refused with exit 2, never taken for 'default'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli, store_token


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
    """A script with an unset variable ran `logout --forget --profile "$P"` and wiped the default profile."""
    store_token(config_dir)
    before = (config_dir / "config.json").read_bytes()
    done = cli(*command, "--profile", "", stdin=None)
    assert done.returncode == 2, done.stderr
    assert "--profile" in done.stderr and "is empty" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert (config_dir / "config.json").read_bytes() == before
    assert json.loads(before)["profiles"]["default"]["clientSecret"] == "my-secret"
