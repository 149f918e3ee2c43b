"""pygls internals that helper/pygls_adapter.py relies on, pinned: an upgrade that changes one fails here by name.

Each test names the internal in its failure message, so the reader knows which
override in ``pygls_adapter`` to revisit (its docstring says why each exists).
"""

from __future__ import annotations

import inspect
import json
import threading
from concurrent.futures import Future
from typing import Any

import pytest
from pygls.feature_manager import is_thread_function
from pygls.protocol import JsonRPCProtocol, default_converter
from pygls.server import JsonRPCServer

from ticktick_signon.helper.pygls_adapter import PyglsAdapter


def changed(internal: str, what: str) -> str:
    return (
        f"pygls internal {internal} changed ({what}); helper/pygls_adapter.py relies on it: "
        "read its docstring, adapt the override, then this test"
    )


class Recording(PyglsAdapter):
    """The adapter with ``request_done`` recording instead of replying."""

    def __init__(self, server: JsonRPCServer, converter: Any) -> None:
        super().__init__(server, converter)
        self.done: list[tuple[Any, Future[Any]]] = []
        self.finished = threading.Event()

    def request_done(self, msg_id: Any, future: Future[Any]) -> None:
        self.done.append((msg_id, future))
        self.finished.set()


class Frames:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def bodies(self) -> list[Any]:
        out = []
        for frame in self.written:
            head, _, body = frame.partition(b"\r\n\r\n")
            length = int(head.split(b"\r\n")[0].split(b":")[1])
            assert length == len(body), changed("_send_data", "Content-Length is not the body's length in bytes")
            out.append(json.loads(body))
        return out


@pytest.fixture
def server() -> Any:
    server = JsonRPCServer(Recording, default_converter, max_workers=1)
    gate = threading.Event()

    @server.feature("inline")
    def inline(params: Any) -> Any:
        if params and params.get("fail"):
            raise RuntimeError("boom")
        return {"echo": params}

    @server.feature("threaded")
    @server.thread()
    def threaded(params: Any) -> Any:
        gate.wait(10)
        return "late"

    server.gate = gate
    yield server
    gate.set()
    server.thread_pool.shutdown(wait=True)


def test_send_handler_result_keeps_its_signature() -> None:
    method = getattr(JsonRPCProtocol, "_send_handler_result", None)
    assert callable(method), changed("JsonRPCProtocol._send_handler_result", "it is gone")
    params = inspect.signature(method).parameters
    shape = [(name, p.kind) for name, p in params.items()]
    assert shape == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("future", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("msg_id", inspect.Parameter.KEYWORD_ONLY),
    ], changed("JsonRPCProtocol._send_handler_result", f"its parameters are now {shape}")


def test_every_request_ends_in_send_handler_result(server: Any) -> None:
    protocol: Recording = server.protocol
    protocol.set_writer(Frames())
    protocol.dispatch_request(1, "inline", {"a": 1})
    protocol.dispatch_request(2, "inline", {"fail": True})
    assert [msg_id for msg_id, _ in protocol.done] == [1, 2], changed(
        "JsonRPCProtocol._send_handler_result", "pygls no longer calls it when an inline request ends"
    )
    assert protocol.done[0][1].result() == {"echo": {"a": 1}}
    assert isinstance(protocol.done[1][1].exception(), RuntimeError)
    server.gate.set()
    protocol.finished.clear()
    protocol.dispatch_request(3, "threaded", None)
    assert protocol.finished.wait(10), changed(
        "JsonRPCProtocol._send_handler_result", "pygls no longer calls it when a threaded request ends"
    )
    assert protocol.done[-1][0] == 3 and protocol.done[-1][1].result() == "late"


def test_request_futures_holds_requests_in_flight_and_cancel_reads_it(server: Any) -> None:
    protocol: Recording = server.protocol
    protocol.set_writer(Frames())
    assert isinstance(getattr(protocol, "_request_futures", None), dict), changed(
        "JsonRPCProtocol._request_futures", "it is no longer a dict on the protocol"
    )
    protocol.dispatch_request("busy", "threaded", None)  # takes the one worker
    protocol.dispatch_request("queued", "threaded", None)
    assert {"busy", "queued"} <= set(protocol._request_futures), changed(
        "JsonRPCProtocol._request_futures", "threaded requests are not registered in it while in flight"
    )
    protocol.dispatch_cancel("queued")
    cancelled = [future for msg_id, future in protocol.done if msg_id == "queued"]
    assert cancelled and cancelled[0].cancelled(), changed(
        "JsonRPCProtocol._handle_cancel_notification", "a $/cancelRequest (id read as an attribute) no longer cancels"
    )
    server.gate.set()
    server.thread_pool.shutdown(wait=True)
    assert not protocol._request_futures, changed(
        "JsonRPCProtocol._request_futures", "the adapter's pop no longer empties it when requests end"
    )


def test_send_data_writes_a_dict_as_one_frame(server: Any) -> None:
    protocol: Recording = server.protocol
    frames = Frames()
    protocol.set_writer(frames)
    assert callable(getattr(protocol, "_send_data", None)), changed("JsonRPCProtocol._send_data", "it is gone")
    message = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "é", "data": {"kind": "x"}}}
    protocol.send_message(message)
    assert frames.bodies() == [message], changed("JsonRPCProtocol._send_data", "a dict is not written as is")


def test_notify_keeps_dict_params_as_they_are(server: Any) -> None:
    protocol: Recording = server.protocol
    frames = Frames()
    protocol.set_writer(frames)
    params = {"profile": "p", "expiresAt": None, "nested": {"note": "naïve", "gone": None}}
    protocol.notify("tokenChanged", params)
    [body] = frames.bodies()
    assert body == {"jsonrpc": "2.0", "method": "tokenChanged", "params": params}, changed(
        "JsonRPCProtocol.notify / _serialize_message", f"dict params are no longer sent verbatim: {body}"
    )


def test_features_and_thread_marks_are_readable(server: Any) -> None:
    protocol: Recording = server.protocol
    assert isinstance(protocol.fm.features, dict), changed("FeatureManager.features", "no longer a dict")
    assert protocol.has_method("inline") and not protocol.has_method("nope")
    assert protocol.runs_in_thread("threaded") and not protocol.runs_in_thread("inline"), changed(
        "pygls.feature_manager.is_thread_function", "it no longer tells @server.thread() handlers"
    )
    assert is_thread_function(protocol.fm.features["threaded"])
