"""Runs the Emacs client's ERT suite (editors/emacs/test) in `emacs --batch`, one test per Emacs.

Each ERT test talks to the real helper (this venv's ``python -m ticktick_signon serve``) and
the sandbox provider over loopback; the package is also byte-compiled with warnings as errors
and checked with checkdoc. Skips with a clear reason when ``emacs`` is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ticktick_signon.sandbox import SandboxProvider

EMACS = shutil.which("emacs")
ROOT = Path(__file__).resolve().parents[2]
EMACS_DIR = ROOT / "editors" / "emacs"
PACKAGE = EMACS_DIR / "ticktick-signon.el"
SUITE = EMACS_DIR / "test" / "ticktick-signon-test.el"
LINT = EMACS_DIR / "test" / "lint.el"



def emacs_major_version() -> int:
    if EMACS is None:
        return 0
    first_line = subprocess.run([EMACS, "--version"], capture_output=True, text=True, timeout=60).stdout.splitlines()
    match = re.search(r"(\d+)\.\d+", first_line[0] if first_line else "")
    return int(match.group(1)) if match else 0


pytestmark = [
    pytest.mark.skipif(
        EMACS is None, reason="emacs not found on PATH; install emacs-nox (Emacs 28+) to run the Emacs client suite"
    ),
    pytest.mark.skipif(
        EMACS is not None and emacs_major_version() < 28,
        reason="the emacs on PATH is older than 28; the Emacs client needs Emacs 28+ (its jsonrpc.el)",
    ),
]


def ert_test_names() -> list[str]:
    return re.findall(r"^\(ert-deftest\s+(\S+)", SUITE.read_text(encoding="utf-8"), flags=re.MULTILINE)


def run_emacs(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    assert EMACS is not None
    return subprocess.run(
        [EMACS, "--batch", "-Q", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def emacs_env(tmp_path: Path, sandbox: SandboxProvider) -> dict[str, str]:
    """The environment of one Emacs: private HOME and cache, the sandbox, this venv's Python."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        TICKTICK_SIGNON_AUTH_URL=sandbox.base_url,
        TICKTICK_SIGNON_TEST_PYTHON=sys.executable,
        NO_PROXY="*",
    )
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    return env


def test_the_suite_is_found() -> None:
    # A regex that silently matched nothing would turn the suite below into zero tests.
    assert len(ert_test_names()) >= 12


@pytest.mark.parametrize("name", ert_test_names())
def test_ert(name: str, emacs_env: dict[str, str]) -> None:
    result = run_emacs(
        ["-L", str(EMACS_DIR), "-l", str(SUITE), "--eval", f"(ert-run-tests-batch-and-exit '{name})"],
        emacs_env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Ran 1 tests, 1 results as expected" in output, output


def test_byte_compiles_without_warnings_and_passes_checkdoc(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path))
    for source, extra in ((PACKAGE, ["package"]), (SUITE, [])):
        result = run_emacs(["-L", str(EMACS_DIR), "-l", str(LINT), str(source), str(tmp_path), *extra], env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "ticktick-signon.elc").is_file()
    assert not list(EMACS_DIR.rglob("*.elc")), "byte-compiling must not write next to the sources"
