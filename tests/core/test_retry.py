"""Retry policy and HTTP-date parsing: explicit tables, properties, and a differential check
against the installed official SDK (``openai._base_client``)."""

from __future__ import annotations

import calendar
import datetime
import itertools
import math
from types import ModuleType, SimpleNamespace
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto import _httpdate, _retry
from openai_proto._httpdate import parse_http_date
from openai_proto._retry import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RetryDecision,
    RetryPolicy,
)

NOW = 1_735_689_600.0  # Wed, 01 Jan 2025 00:00:00 GMT
POLICY = RetryPolicy()

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def imf(d: datetime.datetime) -> str:
    return (
        f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year:04d} "
        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} GMT"
    )


def rfc850(d: datetime.datetime) -> str:
    return (
        f"{_LONG_DAYS[d.weekday()]}, {d.day:02d}-{_MONTHS[d.month - 1]}-{d.year % 100:02d} "
        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} GMT"
    )


def asctime(d: datetime.datetime) -> str:
    return (
        f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d.day:2d} "
        f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} {d.year:04d}"
    )


def at(offset: float) -> datetime.datetime:
    """The UTC datetime ``offset`` seconds after NOW."""
    return datetime.datetime(2025, 1, 1) + datetime.timedelta(seconds=offset)


def timegm(d: datetime.datetime) -> float:
    return float(calendar.timegm(d.timetuple()))


# ---------------------------------------------------------------------------------------------
# constants


def test_constants_match_installed_sdk() -> None:
    from openai import _constants

    assert INITIAL_RETRY_DELAY == _constants.INITIAL_RETRY_DELAY
    assert MAX_RETRY_DELAY == _constants.MAX_RETRY_DELAY
    assert MAX_RETRY_AFTER == _constants.MAX_RETRY_AFTER_DELAY
    assert POLICY.max_retries == _constants.DEFAULT_MAX_RETRIES


# ---------------------------------------------------------------------------------------------
# parse_http_date

SUNDAY_1994 = 784_111_777.0  # RFC 9110 §5.6.7's example instant

HTTP_DATES: List[Tuple[str, Optional[float]]] = [
    # the three formats of RFC 9110 §5.6.7, all the same instant
    ("Sun, 06 Nov 1994 08:49:37 GMT", SUNDAY_1994),
    ("Sunday, 06-Nov-94 08:49:37 GMT", SUNDAY_1994),
    ("Sun Nov  6 08:49:37 1994", SUNDAY_1994),
    ("Sun Nov 06 08:49:37 1994", SUNDAY_1994),  # date3 = month SP 2DIGIT is allowed too
    # leniencies: surrounding whitespace, letter case, a weekday that does not fit the date
    ("  Sun, 06 Nov 1994 08:49:37 GMT\t", SUNDAY_1994),
    ("SUN, 06 NOV 1994 08:49:37 gmt", SUNDAY_1994),
    ("Mon, 06 Nov 1994 08:49:37 GMT", SUNDAY_1994),
    # calendar edges
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    ("Wed, 31 Dec 1969 23:59:59 GMT", -1.0),
    ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400.0),
    ("Thu, 29 Feb 2024 12:00:00 GMT", 1_709_208_000.0),
    ("Fri, 31 Dec 9999 23:59:59 GMT", 253_402_300_799.0),
    ("Sat, 01 Jan 0000 00:00:00 GMT", -62_167_219_200.0),
    ("Sun, 06 Nov 1994 08:49:60 GMT", SUNDAY_1994 + 23),  # leap second -> next minute
    ("Wed, 01 Jan 2025 00:00:30 GMT", NOW + 30),
    # not dates
    ("", None),
    ("garbage", None),
    ("5", None),
    ("Sun, 6 Nov 1994 08:49:37 GMT", None),  # 2DIGIT day
    ("Sun, 06 Nov 94 08:49:37 GMT", None),  # 4DIGIT year
    ("Sun, 06 Nov 1994 08:49:37 UTC", None),
    ("Sun, 06 Nov 1994 08:49:37 +0000", None),
    ("06 Nov 1994 08:49:37 GMT", None),  # no weekday
    ("Sun,06 Nov 1994 08:49:37 GMT", None),
    ("Sun, 06 Nov 1994 08:49 GMT", None),
    ("Sun, 06 Nov 1994 8:49:37 GMT", None),
    ("Sunday, 06 Nov 1994 08:49:37 GMT", None),  # long weekday with IMF
    ("Sun, 06-Nov-94 08:49:37 GMT", None),  # short weekday with RFC 850
    ("Sun Nov 6 08:49:37 1994", None),  # asctime pads a one-digit day with a space
    ("Sun Nov  6 08:49:37 1994 GMT", None),
    ("Sun, 06 Foo 1994 08:49:37 GMT", None),
    ("Sun, 30 Feb 2000 00:00:00 GMT", None),
    ("Sun, 29 Feb 1900 00:00:00 GMT", None),
    ("Sun, 31 Apr 2000 00:00:00 GMT", None),
    ("Sun, 00 Nov 1994 08:49:37 GMT", None),
    ("Sun, 06 Nov 1994 24:00:00 GMT", None),
    ("Sun, 06 Nov 1994 23:60:00 GMT", None),
    ("Sun, 06 Nov 1994 23:59:61 GMT", None),
    ("Sun, 0\u0666 Nov 1994 08:49:37 GMT", None),  # ARABIC-INDIC DIGIT SIX
    ("\u017fun, 06 Nov 1994 08:49:37 GMT", None),  # LATIN SMALL LETTER LONG S
    ("Sun, 06 Nov 1994 08:49:37 GMT x", None),
]


