"""Typed records of the cache file (profiles, tokens, pending sign-ons) and their JSON form.

Pure: no I/O. ``Cache.from_json`` checks a document with ``cache_format`` (the
one set of rules; it raises ``ValueError``) and builds the records from it; the
token store turns that error into ``ConfigUnreadable``.

Members this version does not know (a newer version's, sharing the cache) are
kept in each record's ``extra`` and written back: the top level always, a
profile, token or pending sign-on as long as it is kept or edited
(``dataclasses.replace``). A record built anew (a new token, a profile signed in
or imported again) has none: what a newer version said about the old one may
not hold for the new one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ticktick_signon.core import issuers
from ticktick_signon.core.cache_format import SCHEMA_VERSION, check_document
from ticktick_signon.core.issuers import Issuer


def _unknown(obj: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in known}


def _with_extra(extra: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    return {**extra, **known}  # this version's members win over a same-named unknown one


_TOKEN_MEMBERS = ("accessToken", "tokenType", "scope", "expiresAt", "expiresAtEstimated")
_PROFILE_MEMBERS = ("clientId", "clientSecret", "redirectUrl", "region", "token", "sandbox", "issuer")
_PENDING_MEMBERS = ("state", "profile", "clientId", "clientSecret", "redirectUrl", "region", "authBase", "expiresAt")
_CACHE_MEMBERS = ("version", "profiles", "pendingSignons")


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working (unix seconds).

    ``estimated``: the expiry is a guess (180 days from an import), not the provider's.
    """

    access_token: str
    token_type: str
    scope: str
    expires_at: int
    estimated: bool = False
    #: Members this version does not know (kept, never read); repr-less, as a newer version's may be secret.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accessToken": self.access_token,
            "tokenType": self.token_type,
            "scope": self.scope,
            "expiresAt": self.expires_at,
        }
        if self.estimated:
            out["expiresAtEstimated"] = True
        return _with_extra(self.extra, out)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Token:
        """Build from a token that ``check_document`` accepted."""
        return cls(
            access_token=obj["accessToken"],
            token_type=obj["tokenType"],
            scope=obj["scope"],
            expires_at=obj["expiresAt"],
            estimated=obj.get("expiresAtEstimated") is True,  # anything else: the provider's own expiry
            extra=_unknown(obj, _TOKEN_MEMBERS),
        )


@dataclass(frozen=True)
class Profile:
    """What a profile remembers: the app's credentials (saved on success), its token, and who issued both.

    ``issuer`` is the provider the token and the client secret belong to
    (``issuers.check_send`` keeps them there); None when the profile holds
    nothing an issuer gave.
    """

    client_id: str | None = None
    client_secret: str | None = None
    redirect_url: str | None = None
    region: str | None = None
    token: Token | None = None
    issuer: Issuer | None = None
    #: Members this version does not know (kept, never read); repr-less, as a newer version's may be secret.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def sandbox(self) -> bool:
        """It was signed in to a local stand-in provider (the sandbox), not TickTick or Dida365."""
        return self.issuer is not None and self.issuer.local

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "redirectUrl": self.redirect_url,
            "region": self.region,
            "token": self.token.to_json() if self.token else None,
            "issuer": self.issuer.url if self.issuer else None,
            # Still written: older versions sharing the cache know a sandbox profile only by it.
            "sandbox": True if self.sandbox else None,
        }
        return _with_extra(self.extra, {key: value for key, value in out.items() if value is not None})

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Profile:
        """Build from a profile that ``check_document`` accepted; an old profile's issuer is derived."""
        token = obj.get("token")
        recorded = obj.get("issuer")
        if isinstance(recorded, str):
            issuer: Issuer | None = Issuer.at(recorded)
        else:
            # Written before issuers were recorded (or by an older version, which drops the member).
            holds = token is not None or bool(obj.get("clientSecret"))
            issuer = issuers.derive(obj.get("sandbox") is True, obj.get("region"), holds)
        return cls(
            client_id=obj.get("clientId"),
            client_secret=obj.get("clientSecret"),
            redirect_url=obj.get("redirectUrl"),
            region=obj.get("region"),
            token=Token.from_json(token) if token is not None else None,
            issuer=issuer,
            extra=_unknown(obj, _PROFILE_MEMBERS),
        )

    def is_empty(self) -> bool:
        return self == Profile()


@dataclass(frozen=True)
class PendingSignon:
    """A started sign-on, waiting for its redirect; everything needed to finish it anywhere."""

    state: str
    profile: str
    client_id: str
    client_secret: str
    redirect_url: str
    region: str
    auth_base: str
    expires_at: int
    #: Members this version does not know (kept, never read).
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return self.extra | {
            "state": self.state,
            "profile": self.profile,
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "redirectUrl": self.redirect_url,
            "region": self.region,
            "authBase": self.auth_base,
            "expiresAt": self.expires_at,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PendingSignon:
        """Build from a pending sign-on that ``check_document`` accepted."""
        return cls(
            state=obj["state"],
            profile=obj["profile"],
            client_id=obj["clientId"],
            client_secret=obj["clientSecret"],
            redirect_url=obj["redirectUrl"],
            region=obj["region"],
            auth_base=obj["authBase"],
            expires_at=obj["expiresAt"],
            extra=_unknown(obj, _PENDING_MEMBERS),
        )


@dataclass(frozen=True)
class Cache:
    """The whole cache document: profiles by name, pending sign-ons by state."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    pending: dict[str, PendingSignon] = field(default_factory=dict)
    #: Top-level members this version does not know (kept, never read).
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def profile(self, name: str) -> Profile:
        return self.profiles.get(name, Profile())

    def with_profile(self, name: str, profile: Profile) -> Cache:
        profiles = dict(self.profiles)
        if profile.is_empty():
            profiles.pop(name, None)
        else:
            profiles[name] = profile
        return dataclasses.replace(self, profiles=profiles)

    def with_pending(self, pending: dict[str, PendingSignon]) -> Cache:
        return dataclasses.replace(self, pending=pending)

    def to_json(self) -> dict[str, Any]:
        return self.extra | {
            "version": SCHEMA_VERSION,
            "profiles": {name: p.to_json() for name, p in sorted(self.profiles.items())},
            "pendingSignons": {s: p.to_json() for s, p in self.pending.items()},
        }

    @classmethod
    def from_json(cls, obj: Any) -> Cache:
        """Check a decoded cache document and build its records.

        Raises:
            ValueError: ``cache_format.check_document`` refused it (the message says why).
        """
        doc = check_document(obj)
        return cls(
            profiles={str(k): Profile.from_json(v) for k, v in doc["profiles"].items()},
            pending={str(k): PendingSignon.from_json(v) for k, v in doc["pendingSignons"].items()},
            extra=_unknown(doc, _CACHE_MEMBERS),
        )
