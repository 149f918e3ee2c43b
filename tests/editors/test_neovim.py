"""The Neovim client's suite (editors/neovim/tests), one pytest test per Lua case.

Each case runs in its own headless Neovim with private XDG folders and cache, talking
to the real helper (this interpreter's ``-m ticktick_signon serve``) and the sandbox
provider started here over loopback. Skipped, with the reason, when nvim >= 0.7 is absent;
TICKTICK_TEST_NVIM picks another nvim binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helper_processes import assert_no_helper_left

from ticktick_signon.sandbox import SandboxProvider

ROOT = Path(__file__).resolve().parents[2]
#: The Python suite's shared stand-ins (the fake browser, ports), run as programs by the editor's tests.
SUPPORT = ROOT / "tests" / "support"
PLUGIN_DIR = ROOT / "editors" / "neovim"
TESTS_DIR = PLUGIN_DIR / "tests"
MIN_VERSION = (0, 7)
CASE_TIMEOUT = 150

pytestmark = pytest.mark.editor

# Runs the Lua runner; if the runner itself cannot load, say why and quit instead of idling forever.
_BOOT = (
    "lua local ok, err = pcall(dofile, vim.env.TTS_TESTS_DIR .. '/runner.lua') "
    "if not ok then io.stderr:write('runner failed: ' .. tostring(err) .. '\\n') vim.cmd('cquit 2') end"
)


def _find_nvim() -> tuple[str | None, str]:
    """The nvim binary to test with, or None and why the suite is skipped."""
    nvim = os.environ.get("TICKTICK_TEST_NVIM") or shutil.which("nvim")
    if not nvim:
        return None, "nvim not found on PATH: install Neovim >= 0.7 (Debian: apt-get install neovim) to run this suite"
    try:
        banner = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{nvim} --version failed ({error}); the Neovim suite needs a working nvim >= 0.7"
    match = re.search(r"NVIM v(\d+)\.(\d+)", banner)
    if not match:
        return None, f"{nvim} does not look like Neovim; the suite needs nvim >= 0.7"
    if (int(match[1]), int(match[2])) < MIN_VERSION:
        return None, f"{nvim} is {match[0]}; the Neovim plugin and its suite need 0.7 or later"
    return nvim, ""


NVIM, SKIP_REASON = _find_nvim()


def _nvim_env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of one test Neovim: private home and XDG folders, no clipboard or display."""
    env = dict(os.environ)  # tests/conftest.py already scrubbed credentials and set the cache folder
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "NVIM", "NVIM_LISTEN_ADDRESS", "VIMINIT", "MYVIMRC"):
        env.pop(name, None)
    folders = {
        "HOME": "home",
        "XDG_CONFIG_HOME": "xdg/config",
        "XDG_DATA_HOME": "xdg/data",
        "XDG_STATE_HOME": "xdg/state",
        "XDG_CACHE_HOME": "xdg/cache",
        "XDG_RUNTIME_DIR": "xdg/run",
    }
    for name, sub in folders.items():
        path = tmp / sub
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[name] = str(path)
    env.update(
        TTS_PYTHON=sys.executable,
        TTS_TMP=str(tmp),
        TTS_TESTS_DIR=str(TESTS_DIR),
        TTS_PLUGIN_DIR=str(PLUGIN_DIR),
        TTS_FAKE_BROWSER=str(SUPPORT / "fake_browser.py"),
        TTS_RESULT=str(tmp / "result.json"),
        NO_PROXY="*",
    )
    env.update(extra)
    return env


