"""An incremental, Sans-IO decoder for ``text/event-stream`` (Server-Sent Events).

Bytes go in with :meth:`SSEDecoder.feed`, dispatched :class:`ServerSentEvent` objects come
out; :meth:`SSEDecoder.end` marks the end of the stream. The rules are exactly those of
the WHATWG HTML Living Standard, §9.2.5 (parsing an event stream) and §9.2.6 (interpreting
an event stream):

- the stream is UTF-8; one leading BOM is stripped; invalid sequences become U+FFFD;
- a line ends at CRLF, LF or CR (and nowhere else), even when a CR and its LF arrive in
  different chunks;
- ``:`` starts a comment; a line without a colon is a field name with an empty value;
  exactly one space after the colon is removed; field names are compared literally;
- ``data`` lines are joined with LF; ``event`` names the event (``message`` when empty);
  ``id`` sets the last event ID unless it contains NUL, and the ID persists across events;
  ``retry`` counts only if it is all ASCII digits;
- an empty line dispatches the event; a block without ``data`` dispatches nothing (it
  still commits its ``id``); an unterminated block at the end of the stream is dropped.

Any split of the byte stream yields the same events. Work per byte is constant (the
decoder never re-scans what it has already looked at) and memory is bounded by
``max_event_size``.
"""

from __future__ import annotations

import re
from typing import Any, List, Optional

import msgspec

from ._exceptions import LocalProtocolError, RemoteProtocolError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
"""Default bound, in bytes, on one line and on one event's data buffer (16 MiB)."""

_BOM = b"\xef\xbb\xbf"
# Rewrites CRLF and lone CR to LF in one pass (faster than two ``bytes.replace`` calls).
_CR_OR_CRLF = re.compile(b"\r\n?")
# A ``retry`` value is a reconnection time in milliseconds; browsers ignore values that
# overflow a 64-bit unsigned integer, and so do we (this also keeps ``int()`` cheap).
_MAX_RETRY = 2**64 - 1


class ServerSentEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One dispatched event (WHATWG HTML §9.2.6, "dispatch the event").

    ``event`` is the event type (``"message"`` when the block had no or an empty
    ``event`` field), ``data`` the data buffer without its final LF, ``id`` the last
    event ID at dispatch time (it persists across events), and ``retry`` the valid
    ``retry`` value seen in this event's block, if any.
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: Optional[int] = None

    def json(self) -> Any:
        """Decode ``data`` as JSON.

        Raises ``msgspec.DecodeError`` if it is not JSON (``RecursionError`` if it nests
        deeper than msgspec allows).
        """
        return msgspec.json.decode(self.data)


