"""tokenChanged and tokenExpiring: the pure tracker, then real helpers told of changes made by others.

The end-to-end tests drive `ticktick-signon serve` subprocesses over stdio; the
changes come from the helper itself, from another helper, from the CLI and
from another process writing through the real token store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.rpc import HelperProcess
from tests.support.schema import assert_valid
from tests.support.signin import CREDS, sign_in
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.records import Cache, PendingSignon, Profile, Token
from ticktick_signon.helper.watcher import EXPIRING_SOON_SECONDS, EXPIRING_VERY_SOON_SECONDS, TokenTracker

DAY = 86400
NOW = 1_800_000_000.0


def token(expires_at: float, value: str = "7f1c0e4a-5b8e-4c2a-9d3f-000000000001") -> Token:
    return Token(value, "bearer", "tasks:read tasks:write", int(expires_at))


def cache(**tokens: Token | None) -> Cache:
    result = Cache()
    for name, tok in tokens.items():
        result = result.with_profile(name, Profile(client_id="id", client_secret="s", token=tok))
    return result


def changed(profile: str, signed_in: bool, expires_at: int | None) -> tuple[str, dict[str, Any]]:
    return ("tokenChanged", {"profile": profile, "signedIn": signed_in, "expiresAt": expires_at})


def expiring(profile: str, expires_at: int, now: float) -> tuple[str, dict[str, Any]]:
    return ("tokenExpiring", {"profile": profile, "expiresAt": expires_at, "expiresIn": int(expires_at - now)})


# -- the tracker: pure -------------------------------------------------------------------


class TestTracker:
    def test_start_up_announces_no_change_only_warnings_already_due(self) -> None:
        tracker = TokenTracker()
        far, soon = token(NOW + 90 * DAY), token(NOW + 3 * DAY, "other")
        assert tracker.observe(cache(a=far, b=soon, c=None), NOW) == [expiring("b", soon.expires_at, NOW)]
        assert tracker.observe(cache(a=far, b=soon, c=None), NOW + 1) == []

    def test_added_replaced_and_removed(self) -> None:
        tracker = TokenTracker()
        tracker.observe(cache(), NOW)
        first, second = token(NOW + 180 * DAY), token(NOW + 181 * DAY, "second")
        assert tracker.observe(cache(a=first), NOW) == [changed("a", True, first.expires_at)]
        assert tracker.observe(cache(a=second), NOW) == [changed("a", True, second.expires_at)]
        assert tracker.observe(cache(a=None), NOW) == [changed("a", False, None)]
        assert tracker.observe(cache(a=second), NOW) == [changed("a", True, second.expires_at)]
        assert tracker.observe(cache(), NOW) == [changed("a", False, None)]  # the profile itself is gone

    def test_a_new_value_with_the_same_expiry_is_a_change(self) -> None:
        tracker = TokenTracker()
        tracker.observe(cache(a=token(NOW + DAY * 100, "one")), NOW)
        assert tracker.observe(cache(a=token(NOW + DAY * 100, "two")), NOW) == [
            changed("a", True, int(NOW) + DAY * 100)
        ]

    def test_writes_that_leave_the_token_as_it_was_are_silent(self) -> None:
        tracker = TokenTracker()
        tok = token(NOW + 100 * DAY)
        base = cache(a=tok)
        tracker.observe(base, NOW)
        pending = PendingSignon("s" * 43, "a", "id", "s", "http://127.0.0.1:1/", "ticktick", "http://x", int(NOW) + 600)
        assert tracker.observe(base.with_pending({pending.state: pending}), NOW) == []
        resaved = base.with_profile("a", Profile(client_id="new-id", client_secret="new", region="dida365", token=tok))
        assert tracker.observe(resaved, NOW) == []
        assert tracker.observe(resaved.with_profile("b", Profile(client_id="x")), NOW) == []

    def test_the_expiry_moment_is_a_change_to_signed_out(self) -> None:
        tracker = TokenTracker()
        tok = token(NOW + 10)
        assert tracker.observe(cache(a=tok), NOW) == [expiring("a", tok.expires_at, NOW)]
        assert tracker.observe(cache(a=tok), NOW + 9.9) == []
        assert tracker.observe(cache(a=tok), NOW + 10) == [changed("a", False, tok.expires_at)]
        assert tracker.observe(cache(a=tok), NOW + 20) == []

    def test_warned_once_under_seven_days_and_once_more_under_a_day(self) -> None:
        tracker = TokenTracker()
        tok = token(NOW + 8 * DAY)
        assert tracker.observe(cache(a=tok), NOW) == []
        at_7d = tok.expires_at - EXPIRING_SOON_SECONDS + 1
        assert tracker.observe(cache(a=tok), at_7d) == [expiring("a", tok.expires_at, at_7d)]
        assert tracker.observe(cache(a=tok), at_7d + 3600) == []
        at_24h = tok.expires_at - EXPIRING_VERY_SOON_SECONDS + 1
        assert tracker.observe(cache(a=tok), at_24h) == [expiring("a", tok.expires_at, at_24h)]
        assert tracker.observe(cache(a=tok), at_24h + 3600) == []

    def test_a_token_arriving_with_hours_left_is_warned_once(self) -> None:
        tracker = TokenTracker()
        tracker.observe(cache(), NOW)
        tok = token(NOW + 5 * 3600)
        assert tracker.observe(cache(a=tok), NOW) == [
            changed("a", True, tok.expires_at),
            expiring("a", tok.expires_at, NOW),
        ]
        assert tracker.observe(cache(a=tok), NOW + 60) == []

    def test_a_replaced_token_gets_its_own_warnings(self) -> None:
        tracker = TokenTracker()
        old = token(NOW + 2 * DAY)
        tracker.observe(cache(a=old), NOW)
        new = token(NOW + 3 * DAY, "new")
        assert tracker.observe(cache(a=new), NOW) == [
            changed("a", True, new.expires_at),
            expiring("a", new.expires_at, NOW),
        ]
        fresh = token(NOW + 180 * DAY, "fresh")
        assert tracker.observe(cache(a=fresh), NOW) == [changed("a", True, fresh.expires_at)]

    def test_an_expired_token_gets_no_warning(self) -> None:
        tracker = TokenTracker()
        assert tracker.observe(cache(a=token(NOW - 1)), NOW) == []
        assert tracker.observe(cache(a=token(NOW - 1, "other")), NOW) == [changed("a", False, int(NOW) - 1)]


# -- real helpers --------------------------------------------------------------------------


def write_token(config_dir: Path, profile: str, tok: Token | None) -> float:
    """Save (or drop) a profile's token through the real store, as any other process would; returns when done."""

    def change(c: Cache) -> tuple[Cache, None]:
        saved = c.profile(profile)
        return c.with_profile(profile, Profile(saved.client_id or "id", saved.client_secret or "s", token=tok)), None

    TokenStore(config_dir).update(change)
    return time.monotonic()


