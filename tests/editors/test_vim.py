"""The Vim 9 client's suite (editors/vim/test), one pytest test per vim9script case.

Each case runs in its own real Vim, started under a pseudo-terminal (so prompts, timers, the
screen and hit-enter prompts behave as they do for a person), with a private HOME, cache and
sandbox provider, talking to the real helper (this interpreter's ``-m ticktick_signon serve``).
The install recipes are run from a ``git clone`` of this repository. Skipped, with the reason,
when no Vim 9 with +job +channel +timers is installed; TICKTICK_TEST_VIM picks another vim.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from helper_processes import assert_no_helper_left

from ticktick_signon.sandbox import SandboxProvider

ROOT = Path(__file__).resolve().parents[2]
#: The Python suite's shared stand-ins (the fake browser, ports), run as programs by the editor's tests.
SUPPORT = ROOT / "tests" / "support"
PLUGIN_DIR = ROOT / "editors" / "vim"
TESTS_DIR = PLUGIN_DIR / "test"
CASE_TIMEOUT = 150
SCREEN = (50, 200)  # rows, columns: wide enough that a prompt fits on the last row

pytestmark = pytest.mark.editor


def _find_vim() -> tuple[str | None, str]:
    """The vim binary to test with, or None and why the suite is skipped."""
    vim = os.environ.get("TICKTICK_TEST_VIM") or shutil.which("vim")
    if not vim:
        return None, "vim not found on PATH: install Vim 9 (Debian: apt-get install vim) to run this suite"
    try:
        banner = subprocess.run([vim, "--version"], check=False, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{vim} --version failed ({error}); the Vim suite needs a working Vim 9"
    match = re.search(r"VIM - Vi IMproved (\d+)\.(\d+)", banner)
    if not match or int(match[1]) < 9:
        return None, f"{vim} is not Vim 9 ({banner.splitlines()[:1]}); the plugin needs Vim 9.0 or later"
    missing = [f for f in ("+job", "+channel", "+timers") if not re.search(rf"(?<!\S){re.escape(f)}\b", banner)]
    if missing:
        return None, f"{vim} lacks {', '.join(missing)}; install a Vim built with them (Debian's vim has them)"
    return vim, ""


VIM, SKIP_REASON = _find_vim()


def _vim_env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of one test Vim: private home and XDG folders, no display or clipboard."""
    env = dict(os.environ)  # tests/conftest.py already scrubbed credentials and set the cache folder
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "TMUX", "VIMINIT", "EXINIT", "MYVIMRC", "VIMRUNTIME", "VIM"):
        env.pop(name, None)
    for name in ("PIPX_BIN_DIR", "UV_TOOL_BIN_DIR", "XDG_BIN_HOME", "XDG_DATA_HOME"):
        env.pop(name, None)  # discovery reads these; a case that wants them sets them
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    env.update(
        HOME=str(home),
        TERM="xterm",
        TTS_PYTHON=sys.executable,
        TTS_TMP=str(tmp),
        TTS_TESTS_DIR=str(TESTS_DIR),
        TTS_PLUGIN_DIR=str(PLUGIN_DIR),
        TTS_FAKE_BROWSER=str(SUPPORT / "fake_browser.py"),
        TTS_PORTS=str(SUPPORT / "ports.py"),
        TTS_RESULT=str(tmp / "result.json"),
        NO_PROXY="*",
    )
    env.update(extra)
    return env


def _drain(master: int, sink: bytearray) -> None:
    """Read what Vim draws (so it never blocks on a full terminal) and keep the last 64 KiB.

    Like a person, press <Enter> at a hit-enter prompt: after a Vim error no timer runs until
    someone does, so the harness inside Vim cannot.
    """
    pressed = 0.0
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            return
        if not chunk:
            return
        sink.extend(chunk)
        del sink[:-65536]
        if b"Press ENTER" in chunk and time.monotonic() - pressed > 0.3:
            pressed = time.monotonic()
            os.write(master, b"\r")


def _screen_text(raw: bytes) -> str:
    text = re.sub(r"\x1b(\[[0-9;?>=]*[ -/]*[@-~]|[()][0-9A-B]|[=>78])", " ", raw.decode("utf-8", "replace"))
    return re.sub(r"[ ~]{3,}", "  ", text)  # the padding and empty-line tildes of a 200-column screen


