"""``client.realtime.connect()`` on the blocking ``OpenAI`` client (the module generated from
``backends/_realtime.py`` by ``scripts/unasync.py``, over the socket driver) against the
same scripted ``websockets`` server as the async suite (``realtime_server.py``), plain and
TLS. Every test is bounded by ``pytest.mark.timeout`` and by small socket timeouts: each
case ends in an event or in one of this library's exceptions, never in a hang.
"""

from __future__ import annotations

import base64
import ssl
import time
import uuid
from typing import Any, Callable, Iterator, List, Optional

import pytest
import trustme
from realtime_server import AUDIO, RealtimeServer

from backends._sync._pool import SyncHTTPClient
from backends._sync._realtime import BetaRealtimeConnection, RealtimeConnection
from openai_proto import (
    AuthenticationError,
    OpenAI,
    OpenAIError,
    RemoteProtocolError,
    WebSocketConnectionClosedError,
)
from openai_proto.realtime import RealtimeEvent
from openai_proto.types import realtime as rt

LIMIT = 10.0  # seconds any test may take
pytestmark = pytest.mark.timeout(LIMIT)


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
    server: RealtimeServer, ssl_context: Optional[ssl.SSLContext] = None, **kwargs: Any
) -> OpenAI:
    kwargs.setdefault("api_key", "sk-test")
    return OpenAI(
        base_url=server.base_url,
        http_client=SyncHTTPClient(ssl_context=ssl_context),
        timeout=LIMIT / 2,
        **kwargs,
    )


def new_test() -> str:
    return uuid.uuid4().hex


def eventually(check: Callable[[], bool]) -> None:
    """Wait (bounded) until the server thread got there."""
    deadline = time.monotonic() + LIMIT / 2
    while not check():
        assert time.monotonic() < deadline, "the server did not get there in time"
        time.sleep(0.01)


# Short open/close timeouts and keepalive pings, so a broken case fails fast.
OPTIONS = {"open_timeout": 3.0, "close_timeout": 2.0, "ping_interval": 2.0, "ping_timeout": 2.0}


def test_conversation_gives_typed_events_in_order(target: Target) -> None:
    test = new_test()
    with client_for(target.server, target.ssl_context) as client:
        manager = client.realtime.connect(
            model="gpt-realtime", extra_query={"test": test}, websocket_connection_options=OPTIONS
        )
        with manager as connection:
            assert isinstance(connection, RealtimeConnection)
            created = connection.recv()
            assert isinstance(created, rt.RealtimeServerEventSessionCreated)
            assert created.session.model == "gpt-realtime"

            connection.session.update(session={"type": "realtime", "instructions": "be brief"})
            updated = connection.recv()
            assert isinstance(updated, rt.RealtimeServerEventSessionUpdated)
            assert updated.session.instructions == "be brief"

            connection.send(
                {"type": "response.create", "response": {"output_modalities": ["text"]}}
            )
            events: List[Any] = []
            for event in connection:
                events.append(event)
                if event.type == "response.done":
                    break

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
    assert record.header("Authorization") == "Bearer sk-test"
    eventually(lambda: record.handler_done)
    assert record.close_code == 1000  # our closing handshake on leaving the block


def test_beta_connection_and_unknown_events(wss_server: RealtimeServer, tls_ca: trustme.CA) -> None:
    """Beta is always ``wss`` (as in the official SDK), with the ``OpenAI-Beta`` header and
    the beta event names; an event type this version does not know comes generic."""
    test = new_test()
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    with client_for(wss_server, context) as client:
        extra = {"test": test, "scenario": "unknown"}
        with client.beta.realtime.connect(
            model="gpt-4o-realtime", extra_query=extra, websocket_connection_options=OPTIONS
        ) as connection:
            assert isinstance(connection, BetaRealtimeConnection)
            created = connection.recv()
            assert type(created).__name__ == "RealtimeBetaServerEventSessionCreated"
            new = connection.recv()
            assert isinstance(new, RealtimeEvent) and new.type == "brand.new.event"
            assert new.detail == {"x": 1}
            connection.response.create()
            types = []
            for event in connection:
                types.append(event.type)
                if event.type == "response.done":
                    break
    assert types == [
        "response.created",
        "response.text.delta",
        "response.text.delta",
        "response.audio.delta",
        "response.done",
    ]
    assert wss_server.record(test).header("OpenAI-Beta") == "realtime=v1"


def test_rejected_handshake_is_an_authentication_error(target: Target) -> None:
    with client_for(target.server, target.ssl_context, api_key="bad-key") as client:
        with pytest.raises(AuthenticationError) as info:
            with client.realtime.connect(model="m", extra_query={"test": new_test()}):
                pass  # pragma: no cover - never entered
    assert info.value.status_code == 401
    assert info.value.code == "invalid_api_key"
    assert info.value.request_id == "req_rejected"


@pytest.mark.parametrize("scenario", ["drop", "reset"])
def test_connection_lost_mid_message_is_1006(ws_server: RealtimeServer, scenario: str) -> None:
    seen: List[str] = []
    with client_for(ws_server) as client:
        extra = {"test": new_test(), "scenario": scenario}
        with client.realtime.connect(
            model="m", extra_query=extra, websocket_connection_options=OPTIONS
        ) as connection:
            connection.recv()
            connection.response.create()
            with pytest.raises(WebSocketConnectionClosedError) as info:
                for event in connection:
                    seen.append(event.type)  # pragma: no cover - nothing arrives
            assert info.value.code == 1006
            assert info.value.reason  # says what happened
            with pytest.raises(WebSocketConnectionClosedError):
                connection.recv()
            with pytest.raises(WebSocketConnectionClosedError):
                connection.session.update(session={})
    assert seen == []


def test_normal_close_by_the_server_ends_the_loop(ws_server: RealtimeServer) -> None:
    with client_for(ws_server) as client:
        extra = {"test": new_test(), "scenario": "close_1000"}
        with client.realtime.connect(
            model="m", extra_query=extra, websocket_connection_options=OPTIONS
        ) as connection:
            connection.recv()
            connection.response.create()
            assert list(connection) == []
            with pytest.raises(WebSocketConnectionClosedError) as info:
                connection.recv()
    assert info.value.code == 1000 and info.value.reason == "scripted close"


def test_message_over_the_size_limit(ws_server: RealtimeServer) -> None:
    test = new_test()
    with client_for(ws_server) as client:
        extra = {"test": test, "scenario": "oversize", "size": "4096"}
        with client.realtime.connect(
            model="m", extra_query=extra, websocket_connection_options={**OPTIONS, "max_size": 1024}
        ) as connection:
            connection.recv()
            connection.response.create()
            with pytest.raises(RemoteProtocolError, match="max_message_size"):
                connection.recv()
            with pytest.raises(OpenAIError):
                connection.recv()
    record = ws_server.record(test)
    eventually(lambda: record.handler_done)
    assert record.close_code == 1009  # "message too big", RFC 6455 §7.4.1
