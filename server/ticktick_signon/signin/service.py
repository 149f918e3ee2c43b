"""The sign-on use cases (start, complete, token, verify, status, sign out) over the store, network and listener.

Both the JSON-RPC helper and the CLI drive this one class. The OAuth rules live
in ``oauth``; here they meet the cache, the token endpoint and the loopback
listeners (kept by ``listeners.LoopbackListeners``), with the clock and
randomness injected so tests can swap them. Results are the frozen values of
``results``; the helper's ``wire`` module turns them into JSON.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core import issuers, oauth
from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.messages import StartParams
from ticktick_signon.core.records import Cache, PendingSignon, Profile, Token
from ticktick_signon.errors import AuthorizationDenied
from ticktick_signon.signin.listeners import LoopbackEvents, LoopbackListeners
from ticktick_signon.signin.results import ProfileStatus, SignOutReport, StartResult, TokenResult, VerifyResult

if TYPE_CHECKING:  # imported where used: http.server (loopback) weighs on every helper's start-up
    from ticktick_signon.imports.formats import FoundToken
    from ticktick_signon.imports.importer import ImportResult, TokenImporter

log = logging.getLogger(__name__)


class Exchange(Protocol):
    def __call__(self, request: oauth.TokenRequest, clock: Callable[[], float], timeout: float) -> Token: ...


def _default_exchange(request: oauth.TokenRequest, clock: Callable[[], float], timeout: float) -> Token:
    from ticktick_signon.upstream.token_exchange import exchange_code  # deferred: pulls in httpx

    return exchange_code(request, clock, timeout)


class Verifier(Protocol):
    def __call__(self, api_base: str, access_token: str, timeout: float) -> int: ...


def _default_verifier(api_base: str, access_token: str, timeout: float) -> int:
    from ticktick_signon.upstream.api_client import projects_status  # deferred: pulls in httpx

    return projects_status(api_base, access_token, timeout)


def _state_bytes(count: int) -> bytes:
    import secrets  # deferred: it loads hashlib and OpenSSL, which getToken never needs

    return secrets.token_bytes(count)


def _provider_name(saved: Profile) -> str:
    """The name of the profile's issuer for messages; TickTick for a profile bound to none yet."""
    return saved.issuer.name if saved.issuer else "TickTick"


