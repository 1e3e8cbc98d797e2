"""The Realtime API's WebSocket: URL, client connection machine and event decoding.

:class:`RealtimeConnection` is the client side of one WebSocket connection (RFC 6455) on
top of ``wsproto``, shaped like the other machines of this package: it does no I/O. The
caller writes the bytes it returns, feeds what it reads to
:meth:`RealtimeConnection.receive_data` (``b""`` for end of stream) and pulls events with
:meth:`RealtimeConnection.next_event`. Fragmented messages are reassembled under a size
limit, pings are answered and a peer's close is echoed inside the machine (the replies
wait in :meth:`RealtimeConnection.data_to_send`), and every failure is one of this
library's protocol errors, never a raw ``wsproto`` or ``h11`` exception.

:func:`build_realtime_url` builds the connection URL as the official SDK does, and
:func:`decode_server_event` turns a text message into a typed server event.
"""

from __future__ import annotations

import enum
from collections import deque
from typing import (
    Any,
    Deque,
    Dict,
    Final,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import h11
import msgspec
import wsproto
import wsproto.events as ws_events
import wsproto.utilities as ws_errors
from wsproto.connection import ConnectionState as _WS

from ._exceptions import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._headers import Headers
from ._http11 import NEED_DATA, NeedData
from ._types import NotGiven, Omit

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "BinaryMessage",
    "Closed",
    "Message",
    "Opened",
    "Pong",
    "RealtimeConnection",
    "RealtimeConnectionEvent",
    "RealtimeEvent",
    "RealtimeState",
    "Rejected",
    "build_realtime_url",
    "decode_server_event",
    "encode_client_event",
]

#: Largest reassembled message (UTF-8 bytes of a text message), and largest body of a
#: rejected handshake, accepted from the server.
DEFAULT_MAX_MESSAGE_SIZE: Final = 16 * 1024 * 1024

# RFC 6455 §7.4.1 status codes this machine sends or reports itself.
_PROTOCOL_ERROR: Final = 1002
_MESSAGE_TOO_BIG: Final = 1009
# Codes an endpoint must never put in a Close frame (RFC 6455 §7.4.1).
_LOCAL_ONLY_CODES: Final = frozenset({1005, 1006, 1015})

# Header names the WebSocket handshake owns (RFC 6455 §4.1) or that would frame a body.
_RESERVED_HEADERS: Final = frozenset(
    {
        b"host",
        b"upgrade",
        b"connection",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-protocol",
        b"sec-websocket-extensions",
        b"content-length",
        b"transfer-encoding",
    }
)


# URL -------------------------------------------------------------------------------------

QueryPairs = List[Tuple[str, str]]


def _flatten(key: str, value: object, out: QueryPairs, *, brackets: bool) -> None:
    """One query value as pairs, following the official SDK's ``qs`` rules: mappings nest
    as ``key[sub]``, sequences repeat the key (``key[]`` for client defaults), booleans are
    ``true``/``false``, ``None`` is left out."""
    if isinstance(value, (Omit, NotGiven)) or value is None:
        return
    if isinstance(value, Mapping):
        for sub, item in value.items():
            _flatten(f"{key}[{sub}]", item, out, brackets=brackets)
    elif isinstance(value, (list, tuple)):
        item_key = key + "[]" if brackets else key
        for item in value:
            _flatten(item_key, item, out, brackets=brackets)
    elif value is True or value is False:
        out.append((key, "true" if value else "false"))
    else:
        out.append((key, str(value)))


def _merge(first: QueryPairs, second: QueryPairs) -> QueryPairs:
    """``second``'s keys replace all of ``first``'s values for the same key, in the
    position the key first had; new keys follow (httpx ``QueryParams.merge``)."""
    table: Dict[str, List[str]] = {}
    for key, value in first:
        table.setdefault(key, []).append(value)
    replaced: Dict[str, List[str]] = {}
    for key, value in second:
        replaced.setdefault(key, []).append(value)
    table.update(replaced)
    return [(key, value) for key, values in table.items() for value in values]


