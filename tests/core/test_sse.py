"""The SSE decoder against WHATWG HTML §9.2.5-§9.2.6, fed whole, split and byte by byte."""

from __future__ import annotations

import time
from typing import List, Optional, Sequence, Tuple

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._exceptions import LocalProtocolError, RemoteProtocolError
from openai_proto.sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

E = ServerSentEvent

# (name, stream, expected events, expected last_event_id, expected reconnection time)
Vector = Tuple[str, bytes, List[ServerSentEvent], str, Optional[int]]

VECTORS: List[Vector] = [
    ("simple", b"data: hello\n\n", [E(data="hello")], "", None),
    ("two events", b"data: a\n\ndata: b\n\n", [E(data="a"), E(data="b")], "", None),
    ("multi-line data", b"data: a\ndata: b\n\n", [E(data="a\nb")], "", None),
    ("CR line ends", b"data: a\rdata: b\r\r", [E(data="a\nb")], "", None),
    ("CRLF line ends", b"data: a\r\ndata: b\r\n\r\n", [E(data="a\nb")], "", None),
    ("mixed line ends", b"data: a\rdata: b\r\ndata: c\n\r\n", [E(data="a\nb\nc")], "", None),
    ("CR CR is two line ends", b"data: a\r\rdata: b\r\n\r\n", [E(data="a"), E(data="b")], "", None),
    ("LF CR is two line ends", b"data: a\n\rdata: b\n\n", [E(data="a"), E(data="b")], "", None),
    ("CRLF then LF dispatches", b"data: a\r\n\n", [E(data="a")], "", None),
    ("comment", b": hi\ndata: x\n:another: one\n\n", [E(data="x")], "", None),
    ("comment-only block", b": keep-alive\n\n:\n\n", [], "", None),
    ("field without colon", b"data\n\n", [E(data="")], "", None),
    ("exactly one LF removed", b"data\ndata\n\n", [E(data="\n")], "", None),
    ("empty last data line", b"data: a\ndata:\n\n", [E(data="a\n")], "", None),
    ("no space after colon", b"data:x\n\n", [E(data="x")], "", None),
    ("one space stripped", b"data:  two\n\n", [E(data=" two")], "", None),
    ("tab kept", b"data:\ttab\n\n", [E(data="\ttab")], "", None),
    ("colon in value", b"data: a:b: c\n\n", [E(data="a:b: c")], "", None),
    ("event name", b"event: add\ndata: 1\n\n", [E(event="add", data="1")], "", None),
    ("empty event name", b"event:\ndata: 1\n\n", [E(data="1")], "", None),
    ("bare event field", b"event\ndata: 1\n\n", [E(data="1")], "", None),
    (
        "event type resets after dispatch",
        b"event: a\ndata: 1\n\ndata: 2\n\n",
        [E(event="a", data="1"), E(data="2")],
        "",
        None,
    ),
    ("event type dropped by dataless block", b"event: a\n\ndata: 2\n\n", [E(data="2")], "", None),
    ("last event wins", b"event: a\nevent: b\ndata: 1\n\n", [E(event="b", data="1")], "", None),
    (
        "id persists",
        b"id: 1\ndata: a\n\ndata: b\n\n",
        [E(data="a", id="1"), E(data="b", id="1")],
        "1",
        None,
    ),
    ("id-only block commits the id", b"id: 7\n\n", [], "7", None),
    ("id-only block then data", b"id: 7\n\ndata: x\n\n", [E(data="x", id="7")], "7", None),
    ("id with NUL ignored", b"id: 1\n\nid: a\x00b\ndata: x\n\n", [E(data="x", id="1")], "1", None),
    ("id with NUL at the end ignored", b"id: 1\x00\ndata: x\n\n", [E(data="x")], "", None),
    (
        "empty id resets",
        b"id: 1\ndata: a\n\nid\ndata: b\n\n",
        [E(data="a", id="1"), E(data="b")],
        "",
        None,
    ),
    (
        "id: resets",
        b"id: 1\ndata: a\n\nid:\ndata: b\n\n",
        [E(data="a", id="1"), E(data="b")],
        "",
        None,
    ),
    ("id of unterminated block not committed", b"id: 1\n\nid: 2\ndata: x\n", [], "1", None),
    ("id non-ASCII", b"id: \xc3\xa9\ndata: x\n\n", [E(data="x", id="\xe9")], "\xe9", None),
    ("retry", b"retry: 1000\ndata: x\n\n", [E(data="x", retry=1000)], "", 1000),
    ("retry leading zeros", b"retry: 03000\ndata: x\n\n", [E(data="x", retry=3000)], "", 3000),
    ("retry zero", b"retry: 0\ndata: x\n\n", [E(data="x", retry=0)], "", 0),
    (
        "retry is per block",
        b"retry: 5\ndata: x\n\ndata: y\n\n",
        [E(data="x", retry=5), E(data="y")],
        "",
        5,
    ),
    ("retry-only block", b"retry: 5\n\n", [], "", 5),
    ("retry with letter", b"retry: 1000x\ndata: x\n\n", [E(data="x")], "", None),
    ("retry two spaces", b"retry:  1000\ndata: x\n\n", [E(data="x")], "", None),
    ("retry trailing space", b"retry: 1000 \ndata: x\n\n", [E(data="x")], "", None),
    ("retry empty", b"retry:\ndata: x\n\nretry\ndata: y\n\n", [E(data="x"), E(data="y")], "", None),
    ("retry negative", b"retry: -1\ndata: x\n\n", [E(data="x")], "", None),
    ("retry exponent", b"retry: 1e3\ndata: x\n\n", [E(data="x")], "", None),
    (
        "retry non-ASCII digits",
        "retry: \u0661\u0662\ndata: x\n\n".encode(),
        [E(data="x")],
        "",
        None,
    ),
    (
        "bogus retry keeps the earlier value",
        b"retry: 3000\n\nretry: 1000x\ndata: x\n\n",
        [E(data="x")],
        "",
        3000,
    ),
    ("retry at 2**64-1", b"retry: 18446744073709551615\n\n", [], "", 2**64 - 1),
    ("retry overflowing 64 bits", b"retry: 18446744073709551616\n\n", [], "", None),
    ("retry with many digits", b"retry: " + b"9" * 5000 + b"\n\n", [], "", None),
    ("retry zeros then digits", b"retry: " + b"0" * 5000 + b"12\n\n", [], "", 12),
    (
        "unknown and case-variant fields ignored",
        b"Data: x\n data: y\ndata\x00: z\nfoo: bar\nDATA\n\n",
        [],
        "",
        None,
    ),
    ("BOM stripped", b"\xef\xbb\xbfdata: x\n\n", [E(data="x")], "", None),
    ("BOM alone", b"\xef\xbb\xbf", [], "", None),
    ("BOM then blank line", b"\xef\xbb\xbf\ndata: x\n\n", [E(data="x")], "", None),
    (
        "only one BOM stripped",
        b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n",
        [E(data="y")],
        "",
        None,
    ),
    ("BOM later is text", b"data: x\n\n\xef\xbb\xbfdata: y\n\n", [E(data="x")], "", None),
    ("BOM in a value", b"data: \xef\xbb\xbfz\n\n", [E(data="\ufeffz")], "", None),
    ("partial BOM is text", b"\xef\xbbdata: x\n\ndata: y\n\n", [E(data="y")], "", None),
    (
        "UTF-8",
        b"data: ok\xe2\x82\xac \xf0\x9f\x98\x80\n\n",
        [E(data="ok\u20ac \U0001f600")],
        "",
        None,
    ),
    ("invalid UTF-8", b"data: a\xffb\n\n", [E(data="a\ufffdb")], "", None),
    (
        "truncated sequence at line end",
        b"data: \xe2\x82\ndata: x\n\n",
        [E(data="\ufffd\nx")],
        "",
        None,
    ),
    ("encoded surrogate", b"data: \xed\xa0\x80\n\n", [E(data="\ufffd\ufffd\ufffd")], "", None),
    (
        "invalid UTF-8 in event name",
        b"event: \xff\ndata: 1\n\n",
        [E(event="\ufffd", data="1")],
        "",
        None,
    ),
    ("NUL in data", b"data: a\x00b\n\n", [E(data="a\x00b")], "", None),
    (
        "only CR and LF end lines",
        b"data: a\xe2\x80\xa8b\x0bc\x0cd\xc2\x85e\xe2\x80\xa9f\n\n",
        [E(data="a\u2028b\x0bc\x0cd\x85e\u2029f")],
        "",
        None,
    ),
    ("leading blank lines", b"\n\n\r\n\rdata: x\n\n", [E(data="x")], "", None),
    (
        "many blank lines between",
        b"data: a\n\n\n\n\r\r\ndata: b\n\n",
        [E(data="a"), E(data="b")],
        "",
        None,
    ),
    ("no final blank line", b"data: x\n", [], "", None),
    ("no final line end", b"data: x", [], "", None),
    ("final CR is a line end", b"data: x\r", [], "", None),
    ("final CR CR dispatches", b"data: x\r\r", [E(data="x")], "", None),
    ("empty stream", b"", [], "", None),
    # wpt eventsource/format-*.htm and event-data.html vectors (quoted in the notes)
    (
        "wpt format-field-parsing",
        b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n",
        [E(data="\x00\n 2\n1\n3\n\n4")],
        "",
        None,
    ),
    ("wpt format-leading-space", b"data:\t1\ndata: 2\ndata:3\n\n", [E(data="\t1\n2\n3")], "", None),
    (
        "wpt format-newlines",
        b"data:test\r\ndata\ndata:test\r\n\r\n",
        [E(data="test\n\ntest")],
        "",
        None,
    ),
    (
        "wpt format-field-unknown",
        b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n",
        [E(data="test\n\ntest")],
        "",
        None,
    ),
    (
        "wpt format-data-before-final-empty-line",
        b"retry:1000\ndata:test1\n\nid:test\ndata:test2",
        [E(data="test1", retry=1000)],
        "",
        1000,
    ),
    ("wpt format-field-event-empty", b"event: \ndata:data\n\n", [E(data="data")], "", None),
    ("wpt format-null-character", b"data:\x00\n\n", [E(data="\x00")], "", None),
    ("wpt format-utf-8", b"data:ok\xe2\x80\xa6\n\n", [E(data="ok\u2026")], "", None),
    (
        "wpt format-bom",
        b"\xef\xbb\xbfdata:1\n\n\xef\xbb\xbfdata:2\n\ndata:3\n\n",
        [E(data="1"), E(data="3")],
        "",
        None,
    ),
    (
        "wpt format-bom-2",
        b"\xef\xbb\xbf\xef\xbb\xbfdata:1\n\ndata:2\n\ndata:3\n\n",
        [E(data="2"), E(data="3")],
        "",
        None,
    ),
    ("wpt event-data", b"data:msg\ndata:msg\n\n", [E(data="msg\nmsg")], "", None),
    (
        "wpt format-field-retry-bogus",
        b"retry:3000\nretry:1000x\ndata:x\n\n",
        [E(data="x", retry=3000)],
        "",
        3000,
    ),
    (
        "wpt format-comments",
        b"data:1\r:\x00\n:\r\ndata:2\n:"
        + b"x" * 4000
        + b"\rdata:3\n:data:fail\r:"
        + b"y" * 4000
        + b"\ndata:4\n\n",
        [E(data="1\n2\n3\n4")],
        "",
        None,
    ),
    (
        "sse-starlette style with id, event and retry",
        b"id: 1\r\nevent: ping\r\nretry: 15000\r\ndata: a\r\n\r\n: ping - 2024\r\n\r\n",
        [E(event="ping", data="a", id="1", retry=15000)],
        "1",
        15000,
    ),
]


