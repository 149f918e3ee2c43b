"""The tests' own frame tools (tests/support/rpc.py): what they accept is exactly well-formed helper output.

Every suite that checks the helper's stdout relies on ``split_frames`` failing on
a stray byte, so its strictness is proven here rather than assumed.
"""

from __future__ import annotations

import io

import pytest

from tests.support.rpc import encode_body, encode_frame, read_message, split_frames

ONE = {"jsonrpc": "2.0", "id": 1, "result": {}}
TWO = {"jsonrpc": "2.0", "method": "tokenChanged", "params": {"profile": "default"}}


def test_encoded_frames_read_back_one_by_one_and_as_a_whole() -> None:
    data = encode_frame(ONE) + encode_frame(TWO)
    stream = io.BytesIO(data)
    assert [read_message(stream), read_message(stream), read_message(stream)] == [ONE, TWO, None]
    assert split_frames(data) == [ONE, TWO]
    assert split_frames(b"Content-Type: application/json\r\n" + encode_frame(ONE)) == [ONE]


@pytest.mark.parametrize(
    "broken",
    [
        b"\r\n" + encode_frame(ONE),  # a blank line before a frame: read_frame forgives it, the helper may not send it
        encode_frame(ONE) + b"Content-Length: 99\r\n\r\n{}",  # a body shorter than announced
        encode_frame(ONE)[:-1],  # the output cut short
        b"Content-Length 2\r\n\r\n{}",  # a header line without ':'
        encode_body(b"{not json"),
    ],
)
def test_split_frames_refuses_any_byte_that_is_not_a_well_formed_frame(broken: bytes) -> None:
    with pytest.raises((AssertionError, ValueError)):
        split_frames(broken)


def test_read_message_refuses_a_broken_frame() -> None:
    with pytest.raises(AssertionError, match="broken frame"):
        read_message(io.BytesIO(b"Content-Length: x\r\n\r\n"))