def _run_vim(tmp: Path, extra: dict[str, str], vimrc: Path | None = None) -> tuple[dict | None, str]:
    """Run the runner once in a Vim on a pseudo-terminal; return its JSON verdict (None if it wrote none)."""
    assert VIM is not None
    tmp.mkdir(parents=True, exist_ok=True)
    env = _vim_env(tmp, extra)
    cmd = [VIM, "-N", "-u", str(vimrc or TESTS_DIR / "vimrc"), "-i", "NONE", "-n", "-S", str(TESTS_DIR / "runner.vim")]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *SCREEN, 0, 0))
    output = bytearray()
    try:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    finally:
        os.close(slave)
    reader = threading.Thread(target=_drain, args=(master, output), daemon=True)
    reader.start()
    try:
        status = f"vim exit status {proc.wait(timeout=CASE_TIMEOUT)}"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = f"vim did not finish within {CASE_TIMEOUT}s and was killed"
    reader.join(timeout=5)
    os.close(master)
    result_file = Path(env["TTS_RESULT"])
    result = json.loads(result_file.read_text()) if result_file.exists() else None
    return result, f"{status}\nthe terminal's last output:\n{_screen_text(bytes(output))[-3000:]}"


def _explain(result: dict | None, output: str, trace: Path) -> str:
    """Everything useful to read when a case fails: its error, messages, prompts, events, the helper."""
    parts = []
    if result is not None:
        parts.append(f"error:\n{result.get('error')}")
        notes = "\n".join(f"  [{n['level']}] {n['msg']}" for n in result.get("notifications", []))
        parts.append(f"messages (g:ticktick_signon_notify):\n{notes or '  (none)'}")
        for key in ("prompts", "events"):
            if result.get(key):
                parts.append(f"{key}: {result[key]}")
        parts.append(f":messages:\n{result.get('messages', '').strip()}")
        helper = result.get("helper") or {}
        stderr = helper.get("stderr") or (helper.get("last_exit") or {}).get("stderr") or []
        parts.append(f"helper: started {helper.get('started')}, last exit {(helper.get('last_exit') or {}).get('how')}")
        parts.append("helper stderr:\n" + "\n".join(f"  {line}" for line in stderr[-20:]))
    else:
        parts.append("the runner wrote no verdict")
        if trace.exists():
            parts.append("what the user saw and did (trace.log):\n" + trace.read_text(errors="replace")[-4000:])
    parts.append(output)
    return "\n\n".join(parts)


def _list_cases(spec_dir: Path) -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vim-list-") as tmp:
        result, output = _run_vim(Path(tmp), {"TTS_MODE": "list", "TTS_SPEC_DIR": str(spec_dir)})
        if result is None or "error" in result:
            raise RuntimeError(
                "could not list the Vim test cases:\n" + _explain(result, output, Path(tmp) / "trace.log")
            )
        return result["cases"]


def _case_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:80]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "vim_case" not in metafunc.fixturenames:
        return
    if VIM is None:
        metafunc.parametrize("vim_case", [pytest.param(None, marks=pytest.mark.skip(reason=SKIP_REASON))], ids=["vim"])
        return
    cases = [name for name in _list_cases(TESTS_DIR) if name != INSTALLED_CASE]  # run by test_install_recipe
    metafunc.parametrize("vim_case", cases, ids=[_case_id(name) for name in cases])


def _run_case(name: str, tmp: Path, extra: dict[str, str] | None = None, vimrc: Path | None = None) -> dict:
    """Run one case against the sandbox at $TICKTICK_SIGNON_AUTH_URL and a short-lived and an
    expiring-soon sandbox beside it; fail with everything worth reading unless it passed."""
    with SandboxProvider(expires_in=3) as short_lived, SandboxProvider(expires_in=2 * 86400) as expiring:
        env = {"TTS_CASE": name, "TTS_SHORT_TOKEN_AUTH_URL": short_lived.base_url}
        env["TTS_EXPIRING_AUTH_URL"] = expiring.base_url
        result, output = _run_vim(tmp, {**env, **(extra or {})}, vimrc)
    if result is None or not result.get("ok"):
        pytest.fail(f"Vim case {name!r} failed\n\n" + _explain(result, output, tmp / "trace.log"), pytrace=False)
    return result


