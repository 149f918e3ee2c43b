"""Waiting for a typed or piped line with a timeout: a pipe, a POSIX terminal, and a Windows console's keys."""

from __future__ import annotations

import os
import threading
from collections import deque

import pytest

from ticktick_signon.cli.typed_lines import TypedLines, is_terminal


def test_a_pipe_gives_its_lines_as_they_come_then_its_end() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "r") as reader, os.fdopen(write_fd, "w") as writer:
        lines = TypedLines(reader)
        assert lines.next(0.1) is None  # nothing yet: the wait times out instead of blocking
        writer.write("first\nsecond\n")
        writer.flush()
        assert (lines.next(5), lines.next(5)) == ("first\n", "second\n")
        threading.Timer(0.2, writer.close).start()
        assert lines.next(5) == ""
        assert lines.next(0) == ""  # and stays ended


@pytest.mark.posix_only("a pseudo-terminal (os.openpty)")
def test_a_terminal_is_read_without_a_thread_so_a_later_question_gets_its_answer() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "r") as terminal:
        lines = TypedLines(terminal)
        assert lines.next(0.1) is None
        os.write(leader, b"https://example.test/cb?code=x\n")
        assert lines.next(5) == "https://example.test/cb?code=x\n"
        os.write(leader, b"y\n")  # the answer to whatever is asked next...
        assert terminal.readline() == "y\n"  # ...is still there for it
    os.close(leader)


class FakeConsole:
    """msvcrt's kbhit/getwch/putwch over a list of keys; ``shown`` is what the console echoed."""

    def __init__(self, keys: str) -> None:
        self.keys = deque(keys)
        self.shown = ""

    def kbhit(self) -> bool:
        return bool(self.keys)

    def getwch(self) -> str:
        return self.keys.popleft()

    def putwch(self, char: str) -> None:
        self.shown += char


class FakeTerminal:  # what the console stands for; never read
    def isatty(self) -> bool:
        return True


def console_lines(console: FakeConsole) -> TypedLines:
    return TypedLines(FakeTerminal(), console=console)  # type: ignore[arg-type]


def test_a_windows_console_line_is_built_key_by_key_with_backspace_and_arrows_ignored() -> None:
    console = FakeConsole("http:/x\b/h\x00Kost\r")  # \x00K: the left arrow's two halves
    assert console_lines(console).next(1) == "http://host\n"
    assert console.shown == "http:/x\b \b/host\r\n"


def test_a_windows_console_keeps_a_half_typed_line_across_timeouts() -> None:
    console = FakeConsole("abc")
    lines = console_lines(console)
    assert lines.next(0.05) is None
    console.keys.extend("d\r")
    assert lines.next(1) == "abcd\n"


def test_ctrl_c_and_ctrl_z_in_a_windows_console() -> None:
    with pytest.raises(KeyboardInterrupt):
        console_lines(FakeConsole("ab\x03")).next(1)
    assert console_lines(FakeConsole("\x1a")).next(1) == ""  # Ctrl+Z on an empty line: the end of input


def test_the_null_device_and_a_pipe_are_no_terminal() -> None:
    # Windows' isatty() says yes to NUL (stdin=DEVNULL); the CLI must not ask questions of it.
    with open(os.devnull) as null:
        assert not is_terminal(null)
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd) as reader, os.fdopen(write_fd, "w"):
        assert not is_terminal(reader)
    assert not is_terminal(None)


@pytest.mark.posix_only("a pseudo-terminal (os.openpty)")
def test_a_pseudo_terminal_is_one() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower) as terminal:
        assert is_terminal(terminal)
    os.close(leader)
