"""How the CLI speaks to the person on stderr: its lines, its words for protocol errors, and its exit statuses.

Success, warning and failure lines carry a symbol and a colour on a terminal,
and plain words ("Warning:", "Error:") when stderr is piped or ``NO_COLOR`` is
set. The statuses of failed sign-ons and token reads live on the error classes
(errors.py); the ones here have no error behind them.
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import NoReturn, TextIO

import click

from ticktick_signon.errors import InvalidParams, SignonError

#: ``status``: the profile is not signed in, or its token has expired (as ``gh auth status``).
EXIT_NOT_SIGNED_IN = 1
#: Bad usage: click's own status for unknown options and bad values.
EXIT_USAGE = 2
#: ``login``: no redirect came back (input ended with nothing pasted, or the link expired).
EXIT_NO_REDIRECT = 9
#: ``login``: signed in and the token is cached, but ``--save`` could not write its file.
EXIT_SAVE_FAILED = 10
#: Ctrl-C, at a prompt or while waiting: 128 + SIGINT, as shells report it.
EXIT_CANCELLED = 130

#: Protocol names in the service's messages, and what the command line calls them.
FLAGS = {
    "clientId": "--client-id",
    "clientSecret": "--client-secret",
    "redirectUrl": "--redirect-url",
    "profile": "--profile",
    "region": "--region",
    "minValidSeconds": "--min-valid",
}

EXIT_STATUSES = """\b
Exit status:
  0    done (status: signed in)
  1    status: not signed in, the token has expired, or (--verify)
       TickTick rejected it; sandbox: cannot listen on its port; import:
       you chose not to replace the token
  2    bad usage: an unknown option or a bad value, or login without a
       terminal and without a client id or secret; import: a file that
       cannot be read or holds no usable token, or a valid token in the
       way without --force
  3    token: not signed in
  4    token: the token has expired (or expires within --min-valid);
       import: the file's token has expired
  5    the cache file cannot be read or written
  6    login: the sign-in was refused (Deny), or the redirect was not this
       sign-in's
  7    login: TickTick refused the token request; status --verify,
       import: TickTick's answer says nothing about the token
  8    login, status --verify, import: TickTick could not be reached
  9    login: no redirect came back (nothing was pasted, or the sign-in
       link expired after 10 minutes)
  10   login: signed in, but --save could not write its file
  130  cancelled (Ctrl-C)"""


def in_cli_words(error: SignonError) -> str:
    """The service's message with each protocol name (``clientSecret``) as its flag (``--client-secret``)."""
    message = error.message
    if isinstance(error, InvalidParams):
        for name in [*error.data.get("missing", []), error.data.get("field")]:
            if name in FLAGS:
                message = re.sub(rf"\b{name}\b", FLAGS[name], message)
    return message


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