def validated(message: dict[str, Any]) -> dict[str, Any]:
    assert_valid(None, message)
    assert_valid(f"{message['method']}.params", message["params"])
    return message["params"]


@pytest.fixture
def two_helpers(auth_url: str) -> Any:
    helpers = [HelperProcess.spawn(env=dict(os.environ)) for _ in range(2)]
    for h in helpers:
        h.request("getStatus")  # both are up and watching
    yield helpers
    for h in helpers:
        assert h.close() == 0


def test_a_sign_in_reaches_this_helper_and_another(two_helpers: list[HelperProcess]) -> None:
    one, other = two_helpers
    result = sign_in(one, "work")
    for helper in (one, other):
        params = validated(helper.next_notification("tokenChanged", timeout=10))
        assert params == {"profile": "work", "signedIn": True, "expiresAt": result["expiresAt"]}
    other.request("signOut", {"profile": "work"})
    for helper in (one, other):
        assert validated(helper.next_notification("tokenChanged", timeout=10)) == {
            "profile": "work",
            "signedIn": False,
            "expiresAt": None,
        }
    for helper in (one, other):
        out = helper.stdout_bytes().decode()
        assert out.count(result["accessToken"]) == (1 if helper is one else 0)  # only in completeSignon's reply
        assert helper.drain_notifications(wait=0.6) == []  # nothing more: each change announced once


