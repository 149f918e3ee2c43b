"""docs/protocol.schema.json against the real helper: every reply, notification and error it sends must validate.

The helper runs as a subprocess over stdio against the sandbox provider on
loopback; the tests sign in by both paths, provoke every error code in the
error tree, and validate each message with jsonschema (draft 2020-12). The
schema is closed (additionalProperties false), so a renamed or extra field on
either side fails. The example exchanges in docs/protocol.md are checked too.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from tests.support.fake_browser import follow_authorize
from tests.support.portability import assert_owner_only
from tests.support.ports import free_port
from tests.support.rpc import HelperProcess, encode_body
from tests.support.schema import DOCS, SCHEMA, assert_valid, problems
from ticktick_signon import errors
from ticktick_signon.helper import server
from ticktick_signon.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxProvider

DOC_TEXT = (DOCS / "protocol.md").read_text(encoding="utf-8")
CREDENTIALS = {"clientId": SANDBOX_CLIENT_ID, "clientSecret": SANDBOX_CLIENT_SECRET}
LEAF_BY_KIND = {leaf.kind: leaf for leaf in errors.LEAVES}


# -- talking to the helper, validating everything ------------------------------------


def request_message(method: str, params: Any, omit_params: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if not omit_params:
        message["params"] = params if params is not None else {}
    return message


def ok(helper: HelperProcess, method: str, params: Any = None, *, omit_params: bool = False) -> dict[str, Any]:
    """Call a method that must succeed; check the request and the reply against the schema."""
    assert_valid("message.request", request_message(method, params, omit_params))
    reply = helper.call(method, params, omit_params=omit_params)
    assert "result" in reply, f"{method} failed: {reply}"
    assert_valid(None, reply)
    assert_valid(f"{method}.result", reply["result"])
    return reply["result"]


def check_error(reply: dict[str, Any], kind: str) -> dict[str, Any]:
    assert "error" in reply, reply
    assert_valid(None, reply)
    assert_valid("error", reply["error"])
    leaf = LEAF_BY_KIND[kind]
    assert (reply["error"]["code"], reply["error"]["data"]["kind"]) == (leaf.code, leaf.kind), reply
    return reply["error"]


def fails(helper: HelperProcess, method: str, params: Any, kind: str) -> dict[str, Any]:
    return check_error(helper.call(method, params), kind)


def notification(helper: HelperProcess, method: str, timeout: float = 30) -> dict[str, Any]:
    message = helper.next_notification(method, timeout)
    assert_valid(None, message)
    assert_valid(f"{method}.params", message["params"])
    return message["params"]


def start(helper: HelperProcess, **params: Any) -> dict[str, Any]:
    params = {**CREDENTIALS, "redirectUrl": f"http://127.0.0.1:{free_port()}/callback", "listen": False, **params}
    return ok(helper, "startSignon", params)


def sign_in(helper: HelperProcess, profile: str = "default") -> dict[str, Any]:
    started = start(helper, profile=profile)
    return ok(helper, "completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})


# -- the schema itself ---------------------------------------------------------------


def test_schema_is_valid_draft_2020_12_and_covers_the_server() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    defs = SCHEMA["$defs"]
    per_call = {key for key in defs if re.fullmatch(r"[A-Za-z]+\.(params|result)", key)}
    expected = {f"{m}.{part}" for m in server.METHODS for part in ("params", "result")}
    expected |= {f"{n}.params" for n in server.NOTIFICATIONS}
    assert per_call == expected
    error = defs["error"]
    assert error["properties"]["code"]["enum"] == [leaf.code for leaf in errors.LEAVES]
    assert error["properties"]["data"]["properties"]["kind"]["enum"] == [leaf.kind for leaf in errors.LEAVES]
    pairs = set()
    for branch in error["oneOf"]:
        data = defs[branch["properties"]["data"]["$ref"].removeprefix("#/$defs/")]
        pairs.add((branch["properties"]["code"]["const"], data["properties"]["kind"]["const"]))
    assert pairs == {(leaf.code, leaf.kind) for leaf in errors.LEAVES}
    assert set(defs["message.request"]["properties"]["method"]["enum"]) == set(server.METHODS)
    sent = {branch["properties"]["method"]["const"] for branch in defs["message.notification"]["oneOf"]}
    assert sent == set(server.NOTIFICATIONS)


def test_schema_rejects_drift() -> None:
    """The checks below only mean something if the schema is strict; prove that it is."""
    token = {
        "accessToken": "t",
        "tokenType": "bearer",
        "scope": "tasks:read tasks:write",
        "expiresAt": 1811443535,
        "expiresIn": 10,
        "profile": "default",
    }
    assert_valid("getToken.result", token)
    assert problems("getToken.result", {**token, "refreshToken": "r"}), "an extra field must fail"
    renamed = {("expires_at" if k == "expiresAt" else k): v for k, v in token.items()}
    assert problems("getToken.result", renamed), "a renamed field must fail"
    assert problems("getToken.result", {**token, "expiresAt": "2027-05-28"}), "a wrong type must fail"
    mixed = {"code": -32001, "message": "m", "data": {"kind": "tokenExpired", "expiresAt": 1}}
    assert problems("error", mixed), "a code with another code's kind must fail"
    assert problems("error", {"code": -32099, "message": "m", "data": {"kind": "internalError"}})
    assert problems("getStatus.params", {"profiles": "default"}), "a misspelt param must fail"


# -- sign-on by both paths -----------------------------------------------------------


def test_paste_signon_replies_match_the_schema(helper: HelperProcess, sandbox: SandboxProvider) -> None:
    before = ok(helper, "getStatus", omit_params=True)
    assert before["signedIn"] is False and before["expiresAt"] is None
    started = start(helper)
    assert started["listening"] is False
    assert ok(helper, "getStatus", {})["pendingSignon"] is True

    redirect = follow_authorize(started["authorizeUrl"])  # the sandbox's Allow button
    token = ok(helper, "completeSignon", {"redirectUrl": redirect, "profile": "default"})
    assert token["expiresIn"] > 0 and sandbox.token_is_valid(token["accessToken"])

    assert ok(helper, "getToken", omit_params=True)["accessToken"] == token["accessToken"]
    assert ok(helper, "getToken", {"profile": "default", "minValidSeconds": 60})["expiresAt"] == token["expiresAt"]
    status = ok(helper, "getStatus", {"profile": "default"})
    assert (status["signedIn"], status["clientId"], status["region"]) == (True, SANDBOX_CLIENT_ID, "ticktick")

    assert ok(helper, "signOut", {}) == {"signedOut": True}
    assert ok(helper, "signOut", {"forget": True}) == {"signedOut": False}

    # completeSignon by position, on a named profile in the other region.
    again = start(helper, profile="work.2", region="dida365")
    by_position = ok(helper, "completeSignon", [follow_authorize(again["authorizeUrl"])])
    assert by_position["profile"] == "work.2"
    assert ok(helper, "getStatus", {"profile": "work.2"})["region"] == "dida365"


def test_loopback_signon_replies_and_notification_match_the_schema(helper: HelperProcess) -> None:
    started = start(helper, listen=True, profile="lb")
    assert started["listening"] is True
    page = httpx.get(follow_authorize(started["authorizeUrl"]), timeout=30)
    assert page.status_code == 200, page.text
    completed = notification(helper, "signonCompleted")
    assert completed["profile"] == "lb"
    assert ok(helper, "getToken", {"profile": "lb"})["expiresAt"] == completed["expiresAt"]


def test_loopback_listener_uses_the_redirect_path_only(helper: HelperProcess) -> None:
    """The document's listener promises: 404 elsewhere, 400 for another state and still waiting."""
    started = start(helper, listen=True)
    base = started["redirectUrl"].rsplit("/", 1)[0]
    assert httpx.get(f"{base}/elsewhere", timeout=10).status_code == 404
    assert httpx.get(f"{started['redirectUrl']}?state=old&code=x", timeout=10).status_code == 400
    assert httpx.get(follow_authorize(started["authorizeUrl"]), timeout=30).status_code == 200
    notification(helper, "signonCompleted")


