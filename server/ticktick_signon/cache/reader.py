"""Where the cache file lives, whether it can be trusted, and its one reader.

The token store and ``ticktick-signon token``'s fast path (entry.py) both read
the cache through ``read``; only the token store writes it. Reads take no lock,
because every write replaces the file atomically. Import-light (os, stat, json;
platformdirs only when no folder is given) because ``token`` pays for every
import it makes.

This module owns the rule for private files, and the one code that applies it:
``read_bytes`` (the file rule), ``tighten_folder`` and the modes. The cache
goes through them here; the CLI's ``.env`` file (``private_files.read_private``)
and the folders ``private_files`` creates go through them too.

The rule for the folder and the file (docs/security.md, "Another local user"):

- The folder must be a folder the user owns. It may be a symlink the user made
  (GNU stow and dotfiles managers make them) to a folder the user owns.
- It is kept 0700: a looser folder of the user's is tightened, on reads as on
  writes, and a warning is logged. Only the owner could have put a file there
  that passes the next rule, so what it holds can still be trusted.
- The file must be a regular file (never a symlink) the user owns. If other
  users could write to it, it is refused: its token may be theirs (the
  ``.env`` that ``login --save`` merges into is tightened instead, see
  ``private_files.read_private``). If they could only read it, it is
  tightened to 0600 and a warning is logged.
- The file holds at most ``MAX_PRIVATE_FILE_BYTES``: a cache holds a few KiB,
  a ``.env`` less; a far larger file is none (and must not exhaust memory).
- Anything else is refused with ``Unusable`` saying which path is wrong and why.

Owners and mode bits are POSIX ideas. On Windows the folder lives in the user's
profile, which the profile's ACL keeps private (gh relies on the same), so
those checks are skipped there; the symlink and folder checks still apply.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Mapping

from ticktick_signon.cache.link_guard import UnsafePathError, is_link, open_no_follow, patiently
from ticktick_signon.core.cache_format import check_document

TYPE_CHECKING = False  # typing itself is not imported: `token` pays for every import
if TYPE_CHECKING:
    from typing import Any, TypeVar, overload

    T = TypeVar("T")

ENV_CONFIG_DIR = "TICKTICK_SIGNON_CONFIG_DIR"
APP_NAME = "ticktick-signon"
CACHE_NAME = "config.json"
#: What owner-only means on POSIX, for every private folder and file (Windows has no mode bits).
DIR_MODE = 0o700
FILE_MODE = 0o600

_POSIX = os.name != "nt"
#: A cache holds a few profiles, a few KiB; a file far larger is not one (and must not exhaust memory).
MAX_PRIVATE_FILE_BYTES = 4 << 20
#: O_NONBLOCK: a FIFO planted where the file should be must not hang the reader.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


class Unusable(Exception):
    """A private file (the cache), its folder or its lock cannot be used; ``reason`` says why, in words for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def config_dir(environ: Mapping[str, str]) -> str:
    """Return the cache folder: ``$TICKTICK_SIGNON_CONFIG_DIR``, else platformdirs' user config folder."""
    override = environ.get(ENV_CONFIG_DIR)
    if override:
        return os.path.expanduser(override)
    import platformdirs  # deferred: with the override, `token` needs none of it

    return platformdirs.user_config_dir(APP_NAME, appauthor=False)


