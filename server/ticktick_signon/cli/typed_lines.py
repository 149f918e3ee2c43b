"""Lines typed or piped on stdin, each waited for with a timeout, on POSIX and Windows.

The sign-in waits for a pasted address and for the browser's return at once, so
it must never block in ``readline``. A pipe is read by a daemon thread into a
queue, everywhere: nothing is asked after a piped sign-in, so the read still
pending when the wait ends costs nothing. A terminal is not read that way,
because that pending read would swallow the answer to the next question. POSIX
can ``select()`` a terminal; Windows can ``select()`` only sockets, so there the
console is polled key by key (msvcrt).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from typing import Any, TextIO


def is_terminal(stream: TextIO | None) -> bool:
    """Whether ``stream`` is a terminal a person types into (not a pipe, a file or the null device).

    Windows' ``isatty()`` is true for the NUL device too (``stdin=DEVNULL``, ``< NUL``), so
    there the stream must also be a console.
    """
    try:
        if stream is None or not stream.isatty():
            return False
        if sys.platform != "win32":  # (sys.platform, not os.name: mypy narrows on it)
            return True
        import ctypes
        import msvcrt

        mode = ctypes.c_uint32()
        handle = ctypes.c_void_p(msvcrt.get_osfhandle(stream.fileno()))
        return bool(ctypes.windll.kernel32.GetConsoleMode(handle, ctypes.byref(mode)))
    except (OSError, ValueError):  # closed, or no handle behind it
        return False


class TypedLines:
    """The lines of ``stream`` (default: stdin), one at a time, each with a timeout.

    Args:
        stream: what to read; must be open.
        console: msvcrt's ``kbhit``/``getwch``/``putwch``, for a Windows console
            (given only by tests; on Windows a terminal uses msvcrt itself).
    """

    def __init__(self, stream: TextIO | None = None, console: Any = None) -> None:
        self._stream = sys.stdin if stream is None else stream
        self._ended = False
        self._typed = ""  # a Windows console's line so far
        self._console = console
        self._queue: queue.Queue[str] | None = None
        if console is None and not is_terminal(self._stream):
            self._queue = queue.Queue()
            threading.Thread(target=self._pump, daemon=True, name="typed-lines").start()
        elif console is None and os.name == "nt":
            import msvcrt

            self._console = msvcrt

    def next(self, timeout: float) -> str | None:
        """Return the next line with its newline, ``""`` once input has ended, or None if none came in ``timeout`` s.

        Raises:
            KeyboardInterrupt: Ctrl+C typed in a Windows console.
        """
        if self._ended:
            return ""
        line: str | None
        if self._queue is not None:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                return None
        elif self._console is not None:
            line = self._console_line(timeout)
            if line is None:
                return None
        else:
            import select

            if not select.select([self._stream], [], [], timeout)[0]:
                return None
            line = self._stream.readline()
        self._ended = line == ""
        return line

    def _pump(self) -> None:
        assert self._queue is not None
        try:
            while line := self._stream.readline():
                self._queue.put(line)
        except (OSError, ValueError):  # closed under us: the same as its end
            pass
        self._queue.put("")

    def _console_line(self, timeout: float) -> str | None:
        keys, deadline = self._console, time.monotonic() + timeout
        while True:
            while keys.kbhit():
                key = keys.getwch()
                if key in ("\r", "\n"):
                    keys.putwch("\r")
                    keys.putwch("\n")
                    line, self._typed = self._typed + "\n", ""
                    return line
                if key == "\x03":
                    raise KeyboardInterrupt
                if key == "\x1a" and not self._typed:  # Ctrl+Z: Windows' end of input
                    return ""
                if key in ("\x00", "\xe0"):  # an arrow or function key: its second half follows
                    keys.getwch()
                elif key == "\b":
                    if self._typed:
                        self._typed = self._typed[:-1]
                        for echo in "\b \b":
                            keys.putwch(echo)
                elif key.isprintable():
                    self._typed += key
                    keys.putwch(key)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
