"""Owner-only folders and files, written atomically and never through a symlink.

Used by the token store (the cache) and by the CLI's ``--save`` (a pyticktick
``.env`` file): both hold secrets.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


class UnsafePathError(OSError):
    """A path we would write through is a symlink or not a regular file/folder."""


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if needed and make it 0700 whatever the umask.

    Raises:
        UnsafePathError: ``path`` is a symlink or not a directory.
    """
    try:
        os.makedirs(path.parent, exist_ok=True)
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafePathError(f"{path} is not a plain folder (a symlink?); refusing to use it")
    if stat.S_IMODE(info.st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
        if stat.S_IMODE(info.st_mode) & 0o077:
            log.warning("Tightened permissions of %s to 0700", path)


def check_not_symlink(path: Path) -> None:
    """Raise ``UnsafePathError`` if ``path`` exists and is anything but a regular file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"{path} is not a regular file (a symlink?); refusing to follow it")


def tighten_file(fd: int, path: Path) -> None:
    """Make an open file 0600 if it is readable by others, and log that we did."""
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    if mode != FILE_MODE:
        os.fchmod(fd, FILE_MODE)
        if mode & 0o077:
            log.warning("Tightened permissions of %s to 0600", path)


def read_private(path: Path) -> tuple[bytes, os.stat_result]:
    """Read a whole file without following a symlink; return its bytes and stat.

    Raises:
        FileNotFoundError: there is no file.
        UnsafePathError: the path is a symlink or not a regular file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == getattr(os, "ELOOP", -1) or (os.path.islink(path)):
            raise UnsafePathError(f"{path} is a symlink; refusing to follow it") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(f"{path} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        if stat.S_IMODE(info.st_mode) & 0o077:
            tighten_file(fd, path)
        return b"".join(chunks), info
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: a 0600 temp file, fsync, ``os.replace``.

    A reader sees the old file or the new one, never a mix; a crash leaves the old
    one and at most a stray temp file beside it.

    Raises:
        UnsafePathError: ``path`` is a symlink or not a regular file.
    """
    check_not_symlink(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have taken bits off; set exactly 0600
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
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
