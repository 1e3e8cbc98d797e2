"""``client.responses.connect()``: the Responses API over a WebSocket, against the
``websockets`` server of ``realtime_server.py`` (its ``/responses`` mode).

The async tests run on the four (loop, driver) combinations of ``make_http_client``
(asyncio, trio, httpcore on each; see ``conftest.py``), the conversation also over TLS; the
last section runs on the blocking client. What is shared with Realtime (frames, faults,
keepalive, the queue's limits) is covered by the Realtime suites: here, what the Responses
connection adds — its URL and headers, its event union, its helpers — and that the
reconnection and the handlers work through it. Every test is bounded in time.
"""

from __future__ import annotations

import ssl
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import anyio
import pytest
import trustme
from realtime_server import RealtimeServer

from backends import AsyncHTTPClient
from backends._responses_ws import AsyncResponsesConnection, AsyncResponsesConnectionManager
from backends._sync._pool import SyncHTTPClient
from backends._sync._responses_ws import ResponsesConnection, ResponsesConnectionManager
from openai_proto import (
    AsyncOpenAI,
    AuthenticationError,
    OpenAI,
    OpenAIError,
    ReconnectingEvent,
    ReconnectingOverrides,
    WebSocketConnectionClosedError,
    omit,
)
from openai_proto.realtime import RealtimeEvent
from openai_proto.types import responses as rs

MakeHTTP = Callable[..., AsyncHTTPClient]
LIMIT = 10.0  # seconds any test may take
FAST: Dict[str, Any] = {"initial_delay": 0.01, "max_delay": 0.02}
STREAM = [
    rs.ResponsesServerEventResponseCreated,
    rs.ResponsesServerEventResponseOutputTextDelta,
    rs.ResponsesServerEventResponseOutputTextDelta,
    rs.ResponsesServerEventResponseCompleted,
]


@pytest.fixture(scope="module")
def ws_server() -> Iterator[RealtimeServer]:
    with RealtimeServer() as server:
        yield server


@pytest.fixture(scope="module")
def wss_server(tls_ca: trustme.CA) -> Iterator[RealtimeServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with RealtimeServer(ssl_context=context) as server:
        yield server


class Target:
    def __init__(self, server: RealtimeServer, ssl_context: Optional[ssl.SSLContext]) -> None:
        self.server = server
        self.ssl_context = ssl_context


@pytest.fixture(params=["ws", "wss"])
def target(request: pytest.FixtureRequest, ws_server: RealtimeServer) -> Target:
    if request.param == "ws":
        return Target(ws_server, None)
    ca: trustme.CA = request.getfixturevalue("tls_ca")
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return Target(request.getfixturevalue("wss_server"), context)


def client_for(
    make_http_client: MakeHTTP,
    server: RealtimeServer,
    ssl_context: Optional[ssl.SSLContext] = None,
    **kwargs: Any,
) -> AsyncOpenAI:
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("base_url", server.base_url)
    return AsyncOpenAI(http_client=make_http_client(ssl_context=ssl_context), **kwargs)


def new_test() -> str:
    return uuid.uuid4().hex


async def until_completed(connection: Any) -> List[Any]:
    events: List[Any] = []
    async for event in connection:
        events.append(event)
        if event.type == "response.completed":
            break
    return events


# The conversation -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_response_create_gives_typed_stream_events(
    make_http_client: MakeHTTP, target: Target
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, target.server, target.ssl_context) as client:
            manager = client.responses.connect(extra_query={"test": test})
            assert isinstance(manager, AsyncResponsesConnectionManager)
            async with manager as connection:
                assert isinstance(connection, AsyncResponsesConnection)
                await connection.response.create(
                    model="gpt-test", input="Say hello", stream_id="lane-1", store=omit
                )
                events = await until_completed(connection)

    assert [type(event) for event in events] == STREAM
    assert events[1].delta + events[2].delta == "Hello"
    assert [event.sequence_number for event in events] == [1, 2, 3, 4]
    assert {event.stream_id for event in events} == {"lane-1"}
    assert events[3].response.status == "completed"
    assert events[3].response.model == "gpt-test"
    record = target.server.record(test)
    assert record.events == [
        {
            "type": "response.create",
            "model": "gpt-test",
            "input": "Say hello",
            "stream_id": "lane-1",
        }
    ]
    with anyio.fail_after(LIMIT):
        while not record.handler_done:
            await anyio.sleep(0.01)
    assert record.close_code == 1000  # our closing handshake on leaving the block