def decode(pieces: Sequence[bytes], **kwargs: int) -> Tuple[List[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder(**kwargs)
    events: List[ServerSentEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.end())
    return events, decoder


def split_at(data: bytes, cuts: Sequence[int]) -> List[bytes]:
    bounds = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


IDS = [v[0] for v in VECTORS]


@pytest.mark.parametrize(("name", "stream", "expected", "last_id", "retry"), VECTORS, ids=IDS)
def test_vector_whole(
    name: str, stream: bytes, expected: List[ServerSentEvent], last_id: str, retry: Optional[int]
) -> None:
    events, decoder = decode([stream])
    assert events == expected
    assert decoder.last_event_id == last_id
    assert decoder.retry == retry


@pytest.mark.parametrize(("name", "stream", "expected", "last_id", "retry"), VECTORS, ids=IDS)
def test_vector_split_everywhere(
    name: str, stream: bytes, expected: List[ServerSentEvent], last_id: str, retry: Optional[int]
) -> None:
    assert decode([bytes([b]) for b in stream])[0] == expected
    if len(stream) <= 400:
        for i in range(len(stream) + 1):
            events, decoder = decode([stream[:i], stream[i:]])
            assert events == expected, f"split at {i}"
            assert (decoder.last_event_id, decoder.retry) == (last_id, retry)
    if len(stream) <= 80:
        for i in range(len(stream) + 1):
            for j in range(i, len(stream) + 1):
                assert decode([stream[:i], stream[i:j], stream[j:]])[0] == expected


@settings(max_examples=200, deadline=None)
@given(
    vector=st.sampled_from(VECTORS),
    cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=30),
)
def test_vector_random_splits(vector: Vector, cuts: List[int]) -> None:
    _, stream, expected, last_id, retry = vector
    events, decoder = decode(split_at(stream, [c % (len(stream) + 1) for c in cuts]))
    assert events == expected
    assert (decoder.last_event_id, decoder.retry) == (last_id, retry)


@settings(max_examples=100, deadline=None)
@given(
    vectors=st.lists(st.sampled_from(VECTORS[:-20]), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=5_000), max_size=20),
)
def test_concatenated_vectors_random_splits(vectors: List[Vector], cuts: List[int]) -> None:
    stream = b"".join(v[1] for v in vectors)
    whole = decode([stream])
    split = decode(split_at(stream, [c % (len(stream) + 1) for c in cuts]))
    assert split[0] == whole[0]
    assert (split[1].last_event_id, split[1].retry) == (whole[1].last_event_id, whole[1].retry)


