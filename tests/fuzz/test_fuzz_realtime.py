"""Fuzz the Realtime WebSocket client machine: any server bytes, any split.

Properties: after the client's handshake, feeding any bytes (then end of stream) yields
well-formed events or raises :class:`RemoteProtocolError`, nothing else; at most one
terminal event, last; the events, the error and the frames the client queued on its own
(pongs, close echo, close on error) do not depend on how the input is split; the machine
is terminal afterwards (every send raises one of our protocol errors). Two inputs are
fuzzed: the bytes after a valid ``101`` answer, and the handshake answer itself (with
``{accept}`` standing for the right ``Sec-WebSocket-Accept`` token).

Under pytest this runs as a hypothesis test. With atheris installed it is also a
coverage-guided harness::

    python tests/fuzz/test_fuzz_realtime.py -atheris_runs=100000
"""

from __future__ import annotations

import re
import struct
import sys
from pathlib import Path
from typing import List, Sequence, Tuple

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto import events as ws
from wsproto.utilities import generate_accept_token

from openai_proto._exceptions import LocalProtocolError, RemoteProtocolError
from openai_proto._http11 import NEED_DATA
from openai_proto.realtime import (
    BinaryMessage,
    Closed,
    Message,
    Opened,
    Pong,
    RealtimeConnection,
    RealtimeState,
    Rejected,
)

# (event reprs, error class name or "", what a server reads from the client's own frames)
Outcome = Tuple[List[str], str, List[str]]


def frame(opcode: int, payload: bytes = b"", fin: bool = True) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        return bytes([first, n]) + payload
    return bytes([first, 126]) + struct.pack("!H", n) + payload


FRAME_SEEDS: List[bytes] = [
    frame(0x1, b'{"type":"session.created","event_id":"e1"}'),
    frame(0x1, b'{"type":"response.text.delta","del', fin=False)
    + frame(0x9, b"hb")
    + frame(0x0, b'ta":"\xc3\xa9"}'),
    frame(0x2, b"\x00\x01\x02")
    + frame(0xA, b"pong")
    + frame(0x8, struct.pack("!H", 1000) + b"bye"),
    frame(0x1, b"x" * 200) + frame(0x8, b""),
    frame(0x1, b"\xe2\x82", fin=False) + frame(0x0, b"\xac"),
    frame(0x9, b"") + frame(0x1, b"{}") + frame(0x8, struct.pack("!H", 4000)),
]

ANSWER = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: {accept}\r\nx-request-id: req_1\r\n\r\n"
)
HANDSHAKE_SEEDS: List[bytes] = [
    ANSWER,
    ANSWER + FRAME_SEEDS[0],
    b'HTTP/1.1 401 Unauthorized\r\nContent-Length: 11\r\n\r\n{"error":1}',
    b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"HTTP/1.1 403 Forbidden\r\n\r\nuntil the end",
    b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + ANSWER,
]

_KEY = re.compile(rb"\r\nSec-WebSocket-Key: ([^\r]+)\r\n", re.IGNORECASE)


def new_client() -> Tuple[RealtimeConnection, bytes]:
    """A client after initiate() and the accept token its handshake calls for."""
    client = RealtimeConnection(
        host="api.example.test", target="/v1/realtime", headers=[], max_message_size=256
    )
    match = _KEY.search(client.initiate())
    assert match is not None
    return client, generate_accept_token(match.group(1))


def replies(data: bytes) -> List[str]:
    """The client's own frames as a server parses them (masks make raw bytes differ)."""
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    list(server.events())
    server.send(ws.AcceptConnection())
    server.receive_data(data)
    return [repr(event) for event in server.events()]


def check_event(event: object, seen: List[object]) -> None:
    assert not any(isinstance(e, (Closed, Rejected)) for e in seen), "event after a terminal one"
    if isinstance(event, Opened):
        assert not seen
        assert all(isinstance(v, str) for v in event.headers.values())
    elif isinstance(event, Rejected):
        assert not seen and 100 <= event.status_code <= 999 and event.status_code != 101
        assert isinstance(event.body, bytes) and len(event.body) <= 256
    else:
        assert seen and isinstance(seen[0], Opened)
        if isinstance(event, Message):
            assert isinstance(event.data, str) and len(event.data.encode()) <= 256
        elif isinstance(event, BinaryMessage):
            assert isinstance(event.data, bytes) and len(event.data) <= 256
        elif isinstance(event, Pong):
            assert isinstance(event.payload, bytes) and len(event.payload) <= 125
        else:
            assert isinstance(event, Closed), event
            assert 1000 <= event.code <= 4999 and isinstance(event.reason, str)


