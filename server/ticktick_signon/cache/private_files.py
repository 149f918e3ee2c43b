"""Owner-only folders and files, written atomically and never through a symlink or junction.

Used by the token store (the cache) and by the CLI's ``--save`` (a pyticktick
``.env`` file): both hold secrets. On POSIX, owner-only means modes 0700/0600;
Windows has no mode bits, and the files are private through the ACL of the
user's profile folder they live in (docs/security.md).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from ticktick_signon.cache.link_guard import WINDOWS, UnsafePathError, is_link, open_no_follow, patiently, refused

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


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
        os.chmod(path, DIR_MODE)
        if stat.S_IMODE(info.st_mode) & 0o077:
            log.warning("Tightened permissions of %s to 0700", path)


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


def tighten_file(fd: int, path: Path) -> None:
    """Make an open file 0600 if it is readable by others, and log that we did (POSIX only)."""
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    if mode != FILE_MODE:
        os.fchmod(fd, FILE_MODE)
        if mode & 0o077:
            log.warning("Tightened permissions of %s to 0600", path)


def read_private(path: Path) -> tuple[bytes, os.stat_result]:
    """Read a whole file without following a symlink or junction; return its bytes and stat.

    Raises:
        FileNotFoundError: there is no file.
        UnsafePathError: the path is a symlink, a junction or not a regular file.
    """
    fd = patiently(lambda: open_no_follow(path, os.O_RDONLY))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(f"{path} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        if not WINDOWS and stat.S_IMODE(info.st_mode) & 0o077:
            tighten_file(fd, path)
        return b"".join(chunks), info
    finally:
        os.close(fd)


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