def test_pending_sign_ons_and_resaved_settings_send_nothing(helper: HelperProcess, config_dir: Path) -> None:
    sign_in(helper)  # its replies come after start-up
    helper.next_notification("tokenChanged", timeout=10)
    helper.request("startSignon", {**CREDS, "listen": False, "redirectUrl": "http://127.0.0.1:9/cb"})
    helper.request(
        "startSignon", {**CREDS, "listen": False, "profile": "other", "redirectUrl": "http://127.0.0.1:9/cb"}
    )

    def resave(c: Cache) -> tuple[Cache, None]:
        saved = c.profile("default")
        return c.with_profile(
            "default", Profile("another-id", "another", "http://127.0.0.1:7/", "dida365", saved.token)
        ), None

    TokenStore(config_dir).update(resave)
    assert helper.drain_notifications(wait=1.0) == []


def test_a_cli_login_and_logout_reach_a_running_helper(helper: HelperProcess) -> None:
    cli = [sys.executable, "-m", "ticktick_signon"]
    helper.request("getStatus")  # it has started: what it saw then is its baseline
    done = subprocess.run([*cli, "login", "--sandbox"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    finished = time.monotonic()
    params = validated(helper.next_notification("tokenChanged", timeout=10))
    arrived = time.monotonic()
    assert params["profile"] == "sandbox" and params["signedIn"] is True
    assert params["expiresAt"] == helper.request("getToken", {"profile": "sandbox"})["expiresAt"]
    # The documented bound is 1 s; the benchmark measures it. Here only a gross miss fails.
    assert arrived - finished < 5
    done = subprocess.run([*cli, "logout", "--profile", "sandbox"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert validated(helper.next_notification("tokenChanged", timeout=10)) == {
        "profile": "sandbox",
        "signedIn": False,
        "expiresAt": None,
    }


def test_expiry_warnings_and_the_expiry_itself(auth_url: str, config_dir: Path) -> None:
    now = int(time.time())
    write_token(config_dir, "soon", token(now + 3 * DAY, "a"))
    write_token(config_dir, "day", token(now + DAY + 3, "b"))
    write_token(config_dir, "far", token(now + 100 * DAY, "c"))
    helper = HelperProcess.spawn(env=dict(os.environ))
    try:
        # At start-up: one warning each for the two under 7 days, and no tokenChanged.
        warned = {}
        for _ in range(2):
            params = validated(helper.next_notification("tokenExpiring", timeout=10))
            warned[params["profile"]] = params
        assert set(warned) == {"soon", "day"}
        assert warned["soon"]["expiresAt"] == now + 3 * DAY
        assert 3 * DAY - 10 <= warned["soon"]["expiresIn"] <= 3 * DAY
        # "day" crosses under 24 hours about 3 s later: once more.
        again = validated(helper.next_notification("tokenExpiring", timeout=10))
        assert again["profile"] == "day" and again["expiresIn"] <= DAY
        # A token expiring in 2 s: a change (signed in), one warning, then the expiry (signed out).
        expires = int(time.time()) + 2
        write_token(config_dir, "soon", token(expires, "d"))
        assert validated(helper.next_notification("tokenChanged", timeout=10)) == {
            "profile": "soon",
            "signedIn": True,
            "expiresAt": expires,
        }
        assert validated(helper.next_notification("tokenExpiring", timeout=10))["expiresAt"] == expires
        assert validated(helper.next_notification("tokenChanged", timeout=10)) == {
            "profile": "soon",
            "signedIn": False,
            "expiresAt": expires,
        }
        assert time.time() >= expires
        assert helper.request("getStatus", {"profile": "soon"})["signedIn"] is False
        assert helper.drain_notifications(wait=0.6) == []
    finally:
        assert helper.close() == 0


def test_an_unreadable_cache_pauses_watching_until_it_is_fixed(helper: HelperProcess, config_dir: Path) -> None:
    sign_in(helper)
    helper.next_notification("tokenChanged", timeout=10)
    good = (config_dir / "config.json").read_bytes()
    (config_dir / "config.json").write_text("{ not a cache")
    time.sleep(0.6)
    assert helper.drain_notifications() == []  # a broken file is not a sign-out
    write = config_dir / "config.json"
    write.write_bytes(json.dumps({"version": 1}).encode())
    assert validated(helper.next_notification("tokenChanged", timeout=10))["signedIn"] is False
    write.write_bytes(good)
    assert validated(helper.next_notification("tokenChanged", timeout=10))["signedIn"] is True
    assert "token changes are not watched" in helper.stderr()


def test_the_watcher_survives_an_unexpected_failure_and_still_starts(caplog: pytest.LogCaptureFixture) -> None:
    """A bug in one look must neither hang the helper's start (start() waits for the first look) nor stop watching."""
    import threading

    from ticktick_signon.helper.watcher import TokenWatcher

    tok = token(time.time() + 100 * DAY)
    looks = iter([RuntimeError("boom"), RuntimeError("boom"), cache(), cache(a=tok)])

    class FlakyStore:
        def read(self) -> Cache:
            look = next(looks, None)
            if isinstance(look, Exception):
                raise look
            return look if look is not None else cache(a=tok)

    sent: list[tuple[str, dict[str, Any]]] = []
    done = threading.Event()

    def send(method: str, params: dict[str, Any]) -> None:
        sent.append((method, params))
        done.set()

    watcher = TokenWatcher(FlakyStore(), send, interval=0.01)  # type: ignore[arg-type]
    watcher.start()  # returns although the first look failed
    try:
        assert done.wait(5), "no notification after the failures"
    finally:
        watcher.stop()
    assert sent == [changed("a", True, tok.expires_at)]
    assert caplog.text.count("Watching the cache failed") == 1  # said once, not at every look


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open descriptors through /proc")
def test_300_changes_are_each_told_and_leave_no_thread_or_descriptor_behind(config_dir: Path) -> None:
    """Issue 18 section 3, an attack that held: the watcher's resources stay flat over 300 changes of the cache."""
    import threading

    from ticktick_signon.helper.watcher import TokenWatcher

    store, writer = TokenStore(config_dir), TokenStore(config_dir)
    writer.update(lambda c: (c.with_profile("default", Profile(token=token(time.time() + 100 * DAY))), None))
    sent: list[dict[str, Any]] = []
    told = threading.Condition()

    def send(method: str, params: dict[str, Any]) -> None:
        with told:
            sent.append(params)
            told.notify_all()

    watcher = TokenWatcher(store, send, interval=0.005)
    watcher.start()
    try:
        threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
        for i in range(300):
            value = f"7f1c0e4a-5b8e-4c2a-9d3f-{i:012d}"
            tok = token(time.time() + 100 * DAY, value)
            writer.update(lambda c, tok=tok: (c.with_profile("default", Profile(token=tok)), None))
            with told:  # each change is seen before the next, so none is merged into another
                assert told.wait_for(lambda i=i: len(sent) >= i + 1, timeout=10), f"change {i} was never told"
        assert len(sent) == 300 and all(params["signedIn"] for params in sent)
        assert threading.active_count() == threads
        assert len(os.listdir("/proc/self/fd")) <= fds + 1  # at most one open now, mid-look
    finally:
        watcher.stop()
