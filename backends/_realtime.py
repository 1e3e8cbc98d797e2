"""``client.realtime.connect()`` and ``client.beta.realtime.connect()``: the Realtime API over
a WebSocket, on every driver. ``client.responses.connect()`` (``_responses_ws.py``) runs on
the same classes with the path ``/responses``.

The protocol is the core's :class:`~openai_proto.realtime.RealtimeConnection` (RFC 6455 on
wsproto); this module only moves its bytes. One loop, :meth:`_WebSocket._event`, runs the
read → ``receive_data`` → flush → events cycle for all drivers. The byte stream comes from
the client's HTTP client:

- the native pool (asyncio, trio, blocking sockets): a new connection from
  ``http_client.backend.connect_tcp`` with the pool's TLS context, then the handshake
  written by the core;
- httpcore and httpx clients (the async client only): the handshake request goes through
  the library's pool and, on ``101``, its ``extensions["network_stream"]`` carries the
  frames; the library's ``101`` head is handed to the core, which checks it as for the
  native path.

Failures are this library's exceptions, never a driver's or wsproto's: before the
connection is open, ``APIConnectionError`` / ``APITimeoutError``, or the
``APIStatusError`` subclass of a rejected handshake (401 → ``AuthenticationError``);
afterwards, :class:`WebSocketConnectionClosedError` for the end of the connection (code and
reason of the Close frame, 1006 when the TCP connection ended without one, RFC 6455
§7.1.5) and :class:`~openai_proto.RemoteProtocolError` for bytes that break RFC 6455 or a
limit (over-size message, invalid UTF-8: the core sends Close 1009 / 1007 first).
"""

from __future__ import annotations

import inspect
import logging
import socket
import sys
import time
from dataclasses import dataclass
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Generic,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)
from urllib.parse import urlsplit

import msgspec

from openai_proto._config import Origin
from openai_proto._exceptions import (
    APIConnectionError,
    APITimeoutError,
    OpenAIError,
    ProtocolError,
    RemoteProtocolError,
    WebSocketConnectionClosedError,
    make_status_error,
)
from openai_proto._headers import Headers
from openai_proto._http11 import NEED_DATA
from openai_proto._reconnect import (
    DEFAULT_MAX_QUEUE_SIZE,
    EventHandlers,
    ReconnectingEvent,
    ReconnectingOverrides,
    ReconnectPolicy,
    SendQueue,
    apply_overrides,
    is_progress,
)
from openai_proto._request import USER_AGENT
from openai_proto._types import NotGiven, Omit, Query, is_given, omit
from openai_proto.realtime import (
    DEFAULT_MAX_MESSAGE_SIZE,
    BinaryMessage,
    Closed,
    Message,
    Opened,
    RealtimeConnectionEvent,
    RealtimeEvent,
    RealtimeState,
    Rejected,
    decode_server_event,
    encode_client_event,
)
from openai_proto.realtime import (
    RealtimeConnection as _Machine,
)

from ._base import (
    AsyncBackend,
    AsyncNetworkStream,
    AsyncSemaphore,
    ConnectError,
    ReadError,
    ReadTimeout,
    TimeoutException,
    TransportError,
    WriteError,
    WriteTimeout,
)
from ._engine import decode_error_body
from ._pool import AsyncHTTPClient
from .resources.beta.realtime.realtime import AsyncRealtime as _GeneratedBetaRealtime
from .resources.realtime.realtime import AsyncRealtime as _GeneratedRealtime

if TYPE_CHECKING:
    from openai_proto._config import ClientConfig
    from openai_proto.types.realtime import RealtimeBetaServerEvent, RealtimeServerEvent

    from ._client import AsyncOpenAI

__all__ = [
    "AsyncBetaRealtime",
    "AsyncBetaRealtimeConnection",
    "AsyncRealtime",
    "AsyncRealtimeConnection",
    "AsyncRealtimeConnectionManager",
    "ReconnectingEvent",
    "ReconnectingOverrides",
    "WebSocketConnectionClosedError",
]

log = logging.getLogger("openai_proto")

_READ_SIZE = 64 * 1024
#: Close codes of a normal end (websockets' ``ConnectionClosedOK``): ``async for`` stops
#: quietly on them, and raises on any other (RFC 6455 §7.4.1).
_OK_CODES = frozenset({1000, 1001, 1005})
#: The endpoint below the base URL (``build_realtime_url`` appends it to the base path).
_REALTIME_PATH = "/realtime"


# Options ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    max_size: int
    subprotocols: Tuple[str, ...]
    open_timeout: Optional[float]
    close_timeout: Optional[float]
    ping_interval: Optional[float]
    ping_timeout: Optional[float]
    write_timeout: Optional[float]


# websockets' names and defaults (``websockets.asyncio.client.connect``), so the official
# SDK's ``websocket_connection_options`` keep their meaning.
_DEFAULTS: Dict[str, Any] = {
    "max_size": DEFAULT_MAX_MESSAGE_SIZE,
    "subprotocols": None,
    "open_timeout": 10.0,
    "close_timeout": 10.0,
    "ping_interval": 20.0,
    "ping_timeout": 20.0,
}
# Accepted for compatibility, without effect: no extension (permessage-deflate) is ever
# negotiated, and flow control follows the reads.
_NO_EFFECT = frozenset({"compression", "max_queue", "write_limit", "extensions"})


def _settings(options: Optional[Mapping[str, Any]], write_timeout: Optional[float]) -> _Settings:
    """``websocket_connection_options`` → settings. ``max_size=None`` lifts the message
    size limit (16 MiB by default); ``ping_interval=None`` turns keepalive pings off."""
    options = dict(options or {})
    unknown = set(options) - set(_DEFAULTS) - _NO_EFFECT
    if unknown:
        raise TypeError(f"unsupported websocket_connection_options: {sorted(unknown)}")
    if options.get("extensions"):
        raise ValueError("WebSocket extensions are not supported; pass extensions=None")
    merged = {**_DEFAULTS, **{k: v for k, v in options.items() if k in _DEFAULTS}}
    max_size = merged["max_size"]
    return _Settings(
        max_size=sys.maxsize if max_size is None else int(max_size),
        subprotocols=tuple(merged["subprotocols"] or ()),
        open_timeout=merged["open_timeout"],
        close_timeout=merged["close_timeout"],
        ping_interval=merged["ping_interval"],
        ping_timeout=merged["ping_timeout"],
        write_timeout=write_timeout,
    )