def _run_nvim(tmp: Path, extra: dict[str, str]) -> tuple[dict | None, subprocess.CompletedProcess[str] | str]:
    """Run the Lua runner once; return its JSON verdict (None if it wrote none) and the process."""
    assert NVIM is not None
    tmp.mkdir(parents=True, exist_ok=True)
    env = _nvim_env(tmp, extra)
    cmd = [NVIM, "--headless", "-u", str(TESTS_DIR / "minimal_init.lua"), "-i", "NONE", "-n", "-c", _BOOT]
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CASE_TIMEOUT
        )
    except subprocess.TimeoutExpired as expired:
        out = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        return None, f"nvim did not finish within {CASE_TIMEOUT}s; its output:\n{out}"
    result_file = Path(env["TTS_RESULT"])
    result = json.loads(result_file.read_text()) if result_file.exists() else None
    return result, proc


def _explain(result: dict | None, proc: subprocess.CompletedProcess[str] | str, tmp: Path) -> str:
    """Everything useful to read when a case fails: its error, notifications, Neovim's and the helper's output."""
    parts = []
    if result is not None:
        parts.append(f"error:\n{result.get('error')}")
        levels = {0: "TRACE", 1: "DEBUG", 2: "INFO", 3: "WARN", 4: "ERROR"}
        notes = "\n".join(
            f"  [{levels.get(n['level'], n['level'])}] {n['msg']}" for n in result.get("notifications", [])
        )
        parts.append(f"notifications:\n{notes or '  (none)'}")
        if result.get("prompts"):
            parts.append(f"prompts: {result['prompts']}")
        parts.append(f":messages:\n{result.get('messages', '').strip()}")
    else:
        parts.append("the runner wrote no verdict")
    if isinstance(proc, str):
        parts.append(proc)
    else:
        parts.append(
            f"nvim exit status {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
    for log in sorted(tmp.glob("xdg/**/lsp.log")):  # the helper's stderr, as vim.lsp.rpc records it
        parts.append(f"{log.relative_to(tmp)} (helper stderr):\n{log.read_text(errors='replace')[-4000:]}")
    return "\n\n".join(parts)


def _list_cases() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nvim-list-") as tmp:
        result, proc = _run_nvim(Path(tmp), {"TTS_MODE": "list"})
        if result is None:
            raise RuntimeError("could not list the Neovim test cases:\n" + _explain(result, proc, Path(tmp)))
        return result["cases"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "nvim_case" not in metafunc.fixturenames:
        return
    if NVIM is None:
        metafunc.parametrize(
            "nvim_case", [pytest.param(None, marks=pytest.mark.skip(reason=SKIP_REASON))], ids=["nvim"]
        )
        return
    cases = _list_cases()
    ids = [re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:80] for name in cases]
    metafunc.parametrize("nvim_case", cases, ids=ids)


def test_neovim_case(nvim_case: str, auth_url: str, config_dir: Path, tmp_path: Path) -> None:
    """One Lua case in a fresh headless Neovim, against the helper and the sandbox at ``auth_url``.

    A second sandbox, whose tokens live 3 seconds, is there for the cases about expiry.
    """
    with SandboxProvider(expires_in=3) as short_lived:
        extra = {"TTS_CASE": nvim_case, "TTS_SHORT_TOKEN_AUTH_URL": short_lived.base_url}
        result, proc = _run_nvim(tmp_path / "nvim", extra)
    if result is None or not result.get("ok"):
        pytest.fail(f"Neovim case {nvim_case!r} failed\n\n" + _explain(result, proc, tmp_path / "nvim"), pytrace=False)
    assert_no_helper_left(config_dir, "Neovim")


# The harness's own cases (editors/neovim/tests/selftest): each but the first must be reported as failed.
SELFTEST = {
    "passes": None,
    "a failed assertion fails": "the sum: expected 3, got 2",
    "a wait that times out fails": "timed out waiting for something that never happens",
    "an error inside a callback fails": "boom from a callback",
    "a secret in a notification fails": "the client secret appeared in notification 1",
    "a token in :messages fails": "the access token appeared in messages",
}


@pytest.mark.skipif(NVIM is None, reason=SKIP_REASON)
@pytest.mark.parametrize("name", list(SELFTEST), ids=lambda name: re.sub(r"[^A-Za-z0-9]+", "-", name))
def test_harness_reports_failures(name: str, tmp_path: Path) -> None:
    """The Lua harness fails a case for each way a case can go wrong, and passes the one that is right."""
    extra = {"TTS_CASE": name, "TTS_SPEC_DIR": str(TESTS_DIR / "selftest")}
    result, proc = _run_nvim(tmp_path, extra)
    assert result is not None, _explain(result, proc, tmp_path)
    expected = SELFTEST[name]
    if expected is None:
        assert result["ok"], _explain(result, proc, tmp_path)
    else:
        assert not result["ok"], f"the harness passed a case that must fail:\n{_explain(result, proc, tmp_path)}"
        assert expected in result["error"], result["error"]


def test_every_selftest_case_is_checked(tmp_path: Path) -> None:
    """The selftest cases and the table above name the same cases."""
    if NVIM is None:
        pytest.skip(SKIP_REASON)
    result, proc = _run_nvim(tmp_path, {"TTS_MODE": "list", "TTS_SPEC_DIR": str(TESTS_DIR / "selftest")})
    assert result is not None, _explain(result, proc, tmp_path)
    assert result["cases"] == list(SELFTEST)


# -- Installing the plugin the way plugin managers do, from a copy of the whole repository -------------

MANAGERS_DIR = TESTS_DIR / "managers"
README = PLUGIN_DIR / "README.md"


def _recipe_block(name: str) -> str:
    """The code block that follows ``<!-- recipe: NAME -->`` in editors/neovim/README.md."""
    match = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```\w+\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert match, f"editors/neovim/README.md has no recipe block for {name}"
    return match.group(1)


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=True)


def _install(manager: str, clone: Path, env: dict[str, str], bare: bool = False) -> str:
    """Lay out a private Neovim as ``manager`` leaves it after installing the README's recipe.

    ``bare`` drops the recipe's ``runtime plugin/ticktick_signon.lua`` line. Returns the command the
    recipe says to run once after installing (run by check.lua).
    """

    def _recipe(name: str) -> str:
        text = _recipe_block(name)
        return "".join(line for line in text.splitlines(True) if not (bare and "runtime plugin/" in line))

    config = Path(env["XDG_CONFIG_HOME"]) / "nvim"
    data = Path(env.get("XDG_DATA_HOME") or Path(env["HOME"]) / ".local" / "share") / "nvim"
    config.mkdir(parents=True, exist_ok=True)
    if manager == "lazy":
        lazy = data / "lazy" / "lazy.nvim"
        (lazy / "lua" / "lazy").mkdir(parents=True)
        shutil.copy(MANAGERS_DIR / "lazy.lua", lazy / "lua" / "lazy" / "init.lua")
        _link(clone, data / "lazy" / "ticktick-signon")
        (config / "init.lua").write_text(
            f'vim.opt.rtp:prepend("{lazy}")\nrequire("lazy").setup({{\n{_recipe("lazy")}}})\n'
        )
        return "helptags ALL"
    if manager == "packer":
        packer = data / "site" / "pack" / "packer" / "start" / "packer.nvim" / "lua"
        packer.mkdir(parents=True)
        shutil.copy(MANAGERS_DIR / "packer.lua", packer / "packer.lua")
        _link(clone, data / "site" / "pack" / "packer" / "start" / "ticktick-signon")
        (config / "init.lua").write_text(f'require("packer").startup(function(use)\n{_recipe("packer")}end)\n')
        (config / "plugin").mkdir()
        (config / "plugin" / "packer_compiled.lua").write_text('require("packer").compiled()\n')
        return "helptags ALL"
    if manager == "vim-plug":
        (data / "site" / "autoload").mkdir(parents=True)
        shutil.copy(MANAGERS_DIR / "plug.vim", data / "site" / "autoload" / "plug.vim")
        _link(clone, data / "plugged" / "ticktick-signon")
        (config / "init.vim").write_text(f"call plug#begin()\n{_recipe('vim-plug')}call plug#end()\n")
        return "PlugInstall"
    assert manager == "pack"
    # The recipe's own shell lines, with the clone where its first line puts it (~/src/ticktick-signon).
    home = Path(env["HOME"])
    _link(clone, home / "src" / "ticktick-signon")
    lines = [line for line in _recipe("pack").splitlines() if not line.startswith("git clone")]
    subprocess.run(["sh", "-euc", "\n".join(lines)], env=env, check=True)
    return "helptags ALL"


def _start_installed(manager: str, repo_copy: Path, tmp_path: Path, bare: bool = False) -> tuple[dict, str, Path]:
    """Install with ``manager``'s recipe, start Neovim, run check.lua; its report, how to explain it, the helper."""
    env = _nvim_env(tmp_path, {"TTS_RESULT": str(tmp_path / "result.json")})
    if manager == "pack":
        del env["XDG_DATA_HOME"]  # the recipe's paths are the default ~/.local/share/nvim
    home = Path(env["HOME"])
    helper = home / ".local" / "bin" / "ticktick-signon"  # where pipx and uv put it
    helper.parent.mkdir(parents=True)
    helper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m ticktick_signon "$@"\n')
    helper.chmod(0o700)
    env["PATH"] = "/usr/bin:/bin"  # as for an editor started from a desktop menu: no ~/.local/bin
    env["TTS_AFTER_INSTALL"] = _install(manager, repo_copy, env, bare)
    check = MANAGERS_DIR / "check.lua"
    proc = subprocess.run(
        [NVIM, "--headless", "-i", "NONE", "-n", "-c", f"luafile {check}"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CASE_TIMEOUT,
    )
    result_file = tmp_path / "result.json"
    assert result_file.exists(), f"no report from Neovim\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    report = json.loads(result_file.read_text())
    return report, f"{json.dumps(report, indent=1)}\nstderr:\n{proc.stderr[-3000:]}", helper


@pytest.mark.skipif(NVIM is None, reason=SKIP_REASON)
@pytest.mark.parametrize("manager", ["lazy", "packer", "vim-plug", "pack"])
def test_install_recipe(manager: str, repo_copy: Path, tmp_path: Path, config_dir: Path) -> None:
    """The README's recipe for ``manager``: :TickTick at start-up, help, and the helper found in pipx's folder."""
    report, explain, helper = _start_installed(manager, repo_copy, tmp_path)
    assert report.get("error") is None, explain
    assert report["command_at_startup"] == 2, f":TickTick is not defined after start-up\n{explain}"
    assert report["module_loaded_at_startup"] is False, explain
    clone = str(repo_copy)
    for found in (*report["plugin_files"], *report["module_files"]):
        assert os.path.realpath(found).startswith(clone), f"{found} is not from the installed copy\n{explain}"
    assert os.path.realpath(report["help"]) == str(repo_copy / "editors/neovim/doc/ticktick-signon.txt"), explain
    notes = [note["msg"] for note in report["notes"]]
    assert notes and notes[0].startswith("TickTick: profile default is not signed in"), explain
    assert f"helper found: {helper} (in pipx's" in report["health"], explain


@pytest.mark.skipif(NVIM is None, reason=SKIP_REASON)
@pytest.mark.parametrize("manager", ["lazy", "packer"])
def test_install_recipe_needs_its_runtime_line(manager: str, repo_copy: Path, tmp_path: Path) -> None:
    """Why those two recipes source plugin/ themselves: without it the stand-in, like the real manager, leaves
    the folder on 'runtimepath' but :TickTick undefined (seen with packer.nvim itself on Neovim 0.7)."""
    report, explain, _ = _start_installed(manager, repo_copy, tmp_path, bare=True)
    assert report["command_at_startup"] == 0, explain
    assert [os.path.realpath(f) for f in report["plugin_files"]] == [
        str(repo_copy / "editors/neovim/plugin/ticktick_signon.lua")
    ], f"the folder should be on 'runtimepath', its plugin/ file unsourced\n{explain}"