@pytest.mark.parametrize(("value", "expected"), HTTP_DATES)
def test_parse_http_date_table(value: str, expected: Optional[float]) -> None:
    assert parse_http_date(value) == expected
    assert parse_http_date(value, now=NOW) == expected


# RFC 9110 §5.6.7: a two-digit year that "appears to be more than 50 years in the future" is
# in the past century. Without `now`, 69-99 -> 19xx and 00-68 -> 20xx (POSIX %y, email.utils).
RFC850_YEARS: List[Tuple[str, Optional[float], int]] = [
    ("94", None, 1994),
    ("68", None, 2068),
    ("69", None, 1969),
    ("70", None, 1970),
    ("00", None, 2000),
    ("25", NOW, 2025),
    ("75", NOW, 2075),  # exactly 50 years ahead: still this century
    ("76", NOW, 1976),  # 51 years ahead: the past
    ("70", NOW, 2070),  # differs from email.utils, which says 1970
    ("99", NOW, 1999),
    ("00", NOW, 2000),
    ("49", timegm(datetime.datetime(2099, 12, 31)), 2149),
    ("50", timegm(datetime.datetime(2099, 12, 31)), 2050),
    ("10", timegm(datetime.datetime(1960, 1, 1)), 2010),
    ("11", timegm(datetime.datetime(1960, 1, 1)), 1911),
    ("10", float("nan"), 2010),  # an unusable clock falls back to the POSIX convention
]


@pytest.mark.parametrize(("short_year", "now", "year"), RFC850_YEARS)
def test_rfc850_two_digit_year(short_year: str, now: Optional[float], year: int) -> None:
    value = f"Friday, 01-Jan-{short_year} 00:00:00 GMT"
    assert parse_http_date(value, now=now) == timegm(datetime.datetime(year, 1, 1))


_any_datetime = st.datetimes(
    min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(microsecond=0))


@settings(max_examples=200, deadline=None)
@given(_any_datetime)
def test_imf_and_asctime_round_trip(d: datetime.datetime) -> None:
    assert parse_http_date(imf(d)) == timegm(d)
    assert parse_http_date(asctime(d)) == timegm(d)


