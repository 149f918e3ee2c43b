"""kill -9 of a cache writer at random moments: the file always parses and holds the old or the new token.

A child process writes tokens with increasing sequence numbers through the real
``TokenStore.update`` and acknowledges each on a pipe once the call returned.
The parent kills it at random moments, over hundreds of writes, and after every
kill reads the file as any other process would. On Windows the kill is
TerminateProcess, just as abrupt.
"""

from __future__ import annotations

import json
import os
import queue
import random
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.support.portability import assert_owner_only
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.records import Cache, Profile, Token

from .support import python_worker, scaled

pytestmark = pytest.mark.timeout(60)


def token_seq(config_dir: Path) -> int:
    """The sequence number of the token in the cache, read and parsed whole, as any reader would."""
    cache = Cache.from_json(json.loads((config_dir / "config.json").read_bytes()))
    token = cache.profile("default").token
    assert token is not None and token.access_token.startswith("tok-"), token
    assert token.expires_at == 2_000_000_000 + int(token.access_token[4:])  # the record is one write, not a mix
    return int(token.access_token[4:])


def read_acks(child: subprocess.Popen[bytes], first_only: bool, timeout: float = 15) -> list[int]:
    assert child.stdout is not None
    if first_only:
        # A thread, not select(): Windows can select() only on sockets.
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(child.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                "the writer made no progress: is the lock of the killed writer still blocking?"
            ) from None
        return [int(line)] if line.endswith(b"\n") else []
    return [int(line) for line in child.stdout.read().split(b"\n") if line]


@pytest.mark.timeout(150)
def test_kill_9_at_random_moments_leaves_a_whole_file_with_the_old_or_the_new_token(config_dir: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    context = f"(seed {seed})"
    store = TokenStore(config_dir)
    first = Token("tok-00000000", "bearer", "tasks:read tasks:write", 2_000_000_000)
    store.update(lambda c: (c.with_profile("default", Profile(client_id="crash-client", token=first)), None))
    acked = on_disk = 0
    kills = mid_write = unacked_writes = 0
    while kills < scaled(60) or on_disk < scaled(200):
        child = python_worker("writer", str(config_dir), "--start", str(on_disk + 1), stdout=subprocess.PIPE)
        acks: list[int] = []
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0, 0.2))  # during start-up or its first write
        else:
            acks += read_acks(child, first_only=True)
            time.sleep(rng.uniform(0, 0.08))  # a few writes in, anywhere inside one
        child.kill()  # SIGKILL; TerminateProcess on Windows
        child.wait()
        acks += read_acks(child, first_only=False)
        kills += 1

        assert acks == list(range(on_disk + 1, on_disk + 1 + len(acks))), f"{acks} {context}"
        acked = acks[-1] if acks else on_disk
        seq = token_seq(config_dir)
        assert seq in (acked, acked + 1), f"file holds {seq}, last acknowledged {acked} {context}"
        unacked_writes += seq == acked + 1
        on_disk = seq

        strays = sorted(config_dir.glob(".config.json.*.tmp"))
        mid_write += bool(strays)
        # A writer killed between create and replace leaves its temp file; the next write sweeps it.
        assert len(strays) <= 1, f"{[p.name for p in strays]} after {kills} kills {context}"
        for stray in strays:
            assert_owner_only(stray, 0o600)  # it may hold a token: owner-only like the cache

    store.update(lambda c: (c.with_profile("default", Profile(client_id="done")), None))
    assert not list(config_dir.glob(".config.json.*.tmp"))
    print(f"{kills} kills over {on_disk} writes: {mid_write} left a temp file,", end=" ")
    print(f"{unacked_writes} came after the last acknowledged write {context}")
