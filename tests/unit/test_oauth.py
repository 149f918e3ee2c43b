"""Pure units: the OAuth core (authorize URL, state, redirect checks, token answers, expiry)."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from ticktick_signon.core import oauth, urls
from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.records import PendingSignon, Profile, Token
from ticktick_signon.errors import (
    AuthorizationDenied,
    InvalidParams,
    NoPendingSignon,
    NotSignedIn,
    StateMismatch,
    TokenExchangeFailed,
    TokenExpired,
)

NOW = 1_800_000_000.0
CREDS = oauth.Credentials("cid", "s3cret", "http://127.0.0.1:8080/", "ticktick")


def fixed_bytes(n: int) -> bytes:
    return bytes(range(n))


def started(now: float = NOW, profile: str = "default") -> tuple[PendingSignon, str]:
    return oauth.start_sign_in(CREDS, profile, "https://ticktick.com", now, fixed_bytes)


def test_authorize_url_has_every_field_the_spec_asks_for() -> None:
    pending, url = started()
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "ticktick.com", "/oauth/authorize")
    assert query == {
        "client_id": ["cid"],
        "scope": ["tasks:read tasks:write"],
        "state": [pending.state],
        "redirect_uri": ["http://127.0.0.1:8080/"],
        "response_type": ["code"],
    }
    assert "s3cret" not in url


def test_state_is_256_bits_of_the_given_randomness_and_url_safe() -> None:
    state = oauth.new_state(fixed_bytes)
    assert len(state) == 43 and "=" not in state
    assert oauth.new_state(lambda n: b"\xff" * n) != state
    calls = []
    oauth.new_state(lambda n: calls.append(n) or b"\0" * n)
    assert calls == [32]


def test_pending_sign_on_dies_after_ten_minutes() -> None:
    pending, _ = started()
    assert pending.expires_at == int(NOW) + 600
    assert oauth.prune_expired({pending.state: pending}, NOW + 599) == {pending.state: pending}
    assert oauth.prune_expired({pending.state: pending}, NOW + 600) == {}


@pytest.mark.parametrize(
    ("region", "override", "expected"),
    [
        ("ticktick", None, "https://ticktick.com"),
        ("dida365", None, "https://dida365.com"),
        ("dida365", "http://127.0.0.1:9999/", "http://127.0.0.1:9999"),
    ],
)
def test_auth_base_by_region_and_override(region: str, override: str | None, expected: str) -> None:
    assert oauth.auth_base(region, override) == expected


@pytest.mark.parametrize(
    "override",
    ["http://127.0.0.1:9999", "http://127.8.0.1", "http://localhost:1", "http://[::1]:9", "https://proxy.example/tt"],
)
def test_auth_url_override_may_be_https_or_loopback_http(override: str) -> None:
    assert oauth.auth_base("ticktick", override) == override


@pytest.mark.parametrize(
    "override", ["http://example.com", "HTTP://ticktick.com/", "http://10.0.0.8:8765", "http://[::2]:1"]
)
def test_auth_url_override_with_plain_http_to_another_host_is_refused(override: str) -> None:
    """The client secret must not cross the network unencrypted."""
    with pytest.raises(InvalidParams) as caught:
        oauth.auth_base("ticktick", override)
    assert caught.value.data["field"] == "TICKTICK_SIGNON_AUTH_URL"
    assert "https://" in caught.value.message and "unencrypted" in caught.value.message


def test_unknown_region_is_invalid_params() -> None:
    with pytest.raises(InvalidParams) as caught:
        oauth.auth_base("mars")
    assert caught.value.data["field"] == "region"


def test_one_region_rule_for_requests_and_saved_profiles() -> None:
    from ticktick_signon.core.messages import parse_start

    with pytest.raises(InvalidParams) as from_oauth:
        oauth.auth_base("mars")
    with pytest.raises(InvalidParams) as from_request:
        parse_start({"region": "mars"})
    assert from_request.value.to_dict() == from_oauth.value.to_dict()
    assert from_oauth.value.data["allowed"] == ["dida365", "ticktick"]
    assert parse_start({"region": "dida365"}).region == "dida365"


class TestResolveCredentials:
    ENV: ClassVar[dict[str, str]] = {
        "PYTICKTICK_V1_CLIENT_ID": "env-id",
        "PYTICKTICK_V1_CLIENT_SECRET": "env-secret",
        "PYTICKTICK_V1_OAUTH_REDIRECT_URL": "http://127.0.0.1:7000/",
    }

    def test_request_beats_saved_beats_env(self) -> None:
        saved = Profile(client_id="saved-id", client_secret="saved-secret", redirect_url="http://127.0.0.1:1/")
        got = oauth.resolve_credentials({"clientId": "req-id"}, saved, self.ENV)
        assert (got.client_id, got.client_secret, got.redirect_url) == ("req-id", "saved-secret", "http://127.0.0.1:1/")

    def test_env_then_default_redirect(self) -> None:
        got = oauth.resolve_credentials({}, Profile(), self.ENV)
        assert (got.client_id, got.client_secret, got.redirect_url) == (
            "env-id",
            "env-secret",
            "http://127.0.0.1:7000/",
        )
        got = oauth.resolve_credentials({"clientId": "a", "clientSecret": "b"}, Profile(), {})
        assert got.redirect_url == "http://127.0.0.1:8080/" and got.region == "ticktick"

    def test_missing_credentials_are_listed(self) -> None:
        with pytest.raises(InvalidParams) as caught:
            oauth.resolve_credentials({"clientSecret": "x"}, Profile(), {})
        assert caught.value.data["missing"] == ["clientId"]
        with pytest.raises(InvalidParams) as caught:
            oauth.resolve_credentials({}, Profile(), {})
        assert caught.value.data["missing"] == ["clientId", "clientSecret"]

    def test_bad_redirect_url_is_refused(self) -> None:
        with pytest.raises(InvalidParams):
            oauth.resolve_credentials({"clientId": "a", "clientSecret": "b", "redirectUrl": "ftp://x/"}, Profile(), {})


class TestParseRedirect:
    @pytest.mark.parametrize(
        "url",
        [
            "",
            "not a url",
            "/relative?state=x",
            "javascript:alert(1)//?state=x",
            "file:///etc/passwd?state=x",
            "http://?state=x",
            7,
        ],
    )
    def test_not_absolute_http_is_invalid_params(self, url: object) -> None:
        with pytest.raises(InvalidParams):
            oauth.parse_redirect(url)

    def test_no_state_is_invalid_params(self) -> None:
        with pytest.raises(InvalidParams):
            oauth.parse_redirect("http://127.0.0.1:8080/?code=abc")

    def test_huge_url_is_refused_before_parsing(self) -> None:
        with pytest.raises(InvalidParams):
            oauth.parse_redirect("http://127.0.0.1:8080/?state=" + "a" * 10_000)

    def test_reads_code_error_and_description(self) -> None:
        got = oauth.parse_redirect("http://127.0.0.1:8080/?state=s&error=access_denied&error_description=No%20way")
        assert (got.state, got.code, got.error, got.error_description) == ("s", None, "access_denied", "No way")


class TestFindPendingAndCheck:
    def test_order_of_checks(self) -> None:
        pending, _ = started()
        table = {pending.state: pending}
        ok = oauth.parse_redirect(f"http://127.0.0.1:8080/?state={pending.state}&code=c0de")
        assert oauth.find_pending(table, ok, NOW, None) is pending
        assert oauth.check_redirect(pending, ok) == "c0de"

        other = oauth.parse_redirect("http://127.0.0.1:8080/?state=nope&code=c")
        with pytest.raises(StateMismatch):
            oauth.find_pending(table, other, NOW, None)
        with pytest.raises(NoPendingSignon):
            oauth.find_pending({}, other, NOW, None)
        with pytest.raises(NoPendingSignon):  # expired: nothing live any more
            oauth.find_pending(table, ok, NOW + 601, None)

    def test_named_profile_must_match(self) -> None:
        pending, _ = started(profile="work")
        redirect = oauth.parse_redirect(f"http://127.0.0.1:8080/?state={pending.state}&code=c")
        assert oauth.find_pending({pending.state: pending}, redirect, NOW, "work") is pending
        with pytest.raises(InvalidParams):
            oauth.find_pending({pending.state: pending}, redirect, NOW, "default")

    def test_denied_carries_the_error_and_never_the_url(self) -> None:
        pending, _ = started()
        redirect = oauth.parse_redirect(
            f"http://127.0.0.1:8080/?state={pending.state}&error=access_denied&error_description=nope"
        )
        with pytest.raises(AuthorizationDenied) as caught:
            oauth.check_redirect(pending, redirect)
        assert caught.value.data == {
            "kind": "authorizationDenied",
            "error": "access_denied",
            "errorDescription": "nope",
        }

    def test_missing_code_is_invalid_params(self) -> None:
        pending, _ = started()
        with pytest.raises(InvalidParams):
            oauth.check_redirect(pending, oauth.parse_redirect(f"http://127.0.0.1:8080/?state={pending.state}"))

    @pytest.mark.parametrize(
        "where",
        [
            "http://127.0.0.1:8081/",
            "http://evil.example:8080/",
            "https://127.0.0.1:8080/",
            "http://127.0.0.1:8080/other",
        ],
    )
    def test_redirect_to_another_address_is_refused(self, where: str) -> None:
        pending, _ = started()
        with pytest.raises(InvalidParams):
            oauth.check_redirect(pending, oauth.parse_redirect(f"{where}?state={pending.state}&code=c"))

    def test_equivalent_addresses_are_accepted(self) -> None:
        pending, _ = started()
        redirect = oauth.parse_redirect(f"HTTP://127.0.0.1:8080?state={pending.state}&code=c")
        assert oauth.check_redirect(pending, redirect) == "c"


def test_token_request_follows_the_spec() -> None:
    pending, _ = started()
    request = oauth.build_token_request(pending, "c0de")
    assert request.url == "https://ticktick.com/oauth/token"
    assert (request.client_id, request.client_secret) == ("cid", "s3cret")
    assert request.form == {
        "code": "c0de",
        "grant_type": "authorization_code",
        "scope": "tasks:read tasks:write",
        "redirect_uri": "http://127.0.0.1:8080/",
    }
    assert "s3cret" not in request.url and "s3cret" not in str(request.form)


class TestParseTokenResponse:
    GOOD: ClassVar[dict[str, object]] = {
        "access_token": "tok",
        "token_type": "bearer",
        "expires_in": 14772375,
        "scope": "tasks:read tasks:write",
    }

    def test_expiry_is_now_plus_expires_in(self) -> None:
        token = oauth.parse_token_response(200, self.GOOD, NOW)
        assert token == Token("tok", "bearer", "tasks:read tasks:write", int(NOW) + 14772375)

    @pytest.mark.parametrize(
        "body",
        [
            None,
            [],
            {"token_type": "bearer", "expires_in": 5},
            {"access_token": "", "expires_in": 5},
            {"access_token": "   ", "expires_in": 5},
            {"access_token": "tok\r\nX-Injected: 1", "expires_in": 5},
            {"access_token": "t\u00f6k", "expires_in": 5},
            {"access_token": 42, "expires_in": 5},
            {"access_token": "t"},
            {"access_token": "t", "expires_in": -5},
            {"access_token": "t", "expires_in": 0},
            {"access_token": "t", "expires_in": "3600"},
            {"access_token": "t", "expires_in": True},
            {"access_token": "t", "expires_in": 10**30},
            {"access_token": "t", "expires_in": float("inf")},
        ],
    )
    def test_bodies_that_are_not_a_token(self, body: object) -> None:
        with pytest.raises(TokenExchangeFailed) as caught:
            oauth.parse_token_response(200, body, NOW)
        assert caught.value.data["error"] == "invalid_token_response"

    def test_non_2xx_carries_status_and_oauth_error(self) -> None:
        with pytest.raises(TokenExchangeFailed) as caught:
            oauth.parse_token_response(400, {"error": "invalid_grant"}, NOW)
        assert caught.value.data == {"kind": "tokenExchangeFailed", "status": 400, "error": "invalid_grant"}
        with pytest.raises(TokenExchangeFailed) as caught:
            oauth.parse_token_response(500, None, NOW)
        assert caught.value.data["status"] == 500 and caught.value.data["error"] is None


class TestCheckToken:
    TOKEN = Token("tok", "bearer", "s", int(NOW) + 100)

    def test_valid_until_expiry_minus_margin(self) -> None:
        assert oauth.check_token(self.TOKEN, NOW + 99, 0) is self.TOKEN
        assert oauth.check_token(self.TOKEN, NOW, 99) is self.TOKEN
        with pytest.raises(TokenExpired):
            oauth.check_token(self.TOKEN, NOW + 100, 0)
        with pytest.raises(TokenExpired):
            oauth.check_token(self.TOKEN, NOW, 100)

    def test_no_token_is_not_signed_in(self) -> None:
        with pytest.raises(NotSignedIn):
            oauth.check_token(None, NOW, 0)

    def test_token_result_and_seconds_left(self) -> None:
        from ticktick_signon.helper import wire
        from ticktick_signon.signin.results import TokenResult

        result = TokenResult.of(self.TOKEN, "p", NOW + 40.5)
        assert "access_token" not in repr(result)  # the token stays out of logs and tracebacks
        assert wire.token_result(result) == {
            "accessToken": "tok",
            "tokenType": "bearer",
            "scope": "s",
            "expiresAt": int(NOW) + 100,
            "expiresIn": 60,
            "profile": "p",
        }
        assert oauth.seconds_left(10, 20) == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080/", ("127.0.0.1", 8080, "/")),
        ("http://localhost:9000/cb", ("localhost", 9000, "/cb")),
        ("http://[::1]:9000", ("::1", 9000, "/")),
        ("http://127.0.0.1/", None),  # no explicit port
        ("https://127.0.0.1:8080/", None),  # TLS cannot be served on loopback
        ("http://192.168.1.5:8080/", None),  # not loopback
        ("http://example.com:8080/", None),
    ],
)
def test_loopback_address(url: str, expected: object) -> None:
    assert urls.loopback_address(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost.evil.example:8080/",
        "http://127.0.0.1.nip.io:8080/",
        "http://127.0.0.1@evil.example:8080/",
        "http://localhost:8080@evil.example/",
        "http://evil.example#@127.0.0.1:8080/",
        "http://evil.example/127.0.0.1:8080/",
        "http://localhost%2eevil:8080/",
        "http://0x7f000001:8080/",
        "http://2130706433:8080/",
        "http://127.1:8080/",
        "http://[::ffff:127.0.0.1]:8080/",
    ],
)
def test_look_alike_loopback_hosts_are_not_loopback(url: str) -> None:
    """Issue 18 section 3, an attack that held: nothing that only looks like loopback is listened for."""
    assert urls.loopback_address(url) is None


class TestSandboxMark:
    """A profile signed in to a provider on loopback is marked as a sandbox one."""

    @pytest.mark.parametrize(
        ("base", "local"),
        [
            ("http://127.0.0.1:8765", True),
            ("http://[::1]:8765", True),
            ("http://localhost:9", True),
            ("https://ticktick.com", False),
            ("https://dida365.com", False),
            ("https://proxy.example", False),
        ],
    )
    def test_a_provider_on_loopback_is_local(self, base: str, local: bool) -> None:
        assert urls.is_local_provider(base) is local

    def test_the_mark_round_trips_and_is_left_out_when_false(self) -> None:
        marked = Profile(client_id="c", issuer=Issuer.at("http://127.0.0.1:8765"))
        assert marked.to_json() == {"clientId": "c", "issuer": "http://127.0.0.1:8765", "sandbox": True}
        assert Profile.from_json(marked.to_json()) == marked
        assert "sandbox" not in Profile(client_id="c").to_json()
        assert Profile.from_json({"clientId": "c", "sandbox": "yes"}).sandbox is False


def test_find_credentials_is_the_one_order_and_says_where_the_redirect_url_came_from() -> None:
    """The order the service and the CLI share: request (a flag), then the saved profile, then pyticktick's env."""
    env = {
        "PYTICKTICK_V1_CLIENT_ID": "env-id",
        "PYTICKTICK_V1_CLIENT_SECRET": "env-secret",
        "PYTICKTICK_V1_OAUTH_REDIRECT_URL": "http://127.0.0.1:7000/",
    }
    saved = Profile(client_id="saved-id", redirect_url="http://127.0.0.1:1/")
    found = oauth.find_credentials({"clientId": "req-id", "clientSecret": ""}, saved, env)
    assert (found.client_id, found.client_secret) == ("req-id", "env-secret")  # empty counts as not given
    assert (found.redirect_url, found.redirect_url_from) == ("http://127.0.0.1:1/", "saved")
    assert oauth.find_credentials({"redirectUrl": "x"}, saved, env).redirect_url_from == "request"
    assert oauth.find_credentials({}, Profile(), env).redirect_url_from == "environment"
    nothing = oauth.find_credentials({}, Profile(), {})
    assert (nothing.client_id, nothing.client_secret, nothing.redirect_url, nothing.redirect_url_from) == (None,) * 4