def test_event_fields_and_json() -> None:
    [event] = SSEDecoder().feed(b'event: x\nid: 9\nretry: 10\ndata: {"a": [1, 2]}\n\n')
    assert (event.event, event.id, event.retry) == ("x", "9", 10)
    assert event.json() == {"a": [1, 2]}
    with pytest.raises(AttributeError):
        event.data = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ServerSentEvent("message", "x")  # type: ignore[call-arg]
    assert ServerSentEvent() == ServerSentEvent(event="message", data="", id="", retry=None)
    with pytest.raises(msgspec.DecodeError):
        ServerSentEvent(data="not json").json()


def test_events_come_out_as_soon_as_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b\n") == [E(data="a")]
    assert decoder.feed(b"\r") == [E(data="b")]  # a CR is a line end at once
    assert decoder.feed(b"\ndata: c\n\n") == [E(data="c")]  # ... and its LF is swallowed


def test_last_event_id_is_committed_at_dispatch() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\ndata: a\n")
    assert decoder.last_event_id == ""
    decoder.feed(b"\n")
    assert decoder.last_event_id == "1"


def test_accepts_bytearray_and_memoryview() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(bytearray(b"data: a\n\n")) == [E(data="a")]  # type: ignore[arg-type]
    assert decoder.feed(memoryview(b"data: b\n\n")) == [E(data="b")]  # type: ignore[arg-type]


