"""verifyToken and `status --verify`: the real helper and CLI asking the sandbox's API whether a token works."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli
from tests.support.ports import free_port
from tests.support.rpc import HelperProcess, RpcError
from tests.support.schema import assert_valid
from tests.support.signin import CREDS, sign_in
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core import oauth
from ticktick_signon.core.issuers import Issuer
from ticktick_signon.core.records import Profile, Token
from ticktick_signon.errors import InvalidParams, ProviderError
from ticktick_signon.sandbox import SandboxProvider


def verify(helper: HelperProcess, **params: Any) -> dict[str, Any]:
    reply = helper.call("verifyToken", params)
    assert_valid(None, reply)
    return reply


def save_token(
    config_dir: Path,
    access_token: str,
    expires_at: int,
    profile: str = "default",
    region: str | None = None,
    issuer: str | None = None,
) -> None:
    """Save a token issued by ``issuer`` (default: the provider TICKTICK_SIGNON_AUTH_URL names, else the region's)."""
    token = Token(access_token, "bearer", "tasks:read tasks:write", expires_at)
    base = issuer or os.environ.get(oauth.ENV_AUTH_URL) or oauth.auth_base(region or "ticktick")
    saved = Profile("id", "s", region=region, token=token, issuer=Issuer.at(base))
    TokenStore(config_dir).update(lambda c: (c.with_profile(profile, saved), None))


# -- pure parts ---------------------------------------------------------------------------


def test_the_api_host_follows_the_region_and_the_auth_url_override() -> None:
    assert oauth.api_base("ticktick") == "https://api.ticktick.com"
    assert oauth.api_base("dida365") == "https://api.dida365.com"
    assert oauth.api_base("dida365", "http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    with pytest.raises(InvalidParams):
        oauth.api_base("ticktick", "ftp://example.invalid")
    with pytest.raises(InvalidParams):
        oauth.api_base("nowhere")


@pytest.mark.parametrize("status", [201, 204, 302, 400, 403, 404, 429, 500, 503])
def test_only_200_and_401_say_anything_about_the_token(status: int) -> None:
    assert oauth.verdict(200) is True
    assert oauth.verdict(401) is False
    with pytest.raises(ProviderError) as caught:
        oauth.verdict(status)
    assert caught.value.code == -32009 and caught.value.data == {"kind": "providerError", "status": status}


# -- the helper ------------------------------------------------------------------------------


def test_a_working_token_is_valid_and_a_refused_one_is_kept(
    helper: HelperProcess, sandbox: SandboxProvider, config_dir: Path
) -> None:
    token = sign_in(helper)
    before = time.time()
    result = verify(helper)["result"]
    assert result["profile"] == "default" and result["valid"] is True
    assert int(before) <= result["checkedAt"] <= time.time() + 1
    helper.next_notification("tokenChanged", timeout=10)  # the sign-in itself
    # A token the provider no longer knows (revoked, or from another account).
    save_token(config_dir, "3f2b8c1e-0d5a-4e7b-9c6f-1a2b3c4d5e6f", token["expiresAt"])
    helper.next_notification("tokenChanged", timeout=10)
    assert verify(helper)["result"]["valid"] is False
    assert helper.request("getToken")["accessToken"] == "3f2b8c1e-0d5a-4e7b-9c6f-1a2b3c4d5e6f"  # kept
    assert helper.drain_notifications(wait=0.6) == []  # and no change announced
    assert "3f2b8c1e" not in helper.stderr()


def test_other_answers_are_provider_errors_with_their_status(helper: HelperProcess, sandbox: SandboxProvider) -> None:
    sign_in(helper)
    for status in (403, 500, 302):
        sandbox.api_status = status
        error = verify(helper)["error"]
        assert (error["code"], error["data"]) == (-32009, {"kind": "providerError", "status": status})
    sandbox.api_status = None
    assert verify(helper)["result"]["valid"] is True


def test_no_token_an_expired_token_and_no_connection(helper: HelperProcess, config_dir: Path) -> None:
    assert verify(helper, profile="nobody")["error"]["code"] == -32001
    save_token(config_dir, "5e0c3a1b-2d4f-4a6b-8c9d-0e1f2a3b4c5d", int(time.time()) - 5, profile="old")
    assert verify(helper, profile="old")["error"]["code"] == -32002
    nobody_there = f"http://127.0.0.1:{free_port()}"
    save_token(config_dir, "5e0c3a1b-2d4f-4a6b-8c9d-0e1f2a3b4c5d", int(time.time()) + 3600, "fine", issuer=nobody_there)
    closed = HelperProcess.spawn(env=dict(os.environ, TICKTICK_SIGNON_AUTH_URL=nobody_there))
    try:
        reply = verify(closed, profile="fine")
        assert reply["error"]["code"] == -32007 and reply["error"]["data"]["reason"] == "ConnectError"
        assert closed.request("getStatus", {"profile": "fine"})["signedIn"] is True  # and the helper goes on
    finally:
        assert closed.close() == 0


def test_the_helper_loads_httpx_only_when_a_sign_on_starts(auth_url: str) -> None:
    """Start-up and getToken never import httpx; startSignon warms it while the user is in the browser."""
    helper = HelperProcess.spawn(env=dict(os.environ, PYTHONPROFILEIMPORTTIME="1"))
    try:
        helper.request("getStatus")
        with pytest.raises(RpcError):
            helper.request("getToken")
        assert " httpx" not in helper.stderr()
        helper.request("startSignon", {**CREDS, "redirectUrl": f"http://127.0.0.1:{free_port()}/cb", "listen": False})
        deadline = time.monotonic() + 20
        while "| httpx\n" not in helper.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "| httpx\n" in helper.stderr(), "startSignon did not warm httpx"
    finally:
        assert helper.close() == 0


# -- the CLI ---------------------------------------------------------------------------------


def test_status_verify(sandbox: SandboxProvider, auth_url: str, config_dir: Path) -> None:
    good = sandbox.issue_token()
    save_token(config_dir, good, int(time.time()) + 3600)
    done = cli("status", "--verify")
    assert done.returncode == 0, done.stderr
    assert "The sandbox accepts the token" in done.stdout
    as_json = json.loads(cli("status", "--verify", "--json").stdout)
    assert as_json["verified"]["valid"] is True and as_json["signedIn"] is True

    save_token(config_dir, "9d8c7b6a-5f4e-4d3c-8b2a-190817263544", int(time.time()) + 3600)
    done = cli("status", "--verify")
    assert done.returncode == 1
    assert "The sandbox rejected the token" in done.stderr and "ticktick-signon login" in done.stderr
    assert json.loads(cli("status", "--verify", "--json").stdout)["verified"]["valid"] is False
    assert cli("token").stdout.strip() == "9d8c7b6a-5f4e-4d3c-8b2a-190817263544"  # kept

    sandbox.api_status = 500
    done = cli("status", "--verify")
    assert done.returncode == 7 and "HTTP 500" in done.stderr
    assert "Traceback" not in done.stderr and "9d8c7b6a" not in done.stdout + done.stderr


def test_status_verify_without_a_token_says_so(auth_url: str) -> None:
    # Like plain `status`: exit 1 and the command that signs in.
    done = cli("status", "--verify")
    assert done.returncode == 1 and "not signed in; run `ticktick-signon login`" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_sandbox_profile_is_never_sent_to_ticktick(config_dir: Path) -> None:
    """A `login --sandbox` token means nothing to TickTick: verifying it without the sandbox's address is
    refused (-32010 issuerMismatch, CLI exit 11) before any request, instead of asking TickTick and
    reporting "rejected"."""
    signed = cli("login", "--sandbox", timeout=120)
    assert signed.returncode == 0, signed.stderr
    # Should anything still try the network, a dead proxy makes it fail here, not on the internet.
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    done = cli("status", "--verify", "--profile", "sandbox", env=env)
    assert done.returncode == 11, done.stderr
    assert (
        "belongs to the sandbox (http://127.0.0.1:" in done.stderr and "TickTick (https://ticktick.com)" in done.stderr
    )
    assert "TICKTICK_SIGNON_AUTH_URL" in done.stderr
    assert "rejected" not in done.stderr and "Traceback" not in done.stderr
    helper = HelperProcess.spawn(env=env)
    try:
        with pytest.raises(RpcError) as caught:
            helper.request("verifyToken", {"profile": "sandbox"})
        assert (caught.value.code, caught.value.data["kind"]) == (-32010, "issuerMismatch")
        assert caught.value.data["issuer"]["local"] is True and caught.value.data["provider"]["kind"] == "ticktick"
    finally:
        helper.close()
