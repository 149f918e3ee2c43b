"""Typed records of the cache file (profiles, tokens, pending sign-ons) and their JSON form.

Pure: no I/O. ``Cache.from_json`` checks a document with ``cache_format`` (the
one set of rules; it raises ``ValueError``) and builds the records from it; the
token store turns that error into ``ConfigUnreadable``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ticktick_signon.core.cache_format import SCHEMA_VERSION, check_document


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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accessToken": self.access_token,
            "tokenType": self.token_type,
            "scope": self.scope,
            "expiresAt": self.expires_at,
        }
        if self.estimated:
            out["expiresAtEstimated"] = True
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Token:
        """Build from a token that ``check_document`` accepted."""
        return cls(
            access_token=obj["accessToken"],
            token_type=obj["tokenType"],
            scope=obj["scope"],
            expires_at=obj["expiresAt"],
            estimated=obj.get("expiresAtEstimated") is True,  # anything else: the provider's own expiry
        )


@dataclass(frozen=True)
class Profile:
    """What a profile remembers: the app's credentials (saved on success) and its token.

    ``sandbox`` marks a sign-on against a local stand-in provider, not TickTick.
    """

    client_id: str | None = None
    client_secret: str | None = None
    redirect_url: str | None = None
    region: str | None = None
    token: Token | None = None
    sandbox: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "redirectUrl": self.redirect_url,
            "region": self.region,
            "token": self.token.to_json() if self.token else None,
            "sandbox": True if self.sandbox else None,
        }
        return {key: value for key, value in out.items() if value is not None}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Profile:
        """Build from a profile that ``check_document`` accepted."""
        token = obj.get("token")
        return cls(
            client_id=obj.get("clientId"),
            client_secret=obj.get("clientSecret"),
            redirect_url=obj.get("redirectUrl"),
            region=obj.get("region"),
            token=Token.from_json(token) if token is not None else None,
            sandbox=obj.get("sandbox") is True,  # anything else (absent, odd) is a real TickTick profile
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

    def to_json(self) -> dict[str, Any]:
        return {
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
        )


@dataclass(frozen=True)
class Cache:
    """The whole cache document: profiles by name, pending sign-ons by state."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    pending: dict[str, PendingSignon] = field(default_factory=dict)

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
        return {
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
        )
