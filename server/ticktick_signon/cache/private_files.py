"""Owner-only folders and files, written atomically and never through a symlink or junction.

Used by the token store (the cache) and by the CLI's ``--save`` (a pyticktick
``.env`` file): both hold secrets. On POSIX, owner-only means modes 0700/0600;
Windows has no mode bits, and the files are private through the ACL of the
user's profile folder they live in (docs/security.md). The rule a private file
is held to, its modes and their tightening live in ``reader``; this module
applies them to the files it creates and reads.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ticktick_signon.cache import reader
from ticktick_signon.cache.link_guard import WINDOWS, UnsafePathError, is_link, open_no_follow, patiently, refused
from ticktick_signon.cache.reader import DIR_MODE, FILE_MODE


class RefusedFileError(OSError):
    """A private file that breaks the file rule (``reader``'s docstring); ``strerror`` says how, in words for the user.

    An ``OSError``, so that callers that report a file they could not use (the CLI's ``--save``) report this too.
    """


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if needed and make it 0700 whatever the umask (on POSIX).

    Raises:
        UnsafePathError: ``path`` is a symlink, a junction or not a directory.
    """
    try:
        os.makedirs(path.parent, exist_ok=True)
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if is_link(info):
        raise refused(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePathError(f"{path} is not a plain folder; refusing to use it")
    if not WINDOWS and stat.S_IMODE(info.st_mode) != DIR_MODE:
        reader.tighten_folder(os.fspath(path), info)


def check_not_symlink(path: Path) -> None:
    """Raise ``UnsafePathError`` if ``path`` exists and is anything but a regular file (a symlink, a junction)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if is_link(info):
        raise refused(path)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"{path} is not a regular file; refusing to use it")


def read_private(path: Path) -> tuple[bytes, os.stat_result]:
    """Read a whole private file under the cache file's rule (``reader.read_bytes``); return its bytes and stat.

    One difference from the cache: a file other users can write is tightened to 0600
    (and logged), not refused. Its caller, the CLI's ``--save``, keeps the user's own
    lines and replaces the file with a 0600 one; it serves no token from it. (Editors
    under a umask of 002 make a user's files 0664.) A file only others can read is
    tightened, as the cache is.

    Raises:
        FileNotFoundError: there is no file.
        UnsafePathError: the path is a symlink or a junction.
        RefusedFileError: the file breaks the rule: not a regular file, someone else's,
            or larger than ``reader.MAX_PRIVATE_FILE_BYTES``.
        OSError: it cannot be opened or read.
    """
    try:
        return reader.read_bytes(os.fspath(path), tighten=True, refuse_writable=False)
    except reader.Unusable as exc:
        raise RefusedFileError(errno.EPERM, exc.reason, os.fspath(path)) from None


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: a 0600 temp file, fsync, ``os.replace``.

    A reader sees the old file or the new one, never a mix; a crash leaves the old
    one and at most a stray temp file beside it. On Windows the replace is retried
    for a while (``link_guard.SHARING_RETRY_SECONDS``) while another process holds ``path`` open.

    Raises:
        UnsafePathError: ``path`` is a symlink, a junction or not a regular file.
    """
    check_not_symlink(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = open_no_follow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        if not WINDOWS:
            os.fchmod(fd, FILE_MODE)  # the umask may have taken bits off; set exactly 0600
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    try:
        patiently(lambda: os.replace(tmp, path))
    except BaseException:
        os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not every filesystem allows it.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
