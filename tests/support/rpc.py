"""The test side of the helper's wire: Content-Length frames written and read, and the real helper driven over stdio.

Frames are read with the product's own ``ticktick_signon.helper.framing.read_frame``,
so the tests and the helper agree on one reading of the base protocol; what the
tests add is strictness (a broken frame from the helper fails the test).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from ticktick_signon.helper.framing import Frame, read_frame


def encode_frame(message: Any) -> bytes:
    """Frame one JSON-RPC message as the helper expects it.

    Args:
        message: anything ``json.dumps`` accepts.

    Returns:
        ``Content-Length: N\\r\\n\\r\\n`` followed by the UTF-8 JSON body.
    """
    return encode_body(json.dumps(message).encode("utf-8"))


def encode_body(body: bytes) -> bytes:
    """Frame raw body bytes (which need not be JSON), for tests that send broken messages on purpose."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: BinaryIO) -> Any | None:
    """The next message on ``stream``, or None at its end.

    Raises:
        AssertionError: the frame is broken (the helper never sends one).
    """
    frame = read_frame(stream)
    if frame is None:
        return None
    assert isinstance(frame, Frame), f"the helper sent a broken frame: {frame.reason}"
    return json.loads(frame.body)


def split_frames(data: bytes) -> list[Any]:
    """Parse a whole helper output strictly: every byte must belong to a well-formed frame.

    ``read_frame`` forgives blank lines between frames (clients send them); the
    helper must not, so each frame here has to start with a header and end its
    header block with a blank line right before its body.

    Raises:
        AssertionError: naming the first bytes that are not a well-formed frame.
    """
    stream = io.BytesIO(data)
    messages = []
    while stream.tell() < len(data):
        start = stream.tell()
        frame = read_frame(stream)
        raw = data[start : stream.tell()]
        assert isinstance(frame, Frame), f"bad frame in helper output: {frame!r} at {data[start : start + 200]!r}"
        assert not raw.startswith((b"\r", b"\n")) and raw.endswith(b"\r\n\r\n" + frame.body), (
            f"bad frame in helper output: {raw[:200]!r}"
        )
        messages.append(json.loads(frame.body))
    return messages


class _Recording:
    """A byte stream that keeps every header line and body read from it, for tests that check the raw output."""

    def __init__(self, stream: BinaryIO, kept: list[bytes]) -> None:
        self._stream = stream
        self._kept = kept

    def readline(self, limit: int = -1) -> bytes:
        line = self._stream.readline(limit)
        if line:
            self._kept.append(line)
        return line

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._kept.append(data)
        return data


@dataclass
class RpcError(Exception):
    code: int
    message: str
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.data.get("kind", "")


