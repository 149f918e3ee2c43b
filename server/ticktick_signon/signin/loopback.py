"""The loopback listener (RFC 8252): catches the browser's redirect on loopback and closes.

It binds the redirect URL's loopback host and port (every loopback address
``localhost`` resolves to, or none), answers only the redirect path with the
sign-on's state, shows the person a small page, and stops after one real
redirect, after its time-to-live, when its sign-on ends elsewhere, or when closed.
"""

from __future__ import annotations

import contextlib
import errno
import html
import ipaddress
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

#: A request must arrive whole within this many seconds of connecting, however it trickles in.
REQUEST_TIMEOUT_SECONDS = 10
#: Connections still sending their request, at most; past it the oldest is dropped for the newcomer.
MAX_PENDING_CONNECTIONS = 32
#: How often (seconds) a waiting listener asks whether its sign-on is still the live one.
CHECK_INTERVAL_SECONDS = 0.5
#: Errors that mean "this machine has no such address" (IPv6 switched off), not "someone holds it".
_ADDRESS_MISSING = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, getattr(errno, "WSAEADDRNOTAVAIL", -1)}


@dataclass(frozen=True)
class Outcome:
    """What a redirect led to, for the page the browser shows.

    ``final`` is False when the sign-on is still waiting (the request could not
    finish it, e.g. a malformed URL): the listener keeps listening.
    """

    ok: bool
    title: str
    detail: str
    final: bool = True
    #: Run once the browser has the whole page (or has gone away), never before: whoever
    #: waits on the sign-on may then exit without cutting the page off.
    after_page: Callable[[], None] | None = field(default=None, compare=False, repr=False)


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
    ).encode()


