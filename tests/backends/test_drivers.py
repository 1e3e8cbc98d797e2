"""Every driver on real loopback servers, over plain HTTP and over TLS.

Each test of the first part runs on the four (loop, driver) combinations of
``make_http_client`` (asyncio, trio, httpcore on asyncio, httpcore on trio; see
``conftest.py``) and, where the transport matters, over ``http`` and ``tls`` (the fake
server behind a ``trustme`` certificate, trusted by the client's SSL context). Server-side
connection counts come from uvicorn, polled from a worker thread so the loop keeps running.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import anyio
import httpcore
import httpx
import pytest
import trio
import trustme

from backends import AsyncHTTPClient
from backends._base import ConnectError, PoolTimeout, ReadTimeout, WriteError
from backends._engine import Engine
from backends._httpcore import HttpcoreHTTPClient, HttpxHTTPClient
from backends._pool import load_backend
from backends.fake_openai import FakeServer, Reply
from openai_proto import (
    APIConnectionError,
    APITimeoutError,
    AsyncOpenAI,
    AuthenticationError,
)
from openai_proto._config import ClientConfig
from openai_proto._operation import Operation

MakeHTTP = Callable[..., AsyncHTTPClient]

LIST_MODELS = Operation(name="models.list", method="GET", path="/models", content_type="")
CHAT = Operation(
    name="chat.completions.create",
    method="POST",
    path="/chat/completions",
    body_params=("messages", "model", "stream", "max_tokens"),
)
MESSAGES = [{"role": "user", "content": "hi"}]


def stream_body(tokens: int) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "max_tokens": tokens}


@dataclass
class Target:
    """A server and the client SSL context that trusts it (``None`` for plain HTTP)."""

    server: FakeServer
    ssl_context: Optional[ssl.SSLContext]


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.fixture(params=["http", "tls"])
def target(request: pytest.FixtureRequest, server: FakeServer) -> Iterator[Target]:
    if request.param == "http":
        yield Target(server, None)
        return
    tls_server: FakeServer = request.getfixturevalue("tls_server")
    tls_server.state.reset()
    yield Target(tls_server, trusting(request.getfixturevalue("tls_ca")))
    tls_server.state.reset()  # session-wide server: leave it as found


def make_engine(
    make_http_client: MakeHTTP, target: Target, *, max_connections: int = 1000, **config: Any
) -> Engine:
    cfg = ClientConfig.create(api_key="sk-test", base_url=target.server.url, environ={}, **config)
    http = make_http_client(ssl_context=target.ssl_context, max_connections=max_connections)
    return Engine(config=cfg, http=http, rng=lambda: 0.0)


async def server_connections(server: FakeServer, count: int) -> bool:
    """Wait (bounded, in a thread) until the server holds exactly ``count`` connections."""
    return await anyio.to_thread.run_sync(server.wait_for_connections, count)


# -- every driver, plain and TLS ------------------------------------------------------


@pytest.mark.anyio
async def test_request(make_http_client: MakeHTTP, target: Target) -> None:
    assert await server_connections(target.server, 0)
    engine = make_engine(make_http_client, target)
    response = await engine.send(LIST_MODELS)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "req_1"
    body = json.loads(await response.aread())
    assert body["object"] == "list" and body["data"][0]["id"] == "gpt-4o-mini"
    assert response.is_closed
    (recorded,) = target.server.state.requests
    assert recorded.headers["authorization"] == "Bearer sk-test"
    assert recorded.headers["host"] == f"127.0.0.1:{target.server.port}"
    await engine.http.aclose()
    assert await server_connections(target.server, 0)


@pytest.mark.anyio
async def test_streamed_body(make_http_client: MakeHTTP, target: Target) -> None:
    engine = make_engine(make_http_client, target)
    response = await engine.send(CHAT, body=stream_body(300), read_body=False)
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = [chunk async for chunk in response.aiter_bytes()]
    data = b"".join(chunks)
    # role, 300 content events, finish, [DONE]
    assert data.count(b"data: ") == 303
    assert data.endswith(b"data: [DONE]\n\n")
    assert json.loads(target.server.state.requests[0].body)["max_tokens"] == 300
    assert response.is_closed
    await engine.http.aclose()


@pytest.mark.anyio
async def test_keep_alive_reuses_one_connection(make_http_client: MakeHTTP, target: Target) -> None:
    assert await server_connections(target.server, 0)
    engine = make_engine(make_http_client, target)
    for _ in range(2):
        assert (await engine.send(LIST_MODELS)).status_code == 200
        streamed = await engine.send(CHAT, body=stream_body(50), read_body=False)
        assert (await streamed.aread()).endswith(b"data: [DONE]\n\n")
        assert await server_connections(target.server, 1)
    assert engine.http.idle_connections() == 1
    assert len(target.server.state.requests) == 4
    await engine.http.aclose()
    assert await server_connections(target.server, 0)


@pytest.mark.anyio
async def test_cancellation_mid_stream_closes_the_socket(
    make_http_client: MakeHTTP, target: Target
) -> None:
    server = target.server
    assert await server_connections(server, 0)
    server.state.stream_delay = 0.05  # one event every 50 ms: the body outlives the scope
    engine = make_engine(make_http_client, target)
    received = 0
    with anyio.move_on_after(0.3) as scope:
        response = await engine.send(CHAT, body=stream_body(5000), read_body=False)
        async for chunk in response.aiter_bytes():
            received += len(chunk)
    assert scope.cancelled_caught and received > 0
    assert engine.http.idle_connections() == 0
    assert await server_connections(server, 0)  # closed on our side, seen by the server
    server.state.stream_delay = 0.0
    assert (await engine.send(LIST_MODELS)).status_code == 200  # the pool still serves
    assert await server_connections(server, 1)
    await engine.http.aclose()


@pytest.mark.anyio
async def test_pool_limit_queues_then_times_out(make_http_client: MakeHTTP, target: Target) -> None:
    server = target.server
    assert await server_connections(server, 0)
    waiting = make_engine(make_http_client, target, max_connections=2, timeout=10.0)
    impatient = Engine(
        config=ClientConfig.create(
            api_key="sk", base_url=server.url, environ={}, timeout=0.3, max_retries=0
        ),
        http=waiting.http,  # the same pool, with a short pool timeout
    )
    held = [await waiting.send(CHAT, body=stream_body(5000), read_body=False) for _ in range(2)]
    assert await server_connections(server, 2)

    started = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        await impatient.send(LIST_MODELS)
    assert 0.25 <= time.monotonic() - started < 3.0
    assert isinstance(info.value.__cause__, PoolTimeout)

    results: List[int] = []

    async def third() -> None:
        results.append((await waiting.send(LIST_MODELS)).status_code)

    async with anyio.create_task_group() as tg:
        tg.start_soon(third)
        await anyio.sleep(0.2)
        assert results == []  # queued behind the two held streams
        assert server.open_connections() == 2
        await held[0].aclose()  # frees one connection (aborted: body unfinished)
    assert results == [200]
    assert server.open_connections() <= 2
    await held[1].aclose()
    await waiting.http.aclose()
    assert await server_connections(server, 0)


@pytest.mark.anyio
async def test_gzip_body_is_decoded(make_http_client: MakeHTTP, target: Target) -> None:
    payload = {"object": "list", "data": [{"id": "m" * 1000}]}
    target.server.state.script(
        "/v1/models",
        Reply(
            body=gzip.compress(json.dumps(payload).encode()),
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        ),
        Reply(body=b"\x1f\x8b not gzip at all", headers={"content-encoding": "gzip"}),
    )
    engine = make_engine(make_http_client, target, max_retries=0)
    response = await engine.send(LIST_MODELS)
    assert json.loads(await response.aread()) == payload
    with pytest.raises(APIConnectionError) as info:  # never a raw zlib error
        await engine.send(LIST_MODELS)
    assert not isinstance(info.value, APITimeoutError)
    await engine.http.aclose()


@pytest.mark.anyio
async def test_untrusted_certificate_is_a_connection_error(
    make_http_client: MakeHTTP, tls_server: FakeServer
) -> None:
    target = Target(tls_server, None)  # the default trust store does not know tls_ca
    engine = make_engine(make_http_client, target, max_retries=0)
    with pytest.raises(APIConnectionError) as info:
        await engine.send(LIST_MODELS)
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.message == "Connection error."
    assert isinstance(info.value.__cause__, ConnectError)
    await engine.http.aclose()
    assert await server_connections(tls_server, 0)


# -- an idle keep-alive connection closed by the server ---------------------------------

IDLE_TIMEOUT = 0.3


def _short_keepalive_server(certfile: Optional[str] = None) -> FakeServer:
    server = FakeServer(certfile=certfile)
    # uvicorn closes a connection idle for this long; each connection reads it when it is
    # made, so setting it before start() is enough. (FakeServer has no argument for it.)
    server._config.timeout_keep_alive = IDLE_TIMEOUT  # type: ignore[assignment]
    return server


@pytest.fixture(scope="module")
def idle_closing_servers(
    tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, FakeServer]]:
    pem = Path(tmp_path_factory.mktemp("idle")) / "server.pem"
    tls_ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    with _short_keepalive_server() as plain, _short_keepalive_server(str(pem)) as tls:
        yield {"http": plain, "tls": tls}


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["http", "tls"])
async def test_idle_connection_closed_by_server_is_replaced(
    make_http_client: MakeHTTP,
    idle_closing_servers: dict[str, FakeServer],
    tls_ca: trustme.CA,
    scheme: str,
) -> None:
    server = idle_closing_servers[scheme]
    server.state.reset()
    target = Target(server, trusting(tls_ca) if scheme == "tls" else None)
    engine = make_engine(make_http_client, target, max_retries=0)  # no retry can hide it
    assert (await engine.send(LIST_MODELS)).status_code == 200
    assert engine.http.idle_connections() == 1
    await anyio.sleep(IDLE_TIMEOUT + 0.2)  # the server closes the idle connection...
    if scheme == "http":  # (over TLS it then awaits our close_notify, which nobody reads)
        assert await server_connections(server, 0)
    assert (await engine.send(LIST_MODELS)).status_code == 200  # on a new connection
    assert await server_connections(server, 1)
    assert len(server.state.requests) == 2
    await engine.http.aclose()


def response_complete(data: bytes) -> bool:
    """Whether ``data`` holds a whole response framed by ``content-length``."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    raise AssertionError("the fake server frames JSON with content-length")