def test_busy_port_gives_listening_false(helper: HelperProcess) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = start(helper, listen=True, redirectUrl=f"http://127.0.0.1:{port}/")
    assert started["listening"] is False


@pytest.mark.parametrize(
    ("decision", "fault", "kind"),
    [("deny", None, "authorizationDenied"), ("allow", "oauth-error", "tokenExchangeFailed")],
)
def test_loopback_failure_notification_matches_the_schema(
    helper: HelperProcess, sandbox: SandboxProvider, decision: str, fault: str | None, kind: str
) -> None:
    started = start(helper, listen=True, profile="lb")
    sandbox.token_fault = fault
    page = httpx.get(follow_authorize(started["authorizeUrl"], decision), timeout=30)
    assert page.status_code == 400
    failed = notification(helper, "signonFailed")
    assert failed["profile"] == "lb"
    leaf = LEAF_BY_KIND[kind]
    assert (failed["error"]["code"], failed["error"]["data"]["kind"]) == (leaf.code, leaf.kind)


def test_expired_listening_signon_notification_matches_the_schema(tmp_path: Path) -> None:
    """The 10-minute expiry cannot be waited out in a test; a clock that jumps 599.8 s after the
    start makes the real service and the helper's real notifier send it within a second."""
    import threading

    from ticktick_signon.cache.store import TokenStore
    from ticktick_signon.core.messages import parse_start
    from ticktick_signon.signin.service import SignInService

    started_at = time.time()
    calls = []

    def clock() -> float:
        calls.append(None)
        return started_at if len(calls) == 1 else started_at + 599.8

    sent: list[dict[str, Any]] = []
    done = threading.Event()

    class Recorder:
        def notify(self, method: str, params: Any) -> None:
            sent.append({"jsonrpc": "2.0", "method": method, "params": params})
            done.set()

    service = SignInService(TokenStore(tmp_path / "config"), clock=clock, environ={})
    service.set_events(server.LoopbackNotifier(Recorder()))  # type: ignore[arg-type]
    try:
        result = service.start(
            parse_start({**CREDENTIALS, "redirectUrl": f"http://127.0.0.1:{free_port()}/cb", "profile": "late"})
        )
        assert result.listening is True
        assert done.wait(10), "no notification after the listener's time ran out"
    finally:
        service.close()
    [message] = sent
    assert_valid(None, message)
    assert message["method"] == "signonFailed"
    assert message["params"]["profile"] == "late"
    error = message["params"]["error"]
    assert (error["code"], error["data"]["kind"]) == (-32003, "noPendingSignon")


