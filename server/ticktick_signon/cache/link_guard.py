"""Opening files safely on POSIX and Windows: never through a link, and patient with Windows' sharing refusals.

The last component of a path is never followed if it is a link: O_NOFOLLOW on
POSIX, reparse-point checks on Windows. Imports nothing beyond os, errno, stat
and time: the cache's reader, on the fast ``token`` path, uses it.
"""

from __future__ import annotations

import errno
import os
import stat
import time

TYPE_CHECKING = False  # typing itself is not imported: `token` pays for every import
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

#: Windows has no O_NOFOLLOW, no fchmod before Python 3.13, and no meaning for mode bits.
WINDOWS = os.name == "nt"
#: Set in a Windows reparse tag for "name surrogates": symlinks and junctions (mount points), not
#: e.g. OneDrive placeholders, which are reparse points that stand for the file itself.
_NAME_SURROGATE = 0x20000000
#: Windows refuses to open or replace a file that another process holds open without delete sharing
#: (a reader, a virus scanner, an indexer). These errors are retried for this long before they count:
#: ERROR_ACCESS_DENIED (also what a file pending deletion gives), ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION.
SHARING_RETRY_SECONDS = 2.0
_SHARING_ERRORS = (5, 32, 33)


class UnsafePathError(OSError):
    """A path we would read or write through is a link (a symlink, a junction) or not a regular file/folder."""


def is_link(info: os.stat_result) -> bool:
    """Whether an ``lstat`` result is a symlink, or on Windows a junction or any other name-surrogate reparse point."""
    if stat.S_ISLNK(info.st_mode):
        return True
    if not getattr(info, "st_file_attributes", 0) & stat.FILE_ATTRIBUTE_REPARSE_POINT:
        return False
    tag = getattr(info, "st_reparse_tag", 0)
    return not tag or bool(tag & _NAME_SURROGATE)


def refused(path: str | os.PathLike[str]) -> UnsafePathError:
    """The error for a link where a plain file or folder must be."""
    return UnsafePathError(errno.ELOOP, "a symlink or junction; refusing to follow it", os.fspath(path))


def open_no_follow(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
    """``os.open`` that refuses a link as the last component of ``path`` (on Windows, in binary mode).

    Args:
        path: what to open.
        flags: ``os.O_*`` flags, as for ``os.open``.
        mode: permission bits for a created file (on Windows only its write bit counts).

    Returns:
        The open file descriptor.

    Raises:
        UnsafePathError: ``path`` is a symlink or junction (or was swapped for one while it was opened).
        OSError: anything ``os.open`` raises.
    """
    if not WINDOWS:
        try:
            return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise refused(path) from None
            raise
    # No O_NOFOLLOW: refuse a link before opening, then check that the name still is the file that was
    # opened. Our fd has no delete sharing, so nothing can rename that file away while we hold it.
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if is_link(before):
            raise refused(path)
    # getattr: O_BINARY exists only on Windows (and the tests run this branch elsewhere too).
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), mode)
    try:
        now = os.lstat(path)
        if is_link(now) or not os.path.samestat(now, os.fstat(fd)):
            raise refused(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def patiently(action: Callable[[], T]) -> T:
    """Run ``action``, retrying Windows sharing refusals for up to ``SHARING_RETRY_SECONDS``.

    Returns:
        What ``action`` returned.

    Raises:
        PermissionError: still refused at the deadline, or refused on POSIX (never retried there).
        OSError: anything else ``action`` raised, at once.
    """
    deadline, delay = time.monotonic() + SHARING_RETRY_SECONDS, 0.001
    while True:
        try:
            return action()
        except PermissionError as exc:
            # os.open reports only EACCES (no winerror) on Windows, for a sharing violation as for a real denial.
            winerror = getattr(exc, "winerror", None)
            if not WINDOWS or winerror not in (None, *_SHARING_ERRORS) or time.monotonic() >= deadline:
                raise
        # Short waits: readers that keep reopening the file leave brief gaps, and a long sleep misses them.
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
