"""The engine and pool on a real loopback server: retries, timeouts, keep-alive, cancellation.

Operations are built by hand here so these tests exercise the engine alone; the facade
tests go through the generated resources. Every test runs on the four (loop, driver)
combinations of ``make_http_client`` (see ``conftest.py``).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import anyio
import pytest

from backends import AsyncHTTPClient
from backends._engine import Engine
from backends.fake_openai import FakeServer, Reply
from openai_proto import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    RateLimitError,
)
from openai_proto._config import ClientConfig
from openai_proto._operation import Operation
from openai_proto._request import RequestOptions

pytestmark = pytest.mark.anyio

LIST_MODELS = Operation(name="models.list", method="GET", path="/models", content_type="")
CHAT = Operation(
    name="chat.completions.create",
    method="POST",
    path="/chat/completions",
    body_params=("messages", "model"),
)
CHAT_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


MakeHTTP = Callable[..., AsyncHTTPClient]


@pytest.fixture
def make_engine(make_http_client: MakeHTTP) -> Callable[..., Engine]:
    """``make_engine(base_url, **config)``: an engine over this combination's HTTP client."""

    def make(base_url: str, **config: Any) -> Engine:
        cfg = ClientConfig.create(api_key="sk-test", base_url=base_url, environ={}, **config)
        return Engine(config=cfg, http=make_http_client(), rng=lambda: 0.0)

    return make


async def server_connections(server: FakeServer, count: int) -> bool:
    """Wait (bounded) until the server holds exactly ``count`` client connections."""
    return await anyio.to_thread.run_sync(server.wait_for_connections, count)


