"""scripts/check, the one command for every check: it runs each, names the ones that failed, and CI runs it.

The tools themselves are stood in for by a fake interpreter (``$PYTHON``), so these tests prove the
script's contract, not ruff's or mypy's verdict on the tree (CI runs the real ones).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = next(folder for folder in Path(__file__).resolve().parents if (folder / "pyproject.toml").is_file())

pytestmark = pytest.mark.posix_only("scripts/check is a bash script; Windows runs it from Git Bash, not from pytest")


def fake_python(folder: Path, failing: tuple[str, ...] = ()) -> Path:
    """An interpreter whose ``-m ruff``/``-m mypy`` succeed, except for the modules in ``failing``."""
    cases = "".join(f'    {module}) echo "{module} says no" >&2; exit 1 ;;\n' for module in failing)
    script = folder / "python"
    script.write_text(f'#!/bin/sh\n# -m MODULE ...\ncase "$2" in\n{cases}esac\necho "$2 ran: $*"\n')
    script.chmod(0o755)
    return script


def check(tree: Path, python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": str(python)}
    return subprocess.run(
        ["bash", str(tree / "scripts" / "check"), *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tree holding only scripts/check, which works from the folder above its own."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "check", tmp_path / "scripts" / "check")
    return tmp_path


def test_every_check_runs_and_a_clean_tree_passes(tree: Path) -> None:
    done = check(tree, fake_python(tree))
    assert done.returncode == 0, done.stderr
    ran = re.findall(r"^(ruff|mypy) ran: (.*)$", done.stdout, re.M)
    # (each tool's `--version` probe is silent)
    assert [" ".join(args.split()[1:]) for _, args in ran] == ["ruff check .", "ruff format --check .", "mypy"]
    assert "no scripts/check-editors here; skipped" in done.stdout
    assert "all passed" in done.stdout


def test_a_failing_check_fails_the_command_by_name_and_the_others_still_run(tree: Path) -> None:
    done = check(tree, fake_python(tree, failing=("ruff",)))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "scripts/check: FAILED: ruff-check ruff-format"
    assert "mypy ran: -m mypy" in done.stdout  # the checks after the failed ones ran too
    assert "ruff is not installed" in done.stderr  # `ruff --version` failed: the fix is named


def test_the_editor_checks_run_when_present_and_their_failure_counts(tree: Path) -> None:
    editors = tree / "scripts" / "check-editors"
    editors.write_text("#!/bin/sh\necho 'eslint: 1 problem'\nexit 3\n")
    editors.chmod(0o755)
    done = check(tree, fake_python(tree))
    assert done.returncode == 1 and "eslint: 1 problem" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "scripts/check: FAILED: editors"
    editors.chmod(0o644)  # there but not executable: a mistake to report, not a check to skip
    done = check(tree, fake_python(tree), "editors")
    assert done.returncode == 1 and "not executable" in done.stderr


def test_only_the_checks_named_run_and_an_unknown_name_is_refused(tree: Path) -> None:
    done = check(tree, fake_python(tree, failing=("mypy",)), "ruff-format")
    assert done.returncode == 0 and "mypy" not in done.stdout
    unknown = check(tree, fake_python(tree), "pylint")
    assert unknown.returncode == 2 and "no check named 'pylint'" in unknown.stderr


def test_ci_runs_the_checks_and_then_the_readme_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (test_command,) = {line.strip() for line in readme.splitlines() if line.strip().endswith("python -m pytest")}
    ci_run = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert ci_run[-1] == test_command
    assert "scripts/check || check_status=$?" in ci_run  # a failure is kept and fails the run at the end
    assert any("[lint]" in line or ",lint]" in line for line in ci_run)  # the pinned tools are installed
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s+run: scripts/check$", workflow, re.M)


def test_the_lint_extra_pins_exact_versions() -> None:
    # Another ruff formats differently and another mypy finds other errors: the check must mean one thing.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # (tomllib is Python 3.11+)
    block = re.search(r"^lint = \[\n(.*?)^\]", pyproject, re.M | re.S)
    assert block, "pyproject.toml has no `lint` extra"
    pins = re.findall(r'^\s+"([^"]+)",', block[1], re.M)
    assert sorted(pin.split("==")[0] for pin in pins) == ["mypy", "ruff"]
    assert all(re.fullmatch(r"[a-z]+==\d+(\.\d+)+", pin) for pin in pins), pins
