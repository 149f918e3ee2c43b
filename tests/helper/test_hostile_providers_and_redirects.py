"""Hostile providers and hostile redirects: each gets its documented error, and nothing the user had is lost."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from tests.support.fake_browser import follow_authorize
from tests.support.ports import free_port
from tests.support.rpc import HelperProcess, RpcError
from tests.support.signin import CREDS, paste_redirect, sign_in
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.messages import parse_start
from ticktick_signon.errors import InvalidParams, NoPendingSignon
from ticktick_signon.sandbox import SandboxProvider
from ticktick_signon.signin.service import SignInService


def cache_of(helper: HelperProcess) -> dict:
    return json.loads(Path(helper.request("getStatus")["configPath"]).read_text())


class _Watcher:
    """A TCP port that records whether anything ever connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/steal"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


FAULTS = [
    ("server-error-html", -32006, {"status": 500, "error": None}),
    ("oauth-error", -32006, {"status": 400, "error": "invalid_grant"}),
    ("not-json", -32006, {"status": 200, "error": "invalid_token_response"}),
    ("no-access-token", -32006, {"error": "invalid_token_response"}),
    ("no-expires-in", -32006, {"error": "invalid_token_response"}),
    ("negative-expires-in", -32006, {"error": "invalid_token_response"}),
    ("string-expires-in", -32006, {"error": "invalid_token_response"}),
    ("huge-expires-in", -32006, {"error": "invalid_token_response"}),
    ("slow", -32007, {"reason": "timeout"}),
    ("reset", -32007, {}),
    ("redirect", -32006, {"status": 307, "error": "unexpected_redirect"}),
]


@pytest.fixture
def fast_timeout_helper(sandbox: SandboxProvider, auth_url: str):
    helper = HelperProcess.spawn(env={**os.environ, "TICKTICK_SIGNON_HTTP_TIMEOUT": "1"})
    sandbox.slow_seconds = 3
    try:
        yield helper
    finally:
        helper.close()


def test_token_endpoint_faults_keep_token_and_settings(
    fast_timeout_helper: HelperProcess, sandbox: SandboxProvider
) -> None:
    helper = fast_timeout_helper
    good = sign_in(helper)
    before = cache_of(helper)["profiles"]
    watcher = _Watcher()
    sandbox.redirect_target = watcher.url
    try:
        for fault, code, data in FAULTS:
            sandbox.token_fault = fault
            started = helper.request(
                "startSignon",
                {
                    "clientId": "other-app",
                    "clientSecret": "other-secret",
                    "redirectUrl": paste_redirect(),
                    "listen": False,
                },
            )
            sandbox.token_fault = None
            redirect = follow_authorize(started["authorizeUrl"].replace("other-app", "sandbox-client"))
            sandbox.token_fault = fault
            with pytest.raises(RpcError) as caught:
                helper.request("completeSignon", {"redirectUrl": redirect})
            error = caught.value
            assert error.code == code, (fault, error)
            assert {k: error.data.get(k) for k in data} == data, (fault, error.data)
            assert "other-secret" not in error.message + json.dumps(error.data)
            assert helper.request("getToken")["accessToken"] == good["accessToken"], fault
            assert cache_of(helper)["profiles"] == before, fault  # settings of a failed attempt never saved
    finally:
        sandbox.token_fault = None
        watcher.close()
    assert watcher.connections == 0  # the redirect was never followed: the secret stayed put


class TestHostileRedirects:
    def test_wrong_address_or_missing_code_leave_the_sign_on_alive(self, helper: HelperProcess) -> None:
        port = free_port()
        started = helper.request(
            "startSignon", {**CREDS, "redirectUrl": f"http://127.0.0.1:{port}/cb", "listen": False}
        )
        good = follow_authorize(started["authorizeUrl"])
        state = started["state"]
        for bad in (
            good.replace(f":{port}/", f":{port + 1}/"),
            good.replace("127.0.0.1", "evil.example"),
            f"http://127.0.0.1:{port}/cb?state={state}",
            f"javascript:alert(1)//?state={state}&code=x",
            f"file:///etc/passwd?state={state}&code=x",
            good + "&pad=" + "x" * 20_000,
        ):
            with pytest.raises(RpcError) as caught:
                helper.request("completeSignon", {"redirectUrl": bad})
            assert caught.value.code == -32602, bad
        assert helper.request("completeSignon", {"redirectUrl": good})["profile"] == "default"

    def test_denial_with_and_without_description(self, helper: HelperProcess) -> None:
        for query, data in (
            (
                "error=access_denied&error_description=Not+now",
                {"error": "access_denied", "errorDescription": "Not now"},
            ),
            ("error=server_error", {"error": "server_error"}),
        ):
            started = helper.request("startSignon", {**CREDS, "redirectUrl": "http://127.0.0.1:8080/", "listen": False})
            with pytest.raises(RpcError) as caught:
                helper.request(
                    "completeSignon", {"redirectUrl": f"http://127.0.0.1:8080/?state={started['state']}&{query}"}
                )
            assert caught.value.code == -32005
            assert {k: v for k, v in caught.value.data.items() if k != "kind"} == data

    def test_non_utf8_and_lone_surrogates(self, helper: HelperProcess) -> None:
        helper.request("startSignon", {**CREDS, "redirectUrl": "http://127.0.0.1:8080/", "listen": False})
        for url in ("http://127.0.0.1:8080/?state=%ff%fe&code=x", "http://127.0.0.1:8080/?state=\udcff&code=x"):
            with pytest.raises(RpcError) as caught:
                helper.request("completeSignon", {"redirectUrl": url})
            assert caught.value.code == -32004
        assert helper.request("getStatus")["pendingSignon"] is True

    def test_expired_state_is_no_pending_sign_on(self, sandbox: SandboxProvider, config_dir: Path) -> None:
        clock = [1_900_000_000.0]
        service = SignInService(
            TokenStore(config_dir), clock=lambda: clock[0], environ={"TICKTICK_SIGNON_AUTH_URL": sandbox.base_url}
        )
        started = service.start(parse_start({**CREDS, "redirectUrl": "http://127.0.0.1:8080/", "listen": False}))
        redirect = follow_authorize(started.authorize_url)
        clock[0] += 601
        with pytest.raises(NoPendingSignon):
            service.complete(redirect, None)
        with pytest.raises(InvalidParams):  # the expired sign-on saved nothing
            service.start(parse_start({"listen": False}))