@settings(max_examples=200, deadline=None)
@given(
    now=_any_datetime.filter(lambda d: 100 <= d.year <= 9900),
    years_ahead=st.integers(min_value=-49, max_value=50),
    d=_any_datetime,
)
def test_rfc850_round_trip_within_the_window(
    now: datetime.datetime, years_ahead: int, d: datetime.datetime
) -> None:
    """Any date from 49 years before to 50 years after the current year reads back exactly."""
    year = now.year + years_ahead
    day = min(d.day, 28)
    target = d.replace(year=year, day=day)
    assert parse_http_date(rfc850(target), now=timegm(now)) == timegm(target)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_parse_http_date_never_raises(value: str) -> None:
    result = parse_http_date(value, now=NOW)
    assert result is None or math.isfinite(result)


# ---------------------------------------------------------------------------------------------
# delay: (headers, now, random, retries_taken) -> seconds

DATE_IN_30 = imf(at(30))  # "Wed, 01 Jan 2025 00:00:30 GMT"
DELAY_TABLE: List[Tuple[str, Dict[str, str], float, float, int, float]] = [
    # backoff min(0.5 * 2**n, 8) * (1 - 0.25 * random)
    ("backoff n=0", {}, NOW, 0.0, 0, 0.5),
    ("backoff n=0 jitter", {}, NOW, 0.5, 0, 0.4375),
    ("backoff n=0 max jitter", {}, NOW, 1.0, 0, 0.375),
    ("backoff n=1", {}, NOW, 0.0, 1, 1.0),
    ("backoff n=2 jitter", {}, NOW, 0.999, 2, 2.0 * (1 - 0.25 * 0.999)),
    ("backoff n=3", {}, NOW, 0.0, 3, 4.0),
    ("backoff n=4 capped", {}, NOW, 0.0, 4, 8.0),
    ("backoff n=5 capped", {}, NOW, 0.2, 5, 8.0 * 0.95),
    ("backoff n=1000", {}, NOW, 0.0, 1000, 8.0),
    ("backoff huge n", {}, NOW, 0.0, 10**12, 8.0),
    ("other headers", {"x-request-id": "req_1"}, NOW, 0.0, 0, 0.5),
    # retry-after as seconds (floats allowed, as in the SDK)
    ("ra 5", {"retry-after": "5"}, NOW, 0.9, 0, 5.0),
    ("ra 0.25", {"retry-after": "0.25"}, NOW, 0.9, 3, 0.25),
    ("ra padded", {"retry-after": "  7 "}, NOW, 0.0, 0, 7.0),
    ("ra at cap", {"retry-after": "120"}, NOW, 0.0, 0, 120.0),
    ("ra over cap", {"retry-after": "120.001"}, NOW, 0.0, 0, 0.5),
    ("ra zero", {"retry-after": "0"}, NOW, 0.0, 1, 1.0),
    ("ra negative", {"retry-after": "-1"}, NOW, 0.0, 0, 0.5),
    ("ra nan", {"retry-after": "nan"}, NOW, 0.0, 0, 0.5),
    ("ra inf", {"retry-after": "inf"}, NOW, 0.0, 0, 0.5),
    ("ra -inf", {"retry-after": "-inf"}, NOW, 0.0, 0, 0.5),
    ("ra overflow", {"retry-after": "1e999"}, NOW, 0.0, 0, 0.5),
    ("ra garbage", {"retry-after": "soon"}, NOW, 0.0, 0, 0.5),
    ("ra empty", {"retry-after": ""}, NOW, 0.0, 0, 0.5),
    ("ra underscore (float())", {"retry-after": "1_0"}, NOW, 0.0, 0, 10.0),
    # retry-after-ms wins whenever it is a float, whatever its value
    ("ms 1500", {"retry-after-ms": "1500"}, NOW, 0.5, 0, 1.5),
    ("ms at cap", {"retry-after-ms": "120000"}, NOW, 0.0, 0, 120.0),
    ("ms over cap", {"retry-after-ms": "120001"}, NOW, 0.0, 0, 0.5),
    ("ms beats ra", {"retry-after-ms": "250", "retry-after": "9"}, NOW, 0.0, 0, 0.25),
    ("ms 0 beats ra", {"retry-after-ms": "0", "retry-after": "5"}, NOW, 0.0, 0, 0.5),
    ("ms -5 beats ra", {"retry-after-ms": "-5", "retry-after": "3"}, NOW, 0.0, 2, 2.0),
    ("ms nan beats ra", {"retry-after-ms": "nan", "retry-after": "5"}, NOW, 0.0, 0, 0.5),
    ("ms garbage -> ra", {"retry-after-ms": "x", "retry-after": "5"}, NOW, 0.0, 0, 5.0),
    ("ms garbage -> date", {"retry-after-ms": "x", "retry-after": DATE_IN_30}, NOW, 0, 0, 30.0),
    ("ms beats date", {"retry-after-ms": "100", "retry-after": DATE_IN_30}, NOW, 0, 0, 0.1),
    ("ms date is not read", {"retry-after-ms": DATE_IN_30}, NOW, 0.0, 0, 0.5),
    # retry-after as an HTTP-date, minus now
    ("date imf", {"retry-after": DATE_IN_30}, NOW, 0.0, 0, 30.0),
    ("date rfc850", {"retry-after": rfc850(at(30))}, NOW, 0.0, 0, 30.0),
    ("date asctime", {"retry-after": asctime(at(30))}, NOW, 0.0, 0, 30.0),
    ("date fractional now", {"retry-after": DATE_IN_30}, NOW + 0.25, 0.0, 0, 29.75),
    ("date at cap", {"retry-after": imf(at(120))}, NOW, 0.0, 0, 120.0),
    ("date over cap", {"retry-after": imf(at(121))}, NOW, 0.0, 0, 0.5),
    ("date is now", {"retry-after": imf(at(0))}, NOW, 0.0, 0, 0.5),
    ("date in the past", {"retry-after": imf(at(-30))}, NOW, 0.0, 1, 1.0),
    ("date invalid", {"retry-after": "Wed, 32 Jan 2025 00:00:00 GMT"}, NOW, 0.0, 0, 0.5),
]


