"""``client.realtime.connect()`` on every driver against a ``websockets`` server on 127.0.0.1.

Each test runs on the four (loop, driver) combinations of ``make_http_client`` (asyncio,
trio, httpcore on asyncio, httpcore on trio; see ``conftest.py``); the conversation and
the beta API also run over TLS (``wss``, a ``trustme`` certificate). The server is
scripted like the service (``realtime_server.py``) and injects faults below the
websockets library: a connection dropped or reset in the middle of a frame, a message over
the client's size limit, a text frame that is not UTF-8, a peer that stops answering.
Every test is bounded by ``anyio.fail_after``: each case ends in an event or in one of
this library's exceptions, never in a hang.
"""

from __future__ import annotations

import base64
import socket
import ssl
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import anyio
import httpx
import pytest
import trustme
from realtime_server import AUDIO, RealtimeServer

from backends import AsyncHTTPClient
from backends._realtime import AsyncBetaRealtimeConnection, AsyncRealtimeConnection
from openai_proto import (
    APIConnectionError,
    APITimeoutError,
    AsyncOpenAI,
    AuthenticationError,
    LocalProtocolError,
    OpenAIError,
    RateLimitError,
    RemoteProtocolError,
    WebSocketConnectionClosedError,
    omit,
)
from openai_proto.realtime import RealtimeEvent
from openai_proto.types import realtime as rt

pytestmark = pytest.mark.anyio

MakeHTTP = Callable[..., AsyncHTTPClient]
LIMIT = 10.0  # seconds any test may take


@pytest.fixture(scope="session")
def ws_server() -> Iterator[RealtimeServer]:
    with RealtimeServer() as server:
        yield server


@pytest.fixture(scope="session")
def wss_server(tls_ca: trustme.CA) -> Iterator[RealtimeServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with RealtimeServer(ssl_context=context) as server:
        yield server


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


class Target:
    """A server and the client SSL context that trusts it (``None`` for plain ws)."""

    def __init__(self, server: RealtimeServer, ssl_context: Optional[ssl.SSLContext]) -> None:
        self.server = server
        self.ssl_context = ssl_context


@pytest.fixture(params=["ws", "wss"])
def target(request: pytest.FixtureRequest, ws_server: RealtimeServer) -> Target:
    if request.param == "ws":
        return Target(ws_server, None)
    ca: trustme.CA = request.getfixturevalue("tls_ca")
    return Target(request.getfixturevalue("wss_server"), trusting(ca))


def client_for(
    make_http_client: MakeHTTP,
    server: RealtimeServer,
    ssl_context: Optional[ssl.SSLContext] = None,
    **kwargs: Any,
) -> AsyncOpenAI:
    kwargs.setdefault("api_key", "sk-test")
    return AsyncOpenAI(
        base_url=server.base_url,
        http_client=make_http_client(ssl_context=ssl_context),
        **kwargs,
    )


def new_test() -> str:
    return uuid.uuid4().hex


async def eventually(check: Callable[[], bool]) -> None:
    """Wait (bounded by the test's ``fail_after``) until the server thread got there."""
    while not check():
        await anyio.sleep(0.01)


async def until_done(connection: Any) -> List[Any]:
    events: List[Any] = []
    async for event in connection:
        events.append(event)
        if event.type == "response.done":
            break
    return events


# Conversation --------------------------------------------------------------------------


async def test_conversation_gives_typed_events_in_order(
    make_http_client: MakeHTTP, target: Target
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, target.server, target.ssl_context) as client:
            manager = client.realtime.connect(model="gpt-realtime", extra_query={"test": test})
            async with manager as connection:
                assert isinstance(connection, AsyncRealtimeConnection)
                created = await connection.recv()
                assert isinstance(created, rt.RealtimeServerEventSessionCreated)
                assert created.session.model == "gpt-realtime"

                await connection.session.update(
                    session={"type": "realtime", "instructions": "be brief"}
                )
                updated = await connection.recv()
                assert isinstance(updated, rt.RealtimeServerEventSessionUpdated)
                assert updated.session.instructions == "be brief"

                await connection.response.create(response={"output_modalities": ["text"]})
                events = await until_done(connection)

    assert [type(event) for event in events] == [
        rt.RealtimeServerEventResponseCreated,
        rt.RealtimeServerEventResponseTextDelta,
        rt.RealtimeServerEventResponseTextDelta,
        rt.RealtimeServerEventResponseAudioDelta,
        rt.RealtimeServerEventResponseDone,
    ]
    assert events[1].delta + events[2].delta == "Hello"
    assert base64.b64decode(events[3].delta) == AUDIO
    assert events[4].response.status == "completed"
    record = target.server.record(test)
    assert record.events == [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "be brief"}},
        {"type": "response.create", "response": {"output_modalities": ["text"]}},
    ]
    await eventually(lambda: record.handler_done)
    assert record.close_code == 1000  # our closing handshake on leaving the block