# -- end of stream ---------------------------------------------------------------------


def test_end_drops_unterminated_block_and_is_idempotent() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [E(data="a")]
    assert decoder.end() == []
    assert decoder.end() == []
    with pytest.raises(LocalProtocolError):
        decoder.feed(b"\n")
    with pytest.raises(LocalProtocolError):
        decoder.feed(b"")


def test_feed_empty_is_a_no_op() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"") == []
    # The LF still pairs with the CR: one line end, so "a" and "b" share a block.
    assert decoder.feed(b"\ndata: b\n\n") == [E(data="a\nb")]


# -- limits ----------------------------------------------------------------------------


def test_default_limit() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 16 * 1024 * 1024
    with pytest.raises(ValueError):
        SSEDecoder(max_event_size=0)


def assert_terminal(decoder: SSEDecoder) -> None:
    with pytest.raises(RemoteProtocolError):
        decoder.feed(b"data: ok\n\n")
    with pytest.raises(RemoteProtocolError):
        decoder.end()


def test_pending_line_too_long() -> None:
    decoder = SSEDecoder(max_event_size=10)
    assert decoder.feed(b"data: 1234") == []  # 10 bytes: at the limit
    with pytest.raises(RemoteProtocolError, match="line exceeds max_event_size"):
        decoder.feed(b"5")
    assert_terminal(decoder)


