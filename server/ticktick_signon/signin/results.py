"""What the sign-in use cases return: frozen values, in Python's names.

``SignInService`` returns these; the JSON-RPC helper (``helper/wire.py``) is the
one place that turns them into the protocol's camelCase results, and the CLI
reads their attributes. Pure data: no I/O, nothing heavy imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.oauth import seconds_left
from ticktick_signon.core.records import Token


@dataclass(frozen=True)
class StartResult:
    """A started sign-in (``startSignon``).

    Attributes:
        authorize_url: the page where the user allows the app.
        state: the CSRF state the redirect must carry back.
        redirect_url: where the provider sends the browser afterwards.
        profile: the profile the token will be saved to.
        listening: whether a loopback listener waits for the browser at ``redirect_url``.
        state_expires_at: unix seconds after which the state (and its listener) is dead.
    """

    authorize_url: str
    state: str
    redirect_url: str
    profile: str
    listening: bool
    state_expires_at: int


@dataclass(frozen=True)
class TokenResult:
    """A valid token of a profile (``getToken``, ``completeSignon``).

    Attributes:
        access_token: the bearer token; never logged.
        token_type: as the provider named it (``bearer``).
        scope: the scopes granted.
        expires_at: unix seconds.
        expires_in: whole seconds left when the result was made.
        profile: whose token it is.
    """

    access_token: str = field(repr=False)  # kept out of logs and tracebacks
    token_type: str
    scope: str
    expires_at: int
    expires_in: int
    profile: str

    @classmethod
    def of(cls, token: Token, profile: str, now: float) -> TokenResult:
        """The result for ``token`` of ``profile`` at unix time ``now``."""
        return cls(
            access_token=token.access_token,
            token_type=token.token_type,
            scope=token.scope,
            expires_at=token.expires_at,
            expires_in=seconds_left(token.expires_at, now),
            profile=profile,
        )


@dataclass(frozen=True)
class ProfileStatus:
    """What is known of a profile (``getStatus``); never its secret or token.

    Attributes:
        profile: the profile's name.
        signed_in: it has a token that has not expired.
        expires_at: the token's expiry (unix seconds), None without a token.
        expires_in: whole seconds left, None without a token.
        expires_at_estimated: the expiry is an import's estimate, not the provider's.
        pending_signon: a sign-in for it waits for its redirect.
        region: the saved region, None if none was saved.
        client_id: the saved app's client id, None if none was saved.
        sandbox: it was signed in to a local sandbox provider (``issuer.local``).
        config_path: the cache file's path.
        issuer: the provider its token and client secret belong to; None when it holds nothing of one.
    """

    profile: str
    signed_in: bool
    expires_at: int | None
    expires_in: int | None
    expires_at_estimated: bool
    pending_signon: bool
    region: str | None
    client_id: str | None
    sandbox: bool
    config_path: str
    issuer: Issuer | None = None


@dataclass(frozen=True)
class SignOutReport:
    """What a sign-out changed (``signOut``, the CLI's ``logout``).

    Attributes:
        token_removed: the profile had a token, now gone.
        settings_forgotten: saved app settings were dropped (``forget``).
        sign_in_cancelled: a pending sign-in of the profile was cancelled.
    """

    token_removed: bool
    settings_forgotten: bool
    sign_in_cancelled: bool


@dataclass(frozen=True)
class VerifyResult:
    """The issuer's verdict on a profile's token (``verifyToken``).

    Attributes:
        profile: whose token was checked.
        valid: the issuer accepted it.
        checked_at: unix seconds of the check.
    """

    profile: str
    valid: bool
    checked_at: int
