"""How a listening sign-on ends when things go wrong: a clock jump, an unexpected error.

A listening sign-on whose link the wall clock expires while the monotonic clock stands still:

A laptop's suspend or an NTP step moves ``time.time()`` on without ``time.monotonic()``:
the listener's timer still runs, but the sign-on's state has expired in the cache. The
browser that comes back must read that the link expired, and the client must hear
``signonFailed`` (-32003), not wait forever.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fake_browser import follow_authorize
from tests.support.signin import paste_redirect
from ticktick_signon.cache.store import TokenStore
from ticktick_signon.core.messages import StartParams
from ticktick_signon.errors import NoPendingSignon, SignonError
from ticktick_signon.sandbox import SandboxProvider
from ticktick_signon.signin import loopback
from ticktick_signon.signin.service import SignInService


class Heard:
    def __init__(self) -> None:
        self.failures: list[tuple[str, SignonError]] = []
        self.done = threading.Event()

    def completed(self, profile: str, expires_at: int) -> None:
        self.done.set()

    def failed(self, profile: str, error: SignonError) -> None:
        self.failures.append((profile, error))
        self.done.set()


def _start(
    sandbox: SandboxProvider, config_dir: Path, jump: list[float], heard: Heard, **overrides: Any
) -> tuple[SignInService, str]:
    service = SignInService(
        TokenStore(config_dir),
        clock=lambda: time.time() + jump[0],
        environ={"TICKTICK_SIGNON_AUTH_URL": sandbox.base_url},
        events=heard,
        **overrides,
    )
    started = service.start(
        StartParams("default", "sandbox-client", "sandbox-secret", paste_redirect(), None, listen=True)
    )
    assert started.listening
    return service, started.authorize_url


def _assert_told_expired(heard: Heard) -> None:
    assert heard.done.wait(10), "the client was never told"
    [(profile, error)] = heard.failures
    assert profile == "default" and isinstance(error, NoPendingSignon) and error.code == -32003
    assert "expired" in error.message and "reason" not in error.data


def test_the_returning_browser_reads_the_link_expired_and_the_client_hears_it(
    sandbox: SandboxProvider, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loopback, "CHECK_INTERVAL_SECONDS", 3600.0)  # only the browser's request looks
    jump, heard = [0.0], Heard()
    service, authorize_url = _start(sandbox, config_dir, jump, heard)
    try:
        redirect = follow_authorize(authorize_url)
        jump[0] = 11 * 60  # the wall clock leaps; the monotonic clock does not
        page = httpx.get(redirect, timeout=10)
        assert page.status_code == 410
        assert "expired" in page.text and "elsewhere" not in page.text
        _assert_told_expired(heard)
    finally:
        service.close()


def test_a_waiting_listener_notices_the_jump_itself(sandbox: SandboxProvider, config_dir: Path) -> None:
    jump, heard = [0.0], Heard()
    service, _ = _start(sandbox, config_dir, jump, heard)
    try:
        jump[0] = 11 * 60
        _assert_told_expired(heard)  # within a check interval, with no browser at all
    finally:
        service.close()


def test_an_unexpected_error_still_gives_the_browser_a_page_and_the_client_signon_failed(
    sandbox: SandboxProvider, config_dir: Path
) -> None:
    """OverflowError is what a socket timeout of 1e300 raised; any bug must end the same way."""

    def overflowing_exchange(*args: object) -> Any:
        raise OverflowError("timeout value is too large")

    heard = Heard()
    service, authorize_url = _start(sandbox, config_dir, [0.0], heard, exchange=overflowing_exchange)
    try:
        page = httpx.get(follow_authorize(authorize_url), timeout=10)
        assert page.status_code == 400 and "failed unexpectedly" in page.text
        assert heard.done.wait(10)
        [(profile, error)] = heard.failures
        assert profile == "default" and error.code == -32603 and "log" in error.message
    finally:
        service.close()