def build_realtime_url(
    *,
    base_url: str,
    websocket_base_url: Optional[str],
    model: Optional[str],
    call_id: Optional[str],
    extra_query: Optional[Mapping[str, object]],
    beta: bool,
    default_query: Optional[Mapping[str, object]] = None,
    path: str = "/realtime",
) -> str:
    """The ``ws://`` / ``wss://`` URL of a Realtime connection, as the official SDK builds it.

    The base is ``websocket_base_url``, else ``base_url`` with scheme ``ws`` when it is
    ``http`` and ``wss`` otherwise (``beta``: always ``wss``); ``path`` is appended to its
    path (``/realtime``; ``/responses`` for the Responses API over a WebSocket, which
    follows the same rules). The GA API also maps an ``http``/``https`` ``websocket_base_url`` to
    ``ws``/``wss``. The query is the client's ``default_query``, overridden by the base
    URL's own query, then ``model``, ``extra_query`` and ``call_id`` (GA only), each key
    of the later ones replacing every earlier value of that key. In ``extra_query``
    ``None`` is sent as an empty value, sequences repeat the key, and ``omit`` removes the
    key altogether.
    """
    if websocket_base_url is not None:
        parts = urlsplit(websocket_base_url)
        scheme = parts.scheme
    else:
        parts = urlsplit(base_url)
        scheme = "wss" if beta or parts.scheme != "http" else "ws"
    if not beta:
        scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
    full_path = parts.path.rstrip("/") + path

    overrides: Dict[str, object] = {}
    if model is not None:
        overrides["model"] = model
    if extra_query:
        overrides.update(extra_query)
    if call_id is not None:
        if beta:
            raise ValueError("call_id is not supported by the beta Realtime API")
        overrides["call_id"] = call_id

    defaults: QueryPairs = []
    for key, value in (default_query or {}).items():
        _flatten(key, value, defaults, brackets=True)
    params = _merge(defaults, parse_qsl(parts.query, keep_blank_values=True))
    params = [(key, value) for key, value in params if key not in overrides]
    added: QueryPairs = []
    for key, value in overrides.items():
        if value is None:
            value = ""
        elif isinstance(value, (list, tuple)):
            value = ["" if item is None else item for item in value]
        _flatten(key, value, added, brackets=False)
    query = urlencode(_merge(params, added))
    return urlunsplit((scheme, parts.netloc, full_path, query, ""))


# Events ----------------------------------------------------------------------------------


class Opened(msgspec.Struct, frozen=True, kw_only=True):
    """The server accepted the handshake (HTTP 101, RFC 6455 §4.2.2). ``headers`` are the
    response's fields other than those of the handshake itself (``x-request-id``...)."""

    headers: Headers
    subprotocol: Optional[str] = None


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A complete text message (all its frames), decoded from UTF-8."""

    data: str


class BinaryMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A complete binary message (all its frames)."""

    data: bytes


class Pong(msgspec.Struct, frozen=True, kw_only=True):
    """A Pong frame, normally the answer to :meth:`RealtimeConnection.ping`."""

    payload: bytes


class Closed(msgspec.Struct, frozen=True, kw_only=True):
    """The connection is over (terminal).

    ``code`` and ``reason`` come from the peer's Close frame (1005 when it carried no
    code, RFC 6455 §7.1.5), or ``code`` is 1006 when the stream ended without one.
    After a peer-initiated close the echo is already queued in ``data_to_send()``.
    """

    code: int
    reason: str = ""


class Rejected(msgspec.Struct, frozen=True, kw_only=True):
    """The server answered the handshake with an HTTP status other than 101 (terminal).

    ``body`` is the whole response body: for a body framed by the end of the stream the
    event comes once ``receive_data(b"")`` is fed. The caller turns it into an API error
    (``make_status_error``), as for any HTTP response.
    """

    status_code: int
    headers: Headers
    body: bytes


RealtimeConnectionEvent = Union[Opened, Message, BinaryMessage, Pong, Closed, Rejected]


class RealtimeState(enum.Enum):
    """Where a :class:`RealtimeConnection` stands."""

    IDLE = "IDLE"  #: created; call initiate()
    CONNECTING = "CONNECTING"  #: handshake sent, no answer yet
    OPEN = "OPEN"  #: messages flow both ways
    CLOSING = "CLOSING"  #: we sent a Close frame and wait for the peer's
    CLOSED = "CLOSED"  #: Closed or Rejected was produced
    FAILED = "FAILED"  #: a protocol error happened; every later call raises


class _ErrorMarker(enum.Enum):
    ERROR = "ERROR"


# Stands in the event queue where a failure happened, so that the events before it are
# still delivered first, whatever the input split.
_ERROR: Final = _ErrorMarker.ERROR

_TERMINAL: Final = (Closed, Rejected)
_Queued = Union[RealtimeConnectionEvent, _ErrorMarker]


