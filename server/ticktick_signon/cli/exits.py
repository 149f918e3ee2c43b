"""How a command ends: its exit status, and a service error told in the command line's words.

The statuses of failed sign-ins and token reads live on the error classes
(errors.py); the ones here have no error behind them. ``EXIT_STATUSES`` is the
table ``--help`` shows; the README has the same table, and a test holds both
to the statuses the code can end with.
"""

from __future__ import annotations

import re
from typing import NoReturn

from ticktick_signon.cli.console import Console
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
#: ``login``: its terminal closed (128 + SIGHUP), or it was asked to end (128 + SIGTERM; Windows' SIGBREAK too).
EXIT_HANGUP = 129
EXIT_TERMINATED = 143

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
  0    done (status: signed in; no command: the help; sandbox: stopped
       with Ctrl-C)
  1    status: not signed in, the token has expired, or (--verify)
       its provider rejected it; sandbox: cannot listen on its port; import:
       you chose not to replace the token; token: stdout is closed
  2    bad usage: an unknown option or a bad value, or login without a
       terminal and without a client id or secret, or login --sandbox
       over another provider's profile without --force; import: a file that
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
  11   login, status --verify, import: the profile belongs to another
       provider than the one TICKTICK_SIGNON_AUTH_URL (or the region)
       names, so its token or secret was not sent
  129  login: its terminal closed (SIGHUP); nothing is left pending
  130  cancelled (Ctrl-C)
  143  login: it got SIGTERM; nothing is left pending"""


def in_cli_words(error: SignonError) -> str:
    """The service's message with each protocol name (``clientSecret``) as its flag (``--client-secret``)."""
    message = error.message
    if isinstance(error, InvalidParams):
        for name in [*error.data.get("missing", []), error.data.get("field")]:
            if name in FLAGS:
                message = re.sub(rf"\b{name}\b", FLAGS[name], message)
    return message


def cancelled(console: Console) -> NoReturn:
    """The one answer to Ctrl-C, wherever it comes: ``Cancelled.`` and status 130.

    entry.py says the same for ``serve`` without loading click.

    Raises:
        SystemExit: always, with ``EXIT_CANCELLED``.
    """
    # On a terminal the cursor still sits after the ^C echo (or a prompt).
    console.say(("\n" if console.on_terminal() else "") + "Cancelled.")
    raise SystemExit(EXIT_CANCELLED)
