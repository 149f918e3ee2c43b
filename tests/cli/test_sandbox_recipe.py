"""The editor READMEs' "try it with the sandbox" recipe, run as written: the sandbox ends with the editor.

Each README (Neovim, Vim, Emacs) has the same recipe under ``<!-- recipe: sandbox -->``. It is run
by bash with three substitutions only: this interpreter's ``-m ticktick_signon`` for the command,
a free port for 8765, and, for the editor, a stand-in that signs in through the sandbox's form
(no browser) with the recipe's own environment and quits. After the subshell ends, nothing may
listen on the port any more: the recipe's trap stopped the sandbox.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
READMES = {name: ROOT / "editors" / name / "README.md" for name in ("neovim", "vim", "emacs")}
EDITORS = {
    "neovim": "nvim +'TickTick signin'",
    "vim": "vim +'TickTick signin'",
    "emacs": "emacs -nw -f ticktick-signon-sign-in",
}

#: The stand-in editor: the sign-in the editor would start, approved through the sandbox's form.
STAND_IN = """
import os, sys, time, httpx
sys.path.insert(0, os.environ["TTS_ROOT"])
from tests.support.fake_browser import follow_authorize
from ticktick_signon.core import oauth
base = os.environ["TICKTICK_SIGNON_AUTH_URL"]
for _ in range(100):
    try:
        httpx.get(base + "/"); break
    except httpx.TransportError:
        time.sleep(0.1)
url = oauth.build_authorize_url(base, os.environ["PYTICKTICK_V1_CLIENT_ID"], "http://127.0.0.1:9/", "st")
print("EDITOR-GOT", follow_authorize(url).split("?")[0])
"""


def _recipe(readme: Path) -> str:
    match = re.search(r"<!-- recipe: sandbox -->\n```sh\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    assert match, f"{readme} has no sandbox recipe"
    return match.group(1)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.posix_only("the recipe is a POSIX shell's")
@pytest.mark.parametrize("editor", sorted(READMES))
def test_the_readme_sandbox_recipe_signs_in_and_stops_the_sandbox_with_the_editor(editor: str, tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    recipe = _recipe(READMES[editor])
    assert EDITORS[editor] in recipe, f"the {editor} recipe starts {EDITORS[editor]}"
    port = free_port()
    script = (
        recipe.replace("ticktick-signon sandbox", f"{shlex.quote(sys.executable)} -m ticktick_signon sandbox")
        .replace("8765", str(port))
        .replace(EDITORS[editor], f"{shlex.quote(sys.executable)} -c {shlex.quote(STAND_IN)}")
    )
    # Its own session, so that a sandbox the recipe failed to stop is found and ended here.
    proc = subprocess.Popen(
        [bash, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={"PATH": "/usr/bin:/bin", "TTS_ROOT": str(ROOT), "TICKTICK_SIGNON_CONFIG_DIR": str(tmp_path)},
    )
    try:
        stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"the recipe did not end with the editor (the sandbox kept its output open):\n{stderr}")
    finally:
        if _listening(port):
            os.killpg(proc.pid, signal.SIGKILL)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert done.returncode == 0, done.stderr
    assert "EDITOR-GOT http://127.0.0.1:9/" in done.stdout
    assert "POST /oauth/authorize/decision 302" in done.stderr  # the sandbox's window logged the approval
    deadline = time.monotonic() + 10
    while _listening(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(port), "the sandbox outlived the editor"
