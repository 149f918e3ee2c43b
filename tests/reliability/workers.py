"""Worker processes for the concurrency and crash tests: ``python -m tests.reliability.workers MODE ...``.

Each mode drives the real ``SignInService``/``TokenStore`` (or filelock itself)
in its own interpreter and reports on stdout as JSON lines, so the parent test
can kill it at any moment and still know what it had finished.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.records import Cache, Profile, Token
from ticktick_signon.errors import SignonError

CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
REDIRECT = "http://127.0.0.1:9/callback"  # never listened on: these workers paste the redirect


def say(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def signer(args: argparse.Namespace) -> int:
    """Sign in and out of one profile, checking before each round that no other writer undid the last one."""
    from tests.support.fake_browser import follow_authorize  # httpx: only signers need it
    from ticktick_signon.core.messages import StartParams
    from ticktick_signon.signin.service import SignInService

    rng = random.Random(args.seed)
    service = SignInService(TokenStore(Path(args.config_dir)))
    expected: str | None = None
    for round_no in range(args.rounds):
        token = service.store.read().profile(args.profile).token
        seen = token.access_token if token else None
        if seen != expected:
            say(event="lost", round=round_no, expected=expected, seen=seen)
            return 3
        if expected is not None and rng.random() < 0.25:
            service.sign_out(args.profile)
            expected = None
            say(event="signedOut", round=round_no)
            continue
        try:
            started = service.start(
                StartParams(profile=args.profile, redirect_url=REDIRECT, region=None, listen=False, **CLIENT)
            )
            result = service.complete(follow_authorize(started.authorize_url), None)
        except SignonError as error:  # e.g. stateMismatch: another writer undid this one's pending sign-on
            say(event="failed", round=round_no, kind=error.kind, message=error.message)
            return 4
        expected = result.access_token
        say(event="signedIn", round=round_no, token=expected)
    say(event="done", expected=expected)
    return 0


def reader(args: argparse.Namespace) -> int:
    """Read the cache as fast as possible until the stop file appears; every read must parse whole."""
    from ticktick_signon.signin.service import SignInService

    path = Path(args.config_dir) / "config.json"
    stop = Path(args.stop_file)
    service = SignInService(TokenStore(Path(args.config_dir)))
    reads = service_reads = 0
    errors: list[str] = []
    while not stop.exists():
        if os.name == "nt":
            # Windows cannot replace a file while any handle is open on it, so a reader that reopens
            # it back to back would hold off every writer (who retry, then fail); pause as real readers do.
            time.sleep(0.005)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raw = None
        except PermissionError:
            if os.name != "nt":
                raise
            continue  # Windows: the file is being replaced this instant (a sharing violation); read again
        if raw is not None:
            reads += 1
            try:
                Cache.from_json(json.loads(raw))
            except ValueError as exc:  # json and shape errors alike: a torn or half-written file
                errors.append(f"{type(exc).__name__}: {exc} ({len(raw)} bytes)")
        if reads % 5 == 0:
            try:  # the same through the service, as a helper's getStatus would see it
                for profile in args.profiles:
                    service.status(profile)
                service_reads += 1
            except SignonError as exc:
                errors.append(f"status: {exc.kind}")
    say(event="done", reads=reads, serviceReads=service_reads, errors=errors[:20], errorCount=len(errors))
    return 0


def writer(args: argparse.Namespace) -> int:
    """Write tokens with increasing sequence numbers, acknowledging each after its write returned."""
    store = TokenStore(Path(args.config_dir))
    seq = args.start
    while True:
        token = Token(f"tok-{seq:08d}", "bearer", "tasks:read tasks:write", 2_000_000_000 + seq)

        def change(cache: Cache, token: Token = token) -> tuple[Cache, None]:
            return cache.with_profile(
                "default", Profile(client_id="crash-client", client_secret="crash-secret", token=token)
            ), None

        store.update(change)
        sys.stdout.write(f"{seq}\n")
        sys.stdout.flush()
        seq += 1


def hold_lock(args: argparse.Namespace) -> int:
    """Take the cache's filelock, say so, and keep it until killed."""
    from filelock import FileLock

    lock = FileLock(args.lock_path)
    lock.acquire()
    say(event="held", pid=os.getpid())
    time.sleep(600)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    p = modes.add_parser("signer")
    p.add_argument("config_dir")
    p.add_argument("--profile", required=True)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=signer)
    p = modes.add_parser("reader")
    p.add_argument("config_dir")
    p.add_argument("--stop-file", required=True)
    p.add_argument("--profiles", nargs="*", default=["default"])
    p.set_defaults(run=reader)
    p = modes.add_parser("writer")
    p.add_argument("config_dir")
    p.add_argument("--start", type=int, required=True)
    p.set_defaults(run=writer)
    p = modes.add_parser("hold-lock")
    p.add_argument("lock_path")
    p.set_defaults(run=hold_lock)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
