"""Reads LSP base-protocol frames (``Content-Length: N\\r\\n\\r\\n`` + body) from a byte stream.

pygls 2.1's own reader allocates whatever ``Content-Length`` asks for and
drops unparsable frames without a word; this one caps the size, skips what it
refuses without allocating it, and tells the caller so it can answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

#: The largest body accepted; a sign-on message is well under 10 KiB.
MAX_BODY_BYTES = 1 << 20
#: The longest header line read; longer ones are broken headers.
MAX_HEADER_LINE = 4096
_DISCARD_CHUNK = 1 << 16


@dataclass(frozen=True)
class Frame:
    """A whole body, ready to decode."""

    body: bytes


@dataclass(frozen=True)
class BadFrame:
    """A frame that cannot be used; ``reason`` is a sentence for the error reply.

    ``skip`` body bytes still follow on the stream: answer first, then ``skip_body``,
    so a client whose body never comes still gets its error.
    """

    reason: str
    too_large: bool = False
    skip: int = 0


def read_frame(stream: BinaryIO) -> Frame | BadFrame | None:
    """Read the next frame.

    Returns:
        ``Frame`` with its body; ``BadFrame`` when the headers are broken or the
        body is over ``MAX_BODY_BYTES`` (it is read and thrown away, so the stream
        stays in step); ``None`` at end of input.
    """
    length: int | None = None
    broken: str | None = None
    saw_header = False
    while True:
        line = stream.readline(MAX_HEADER_LINE)
        if not line:
            return None
        if not line.endswith(b"\n"):
            broken = "A header line is too long."
            saw_header = True  # so the blank line that ends this block is not taken for one between frames
            continue
        line = line.rstrip(b"\r\n")
        if not line:
            if not saw_header:
                continue  # stray blank lines between frames are harmless
            break
        saw_header = True
        name, sep, value = line.partition(b":")
        if not sep:
            broken = "A header line has no ':'."
        elif name.strip().lower() == b"content-length":
            text = value.strip()
            if not text.isdigit():
                broken = "Content-Length is not a number."
            else:
                length = int(text)
    if broken is None and length is None:
        broken = "The Content-Length header is missing."
    if broken is not None:
        return BadFrame(broken + " Send 'Content-Length: N' then a blank line and N bytes of JSON.", skip=length or 0)
    assert length is not None
    if length > MAX_BODY_BYTES:
        return BadFrame(
            f"The message is {length} bytes and the limit is {MAX_BODY_BYTES}; send smaller messages "
            "(its body is being skipped).",
            too_large=True,
            skip=length,
        )
    body = stream.read(length)
    if len(body) < length:
        return None
    return Frame(body)


def skip_body(stream: BinaryIO, length: int) -> None:
    """Read and drop ``length`` bytes in small reads, never holding more than 64 KiB."""
    while length > 0:
        chunk = stream.read(min(length, _DISCARD_CHUNK))
        if not chunk:
            return
        length -= len(chunk)
