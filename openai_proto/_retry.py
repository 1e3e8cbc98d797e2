"""Retry decisions: whether to send a failed request again, and how long to wait first.

The rules are the official SDK's (``openai/_base_client.py``: ``_should_retry``,
``_calculate_retry_timeout``, ``_parse_retry_after_header``), kept pure: the caller supplies
the current time (``now``) and a uniform random number (``random``), and sleeps itself.

* Transport failures (connect, read, write, timeout) are retried.
* An HTTP error status is retried unless ``Retry-After`` asks for more than
  ``max_retry_after`` seconds; then ``x-should-retry: true|false`` decides if present; else
  408, 409, 429 and every status >= 500 are retried.
* The wait is the server's hint (``retry-after-ms``, else ``retry-after`` as seconds or an
  HTTP-date, RFC 9110 §10.2.3) when it lies in (0, ``max_retry_after``], otherwise
  exponential backoff ``min(initial_delay * 2**retries_taken, max_delay)`` shortened by up
  to 25 % of jitter.
"""

from __future__ import annotations

import math
import sys
from typing import Mapping, Optional, Tuple

import msgspec

from ._httpdate import parse_http_date

__all__ = [
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "RetryDecision",
    "RetryPolicy",
]

INITIAL_RETRY_DELAY = 0.5
"""Seconds before the first retry, before jitter (the official SDK's value)."""
MAX_RETRY_DELAY = 8.0
"""Longest backoff in seconds, before jitter (the official SDK's value)."""
MAX_RETRY_AFTER = 120.0
"""Longest server-requested wait honoured; longer requests are not retried (SDK >= 2.52)."""

# Backoff exponent cap: 2.0 ** 1000 is still a finite float, and past that point the result
# is max_delay for any initial_delay a caller could sensibly pick (the SDK uses 1000 too).
_MAX_EXPONENT = 1000
# A numeral too large for a float ("1e999") is an excessive delay, not a malformed value:
# the SDK turns it into a finite value above the cap so the retry is refused.
_OVERFLOWED_HINT = sys.float_info.max
_INFINITY_SPELLINGS = frozenset({"inf", "+inf", "infinity", "+infinity"})
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


