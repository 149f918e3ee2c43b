"""Helper processes an editor left behind: every editor must stop its helper when it exits."""

from __future__ import annotations

import time
from pathlib import Path


def helpers_left(config_dir: Path) -> list[str]:
    """Helper processes (serve) still running with this cache folder, as "pid: command line"."""
    marker = f"TICKTICK_SIGNON_CONFIG_DIR={config_dir}".encode()
    left = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if b"serve" in cmdline and marker in environ and state != "Z":
            left.append(f"{proc.name}: {b' '.join(cmdline).decode(errors='replace')}")
    return left


def assert_no_helper_left(config_dir: Path, editor: str) -> None:
    """Fail unless every helper of this cache folder is gone within 10 s (where /proc tells)."""
    if not Path("/proc/self/environ").exists():
        return
    deadline = time.monotonic() + 10
    while (left := helpers_left(config_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"the helper outlived {editor} (it must stop on VimLeavePre): {left}"
