"""Eight processes on one cache at once, and locks left or held by other processes.

Three real helpers (driven over stdio) and three Python workers sign in and out
of their own profiles against the sandbox while two readers parse the cache
file as fast as they can. Every writer checks, each round, that its last
completed sign-on is still in the cache: a read-modify-write by another process
that did not hold the lock, or read a stale copy, would undo it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_browser import follow_authorize
from tests.support.rpc import HelperProcess, RpcError
from ticktick_signon.cache import store as token_store
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.records import Cache, Profile, Token
from ticktick_signon.errors import ConfigUnreadable
from ticktick_signon.sandbox import SandboxProvider

from .support import python_worker, scaled

pytestmark = pytest.mark.timeout(60)

CREDS = {"clientId": "sandbox-client", "clientSecret": "sandbox-secret"}
REDIRECT = "http://127.0.0.1:9/callback"  # listen is false: the test pastes the redirect


def drive_helper(helper: HelperProcess, profile: str, rounds: int, seed: int, report: dict[str, Any]) -> None:
    """What a helper signer does: the same rounds as the Python signers, over stdio."""
    rng = random.Random(seed)
    expected: str | None = None
    try:
        for round_no in range(rounds):
            try:
                seen: str | None = helper.request("getToken", {"profile": profile})["accessToken"]
            except RpcError as error:
                assert error.code == -32001, (error.code, error.message)  # notSignedIn only: never -32008
                seen = None
            if seen != expected:
                report["lost"] = {"round": round_no, "expected": expected, "seen": seen}
                return
            status = helper.request("getStatus", {"profile": profile})
            assert status["signedIn"] is (expected is not None)
            if expected is not None and rng.random() < 0.25:
                assert helper.request("signOut", {"profile": profile}) == {"signedOut": True}
                expected = None
                continue
            started = helper.request(
                "startSignon", {**CREDS, "redirectUrl": REDIRECT, "listen": False, "profile": profile}
            )
            result = helper.request("completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})
            expected = result["accessToken"]
        report["expected"] = expected
    except BaseException as exc:  # reported to the test thread
        report["error"] = repr(exc)


@pytest.mark.timeout(120)
def test_eight_processes_signing_in_out_and_reading_lose_nothing_and_tear_nothing(
    config_dir: Path, tmp_path: Path
) -> None:
    rounds = scaled(10)
    stop = tmp_path / "stop"
    with SandboxProvider(auto_approve=True) as sandbox:
        env = {**os.environ, "TICKTICK_SIGNON_AUTH_URL": sandbox.base_url}
        helper_profiles = [f"helper{i}" for i in range(3)]
        worker_profiles = [f"worker{i}" for i in range(3)]
        readers = [
            python_worker(
                "reader",
                str(config_dir),
                "--stop-file",
                str(stop),
                "--profiles",
                *helper_profiles,
                *worker_profiles,
                env=env,
                stdout=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        signers = [
            python_worker(
                "signer",
                str(config_dir),
                "--profile",
                profile,
                "--rounds",
                str(rounds),
                "--seed",
                str(i),
                env=env,
                stdout=subprocess.PIPE,
            )
            for i, profile in enumerate(worker_profiles)
        ]
        helpers = [HelperProcess.spawn(env=env) for _ in helper_profiles]
        reports: list[dict[str, Any]] = [{} for _ in helpers]
        threads = [
            threading.Thread(target=drive_helper, args=(helper, profile, rounds, 100 + i, reports[i]))
            for i, (helper, profile) in enumerate(zip(helpers, helper_profiles, strict=True))
        ]
        try:
            for thread in threads:
                thread.start()
            worker_events = [
                [json.loads(line) for line in signer.communicate(timeout=90)[0].splitlines()] for signer in signers
            ]
            for thread in threads:
                thread.join(timeout=90)
        finally:
            stop.touch()
            reader_reports = [json.loads(reader.communicate(timeout=30)[0].splitlines()[-1]) for reader in readers]
            for helper in helpers:
                assert helper.close() == 0, helper.stderr()

    # No lost completed sign-on: each writer found its own last result every round...
    for profile, report in zip(helper_profiles, reports, strict=True):
        assert "error" not in report and "lost" not in report, (profile, report)
    for signer, profile, events in zip(signers, worker_profiles, worker_events, strict=True):
        assert signer.returncode == 0 and events[-1]["event"] == "done", (profile, events[-3:])
    # ...and the file at the end holds exactly each profile's last completed sign-on (or none after a sign-out).
    final = Cache.from_json(json.loads((config_dir / "config.json").read_bytes()))
    wanted = {p: r["expected"] for p, r in zip(helper_profiles, reports, strict=True)}
    wanted.update({p: events[-1]["expected"] for p, events in zip(worker_profiles, worker_events, strict=True)})
    held = {p: (final.profile(p).token.access_token if final.profile(p).token else None) for p in wanted}
    assert held == wanted
    assert (
        sum(1 for events in worker_events for e in events if e["event"] == "signedIn")
        >= len(worker_profiles) * rounds // 2
    )
    # No torn file: every one of thousands of raw reads parsed as a whole, valid cache.
    for report in reader_reports:
        assert report["errorCount"] == 0, report["errors"]
        assert report["reads"] > 100 and report["serviceReads"] > 10, report
    assert not [p.name for p in config_dir.iterdir() if p.name.endswith(".tmp")]


def hold_lock(lock_path: Path) -> subprocess.Popen[bytes]:
    holder = python_worker("hold-lock", str(lock_path), stdout=subprocess.PIPE)
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert json.loads(line)["event"] == "held", line
    return holder


@pytest.mark.timeout(60)
def test_a_lock_left_by_a_killed_process_does_not_block_the_helper(config_dir: Path) -> None:
    TokenStore(config_dir).update(
        lambda c: (c.with_profile("default", Profile(token=Token("t", "bearer", "s", 4_000_000_000))), None)
    )
    helper = HelperProcess.spawn(env=dict(os.environ))
    try:
        assert helper.request("getStatus")["signedIn"] is True
        holder = hold_lock(config_dir / "config.json.lock")
        replies: list[dict[str, Any]] = []
        waiter = threading.Thread(target=lambda: replies.append(helper.call("signOut", {}, timeout=30)))
        waiter.start()
        waiter.join(1.0)
        assert not replies, "signOut did not wait for the lock: the lock is not shared between processes"
        holder.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up runs
        holder.wait()
        killed_at = time.monotonic()
        waiter.join(10)
        assert replies and replies[0]["result"] == {"signedOut": True}, replies
        assert time.monotonic() - killed_at < 3.0  # promptly, not after LOCK_TIMEOUT_SECONDS (15 s)
        if os.name != "nt":  # Windows' filelock removes its lock file on release, so the helper's write took it away
            assert (
                config_dir / "config.json.lock"
            ).exists()  # the dead holder's lock file is still there, and harmless
        assert helper.request("getStatus")["signedIn"] is False
    finally:
        assert helper.close() == 0


@pytest.mark.timeout(60)
def test_a_lock_held_by_a_hung_process_gives_a_clear_error_instead_of_waiting_forever(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(token_store, "LOCK_TIMEOUT_SECONDS", 1.0)
    store = TokenStore(config_dir)
    store.update(lambda c: (c.with_profile("default", Profile(client_id="kept")), None))
    holder = hold_lock(config_dir / "config.json.lock")
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            store.update(lambda c: (c.with_profile("default", Profile(client_id="changed")), None))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    try:
        started = time.monotonic()
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        writer.join(10)
        assert outcome, "the writer is still waiting for a lock held by a hung process"
        assert time.monotonic() - started < 5
        error = outcome[0]
        assert isinstance(error, ConfigUnreadable) and "lock" in error.message, error
        assert error.data["path"] == str(store.path)
    finally:
        holder.kill()
        holder.wait()
    assert store.read().profile("default").client_id == "kept"
    store.update(lambda c: (c.with_profile("default", Profile(client_id="changed")), None))
    assert store.read().profile("default").client_id == "changed"
