"""The decisions of the polling helpers (``create_and_poll``, ``poll``, ``wait_for_processing``).

Pure: when a polled object is finished, how long to wait before the next look, and whether
a caller's deadline has passed. The clock is an argument (``now``); the sleeping and the
requests are the backends' (``backends/_polling.py``). The rules are the official SDK's
(``openai/lib/_vector_stores.py``, ``_assistants_runs.py``, ``_files.py``,
``resources/videos.py``):

- the wait between looks is the caller's ``poll_interval_ms`` if given, else the server's
  ``openai-poll-after-ms`` response header, else one second;
- each polled resource has its own notion of "finished" (:data:`POLL_RULES`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import FrozenSet, Mapping, Optional, Union

from ._types import Omit

__all__ = [
    "DEFAULT_POLL_INTERVAL_MS",
    "FILE_WAIT_INTERVAL",
    "FILE_WAIT_MAX_SECONDS",
    "POLL_AFTER_HEADER",
    "POLL_RULES",
    "PollRule",
    "batch_finished",
    "check_deadline",
    "deadline_from",
    "file_wait_expired",
    "is_finished",
    "next_delay_ms",
    "poll_sleep",
    "validate_max_concurrency",
    "validate_max_wait_seconds",
]

#: The server's hint, in milliseconds, for when to look again.
POLL_AFTER_HEADER = "openai-poll-after-ms"
#: The wait between looks when neither the caller nor the server chose one.
DEFAULT_POLL_INTERVAL_MS = 1000
#: ``files.wait_for_processing`` defaults: seconds between looks, and the give-up time.
FILE_WAIT_INTERVAL = 5.0
FILE_WAIT_MAX_SECONDS = 30 * 60.0


@dataclass(frozen=True)
class PollRule:
    """When a polled object is finished, from its ``status``.

    Either ``waiting`` is given: the object is finished once its status is none of those
    (a status this version does not know ends the wait, as the SDK's ``else`` branch), or
    ``terminal`` is: finished once the status is one of those (an unknown status keeps
    waiting).
    """

    waiting: Optional[FrozenSet[str]] = None
    terminal: Optional[FrozenSet[str]] = None

    def __post_init__(self) -> None:
        if (self.waiting is None) == (self.terminal is None):
            raise ValueError("a PollRule takes exactly one of `waiting` and `terminal`")

    def finished(self, status: str) -> bool:
        if self.terminal is not None:
            return status in self.terminal
        assert self.waiting is not None
        return status not in self.waiting


#: Keyed by the resource path on the client (``client.vector_stores.files``).
POLL_RULES: Mapping[str, PollRule] = MappingProxyType(
    {
        # lib/_files.py: until "processed", "error" or "deleted" ("uploaded" waits).
        "files": PollRule(terminal=frozenset({"processed", "error", "deleted"})),
        # lib/_vector_stores.py: only "in_progress" waits.
        "vector_stores.files": PollRule(waiting=frozenset({"in_progress"})),
        # resources/videos.py: "queued" and "in_progress" wait.
        "videos": PollRule(waiting=frozenset({"queued", "in_progress"})),
        # lib/_assistants_runs.py: the run lifecycle's resting states; "queued",
        # "in_progress" and "cancelling" (and unknown ones) wait.
        "beta.threads.runs": PollRule(
            terminal=frozenset(
                {"requires_action", "cancelled", "completed", "failed", "expired", "incomplete"}
            )
        ),
    }
)


def is_finished(resource: str, status: str) -> bool:
    """Whether an object of ``resource`` (a key of :data:`POLL_RULES`) with ``status`` is
    finished, i.e. the poll returns it. A failed object is finished too: the caller checks
    ``status`` / ``last_error``, as with the official SDK."""
    return POLL_RULES[resource].finished(status)


def batch_finished(in_progress: int) -> bool:
    """A vector-store file batch is finished once no file is in progress (the SDK looks
    at ``file_counts.in_progress``, not at the batch's ``status``)."""
    return in_progress <= 0


def _header_ms(headers: Mapping[str, str]) -> Optional[int]:
    raw = headers.get(POLL_AFTER_HEADER)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)


def next_delay_ms(poll_interval_ms: Union[int, Omit, None], headers: Mapping[str, str]) -> int:
    """Milliseconds to wait before the next look: the caller's ``poll_interval_ms`` if
    given, else the ``openai-poll-after-ms`` header of the last response, else
    :data:`DEFAULT_POLL_INTERVAL_MS`.

    The header is read on every response (the SDK keeps the first one it saw for the rest
    of the poll); a value that is not a finite non-negative number is ignored (the SDK's
    ``int()`` would raise).
    """
    if isinstance(poll_interval_ms, int) and not isinstance(poll_interval_ms, bool):
        if poll_interval_ms < 0:
            raise ValueError(f"poll_interval_ms must be >= 0, got {poll_interval_ms}")
        return poll_interval_ms
    from_header = _header_ms(headers)
    return DEFAULT_POLL_INTERVAL_MS if from_header is None else from_header


def validate_max_wait_seconds(max_wait_seconds: Union[float, Omit, None]) -> Optional[float]:
    """``None`` when omitted (wait without limit); else the value, which must be finite and
    non-negative (``ValueError``, with the SDK's message)."""
    if max_wait_seconds is None or isinstance(max_wait_seconds, Omit):
        return None
    value = float(max_wait_seconds)
    if not math.isfinite(value) or value < 0:
        raise ValueError("Expected a finite, non-negative value for `max_wait_seconds`")
    return value


def deadline_from(max_wait_seconds: Union[float, Omit, None], now: float) -> Optional[float]:
    """The monotonic instant polling must stop at, or ``None`` for no limit."""
    limit = validate_max_wait_seconds(max_wait_seconds)
    return None if limit is None else now + limit


def _timed_out(what: str) -> TimeoutError:
    return TimeoutError(f"Timed out waiting for {what} to finish processing")


def check_deadline(deadline: Optional[float], now: float, what: str) -> None:
    """Raise the builtin ``TimeoutError`` (as the SDK) once ``deadline`` has passed; with
    ``max_wait_seconds=0`` no request is sent at all."""
    if deadline is not None and deadline - now <= 0:
        raise _timed_out(what)


def poll_sleep(delay_ms: int, *, deadline: Optional[float], now: float, what: str) -> float:
    """Seconds to sleep before the next look: ``delay_ms``, cut to the time left before
    ``deadline``. ``TimeoutError`` if none is left."""
    seconds = delay_ms / 1000
    if deadline is None:
        return seconds
    remaining = deadline - now
    if remaining <= 0:
        raise _timed_out(what)
    return min(seconds, remaining)


def file_wait_expired(started: float, now: float, max_wait_seconds: float) -> bool:
    """``files.wait_for_processing`` gives up (``RuntimeError``) once more than
    ``max_wait_seconds`` have passed since it started."""
    return now - started > max_wait_seconds


def validate_max_concurrency(max_concurrency: int) -> int:
    """At least one upload at a time (zero would wait forever)."""
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise TypeError(f"max_concurrency must be an int, got {type(max_concurrency).__name__}")
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
    return max_concurrency
