"""Fuzz the SSE decoder and the OpenAI stream layer: any bytes, any split.

Properties: the decoder returns events or raises :class:`RemoteProtocolError`, nothing
else; the events it returns, and whether it then raises, do not depend on how the input
is split; events returned before a limit error are a prefix of the events an unlimited
decoder returns. The stream layer returns items or raises ``APIError`` /
``RemoteProtocolError``, again independently of the split.

Under pytest this runs as a hypothesis test. With atheris installed it is also a
coverage-guided harness::

    python tests/fuzz/test_fuzz_sse.py -atheris_runs=100000
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._exceptions import APIError, RemoteProtocolError
from openai_proto._streaming import StreamItem, StreamParser
from openai_proto.sse import ServerSentEvent, SSEDecoder

Result = Tuple[List[ServerSentEvent], bool, str, Optional[int]]


def pieces_of(data: bytes, cuts: Sequence[int]) -> List[bytes]:
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def decode(pieces: Sequence[bytes], limit: Optional[int]) -> Result:
    """Events returned before the end or an error, whether it failed, and the final state."""
    decoder = SSEDecoder() if limit is None else SSEDecoder(max_event_size=limit)
    events: List[ServerSentEvent] = []
    try:
        for piece in pieces:
            events.extend(decoder.feed(piece))
        events.extend(decoder.end())
    except RemoteProtocolError:
        return events, True, "", None
    return events, False, decoder.last_event_id, decoder.retry


def parse(pieces: Sequence[bytes], limit: Optional[int]) -> Tuple[List[StreamItem], object]:
    parser = StreamParser() if limit is None else StreamParser(max_event_size=limit)
    items: List[StreamItem] = []
    try:
        for piece in pieces:
            items.extend(parser.feed(piece))
        items.extend(parser.end())
    except APIError as exc:
        return items, ("api", exc.message, repr(exc.body))
    except RemoteProtocolError:
        return items, "remote"
    return items, None


def check_event(event: ServerSentEvent) -> None:
    assert event.event and "\r" not in event.event and "\n" not in event.event
    assert "\r" not in event.data
    assert "\x00" not in event.id and "\r" not in event.id and "\n" not in event.id
    assert event.retry is None or 0 <= event.retry < 2**64


def check(data: bytes, cuts: Sequence[int], limit: Optional[int]) -> None:
    """All properties for one input, one split and one limit."""
    reference = decode([data], None)  # inputs here are far below the default limit
    assert not reference[1]
    for event in reference[0]:
        check_event(event)

    whole = decode([data], limit)
    split = decode(pieces_of(data, cuts), limit)
    one_by_one = decode([data[i : i + 1] for i in range(len(data))], limit)
    # The same events and the same failure, whatever the split.
    assert split == whole
    assert one_by_one == whole
    if whole[1]:
        assert whole[0] == reference[0][: len(whole[0])]
    else:
        assert whole == reference

    items = parse([data], limit)
    assert parse(pieces_of(data, cuts), limit) == items
    for got in items[0]:
        got.data.decode()  # always valid UTF-8


TOKENS = [
    b"data:",
    b"data: ",
    b"event: ",
    b"event:error",
    b"id: ",
    b"retry: ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b":",
    b" ",
    b"\xef\xbb\xbf",
    b"\xef",
    b"\x00",
    b"\xff",
    b"\xe2\x82",
    b"0",
    b"123",
    b"[DONE]",
    b"{",
    b'{"error":{"message":"m","code":"c"}}',
    b'{"type":"error","message":"m"}',
    b'"error"',
    b"thread.run.created",
]

streams = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=6)), max_size=60).map(b"".join),
)


@settings(max_examples=200, deadline=None)
@given(
    data=streams,
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    limit=st.one_of(st.none(), st.integers(min_value=1, max_value=48)),
)
def test_fuzz_sse(data: bytes, cuts: List[int], limit: Optional[int]) -> None:
    check(data, cuts, limit)


def test_one_input_entry_point() -> None:
    # The atheris entry point accepts anything, including an empty input.
    for blob in (b"", b"\x05", b"\x01\x02\x03data: x\n\n", bytes(range(256))):
        fuzz_one_input(blob)


def fuzz_one_input(blob: bytes) -> None:
    """Atheris entry point: the first bytes choose the limit and the split."""
    if not blob:
        return check(b"", [], None)
    limit: Optional[int] = blob[0] if blob[0] >= 8 else None
    ncuts = blob[1] % 8 if len(blob) > 1 else 0
    cuts = list(blob[2 : 2 + ncuts])
    check(blob[2 + ncuts :], cuts, limit)


if __name__ == "__main__":
    from _atheris import campaign

    campaign(fuzz_one_input, ["openai_proto.sse", "openai_proto._streaming"], ())
