"""Shared fixtures: every test runs with a private config folder and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.rpc import HelperProcess
from ticktick_signon.sandbox import SandboxProvider

# Anything that could point the code at a real account, a real provider or the
# user's own cache is removed for every test.
_SCRUBBED = (
    "PYTICKTICK_V1_CLIENT_ID",
    "PYTICKTICK_V1_CLIENT_SECRET",
    "PYTICKTICK_V1_OAUTH_REDIRECT_URL",
    "PYTICKTICK_V1_TOKEN",
    "PYTICKTICK_V1_TOKEN_VALUE",
    "PYTICKTICK_V1_TOKEN_EXPIRATION",
    "PYTICKTICK_V1_BASE_URL",
    "TICKTICK_SIGNON_AUTH_URL",
    "TICKTICK_SIGNON_CONFIG_DIR",
    "TICKTICK_SIGNON_HTTP_TIMEOUT",
    "XDG_CONFIG_HOME",
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip ``posix_only`` tests on Windows and ``windows_only`` tests elsewhere, with the marker's reason."""
    for name, elsewhere in (("posix_only", os.name == "nt"), ("windows_only", os.name != "nt")):
        marker = item.get_closest_marker(name)
        if marker is not None and elsewhere:
            pytest.skip(f"{name}: {marker.args[0] if marker.args else 'platform-specific'}")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache folder at a temp dir and drop credentials and overrides from the env."""
    for name in _SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    config_dir = tmp_path / "config"
    monkeypatch.setenv("TICKTICK_SIGNON_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("NO_PROXY", "*")
    return config_dir


@pytest.fixture
def config_dir(isolated_env: Path) -> Path:
    return isolated_env


@pytest.fixture
def sandbox() -> Iterator[SandboxProvider]:
    """The sandbox provider on a free loopback port, with the default sandbox app."""
    with SandboxProvider() as provider:
        yield provider


@pytest.fixture
def auth_url(sandbox: SandboxProvider, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the code under test at the sandbox (TICKTICK_SIGNON_AUTH_URL)."""
    monkeypatch.setenv("TICKTICK_SIGNON_AUTH_URL", sandbox.base_url)
    return sandbox.base_url


@pytest.fixture
def helper(auth_url: str) -> Iterator[HelperProcess]:
    """A real `ticktick-signon serve` subprocess, pointed at the sandbox."""
    process = HelperProcess.spawn(env=dict(os.environ))
    try:
        yield process
    finally:
        process.close()