class SSEDecoder:
    """Incremental ``text/event-stream`` decoder (WHATWG HTML §9.2.5-§9.2.6).

    ``max_event_size`` bounds memory: a single line (pending or complete, terminator
    excluded) or one event's data buffer larger than that many bytes raises
    :class:`RemoteProtocolError`, after which the decoder is terminal (every later
    :meth:`feed` or :meth:`end` raises it again).

    Errors come in stream order: when the offending bytes arrive in the same :meth:`feed`
    as some complete events, those events are returned and the error is raised by the
    next call. So the events, and whether and after which event the error comes, are the
    same however the input is split.
    """

    __slots__ = (
        "_bom_checked",
        "_buffer",
        "_counted",
        "_cr_pending",
        "_data",
        "_data_size",
        "_ended",
        "_error",
        "_event_type",
        "_id_buffer",
        "_last_event_id",
        "_max",
        "_name_cache",
        "_raw",
        "_reconnection_time",
        "_retry_seen",
    )

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if not isinstance(max_event_size, int) or max_event_size < 1:
            raise ValueError("max_event_size must be a positive int")
        self._max = max_event_size
        # Bytes of the line in progress; it never holds a line terminator, so new input is
        # the only thing ever searched for one.
        self._buffer = bytearray()
        self._bom_checked = False
        self._cr_pending = False  # the previous chunk ended with CR: drop one leading LF
        self._data: List[bytes] = []  # the data buffer, as raw field values
        self._counted = 0  # how many entries of ``_data`` are included in ``_data_size``
        self._data_size = 0
        self._event_type = b""
        self._retry_seen: Optional[int] = None
        self._id_buffer = ""
        self._last_event_id = ""
        self._reconnection_time: Optional[int] = None
        self._name_cache: tuple[bytes, str] = (b"", "message")
        self._ended = False
        self._error: Optional[str] = None  # set once a limit is broken: terminal
        # Private mode for the OpenAI layer: emit ``(event name, raw data bytes)`` pairs
        # instead of ServerSentEvent objects, skipping a decode/encode round trip.
        self._raw = False

    @property
    def last_event_id(self) -> str:
        """The last event ID string: the ``id`` committed by the most recent empty line.

        Send it as ``Last-Event-ID`` when reconnecting, if it is not empty (§9.2.4).
        """
        return self._last_event_id

    @property
    def retry(self) -> Optional[int]:
        """The reconnection time in milliseconds from the last valid ``retry`` field, if any."""
        return self._reconnection_time

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode the next piece of the stream; return the events it completes, in order."""
        return self._feed(data)

    def _feed(self, data: bytes) -> list[Any]:
        if self._error is not None:
            raise RemoteProtocolError(self._error)
        if self._ended:
            raise LocalProtocolError("SSEDecoder.feed() called after end()")
        if type(data) is not bytes:
            data = bytes(data)
        if not data:
            return []
        if not self._bom_checked:
            # UTF-8 decode strips one leading BOM, even when its bytes arrive split.
            data = bytes(self._buffer) + data
            if len(data) < 3 and _BOM.startswith(data):
                self._buffer[:] = data
                return []
            self._buffer.clear()
            self._bom_checked = True
            if data.startswith(_BOM):
                data = data[3:]
                if not data:
                    return []
        if self._cr_pending:
            self._cr_pending = False
            if data[0] == 10:  # the LF of a CRLF split across chunks
                data = data[1:]
                if not data:
                    return []
        if b"\r" in data:
            self._cr_pending = data[-1] == 13
            data = _CR_OR_CRLF.sub(b"\n", data)
        out = self._feed_lf(data)
        if self._error is not None and not out:
            raise RemoteProtocolError(self._error)
        return out

    def end(self) -> list[ServerSentEvent]:
        """Mark the end of the stream (idempotent).

        An unterminated final block is discarded (§9.2.6: "any pending data must be
        discarded"), so this never returns an event; the list is for symmetry with
        :meth:`feed`.
        """
        if self._error is not None:
            raise RemoteProtocolError(self._error)
        if not self._ended:
            self._ended = True
            self._buffer = bytearray()
            self._data = []
            self._event_type = b""
            self._retry_seen = None
        return []

    # -- internals -------------------------------------------------------------------

    def _fail(self, what: str) -> None:
        """Enter the terminal state; the caller stops processing input."""
        self._error = f"SSE {what} exceeds max_event_size ({self._max} bytes)"
        self._buffer = bytearray()
        self._data = []

    def _feed_lf(self, data: bytes) -> list[Any]:
        """Consume input whose only line terminator is LF; stop at a broken limit."""
        buffer = self._buffer
        limit = self._max
        out: list[Any] = []
        if b"\n" not in data:
            buffer += data
            if len(buffer) > limit:
                self._fail("line")
            return out
        if buffer:
            data = bytes(buffer) + data
        lines = data.split(b"\n")
        tail = lines.pop()
        if len(data) > limit and max(map(len, lines)) > limit:
            # Interpret the lines before the first over-long one, then fail.
            first = next(i for i, line in enumerate(lines) if len(line) > limit)
            self._process(lines[:first], out)
            if self._error is None:
                self._fail("line")
            return out
        self._process(lines, out)
        if self._error is not None:
            return out
        buffer[:] = tail
        if len(tail) > limit:
            self._fail("line")
            return out
        # Account for data lines of the still-open block, counting each one only once.
        parts = self._data
        counted = self._counted
        if len(parts) > counted:
            self._data_size += sum(map(len, parts[counted:])) + len(parts) - counted
            self._counted = len(parts)
            if self._data_size > limit:
                self._fail("event data")
        return out

    def _process(self, lines: list[bytes], out: list[Any]) -> None:
        """Interpret complete lines (§9.2.6), appending dispatched events to ``out``."""
        parts = self._data
        add = parts.append
        emit = out.append
        event_type = self._event_type
        retry_seen = self._retry_seen
        id_buffer = self._id_buffer
        last_id = self._last_event_id
        limit = self._max
        raw_mode = self._raw
        dispatched = False
        for line in lines:
            if not line:  # an empty line: dispatch
                last_id = id_buffer
                if parts:
                    raw = parts[0] if len(parts) == 1 else b"\n".join(parts)
                    parts.clear()
                    dispatched = True
                    if len(raw) >= limit:  # the buffer also held a final LF
                        self._fail("event data")
                        return
                    if not event_type:
                        name = "message"
                    elif event_type == self._name_cache[0]:
                        name = self._name_cache[1]
                    else:
                        name = event_type.decode("utf-8", "replace")
                        self._name_cache = (event_type, name)
                    if raw_mode:
                        emit((name, raw))
                    else:
                        emit(
                            ServerSentEvent(
                                event=name,
                                data=raw.decode("utf-8", "replace"),
                                id=id_buffer,
                                retry=retry_seen,
                            )
                        )
                event_type = b""
                retry_seen = None
            elif line[:6] == b"data: ":  # the common cases, without the general split
                add(line[6:])
            elif line[:7] == b"event: ":
                event_type = line[7:]
            else:
                colon = line.find(b":")
                if colon == 0:  # a comment
                    continue
                if colon < 0:
                    name_b, value = line, b""
                else:
                    name_b, value = line[:colon], line[colon + 1 :]
                    if value[:1] == b" ":
                        value = value[1:]
                if name_b == b"data":
                    add(value)
                elif name_b == b"event":
                    event_type = value
                elif name_b == b"id":
                    if b"\0" not in value:
                        id_buffer = value.decode("utf-8", "replace")
                elif name_b == b"retry" and value.isdigit():
                    digits = value.lstrip(b"0")
                    if len(digits) <= 20:
                        number = int(digits or b"0")
                        if number <= _MAX_RETRY:
                            retry_seen = self._reconnection_time = number
        if dispatched:
            # ``_data`` was emptied at least once: only lines after that are uncounted.
            self._counted = self._data_size = 0
        self._event_type = event_type
        self._retry_seen = retry_seen
        self._id_buffer = id_buffer
        self._last_event_id = last_id