@pytest.mark.parametrize(
    ("headers", "now", "random", "retries_taken", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in DELAY_TABLE],
)
def test_delay_table(
    headers: Dict[str, str], now: float, random: float, retries_taken: int, expected: float
) -> None:
    assert POLICY.delay(retries_taken, headers, now=now, random=random) == pytest.approx(
        expected, rel=1e-12, abs=1e-12
    )


def test_delay_without_headers_is_backoff() -> None:
    assert POLICY.delay(2, None, now=NOW, random=0.0) == 2.0


def test_delay_custom_policy() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=5.0, max_retry_after=10.0)
    assert policy.delay(0, None, now=NOW, random=0.0) == 1.0
    assert policy.delay(2, None, now=NOW, random=0.0) == 4.0
    assert policy.delay(3, None, now=NOW, random=0.0) == 5.0
    assert policy.delay(0, {"retry-after": "10"}, now=NOW, random=0.0) == 10.0
    assert policy.delay(0, {"retry-after": "10.5"}, now=NOW, random=0.0) == 1.0
    zero = RetryPolicy(initial_delay=0.0, max_delay=0.0)
    assert zero.delay(10**6, None, now=NOW, random=0.7) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    retries_taken=st.integers(min_value=0, max_value=10**30),
    random=st.floats(min_value=0.0, max_value=1.0),
)
def test_backoff_bounds(retries_taken: int, random: float) -> None:
    """Jitter only ever shortens the wait, by at most a quarter."""
    delay = POLICY.delay(retries_taken, None, now=NOW, random=random)
    ceiling = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
    assert 0.75 * ceiling <= delay <= ceiling