# The connection's I/O ----------------------------------------------------------------------


class _WebSocket:
    """One open (or opening) WebSocket connection: the core machine over a driver stream.

    Readers take the read lock and writers the write lock (the driver's semaphores), so one
    task may receive while others send. While a reader waits, a ping goes out after
    ``ping_interval`` seconds of silence and the connection is given up (code 1011) when
    nothing arrives within ``ping_timeout`` more (RFC 6455 §5.5.2).
    """

    def __init__(
        self,
        machine: _Machine,
        stream: AsyncNetworkStream,
        backend: AsyncBackend,
        settings: _Settings,
    ) -> None:
        self._ws = machine
        self._stream = stream
        self._settings = settings
        self._read_lock: AsyncSemaphore = backend.semaphore(1)
        self._write_lock: AsyncSemaphore = backend.semaphore(1)
        self._pending: Optional[RealtimeConnectionEvent] = None
        self._ping_out = False
        self._pings = 0
        self._lost: Optional[Tuple[int, str, Optional[BaseException]]] = None
        self._final: Optional[Closed] = None
        self._error: Optional[ProtocolError] = None
        self._stream_closed = False
        self._close_sent = (1006, "")

    # -- the cycle ----------------------------------------------------------------------
    async def _event(
        self, *, handshake: bool = False, deadline: Optional[float] = None
    ) -> RealtimeConnectionEvent:
        """The next event of the machine: read → ``receive_data`` → flush → events.

        An event taken from the machine is held in ``_pending`` until the queued replies
        (pong, close echo) are written, so a cancelled call loses nothing.
        """
        ws = self._ws
        while True:
            if self._pending is None:
                try:
                    event = ws.next_event()
                except RemoteProtocolError as exc:
                    if not handshake:
                        await self._fail(exc)
                    raise
                if event is NEED_DATA:
                    await self._flush()
                    ws.receive_data(await self._read(handshake, deadline))
                    continue
                self._pending = event
            await self._flush()
            pending, self._pending = self._pending, None
            return pending

    async def _read(self, handshake: bool, deadline: Optional[float]) -> bytes:
        """Bytes from the stream; ``b""`` at its end, and when the connection is lost (a
        transport error, a dead peer, the closing handshake timing out), which the
        machine then reports as ``Closed(1006)``."""
        s = self._settings
        while True:
            if deadline is not None:
                timeout: Optional[float] = max(0.0, deadline - time.monotonic())
            elif handshake:
                timeout = s.open_timeout
            elif s.ping_interval is None:
                timeout = None
            else:
                timeout = s.ping_timeout if self._ping_out else s.ping_interval
            try:
                data = await self._stream.read(_READ_SIZE, timeout)
            except TimeoutException:
                if handshake:
                    raise
                if deadline is not None:
                    self._lose(1006, "timed out waiting for the closing handshake")
                    return b""
                if self._ping_out:
                    self._lose(1011, "keepalive ping timeout")
                    return b""
                self._ping_out = True
                await self._ping()
                continue
            except TransportError as exc:
                if handshake:
                    raise
                self._lose(1006, f"connection lost: {exc}", exc)
                return b""
            self._ping_out = False
            return data

    async def _ping(self) -> None:
        self._pings += 1
        payload = self._pings.to_bytes(4, "big")
        try:
            await self.write(lambda: self._ws.ping(payload))
        except WebSocketConnectionClosedError:
            pass  # closing or lost: the read that follows reports it

    async def _flush(self) -> None:
        """Write what the machine queued on its own (pongs, the close echo). A failed
        write means the connection is gone: the next read reports it."""
        data = self._ws.data_to_send()
        if not data:
            return
        await self._write_lock.acquire(None)
        try:
            await self._stream.write(data, self._settings.write_timeout)
        except TransportError as exc:
            self._lose(1006, f"connection lost: {exc}", exc)
        finally:
            self._write_lock.release()

    def _lose(self, code: int, reason: str, cause: Optional[BaseException] = None) -> None:
        if self._lost is None:
            self._lost = (code, reason, cause)
        self._stream.abort()

    async def _fail(self, exc: RemoteProtocolError) -> None:
        """The peer broke the protocol: send the Close frame the machine queued (1002,
        1007, 1009), then drop the connection without waiting for an answer."""
        self._error = exc
        if self._lost is None:
            await self._flush()
        await self._close_stream(graceful=self._lost is None)

    async def _close_stream(self, *, graceful: bool) -> None:
        if self._stream_closed:
            return
        self._stream_closed = True
        if not graceful:
            self._stream.abort()
        try:
            await self._stream.aclose()
        except TransportError:
            pass
        except BaseException:
            self._stream.abort()
            raise

    async def _finish(self, event: Closed) -> None:
        self._final = event
        await self._close_stream(graceful=self._lost is None)

    # -- what the connection classes call ------------------------------------------------
    async def handshake(self, request: bytes) -> RealtimeConnectionEvent:
        """Write the handshake request (if any) and wait for ``Opened`` or ``Rejected``."""
        if request:
            await self._stream.write(request, self._settings.write_timeout)
        event = await self._event(handshake=True)
        if isinstance(event, Rejected):
            await self._close_stream(graceful=True)
        return event

    def abort(self) -> None:
        """Drop the connection at once (a failed handshake, a cancelled close)."""
        self._stream_closed = True
        self._stream.abort()

    def closed_error(self) -> Exception:
        """The exception for any use of a connection that has ended (or is closing)."""
        if self._error is not None:
            return type(self._error)(f"the connection failed earlier: {self._error}")
        final = self._final
        cause: Optional[BaseException] = None
        if final is not None and (final.code != 1006 or self._lost is None):
            code, reason = final.code, final.reason
            if code == 1006 and not reason:
                reason = "the connection ended without a Close frame"
        elif self._lost is not None:
            code, reason, cause = self._lost
        else:  # our Close frame is out, the peer's not in yet
            code, reason = self._close_sent
        exc = WebSocketConnectionClosedError(
            f"WebSocket connection closed: code {code}" + (f" ({reason})" if reason else ""),
            code=code,
            reason=reason,
        )
        exc.__cause__ = cause
        return exc

    @property
    def done(self) -> bool:
        return self._final is not None or self._error is not None

    @property
    def writable(self) -> bool:
        """Whether a message can still go out (:meth:`write` raises otherwise)."""
        return not self.done and self._lost is None and self._ws.state is RealtimeState.OPEN

    async def message(self) -> Union[Message, BinaryMessage]:
        """The next complete message; raises once the connection is over."""
        if self.done:
            raise self.closed_error()
        await self._read_lock.acquire(None)
        try:
            while not self.done:
                event = await self._event()
                if type(event) is Message or type(event) is BinaryMessage:
                    return event
                if type(event) is Closed:
                    await self._finish(event)
                # Pong: liveness only (the read that brought it reset the ping timer).
        finally:
            self._read_lock.release()
        raise self.closed_error()

    async def write(self, produce: Callable[[], bytes]) -> None:
        """Take bytes from the machine and write them, under the write lock so frames of
        concurrent senders never interleave."""
        if not self.writable:
            raise self.closed_error()
        await self._write_lock.acquire(None)
        try:
            if self._ws.state is not RealtimeState.OPEN:  # closed while we waited
                raise self.closed_error()
            data = produce()
            try:
                await self._stream.write(data, self._settings.write_timeout)
            except TransportError as exc:
                self._lose(1006, f"connection lost: {exc}", exc)
                raise self.closed_error() from exc
        finally:
            self._write_lock.release()

    async def close(self, code: int, reason: str) -> None:
        """Closing handshake (RFC 6455 §7.1.2): send Close, wait up to ``close_timeout``
        for the peer's, then close the stream. Idempotent. Cancelled or failed half-way
        (a close code that cannot be sent, say), it drops the connection at once."""
        if self.done:
            return
        try:
            await self._close(code, reason)
        except BaseException as exc:
            if isinstance(exc, ProtocolError) and self._error is None:
                self._error = exc  # the machine is unusable now
            if not self._stream_closed:
                self.abort()
            raise

    async def _close(self, code: int, reason: str) -> None:
        if self._ws.state is RealtimeState.OPEN and self._lost is None:
            self._close_sent = (code, reason)
            try:
                await self.write(lambda: self._ws.close(code, reason))
            except WebSocketConnectionClosedError:
                pass
        timeout = self._settings.close_timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            await self._read_lock.acquire(timeout)
        except TimeoutException:  # a reader holds the stream and the peer is silent
            self._lose(1006, "timed out waiting for the closing handshake")
            return
        try:
            while not self.done:
                event = await self._event(deadline=deadline)
                if type(event) is Closed:
                    await self._finish(event)
        except RemoteProtocolError:
            pass  # _event already dropped the connection
        finally:
            self._read_lock.release()


