"""The OAuth2 authorization-code flow of TickTick's Open API, as pure functions.

No I/O here: the clock (``now``) and randomness (``random_bytes``) come in as
arguments, and the token exchange is described (``TokenRequest``) for the
network edge to perform, like httpx's ``Auth.auth_flow``.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ticktick_signon.core import issuers, pyticktick_names
from ticktick_signon.core.cache_format import access_token_problem, unix_time_problem
from ticktick_signon.core.records import PendingSignon, Profile, Token
from ticktick_signon.core.urls import check_http_url, is_loopback_host, same_origin_and_path
from ticktick_signon.errors import (
    AuthorizationDenied,
    InvalidParams,
    NoPendingSignon,
    NotSignedIn,
    ProviderError,
    StateMismatch,
    TokenExchangeFailed,
    TokenExpired,
)

SCOPE = "tasks:read tasks:write"
DEFAULT_REDIRECT_URL = "http://127.0.0.1:8080/"
DEFAULT_REGION = "ticktick"
AUTH_BASES = issuers.REGION_URLS
API_BASES = {"ticktick": "https://api.ticktick.com", "dida365": "https://api.dida365.com"}
#: A cheap Open API call that works exactly when the token does.
VERIFY_PATH = "/open/v1/project"
#: A state dies this many seconds after ``startSignon`` (and its listener with it).
STATE_TTL_SECONDS = 600
#: 256 bits: well above the 128 the spec asks for.
STATE_BYTES = 32
#: Longer than any real token lifetime (TickTick's is about 6 months); beyond it
#: the provider's answer is treated as broken rather than cached for decades.
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600

#: The app's credentials in pyticktick's environment names (their one home is core/pyticktick_names.py).
ENV_CLIENT_ID = pyticktick_names.CLIENT_ID
ENV_CLIENT_SECRET = pyticktick_names.CLIENT_SECRET
ENV_REDIRECT_URL = pyticktick_names.OAUTH_REDIRECT_URL
ENV_AUTH_URL = "TICKTICK_SIGNON_AUTH_URL"


@dataclass(frozen=True)
class Credentials:
    """An app's client id, secret and redirect URL, and the region it lives in."""

    client_id: str
    client_secret: str
    redirect_url: str
    region: str


@dataclass(frozen=True)
class Redirect:
    """What the provider put in the redirect URL."""

    url: str
    state: str
    code: str | None
    error: str | None
    error_description: str | None


@dataclass(frozen=True)
class TokenRequest:
    """A token-endpoint call for the network edge: POST ``form`` to ``url`` with Basic auth.

    ``provider`` is the issuer's name, for the messages of a failed exchange.
    """

    url: str
    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    form: dict[str, str] = dataclasses.field(repr=False)  # holds the authorization code
    provider: str = "TickTick"


def check_region(region: str) -> str:
    """Return ``region`` if TickTick has it: ``"ticktick"`` or ``"dida365"``.

    Raises:
        InvalidParams: any other region; ``data.allowed`` lists the regions.
    """
    if region not in AUTH_BASES:
        raise InvalidParams("region must be 'ticktick' or 'dida365'.", field="region", allowed=sorted(AUTH_BASES))
    return region


def auth_base(region: str, override: str | None = None) -> str:
    """Return the provider's base URL for a region.

    Args:
        region: ``"ticktick"`` or ``"dida365"``.
        override: ``TICKTICK_SIGNON_AUTH_URL`` if set (the sandbox, a proxy).

    Returns:
        The base URL without a trailing slash.

    Raises:
        InvalidParams: the region is unknown or the override is not an http(s) URL.
    """
    check_region(region)
    if override:
        url = check_http_url(override, ENV_AUTH_URL)
        parts = urlsplit(url)
        if parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname or ""):
            raise InvalidParams(
                f"{ENV_AUTH_URL} is plain http to {parts.hostname}, so your client secret and the "
                "authorization code would cross the network unencrypted; use https:// (only a loopback "
                "host such as 127.0.0.1 may use http).",
                field=ENV_AUTH_URL,
            )
        return url.rstrip("/")
    return AUTH_BASES[region]


def api_base(region: str, override: str | None = None) -> str:
    """Return the Open API's base URL for a region.

    ``TICKTICK_SIGNON_AUTH_URL`` moves the API too: a stand-in provider (the
    sandbox) serves ``/oauth/...`` and ``/open/v1/...`` from one base.

    Raises:
        InvalidParams: the region is unknown or the override is not an http(s) URL.
    """
    if override:
        return auth_base(region, override)
    auth_base(region)  # checks the region
    return API_BASES[region]


