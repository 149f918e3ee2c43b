"""A local stand-in for TickTick's OAuth server on 127.0.0.1, strict about everything the spec demands.

It serves an authorize page (Allow / Deny, or automatic approval), a token
endpoint that insists on Basic auth, a form body, a single-use code and the
same ``redirect_uri``, and ``GET /open/v1/project`` that checks the bearer
token. Fault modes make the token endpoint misbehave for the reliability tests.
With a ``request_log``, each request is told in one line (method, path, status,
outcome, and a refusal's reason), as ``python -m http.server`` does; never a
secret, code, verifier, state or token: only the path is logged, never the query
or the body, and a redirect is told by whether it carries a code or an error.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import logging
import re
import secrets
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from ticktick_signon.signin.loopback import ExclusiveHTTPServer

log = logging.getLogger(__name__)

SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"
#: About six months, like TickTick's tokens.
DEFAULT_EXPIRES_IN = 15_552_000
CODE_TTL_SECONDS = 300
ALLOWED_SCOPES = frozenset({"tasks:read", "tasks:write"})

#: Ways the token endpoint can misbehave (``SandboxProvider.token_fault``).
TOKEN_FAULTS = (
    "server-error-html",  # 500 with an HTML body
    "oauth-error",  # 400 {"error": "invalid_grant"}
    "not-json",  # 200 with a text body
    "no-access-token",
    "no-expires-in",
    "negative-expires-in",
    "string-expires-in",
    "huge-expires-in",
    "slow",  # answers after ``slow_seconds``
    "reset",  # closes the connection without answering
    "redirect",  # 307 to another URL
)


@dataclass(frozen=True)
class SandboxClient:
    """A registered app. An empty ``redirect_uris`` accepts any http loopback URL."""

    client_id: str = SANDBOX_CLIENT_ID
    client_secret: str = SANDBOX_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = ()

    def accepts(self, redirect_uri: str) -> bool:
        if self.redirect_uris:
            return redirect_uri in self.redirect_uris
        parts = urlsplit(redirect_uri)
        return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class _Stats:
    """What the sandbox saw; tests read it to prove the client behaved."""

    token_requests: int = 0
    tokens_issued: int = 0
    authorize_requests: int = 0
    last_token_request: dict = field(default_factory=dict)


class _SandboxServer(ExclusiveHTTPServer):
    """The sandbox's HTTP server: a busy --port is refused, as the loopback listener's is."""


class SandboxProvider:
    """Runs the sandbox in a background thread.

    Args:
        clients: the registered apps (default: one ``sandbox-client`` app).
        auto_approve: skip the Allow/Deny page and approve at once.
        expires_in: ``expires_in`` of issued tokens, in seconds.
        host: loopback address to bind.
        port: port to bind (0 picks a free one).
        clock: unix seconds.
        request_log: called with one line per request answered (``ticktick-signon sandbox``
            prints it); None logs them at debug level only.
    """

    def __init__(
        self,
        clients: tuple[SandboxClient, ...] = (SandboxClient(),),
        *,
        auto_approve: bool = False,
        expires_in: int = DEFAULT_EXPIRES_IN,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        request_log: Callable[[str], None] | None = None,
    ) -> None:
        self.request_log = request_log
        self.clients = {c.client_id: c for c in clients}
        self.auto_approve = auto_approve
        self.expires_in = expires_in
        self.token_fault: str | None = None
        #: When set, ``GET /open/v1/project`` answers this status whatever the token.
        self.api_status: int | None = None
        self.slow_seconds = 5.0
        #: Where the "redirect" fault points the client (a test can watch it stays untouched).
        self.redirect_target = "http://127.0.0.1:9/steal"
        self.stats = _Stats()
        self._host, self._port = host, port
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}
        self._requests: dict[str, dict[str, str]] = {}
        self._tokens: dict[str, float] = {}
        self._server: ExclusiveHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> SandboxProvider:
        """Bind and serve in a background thread; returns self."""
        handler = type("_BoundHandler", (_SandboxHandler,), {"provider": self})
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        server_cls = type("_BoundSandboxServer", (_SandboxServer,), {"address_family": family})
        self._server = server_cls((self._host, self._port), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="sandbox").start()
        log.info("Sandbox provider serving on %s", self.base_url)
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SandboxProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the sandbox first"
        host, port = self._server.host_and_port()
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    # -- the OAuth logic ---------------------------------------------------------

    def issue_token(self, expires_in: int | None = None) -> str:
        """Mint a token as if an earlier sign-on had got it (a token a user brings to import)."""
        access_token = str(uuid.uuid4())
        with self._lock:
            self._tokens[access_token] = self._clock() + (self.expires_in if expires_in is None else expires_in)
        return access_token

    def token_is_valid(self, token: str) -> bool:
        with self._lock:
            expires_at = self._tokens.get(token)
        return expires_at is not None and self._clock() < expires_at

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Handle GET /oauth/authorize; returns (status, headers, html)."""
        self.stats.authorize_requests += 1
        client = self.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None:
            expected = " or ".join(f"'{known}'" for known in self.clients)
            return (
                400,
                {},
                _page("Unknown app", f"Got client_id '{query.get('client_id', '')}'; this sandbox expects {expected}."),
            )
        if not redirect_uri or not client.accepts(redirect_uri):
            # Like TickTick: a redirect_uri that is not registered is never redirected to.
            return 400, {}, _page("Redirect URL mismatch", "redirect_uri is not registered for this app.")
        state = query.get("state")
        if query.get("response_type") != "code":
            return self._redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        scopes = set(query.get("scope", "").split())
        if not scopes or not scopes <= ALLOWED_SCOPES:
            return self._redirect(redirect_uri, {"error": "invalid_scope", "state": state})
        request = {
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "scope": query["scope"],
            "state": state or "",
        }
        if self.auto_approve:
            return self.decide(request, allow=True)
        request_id = secrets.token_urlsafe(16)
        with self._lock:
            self._requests[request_id] = request
        body = (
            f"<h1>Allow access?</h1><p>The app <b>{html.escape(client.client_id)}</b> wants to read and "
            "write your tasks (sandbox: no real account is involved).</p>"
            "<form method=post action=/oauth/authorize/decision>"
            f"<input type=hidden name=request value='{html.escape(request_id, quote=True)}'>"
            "<button name=decision value=allow id=allow>Allow</button> "
            "<button name=decision value=deny id=deny>Deny</button></form>"
        )
        return 200, {}, _page("ticktick-signon sandbox (not TickTick)", body, raw=True)

    def decide_form(self, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Handle POST /oauth/authorize/decision from the Allow/Deny page."""
        with self._lock:
            request = self._requests.pop(form.get("request", ""), None)
        if request is None:
            return 400, {}, _page("Request expired", "Start signing in again.")
        return self.decide(request, allow=form.get("decision") == "allow")

    def decide(self, request: dict[str, str], allow: bool) -> tuple[int, dict[str, str], str]:
        if not allow:
            return self._redirect(
                request["redirect_uri"],
                {"error": "access_denied", "error_description": "The user denied access", "state": request["state"]},
            )
        code = secrets.token_urlsafe(6)[:6]
        with self._lock:
            self._grants[code] = _Grant(
                request["client_id"], request["redirect_uri"], request["scope"], self._clock() + CODE_TTL_SECONDS
            )
        return self._redirect(request["redirect_uri"], {"code": code, "state": request["state"]})

    @staticmethod
    def _redirect(uri: str, params: dict[str, str | None]) -> tuple[int, dict[str, str], str]:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        sep = "&" if urlsplit(uri).query else "?"
        return 302, {"Location": f"{uri}{sep}{query}"}, ""

    def token(self, headers: dict[str, str], query: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Handle POST /oauth/token strictly; returns (status, headers, JSON body)."""
        self.stats.token_requests += 1

        def error(status: int, code: str, description: str) -> tuple[int, dict[str, str], bytes]:
            payload = {"error": code, "error_description": description}
            return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()

        if query:
            return error(400, "invalid_request", "Parameters must be in the form body, never in the URL")
        if headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        try:
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
        except (ValueError, UnicodeDecodeError):
            return error(400, "invalid_request", "The body is not a valid form")
        self.stats.last_token_request = {
            "form_keys": sorted(form),
            "basic": headers.get("authorization", "").startswith("Basic "),
        }
        if "client_secret" in form or "client_id" in form:
            return error(400, "invalid_request", "Send client credentials with HTTP Basic only")
        client = self._basic_client(headers.get("authorization", ""))
        if client is None:
            return (
                401,
                {"WWW-Authenticate": 'Basic realm="sandbox"', "Content-Type": "application/json"},
                json.dumps(
                    {"error": "invalid_client", "error_description": "Bad or missing client credentials"}
                ).encode(),
            )
        if form.get("grant_type") != "authorization_code":
            return error(400, "unsupported_grant_type", "grant_type must be authorization_code")
        for name in ("code", "redirect_uri", "scope"):
            if not form.get(name):
                return error(400, "invalid_request", f"{name} is required")
        with self._lock:
            grant = self._grants.get(form["code"])
            if grant is None or grant.used or self._clock() >= grant.expires_at or grant.client_id != client.client_id:
                return error(400, "invalid_grant", "The code is unknown, used, expired or not this app's")
            grant.used = True
        if form["redirect_uri"] != grant.redirect_uri:
            return error(400, "invalid_grant", "redirect_uri differs from the authorize request")
        if set(form["scope"].split()) - ALLOWED_SCOPES:
            return error(400, "invalid_scope", "Unknown scope")
        access_token = str(uuid.uuid4())
        with self._lock:
            self._tokens[access_token] = self._clock() + self.expires_in
        self.stats.tokens_issued += 1
        answer = {
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": grant.scope,
        }
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(answer).encode()

    def _basic_client(self, header: str) -> SandboxClient | None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client = self.clients.get(user)
        if client is None or not secrets.compare_digest(client.client_secret, password):
            return None
        return client


def _page(title: str, body: str, raw: bool = False) -> str:
    content = body if raw else f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p>"
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:system-ui,sans-serif;max-width:36em;margin:4em auto'>{content}</body></html>"
    )