class HelperProcess:
    """`ticktick-signon serve` as a subprocess, spoken to with raw Content-Length frames.

    A reader thread sorts what the helper sends: replies go to the caller that
    allocated their id, notifications to ``notifications``, anything else to
    ``unmatched``; ``raw_output`` keeps every header line and body as read.
    """

    def __init__(self, process: subprocess.Popen[bytes], stderr_file: Any) -> None:
        self.process = process
        self._stderr_file = stderr_file
        self._next_id = 0
        self._replies: dict[Any, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.notifications: queue.Queue[dict[str, Any]] = queue.Queue()
        #: Notifications taken off the queue while waiting for another method, oldest first.
        self.skipped: list[dict[str, Any]] = []
        self.unmatched: queue.Queue[dict[str, Any]] = queue.Queue()
        self.raw_output: list[bytes] = []
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    @classmethod
    def spawn(cls, env: dict[str, str] | None = None, args: tuple[str, ...] = (), umask: int = -1) -> HelperProcess:
        # Kept open for the helper's whole life (stderr() reads it back), so no with-block.
        stderr_file = tempfile.TemporaryFile()  # noqa: SIM115
        process = subprocess.Popen(
            umask=umask,
            args=[sys.executable, "-m", "ticktick_signon", *args, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=env if env is not None else dict(os.environ),
        )
        return cls(process, stderr_file)

    def _read_loop(self) -> None:
        out = self.process.stdout
        assert out is not None
        stream = _Recording(out, self.raw_output)
        while (message := read_message(stream)) is not None:  # type: ignore[arg-type]
            if "method" in message:
                self.notifications.put(message)
                continue
            with self._lock:
                box = self._replies.get(message.get("id"))
            (box or self.unmatched).put(message)

    def send_raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(encode_frame(message))

    def call(
        self, method: str, params: Any = None, *, omit_params: bool = False, timeout: float = 30
    ) -> dict[str, Any]:
        """Send a request and return the whole reply message."""
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
            box: queue.Queue[dict[str, Any]] = queue.Queue()
            self._replies[msg_id] = box
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if not omit_params:
            message["params"] = params if params is not None else {}
        self.send(message)
        try:
            return box.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no reply to {method} within {timeout}s; stderr:\n{self.stderr()}") from None

    def request(self, method: str, params: Any = None, **kwargs: Any) -> Any:
        """Send a request; return its result or raise ``RpcError``."""
        reply = self.call(method, params, **kwargs)
        if "error" in reply:
            error = reply["error"]
            raise RpcError(error["code"], error["message"], error.get("data") or {})
        return reply["result"]

    def next_unmatched(self, timeout: float = 10) -> dict[str, Any]:
        """The next reply whose id the test did not allocate (e.g. id null)."""
        return self.unmatched.get(timeout=timeout)

    def notification(self, method: str, timeout: float = 30) -> dict[str, Any]:
        """Wait for the next ``method`` notification and return its params (others are kept in ``skipped``)."""
        return self.next_notification(method, timeout)["params"]

    def next_notification(self, method: str, timeout: float = 30) -> dict[str, Any]:
        """Wait for the next ``method`` notification and return the whole message.

        Notifications of other methods that arrive first are kept, in order, in
        ``skipped``; a later wait for their method finds them there.
        """
        for index, message in enumerate(self.skipped):
            if message["method"] == method:
                return self.skipped.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self.notifications.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {method} within {timeout}s; other notifications: {self.skipped}") from None
            if message["method"] == method:
                return message
            self.skipped.append(message)

    def drain_notifications(self, wait: float = 0.0) -> list[dict[str, Any]]:
        """Every notification not taken yet (after waiting ``wait`` seconds for stragglers), oldest first."""
        time.sleep(wait)
        messages, self.skipped = self.skipped, []
        while True:
            try:
                messages.append(self.notifications.get_nowait())
            except queue.Empty:
                return messages

    def stderr(self) -> str:
        self._stderr_file.seek(0)
        # Universal newlines: the helper's stderr is a text stream, which ends lines with \r\n on Windows.
        return self._stderr_file.read().decode("utf-8", "replace").replace("\r\n", "\n")

    def stdout_bytes(self) -> bytes:
        return b"".join(self.raw_output)

    def close(self, timeout: float = 15) -> int:
        """Close stdin and return the exit status."""
        if self.process.stdin and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def serve_once_reporting_modules(modules: tuple[str, ...]) -> tuple[int, list[Any], list[str]]:
    """Run ``ticktick-signon serve`` for one ``getToken`` and say which of ``modules`` it had loaded by exit.

    Returns:
        The exit status, the reply frames, and the sorted names of ``modules`` that were imported.
    """
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: print(sorted(m for m in {modules!r} if m in sys.modules), file=sys.stderr))\n"
        "from ticktick_signon.entry import main; main(['serve'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=encode_frame({"jsonrpc": "2.0", "id": 1, "method": "getToken"}),
        capture_output=True,
        timeout=60,
    )
    loaded = json.loads(done.stderr.decode().strip().splitlines()[-1].replace("'", '"'))
    return done.returncode, split_frames(done.stdout), loaded
