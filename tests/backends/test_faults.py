"""Faults injected on every driver: resets, truncation, malformed framing, bombs, stalls.

A raw TCP server (``_raw_server.py``, plain sockets, no HTTP library) answers each request
with scripted bytes and behaviours; the client is the public facade, ``AsyncOpenAI`` with
this combination's HTTP client, calling real resources. Each fault must end in the
documented exception (never a raw h11, httpcore, trio, ssl or socket error), within a
bound (``anyio.fail_after``), without leaking the API key into a message, a ``repr`` or a
log record. Every test runs on asyncio, trio, httpcore-on-asyncio and httpcore-on-trio.
"""

from __future__ import annotations

import gzip
import inspect
import io
import logging
import struct
import time
import tracemalloc
import zlib
from contextlib import ExitStack
from functools import cache
from typing import Any, Callable, Iterator, List, Optional, Type

import anyio
import pytest
from _raw_server import Handler, RawConnection, RawServer, chunk, response, sse_event

from backends import AsyncHTTPClient, AsyncOpenAI
from backends._httpcore import HttpcoreHTTPClient
from openai_proto import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    InternalServerError,
    OpenAIError,
)
from openai_proto._http11 import DEFAULT_MAX_COMPRESSION_RATIO

pytestmark = pytest.mark.anyio

KEY = "sk-proj-faults-secret-0123456789abcdef"
MESSAGES: Any = [{"role": "user", "content": "hi"}]
JSON = ("Content-Type", "application/json")
SSE = ("Content-Type", "text/event-stream")
CHUNKED = ("Transfer-Encoding", "chunked")
MODELS = b'{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1,"owned_by":"x"}]}'
CHAT = (
    b'{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":'
    b'[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}'
)
#: Bound on every test: a fault must end in an exception, never in a hang.
LIMIT = 5.0
#: The clients' timeout (connect, read, write, pool), below LIMIT: a stall the client
#: should have detected otherwise shows up as a timeout, not as the test's own bound.
TIMEOUT = 3.0


def chat_chunk(content: str) -> str:
    return (
        '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",'
        f'"choices":[{{"index":0,"delta":{{"content":"{content}"}},"finish_reason":null}}]}}'
    )


# -- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG; after the test, no record may show the API key."""
    with caplog.at_level(logging.DEBUG):
        yield caplog
    for record in caplog.records:
        assert KEY not in record.getMessage(), redacted(record.getMessage())


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], RawServer]]:
    """``serve(handler)``: a raw server for this test, stopped (and checked) at teardown."""
    servers: List[RawServer] = []
    with ExitStack() as stack:

        def start(handler: Handler) -> RawServer:
            server = stack.enter_context(RawServer(handler))
            servers.append(server)
            return server

        yield start
    for server in servers:
        assert server.errors == [], server.errors


@pytest.fixture
def make_client(make_http_client: Callable[..., AsyncHTTPClient]) -> Callable[..., AsyncOpenAI]:
    """``make_client(server, max_retries=..., timeout=...)`` on this test's combination.

    The pool has a single connection slot: a slot a fault leaks shows up as a pool
    timeout on the next call, which several tests make to check the client still serves.
    """

    def make(server: RawServer, *, max_retries: int = 0, timeout: float = TIMEOUT) -> AsyncOpenAI:
        return AsyncOpenAI(
            base_url=server.url,
            api_key=KEY,
            http_client=make_http_client(max_connections=1),
            max_retries=max_retries,
            timeout=timeout,
            _environ={},
        )

    return make


async def call(client: AsyncOpenAI, kind: str) -> Any:
    """One call of a real resource: ``models.list`` or a plain ``chat.create``."""
    if kind == "models.list":
        return await client.models.list()
    return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


async def stream_chat(client: AsyncOpenAI) -> Any:
    return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)


def redacted(text: str) -> str:
    """``text`` fit for an assertion message (pytest prints those)."""
    return text.replace(KEY, "<THE API KEY>")


def assert_secret_kept(exc: BaseException, client: AsyncOpenAI) -> None:
    """The key is in no message or ``repr`` of the exception (and its causes), of the
    response it carries, nor of the client."""
    texts = [repr(client), repr(client.http_client), repr(getattr(exc, "response", None))]
    seen: Optional[BaseException] = exc
    while seen is not None:
        texts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    for text in texts:
        assert KEY not in text, redacted(text)


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll ``check`` (cheap, thread-safe) until true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.01)
    return True