def _faulty_answer(fault: str, provider: SandboxProvider) -> tuple[int, dict[str, str], bytes] | None:
    """The token endpoint's answer under a fault mode, or None to answer normally."""
    token = {"access_token": str(uuid.uuid4()), "token_type": "bearer", "scope": "tasks:read tasks:write"}
    as_json = {"Content-Type": "application/json"}
    bodies: dict[str, tuple[int, dict[str, str], bytes]] = {
        "server-error-html": (
            500,
            {"Content-Type": "text/html"},
            b"<html><body><h1>500 Internal Server Error</h1></body></html>",
        ),
        "oauth-error": (400, as_json, b'{"error": "invalid_grant", "error_description": "Code already used"}'),
        "not-json": (200, {"Content-Type": "text/plain"}, b"this is not json"),
        "no-access-token": (200, as_json, json.dumps({"token_type": "bearer", "expires_in": 3600}).encode()),
        "no-expires-in": (200, as_json, json.dumps(token).encode()),
        "negative-expires-in": (200, as_json, json.dumps({**token, "expires_in": -5}).encode()),
        "string-expires-in": (200, as_json, json.dumps({**token, "expires_in": "soon"}).encode()),
        "huge-expires-in": (200, as_json, json.dumps({**token, "expires_in": 10**30}).encode()),
        "redirect": (307, {"Location": provider.redirect_target}, b""),
    }
    return bodies.get(fault)


