"""The compression-ratio bound of the HTTP/1.1 body decoder (decompression bombs).

Past :data:`RATIO_CHECK_START` decoded bytes, the decoded/wire ratio is checked every 64 KiB
of output; a body over ``max_compression_ratio`` fails with a ``RemoteProtocolError`` that
says it "looks like a decompression bomb". Real bodies, even very repetitive ones, pass;
every split of the wire bytes delivers the same bytes before the error.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import zlib
from functools import cache
from typing import Any, List, Optional, Sequence, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._exceptions import RemoteProtocolError
from openai_proto._http11 import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    RATIO_CHECK_START,
    BodyChunk,
    HTTP11Connection,
    ResponseEnded,
    ResponseStarted,
)

MiB = 1 << 20
PIECE = 64 * 1024  # the decoder's output piece, the step of the ratio check
HOST = [("Host", "api.example.test")]
BOMB = re.compile(
    r"^response body looks like a decompression bomb: \d+ bytes decoded from \d+, "
    r"over max_compression_ratio \(\d+:1\)$"
)
#: Where a body far over the ratio stops: the first check past RATIO_CHECK_START.
TRIP = RATIO_CHECK_START + PIECE


@cache
def zeros(size: int, coding: str = "gzip") -> bytes:
    """``size`` zero bytes compressed with ``coding``: about 1000:1, deflate's best."""
    if coding == "gzip":
        return gzip.compress(bytes(size), 9)
    wbits = zlib.MAX_WBITS if coding == "deflate" else -zlib.MAX_WBITS
    obj = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return obj.compress(bytes(size)) + obj.flush()