def check_folder(directory: str, *, tighten: bool) -> None:
    """Apply the folder rule (module docstring) to ``directory``.

    Args:
        directory: the cache folder.
        tighten: make a loose folder 0700 (and log it); if false, refuse it instead.

    Raises:
        FileNotFoundError: there is no folder there, nor a symlink.
        Unusable: the folder breaks the rule.
    """
    subject = f"its folder {directory}"
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise Unusable(f"{subject} cannot be reached ({_describe(exc)})") from None
    if is_link(info):
        owner = foreign_owner(info)
        if owner:
            raise Unusable(f"{subject} is a symlink that belongs to {owner}")
        subject = f"{subject} is a symlink to {os.path.realpath(directory)}, which"
        try:
            info = os.stat(directory)
        except FileNotFoundError:
            raise Unusable(f"{subject} does not exist") from None
        except OSError as exc:
            raise Unusable(f"{subject} cannot be reached ({_describe(exc)})") from None
    if not stat.S_ISDIR(info.st_mode):
        raise Unusable(f"{subject} is {'a file' if stat.S_ISREG(info.st_mode) else 'something else'}, not a folder")
    owner = foreign_owner(info)
    if owner:
        raise Unusable(f"{subject} belongs to {owner}")
    loose = _POSIX and stat.S_IMODE(info.st_mode) != DIR_MODE
    if loose and tighten:
        try:
            tighten_folder(directory, info)  # through a symlink: the folder it points to, which is the user's
        except OSError as exc:
            raise Unusable(f"{subject} could not be made private ({_describe(exc)})") from None
    elif loose and stat.S_IMODE(info.st_mode) & 0o077:
        raise Unusable(f"{subject} is open to other users")


def tighten_folder(directory: str, info: os.stat_result) -> None:
    """Make a folder of the user's exactly 0700 (POSIX), and log it if other users had access.

    Args:
        directory: the folder (a symlink to it is followed).
        info: its ``stat`` before, which says whether the change is worth a warning.

    Raises:
        OSError: the mode could not be changed.
    """
    os.chmod(directory, DIR_MODE)
    if stat.S_IMODE(info.st_mode) & 0o077:
        _warn("Tightened permissions of %s to 0700", os.path.realpath(directory))


