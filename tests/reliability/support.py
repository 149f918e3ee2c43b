"""Shared tools for the reliability suite: frame encoding, a fast frame reader, process memory and sizing.

The suite is sized to run in well under three minutes on two cores;
``TICKTICK_RELIABILITY_SCALE`` (a multiplier, default 1) runs it longer by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

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


def frame(message: Any) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def raw_frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def split_frames(data: bytes) -> list[Any]:
    """Parse a whole helper output strictly: every byte must belong to a well-formed frame."""
    messages = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"unterminated header in helper output: {data[:200]!r}"
        length = None
        for line in head.split(b"\r\n"):
            name, colon, value = line.partition(b":")
            assert colon, f"header line without ':' in helper output: {line!r}"
            if name.strip().lower() == b"content-length":
                length = int(value)
        assert length is not None and len(rest) >= length, f"bad frame in helper output: {head!r}"
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


class FrameReader:
    """Reads the helper's stdout in large chunks on a thread and hands whole messages to a callback."""

    def __init__(self, stream: BinaryIO, on_message: Any) -> None:
        self._stream = stream
        self._on_message = on_message
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        buffer = b""
        try:
            while chunk := os.read(self._stream.fileno(), 1 << 16):
                buffer += chunk
                while True:
                    head, sep, rest = buffer.partition(b"\r\n\r\n")
                    if not sep:
                        break
                    length = None
                    for line in head.split(b"\r\n"):
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    assert length is not None, f"frame without Content-Length: {head!r}"
                    if len(rest) < length:
                        break
                    self._on_message(json.loads(rest[:length]))
                    buffer = rest[length:]
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
