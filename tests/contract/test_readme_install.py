"""The README's Install section: recipes that work on a distribution's own Python, and pipx or uv, not both."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALL = (ROOT / "README.md").read_text(encoding="utf-8").split("## Install")[1].split("\n## ")[0]


def test_the_build_never_pip_installs_into_the_system_python() -> None:
    """`python3 -m pip install build` fails with externally-managed-environment on Debian and Ubuntu."""
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", INSTALL, re.S))
    assert "pipx run build" in blocks and "uv build" in blocks
    assert "pip install" not in blocks, blocks
    words = " ".join(INSTALL.split())
    assert "python3 -m venv /tmp/build-venv && /tmp/build-venv/bin/pip install build" in words
    # The bare form is named once, as what fails.
    assert words.count("python3 -m pip install build") == 1
    assert "`python3 -m pip install build` fails on Debian's and Ubuntu's own Python" in words


def test_pipx_and_uv_are_one_or_the_other_with_how_to_switch() -> None:
    words = " ".join(INSTALL.split())
    assert "one or the other" in words and "Executable already exists" in words
    assert "pipx uninstall ticktick-signon && uv tool install" in words
    assert "uv tool uninstall ticktick-signon && pipx install" in words


def test_dist_is_ignored_by_git() -> None:
    assert "dist/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
