"""The private-file layer on a real disk: exact bytes, link refusal, and the replace that survives an open handle."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ticktick_signon import private_files
from ticktick_signon.link_guard import UnsafePathError, is_link, open_no_follow
from ticktick_signon.private_files import ensure_private_dir, read_private, write_private

from .portability import assert_owner_only, plant_junction, plant_symlink

IO_REPARSE_TAG_SYMLINK = 0xA000000C
IO_REPARSE_TAG_MOUNT_POINT = 0xA0000003  # a junction
IO_REPARSE_TAG_CLOUD_6 = 0x9000601A  # a OneDrive placeholder: the file itself, not a link


def test_bytes_round_trip_exactly(tmp_path: Path) -> None:
    data = b"line\r\nline\nctrl-z \x1a after\x00\xff"  # Windows' text mode would mangle \r\n and stop at ^Z
    write_private(tmp_path / "f", data)
    assert read_private(tmp_path / "f")[0] == data
    assert (tmp_path / "f").read_bytes() == data
    assert_owner_only(tmp_path / "f", 0o600)


def test_private_dir_is_created_and_a_file_in_its_place_refused(tmp_path: Path) -> None:
    ensure_private_dir(tmp_path / "a" / "b")
    assert_owner_only(tmp_path / "a" / "b", 0o700)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UnsafePathError):
        ensure_private_dir(tmp_path / "file")


def test_symlinks_are_refused_for_reading_writing_and_folders(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    plant_symlink(tmp_path / "link", target)
    with pytest.raises(UnsafePathError):
        read_private(tmp_path / "link")
    with pytest.raises(UnsafePathError):
        write_private(tmp_path / "link", b"new")
    with pytest.raises(UnsafePathError):
        os.close(open_no_follow(tmp_path / "link", os.O_WRONLY | os.O_APPEND))
    assert target.read_bytes() == b"keep"
    plant_symlink(tmp_path / "dirlink", tmp_path)
    with pytest.raises(UnsafePathError):
        ensure_private_dir(tmp_path / "dirlink")


@pytest.mark.windows_only("junctions are Windows' own folder links")
def test_junctions_are_refused_for_reading_writing_and_folders(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    plant_junction(tmp_path / "junction", elsewhere)
    for action in (
        lambda: read_private(tmp_path / "junction"),
        lambda: write_private(tmp_path / "junction", b"new"),
        lambda: ensure_private_dir(tmp_path / "junction"),
        lambda: os.close(open_no_follow(tmp_path / "junction", os.O_RDONLY)),
    ):
        with pytest.raises(UnsafePathError):
            action()
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("info", "link"),
    [
        (SimpleNamespace(st_mode=stat.S_IFREG | 0o600), False),
        (SimpleNamespace(st_mode=stat.S_IFLNK | 0o777), True),
        (SimpleNamespace(st_mode=stat.S_IFLNK | 0o666, st_file_attributes=0x420, st_reparse_tag=IO_REPARSE_TAG_SYMLINK), True),
        (SimpleNamespace(st_mode=stat.S_IFDIR | 0o777, st_file_attributes=0x410, st_reparse_tag=IO_REPARSE_TAG_MOUNT_POINT), True),
        (SimpleNamespace(st_mode=stat.S_IFDIR | 0o777, st_file_attributes=0x410, st_reparse_tag=0), True),  # tag unknown
        (SimpleNamespace(st_mode=stat.S_IFREG | 0o666, st_file_attributes=0x420, st_reparse_tag=IO_REPARSE_TAG_CLOUD_6), False),
        (SimpleNamespace(st_mode=stat.S_IFREG | 0o666, st_file_attributes=0x20, st_reparse_tag=0), False),
    ],
)
def test_links_are_symlinks_and_name_surrogate_reparse_points(info: SimpleNamespace, link: bool) -> None:
    assert is_link(info) is link  # type: ignore[arg-type]


def test_a_replace_while_another_handle_is_open_still_lands(tmp_path: Path) -> None:
    path = tmp_path / "cache"
    write_private(path, b"old" * 1000)
    reader = open(path, "rb")  # on Windows this holds os.replace off until it closes
    seen: list[bytes] = []

    def read_then_close() -> None:
        seen.append(reader.read())
        reader.close()

    timer = threading.Timer(0.3, read_then_close)
    timer.start()
    write_private(path, b"new" * 1000)
    timer.join()
    assert seen == [b"old" * 1000]  # the reader saw the old file whole
    assert read_private(path)[0] == b"new" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]


@pytest.mark.windows_only("only Windows refuses to replace a file another handle holds open")
def test_a_handle_that_never_closes_fails_the_write_in_bounded_time_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(private_files, "SHARING_RETRY_SECONDS", 0.5)
    path = tmp_path / "cache"
    write_private(path, b"old")
    with open(path, "rb") as reader:
        started = time.monotonic()
        with pytest.raises(PermissionError):
            write_private(path, b"new")
        assert time.monotonic() - started < 5
        assert reader.read() == b"old"
    assert read_private(path)[0] == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]  # the temp file went too


def _flaky(real, failures: list[int]):
    """``real``, but first raising PermissionError with each Windows error code in ``failures``."""

    def call(*args: object) -> object:
        if failures:
            error = PermissionError(13, "Access is denied")
            winerror = failures.pop(0)
            if winerror is not None:
                error.winerror = winerror  # what Windows sets; POSIX has no such attribute
            raise error
        return real(*args)

    return call


@pytest.mark.posix_only("POSIX's own answer to a denied replace")
def test_a_permission_error_on_posix_is_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cache"
    write_private(path, b"old")
    failures = [None]
    monkeypatch.setattr(os, "replace", _flaky(os.replace, failures))
    with pytest.raises(PermissionError):
        write_private(path, b"new")
    assert path.read_bytes() == b"old"


def test_sharing_violations_are_retried_and_other_errors_are_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(private_files, "WINDOWS", True)  # the retry logic, on any platform
    path = tmp_path / "cache"
    write_private(path, b"old")
    failures = [32, 5, 33]  # sharing violation, access denied (pending delete), lock violation
    monkeypatch.setattr(os, "replace", _flaky(os.replace, failures))
    write_private(path, b"new")
    assert failures == [] and path.read_bytes() == b"new"

    failures.append(1314)  # not a sharing error: raised at once, old file kept, temp file removed
    started = time.monotonic()
    with pytest.raises(PermissionError):
        write_private(path, b"newer")
    assert time.monotonic() - started < 1
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["cache"]


def test_a_read_during_a_sharing_violation_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cache"
    write_private(path, b"whole")
    monkeypatch.setattr(private_files, "WINDOWS", True)
    failures = [32, None]  # os.open on Windows gives EACCES without a winerror
    monkeypatch.setattr(private_files, "open_no_follow", _flaky(open_no_follow, failures))
    assert read_private(path)[0] == b"whole" and failures == []


def test_sharing_retries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(private_files, "SHARING_RETRY_SECONDS", 0.3)
    monkeypatch.setattr(private_files, "WINDOWS", True)
    path = tmp_path / "cache"
    write_private(path, b"old")
    monkeypatch.setattr(os, "replace", _flaky(os.replace, [32] * 10_000))
    started = time.monotonic()
    with pytest.raises(PermissionError):
        write_private(path, b"new")
    assert 0.3 <= time.monotonic() - started < 3
    assert path.read_bytes() == b"old"
