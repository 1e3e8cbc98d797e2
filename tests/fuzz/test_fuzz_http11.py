"""Fuzz the HTTP/1.1 client machine: any response bytes, any split.

Properties: after a request, feeding bytes (then end of stream) yields events or raises
:class:`RemoteProtocolError`, nothing else; the events are well formed; the status, the
decoded body and whether the response ended do not depend on how the input is split; when
one split fails, every split fails, and the body each returned before failing is a prefix
of the other's (a decoder may reject a whole piece before handing out its first bytes).

Under pytest this runs as a hypothesis test. With atheris installed it is also a
coverage-guided harness::

    python tests/fuzz/test_fuzz_http11.py -atheris_runs=100000
"""

from __future__ import annotations

import gzip
import sys
import zlib
from pathlib import Path
from typing import List, Sequence, Tuple

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._exceptions import RemoteProtocolError
from openai_proto._http11 import (
    NEED_DATA,
    BodyChunk,
    HTTP11Connection,
    ResponseEnded,
    ResponseStarted,
)

# (statuses of ResponseStarted, body, ended, failed)
Outcome = Tuple[List[int], bytes, bool, bool]


def _deflate_raw(data: bytes) -> bytes:
    co = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return co.compress(data) + co.flush()


_JSON = b'{"object": "list", "data": [{"id": "gpt-x"}]}'
SEEDS: List[bytes] = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4;x=y\r\ndata\r\n3\r\n: a\r\n0\r\nTrailer: t\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
    % (len(gzip.compress(_JSON)), gzip.compress(_JSON)),
    b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n" + zlib.compress(_JSON),
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, deflate\r\n\r\n"
    + _deflate_raw(gzip.compress(_JSON)),
    b"HTTP/1.1 204 No Content\r\nX-Request-Id: req_1\r\n\r\n",
]


def pieces_of(data: bytes, cuts: Sequence[int]) -> List[bytes]:
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]  # b"" would be EOF


def run(pieces: Sequence[bytes], method: str = "GET") -> Outcome:
    """Feed one response; only events or RemoteProtocolError may come out."""
    conn = HTTP11Connection()
    conn.send_request(method, "/v1/models", [("Host", "api.example.test")], None)
    statuses: List[int] = []
    body: List[bytes] = []
    ended = False
    try:
        for piece in [*pieces, b""]:
            conn.receive_data(piece)
            for _ in range(1_000_000):
                event = conn.next_event()
                if event is NEED_DATA:
                    break
                if isinstance(event, ResponseStarted):
                    assert 200 <= event.status_code <= 999 and not statuses
                    statuses.append(event.status_code)
                    assert all(isinstance(v, str) for v in event.headers.values())
                elif isinstance(event, BodyChunk):
                    assert statuses and not ended and event.data
                    body.append(event.data)
                else:
                    assert isinstance(event, ResponseEnded) and statuses and not ended
                    ended = True
            if ended:
                assert conn.response_complete
                assert isinstance(conn.is_reusable, bool)
    except RemoteProtocolError:
        assert not ended
        return statuses, b"".join(body), ended, True
    assert ended  # end of stream was fed: the response ended or it failed
    return statuses, b"".join(body), ended, False


def check(data: bytes, cuts: Sequence[int], method: str = "GET") -> None:
    whole = run([data], method)
    for split in (
        run(pieces_of(data, cuts), method),
        run([data[i : i + 1] for i in range(len(data))], method),
    ):
        if not whole[3] and not split[3]:
            assert split == whole
            continue
        assert split[3] == whole[3], (whole, split)
        assert split[0] == whole[0]
        shorter, longer = sorted((split[1], whole[1]), key=len)
        assert longer.startswith(shorter)


def fuzz_one_input(data: bytes) -> None:
    """Entry point shared by atheris and pytest: the first two bytes pick the split and the
    method, the rest is the response."""
    if len(data) < 2:
        return
    step = data[0] % 31 + 1
    method = "HEAD" if data[1] & 1 else "GET"
    payload = data[2:]
    check(payload, range(step, len(payload), step), method)


_settings = settings(max_examples=200, deadline=None)


@_settings
@given(st.binary(max_size=600), st.lists(st.integers(0, 700), max_size=20))
def test_arbitrary_bytes(data: bytes, cuts: List[int]) -> None:
    check(data, cuts)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from([b"\r\n", b"0", b":", b" ", b"\n", b"\x00", b"ff"]))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@_settings
@given(mutated(), st.lists(st.integers(0, 3000), max_size=20), st.sampled_from(["GET", "HEAD"]))
def test_mutated_responses(data: bytes, cuts: List[int], method: str) -> None:
    check(data, cuts, method)


@pytest.mark.parametrize("seed", SEEDS)
def test_seeds_are_valid_responses(seed: bytes) -> None:
    statuses, _body, ended, failed = run([seed])
    assert ended and not failed and statuses
    check(seed, [7, 50])


@_settings
@given(st.binary(max_size=600))
def test_fuzz_entry_point(data: bytes) -> None:
    fuzz_one_input(data)


def test_atheris_entry_point() -> None:
    pytest.importorskip("atheris")
    for seed in SEEDS:
        fuzz_one_input(b"\x05\x00" + seed)


if __name__ == "__main__":
    from _atheris import campaign

    campaign(fuzz_one_input, ["openai_proto._http11", "openai_proto._headers"], ("h11",))
