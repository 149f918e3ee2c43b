"""The helper end to end: `ticktick-signon serve` as a subprocess over stdio, against the sandbox."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.fake_browser import follow_authorize
from tests.support.portability import assert_owner_only
from tests.support.ports import free_port
from tests.support.rpc import HelperProcess, RpcError, encode_body, encode_frame, split_frames
from tests.support.signin import CREDS, paste_redirect, sign_in
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.records import Profile, Token
from ticktick_signon.sandbox import SandboxProvider


def rpc_error(helper: HelperProcess, method: str, params=None, **kwargs) -> RpcError:
    with pytest.raises(RpcError) as caught:
        helper.request(method, params, **kwargs)
    error = caught.value
    assert error.data["kind"] and error.message.endswith(".")
    return error


class TestSignOnPaths:
    def test_paste_path_then_token_status_and_sign_out(self, helper: HelperProcess, sandbox: SandboxProvider) -> None:
        started = helper.request("startSignon", {**CREDS, "redirectUrl": paste_redirect(), "listen": False})
        assert started["listening"] is False and started["profile"] == "default"
        assert parse_qs(urlsplit(started["authorizeUrl"]).query)["state"] == [started["state"]]
        assert helper.request("getStatus")["pendingSignon"] is True

        result = helper.request("completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})
        assert sandbox.token_is_valid(result["accessToken"])
        assert 15_552_000 - 5 <= result["expiresIn"] <= 15_552_000
        assert helper.request("getToken") == {**result, "expiresIn": helper.request("getToken")["expiresIn"]}

        status = helper.request("getStatus")
        assert status == {
            "profile": "default",
            "signedIn": True,
            "expiresAt": result["expiresAt"],
            "expiresIn": status["expiresIn"],
            "expiresAtEstimated": False,
            "pendingSignon": False,
            "region": "ticktick",
            "clientId": "sandbox-client",
            "sandbox": True,  # the provider runs on loopback: not TickTick
            "configPath": status["configPath"],
            # The profile is bound to the provider that issued its token (its port changes between runs).
            "issuer": {"kind": "custom", "url": sandbox.base_url, "local": True, "name": "the sandbox"},
        }
        assert Path(status["configPath"]).is_file()
        assert helper.request("signOut") == {"signedOut": True}
        assert helper.request("signOut") == {"signedOut": False}
        assert rpc_error(helper, "getToken").code == -32001
        # Saved credentials survive a plain sign-out: a new start needs no clientId.
        assert helper.request("startSignon", {"listen": False})["state"]
        helper.request("signOut", {"forget": True})
        assert rpc_error(helper, "startSignon", {"listen": False}).data["missing"] == ["clientId", "clientSecret"]

    def test_loopback_path_notifies_completion(self, helper: HelperProcess) -> None:
        redirect = paste_redirect()
        started = helper.request("startSignon", {**CREDS, "redirectUrl": redirect})
        assert started["listening"] is True
        page = httpx.get(follow_authorize(started["authorizeUrl"]))
        assert page.status_code == 200 and "Signed in" in page.text
        done = helper.notification("signonCompleted")
        assert done == {"profile": "default", "expiresAt": helper.request("getToken")["expiresAt"]}
        assert page.text.count(helper.request("getToken")["accessToken"]) == 0

    def test_loopback_denial_notifies_failure_and_keeps_the_old_token(self, helper: HelperProcess) -> None:
        before = sign_in(helper)
        started = helper.request("startSignon", {"redirectUrl": paste_redirect()})
        page = httpx.get(follow_authorize(started["authorizeUrl"], "deny"))
        assert page.status_code == 400
        failed = helper.notification("signonFailed")
        assert failed["profile"] == "default"
        assert failed["error"]["code"] == -32005 and failed["error"]["data"]["error"] == "access_denied"
        assert helper.request("getToken")["accessToken"] == before["accessToken"]

    def test_paste_wins_while_listening_and_closes_the_listener(self, helper: HelperProcess) -> None:
        port = free_port()
        started = helper.request("startSignon", {**CREDS, "redirectUrl": paste_redirect(port)})
        assert started["listening"]
        helper.request("completeSignon", [follow_authorize(started["authorizeUrl"])])
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/callback")
        # The token change is announced (tokenChanged); the sign-on itself ended by request, silently.
        assert helper.notification("tokenChanged")["signedIn"] is True
        assert not [n for n in helper.drain_notifications() if n["method"].startswith("signon")]

    def test_busy_port_means_paste(self, helper: HelperProcess) -> None:
        import socket

        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            redirect = f"http://127.0.0.1:{taken.getsockname()[1]}/"
            assert helper.request("startSignon", {**CREDS, "redirectUrl": redirect})["listening"] is False

    def test_another_helper_can_finish_the_sign_on(self, helper: HelperProcess) -> None:
        started = helper.request(
            "startSignon", {**CREDS, "redirectUrl": paste_redirect(), "listen": False, "profile": "work"}
        )
        other = HelperProcess.spawn(env=dict(os.environ))
        try:
            result = other.request("completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})
            assert result["profile"] == "work"
        finally:
            assert other.close() == 0
        assert helper.request("getToken", {"profile": "work"})["accessToken"] == result["accessToken"]

    def test_requests_without_params_member_are_answered(self, helper: HelperProcess) -> None:
        for method in ("getStatus", "getToken", "signOut", "startSignon", "completeSignon"):
            reply = helper.call(method, omit_params=True, timeout=10)
            assert "result" in reply or reply["error"]["code"] in (-32001, -32602), reply


class TestErrors:
    def test_parse_error_then_keeps_serving(self, helper: HelperProcess) -> None:
        helper.send_raw(encode_body(b"{not json"))
        reply = helper.next_unmatched()
        assert reply["id"] is None and reply["error"]["code"] == -32700
        assert reply["error"]["data"]["kind"] == "parseError"
        assert helper.request("getStatus")["profile"] == "default"

    def test_batches_and_bad_envelopes_are_invalid_requests(self, helper: HelperProcess) -> None:
        helper.send([{"jsonrpc": "2.0", "id": 1, "method": "getStatus"}])  # type: ignore[arg-type]
        reply = helper.next_unmatched()
        assert reply["id"] is None and reply["error"]["code"] == -32600
        helper.send({"id": 77, "method": "getStatus"})
        reply = helper.next_unmatched()
        assert reply["id"] == 77 and reply["error"]["code"] == -32600

    def test_oversized_message_is_refused_without_reading_it_as_json(self, helper: HelperProcess) -> None:
        body = b'{"jsonrpc": "2.0", "id": 5, "method": "getStatus", "params": {"x": "' + b"a" * (1 << 20) + b'"}}'
        helper.send_raw(encode_body(body))
        reply = helper.next_unmatched()
        assert reply["id"] is None and reply["error"]["code"] == -32600
        assert helper.request("getStatus")["signedIn"] is False

    def test_unknown_method(self, helper: HelperProcess) -> None:
        error = rpc_error(helper, "stealToken")
        assert (error.code, error.kind) == (-32601, "methodNotFound")

    @pytest.mark.parametrize(
        ("method", "params"),
        [
            ("completeSignon", {}),
            ("completeSignon", {"redirectUrl": "javascript:alert(1)"}),
            ("completeSignon", {"redirectUrl": "http://127.0.0.1:8080/?code=abc"}),
            ("startSignon", {"clientId": 5}),
            ("startSignon", {**CREDS, "redirectUrl": "ftp://127.0.0.1/"}),
            ("getToken", {"minValidSeconds": "soon"}),
            ("getStatus", ["default"]),
        ],
    )
    def test_invalid_params(self, helper: HelperProcess, method: str, params: object) -> None:
        assert rpc_error(helper, method, params).code == -32602

    def test_token_errors(self, helper: HelperProcess) -> None:
        assert rpc_error(helper, "getToken").code == -32001
        result = sign_in(helper)
        error = rpc_error(helper, "getToken", {"minValidSeconds": result["expiresIn"] + 10})
        assert (error.code, error.data["expiresAt"]) == (-32002, result["expiresAt"])

    def test_expired_token_in_the_cache(self, helper: HelperProcess, config_dir: Path) -> None:
        TokenStore(config_dir).update(
            lambda c: (c.with_profile("default", Profile(token=Token("old", "bearer", "s", 1_000))), None)
        )
        assert rpc_error(helper, "getToken").code == -32002
        assert helper.request("getStatus")["signedIn"] is False

    def test_state_errors_and_replay(self, helper: HelperProcess) -> None:
        url = "http://127.0.0.1:8080/?state=forged&code=abc"
        assert rpc_error(helper, "completeSignon", {"redirectUrl": url}).code == -32003
        started = helper.request("startSignon", {**CREDS, "redirectUrl": paste_redirect(), "listen": False})
        assert rpc_error(helper, "completeSignon", {"redirectUrl": url}).code == -32004
        redirect = follow_authorize(started["authorizeUrl"])
        assert rpc_error(helper, "completeSignon", {"redirectUrl": redirect, "profile": "other"}).code == -32602
        helper.request("completeSignon", {"redirectUrl": redirect})
        assert rpc_error(helper, "completeSignon", {"redirectUrl": redirect}).code == -32003  # replayed

    def test_new_start_kills_the_old_state(self, helper: HelperProcess) -> None:
        first = helper.request("startSignon", {**CREDS, "redirectUrl": paste_redirect(), "listen": False})
        second = helper.request("startSignon", {**CREDS, "redirectUrl": paste_redirect(), "listen": False})
        assert first["state"] != second["state"]
        assert (
            rpc_error(helper, "completeSignon", {"redirectUrl": follow_authorize(first["authorizeUrl"])}).code == -32004
        )

    def test_denied_sign_on(self, helper: HelperProcess) -> None:
        started = helper.request("startSignon", {**CREDS, "redirectUrl": paste_redirect(), "listen": False})
        error = rpc_error(helper, "completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"], "deny")})
        assert (error.code, error.data["error"]) == (-32005, "access_denied")
        assert helper.request("getStatus")["pendingSignon"] is False  # a refusal ends the sign-on

    def test_exchange_failure_keeps_token_and_settings(self, helper: HelperProcess) -> None:
        before = sign_in(helper)
        started = helper.request(
            "startSignon",
            {
                "clientSecret": "wrong-secret",
                "clientId": "sandbox-client",
                "redirectUrl": paste_redirect(),
                "listen": False,
            },
        )
        error = rpc_error(helper, "completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})
        assert (error.code, error.data["status"], error.data["error"]) == (-32006, 401, "invalid_client")
        assert "wrong-secret" not in json.dumps(error.data) + error.message
        assert helper.request("getToken")["accessToken"] == before["accessToken"]
        cache = json.loads(Path(helper.request("getStatus")["configPath"]).read_text())
        assert cache["profiles"]["default"]["clientSecret"] == "sandbox-secret"

    def test_network_error(self, config_dir: Path) -> None:
        env = {**os.environ, "TICKTICK_SIGNON_AUTH_URL": f"http://127.0.0.1:{free_port()}"}
        helper = HelperProcess.spawn(env=env)
        try:
            started = helper.request("startSignon", {**CREDS, "redirectUrl": "http://127.0.0.1:8080/", "listen": False})
            redirect = f"http://127.0.0.1:8080/?state={started['state']}&code=abc123"
            error = rpc_error(helper, "completeSignon", {"redirectUrl": redirect})
            assert error.code == -32007
        finally:
            helper.close()

    def test_unreadable_cache_is_reported_and_left_alone(self, helper: HelperProcess, config_dir: Path) -> None:
        config_dir.mkdir(mode=0o700)
        (config_dir / "config.json").write_text("{broken")
        for method in ("getToken", "getStatus", "signOut"):
            error = rpc_error(helper, method)
            assert (error.code, error.data["path"]) == (-32008, str(config_dir / "config.json"))
        assert (config_dir / "config.json").read_text() == "{broken"


def test_exits_zero_on_eof_and_writes_only_frames(helper: HelperProcess) -> None:
    sign_in(helper)
    assert helper.close() == 0
    assert split_frames(helper.stdout_bytes())  # the whole of stdout parses as a sequence of frames


def test_no_secret_code_or_token_in_logs_or_other_replies(
    sandbox: SandboxProvider, auth_url: str, tmp_path: Path
) -> None:
    log_file = tmp_path / "helper.log"
    helper = HelperProcess.spawn(env=dict(os.environ), args=("--log-level", "debug", "--log-file", str(log_file)))
    try:
        redirect = paste_redirect()
        started = helper.request("startSignon", {**CREDS, "redirectUrl": redirect})
        location = follow_authorize(started["authorizeUrl"])
        code = parse_qs(urlsplit(location).query)["code"][0]
        httpx.get(location)
        helper.notification("signonCompleted")
        token = helper.request("getToken")["accessToken"]
        status = helper.request("getStatus")
        helper.request("signOut")
    finally:
        helper.close()
    logs = helper.stderr() + log_file.read_text()
    assert "Sign-on completed" in logs  # debug logging really was on
    for secret in ("sandbox-secret", code, token):
        assert secret not in logs
        assert secret not in json.dumps(status) + json.dumps(started)
    frames = helper.stdout_bytes().decode()
    assert frames.count(token) == 1  # only in getToken's own result
    assert "sandbox-secret" not in frames
    assert_owner_only(log_file, 0o600)


def test_frames_can_be_split_and_joined_arbitrarily(helper: HelperProcess) -> None:
    frames = b"".join(encode_frame({"jsonrpc": "2.0", "id": f"x{i}", "method": "getStatus"}) for i in range(3))
    for i in range(0, len(frames), 7):
        helper.send_raw(frames[i : i + 7])
    ids = {helper.next_unmatched()["id"] for _ in range(3)}
    assert ids == {"x0", "x1", "x2"}