def reply_then(data: bytes, ending: Callable[[RawConnection], object]) -> Handler:
    """A handler answering a connection's first request with ``data``, then ``ending``."""

    def handler(conn: RawConnection) -> None:
        if conn.read_request() is not None and conn.send(data):
            ending(conn)

    return handler


def serve_models(conn: RawConnection) -> None:
    """A well-behaved keep-alive server: every request gets the model list."""
    while conn.read_request() is not None:
        if not conn.send(response(200, MODELS, headers=[JSON])):
            return


def fault_once(fault: Handler) -> Handler:
    """``fault`` on the first connection, :func:`serve_models` on the later ones."""

    def handler(conn: RawConnection) -> None:
        (fault if conn.index == 0 else serve_models)(conn)

    return handler


async def assert_still_serves(client: AsyncOpenAI, server: RawServer) -> None:
    """After a fault the client (one pool slot) still serves the next call."""
    page = await client.models.list()
    assert [m.id for m in page.data] == ["gpt-4o"]


def wait_close(conn: RawConnection) -> None:
    conn.wait_peer_close()


def reset_soon(conn: RawConnection) -> None:
    time.sleep(0.05)  # let the client take the head in, so the reset hits the body
    conn.reset()


# -- 1. a reset in the middle of the body -----------------------------------------------


