"""The HTTP/1.1 client machine: paired with an h11 server in memory, and fed raw bytes."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
import time
import tracemalloc
import zlib
from typing import Any, List, Sequence, Tuple, Union

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._exceptions import LocalProtocolError, RemoteProtocolError
from openai_proto._headers import Headers
from openai_proto._http11 import (
    DEFAULT_MAX_BODY_SIZE,
    NEED_DATA,
    BodyChunk,
    HTTP11Connection,
    HTTP11Event,
    ResponseEnded,
    ResponseStarted,
)

HOST = [("Host", "api.example.test")]

# Helpers ---------------------------------------------------------------------------------


def drain(conn: HTTP11Connection, limit: int = 100_000) -> List[HTTP11Event]:
    """Every event until NEED_DATA or ResponseEnded (bounded)."""
    out: List[HTTP11Event] = []
    for _ in range(limit):
        event = conn.next_event()
        if event is NEED_DATA:
            return out
        out.append(event)
        if isinstance(event, ResponseEnded):
            return out
    raise AssertionError("no NEED_DATA/ResponseEnded within the bound")


def merged(events: Sequence[HTTP11Event]) -> List[HTTP11Event]:
    """Consecutive BodyChunks joined: chunk boundaries depend on how bytes arrive."""
    out: List[HTTP11Event] = []
    for event in events:
        if isinstance(event, BodyChunk) and out and isinstance(out[-1], BodyChunk):
            out[-1] = BodyChunk(data=out[-1].data + event.data)
        else:
            out.append(event)
    return out


def feed(
    data: bytes,
    pieces: Sequence[int] = (),
    *,
    eof: bool = True,
    method: str = "GET",
    **limits: Any,
) -> List[HTTP11Event]:
    """Send one request, then feed ``data`` cut at ``pieces`` (and EOF); merged events."""
    conn = HTTP11Connection(**limits)
    conn.send_request(method, "/", HOST, None)
    events: List[HTTP11Event] = []
    start = 0
    for cut in [*sorted(set(pieces)), len(data)]:
        if cut > start:
            conn.receive_data(data[start:cut])
            events += drain(conn)
            start = cut
    if eof and not (events and isinstance(events[-1], ResponseEnded)):
        conn.receive_data(b"")
        events += drain(conn)
    return merged(events)


def body_of(events: Sequence[HTTP11Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, BodyChunk))


def response(status: int, headers: Sequence[Tuple[str, str]], body: bytes = b"") -> bytes:
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def serve(
    server: h11.Connection,
    status: int,
    headers: List[Tuple[bytes, bytes]],
    body: Union[bytes, List[bytes]] = b"",
) -> bytes:
    out = server.send(h11.Response(status_code=status, headers=headers)) or b""
    for part in [body] if isinstance(body, bytes) else body:
        if part:
            out += server.send(h11.Data(data=part)) or b""
    return out + (server.send(h11.EndOfMessage()) or b"")


def server_request(server: h11.Connection, data: bytes) -> Tuple[h11.Request, bytes]:
    server.receive_data(data)
    request = server.next_event()
    assert isinstance(request, h11.Request)
    body = b""
    while True:
        event = server.next_event()
        if isinstance(event, h11.Data):
            body += event.data
        else:
            assert isinstance(event, h11.EndOfMessage)
            return request, body


# Paired with an h11 server ---------------------------------------------------------------


def test_content_length_body_and_request_head() -> None:
    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    request, body = server_request(
        server, client.send_request("GET", "/v1/models", [*HOST, ("X-Trace", "1")], None)
    )
    assert (request.method, request.target) == (b"GET", b"/v1/models")
    assert (b"x-trace", b"1") in list(request.headers)
    assert b"content-length" not in dict(request.headers)
    assert body == b""
    client.receive_data(
        serve(server, 200, [(b"Content-Length", b"5"), (b"X-Request-Id", b"req_1")], b"hello")
    )
    events = client.events()
    assert isinstance(events[0], ResponseStarted)
    assert events[0].status_code == 200
    assert events[0].http_version == b"1.1"
    assert events[0].headers["x-request-id"] == "req_1"
    assert events[1:] == [BodyChunk(data=b"hello"), ResponseEnded()]
    assert client.response_complete and client.is_reusable
    assert client.next_event() is NEED_DATA  # nothing more this cycle


def test_body_adds_content_length_once() -> None:
    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    request, body = server_request(server, client.send_request("POST", "/", HOST, b'{"a":1}'))
    assert dict(request.headers)[b"content-length"] == b"7" and body == b'{"a":1}'

    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    data = client.send_request("POST", "/", [*HOST, ("content-length", "2")], b"{}")
    assert data.lower().count(b"content-length") == 1
    assert server_request(server, data)[1] == b"{}"

    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    request, body = server_request(server, client.send_request("POST", "/", HOST, b""))
    assert dict(request.headers)[b"content-length"] == b"0" and body == b""


def test_chunked_response() -> None:
    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    server_request(server, client.send_request("GET", "/", HOST, None))
    client.receive_data(serve(server, 200, [], [b"data: a\n\n", b"data: b\n\n"]))
    events = client.events()
    assert isinstance(events[0], ResponseStarted)
    assert events[0].headers["transfer-encoding"] == "chunked"
    assert body_of(events) == b"data: a\n\ndata: b\n\n"
    assert isinstance(events[-1], ResponseEnded)
    assert client.is_reusable


def test_streamed_chunked_upload_and_early_response() -> None:
    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    head = client.start_request("POST", "/upload", [*HOST, ("Transfer-Encoding", "chunked")])
    server.receive_data(head)
    assert isinstance(server.next_event(), h11.Request)
    server.receive_data(client.send_body(b"part1") + client.send_body(b"") + client.send_body(b"2"))
    first = server.next_event()
    assert isinstance(first, h11.Data) and first.data == b"part1"
    # The server answers before the upload ends; the client reads it meanwhile.
    client.receive_data(serve(server, 413, [(b"Content-Length", b"0")]))
    assert [type(e) for e in client.events()] == [ResponseStarted, ResponseEnded]
    assert not client.is_reusable  # our side is still sending
    server.receive_data(client.end_request())
    second = server.next_event()
    assert isinstance(second, h11.Data) and second.data == b"2"
    assert isinstance(server.next_event(), h11.EndOfMessage)
    assert client.is_reusable


def test_keep_alive_three_requests() -> None:
    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    for i in range(3):
        payload = f"reply {i}".encode()
        request, body = server_request(
            server, client.send_request("POST", f"/r/{i}", HOST, f"req {i}".encode())
        )
        assert request.target == f"/r/{i}".encode() and body == f"req {i}".encode()
        client.receive_data(
            serve(server, 200, [(b"Content-Length", str(len(payload)).encode())], payload)
        )
        events = client.events()
        assert body_of(events) == payload
        assert client.is_reusable
        client.start_next_cycle()
        server.start_next_cycle()
        assert not client.response_complete


@pytest.mark.parametrize("side", ["response", "request"])
def test_connection_close_is_not_reusable(side: str) -> None:
    client, server = HTTP11Connection(), h11.Connection(h11.SERVER)
    extra = [("Connection", "close")] if side == "request" else []
    server_request(server, client.send_request("GET", "/", [*HOST, *extra], None))
    headers = [(b"Content-Length", b"2")]
    if side == "response":
        headers.append((b"Connection", b"close"))
    client.receive_data(serve(server, 200, headers, b"ok"))
    assert body_of(client.events()) == b"ok"
    assert client.response_complete and not client.is_reusable
    with pytest.raises(LocalProtocolError):
        client.start_next_cycle()


# Raw responses ---------------------------------------------------------------------------


def test_close_delimited_body_ends_at_eof() -> None:
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    conn.receive_data(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhel")
    events = conn.events()
    assert isinstance(events[0], ResponseStarted) and events[0].http_version == b"1.0"
    assert events[1:] == [BodyChunk(data=b"hel")]
    conn.receive_data(b"lo")
    assert conn.events() == [BodyChunk(data=b"lo")]
    assert not conn.response_complete
    conn.receive_data(b"")
    assert conn.events() == [ResponseEnded()]
    assert not conn.is_reusable


def test_http11_without_length_ends_at_eof() -> None:
    events = feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstream")
    assert body_of(events) == b"stream" and isinstance(events[-1], ResponseEnded)


def test_100_continue_is_skipped() -> None:
    raw = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
    )
    for pieces in ([], list(range(len(raw)))):
        events = feed(raw, pieces, eof=False)
        assert [type(e) for e in events] == [ResponseStarted, BodyChunk, ResponseEnded]
        assert isinstance(events[0], ResponseStarted) and events[0].status_code == 201


def test_head_response_has_no_body() -> None:
    conn = HTTP11Connection()
    conn.send_request("HEAD", "/", HOST, None)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Encoding: gzip\r\n\r\n")
    assert [type(e) for e in conn.events()] == [ResponseStarted, ResponseEnded]
    assert conn.is_reusable


def test_extra_bytes_after_response_make_it_not_reusable() -> None:
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxJUNK")
    assert body_of(conn.events()) == b"x"
    assert not conn.is_reusable

    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
    conn.events()
    conn.receive_data(b"HTTP/1.1 408 Request Timeout\r\n\r\n")  # unsolicited
    assert not conn.is_reusable


def test_idle_connection_closed_or_chatty_refuses_requests() -> None:
    conn = HTTP11Connection()
    assert conn.is_reusable
    conn.start_next_cycle()  # nothing in flight: a no-op
    conn.receive_data(b"")
    conn.receive_data(b"")  # EOF is idempotent
    assert not conn.is_reusable
    with pytest.raises(LocalProtocolError, match="closed"):
        conn.send_request("GET", "/", HOST, None)

    conn = HTTP11Connection()
    conn.receive_data(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert not conn.is_reusable
    with pytest.raises(LocalProtocolError, match="unsolicited"):
        conn.send_request("GET", "/", HOST, None)


# Content-Encoding ------------------------------------------------------------------------

TEXT = b'{"id": "chatcmpl-1", "choices": []}\n' * 200


def zlib_wrapped(data: bytes) -> bytes:
    return zlib.compress(data)


def raw_deflate(data: bytes) -> bytes:
    co = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return co.compress(data) + co.flush()


def encoded(coding: str, body: bytes, **limits: Any) -> List[HTTP11Event]:
    raw = response(200, [("Content-Encoding", coding), ("Content-Length", str(len(body)))], body)
    return feed(raw, **limits)


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib_wrapped),
        ("deflate", raw_deflate),
        ("identity", lambda data: data),
    ],
)
def test_single_codings(coding: str, compress: object) -> None:
    wire = compress(TEXT)  # type: ignore[operator]
    events = encoded(coding, wire)
    assert body_of(events) == TEXT
    started = events[0]
    assert isinstance(started, ResponseStarted)
    assert started.headers["content-encoding"] == coding  # headers kept as received
    assert started.headers["content-length"] == str(len(wire))


def test_multi_member_gzip() -> None:
    assert body_of(encoded("gzip", gzip.compress(b"abc") + gzip.compress(b"def"))) == b"abcdef"


@pytest.mark.parametrize(
    ("coding", "wire"),
    [
        ("gzip, gzip", gzip.compress(gzip.compress(TEXT))),
        ("deflate, gzip", gzip.compress(zlib_wrapped(TEXT))),
        ("gzip, deflate", raw_deflate(gzip.compress(TEXT))),
        ("identity, gzip", gzip.compress(TEXT)),
    ],
)
def test_stacked_codings_decode_in_reverse(coding: str, wire: bytes) -> None:
    assert body_of(encoded(coding, wire)) == TEXT
    split = response(200, [("Content-Encoding", coding), ("Content-Length", str(len(wire)))], wire)
    # Stacked codings listed in two header lines mean the same.
    first, _, second = coding.partition(", ")
    two_lines = split.replace(
        f"Content-Encoding: {coding}".encode(),
        f"Content-Encoding: {first}\r\nContent-Encoding: {second}".encode(),
    )
    assert body_of(feed(two_lines)) == TEXT


@pytest.mark.parametrize("coding", ["br", "gzip, br", "zstd"])
def test_unknown_coding_passes_bytes_through(coding: str) -> None:
    wire = gzip.compress(TEXT)
    assert body_of(encoded(coding, wire)) == wire


def test_decode_content_off_passes_bytes_through() -> None:
    wire = gzip.compress(TEXT)
    assert body_of(encoded("gzip", wire, decode_content=False)) == wire


def test_empty_body_with_coding_is_empty() -> None:
    events = encoded("gzip", b"")
    assert [type(e) for e in events] == [ResponseStarted, ResponseEnded]


def test_decoded_chunks_are_bounded() -> None:
    wire = gzip.compress(bytes(1_000_000))
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    conn.receive_data(response(200, [("Content-Encoding", "gzip")], wire))
    conn.receive_data(b"")
    events = drain(conn)
    assert isinstance(events[-1], ResponseEnded)
    chunks = [e.data for e in events if isinstance(e, BodyChunk)]
    assert sum(map(len, chunks)) == 1_000_000
    assert max(map(len, chunks)) <= 64 * 1024


def gzip_bomb(mib: int) -> bytes:
    """A valid gzip stream of ``mib`` MiB of zeros, built without compressing it all:
    after a full flush each identical input block compresses to identical bytes."""
    block = bytes(1 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = co.compress(block) + co.flush(zlib.Z_FULL_FLUSH)
    middle = co.compress(block) + co.flush(zlib.Z_FULL_FLUSH)
    last = co.compress(block) + co.flush()
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return first + middle * (mib - 2) + last[:-8] + trailer


def test_gzip_bomb_fails_fast_with_little_memory() -> None:
    bomb = gzip_bomb(1024)  # 1 GiB of zeros in about 1 MiB
    assert len(bomb) < 2 * 1024 * 1024
    conn = HTTP11Connection(max_decompressed_size=8 * 1024 * 1024, max_body_size=None)
    conn.send_request("GET", "/", HOST, None)
    head = response(200, [("Content-Encoding", "gzip"), ("Content-Length", str(len(bomb)))])
    conn.receive_data(head + bomb)
    decoded = 0
    started = time.perf_counter()
    tracemalloc.start()
    try:
        with pytest.raises(RemoteProtocolError, match="max_decompressed_size"):
            for _ in range(10_000):
                event = conn.next_event()
                if isinstance(event, BodyChunk):
                    decoded += len(event.data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded <= 8 * 1024 * 1024
    assert peak < 4 * 1024 * 1024  # bounded pieces, never the whole output
    assert time.perf_counter() - started < 5
    with pytest.raises(RemoteProtocolError):  # terminal
        conn.next_event()


def test_stacked_bomb_limits_each_layer() -> None:
    inner = gzip_bomb(64)
    wire = gzip.compress(inner)
    with pytest.raises(RemoteProtocolError, match="max_decompressed_size"):
        encoded("gzip, gzip", wire, max_decompressed_size=4 * 1024 * 1024)


def test_max_body_size_on_identity_and_decoded_bodies() -> None:
    assert DEFAULT_MAX_BODY_SIZE == 256 * 1024 * 1024
    raw = response(200, [("Content-Length", "10")], b"0123456789")
    assert body_of(feed(raw, max_body_size=10)) == b"0123456789"
    with pytest.raises(RemoteProtocolError, match="max_body_size"):
        feed(raw, max_body_size=9)
    with pytest.raises(RemoteProtocolError, match="max_body_size"):
        encoded("gzip", gzip.compress(bytes(100_000)), max_body_size=50_000)
    assert body_of(feed(raw, max_body_size=None)) == b"0123456789"


@pytest.mark.parametrize(
    ("coding", "wire"),
    [
        ("gzip", b"\x1f\x8b\x08\x00garbage-garbage-garbage"),
        ("gzip", b"this is not gzip at all"),
        ("deflate", b"\xff\xff\xff\xff\xff"),
        ("gzip", gzip.compress(b"abc") + b"trailing junk"),
        ("deflate", zlib_wrapped(b"abc") + b"junk"),
    ],
)
def test_corrupt_compressed_body(coding: str, wire: bytes) -> None:
    with pytest.raises(RemoteProtocolError, match=r"not valid|after the deflate"):
        encoded(coding, wire)


@pytest.mark.parametrize(
    ("coding", "wire"),
    [("gzip", gzip.compress(TEXT)[:-20]), ("deflate", zlib_wrapped(TEXT)[:40]), ("deflate", b"x")],
)
def test_truncated_compressed_body(coding: str, wire: bytes) -> None:
    with pytest.raises(RemoteProtocolError, match="truncated"):
        encoded(coding, wire)


# Errors ----------------------------------------------------------------------------------


def big_head(size: int) -> bytes:
    """A response whose header block is exactly ``size`` bytes."""
    base = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: \r\n\r\n"
    return base.replace(b"X-Pad: ", b"X-Pad: " + b"a" * (size - len(base))) + b"ok"


@pytest.mark.parametrize("bytewise", [False, True])
def test_header_block_over_limit(bytewise: bool) -> None:
    raw = big_head(1000)
    pieces = list(range(len(raw))) if bytewise else []
    assert body_of(feed(raw, pieces, max_header_size=1000)) == b"ok"
    with pytest.raises(RemoteProtocolError, match="max_header_size"):
        feed(raw, pieces, max_header_size=999)
    with pytest.raises(RemoteProtocolError, match="max_header_size"):
        feed(big_head(200_000), pieces[:5000])  # the 64 KiB default


def test_informational_heads_count_against_limit() -> None:
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    raw = b"HTTP/1.1 100 Continue\r\nX: " + b"a" * 500 + b"\r\n\r\n" + final
    assert [type(e) for e in feed(raw, max_header_size=600)] == [ResponseStarted, ResponseEnded]
    with pytest.raises(RemoteProtocolError, match="max_header_size"):
        feed(raw, max_header_size=400)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "complete message body"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "complete message body"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "complete response"),
        (b"", "complete response"),
    ],
)
def test_eof_before_response_complete(raw: bytes, match: str) -> None:
    with pytest.raises(RemoteProtocolError, match=match):
        feed(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    ],
)
def test_invalid_responses(raw: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        feed(raw, eof=False)


def test_data_after_eof_and_terminal_state() -> None:
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    conn.receive_data(b"HTTP/1.1 200 OK\r\n")
    conn.receive_data(b"")
    conn.receive_data(b"")  # idempotent
    with pytest.raises(LocalProtocolError, match="after end of stream"):
        conn.receive_data(b"more")
    for call in (
        conn.next_event,
        conn.events,
        conn.end_request,
        conn.start_next_cycle,
        lambda: conn.receive_data(b""),
        lambda: conn.send_body(b"x"),
        lambda: conn.send_request("GET", "/", HOST, None),
    ):
        with pytest.raises(LocalProtocolError, match="earlier error"):
            call()
    assert not conn.is_reusable and not conn.response_complete


def test_remote_error_is_terminal_and_chained() -> None:
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    conn.receive_data(b"NOT HTTP\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as info:
        conn.next_event()
    assert isinstance(info.value.__cause__, h11.RemoteProtocolError)
    with pytest.raises(RemoteProtocolError, match="earlier error"):
        conn.receive_data(b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        conn.send_request("GET", "/", HOST, None)


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("GET", "/", [("Host", "a"), ("Upgrade", "websocket")]),
        ("CONNECT", "a:443", [("Host", "a")]),
        ("GET", "/", []),  # no Host
        ("GET", "/é", HOST),
        ("GET", "/", [*HOST, ("X-Bad", "\u2603")]),
        ("GET", "/", [*HOST, ("Bad Name", "x")]),
        ("GET", "/", [*HOST, ("X", "a\r\nInjected: 1")]),
    ],
)
def test_bad_requests_are_local_errors(
    method: str, target: str, headers: List[Tuple[str, str]]
) -> None:
    conn = HTTP11Connection()
    with pytest.raises(LocalProtocolError):
        conn.send_request(method, target, headers, None)
    with pytest.raises(LocalProtocolError, match="earlier error"):
        conn.send_request("GET", "/", HOST, None)


def test_misuse_is_local_error() -> None:
    with pytest.raises(LocalProtocolError, match="no request"):
        HTTP11Connection().next_event()
    with pytest.raises(LocalProtocolError, match="Content-Length or Transfer-Encoding"):
        HTTP11Connection().start_request("POST", "/", HOST)
    conn = HTTP11Connection()
    conn.start_request("POST", "/", [*HOST, ("Content-Length", "3")])
    with pytest.raises(LocalProtocolError):
        conn.send_body(b"four")
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    with pytest.raises(LocalProtocolError, match="in flight"):
        conn.send_request("GET", "/", HOST, None)
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    with pytest.raises(LocalProtocolError, match="not reusable"):
        conn.start_next_cycle()


def test_events_stops_at_response_end() -> None:
    conn = HTTP11Connection()
    conn.send_request("GET", "/", HOST, None)
    conn.receive_data(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert [type(e) for e in conn.events()] == [ResponseStarted, ResponseEnded]
    assert conn.events() == []


def test_core_module_stays_pure() -> None:
    # Compared with a baseline: site hooks may preload modules (threading) at startup, and
    # on Python 3.9 msgspec's own import of uuid pulls in subprocess, hence threading.
    code = (
        "import sys, h11, msgspec\n"
        "before = set(sys.modules)\n"
        "import openai_proto._http11, openai_proto._headers\n"
        "bad = {'asyncio', 'trio', 'anyio', 'httpcore', 'httpx', 'socket', 'ssl',"
        " 'selectors', 'threading', 'logging', 'email.utils', 'random', 'time'}\n"
        "bad &= set(sys.modules) - before\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


# Split invariance ------------------------------------------------------------------------

SAMPLES = [
    response(200, [("Content-Length", "11"), ("X-Request-Id", "r")], b"hello world"),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nServer: t\r\n\r\nclose-delimited body",
    response(
        200,
        [("Content-Encoding", "gzip"), ("Content-Length", str(len(gzip.compress(TEXT))))],
        gzip.compress(TEXT),
    ),
    response(
        200,
        [("Content-Encoding", "deflate"), ("Content-Length", str(len(raw_deflate(TEXT))))],
        raw_deflate(TEXT),
    ),
    b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip, deflate\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"".join(
        b"%x\r\n%s\r\n" % (len(part), part)
        for part in (raw_deflate(gzip.compress(TEXT))[i : i + 97] for i in range(0, 2000, 97))
        if part
    )
    + b"0\r\n\r\n",
]


@pytest.mark.parametrize("raw", SAMPLES)
def test_whole_and_bytewise_give_same_events(raw: bytes) -> None:
    whole = feed(raw)
    assert isinstance(whole[0], ResponseStarted) and isinstance(whole[-1], ResponseEnded)
    assert feed(raw, list(range(len(raw)))) == whole


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_splits_give_same_events(data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from(SAMPLES))
    pieces = data.draw(st.lists(st.integers(0, len(raw)), max_size=30))
    assert feed(raw, pieces) == feed(raw)


# Headers ---------------------------------------------------------------------------------


def test_headers_mapping() -> None:
    headers = Headers(
        [
            (b"Content-Type", b"application/json"),
            (b"Set-Cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
            (b"X-Caf\xe9", b"\xe9t\xe9"),
        ]
    )
    assert headers["content-type"] == headers["CONTENT-TYPE"] == "application/json"
    assert headers.get("Set-Cookie") == "a=1, b=2"
    assert headers.get_list("SET-COOKIE") == ["a=1", "b=2"]
    assert headers.get_list("missing") == []
    assert headers.get("missing") is None and headers.get("missing", "d") == "d"
    assert headers["x-café"] == "été"
    assert list(headers) == ["content-type", "set-cookie", "x-café"]
    assert len(headers) == 3
    assert "Content-Type" in headers and "nope" not in headers
    assert 3 not in headers  # type: ignore[comparison-overlap]
    assert headers.raw[0] == (b"Content-Type", b"application/json")
    assert headers.multi_items()[1:3] == [("set-cookie", "a=1"), ("set-cookie", "b=2")]
    with pytest.raises(KeyError):
        headers["missing"]
    assert dict(headers)["set-cookie"] == "a=1, b=2"


def test_headers_equality_hash_repr_and_str_pairs() -> None:
    from_str = Headers([("Authorization", "Bearer sk-secret"), ("X-A", "1")])
    from_bytes = Headers([(b"authorization", b"Bearer sk-secret"), (b"x-a", b"1")])
    assert from_str == from_bytes and hash(from_str) == hash(from_bytes)
    assert from_str == {"AUTHORIZATION": "Bearer sk-secret", "x-a": "1"}
    assert from_str != Headers([("X-A", "1")]) and from_str != 1
    assert "sk-secret" not in repr(from_str) and "X-A" in repr(from_str)
    raw = from_str.raw
    raw.clear()  # a copy: the headers stay as they were
    assert from_str["x-a"] == "1"
    assert Headers() == {} and len(Headers()) == 0
