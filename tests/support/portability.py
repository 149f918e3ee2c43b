"""Test-side platform tools: planting symlinks and junctions, and owner-only checks that mean something on each OS."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from ticktick_signon.cache.link_guard import is_link

WINDOWS = os.name == "nt"


def plant_symlink(link: Path, target: Path) -> None:
    """Make ``link`` a symlink to ``target``, or skip where this user may not create one.

    Windows lets only Developer Mode or an elevated prompt create symlinks; such a run
    still proves link refusal through ``plant_junction``.
    """
    try:
        link.symlink_to(target, target_is_directory=target.is_dir())
    except OSError as exc:
        if getattr(exc, "winerror", None) == 1314:  # ERROR_PRIVILEGE_NOT_HELD
            pytest.skip("creating a symlink needs Developer Mode or an elevated prompt on Windows")
        raise
    assert link.is_symlink(), f"symlink_to reported success, yet {link} is no symlink"


def plant_junction(link: Path, target: Path) -> None:
    """Make ``link`` a Windows junction to the folder ``target``, as ``mklink /J`` does (no privilege needed)."""
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["cmd", "/c", "mklink", "/J", str(link), str(target)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and is_link(os.lstat(link)), f"mklink /J failed: {done.stdout}{done.stderr}"


def assert_owner_only(path: Path, mode: int) -> None:
    """On POSIX, ``path`` has exactly ``mode``; everywhere, it is a plain file or folder, not a link.

    Windows has no mode bits: there the cache is private through the ACL of the
    profile folder it lives in (docs/security.md), which a temp folder does not share.
    """
    info = os.lstat(path)
    assert not is_link(info), f"{path} is a link"
    if not WINDOWS:
        assert oct(stat.S_IMODE(info.st_mode)) == oct(mode), path
