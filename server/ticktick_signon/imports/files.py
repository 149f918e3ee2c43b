"""The disk edge of an import: reads another tool's token file, size-capped, as text.

What the text means is ``token_formats``'s business; errors here name the file
and the operating system's reason, never its content.
"""

from __future__ import annotations

from pathlib import Path

from ticktick_signon.errors import InvalidParams
from ticktick_signon.imports.formats import MAX_FILE_BYTES


def read_token_file(path: Path) -> str:
    """Return the text of the token file at ``path`` (UTF-8, a byte-order mark allowed).

    Raises:
        InvalidParams: it cannot be read, is not a regular file, is too big
            to be a token file, or is not UTF-8 text; ``data.field`` is ``"path"``.
    """
    if path.is_dir():  # before open(): Windows says "Permission denied" for a folder
        raise _bad(path, "is a folder, not a token file")
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _bad(path, f"is over {MAX_FILE_BYTES // 1024} KiB, too big to be a token file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(path, "is not UTF-8 text") from None


def _bad(path: Path, problem: str) -> InvalidParams:
    return InvalidParams(f"Cannot import from {path}: it {problem}.", field="path")
