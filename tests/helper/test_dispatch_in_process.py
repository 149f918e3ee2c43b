"""The helper's dispatch in-process: replies for failures no real sign-on can provoke."""

from __future__ import annotations

import io
import json
from typing import Any

from tests.support.rpc import encode_frame
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.helper.server import serve
from ticktick_signon.signin.results import TokenResult
from ticktick_signon.signin.service import SignInService


class ExplodingService(SignInService):
    def get_token(self, profile: str, min_valid_seconds: int = 0) -> TokenResult:
        raise RuntimeError("boom with s3cret inside")


def run_frames(service: SignInService, *messages: Any) -> list[dict[str, Any]]:
    stdout = io.BytesIO()
    serve(service, io.BytesIO(b"".join(encode_frame(m) for m in messages)), stdout)
    out, replies = stdout.getvalue(), []
    while out:
        head, _, rest = out.partition(b"\r\n\r\n")
        length = int(head.split(b"\r\n")[0].split(b":")[1])
        replies.append(json.loads(rest[:length]))
        out = rest[length:]
    return replies


def test_unexpected_exception_is_internal_error_without_traceback(config_dir) -> None:
    replies = run_frames(
        ExplodingService(TokenStore(config_dir)),
        {"jsonrpc": "2.0", "id": 1, "method": "getToken"},
        {"jsonrpc": "2.0", "id": 2, "method": "getStatus"},
    )
    error = replies[0]["error"]
    assert (error["code"], error["data"]) == (-32603, {"kind": "internalError"})
    assert "s3cret" not in json.dumps(replies[0]) and "Traceback" not in json.dumps(replies[0])
    assert replies[1]["result"]["signedIn"] is False  # and it keeps serving


def test_notifications_and_client_responses_get_no_reply(config_dir) -> None:
    replies = run_frames(
        SignInService(TokenStore(config_dir)),
        {"jsonrpc": "2.0", "method": "getStatus"},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 99}},
        {"jsonrpc": "2.0", "id": 5, "result": {}},
        {"jsonrpc": "2.0", "id": 6, "method": "getStatus", "params": {"profile": "work"}},
    )
    assert [r["id"] for r in replies] == [6]