@pytest.mark.anyio
async def test_handshake_url_and_headers(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """The SDK's rules (``responses.connect``'s ``_prepare_url`` and the headers of
    ``_websocket_connect_options``): ``/responses`` below the base URL, no ``model``
    parameter, auth + organization/project + default headers + extra headers, no
    ``OpenAI-Beta``."""
    test = new_test()
    client = client_for(
        make_http_client,
        ws_server,
        api_key="sk-abc",
        organization="org-1",
        project="proj-1",
        default_headers={"X-Default": "d", "X-Dropped": "x"},
        default_query={"dq": "1"},
    )
    with anyio.fail_after(LIMIT):
        async with client:
            async with client.responses.connect(
                extra_query={"test": test, "foo": "bar"},
                extra_headers={"X-Extra": "e", "X-Dropped": omit},
            ) as connection:
                await connection.response.create(model="m")
                await connection.recv()

    record = ws_server.record(test)
    assert record.path == "/v1/responses"
    assert record.query == {"dq": ["1"], "test": [test], "foo": ["bar"]}
    assert record.header("Authorization") == "Bearer sk-abc"
    assert record.header("OpenAI-Organization") == "org-1"
    assert record.header("OpenAI-Project") == "proj-1"
    assert record.header("X-Default") == "d"
    assert record.header("X-Extra") == "e"
    assert record.header("X-Dropped") is None
    assert record.header("OpenAI-Beta") is None
    assert (record.header("User-Agent") or "").startswith("openai-proto/")


@pytest.mark.anyio
async def test_websocket_base_url_takes_the_path(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """``websocket_base_url`` (``http`` read as ``ws``) replaces the base URL; its own
    query stays."""
    test = new_test()
    ws_base = f"http://127.0.0.1:{ws_server.port}/gateway/?region=eu"
    with anyio.fail_after(LIMIT):
        async with client_for(
            make_http_client,
            ws_server,
            base_url="https://unused.invalid/v1",
            websocket_base_url=ws_base,
        ) as client:
            async with client.responses.connect(extra_query={"test": test}) as connection:
                await connection.response.create(model="m")
                assert isinstance(await connection.recv(), rs.ResponsesServerEventResponseCreated)
    record = ws_server.record(test)
    assert record.path == "/gateway/responses"
    assert record.query == {"region": ["eu"], "test": [test]}


@pytest.mark.anyio
async def test_send_recv_bytes_parse_event_and_manual_enter(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            connection = await client.responses.connect(extra_query={"test": test}).enter()
            typed = rs.ResponsesClientEventResponseCreate(type="response.create", model="m1")
            await connection.send(typed)
            data = await connection.recv_bytes()
            assert b'"response.created"' in data
            created = connection.parse_event(data)
            assert isinstance(created, rs.ResponsesServerEventResponseCreated)
            assert created.response.model == "m1"
            await until_completed(connection)
            await connection.send_raw('{"type":"response.create","model":"m2"}')
            assert (await until_completed(connection))[-1].response.model == "m2"
            await connection.close()
            with pytest.raises(WebSocketConnectionClosedError) as info:
                await connection.recv()
            assert info.value.code == 1000
            assert [event async for event in connection] == []  # a normal close ends it
    assert ws_server.record(test).events == [
        {"type": "response.create", "model": "m1"},
        {"type": "response.create", "model": "m2"},
    ]


@pytest.mark.anyio
async def test_unknown_event_is_generic_and_steer_and_error(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """A type the spec lacks (also ``response.steer.accepted``) is a generic
    :class:`RealtimeEvent`; the server's ``error`` is the typed ``ResponseWsError``, given
    back, not raised; the session goes on."""
    test = new_test()
    extra = {"test": test, "scenario": "unknown"}
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            async with client.responses.connect(extra_query=extra) as connection:
                event = await connection.recv()
                assert isinstance(event, RealtimeEvent)
                assert event.type == "brand.new.event"
                assert event.detail == {"x": 1}

                await connection.response.steer(
                    input=[{"type": "input_text", "text": "shorter"}],
                    previous_response_id="resp_0",
                )
                accepted = await connection.recv()
                assert isinstance(accepted, RealtimeEvent)
                assert accepted.type == "response.steer.accepted"
                assert accepted.to_dict()["response_id"] == "resp_0"

                await connection.send({"type": "no.such.event"})
                error = await connection.recv()
                assert isinstance(error, rs.ResponseWsError)
                assert (error.status, error.error.code) == (400, "unknown_event")

                await connection.response.create(model="m")
                assert [type(e) for e in await until_completed(connection)] == STREAM
    assert ws_server.record(test).events[0] == {
        "type": "response.steer",
        "input": [{"type": "input_text", "text": "shorter"}],
        "previous_response_id": "resp_0",
    }


@pytest.mark.anyio
async def test_rejected_handshake_is_a_status_error(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server, api_key="bad-key") as client:
            with pytest.raises(AuthenticationError) as info:
                await client.responses.connect(extra_query={"test": new_test()}).enter()
    assert info.value.status_code == 401
    assert info.value.request_id == "req_rejected"


# Reconnection, queue, handlers ------------------------------------------------------------


@pytest.mark.anyio
async def test_reconnects_after_1006_with_on_reconnecting(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """The first connection drops TCP (1006) on the first ``response.create``; the reader
    reopens it with the callback's headers, and what is sent meanwhile goes out on the
    new connection."""
    test = new_test()
    seen: List[ReconnectingEvent] = []
    reconnecting = anyio.Event()

    def on_reconnecting(event: ReconnectingEvent) -> ReconnectingOverrides:
        seen.append(event)
        reconnecting.set()
        return {"extra_headers": {"X-Reconnect": str(event.attempt)}}

    events: List[Any] = []
    extra = {"test": test, "close_code": "1006", "close_after": "1"}
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.responses.connect(
                extra_query=extra, on_reconnecting=on_reconnecting, **FAST
            )
            async with manager as connection:

                async def reader() -> None:
                    events.extend(await until_completed(connection))

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(reader)
                    await connection.response.create(model="lost")
                    await reconnecting.wait()
                    await connection.response.create(model="again")

    [event] = seen
    assert (event.attempt, event.max_attempts, event.close_code) == (1, 5, 1006)
    assert event.extra_query == extra
    assert [type(e) for e in events] == STREAM
    assert events[-1].response.model == "again"
    first, second = ws_server.history[test]
    assert first.events == [{"type": "response.create", "model": "lost"}]
    assert second.events == [{"type": "response.create", "model": "again"}]
    assert second.path == "/v1/responses"
    assert first.header("X-Reconnect") is None and second.header("X-Reconnect") == "1"


@pytest.mark.anyio
async def test_handlers_and_manager_send(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """Handlers registered on the manager move to the connection; ``manager.send`` queues
    an event that goes out on opening; ``dispatch_events`` calls plain and coroutine
    handlers, and raises for an ``error`` event nobody handles."""
    test = new_test()
    deltas: List[str] = []
    every: List[str] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.responses.connect(extra_query={"test": test})
            manager.send({"type": "response.create", "model": "queued", "store": omit})

            @manager.on("response.output_text.delta")
            async def on_delta(event: Any) -> None:
                deltas.append(event.delta)

            async with manager as connection:
                connection.on("event", lambda event: every.append(event.type))
                connection.once("response.completed", lambda event: connection.close())
                await connection.dispatch_events()

            async with client.responses.connect(extra_query={"test": new_test()}) as conn:
                await conn.send({"type": "no.such.event"})
                with pytest.raises(OpenAIError, match="WebSocket error"):
                    await conn.dispatch_events()

    assert deltas == ["Hel", "lo"]
    assert every == [
        "response.created",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.completed",
    ]
    assert ws_server.record(test).events == [{"type": "response.create", "model": "queued"}]


# The blocking client --------------------------------------------------------------------


def sync_client(server: RealtimeServer, **kwargs: Any) -> OpenAI:
    return OpenAI(
        api_key="sk-test",
        base_url=server.base_url,
        http_client=SyncHTTPClient(),
        timeout=LIMIT / 2,
        **kwargs,
    )


def sync_until_completed(connection: Any) -> List[Any]:
    events: List[Any] = []
    for event in connection:
        events.append(event)
        if event.type == "response.completed":
            break
    return events


@pytest.mark.timeout(LIMIT)
def test_sync_conversation_and_handshake(ws_server: RealtimeServer) -> None:
    test = new_test()
    with sync_client(ws_server, organization="org-s") as client:
        manager = client.responses.connect(extra_query={"test": test})
        assert isinstance(manager, ResponsesConnectionManager)
        with manager as connection:
            assert isinstance(connection, ResponsesConnection)
            connection.response.create(model="m", input="hi")
            events = sync_until_completed(connection)
    assert [type(event) for event in events] == STREAM
    record = ws_server.record(test)
    assert record.path == "/v1/responses"
    assert record.header("OpenAI-Organization") == "org-s"
    assert record.events == [{"type": "response.create", "model": "m", "input": "hi"}]


@pytest.mark.timeout(LIMIT)
def test_sync_reconnects_after_1006(ws_server: RealtimeServer) -> None:
    """The callback sends while no connection is open: the event is queued, then flushed
    first on the new connection, whose answer the reader gets."""
    test = new_test()
    holder: List[Any] = []
    seen: List[int] = []

    def on_reconnecting(event: ReconnectingEvent) -> None:
        seen.append(event.close_code)
        holder[0].response.create(model="during")

    extra = {"test": test, "close_code": "1006", "close_after": "1"}
    with sync_client(ws_server) as client:
        manager = client.responses.connect(
            extra_query=extra, on_reconnecting=on_reconnecting, **FAST
        )
        with manager as connection:
            holder.append(connection)
            connection.response.create(model="lost")
            events = sync_until_completed(connection)
    assert seen == [1006]
    assert events[-1].response.model == "during"
    first, second = ws_server.history[test]
    assert [e["model"] for e in first.events] == ["lost"]
    assert [e["model"] for e in second.events] == ["during"]


@pytest.mark.timeout(LIMIT)
def test_sync_dispatch_events(ws_server: RealtimeServer) -> None:
    deltas: List[str] = []
    with sync_client(ws_server) as client:
        manager = client.responses.connect(extra_query={"test": new_test()})
        manager.on("response.output_text.delta", lambda event: deltas.append(event.delta))
        with manager as connection:
            connection.once("response.completed", lambda event: connection.close())
            connection.response.create(model="m")
            connection.dispatch_events()
        with client.responses.connect(extra_query={"test": new_test()}) as connection:
            connection.send({"type": "no.such.event"})
            with pytest.raises(OpenAIError, match="WebSocket error"):
                connection.dispatch_events()
    assert deltas == ["Hel", "lo"]
