"""The HTTP/1.1 client exchange: request bytes out, response events in (RFC 9112).

:class:`HTTP11Connection` drives one client connection through request/response cycles on
top of ``h11.Connection(h11.CLIENT)``, adding what a client of the OpenAI API needs: 1xx
responses skipped, ``Content-Encoding`` decoded incrementally with output caps, a body
size cap, keep-alive reuse decisions, and errors split by blame into this library's
:class:`~openai_proto.RemoteProtocolError` / :class:`~openai_proto.LocalProtocolError`.
It does no I/O: the caller writes the returned bytes and feeds what it reads to
:meth:`HTTP11Connection.receive_data` (``b""`` for end of stream).
"""

from __future__ import annotations

import enum
import zlib
from typing import Final, List, Literal, Optional, Sequence, Tuple, Type, Union

import h11
import msgspec

from ._exceptions import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._headers import Headers

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_COMPRESSION_RATIO",
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "NEED_DATA",
    "RATIO_CHECK_START",
    "BodyChunk",
    "HTTP11Connection",
    "HTTP11Event",
    "NeedData",
    "ResponseEnded",
    "ResponseStarted",
]

#: Largest response header block (status line, fields, blank line) accepted, in bytes.
DEFAULT_MAX_HEADER_SIZE: Final = 64 * 1024
#: Largest decoded body of one response: generous for any non-streamed JSON answer, yet a
#: bound on memory for a caller that buffers it. Pass ``None`` for long streams.
DEFAULT_MAX_BODY_SIZE: Final = 256 * 1024 * 1024
#: Largest output of one gzip/deflate layer of one response (the decompression-bomb cap).
DEFAULT_MAX_DECOMPRESSED_SIZE: Final = 256 * 1024 * 1024
#: Largest ratio of decoded body bytes to compressed wire bytes once a body has decoded
#: over :data:`RATIO_CHECK_START` bytes. Real JSON and SSE compress about 5-60:1 (a very
#: repetitive stream reaches ~130:1); a zero-filled bomb nears deflate's ~1030:1 limit.
DEFAULT_MAX_COMPRESSION_RATIO: Final = 200.0
#: Decoded bytes a body may produce whatever its ratio (no worse than a plain body of that
#: size), and the point from which :data:`DEFAULT_MAX_COMPRESSION_RATIO` applies.
RATIO_CHECK_START: Final = 8 * 1024 * 1024

# Decoded bodies are handed out in pieces of at most this size, so a highly compressed
# input never turns into one huge allocation.
_DECODE_CHUNK: Final = 64 * 1024


class _Sentinel(enum.Enum):
    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return self.value


#: Returned by :meth:`HTTP11Connection.next_event` when more bytes must be read first.
#: A singleton: compare with ``is``.
NEED_DATA: Final = _Sentinel.NEED_DATA
NeedData = Literal[_Sentinel.NEED_DATA]


class ResponseStarted(msgspec.Struct, frozen=True, kw_only=True):
    """The final (non-1xx) response head.

    ``headers`` are exactly as received: when the body is decoded, ``Content-Encoding``
    and ``Content-Length`` still describe the bytes on the wire, not the
    :class:`BodyChunk` data.
    """

    status_code: int
    reason: bytes
    http_version: bytes
    headers: Headers