@pytest.mark.anyio
@pytest.mark.parametrize("scheme", ["http", "tls"])
async def test_native_stream_primitives(
    anyio_backend: str,
    idle_closing_servers: dict[str, FakeServer],
    tls_ca: trustme.CA,
    scheme: str,
) -> None:
    """The driver interface itself: a read timeout, readability of an idle connection
    before and after the server closes it, end of stream, and abort."""
    server = idle_closing_servers[scheme]
    server.state.reset()
    backend = load_backend(anyio_backend)
    tls = scheme == "tls"
    stream = await backend.connect_tcp(
        "127.0.0.1",
        server.port,
        ssl_context=trusting(tls_ca) if tls else None,
        server_hostname="127.0.0.1" if tls else None,
        timeout=5.0,
    )
    try:
        with pytest.raises(ReadTimeout):
            await stream.read(1024, 0.05)  # nothing was asked yet
        request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
        await stream.write(request, 5.0)
        data = b""
        while not response_complete(data):
            chunk = await stream.read(65536, 5.0)
            assert chunk, f"unexpected end of stream after {data!r}"
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 ")
        assert not stream.is_readable()  # idle and open
        await anyio.sleep(IDLE_TIMEOUT + 0.2)
        assert stream.is_readable()  # the server closed it: the pool must not reuse it
        assert await stream.read(1024, 5.0) == b""
    finally:
        stream.abort()
    with pytest.raises(WriteError):
        await stream.write(request, 1.0)
    assert await server_connections(server, 0)