def verdict(status: int, provider: str = "TickTick") -> bool:
    """Read the answer to ``GET /open/v1/project``: True for 200, False for 401 (the token is refused).

    Args:
        status: the HTTP status.
        provider: the issuer's name, for the message (``Issuer.name``).

    Raises:
        ProviderError: any other status says nothing about the token (TickTick
            has answered 500 ``access_forbidden`` to working tokens).
    """
    if status == 200:
        return True
    if status == 401:
        return False
    raise ProviderError(
        f"{provider[:1].upper()}{provider[1:]}'s API answered HTTP {status}, which says nothing about the token; "
        "try again later.",
        status=status,
    )


def new_state(random_bytes: Callable[[int], bytes]) -> str:
    """Return a fresh, URL-safe CSRF state from ``random_bytes`` (e.g. ``secrets.token_bytes``)."""
    return base64.urlsafe_b64encode(random_bytes(STATE_BYTES)).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class FoundCredentials:
    """Each credential from the first place that gives it (None where none does), and the redirect URL's source."""

    client_id: str | None
    client_secret: str | None
    redirect_url: str | None
    #: ``"request"``, ``"saved"`` or ``"environment"``; None when nothing gave a redirect URL.
    redirect_url_from: str | None


def find_credentials(
    requested: Mapping[str, str | None],
    saved: Profile,
    environ: Mapping[str, str],
) -> FoundCredentials:
    """The credential order, in its one home: the request, else the profile's saved ones, else pyticktick's env names.

    The request is a ``startSignon``'s params or the command line's flags.
    Nothing is checked or defaulted here: ``resolve_credentials`` does that for
    the service, and the CLI asks for what is missing.

    Args:
        requested: ``clientId``, ``clientSecret``, ``redirectUrl`` (each optional; empty counts as not given).
        saved: the profile's saved settings.
        environ: the environment (``ENV_CLIENT_ID``, ``ENV_CLIENT_SECRET``, ``ENV_REDIRECT_URL``).

    Returns:
        What was found, and where the redirect URL came from.
    """
    redirect_urls = (
        ("request", requested.get("redirectUrl")),
        ("saved", saved.redirect_url),
        ("environment", environ.get(ENV_REDIRECT_URL)),
    )
    redirect_from, redirect_url = next(((source, url) for source, url in redirect_urls if url), (None, None))
    return FoundCredentials(
        client_id=requested.get("clientId") or saved.client_id or environ.get(ENV_CLIENT_ID) or None,
        client_secret=requested.get("clientSecret") or saved.client_secret or environ.get(ENV_CLIENT_SECRET) or None,
        redirect_url=redirect_url,
        redirect_url_from=redirect_from,
    )


def resolve_credentials(
    requested: Mapping[str, str | None],
    saved: Profile,
    environ: Mapping[str, str],
) -> Credentials:
    """Pick each credential in ``find_credentials``' order; the redirect URL defaults, the rest must be found.

    Args:
        requested: ``clientId``, ``clientSecret``, ``redirectUrl``, ``region`` (each optional).
        saved: the profile's saved settings.
        environ: the process environment.

    Returns:
        The credentials; the redirect URL falls back to ``http://127.0.0.1:8080/``.

    Raises:
        InvalidParams: client id or secret are nowhere; ``data.missing`` names them.
    """
    found = find_credentials(requested, saved, environ)
    client_id, secret = found.client_id, found.client_secret
    redirect = found.redirect_url or DEFAULT_REDIRECT_URL
    region = requested.get("region") or saved.region or DEFAULT_REGION
    missing = [name for name, value in (("clientId", client_id), ("clientSecret", secret)) if not value]
    if missing:
        raise InvalidParams(
            f"Give {' and '.join(missing)} (from {apps_page(region, environ.get(ENV_AUTH_URL))}), "
            f"or set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}.",
            missing=missing,
        )
    check_http_url(redirect, "redirectUrl")
    return Credentials(client_id, secret, redirect, region)  # type: ignore[arg-type]


#: Where each region's developers register their apps (client id, secret, redirect URL).
APPS_PAGES = {"ticktick": "developer.ticktick.com/manage", "dida365": "developer.dida365.com/manage"}