# The machine -----------------------------------------------------------------------------


class RealtimeConnection:
    """Client side of one WebSocket connection (RFC 6455), bytes in and events out.

    Cycle: write :meth:`initiate`'s bytes; feed everything read to :meth:`receive_data`;
    call :meth:`next_event` until it returns :data:`~openai_proto._http11.NEED_DATA`,
    writing :meth:`data_to_send` after each batch (pongs and the close echo). The first
    event is :class:`Opened` or :class:`Rejected`; the last is :class:`Closed` or
    :class:`Rejected`, which :meth:`next_event` then keeps returning. Send with
    :meth:`send_text`, :meth:`send_json`, :meth:`send_bytes`, :meth:`ping` and
    :meth:`close`; their result starts with any queued automatic replies, so the bytes
    on the wire keep the machine's order.

    Errors: bytes that break RFC 6455 (bad framing, invalid UTF-8, a bad handshake
    answer) or a message over ``max_message_size`` raise :class:`RemoteProtocolError`
    from :meth:`next_event`, after the events that preceded them; when the connection
    was open, a Close frame with the matching code (1002, 1007, 1009) is queued first.
    A call in the wrong state raises :class:`LocalProtocolError`. After either error the
    machine is terminal: every call raises, except :meth:`data_to_send`. (A call after
    :class:`Closed` or :class:`Rejected` raises too, but leaves the state ``CLOSED``.)

    No extension (permessage-deflate) is offered. The ``Authorization`` header and any
    other request header come from the caller through ``headers``.
    """

    __slots__ = (
        "_eof",
        "_eof_fed",
        "_error",
        "_final",
        "_headers",
        "_host",
        "_max_message_size",
        "_outbox",
        "_parts",
        "_queue",
        "_reject_body",
        "_reject_head",
        "_size",
        "_state",
        "_subprotocols",
        "_target",
        "_ws",
    )

    def __init__(
        self,
        *,
        host: str,
        target: str,
        headers: Sequence[Tuple[str, str]],
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        subprotocols: Sequence[str] = (),
    ) -> None:
        self._host = host
        self._target = target
        self._headers = list(headers)
        self._subprotocols = list(subprotocols)
        self._max_message_size = max_message_size
        self._ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self._state = RealtimeState.IDLE
        self._queue: Deque[_Queued] = deque()
        self._outbox = bytearray()
        self._parts: List[Union[str, bytes]] = []
        self._size = 0
        self._reject_head: Optional[Tuple[int, Headers]] = None
        self._reject_body = bytearray()
        self._eof = False
        self._eof_fed = False
        self._final: Optional[RealtimeConnectionEvent] = None
        self._error: Optional[ProtocolError] = None

    @property
    def state(self) -> RealtimeState:
        """The state as of the events produced so far."""
        return self._state

    # Errors ------------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._error is not None:
            raise type(self._error)(f"connection is unusable after an earlier error: {self._error}")

    def _misuse(self, message: str) -> LocalProtocolError:
        exc = LocalProtocolError(message)
        if self._state is not RealtimeState.CLOSED:  # a closed machine stays cleanly closed
            self._state = RealtimeState.FAILED
            self._error = exc
        return exc

    def _fail(self, message: str, close_code: Optional[int]) -> None:
        """Record a peer's fault: queue a Close frame when the connection is open (RFC 6455
        §7.1.7, "Fail the WebSocket Connection") and the error after the events so far."""
        if close_code is not None and self._ws.state is _WS.OPEN:
            self._outbox += self._ws.send(ws_events.CloseConnection(code=close_code))
        self._state = RealtimeState.FAILED
        self._error = RemoteProtocolError(message)
        self._parts = []
        self._queue.append(_ERROR)

    # Sending -----------------------------------------------------------------------------

    def initiate(self) -> bytes:
        """The bytes of the opening handshake request (RFC 6455 §4.1): ``GET target`` with
        ``Host``, the upgrade fields, then the caller's headers."""
        self._check_usable()
        if self._state is not RealtimeState.IDLE:
            raise self._misuse("initiate() was already called")
        extra: List[Tuple[bytes, bytes]] = []
        try:
            for name, value in self._headers:
                name_b = name.encode("ascii")
                if name_b.lower() in _RESERVED_HEADERS:
                    raise self._misuse(f"header {name!r} is set by the WebSocket handshake")
                extra.append((name_b, value.encode("latin-1")))
            request = ws_events.Request(
                host=self._host,
                target=self._target,
                extra_headers=extra,
                subprotocols=self._subprotocols,
            )
            data = self._ws.send(request)
        except UnicodeError as exc:
            raise self._misuse(
                f"host, target and header names must be ASCII, header values latin-1: {exc}"
            ) from exc
        except (ws_errors.ProtocolError, h11.ProtocolError) as exc:
            raise self._misuse(f"invalid handshake request: {exc}") from exc
        self._state = RealtimeState.CONNECTING
        return data

    def _send_frame(self, event: ws_events.Event, what: str) -> bytes:
        self._check_usable()
        if self._state is not RealtimeState.OPEN:
            raise self._misuse(f"cannot send {what} in state {self._state.name}")
        try:
            frame = self._ws.send(event)
        except (ws_errors.ProtocolError, ValueError, TypeError) as exc:
            raise self._misuse(f"cannot send {what}: {exc}") from exc
        return self.data_to_send() + frame

    def send_text(self, text: str) -> bytes:
        """The bytes of one text message (a single frame)."""
        return self._send_frame(ws_events.TextMessage(data=text), "a text message")

    def send_json(self, obj: object) -> bytes:
        """The bytes of one text message holding ``obj`` encoded as JSON by msgspec (dicts,
        lists, msgspec Structs such as the generated client events...). An object msgspec
        cannot encode raises :class:`TypeError` and leaves the machine as it was."""
        return self.send_text(encode_client_event(obj))

    def send_bytes(self, data: bytes) -> bytes:
        """The bytes of one binary message (a single frame)."""
        return self._send_frame(ws_events.BytesMessage(data=bytes(data)), "a binary message")

    def ping(self, payload: bytes = b"") -> bytes:
        """The bytes of a Ping frame; the peer's :class:`Pong` echoes ``payload`` (at most
        125 bytes, RFC 6455 §5.5)."""
        if len(payload) > 125:
            self._check_usable()
            raise self._misuse("a ping payload is at most 125 bytes (RFC 6455 §5.5)")
        return self._send_frame(ws_events.Ping(payload=bytes(payload)), "a ping")

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        """The bytes of a Close frame starting the closing handshake (RFC 6455 §7.1.2);
        the :class:`Closed` event follows the peer's answer. Once closing or closed it
        sends nothing new and returns only :meth:`data_to_send`. ``reason`` is cut to fit
        a control frame."""
        self._check_usable()
        if self._state is RealtimeState.CLOSING or self._state is RealtimeState.CLOSED:
            return self.data_to_send()
        if not 1000 <= code <= 4999 or code in _LOCAL_ONLY_CODES:
            raise self._misuse(f"close code {code} cannot be sent (RFC 6455 §7.4)")
        frame = self._send_frame(ws_events.CloseConnection(code=code, reason=reason), "close")
        self._state = RealtimeState.CLOSING
        return frame

    def data_to_send(self) -> bytes:
        """Bytes the machine queued on its own (pongs, the close echo, a Close frame after
        a protocol error), to write before anything else. Never raises."""
        out = bytes(self._outbox)
        self._outbox.clear()
        return out

    # Receiving ---------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the peer; ``b""`` means end of stream (repeating it is harmless,
        data after it is a :class:`LocalProtocolError`). Bytes after the connection closed
        are ignored. Bad bytes are reported by :meth:`next_event`, not here."""
        if self._error is not None:
            if _ERROR in self._queue:  # not reported yet: next_event() raises it in place
                return
            self._check_usable()
        state = self._state
        if state is RealtimeState.IDLE:
            raise self._misuse("receive_data() called before initiate()")
        if self._eof:
            if data:
                raise self._misuse("received data after end of stream")
            return
        if not data:
            self._eof = True
        ws = self._ws
        if state is RealtimeState.CLOSED or ws.state is _WS.CLOSED:
            return
        if ws.connection is not None:
            if data:
                ws.receive_data(bytes(data))
            return  # end of stream is fed at the right place by the pump
        # Opening handshake: wsproto parses it right away.
        try:
            ws.receive_data(bytes(data) if data else None)
        except (ws_errors.ProtocolError, h11.ProtocolError, ValueError) as exc:
            # ValueError: wsproto decodes some handshake fields as ASCII without a guard.
            self._pump()
            if self._ws.state is not _WS.CLOSED:  # (re-read: wsproto changed it)
                self._fail(f"invalid handshake response: {exc}", None)
            # else: a complete rejection (a 1xx answer) was followed by bytes wsproto could
            # not parse; those are ignored like any bytes after the end, whatever the split.

    def next_event(self) -> Union[RealtimeConnectionEvent, NeedData]:
        """The next event, or :data:`NEED_DATA` when more bytes must be read first.

        A :class:`RemoteProtocolError` is raised in the position where the bad bytes
        were, after the events that came before them.
        """
        queue = self._queue
        if not queue:
            if self._final is not None:
                return self._final
            if self._error is not None:
                self._check_usable()
            if self._state is RealtimeState.IDLE:
                raise self._misuse("next_event() called before initiate()")
            self._pump()
            if not queue:
                if self._eof:  # pragma: no cover - wsproto always ends or fails on EOF
                    # Never wait for bytes that cannot come: that would hang the driver.
                    self._fail("the stream ended without a close or an error", None)
                    return self.next_event()
                return NEED_DATA
        item = queue.popleft()
        if item is _ERROR:
            assert self._error is not None
            raise self._error
        return item

    def events(self) -> List[RealtimeConnectionEvent]:
        """Every event available now, in order (empty: read more). It stops after a
        terminal event, and before an error: the next call raises it."""
        out: List[RealtimeConnectionEvent] = []
        while True:
            if out and self._queue and self._queue[0] is _ERROR:
                return out
            event = self.next_event()
            if event is NEED_DATA:
                return out
            out.append(event)
            if isinstance(event, _TERMINAL):
                return out

    # The pump: wsproto events -> ours ----------------------------------------------------

    def _stopped(self) -> bool:
        return self._state is RealtimeState.FAILED or self._final is not None

    def _pump(self) -> None:
        """Turn every wsproto event available into ours (or a queued error)."""
        ws = self._ws
        try:
            for event in ws.events():
                self._handle(event)
                if self._stopped():
                    return
            if self._eof and not self._eof_fed and ws.connection is not None:
                # After the buffered frames, so the order never depends on the split.
                self._eof_fed = True
                if ws.state is not _WS.CLOSED:
                    ws.receive_data(None)
                    for event in ws.events():
                        self._handle(event)
                        if self._stopped():
                            return
        except (ws_errors.ProtocolError, h11.ProtocolError) as exc:  # pragma: no cover
            # wsproto reports bad frames as events; this is the translation boundary for
            # anything it might raise instead.
            self._fail(f"WebSocket protocol error: {exc}", _PROTOCOL_ERROR)

    def _handle(self, event: ws_events.Event) -> None:
        kind = type(event)
        if kind is ws_events.TextMessage or kind is ws_events.BytesMessage:
            self._message(event)  # type: ignore[arg-type]
        elif kind is ws_events.Ping:
            if self._ws.state is _WS.OPEN:
                self._outbox += self._ws.send(event.response())  # type: ignore[attr-defined]
        elif kind is ws_events.Pong:
            self._queue.append(Pong(payload=bytes(event.payload)))  # type: ignore[attr-defined]
        elif kind is ws_events.CloseConnection:
            self._closed(event)  # type: ignore[arg-type]
        elif kind is ws_events.AcceptConnection:
            self._state = RealtimeState.OPEN
            self._queue.append(
                Opened(
                    headers=Headers(event.extra_headers),  # type: ignore[attr-defined]
                    subprotocol=event.subprotocol,  # type: ignore[attr-defined]
                )
            )
        elif kind is ws_events.RejectConnection:
            self._reject_head = (
                event.status_code,  # type: ignore[attr-defined]
                Headers(event.headers),  # type: ignore[attr-defined]
            )
            if not event.has_body:  # type: ignore[attr-defined]
                self._rejected()
        elif kind is ws_events.RejectData:
            self._reject_body += event.data  # type: ignore[attr-defined]
            if len(self._reject_body) > self._max_message_size:
                self._fail(
                    f"handshake rejection body exceeds max_message_size "
                    f"({self._max_message_size} bytes)",
                    None,
                )
            elif event.body_finished:  # type: ignore[attr-defined]
                self._rejected()
        else:  # pragma: no cover - wsproto has no other client events
            self._fail(f"unexpected WebSocket event {event!r}", _PROTOCOL_ERROR)

    def _message(self, event: Union[ws_events.TextMessage, ws_events.BytesMessage]) -> None:
        data: Union[str, bytes]
        if isinstance(event.data, str):
            data = event.data
            size = len(data) if data.isascii() else len(data.encode("utf-8"))
        else:
            data = bytes(event.data)
            size = len(data)
        self._size += size
        if self._size > self._max_message_size:
            self._fail(
                f"message exceeds max_message_size ({self._max_message_size} bytes)",
                _MESSAGE_TOO_BIG,
            )
            return
        if not event.message_finished:
            if data:
                self._parts.append(data)
            return
        parts = self._parts
        if parts:
            parts.append(data)
            data = "".join(parts) if isinstance(data, str) else b"".join(parts)  # type: ignore[arg-type]
            self._parts = []
        self._size = 0
        if isinstance(data, str):
            self._queue.append(Message(data=data))
        else:
            self._queue.append(BinaryMessage(data=data))

    def _closed(self, event: ws_events.CloseConnection) -> None:
        ws = self._ws
        after = ws.state
        if after is _WS.OPEN or after is _WS.LOCAL_CLOSING:
            # wsproto reports a frame it could not parse as a CloseConnection without
            # changing state; the code says why (1002, 1007...).
            self._fail(f"WebSocket protocol error: {event.reason}", int(event.code))
            return
        if after is _WS.REMOTE_CLOSING:
            # Echo the peer's close (RFC 6455 §5.5.1); the code 1005 is sent as no code.
            self._outbox += ws.send(event.response())
        code = int(event.code)
        self._parts = []
        self._state = RealtimeState.CLOSED
        self._final = Closed(code=code, reason=event.reason or "")
        self._queue.append(self._final)

    def _rejected(self) -> None:
        assert self._reject_head is not None
        status_code, headers = self._reject_head
        self._state = RealtimeState.CLOSED
        self._final = Rejected(
            status_code=status_code, headers=headers, body=bytes(self._reject_body)
        )
        self._reject_body = bytearray()
        self._queue.append(self._final)


def encode_client_event(obj: object) -> str:
    """The JSON text of a client event (a dict, a list, a msgspec Struct such as the
    generated client events), as :meth:`RealtimeConnection.send_json` sends it. An object
    msgspec cannot encode raises :class:`TypeError`."""
    try:
        encoded = msgspec.json.encode(obj)
    except (msgspec.EncodeError, TypeError, ValueError) as exc:
        raise TypeError(f"cannot encode the event as JSON: {exc}") from exc
    return encoded.decode("utf-8")


# Server events ---------------------------------------------------------------------------


class RealtimeEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A server event decoded generically: its ``type`` and the whole JSON object in
    ``raw`` (also :meth:`to_dict`); other members read as attributes (``event.delta``)."""

    type: str
    raw: Dict[str, Any]

    def to_dict(self) -> Dict[str, Any]:
        """The whole event as decoded JSON."""
        return self.raw

    def __getattr__(self, name: str) -> Any:
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None