def test_complete_line_too_long_in_one_chunk() -> None:
    decoder = SSEDecoder(max_event_size=10)
    with pytest.raises(RemoteProtocolError, match="line exceeds"):
        decoder.feed(b": a long comment line\n\ndata: 1\n\n")
    assert_terminal(decoder)


def test_events_before_an_error_come_first() -> None:
    # Errors come in stream order: the events before the offending line are returned,
    # and the next call raises.
    decoder = SSEDecoder(max_event_size=10)
    assert decoder.feed(b"data: 1\n\n: a long comment line\n\ndata: 2\n\n") == [E(data="1")]
    with pytest.raises(RemoteProtocolError, match="line exceeds"):
        decoder.feed(b"data: 3\n\n")
    assert_terminal(decoder)

    decoder = SSEDecoder(max_event_size=10)
    # "12345\n6789\n" is 11 bytes of data buffer, though every line is within the limit
    assert decoder.feed(b"data: 1\n\ndata:12345\ndata:6789\n\n") == [E(data="1")]
    with pytest.raises(RemoteProtocolError, match="event data exceeds"):
        decoder.end()


def test_line_limit_counts_comments_and_unknown_fields() -> None:
    for line in (b":" + b"c" * 20, b"x" * 21, b"id: " + b"1" * 17):
        with pytest.raises(RemoteProtocolError):
            decode([line + b"\n\n"], max_event_size=20)


def test_data_buffer_too_large() -> None:
    # The data buffer of "abcd" x 4 is 4 * len("abcd\n") = 20 bytes: at the limit.
    ok = b"data:abcd\n" * 4 + b"\n"
    assert decode([ok], max_event_size=20)[0] == [E(data="abcd\nabcd\nabcd\nabcd")]
    bad = b"data:abcd\n" * 5 + b"\n"
    with pytest.raises(RemoteProtocolError, match="event data exceeds max_event_size"):
        decode([bad], max_event_size=20)


def test_data_buffer_limit_without_dispatch() -> None:
    decoder = SSEDecoder(max_event_size=20)
    decoder.feed(b"data:abcd\n" * 4)
    with pytest.raises(RemoteProtocolError, match="event data exceeds"):
        decoder.feed(b"data:abcd\n")
    assert_terminal(decoder)


