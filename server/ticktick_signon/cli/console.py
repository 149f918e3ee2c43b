"""How the CLI's lines look on stderr: a symbol and a colour on a terminal, plain words elsewhere.

Success, warning and failure lines carry a symbol and a colour on a terminal,
and plain words ("Warning:", "Error:") when stderr is piped or ``NO_COLOR`` is
set. What the lines say, and the exit statuses, belong to the commands
(exits.py has the statuses).
"""

from __future__ import annotations

import os
import sys
import time
from typing import NoReturn, TextIO

import click

from ticktick_signon.cli.exits import EXIT_CANCELLED

_SYMBOLS = {"success": ("✓", "green"), "warning": ("!", "yellow"), "failure": ("✗", "red")}
_ASCII_SYMBOLS = {"success": "+", "warning": "!", "failure": "x"}
_WORDS = {"success": "", "warning": "Warning: ", "failure": "Error: "}


def _stream(err: bool) -> TextIO:
    return sys.stderr if err else sys.stdout


def on_terminal(err: bool = True) -> bool:
    """Whether stderr (or stdout) is a terminal, colour or not."""
    try:
        return _stream(err).isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def decorated(err: bool = True) -> bool:
    """Whether stderr (or stdout) is a terminal that takes colour and symbols (``NO_COLOR`` unset or empty)."""
    return not os.environ.get("NO_COLOR") and on_terminal(err)


def badge(kind: str, err: bool = True) -> str:
    """``"✓ "`` (coloured) for ``kind`` ``success``, ``warning`` or ``failure`` on a terminal, else ``""``."""
    if not decorated(err):
        return ""
    symbol, colour = _SYMBOLS[kind]
    try:
        symbol.encode(_stream(err).encoding or "ascii")
    except (UnicodeEncodeError, LookupError):  # a legacy Windows console code page
        symbol = _ASCII_SYMBOLS[kind]
    return click.style(symbol, fg=colour, bold=True) + " "


def _line(kind: str, message: str) -> None:
    mark = badge(kind)
    click.echo(f"{mark}{message}" if mark else f"{_WORDS[kind]}{message}", err=True)


def say(message: str = "", nl: bool = True) -> None:
    """Tell the person something on stderr, undecorated."""
    click.echo(message, err=True, nl=nl)


def success(message: str) -> None:
    """A line saying something worked (``✓`` in green on a terminal)."""
    _line("success", message)


def warning(message: str) -> None:
    """A line the person should heed (``!`` in yellow on a terminal, else ``Warning:``)."""
    _line("warning", message)


def failure(message: str) -> None:
    """A line saying what failed and what to do (``✗`` in red on a terminal, else ``Error:``)."""
    _line("failure", message)


def fail(message: str, status: int) -> NoReturn:
    """Say what failed, then exit with ``status``."""
    failure(message)
    sys.exit(status)


def cancelled() -> NoReturn:
    """The one answer to Ctrl-C, wherever it comes: ``Cancelled.`` and status 130.

    entry.py says the same for ``serve`` without loading click.
    """
    # On a terminal the cursor still sits after the ^C echo (or a prompt).
    click.echo(("\n" if on_terminal() else "") + "Cancelled.", err=True)
    sys.exit(EXIT_CANCELLED)


def when(unix_seconds: int) -> str:
    """A local date and time a person reads at a glance, e.g. ``2026-05-30 14:05 CEST``."""
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(unix_seconds)).strip()