def test_vim_case(vim_case: str, auth_url: str, config_dir: Path, tmp_path: Path) -> None:
    """One vim9script case in a fresh Vim, against the real helper and the sandbox at ``auth_url``."""
    _run_case(vim_case, tmp_path / "vim")
    assert_no_helper_left(config_dir, "Vim")


# -- the install recipes, from a clone of the repository ----------------------------------------------


def _clone(dest: Path) -> Path:
    """``git clone`` this repository to ``dest``, then lay the work tree's editors/vim over it.

    The clone is what a plugin manager would fetch; the overlay makes uncommitted edits of the
    plugin count too (on CI, a clean clone, it changes nothing).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)], check=True, timeout=120)
    shutil.rmtree(dest / "editors" / "vim")
    shutil.copytree(PLUGIN_DIR, dest / "editors" / "vim", ignore=shutil.ignore_patterns("tags", "__pycache__"))
    return dest


def _helptags(doc_dir: Path, env: dict[str, str]) -> None:
    """Run :helptags as the manager does after installing (vim-plug) or as our help says (packages)."""
    assert VIM is not None
    subprocess.run(
        [VIM, "-N", "-u", "NONE", "-i", "NONE", "-es", "-c", f"helptags {doc_dir}", "-c", "qall!"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert (doc_dir / "tags").is_file()


def _on_path(tmp: Path) -> str:
    """A PATH where the helper is `ticktick-signon`, as pipx or uv would leave it, and nothing else of ours."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = Path(sys.executable).with_name("ticktick-signon")
    (bin_dir / "ticktick-signon").symlink_to(script)
    return f"{bin_dir}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin"


INSTALLED_CASE = "installed: the commands, the help and a sign-in work from where the manager put the plugin"


def _recipe_vim_plug(home: Path) -> tuple[Path, str]:
    """vim-plug: ``Plug 'owner/ticktick-signon', { 'rtp': 'editors/vim' }``.

    What it does, from plug.vim: clones into ~/.vim/plugged/ticktick-signon; :PlugInstall runs
    :helptags on <clone>/editors/vim/doc; plug#end() puts <clone>/editors/vim on 'runtimepath'
    right after its first entry (s:reorg_rtp) and turns on filetype plugins and syntax. Vim then
    loads the plugin/ files of every 'runtimepath' entry at startup.
    """
    clone = _clone(home / ".vim" / "plugged" / "ticktick-signon")
    rtp = clone / "editors" / "vim"
    vimrc = f"""set nocompatible noswapfile
" What plug#end() leaves for Plug '...', {{ 'rtp': 'editors/vim' }} (s:reorg_rtp):
let s:first = split(&rtp, ',')[0]
let s:last = split(&rtp, ',')[-1]
execute 'set rtp-=' . s:first
execute 'set rtp-=' . s:last
let &rtp = {json.dumps(str(rtp))} . ',' . &rtp
execute 'set rtp^=' . s:first
execute 'set rtp+=' . s:last
filetype plugin indent on
syntax enable
"""
    return rtp, vimrc


def _recipe_package(home: Path) -> tuple[Path, str]:
    """Vim's own packages: a clone anywhere, and a symlink to its editors/vim in a start/ folder.

    ``git clone ... ~/src/ticktick-signon``, ``ln -s ~/src/ticktick-signon/editors/vim
    ~/.vim/pack/ticktick-signon/start/ticktick-signon``, then ``:helptags ALL`` (as the help says).
    Vim itself adds the package to 'runtimepath' and loads it at startup.
    """
    clone = _clone(home / "src" / "ticktick-signon")
    start = home / ".vim" / "pack" / "ticktick-signon" / "start"
    start.mkdir(parents=True)
    (start / "ticktick-signon").symlink_to(clone / "editors" / "vim")
    return clone / "editors" / "vim", "set nocompatible noswapfile\n"


