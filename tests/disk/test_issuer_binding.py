"""Issue 18 §1, D7, D16 over the real cache: a profile's token and secret go only to their issuer.

The service runs in process over a real ``TokenStore``; the network is a
recording fake, so a test sees exactly what would have been sent where.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core import oauth
from ticktick_signon.core.issuers import UNRECORDED_LOCAL, Issuer
from ticktick_signon.core.messages import StartParams
from ticktick_signon.core.records import Profile, Token
from ticktick_signon.errors import InvalidParams, IssuerMismatch
from ticktick_signon.helper.wire import status_result
from ticktick_signon.imports.formats import FoundToken
from ticktick_signon.signin.service import SignInService

REAL = "real-ticktick-token-0001"
LOCAL = "http://127.0.0.1:8765"
SECRET = "the-real-client-secret"
LATER = int(time.time()) + 30 * 86400
TICKTICK = Issuer.at("https://ticktick.com")


class Network:
    """Records every token exchange and API call, and answers as a provider that accepts everything."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (url, what was sent)

    def exchange(self, request: oauth.TokenRequest, clock: Any, timeout: float) -> Token:
        self.sent.append((request.url, request.client_secret))
        return Token("new-token", "bearer", oauth.SCOPE, int(clock()) + 3600)

    def verifier(self, api_base: str, access_token: str, timeout: float) -> int:
        self.sent.append((api_base, access_token))
        return 200


def service(config_dir: Path, network: Network, override: str | None = None) -> SignInService:
    environ = {oauth.ENV_AUTH_URL: override} if override else {}
    return SignInService(TokenStore(config_dir), environ=environ, exchange=network.exchange, verifier=network.verifier)


def save(config_dir: Path, profile: Profile, name: str = "default") -> None:
    TokenStore(config_dir).update(lambda c: (c.with_profile(name, profile), None))


def real_profile(issuer: Issuer | None = TICKTICK) -> Profile:
    token = Token(REAL, "bearer", oauth.SCOPE, LATER)
    return Profile("real-app", SECRET, "http://127.0.0.1:8080/", "ticktick", token, issuer=issuer)


def start(
    profile: str, client_id: str | None = None, secret: str | None = None, redirect: str | None = None
) -> StartParams:
    return StartParams(profile, client_id, secret, redirect, None, listen=False)


def finish(svc: SignInService, started: Any) -> None:
    svc.complete(f"{started.redirect_url}?state={started.state}&code=c", None)


# -- verifyToken / status --verify ----------------------------------------------------------------


def test_a_ticktick_token_is_never_verified_at_an_override(config_dir: Path) -> None:
    save(config_dir, real_profile())
    network = Network()
    with pytest.raises(IssuerMismatch) as caught:
        service(config_dir, network, LOCAL).verify("default")
    assert network.sent == []
    assert "TickTick (https://ticktick.com)" in caught.value.message
    assert f"the sandbox ({LOCAL})" in caught.value.message


def test_an_old_cache_profile_is_ticktick_s_and_refused_at_an_override_too(config_dir: Path) -> None:
    """A profile written before issuers were recorded: derived TickTick's, so the same refusal."""
    config_dir.mkdir(mode=0o700, parents=True)
    old = real_profile(None).to_json()
    (config_dir / "config.json").write_text(json.dumps({"version": 1, "profiles": {"default": old}}))
    (config_dir / "config.json").chmod(0o600)
    network = Network()
    with pytest.raises(IssuerMismatch):
        service(config_dir, network, LOCAL).verify("default")
    assert network.sent == []
    assert service(config_dir, network).status("default").issuer == TICKTICK


def test_a_sandbox_token_is_never_verified_at_ticktick(config_dir: Path) -> None:
    save(config_dir, Profile(token=Token("sandbox-token", "bearer", "s", LATER), issuer=Issuer.at(LOCAL)))
    network = Network()
    with pytest.raises(IssuerMismatch) as caught:
        service(config_dir, network).verify("default")
    assert network.sent == [] and "TICKTICK_SIGNON_AUTH_URL" in caught.value.message
    assert service(config_dir, network, LOCAL + "/").verify("default").valid  # at its own issuer it is asked
    assert network.sent == [(LOCAL, "sandbox-token")]