def run(client: RealtimeConnection, pieces: Sequence[bytes]) -> Outcome:
    """Feed pieces then end of stream: only events or RemoteProtocolError may come out."""
    seen: List[object] = []
    error = ""
    try:
        for piece in [*pieces, b""]:
            client.receive_data(piece)
            for _ in range(100_000):
                event = client.next_event()
                if event is NEED_DATA:
                    break
                if event in seen[-1:] and isinstance(event, (Closed, Rejected)):
                    break  # terminal events repeat
                check_event(event, seen)
                seen.append(event)
            else:
                raise AssertionError("unbounded events")
    except RemoteProtocolError:
        error = "RemoteProtocolError"
    # End of stream was fed: the machine is over, one way or another.
    assert error or isinstance(seen[-1], (Closed, Rejected))
    assert client.state in (RealtimeState.CLOSED, RealtimeState.FAILED)
    sent = replies(client.data_to_send())
    # Terminal: sending raises one of our errors; next_event() raises or repeats the end.
    for send in (lambda: client.send_text("x"), client.ping):
        with pytest.raises((LocalProtocolError, RemoteProtocolError)):
            send()
    try:
        assert client.next_event() is seen[-1]
    except (LocalProtocolError, RemoteProtocolError):
        pass
    return [repr(e) for e in seen], error, sent


def after_handshake(pieces_of_frames: Sequence[bytes], split_answer: bool) -> Outcome:
    client, accept = new_client()
    answer = ANSWER.replace(b"{accept}", accept)
    head = [answer[i : i + 1] for i in range(len(answer))] if split_answer else [answer]
    return run(client, [*head, *pieces_of_frames])


def handshake(pieces_of_answer: Sequence[bytes]) -> Outcome:
    client, accept = new_client()
    events, error, sent = run(client, [p.replace(b"{accept}", accept) for p in pieces_of_answer])
    # The token differs from client to client (a random key): a Rejected event shows it.
    return [e.replace(accept.decode(), "{accept}") for e in events], error, sent


def pieces_of(data: bytes, cuts: Sequence[int]) -> List[bytes]:
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]  # b"" would be EOF


def check_frames(data: bytes, cuts: Sequence[int]) -> None:
    whole = after_handshake([data], False)
    assert after_handshake(pieces_of(data, cuts), True) == whole
    assert after_handshake([data[i : i + 1] for i in range(len(data))], False) == whole


def check_handshake(data: bytes, cuts: Sequence[int]) -> None:
    # "{accept}" must stay whole to be replaced: cut only outside it.
    at = data.find(b"{accept}")
    safe = [c for c in cuts if at < 0 or not at < c % (len(data) + 1) < at + 8]
    whole = handshake([data])
    assert handshake(pieces_of(data, safe)) == whole
    if at < 0:
        assert handshake([data[i : i + 1] for i in range(len(data))]) == whole


def fuzz_one_input(data: bytes) -> None:
    """Entry point shared by atheris and pytest: the first byte picks the split, the second
    whether the rest is the stream after the handshake or the handshake answer."""
    if len(data) < 2:
        return
    step = data[0] % 31 + 1
    payload = data[2:]
    cuts = range(step, len(payload), step)
    if data[1] & 1:
        check_handshake(payload, cuts)
    else:
        check_frames(payload, cuts)


_settings = settings(max_examples=150, deadline=None)


@st.composite
def mutated(draw: st.DrawFn, seeds: List[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "frame"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [b"\x00", b"\x80", b"\x81\x7e", b"\xff", b"\r\n", b"\x88\x02\x03\xe8"]
                )
            )
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "frame":
            opcode = draw(st.sampled_from([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB]))
            data[at:at] = frame(opcode, draw(st.binary(max_size=300)), fin=draw(st.booleans()))
        else:
            del data[at:]
    return bytes(data)


@_settings
@given(st.binary(max_size=400), st.lists(st.integers(0, 500), max_size=20))
def test_arbitrary_bytes_after_handshake(data: bytes, cuts: List[int]) -> None:
    check_frames(data, cuts)


@_settings
@given(mutated(FRAME_SEEDS), st.lists(st.integers(0, 1000), max_size=20))
def test_mutated_frames(data: bytes, cuts: List[int]) -> None:
    check_frames(data, cuts)


@_settings
@given(mutated(HANDSHAKE_SEEDS), st.lists(st.integers(0, 1000), max_size=20))
def test_mutated_handshake_answers(data: bytes, cuts: List[int]) -> None:
    check_handshake(data, cuts)


@pytest.mark.parametrize("seed", FRAME_SEEDS)
def test_frame_seeds_are_valid(seed: bytes) -> None:
    events, error, _ = after_handshake([seed], False)
    assert not error and events[0].startswith("Opened(") and events[-1].startswith("Closed(")
    check_frames(seed, [3, 17])


@pytest.mark.parametrize("seed", HANDSHAKE_SEEDS)
def test_handshake_seeds_are_valid(seed: bytes) -> None:
    events, error, _ = handshake([seed])
    assert not error and events
    check_handshake(seed, [5, 40])


@_settings
@given(st.binary(max_size=400))
def test_fuzz_entry_point(data: bytes) -> None:
    fuzz_one_input(data)


def test_atheris_entry_point() -> None:
    pytest.importorskip("atheris")
    for seed in FRAME_SEEDS:
        fuzz_one_input(b"\x05\x00" + seed)
    for seed in HANDSHAKE_SEEDS:
        fuzz_one_input(b"\x05\x01" + seed)


if __name__ == "__main__":
    from _atheris import campaign

    campaign(fuzz_one_input, ["openai_proto.realtime", "openai_proto._headers"], ("wsproto", "h11"))
