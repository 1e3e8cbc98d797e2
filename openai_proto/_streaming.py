"""The OpenAI layer over Server-Sent Events: raw payloads in, items or API errors out.

:class:`StreamParser` applies the conventions the official SDK applies to
``text/event-stream`` bodies (its ``Stream.__stream__``), minus its known bugs:

- ``data: [DONE]`` ends a Chat Completions / Completions stream; the rest is ignored;
- an ``event: error`` event, a JSON object with a truthy top-level ``"error"`` key, or a
  Responses-API payload ``{"type": "error", ...}`` raises :class:`APIError` (the SDK yields
  the last two kinds of Responses/Assistants errors as ordinary items, issue #2487);
- events with empty data are skipped; ``thread.*`` Assistants events keep their name;
- a payload that is not valid JSON is passed through untouched: typed decoding raises
  the validation error later, with the payload at hand.

The check for errors is cheap: a payload is JSON-decoded here only when its bytes
contain ``"error"`` (or its event is named ``error``).
"""

from __future__ import annotations

from typing import Any, Optional

import msgspec

from ._exceptions import APIError, LocalProtocolError
from .sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder

__all__ = ["StreamItem", "StreamParser"]

_DEFAULT_MESSAGE = "An error occurred during streaming"


class StreamItem(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One payload to hand to the user, still undecoded.

    ``event`` is the SSE event name (``"message"`` for Chat Completions, Completions and
    Responses chunks, ``thread.run.created`` etc. for Assistants); ``data`` is the UTF-8
    encoding of the event's data, ready for a typed ``msgspec.json.decode``.
    """

    event: str
    data: bytes


class StreamParser:
    """Turns an OpenAI ``text/event-stream`` body into :class:`StreamItem` objects.

    Feed body bytes with :meth:`feed` and call :meth:`end` at the end of the body; a
    limit broken by the peer raises :class:`RemoteProtocolError` (see :class:`SSEDecoder`,
    which ``max_event_size`` configures). ``request`` is attached to raised
    :class:`APIError` objects.

    Errors are raised in stream order: when an error (an API error payload or a broken
    limit) follows items in the same :meth:`feed`, those items are returned first,
    :attr:`done` becomes true, and the next :meth:`feed` or :meth:`end` raises the error.
    So a driver that stops reading once :attr:`done` is true must still call :meth:`end`.
    After an error every call raises it again.
    """

    __slots__ = ("_decoder", "_done_marker", "_ended", "_error", "_request")

    def __init__(
        self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE, request: object = None
    ) -> None:
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self._decoder._raw = True  # (name, raw bytes) pairs: no str round trip per event
        self._request = request
        self._done_marker = False
        self._ended = False
        self._error: Optional[APIError] = None

    @property
    def done(self) -> bool:
        """True once ``data: [DONE]`` was seen (later input is ignored) or an error is pending.

        Either way there is nothing more to read: call :meth:`end` (which raises a pending
        error) instead of waiting for more of the body.
        """
        return self._done_marker or self._error is not None or self._decoder._error is not None

    def feed(self, data: bytes) -> list[StreamItem]:
        """Decode the next piece of the body; return the payloads it completes."""
        if self._error is not None:
            raise self._error
        if self._ended:
            raise LocalProtocolError("StreamParser.feed() called after end()")
        if self._done_marker:
            return []
        return self._items(self._decoder._feed(data))

    def end(self) -> list[StreamItem]:
        """Mark the end of the body (idempotent); an unterminated last event is dropped."""
        if self._error is not None:
            raise self._error
        if not self._done_marker:
            # Completes no event (§9.2.6 drops an unterminated one) but raises a pending error.
            self._decoder.end()
        self._ended = True
        return []

    def _items(self, events: list[tuple[str, bytes]]) -> list[StreamItem]:
        items: list[StreamItem] = []
        for name, raw in events:
            if not raw:
                continue
            if raw[0] == 91 and raw.startswith(b"[DONE]"):  # 91 is "["
                self._done_marker = True
                break
            if not raw.isascii():
                raw = _valid_utf8(raw)
            error: Optional[APIError] = None
            if name == "error":
                error = self._error_from_payload(raw, always=True)
            elif raw.find(b'"error"') >= 0 and not name.startswith("thread."):
                # (``find`` is markedly faster than ``in`` for a bytes needle)
                error = self._error_from_payload(raw, always=False)
            if error is not None:
                self._error = error
                if items:
                    return items  # raised by the next call, after these reach the user
                raise error
            items.append(StreamItem(event=name, data=raw))
        return items

    def _error_from_payload(self, raw: bytes, *, always: bool) -> Optional[APIError]:
        """The :class:`APIError` that ``raw`` reports, if any.

        With ``always`` (an ``event: error`` event) any payload is an error, JSON or not;
        otherwise only a JSON object with a truthy ``"error"`` key or ``"type": "error"``.
        """
        payload: Any = None
        if raw.lstrip()[:1] == b"{":
            try:
                payload = msgspec.json.decode(raw)
            except (msgspec.DecodeError, RecursionError):  # msgspec's nesting limit
                payload = None
        if not isinstance(payload, dict):
            if not always:
                return None
            return APIError(_DEFAULT_MESSAGE, self._request, body=raw.decode())
        error = payload.get("error")
        if not (always or error or payload.get("type") == "error"):
            return None
        body = error if error else payload
        return APIError(_message(error, payload), self._request, body=body)


def _valid_utf8(raw: bytes) -> bytes:
    """``raw`` if it is valid UTF-8, else its decoding with U+FFFD replacements (§9.2.5)."""
    try:
        raw.decode()
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace").encode()
    return raw


def _message(error: object, payload: dict[str, Any]) -> str:
    """``error.message``, else the top-level ``message``, else a string ``error``."""
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message:
            return message
    message = payload.get("message")
    if isinstance(message, str) and message:
        return message
    if isinstance(error, str) and error:
        return error
    return _DEFAULT_MESSAGE


def event_envelope(item: StreamItem) -> bytes:
    """``{"event": name, "data": payload}`` for an Assistants (``thread.*``) event.

    Assistants streams name the event on the SSE ``event:`` line and put the object in
    ``data``; the typed union (``AssistantStreamEvent``) is tagged on ``event``, so the
    two are put together before decoding, as the official SDK does.
    """
    return b'{"event":' + msgspec.json.encode(item.event) + b',"data":' + item.data + b"}"