# Opening -----------------------------------------------------------------------------------


class _HandshakeResponse:
    """What ``make_status_error`` reads from a rejected handshake."""

    def __init__(self, status_code: int, headers: Headers) -> None:
        self.status_code = status_code
        self.headers = headers
        self.request = None


def _handshake_headers(
    config: ClientConfig,
    auth: Mapping[str, str],
    *,
    beta: bool,
    extra_headers: Optional[Mapping[str, Union[str, Omit]]],
) -> List[Tuple[str, str]]:
    """Request headers of the handshake, lowest precedence first: library and auth
    headers, ``OpenAI-Beta`` (beta only), the client's ``default_headers``, then the
    call's ``extra_headers``; an ``omit`` value removes a header."""
    merged: Dict[str, Tuple[str, Union[str, Omit]]] = {}

    def put(source: Optional[Mapping[str, Union[str, Omit]]]) -> None:
        for name, value in (source or {}).items():
            merged[name.lower()] = (name, value if isinstance(value, Omit) else str(value))

    put({"User-Agent": USER_AGENT})
    put(auth)
    if config.organization:
        put({"OpenAI-Organization": config.organization})
    if config.project:
        put({"OpenAI-Project": config.project})
    if beta:
        put({"OpenAI-Beta": "realtime=v1"})
    put(config.default_headers)
    put(extra_headers)
    return [(name, value) for name, value in merged.values() if isinstance(value, str)]