class BodyChunk(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A piece of the response body, never empty, already content-decoded (unless the
    coding is unknown or decoding is off; see :class:`HTTP11Connection`)."""

    data: bytes


class ResponseEnded(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The response body is complete (trailer fields, if any, are dropped)."""


HTTP11Event = Union[ResponseStarted, BodyChunk, ResponseEnded]

_RESPONSE_ENDED: Final = ResponseEnded()

# Looked up once: these sit on the per-chunk path.
_Data: Final = h11.Data
_EndOfMessage: Final = h11.EndOfMessage
_H11_NEED_DATA: Final = h11.NEED_DATA


class _Inflater:
    """One gzip or deflate layer, decompressed on demand in bounded pieces.

    ``gzip`` accepts several members back to back (RFC 1952 §2.2); ``deflate`` is the
    zlib format (RFC 1950), or raw deflate (RFC 1951) as some servers send it, told
    apart by the zlib header check (RFC 9110 §8.4.1.2).
    """

    __slots__ = (
        "_full",
        "_gzip",
        "_limit",
        "_obj",
        "_pending",
        "_produced",
        "_received",
        "consumed",
    )

    def __init__(self, gzip: bool, limit: int) -> None:
        self._gzip = gzip
        self._limit = limit
        self._obj: Optional[zlib._Decompress] = None
        self._pending = b""  # input not yet consumed
        self._full = False  # the last call filled its output: more may come without input
        self._received = False
        self._produced = 0
        self.consumed = 0  # input bytes zlib has taken in (the compression-ratio base)

    def push(self, data: bytes) -> None:
        self._pending = self._pending + data if self._pending else data
        self._received = True

    def _start(self) -> Optional[zlib._Decompress]:
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        head = self._pending
        if len(head) < 2:
            return None
        cmf, flg = head[0], head[1]
        wrapped = (cmf & 0x0F) == 8 and (cmf >> 4) <= 7 and ((cmf << 8) | flg) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def step(self, size: int) -> bytes:
        """Up to ``size`` decoded bytes; ``b""`` when more input is needed."""
        while self._pending or self._full:
            obj = self._obj
            if obj is None or obj.eof:
                if obj is not None and not self._gzip:
                    raise RemoteProtocolError("response body has data after the deflate stream")
                obj = self._obj = self._start()
                if obj is None:
                    return b""
            given = len(self._pending)
            try:
                out = obj.decompress(self._pending, size)
            except zlib.error as exc:
                kind = "gzip" if self._gzip else "deflate"
                raise RemoteProtocolError(f"response body is not valid {kind} data: {exc}") from exc
            if obj.eof:
                self._pending = obj.unused_data
                self._full = False
            else:
                self._pending = obj.unconsumed_tail
                self._full = len(out) == size
            self.consumed += given - len(self._pending)
            if out:
                self._produced += len(out)
                if self._produced > self._limit:
                    raise RemoteProtocolError(
                        f"decompressed response body exceeds max_decompressed_size "
                        f"({self._limit} bytes)"
                    )
                return out
        return b""

    def finish(self) -> None:
        """Check that the compressed stream ended properly (called once drained)."""
        if not self._received:
            return  # an empty body is fine whatever the declared coding
        if self._obj is None or not self._obj.eof:
            kind = "gzip" if self._gzip else "deflate"
            raise RemoteProtocolError(f"{kind}-encoded response body is truncated")


class _Decoder:
    """Content codings applied in reverse order of listing (RFC 9110 §8.4), with the
    compression-ratio bound.

    The bound compares the decoded output with the wire bytes the first layer consumed
    (so stacked codings count as one). It is checked each time the output reaches a
    multiple of the piece size past :data:`RATIO_CHECK_START`: pieces never straddle
    such a multiple, and a failed check raises on the next call, so every split of the
    input delivers the same bytes before the error.
    """

    __slots__ = ("_bomb", "_layers", "_max_ratio", "_produced")

    def __init__(self, layers: List[_Inflater], max_ratio: Optional[float]) -> None:
        self._layers = layers  # layers[0] takes the wire bytes
        self._max_ratio = max_ratio
        self._produced = 0
        self._bomb = ""  # the error, once the ratio check failed

    def feed(self, data: bytes) -> None:
        self._layers[0].push(data)

    def read(self) -> bytes:
        if self._bomb:
            raise RemoteProtocolError(self._bomb)
        max_ratio = self._max_ratio
        if max_ratio is None:
            return self._pull(len(self._layers) - 1, _DECODE_CHUNK)
        produced = self._produced
        out = self._pull(len(self._layers) - 1, _DECODE_CHUNK - produced % _DECODE_CHUNK)
        produced = self._produced = produced + len(out)
        if out and produced % _DECODE_CHUNK == 0 and produced > RATIO_CHECK_START:
            consumed = self._layers[0].consumed
            if produced > max_ratio * consumed:
                self._bomb = (
                    f"response body looks like a decompression bomb: {produced} bytes "
                    f"decoded from {consumed}, over max_compression_ratio ({max_ratio:g}:1)"
                )
        return out

    def _pull(self, i: int, size: int) -> bytes:
        layer = self._layers[i]
        while True:
            out = layer.step(size)
            if out or i == 0:
                return out
            more = self._pull(i - 1, _DECODE_CHUNK)
            if not more:
                return b""
            layer.push(more)

    def finish(self) -> None:
        if self._bomb:
            raise RemoteProtocolError(self._bomb)
        for layer in self._layers:
            layer.finish()


_CODINGS: Final = {"gzip": True, "x-gzip": True, "deflate": False}


def _make_decoder(
    raw: List[Tuple[bytes, bytes]],
    limit: int,
    max_ratio: Optional[float] = DEFAULT_MAX_COMPRESSION_RATIO,
) -> Optional[_Decoder]:
    codings: List[str] = []
    for name, value in raw:
        if len(name) == 16 and name.lower() == b"content-encoding":
            codings.extend(value.decode("latin-1").split(","))
    if not codings:
        return None
    layers: List[_Inflater] = []
    for coding in reversed(codings):
        token = coding.strip().lower()
        if token in ("", "identity"):
            continue
        gzip = _CODINGS.get(token)
        if gzip is None:
            return None  # an unknown coding anywhere: hand the bytes over undecoded
        layers.append(_Inflater(gzip, limit))
    return _Decoder(layers, max_ratio) if layers else None


_IDLE: Final = 0  # no request in flight
_WAITING: Final = 1  # request started, response head not yet received
_BODY: Final = 2  # response head received, body in progress
_ENDED: Final = 3  # response complete; start_next_cycle() or close
_FAILED: Final = 4  # terminal


class HTTP11Connection:
    """Client side of one HTTP/1.1 connection, one request/response cycle at a time.

    Cycle: :meth:`send_request` (or :meth:`start_request`, :meth:`send_body`...,
    :meth:`end_request`) returns bytes to write; feed everything read to
    :meth:`receive_data`; call :meth:`next_event` until :class:`ResponseEnded`
    (:data:`NEED_DATA` means read more). Then, if :attr:`is_reusable`, call
    :meth:`start_next_cycle` and send the next request; otherwise close the socket.

    Bodies with ``Content-Encoding`` ``gzip``, ``x-gzip``, ``deflate`` (zlib or raw) or
    ``identity``, stacked in any order, are decoded when ``decode_content`` is true; a body
    with any other coding (``br``, ``zstd``...) is passed through undecoded. Limits, each
    a :class:`RemoteProtocolError` when exceeded:

    - ``max_header_size``: bytes of a response header block (h11's
      ``max_incomplete_event_size`` also applies it to pending chunk-size lines);
    - ``max_body_size``: decoded body bytes of one response (``None``: no limit; the
      256 MiB default suits buffered JSON, raise it or pass ``None`` for long streams);
    - ``max_decompressed_size``: output of each gzip/deflate layer of one response;
    - ``max_compression_ratio``: decoded bytes per compressed wire byte, checked every
      64 KiB of output once a body has decoded over :data:`RATIO_CHECK_START` (8 MiB), so a
      decompression bomb fails after a few MiB instead of at ``max_decompressed_size``
      (``None``: no ratio bound). The error says the body "looks like a decompression bomb".

    Any error leaves the machine terminal: every later call raises the same class.
    """

    __slots__ = (
        "_body_size",
        "_decode_content",
        "_decoder",
        "_eof",
        "_error",
        "_h11",
        "_head_bytes",
        "_max_body_size",
        "_max_compression_ratio",
        "_max_decompressed_size",
        "_max_header_size",
        "_state",
        "_unsolicited",
    )

    def __init__(
        self,
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_body_size: Optional[int] = DEFAULT_MAX_BODY_SIZE,
        max_decompressed_size: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
        max_compression_ratio: Optional[float] = DEFAULT_MAX_COMPRESSION_RATIO,
        decode_content: bool = True,
    ) -> None:
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header_size)
        self._max_header_size = max_header_size
        self._max_body_size = max_body_size
        self._max_decompressed_size = max_decompressed_size
        self._max_compression_ratio = max_compression_ratio
        self._decode_content = decode_content
        self._state = _IDLE
        self._decoder: Optional[_Decoder] = None
        self._body_size = 0
        # Bytes h11 holds that may belong to the response head being awaited: exact at
        # each head boundary, then grown by each receive_data().
        self._head_bytes = 0
        self._eof = False
        self._unsolicited = False
        self._error: Optional[Tuple[Type[ProtocolError], str]] = None

    # Errors ------------------------------------------------------------------------------

    def _fail(self, cls: Type[ProtocolError], message: str) -> ProtocolError:
        self._state = _FAILED
        self._error = (cls, message)
        return cls(message)

    def _record(self, exc: ProtocolError) -> None:
        self._state = _FAILED
        self._error = (type(exc), str(exc))

    def _check_usable(self) -> None:
        if self._error is not None:
            cls, message = self._error
            raise cls(f"connection is unusable after an earlier error: {message}")

    def _translate(self, exc: h11.ProtocolError) -> ProtocolError:
        if isinstance(exc, h11.RemoteProtocolError):
            message = str(exc)
            if exc.error_status_hint == 431:
                message = (
                    f"response header block or chunk line exceeds max_header_size "
                    f"({self._max_header_size} bytes)"
                )
            elif self._eof and self._state == _WAITING:
                message = f"peer closed connection without sending a complete response: {message}"
            return self._fail(RemoteProtocolError, message)
        return self._fail(LocalProtocolError, str(exc))

    # Sending -----------------------------------------------------------------------------

    def _begin(
        self,
        method: Union[str, bytes],
        target: Union[str, bytes],
        headers: Sequence[Tuple[Union[str, bytes], Union[str, bytes]]],
        body_length: Optional[int],
    ) -> h11.Request:
        if self._state != _IDLE:
            raise LocalProtocolError(
                "a request is already in flight; finish the response and call start_next_cycle()"
            )
        if self._eof:
            raise LocalProtocolError("the peer closed the connection; it cannot carry a request")
        if self._unsolicited:
            raise LocalProtocolError(
                "the peer sent unsolicited bytes; the connection cannot carry a request"
            )
        try:
            method_b = method.encode("ascii") if isinstance(method, str) else method
            target_b = target.encode("ascii") if isinstance(target, str) else target
            encoded: List[Tuple[bytes, bytes]] = []
            framed = False
            for name, value in headers:
                name_b = name.encode("ascii") if isinstance(name, str) else name
                value_b = value.encode("latin-1") if isinstance(value, str) else value
                lower = name_b.lower()
                if lower == b"content-length" or lower == b"transfer-encoding":
                    framed = True
                elif lower == b"upgrade":
                    raise LocalProtocolError("HTTP11Connection does not support Upgrade requests")
                encoded.append((name_b, value_b))
        except UnicodeEncodeError as exc:
            raise LocalProtocolError(
                f"request method, target and header names must be ASCII, header values "
                f"latin-1: {exc}"
            ) from exc
        if method_b.upper() == b"CONNECT":
            raise LocalProtocolError("HTTP11Connection does not support CONNECT")
        if body_length is not None and not framed:
            encoded.append((b"Content-Length", str(body_length).encode("ascii")))
        return h11.Request(method=method_b, target=target_b, headers=encoded)

    def send_request(
        self,
        method: Union[str, bytes],
        target: Union[str, bytes],
        headers: Sequence[Tuple[Union[str, bytes], Union[str, bytes]]],
        body: Optional[bytes] = None,
    ) -> bytes:
        """The bytes of a whole request. The caller supplies ``Host``; ``Content-Length``
        is added when ``body`` is given (``b""`` included) unless the headers already
        carry ``Content-Length`` or ``Transfer-Encoding`` (RFC 9112 §6)."""
        self._check_usable()
        try:
            conn = self._h11
            request = self._begin(method, target, headers, None if body is None else len(body))
            parts = conn.send_with_data_passthrough(request) or []
            if body:
                parts += conn.send_with_data_passthrough(h11.Data(data=body)) or []
            parts += conn.send_with_data_passthrough(h11.EndOfMessage()) or []
        except h11.ProtocolError as exc:
            raise self._translate(exc) from exc
        except ProtocolError as exc:
            self._record(exc)
            raise
        self._state = _WAITING
        return b"".join(parts)

    def start_request(
        self,
        method: Union[str, bytes],
        target: Union[str, bytes],
        headers: Sequence[Tuple[Union[str, bytes], Union[str, bytes]]],
    ) -> bytes:
        """The bytes of a request head, for a body sent with :meth:`send_body`.

        The headers must frame the body: ``Content-Length`` or ``Transfer-Encoding:
        chunked``. The response can be read while the upload is in progress.
        """
        self._check_usable()
        try:
            request = self._begin(method, target, headers, None)
            if not any(
                name == b"content-length" or name == b"transfer-encoding"
                for name, _ in request.headers
            ):
                raise LocalProtocolError(
                    "start_request() needs a Content-Length or Transfer-Encoding header"
                )
            data = self._h11.send(request) or b""
        except h11.ProtocolError as exc:
            raise self._translate(exc) from exc
        except ProtocolError as exc:
            self._record(exc)
            raise
        self._state = _WAITING
        return data

    def send_body(self, data: bytes) -> bytes:
        """The bytes that carry ``data`` as the next piece of the request body."""
        self._check_usable()
        try:
            parts = self._h11.send_with_data_passthrough(h11.Data(data=data)) or []
        except h11.ProtocolError as exc:
            raise self._translate(exc) from exc
        return b"".join(parts)

    def end_request(self) -> bytes:
        """The bytes that finish the request body (the last chunk, for chunked)."""
        self._check_usable()
        try:
            parts = self._h11.send_with_data_passthrough(h11.EndOfMessage()) or []
        except h11.ProtocolError as exc:
            raise self._translate(exc) from exc
        return b"".join(parts)

    # Receiving ---------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the peer; ``b""`` means end of stream (repeating it is harmless,
        data after it is a :class:`LocalProtocolError`). Bytes arriving while no response
        is expected are dropped and make the connection not reusable."""
        self._check_usable()
        if self._eof:
            if data:
                raise self._fail(LocalProtocolError, "received data after end of stream")
            return
        state = self._state
        if state == _WAITING or state == _BODY:
            if data:
                self._head_bytes += len(data)
            else:
                self._eof = True
            self._h11.receive_data(data)
        elif data:
            self._unsolicited = True
        else:
            self._eof = True

    def next_event(self) -> Union[HTTP11Event, NeedData]:
        """The next response event, or :data:`NEED_DATA`.

        After :class:`ResponseEnded` it returns :data:`NEED_DATA` until
        :meth:`start_next_cycle`; before any request it is a :class:`LocalProtocolError`.
        """
        if self._error is not None:
            self._check_usable()
        try:
            state = self._state
            if state == _BODY or state == _WAITING:
                decoder = self._decoder
                if decoder is not None:
                    out = decoder.read()
                    if out:
                        return self._chunk(out)
                conn = self._h11
                while True:
                    event = conn.next_event()
                    kind = type(event)
                    if kind is _Data:
                        data = event.data  # type: ignore[union-attr]
                        if decoder is not None:
                            decoder.feed(data)
                            data = decoder.read()
                        if data:
                            return self._chunk(data)
                    elif event is _H11_NEED_DATA:
                        return NEED_DATA
                    elif kind is _EndOfMessage:
                        if decoder is not None:
                            decoder.finish()
                        self._state = _ENDED
                        return _RESPONSE_ENDED
                    elif kind is h11.Response:
                        return self._started(event)  # type: ignore[arg-type]
                    elif kind is h11.InformationalResponse:
                        # 1xx heads are skipped (RFC 9110 §15.2); each counts against the limit.
                        remaining = len(conn.trailing_data[0])
                        self._check_head_size(self._head_bytes - remaining)
                        self._head_bytes = remaining
                    else:  # PAUSED or ConnectionClosed: excluded by how requests are sent
                        raise RemoteProtocolError(f"unexpected HTTP/1.1 event {event!r}")
            if state == _ENDED:
                return NEED_DATA
            raise LocalProtocolError("next_event() called with no request in flight")
        except h11.ProtocolError as exc:
            raise self._translate(exc) from exc
        except ProtocolError as exc:
            self._record(exc)
            raise

    def _check_head_size(self, size: int) -> None:
        if size > self._max_header_size:
            raise RemoteProtocolError(
                f"response header block exceeds max_header_size ({self._max_header_size} bytes)"
            )

    def _started(self, event: h11.Response) -> ResponseStarted:
        held = self._head_bytes
        if held > self._max_header_size:
            # Only now is the exact head size worth a copy of h11's buffer: h11 checks the
            # limit only while a head is incomplete, so a whole head arriving at once must
            # be measured here for every split of the input to behave alike.
            self._check_head_size(held - len(self._h11.trailing_data[0]))
        raw = event.headers.raw_items()
        if self._decode_content:
            self._decoder = _make_decoder(
                raw, self._max_decompressed_size, self._max_compression_ratio
            )
        self._state = _BODY
        return ResponseStarted(
            status_code=event.status_code,
            reason=event.reason,
            http_version=event.http_version,
            headers=Headers._from_raw(raw),
        )

    def _chunk(self, data: bytes) -> BodyChunk:
        limit = self._max_body_size
        if limit is not None:
            size = self._body_size = self._body_size + len(data)
            if size > limit:
                raise RemoteProtocolError(f"response body exceeds max_body_size ({limit} bytes)")
        return BodyChunk(data=data)

    def events(self) -> List[HTTP11Event]:
        """Every event available now, up to :data:`NEED_DATA` or :class:`ResponseEnded`."""
        out: List[HTTP11Event] = []
        while True:
            event = self.next_event()
            if event is NEED_DATA:
                return out
            out.append(event)
            if event is _RESPONSE_ENDED:
                return out

    # Reuse -------------------------------------------------------------------------------

    @property
    def response_complete(self) -> bool:
        """True once :class:`ResponseEnded` has been returned for the current request."""
        return self._state == _ENDED

    @property
    def is_reusable(self) -> bool:
        """True when the connection can carry another request: nothing in flight or the
        last exchange complete on both sides, keep-alive agreed by both (RFC 9112 §9.3),
        no end of stream, no unsolicited bytes, no error."""
        if self._eof or self._unsolicited:
            return False
        state = self._state
        if state == _IDLE:
            return True
        if state != _ENDED:
            return False
        conn = self._h11
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return False
        # With the response done, h11 answers PAUSED exactly when it holds extra bytes.
        if conn.next_event() is h11.PAUSED:
            self._unsolicited = True
            return False
        return True

    def start_next_cycle(self) -> None:
        """Reset for the next request after a complete, reusable exchange (a no-op when
        nothing is in flight); :class:`LocalProtocolError` when not :attr:`is_reusable`."""
        self._check_usable()
        if not self.is_reusable:
            raise self._fail(
                LocalProtocolError,
                "connection is not reusable (exchange incomplete, keep-alive declined, "
                "peer closed, or unsolicited bytes)",
            )
        if self._state == _IDLE:
            return
        self._h11.start_next_cycle()  # cannot fail: both sides are DONE
        self._state = _IDLE
        self._decoder = None
        self._body_size = 0
        self._head_bytes = 0