def check_lock(path: str) -> None:
    """Refuse a lock file that is a symlink, not a regular file, or someone else's.

    Raises:
        Unusable: saying which of these it is.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise Unusable(f"its lock file {path} cannot be reached ({_describe(exc)})") from None
    if is_link(info) or not stat.S_ISREG(info.st_mode):
        raise Unusable(f"its lock file {path} is {'a symlink' if is_link(info) else 'not a regular file'}")
    owner = foreign_owner(info)
    if owner:
        raise Unusable(f"its lock file {path} belongs to {owner}")


# The overloads say what `read` and `read_file` return: check_document's dict by default, else what
# `parse` returns (a Cache for the token store). Only type checkers see them (typing stays unimported).
if TYPE_CHECKING:

    @overload
    def read(directory: str, *, tighten: bool) -> tuple[dict[str, Any], os.stat_result]: ...
    @overload
    def read(directory: str, *, tighten: bool, parse: Callable[[object], T]) -> tuple[T, os.stat_result]: ...


def read(
    directory: str, *, tighten: bool, parse: Callable[[object], object] = check_document
) -> tuple[object, os.stat_result]:
    """Read the cache in ``directory``: the folder rule, then ``read_file``.

    Raises:
        FileNotFoundError: there is no folder or no file (nobody has signed in).
        Unusable: the folder or the file breaks the rule, or is not a valid cache.
    """
    check_folder(directory, tighten=tighten)
    return read_file(os.path.join(directory, CACHE_NAME), tighten=tighten, parse=parse)


if TYPE_CHECKING:

    @overload
    def read_file(path: str, *, tighten: bool) -> tuple[dict[str, Any], os.stat_result]: ...
    @overload
    def read_file(path: str, *, tighten: bool, parse: Callable[[object], T]) -> tuple[T, os.stat_result]: ...


def read_file(
    path: str, *, tighten: bool, parse: Callable[[object], object] = check_document
) -> tuple[object, os.stat_result]:
    """Read the cache file through ``read_bytes`` (the file rule), and parse it.

    Args:
        path: the cache file (its folder already checked).
        tighten: make a file only others can read 0600 (and log it); if false, refuse it.
        parse: turns the decoded JSON into the result and raises ``ValueError`` if
            it is not a valid cache; ``cache_format.check_document`` by default,
            ``records.Cache.from_json`` (which applies it) for the token store.

    Returns:
        What ``parse`` returned, and the file's ``stat`` (to notice later changes).

    Raises:
        FileNotFoundError: there is no file.
        Unusable: the file breaks the rule or is not a valid cache.
    """
    try:
        data, info = read_bytes(path, tighten=tighten)
    except FileNotFoundError:
        raise
    except UnsafePathError:
        raise Unusable("it is a symlink") from None
    except OSError as exc:
        raise Unusable(_describe(exc)) from None
    try:
        return parse(json.loads(data)), info
    except RecursionError:
        raise Unusable("not a valid cache: it is nested too deeply") from None
    except UnicodeDecodeError:
        raise Unusable("not a valid cache: it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Unusable(f"not a valid cache: not JSON (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:
        raise Unusable(f"not a valid cache: {exc}") from None


def read_bytes(
    path: str, *, tighten: bool, refuse_writable: bool = True, accept_readable: bool = False
) -> tuple[bytes, os.stat_result]:
    """Open a private file without following a link, hold it to the file rule (module docstring), read it whole.

    The open never blocks (O_NONBLOCK): a FIFO, a device or a socket at ``path`` is
    refused as "not a regular file", never waited on. Every reader of a file that
    another program may have put there (the cache, ``login --save``'s ``.env``, an
    import's token file) goes through here for that reason.

    Args:
        path: the file (its folder is the caller's to check).
        tighten: make a file only others can read 0600 (and log it); if false, refuse it.
        refuse_writable: refuse a file other users can write, because what it holds may be
            theirs (the cache: its token would be served). If false (a file whose content is
            the user's to keep, not trusted), it is treated like one they can only read.
        accept_readable: take a file other users can read (or, without ``refuse_writable``,
            write) as it is, neither tightened nor refused: another program's file, which
            is not ours to change (an import; its caller applies its own mode rule).

    Returns:
        The file's bytes, and its ``stat`` from the open descriptor.

    Raises:
        FileNotFoundError: there is no file.
        UnsafePathError: it is a symlink or a junction.
        Unusable: it breaks the rule: not a regular file, someone else's, writable by other
            users (or readable by them, without ``tighten``), or over ``MAX_PRIVATE_FILE_BYTES``.
        OSError: it cannot be opened or read.
    """
    # Retried on Windows while a writer's replace (or a scanner) holds the file a moment.
    fd = patiently(lambda: open_no_follow(path, _OPEN_FLAGS))
    try:
        info = os.fstat(fd)
        _check_file(fd, info, path, tighten, refuse_writable, accept_readable)
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 16):
            size += len(chunk)
            if size > MAX_PRIVATE_FILE_BYTES:
                raise Unusable(f"it is larger than {MAX_PRIVATE_FILE_BYTES >> 20} MiB")
            chunks.append(chunk)
        return b"".join(chunks), info
    finally:
        os.close(fd)


def _check_file(
    fd: int, info: os.stat_result, path: str, tighten: bool, refuse_writable: bool, accept_readable: bool
) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise Unusable("it is not a regular file")
    owner = foreign_owner(info)
    if owner:
        raise Unusable(f"it belongs to {owner}")
    if not _POSIX:
        return
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022 and refuse_writable:
        raise Unusable(
            f"other users can write to it (mode {mode:04o}), so what it holds may not be yours;"
            " if it is, run chmod 600 on it"
        )
    if mode & 0o077 and not accept_readable:
        if not tighten:
            raise Unusable("other users can read it")
        os.fchmod(fd, FILE_MODE)
        _warn("Tightened permissions of %s to 0600", path)


def foreign_owner(info: os.stat_result) -> str | None:
    """``"<owner>, not to you (<you>)"`` if someone else owns it (POSIX), else None."""
    if not _POSIX or info.st_uid == os.geteuid():
        return None
    return f"{_user_name(info.st_uid)}, not to you ({_user_name(os.geteuid())})"


def _user_name(uid: int) -> str:
    try:
        import pwd

        return f"user {pwd.getpwuid(uid).pw_name}"
    except (ImportError, KeyError):
        return f"user id {uid}"


def _describe(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _warn(message: str, *args: object) -> None:
    import logging  # only when something was fixed: `token`'s fast path never gets here

    logging.getLogger(__name__).warning(message, *args)