def test_a_dida365_token_is_verified_at_dida365_only(config_dir: Path) -> None:
    profile = Profile(region="dida365", token=Token("d", "bearer", "s", LATER), issuer=Issuer.at("https://dida365.com"))
    save(config_dir, profile)
    network = Network()
    assert service(config_dir, network).verify("default").valid
    assert network.sent == [("https://api.dida365.com", "d")]


# -- startSignon with the saved secret -----------------------------------------------------------


def test_the_saved_secret_is_never_posted_to_an_override(config_dir: Path) -> None:
    save(config_dir, real_profile())
    network = Network()
    with pytest.raises(IssuerMismatch) as caught:
        service(config_dir, network, LOCAL).start(start("default"))
    assert "client secret" in caught.value.message
    # Passed on explicitly (as the CLI's prompts do with saved credentials), it is the same secret.
    with pytest.raises(IssuerMismatch):
        service(config_dir, network, LOCAL).start(start("default", "real-app", SECRET))
    assert network.sent == [] and TokenStore(config_dir).read().pending == {}


def test_a_new_signin_under_an_override_binds_the_profile_to_it(config_dir: Path) -> None:
    save(config_dir, real_profile())
    network = Network()
    svc = service(config_dir, network, LOCAL)
    started = svc.start(start("default", "sandbox-client", "sandbox-secret", "http://127.0.0.1:9/cb"))
    finish(svc, started)
    assert network.sent == [(f"{LOCAL}/oauth/token", "sandbox-secret")]
    saved = TokenStore(config_dir).read().profile("default")
    assert saved.issuer == Issuer.at(LOCAL) and saved.sandbox and saved.client_secret == "sandbox-secret"
    status = status_result(svc.status("default"))
    assert status["issuer"] == {"kind": "custom", "url": LOCAL, "local": True, "name": "the sandbox"}
    assert status["sandbox"] is True


def test_the_saved_secret_still_goes_to_its_own_issuer(config_dir: Path) -> None:
    save(config_dir, real_profile())
    network = Network()
    svc = service(config_dir, network)
    finish(svc, svc.start(start("default")))
    assert network.sent == [("https://ticktick.com/oauth/token", SECRET)]
    assert TokenStore(config_dir).read().profile("default").issuer == TICKTICK


# -- importToken ---------------------------------------------------------------------------------


def mcp(token: str = "local-token", **settings: Any) -> FoundToken:
    return FoundToken("ticktick-mcp", token, None, **settings)


def test_an_import_under_an_override_is_checked_there_and_bound_to_it(config_dir: Path) -> None:
    network = Network()
    service(config_dir, network, LOCAL).import_found(mcp(), "the file", "default")
    assert network.sent == [(LOCAL, "local-token")]
    saved = TokenStore(config_dir).read().profile("default")
    assert saved.issuer == Issuer.at(LOCAL) and saved.sandbox  # never a TickTick profile


def test_an_import_keeps_a_sandbox_profile_a_sandbox_profile(config_dir: Path) -> None:
    save(config_dir, Profile(token=Token("old", "bearer", "s", 10), issuer=UNRECORDED_LOCAL))
    service(config_dir, Network(), LOCAL).import_found(mcp(), "the file", "default")
    assert TokenStore(config_dir).read().profile("default").sandbox


def test_a_token_a_ticktick_profile_holds_is_never_sent_to_an_override(config_dir: Path) -> None:
    save(config_dir, real_profile(), "work")
    network = Network()
    with pytest.raises(IssuerMismatch) as caught:
        service(config_dir, network, LOCAL).import_found(mcp(REAL), "the file", "other")
    assert network.sent == [] and "'work'" in caught.value.message
    assert "other" not in TokenStore(config_dir).read().profiles


def test_an_import_over_another_providers_profile_needs_force_and_drops_its_app(config_dir: Path) -> None:
    expired = Token(REAL, "bearer", oauth.SCOPE, 10)
    save(config_dir, Profile("real-app", SECRET, "http://127.0.0.1:8080/", "ticktick", expired, issuer=TICKTICK))
    network = Network()
    with pytest.raises(InvalidParams) as caught:
        service(config_dir, network, LOCAL).import_found(mcp(), "the file", "default")
    assert caught.value.data["field"] == "force"
    assert "TickTick (https://ticktick.com)" in caught.value.message and LOCAL in caught.value.message
    service(config_dir, network, LOCAL).import_found(mcp(), "the file", "default", force=True)
    saved = TokenStore(config_dir).read().profile("default")
    assert saved.issuer == Issuer.at(LOCAL)
    assert saved.client_secret is None and saved.client_id is None  # TickTick's app is never offered to the sandbox


