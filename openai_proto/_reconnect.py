"""Realtime session rules above the wire: reconnection, the send queue and event handlers.

The official SDK's behaviour for ``client.realtime.connect(on_reconnecting=...)``, kept
pure (the drivers in ``backends/_realtime.py`` only connect, write and sleep):

* :class:`ReconnectPolicy` says whether a close code is worth another connection (RFC 6455
  §7.4.1: going away, no status, abnormal closure, internal error, service restart, try
  again later, TLS failure) and how long to wait before attempt ``n``:
  ``min(initial_delay * 2**(n-1), max_delay) * (0.75 + 0.25 * random)``, with ``random``
  drawn by the caller. Attempts count from 1 up to ``max_retries`` and start again only
  after the server sends a non-``error`` event (:func:`is_progress`).
* :func:`apply_overrides` reads what the ``on_reconnecting`` callback returned
  (:class:`ReconnectingOverrides`): new ``extra_query`` / ``extra_headers``, or ``abort``.
* :class:`SendQueue` holds the messages sent while a reconnection is under way, bounded in
  bytes (:class:`~openai_proto.WebSocketQueueFullError` past ``max_bytes``); what it still
  holds when the session gives up comes back in
  :attr:`~openai_proto.WebSocketConnectionClosedError.unsent_messages`.
* :class:`EventHandlers` is the registry behind ``on`` / ``off`` / ``once`` and
  ``dispatch_events()``: the handlers of an event's type run first, then those of the
  catch-all type ``"event"``; an ``error`` event that no handler takes is raised.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple, TypedDict, Union

import msgspec

from ._exceptions import OpenAIError, WebSocketQueueFullError

__all__ = [
    "DEFAULT_MAX_QUEUE_SIZE",
    "RECOVERABLE_CLOSE_CODES",
    "EventHandlers",
    "ReconnectDecision",
    "ReconnectPolicy",
    "ReconnectingEvent",
    "ReconnectingOverrides",
    "SendQueue",
    "apply_overrides",
    "is_progress",
    "is_recoverable_close",
]

#: The send queue's default budget in bytes (the SDK's ``max_queue_size``).
DEFAULT_MAX_QUEUE_SIZE = 1_048_576

#: Close codes after which a new connection is worth trying (RFC 6455 §7.4.1): 1001 going
#: away, 1005 no status, 1006 abnormal closure, 1011 internal error, 1012 service restart,
#: 1013 try again later, 1015 TLS handshake failure. The SDK's set.
RECOVERABLE_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})

# Past this exponent the backoff is max_delay for any sensible initial_delay; it keeps
# 2.0 ** n finite for any attempt number.
_MAX_EXPONENT = 1000

HeaderValues = Mapping[str, Any]
QueryValues = Mapping[str, Any]


def is_recoverable_close(code: int) -> bool:
    """Whether a connection closed with ``code`` may be reopened."""
    return code in RECOVERABLE_CLOSE_CODES


@dataclass(frozen=True)
class ReconnectingEvent:
    """What the ``on_reconnecting`` callback is told before each attempt (the SDK's fields)."""

    attempt: int
    """Which attempt this is, from 1."""
    max_attempts: int
    """How many attempts will be made at most (``max_retries``)."""
    delay: float
    """Seconds slept before this attempt connects."""
    close_code: int
    """The close code that ended the previous connection."""
    extra_query: QueryValues
    """The query parameters the next handshake will add."""
    extra_headers: HeaderValues
    """The headers the next handshake will add."""


class ReconnectingOverrides(TypedDict, total=False):
    """What ``on_reconnecting`` may return (``None`` keeps everything as it is)."""

    extra_query: QueryValues
    """Replaces the query parameters of this and later handshakes."""
    extra_headers: HeaderValues
    """Replaces the headers of this and later handshakes."""
    abort: bool
    """``True``: stop reconnecting; the connection's end is raised."""


class ReconnectDecision(msgspec.Struct, frozen=True, kw_only=True):
    """Reconnect (attempt number ``attempt`` after ``delay`` seconds), or give up.

    ``reason`` is a short phrase for logs: ``"close code 1011"``, ``"retries exhausted"``,
    ``"close code 1000 is final"``.
    """

    reconnect: bool
    attempt: int
    delay: float
    reason: str


class ReconnectPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """The SDK's reconnection rules with the random input passed in.

    ``max_retries`` is the number of attempts after a connection ends; the counter is
    shared by consecutive failures and starts again once the server sends an event
    (:func:`is_progress`), so a server that accepts the handshake and then fails at once
    does not get attempts without end.
    """

    max_retries: int = 5
    initial_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        for name in ("initial_delay", "max_delay"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    def delay(self, attempt: int, *, random: float) -> float:
        """Seconds to wait before attempt ``attempt`` (from 1): exponential backoff capped
        at ``max_delay``, then shortened by up to 25 % (``random`` in [0, 1])."""
        if not isinstance(attempt, int) or attempt < 1:
            raise ValueError(f"attempt must be an integer >= 1, got {attempt!r}")
        if not (isinstance(random, (int, float)) and 0.0 <= random <= 1.0):
            raise ValueError(f"random must be a number in [0, 1], got {random!r}")
        exponent = min(attempt - 1, _MAX_EXPONENT)
        base = min(self.initial_delay * 2.0**exponent, self.max_delay)
        return base * (0.75 + 0.25 * random)

    def decide(self, attempt: int, *, close_code: int, random: float) -> ReconnectDecision:
        """Decide after a connection ended with ``close_code``; ``attempt`` is the number
        the next attempt would have (1 after the first failure since the last event)."""
        if not is_recoverable_close(close_code):
            reason = f"close code {close_code} is final"
            return ReconnectDecision(reconnect=False, attempt=attempt, delay=0.0, reason=reason)
        if attempt > self.max_retries:
            return ReconnectDecision(
                reconnect=False, attempt=attempt, delay=0.0, reason="retries exhausted"
            )
        return ReconnectDecision(
            reconnect=True,
            attempt=attempt,
            delay=self.delay(attempt, random=random),
            reason=f"close code {close_code}",
        )


def apply_overrides(
    result: object, *, extra_query: QueryValues, extra_headers: HeaderValues
) -> Optional[Tuple[QueryValues, HeaderValues]]:
    """The query and headers of the next handshake after ``on_reconnecting`` returned
    ``result``, or ``None`` when it asked to ``abort``. A member that is present replaces
    the current value whole; ``None`` changes nothing."""
    if result is None:
        return extra_query, extra_headers
    if not isinstance(result, Mapping):
        raise TypeError(
            f"on_reconnecting must return None or a mapping (ReconnectingOverrides), "
            f"got {type(result).__name__}"
        )
    if result.get("abort"):
        return None
    query = result["extra_query"] if "extra_query" in result else extra_query
    headers = result["extra_headers"] if "extra_headers" in result else extra_headers
    return query, headers


_JSON_DECODER = msgspec.json.Decoder()


def is_progress(message: Union[str, bytes]) -> bool:
    """Whether a server message shows the new connection works: a JSON object whose
    ``type`` is a non-empty string other than ``"error"`` (an admission error can follow a
    successful handshake, so it does not count). Never raises."""
    try:
        decoded = _JSON_DECODER.decode(message)
    except (msgspec.DecodeError, RecursionError):
        return False
    kind = decoded.get("type") if isinstance(decoded, dict) else None
    return isinstance(kind, str) and kind != "" and kind != "error"


class SendQueue:
    """Messages waiting for a connection, in order, bounded by their total size in bytes
    (text counted as UTF-8). :meth:`put` refuses a message that would pass ``max_bytes``
    with :class:`~openai_proto.WebSocketQueueFullError` (the message is not queued)."""

    __slots__ = ("_items", "_max_bytes", "_nbytes")

    def __init__(self, max_bytes: int = DEFAULT_MAX_QUEUE_SIZE) -> None:
        if not isinstance(max_bytes, int) or max_bytes < 0:
            raise ValueError(f"max_queue_size must be an integer >= 0, got {max_bytes!r}")
        self._max_bytes = max_bytes
        self._items: Deque[Tuple[Union[str, bytes], int]] = deque()
        self._nbytes = 0

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    @property
    def nbytes(self) -> int:
        """Bytes queued now."""
        return self._nbytes

    def put(self, data: Union[str, bytes]) -> None:
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        if self._nbytes + size > self._max_bytes:
            raise WebSocketQueueFullError("send queue is full, message discarded")
        self._items.append((data, size))
        self._nbytes += size

    def pop(self) -> Union[str, bytes]:
        """The oldest message, removed (``IndexError`` when empty)."""
        data, size = self._items.popleft()
        self._nbytes -= size
        return data

    def drain(self) -> List[Union[str, bytes]]:
        """Every queued message, oldest first; the queue is empty afterwards."""
        items = [data for data, _ in self._items]
        self._items.clear()
        self._nbytes = 0
        return items

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


Handler = Callable[..., Any]

#: The catch-all type: its handlers see every event, after the type's own handlers.
ANY_EVENT = "event"


class _Registration:
    __slots__ = ("handler", "once")

    def __init__(self, handler: Handler, once: bool) -> None:
        self.handler = handler
        self.once = once


class EventHandlers:
    """The handlers registered with ``on`` / ``once``, by event type.

    A handler added twice runs twice; :meth:`remove` takes away its first registration.
    A ``once`` handler is removed when it is handed out.
    """

    __slots__ = ("_by_type",)

    def __init__(self) -> None:
        self._by_type: Dict[str, List[_Registration]] = {}

    def add(self, event_type: str, handler: Handler, *, once: bool = False) -> None:
        if not callable(handler):
            raise TypeError(f"an event handler must be callable, got {handler!r}")
        self._by_type.setdefault(event_type, []).append(_Registration(handler, once))

    def remove(self, event_type: str, handler: Handler) -> None:
        registrations = self._by_type.get(event_type, [])
        for index, registration in enumerate(registrations):
            if registration.handler == handler:
                del registrations[index]
                return

    def has(self, event_type: str) -> bool:
        return bool(self._by_type.get(event_type))

    def __bool__(self) -> bool:
        """Whether any handler is registered."""
        return any(self._by_type.values())

    def _take(self, event_type: str) -> List[Handler]:
        registrations = self._by_type.get(event_type)
        if not registrations:
            return []
        self._by_type[event_type] = [r for r in registrations if not r.once]
        return [r.handler for r in registrations]

    def handlers_for(self, event_type: str, event: object) -> List[Handler]:
        """The handlers to call for ``event``, in order: its type's, then ``"event"``'s.

        Raises :class:`~openai_proto.OpenAIError` for an ``error`` event that no handler
        takes, so a failure never passes unseen (the SDK's rule).
        """
        handlers = self._take(event_type) + self._take(ANY_EVENT)
        if event_type == "error" and not handlers:
            raise OpenAIError(f"WebSocket error: {event}")
        return handlers

    def merge_into(self, target: EventHandlers) -> None:
        """Move every registration to ``target`` (after its own), leaving this one empty."""
        for event_type, registrations in self._by_type.items():
            for registration in registrations:
                target.add(event_type, registration.handler, once=registration.once)
        self._by_type.clear()
