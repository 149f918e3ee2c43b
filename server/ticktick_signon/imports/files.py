"""The disk edge of an import: reads another tool's token file, size-capped, as text.

What the text means is ``formats``'s business; errors here name the file and
the operating system's reason, never its content. The file is read through
the cache's own reader (``cache.reader.read_bytes``): never blocking in
``open()`` (a FIFO or a device is refused, not waited on: a helper's worker
must never hang, nor read the protocol stream through ``/dev/stdin``), and held
to the owner rule of the cache, because a token in another user's file may be
theirs. The rule for imports (docs/security.md, "Importing another tool's
token") differs from the cache's in two points, both because the file is
another program's, not ours to change:

- A file other users can read is read as it is (not tightened); one every
  user can write (o+w) is refused, as the cache refuses it. Group-writable
  files are read: under a umask of 002 the group is the user's own.
- A symlink is followed if the user owns it (dotfiles managers make them);
  one that belongs to someone else (``/dev/stdin`` is root's) is refused. The
  file it leads to is then held to the same rules.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ticktick_signon.cache import reader
from ticktick_signon.cache.link_guard import UnsafePathError, is_link
from ticktick_signon.errors import InvalidParams
from ticktick_signon.imports.formats import MAX_FILE_BYTES

_POSIX = os.name != "nt"


def read_token_file(path: Path) -> str:
    """Return the text of the token file at ``path`` (UTF-8, a byte-order mark allowed).

    Raises:
        InvalidParams: it cannot be read, is not a regular file, belongs to another user
            (or is a symlink that does), every user can write to it, is too big to be a
            token file, is not UTF-8 text, or ``path`` is no path the system can open
            (a NUL byte, a lone surrogate); ``data.field`` is ``"path"``.
    """
    try:
        raw = _read(path)
    except ValueError:  # os.* refuse a NUL byte (ValueError) or a lone surrogate (UnicodeEncodeError)
        raise _bad(path, "is not a path this system can open (it holds a NUL byte or an invalid character)") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _bad(path, f"is over {MAX_FILE_BYTES // 1024} KiB, too big to be a token file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(path, "is not UTF-8 text") from None


def _read(path: Path) -> bytes:
    """The file's bytes, under the module docstring's rules."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    target = os.fspath(path)
    if is_link(info):
        owner = reader.foreign_owner(info)
        if owner:
            raise _bad(path, f"is a symlink that belongs to {owner}, so it is not followed")
        target = os.path.realpath(target)
    try:
        # Through the path itself, not its realpath: /proc/self/fd/0 leads to a pipe that has no path.
        # stat never blocks, whatever it finds; read_bytes checks the open file again.
        followed = os.stat(path)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if stat.S_ISDIR(followed.st_mode):  # before open(): Windows says "Permission denied" for a folder
        raise _bad(path, "is a folder, not a token file")
    if not stat.S_ISREG(followed.st_mode):
        raise _bad(path, "is not a regular file (a pipe, a device or a socket), so it is not read")
    try:
        data, opened = reader.read_bytes(target, tighten=False, refuse_writable=False, accept_readable=True)
    except reader.Unusable as exc:
        raise _bad(path, exc.reason.removeprefix("it ")) from None
    except UnsafePathError:
        raise _bad(path, "was replaced by a symlink while it was read") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    mode = stat.S_IMODE(opened.st_mode)
    if _POSIX and mode & stat.S_IWOTH:
        raise _bad(
            path,
            f"can be written by every user (mode {mode:04o}), so the token it holds may not be yours; "
            "if it is, run chmod o-w on it",
        )
    return data


def _unreadable(path: Path, exc: OSError) -> InvalidParams:
    return _bad(path, f"cannot be read ({exc.strerror or type(exc).__name__})")


def _bad(path: Path, problem: str) -> InvalidParams:
    return InvalidParams(f"Cannot import from {path}: it {problem}.", field="path")
