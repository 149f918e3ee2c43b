"""The loopback listeners of one sign-in service: at most one per profile, and who hears what they end.

``SignInService`` asks for a listener when a sign-in starts and closes it when
the sign-in ends by other means (a pasted redirect, a newer start, a sign-out).
This class keeps that bookkeeping: which listener belongs to which profile,
finishing a sign-in from the redirect a listener caught, noticing that another
process ended or replaced the sign-in meanwhile, and telling the client
(``LoopbackEvents``) once the browser has its page.

``signin/loopback.py`` (http.server) is imported on the first listener only:
it weighs on every helper's start-up.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core import oauth
from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.records import PendingSignon
from ticktick_signon.core.urls import loopback_address
from ticktick_signon.errors import InternalError, InvalidParams, NoPendingSignon, SignonError, StateMismatch

if TYPE_CHECKING:
    from ticktick_signon.signin.loopback import LoopbackListener, Outcome
    from ticktick_signon.signin.results import TokenResult

log = logging.getLogger(__name__)


class LoopbackEvents(Protocol):
    """Told when a loopback listener finishes a sign-on by itself."""

    def completed(self, profile: str, expires_at: int) -> None: ...

    def failed(self, profile: str, error: SignonError) -> None: ...


class LoopbackListeners:
    """The loopback listeners of one service, one per profile.

    Args:
        store: the token cache, read to see whether a listener's sign-in is still pending.
        clock: unix seconds.
        complete: finishes a sign-in from a redirect URL (``SignInService.complete``).
        events: returns who hears about sign-ins the listeners end (it may change, so it is asked each time).
    """

    def __init__(
        self,
        store: TokenStore,
        clock: Callable[[], float],
        complete: Callable[[str], TokenResult],
        events: Callable[[], LoopbackEvents | None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._complete = complete
        self._events = events
        self._by_profile: dict[str, LoopbackListener] = {}
        self._lock = threading.Lock()
        # Held while this helper ends a sign-on itself (start, complete, signOut), so a
        # listener does not take that for a sign-on ended by another process.
        self._ending = threading.Lock()
        # Every listener ever started and still alive, so ``close_all`` also waits for
        # the pages of listeners already dropped from ``_by_profile``.
        self._started: weakref.WeakSet[LoopbackListener] = weakref.WeakSet()

    @contextmanager
    def ending(self) -> Iterator[None]:
        """Hold while ending a sign-on in this process: its listener then leaves the client to the caller."""
        with self._ending:
            yield

    def listen(self, pending: PendingSignon) -> bool:
        """Start listening for ``pending``'s redirect, if its redirect URL is a loopback one.

        Returns:
            Whether a listener now waits (False: not a loopback URL, or its port is taken).
        """
        address = loopback_address(pending.redirect_url)
        if address is None:
            return False
        from ticktick_signon.signin.loopback import LoopbackListener

        host, port, path = address
        parts = pending.redirect_url.split("/", 3)
        listener = LoopbackListener(
            host,
            port,
            path,
            pending.state,
            redirect_base="/".join(parts[:3]),
            on_redirect=lambda url: self._finish(pending.profile, url, Issuer.at(pending.auth_base).name),
            ttl=max(0.0, pending.expires_at - self._clock()),
            check=lambda state: self._check(pending, listener, state),
        )
        listener.on_expire = lambda: self._expired(pending.profile, listener)
        if not listener.start():
            return False
        with self._lock:
            self._by_profile[pending.profile] = listener
            self._started.add(listener)
        return True

    def close(self, profile: str) -> None:
        """Stop the profile's listener, if it has one; nobody is told (the caller ends the sign-on)."""
        with self._lock:
            listener = self._by_profile.pop(profile, None)
        if listener is not None:
            listener.close()

    def close_state(self, state: str) -> None:
        """Stop the listener waiting for the sign-on with this ``state``, if any."""
        with self._lock:
            profiles = [name for name, listener in self._by_profile.items() if listener.state == state]
        for profile in profiles:
            self.close(profile)

    def close_all(self, wait_seconds: float) -> None:
        """Stop every listener, then wait up to ``wait_seconds`` each for the pages being answered."""
        with self._lock:
            listeners, self._by_profile = list(self._started), {}
        for listener in listeners:
            listener.close()
        for listener in listeners:
            listener.wait_answered(wait_seconds)

    def _finish(self, profile: str, url: str, provider: str = "TickTick") -> Outcome:
        """Finish a sign-on from the listener; whoever waits hears of it once the browser has its page.

        ``provider`` is the issuer's name, for the page ("Signed in to the sandbox").
        """
        from ticktick_signon.signin.loopback import Outcome

        events = self._events()
        failure: SignonError | None = None
        try:
            result = self._complete(url)
        except (NoPendingSignon, StateMismatch):
            # Its state went a moment ago: pasted, replaced or signed out by another process.
            return Outcome(
                False, "Sign-in already ended", "This sign-in was finished, replaced or cancelled elsewhere."
            )
        except InvalidParams:
            # A malformed or oversized URL: the sign-on is untouched, so keep waiting for the real one.
            return Outcome(
                False,
                "Not a usable sign-in redirect",
                "This address cannot finish the sign-in; the sign-in is still waiting for the real redirect.",
                final=False,
            )
        except SignonError as error:
            failure = error  # ``error`` itself is unbound once the except block ends
        except Exception:
            # A bug, or a platform limit nobody foresaw: the browser still gets its page and the
            # client its signonFailed, instead of a dropped connection and a client waiting forever.
            log.exception("Finishing the sign-on from its redirect failed unexpectedly")
            failure = InternalError(
                "The sign-in failed unexpectedly; the helper's log says why. Start signing in again."
            )
        if failure is not None:
            tell_failed = (lambda: events.failed(profile, failure)) if events else None
            return Outcome(False, "Sign-in failed", failure.message, after_page=tell_failed)
        expires_at = result.expires_at
        tell_completed = (lambda: events.completed(profile, expires_at)) if events else None
        return Outcome(True, f"Signed in to {provider}", "ticktick-signon has your token.", after_page=tell_completed)

    def _check(self, pending: PendingSignon, listener: LoopbackListener, state: str | None) -> Outcome | None:
        """None while the listener's sign-on still waits in the shared cache; else tell its client, and the page.

        Another process may replace the sign-on (a ``startSignon`` for the same
        profile) or end it (a pasted redirect, ``signOut``) while this listener
        holds the port.
        """
        from ticktick_signon.signin.loopback import Outcome

        if not self._ending.acquire(blocking=False):
            return None  # this helper is ending it itself, and closes the listener
        try:
            now = self._clock()
            if now >= pending.expires_at:
                # The wall clock says the link expired while the listener's (monotonic) timer still runs:
                # a suspend or an NTP step. Tell the client now, and the browser that the link expired.
                return self._expired_by_clock(pending, listener)
            try:
                live = oauth.prune_expired(self._store.read().pending, now)
            except SignonError:
                return None  # finishing will report the unreadable cache
            if pending.state in live:
                return None
            with self._lock:
                if self._by_profile.get(pending.profile) is not listener:
                    return None
                del self._by_profile[pending.profile]
        finally:
            self._ending.release()
        newer = next((p for p in live.values() if p.profile == pending.profile), None)
        if newer is None:
            error = NoPendingSignon(
                "This sign-in was finished or cancelled by another program; call getToken, or start signing in again.",
                reason="endedElsewhere",
            )
            page = Outcome(False, "Sign-in already ended", "This sign-in was finished or cancelled by another program.")
        else:
            error = NoPendingSignon(
                f"Another program started a new sign-in for profile '{pending.profile}', which replaced this one; "
                "finish it there, or start signing in again.",
                reason="replaced",
            )
            page = (
                Outcome(
                    False,
                    "Paste this address to finish",
                    "This sign-in was started by another program, which could not listen on this port. Copy this "
                    "page's address from the address bar and paste it where that program asks for the redirect URL.",
                )
                if state == newer.state
                else Outcome(
                    False, "Sign-in link replaced", "A newer sign-in was started for this profile; use its link."
                )
            )
        log.info(
            "Sign-on for profile %r ended elsewhere (%s); closing its listener", pending.profile, error.data["reason"]
        )
        events = self._events()
        return dataclasses.replace(page, after_page=(lambda: events.failed(pending.profile, error)) if events else None)

    def _expired_by_clock(self, pending: PendingSignon, listener: LoopbackListener) -> Outcome | None:
        """The page and the client's ``signonFailed`` for a sign-on the wall clock has expired; None if not ours."""
        from ticktick_signon.signin.loopback import Outcome

        with self._lock:
            if self._by_profile.get(pending.profile) is not listener:
                return None  # replaced or closed already: nobody is waiting on it
            del self._by_profile[pending.profile]
        log.info("Sign-on for profile %r expired by the clock; closing its listener", pending.profile)
        events = self._events()
        error = _link_expired()
        return Outcome(
            False,
            "Sign-in link expired",
            "This sign-in link expired after 10 minutes; start signing in again.",
            after_page=(lambda: events.failed(pending.profile, error)) if events else None,
        )

    def _expired(self, profile: str, listener: LoopbackListener) -> None:
        with self._lock:
            if self._by_profile.get(profile) is not listener:
                return  # replaced or closed already: nobody is waiting on it
            del self._by_profile[profile]
        events = self._events()
        if events:
            events.failed(profile, _link_expired())


def _link_expired() -> NoPendingSignon:
    """The error a client hears when its sign-in link's time ran out (no ``reason``: nobody else ended it)."""
    return NoPendingSignon("The sign-in link expired after 10 minutes; start signing in again.")
