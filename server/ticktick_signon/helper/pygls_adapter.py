"""Every use of pygls's private internals, in one place: what pygls 2.1 lacks for this helper, and why.

pygls stays the dispatcher: its ``JsonRPCServer`` keeps the features (the
``@server.feature`` / ``@server.thread()`` handlers), runs them inline or on
its thread pool, handles ``$/cancelRequest``, and writes notifications. It is
built for LSP, though, and three things a strict non-LSP JSON-RPC helper needs
have no public hook, so ``PyglsAdapter`` reaches into these internals (each
pinned by ``tests/contract/test_pygls_adapter.py``, which names the one that changed
when a pygls upgrade breaks it; pyproject pins pygls to 2.1.x):

``_send_handler_result(future, *, msg_id)``
    pygls's callback when a request's future is done. Its version writes the
    traceback of an unexpected exception into the error reply (a leak: the
    exception text may carry a secret) and knows nothing of the project's
    error tree (``SignonError.to_dict``). Overridden to hand the future to
    ``request_done``, where the helper builds the reply.

``_request_futures``
    pygls's map of in-flight requests, which its ``_send_handler_result`` pops
    and its cancel handler reads. Replacing that method means popping here too,
    or every finished request would stay in the map (a leak, and a late
    ``$/cancelRequest`` would "cancel" a finished future).

``_send_data(data)``
    pygls's one writer of a frame (it adds ``Content-Length``). Public
    ``_send_response`` takes only lsprotocol's error type, so replies the
    helper has built as JSON objects (errors with ``data``, a null ``id`` for
    an unreadable frame) go through this instead.

Public but LSP-shaped, used as documented: ``fm.features`` and
``is_thread_function`` (to know, before dispatching, whether a method exists and
runs on the pool), and ``handle_message`` fed pygls's own message types,
because the helper decodes and checks the envelope itself (pygls's reader
replies to nothing it cannot parse, accepts batches silently and requires
``params``).

Relied on, not overridden: ``notify`` serializes a ``dict`` of params as is
(``None`` members kept) and ``json.dumps`` escapes non-ASCII, which keeps its
``Content-Length`` (counted in characters) right in bytes.
"""

from __future__ import annotations

import types
from concurrent.futures import Future
from typing import Any

from lsprotocol.types import CANCEL_REQUEST
from pygls.feature_manager import is_thread_function
from pygls.protocol import JsonRPCNotification, JsonRPCProtocol, JsonRPCRequestMessage

MsgId = int | str


class PyglsAdapter(JsonRPCProtocol):
    """pygls's JSON-RPC protocol, fed decoded messages, with each request's end handed to ``request_done``."""

    def has_method(self, method: str) -> bool:
        """Whether a feature (a handler) is registered for ``method``."""
        return method in self.fm.features

    def runs_in_thread(self, method: str) -> bool:
        """Whether ``method``'s handler runs on the server's thread pool (``@server.thread()``)."""
        return bool(is_thread_function(self.fm.features[method]))

    def dispatch_request(self, msg_id: MsgId, method: str, params: Any) -> None:
        """Run ``method``'s handler for a request; ``request_done`` hears when it is done."""
        self.handle_message(JsonRPCRequestMessage(msg_id, method, "2.0", params))

    def dispatch_notification(self, method: str, params: Any) -> None:
        """Run ``method``'s handler for a notification (nothing is answered)."""
        self.handle_message(JsonRPCNotification(method, "2.0", params))

    def dispatch_cancel(self, msg_id: MsgId) -> None:
        """Cancel the request ``msg_id`` if it has not started (pygls reads the id as an attribute)."""
        self.handle_message(JsonRPCNotification(CANCEL_REQUEST, "2.0", types.SimpleNamespace(id=msg_id)))

    def send_message(self, message: dict[str, Any]) -> None:
        """Write one JSON-RPC message, already a JSON object, as a frame."""
        self._send_data(message)

    def request_done(self, msg_id: MsgId, future: Future[Any]) -> None:
        """Answer the request ``msg_id`` from its finished (or cancelled) ``future``; subclasses reply."""
        raise NotImplementedError

    def _send_handler_result(self, future: Future[Any], *, msg_id: MsgId) -> None:
        # Replaces pygls's: see the module docstring. The pop is what pygls's own version does first.
        self._request_futures.pop(msg_id, None)
        self.request_done(msg_id, future)
