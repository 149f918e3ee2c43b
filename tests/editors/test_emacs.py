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
from collections.abc import Iterator
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


def run_emacs(
    args: list[str], env: dict[str, str], timeout: float = 240, site: bool = False
) -> subprocess.CompletedProcess[str]:
    """``emacs --batch -Q ARGS``; with ``site``, keep the site-wide set-up (site-lisp, Debian's elpa) a user has."""
    assert EMACS is not None
    return subprocess.run(
        [EMACS, "--batch", *([] if site else ["-Q"]), *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def emacs_env(tmp_path: Path, sandbox: SandboxProvider) -> Iterator[dict[str, str]]:
    """The environment of one Emacs: private HOME and cache, the sandbox (and one whose tokens live
    3 seconds), this venv's Python."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    with SandboxProvider(expires_in=3) as short_lived:
        env.update(
            HOME=str(home),
            TICKTICK_SIGNON_AUTH_URL=sandbox.base_url,
            TICKTICK_SIGNON_TEST_SHORT_AUTH_URL=short_lived.base_url,
            TICKTICK_SIGNON_TEST_PYTHON=sys.executable,
            TICKTICK_SIGNON_TEST_BROWSER=str(ROOT / "tests" / "support" / "fake_browser.py"),
            NO_PROXY="*",
        )
        for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(proxy, None)
        yield env


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


# -- Installing the package the ways its README says, from a copy of the whole repository --------------

README = EMACS_DIR / "README.md"
INSTALL_CHECK = EMACS_DIR / "test" / "install-check.el"
STRAIGHT_STAND_IN = EMACS_DIR / "test" / "straight-stand-in.el"


def _recipe(name: str) -> str:
    """The code block that follows ``<!-- recipe: NAME -->`` in editors/emacs/README.md."""
    match = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```elisp\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert match, f"editors/emacs/README.md has no recipe block for {name}"
    return match.group(1)


def _has_use_package() -> bool:
    if EMACS is None:
        return False
    probe = subprocess.run(
        [EMACS, "--batch", "--eval", "(progn (package-activate-all) (require 'use-package))"],
        capture_output=True,
        timeout=60,
    )
    return probe.returncode == 0


USE_PACKAGE = _has_use_package()
NO_USE_PACKAGE = "use-package is not installed for this Emacs (Emacs 28: apt-get install elpa-use-package)"

#: Each way to install: the recipes the user's init holds, whether the functions must be autoloads
#: (not yet loaded) at start-up, and where the package must load from (relative to HOME).
ROUTES = {
    "load-path": (["load-path"], False, "src/ticktick-signon/editors/emacs"),
    "use-package-load-path": (["use-package-load-path"], False, "src/ticktick-signon/editors/emacs"),
    "package-install-file": (["use-package"], True, ".emacs.d/elpa/ticktick-signon-"),
    "straight": (["straight", "use-package"], True, ".emacs.d/straight/build/ticktick-signon"),
    "package-vc": (["use-package"], True, ".emacs.d/elpa/ticktick-signon"),
}


def _git_clone_of(copy: Path, where: Path) -> str:
    """A real Git repository of ``copy`` for package-vc to clone, as a file:// URL."""
    shutil.copytree(copy, where, symlinks=True)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(where)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    return where.as_uri()


@pytest.mark.parametrize("route", list(ROUTES))
def test_install_route(route: str, repo_copy: Path, tmp_path: Path, config_dir: Path) -> None:
    """A fresh Emacs whose init installs the package one README way: every public function is callable
    before first use (an autoload where a package manager installed it) and then reaches the helper."""
    recipes, expect_autoload, where = ROUTES[route]
    if any(name.startswith("use-package") for name in recipes) and not USE_PACKAGE:
        pytest.skip(NO_USE_PACKAGE)
    if route == "package-vc" and emacs_major_version() < 29:
        pytest.skip("package-vc-install needs Emacs 29+; this Emacs is older")
    home = tmp_path / "home"
    (home / ".emacs.d").mkdir(parents=True)
    (home / "src").mkdir()
    (home / "src" / "ticktick-signon").symlink_to(repo_copy, target_is_directory=True)  # the user's clone
    env = dict(os.environ, HOME=str(home), TICKTICK_SIGNON_TEST_PYTHON=sys.executable)

    setup = ["(package-activate-all)"]  # what Emacs does before init.el at start-up
    if route == "package-install-file":
        installed = run_emacs(
            ["--eval", f"(progn (package-activate-all) {_recipe('package-install-file')})"], env, site=True
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
    if route == "straight":
        (home / ".emacs.d" / "straight" / "repos").mkdir(parents=True)
        (home / ".emacs.d" / "straight" / "repos" / "ticktick-signon").symlink_to(repo_copy)  # its clone step
        setup.append(f'(load "{STRAIGHT_STAND_IN}" nil t)')
    if route == "package-vc":
        url = _git_clone_of(repo_copy, tmp_path / "remote")
        recipe = _recipe("package-vc").replace("https://example.invalid/OWNER/ticktick-signon.git", url)
        installed = run_emacs(["--eval", f"(progn (package-activate-all) {recipe})"], env, site=True)
        assert installed.returncode == 0, installed.stdout + installed.stderr
    init = home / ".emacs.d" / "init.el"
    init.write_text("\n".join([*setup, *(_recipe(name) for name in recipes if name != "package-install-file")]))
    env.update(
        TTS_SOURCE=str(PACKAGE),
        TTS_EXPECT_AUTOLOAD="1" if expect_autoload else "0",
        TTS_EXPECT_DIR=str(home / where),
    )
    result = run_emacs(["-l", str(init), "-l", str(INSTALL_CHECK)], env, site=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "install-check: ok (9 functions)" in output, output