class SignInService:
    """Runs sign-ons and hands out tokens for any number of profiles.

    Args:
        store: the token cache.
        clock: unix seconds (``time.time``).
        random_bytes: source of state randomness (``secrets.token_bytes``).
        environ: where pyticktick's credential names and overrides are read.
        exchange: performs the token request (``token_exchange.exchange_code``).
        verifier: asks the API whether a token works (``api_client.projects_status``).
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
        verifier: Verifier = _default_verifier,
        http_timeout: float = 20.0,
        events: LoopbackEvents | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        self._random_bytes = random_bytes
        self._environ = environ
        self._exchange = exchange
        self._verifier = verifier
        self._http_timeout = http_timeout
        self._events = events
        self._listeners = LoopbackListeners(store, clock, lambda url: self.complete(url, None), lambda: self._events)
        self._warmed = False
        self._importer: TokenImporter | None = None  # built on the first import: start-up never imports
        self._importer_lock = threading.Lock()

    def set_events(self, events: LoopbackEvents | None) -> None:
        """Choose who hears about sign-ons the loopback listener finishes."""
        self._events = events

    # -- startSignon ---------------------------------------------------------

    def start(self, params: StartParams) -> StartResult:
        """Begin a sign-on: issue a state, remember it, and listen on loopback if asked.

        Returns:
            The authorize URL to open, the state, and whether a listener waits for the browser.

        Raises:
            InvalidParams: missing credentials, bad redirect URL or region.
            IssuerMismatch: the profile's saved client secret would go to another provider than its issuer.
            ConfigUnreadable: the cache file cannot be used.
        """
        cache = self.store.read()
        saved = cache.profile(params.profile)
        credentials = oauth.resolve_credentials(params.credentials(), saved, self._environ)
        base = oauth.auth_base(credentials.region, self._environ.get(oauth.ENV_AUTH_URL))
        if saved.client_secret and credentials.client_secret == saved.client_secret:
            # The saved secret, whether the request left it out or the CLI passed it on: the code
            # exchange would send it (Basic auth) to ``base``. Checked here, before any state exists.
            issuers.check_send(saved.issuer, Issuer.at(base), "client secret", params.profile)
        now = self._clock()
        pending, authorize_url = oauth.start_sign_in(credentials, params.profile, base, now, self._random_bytes)

        def remember(cache: Cache) -> tuple[Cache, None]:
            # One sign-on per profile: a new start replaces (and kills) the old state.
            live = oauth.prune_expired(cache.pending, now)
            kept = {s: p for s, p in live.items() if p.profile != params.profile}
            kept[pending.state] = pending
            return cache.with_pending(kept), None

        with self._listeners.ending():
            self.store.update(remember)
            self._listeners.close(params.profile)
        # Listen straight after the cache names the new state: a listener of another process
        # that this start replaced closes when it sees that, and its port is then anyone's.
        listening = params.listen and self._listeners.listen(pending)
        if not self._warmed:
            # httpx takes about half a second to import; the user is in the browser meanwhile.
            self._warmed = True
            from ticktick_signon.upstream.http import warm_imports

            warm_imports()
        log.info("Sign-on started for profile %r (listening: %s)", params.profile, listening)
        return StartResult(
            authorize_url=authorize_url,
            state=pending.state,
            redirect_url=pending.redirect_url,
            profile=pending.profile,
            listening=listening,
            state_expires_at=pending.expires_at,
        )

    # -- completeSignon ------------------------------------------------------

    def complete(self, redirect_url: str, profile: str | None) -> TokenResult:
        """Finish a sign-on from the URL the browser was redirected to.

        Checks, in order: the URL and its state, the live sign-on it belongs to,
        ``error=``, the code; then exchanges the code and saves token and settings.

        Returns:
            The new token, as ``get_token`` gives it.

        Raises:
            InvalidParams, StateMismatch, NoPendingSignon, AuthorizationDenied,
            IssuerMismatch (the sign-on would post the profile's saved secret to another
            provider than its issuer; the sign-on is over), TokenExchangeFailed,
            NetworkError, ConfigUnreadable.
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

        with self._listeners.ending():
            pending, code = self.store.update(claim)
            self._listeners.close(pending.profile)
        if isinstance(code, AuthorizationDenied):
            log.info("Sign-on for profile %r was denied by the provider", pending.profile)
            raise code
        saved = self.store.read().profile(pending.profile)
        if saved.client_secret and pending.client_secret == saved.client_secret:
            # Checked at start too; this covers a sign-on another process (or an older version) started.
            issuers.check_send(saved.issuer, Issuer.at(pending.auth_base), "client secret", pending.profile)
        token = self._exchange(oauth.build_token_request(pending, code), self._clock, self._http_timeout)

        def save(cache: Cache) -> tuple[Cache, None]:
            settings = Profile(
                client_id=pending.client_id,
                client_secret=pending.client_secret,
                redirect_url=pending.redirect_url,
                region=pending.region,
                token=token,
                issuer=Issuer.at(pending.auth_base),  # a new token belongs to whoever issued it
            )
            return cache.with_profile(pending.profile, settings), None

        self.store.update(save)
        log.info("Sign-on completed for profile %r", pending.profile)
        return TokenResult.of(token, pending.profile, self._clock())

    # -- getToken / getStatus / signOut --------------------------------------

    def get_token(self, profile: str, min_valid_seconds: int = 0) -> TokenResult:
        """Return the profile's token if valid for ``min_valid_seconds`` more.

        Raises:
            NotSignedIn, TokenExpired, ConfigUnreadable.
        """
        now = self._clock()
        saved = self.store.read().profile(profile)
        token = oauth.check_token(saved.token, now, min_valid_seconds, _provider_name(saved))
        return TokenResult.of(token, profile, now)

    # -- importToken ---------------------------------------------------------

    def import_file(self, path: Path, profile: str, fmt: str = "auto", force: bool = False) -> ImportResult:
        """Import the token another tool keeps in the file at ``path`` into ``profile``.

        Args:
            path: the token file (absolute).
            profile: the profile to save it to.
            fmt: ``auto`` or one of ``imports.formats.FORMATS``.
            force: replace a valid token the profile already has.

        Returns:
            What was saved.

        Raises:
            See ``TokenImporter.import_file``: InvalidParams, TokenExpired,
            ProviderError, NetworkError, ConfigUnreadable.
        """
        return self._token_importer().import_file(path, profile, fmt, force)

    def import_found(self, found: FoundToken, source: str, profile: str, force: bool = False) -> ImportResult:
        """Import a token already read (pyticktick's variables in the environment); see ``import_file``.

        Args:
            found: what was read.
            source: how messages name where it came from ("the environment").
            profile: the profile to save it to.
            force: replace a valid token the profile already has.
        """
        return self._token_importer().import_found(found, source, profile, force)

    def _token_importer(self) -> TokenImporter:
        with self._importer_lock:
            if self._importer is None:
                from ticktick_signon.imports.importer import TokenImporter  # deferred: start-up never imports

                self._importer = TokenImporter(
                    self.store,
                    self._verifier,
                    clock=self._clock,
                    environ=self._environ,
                    http_timeout=self._http_timeout,
                )
            return self._importer

    # -- verifyToken ---------------------------------------------------------

    def verify(self, profile: str) -> VerifyResult:
        """Ask the profile's issuer whether its token still works (``GET /open/v1/project``).

        The token goes only to the provider that issued it: the environment's
        provider (``TICKTICK_SIGNON_AUTH_URL``, else the region's) must be it.
        A refused token is kept: whether to sign in again is the user's call.

        Returns:
            Whether the issuer accepts the token, and when it was asked.

        Raises:
            NotSignedIn, TokenExpired, ProviderError (an answer other than 200
            or 401), NetworkError, InvalidParams (a bad TICKTICK_SIGNON_AUTH_URL),
            IssuerMismatch (the environment's provider is not the profile's
            issuer: nothing was sent), ConfigUnreadable.
        """
        saved = self.store.read().profile(profile)
        token = oauth.check_token(saved.token, self._clock(), 0, _provider_name(saved))
        override = self._environ.get(oauth.ENV_AUTH_URL)
        region = saved.region or oauth.DEFAULT_REGION
        destination = Issuer.at(oauth.auth_base(region, override))
        issuers.check_send(saved.issuer, destination, "token", profile)
        base = oauth.api_base(region, override)
        valid = oauth.verdict(self._verifier(base, token.access_token, self._http_timeout), destination.name)
        log.info("%s %s the token of profile %r", destination.name, "accepts" if valid else "refuses", profile)
        return VerifyResult(profile=profile, valid=valid, checked_at=int(self._clock()))

    def status(self, profile: str) -> ProfileStatus:
        """Return what is known of a profile; never its secret or token.

        Raises:
            ConfigUnreadable: the cache file cannot be used.
        """
        now = self._clock()
        cache = self.store.read()
        saved = cache.profile(profile)
        token = saved.token
        live = oauth.prune_expired(cache.pending, now)
        return ProfileStatus(
            profile=profile,
            signed_in=token is not None and now < token.expires_at,
            expires_at=token.expires_at if token else None,
            expires_in=oauth.seconds_left(token.expires_at, now) if token else None,
            expires_at_estimated=token is not None and token.estimated,
            pending_signon=any(p.profile == profile for p in live.values()),
            region=saved.region,
            client_id=saved.client_id,
            sandbox=saved.sandbox,
            issuer=saved.issuer,
            config_path=str(self.store.path),
        )

    def sign_out(self, profile: str, forget: bool = False) -> SignOutReport:
        """Drop the profile's token (and with ``forget`` its saved settings) and any pending sign-on.

        Returns:
            What changed: the token removed, the settings forgotten, a sign-in cancelled.

        Raises:
            ConfigUnreadable: the cache file cannot be used.
        """

        def drop(cache: Cache) -> tuple[Cache, SignOutReport]:
            saved = cache.profile(profile)
            kept = Profile() if forget else dataclasses.replace(saved, token=None)
            pending = {s: p for s, p in cache.pending.items() if p.profile != profile}
            report = SignOutReport(
                token_removed=saved.token is not None,
                settings_forgotten=forget and not dataclasses.replace(saved, token=None).is_empty(),
                sign_in_cancelled=len(pending) < len(cache.pending),
            )
            return cache.with_profile(profile, kept).with_pending(pending), report

        with self._listeners.ending():
            self._listeners.close(profile)
            report = self.store.update(drop)
        log.info("Signed out profile %r (%s, forget: %s)", profile, report, forget)
        return report

    def cancel_sign_in(self, state: str) -> bool:
        """Abandon one started sign-on: forget its pending state and stop its listener; tokens stay.

        Returns:
            Whether the sign-on was still pending.

        Raises:
            ConfigUnreadable: the cache file cannot be used.
        """
        self._listeners.close_state(state)

        def drop(cache: Cache) -> tuple[Cache, bool]:
            rest = {s: p for s, p in cache.pending.items() if s != state}
            return cache.with_pending(rest), len(rest) < len(cache.pending)

        cancelled = self.store.update(drop)
        log.info("Sign-on cancelled (it was %s)", "pending" if cancelled else "no longer pending")
        return cancelled

    def close(self) -> None:
        """Stop every loopback listener and let the pages being answered go out (the helper is exiting)."""
        # A redirect being answered may still be exchanging its code (up to the HTTP timeout).
        self._listeners.close_all(self._http_timeout + 5)