@cache
def repetitive_stream() -> Tuple[bytes, bytes]:
    """~24 MiB of chat-completion SSE events whose text uses 20 words, gzip-compressed:
    as repetitive as a real stream gets (real ones compress about 40-65:1)."""
    words = "the of and to in is you that it he was for on are as with his they at be".split()
    rng = random.Random(6)
    parts: List[str] = []
    for _ in range(110_000):
        delta = {"content": " " + rng.choice(words)}
        event = {
            "id": "chatcmpl-AbCdEf0123456789",
            "object": "chat.completion.chunk",
            "created": 1712345678,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0ba0d124f1",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
        parts.append(f"data: {json.dumps(event)}\n\n")
    body = "".join(parts).encode()
    return body, gzip.compress(body, 9)


def head(coding: str, length: int) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def decode(
    wire: bytes, coding: str = "gzip", cuts: Sequence[int] = (), **limits: Any
) -> Tuple[int, Optional[RemoteProtocolError], HTTP11Connection]:
    """Feed a response with body ``wire`` (cut at ``cuts``); the decoded bytes delivered,
    and the error that stopped it (``None`` when the body ended cleanly)."""
    conn = HTTP11Connection(max_body_size=None, **limits)
    conn.send_request("GET", "/", HOST, None)
    data = head(coding, len(wire)) + wire
    delivered = 0
    start = 0
    try:
        for cut in [*sorted({c for c in cuts if 0 < c < len(data)}), len(data)]:
            conn.receive_data(data[start:cut])
            start = cut
            for _ in range(1_000_000):
                event = conn.next_event()
                if isinstance(event, BodyChunk):
                    delivered += len(event.data)
                elif isinstance(event, ResponseEnded):
                    return delivered, None, conn
                elif not isinstance(event, ResponseStarted):
                    break  # NEED_DATA
    except RemoteProtocolError as exc:
        return delivered, exc, conn
    raise AssertionError("the body neither ended nor failed")


# -- the bound trips ---------------------------------------------------------------------


def test_the_default_is_well_above_real_bodies_and_below_a_bomb() -> None:
    assert DEFAULT_MAX_COMPRESSION_RATIO == 200
    assert RATIO_CHECK_START == 8 * MiB
    assert RATIO_CHECK_START % PIECE == 0
    wire = zeros(16 * MiB)
    assert 16 * MiB / len(wire) > 1000 > DEFAULT_MAX_COMPRESSION_RATIO


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_a_bomb_stops_at_the_first_check_past_the_start(coding: str) -> None:
    wire = zeros(64 * MiB, coding)
    delivered, error, conn = decode(wire, "deflate" if coding == "raw-deflate" else coding)
    assert error is not None and BOMB.match(str(error)), error
    assert delivered == TRIP
    with pytest.raises(RemoteProtocolError, match="decompression bomb"):
        conn.next_event()  # terminal


def test_stacked_codings_count_as_one_ratio() -> None:
    """Each layer stays far below max_decompressed_size; the overall ratio is what trips."""
    wire = gzip.compress(zeros(32 * MiB), 9)
    assert 32 * MiB / len(wire) > 10_000
    delivered, error, _ = decode(wire, "gzip, gzip")
    assert error is not None and BOMB.match(str(error)), error
    assert delivered == TRIP


def test_a_body_ending_exactly_at_a_failed_check_still_fails() -> None:
    """The check at TRIP fails whether or not more output follows."""
    delivered, error, _ = decode(zeros(TRIP))
    assert delivered == TRIP
    assert error is not None and BOMB.match(str(error)), error


def test_the_error_names_the_sizes_and_the_limit() -> None:
    _, error, _ = decode(zeros(64 * MiB), max_compression_ratio=150)
    assert error is not None
    match = re.search(
        r"(\d+) bytes decoded from (\d+), over max_compression_ratio \(150:1\)", str(error)
    )
    assert match is not None, error
    decoded, consumed = int(match[1]), int(match[2])
    assert decoded == TRIP and decoded > 150 * consumed


# -- legitimate bodies pass ------------------------------------------------------------------


@pytest.mark.parametrize("size", [RATIO_CHECK_START, TRIP - 1])
def test_a_small_body_passes_whatever_its_ratio(size: int) -> None:
    """Up to the first check, any ratio passes: no worse than a plain body of that size."""
    delivered, error, _ = decode(zeros(size))
    assert error is None and delivered == size


def test_a_long_and_very_repetitive_stream_passes() -> None:
    body, wire = repetitive_stream()
    ratio = len(body) / len(wire)
    assert len(body) > 2 * RATIO_CHECK_START
    assert 100 < ratio < DEFAULT_MAX_COMPRESSION_RATIO  # highly compressible, under the bound
    delivered, error, _ = decode(wire, cuts=range(0, len(wire), 16 * 1024))
    assert error is None and delivered == len(body)


@pytest.mark.parametrize("ratio", [None, 2000.0])
def test_the_bound_can_be_raised_or_turned_off(ratio: Optional[float]) -> None:
    delivered, error, _ = decode(zeros(32 * MiB), max_compression_ratio=ratio)
    assert error is None and delivered == 32 * MiB


def test_a_low_bound_stops_an_ordinary_body() -> None:
    """The bound is a ratio, not a size: text compressing ~130:1 trips a 50:1 limit."""
    _, wire = repetitive_stream()
    delivered, error, _ = decode(wire, max_compression_ratio=50)
    assert error is not None and BOMB.match(str(error)), error
    assert delivered == TRIP


# -- split invariance ------------------------------------------------------------------------


def test_whole_and_byte_by_byte_deliver_the_same_before_the_error() -> None:
    wire = zeros(16 * MiB)
    size = len(head("gzip", len(wire)) + wire)
    results = [decode(wire), decode(wire, cuts=range(size))]
    for delivered, error, _ in results:
        assert error is not None and BOMB.match(str(error)), error
        assert delivered == TRIP


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=20_000), max_size=40))
def test_every_split_delivers_the_same_before_the_error(cuts: List[int]) -> None:
    delivered, error, _ = decode(zeros(16 * MiB), cuts=cuts)
    assert error is not None and BOMB.match(str(error)), error
    assert delivered == TRIP


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=200_000), max_size=30))
def test_every_split_of_a_legit_stream_passes(cuts: List[int]) -> None:
    body, wire = repetitive_stream()
    delivered, error, _ = decode(wire, cuts=cuts)
    assert error is None and delivered == len(body)