async def test_keep_alive_reuses_one_connection(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    assert await server_connections(server, 0)
    engine = make_engine(server.url)
    for _ in range(3):
        response = await engine.send(LIST_MODELS)
        assert response.status_code == 200
        assert await server_connections(server, 1)
    assert engine.http.idle_connections() == 1
    assert len(server.state.requests) == 3
    await engine.http.aclose()
    assert await server_connections(server, 0)


async def test_429_then_200_is_retried_after_retry_after_ms(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    server.state.script("/v1/chat/completions", Reply(status=429, headers={"retry-after-ms": "50"}))
    engine = make_engine(server.url)
    started = time.monotonic()
    response = await engine.send(CHAT, body=CHAT_BODY)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.05
    assert len(server.state.requests) == 2
    await engine.http.aclose()


async def test_500_twice_then_200_succeeds(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    server.state.script(
        "/v1/chat/completions",
        Reply(status=500, json={"error": {"message": "boom"}}),
        Reply(status=500, json={"error": {"message": "boom"}}),
    )
    engine = make_engine(server.url)
    response = await engine.send(CHAT, body=CHAT_BODY)
    assert response.status_code == 200
    assert len(server.state.requests) == 3
    await engine.http.aclose()


async def test_500_three_times_raises_after_two_retries(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    server.state.script(
        "/v1/chat/completions", *[Reply(status=503, json={"error": {"message": "down"}})] * 3
    )
    engine = make_engine(server.url)
    with pytest.raises(InternalServerError) as info:
        await engine.send(CHAT, body=CHAT_BODY)
    assert info.value.status_code == 503
    assert info.value.message.startswith("Error code: 503")
    assert len(server.state.requests) == 3
    await engine.http.aclose()


async def test_429_without_retries_raises_rate_limit(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    server.state.script(
        "/v1/chat/completions",
        Reply(
            status=429,
            headers={"retry-after-ms": "1"},
            json={"error": {"message": "slow", "code": "rate"}},
        ),
    )
    engine = make_engine(server.url, max_retries=0)
    with pytest.raises(RateLimitError) as info:
        await engine.send(CHAT, body=CHAT_BODY)
    assert info.value.code == "rate" and info.value.body == {"message": "slow", "code": "rate"}
    await engine.http.aclose()


async def test_401_carries_request_id(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    server.state.api_key = "sk-right"
    engine = make_engine(server.url)
    with pytest.raises(AuthenticationError) as info:
        await engine.send(LIST_MODELS)
    assert info.value.request_id is not None and info.value.request_id.startswith("req_")
    assert info.value.status_code == 401
    assert len(server.state.requests) == 1  # 401 is not retried
    await engine.http.aclose()


async def test_stall_past_read_timeout_raises_timeout(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    server.state.script("/v1/models", Reply(delay=2.0))
    engine = make_engine(server.url, timeout=0.2, max_retries=0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await engine.send(LIST_MODELS)
    assert time.monotonic() - started < 1.5
    await engine.http.aclose()


async def test_refused_port_raises_connection_error(
    refused_port: int, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(f"http://127.0.0.1:{refused_port}/v1", max_retries=1)
    with pytest.raises(APIConnectionError) as info:
        await engine.send(LIST_MODELS)
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.message == "Connection error."
    await engine.http.aclose()


async def test_pool_timeout_when_every_connection_is_busy(
    server: FakeServer, make_http_client: MakeHTTP
) -> None:
    cfg = ClientConfig.create(
        api_key="k", base_url=server.url, environ={}, timeout=0.3, max_retries=0
    )
    engine = Engine(config=cfg, http=make_http_client(max_connections=1))
    server.state.stream_delay = 0.0
    held = await engine.send(CHAT, body={**CHAT_BODY, "stream": True}, read_body=False)
    with pytest.raises(APITimeoutError):
        await engine.send(LIST_MODELS)
    await held.aclose()
    assert (await engine.send(LIST_MODELS)).status_code == 200
    await engine.http.aclose()


async def test_abandoned_body_is_not_returned_to_the_pool(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(server.url)
    response = await engine.send(
        CHAT, body={**CHAT_BODY, "stream": True, "max_tokens": 5000}, read_body=False
    )
    # Abandon the body half-read. The iterator is closed explicitly: trio reports an async
    # generator left to the garbage collector as a ResourceWarning (an error here).
    chunks = response.aiter_bytes()
    try:
        assert await chunks.__anext__()
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
    await response.aclose()
    assert engine.http.idle_connections() == 0
    assert (await engine.send(LIST_MODELS)).status_code == 200
    assert engine.http.idle_connections() == 1
    await engine.http.aclose()


async def test_cancellation_mid_stream_closes_the_socket(
    server: FakeServer, make_engine: Callable[..., Engine]
) -> None:
    assert await server_connections(server, 0)
    server.state.stream_delay = 0.2  # the server drips batches slowly
    engine = make_engine(server.url)
    received = 0
    with anyio.move_on_after(0.5) as scope:
        response = await engine.send(
            CHAT, body={**CHAT_BODY, "stream": True, "max_tokens": 2000}, read_body=False
        )
        async for chunk in response.aiter_bytes():
            received += len(chunk)
    assert scope.cancelled_caught and received > 0
    assert engine.http.idle_connections() == 0
    assert await server_connections(server, 0)  # the socket was closed, not leaked
    server.state.stream_delay = 0.0
    assert (await engine.send(LIST_MODELS)).status_code == 200  # the pool still serves
    await engine.http.aclose()


async def test_api_key_provider_is_awaited_per_attempt(
    server: FakeServer, make_http_client: MakeHTTP
) -> None:
    calls = []

    async def provider() -> str:
        calls.append(1)
        return f"sk-{len(calls)}"

    server.state.script("/v1/models", Reply(status=500))
    cfg = ClientConfig.create(has_key_provider=True, base_url=server.url, environ={})
    engine = Engine(config=cfg, http=make_http_client(), key_provider=provider, rng=lambda: 0.0)
    await engine.send(LIST_MODELS, options=RequestOptions())
    assert [r.headers["authorization"] for r in server.state.requests] == [
        "Bearer sk-1",
        "Bearer sk-2",
    ]
    await engine.http.aclose()


async def test_closed_response_releases_its_pool_slot_once(server: FakeServer) -> None:
    # A body iterator abandoned after aclose() used to release the slot a second time
    # when it was finalised, letting the pool exceed max_connections.
    import gc

    cfg = ClientConfig.create(
        api_key="k", base_url=server.url, environ={}, timeout=0.5, max_retries=0
    )
    engine = Engine(config=cfg, http=AsyncHTTPClient(max_connections=1))
    response = await engine.send(
        CHAT, body={**CHAT_BODY, "stream": True, "max_tokens": 5000}, read_body=False
    )
    body = response.aiter_bytes()
    await body.__anext__()
    await response.aclose()
    await body.aclose()  # type: ignore[attr-defined]
    gc.collect()
    first = await engine.send(CHAT, body={**CHAT_BODY, "stream": True}, read_body=False)
    with pytest.raises(APITimeoutError):  # the single slot is taken: a second send must wait
        await engine.send(LIST_MODELS)
    await first.aclose()
    await engine.http.aclose()
