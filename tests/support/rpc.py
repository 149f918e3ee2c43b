"""Test-side tools: a raw-frame JSON-RPC client for the real helper process, and a fake browser."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encode_frame(message: Any) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@dataclass
class RpcError(Exception):
    code: int
    message: str
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.data.get("kind", "")


class HelperProcess:
    """`ticktick-signon serve` as a subprocess, spoken to with raw Content-Length frames."""

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
        stderr_file = tempfile.TemporaryFile()
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
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                self.raw_output.append(line)
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert length is not None, "the helper sent a frame without Content-Length"
            body = out.read(length)
            self.raw_output.append(body)
            message = json.loads(body)
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
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def follow_authorize(authorize_url: str, decision: str = "allow") -> str:
    """Play the browser on the sandbox's page: click Allow or Deny, return the redirect URL.

    The redirect itself is not followed, so the test decides where it goes
    (pasted into completeSignon, or fetched from the loopback listener).
    """
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        page = client.get(authorize_url)
        if page.status_code == 302:
            return page.headers["location"]
        assert page.status_code == 200, page.text
        request_id = page.text.split("name=request value='")[1].split("'")[0]
        answer = client.post(
            urljoin(authorize_url, "/oauth/authorize/decision"), data={"request": request_id, "decision": decision}
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]
