"""Typed records of the cache file (profiles, tokens, pending sign-ons) and their JSON form.

Pure: no I/O. ``Cache.from_json`` raises ``ValueError`` on a document of the
wrong shape; the token store turns that into ``ConfigUnreadable``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


def _str(obj: dict[str, Any], key: str, *, optional: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer")
    return value


@dataclass(frozen=True)
class Token:
    """An access token and when it stops working (unix seconds)."""

    access_token: str
    token_type: str
    scope: str
    expires_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "accessToken": self.access_token,
            "tokenType": self.token_type,
            "scope": self.scope,
            "expiresAt": self.expires_at,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Token:
        if not isinstance(obj, dict):
            raise ValueError("token must be an object")
        return cls(
            access_token=_str(obj, "accessToken"),  # type: ignore[arg-type]
            token_type=_str(obj, "tokenType"),  # type: ignore[arg-type]
            scope=_str(obj, "scope"),  # type: ignore[arg-type]
            expires_at=_int(obj, "expiresAt"),
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
    def from_json(cls, obj: Any) -> Profile:
        if not isinstance(obj, dict):
            raise ValueError("profile must be an object")
        token = obj.get("token")
        return cls(
            client_id=_str(obj, "clientId", optional=True),
            client_secret=_str(obj, "clientSecret", optional=True),
            redirect_url=_str(obj, "redirectUrl", optional=True),
            region=_str(obj, "region", optional=True),
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
    def from_json(cls, obj: Any) -> PendingSignon:
        if not isinstance(obj, dict):
            raise ValueError("pending sign-on must be an object")
        return cls(
            state=_str(obj, "state"),  # type: ignore[arg-type]
            profile=_str(obj, "profile"),  # type: ignore[arg-type]
            client_id=_str(obj, "clientId"),  # type: ignore[arg-type]
            client_secret=_str(obj, "clientSecret"),  # type: ignore[arg-type]
            redirect_url=_str(obj, "redirectUrl"),  # type: ignore[arg-type]
            region=_str(obj, "region"),  # type: ignore[arg-type]
            auth_base=_str(obj, "authBase"),  # type: ignore[arg-type]
            expires_at=_int(obj, "expiresAt"),
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
        if not isinstance(obj, dict):
            raise ValueError("the cache must be a JSON object")
        version = obj.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(f"unsupported cache version {version!r}")
        profiles = obj.get("profiles", {})
        pending = obj.get("pendingSignons", {})
        if not isinstance(profiles, dict) or not isinstance(pending, dict):
            raise ValueError("profiles and pendingSignons must be objects")
        return cls(
            profiles={str(k): Profile.from_json(v) for k, v in profiles.items()},
            pending={str(k): PendingSignon.from_json(v) for k, v in pending.items()},
        )
