"""The VS Code extension's suites (editors/vscode), run through its npm scripts: one pytest test per step of `npm test`.

The extension's own tests talk to the real helper (this interpreter's ``-m ticktick_signon serve``,
passed as TICKTICK_SIGNON_HELPER_COMMAND, and the copy bundled into the .vsix, which this interpreter's
pip installs at package time) and the sandbox provider over loopback. Skipped, with the
reason, when Node.js >= 20 and npm are missing or `npm ci` has not been run in editors/vscode; the
end-to-end suite (code-server + Chromium) is skipped only when its toolchain is absent
(editors/vscode/e2e/install.sh installs it; .ci/run always does, and sets TICKTICK_VSCODE_E2E_REQUIRED=1
so that a missing piece fails instead of skipping there).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ticktick_signon

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
E2E = EXTENSION / "e2e"
VSIX = EXTENSION / "dist" / "ticktick-signon.vsix"
LOCK = EXTENSION / "bundled" / "requirements.txt"
#: Issue 10: one .vsix for every platform, helper included, under this size.
VSIX_MAX_BYTES = 4 * 1024 * 1024
# `npm test`, step by step; checked against package.json so the two cannot drift apart.
NPM_TEST_STEPS = ("build", "package", "test:client", "test:commands", "test:e2e")

pytestmark = pytest.mark.editor


def _toolchain() -> tuple[str | None, str]:
    """The npm binary, or None and why the suite is skipped."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return None, "node/npm not found on PATH: install Node.js >= 20 with npm to run the VS Code extension's suites"
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{node} --version failed ({error}); the VS Code suites need Node.js >= 20"
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match[1]) < 20:
        return None, f"node is {version or 'unknown'}; the VS Code extension's suites need Node.js >= 20"
    if not (EXTENSION / "node_modules" / ".bin" / "tsc").exists():
        return (
            None,
            "editors/vscode/node_modules is missing: run `npm ci` in editors/vscode (.ci/run does) to run these suites",
        )
    return npm, ""


NPM, SKIP_REASON = _toolchain()
# .ci/run sets this after installing everything: there, a missing piece is a failure, not a skip.
REQUIRED = os.environ.get("TICKTICK_VSCODE_E2E_REQUIRED") == "1"


def _skip_or_fail(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"TICKTICK_VSCODE_E2E_REQUIRED=1 but {reason}")
    pytest.skip(reason)


