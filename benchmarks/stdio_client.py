"""A minimal synchronous JSON-RPC client over a child's stdio, used to time servers.

Deliberately thin (one write, one blocking read per call, no threads) so the
measuring side adds as little as possible to what is measured; replies are read
with the project's own frame reader.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from typing import Any

from ticktick_signon.helper.framing import Frame, read_frame


class RpcFailure(Exception):
    """The server answered with a JSON-RPC error."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error


class StdioServer:
    """A server process spoken to with Content-Length frames, one request at a time."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        self._in = self.process.stdin
        self._out = self.process.stdout
        self._next_id = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    def call(self, method: str, params: Any) -> Any:
        """Send one request and return its result; raise ``RpcFailure`` on an error reply."""
        reply = self.call_raw(method, params)
        if "error" in reply:
            raise RpcFailure(reply["error"])
        return reply["result"]

    def call_raw(self, method: str, params: Any) -> dict[str, Any]:
        self._next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}).encode()
        self._in.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # type: ignore[union-attr]
        self._in.flush()  # type: ignore[union-attr]
        while True:
            frame = read_frame(self._out)
            if not isinstance(frame, Frame):
                raise RuntimeError(f"the server closed its output or sent a broken frame ({frame!r})")
            message = json.loads(frame.body)
            if message.get("id") == self._next_id:
                return message
            # A notification or a stray reply: not what we wait for.

    def read_message(self) -> dict[str, Any] | None:
        """Read the next message (a reply or a notification); None once the server closed its output."""
        frame = read_frame(self._out)
        return json.loads(frame.body) if isinstance(frame, Frame) else None

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far, all threads (Linux: schedstat in ns, else clock ticks)."""
        import os
        from pathlib import Path

        try:
            return (
                sum(
                    int(Path(f"/proc/{self.pid}/task/{task}/schedstat").read_text().split()[0])
                    for task in os.listdir(f"/proc/{self.pid}/task")
                )
                / 1e9
            )
        except (OSError, ValueError, IndexError):
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        """The process's resident set size now (/proc on Linux, the working set on Windows)."""
        from process_memory import resident_kib

        return resident_kib(self.process.pid, "VmRSS")

    def close(self, timeout: float = 10) -> int:
        """Close stdin (the servers exit on EOF) and return the exit status."""
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._out.close()  # type: ignore[union-attr]
        return code
