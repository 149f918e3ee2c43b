"""Shared tools for the reliability suite: a threaded frame reader, reply checks, worker processes and sizing.

The suite is sized to run in well under three minutes on two cores;
``TICKTICK_RELIABILITY_SCALE`` (a multiplier, default 1) runs it longer by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

from tests.support.rpc import read_message

REPO = Path(__file__).resolve().parents[2]
SCALE = max(0.1, float(os.environ.get("TICKTICK_RELIABILITY_SCALE", "1")))

#: Every code the protocol documents (docs/protocol.md); nothing else may appear on the wire.
DOCUMENTED_CODES = {
    -32700,
    -32600,
    -32601,
    -32602,
    -32800,
    -32001,
    -32002,
    -32003,
    -32004,
    -32005,
    -32006,
    -32007,
    -32008,
    -32009,
    -32603,
}


def scaled(n: int) -> int:
    return max(1, int(n * SCALE))


class FrameReader:
    """Reads the helper's stdout on a thread with ``framing.read_frame`` and hands each message to a callback.

    A thread of its own, so a test can pipeline requests without the helper blocking on a full pipe.
    """

    def __init__(self, stream: BinaryIO, on_message: Any) -> None:
        self._stream = stream
        self._on_message = on_message
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while (message := read_message(self._stream)) is not None:
                self._on_message(message)
        except BaseException as exc:  # surfaced by the test, which would otherwise just time out
            self.error = exc


def check_reply_shape(reply: dict[str, Any]) -> None:
    """A reply is a JSON-RPC 2.0 response with a documented error (kind, sentence) or an object result."""
    assert reply.get("jsonrpc") == "2.0", reply
    assert "id" in reply, reply
    assert reply["id"] is None or (isinstance(reply["id"], (int, str)) and not isinstance(reply["id"], bool)), reply
    assert ("result" in reply) != ("error" in reply), reply
    if "error" in reply:
        error = reply["error"]
        assert error["code"] in DOCUMENTED_CODES, reply
        assert isinstance(error["message"], str) and error["message"], reply
        assert "Traceback" not in error["message"], reply
        assert isinstance(error["data"]["kind"], str) and error["data"]["kind"], reply
    else:
        assert isinstance(reply["result"], dict), reply


def python_worker(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``tests/reliability/workers.py`` in its own interpreter (cwd: the repository)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.workers", *args],
        cwd=REPO,
        env=env if env is not None else dict(os.environ),
        **popen,
    )