async def test_handshake_url_and_headers(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
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
            async with client.realtime.connect(
                model="gpt-realtime",
                extra_query={"test": test, "foo": "bar"},
                extra_headers={"X-Extra": "e", "X-Dropped": omit},
            ) as connection:
                await connection.recv()

    record = ws_server.record(test)
    assert record.path == "/v1/realtime"
    assert record.query == {"dq": ["1"], "model": ["gpt-realtime"], "test": [test], "foo": ["bar"]}
    assert record.header("Authorization") == "Bearer sk-abc"
    assert record.header("OpenAI-Organization") == "org-1"
    assert record.header("OpenAI-Project") == "proj-1"
    assert record.header("X-Default") == "d"
    assert record.header("X-Extra") == "e"
    assert record.header("X-Dropped") is None
    assert record.header("OpenAI-Beta") is None  # GA sends no beta header
    assert (record.header("User-Agent") or "").startswith("openai-proto/")
    assert record.header("Sec-WebSocket-Extensions") is None  # no compression offered


async def test_call_id_instead_of_model(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(call_id="rtc_123", extra_query={"test": test})
            async with manager as connection:
                await connection.recv()
    assert ws_server.record(test).query == {"test": [test], "call_id": ["rtc_123"]}


async def test_api_key_provider_is_awaited_before_connecting(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    calls: List[int] = []

    async def provider() -> str:
        await anyio.sleep(0)
        calls.append(1)
        return f"sk-fresh-{len(calls)}"

    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server, api_key=provider) as client:
            async with client.realtime.connect(model="m", extra_query={"test": test}) as conn:
                await conn.recv()
    assert calls == [1]
    assert ws_server.record(test).header("Authorization") == "Bearer sk-fresh-1"


async def test_beta_realtime(
    make_http_client: MakeHTTP, wss_server: RealtimeServer, tls_ca: trustme.CA
) -> None:
    """Beta: always ``wss``, the ``OpenAI-Beta`` header, beta event types (including the
    beta service's own delta names) and ``transcription_session.update``."""
    test = new_test()
    client = client_for(make_http_client, wss_server, trusting(tls_ca))
    with anyio.fail_after(LIMIT):
        async with client:
            manager = client.beta.realtime.connect(
                model="gpt-4o-realtime", extra_query={"test": test}
            )
            async with manager as connection:
                assert isinstance(connection, AsyncBetaRealtimeConnection)
                created = await connection.recv()
                assert isinstance(created, rt.RealtimeBetaServerEventSessionCreated)
                assert created.session.id == "sess_beta"
                await connection.transcription_session.update(
                    session={"input_audio_format": "pcm16"}
                )
                assert (await connection.recv()).type == "transcription_session.updated"
                await connection.response.create()
                events = await until_done(connection)

    assert [type(event) for event in events] == [
        rt.RealtimeBetaServerEventResponseCreated,
        rt.RealtimeBetaServerEventResponseTextDelta,
        rt.RealtimeBetaServerEventResponseTextDelta,
        rt.RealtimeBetaServerEventResponseAudioDelta,
        rt.RealtimeBetaServerEventResponseDone,
    ]
    assert [event.type for event in events[1:3]] == ["response.text.delta"] * 2
    record = wss_server.record(test)
    assert record.header("OpenAI-Beta") == "realtime=v1"
    assert record.query == {"model": ["gpt-4o-realtime"], "test": [test]}
    assert record.events[0] == {
        "type": "transcription_session.update",
        "session": {"input_audio_format": "pcm16"},
    }


async def test_every_helper_sends_its_event(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            async with client.realtime.connect(model="m", extra_query={"test": test}) as conn:
                await conn.recv()
                await conn.input_audio_buffer.append(audio="AAAA", event_id="c1")
                await conn.input_audio_buffer.commit()
                await conn.input_audio_buffer.clear(event_id="c3")
                await conn.conversation.item.create(
                    item={"type": "message", "role": "user", "content": []},
                    previous_item_id="item_0",
                )
                await conn.conversation.item.retrieve(item_id="item_1")
                await conn.conversation.item.truncate(
                    item_id="item_1", content_index=0, audio_end_ms=1500
                )
                await conn.conversation.item.delete(item_id="item_1")
                await conn.response.cancel(response_id="resp_1")
                await conn.output_audio_buffer.clear()
                await conn.send(
                    rt.RealtimeClientEventInputAudioBufferAppend(
                        type="input_audio_buffer.append", audio="BBBB"
                    )
                )
                await conn.send({"type": "input_audio_buffer.commit", "event_id": omit})
                await conn.session.update(session={"type": "realtime"}, event_id="c_last")
                assert (await conn.recv()).type == "session.updated"  # all were read before

    assert ws_server.record(test).events == [
        {"type": "input_audio_buffer.append", "audio": "AAAA", "event_id": "c1"},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear", "event_id": "c3"},
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": []},
            "previous_item_id": "item_0",
        },
        {"type": "conversation.item.retrieve", "item_id": "item_1"},
        {
            "type": "conversation.item.truncate",
            "audio_end_ms": 1500,
            "content_index": 0,
            "item_id": "item_1",
        },
        {"type": "conversation.item.delete", "item_id": "item_1"},
        {"type": "response.cancel", "response_id": "resp_1"},
        {"type": "output_audio_buffer.clear"},
        {"type": "input_audio_buffer.append", "audio": "BBBB"},
        {"type": "input_audio_buffer.commit"},
        {"type": "session.update", "session": {"type": "realtime"}, "event_id": "c_last"},
    ]


async def test_server_error_event_is_returned_not_raised(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(model="m", extra_query={"test": new_test()})
            async with manager as connection:
                await connection.recv()
                await connection.send({"type": "bogus.event", "event_id": "c_9"})
                error = await connection.recv()
    assert isinstance(error, rt.RealtimeServerEventError)
    assert error.error.code == "unknown_event"
    assert error.error.event_id == "c_9"


async def test_unknown_event_type_is_a_generic_event(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": new_test(), "scenario": "unknown"}
            async with client.realtime.connect(model="m", extra_query=extra) as connection:
                await connection.recv()
                event = await connection.recv()
                assert isinstance(event, RealtimeEvent)
                assert event.type == "brand.new.event"
                assert event.detail == {"x": 1}
                assert event.to_dict()["event_id"] == "evt_new"
                # The session goes on, typed as before.
                await connection.response.create()
                events = await until_done(connection)
    assert isinstance(events[-1], rt.RealtimeServerEventResponseDone)


async def test_recv_bytes_parse_event_and_manual_enter(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(model="m", extra_query={"test": new_test()})
            connection = await manager.enter()
            data = await connection.recv_bytes()
            assert data.startswith(b"{") and b'"session.created"' in data
            assert isinstance(connection.parse_event(data), rt.RealtimeServerEventSessionCreated)
            await connection.close()
            await connection.close()  # idempotent
            with pytest.raises(WebSocketConnectionClosedError) as info:
                await connection.recv()
            assert info.value.code == 1000
            with pytest.raises(WebSocketConnectionClosedError):
                await connection.send({"type": "response.create"})
            assert [event async for event in connection] == []  # a normal close ends iteration


async def test_receiving_and_sending_from_two_tasks(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    received: List[str] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(model="m", extra_query={"test": new_test()})
            async with manager as connection:

                async def reader() -> None:
                    async for event in connection:
                        received.append(event.type)
                        if event.type == "response.done":
                            return

                async with anyio.create_task_group() as tg:
                    tg.start_soon(reader)
                    await anyio.sleep(0.05)  # the reader is now blocked in a read
                    await connection.session.update(session={"type": "realtime"})
                    await connection.response.create()
    assert received == [
        "session.created",
        "session.updated",
        "response.created",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_audio.delta",
        "response.done",
    ]


async def test_cancelled_recv_loses_nothing(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """A ``recv`` cancelled while it waits leaves the connection as it was; with
    keepalive pings every 50 ms, a live (quiet) peer keeps the connection open."""
    options = {"ping_interval": 0.05, "ping_timeout": 1.0}
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": new_test()}
            async with client.realtime.connect(
                model="m", extra_query=extra, websocket_connection_options=options
            ) as connection:
                await connection.recv()
                for _ in range(3):
                    with anyio.move_on_after(0.12) as scope:
                        await connection.recv()  # the server says nothing: pings go out
                    assert scope.cancelled_caught
                await connection.response.create()
                events = await until_done(connection)
    assert len(events) == 5


# Handshake failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "status", "error"),
    [("bad-key", "", AuthenticationError), ("sk-test", "429", RateLimitError)],
)
async def test_rejected_handshake_is_a_status_error(
    make_http_client: MakeHTTP,
    ws_server: RealtimeServer,
    key: str,
    status: str,
    error: type,
) -> None:
    extra = {"test": new_test(), "reject": status} if status else {"test": new_test()}
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server, api_key=key) as client:
            with pytest.raises(error) as info:
                async with client.realtime.connect(model="m", extra_query=extra):
                    pass  # pragma: no cover - never entered
    assert info.value.status_code == (int(status) if status else 401)
    assert info.value.code == "invalid_api_key"
    assert info.value.request_id == "req_rejected"


async def test_connection_refused(make_http_client: MakeHTTP, refused_port: int) -> None:
    client = AsyncOpenAI(
        api_key="sk-test",
        base_url=f"http://127.0.0.1:{refused_port}/v1",
        http_client=make_http_client(),
    )
    with anyio.fail_after(LIMIT):
        async with client:
            with pytest.raises(APIConnectionError):
                await client.realtime.connect(model="m").enter()


@pytest.fixture
def mute_port() -> Iterator[int]:
    """A listening port that accepts TCP connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


async def test_handshake_without_answer_times_out(
    make_http_client: MakeHTTP, mute_port: int
) -> None:
    client = AsyncOpenAI(
        api_key="sk-test",
        base_url=f"http://127.0.0.1:{mute_port}/v1",
        http_client=make_http_client(),
    )
    with anyio.fail_after(LIMIT):
        async with client:
            manager = client.realtime.connect(
                model="m", websocket_connection_options={"open_timeout": 0.2}
            )
            with pytest.raises(APITimeoutError):
                await manager.enter()


async def test_unsupported_option_is_a_type_error(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m", websocket_connection_options={"on_message": print}
            )
            with pytest.raises(TypeError, match="on_message"):
                await manager.enter()


# Faults after the handshake --------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["drop", "reset"])
async def test_connection_lost_mid_message(
    make_http_client: MakeHTTP, ws_server: RealtimeServer, scenario: str
) -> None:
    """The server ends the TCP connection (FIN or RST) inside a frame: 1006 (RFC 6455
    §7.1.5), from ``async for``, ``recv`` and ``send`` alike."""
    seen: List[str] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": new_test(), "scenario": scenario}
            async with client.realtime.connect(model="m", extra_query=extra) as connection:
                await connection.recv()
                await connection.response.create()
                with pytest.raises(WebSocketConnectionClosedError) as info:
                    async for event in connection:
                        seen.append(event.type)  # pragma: no cover - nothing arrives
                assert info.value.code == 1006
                assert info.value.reason  # says what happened
                with pytest.raises(WebSocketConnectionClosedError):
                    await connection.recv()
                with pytest.raises(WebSocketConnectionClosedError):
                    await connection.session.update(session={})
    assert seen == []


async def test_message_over_the_size_limit(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": test, "scenario": "oversize", "size": "4096"}
            async with client.realtime.connect(
                model="m", extra_query=extra, websocket_connection_options={"max_size": 1024}
            ) as connection:
                await connection.recv()
                await connection.response.create()
                with pytest.raises(RemoteProtocolError, match="max_message_size"):
                    await connection.recv()
                with pytest.raises(OpenAIError):
                    await connection.recv()
        record = ws_server.record(test)
        await eventually(lambda: record.handler_done)
    assert record.close_code == 1009  # "message too big", RFC 6455 §7.4.1


async def test_no_size_limit_when_max_size_is_none(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": new_test(), "scenario": "oversize", "size": "300000"}
            async with client.realtime.connect(
                model="m", extra_query=extra, websocket_connection_options={"max_size": None}
            ) as connection:
                await connection.recv()
                await connection.response.create()
                event = await connection.recv()
    assert event.type == "response.created"
    assert len(event.to_dict()["pad"]) > 290_000


async def test_invalid_utf8_in_a_text_frame(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": test, "scenario": "bad_utf8"}
            async with client.realtime.connect(model="m", extra_query=extra) as connection:
                await connection.recv()
                await connection.response.create()
                with pytest.raises(RemoteProtocolError):
                    await connection.recv()
        record = ws_server.record(test)
        await eventually(lambda: record.handler_done)
    assert record.close_code == 1007  # "invalid frame payload data"


@pytest.mark.parametrize(("code", "normal"), [(1000, True), (1011, False)])
async def test_server_closes(
    make_http_client: MakeHTTP, ws_server: RealtimeServer, code: int, normal: bool
) -> None:
    """``async for`` ends on a normal close and raises on any other code."""
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": new_test(), "scenario": f"close_{code}"}
            async with client.realtime.connect(model="m", extra_query=extra) as connection:
                await connection.recv()
                await connection.response.create()
                if normal:
                    assert [event async for event in connection] == []
                else:
                    with pytest.raises(WebSocketConnectionClosedError) as info:
                        async for _ in connection:
                            pass  # pragma: no cover
                    assert (info.value.code, info.value.reason) == (code, "scripted close")
                with pytest.raises(WebSocketConnectionClosedError) as again:
                    await connection.recv()
                assert again.value.code == code


async def test_peer_that_stops_answering_is_detected_by_keepalive(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    options: Dict[str, Any] = {"ping_interval": 0.1, "ping_timeout": 0.2, "close_timeout": 0.2}
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": new_test(), "scenario": "silent"}
            async with client.realtime.connect(
                model="m", extra_query=extra, websocket_connection_options=options
            ) as connection:
                await connection.recv()
                with pytest.raises(WebSocketConnectionClosedError) as info:
                    await connection.recv()
    assert (info.value.code, info.value.reason) == (1011, "keepalive ping timeout")


async def test_close_is_bounded_when_the_peer_never_answers(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    options = {"ping_interval": None, "close_timeout": 0.2}
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": new_test(), "scenario": "silent"}
            manager = client.realtime.connect(
                model="m", extra_query=extra, websocket_connection_options=options
            )
            connection = await manager.enter()
            await connection.recv()
            with anyio.fail_after(2):
                await connection.close()
            with pytest.raises(WebSocketConnectionClosedError) as info:
                await connection.recv()
    assert info.value.code == 1006
    assert info.value.reason == "timed out waiting for the closing handshake"


async def test_close_code_that_cannot_be_sent(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """1005 is for reporting only (RFC 6455 §7.4.1): the caller's error, after which the
    connection is dropped, and leaving the ``async with`` block does not raise again."""
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(model="m", extra_query={"test": new_test()})
            async with manager as connection:
                await connection.recv()
                with pytest.raises(LocalProtocolError, match="1005"):
                    await connection.close(code=1005)
                with pytest.raises(LocalProtocolError):
                    await connection.recv()
                with pytest.raises(LocalProtocolError):
                    await connection.send({"type": "response.create"})


async def test_reserved_header_fails_before_connecting(
    make_http_client: MakeHTTP, refused_port: int
) -> None:
    """A header the WebSocket handshake owns is the caller's error, found before any
    connection (the port here refuses connections: reaching it would be a different error)."""
    client = AsyncOpenAI(
        api_key="sk-test",
        base_url=f"http://127.0.0.1:{refused_port}/v1",
        http_client=make_http_client(),
    )
    with anyio.fail_after(LIMIT):
        async with client:
            manager = client.realtime.connect(model="m", extra_headers={"Sec-WebSocket-Key": "x"})
            with pytest.raises(LocalProtocolError, match="Sec-WebSocket-Key"):
                await manager.enter()


# Other HTTP clients ---------------------------------------------------------------------


async def test_through_an_httpx_client(anyio_backend: str, ws_server: RealtimeServer) -> None:
    """``AsyncOpenAI(http_client=httpx.AsyncClient())``: the handshake goes through httpx."""
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with AsyncOpenAI(
            api_key="sk-test", base_url=ws_server.base_url, http_client=httpx.AsyncClient()
        ) as client:
            async with client.realtime.connect(model="m", extra_query={"test": test}) as conn:
                assert isinstance(await conn.recv(), rt.RealtimeServerEventSessionCreated)
                await conn.response.create()
                events = await until_done(conn)
            with pytest.raises(AuthenticationError):
                await client.realtime.connect(
                    model="m", extra_query={"test": new_test(), "reject": "401"}
                ).enter()
    assert len(events) == 5
    assert ws_server.record(test).header("Authorization") == "Bearer sk-test"
