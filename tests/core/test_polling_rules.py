"""The polling helpers' decisions (``openai_proto._polling``), against the official SDK's rules."""

from __future__ import annotations

import math
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._polling import (
    DEFAULT_POLL_INTERVAL_MS,
    FILE_WAIT_INTERVAL,
    FILE_WAIT_MAX_SECONDS,
    POLL_AFTER_HEADER,
    POLL_RULES,
    PollRule,
    batch_finished,
    check_deadline,
    deadline_from,
    file_wait_expired,
    is_finished,
    next_delay_ms,
    poll_sleep,
    validate_max_concurrency,
    validate_max_wait_seconds,
)
from openai_proto._types import omit

# -- when a polled object is finished --------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "finished", "waiting"),
    [
        ("files", ["processed", "error", "deleted"], ["uploaded", "pending", "new-state"]),
        ("vector_stores.files", ["completed", "failed", "cancelled", "new-state"], ["in_progress"]),
        ("videos", ["completed", "failed", "new-state"], ["queued", "in_progress"]),
        (
            "beta.threads.runs",
            ["requires_action", "cancelled", "completed", "failed", "expired", "incomplete"],
            ["queued", "in_progress", "cancelling", "new-state"],
        ),
    ],
)
def test_finished_statuses_per_resource(
    resource: str, finished: list[str], waiting: list[str]
) -> None:
    assert all(is_finished(resource, status) for status in finished)
    assert not any(is_finished(resource, status) for status in waiting)


def test_rules_cover_exactly_the_polled_resources() -> None:
    assert set(POLL_RULES) == {"files", "vector_stores.files", "videos", "beta.threads.runs"}
    with pytest.raises(TypeError):
        POLL_RULES["x"] = PollRule(terminal=frozenset())  # type: ignore[index]


def test_rule_takes_exactly_one_kind() -> None:
    with pytest.raises(ValueError):
        PollRule()
    with pytest.raises(ValueError):
        PollRule(waiting=frozenset({"a"}), terminal=frozenset({"b"}))
    assert PollRule(waiting=frozenset({"a"})).finished("b")
    assert not PollRule(terminal=frozenset({"a"})).finished("b")


def test_batch_is_finished_when_no_file_is_in_progress() -> None:
    assert batch_finished(0)
    assert not batch_finished(1)
    assert not batch_finished(250)


# -- the next delay ----------------------------------------------------------------------------


def test_caller_interval_wins_over_the_header() -> None:
    assert next_delay_ms(250, {POLL_AFTER_HEADER: "9000"}) == 250
    assert next_delay_ms(0, {}) == 0


def test_header_when_no_interval_is_given() -> None:
    assert next_delay_ms(omit, {POLL_AFTER_HEADER: "1500"}) == 1500
    assert next_delay_ms(None, {POLL_AFTER_HEADER: " 20 "}) == 20
    assert next_delay_ms(omit, {POLL_AFTER_HEADER: "12.7"}) == 12


def test_default_without_interval_or_header() -> None:
    assert DEFAULT_POLL_INTERVAL_MS == 1000
    assert next_delay_ms(omit, {}) == 1000
    assert next_delay_ms(omit, {"retry-after-ms": "5"}) == 1000


@pytest.mark.parametrize("bad", ["", "soon", "-5", "nan", "inf", "1e400"])
def test_unusable_header_falls_back_to_default(bad: str) -> None:
    assert next_delay_ms(omit, {POLL_AFTER_HEADER: bad}) == DEFAULT_POLL_INTERVAL_MS


def test_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="poll_interval_ms"):
        next_delay_ms(-1, {})


@settings(max_examples=200, deadline=None)
@given(ms=st.integers(min_value=0, max_value=10**9), given_ms=st.integers(0, 10**6) | st.none())
def test_delay_is_the_first_available_source(ms: int, given_ms: Optional[int]) -> None:
    headers = {POLL_AFTER_HEADER: str(ms)}
    expected = ms if given_ms is None else given_ms
    assert next_delay_ms(given_ms, headers) == expected


# -- deadlines --------------------------------------------------------------------------------


def test_max_wait_seconds_validation() -> None:
    assert validate_max_wait_seconds(omit) is None
    assert validate_max_wait_seconds(None) is None
    assert validate_max_wait_seconds(0) == 0.0
    assert validate_max_wait_seconds(2.5) == 2.5
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(ValueError, match="finite, non-negative"):
            validate_max_wait_seconds(bad)


def test_deadline_from_now() -> None:
    assert deadline_from(omit, now=100.0) is None
    assert deadline_from(3.0, now=100.0) == 103.0


def test_check_deadline() -> None:
    check_deadline(None, now=1e9, what="x")
    check_deadline(10.0, now=9.9, what="x")
    with pytest.raises(TimeoutError, match="vector store file 'f1'"):
        check_deadline(10.0, now=10.0, what="vector store file 'f1'")


def test_poll_sleep_is_cut_to_the_deadline() -> None:
    assert poll_sleep(1500, deadline=None, now=0.0, what="x") == 1.5
    assert poll_sleep(1500, deadline=10.0, now=9.5, what="x") == 0.5
    assert poll_sleep(100, deadline=10.0, now=5.0, what="x") == 0.1
    with pytest.raises(TimeoutError):
        poll_sleep(100, deadline=10.0, now=10.5, what="x")


def test_file_wait_defaults_and_expiry() -> None:
    assert FILE_WAIT_INTERVAL == 5.0
    assert FILE_WAIT_MAX_SECONDS == 1800.0
    assert not file_wait_expired(started=0.0, now=10.0, max_wait_seconds=10.0)
    assert file_wait_expired(started=0.0, now=10.01, max_wait_seconds=10.0)


def test_max_concurrency_validation() -> None:
    assert validate_max_concurrency(5) == 5
    assert validate_max_concurrency(1) == 1
    for bad in (0, -3):
        with pytest.raises(ValueError, match="max_concurrency"):
            validate_max_concurrency(bad)
    with pytest.raises(TypeError):
        validate_max_concurrency(True)
    with pytest.raises(TypeError):
        validate_max_concurrency(2.0)  # type: ignore[arg-type]
