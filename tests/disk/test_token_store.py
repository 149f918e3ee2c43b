"""The token store on a real disk: permissions, atomic writes, revalidation, unreadable files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.portability import plant_junction, plant_symlink
from ticktick_signon.cache.store import TokenStore, default_config_dir
from ticktick_signon.core.records import Cache, Profile, Token
from ticktick_signon.errors import ConfigUnreadable


def with_token(value: str, expires_at: int = 2_000_000_000):
    def change(cache: Cache) -> tuple[Cache, None]:
        return cache.with_profile(
            "default", Profile(client_id="id", token=Token(value, "bearer", "s", expires_at))
        ), None

    return change


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_missing_file_reads_as_empty(config_dir: Path) -> None:
    store = TokenStore(config_dir)
    assert store.read() == Cache()
    assert not config_dir.exists()  # reading creates nothing


@pytest.mark.posix_only("mode bits and the umask")
def test_write_creates_private_folder_and_file_whatever_the_umask(config_dir: Path) -> None:
    old = os.umask(0)
    try:
        TokenStore(config_dir).update(with_token("t1"))
    finally:
        os.umask(old)
    assert mode(config_dir) == 0o700
    assert mode(config_dir / "config.json") == 0o600
    assert mode(config_dir / "config.json.lock") == 0o600
    assert [p.name for p in config_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_write_creates_folder_file_and_lock_and_leaves_no_temp_file(
    config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = TokenStore(config_dir)
    store.update(with_token("t1"))
    store.update(with_token("t2"))
    # No temp file is left; the lock file stays on POSIX, while filelock removes it on Windows.
    assert sorted(p.name for p in config_dir.iterdir()) in (["config.json", "config.json.lock"], ["config.json"])
    assert TokenStore(config_dir).read().profile("default").token.access_token == "t2"
    assert "Tightened permissions" not in caplog.text  # a private cache is used as it is (on Windows: no mode bits)


@pytest.mark.posix_only("mode bits")
def test_world_readable_cache_and_folder_are_tightened(config_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    TokenStore(config_dir).update(with_token("t1"))
    os.chmod(config_dir, 0o755)
    os.chmod(config_dir / "config.json", 0o644)
    store = TokenStore(config_dir)
    assert store.read().profile("default").token.access_token == "t1"
    assert mode(config_dir / "config.json") == 0o600
    store.update(with_token("t2"))
    assert mode(config_dir) == 0o700
    assert "Tightened permissions" in caplog.text


def test_update_returns_result_and_skips_identical_writes(config_dir: Path) -> None:
    store = TokenStore(config_dir)
    store.update(with_token("t1"))
    before = os.stat(store.path).st_ino
    assert store.update(lambda cache: (cache, "unchanged")) == "unchanged"
    assert os.stat(store.path).st_ino == before


def test_a_write_by_another_process_is_seen(config_dir: Path) -> None:
    store = TokenStore(config_dir)
    store.update(with_token("t1"))
    assert store.read().profile("default").token.access_token == "t1"
    code = (
        "import sys; from pathlib import Path; from ticktick_signon.cache.store import TokenStore;"
        "from ticktick_signon.core.records import Profile, Token;"
        "TokenStore(Path(sys.argv[1])).update("
        "lambda c: (c.with_profile('default', Profile(token=Token('t2','bearer','s',1))), None))"
    )
    subprocess.run([sys.executable, "-c", code, str(config_dir)], check=True)
    assert store.read().profile("default").token.access_token == "t2"


def test_cached_read_is_reused_until_the_file_changes(config_dir: Path) -> None:
    clock = [2_000_000_000.0]
    store = TokenStore(config_dir, clock=lambda: clock[0])
    store.update(with_token("t1"))
    first = store.read()
    # Past the racy window, an unchanged file is not parsed again: the same object comes back.
    assert store.read() is first
    clock[0] = os.stat(store.path).st_mtime + 1  # inside the window: re-read to be safe
    assert store.read() is not first and store.read() == first


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"version": 99}', b"\xff\xfe"])
def test_unreadable_cache_is_reported_and_left_alone(config_dir: Path, content: bytes) -> None:
    config_dir.mkdir(mode=0o700)
    path = config_dir / "config.json"
    path.write_bytes(content)
    store = TokenStore(config_dir)
    with pytest.raises(ConfigUnreadable) as caught:
        store.read()
    assert caught.value.data["path"] == str(path)
    with pytest.raises(ConfigUnreadable):
        store.update(with_token("t1"))
    assert path.read_bytes() == content


def test_symlinked_cache_is_refused_not_followed(config_dir: Path, tmp_path: Path) -> None:
    config_dir.mkdir(mode=0o700)
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"profiles": {}}))
    plant_symlink(config_dir / "config.json", target)
    store = TokenStore(config_dir)
    with pytest.raises(ConfigUnreadable):
        store.read()
    with pytest.raises(ConfigUnreadable):
        store.update(with_token("t1"))
    assert json.loads(target.read_text()) == {"profiles": {}}


def test_symlinked_lock_is_refused(config_dir: Path, tmp_path: Path) -> None:
    config_dir.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    plant_symlink(config_dir / "config.json.lock", victim)
    with pytest.raises(ConfigUnreadable):
        TokenStore(config_dir).update(with_token("t1"))
    assert victim.read_text() == "keep me"


@pytest.mark.windows_only("junctions are Windows' own folder links")
@pytest.mark.parametrize("name", ["config.json", "config.json.lock"])
def test_a_junction_planted_as_the_cache_or_its_lock_is_refused(config_dir: Path, tmp_path: Path, name: str) -> None:
    config_dir.mkdir()
    elsewhere = tmp_path / "elsewhere"
    plant_junction(config_dir / name, elsewhere)
    store = TokenStore(config_dir)
    if name == "config.json":
        with pytest.raises(ConfigUnreadable):
            store.read()
    with pytest.raises(ConfigUnreadable):
        store.update(with_token("t1"))
    assert list(elsewhere.iterdir()) == []


def test_config_dir_comes_from_env_or_platformdirs(tmp_path: Path) -> None:
    assert default_config_dir({"TICKTICK_SIGNON_CONFIG_DIR": str(tmp_path)}) == tmp_path
    import platformdirs

    assert default_config_dir({}) == Path(platformdirs.user_config_dir("ticktick-signon", appauthor=False))


def test_temp_files_left_by_a_dead_writer_are_swept(config_dir: Path) -> None:
    store = TokenStore(config_dir)
    store.update(with_token("t1"))
    leftover = config_dir / ".config.json.4242.deadbeef.tmp"
    leftover.write_text("half a write")
    unrelated = config_dir / "notes.txt"
    unrelated.write_text("mine")
    store.update(with_token("t2"))
    assert not leftover.exists() and unrelated.read_text() == "mine"
    assert store.read().profile("default").token.access_token == "t2"


def test_a_cache_with_a_future_mtime_is_parsed_again_only_inside_the_racy_window(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clock set back after a write (or a copied file) must not make every look a parse."""
    from ticktick_signon.cache import reader
    from ticktick_signon.cache import store as store_module

    store = TokenStore(config_dir)
    store.update(with_token("t1"))
    future = time.time() + 3600
    os.utime(store.path, (future, future))
    monkeypatch.setattr(store_module, "RACY_SECONDS", 0.05)
    parses = []
    real_read_file = reader.read_file
    monkeypatch.setattr(reader, "read_file", lambda *a, **k: parses.append(1) or real_read_file(*a, **k))
    first = store.read()
    time.sleep(0.1)  # longer than the racy window, by the monotonic clock
    looks = [store.read() for _ in range(20)]
    assert len(parses) <= 2, f"parsed {len(parses)} times in 21 looks"
    assert all(look == first for look in looks) and looks[-1] is looks[0]