# -- every error in the error tree, provoked for real --------------------------------


def _parse_error(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    helper.send_raw(encode_body(b"{not json"))
    reply = helper.next_unmatched()
    assert reply["id"] is None
    return reply


def _invalid_request(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    helper.send([{"jsonrpc": "2.0", "id": 1, "method": "getStatus"}])
    reply = helper.next_unmatched()
    assert reply["id"] is None
    return reply


def _method_not_found(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    return helper.call("shutdown")


def _invalid_params(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    reply = helper.call("startSignon", {"redirectUrl": "http://127.0.0.1:8080/"})
    assert reply["error"]["data"]["missing"] == ["clientId", "clientSecret"]
    return reply


def _request_cancelled(helper: HelperProcess, sandbox: SandboxProvider, **_: Any) -> dict[str, Any]:
    # Four slow token exchanges fill the helper's four workers, so a fifth
    # completeSignon waits in the queue long enough to be cancelled.
    redirects = [follow_authorize(start(helper, profile=f"slow{i}")["authorizeUrl"]) for i in range(4)]
    sandbox.token_fault, sandbox.slow_seconds = "slow", 3.0
    for i, redirect in enumerate(redirects):
        helper.send({"jsonrpc": "2.0", "id": f"slow{i}", "method": "completeSignon", "params": [redirect]})
    helper.send({"jsonrpc": "2.0", "id": "queued", "method": "completeSignon", "params": {}})
    helper.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": "queued"}})
    replies = {}
    for _ in range(5):
        reply = helper.next_unmatched(timeout=30)
        replies[reply["id"]] = reply
    for i in range(4):
        assert_valid("completeSignon.result", replies[f"slow{i}"]["result"])
    return replies["queued"]


def _not_signed_in(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    return helper.call("getToken", {"profile": "nobody"})


def _token_expired(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    token = sign_in(helper)
    reply = helper.call("getToken", {"minValidSeconds": token["expiresIn"] + 1})
    assert reply["error"]["data"]["expiresAt"] == token["expiresAt"]
    return reply


def _no_pending_signon(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    return helper.call("completeSignon", ["http://127.0.0.1:8080/?code=abc&state=" + "A" * 43])


def _state_mismatch(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    started = start(helper)
    return helper.call("completeSignon", [f"{started['redirectUrl']}?code=abc&state={'B' * 43}"])


def _authorization_denied(helper: HelperProcess, **_: Any) -> dict[str, Any]:
    started = start(helper)
    reply = helper.call("completeSignon", [follow_authorize(started["authorizeUrl"], "deny")])
    assert reply["error"]["data"]["error"] == "access_denied"
    return reply


def _token_exchange_failed(helper: HelperProcess, sandbox: SandboxProvider, **_: Any) -> dict[str, Any]:
    started = start(helper)
    sandbox.token_fault = "server-error-html"  # a 500 without an OAuth error: data.error is null
    reply = helper.call("completeSignon", [follow_authorize(started["authorizeUrl"])])
    assert reply["error"]["data"]["status"] == 500 and reply["error"]["data"]["error"] is None
    return reply


def _network_error(helper: HelperProcess, sandbox: SandboxProvider, **_: Any) -> dict[str, Any]:
    started = start(helper)
    sandbox.token_fault = "reset"
    return helper.call("completeSignon", [follow_authorize(started["authorizeUrl"])])


def _provider_error(helper: HelperProcess, sandbox: SandboxProvider, **_: Any) -> dict[str, Any]:
    sign_in(helper)
    assert ok(helper, "verifyToken")["valid"] is True
    sandbox.api_status = 500  # TickTick's "access_forbidden" to a working token
    reply = helper.call("verifyToken")
    assert reply["error"]["data"]["status"] == 500
    return reply


def _issuer_mismatch(helper: HelperProcess, config_dir: Path, **_: Any) -> dict[str, Any]:
    """A profile TickTick signed in, verified by a helper whose TICKTICK_SIGNON_AUTH_URL is the sandbox."""
    config_dir.mkdir(parents=True, exist_ok=True)
    token = {"accessToken": "real", "tokenType": "bearer", "scope": "s", "expiresAt": int(time.time()) + 3600}
    profile = {"issuer": "https://ticktick.com", "token": token}
    (config_dir / "config.json").write_text(json.dumps({"version": 1, "profiles": {"default": profile}}))
    reply = helper.call("verifyToken")
    assert reply["error"]["data"]["issuer"]["kind"] == "ticktick"
    assert reply["error"]["data"]["provider"]["local"] is True
    return reply


def _config_unreadable(helper: HelperProcess, config_dir: Path, **_: Any) -> dict[str, Any]:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text("{ not a cache")
    reply = helper.call("getStatus")
    assert reply["error"]["data"]["path"] == str(config_dir / "config.json")
    return reply


def _internal_error(helper: HelperProcess, config_dir: Path, **_: Any) -> dict[str, Any]:
    # A cache that parses but holds a pending sign-on whose redirect URL has an
    # impossible port is nothing the helper handles on purpose: it takes the
    # unexpected-error path when that sign-on is completed.
    state = "S" * 43
    pending = {
        "state": state,
        "profile": "default",
        "clientId": "c",
        "clientSecret": "s",
        "redirectUrl": "http://127.0.0.1:99999/",
        "region": "ticktick",
        "authBase": "http://127.0.0.1:9",
        "expiresAt": int(time.time()) + 600,
    }
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text(json.dumps({"version": 1, "pendingSignons": {state: pending}}))
    reply = helper.call("completeSignon", [f"http://127.0.0.1:8080/?code=c&state={state}"])
    assert "Traceback" not in json.dumps(reply)
    return reply


PROVOKE: dict[str, Callable[..., dict[str, Any]]] = {
    "parseError": _parse_error,
    "invalidRequest": _invalid_request,
    "methodNotFound": _method_not_found,
    "invalidParams": _invalid_params,
    "requestCancelled": _request_cancelled,
    "notSignedIn": _not_signed_in,
    "tokenExpired": _token_expired,
    "noPendingSignon": _no_pending_signon,
    "stateMismatch": _state_mismatch,
    "authorizationDenied": _authorization_denied,
    "tokenExchangeFailed": _token_exchange_failed,
    "networkError": _network_error,
    "providerError": _provider_error,
    "configUnreadable": _config_unreadable,
    "issuerMismatch": _issuer_mismatch,
    "internalError": _internal_error,
}


@pytest.mark.parametrize("kind", [leaf.kind for leaf in errors.LEAVES])
def test_every_error_the_server_can_raise_matches_the_schema(
    kind: str, helper: HelperProcess, sandbox: SandboxProvider, config_dir: Path, tmp_path: Path
) -> None:
    assert kind in PROVOKE, f"no test provokes {kind}: add one"
    reply = PROVOKE[kind](helper=helper, sandbox=sandbox, config_dir=config_dir, tmp_path=tmp_path)
    check_error(reply, kind)
    if kind not in ("parseError", "invalidRequest"):
        still_serving = helper.call("getStatus", ["by position"])
        assert still_serving["error"]["data"]["kind"] == "invalidParams", still_serving


def test_a_cache_folder_under_a_file_gets_an_actionable_error(auth_url: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    folder = tmp_path / "a-file" / "ticktick-signon"
    other = HelperProcess.spawn(env=dict(os.environ, TICKTICK_SIGNON_CONFIG_DIR=str(folder)))
    try:
        replies = [other.call("startSignon", {**CREDENTIALS, "redirectUrl": f"http://127.0.0.1:{free_port()}/"})]
        if os.name != "nt":  # Windows reads a path under a file as a folder not made yet: "not signed in"
            replies.append(other.call("getStatus"))
    finally:
        assert other.close() == 0
    for reply in replies:
        assert_valid(None, reply)
        assert reply["error"]["code"] != errors.InternalError.code, reply
        assert str(folder) in reply["error"]["message"], reply


def test_oversized_frame_is_refused_and_the_helper_keeps_serving(helper: HelperProcess) -> None:
    body = b" " * ((1 << 20) + 1)
    helper.send_raw(encode_body(body))
    reply = helper.next_unmatched()
    assert reply["id"] is None
    check_error(reply, "invalidRequest")
    at_cap = b'{"jsonrpc":"2.0","id":"cap","method":"getStatus"}'
    at_cap += b" " * ((1 << 20) - len(at_cap))
    helper.send_raw(encode_body(at_cap))
    reply = helper.next_unmatched()
    assert reply["id"] == "cap"
    assert_valid("getStatus.result", reply["result"])


def test_a_broken_header_is_a_parse_error_with_id_null(helper: HelperProcess) -> None:
    helper.send_raw(b"Content-Lenght: 2\r\n\r\n")
    reply = helper.next_unmatched()
    assert reply["id"] is None
    check_error(reply, "parseError")
    ok(helper, "getStatus")


def _wrong_value(prop: dict[str, Any]) -> Any:
    while "$ref" in prop:
        prop = SCHEMA["$defs"][prop["$ref"].removeprefix("#/$defs/")]
    return {"string": 12345, "boolean": "yes", "integer": "soon"}[prop.get("type", "string")]


BASE_PARAMS = {
    "completeSignon": {"redirectUrl": "http://127.0.0.1:8080/?code=c&state=" + "S" * 43},
    "importToken": {"path": os.path.abspath("/nonexistent/.env")},  # on Windows too: C:\nonexistent\.env
}


@pytest.mark.parametrize("method", server.METHODS)
def test_the_helper_reads_every_param_the_schema_lists(helper: HelperProcess, method: str) -> None:
    """A wrong type in each listed param is refused naming that param: the helper really reads it."""
    definition = SCHEMA["$defs"][f"{method}.params"]
    by_name = next((b for b in definition.get("oneOf", []) if b.get("type") == "object"), definition)
    assert by_name["properties"], method
    for name, prop in by_name["properties"].items():
        params = {**BASE_PARAMS.get(method, {}), name: _wrong_value(prop)}
        assert problems(f"{method}.params", params), f"the schema accepts a wrong {method}.{name}"
        error = fails(helper, method, params, "invalidParams")
        assert error["data"]["field"] == name, error


# -- lifecycle and framing as documented ---------------------------------------------


def test_frames_logs_and_exit_are_as_documented(auth_url: str, tmp_path: Path) -> None:
    log_file = tmp_path / "helper.log"
    helper = HelperProcess.spawn(env=dict(os.environ), args=("--log-level", "debug", "--log-file", str(log_file)))
    token = sign_in(helper)
    assert helper.close() == 0
    lines = helper.raw_output
    headers = {line for line in lines if line.endswith(b"\r\n")}
    assert {re.sub(rb"^Content-Length: \d+", b"Content-Length: N", h) for h in headers} == {
        b"Content-Length: N\r\n",
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n",
        b"\r\n",
    }
    for line in lines:
        line.decode("ascii")  # bodies are ASCII JSON
    logged = log_file.read_text()
    assert "Sign-on completed" in logged and "Sign-on completed" in helper.stderr()
    assert token["accessToken"] not in logged + helper.stderr()
    assert_owner_only(log_file, 0o600)


# -- the document's examples ----------------------------------------------------------


def doc_examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC_TEXT, re.S)
    assert blocks, "docs/protocol.md has no ```json examples"
    return [json.loads(block) for block in blocks]


def test_document_examples_are_valid_json_and_match_the_schema() -> None:
    requests: dict[Any, str] = {}
    answered: set[str] = set()
    examples = doc_examples()
    for message in examples:
        if "method" in message and "id" in message:
            assert message["id"] not in requests, f"example id {message['id']} is used twice"
            assert_valid("message.request", message)
            if "params" in message:
                assert_valid(f"{message['method']}.params", message["params"])
            requests[message["id"]] = message["method"]
            continue
        assert_valid(None, message)
        if "method" in message:
            assert_valid(f"{message['method']}.params", message["params"])
            answered.add(message["method"])
        elif "result" in message:
            method = requests.pop(message["id"])
            assert_valid(f"{method}.result", message["result"])
            answered.add(method)
        else:
            assert_valid("error", message["error"])
            if message["id"] is not None:
                requests.pop(message["id"])
    assert not requests, f"example requests without a reply: {requests}"
    assert answered == set(server.METHODS) | set(server.NOTIFICATIONS), "each method and notification needs an example"


def test_a_broken_example_would_fail() -> None:
    example = next(m for m in doc_examples() if m.get("result", {}).get("signedIn") is not None)
    broken = copy.deepcopy(example)
    broken["result"]["signed_in"] = broken["result"].pop("signedIn")
    assert problems("getStatus.result", broken["result"])
    assert problems(None, broken)
