"""The private-file layer on a real disk: exact bytes, link refusal, and the replace that survives an open handle."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.portability import assert_owner_only, plant_junction, plant_symlink
from ticktick_signon.cache import link_guard
from ticktick_signon.cache.link_guard import UnsafePathError, is_link, open_no_follow, patiently
from ticktick_signon.cache.private_files import RefusedFileError, ensure_private_dir, read_private, write_private
from ticktick_signon.cache.reader import MAX_PRIVATE_FILE_BYTES

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


# read_private holds a file to the cache file's rule (reader.read_bytes): size, owner, type, mode.


def test_an_oversized_file_is_refused_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    write_private(path, b"x" * (MAX_PRIVATE_FILE_BYTES + 1))
    with pytest.raises(RefusedFileError) as caught:
        read_private(path)
    assert caught.value.strerror == f"it is larger than {MAX_PRIVATE_FILE_BYTES >> 20} MiB"
    assert caught.value.filename == str(path)
    assert path.stat().st_size == MAX_PRIVATE_FILE_BYTES + 1  # left as it was


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    write_private(path, b"x" * MAX_PRIVATE_FILE_BYTES)
    assert len(read_private(path)[0]) == MAX_PRIVATE_FILE_BYTES


@pytest.mark.posix_only("owners; Windows relies on the profile's ACL")
@pytest.mark.skipif(os.name != "nt" and os.geteuid() != 0, reason="making a file owned by another user needs root")
def test_a_file_owned_by_someone_else_is_refused_and_left_alone(tmp_path: Path) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    path = tmp_path / ".env"
    write_private(path, b"PYTICKTICK_V1_BASE_URL=https://elsewhere.example/\n")
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    with pytest.raises(RefusedFileError) as caught:
        read_private(path)
    assert caught.value.strerror.startswith("it belongs to user nobody, not to you")
    assert os.stat(path).st_uid == nobody.pw_uid
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.posix_only("FIFOs and mode bits")
@pytest.mark.timeout(20)  # the open itself must not block on a FIFO nobody writes
def test_a_fifo_in_place_of_the_file_is_refused_without_hanging(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    os.mkfifo(path, 0o600)
    with pytest.raises(RefusedFileError) as caught:
        read_private(path)
    assert caught.value.strerror == "it is not a regular file"


@pytest.mark.posix_only("mode bits")
@pytest.mark.parametrize("file_mode", [0o644, 0o664, 0o666])
def test_a_file_others_can_read_or_write_is_tightened_and_logged(
    tmp_path: Path, file_mode: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Unlike the cache, a file others can write is not refused: --save keeps the user's own lines and
    # replaces the file with a 0600 one (a umask of 002 makes a user's files 0664).
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\n")
    os.chmod(path, file_mode)
    assert read_private(path)[0] == b"A=1\n"
    assert_owner_only(path, 0o600)
    assert f"Tightened permissions of {path} to 0600" in caplog.text


@pytest.mark.parametrize(
    ("info", "link"),
    [
        (SimpleNamespace(st_mode=stat.S_IFREG | 0o600), False),
        (SimpleNamespace(st_mode=stat.S_IFLNK | 0o777), True),
        (
            SimpleNamespace(
                st_mode=stat.S_IFLNK | 0o666, st_file_attributes=0x420, st_reparse_tag=IO_REPARSE_TAG_SYMLINK
            ),
            True,
        ),
        (
            SimpleNamespace(
                st_mode=stat.S_IFDIR | 0o777, st_file_attributes=0x410, st_reparse_tag=IO_REPARSE_TAG_MOUNT_POINT
            ),
            True,
        ),
        (
            SimpleNamespace(st_mode=stat.S_IFDIR | 0o777, st_file_attributes=0x410, st_reparse_tag=0),
            True,
        ),  # tag unknown
        (
            SimpleNamespace(
                st_mode=stat.S_IFREG | 0o666, st_file_attributes=0x420, st_reparse_tag=IO_REPARSE_TAG_CLOUD_6
            ),
            False,
        ),
        (SimpleNamespace(st_mode=stat.S_IFREG | 0o666, st_file_attributes=0x20, st_reparse_tag=0), False),
    ],
)
def test_links_are_symlinks_and_name_surrogate_reparse_points(info: SimpleNamespace, link: bool) -> None:
    assert is_link(info) is link  # type: ignore[arg-type]


def test_a_replace_while_another_handle_is_open_still_lands(tmp_path: Path) -> None:
    path = tmp_path / "cache"
    write_private(path, b"old" * 1000)
    reader = open(path, "rb")  # noqa: SIM115 - on Windows this holds os.replace off until another thread closes it
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
    monkeypatch.setattr(link_guard, "SHARING_RETRY_SECONDS", 0.5)
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


def refusals(*winerrors: int | None) -> Callable[[], str]:
    """An action that raises PermissionError with each Windows error code given, then succeeds.

    None stands for os.open's bare EACCES (no Windows error code).
    """
    left = list(winerrors)

    def action() -> str:
        if left:
            error = PermissionError(13, "Access is denied")
            winerror = left.pop(0)
            if winerror is not None:
                error.winerror = winerror  # what Windows sets; POSIX has no such attribute
            raise error
        return "done"

    return action


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """``patiently``'s Windows rules, on any platform (it does no I/O of its own)."""
    monkeypatch.setattr(link_guard, "WINDOWS", True)


@pytest.mark.usefixtures("on_windows")
def test_sharing_refusals_are_retried_and_other_errors_are_not() -> None:
    # A sharing violation, access denied (a file pending deletion), a lock violation, os.open's bare EACCES.
    assert patiently(refusals(32, 5, 33, None)) == "done"
    started = time.monotonic()
    with pytest.raises(PermissionError):
        patiently(refusals(1314))  # not a sharing error: raised at once
    assert time.monotonic() - started < 1


@pytest.mark.usefixtures("on_windows")
def test_sharing_retries_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link_guard, "SHARING_RETRY_SECONDS", 0.3)
    started = time.monotonic()
    with pytest.raises(PermissionError):
        patiently(refusals(*[32] * 100_000))
    assert 0.3 <= time.monotonic() - started < 3


def test_a_permission_error_on_posix_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link_guard, "WINDOWS", False)
    with pytest.raises(PermissionError):
        patiently(refusals(None))
