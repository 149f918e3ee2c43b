"""The stdio JSON-RPC helper (``ticktick-signon serve``): pygls dispatch over the sign-on service.

Each handler parses its params, calls one service method and lets the error
tree speak for itself. pygls's ``JsonRPCProtocol`` dispatches and writes the
frames, through ``pygls_adapter`` (the one module that touches pygls's
internals); this module adds what a strict JSON-RPC helper needs on top:
replies to unparsable frames and batches, requests without ``params``, error
replies without tracebacks, a bound on threaded requests in flight, and one
lock around stdout shared by every thread.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, BinaryIO

from lsprotocol.types import CANCEL_REQUEST
from pygls.protocol import default_converter
from pygls.server import JsonRPCServer

from ticktick_signon.core import messages
from ticktick_signon.errors import (
    InternalError,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    RequestCancelled,
    SignonError,
)
from ticktick_signon.helper import wire
from ticktick_signon.helper.framing import BadFrame, read_frame, skip_body
from ticktick_signon.helper.protocol_docs import protocol_doc
from ticktick_signon.helper.pygls_adapter import PyglsAdapter
from ticktick_signon.helper.watcher import TokenWatcher
from ticktick_signon.signin.service import SignInService

log = logging.getLogger(__name__)

#: Threaded requests (completeSignon) accepted but not yet answered; past this the reader waits.
MAX_THREADED_IN_FLIGHT = 16

METHODS = ("startSignon", "completeSignon", "getToken", "getStatus", "signOut", "verifyToken", "importToken")
NOTIFICATIONS = ("signonCompleted", "signonFailed", "tokenChanged", "tokenExpiring")


class _LockedWriter:
    """stdout for pygls: whole frames, one writer at a time (handlers run in threads too).

    Once stdout is gone (the client closed it), writes are dropped and ``on_lost`` is
    called once, so the thread that wrote (a browser's page, a token being saved)
    carries on.
    """

    def __init__(self, stream: BinaryIO, on_lost: Callable[[], None] = lambda: None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._on_lost = on_lost
        self._lost = False

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._lost:
                return
            try:
                self._stream.write(data)
                self._stream.flush()
                return
            except (OSError, ValueError):  # a broken pipe; ValueError: the stream was closed
                self._lost = True
        self._on_lost()

    def close(self) -> None:
        self._stream.close()


class HelperProtocol(PyglsAdapter):
    """pygls's JSON-RPC protocol, fed decoded bodies and replying with the project's errors."""

    def __init__(self, server: JsonRPCServer, converter: Any) -> None:
        super().__init__(server, converter)
        self._thread_slots = threading.BoundedSemaphore(MAX_THREADED_IN_FLIGHT)
        self._slots_lock = threading.Lock()
        self._slots_held: collections.Counter[Any] = collections.Counter()

    def receive(self, body: bytes) -> None:
        """Decode one frame's body and dispatch it; every failure gets an error reply."""
        try:
            envelope = messages.parse_envelope(json.loads(body))
        except (ValueError, RecursionError):
            self.send_error(None, ParseError("The message is not valid JSON; send one JSON-RPC object per frame."))
            return
        except InvalidRequest as error:
            self.send_error(error.data.pop("id", None), error)
            return
        if envelope.method is None:
            log.debug("Ignoring a response from the client")
        elif envelope.is_request:
            assert envelope.id is not None  # a request has an id (parse_envelope)
            if not self.has_method(envelope.method):
                unknown = MethodNotFound(
                    f"There is no method {envelope.method!r}; the methods are in {protocol_doc()}."
                )
                self.send_error(envelope.id, unknown)
                return
            if self.runs_in_thread(envelope.method):
                self._take_slot(envelope.id)
            self.dispatch_request(envelope.id, envelope.method, envelope.params)
        elif envelope.method == CANCEL_REQUEST:
            params = envelope.params
            if isinstance(params, dict) and isinstance(params.get("id"), (int, str)):
                self.dispatch_cancel(params["id"])
            else:
                log.debug("Ignoring a $/cancelRequest without an id")
        else:
            self.dispatch_notification(envelope.method, envelope.params)

    def _take_slot(self, msg_id: Any) -> None:
        # Blocks the reader when the pool is this far behind, so pipe backpressure
        # (not an unbounded queue) holds a flood of slow requests.
        self._thread_slots.acquire()
        with self._slots_lock:
            self._slots_held[msg_id] += 1

    def _release_slot(self, msg_id: Any) -> None:
        with self._slots_lock:
            held = self._slots_held.get(msg_id, 0)
            if not held:
                return  # an inline request: it never took a slot
            if held == 1:
                del self._slots_held[msg_id]
            else:
                self._slots_held[msg_id] = held - 1
        self._thread_slots.release()

    def send_error(self, msg_id: int | str | None, error: SignonError) -> None:
        """Send an error reply (``id`` null when the request's id is unknown)."""
        self.send_message({"jsonrpc": "2.0", "id": msg_id, "error": error.to_dict()})

    def request_done(self, msg_id: int | str, future: Future[Any]) -> None:
        """Reply to a finished request: its result, or its error without a traceback."""
        self._release_slot(msg_id)
        if future.cancelled():
            self.send_error(msg_id, RequestCancelled("The request was cancelled."))
            return
        error = future.exception()
        if error is None:
            self.send_message({"jsonrpc": "2.0", "id": msg_id, "result": future.result()})
        elif isinstance(error, SignonError):
            log.info("Request failed: %s (%d)", error.kind, error.code)
            self.send_error(msg_id, error)
        else:
            log.error("Unexpected error in a request", exc_info=error)
            self.send_error(msg_id, InternalError("The helper hit an unexpected error; see its log, then try again."))


class LoopbackNotifier:
    """Turns loopback-listener outcomes into ``signonCompleted`` / ``signonFailed`` notifications."""

    def __init__(self, protocol: PyglsAdapter) -> None:
        self._protocol = protocol

    def completed(self, profile: str, expires_at: int) -> None:
        self._protocol.notify("signonCompleted", {"profile": profile, "expiresAt": expires_at})

    def failed(self, profile: str, error: SignonError) -> None:
        self._protocol.notify("signonFailed", {"profile": profile, "error": error.to_dict()})


def create_server(service: SignInService) -> JsonRPCServer:
    """Build the helper: a pygls ``JsonRPCServer`` with the methods of docs/protocol.md."""
    server = JsonRPCServer(HelperProtocol, default_converter, max_workers=4)

    @server.feature("startSignon")
    def start_signon(params: Any) -> dict[str, Any]:
        return wire.start_result(service.start(messages.parse_start(params)))

    @server.feature("completeSignon")
    @server.thread()  # the token exchange can take seconds; other requests go on meanwhile
    def complete_signon(params: Any) -> dict[str, Any]:
        request = messages.parse_complete(params)
        return wire.token_result(service.complete(request.redirect_url, request.profile))

    @server.feature("getToken")
    def get_token(params: Any) -> dict[str, Any]:
        request = messages.parse_get_token(params)
        return wire.token_result(service.get_token(request.profile, request.min_valid_seconds))

    @server.feature("getStatus")
    def get_status(params: Any) -> dict[str, Any]:
        return wire.status_result(service.status(messages.parse_profile(params, "getStatus").profile))

    @server.feature("signOut")
    def sign_out(params: Any) -> dict[str, Any]:
        request = messages.parse_sign_out(params)
        return wire.sign_out_result(service.sign_out(request.profile, request.forget))

    @server.feature("verifyToken")
    @server.thread()  # a call to TickTick's API
    def verify_token(params: Any) -> dict[str, Any]:
        return wire.verify_result(service.verify(messages.parse_profile(params, "verifyToken").profile))

    @server.feature("importToken")
    @server.thread()  # a file without expiry is checked with TickTick's API
    def import_token(params: Any) -> dict[str, Any]:
        request = messages.parse_import(params)
        result = service.import_file(request.path, request.profile, request.format, request.force)
        return wire.import_result(result)

    return server


def serve(
    service: SignInService, stdin: BinaryIO, stdout: BinaryIO, exit_process: Callable[[int], object] = os._exit
) -> None:
    """Answer frames from ``stdin`` on ``stdout`` until stdin closes, then stop cleanly.

    When stdout breaks first, nothing more can be answered: the helper closes its
    listeners, lets requests in progress finish, and ends with ``exit_process(0)``
    (stdin may never close, and a blocked read cannot be woken portably).

    Args:
        service: the sign-on service; the helper tells it about loopback events.
        stdin: the binary input stream.
        stdout: the binary output stream; nothing else may write to it.
        exit_process: ends the process once stdout is lost.
    """
    server = create_server(service)
    protocol: HelperProtocol = server.protocol  # type: ignore[assignment]

    def stop_after_losing_stdout() -> None:
        log.info("The client closed stdout; stopping")
        service.close()
        server.thread_pool.shutdown(wait=True)
        sys.stderr.flush()
        exit_process(0)

    protocol.set_writer(
        _LockedWriter(stdout, lambda: threading.Thread(target=stop_after_losing_stdout, name="stdout-lost").start())
    )
    service.set_events(LoopbackNotifier(protocol))
    watcher = TokenWatcher(service.store, protocol.notify)
    watcher.start()
    log.info("Helper ready on stdio")
    try:
        while (frame := read_frame(stdin)) is not None:
            if isinstance(frame, BadFrame):
                error_cls = InvalidRequest if frame.too_large else ParseError
                protocol.send_error(None, error_cls(frame.reason))
                skip_body(stdin, frame.skip)
                continue
            try:
                protocol.receive(frame.body)
            except Exception:  # the helper must outlive any one message
                log.exception("Unexpected error while handling a message")
    finally:
        log.info("stdin closed; stopping")
        watcher.stop()
        service.close()
        server.thread_pool.shutdown(wait=True)


def run_stdio(service: SignInService) -> None:
    """Serve on the process's stdin/stdout; stray prints go to stderr so frames stay clean."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    serve(service, stdin, stdout)