def _request_head(data: bytes) -> List[Tuple[bytes, bytes]]:
    """The header fields of the handshake request the core wrote (RFC 9112 §5)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    fields: List[Tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields.append((name, value.strip()))
    return fields


# unasync: async-only
class _UpgradedStream:
    """An httpcore ``network_stream`` taken over after a ``101`` as an
    :class:`~backends._base.AsyncNetworkStream`. Closing it also closes the library's
    response, which frees its pool slot. Every exception of the library (or of the loop
    library below it) becomes a driver-level read or write error here."""

    def __init__(
        self,
        stream: Any,
        release: Callable[[], Awaitable[None]],
        timeout_error: Type[BaseException],
    ) -> None:
        self._stream = stream
        self._release: Optional[Callable[[], Awaitable[None]]] = release
        self._timeout_error = timeout_error

    async def read(self, max_bytes: int, timeout: Optional[float]) -> bytes:
        try:
            return bytes(await self._stream.read(max_bytes, timeout))
        except self._timeout_error as exc:
            raise ReadTimeout(str(exc) or "timed out") from exc
        except Exception as exc:
            raise ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, data: bytes, timeout: Optional[float]) -> None:
        try:
            await self._stream.write(data, timeout)
        except self._timeout_error as exc:
            raise WriteTimeout(str(exc) or "timed out") from exc
        except Exception as exc:
            raise WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._stream.aclose()
        except Exception:
            pass
        finally:
            if release is not None:
                try:
                    await release()
                except Exception:
                    pass

    def abort(self) -> None:
        # The library offers no synchronous close: shutting the socket down wakes any
        # blocked read or write at once; aclose() then frees the descriptor and the slot.
        sock = self._stream.get_extra_info("socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass

    def is_readable(self) -> bool:
        return bool(self._stream.get_extra_info("is_readable"))


# unasync: async-only
async def _upgrade(
    http: Any,
    machine: _Machine,
    request: bytes,
    origin: Origin,
    target: str,
    backend: AsyncBackend,
    settings: _Settings,
    config: ClientConfig,
) -> Tuple[Optional[_WebSocket], RealtimeConnectionEvent]:
    """The handshake through an httpcore pool or an httpx client, then the frames over
    the upgraded ``network_stream``. The library's ``101`` head is handed to the core,
    which validates it (``Sec-WebSocket-Accept``, RFC 6455 §4.2.2)."""
    import httpcore

    from ._httpcore import HttpcoreHTTPClient, HttpxHTTPClient

    head = _request_head(request)
    scheme = "https" if origin.tls else "http"
    t = config.timeout
    timeouts = {
        "connect": t.connect,
        "read": settings.open_timeout,
        "write": t.write,
        "pool": t.pool,
    }
    with http._errors.translate():
        if isinstance(http, HttpcoreHTTPClient):
            response = await http.pool.handle_async_request(
                httpcore.Request(
                    b"GET",
                    httpcore.URL(
                        scheme=scheme.encode(),
                        host=origin.host.encode("ascii" if origin.host.isascii() else "idna"),
                        port=origin.port,
                        target=target.encode("ascii"),
                    ),
                    headers=head,
                    extensions={"timeout": timeouts},
                )
            )
            status, raw, extensions = response.status, response.headers, response.extensions
            release, read = response.aclose, response.aread
        elif isinstance(http, HttpxHTTPClient):
            import httpx

            built = http.client.build_request(
                "GET",
                f"{scheme}://{origin.host_header}{target}",
                headers=head,
                timeout=httpx.Timeout(None, **timeouts),
            )
            reply = await http.client.send(built, stream=True)
            status, raw, extensions = reply.status_code, reply.headers.raw, reply.extensions
            release, read = reply.aclose, reply.aread
        else:
            raise TypeError(f"no WebSocket support for http_client {type(http).__name__}")
        if status != 101:
            try:
                body = await read()
            finally:
                await release()
            return None, Rejected(status_code=status, headers=Headers(raw), body=bytes(body))
    network_stream = extensions.get("network_stream")
    if network_stream is None:  # e.g. an httpx transport that is not httpcore's
        await release()
        raise ConnectError("the HTTP client did not hand over the connection after 101")
    stream = _UpgradedStream(network_stream, release, httpcore.TimeoutException)
    socket_ = _WebSocket(machine, stream, backend, settings)
    reason = extensions.get("reason_phrase") or b"Switching Protocols"
    fields = b"".join(name + b": " + value + b"\r\n" for name, value in raw)
    machine.receive_data(b"HTTP/1.1 101 " + reason + b"\r\n" + fields + b"\r\n")
    try:
        return socket_, await socket_.handshake(b"")
    except BaseException:
        socket_.abort()
        await stream.aclose()
        raise


async def _connect(
    client: AsyncOpenAI,
    *,
    beta: bool,
    model: Optional[str],
    call_id: Optional[str],
    extra_query: Optional[Query],
    extra_headers: Optional[Mapping[str, Union[str, Omit]]],
    options: Optional[Mapping[str, Any]],
    path: str = _REALTIME_PATH,
) -> _WebSocket:
    """Open the connection (the API key provider is awaited first) and check the answer.
    ``path`` is the endpoint below the base URL: ``/realtime``, or ``/responses`` for the
    Responses API over a WebSocket (the same URL, header and query rules in the SDK)."""
    config = client._config
    settings = _settings(options, config.timeout.write)
    # The client's URL and credential rules (the Azure clients have their own).
    url, auth, extra_headers = await client._prepare_websocket(
        path=path,
        beta=beta,
        model=model,
        call_id=call_id,
        extra_query=extra_query,
        extra_headers=extra_headers,
    )
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"the Realtime URL must be ws:// or wss://, got {url!r}")
    tls = parts.scheme == "wss"
    origin = Origin(parts.scheme, parts.hostname, parts.port or (443 if tls else 80))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    machine = _Machine(
        host=origin.host_header,
        target=target,
        headers=_handshake_headers(config, auth, beta=beta, extra_headers=extra_headers),
        max_message_size=settings.max_size,
        subprotocols=settings.subprotocols,
    )
    request = machine.initiate()  # a bad header fails here, before any connection
    http = client.http_client
    backend = http.backend
    log.debug("Connecting to the Realtime API: %s", url)
    ws: Optional[_WebSocket] = None
    try:
        try:
            if isinstance(http, AsyncHTTPClient):
                stream = await backend.connect_tcp(
                    origin.host,
                    origin.port,
                    ssl_context=http._ssl() if tls else None,
                    server_hostname=origin.host if tls else None,
                    timeout=config.timeout.connect,
                )
                ws = _WebSocket(machine, stream, backend, settings)
                event = await ws.handshake(request)
            else:
                # unasync: sync=raise TypeError(f"no WebSocket support for {type(http).__name__}")
                ws, event = await _upgrade(
                    http, machine, request, origin, target, backend, settings, config
                )
        except BaseException:
            if ws is not None:
                ws.abort()
            raise
    except TimeoutException as exc:
        raise APITimeoutError() from exc
    except TransportError as exc:
        raise APIConnectionError(message=f"Connection error: {exc}") from exc
    except RemoteProtocolError as exc:
        raise APIConnectionError(message=f"WebSocket handshake failed: {exc}") from exc
    if isinstance(event, Rejected):
        log.info('WebSocket handshake: GET %s "%d"', url, event.status_code)
        response = _HandshakeResponse(event.status_code, event.headers)
        raise make_status_error(response, decode_error_body(event.body))
    assert ws is not None and isinstance(event, Opened)
    log.info('WebSocket handshake: GET %s "101"', url)
    return ws


# Connections -------------------------------------------------------------------------------


_E = TypeVar("_E")

#: ``on_reconnecting``: told about each attempt, may return overrides or ``abort``.
OnReconnecting = Callable[[ReconnectingEvent], Optional[ReconnectingOverrides]]
_Query = Mapping[str, Any]
_HeaderMap = Mapping[str, Any]


@dataclass(frozen=True)
class _Reconnect:
    """How a connection opens its successor: the core's policy, the user's callback, a
    handshake with given ``extra_query`` / ``extra_headers``, and the driver's sleep."""

    policy: ReconnectPolicy
    on_reconnecting: OnReconnecting
    connect: Callable[[_Query, _HeaderMap], Awaitable[_WebSocket]]
    backend: AsyncBackend
    rng: Callable[[], float]