def _outcome(status: int, headers: dict[str, str], body: bytes) -> str:
    """What an answer meant, in a few words, from what is safe to show: never a code, token or secret.

    A redirect says whether it carried a code (never the code) or which error; a JSON error its
    ``error`` and ``error_description``; a page its title and sentence.
    """
    if status in (301, 302, 303, 307, 308):
        location = headers.get("Location", "")
        error = parse_qs(urlsplit(location).query).get("error")
        if error:
            return f"refused ({error[0]}), back to the app's redirect URL"
        if "code" in parse_qs(urlsplit(location).query):
            return "allowed, back to the app's redirect URL with a code"
        return "redirected elsewhere (fault mode)"
    text = body.decode("utf-8", "replace")
    if headers.get("Content-Type", "").startswith("application/json"):
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            return f"refused: {answer['error']}: {answer.get('error_description') or 'no description'}"
        if isinstance(answer, dict) and "access_token" in answer:
            return "token issued"
        return "answered" if status < 400 else "refused"
    if "name=decision" in text:
        return "the approval page (Allow / Deny)"
    title = re.search(r"<title>(.*?)</title>", text)
    sentence = re.search(r"<p>(.*?)</p>", text)
    words = ": ".join(html.unescape(m.group(1)) for m in (title, sentence) if m)
    return words or ("answered" if status < 400 else "refused")


class _SandboxHandler(BaseHTTPRequestHandler):
    provider: SandboxProvider
    server_version = "ticktick-sandbox"
    sys_version = ""
    timeout = 30

    def _send(self, status: int, headers: dict[str, str], body: bytes | str) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        headers = {"Content-Type": "text/html; charset=utf-8", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        line = f"{self.command} {urlsplit(self.path).path} {status} {_outcome(status, headers, data)}"
        # One line whatever a client sent: a %0A in a client_id must not forge a second line.
        line = "".join(ch if ch.isprintable() else "?" for ch in line)
        log.debug("Sandbox answered %s", line)
        if self.provider.request_log is not None:
            self.provider.request_log(time.strftime("%H:%M:%S ") + line)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/oauth/authorize":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self._send(*self.provider.authorize(query))
        elif parts.path == "/open/v1/project":
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if self.provider.api_status is not None:
                self._send(
                    self.provider.api_status, {"Content-Type": "application/json"}, b'{"error": "access_forbidden"}'
                )
            elif scheme.lower() == "bearer" and self.provider.token_is_valid(token):
                self._send(200, {"Content-Type": "application/json"}, b'[{"id": "inbox", "name": "Inbox"}]')
            else:
                self._send(401, {"Content-Type": "application/json"}, b'{"error": "invalid_token"}')
        else:
            self._send(
                404, {}, _page("Not found", "The sandbox serves /oauth/authorize, /oauth/token and /open/v1/project.")
            )

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 16))
        if parts.path == "/oauth/authorize/decision":
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            self._send(*self.provider.decide_form(form))
        elif parts.path == "/oauth/token":
            fault = self.provider.token_fault
            if fault == "reset":
                # SO_LINGER on, timeout 0: close() sends a TCP reset instead of a FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if fault == "slow":
                time.sleep(self.provider.slow_seconds)
            answer = _faulty_answer(fault, self.provider) if fault else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*(answer or self.provider.token(headers, parts.query, body)))
        else:
            self._send(404, {}, _page("Not found", "Unknown endpoint."))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Nothing here: ``_send`` tells each answer, with its outcome, in one line."""

    def log_message(self, format: str, *args: object) -> None:
        # What BaseHTTPRequestHandler still reports itself: malformed requests and timeouts.
        log.debug("Sandbox: %s", format % args)
