"""Tells a helper's client when a profile's token changes or nears its expiry, whoever changed it.

``TokenTracker`` is pure: fed the cache document and the time, it returns the
notifications due (``tokenChanged``, ``tokenExpiring``). ``TokenWatcher`` is the
thread that feeds it, one ``TokenStore.read()`` per poll, which costs a single
``stat`` while nothing changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.oauth import seconds_left
from ticktick_signon.core.records import Cache, Token
from ticktick_signon.errors import ConfigUnreadable

log = logging.getLogger(__name__)

#: Seconds between two looks at the cache: a change reaches the client within about this long.
POLL_SECONDS = 0.25
#: ``tokenExpiring`` is sent once when fewer than this many seconds are left...
EXPIRING_SOON_SECONDS = 7 * 86400
#: ...and once more when fewer than this many are left.
EXPIRING_VERY_SOON_SECONDS = 86400

Notice = tuple[str, dict[str, Any]]


def _warning_stage(seconds: float) -> int:
    """0: no warning due; 1: under 7 days left; 2: under 24 hours left."""
    if seconds < EXPIRING_VERY_SOON_SECONDS:
        return 2
    return 1 if seconds < EXPIRING_SOON_SECONDS else 0


class TokenTracker:
    """Remembers each profile's token and which expiry warnings it got; pure (no I/O, no clock).

    The first ``observe`` sets the baseline: it announces no change, only the
    expiry warnings already due.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, Token] | None = None
        self._signed_in: dict[str, bool] = {}
        self._warned: dict[str, int] = {}

    def observe(self, cache: Cache, now: float) -> list[Notice]:
        """Compare ``cache`` at time ``now`` with what was seen before.

        Args:
            cache: the current cache document.
            now: unix seconds.

        Returns:
            ``(method, params)`` pairs to send, in order: a profile's
            ``tokenChanged`` comes before its ``tokenExpiring``.
        """
        tokens = {name: p.token for name, p in cache.profiles.items() if p.token is not None}
        before = self._tokens
        notices: list[Notice] = []
        signed_in: dict[str, bool] = {}
        for name in sorted(tokens.keys() | (before or {}).keys()):
            token = tokens.get(name)
            live = signed_in[name] = token is not None and now < token.expires_at
            if before is not None and before.get(name) != token:
                self._warned.pop(name, None)  # a new token gets its own warnings
                notices.append(_changed(name, token, live))
            elif before is not None and self._signed_in.get(name, False) != live:
                notices.append(_changed(name, token, live))  # it passed its expiry
            if token is None or not live:
                continue
            stage = _warning_stage(token.expires_at - now)
            if stage > self._warned.get(name, 0):
                # A token that arrives with under 24 hours left gets one warning, not two at once.
                self._warned[name] = stage
                notices.append(_expiring(name, token, now))
        self._tokens = tokens
        self._signed_in = signed_in
        self._warned = {name: stage for name, stage in self._warned.items() if name in tokens}
        return notices


def _changed(profile: str, token: Token | None, signed_in: bool) -> Notice:
    expires_at = token.expires_at if token is not None else None
    return "tokenChanged", {"profile": profile, "signedIn": signed_in, "expiresAt": expires_at}


def _expiring(profile: str, token: Token, now: float) -> Notice:
    return "tokenExpiring", {
        "profile": profile,
        "expiresAt": token.expires_at,
        "expiresIn": seconds_left(token.expires_at, now),
    }


class TokenWatcher:
    """A daemon thread that polls the cache and hands each notification due to ``send``.

    Args:
        store: the token cache to watch.
        send: called as ``send(method, params)`` from the watcher's thread.
        clock: unix seconds (``time.time``).
        interval: seconds between polls.
    """

    def __init__(
        self,
        store: TokenStore,
        send: Callable[[str, dict[str, Any]], None],
        *,
        clock: Callable[[], float] = time.time,
        interval: float = POLL_SECONDS,
    ) -> None:
        self._store = store
        self._send = send
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="token-watcher", daemon=True)

    def start(self) -> None:
        """Take the first look now (so any later change is reported), then watch on a thread."""
        self._thread.start()
        self._started.wait()

    def stop(self) -> None:
        """Stop watching and wait for the thread (at most one poll)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        tracker = TokenTracker()
        trouble: str | None = None  # what went wrong at the last look, said once until it is over
        try:
            while True:
                notices: list[Notice] = []
                try:
                    notices = tracker.observe(self._store.read(), self._clock())
                    trouble = None
                except ConfigUnreadable:  # requests report it; the watcher waits for a fix
                    if trouble != "unreadable":
                        log.warning("The cache cannot be read; token changes are not watched until it is fixed")
                    trouble = "unreadable"
                except Exception:  # the watcher must never take the helper down
                    if trouble != "unexpected":
                        log.exception("Watching the cache failed; trying again")
                    trouble = "unexpected"
                self._started.set()
                if not self._deliver(notices) or self._stop.wait(self._interval):
                    return
        finally:
            self._started.set()  # start() never waits on a thread that is gone

    def _deliver(self, notices: list[Notice]) -> bool:
        for method, params in notices:
            try:
                self._send(method, params)
            except (BrokenPipeError, ValueError, OSError):  # the client closed stdout: nobody to tell
                log.info("The client stopped reading; no more token notifications")
                return False
            log.info("Sent %s for profile %r", method, params["profile"])
        return True
