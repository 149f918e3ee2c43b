"""Loopback ports for the tests: one that was free a moment ago, or one held busy.

As a program (the Vim suite's stand-in, which has no sockets of its own)::

    python tests/support/ports.py free   # prints a free loopback port
    python tests/support/ports.py hold   # listens on one, prints it, holds it until stdin closes
"""

from __future__ import annotations

import socket
import sys


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hold_port() -> int:
    """Listen on a loopback port, print it, and keep it busy until stdin closes; return the exit status."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        print(server.getsockname()[1], flush=True)
        sys.stdin.read()  # until the caller closes it (or exits)
    return 0


def main(argv: list[str]) -> int:
    """``free`` or ``hold`` (see the module's docstring); return the exit status."""
    if argv == ["free"]:
        print(free_port(), flush=True)
        return 0
    if argv == ["hold"]:
        return hold_port()
    print("usage: ports.py free|hold", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
