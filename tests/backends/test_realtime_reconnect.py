"""Realtime reconnection, the send queue and event handlers against the ``websockets`` server.

The async tests run on the four (loop, driver) combinations of ``make_http_client``
(asyncio, trio, httpcore on each), the last section on the blocking client. The server
(``realtime_server.py``) ends the first connection(s) of a test with a scripted close
code (``close_code``; 1006 drops TCP without a Close frame) and can reject later
handshakes (``reject_from``); ``history[test]`` records every connection. Delays are a
few milliseconds and every test is bounded by ``anyio.fail_after`` or a timeout mark.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import anyio
import pytest
from realtime_server import RealtimeServer, Record

from backends import AsyncHTTPClient
from backends._sync._pool import SyncHTTPClient
from openai_proto import (
    AsyncOpenAI,
    OpenAI,
    OpenAIError,
    ReconnectingEvent,
    ReconnectingOverrides,
    WebSocketConnectionClosedError,
    WebSocketQueueFullError,
)

MakeHTTP = Callable[..., AsyncHTTPClient]
LIMIT = 10.0
FAST: Dict[str, Any] = {"initial_delay": 0.01, "max_delay": 0.02}


@pytest.fixture(scope="module")
def ws_server() -> Iterator[RealtimeServer]:
    with RealtimeServer() as server:
        yield server


def client_for(make_http_client: MakeHTTP, server: RealtimeServer) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-test", base_url=server.base_url, http_client=make_http_client())


def new_test() -> str:
    return uuid.uuid4().hex


def history(server: RealtimeServer, test: str) -> List[Record]:
    return server.history.get(test, [])


async def eventually(check: Callable[[], bool]) -> None:
    while not check():
        await anyio.sleep(0.01)


def append(audio: str) -> Dict[str, str]:
    return {"type": "input_audio_buffer.append", "audio": audio}


# Reconnecting --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("code", [1006, 1011, 1012])
async def test_reconnects_after_a_recoverable_close_with_overrides(
    make_http_client: MakeHTTP, ws_server: RealtimeServer, code: int
) -> None:
    test = new_test()
    seen: List[ReconnectingEvent] = []

    def on_reconnecting(event: ReconnectingEvent) -> ReconnectingOverrides:
        seen.append(event)
        return {
            "extra_query": {**event.extra_query, "attempt": str(event.attempt)},
            "extra_headers": {"X-Reconnect": str(event.attempt)},
        }

    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m",
                extra_query={"test": test, "close_code": str(code)},
                extra_headers={"X-First": "1"},
                on_reconnecting=on_reconnecting,
                initial_delay=0.01,
                max_delay=0.02,
            )
            async with manager as conn:
                assert (await conn.recv()).type == "session.created"  # connection 1
                assert (await conn.recv()).type == "session.created"  # connection 2
                await conn.response.create()
                assert (await conn.recv()).type == "response.created"

    [event] = seen
    assert (event.attempt, event.max_attempts, event.close_code) == (1, 5, code)
    assert 0.0075 <= event.delay <= 0.01
    assert event.extra_query == {"test": test, "close_code": str(code)}
    assert event.extra_headers == {"X-First": "1"}
    first, second = history(ws_server, test)
    assert first.header("X-First") == "1" and first.header("X-Reconnect") is None
    assert second.query["attempt"] == ["1"] and second.query["model"] == ["m"]
    assert second.header("X-Reconnect") == "1"
    assert second.header("X-First") is None  # the override replaced the headers whole
    assert second.header("Authorization") == "Bearer sk-test"
    assert second.events == [{"type": "response.create"}]


@pytest.mark.anyio
async def test_sends_during_a_reconnection_are_queued_then_flushed_in_order(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    reconnecting = anyio.Event()

    def on_reconnecting(event: ReconnectingEvent) -> None:
        reconnecting.set()

    received: List[Any] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m",
                extra_query={"test": test, "close_code": "1011"},
                on_reconnecting=on_reconnecting,
                initial_delay=0.1,
                max_delay=0.1,
            )
            async with manager as conn:
                await conn.recv()

                async def reader() -> None:
                    received.append(await conn.recv())

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(reader)
                    await reconnecting.wait()
                    for n in range(3):
                        await conn.input_audio_buffer.append(audio=f"A{n}")
                    await conn.send_raw('{"type":"input_audio_buffer.commit"}')
                second = history(ws_server, test)[1]
                await eventually(lambda: len(second.events) == 4)

    assert received[0].type == "session.created"
    first, second = history(ws_server, test)
    assert first.events == []
    commit = {"type": "input_audio_buffer.commit"}
    assert second.events == [append("A0"), append("A1"), append("A2"), commit]


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["abort", "raise"])
async def test_the_callback_can_stop_reconnecting(
    make_http_client: MakeHTTP, ws_server: RealtimeServer, how: str
) -> None:
    test = new_test()
    calls: List[int] = []

    def on_reconnecting(event: ReconnectingEvent) -> ReconnectingOverrides:
        calls.append(event.attempt)
        if how == "raise":
            raise RuntimeError("no more")
        return {"abort": True}

    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m",
                extra_query={"test": test, "close_code": "1011"},
                on_reconnecting=on_reconnecting,
                **FAST,
            )
            async with manager as conn:
                await conn.recv()
                with pytest.raises(WebSocketConnectionClosedError) as info:
                    await conn.recv()
                assert info.value.code == 1011
                with pytest.raises(WebSocketConnectionClosedError):
                    await conn.recv()  # given up: no second round of attempts
    assert calls == [1]
    assert len(history(ws_server, test)) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("code", [1000, 1008])
async def test_a_final_close_code_does_not_reconnect(
    make_http_client: MakeHTTP, ws_server: RealtimeServer, code: int
) -> None:
    test = new_test()
    calls: List[ReconnectingEvent] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m",
                extra_query={"test": test, "close_code": str(code)},
                on_reconnecting=calls.append,
                **FAST,
            )
            async with manager as conn:
                if code == 1000:
                    assert [event.type async for event in conn] == ["session.created"]
                else:
                    with pytest.raises(WebSocketConnectionClosedError) as info:
                        async for _ in conn:
                            pass
                    assert info.value.code == code
    assert calls == []
    assert len(history(ws_server, test)) == 1


@pytest.mark.anyio
async def test_without_on_reconnecting_nothing_reconnects(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            extra = {"test": test, "close_code": "1011"}
            async with client.realtime.connect(model="m", extra_query=extra) as conn:
                await conn.recv()
                with pytest.raises(WebSocketConnectionClosedError) as info:
                    await conn.recv()
    assert info.value.code == 1011 and info.value.unsent_messages == []
    assert len(history(ws_server, test)) == 1


@pytest.mark.anyio
async def test_retries_exhausted_raise_with_the_unsent_messages(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """Every new handshake is rejected (503): three attempts, then the end is raised with
    what was sent meanwhile; a message past ``max_queue_size`` is refused at once."""
    test = new_test()
    reconnecting = anyio.Event()
    attempts: List[int] = []

    def on_reconnecting(event: ReconnectingEvent) -> None:
        attempts.append(event.attempt)
        reconnecting.set()

    errors: List[WebSocketConnectionClosedError] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m",
                extra_query={"test": test, "close_code": "1011", "reject_from": "2"},
                on_reconnecting=on_reconnecting,
                max_retries=3,
                initial_delay=0.05,
                max_delay=0.05,
                max_queue_size=120,
            )
            async with manager as conn:
                await conn.recv()

                async def reader() -> None:
                    try:
                        await conn.recv()
                    except WebSocketConnectionClosedError as exc:
                        errors.append(exc)

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(reader)
                    await reconnecting.wait()
                    await conn.input_audio_buffer.append(audio="one")
                    await conn.send_raw(b'{"type":"input_audio_buffer.commit"}')
                    with pytest.raises(WebSocketQueueFullError):
                        await conn.input_audio_buffer.append(audio="x" * 100)
                with pytest.raises(WebSocketConnectionClosedError) as again:
                    await conn.recv()
                assert again.value.unsent_messages == []  # reported once

    [error] = errors
    assert error.code == 1011
    assert [json.loads(m) for m in error.unsent_messages] == [
        append("one"),
        {"type": "input_audio_buffer.commit"},
    ]
    assert error.unsent_frames[1] == b'{"type":"input_audio_buffer.commit"}'
    assert attempts == [1, 2, 3]
    assert len(history(ws_server, test)) == 4  # the first connection and three rejected


@pytest.mark.anyio
async def test_attempts_start_over_after_the_server_answers(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    """A new connection that delivers an event resets the count (the SDK's rule): two
    drops in a row each get attempt 1 although ``max_retries=1``."""
    test = new_test()
    attempts: List[int] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m",
                extra_query={"test": test, "close_code": "1006", "close_times": "2"},
                on_reconnecting=lambda event: attempts.append(event.attempt),
                max_retries=1,
                **FAST,
            )
            async with manager as conn:
                for _ in range(3):
                    assert (await conn.recv()).type == "session.created"
    assert attempts == [1, 1]
    assert len(history(ws_server, test)) == 3


@pytest.mark.anyio
async def test_close_during_the_backoff_stops_reconnecting(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    reconnecting = anyio.Event()

    def on_reconnecting(event: ReconnectingEvent) -> None:
        reconnecting.set()

    errors: List[WebSocketConnectionClosedError] = []
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m",
                extra_query={"test": test, "close_code": "1011"},
                on_reconnecting=on_reconnecting,
                initial_delay=0.3,
                max_delay=0.3,
            )
            conn = await manager.enter()
            await conn.recv()

            async def reader() -> None:
                try:
                    await conn.recv()
                except WebSocketConnectionClosedError as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(reader)
                await reconnecting.wait()
                await conn.close()
    assert errors[0].code == 1011
    assert len(history(ws_server, test)) == 1


@pytest.mark.anyio
async def test_manager_send_queues_until_the_connection_opens(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(
                model="m", extra_query={"test": test}, max_queue_size=80
            )
            manager.send(append("A" * 20))  # 55 bytes of JSON
            with pytest.raises(WebSocketQueueFullError):
                manager.send(append("B" * 20))
            async with manager as conn:
                await conn.input_audio_buffer.commit()
                await conn.recv()
                record = ws_server.record(test)
                await eventually(lambda: len(record.events) == 2)
    assert record.events == [append("A" * 20), {"type": "input_audio_buffer.commit"}]


# Event handlers ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_handlers_on_off_once_and_decorators(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    test = new_test()
    created: List[str] = []
    deltas: List[str] = []
    first_delta: List[str] = []
    everything: List[str] = []

    def never(event: Any) -> None:
        raise AssertionError("removed with off()")

    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(model="m", extra_query={"test": test})
            assert (
                manager.on("session.created", lambda e: created.append(e.session.model)) is manager
            )
            manager.once("response.output_text.delta", lambda e: first_delta.append(e.delta))
            manager.on("response.created", never).off("response.created", never)

            @manager.on("response.output_text.delta")
            async def on_delta(event: Any) -> None:
                await anyio.sleep(0)
                deltas.append(event.delta)

            async with manager as conn:
                assert conn.on("event", lambda e: everything.append(e.type)) is conn

                @conn.once("response.done")
                async def done(event: Any) -> None:
                    await conn.close()

                assert done is not None  # the decorator returns the function
                await conn.response.create()
                await conn.dispatch_events()  # returns once close() ends the connection

    assert created == ["gpt-realtime"]
    assert deltas == ["Hel", "lo"]
    assert first_delta == ["Hel"]
    assert everything == [
        "session.created",
        "response.created",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_audio.delta",
        "response.done",
    ]


@pytest.mark.anyio
async def test_an_unhandled_error_event_raises(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.realtime.connect(model="m", extra_query={"test": new_test()})
            async with manager as conn:
                await conn.send({"type": "no.such.event"})
                with pytest.raises(OpenAIError, match="WebSocket error") as info:
                    await conn.dispatch_events()
                assert "unknown_event" in str(info.value)

            errors: List[Any] = []
            async with client.realtime.connect(model="m", extra_query={"test": new_test()}) as conn:

                async def on_error(event: Any) -> None:
                    errors.append(event.error.code)
                    await conn.close()

                conn.on("error", on_error)
                await conn.send({"type": "no.such.event"})
                await conn.dispatch_events()
    assert errors == ["unknown_event"]


@pytest.mark.anyio
async def test_beta_has_no_handlers(make_http_client: MakeHTTP, ws_server: RealtimeServer) -> None:
    with anyio.fail_after(LIMIT):
        async with client_for(make_http_client, ws_server) as client:
            manager = client.beta.realtime.connect(model="m", extra_query={"test": new_test()})
            manager.on("session.created", print)
            with pytest.raises(TypeError, match=r"client\.realtime\.connect"):
                await manager.enter()


# The blocking client -------------------------------------------------------------------


def sync_client(server: RealtimeServer) -> OpenAI:
    return OpenAI(
        api_key="sk-test",
        base_url=server.base_url,
        http_client=SyncHTTPClient(),
        timeout=LIMIT / 2,
    )


@pytest.mark.timeout(LIMIT)
def test_sync_reconnects_and_flushes_what_the_callback_sent(ws_server: RealtimeServer) -> None:
    test = new_test()
    holder: List[Any] = []
    seen: List[ReconnectingEvent] = []

    def on_reconnecting(event: ReconnectingEvent) -> ReconnectingOverrides:
        seen.append(event)
        holder[0].input_audio_buffer.append(audio="during")  # queued: no connection now
        return {"extra_headers": {"X-Reconnect": "yes"}}

    with sync_client(ws_server) as client:
        manager = client.realtime.connect(
            model="m",
            extra_query={"test": test, "close_code": "1006"},
            on_reconnecting=on_reconnecting,
            **FAST,
        )
        with manager as conn:
            holder.append(conn)
            conn.recv()
            assert conn.recv().type == "session.created"  # from connection 2
            second = history(ws_server, test)[1]
            deadline = time.monotonic() + 5
            while not second.events and time.monotonic() < deadline:
                time.sleep(0.01)
    assert [event.close_code for event in seen] == [1006]
    assert second.events == [append("during")]
    assert second.header("X-Reconnect") == "yes"


@pytest.mark.timeout(LIMIT)
def test_sync_gives_up_with_unsent_messages(ws_server: RealtimeServer) -> None:
    test = new_test()
    holder: List[Any] = []

    def on_reconnecting(event: ReconnectingEvent) -> Optional[ReconnectingOverrides]:
        if event.attempt == 1:
            holder[0].send(append("lost"))
        return None

    with sync_client(ws_server) as client:
        manager = client.realtime.connect(
            model="m",
            extra_query={"test": test, "close_code": "1011", "reject_from": "2"},
            on_reconnecting=on_reconnecting,
            max_retries=2,
            **FAST,
        )
        with manager as conn:
            holder.append(conn)
            conn.recv()
            with pytest.raises(WebSocketConnectionClosedError) as info:
                for _ in conn:
                    pass
    assert info.value.code == 1011
    assert [json.loads(m) for m in info.value.unsent_messages] == [append("lost")]
    assert len(history(ws_server, test)) == 3


@pytest.mark.timeout(LIMIT)
def test_sync_dispatch_events(ws_server: RealtimeServer) -> None:
    deltas: List[str] = []
    with sync_client(ws_server) as client:
        manager = client.realtime.connect(model="m", extra_query={"test": new_test()})
        manager.on("response.output_text.delta", lambda e: deltas.append(e.delta))
        with manager as conn:
            conn.once("response.done", lambda e: conn.close())
            conn.response.create()
            conn.dispatch_events()
        with client.realtime.connect(model="m", extra_query={"test": new_test()}) as conn:
            conn.send({"type": "no.such.event"})
            with pytest.raises(OpenAIError, match="WebSocket error"):
                conn.dispatch_events()
    assert deltas == ["Hel", "lo"]
