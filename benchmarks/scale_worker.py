"""One process of the benchmark's scale row: a reader driving its own helper, or the token writer.

``client`` spawns one ``ticktick-signon serve``, warms it with one call, says
``ready``, waits for ``go`` on stdin, makes its calls and prints one JSON line:
every read's start time (``time.monotonic_ns``, one clock for every process on
Linux) and what came back. ``writer`` says ``ready``, waits for ``go``, rewrites
the token through the real ``TokenStore.update`` and prints when each write
completed. run.py joins the two to count errors, torn reads and stale tokens.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import uuid
from pathlib import Path

from stdio_client import RpcFailure, StdioServer

#: Every token the benchmark writes expires at ``BASE_EXPIRES_AT + its sequence number``,
#: so a read that pairs one write's token with another's expiry shows up as torn.
BASE_EXPIRES_AT = 4_102_444_800
PROFILE = "default"


def write_token(store: object, token: str, seq: int) -> None:
    """Replace the profile's token through ``TokenStore.update``, as a sign-on would."""
    from ticktick_signon.core.records import Token

    new = Token(token, "bearer", "tasks:read tasks:write", BASE_EXPIRES_AT + seq)

    def change(cache):  # type: ignore[no-untyped-def]
        return cache.with_profile(PROFILE, dataclasses.replace(cache.profile(PROFILE), token=new)), None

    store.update(change)  # type: ignore[attr-defined]


def run_client(argv: list[str], calls: int) -> None:
    server = StdioServer(argv, dict(os.environ))
    params = {"profile": PROFILE}
    server.call("getToken", params)
    print("ready", flush=True)
    sys.stdin.readline()
    reads = []
    started = time.monotonic_ns()
    for _ in range(calls):
        t = time.monotonic_ns()
        try:
            result = server.call("getToken", params)
            reads.append([t, result["accessToken"], result["expiresAt"], None])
        except RpcFailure as failure:
            reads.append([t, None, None, failure.error.get("code")])
    finished = time.monotonic_ns()
    status = server.close()
    print(json.dumps({"reads": reads, "started": started, "finished": finished, "exit": status}), flush=True)


def run_writer(config_dir: Path, writes: int, interval: float) -> None:
    from ticktick_signon.cache.store import TokenStore

    store = TokenStore(config_dir)  # one store, as a long-running writer would keep
    print("ready", flush=True)
    sys.stdin.readline()
    done = []
    for seq in range(1, writes + 1):
        token = str(uuid.uuid4())
        write_token(store, token, seq)
        done.append([seq, token, time.monotonic_ns()])
        time.sleep(interval)
    print(json.dumps({"writes": done}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    client = sub.add_parser("client")
    client.add_argument("--calls", type=int, required=True)
    client.add_argument("--helper", required=True, help="the helper's argv as a JSON list")
    writer = sub.add_parser("writer")
    writer.add_argument("--writes", type=int, required=True)
    writer.add_argument("--interval", type=float, required=True)
    args = parser.parse_args()
    if args.role == "client":
        run_client(json.loads(args.helper), args.calls)
    else:
        run_writer(Path(os.environ["TICKTICK_SIGNON_CONFIG_DIR"]), args.writes, args.interval)


if __name__ == "__main__":
    main()