class _ConnectionBase(Generic[_E]):
    """What the GA and beta connections share; see :class:`AsyncRealtimeConnection`.

    With ``reconnect`` (GA ``connect(on_reconnecting=...)``), a reader that meets the end
    of the connection with a recoverable close code opens a new one as the core's
    :class:`~openai_proto._reconnect.ReconnectPolicy` decides; messages sent meanwhile
    wait in ``queue`` and go out first, in order, on the new connection.
    """

    def __init__(
        self,
        socket: _WebSocket,
        *,
        queue: Optional[SendQueue] = None,
        reconnect: Optional[_Reconnect] = None,
        extra_query: Optional[_Query] = None,
        extra_headers: Optional[_HeaderMap] = None,
    ) -> None:
        self._socket = socket
        self._queue = queue if queue is not None else SendQueue()
        self._reconnect_with = reconnect
        self._reconnect_lock: Optional[AsyncSemaphore] = (
            reconnect.backend.semaphore(1) if reconnect is not None else None
        )
        self._extra_query: _Query = dict(extra_query or {})
        self._extra_headers: _HeaderMap = dict(extra_headers or {})
        self._attempt = 0  # reconnection attempts since the server last sent an event
        self._reconnecting = False
        self._closing = False  # close() was called: never reconnect again
        self._gave_up = False
        self._attach()

    def _attach(self) -> None:
        """Where subclasses add their parts (helper resources, handlers), so they need
        no constructor of their own."""

    def _union(self) -> Any:
        raise NotImplementedError

    async def recv(self) -> _E:
        """The next server event, typed (a generic
        :class:`~openai_proto.realtime.RealtimeEvent` for a type this version does not
        know). Raises :class:`WebSocketConnectionClosedError` once the connection is
        closed (and cannot be reopened). Cancelling it loses nothing."""
        return self.parse_event(await self.recv_bytes())

    async def recv_bytes(self) -> bytes:
        """The next message as bytes (a text message as its UTF-8 encoding)."""
        while True:
            socket_ = self._socket
            try:
                message = await socket_.message()
            except WebSocketConnectionClosedError as exc:
                if await self._reconnect(socket_, exc):
                    continue
                unsent = self._queue.drain()
                if not unsent:
                    raise
                raise WebSocketConnectionClosedError(
                    "WebSocket connection closed with unsent messages",
                    code=exc.code,
                    reason=exc.reason,
                    unsent_messages=unsent,
                ) from exc
            if self._attempt and is_progress(message.data):
                self._attempt = 0  # the new connection works: a later failure starts over
            if isinstance(message, Message):
                return message.data.encode("utf-8")
            return message.data

    def parse_event(self, data: Union[str, bytes]) -> _E:
        """A server event from the text of a message (see :meth:`recv`)."""
        # A new event type, or a shape its variant rejects, comes out as a generic
        # RealtimeEvent: a new server event never breaks a session.
        event = cast(_E, decode_server_event(data, union=self._union()))
        return event

    async def send(self, event: Union[Mapping[str, Any], msgspec.Struct]) -> None:
        """Send one client event: a dict (``omit`` members left out) or a typed event such
        as ``RealtimeClientEventSessionUpdate`` (unset fields left out). While the
        connection is being re-established it is queued (see ``max_queue_size``)."""
        obj: object = event
        if isinstance(event, Mapping):
            obj = {key: value for key, value in event.items() if is_given(value)}
        await self._send(encode_client_event(obj))

    async def send_raw(self, data: Union[bytes, str]) -> None:
        """Send a text message (``str``) or a binary message (``bytes``) as given."""
        await self._send(data if isinstance(data, str) else bytes(data))

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        """Close the connection (closing handshake, bounded by ``close_timeout``). It is
        final: no reconnection follows, and messages still queued are reported by the
        reader's :class:`WebSocketConnectionClosedError` (``unsent_messages``)."""
        self._closing = True
        await self._socket.close(code, reason)

    def __aiter__(self) -> _ConnectionBase[_E]:
        return self

    async def __anext__(self) -> _E:
        """Events until the connection closes: a normal close (1000, 1001, no code) ends
        the loop, unless messages were left unsent; any other end raises
        :class:`WebSocketConnectionClosedError`."""
        try:
            return await self.recv()
        except WebSocketConnectionClosedError as exc:
            if exc.code in _OK_CODES and not exc.unsent_frames:
                raise StopAsyncIteration from None
            raise

    # -- sending through the queue ------------------------------------------------------
    async def _send(self, data: Union[str, bytes]) -> None:
        if not self._closing:
            if self._reconnecting:
                self._queue.put(data)  # the reconnecting reader sends it first thing
                return
            if self._queue:  # older messages wait: keep the order
                self._queue.put(data)
                await self._flush()
                return
        await self._write(self._socket, data)

    async def _flush(self) -> None:
        """Send the queued messages, oldest first, on the current connection. A message
        whose write fails is not queued again (the SDK's rule: it may have gone out)."""
        while self._queue and not self._closing:
            socket_ = self._socket
            if not socket_.writable:
                raise socket_.closed_error()
            await self._write(socket_, self._queue.pop())

    @staticmethod
    async def _write(socket_: _WebSocket, data: Union[str, bytes]) -> None:
        if isinstance(data, str):
            await socket_.write(lambda: socket_._ws.send_text(data))
        else:
            await socket_.write(lambda: socket_._ws.send_bytes(data))

    # -- reconnection -------------------------------------------------------------------
    async def _reconnect(self, failed: _WebSocket, exc: WebSocketConnectionClosedError) -> bool:
        """After ``failed`` ended with ``exc``: ``True`` once a new connection is open (or
        another reader opened one), ``False`` to report the end."""
        settings, lock = self._reconnect_with, self._reconnect_lock
        if settings is None or lock is None or self._closing or self._gave_up:
            return False
        await lock.acquire(None)
        try:
            if self._socket is not failed:
                return True
            if self._closing or self._gave_up:
                return False
            self._reconnecting = True
            try:
                reopened = await self._reconnect_loop(settings, exc.code)
            finally:
                self._reconnecting = False
            if not reopened:
                self._gave_up = True
            return reopened
        finally:
            lock.release()

    async def _reconnect_loop(self, settings: _Reconnect, code: int) -> bool:
        while True:
            decision = settings.policy.decide(
                self._attempt + 1, close_code=code, random=settings.rng()
            )
            if not decision.reconnect:
                log.info("Realtime connection closed (code %d): %s", code, decision.reason)
                return False
            self._attempt = attempt = decision.attempt
            event = ReconnectingEvent(
                attempt=attempt,
                max_attempts=settings.policy.max_retries,
                delay=decision.delay,
                close_code=code,
                extra_query=self._extra_query,
                extra_headers=self._extra_headers,
            )
            try:
                result = settings.on_reconnecting(event)
            except Exception:
                log.warning("on_reconnecting raised: not reconnecting", exc_info=True)
                return False
            handshake = apply_overrides(
                result, extra_query=self._extra_query, extra_headers=self._extra_headers
            )
            if handshake is None:
                log.info("Realtime reconnection aborted by on_reconnecting")
                return False
            self._extra_query, self._extra_headers = handshake
            log.info(
                "Reconnecting to the Realtime API (attempt %d/%d) in %.3f s (%s)",
                attempt,
                settings.policy.max_retries,
                decision.delay,
                decision.reason,
            )
            await settings.backend.sleep(decision.delay)
            if self._closing:
                return False
            try:
                socket_ = await settings.connect(self._extra_query, self._extra_headers)
            except OpenAIError as err:
                log.info("Realtime reconnection attempt %d failed: %s", attempt, err)
                continue
            if self._closing:  # close() ran during the handshake: it owns the end
                await socket_.close(1000, "")
                return False
            self._socket = socket_
            try:
                await self._flush()
            except WebSocketConnectionClosedError as err:
                code = err.code  # the new connection ended too: decide on its code
                continue
            log.info("Reconnected to the Realtime API")
            return True