def apps_page(region: str, override: str | None = None) -> str:
    """Where the app's credentials are, in words: the region's developer page, or the override's own app.

    Args:
        region: ``ticktick`` or ``dida365`` (anything else reads as TickTick's).
        override: ``TICKTICK_SIGNON_AUTH_URL`` if set: its apps are not on TickTick's page.
    """
    if override:
        return f"the app you registered with the provider at {override.strip()} ({ENV_AUTH_URL})"
    return f"your app at {APPS_PAGES.get(region, APPS_PAGES[DEFAULT_REGION])}"


def build_authorize_url(base: str, client_id: str, redirect_url: str, state: str) -> str:
    """Return the URL that asks the user to allow the app, as TickTick's spec gives it."""
    query = urlencode(
        {
            "client_id": client_id,
            "scope": SCOPE,
            "state": state,
            "redirect_uri": redirect_url,
            "response_type": "code",
        }
    )
    return f"{base}/oauth/authorize?{query}"


def start_sign_in(
    credentials: Credentials,
    profile: str,
    base: str,
    now: float,
    random_bytes: Callable[[int], bytes],
) -> tuple[PendingSignon, str]:
    """Begin a sign-on.

    Returns:
        The pending sign-on to keep, and the authorize URL to open.
    """
    state = new_state(random_bytes)
    pending = PendingSignon(
        state=state,
        profile=profile,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        redirect_url=credentials.redirect_url,
        region=credentials.region,
        auth_base=base,
        expires_at=int(now) + STATE_TTL_SECONDS,
    )
    return pending, build_authorize_url(base, credentials.client_id, credentials.redirect_url, state)


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def parse_redirect(url: Any) -> Redirect:
    """Read state, code and error out of the URL the browser was sent to.

    Raises:
        InvalidParams: not an absolute http(s) URL, or no ``state`` in it.
    """
    url = check_http_url(url, "redirectUrl")
    query = parse_qs(urlsplit(url).query, keep_blank_values=True, errors="replace")
    state = _first(query, "state")
    if not state:
        raise InvalidParams(
            "The redirect URL has no state; paste the whole address the browser was sent to.",
            field="redirectUrl",
        )
    return Redirect(
        url=url,
        state=state,
        code=_first(query, "code") or None,
        error=_first(query, "error") or None,
        error_description=_first(query, "error_description"),
    )


def prune_expired(pending: Mapping[str, PendingSignon], now: float) -> dict[str, PendingSignon]:
    """Return only the sign-ons whose state is still alive at ``now``."""
    return {state: p for state, p in pending.items() if now < p.expires_at}


def find_pending(
    pending: Mapping[str, PendingSignon], redirect: Redirect, now: float, profile: str | None
) -> PendingSignon:
    """Find the live sign-on a redirect belongs to, by its state.

    Args:
        pending: pending sign-ons by state.
        redirect: the parsed redirect.
        now: unix seconds.
        profile: the ``profile`` param if the client sent one.

    Raises:
        StateMismatch: the state is unknown while some sign-on is pending.
        NoPendingSignon: nothing is pending (never started, used, or expired).
        InvalidParams: the sign-on belongs to another profile than the one named.
    """
    live = prune_expired(pending, now)
    found = live.get(redirect.state)
    if found is None:
        if live:
            raise StateMismatch(
                "This redirect does not belong to the sign-on in progress; open the latest sign-in link and try again."
            )
        raise NoPendingSignon(
            "No sign-on is waiting for this redirect (it was used, expired after "
            "10 minutes, or never started); start signing in again."
        )
    if profile is not None and profile != found.profile:
        raise InvalidParams(
            f"This redirect belongs to profile '{found.profile}', not '{profile}'; "
            "leave out profile or name the right one.",
            field="profile",
        )
    return found


def check_redirect(pending: PendingSignon, redirect: Redirect) -> str:
    """Check a redirect against its sign-on and return the authorization code.

    Raises:
        InvalidParams: the redirect went to another address than the one issued,
            or carries no code.
        AuthorizationDenied: the provider sent ``error=`` (``data.error`` holds it).
    """
    if not same_origin_and_path(redirect.url, pending.redirect_url):
        raise InvalidParams(
            "The redirect URL does not go to the address this sign-on was started "
            "with; paste the address the browser was sent to.",
            field="redirectUrl",
        )
    if redirect.error:
        data: dict[str, str] = {"error": redirect.error[:200]}
        if redirect.error_description:
            data["errorDescription"] = redirect.error_description[:500]
        raise AuthorizationDenied(
            f"{issuers.Issuer.at(pending.auth_base).title} did not allow access (the sign-in was refused or "
            "cancelled); sign in again and choose Allow.",
            **data,
        )
    if not redirect.code:
        raise InvalidParams(
            "The redirect URL has no code; paste the whole address the browser was sent to.",
            field="redirectUrl",
        )
    return redirect.code


