"""Stand-ins for what surrounds Vim in its tests: the browser, and ports that are free or busy.

``browser URL --log FILE [--decision allow|deny] [--follow]`` clicks Allow or Deny on the
sandbox's page (the Python suite's follow_authorize) and, with ``--follow``, loads the redirect
as a browser would, so the helper's loopback listener gets it. Each step is appended to FILE as
a JSON line that the Vim tests read. ``free-port`` prints a loopback port that was free a moment
ago; ``hold-port`` listens on one, prints it, and holds it until its stdin closes.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.rpc import follow_authorize, free_port


def browser(url: str, log_path: str, decision: str, follow: bool) -> int:
    def log(**entry: object) -> None:
        with open(log_path, "a", encoding="utf-8") as log_file:
            log_file.write(json.dumps(entry) + "\n")

    log(opened=url)
    try:
        redirect = follow_authorize(url, decision)
        log(redirect=redirect)
        if follow:
            page = httpx.get(redirect, timeout=30, trust_env=False)
            log(followed=page.status_code)
    except Exception as error:  # noqa: BLE001 - the Vim test reads the reason from the log
        log(error=f"{type(error).__name__}: {error}")
        return 1
    return 0


def hold_port() -> int:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        print(server.getsockname()[1], flush=True)
        sys.stdin.read()  # until Vim closes it (or exits)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    opened = commands.add_parser("browser")
    opened.add_argument("--log", required=True)
    opened.add_argument("--decision", choices=("allow", "deny"), default="allow")
    opened.add_argument("--follow", action="store_true")
    opened.add_argument("url")
    commands.add_parser("free-port")
    commands.add_parser("hold-port")
    args = parser.parse_args()
    if args.command == "browser":
        return browser(args.url, args.log, args.decision, args.follow)
    if args.command == "free-port":
        print(free_port())
        return 0
    return hold_port()


if __name__ == "__main__":
    sys.exit(main())