class _Part:
    """A group of helper methods that each send one client event."""

    def __init__(self, connection: _ConnectionBase[Any]) -> None:
        self._connection = connection

    async def _send(self, event_type: str, fields: Mapping[str, object]) -> None:
        event: Dict[str, object] = {"type": event_type}
        event.update((key, value) for key, value in fields.items() if is_given(value))
        await self._connection.send(event)


class AsyncRealtimeSessionResource(_Part):
    async def update(self, *, session: object, event_id: Union[str, Omit] = omit) -> None:
        """``session.update``: change the session's configuration (the server answers
        ``session.updated``)."""
        await self._send("session.update", {"session": session, "event_id": event_id})


class AsyncRealtimeTranscriptionSessionResource(_Part):
    async def update(self, *, session: object, event_id: Union[str, Omit] = omit) -> None:
        """``transcription_session.update`` (beta)."""
        await self._send("transcription_session.update", {"session": session, "event_id": event_id})


class AsyncRealtimeResponseResource(_Part):
    async def create(
        self, *, event_id: Union[str, Omit] = omit, response: Union[object, Omit] = omit
    ) -> None:
        """``response.create``: start model inference (``response.created`` ...
        ``response.done`` follow)."""
        await self._send("response.create", {"event_id": event_id, "response": response})

    async def cancel(
        self, *, event_id: Union[str, Omit] = omit, response_id: Union[str, Omit] = omit
    ) -> None:
        """``response.cancel``: stop the response in progress."""
        await self._send("response.cancel", {"event_id": event_id, "response_id": response_id})


class AsyncRealtimeInputAudioBufferResource(_Part):
    async def append(self, *, audio: str, event_id: Union[str, Omit] = omit) -> None:
        """``input_audio_buffer.append``: add base64-encoded audio to the input buffer."""
        await self._send("input_audio_buffer.append", {"audio": audio, "event_id": event_id})

    async def commit(self, *, event_id: Union[str, Omit] = omit) -> None:
        """``input_audio_buffer.commit``: turn the buffer into a user message item."""
        await self._send("input_audio_buffer.commit", {"event_id": event_id})

    async def clear(self, *, event_id: Union[str, Omit] = omit) -> None:
        """``input_audio_buffer.clear``: drop the buffered audio."""
        await self._send("input_audio_buffer.clear", {"event_id": event_id})


class AsyncRealtimeConversationItemResource(_Part):
    async def create(
        self,
        *,
        item: object,
        event_id: Union[str, Omit] = omit,
        previous_item_id: Union[str, Omit] = omit,
    ) -> None:
        """``conversation.item.create``: add an item to the conversation."""
        await self._send(
            "conversation.item.create",
            {"item": item, "event_id": event_id, "previous_item_id": previous_item_id},
        )

    async def delete(self, *, item_id: str, event_id: Union[str, Omit] = omit) -> None:
        """``conversation.item.delete``."""
        await self._send("conversation.item.delete", {"item_id": item_id, "event_id": event_id})

    async def retrieve(self, *, item_id: str, event_id: Union[str, Omit] = omit) -> None:
        """``conversation.item.retrieve``: the server answers ``conversation.item.retrieved``."""
        await self._send("conversation.item.retrieve", {"item_id": item_id, "event_id": event_id})

    async def truncate(
        self,
        *,
        audio_end_ms: int,
        content_index: int,
        item_id: str,
        event_id: Union[str, Omit] = omit,
    ) -> None:
        """``conversation.item.truncate``: cut an assistant audio item at ``audio_end_ms``."""
        await self._send(
            "conversation.item.truncate",
            {
                "audio_end_ms": audio_end_ms,
                "content_index": content_index,
                "item_id": item_id,
                "event_id": event_id,
            },
        )


class AsyncRealtimeConversationResource(_Part):
    def __init__(self, connection: _ConnectionBase[Any]) -> None:
        super().__init__(connection)
        self.item = AsyncRealtimeConversationItemResource(connection)