def _drop(sock: socket.socket) -> None:
    # shutdown (not close) wakes the handler thread blocked in recv; it then closes the socket itself.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Connections:
    """A listener's open connections: a bounded number still sending, each with a whole-request deadline.

    A slow-drip client cannot hold the listener: it is dropped at its deadline,
    or sooner when newer connections need its place. A connection whose request
    has arrived is being answered and is left alone.
    """

    def __init__(self, limit: int, deadline: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit, self._deadline, self._clock = limit, deadline, clock
        self._lock = threading.Condition()
        self._receiving: dict[socket.socket, float] = {}  # insertion order: oldest first
        self._answering: set[socket.socket] = set()

    def admit(self, sock: socket.socket) -> None:
        with self._lock:
            while len(self._receiving) >= self._limit:
                oldest = next(iter(self._receiving))
                del self._receiving[oldest]
                _drop(oldest)
            self._receiving[sock] = self._clock() + self._deadline

    def received(self, sock: socket.socket) -> None:
        with self._lock:
            if self._receiving.pop(sock, None) is not None:
                self._answering.add(sock)

    def done(self, sock: socket.socket) -> None:
        with self._lock:
            self._receiving.pop(sock, None)
            self._answering.discard(sock)
            self._lock.notify_all()

    def wait_answered(self, timeout: float) -> bool:
        """Wait until every request that arrived has had its answer; return whether they all have."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._answering, timeout)

    def reap(self) -> None:
        now = self._clock()
        with self._lock:
            late = [sock for sock, deadline in self._receiving.items() if now >= deadline]
            for sock in late:
                del self._receiving[sock]
        for sock in late:
            _drop(sock)

    def drop_receiving(self) -> None:
        with self._lock:
            socks, self._receiving = list(self._receiving), {}
        for sock in socks:
            _drop(sock)


class ExclusiveHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that holds its port alone on every OS (the listener's and the sandbox's).

    POSIX: ``SO_REUSEADDR`` rebinds a port in TIME_WAIT at once, yet two sockets
    still cannot listen on one port. Windows' ``SO_REUSEADDR`` would let them
    share it (a busy port would look free), so there the port is claimed with
    ``SO_EXCLUSIVEADDRUSE`` instead.
    """

    daemon_threads = True
    allow_reuse_address = os.name != "nt"

    def server_bind(self) -> None:
        if os.name == "nt":
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
        super().server_bind()

    def host_and_port(self) -> tuple[str, int]:
        """The address bound (an IP, never a name), and the port: the one chosen when 0 was asked."""
        host, port = self.server_address[:2]
        return (host if isinstance(host, str) else bytes(host).decode()), port


class _Server(ExclusiveHTTPServer):
    # socketserver's backlog of 5 would make the browser's connect wait out SYN retries during a flood.
    request_queue_size = 128
    listener: LoopbackListener

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        self.listener.connections.admit(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[no-untyped-def]
        self.listener.connections.done(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        # socketserver prints a traceback to stderr; a client that went away (or was dropped
        # for being slow) is routine, and anything else belongs in the log.
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            log.debug("A loopback connection ended early (%s)", type(error).__name__)
        else:
            log.error("Unexpected error answering a loopback request", exc_info=error)

    def service_actions(self) -> None:
        # Runs in the serve loop between accepts (every poll interval).
        self.listener.connections.reap()
        self.listener.check_now()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT_SECONDS
    server_version = "ticktick-signon"
    sys_version = ""

    def parse_request(self) -> bool:
        ok = super().parse_request()  # reads the headers: the whole request has arrived
        self.server.listener.connections.received(self.connection)
        return ok

    def do_GET(self) -> None:
        status, outcome = self.server.listener.handle(self.path)
        try:
            self._answer(status, outcome)
        finally:
            if outcome.after_page is not None:
                outcome.after_page()

    def _answer(self, status: int, outcome: Outcome) -> None:
        body = render_page(outcome)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True
        # Send our FIN after the page now, so a process that exits next cannot turn it into a reset.
        with contextlib.suppress(OSError):  # the browser has gone already
            self.connection.shutdown(socket.SHUT_WR)

    def do_POST(self) -> None:
        self.send_error(405)

    def log_message(self, format: str, *args: object) -> None:
        # The default prints the request line, which carries the authorization code.
        log.debug("Loopback listener answered a %s request", self.command)


def resolve_loopback(host: str, port: int) -> list[str]:
    """Return the addresses to bind for ``host``: itself, or every loopback address ``localhost`` can mean.

    Browsers resolve ``localhost`` to both 127.0.0.1 and ::1 whatever the hosts
    file says (RFC 6761), so both are bound, plus any other loopback address the
    system gives for it.
    """
    if host != "localhost":
        return [host]
    addresses = ["127.0.0.1", "::1"]
    try:
        infos = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    except OSError:
        infos = []
    for info in infos:
        address = str(info[4][0]).split("%")[0]
        if ipaddress.ip_address(address).is_loopback and address not in addresses:
            addresses.append(address)
    return addresses


class LoopbackListener:
    """Waits on loopback for one sign-on's redirect and passes it to ``on_redirect``.

    Args:
        host: loopback address to bind (``127.0.0.1``, ``::1``), or ``localhost``
            for every loopback address it resolves to.
        port: the redirect URL's port.
        path: the redirect URL's path; other paths get a 404 page.
        state: the sign-on's state; a redirect with another gets an error page and
            the listener keeps waiting for the real one.
        redirect_base: scheme and authority of the registered redirect URL, so the
            URL handed on is the one the browser was sent to.
        on_redirect: finishes the sign-on with the full redirect URL and returns the
            page to show; called for one request at a time, until one is final. Its
            ``after_page`` runs once the page is sent.
        ttl: seconds before the listener gives up and closes.
        check: asked, while waiting and on each redirect-path request (with its
            state), whether the sign-on still waits; returns None if it does, else
            the page to show (its ``after_page`` tells the waiter), and the listener closes.
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
        check: Callable[[str | None], Outcome | None] | None = None,
    ) -> None:
        self.host, self.port, self.path, self.state = host, port, path, state
        self._redirect_base = redirect_base.rstrip("/")
        self._on_redirect = on_redirect
        self._check = check
        self._next_check = 0.0
        self._ttl = ttl
        self._servers: list[_Server] = []
        self._redirect_lock = threading.Lock()  # one redirect at a time reaches on_redirect
        self._finish_lock = threading.Lock()
        self._finished = False
        self._closed = threading.Event()
        self._timer: threading.Timer | None = None
        self.connections = _Connections(MAX_PENDING_CONNECTIONS, REQUEST_TIMEOUT_SECONDS)
        self.bound_addresses: list[tuple[str, int]] = []
        #: Called after the listener closes because its time ran out.
        self.on_expire: Callable[[], None] | None = None

    def _bind(self, address: str) -> _Server | None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        server_cls = type("_BoundServer", (_Server,), {"address_family": family})
        try:
            server = server_cls((address, self.port), _Handler)
        except OSError as exc:
            if family == socket.AF_INET6 and exc.errno in _ADDRESS_MISSING:
                log.info("No %s on this machine (IPv6 is off); nobody can listen there", address)
                return None
            raise
        server.listener = self
        return server

    def start(self) -> bool:
        """Bind every address and serve each in a background thread.

        Returns:
            False (and nothing listens) when any address's port is taken or cannot
            be bound: listening on some of ``localhost``'s addresses would let
            another process take the others, and the redirect with them.
        """
        try:
            for address in resolve_loopback(self.host, self.port):
                server = self._bind(address)
                if server is not None:
                    self._servers.append(server)
        except OSError as exc:
            log.info(
                "Loopback port %s:%d unavailable (%s); paste the redirect instead", self.host, self.port, exc.strerror
            )
            for server in self._release():
                server.server_close()  # never served: shutdown() would wait forever
            return False
        if not self._servers:
            log.info("No loopback address to listen on for %s:%d; paste the redirect instead", self.host, self.port)
            return False
        self.bound_addresses = [server.host_and_port() for server in self._servers]
        self.bound_address = self.bound_addresses[0]
        for server in self._servers:
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="loopback"
            ).start()
        self._next_check = time.monotonic() + CHECK_INTERVAL_SECONDS
        self._timer = threading.Timer(self._ttl, self._expire)
        self._timer.daemon = True
        self._timer.start()
        log.info("Listening for the redirect on %s", ", ".join(f"{a}:{p}" for a, p in self.bound_addresses))
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
        # A browser sends origin-form ("/path?query"); anything else (absolute-form, "*") is not the redirect.
        if not request_path.startswith("/") or (parts.path or "/") != self.path:
            return 404, Outcome(False, "Not found", "This address is not the sign-in redirect.")
        state = parse_qs(parts.query, errors="replace").get("state", [None])[0]
        ended = self._ask(state)
        if ended is not None:
            return 410, ended
        if state != self.state:
            return 400, Outcome(
                False,
                "Sign-in link out of date",
                "This redirect does not match the sign-in in progress; use the latest sign-in link.",
            )
        with self._redirect_lock:
            if self._finished:
                return 409, Outcome(False, "Already handled", "This sign-in has already been handled.")
            outcome = self._on_redirect(f"{self._redirect_base}{request_path}")
            if outcome.final:
                with self._finish_lock:
                    self._finished = True
        if outcome.final:
            # From another thread: shutdown() waits for the serve loop, and this page is still to be sent.
            threading.Thread(target=self.close, daemon=True).start()
        return (200 if outcome.ok else 400), outcome

    def check_now(self) -> None:
        """Ask (at most every CHECK_INTERVAL_SECONDS) whether the sign-on still waits; close if not."""
        now = time.monotonic()
        if self._check is None or now < self._next_check:
            return
        self._next_check = now + CHECK_INTERVAL_SECONDS
        ended = self._ask(None)
        if ended is not None and ended.after_page is not None:
            ended.after_page()  # no browser is waiting for this page

    def _ask(self, state: str | None) -> Outcome | None:
        """Ask ``check``; when the sign-on no longer waits here, close and return its page."""
        with self._finish_lock:
            if self._finished or self._check is None:
                return None
        ended = self._check(state)
        if ended is not None:
            with self._finish_lock:
                self._finished = True
            threading.Thread(target=self.close, daemon=True).start()
        return ended

    def _expire(self) -> None:
        with self._finish_lock:
            if self._finished:
                return
        self.close()
        if self.on_expire is not None:
            self.on_expire()

    def _release(self) -> list[_Server]:
        with self._finish_lock:
            self._finished = True
            servers, self._servers = self._servers, []
        return servers

    def close(self) -> None:
        """Stop listening, drop connections still sending, release the port; safe to call more than once."""
        servers = self._release()
        if self._timer is not None:
            self._timer.cancel()
        for server in servers:
            server.shutdown()
            server.server_close()
        self.connections.drop_receiving()
        if servers:
            log.info("Loopback listener on %s:%d closed", self.host, self.port)
        self._closed.set()

    def wait_answered(self, timeout: float) -> bool:
        """Wait until every browser request that arrived has its page (the helper is exiting)."""
        return self.connections.wait_answered(timeout)