def test_httpx_style_headers_work() -> None:
    """A case-insensitive mapping (the engine's or httpx's) answers the lowercase lookups."""
    import httpx

    headers = httpx.Headers({"Retry-After-Ms": "1500", "X-Should-Retry": "false"})
    assert POLICY.delay(0, headers, now=NOW, random=0.0) == 1.5
    assert POLICY.should_retry_status(500, headers) is False


# ---------------------------------------------------------------------------------------------
# decide: (status, headers, retries_taken) -> decision     (now=NOW, random=0: delay = ceiling)

OVER = imf(at(121))
DECISION_TABLE: List[Tuple[int, Dict[str, str], int, bool, str, float]] = [
    # statuses that retry
    (408, {}, 0, True, "status 408", 0.5),
    (409, {}, 0, True, "status 409", 0.5),
    (429, {}, 0, True, "status 429", 0.5),
    (429, {}, 1, True, "status 429", 1.0),
    (500, {}, 0, True, "status 500", 0.5),
    (502, {}, 1, True, "status 502", 1.0),
    (503, {}, 0, True, "status 503", 0.5),
    (504, {}, 0, True, "status 504", 0.5),
    (599, {}, 0, True, "status 599", 0.5),
    (999, {}, 0, True, "status 999", 0.5),
    # statuses that do not
    (400, {}, 0, False, "status 400 not retryable", 0.0),
    (401, {}, 0, False, "status 401 not retryable", 0.0),
    (403, {}, 0, False, "status 403 not retryable", 0.0),
    (404, {}, 0, False, "status 404 not retryable", 0.0),
    (410, {}, 0, False, "status 410 not retryable", 0.0),
    (422, {}, 0, False, "status 422 not retryable", 0.0),
    (499, {}, 0, False, "status 499 not retryable", 0.0),
    (304, {}, 0, False, "status 304 not retryable", 0.0),
    (200, {}, 0, False, "status 200 is a success", 0.0),
    (204, {"x-should-retry": "true"}, 0, False, "status 204 is a success", 0.0),
    # the budget
    (429, {}, 2, False, "retries exhausted", 0.0),
    (500, {}, 5, False, "retries exhausted", 0.0),
    (400, {}, 2, False, "status 400 not retryable", 0.0),
    (400, {"x-should-retry": "true"}, 2, False, "retries exhausted", 0.0),
    # x-should-retry overrides the status, both ways; only the exact lowercase words count
    (400, {"x-should-retry": "true"}, 0, True, "x-should-retry: true", 0.5),
    (404, {"x-should-retry": "true"}, 1, True, "x-should-retry: true", 1.0),
    (429, {"x-should-retry": "true"}, 0, True, "x-should-retry: true", 0.5),
    (500, {"x-should-retry": "false"}, 0, False, "x-should-retry: false", 0.0),
    (429, {"x-should-retry": "false"}, 0, False, "x-should-retry: false", 0.0),
    (400, {"x-should-retry": "false"}, 0, False, "x-should-retry: false", 0.0),
    (400, {"x-should-retry": "True"}, 0, False, "status 400 not retryable", 0.0),
    (500, {"x-should-retry": "FALSE"}, 0, True, "status 500", 0.5),
    (500, {"x-should-retry": "1"}, 0, True, "status 500", 0.5),
    # a server hint over the cap refuses the retry, before x-should-retry is read
    (429, {"retry-after": "121"}, 0, False, "retry-after over cap", 0.0),
    (503, {"retry-after": "120.5"}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after": "121", "x-should-retry": "true"}, 0, False, "retry-after over cap", 0),
    (400, {"retry-after": "3600"}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after-ms": "120001"}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after-ms": "1e999"}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after": "1e999"}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after": OVER}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after": rfc850(at(121))}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after": asctime(at(121))}, 0, False, "retry-after over cap", 0.0),
    (429, {"retry-after-ms": "1000", "retry-after": "999"}, 0, True, "status 429", 1.0),
    (429, {"retry-after-ms": "-1", "retry-after": "999"}, 0, True, "status 429", 0.5),
    # hints at or under the cap, or non-finite ones, leave the verdict to the status
    (429, {"retry-after": "120"}, 0, True, "status 429", 120.0),
    (429, {"retry-after": imf(at(120))}, 0, True, "status 429", 120.0),
    (429, {"retry-after": "inf"}, 0, True, "status 429", 0.5),
    (429, {"retry-after": "Infinity"}, 0, True, "status 429", 0.5),
    (429, {"retry-after": "-1e999"}, 0, True, "status 429", 0.5),
    (429, {"retry-after": "nan"}, 0, True, "status 429", 0.5),
    (429, {"retry-after": "0"}, 0, True, "status 429", 0.5),
    (429, {"retry-after": imf(at(-60))}, 0, True, "status 429", 0.5),
    (400, {"retry-after": "5"}, 0, False, "status 400 not retryable", 0.0),
    (400, {"retry-after": "5", "x-should-retry": "true"}, 0, True, "x-should-retry: true", 5),
    (
        500,
        {"retry-after-ms": "10", "x-should-retry": "false"},
        0,
        False,
        "x-should-retry: false",
        0,
    ),
]