class AsyncRealtimeOutputAudioBufferResource(_Part):
    async def clear(self, *, event_id: Union[str, Omit] = omit) -> None:
        """``output_audio_buffer.clear``: stop the audio being played out (WebRTC)."""
        await self._send("output_audio_buffer.clear", {"event_id": event_id})


_H = TypeVar("_H", bound=Callable[..., Any])
_Self = TypeVar("_Self", bound="_HandlerMethods")


class _Decorator(Protocol):
    """What ``on(event_type)`` / ``once(event_type)`` return: registers and returns ``fn``."""

    def __call__(self, fn: _H) -> _H: ...


class _HandlerMethods:
    """``on`` / ``off`` / ``once`` over an :class:`~openai_proto._reconnect.EventHandlers`
    (the SDK's registration rules: a handler may be given or the method used as a
    decorator; the type ``"event"`` sees every event)."""

    _handlers: EventHandlers

    @overload
    def on(self: _Self, event_type: str, handler: Callable[..., Any]) -> _Self: ...
    @overload
    def on(self, event_type: str, handler: None = None) -> _Decorator: ...
    def on(
        self, event_type: str, handler: Optional[Callable[..., Any]] = None
    ) -> Union[Any, _Decorator]:
        """Call ``handler`` for every event of ``event_type`` during
        ``dispatch_events()`` (``"event"``: every event). Returns ``self`` for chaining;
        without ``handler`` it is a decorator. Adding a handler twice calls it twice."""
        if handler is not None:
            self._handlers.add(event_type, handler)
            return self

        def decorator(fn: _H) -> _H:
            self._handlers.add(event_type, fn)
            return fn

        return decorator

    def off(self: _Self, event_type: str, handler: Callable[..., Any]) -> _Self:
        """Remove one registration of ``handler`` for ``event_type`` (none: no effect)."""
        self._handlers.remove(event_type, handler)
        return self

    @overload
    def once(self: _Self, event_type: str, handler: Callable[..., Any]) -> _Self: ...
    @overload
    def once(self, event_type: str, handler: None = None) -> _Decorator: ...
    def once(
        self, event_type: str, handler: Optional[Callable[..., Any]] = None
    ) -> Union[Any, _Decorator]:
        """Like :meth:`on`, for the next event of ``event_type`` only."""
        if handler is not None:
            self._handlers.add(event_type, handler, once=True)
            return self

        def decorator(fn: _H) -> _H:
            self._handlers.add(event_type, fn, once=True)
            return fn

        return decorator


# unasync: async-only
async def _maybe_await(result: object) -> None:
    if inspect.isawaitable(result):
        await result


class _HandlingConnection(_ConnectionBase[_E], _HandlerMethods):
    """A connection with event handlers (``on`` / ``off`` / ``once`` with
    ``dispatch_events()``): the GA Realtime one and the Responses one."""

    def _attach(self) -> None:
        super()._attach()
        self._handlers = EventHandlers()

    async def dispatch_events(self) -> None:
        """Receive events until the connection ends (as ``async for``, reconnecting when
        configured) and call the handlers of each: its type's, then ``"event"``'s. A
        handler is a plain function, or on the asyncio / trio client also a coroutine
        function. An ``error`` event that no handler takes raises
        :class:`~openai_proto.OpenAIError`."""
        async for event in self:
            event_type = getattr(event, "type", "")
            for handler in self._handlers.handlers_for(event_type, event):
                # unasync: sync=handler(event)
                await _maybe_await(handler(event))


if TYPE_CHECKING:
    _GAConnection = _HandlingConnection[Union[RealtimeServerEvent, RealtimeEvent]]
    _BetaConnection = _ConnectionBase[Union[RealtimeBetaServerEvent, RealtimeEvent]]
else:
    _GAConnection = _HandlingConnection
    _BetaConnection = _ConnectionBase


class AsyncRealtimeConnection(_GAConnection):
    """A live Realtime connection: ``send`` / ``recv`` / ``async for`` / ``close``, one
    helper per client event (``session.update``, ``response.create`` ...), and event
    handlers (``on`` / ``off`` / ``once`` with ``dispatch_events()``)."""

    def _attach(self) -> None:
        super()._attach()
        self.session = AsyncRealtimeSessionResource(self)
        self.response = AsyncRealtimeResponseResource(self)
        self.input_audio_buffer = AsyncRealtimeInputAudioBufferResource(self)
        self.conversation = AsyncRealtimeConversationResource(self)
        self.output_audio_buffer = AsyncRealtimeOutputAudioBufferResource(self)

    def _union(self) -> Any:
        from openai_proto.types.realtime import RealtimeServerEvent

        return RealtimeServerEvent


class AsyncBetaRealtimeConnection(_BetaConnection):
    """A live beta Realtime connection (``OpenAI-Beta: realtime=v1``). As in the SDK, the
    beta API has no reconnection and no event handlers."""

    def _attach(self) -> None:
        self.session = AsyncRealtimeSessionResource(self)
        self.response = AsyncRealtimeResponseResource(self)
        self.input_audio_buffer = AsyncRealtimeInputAudioBufferResource(self)
        self.conversation = AsyncRealtimeConversationResource(self)
        self.output_audio_buffer = AsyncRealtimeOutputAudioBufferResource(self)
        self.transcription_session = AsyncRealtimeTranscriptionSessionResource(self)

    def _union(self) -> Any:
        from openai_proto.types.realtime import RealtimeBetaServerEvent

        return RealtimeBetaServerEvent


_C = TypeVar("_C", bound=_ConnectionBase[Any])