# -- one client, one event-loop library -----------------------------------------------


def test_client_first_used_under_trio_refuses_asyncio(server: FakeServer, driver: str) -> None:
    http: AsyncHTTPClient = AsyncHTTPClient() if driver == "native" else HttpcoreHTTPClient()
    cfg = ClientConfig.create(api_key="sk", base_url=server.url, environ={}, max_retries=0)
    engine = Engine(config=cfg, http=http)

    async def status() -> int:
        return (await engine.send(LIST_MODELS)).status_code

    assert trio.run(status) == 200
    with pytest.raises(RuntimeError, match="runs on trio and cannot be used under asyncio"):
        asyncio.run(status())
    trio.run(http.aclose)
    assert server.wait_for_connections(0)
    assert len(server.state.requests) == 1


# -- the facade with httpcore and httpx clients ----------------------------------------


@pytest.mark.anyio
async def test_facade_over_a_caller_httpcore_pool(target: Target) -> None:
    pool = httpcore.AsyncConnectionPool(ssl_context=target.ssl_context, max_connections=4)
    async with AsyncOpenAI(api_key="sk", base_url=target.server.url, http_client=pool) as client:
        assert isinstance(client.http_client, HttpcoreHTTPClient)
        assert client.http_client.pool is pool
        page = await client.models.list()
        assert [m.id for m in page.data][:2] == ["gpt-4o-mini", "gpt-4o"]
        assert len(pool.connections) == 1
    assert pool.connections == []  # closing the client closed the pool


@pytest.mark.anyio
async def test_facade_backend_httpcore_streams(server: FakeServer) -> None:
    async with AsyncOpenAI(api_key="sk", base_url=server.url, backend="httpcore") as client:
        assert isinstance(client.http_client, HttpcoreHTTPClient)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=7
        )
        async with stream:
            pieces = [c.choices[0].delta.content async for c in stream if c.choices]
        assert pieces[1:8] == ["Hello!", " You", " said:", " hi", "Hello!", " You", " said:"]
        assert stream.response.is_closed


@pytest.mark.anyio
async def test_facade_over_an_httpx_client(target: Target, refused_port: int) -> None:
    verify: Any = target.ssl_context or True
    async with httpx.AsyncClient(verify=verify) as http:
        client = AsyncOpenAI(api_key="sk", base_url=target.server.url, http_client=http)
        assert isinstance(client.http_client, HttpxHTTPClient)
        page = await client.models.list()
        assert page.data[0].id == "gpt-4o-mini"
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=3
        )
        async with stream:
            chunks = [c async for c in stream]
        assert chunks[-1].choices[0].finish_reason == "length"
        target.server.state.api_key = "sk-other"
        with pytest.raises(AuthenticationError) as info:
            await client.models.list()
        assert info.value.status_code == 401 and info.value.request_id is not None
        refused = client.with_options(
            base_url=f"http://127.0.0.1:{refused_port}/v1", max_retries=0, timeout=2.0
        )
        with pytest.raises(APIConnectionError) as error:
            await refused.models.list()
        assert not isinstance(error.value, APITimeoutError)
        assert isinstance(error.value.__cause__, ConnectError)


def test_facade_rejects_other_http_clients() -> None:
    with httpx.Client() as sync_client, pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        AsyncOpenAI(api_key="sk", http_client=sync_client)
