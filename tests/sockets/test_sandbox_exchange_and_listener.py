"""Real sockets on free loopback ports: the sandbox's strictness, the token exchange, the listener."""

from __future__ import annotations

import base64
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.fake_browser import follow_authorize
from tests.support.ports import free_port
from ticktick_signon.core import oauth
from ticktick_signon.core.records import PendingSignon
from ticktick_signon.errors import NetworkError, TokenExchangeFailed
from ticktick_signon.sandbox import SandboxClient, SandboxProvider
from ticktick_signon.signin.loopback import LoopbackListener, Outcome, render_page
from ticktick_signon.upstream.token_exchange import exchange_code

REDIRECT = "http://127.0.0.1:8080/"


def authorize(sandbox: SandboxProvider, state: str = "st", redirect: str = REDIRECT, decision: str = "allow") -> str:
    url = oauth.build_authorize_url(sandbox.base_url, "sandbox-client", redirect, state)
    return follow_authorize(url, decision)


def code_from(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def pending_for(sandbox: SandboxProvider, redirect: str = REDIRECT, secret: str = "sandbox-secret") -> PendingSignon:
    return PendingSignon("st", "default", "sandbox-client", secret, redirect, "ticktick", sandbox.base_url, 0)


class TestSandbox:
    def test_allow_redirects_with_code_and_state(self, sandbox: SandboxProvider) -> None:
        location = authorize(sandbox, state="xyz")
        query = parse_qs(urlsplit(location).query)
        assert location.startswith(REDIRECT) and query["state"] == ["xyz"] and len(query["code"][0]) == 6

    def test_deny_redirects_with_access_denied(self, sandbox: SandboxProvider) -> None:
        query = parse_qs(urlsplit(authorize(sandbox, state="xyz", decision="deny")).query)
        assert query["error"] == ["access_denied"] and query["state"] == ["xyz"] and "code" not in query

    def test_unregistered_redirect_is_never_redirected_to(self) -> None:
        client = SandboxClient(redirect_uris=("http://127.0.0.1:9/cb",))
        with SandboxProvider((client,)) as sandbox:
            url = oauth.build_authorize_url(sandbox.base_url, "sandbox-client", "http://127.0.0.1:9/other", "s")
            answer = httpx.get(url)
        assert answer.status_code == 400 and "location" not in answer.headers

    def test_token_endpoint_is_strict(self, sandbox: SandboxProvider) -> None:
        token_url = f"{sandbox.base_url}/oauth/token"
        code = code_from(authorize(sandbox))
        form = {"code": code, "grant_type": "authorization_code", "scope": oauth.SCOPE, "redirect_uri": REDIRECT}
        good_auth = ("sandbox-client", "sandbox-secret")

        def post(**kwargs) -> httpx.Response:
            return httpx.post(token_url, **kwargs)

        assert post(data=form).json()["error"] == "invalid_client"  # no Basic auth
        assert post(data=form, auth=("sandbox-client", "wrong")).status_code == 401
        assert (
            post(data={**form, "client_secret": "sandbox-secret"}, auth=good_auth).json()["error"] == "invalid_request"
        )
        assert post(params={"client_secret": "x"}, data=form, auth=good_auth).json()["error"] == "invalid_request"
        assert post(json=form, auth=good_auth).json()["error"] == "invalid_request"  # not a form
        assert post(data={**form, "grant_type": "password"}, auth=good_auth).json()["error"] == "unsupported_grant_type"
        # A wrong redirect_uri burns the code, like a real provider would.
        assert (
            post(data={**form, "redirect_uri": "http://127.0.0.1:1/"}, auth=good_auth).json()["error"]
            == "invalid_grant"
        )
        assert post(data=form, auth=good_auth).json()["error"] == "invalid_grant"

        code = code_from(authorize(sandbox))
        answer = post(data={**form, "code": code}, auth=good_auth)
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 15_552_000
        assert post(data={**form, "code": code}, auth=good_auth).json()["error"] == "invalid_grant"  # single use

        api = f"{sandbox.base_url}/open/v1/project"
        assert httpx.get(api, headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
        assert httpx.get(api, headers={"Authorization": "Bearer nope"}).status_code == 401


class TestExchange:
    def test_exchange_gets_a_token_with_basic_auth_and_a_form(self, sandbox: SandboxProvider) -> None:
        code = code_from(authorize(sandbox))
        token = exchange_code(oauth.build_token_request(pending_for(sandbox), code), lambda: 1000.0, 5)
        assert token.expires_at == 1000 + 15_552_000
        assert sandbox.stats.last_token_request == {
            "form_keys": ["code", "grant_type", "redirect_uri", "scope"],
            "basic": True,
        }

    def test_wrong_secret_is_exchange_failed_with_status(self, sandbox: SandboxProvider) -> None:
        code = code_from(authorize(sandbox))
        with pytest.raises(TokenExchangeFailed) as caught:
            exchange_code(oauth.build_token_request(pending_for(sandbox, secret="bad"), code), time.time, 5)
        assert caught.value.data["status"] == 401 and caught.value.data["error"] == "invalid_client"
        assert "bad" not in caught.value.message

    def test_refused_connection_is_network_error(self) -> None:
        port = free_port()
        pending = PendingSignon("s", "d", "c", "x", REDIRECT, "ticktick", f"http://127.0.0.1:{port}", 0)
        with pytest.raises(NetworkError):
            exchange_code(oauth.build_token_request(pending, "c"), time.time, 5)

    def test_silent_server_is_a_timeout(self) -> None:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            port = server.getsockname()[1]
            pending = PendingSignon("s", "d", "c", "x", REDIRECT, "ticktick", f"http://127.0.0.1:{port}", 0)
            with pytest.raises(NetworkError) as caught:
                exchange_code(oauth.build_token_request(pending, "c"), time.time, 0.5)
        assert caught.value.data["reason"] == "timeout"


class TestLoopbackListener:
    def make(self, port: int, on_redirect=None, ttl: float = 30) -> tuple[LoopbackListener, list[str]]:
        seen: list[str] = []

        def finish(url: str) -> Outcome:
            seen.append(url)
            return Outcome(True, "Signed in", "done")

        listener = LoopbackListener(
            "127.0.0.1", port, "/cb", "good-state", f"http://127.0.0.1:{port}", on_redirect or finish, ttl
        )
        return listener, seen

    def test_binds_loopback_only_and_finishes_once(self) -> None:
        port = free_port()
        listener, seen = self.make(port)
        assert listener.start()
        try:
            assert listener.bound_address == ("127.0.0.1", port)
            base = f"http://127.0.0.1:{port}"
            assert httpx.get(f"{base}/favicon.ico").status_code == 404
            wrong = httpx.get(f"{base}/cb?state=evil&code=x")
            assert wrong.status_code == 400 and not listener.closed  # the real sign-on goes on
            page = httpx.get(f"{base}/cb?state=good-state&code=abc")
            assert page.status_code == 200 and "Signed in" in page.text
            assert "access-control-allow-origin" not in page.headers
            assert page.headers["referrer-policy"] == "no-referrer"
            assert seen == [f"{base}/cb?state=good-state&code=abc"]
            assert listener.wait_closed(5)
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"{base}/cb?state=good-state&code=abc")
        finally:
            listener.close()

    def test_busy_port_means_not_listening(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            listener, _ = self.make(taken.getsockname()[1])
            assert listener.start() is False

    def test_the_listener_and_the_sandbox_hold_their_port_alone(self) -> None:
        from http.server import BaseHTTPRequestHandler

        from ticktick_signon.sandbox import _SandboxServer
        from ticktick_signon.signin.loopback import ExclusiveHTTPServer, _Server

        # One bind rule for both (SO_EXCLUSIVEADDRUSE on Windows, where SO_REUSEADDR would share a port).
        assert issubclass(_Server, ExclusiveHTTPServer) and issubclass(_SandboxServer, ExclusiveHTTPServer)
        with ExclusiveHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as first:
            port = first.server_address[1]
            for server_cls in (_SandboxServer, ExclusiveHTTPServer):
                with pytest.raises(OSError):
                    server_cls(("127.0.0.1", port), BaseHTTPRequestHandler).server_close()
            with pytest.raises(OSError):
                SandboxProvider((), host="127.0.0.1", port=port).start()

    def test_expires_after_its_ttl_and_says_so(self) -> None:
        port = free_port()
        listener, _ = self.make(port, ttl=0.3)
        expired = threading.Event()
        listener.on_expire = expired.set
        assert listener.start()
        assert expired.wait(5) and listener.closed

    def test_reflected_values_are_escaped(self) -> None:
        page = render_page(Outcome(False, "<script>x</script>", "a & <b>")).decode()
        assert "<script>x" not in page and "&lt;script&gt;" in page and "a &amp; &lt;b&gt;" in page


class TestListenerAnswersBeforeTelling:
    """Whoever waits on a loopback sign-on (the CLI, the helper) hears of it only once the browser has its page.

    A CLI that exits as soon as it hears would otherwise cut the page off: the browser
    showed a connection error after Deny, and sometimes after a sign-in that worked.
    """

    @pytest.mark.parametrize(("decision", "title"), [("allow", "Signed in"), ("deny", "Sign-in failed")])
    def test_the_page_is_whole_when_the_waiter_hears(
        self, sandbox: SandboxProvider, config_dir, decision: str, title: str
    ) -> None:
        from ticktick_signon.cache.store import TokenStore
        from ticktick_signon.core.messages import StartParams
        from ticktick_signon.signin.service import SignInService

        browser = socket.socket()
        seen_by_waiter: list[bytes] = []
        heard = threading.Event()

        class Waiter:
            def _hear(self) -> None:
                browser.setblocking(False)
                data = b""
                try:
                    while chunk := browser.recv(65536):
                        data += chunk
                except BlockingIOError:
                    data += b"<no end of page yet>"
                seen_by_waiter.append(data)
                heard.set()

            def completed(self, profile: str, expires_at: int) -> None:
                self._hear()

            def failed(self, profile: str, error: object) -> None:
                self._hear()

        environ = {"TICKTICK_SIGNON_AUTH_URL": sandbox.base_url}
        service = SignInService(TokenStore(config_dir), environ=environ, events=Waiter())
        redirect = f"http://127.0.0.1:{free_port()}/cb"
        try:
            started = service.start(
                StartParams("default", "sandbox-client", "sandbox-secret", redirect, None, listen=True)
            )
            assert started.listening
            location = urlsplit(follow_authorize(started.authorize_url, decision))
            with browser:
                browser.connect((location.hostname, location.port))
                browser.sendall(
                    f"GET {location.path}?{location.query} HTTP/1.1\r\nHost: {location.netloc}\r\n\r\n".encode()
                )
                assert heard.wait(10)
        finally:
            service.close()
        page = seen_by_waiter[0].decode()
        assert page.startswith("HTTP/1.") and "<h1 style='color:" in page and title in page
        assert page.endswith("</html>")  # the whole page, and the connection closed after it


def _complete_request(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def test_basic_header_is_what_the_spec_says(sandbox: SandboxProvider) -> None:
    """The secret travels only as Basic base64(id:secret), checked on a raw socket capture."""
    captured: list[bytes] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(5)
                data = b""
                while not _complete_request(data):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                captured.append(data)
                conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        thread = threading.Thread(target=serve)
        thread.start()
        pending = PendingSignon("s", "d", "my-id", "my-secret", REDIRECT, "ticktick", f"http://127.0.0.1:{port}", 0)
        with pytest.raises(TokenExchangeFailed):
            exchange_code(oauth.build_token_request(pending, "c0de"), time.time, 5)
        thread.join(5)
    head, _, body = captured[0].decode().partition("\r\n\r\n")
    request_line, *header_lines = head.split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    assert request_line == "POST /oauth/token HTTP/1.1"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"my-id:my-secret").decode()
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(body) == {
        "code": ["c0de"],
        "grant_type": ["authorization_code"],
        "scope": [oauth.SCOPE],
        "redirect_uri": [REDIRECT],
    }


def test_the_project_list_is_read_for_a_good_token_and_not_for_a_refused_one() -> None:
    """``list_projects`` (what `login --sandbox` shows) reads the list on a 200, and nothing on a 401."""
    from ticktick_signon.upstream.api_client import list_projects, projects_status

    with SandboxProvider() as provider:
        good = provider.issue_token()
        status, projects = list_projects(provider.base_url, good, timeout=10)
        assert status == 200 and isinstance(projects, list) and projects
        assert projects_status(provider.base_url, good, timeout=10) == 200
        assert list_projects(provider.base_url, "not-a-token", timeout=10) == (401, None)