def build_token_request(pending: PendingSignon, code: str) -> TokenRequest:
    """Describe the code-for-token exchange; the secret goes in Basic auth, never the URL."""
    return TokenRequest(
        url=f"{pending.auth_base}/oauth/token",
        client_id=pending.client_id,
        client_secret=pending.client_secret,
        form={
            "code": code,
            "grant_type": "authorization_code",
            "scope": SCOPE,
            "redirect_uri": pending.redirect_url,
        },
        provider=issuers.Issuer.at(pending.auth_base).name,
    )


def parse_token_response(status: int, body: Any, now: float, provider: str = "TickTick") -> Token:
    """Turn the token endpoint's answer into a token that expires at ``now + expires_in``.

    Args:
        status: the HTTP status.
        body: the decoded JSON body, or ``None`` if it was not JSON.
        now: unix seconds at the time of the exchange.
        provider: the issuer's name, for the messages (``TokenRequest.provider``).

    Raises:
        TokenExchangeFailed: a non-2xx status or a body that is not a valid token;
            ``data.status`` and ``data.error`` say which.
    """
    error = body.get("error") if isinstance(body, dict) else None
    if not 200 <= status < 300:
        error = error if isinstance(error, str) else None
        hint = {
            "invalid_client": "check the client id and secret of your app",
            "invalid_grant": "the code was used or expired, or the redirect URL differs; sign in again",
        }.get(error or "", "check the app's settings and sign in again")
        raise TokenExchangeFailed(
            f"{provider[:1].upper()}{provider[1:]} refused the token request (HTTP {status}); {hint}.",
            status=status,
            error=error[:200] if error else None,
        )

    def invalid(what: str) -> TokenExchangeFailed:
        return TokenExchangeFailed(
            f"{provider[:1].upper()}{provider[1:]}'s token answer is not usable ({what}); try signing in again later.",
            status=status,
            error="invalid_token_response",
        )

    if not isinstance(body, dict):
        raise invalid("not a JSON object")
    access_token = body.get("access_token")
    if access_token is None:
        raise invalid("no access_token")
    # The cache's own rules (cache_format): a token is refused alike here and when read back.
    problem = access_token_problem(access_token)
    if problem:
        raise invalid(f"access_token {problem}")
    expires_in = body.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
        raise invalid("expires_in is missing or not a number")
    if not math.isfinite(expires_in) or not 0 < expires_in <= MAX_EXPIRES_IN:
        raise invalid("expires_in is out of range")
    expires_at = int(now) + int(expires_in)
    if unix_time_problem(expires_at):
        raise invalid("expires_in is out of range")
    token_type = body.get("token_type")
    scope = body.get("scope")
    return Token(
        access_token=access_token,
        token_type=token_type if isinstance(token_type, str) else "bearer",
        scope=scope if isinstance(scope, str) else SCOPE,
        expires_at=expires_at,
    )


def seconds_left(expires_at: int, now: float) -> int:
    """Return whole seconds until ``expires_at`` (never negative)."""
    return max(0, int(expires_at - math.floor(now)))


def check_token(token: Token | None, now: float, min_valid_seconds: int, provider: str = "TickTick") -> Token:
    """Return the token if it stays valid for ``min_valid_seconds`` more.

    Args:
        token: the profile's token, if any.
        now: unix seconds.
        min_valid_seconds: how long it must stay valid.
        provider: the profile's issuer's name, for the messages (``Issuer.name``).

    Raises:
        NotSignedIn: there is no token.
        TokenExpired: ``now >= expiresAt - min_valid_seconds``.
    """
    if token is None:
        raise NotSignedIn(f"Not signed in to {provider}; sign in first.")
    if now >= token.expires_at - min_valid_seconds:
        raise TokenExpired(
            f"The token from {provider} has expired (or expires sooner than asked); sign in again.",
            expiresAt=token.expires_at,
        )
    return token
