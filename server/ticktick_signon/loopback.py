"""The loopback listener (RFC 8252): catches the browser's redirect on 127.0.0.1 and closes.

It binds exactly the redirect URL's loopback host and port, answers only the
redirect path with the sign-on's state, shows the person a small page, and
stops after one real redirect, after its time-to-live, or when closed.
"""

from __future__ import annotations

import html
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

#: A client that connects and says nothing is dropped after this many seconds.
REQUEST_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Outcome:
    """What the redirect led to, for the page the browser shows."""

    ok: bool
    title: str
    detail: str
    #: Runs once the page has been sent (or sending failed): whoever it tells may end the
    #: process at once, and must not cut the page off (on Windows the browser then sees a reset).
    then: Callable[[], None] | None = None


def render_page(outcome: Outcome) -> bytes:
    """Return the HTML page for an outcome; every reflected value is escaped."""
    colour = "#1a7f37" if outcome.ok else "#b42318"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width'>"
        f"<title>ticktick-signon: {html.escape(outcome.title)}</title></head>"
        "<body style='font-family:system-ui,sans-serif;max-width:36em;margin:4em auto'>"
        f"<h1 style='color:{colour}'>{html.escape(outcome.title)}</h1>"
        f"<p>{html.escape(outcome.detail)}</p>"
        "<p>You can close this tab.</p></body></html>"
    ).encode("utf-8")


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that owns its port on every platform (the listener's and the sandbox's).

    On POSIX, SO_REUSEADDR only lets a restart bind past TIME_WAIT. On Windows it would let this
    server share a port another program already listens on (a busy redirect port would look free)
    and let others bind ours; SO_EXCLUSIVEADDRUSE is how a Windows socket owns its port.
    """

    daemon_threads = True
    allow_reuse_address = not hasattr(socket, "SO_EXCLUSIVEADDRUSE")

    def server_bind(self) -> None:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        super().server_bind()


class _Server(LoopbackHTTPServer):
    listener: LoopbackListener


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT_SECONDS
    server_version = "ticktick-signon"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status, outcome = self.server.listener.handle(self.path)
        body = render_page(outcome)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
            self.end_headers()
            self.wfile.write(body)
        finally:
            if outcome.then is not None:
                outcome.then()

    def do_POST(self) -> None:  # noqa: N802
        self.send_error(405)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        # The default prints the request line, which carries the authorization code.
        log.debug("Loopback listener answered a %s request", self.command)


class LoopbackListener:
    """Waits on loopback for one sign-on's redirect and passes it to ``on_redirect``.

    Args:
        host: loopback address to bind (``127.0.0.1`` or ``::1``).
        port: the redirect URL's port.
        path: the redirect URL's path; other paths get a 404 page.
        state: the sign-on's state; a redirect with another gets an error page and
            the listener keeps waiting for the real one.
        redirect_base: scheme and authority of the registered redirect URL, so the
            URL handed on is the one the browser was sent to.
        on_redirect: finishes the sign-on with the full redirect URL and returns the
            page to show; called at most once.
        ttl: seconds before the listener gives up and closes.
    """

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        state: str,
        redirect_base: str,
        on_redirect: Callable[[str], Outcome],
        ttl: float,
    ) -> None:
        self.host, self.port, self.path, self.state = host, port, path, state
        self._redirect_base = redirect_base.rstrip("/")
        self._on_redirect = on_redirect
        self._ttl = ttl
        self._server: _Server | None = None
        self._finish_lock = threading.Lock()
        self._finished = False
        self._closed = threading.Event()
        self._timer: threading.Timer | None = None
        #: Called after the listener closes because its time ran out.
        self.on_expire: Callable[[], None] | None = None

    def start(self) -> bool:
        """Bind and serve in a background thread.

        Returns:
            False (and nothing listens) when the port is taken or cannot be bound.
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_cls = type("_BoundServer", (_Server,), {"address_family": family})
        try:
            server = server_cls((self.host, self.port), _Handler)
        except OSError as exc:
            log.info("Loopback port %s:%d unavailable (%s); paste the redirect instead", self.host, self.port, exc.strerror)
            return False
        server.listener = self
        self._server = server
        self.bound_address = server.server_address[:2]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="loopback").start()
        self._timer = threading.Timer(self._ttl, self._expire)
        self._timer.daemon = True
        self._timer.start()
        log.info("Listening for the redirect on %s:%d", self.host, self.port)
        return True

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the listener has closed; return whether it has."""
        return self._closed.wait(timeout)

    def handle(self, request_path: str) -> tuple[int, Outcome]:
        """Answer one browser request; returns the HTTP status and page outcome."""
        parts = urlsplit(request_path)
        if (parts.path or "/") != self.path:
            return 404, Outcome(False, "Not found", "This address is not the sign-in redirect.")
        query = parse_qs(parts.query, errors="replace")
        if query.get("state", [None])[0] != self.state:
            return 400, Outcome(
                False,
                "Sign-in link out of date",
                "This redirect does not match the sign-in in progress; use the latest sign-in link.",
            )
        with self._finish_lock:
            if self._finished:
                return 409, Outcome(False, "Already handled", "This sign-in has already been handled.")
            self._finished = True
        try:
            outcome = self._on_redirect(f"{self._redirect_base}{request_path}")
        finally:
            # Close from another thread: shutdown() waits for the request in progress.
            threading.Thread(target=self.close, daemon=True).start()
        return (200 if outcome.ok else 400), outcome

    def _expire(self) -> None:
        with self._finish_lock:
            if self._finished:
                return
        self.close()
        if self.on_expire is not None:
            self.on_expire()

    def close(self) -> None:
        """Stop listening and release the port; safe to call more than once."""
        with self._finish_lock:
            self._finished = True
            server, self._server = self._server, None
        if self._timer is not None:
            self._timer.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()
            log.info("Loopback listener on %s:%d closed", self.host, self.port)
        self._closed.set()