class AsyncRealtimeConnectionManager(_HandlerMethods, Generic[_C]):
    """``async with client.realtime.connect(...) as connection:``; or
    ``connection = await client.realtime.connect(...).enter()`` and close it yourself.

    Before entering, :meth:`send` queues client events (they go out first once the
    connection opens) and ``on`` / ``off`` / ``once`` register handlers, which move to
    the connection on entering."""

    def __init__(
        self,
        *,
        client: AsyncOpenAI,
        connection_class: Type[_C],
        beta: bool,
        model: Optional[str],
        call_id: Optional[str],
        extra_query: Optional[Query],
        extra_headers: Optional[Mapping[str, Union[str, Omit]]],
        websocket_connection_options: Optional[Mapping[str, Any]],
        on_reconnecting: Optional[OnReconnecting] = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
        path: str = _REALTIME_PATH,
    ) -> None:
        self._client = client
        self._connection_class = connection_class
        self._path = path
        self._beta_api = beta
        self._model = model
        self._call_id = call_id
        self._extra_query = extra_query
        self._extra_headers = extra_headers
        self._options = websocket_connection_options
        self._on_reconnecting = on_reconnecting
        # Checked now, so a bad value fails at the call rather than at the first drop.
        self._policy = ReconnectPolicy(
            max_retries=max_retries, initial_delay=initial_delay, max_delay=max_delay
        )
        self._queue = SendQueue(max_queue_size)
        self._handlers = EventHandlers()
        self._connection: Optional[_C] = None

    def send(self, event: Union[Mapping[str, Any], msgspec.Struct]) -> None:
        """Queue a client event to be sent as soon as the connection opens (before any
        other); :class:`~openai_proto.WebSocketQueueFullError` past ``max_queue_size``."""
        obj: object = event
        if isinstance(event, Mapping):
            obj = {key: value for key, value in event.items() if is_given(value)}
        self._queue.put(encode_client_event(obj))

    async def _open(self, extra_query: _Query, extra_headers: _HeaderMap) -> _WebSocket:
        return await _connect(
            self._client,
            beta=self._beta_api,
            model=self._model,
            call_id=self._call_id,
            extra_query=extra_query,
            extra_headers=extra_headers,
            options=self._options,
            path=self._path,
        )

    async def __aenter__(self) -> _C:
        if self._beta_api and self._handlers:
            raise TypeError("event handlers (on / once) need client.realtime.connect()")
        socket_ = await self._open(self._extra_query or {}, self._extra_headers or {})
        reconnect: Optional[_Reconnect] = None
        if self._on_reconnecting is not None and not self._beta_api:
            reconnect = _Reconnect(
                policy=self._policy,
                on_reconnecting=self._on_reconnecting,
                connect=self._open,
                backend=self._client.http_client.backend,
                rng=self._client._engine._rng,
            )
        connection = self._connection_class(
            socket_,
            queue=self._queue,
            reconnect=reconnect,
            extra_query=self._extra_query,
            extra_headers=self._extra_headers,
        )
        handlers = getattr(connection, "_handlers", None)
        if isinstance(handlers, EventHandlers):
            self._handlers.merge_into(handlers)
        self._connection = connection
        try:
            await connection._flush()
        except WebSocketConnectionClosedError:
            # Already gone: the messages left stay queued for a reconnection, or come
            # back in the reader's error (unsent_messages), as in the SDK.
            log.warning("Realtime connection closed before the queued messages went out")
        except BaseException:
            await socket_.close(1000, "")
            self._connection = None
            raise
        return connection

    enter = __aenter__

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._connection is not None:
            await self._connection.close()


# Resources ---------------------------------------------------------------------------------


def _optional(value: Union[str, Omit, NotGiven, None]) -> Optional[str]:
    return value if isinstance(value, str) else None


class AsyncRealtime(_GeneratedRealtime):
    """``client.realtime``: the generated REST operations plus :meth:`connect`."""

    def connect(
        self,
        *,
        call_id: Union[str, Omit] = omit,
        model: Union[str, Omit] = omit,
        extra_query: Optional[Query] = None,
        extra_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        websocket_connection_options: Optional[Mapping[str, Any]] = None,
        on_reconnecting: Optional[OnReconnecting] = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    ) -> AsyncRealtimeConnectionManager[AsyncRealtimeConnection]:
        """Open a Realtime WebSocket session for ``model`` (or join the call ``call_id``).

        ``websocket_connection_options`` takes websockets' names: ``max_size`` (16 MiB;
        ``None``: no limit), ``subprotocols``, ``open_timeout`` (10 s), ``close_timeout``
        (10 s), ``ping_interval`` / ``ping_timeout`` (20 s each; ``None``: no keepalive);
        ``compression``, ``max_queue`` and ``write_limit`` are accepted without effect.

        With ``on_reconnecting``, a connection that ends with a recoverable close code
        (1001, 1005, 1006, 1011, 1012, 1013, 1015) is opened again, up to ``max_retries``
        times in a row, after ``min(initial_delay * 2**(n-1), max_delay)`` seconds less up
        to 25 % of jitter; the callback gets a :class:`ReconnectingEvent` before each
        attempt and may return :class:`ReconnectingOverrides` (``extra_query``,
        ``extra_headers``, ``abort``). Messages sent meanwhile are queued, up to
        ``max_queue_size`` bytes (:class:`~openai_proto.WebSocketQueueFullError`).
        """
        return AsyncRealtimeConnectionManager(
            client=self._client,
            connection_class=AsyncRealtimeConnection,
            beta=False,
            model=_optional(model),
            call_id=_optional(call_id),
            extra_query=extra_query,
            extra_headers=extra_headers,
            websocket_connection_options=websocket_connection_options,
            on_reconnecting=on_reconnecting,
            max_retries=max_retries,
            initial_delay=initial_delay,
            max_delay=max_delay,
            max_queue_size=max_queue_size,
        )


class AsyncBetaRealtime(_GeneratedBetaRealtime):
    """``client.beta.realtime``: the generated REST operations plus :meth:`connect`."""

    def connect(
        self,
        *,
        model: str,
        extra_query: Optional[Query] = None,
        extra_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        websocket_connection_options: Optional[Mapping[str, Any]] = None,
    ) -> AsyncRealtimeConnectionManager[AsyncBetaRealtimeConnection]:
        """Open a beta Realtime session (``OpenAI-Beta: realtime=v1``); options as for
        :meth:`AsyncRealtime.connect`."""
        return AsyncRealtimeConnectionManager(
            client=self._client,
            connection_class=AsyncBetaRealtimeConnection,
            beta=True,
            model=model,
            call_id=None,
            extra_query=extra_query,
            extra_headers=extra_headers,
            websocket_connection_options=websocket_connection_options,
        )
