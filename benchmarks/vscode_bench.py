"""The VS Code rows: the .vsix's size, and activation to first status-bar text against the bundled helper's bare start.

Each sample is one ``node editors/vscode/scripts/bench-activation.js MODE PYTHON`` process that times
itself (Node's own start-up is outside the timing): ``extension`` loads the packaged extension into the
test suites' stand-in for ``vscode`` and times activation until the status bar has the helper's answer;
``bare`` spawns the same bundled helper with the same Python and times its first ``getStatus`` reply.
Both need the extension built and bundled (``npm run build && npm run package`` in editors/vscode).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

EXTENSION = Path(__file__).resolve().parent.parent / "editors" / "vscode"
SCRIPT = EXTENSION / "scripts" / "bench-activation.js"
VSIX = EXTENSION / "dist" / "ticktick-signon.vsix"
NEEDED = (
    EXTENSION / "dist" / "extension.js",
    EXTENSION / "out" / "test" / "support" / "fakeVscode.js",
    EXTENSION / "bundled" / "bundle.json",
)


def missing() -> str | None:
    """Why the activation row cannot be measured here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    absent = [str(path.relative_to(EXTENSION)) for path in NEEDED if not path.exists()]
    if absent:
        return (
            f"the extension is not built ({', '.join(absent)}):"
            " run `npm run build && npm run package` in editors/vscode"
        )
    return None


def sample(mode: str, env: dict[str, str]) -> float:
    """One timed start in milliseconds: ``extension`` (activation to status text) or ``bare`` (helper alone)."""
    done = subprocess.run(
        ["node", str(SCRIPT), mode, sys.executable],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench-activation.js {mode} failed: {done.stderr[-1500:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["ms"])


def vsix_bytes() -> int | None:
    """The packaged .vsix's size, if it has been packaged."""
    return VSIX.stat().st_size if VSIX.exists() else None
