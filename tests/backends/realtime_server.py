"""A scripted Realtime API server on 127.0.0.1, written with the ``websockets`` library.

It runs websockets' asyncio server in a background thread (plain ``ws`` and, with an SSL
context, ``wss``), behaves like the service for the few events the tests use, and records
what each connection sent. A connection picks its script with the query parameters the
client adds through ``extra_query``:

- ``test``: the key its :class:`Record` is stored under;
- ``scenario``: ``chat`` (default), or a fault to inject when the client sends
  ``response.create``: ``drop`` (half a frame, then FIN), ``reset`` (half a frame, then
  RST), ``oversize`` (a text message of ``size`` bytes), ``bad_utf8`` (a text frame that
  is not UTF-8), ``close_1011`` / ``close_1000`` (a Close frame with that code); or
  ``unknown`` (an event of a type the client does not know, right after
  ``session.created``), ``silent`` (stops reading after ``session.created``: no pongs);
- ``reject``: answer the handshake with that HTTP status and a JSON error body (the
  Authorization ``Bearer bad-key`` is rejected with 401 too);
- ``close_code`` (reconnection tests): the first ``close_times`` (default 1) connections
  of this ``test`` end with that close code after ``close_after`` client messages
  (default 0: right after ``session.created``); 1006 drops the TCP connection without a
  Close frame;
- ``reject_from``: connection number ``reject_from`` (from 1) of this ``test`` and every
  later one are rejected with 503.

Every connection's :class:`Record` is also kept, in order, in ``history[test]``.

A connection to a path ending in ``/responses`` speaks the Responses WebSocket instead:
no greeting (``close_after`` 0 and ``unknown`` act right after the handshake), Responses
stream events answering ``response.create`` (its ``stream_id`` echoed),
``response.steer.accepted`` answering ``response.steer``, and the Responses ``error``
event (with ``status``) for any other type.

Faults are written straight to the transport, below the library, so the bytes on the wire
are exactly the broken ones.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

AUDIO = bytes(range(16))
ERROR_BODY = {
    "error": {
        "message": "Incorrect API key provided: bad-key.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}


@dataclass
class Record:
    """What one connection did, as the server saw it."""

    path: str = ""
    query: Dict[str, List[str]] = field(default_factory=dict)
    headers: List[Tuple[str, str]] = field(default_factory=list)
    events: List[Dict[str, Any]] = field(default_factory=list)
    close_code: Optional[int] = None
    handler_done: bool = False
    number: int = 0  # 1 for the first connection of its test, 2 for the next...

    def header(self, name: str) -> Optional[str]:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def _frame_header(opcode: int, length: int) -> bytes:
    """An unmasked server frame header with FIN set (RFC 6455 §5.2)."""
    if length < 126:
        return struct.pack("!BB", 0x80 | opcode, length)
    if length < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


class RealtimeServer:
    """The server and its records; use as a context manager (starts and stops the thread)."""

    def __init__(self, ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self._ssl = ssl_context
        self.records: Dict[str, Record] = {}
        self.history: Dict[str, List[Record]] = {}
        self.port = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="realtime-server", daemon=True)
        self._error: Optional[BaseException] = None

    @property
    def base_url(self) -> str:
        """The client's ``base_url`` (``https`` maps to ``wss``, ``http`` to ``ws``)."""
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    def record(self, test: str) -> Record:
        return self.records[test]

    # -- lifetime -------------------------------------------------------------------
    def __enter__(self) -> RealtimeServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Realtime test server did not start")
        if self._error is not None:
            raise RuntimeError("the Realtime test server failed") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server: Server
        async with serve(
            self._handler,
            "127.0.0.1",
            0,
            ssl=self._ssl,
            process_request=self._process_request,
            close_timeout=1,
            compression=None,
            # No server keepalive: its pings draw from the global `random` in this thread,
            # which disturbs hypothesis tests running meanwhile in the main thread.
            ping_interval=None,
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    # -- handshake ------------------------------------------------------------------
    def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Optional[Response]:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        record = Record(path=parts.path, query=query, headers=list(request.headers.raw_items()))
        test = query.get("test", [""])[0]
        self.records[test] = record
        history = self.history.setdefault(test, [])
        history.append(record)
        record.number = len(history)
        status = int(query.get("reject", ["0"])[0])
        if request.headers.get("Authorization") == "Bearer bad-key":
            status = 401
        reject_from = int(query.get("reject_from", ["0"])[0])
        if reject_from and record.number >= reject_from:
            status = 503
        if not status:
            return None
        body = json.dumps(ERROR_BODY).encode()
        headers = Headers(
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("x-request-id", "req_rejected"),
            ]
        )
        return Response(status, HTTPStatus(status).phrase, headers, body)

    # -- the session ------------------------------------------------------------------
    async def _handler(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        query = parse_qs(urlsplit(connection.request.path).query)
        record = self.records[query.get("test", [""])[0]]
        scenario = query.get("scenario", ["chat"])[0]
        beta = connection.request.headers.get("OpenAI-Beta") == "realtime=v1"
        responses_api = urlsplit(connection.request.path).path.endswith("/responses")
        events = _ResponsesEvents() if responses_api else _BetaEvents() if beta else _Events()
        close_code = int(query.get("close_code", ["0"])[0])
        if record.number > int(query.get("close_times", ["1"])[0]):
            close_code = 0
        close_after = int(query.get("close_after", ["0"])[0])
        try:
            greeting = events.session_created()
            if greeting is not None:
                await connection.send(greeting)
            if close_code and close_after == 0:
                await self._scripted_close(connection, close_code)
                return
            if scenario == "unknown":
                await connection.send(
                    json.dumps(
                        {"type": "brand.new.event", "event_id": "evt_new", "detail": {"x": 1}}
                    )
                )
            if scenario == "silent":
                connection.transport.pause_reading()
                await connection.wait_closed()
                return
            async for message in connection:
                event = json.loads(message)
                record.events.append(event)
                if close_code and len(record.events) >= close_after:
                    await self._scripted_close(connection, close_code)
                    return
                kind = event.get("type")
                if kind == "session.update":
                    await connection.send(events.session_updated(event["session"]))
                elif kind in ("transcription_session.update",):
                    await connection.send(events.transcription_updated())
                elif kind == "response.create":
                    if scenario == "chat" or scenario == "unknown":
                        for out in events.response(event):
                            await connection.send(out)
                    else:
                        await self._fault(connection, scenario, query)
                        if scenario in ("drop", "reset"):
                            return
                elif kind == "response.steer" and responses_api:
                    await connection.send(events.steer_accepted(event))
                elif kind is not None and "." in kind and kind.split(".")[0] in _CLIENT_GROUPS:
                    continue  # accepted without an answer, like input_audio_buffer.append
                else:
                    await connection.send(events.error(event.get("event_id"), str(kind)))
        except ConnectionClosed:
            pass
        finally:
            await connection.wait_closed()
            record.close_code = connection.close_code
            record.handler_done = True

    @staticmethod
    async def _scripted_close(connection: ServerConnection, code: int) -> None:
        if code == 1006:  # no Close frame: the TCP connection just ends
            connection.transport.abort()
        else:
            await connection.close(code, "scripted close")

    async def _fault(
        self, connection: ServerConnection, scenario: str, query: Dict[str, List[str]]
    ) -> None:
        transport = connection.transport
        if scenario in ("drop", "reset"):
            # A frame header announcing 100 bytes, then only 10 of them.
            transport.write(_frame_header(0x1, 100) + b'{"type":"r')
            await asyncio.sleep(0.05)
            if scenario == "reset":
                sock = transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            else:
                transport.close()
        elif scenario == "oversize":
            size = int(query.get("size", ["4096"])[0])
            filler = "x" * max(0, size - 40)
            await connection.send(json.dumps({"type": "response.created", "pad": filler}))
        elif scenario == "bad_utf8":
            payload = b'{"type":"response.output_text.delta","delta":"\xff\xfe"}'
            transport.write(_frame_header(0x1, len(payload)) + payload)
        elif scenario.startswith("close_"):
            await connection.close(int(scenario[len("close_") :]), "scripted close")


_CLIENT_GROUPS = {"input_audio_buffer", "conversation", "output_audio_buffer", "response"}


class _Events:
    """GA server events, shaped as the service sends them."""

    def __init__(self) -> None:
        self._n = 0

    def _id(self) -> str:
        self._n += 1
        return f"event_{self._n}"

    def _dump(self, event: Dict[str, Any]) -> str:
        return json.dumps({"event_id": self._id(), **event})

    def session_created(self) -> Optional[str]:
        session = {
            "type": "realtime",
            "object": "realtime.session",
            "id": "sess_1",
            "model": "gpt-realtime",
            "output_modalities": ["audio"],
            "instructions": "",
        }
        return self._dump({"type": "session.created", "session": session})

    def session_updated(self, session: Dict[str, Any]) -> str:
        full = {"type": "realtime", "object": "realtime.session", "id": "sess_1", **session}
        return self._dump({"type": "session.updated", "session": full})

    def transcription_updated(self) -> str:
        return self._dump({"type": "transcription_session.updated", "session": {}})

    def _part(self, kind: str, delta: str) -> str:
        return self._dump(
            {
                "type": kind,
                "response_id": "resp_1",
                "item_id": "item_1",
                "output_index": 0,
                "content_index": 0,
                "delta": delta,
            }
        )

    text_delta = "response.output_text.delta"
    audio_delta = "response.output_audio.delta"

    def response(self, request: Dict[str, Any]) -> List[str]:
        created = {"object": "realtime.response", "id": "resp_1", "status": "in_progress"}
        done = {**created, "status": "completed", "output": []}
        return [
            self._dump({"type": "response.created", "response": created}),
            self._part(self.text_delta, "Hel"),
            self._part(self.text_delta, "lo"),
            self._part(self.audio_delta, base64.b64encode(AUDIO).decode()),
            self._dump({"type": "response.done", "response": done}),
        ]

    def steer_accepted(self, request: Dict[str, Any]) -> str:
        raise NotImplementedError  # Responses only

    def error(self, event_id: Optional[str], kind: str) -> str:
        error = {
            "type": "invalid_request_error",
            "code": "unknown_event",
            "message": f"Unknown event type: {kind}",
            "param": None,
            "event_id": event_id,
        }
        return self._dump({"type": "error", "error": error})


class _BetaEvents(_Events):
    """Beta server events: another session object and the beta names of the deltas."""

    text_delta = "response.text.delta"
    audio_delta = "response.audio.delta"

    def session_created(self) -> str:
        session = {"id": "sess_beta", "object": "realtime.session", "model": "gpt-4o-realtime"}
        return self._dump({"type": "session.created", "session": session})


class _ResponsesEvents(_Events):
    """Responses WebSocket events: the streaming events of ``POST /responses``, numbered by
    ``sequence_number``, with the request's ``stream_id`` echoed when it had one."""

    def session_created(self) -> Optional[str]:
        return None  # the Responses WebSocket says nothing until asked

    def _seq(self, event: Dict[str, Any], request: Dict[str, Any]) -> str:
        self._n += 1
        lane = {"stream_id": request["stream_id"]} if "stream_id" in request else {}
        return json.dumps({**event, "sequence_number": self._n, **lane})

    @staticmethod
    def _response(request: Dict[str, Any], status: str) -> Dict[str, Any]:
        text = [{"type": "output_text", "text": "Hello", "annotations": []}]
        message = {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": text,
        }
        return {
            "id": "resp_1",
            "object": "response",
            "created_at": 1700000000,
            "status": status,
            "model": request.get("model", "gpt-test"),
            "instructions": request.get("instructions"),
            "metadata": {},
            "temperature": None,
            "top_p": None,
            "tools": [],
            "tool_choice": "auto",
            "error": None,
            "incomplete_details": None,
            "parallel_tool_calls": True,
            "output": [message] if status == "completed" else [],
        }

    def response(self, request: Dict[str, Any]) -> List[str]:
        def delta(text: str) -> str:
            part = {"item_id": "msg_1", "output_index": 0, "content_index": 0, "logprobs": []}
            event = {"type": "response.output_text.delta", **part, "delta": text}
            return self._seq(event, request)

        created = self._response(request, "in_progress")
        done = self._response(request, "completed")
        return [
            self._seq({"type": "response.created", "response": created}, request),
            delta("Hel"),
            delta("lo"),
            self._seq({"type": "response.completed", "response": done}, request),
        ]

    def steer_accepted(self, request: Dict[str, Any]) -> str:
        return json.dumps(
            {"type": "response.steer.accepted", "response_id": request["previous_response_id"]}
        )

    def error(self, event_id: Optional[str], kind: str) -> str:
        error = {
            "type": "invalid_request_error",
            "code": "unknown_event",
            "message": f"Unknown event type: {kind}",
            "param": "type",
        }
        return json.dumps({"type": "error", "status": 400, "error": error})