@pytest.mark.parametrize(
    "stream",
    [
        b"data:abcd\n" * 5 + b"\n",
        b"data:abcd\n" * 5,
        b"data:abcd\n" * 4 + b"\ndata:abcd\n" * 4 + b"\n",
        b"data: " + b"x" * 15 + b"\n\n",
        b"data: " + b"x" * 14 + b"\n\n",
        b"data: " + b"x" * 15,
        b"\r\n".join([b"data:ab"] * 7) + b"\r\n\r\n",
        b"\r".join([b"data:ab"] * 6) + b"\r\r",
        b"data: 1\n\n" + b"x" * 21 + b"\ndata: 2\n\n",
        b"data: 1\n\ndata:abcd\n" * 5 + b"\ndata: 2\n\n",
    ],
)
def test_limit_is_split_invariant(stream: bytes) -> None:
    def outcome(pieces: List[bytes]) -> object:
        decoder = SSEDecoder(max_event_size=20)
        events: List[ServerSentEvent] = []
        try:
            for piece in pieces:
                events.extend(decoder.feed(piece))
            decoder.end()
        except RemoteProtocolError:
            return events, "error"
        return events, None

    whole = outcome([stream])
    for i in range(len(stream) + 1):
        assert outcome([stream[:i], stream[i:]]) == whole
    assert outcome([bytes([b]) for b in stream]) == whole


# -- hostile input: linear time, bounded memory ------------------------------------------


@pytest.mark.slow
def test_huge_line_fed_byte_by_byte_is_linear() -> None:
    # 10 MB in 1-byte feeds: quadratic re-scanning or copying would take hours.
    size = 10 * 1024 * 1024
    decoder = SSEDecoder(max_event_size=size + 16)
    feed = decoder.feed
    one = b"x"
    start = time.perf_counter()
    assert feed(b"data: ") == []
    for _ in range(size):
        feed(one)
    assert feed(b"\n\n")[0].data == "x" * size
    assert time.perf_counter() - start < 45


def test_huge_line_over_the_limit_fails_early() -> None:
    decoder = SSEDecoder(max_event_size=1024)
    with pytest.raises(RemoteProtocolError):
        for _ in range(2048):
            decoder.feed(b"x")
    # it failed on the 1025th byte, without buffering the rest
    assert_terminal(decoder)


def test_million_blank_lines() -> None:
    for piece in (b"\n", b"\r", b"\r\n"):
        stream = piece * 1_000_000 + b"data: end\n\n"
        assert decode([stream])[0] == [E(data="end")]
        chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
        assert decode(chunks)[0] == [E(data="end")]


def test_million_one_byte_chunks() -> None:
    stream = b"data: x\n\n" * 111_112  # ~1,000,000 bytes
    decoder = SSEDecoder()
    count = 0
    for byte in stream:
        count += len(decoder.feed(bytes((byte,))))
    assert count == 111_112


def test_many_data_lines_one_per_feed_is_linear() -> None:
    # The data buffer is re-measured per feed only for its new lines; 200,000 feeds of
    # one line each into one block must not add up the whole buffer every time.
    decoder = SSEDecoder(max_event_size=2 * 1024 * 1024)
    for _ in range(200_000):
        decoder.feed(b"data: 1234\n")
    [event] = decoder.feed(b"\n")
    assert len(event.data) == 200_000 * 5 - 1

    decoder = SSEDecoder(max_event_size=100_000)
    with pytest.raises(RemoteProtocolError):
        for _ in range(200_000):
            decoder.feed(b"data: 1234\n")


def test_million_comment_lines_hold_no_memory() -> None:
    stream = b":\n" * 1_000_000 + b"data: x\n\n"
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    assert decode(chunks, max_event_size=64)[0] == [E(data="x")]


def test_many_cr_split_from_lf() -> None:
    # every chunk ends with CR and the next starts with LF
    chunks = [b"data: a\r", b"\n\r", b"\ndata: b\r"] * 100_000 + [b"\n\r\n"]
    events = decode(chunks)[0]
    assert len(events) == 100_001
    assert events[0] == E(data="a")
    assert events[1:-1] == [E(data="b\na")] * 99_999
    assert events[-1] == E(data="b")
