"""The token request's transport: proxies, plain http, certificates, trust stores.

Real sockets only: a watched port stands in for a proxy, and a TLS token endpoint
on loopback presents a certificate from a throwaway CA (trustme). The helper is
the real subprocess over stdio. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from tests.support.fake_browser import follow_authorize
from tests.support.rpc import HelperProcess, RpcError, serve_once_reporting_modules
from tests.support.schema import assert_valid
from ticktick_signon.core import oauth
from ticktick_signon.core.records import PendingSignon
from ticktick_signon.errors import NetworkError
from ticktick_signon.upstream.token_exchange import exchange_code

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


class WatchedPort:
    """A listening socket that records the first line of every connection, answers 502 and hangs up."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.first_lines: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.first_lines.append(conn.recv(65536).split(b"\r\n")[0])
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[WatchedPort]:
    """Every proxy variable points at a watched port; NO_PROXY is unset."""
    watched = WatchedPort()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, watched.url)
    yield watched
    watched.close()


class TestProxies:
    def test_loopback_token_exchange_never_goes_through_a_proxy(
        self, proxy: WatchedPort, helper: HelperProcess, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With HTTP_PROXY, http_proxy and ALL_PROXY set, the exchange with a provider on 127.0.0.1
        still goes straight to it: the proxy never sees the Basic auth or the code."""
        started = helper.request(
            "startSignon", {"clientId": "sandbox-client", "clientSecret": "sandbox-secret", "listen": False}
        )
        monkeypatch.setenv("NO_PROXY", "*")  # for this test's own browser; the helper keeps the proxies
        result = helper.request("completeSignon", {"redirectUrl": follow_authorize(started["authorizeUrl"])})
        assert result["accessToken"]
        assert proxy.first_lines == []

    def test_login_sandbox_goes_through_no_proxy(self, proxy: WatchedPort) -> None:
        """The CLI's sandbox sign-in (its browser, the exchange, the token check) stays on loopback."""
        done = subprocess.run(
            [sys.executable, "-m", "ticktick_signon", "login", "--sandbox"],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
        )
        assert done.returncode == 0, done.stderr
        assert "The token works" in done.stderr
        assert proxy.first_lines == []

    def test_other_hosts_still_use_the_proxy(self, proxy: WatchedPort) -> None:
        """HTTPS_PROXY keeps working for the real provider: the request is a CONNECT to the proxy."""
        pending = PendingSignon(
            "s", "d", "id", "secret", "http://127.0.0.1:8080/", "ticktick", "https://ticktick.example", 0
        )
        with pytest.raises(NetworkError):
            exchange_code(oauth.build_token_request(pending, "code"), lambda: 0.0, 5)
        assert proxy.first_lines == [b"CONNECT ticktick.example:443 HTTP/1.1"]


def test_plain_http_auth_url_to_another_host_is_refused(helper: HelperProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """TICKTICK_SIGNON_AUTH_URL=http://<not loopback> is refused: the secret would cross the network in clear."""
    helper.close()
    env = {**os.environ, "TICKTICK_SIGNON_AUTH_URL": "http://ticktick.example"}
    other = HelperProcess.spawn(env=env)
    try:
        with pytest.raises(RpcError) as caught:
            other.request("startSignon", {"clientId": "id", "clientSecret": "secret", "listen": False})
        assert caught.value.kind == "invalidParams"
        assert caught.value.data["field"] == "TICKTICK_SIGNON_AUTH_URL"
        assert "https://" in caught.value.message and "secret" in caught.value.message
        assert other.request("getStatus")["pendingSignon"] is False
    finally:
        other.close()


# -- certificates --------------------------------------------------------------


class _TokenHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"access_token": "tls-token", "token_type": "bearer", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TlsTokenEndpoint:
    """A token endpoint on https://127.0.0.1:PORT whose certificate a throwaway CA issued."""

    def __init__(self, ca: trustme.CA) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenHandler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def ca(tmp_path: Path) -> trustme.CA:
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return authority


@pytest.fixture
def endpoint(ca: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> Iterator[TlsTokenEndpoint]:
    server = TlsTokenEndpoint(ca)
    monkeypatch.setenv("TICKTICK_SIGNON_AUTH_URL", server.url)
    for name in TRUST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield server
    server.close()


def sign_in(helper: HelperProcess) -> dict:
    """Start a paste sign-on and complete it with a redirect carrying its state; the exchange goes to the endpoint."""
    started = helper.request("startSignon", {"clientId": "id", "clientSecret": "secret", "listen": False})
    return helper.request(
        "completeSignon", {"redirectUrl": f"{started['redirectUrl']}?code=c0de&state={started['state']}"}
    )


def test_an_untrusted_certificate_has_its_own_reason_and_says_so(endpoint: TlsTokenEndpoint) -> None:
    """Not the generic networkError "Could not reach TickTick; check your connection", which blames the Wi-Fi."""
    helper = HelperProcess.spawn()
    try:
        with pytest.raises(RpcError) as caught:
            sign_in(helper)
    finally:
        helper.close()
    assert caught.value.kind == "networkError"
    assert_valid("error", {"code": caught.value.code, "message": caught.value.message, "data": caught.value.data})
    assert caught.value.data["reason"] == "certificate"
    assert "certificate of 127.0.0.1 could not be verified" in caught.value.message
    assert "SSL_CERT_FILE" in caught.value.message and "check your connection" not in caught.value.message


def test_ssl_cert_file_is_trusted(endpoint: TlsTokenEndpoint, tmp_path: Path) -> None:
    helper = HelperProcess.spawn(env={**os.environ, "SSL_CERT_FILE": str(tmp_path / "ca.pem")})
    try:
        assert sign_in(helper)["accessToken"] == "tls-token"
    finally:
        helper.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to hash a CA folder")
def test_ssl_cert_dir_is_trusted(endpoint: TlsTokenEndpoint, tmp_path: Path) -> None:
    folder = tmp_path / "cas"
    folder.mkdir()
    shutil.copy(tmp_path / "ca.pem", folder / "throwaway.pem")
    subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True)
    helper = HelperProcess.spawn(env={**os.environ, "SSL_CERT_DIR": str(folder)})
    try:
        assert sign_in(helper)["accessToken"] == "tls-token"
    finally:
        helper.close()


def _private_mounts_work() -> bool:
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(
    not _private_mounts_work(), reason="needs Linux, root and unshare to give one process its own trust store"
)
def test_a_ca_in_the_os_trust_store_is_trusted(endpoint: TlsTokenEndpoint, tmp_path: Path) -> None:
    """A CA the administrator added to the OS store is trusted by the helper, as by Python's default
    context (certifi's bundle alone would refuse it). The helper runs in a private mount namespace
    whose system CA bundle holds the throwaway CA, so the machine's own store is untouched."""
    bundle = os.path.realpath(ssl.get_default_verify_paths().openssl_cafile)
    assert os.path.isfile(bundle)

    def in_namespace(*command: str) -> list[str]:
        return [
            "unshare",
            "--mount",
            "sh",
            "-c",
            'mount --bind "$1" "$2" && shift 2 && exec "$@"',
            "sh",
            str(tmp_path / "ca.pem"),
            bundle,
            *command,
        ]

    # The premise: Python's default context trusts the OS store's new CA.
    port = endpoint.url.rsplit(":", 1)[1]
    probe = (
        "import socket, ssl; ctx = ssl.create_default_context(); "
        f"ctx.wrap_socket(socket.create_connection(('127.0.0.1', {port})), server_hostname='127.0.0.1').close()"
    )
    assert subprocess.run(in_namespace(sys.executable, "-c", probe), capture_output=True).returncode == 0
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the HelperProcess returned
    process = subprocess.Popen(
        in_namespace(sys.executable, "-m", "ticktick_signon", "serve"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=dict(os.environ),
    )
    helper = HelperProcess(process, stderr)
    try:
        assert sign_in(helper)["accessToken"] == "tls-token"
    finally:
        helper.close()


def test_serving_a_cached_token_loads_neither_truststore_nor_httpx(config_dir: Path) -> None:
    """The trust store costs only the first token exchange, never start-up or getToken."""
    from ticktick_signon.cache.store import TokenStore
    from ticktick_signon.core.records import Profile, Token

    TokenStore(config_dir).update(
        lambda cache: (cache.with_profile("default", Profile(token=Token("t", "bearer", "s", 2**31))), None)
    )
    _, replies, loaded = serve_once_reporting_modules(("truststore", "httpx", "certifi"))
    assert replies[0]["result"]["accessToken"] == "t"
    assert loaded == []


class TestTrustContext:
    """Where the CAs come from: the OS through truststore, else certifi's bundle."""

    def test_truststore_is_used_where_it_runs(self) -> None:
        import truststore

        from ticktick_signon.upstream.http import trust_context

        assert isinstance(trust_context(), truststore.SSLContext)

    def test_certifi_when_truststore_cannot_run(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import certifi

        from ticktick_signon.upstream.http import trust_context

        monkeypatch.setitem(sys.modules, "truststore", None)  # import truststore now raises ImportError
        for name in TRUST_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        context = trust_context()
        assert type(context) is ssl.SSLContext and context.verify_mode == ssl.CERT_REQUIRED
        assert (
            len(context.get_ca_certs())
            == ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
        )

    @pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the OpenSSL trust-store lookup is Linux's")
    def test_certifi_when_a_linux_system_has_no_ca_files(
        self, endpoint: TlsTokenEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import certifi

        nothing = ssl.DefaultVerifyPaths(None, None, "SSL_CERT_FILE", "/none", "SSL_CERT_DIR", "/none")
        monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: nothing)
        monkeypatch.setattr(certifi, "where", lambda: str(tmp_path / "ca.pem"))  # "certifi" trusts the throwaway CA
        pending = PendingSignon("s", "d", "id", "secret", "http://127.0.0.1:8080/", "ticktick", endpoint.url, 0)
        token = exchange_code(oauth.build_token_request(pending, "code"), lambda: 0.0, 5)
        assert token.access_token == "tls-token"