def _e2e_missing() -> str:
    """Why the end-to-end suite cannot run here, or '' when its toolchain is present."""
    needed = {
        "Node 24 (e2e/node24)": E2E / "node24" / "node_modules" / ".bin" / "node",
        "code-server": E2E / "node_modules" / ".bin" / "code-server",
        "playwright-core": E2E / "node_modules" / "playwright-core" / "package.json",
    }
    absent = [name for name, path in needed.items() if not path.exists()]
    if absent:
        return (
            f"the VS Code end-to-end toolchain is not installed ({', '.join(absent)}):"
            " run editors/vscode/e2e/install.sh"
        )
    chromium = os.environ.get("TICKTICK_E2E_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return f"Chromium not found at {chromium}: apt-get install chromium (or set TICKTICK_E2E_CHROMIUM)"
    return ""


def _npm_run(script: str, timeout: float) -> str:
    assert NPM is not None
    env = dict(os.environ)  # tests/conftest.py already scrubbed credentials and set a private cache folder
    env["TICKTICK_SIGNON_HELPER_COMMAND"] = f'"{sys.executable}" -m ticktick_signon serve'
    env["TICKTICK_E2E_INSTALL"] = "0"  # never install from inside pytest; .ci/run installs the toolchain
    env["TICKTICK_BUNDLE_PYTHON"] = sys.executable  # its pip fills bundled/libs from the hashed lock
    try:
        done = subprocess.run(
            [NPM, "run", script], cwd=EXTENSION, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:
        out = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        pytest.fail(f"npm run {script} did not finish within {timeout}s:\n{out[-8000:]}")
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"npm run {script} failed (exit {done.returncode}):\n{output[-12000:]}")
    return output


@pytest.fixture(scope="module")
def built() -> None:
    """Compile (tsc), bundle (esbuild) and package (vsce) once for the module."""
    if NPM is None:
        _skip_or_fail(SKIP_REASON)
    _npm_run("build", timeout=240)
    _npm_run("package", timeout=240)


def _node_test_totals(output: str) -> tuple[int, int]:
    """(pass, fail) from node's test runner summary."""
    # Newer node prints its summary after an INFORMATION SOURCE sign, older ones after "#".
    passed = re.search(r"^# pass (\d+)", output, re.M) or re.search(r"^ℹ pass (\d+)", output, re.M)  # noqa: RUF001
    failed = re.search(r"^# fail (\d+)", output, re.M) or re.search(r"^ℹ fail (\d+)", output, re.M)  # noqa: RUF001
    assert passed and failed, f"no test summary in the output:\n{output[-4000:]}"
    return int(passed[1]), int(failed[1])


def test_npm_test_is_these_steps() -> None:
    if NPM is None:
        _skip_or_fail(SKIP_REASON)
    scripts = json.loads((EXTENSION / "package.json").read_text())["scripts"]
    assert scripts["test"] == " && ".join(f"npm run {step}" for step in NPM_TEST_STEPS)


def test_lock_pins_every_dependency_with_hashes() -> None:
    """bundled/requirements.txt (`npm run lock`) covers pyproject's dependencies, each pinned with hashes."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    try:
        import tomllib
    except ImportError:  # Python 3.10
        pytest.skip("tomllib needs Python 3.11")
    pinned: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", LOCK.read_text()):
        line = block.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line.split("\\")[0].strip())
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{requirement} is not pinned"
        assert "--hash=sha256:" in block, f"{requirement.name} has no hash"
        pinned[canonicalize_name(requirement.name)] = spec.version
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is in pyproject.toml but not in {LOCK}: run `npm run lock` in editors/vscode"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{name}=={pinned[name]} in the lock does not satisfy pyproject's {requirement}: run `npm run lock`"
        )


def test_vsix_is_built(built: None) -> None:
    assert VSIX.stat().st_size < VSIX_MAX_BYTES, f"the .vsix is {VSIX.stat().st_size:,} bytes"
    with zipfile.ZipFile(VSIX) as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
        bundle = json.loads(vsix.read("extension/bundled/bundle.json"))
    assert {"extension/package.json", "extension/dist/extension.js", "extension/readme.md"} <= names
    assert not any("node_modules" in name or name.endswith((".ts", ".map")) for name in names), sorted(names)
    assert manifest["main"] == "./dist/extension.js"
    assert manifest["contributes"]["authentication"] == [{"id": "ticktick", "label": "TickTick"}]
    # The helper inside: the bootstrap, the package as in this checkout, its pure-Python dependencies.
    assert "extension/bundled/tool/bootstrap.py" in names
    package = ROOT / "server" / "ticktick_signon"
    for module in package.glob("*.py"):
        assert f"extension/bundled/libs/ticktick_signon/{module.name}" in names, module.name
    assert bundle["helperVersion"] == ticktick_signon.__version__
    assert {"pygls", "httpx", "platformdirs", "filelock"} <= set(bundle["packages"])
    assert not any(
        ".dist-info/" in n or "/bin/" in n or "__pycache__" in n or n.endswith((".pyc", ".so", ".pyd")) for n in names
    )
    assert any(n.startswith("extension/bundled/licenses/httpx/") for n in names), "the dependencies' licenses ship"
    assert {c["command"] for c in manifest["contributes"]["commands"]} == {
        "ticktick.signIn",
        "ticktick.pasteRedirectUrl",
        "ticktick.copyToken",
        "ticktick.showStatus",
        "ticktick.signOut",
    }


@pytest.mark.timeout(600)
def test_helper_client_suite(built: None) -> None:
    """Suite 1: the helper client against the real helper and sandbox."""
    passed, failed = _node_test_totals(_npm_run("test:client", timeout=540))
    assert failed == 0 and passed >= 20


@pytest.mark.timeout(600)
def test_command_layer_suite(built: None) -> None:
    """Suite 2: the commands with `vscode` replaced by a fake, over the real helper."""
    passed, failed = _node_test_totals(_npm_run("test:commands", timeout=540))
    assert failed == 0 and passed >= 60


@pytest.mark.timeout(900)
def test_end_to_end_in_code_server(built: None) -> None:
    """Suite 3: the packaged extension in a real VS Code (code-server) driven through Chromium."""
    missing = _e2e_missing()
    if missing:
        _skip_or_fail(missing)
    output = _npm_run("test:e2e", timeout=840)
    passed, failed = _node_test_totals(output)
    assert failed == 0 and passed >= 1
    assert (ROOT / "test-artifacts" / "vscode-signed-in.png").stat().st_size > 10_000
    assert (ROOT / "test-artifacts" / "vscode-accounts-menu.png").stat().st_size > 10_000