_ANY_DECODER: Final = msgspec.json.Decoder()


def decode_server_event(data: Union[str, bytes], *, union: Any = None) -> object:
    """Decode one server event (the text of a :class:`Message`).

    With ``union`` (a msgspec tagged union on ``type``, e.g. the generated
    ``RealtimeServerEvent``) the event is decoded into it; when the union does not accept
    it (a new event type, a changed field) or no union is given, the result is a
    :class:`RealtimeEvent`, so new server events never break a session. Text that is not
    a JSON object with a string ``type`` raises :class:`RemoteProtocolError`.
    """
    if union is not None:
        # Imported here: the generated types are large, and most users of this module
        # never decode into them. ``decode`` carries their open-union hook, without which
        # no union field (nor a union itself) decodes, and keeps unknown fields reachable.
        from .types import decode

        try:
            typed: object = decode(union, data)
        except msgspec.ValidationError:
            pass
        except (msgspec.DecodeError, RecursionError) as exc:
            raise RemoteProtocolError(f"server event is not valid JSON: {exc}") from exc
        else:
            # A generated union gives an ``UnknownObject`` (a dict) for a type it does not
            # know; a known type that its variant rejects is a ValidationError (so the
            # generic event below), never another variant that happens to fit.
            if not isinstance(typed, dict):
                return typed
    try:
        raw = _ANY_DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:  # nesting deeper than msgspec allows
        raise RemoteProtocolError(f"server event is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise RemoteProtocolError("server event is not a JSON object with a string 'type'")
    return RealtimeEvent(type=raw["type"], raw=raw)