@pytest.mark.parametrize(
    ("status", "headers", "retries_taken", "retry", "reason", "delay"), DECISION_TABLE
)
def test_decision_table(
    status: int,
    headers: Dict[str, str],
    retries_taken: int,
    retry: bool,
    reason: str,
    delay: float,
) -> None:
    decision = POLICY.decide(
        retries_taken, status_code=status, headers=headers, now=NOW, random=0.0
    )
    assert decision == RetryDecision(retry=retry, delay=float(delay), reason=reason)
    if 200 <= status < 300:
        return
    if reason != "retries exhausted":
        assert POLICY.should_retry_status(status, headers, now=NOW) is retry


TRANSPORT_TABLE: List[Tuple[str, int, Optional[Dict[str, str]], RetryDecision]] = [
    ("connect", 0, None, RetryDecision(retry=True, delay=0.5, reason="connection error")),
    ("read", 1, None, RetryDecision(retry=True, delay=1.0, reason="connection error")),
    ("write", 0, None, RetryDecision(retry=True, delay=0.5, reason="connection error")),
    ("timeout", 0, None, RetryDecision(retry=True, delay=0.5, reason="timeout")),
    ("read_timeout", 1, None, RetryDecision(retry=True, delay=1.0, reason="timeout")),
    ("connect", 2, None, RetryDecision(retry=False, delay=0.0, reason="retries exhausted")),
    ("timeout", 3, None, RetryDecision(retry=False, delay=0.0, reason="retries exhausted")),
    # a transport failure has no response: stray headers give no server hint
    (
        "read",
        0,
        {"retry-after": "300", "x-should-retry": "false"},
        RetryDecision(retry=True, delay=0.5, reason="connection error"),
    ),
]


@pytest.mark.parametrize(("error", "retries_taken", "headers", "expected"), TRANSPORT_TABLE)
def test_transport_error_table(
    error: str,
    retries_taken: int,
    headers: Optional[Dict[str, str]],
    expected: RetryDecision,
) -> None:
    decision = POLICY.decide(retries_taken, error=error, headers=headers, now=NOW, random=0.0)
    assert decision == expected


def test_max_retries_zero_never_retries() -> None:
    policy = RetryPolicy(max_retries=0)
    assert policy.decide(0, status_code=503, now=NOW, random=0.0).reason == "retries exhausted"
    assert policy.decide(0, error="connect", now=NOW, random=0.0).retry is False


