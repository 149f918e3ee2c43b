"""The loopback listener under pressure, on real sockets.

Slow-drip floods against the listener itself; localhost's addresses, unparsable
redirects, two helpers on one port and a closed stdout through the real helper.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.fake_browser import follow_authorize
from tests.support.ports import free_port
from tests.support.rpc import HelperProcess, encode_frame
from tests.support.schema import assert_valid
from ticktick_signon.signin import loopback
from ticktick_signon.signin.loopback import LoopbackListener, Outcome

CREDS = {"clientId": "sandbox-client", "clientSecret": "sandbox-secret"}
REQUEST = b"GET /cb?state=flood HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Drip: " + b"x" * 10_000


class Trickle:
    """``count`` clients that each send one byte of a never-ending request every ``interval`` seconds."""

    def __init__(self, port: int, count: int, interval: float = 0.3) -> None:
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.setblocking(False)
            self.sockets.append(sock)
        self.closed: set[int] = set()
        self._sent = 0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + 60  # bounded whatever the test does
        while not self._stop.is_set() and time.monotonic() < deadline:
            byte = REQUEST[self._sent % len(REQUEST) : self._sent % len(REQUEST) + 1]
            self._sent += 1
            for index, sock in enumerate(self.sockets):
                if index in self.closed:
                    continue
                try:
                    if sock.recv(1024) == b"":
                        self.closed.add(index)
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed.add(index)
                    continue
                try:
                    sock.send(byte)
                except BlockingIOError:
                    pass
                except OSError:
                    self.closed.add(index)
            self._stop.wait(self._interval)

    def wait_all_closed(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.closed) == len(self.sockets):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


def make_listener(port: int, seen: list[str] | None = None) -> LoopbackListener:
    def finish(url: str) -> Outcome:
        if seen is not None:
            seen.append(url)
        return Outcome(True, "Signed in", "done")

    return LoopbackListener("127.0.0.1", port, "/cb", "good-state", f"http://127.0.0.1:{port}", finish, 60)


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(loopback, "REQUEST_TIMEOUT_SECONDS", 1.0)
    return 1.0


class TestSlowDrip:
    """Trickling connections are dropped at the request deadline: 400 of them must not hold 400 threads past it."""

    def test_a_trickling_client_is_dropped_at_the_whole_request_deadline(self, short_deadline: float, capfd) -> None:
        port = free_port()
        listener = make_listener(port)
        assert listener.start()
        trickle = Trickle(port, 3, interval=0.2)
        try:
            started = time.monotonic()
            assert trickle.wait_all_closed(short_deadline + 3), "a client sending a byte every 0.2 s was never dropped"
            assert time.monotonic() - started < short_deadline + 3
            assert not listener.closed  # the sign-on goes on
        finally:
            trickle.stop()
            listener.close()
        assert "Traceback" not in capfd.readouterr().err  # a dropped client is routine, not a crash

    def test_a_flood_holds_few_threads_and_the_real_redirect_gets_through(self, capfd) -> None:
        port = free_port()
        seen: list[str] = []
        listener = make_listener(port, seen)
        baseline = threading.active_count()
        assert listener.start()
        trickle = Trickle(port, 150)
        try:
            time.sleep(1.0)
            peak = threading.active_count() - baseline
            assert peak <= getattr(loopback, "MAX_PENDING_CONNECTIONS", 32) + 8, (
                f"{peak} threads for 150 trickling clients"
            )
            page = httpx.get(f"http://127.0.0.1:{port}/cb?state=good-state&code=abc", timeout=5)
            assert page.status_code == 200 and "Signed in" in page.text
            assert seen == [f"http://127.0.0.1:{port}/cb?state=good-state&code=abc"]
            assert listener.wait_closed(5)
            assert trickle.wait_all_closed(3), (
                f"{len(trickle.sockets) - len(trickle.closed)} connections outlived the listener"
            )
        finally:
            trickle.stop()
            listener.close()
        end = time.monotonic() + 5
        while threading.active_count() > baseline and time.monotonic() < end:
            time.sleep(0.05)
        assert threading.active_count() <= baseline
        assert "Traceback" not in capfd.readouterr().err

    def test_closing_the_listener_drops_its_open_connections(self) -> None:
        port = free_port()
        listener = make_listener(port)
        assert listener.start()
        trickle = Trickle(port, 20)
        try:
            time.sleep(0.5)
            assert not trickle.closed
            listener.close()
            assert trickle.wait_all_closed(3), (
                f"{len(trickle.sockets) - len(trickle.closed)} connections outlived close()"
            )
        finally:
            trickle.stop()


# -- localhost --------------------------------------------------------------------------


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def _bind(family: socket.AddressFamily, address: str, port: int) -> socket.socket:
    sock = socket.socket(family)
    sock.bind((address, port))
    sock.listen()
    return sock


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1) to take")
class TestLocalhost:
    """A localhost redirect holds 127.0.0.1 and [::1] alike, so no other process can take [::1]:PORT."""

    def test_a_localhost_redirect_holds_every_loopback_address(self, helper: HelperProcess) -> None:
        port = free_port()
        started = helper.request("startSignon", {**CREDS, "redirectUrl": f"http://localhost:{port}/cb"})
        assert started["listening"]
        for family, address in ((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")):
            with pytest.raises(OSError) as caught:
                _bind(family, address, port).close()
            assert caught.value.errno == errno.EADDRINUSE, address
        page = httpx.get(follow_authorize(started["authorizeUrl"]).replace("localhost", "[::1]"), timeout=10)
        assert page.status_code == 200 and helper.notification("signonCompleted")["profile"] == "default"

    def test_if_another_process_holds_one_address_nothing_listens(self, helper: HelperProcess) -> None:
        port = free_port()
        with _bind(socket.AF_INET6, "::1", port):
            started = helper.request("startSignon", {**CREDS, "redirectUrl": f"http://localhost:{port}/cb"})
            assert started["listening"] is False  # paste instead: never half a listener
            _bind(socket.AF_INET, "127.0.0.1", port).close()  # and 127.0.0.1 was let go


# -- an unparsable redirect with the right state ------------------------------------------


def test_an_unparsable_redirect_gets_an_error_page_and_the_listener_keeps_waiting(helper: HelperProcess) -> None:
    """An absolute-form request line or a 60 KB code gets an error page and leaves the listener open,
    so the real redirect that follows still lands (not on "connection refused")."""
    port = free_port()
    started = helper.request("startSignon", {**CREDS, "redirectUrl": f"http://127.0.0.1:{port}/cb"})
    state = started["state"]

    def raw_get(target: str) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        return answer

    absolute = raw_get(f"http://127.0.0.1:{port}/cb?state={state}&code=abc")
    assert absolute.startswith(b"HTTP/1.0 404")
    huge = raw_get(f"/cb?state={state}&code={'x' * 60_000}")
    assert huge.startswith(b"HTTP/1.0 400") and b"still waiting" in huge
    assert helper.request("getStatus")["pendingSignon"] is True
    page = httpx.get(follow_authorize(started["authorizeUrl"]), timeout=10)
    assert page.status_code == 200
    assert helper.notification("signonCompleted")["profile"] == "default"
    assert helper.notifications.empty()  # no signonFailed for the malformed ones


# -- two helpers, one port ------------------------------------------------------------------


@pytest.fixture
def two_helpers(auth_url: str) -> Iterator[tuple[HelperProcess, HelperProcess]]:
    first, second = HelperProcess.spawn(env=dict(os.environ)), HelperProcess.spawn(env=dict(os.environ))
    try:
        yield first, second
    finally:
        first.close()
        second.close()


class TestTwoHelpersOnOnePort:
    """Two helpers on one redirect port: each link reaches the helper that made it, a replaced link
    says so, and each client is told how its own sign-in ended."""

    def test_the_displaced_listener_closes_and_its_client_is_told(self, two_helpers) -> None:
        """A hears "replaced"; B's sign-in completes by whichever way its startSignon said.

        Which helper holds the port when B binds is a race: A's listener closes as soon as it sees its
        state replaced (its periodic look, half a second), and on a slow machine (Windows' patient cache
        writes, Wine) that can come before B binds. Both orders must end the same way for both clients.
        """
        first, second = two_helpers
        redirect_url = f"http://127.0.0.1:{free_port()}/cb"
        a = first.request("startSignon", {**CREDS, "redirectUrl": redirect_url})
        b = second.request("startSignon", {**CREDS, "redirectUrl": redirect_url})
        assert a["listening"]
        failed = first.notification("signonFailed", timeout=5)
        assert_valid("signonFailed.params", failed)
        assert failed["profile"] == "default"
        assert failed["error"]["code"] == -32003 and failed["error"]["data"]["reason"] == "replaced"
        assert "replaced" in failed["error"]["message"]
        redirect = follow_authorize(b["authorizeUrl"])
        if b["listening"]:  # A closed before B bound: B's own listener catches the browser
            assert httpx.get(redirect, timeout=5).status_code == 200
            assert second.notification("signonCompleted", timeout=10)["profile"] == "default"
        else:  # A's listener is gone, so B's paste path is the way, as B's startSignon said
            with pytest.raises(httpx.ConnectError):
                httpx.get(redirect, timeout=5)
            assert second.request("completeSignon", {"redirectUrl": redirect})["profile"] == "default"
        assert first.request("getToken")["accessToken"]

    def test_the_replaced_link_says_replaced_not_finished_elsewhere(self, two_helpers) -> None:
        _, second = two_helpers
        a_helper = _helper_with_check_interval(3600)  # the page, not the periodic check, finds out
        try:
            redirect = f"http://127.0.0.1:{free_port()}/cb"
            a = a_helper.request("startSignon", {**CREDS, "redirectUrl": redirect})
            b = second.request("startSignon", {**CREDS, "redirectUrl": redirect})
            assert a["listening"] and not b["listening"]
            old = httpx.get(follow_authorize(a["authorizeUrl"]), timeout=5)
            assert old.status_code == 410 and "Sign-in link replaced" in old.text and "elsewhere" not in old.text
            assert a_helper.notification("signonFailed", timeout=5)["error"]["data"]["reason"] == "replaced"
        finally:
            a_helper.close()

    def test_the_newest_link_on_the_old_listener_says_to_paste(self, two_helpers) -> None:
        _, second = two_helpers
        a_helper = _helper_with_check_interval(3600)
        try:
            redirect = f"http://127.0.0.1:{free_port()}/cb"
            a = a_helper.request("startSignon", {**CREDS, "redirectUrl": redirect})
            b = second.request("startSignon", {**CREDS, "redirectUrl": redirect})
            assert a["listening"] and not b["listening"]
            url = follow_authorize(b["authorizeUrl"])
            page = httpx.get(url, timeout=5)
            assert page.status_code == 410 and "Paste this address" in page.text and "out of date" not in page.text
            assert a_helper.notification("signonFailed", timeout=5)["error"]["data"]["reason"] == "replaced"
            assert second.request("completeSignon", {"redirectUrl": url})["accessToken"]
        finally:
            a_helper.close()


def _helper_with_check_interval(seconds: float) -> HelperProcess:
    """A real helper whose listener checks the cache only on requests (a long periodic interval)."""
    code = (
        "import sys; from ticktick_signon.signin import loopback; "
        f"loopback.CHECK_INTERVAL_SECONDS = {seconds}; "
        "from ticktick_signon.entry import main; sys.argv = ['ticktick-signon', 'serve']; main()"
    )
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the HelperProcess returned
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=dict(os.environ)
    )
    return HelperProcess(process, stderr)


# -- a closed stdout ---------------------------------------------------------------------


def test_a_closed_stdout_still_gives_the_browser_its_page_then_stops_the_helper(auth_url: str, config_dir) -> None:
    """The browser still gets its page (the token is saved), and then the helper, with no one to tell, exits."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ticktick_signon", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        port = free_port()
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "startSignon",
            "params": {**CREDS, "redirectUrl": f"http://127.0.0.1:{port}/cb"},
        }
        process.stdin.write(encode_frame(message))
        process.stdin.flush()
        length = int(process.stdout.readline().split(b":")[1])
        while process.stdout.readline() not in (b"\r\n", b""):
            pass
        started = json.loads(process.stdout.read(length))["result"]
        process.stdout.close()  # the client stops reading; stdin stays open
        page = httpx.get(follow_authorize(started["authorizeUrl"]), timeout=10)
        assert page.status_code == 200 and "Signed in" in page.text
        assert process.wait(timeout=15) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/cb", timeout=2)
        cache = json.loads((config_dir / "config.json").read_text())
        assert cache["profiles"]["default"]["token"]["accessToken"]
        assert not [p for p in config_dir.iterdir() if p.name.endswith(".tmp")]
        assert b"closed stdout" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