@pytest.mark.parametrize("kind", ["models.list", "chat.create"])
async def test_reset_mid_body_is_a_connection_error_after_retries(
    kind: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    body = MODELS if kind == "models.list" else CHAT
    server = serve(
        reply_then(response(200, body[:20], headers=[JSON], content_length=len(body)), reset_soon)
    )
    with anyio.fail_after(LIMIT):
        async with make_client(server, max_retries=1) as client:
            with pytest.raises(APIConnectionError) as info:
                await call(client, kind)
    assert type(info.value) is APIConnectionError and info.value.message == "Connection error."
    assert server.connections == 2 and len(server.requests) == 2  # one retry, as configured
    assert_secret_kept(info.value, client)


# -- 2, 3, 7. broken framing -------------------------------------------------------------

FRAMING = {
    # 2. chunked body cut before its last chunk (EOF)
    "truncated-chunked": (
        response(200, chunk(MODELS[:30]), headers=[JSON, CHUNKED], content_length=None),
        "close",
    ),
    # 3. a chunk-size line that is not hexadecimal (the connection stays open)
    "invalid-chunk-size": (
        response(
            200, b"zz\r\n" + MODELS + b"\r\n0\r\n\r\n", headers=[JSON, CHUNKED], content_length=None
        ),
        "wait",
    ),
    # 3'. a chunk longer than its announced size
    "chunk-overrun": (
        response(
            200, b"4\r\n" + MODELS + b"\r\n0\r\n\r\n", headers=[JSON, CHUNKED], content_length=None
        ),
        "wait",
    ),
    # a gzip body that is not gzip (the HTTP framing is sound: the server keeps the
    # connection open for more requests, as a real one would)
    "invalid-gzip": (
        response(200, b"\x1f\x8b\x08\x00garbage", headers=[JSON, ("Content-Encoding", "gzip")]),
        "keep-alive",
    ),
    # a gzip body cut short (the HTTP framing itself is complete)
    "truncated-gzip": (
        response(200, gzip.compress(MODELS)[:-12], headers=[JSON, ("Content-Encoding", "gzip")]),
        "keep-alive",
    ),
    # not HTTP at all, then EOF
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n", "close"),
    # EOF before any response byte
    "empty-response": (b"", "close"),
    # 7. Content-Length larger than the body, then EOF
    "short-content-length": (
        response(200, MODELS, headers=[JSON], content_length=len(MODELS) + 100),
        "close",
    ),
}


@pytest.mark.parametrize("kind", ["models.list", "chat.create"])
@pytest.mark.parametrize("fault", list(FRAMING))
async def test_broken_framing_is_a_connection_error(
    fault: str,
    kind: str,
    serve: Callable[[Handler], RawServer],
    make_client: Callable[..., AsyncOpenAI],
) -> None:
    data, ending = FRAMING[fault]
    endings = {"wait": wait_close, "close": RawConnection.close, "keep-alive": serve_models}
    fault_handler = reply_then(data, endings[ending])
    server = serve(fault_once(fault_handler))
    with anyio.fail_after(LIMIT):
        async with make_client(server) as client:
            with pytest.raises(APIConnectionError) as info:
                await call(client, kind)
            assert type(info.value) is APIConnectionError
            assert len(server.requests) == 1
            await assert_still_serves(client, server)
    assert_secret_kept(info.value, client)


# -- 4. a header block over the limit ------------------------------------------------------


def huge_head(conn: RawConnection) -> None:
    """A complete head with one 256 KiB header, then a small body (over both the native
    pool's 64 KiB limit and httpcore's 100 KiB)."""
    if conn.read_request() is not None:
        big = ("X-Big", "a" * (256 * 1024))
        if conn.send(response(200, MODELS, headers=[JSON, big])):
            conn.wait_peer_close()


def endless_head(conn: RawConnection) -> None:
    """Header lines that never end (up to 4 MiB), so only a limit can stop the client."""
    if conn.read_request() is not None and conn.send(b"HTTP/1.1 200 OK\r\n"):
        line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        for _ in range(4096):
            if not conn.send(line):
                return
        conn.wait_peer_close()


@pytest.mark.parametrize("shape", ["complete", "endless"])
async def test_header_block_over_the_limit_is_a_connection_error(
    shape: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    server = serve(fault_once(huge_head if shape == "complete" else endless_head))
    with anyio.fail_after(LIMIT):
        async with make_client(server) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.models.list()
            assert type(info.value) is APIConnectionError
            await assert_still_serves(client, server)
    assert_secret_kept(info.value, client)


# -- 5. a gzip bomb ---------------------------------------------------------------------------


@cache
def gzip_bomb() -> bytes:
    """One gzip member holding 1 GiB of zeros in about 1 MiB.

    Every 1 MiB block is compressed after a full flush, so each block's output is the same
    and is repeated rather than recompressed; the trailer carries the real CRC-32 and size,
    so the member is valid to the end (RFC 1952).
    """
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflate.compress(b"")
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (1 << 30) & 0xFFFFFFFF)
    return header + block * 1024 + deflate.flush(zlib.Z_FINISH) + trailer


def test_the_gzip_bomb_is_what_it_claims() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 2 << 20
    assert struct.unpack("<I", bomb[-4:]) == (1 << 30,)  # ISIZE: 1 GiB inflated
    with gzip.GzipFile(fileobj=io.BytesIO(bomb)) as inflated:
        assert inflated.read(1 << 20) == bytes(1 << 20)


@pytest.mark.parametrize("kind", ["models.list", "chat.stream"])
async def test_gzip_bomb_fails_fast_in_little_memory(
    kind: str,
    capsys: pytest.CaptureFixture[str],
    serve: Callable[[Handler], RawServer],
    make_client: Callable[..., AsyncOpenAI],
) -> None:
    bomb = gzip_bomb()
    content_type = SSE if kind == "chat.stream" else JSON
    head = response(
        200, headers=[content_type, ("Content-Encoding", "gzip")], content_length=len(bomb)
    )
    server = serve(fault_once(reply_then(head + bomb, wait_close)))
    started = time.monotonic()
    tracemalloc.start()
    try:
        with anyio.fail_after(LIMIT * 2):
            async with make_client(server) as client:
                with pytest.raises(OpenAIError) as info:
                    if kind == "chat.stream":
                        stream = await stream_chat(client)
                        async with stream:
                            async for _ in stream:
                                pass
                    else:
                        await client.models.list()
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                elapsed = time.monotonic() - started
                await assert_still_serves(client, server)
    finally:
        tracemalloc.stop()
    assert_secret_kept(info.value, client)
    with capsys.disabled():  # the measurement, for the report
        print(f"\n{kind}: peak traced memory {peak / (1 << 20):.1f} MiB in {elapsed:.2f} s")
    assert elapsed < LIMIT
    assert peak < 64 << 20, f"peak traced memory {peak / (1 << 20):.0f} MiB"
    causes = error_chain(info.value)
    assert any("looks like a decompression bomb" in text for text in causes), causes


def error_chain(exc: BaseException) -> List[str]:
    """The messages of ``exc`` and of its causes, outermost first."""
    texts: List[str] = []
    seen: Optional[BaseException] = exc
    while seen is not None:
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return texts


def test_both_pools_default_to_the_cores_compression_ratio() -> None:
    for pool in (AsyncHTTPClient, HttpcoreHTTPClient):
        default = inspect.signature(pool).parameters["max_compression_ratio"].default
        assert default == DEFAULT_MAX_COMPRESSION_RATIO, pool


@pytest.mark.parametrize("bound", ["default", "off"])
async def test_the_compression_ratio_bound_is_a_client_setting(
    bound: str, anyio_backend: str, driver: str, serve: Callable[[Handler], RawServer]
) -> None:
    """16 MiB of valid JSON (mostly blanks) at ~1000:1: a bomb for the default bound, an
    ordinary answer once the bound is off."""
    wire = gzip.compress(MODELS[:-1] + b" " * (16 << 20) + b"}", 9)
    head = [JSON, ("Content-Encoding", "gzip")]
    server = serve(fault_once(reply_then(response(200, wire, headers=head), wait_close)))
    limits: Any = {} if bound == "default" else {"max_compression_ratio": None}
    http: Any = (
        AsyncHTTPClient(backend=anyio_backend, max_connections=1, **limits)
        if driver == "native"
        else HttpcoreHTTPClient(max_connections=1, **limits)
    )
    client = AsyncOpenAI(
        base_url=server.url, api_key=KEY, http_client=http, max_retries=0, _environ={}
    )
    with anyio.fail_after(LIMIT):
        async with client:
            if bound == "off":
                page = await client.models.list()
                assert [m.id for m in page.data] == ["gpt-4o"]
                return
            with pytest.raises(APIConnectionError) as info:
                await client.models.list()
            await assert_still_serves(client, server)
    causes = error_chain(info.value)
    assert any("looks like a decompression bomb" in text for text in causes), causes


# -- 6. slow drips: a read timeout bounds one wait for bytes, not the whole body ---------


@pytest.mark.parametrize("part", ["head", "body"])
async def test_drip_slower_than_the_read_timeout_times_out(
    part: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    data = response(200, MODELS, headers=[JSON])
    split = 0 if part == "head" else len(data) - len(MODELS)

    def handler(conn: RawConnection) -> None:
        if conn.read_request() is not None and conn.send(data[:split]):
            conn.drip(data[split:], 0.3)

    server = serve(handler)
    started = time.monotonic()
    with anyio.fail_after(LIMIT):
        async with make_client(server, timeout=0.2) as client:
            with pytest.raises(APITimeoutError) as info:
                await client.models.list()
    assert time.monotonic() - started < 1.5
    assert info.value.message == "Request timed out."
    assert_secret_kept(info.value, client)


async def test_steady_drip_within_the_read_timeout_succeeds(
    serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    body = b'{"data":[]}'

    def handler(conn: RawConnection) -> None:
        if conn.read_request() is not None and conn.send(
            response(200, headers=[JSON], content_length=len(body))
        ):
            conn.drip(body, 0.05)

    server = serve(handler)
    started = time.monotonic()
    with anyio.fail_after(LIMIT):
        async with make_client(server, timeout=0.2) as client:
            page = await client.models.list()
    assert page.data == []
    assert time.monotonic() - started > 0.45  # well past the 0.2 s read timeout in total


# -- 8. keep-alive connections closed by the server -----------------------------------------


def close_after_each_response(conn: RawConnection) -> None:
    if conn.read_request() is not None:
        conn.send(response(200, MODELS, headers=[JSON]))


def close_as_next_request_arrives(conn: RawConnection) -> None:
    """The first connection dies as the second request reaches it (unread: the close
    becomes a reset); later connections answer normally."""
    if conn.index == 0:
        if conn.read_request() is not None and conn.send(response(200, MODELS, headers=[JSON])):
            if conn.wait_readable():
                conn.close()
        return
    while conn.read_request() is not None:
        conn.send(response(200, MODELS, headers=[JSON]))


@pytest.mark.parametrize("when", ["while-idle", "as-request-arrives"])
async def test_keep_alive_closed_by_server_is_replaced_without_a_retry(
    when: str,
    serve: Callable[[Handler], RawServer],
    make_client: Callable[..., AsyncOpenAI],
) -> None:
    handler = close_after_each_response if when == "while-idle" else close_as_next_request_arrives
    server = serve(handler)
    with anyio.fail_after(LIMIT):
        async with make_client(server, max_retries=0) as client:
            first = await client.models.list()
            assert [m.id for m in first.data] == ["gpt-4o"]
            if when == "while-idle":
                assert await eventually(lambda: server.connections == 1)
                await anyio.sleep(0.1)  # the server's FIN reaches the idle connection
            second = await client.models.list()
    assert [m.id for m in second.data] == ["gpt-4o"]
    assert server.connections == 2
    # Two requests read, each once, with max_retries=0: no retry was spent. (When the
    # connection dies under the second request, the native pool sends it again on a new
    # connection before any response byte: the dead one never read it.)
    assert len(server.requests) == 2


@pytest.mark.parametrize("cut", ["mid-head-eof", "mid-head-reset"])
async def test_a_reused_connection_broken_after_answer_bytes_is_not_replayed(
    cut: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    """Bytes of an answer arrived: the server read the request and may have acted on it,
    so it is never sent again (RFC 9112 §9.3.1), even on a kept-alive connection."""

    def handler(conn: RawConnection) -> None:
        if conn.index > 0:
            return serve_models(conn)
        if conn.read_request() is None or not conn.send(response(200, MODELS, headers=[JSON])):
            return
        if conn.read_request() is not None and conn.send(b"HTTP/1.1 200 OK\r\nContent-Ty"):
            time.sleep(0.05)  # the partial head reaches the client first
            if cut == "mid-head-eof":
                conn.close()
            else:
                conn.reset()

    server = serve(handler)
    with anyio.fail_after(LIMIT):
        async with make_client(server, max_retries=0) as client:
            await client.models.list()
            with pytest.raises(APIConnectionError):
                await client.models.list()
    assert server.connections == 1 and len(server.requests) == 2


# -- 9. invalid JSON in a 200 ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["models.list", "chat.create"])
async def test_invalid_json_in_a_200_is_a_validation_error_with_the_text(
    kind: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    text = '{"data": [not json'
    server = serve(reply_then(response(200, text.encode(), headers=[JSON]), wait_close))
    with anyio.fail_after(LIMIT):
        async with make_client(server, max_retries=2) as client:
            with pytest.raises(APIResponseValidationError) as info:
                await call(client, kind)
    assert info.value.body == text and info.value.status_code == 200
    assert len(server.requests) == 1  # a body that does not decode is not retried
    assert_secret_kept(info.value, client)


async def test_invalid_json_in_a_stream_event_is_a_validation_error_after_good_events(
    serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    body = sse_event(chat_chunk("ok")) + sse_event("{not json") + sse_event("[DONE]")
    server = serve(reply_then(response(200, body, headers=[SSE]), wait_close))
    received: List[Any] = []
    with anyio.fail_after(LIMIT):
        async with make_client(server) as client:
            stream = await stream_chat(client)
            async with stream:
                with pytest.raises(APIResponseValidationError) as info:
                    async for event in stream:
                        received.append(event)
    assert [e.choices[0].delta.content for e in received] == ["ok"]
    assert info.value.body == "{not json"
    assert_secret_kept(info.value, client)


# -- 10. an HTML 502 from a proxy ----------------------------------------------------------

HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@pytest.mark.parametrize("kind", ["models.list", "chat.create", "chat.stream"])
async def test_html_502_is_an_internal_server_error_with_the_text_body(
    kind: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    headers = [("Content-Type", "text/html"), ("Server", "nginx"), ("retry-after-ms", "1")]

    def handler(conn: RawConnection) -> None:
        while conn.read_request() is not None:
            conn.send(response(502, HTML_502.encode(), headers=headers))

    server = serve(handler)
    with anyio.fail_after(LIMIT):
        async with make_client(server, max_retries=1) as client:
            with pytest.raises(InternalServerError) as info:
                if kind == "chat.stream":
                    await stream_chat(client)
                else:
                    await call(client, kind)
    assert info.value.status_code == 502
    assert info.value.body == HTML_502
    assert info.value.message.startswith("Error code: 502 - <html>")
    assert len(server.requests) == 2  # a 502 is retried once, as configured
    assert_secret_kept(info.value, client)


# -- 11. a stream cut after some events ------------------------------------------------------

STREAM_ENDINGS = {
    "reset": lambda conn: conn.reset(),
    "eof-between-chunks": lambda conn: conn.close(),
    "eof-mid-chunk": lambda conn: conn.send(b"40\r\ndata: {") and conn.close(),
    "invalid-chunk-size": lambda conn: conn.send(b"xyz\r\n") and conn.wait_peer_close(),
}


@pytest.mark.parametrize("ending", [*STREAM_ENDINGS, "stall"])
async def test_stream_cut_keeps_delivered_events_then_raises(
    ending: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    events = chunk(sse_event(chat_chunk("Hel"))) + chunk(sse_event(chat_chunk("lo")))

    def handler(conn: RawConnection) -> None:
        if conn.read_request() is None:
            return
        if conn.send(response(200, events, headers=[SSE, CHUNKED], content_length=None)):
            if ending == "stall":
                conn.wait_peer_close()
            elif conn.wait_for_proceed():
                STREAM_ENDINGS[ending](conn)

    server = serve(fault_once(handler))
    received: List[Any] = []
    expected: Type[APIConnectionError] = (
        APITimeoutError if ending == "stall" else APIConnectionError
    )
    with anyio.fail_after(LIMIT):
        async with make_client(server, max_retries=2, timeout=0.5) as client:
            stream = await stream_chat(client)
            async with stream:
                with pytest.raises(expected) as info:
                    async for event in stream:
                        received.append(event)
                        if len(received) == 2:
                            server.proceed()
            assert len(server.requests) == 1  # a stream is not retried once its head arrived
            await assert_still_serves(client, server)
    assert type(info.value) is expected
    assert [e.choices[0].delta.content for e in received] == ["Hel", "lo"]
    assert_secret_kept(info.value, client)


# -- 12. the key in the request object an exception carries --------------------------------


def _fault_handler(fault: str) -> Handler:
    if fault == "connection":
        return reply_then(
            response(200, MODELS[:10], headers=[JSON], content_length=len(MODELS)),
            RawConnection.close,
        )
    if fault == "status":
        return reply_then(
            response(502, HTML_502.encode(), headers=[("Content-Type", "text/html")]), wait_close
        )
    return reply_then(response(200, b"not json", headers=[JSON]), wait_close)


@pytest.mark.parametrize("fault", ["connection", "status", "validation"])
async def test_the_request_an_exception_carries_hides_the_api_key(
    fault: str,
    serve: Callable[[Handler], RawServer],
    make_client: Callable[..., AsyncOpenAI],
) -> None:
    server = serve(_fault_handler(fault))
    with anyio.fail_after(LIMIT):
        async with make_client(server) as client:
            with pytest.raises(OpenAIError) as info:
                await client.models.list()
    exc = info.value
    assert isinstance(exc, (APIConnectionError, InternalServerError, APIResponseValidationError))
    assert exc.request is not None and exc.request.url == f"{server.url}/models"
    for text in (str(exc.request), repr(exc.request)):
        assert KEY not in text, redacted(text)


# -- cancellation: no socket is left open -------------------------------------------------


@pytest.mark.parametrize("phase", ["head", "body", "stream"])
async def test_cancellation_closes_the_socket(
    phase: str, serve: Callable[[Handler], RawServer], make_client: Callable[..., AsyncOpenAI]
) -> None:
    def handler(conn: RawConnection) -> None:
        if conn.read_request() is None:
            return
        if phase == "body":
            conn.send(response(200, MODELS[:20], headers=[JSON], content_length=len(MODELS)))
        elif phase == "stream":
            conn.send(
                response(
                    200,
                    chunk(sse_event(chat_chunk("Hel"))),
                    headers=[SSE, CHUNKED],
                    content_length=None,
                )
            )
        conn.wait_peer_close()

    server = serve(fault_once(handler))
    received: List[Any] = []
    with anyio.fail_after(LIMIT):
        async with make_client(server) as client:
            with anyio.move_on_after(0.3) as scope:
                if phase == "stream":
                    stream = await stream_chat(client)
                    async for event in stream:
                        received.append(event)
                else:
                    await client.models.list()
            assert scope.cancelled_caught
            if phase == "stream":
                assert len(received) == 1
                await stream.close()
            # The server sees the close while the client is still open: the socket was
            # closed on cancellation, not left to the pool or the garbage collector.
            assert await eventually(lambda: server.peer_closes == 1)
            assert server.connections == 1
            await assert_still_serves(client, server)