def test_custom_cap() -> None:
    policy = RetryPolicy(max_retry_after=10.0)
    over = policy.decide(0, status_code=429, headers={"retry-after": "11"}, now=NOW, random=0.0)
    assert over == RetryDecision(retry=False, delay=0.0, reason="retry-after over cap")
    under = policy.decide(0, status_code=429, headers={"retry-after": "9"}, now=NOW, random=0.0)
    assert under == RetryDecision(retry=True, delay=9.0, reason="status 429")


def test_should_retry_status_needs_now_for_dates() -> None:
    """Without a clock a date-valued Retry-After cannot be weighed against the cap."""
    headers = {"retry-after": OVER}
    assert POLICY.should_retry_status(429, headers) is True
    assert POLICY.should_retry_status(429, headers, now=NOW) is False


def test_values_are_frozen_and_keyword_only() -> None:
    decision = RetryDecision(retry=True, delay=1.0, reason="timeout")
    with pytest.raises(AttributeError):
        decision.delay = 2.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        POLICY.max_retries = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        RetryPolicy(3)  # type: ignore[call-arg]
    assert RetryPolicy(max_retries=2) == POLICY


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"max_retries": -1}, ValueError),
        ({"max_retries": 1.5}, TypeError),
        ({"max_retries": None}, TypeError),
        ({"initial_delay": -0.1}, ValueError),
        ({"initial_delay": float("nan")}, ValueError),
        ({"max_delay": float("inf")}, ValueError),
        ({"max_retry_after": float("inf")}, ValueError),
    ],
)
def test_policy_rejects_bad_limits(kwargs: Dict[str, object], exc: type) -> None:
    with pytest.raises(exc):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda: POLICY.decide(0, now=NOW, random=0.0),
        lambda: POLICY.decide(0, status_code=500, error="read", now=NOW, random=0.0),
        lambda: POLICY.decide(-1, status_code=500, now=NOW, random=0.0),
        lambda: POLICY.decide(0, status_code=500, now=NOW, random=1.5),
        lambda: POLICY.delay(0, None, now=NOW, random=float("nan")),
        lambda: POLICY.delay(0, None, now=NOW, random=-0.1),
        lambda: POLICY.delay(-3, None, now=NOW, random=0.0),
    ],
)
def test_misuse_raises_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------------------------------------
# purity


def test_modules_hold_no_clock_or_randomness() -> None:
    for module in (_retry, _httpdate):
        imported = {v.__name__ for v in vars(module).values() if isinstance(v, ModuleType)}
        assert imported <= {"math", "re", "sys", "msgspec"}, (module.__name__, imported)


# ---------------------------------------------------------------------------------------------
# differential: the installed official SDK


@pytest.fixture(scope="module")
def sdk() -> Iterator[SimpleNamespace]:
    """An official client, plus the HTTP library its ``_base_client`` uses (httpx2 since 3.0)."""
    import asyncio

    import openai
    from openai import _base_client
    from openai._models import FinalRequestOptions

    try:
        import httpx2 as http
    except ImportError:  # pragma: no cover - the official SDK ran on httpx before 3.0
        import httpx as http  # type: ignore[no-redef]
    client = openai.AsyncOpenAI(api_key="x")
    yield SimpleNamespace(
        client=client, module=_base_client, http=http, options=FinalRequestOptions.construct
    )
    asyncio.run(client.close())