class RetryDecision(msgspec.Struct, frozen=True, kw_only=True):
    """What to do after a failed attempt: retry after ``delay`` seconds, or give up.

    ``reason`` is a short phrase for logs, e.g. ``"status 429"``, ``"timeout"``,
    ``"retries exhausted"``, ``"retry-after over cap"``.
    """

    retry: bool
    delay: float
    reason: str


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """The official SDK's retry rules, with every input (time, randomness) passed in.

    ``max_retries`` counts retries, so a request is sent at most ``max_retries + 1`` times.
    Header mappings must answer lowercase names (a case-insensitive mapping, or a dict with
    lowercase keys).
    """

    max_retries: int = 2
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int):
            raise TypeError("max_retries must be a non-negative integer")
        if self.max_retries < 0:
            raise ValueError("max_retries must be a non-negative integer")
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

    def should_retry_status(
        self, status_code: int, headers: Mapping[str, str], *, now: Optional[float] = None
    ) -> bool:
        """Whether an HTTP error response may be retried, ignoring the retry budget.

        ``now`` (POSIX seconds) is needed to weigh a ``Retry-After`` HTTP-date against the
        cap; without it a date-valued ``Retry-After`` is ignored here.
        """
        return self._status_verdict(status_code, headers, now)[0]

    def delay(
        self,
        retries_taken: int,
        headers: Optional[Mapping[str, str]],
        *,
        now: float,
        random: float,
    ) -> float:
        """Seconds to wait before retry number ``retries_taken + 1``.

        ``headers`` are those of the failed response (``None`` after a transport failure);
        ``random`` is a uniform sample from [0, 1) drawn by the caller.
        """
        _check_retries_taken(retries_taken)
        if not (isinstance(random, (int, float)) and 0.0 <= random <= 1.0):
            raise ValueError(f"random must be a number in [0, 1], got {random!r}")
        hint = self._server_hint(headers, now)
        if hint is not None and math.isfinite(hint) and 0 < hint <= self.max_retry_after:
            return hint
        exponent = min(retries_taken, _MAX_EXPONENT)
        backoff = min(self.initial_delay * 2.0**exponent, self.max_delay)
        return max(backoff * (1.0 - 0.25 * random), 0.0)

    def decide(
        self,
        retries_taken: int,
        *,
        status_code: Optional[int] = None,
        headers: Optional[Mapping[str, str]] = None,
        error: Optional[str] = None,
        now: float,
        random: float,
    ) -> RetryDecision:
        """Decide on one failed attempt: an HTTP status (with its headers) or a transport error.

        ``error`` names the transport failure ("connect", "read", "write", "timeout", ...);
        exactly one of ``status_code`` and ``error`` must be given. ``retries_taken`` is
        the number of retries already made (0 after the first attempt). A failure that
        would not be retried anyway keeps its own reason rather than "retries exhausted".
        """
        _check_retries_taken(retries_taken)
        if (status_code is None) == (error is None):
            raise ValueError("pass exactly one of status_code and error")
        if status_code is None:
            retry = True
            reason = "timeout" if "timeout" in (error or "").lower() else "connection error"
            # A transport failure has no response, so no server hint: backoff only.
            headers = None
        elif 200 <= status_code < 300:
            retry, reason = False, f"status {status_code} is a success"
        else:
            retry, reason = self._status_verdict(status_code, headers or {}, now)
        if not retry:
            return RetryDecision(retry=False, delay=0.0, reason=reason)
        if retries_taken >= self.max_retries:
            return RetryDecision(retry=False, delay=0.0, reason="retries exhausted")
        wait = self.delay(retries_taken, headers, now=now, random=random)
        return RetryDecision(retry=True, delay=wait, reason=reason)

    def _status_verdict(
        self, status_code: int, headers: Mapping[str, str], now: Optional[float]
    ) -> Tuple[bool, str]:
        hint = self._server_hint(headers, now)
        if hint is not None and math.isfinite(hint) and hint > self.max_retry_after:
            return False, "retry-after over cap"
        # Not a standard header; the SDK compares the exact lowercase words.
        should_retry = headers.get("x-should-retry")
        if should_retry == "true":
            return True, "x-should-retry: true"
        if should_retry == "false":
            return False, "x-should-retry: false"
        if status_code in _RETRYABLE_STATUSES or status_code >= 500:
            return True, f"status {status_code}"
        return False, f"status {status_code} not retryable"

    @staticmethod
    def _server_hint(headers: Optional[Mapping[str, str]], now: Optional[float]) -> Optional[float]:
        """Seconds the server asked us to wait, ``None`` when it did not say (or said nonsense).

        Like the SDK: the first of ``retry-after-ms`` (milliseconds) and ``retry-after``
        (seconds) that parses as a float wins, whatever its value (negative, zero, NaN);
        only when neither does is ``retry-after`` read as an HTTP-date.
        """
        if headers is None:
            return None
        for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            raw = headers.get(name)
            if raw is None:
                continue
            try:
                value = float(raw)
            except (TypeError, ValueError):
                continue
            if value == math.inf and raw.strip().lower() not in _INFINITY_SPELLINGS:
                return _OVERFLOWED_HINT
            return value / divisor
        raw = headers.get("retry-after")
        if raw is None or now is None:
            return None
        when = parse_http_date(raw, now=now)
        return None if when is None else when - now


def _check_retries_taken(retries_taken: int) -> None:
    if not isinstance(retries_taken, int) or retries_taken < 0:
        raise ValueError(f"retries_taken must be an integer >= 0, got {retries_taken!r}")