def test_an_import_without_override_is_ticktick_s(config_dir: Path) -> None:
    network = Network()
    service(config_dir, network).import_found(mcp("t"), "the file", "default")
    assert network.sent == [("https://api.ticktick.com", "t")]
    assert TokenStore(config_dir).read().profile("default").issuer == TICKTICK


def test_d7_a_token_only_file_keeps_the_saved_redirect_url(config_dir: Path) -> None:
    saved = Profile("my-app", SECRET, "http://127.0.0.1:9090/", "ticktick", issuer=TICKTICK)
    save(config_dir, saved)
    only_token = mcp("t", redirect_url="http://localhost:8000/callback")  # what formats gives a bare .env
    service(config_dir, Network()).import_found(only_token, "the file", "default")
    after = TokenStore(config_dir).read().profile("default")
    assert (after.client_id, after.client_secret, after.redirect_url) == ("my-app", SECRET, "http://127.0.0.1:9090/")
    # With its own app, the file's settings replace the saved ones, redirect URL included.
    with_app = mcp("t", client_id="mcp-app", client_secret="s2", redirect_url="http://localhost:8000/callback")
    service(config_dir, Network()).import_found(with_app, "the file", "default", force=True)
    after = TokenStore(config_dir).read().profile("default")
    assert (after.client_id, after.redirect_url) == ("mcp-app", "http://localhost:8000/callback")


# -- D16: members of another version ---------------------------------------------------------------


def test_d16_a_write_keeps_the_members_another_version_added(config_dir: Path) -> None:
    config_dir.mkdir(mode=0o700, parents=True)
    doc = {
        "version": 1,
        "fromNewer": {"x": 1},
        "profiles": {
            "a": {
                "clientId": "c",
                "issuer": "https://ticktick.com",
                "label": "Work",
                "token": {"accessToken": "t", "tokenType": "bearer", "scope": "s", "expiresAt": LATER, "rt": "r"},
            }
        },
        "pendingSignons": {},
    }
    (config_dir / "config.json").write_text(json.dumps(doc))
    (config_dir / "config.json").chmod(0o600)
    svc = service(config_dir, Network())
    svc.import_found(mcp("other"), "the file", "b")  # writes another profile
    svc.sign_out("b")
    written = json.loads((config_dir / "config.json").read_text())
    assert written["fromNewer"] == {"x": 1}
    assert written["profiles"]["a"] == doc["profiles"]["a"]
    svc.sign_out("a")  # the token goes; the profile's own unknown member stays
    assert json.loads((config_dir / "config.json").read_text())["profiles"]["a"]["label"] == "Work"


def test_token_errors_name_the_profiles_issuer(config_dir: Path) -> None:
    from ticktick_signon.errors import NotSignedIn, TokenExpired

    save(config_dir, Profile(token=Token("t", "bearer", "s", 10), issuer=Issuer.at(LOCAL)))
    with pytest.raises(TokenExpired, match="The token from the sandbox has expired"):
        service(config_dir, Network()).get_token("default")
    with pytest.raises(NotSignedIn, match="Not signed in to TickTick"):
        service(config_dir, Network()).get_token("nobody")


def test_a_sign_on_started_elsewhere_with_the_saved_secret_is_refused_before_the_exchange(config_dir: Path) -> None:
    """A pending sign-on an older version (or another process) started, carrying the real secret to an override."""
    from ticktick_signon.core.records import PendingSignon

    save(config_dir, real_profile())
    pending = PendingSignon("st", "default", "real-app", SECRET, "http://127.0.0.1:9/cb", "ticktick", LOCAL, LATER)
    TokenStore(config_dir).update(lambda c: (c.with_pending({"st": pending}), None))
    network = Network()
    with pytest.raises(IssuerMismatch):
        service(config_dir, network).complete("http://127.0.0.1:9/cb?state=st&code=c", None)
    assert network.sent == []
