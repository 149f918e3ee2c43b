"""What the process does when its stdout is gone (``token >&-``): one sentence, one status, no traceback.

Shared by the fast ``token`` path (entry.py) and click's (cli/token.py), so it
imports nothing but the standard library's ``os`` and ``sys``.
"""

from __future__ import annotations

import os
import sys

#: What ``token`` says on stderr when it cannot print the token.
NO_STDOUT = "Cannot print the token: stdout is closed or cannot be written to."
#: Its exit status (as ``status``'s "not signed in": the token did not reach the caller).
EXIT_NO_STDOUT = 1


def quiet_stdout() -> None:
    """Point a broken stdout at devnull, so the interpreter's own flush at exit prints no traceback."""
    if sys.stdout is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
