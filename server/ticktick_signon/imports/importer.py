"""Importing a token another tool keeps (pyticktick, ticktick-py, ticktick-mcp) into a profile.

The use case over the token store and the provider's API: the file is read by
``files`` and understood by ``formats``; here the token is checked (not
expired; verified with its provider when the file has no expiry) and saved with
the app settings found beside it, as a sign-in would save them.

An imported token belongs to the environment's provider (``TICKTICK_SIGNON_AUTH_URL``,
else the region's): the check asks it and the profile is bound to it. A token
some profile already holds keeps that profile's issuer (``issuers.check_send``),
and a profile bound to another provider is rebound only with ``force``, losing
that provider's app settings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core import issuers, oauth
from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.records import Cache, Profile, Token
from ticktick_signon.errors import InvalidParams, TokenExpired
from ticktick_signon.imports.formats import FoundToken, read_token_text

log = logging.getLogger(__name__)

#: TickTick's tokens last about 180 days; an import without an expiry is given this much from now.
ESTIMATED_LIFETIME_SECONDS = 15_552_000


@dataclass(frozen=True)
class ImportResult:
    """What an import saved (``importToken``, the CLI's ``import``); never the token itself.

    Attributes:
        profile: the profile the token went to.
        format: the file's format (``pyticktick``, ``ticktick-py``, ``ticktick-mcp``).
        expires_at: the token's expiry, unix seconds.
        expires_in: whole seconds left at the import.
        expires_at_estimated: the file kept no expiry, so ``expires_at`` is an estimate.
        client_id: the profile's app client id after the import, None if none is known.
    """

    profile: str
    format: str
    expires_at: int
    expires_in: int
    expires_at_estimated: bool
    client_id: str | None


class TokenImporter:
    """Saves tokens found in other tools' files to profiles.

    Args:
        store: the token cache.
        verifier: asks the API whether a token works (``api_client.projects_status``).
        clock: unix seconds.
        environ: where ``TICKTICK_SIGNON_AUTH_URL`` is read.
        http_timeout: seconds for the API call.
    """

    def __init__(
        self,
        store: TokenStore,
        verifier: Callable[[str, str, float], int],
        *,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str],
        http_timeout: float,
    ) -> None:
        self._store = store
        self._verifier = verifier
        self._clock = clock
        self._environ = environ
        self._http_timeout = http_timeout

    def import_file(self, path: Path, profile: str, fmt: str = "auto", force: bool = False) -> ImportResult:
        """Import the token in the file at ``path`` (see ``import_found``)."""
        from ticktick_signon.imports.files import read_token_file

        return self.import_found(read_token_text(read_token_file(path), str(path), fmt), str(path), profile, force)

    def import_found(self, found: FoundToken, source: str, profile: str, force: bool = False) -> ImportResult:
        """Save a found token to ``profile``, with the app settings found beside it.

        Args:
            found: what the file held.
            source: how to name where it came from in messages (a path, "the environment").
            profile: the profile to save it to.
            force: replace a valid token the profile already has.

        Returns:
            What was saved.

        Raises:
            TokenExpired: the file's token has expired.
            InvalidParams: the provider refused a token without expiry (``field: "path"``), or the
                profile has another valid token, or belongs to another provider, and ``force``
                is false (``field: "force"``).
            IssuerMismatch: a profile already holds this token from another provider than
                the environment's; nothing was sent.
            ProviderError, NetworkError: checking a token without expiry failed.
            ConfigUnreadable: the cache file cannot be used.
        """
        now = self._clock()
        if found.expires_at is not None and now >= found.expires_at:
            raise TokenExpired(
                f"The token in {source} has expired, so it was not imported; sign in instead.",
                expiresAt=found.expires_at,
            )
        destination = Issuer.at(oauth.auth_base(found.region, self._environ.get(oauth.ENV_AUTH_URL)))
        _check_known_token(self._store.read(), found.access_token, destination)
        if found.expires_at is None:
            self._check_with_provider(found, source, destination)
        estimate = Token(found.access_token, "bearer", oauth.SCOPE, int(now) + ESTIMATED_LIFETIME_SECONDS, True)

        def save(cache: Cache) -> tuple[Cache, Profile]:
            _check_known_token(cache, found.access_token, destination)  # again under the lock
            saved = cache.profile(profile)
            _refuse_to_replace(saved.token, found, profile, now, force)
            _refuse_to_rebind(saved, destination, profile, force)
            new = _imported_profile(saved, found, estimate, destination)
            return cache.with_profile(profile, new), new

        imported = self._store.update(save)
        token = imported.token
        assert token is not None
        log.info("Imported a %s token into profile %r (estimated expiry: %s)", found.format, profile, token.estimated)
        return ImportResult(
            profile=profile,
            format=found.format,
            expires_at=token.expires_at,
            expires_in=oauth.seconds_left(token.expires_at, now),
            expires_at_estimated=token.estimated,
            client_id=imported.client_id,
        )

    def _check_with_provider(self, found: FoundToken, source: str, destination: Issuer) -> None:
        base = oauth.api_base(found.region, self._environ.get(oauth.ENV_AUTH_URL))
        if not oauth.verdict(self._verifier(base, found.access_token, self._http_timeout), destination.name):
            raise InvalidParams(
                f"{destination.title} refused the token in {source} (it has expired, was revoked or "
                "is another provider's), so it was not imported; sign in instead.",
                field="path",
            )


def _check_known_token(cache: Cache, access_token: str, destination: Issuer) -> None:
    """A token some profile already holds is that profile's issuer's: never sent or bound elsewhere."""
    for name, held in sorted(cache.profiles.items()):
        if held.token is not None and held.token.access_token == access_token:
            issuers.check_send(held.issuer, destination, "token", name)


def _refuse_to_rebind(saved: Profile, destination: Issuer, profile: str, force: bool) -> None:
    """A profile holding another provider's token or client secret is rebound only with ``force``."""
    if force or saved.issuer is None or issuers.accepts(saved.issuer, destination):
        return
    if saved.token is None and not saved.client_secret:
        return
    raise InvalidParams(
        f"Profile '{profile}' belongs to {saved.issuer.described()}, and this token is from "
        f"{destination.described()}; import with force (the CLI's --force) to replace its token and app "
        "settings, or import into another profile (--profile).",
        field="force",
    )


def _refuse_to_replace(current: Token | None, found: FoundToken, profile: str, now: float, force: bool) -> None:
    if force or current is None or now >= current.expires_at or current.access_token == found.access_token:
        return
    until = time.strftime("%Y-%m-%d", time.gmtime(current.expires_at))
    raise InvalidParams(
        f"Profile '{profile}' already has a valid token (until {until}); "
        "import with force (the CLI's --force) to replace it.",
        field="force",
    )


def _imported_profile(saved: Profile, found: FoundToken, estimate: Token, issuer: Issuer) -> Profile:
    """The profile after the import, bound to ``issuer``: the found token, and the found app settings over the saved.

    The saved app settings stay only if they are the same provider's; the saved
    redirect URL stays unless the file brings its own app (a client id), since a
    format's default redirect URL (ticktick-mcp's) belongs to no saved app.
    """
    if saved.issuer is not None and not issuers.accepts(saved.issuer, issuer):
        saved = Profile()  # another provider's app settings: never sent to this one
    if found.expires_at is not None:
        token = Token(found.access_token, "bearer", oauth.SCOPE, found.expires_at)
    elif saved.token is not None and saved.token.access_token == found.access_token:
        token = saved.token  # a re-import keeps the expiry it already has (known, or estimated earlier)
    else:
        token = estimate
    client_id: str | None
    if found.client_id and found.client_id != saved.client_id:
        # Another app: none of the saved app's settings belong to it.
        client_id, secret, redirect = found.client_id, found.client_secret, found.redirect_url
    else:
        client_id = saved.client_id or found.client_id
        secret = found.client_secret or saved.client_secret
        # Without a client id the file has no app, so its redirect URL is a format's default (D7).
        redirect = saved.redirect_url if saved.redirect_url and not found.client_id else found.redirect_url
    return Profile(
        client_id=client_id,
        client_secret=secret,
        redirect_url=redirect,
        region=found.region,
        token=token,
        issuer=issuer,
    )
