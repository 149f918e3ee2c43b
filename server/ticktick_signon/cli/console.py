"""How the CLI's lines look: a symbol and a colour on a terminal, plain words elsewhere.

Success, warning and failure lines carry a symbol and a colour on a terminal,
and plain words ("Warning:", "Error:") when stderr is piped or ``NO_COLOR`` is
set. What the lines say belongs to the commands, and how a command ends
(its exit status) to exits.py. A ``Console`` writes to the streams it is
given (the command's ``CliDeps``), so tests hand it their own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import NoReturn, TextIO

import click

_SYMBOLS = {"success": ("✓", "green"), "warning": ("!", "yellow"), "failure": ("✗", "red")}
_ASCII_SYMBOLS = {"success": "+", "warning": "!", "failure": "x"}
_WORDS = {"success": "", "warning": "Warning: ", "failure": "Error: "}


class Console:
    """The person's side of a command: conversation on ``stderr``, asked-for output on ``stdout``.

    Args:
        stdout: where what the command was asked to print goes (a token, a status).
        stderr: where the conversation goes.
        environ: the environment; ``NO_COLOR`` set and not empty turns colour and symbols off.
    """

    def __init__(self, stdout: TextIO, stderr: TextIO, environ: Mapping[str, str]) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self._no_color = bool(environ.get("NO_COLOR"))

    def _stream(self, err: bool) -> TextIO:
        return self.stderr if err else self.stdout

    def on_terminal(self, err: bool = True) -> bool:
        """Whether stderr (or stdout) is a terminal, colour or not."""
        try:
            return self._stream(err).isatty()
        except (AttributeError, ValueError):  # a replaced or closed stream
            return False

    def decorated(self, err: bool = True) -> bool:
        """Whether stderr (or stdout) is a terminal that takes colour and symbols (``NO_COLOR`` unset or empty)."""
        return not self._no_color and self.on_terminal(err)

    def badge(self, kind: str, err: bool = True) -> str:
        """``"✓ "`` (coloured) for ``kind`` ``success``, ``warning`` or ``failure`` on a terminal, else ``""``."""
        if not self.decorated(err):
            return ""
        symbol, colour = _SYMBOLS[kind]
        try:
            symbol.encode(getattr(self._stream(err), "encoding", None) or "ascii")
        except (UnicodeEncodeError, LookupError):  # a legacy Windows console code page
            symbol = _ASCII_SYMBOLS[kind]
        return click.style(symbol, fg=colour, bold=True) + " "

    def _line(self, kind: str, message: str) -> None:
        mark = self.badge(kind)
        click.echo(f"{mark}{message}" if mark else f"{_WORDS[kind]}{message}", file=self.stderr)

    def echo(self, message: str = "") -> None:
        """Print what the command was asked for on stdout (colour kept only on a terminal)."""
        click.echo(message, file=self.stdout)

    def say(self, message: str = "", nl: bool = True) -> None:
        """Tell the person something on stderr, undecorated."""
        click.echo(message, file=self.stderr, nl=nl)

    def success(self, message: str) -> None:
        """A line saying something worked (``✓`` in green on a terminal)."""
        self._line("success", message)

    def warning(self, message: str) -> None:
        """A line the person should heed (``!`` in yellow on a terminal, else ``Warning:``)."""
        self._line("warning", message)

    def failure(self, message: str) -> None:
        """A line saying what failed and what to do (``✗`` in red on a terminal, else ``Error:``)."""
        self._line("failure", message)

    def fail(self, message: str, status: int) -> NoReturn:
        """Say what failed, then end the command with ``status``.

        Raises:
            SystemExit: always, with ``status``.
        """
        self.failure(message)
        raise SystemExit(status)


def when(unix_seconds: float) -> str:
    """A local date and time a person reads at a glance, e.g. ``2026-05-30 14:05 CEST``."""
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(unix_seconds)).strip()
