"""The sign-on use cases (start, complete, token, status, sign out) over the store, network and listener.

Both the JSON-RPC helper and the CLI drive this one class. The OAuth rules live
in ``oauth``; here they meet the cache, the token endpoint and the loopback
listener, all injected so tests can swap the clock and randomness.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from . import oauth
from .errors import AuthorizationDenied, NoPendingSignon, SignonError, StateMismatch
from .messages import StartParams
from .records import Cache, PendingSignon, Profile, Token
from .token_store import TokenStore

if TYPE_CHECKING:  # imported where used: http.server (loopback) weighs on every helper's start-up
    from .loopback import LoopbackListener, Outcome

log = logging.getLogger(__name__)


class Exchange(Protocol):
    def __call__(self, request: oauth.TokenRequest, clock: Callable[[], float], timeout: float) -> Token: ...


def _default_exchange(request: oauth.TokenRequest, clock: Callable[[], float], timeout: float) -> Token:
    from .token_exchange import exchange_code  # deferred: pulls in httpx

    return exchange_code(request, clock, timeout)


def _state_bytes(count: int) -> bytes:
    import secrets  # deferred: it loads hashlib and OpenSSL, which getToken never needs

    return secrets.token_bytes(count)


class LoopbackEvents(Protocol):
    """Told when a loopback listener finishes a sign-on by itself."""

    def completed(self, profile: str, expires_at: int) -> None: ...

    def failed(self, profile: str, error: SignonError) -> None: ...


class SignonService:
    """Runs sign-ons and hands out tokens for any number of profiles.

    Args:
        store: the token cache.
        clock: unix seconds (``time.time``).
        random_bytes: source of state randomness (``secrets.token_bytes``).
        environ: where pyticktick's credential names and overrides are read.
        exchange: performs the token request (``token_exchange.exchange_code``).
        http_timeout: seconds for each token-endpoint call.
        events: told about sign-ons the loopback listener finishes.
    """

    def __init__(
        self,
        store: TokenStore,
        *,
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = _state_bytes,
        environ: Mapping[str, str] = os.environ,
        exchange: Exchange = _default_exchange,
        http_timeout: float = 20.0,
        events: LoopbackEvents | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        self._random_bytes = random_bytes
        self._environ = environ
        self._exchange = exchange
        self._http_timeout = http_timeout
        self._events = events
        self._listeners: dict[str, LoopbackListener] = {}
        self._listeners_lock = threading.Lock()

    def set_events(self, events: LoopbackEvents | None) -> None:
        """Choose who hears about sign-ons the loopback listener finishes."""
        self._events = events

    # -- startSignon ---------------------------------------------------------

    def start(self, params: StartParams) -> dict[str, Any]:
        """Begin a sign-on: issue a state, remember it, and listen on loopback if asked.

        Returns:
            ``{authorizeUrl, state, redirectUrl, profile, listening, stateExpiresAt}``.

        Raises:
            InvalidParams: missing credentials, bad redirect URL or region.
            ConfigUnreadable: the cache file cannot be used.
        """
        cache = self.store.read()
        credentials = oauth.resolve_credentials(params.credentials(), cache.profile(params.profile), self._environ)
        base = oauth.auth_base(credentials.region, self._environ.get(oauth.ENV_AUTH_URL))
        now = self._clock()
        pending, authorize_url = oauth.start_signon(credentials, params.profile, base, now, self._random_bytes)

        def remember(cache: Cache) -> tuple[Cache, None]:
            # One sign-on per profile: a new start replaces (and kills) the old state.
            live = oauth.prune_expired(cache.pending, now)
            kept = {s: p for s, p in live.items() if p.profile != params.profile}
            kept[pending.state] = pending
            return cache.with_pending(kept), None

        self.store.update(remember)
        self._close_listener(params.profile)
        listening = params.listen and self._listen(pending)
        log.info("Sign-on started for profile %r (listening: %s)", params.profile, listening)
        return {
            "authorizeUrl": authorize_url,
            "state": pending.state,
            "redirectUrl": pending.redirect_url,
            "profile": pending.profile,
            "listening": listening,
            "stateExpiresAt": pending.expires_at,
        }

    def _listen(self, pending: PendingSignon) -> bool:
        address = oauth.loopback_address(pending.redirect_url)
        if address is None:
            return False
        from .loopback import LoopbackListener

        host, port, path = address
        parts = pending.redirect_url.split("/", 3)
        listener = LoopbackListener(
            host,
            port,
            path,
            pending.state,
            redirect_base="/".join(parts[:3]),
            on_redirect=lambda url: self._finish_from_listener(pending.profile, url),
            ttl=max(0.0, pending.expires_at - self._clock()),
        )
        listener.on_expire = lambda: self._listener_expired(pending.profile, listener)
        if not listener.start():
            return False
        with self._listeners_lock:
            self._listeners[pending.profile] = listener
        return True

    def _finish_from_listener(self, profile: str, url: str) -> Outcome:
        from .loopback import Outcome

        try:
            result = self.complete(url, None)
        except (NoPendingSignon, StateMismatch):
            # Someone pasted the redirect first: that sign-on already finished.
            return Outcome(False, "Already handled", "This sign-in was already finished elsewhere.")
        except SignonError as error:
            # Events go out once the page is sent (Outcome.then): a CLI that hears one exits.
            return Outcome(False, "Sign-in failed", error.message, then=self._tell("failed", profile, error))
        return Outcome(
            True,
            "Signed in to TickTick",
            "ticktick-signon has your token.",
            then=self._tell("completed", profile, result["expiresAt"]),
        )

    def _tell(self, event: str, *args: Any) -> Callable[[], None]:
        """A call of ``event`` on the events sink (if any), to make later."""
        return lambda: None if self._events is None else getattr(self._events, event)(*args)

    def _listener_expired(self, profile: str, listener: LoopbackListener) -> None:
        with self._listeners_lock:
            if self._listeners.get(profile) is not listener:
                return  # replaced or closed already: nobody is waiting on it
            del self._listeners[profile]
        if self._events:
            self._events.failed(
                profile,
                NoPendingSignon("The sign-in link expired after 10 minutes; start signing in again."),
            )

    def _close_listener(self, profile: str) -> None:
        with self._listeners_lock:
            listener = self._listeners.pop(profile, None)
        if listener is not None:
            listener.close()

    # -- completeSignon ------------------------------------------------------

    def complete(self, redirect_url: str, profile: str | None) -> dict[str, Any]:
        """Finish a sign-on from the URL the browser was redirected to.

        Checks, in order: the URL and its state, the live sign-on it belongs to,
        ``error=``, the code; then exchanges the code and saves token and settings.

        Returns:
            The token result, as ``getToken`` gives it.

        Raises:
            InvalidParams, StateMismatch, NoPendingSignon, AuthorizationDenied,
            TokenExchangeFailed, NetworkError, ConfigUnreadable.
        """
        redirect = oauth.parse_redirect(redirect_url)
        now = self._clock()

        def claim(cache: Cache) -> tuple[Cache, tuple[PendingSignon, str | AuthorizationDenied]]:
            pending = oauth.find_pending(cache.pending, redirect, now, profile)
            rest = {s: p for s, p in oauth.prune_expired(cache.pending, now).items() if s != pending.state}
            try:
                code: str | AuthorizationDenied = oauth.check_redirect(pending, redirect)
            except AuthorizationDenied as denied:
                code = denied  # a refusal ends the sign-on too: consume its state
            return cache.with_pending(rest), (pending, code)

        pending, code = self.store.update(claim)
        self._close_listener(pending.profile)
        if isinstance(code, AuthorizationDenied):
            log.info("Sign-on for profile %r was denied by the provider", pending.profile)
            raise code
        token = self._exchange(oauth.build_token_request(pending, code), self._clock, self._http_timeout)

        def save(cache: Cache) -> tuple[Cache, None]:
            settings = Profile(
                client_id=pending.client_id,
                client_secret=pending.client_secret,
                redirect_url=pending.redirect_url,
                region=pending.region,
                token=token,
            )
            return cache.with_profile(pending.profile, settings), None

        self.store.update(save)
        log.info("Sign-on completed for profile %r", pending.profile)
        return oauth.token_result(token, pending.profile, self._clock())

    # -- getToken / getStatus / signOut --------------------------------------

    def get_token(self, profile: str, min_valid_seconds: int = 0) -> dict[str, Any]:
        """Return the profile's token if valid for ``min_valid_seconds`` more.

        Raises:
            NotSignedIn, TokenExpired, ConfigUnreadable.
        """
        now = self._clock()
        token = oauth.check_token(self.store.read().profile(profile).token, now, min_valid_seconds)
        return oauth.token_result(token, profile, now)

    def status(self, profile: str) -> dict[str, Any]:
        """Return what is known of a profile; never its secret or token.

        Raises:
            ConfigUnreadable: the cache file cannot be used.
        """
        now = self._clock()
        cache = self.store.read()
        saved = cache.profile(profile)
        token = saved.token
        live = oauth.prune_expired(cache.pending, now)
        return {
            "profile": profile,
            "signedIn": token is not None and now < token.expires_at,
            "expiresAt": token.expires_at if token else None,
            "expiresIn": oauth.seconds_left(token.expires_at, now) if token else None,
            "pendingSignon": any(p.profile == profile for p in live.values()),
            "region": saved.region,
            "clientId": saved.client_id,
            "configPath": str(self.store.path),
        }

    def sign_out(self, profile: str, forget: bool = False) -> dict[str, Any]:
        """Drop the profile's token (and with ``forget`` its saved settings) and any pending sign-on.

        Returns:
            ``{signedOut}``: true if a token was removed, false if there was none.

        Raises:
            ConfigUnreadable: the cache file cannot be used.
        """
        self._close_listener(profile)

        def drop(cache: Cache) -> tuple[Cache, bool]:
            saved = cache.profile(profile)
            kept = Profile() if forget else Profile(
                client_id=saved.client_id,
                client_secret=saved.client_secret,
                redirect_url=saved.redirect_url,
                region=saved.region,
            )
            pending = {s: p for s, p in cache.pending.items() if p.profile != profile}
            return cache.with_profile(profile, kept).with_pending(pending), saved.token is not None

        removed = self.store.update(drop)
        log.info("Signed out profile %r (token removed: %s, forget: %s)", profile, removed, forget)
        return {"signedOut": removed}

    def close(self) -> None:
        """Stop every loopback listener (the helper is exiting)."""
        with self._listeners_lock:
            listeners, self._listeners = list(self._listeners.values()), {}
        for listener in listeners:
            listener.close()