def _recipe_minpac(home: Path) -> tuple[Path, str]:
    """minpac: ``call minpac#add('owner/ticktick-signon', {'subdir': 'editors/vim'})`` + minpac#update().

    What it does, from minpac's impl.vim: clones into ~/.vim/pack/minpac/start/ticktick-signon,
    runs :helptags only on that clone's top doc/ (there is none), and for 'subdir' links
    ~/.vim/pack/minpac-sub/start/ticktick-signon to <clone>/editors/vim (``ln -sf``); Vim then
    loads both start packages. Our help tells minpac users to run :helptags ALL, done here too.
    """
    clone = _clone(home / ".vim" / "pack" / "minpac" / "start" / "ticktick-signon")
    sub = home / ".vim" / "pack" / "minpac-sub" / "start"
    sub.mkdir(parents=True)
    (sub / "ticktick-signon").symlink_to(clone / "editors" / "vim")
    return clone / "editors" / "vim", "set nocompatible noswapfile\n"


RECIPES = {"vim-plug": _recipe_vim_plug, "native-package": _recipe_package, "minpac": _recipe_minpac}


@pytest.mark.skipif(VIM is None, reason=SKIP_REASON)
@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to clone the repository")
@pytest.mark.parametrize("recipe", list(RECIPES))
def test_install_recipe(recipe: str, auth_url: str, config_dir: Path, tmp_path: Path) -> None:
    """Each documented install, from a clone: the plugin loads from there, its help is found, and a
    sign-in by loopback works with the helper found on PATH (not given by a setting)."""
    tmp = tmp_path / "vim"
    home = tmp / "home"
    plugin_root, vimrc_text = RECIPES[recipe](home)
    env = _vim_env(tmp, {})
    if recipe == "vim-plug":
        _helptags(plugin_root / "doc", env)
    vimrc = tmp / "vimrc"
    vimrc.write_text(vimrc_text)
    extra = {"TTS_EXPECT_PLUGIN_ROOT": str(plugin_root), "TTS_HELPTAGS_ALL": "" if recipe == "vim-plug" else "1"}
    extra["PATH"] = _on_path(tmp)
    _run_case(INSTALLED_CASE, tmp, extra, vimrc)
    assert_no_helper_left(config_dir, "Vim")
    # The help tags file is made inside the clone: git must ignore it, or `git pull` would stop working.
    tags = plugin_root / "doc" / "tags"
    assert tags.is_file(), "no help tags were made"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(tags)], check=False, cwd=plugin_root)
    assert ignored.returncode == 0, f"{tags} is not ignored by git"


# -- the harness itself --------------------------------------------------------------------------------

# The selftest cases (editors/vim/test/selftest): each but the first must be reported as failed.
SELFTEST = {
    "passes": None,
    "a failed assertion fails": "the sum: expected 3, got 2",
    "a wait that times out fails": "timed out waiting for something that never happens",
    "an error inside a callback fails": "a Vim error was shown",
    "a secret in a message fails": "the client secret appeared in message 1",
    "a token in :messages fails": "the access token appeared in messages",
}


@pytest.mark.skipif(VIM is None, reason=SKIP_REASON)
@pytest.mark.parametrize("name", list(SELFTEST), ids=_case_id)
def test_harness_reports_failures(name: str, tmp_path: Path) -> None:
    """The harness fails a case for each way a case can go wrong, and passes the one that is right."""
    result, output = _run_vim(tmp_path, {"TTS_CASE": name, "TTS_SPEC_DIR": str(TESTS_DIR / "selftest")})
    assert result is not None, _explain(result, output, tmp_path / "trace.log")
    expected = SELFTEST[name]
    if expected is None:
        assert result["ok"], _explain(result, output, tmp_path / "trace.log")
    else:
        explained = _explain(result, output, tmp_path / "trace.log")
        assert not result["ok"], f"the harness passed a case that must fail:\n{explained}"
        assert expected in result["error"], result["error"]


def test_every_selftest_case_is_checked() -> None:
    """The selftest cases and the table above name the same cases."""
    if VIM is None:
        pytest.skip(SKIP_REASON)
    assert _list_cases(TESTS_DIR / "selftest") == list(SELFTEST)
