"""The token cache: the only code that writes the shared cache file, and its in-memory copy.

One JSON file (``config.json``) in a 0700 folder, 0600 itself; every write
happens under a filelock and lands with ``os.replace``, so readers in other
processes never see a torn file and need no lock. Reads go through
``reader.read_file``, the cache's one reader, which ``ticktick-signon
token``'s fast path uses too; the folder rule (``reader.check_folder``)
runs on every read and write. Parsed reads are kept in memory and revalidated
with one ``stat``; a file changed within the last seconds is re-read anyway,
because two writes in one filesystem-timestamp tick can look identical to
``stat`` (git's "racy clean" problem). "Within the last seconds" is judged
by the monotonic clock (how long this process has seen the file unchanged),
so a file whose mtime lies in the future (a clock set back, a copied file)
is not re-parsed on every look (docs/reliability.md).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from ticktick_signon.cache import reader
from ticktick_signon.cache.link_guard import UnsafePathError
from ticktick_signon.cache.private_files import ensure_private_dir, write_private
from ticktick_signon.cache.reader import CACHE_NAME
from ticktick_signon.core.records import Cache
from ticktick_signon.errors import ConfigUnreadable

log = logging.getLogger(__name__)
#: A lock held longer than this is reported instead of waited on forever.
LOCK_TIMEOUT_SECONDS = 15.0
#: Files modified more recently than this are always re-read (see module docstring).
RACY_SECONDS = 2.0

T = TypeVar("T")
_StatKey = tuple[int, int, int, int]


def default_config_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the cache folder: ``$TICKTICK_SIGNON_CONFIG_DIR``, else platformdirs' user config dir."""
    return Path(reader.config_dir(environ))


def _key(info: os.stat_result) -> _StatKey:
    return (info.st_ino, info.st_mtime_ns, info.st_size, info.st_ctime_ns)


class TokenStore:
    """Reads and writes the cache document; safe across threads and processes."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.path = self.directory / CACHE_NAME
        self.lock_path = self.directory / f"{CACHE_NAME}.lock"
        self._clock = clock
        self._mutex = threading.Lock()
        #: The last parse: the file's stat key, the document, and when (monotonic) that key was first read.
        self._cached: tuple[_StatKey, Cache, float] | None = None

    def _unreadable(self, reason: str) -> ConfigUnreadable:
        return ConfigUnreadable(
            f"The cache file {self.path} cannot be used ({reason}); fix or remove it, then try again.",
            path=str(self.path),
        )

    def _load(self) -> Cache:
        """Read and parse the file (its folder already checked); an unusable file is left as it is."""
        try:
            cache, info = reader.read_file(str(self.path), tighten=True, parse=Cache.from_json)
        except FileNotFoundError:
            return Cache()
        except reader.Unusable as exc:
            raise self._unreadable(exc.reason) from None
        key = _key(info)
        with self._mutex:
            # The same key read again keeps the moment it was first read: stable since then.
            first_read = self._cached[2] if self._cached is not None and self._cached[0] == key else time.monotonic()
            self._cached = (key, cache, first_read)
        return cache

    def read(self) -> Cache:
        """Return the current cache document (empty if there is no file).

        Raises:
            ConfigUnreadable: the file or its folder cannot be used, or it is not a valid cache.
        """
        try:
            # On every read, the cached one too: a folder loosened since is tightened now.
            reader.check_folder(str(self.directory), tighten=True)
        except FileNotFoundError:
            return Cache()
        except reader.Unusable as exc:
            raise self._unreadable(exc.reason) from None
        with self._mutex:
            cached = self._cached
        if cached is not None:
            try:
                info = os.stat(self.path, follow_symlinks=False)
            except FileNotFoundError:
                return Cache()
            except OSError:
                info = None
            if info is not None and _key(info) == cached[0] and self._settled(info, cached[2]):
                return cached[1]
        return self._load()

    def _settled(self, info: os.stat_result, first_read: float) -> bool:
        """Whether a file unchanged since ``first_read`` (monotonic) can no longer hide a write in its mtime tick.

        Either its mtime is seconds old by the wall clock, or this process has read the
        same stat key for seconds by the monotonic clock: a write in the same tick since
        would have been read in between. The second holds whatever the mtime says (one
        in the future, or a wall clock that jumped back).
        """
        return self._clock() - info.st_mtime > RACY_SECONDS or time.monotonic() - first_read > RACY_SECONDS

    def _prepare_folder(self) -> None:
        """Create the folder 0700 if it is missing; hold an existing one to the folder rule."""
        try:
            reader.check_folder(str(self.directory), tighten=True)
        except FileNotFoundError:
            try:
                ensure_private_dir(self.directory)
            except UnsafePathError:  # something else appeared there meanwhile: judge it by the rule
                reader.check_folder(str(self.directory), tighten=True)

    def _sweep_temp_files(self) -> None:
        # Temp files are only ever written under the lock we hold, so any left
        # now belong to a writer that died between create and replace.
        prefix = f".{CACHE_NAME}."
        for entry in os.scandir(self.directory):
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                try:
                    os.unlink(entry.path)
                    log.info("Removed %s, left by a writer that stopped mid-write", entry.name)
                except OSError:
                    pass

    def update(self, change: Callable[[Cache], tuple[Cache, T]]) -> T:
        """Apply ``change`` to the freshest document under the lock and save what it returns.

        Args:
            change: takes the current document, returns ``(new document, result)``.
                It runs under the cross-process lock, so keep it pure and quick.

        Returns:
            The ``result`` part of what ``change`` returned.

        Raises:
            ConfigUnreadable: the file (or its folder or lock) cannot be used;
                the file is left untouched.
        """
        from filelock import FileLock, Timeout  # deferred: readers never need it

        try:
            self._prepare_folder()
            reader.check_lock(str(self.lock_path))
        except reader.Unusable as exc:
            raise self._unreadable(exc.reason) from None
        except OSError as exc:
            raise self._unreadable(exc.strerror or type(exc).__name__) from None
        try:
            with FileLock(self.lock_path, timeout=LOCK_TIMEOUT_SECONDS, mode=0o600):
                current = self._load()
                new, result = change(current)
                if new != current:
                    self._sweep_temp_files()
                    data = json.dumps(new.to_json(), indent=2, sort_keys=True).encode() + b"\n"
                    try:
                        write_private(self.path, data)
                    except UnsafePathError:
                        raise self._unreadable("it is a symlink or not a regular file") from None
                    except OSError as exc:  # a full disk, a read-only filesystem: the old file stays whole
                        raise self._unreadable(f"writing failed: {exc.strerror or type(exc).__name__}") from None
                    with self._mutex:
                        self._cached = None
        except Timeout:  # before OSError: filelock's Timeout is one
            raise self._unreadable(
                f"another process has held its lock for over {LOCK_TIMEOUT_SECONDS:.0f} seconds"
            ) from None
        except OSError as exc:  # the lock file itself cannot be opened
            raise self._unreadable(exc.strerror or type(exc).__name__) from None
        return result
