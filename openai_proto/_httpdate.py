"""HTTP-date parsing (RFC 9110 §5.6.7) without the clock, ``email.utils`` or ``calendar``.

A recipient must accept all three formats: IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``),
the obsolete RFC 850 form (``Sunday, 06-Nov-94 08:49:37 GMT``) and ANSI C ``asctime()``
(``Sun Nov  6 08:49:37 1994``). The result is a POSIX timestamp in UTC, computed with plain
day arithmetic on the proleptic Gregorian calendar, so nothing here reads the time.
"""

from __future__ import annotations

import math
import re
from typing import Optional

__all__ = ["parse_http_date"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS, start=1)}

_SHORT_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)"
_LONG_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = r"(" + "|".join(_MONTHS) + r")"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})"

# Names are matched case-insensitively (a harmless leniency); re.ASCII keeps Unicode case
# folding (e.g. U+017F LONG S matching "s") and non-ASCII digits out. The weekday is
# redundant and, like most HTTP stacks, we do not check that it fits the date.
_FLAGS = re.ASCII | re.IGNORECASE
_IMF_FIXDATE = re.compile(
    _SHORT_DAY + r", ([0-9]{2}) " + _MONTH + r" ([0-9]{4}) " + _TIME + r" GMT", _FLAGS
)
_RFC850_DATE = re.compile(
    _LONG_DAY + r", ([0-9]{2})-" + _MONTH + r"-([0-9]{2}) " + _TIME + r" GMT", _FLAGS
)
_ASCTIME_DATE = re.compile(
    _SHORT_DAY + r" " + _MONTH + r" ([0-9]{2}| [0-9]) " + _TIME + r" ([0-9]{4})", _FLAGS
)

_SECONDS_PER_DAY = 86_400
_DAYS_PER_ERA = 146_097  # 400 Gregorian years
_YEARS_PER_50 = 50


def parse_http_date(value: str, *, now: Optional[float] = None) -> Optional[float]:
    """The POSIX timestamp (UTC) of an HTTP-date, or ``None`` when ``value`` is not one.

    Accepts the three formats of RFC 9110 §5.6.7; surrounding whitespace is ignored and
    out-of-range fields (30 Feb, hour 24) are rejected. A seconds value of 60 (a leap
    second) counts as the first second of the next minute.

    RFC 850 dates carry a two-digit year. With ``now`` (a POSIX time supplied by the
    caller) the RFC 9110 rule applies: the latest year with those digits that is at most
    50 years after the current year. Without ``now``, 69-99 mean 1969-1999 and 00-68 mean
    2000-2068 (the POSIX ``%y`` convention, also the one ``email.utils`` uses).
    """
    text = value.strip()
    match = _IMF_FIXDATE.fullmatch(text)
    if match is not None:
        day, month, year, hour, minute, second = match.groups()
        return _timestamp(int(year), month, int(day), int(hour), int(minute), int(second))
    match = _RFC850_DATE.fullmatch(text)
    if match is not None:
        day, month, short_year, hour, minute, second = match.groups()
        year = _expand_two_digit_year(int(short_year), now)
        return _timestamp(year, month, int(day), int(hour), int(minute), int(second))
    match = _ASCTIME_DATE.fullmatch(text)
    if match is not None:
        month, day, hour, minute, second, year = match.groups()
        return _timestamp(int(year), month, int(day), int(hour), int(minute), int(second))
    return None


def _timestamp(
    year: int, month_name: str, day: int, hour: int, minute: int, second: int
) -> Optional[float]:
    month = _MONTH_NUMBER[month_name.lower()]
    if not 1 <= day <= _days_in_month(year, month):
        return None
    # RFC 9110 §5.6.7: 00:00:00 - 23:59:60 (leap second).
    if hour > 23 or minute > 59 or second > 60:
        return None
    days = _days_from_civil(year, month, day)
    return float(days * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date.

    Counts in 400-year eras whose years start on 1 March, so the leap day falls at the
    end of a year and the day-of-year is a closed formula.
    """
    shifted_year = year - 1 if month <= 2 else year
    era = shifted_year // 400
    year_of_era = shifted_year - era * 400
    month_from_march = (month + 9) % 12
    day_of_year = (153 * month_from_march + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    # 719_468 days separate 0000-03-01 from 1970-01-01.
    return era * _DAYS_PER_ERA + day_of_era - 719_468


def _year_of(timestamp: float) -> int:
    """The proleptic Gregorian (UTC) year that contains a POSIX timestamp."""
    days = int(timestamp // _SECONDS_PER_DAY) + 719_468
    era = days // _DAYS_PER_ERA
    day_of_era = days - era * _DAYS_PER_ERA
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // (_DAYS_PER_ERA - 1)
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_year + 2) // 153
    year = year_of_era + era * 400
    # Months from March count towards the shifted year; January and February end it.
    return year + 1 if month_from_march >= 10 else year


def _expand_two_digit_year(short_year: int, now: Optional[float]) -> int:
    """Four-digit year of an RFC 850 date (RFC 9110 §5.6.7, the 50-year rule)."""
    if now is None or not math.isfinite(now):
        return short_year + (1900 if short_year >= 69 else 2000)
    latest = _year_of(now) + _YEARS_PER_50
    return latest - (latest - short_year) % 100