@pytest.fixture
def sdk_inputs(sdk: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Pins the SDK's ``random()`` and ``time.time()`` to values a test sets here."""
    inputs = SimpleNamespace(now=NOW, random=0.0)
    monkeypatch.setattr(sdk.module, "random", lambda: inputs.random)
    monkeypatch.setattr(sdk.module, "time", SimpleNamespace(time=lambda: inputs.now))
    return inputs


def _grid_headers() -> Iterator[Dict[str, str]]:
    ms_values = [None, "1500", "0", "-5", "nan", "inf", "1e999", "-1e999", "120000", "120001", "x"]
    ra_values = [
        None, "5", "0", "120", "120.5", "-3", " 7 ", "nan", "inf", "Infinity", "1e999",
        "-1e999", "1_0", "soon", "", imf(at(30)), imf(at(-30)), imf(at(0)), imf(at(120)),
        imf(at(121)), imf(at(86400)), rfc850(at(30)), rfc850(at(121)), asctime(at(30)),
        asctime(at(121)),
    ]  # fmt: skip
    for ms, ra in itertools.product(ms_values, ra_values):
        headers = {}
        if ms is not None:
            headers["Retry-After-Ms"] = ms
        if ra is not None:
            headers["Retry-After"] = ra
        yield headers


def test_differential_delay(sdk: SimpleNamespace, sdk_inputs: SimpleNamespace) -> None:
    max_retries = 8
    options = sdk.options(method="get", url="/x", max_retries=max_retries)
    compared = 0
    for raw, random, retries_taken in itertools.product(
        _grid_headers(), (0.0, 0.3, 0.999), (0, 1, 3, 7)
    ):
        sdk_inputs.random = random
        headers = sdk.http.Headers(raw)
        # The SDK counts down remaining retries; retries_taken = max_retries - remaining.
        theirs = sdk.client._calculate_retry_timeout(max_retries - retries_taken, options, headers)
        ours = POLICY.delay(retries_taken, headers, now=NOW, random=random)
        lowered = {k.lower(): v for k, v in raw.items()}
        assert ours == theirs == POLICY.delay(retries_taken, lowered, now=NOW, random=random), (
            raw,
            random,
            retries_taken,
        )
        compared += 1
    sdk_inputs.random = 0.5
    no_response = sdk.client._calculate_retry_timeout(1, options, None)
    assert no_response == POLICY.delay(max_retries - 1, None, now=NOW, random=0.5)
    assert compared > 1000


def test_differential_should_retry(sdk: SimpleNamespace, sdk_inputs: SimpleNamespace) -> None:
    compared = 0
    for raw, should, status in itertools.product(
        _grid_headers(),
        (None, "true", "false", "True"),
        (400, 404, 408, 409, 422, 429, 500, 503),
    ):
        headers = dict(raw)
        if should is not None:
            headers["X-Should-Retry"] = should
        response = sdk.http.Response(status, headers=headers)
        theirs = sdk.client._should_retry(response)
        ours = POLICY.should_retry_status(status, response.headers, now=NOW)
        assert ours is theirs, (status, headers)
        compared += 1
    assert compared > 1000


# Intentional differences from the SDK's email.utils date parsing (outside the grid above):
# RFC 9110 dates only, so no numeric zone, no missing weekday, no "UTC", no hour 24 rolled
# into the next day. Where the SDK reads a 30 s wait, we back off instead.
@pytest.mark.parametrize(
    "value",
    [
        "Wed, 01 Jan 2025 00:00:30 +0000",
        "01 Jan 2025 00:00:30 GMT",
        "Wed, 01 Jan 2025 00:00:30 UTC",
        "Tue, 31 Dec 2024 24:00:30 GMT",
    ],
)
def test_non_rfc_dates_fall_back_to_backoff(
    value: str, sdk: SimpleNamespace, sdk_inputs: SimpleNamespace
) -> None:
    headers = sdk.http.Headers({"retry-after": value})
    options = sdk.options(method="get", url="/x", max_retries=2)
    assert sdk.client._calculate_retry_timeout(2, options, headers) == 30.0
    assert POLICY.delay(0, headers, now=NOW, random=0.0) == 0.5


def test_rfc850_year_70_follows_rfc_9110(sdk: SimpleNamespace, sdk_inputs: SimpleNamespace) -> None:
    """'01-Jan-70' is 2070 by RFC 9110's 50-year rule (email.utils says 1970)."""
    headers = {"retry-after": "Thursday, 01-Jan-70 00:00:00 GMT"}
    assert POLICY.should_retry_status(429, headers, now=NOW) is False
    assert sdk.client._should_retry(sdk.http.Response(429, headers=headers)) is True