class TestListenerUnderAttack:
    def test_probes_do_not_end_the_real_sign_on(self, helper: HelperProcess) -> None:
        port = free_port()
        started = helper.request("startSignon", {**CREDS, "redirectUrl": f"http://127.0.0.1:{port}/cb"})
        base = f"http://127.0.0.1:{port}"
        probes = [
            httpx.get(f"{base}/"),
            httpx.get(f"{base}/cb?state=guess&code=abc", headers={"Origin": "https://evil.example"}),
            httpx.get(f"{base}/cb?state=guess&error=x&error_description=%3Cscript%3Ealert(1)%3C/script%3E"),
            httpx.options(
                f"{base}/cb", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
            ),
            httpx.post(f"{base}/cb?state={started['state']}&code=abc"),
        ]
        for probe in probes:
            assert probe.status_code >= 400
            assert not any(h.lower().startswith("access-control-") for h in probe.headers)
            assert "<script>" not in probe.text
        page = httpx.get(follow_authorize(started["authorizeUrl"]))
        assert page.status_code == 200 and helper.notification("signonCompleted")["profile"] == "default"

    def test_denial_page_escapes_the_description(self, helper: HelperProcess) -> None:
        port = free_port()
        started = helper.request("startSignon", {**CREDS, "redirectUrl": f"http://127.0.0.1:{port}/cb"})
        url = f"http://127.0.0.1:{port}/cb?state={started['state']}&error=access_denied&error_description=%3Cimg+src%3Dx%3E"
        page = httpx.get(url)
        assert page.status_code == 400 and "<img" not in page.text
        assert helper.notification("signonFailed")["error"]["code"] == -32005

    def test_replaced_sign_on_moves_the_listener(self, helper: HelperProcess) -> None:
        redirect = paste_redirect()
        first = helper.request("startSignon", {**CREDS, "redirectUrl": redirect})
        second = helper.request("startSignon", {**CREDS, "redirectUrl": redirect})
        assert first["listening"] and second["listening"]
        assert httpx.get(follow_authorize(first["authorizeUrl"])).status_code == 400  # old state: refused
        assert httpx.get(follow_authorize(second["authorizeUrl"])).status_code == 200
        assert helper.notification("signonCompleted")

    def test_listener_closes_when_the_helper_exits_and_binds_loopback_only(self, helper: HelperProcess) -> None:
        port = free_port()
        helper.request("startSignon", {**CREDS, "redirectUrl": f"http://127.0.0.1:{port}/cb"})
        assert _listening_addresses(port) == ["127.0.0.1"]
        for address in _non_loopback_addresses():
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=1).close()
        assert helper.close() == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/cb")


def _listening_addresses(port: int) -> list[str]:
    """The local addresses with a socket listening on ``port``, from the kernel's own table (netstat without /proc)."""
    if not Path("/proc/net/tcp").exists():
        return _netstat_listening_addresses(port)
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                found.append(
                    socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]) if len(address) == 8 else address
                )
    return found


def _netstat_listening_addresses(port: int) -> list[str]:
    """Windows: ``TCP 127.0.0.1:PORT 0.0.0.0:0 LISTENING``; macOS/BSD: ``tcp4 0 0 127.0.0.1.PORT *.* LISTEN``."""
    windows = os.name == "nt"
    table = subprocess.run(["netstat", "-an"], capture_output=True, text=True, timeout=60, check=True).stdout
    found = []
    for fields in map(str.split, table.splitlines()):
        if len(fields) >= 4 and fields[0].lower().startswith("tcp") and fields[-1].startswith("LISTEN"):
            address, _, local_port = fields[1 if windows else 3].rpartition(":" if windows else ".")
            if local_port == str(port):
                found.append(address.strip("[]"))
    return found


def _non_loopback_addresses() -> list[str]:
    addresses = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addresses.add(info[4][0])
    except OSError:
        pass
    return [a for a in addresses if not a.startswith("127.")]


@pytest.mark.posix_only("mode bits and the umask")
def test_files_stay_private_under_umask_000(sandbox: SandboxProvider, auth_url: str, config_dir: Path) -> None:
    helper = HelperProcess.spawn(env=dict(os.environ), umask=0)
    try:
        sign_in(helper)
    finally:
        helper.close()
    assert config_dir.stat().st_mode & 0o777 == 0o700
    for name in ("config.json", "config.json.lock"):
        assert (config_dir / name).stat().st_mode & 0o777 == 0o600
