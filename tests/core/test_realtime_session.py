"""The pure Realtime session rules: reconnect policy, overrides, send queue, handlers."""

from __future__ import annotations

import math
from typing import Any, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto import (
    OpenAIError,
    ReconnectingEvent,
    WebSocketConnectionClosedError,
    WebSocketQueueFullError,
)
from openai_proto._reconnect import (
    RECOVERABLE_CLOSE_CODES,
    EventHandlers,
    ReconnectPolicy,
    SendQueue,
    apply_overrides,
    is_progress,
    is_recoverable_close,
)

# Policy ------------------------------------------------------------------------------


def test_recoverable_codes_are_the_sdks() -> None:
    assert RECOVERABLE_CLOSE_CODES == {1001, 1005, 1006, 1011, 1012, 1013, 1015}
    for code in (1000, 1002, 1003, 1007, 1008, 1009, 1010, 1014, 4000):
        assert not is_recoverable_close(code)


def test_defaults_are_the_sdks() -> None:
    policy = ReconnectPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.max_delay) == (5, 0.5, 8.0)


def test_delay_doubles_then_caps_and_jitter_takes_at_most_a_quarter() -> None:
    policy = ReconnectPolicy()
    assert [policy.delay(n, random=1.0) for n in range(1, 7)] == [0.5, 1, 2, 4, 8, 8]
    assert [policy.delay(n, random=0.0) for n in range(1, 7)] == [0.375, 0.75, 1.5, 3, 6, 6]
    assert policy.delay(3, random=0.5) == pytest.approx(2 * 0.875)
    assert math.isfinite(policy.delay(10**6, random=1.0))


@settings(max_examples=200, deadline=None)
@given(
    attempt=st.integers(min_value=1, max_value=5000),
    random=st.floats(min_value=0.0, max_value=1.0),
    initial=st.floats(min_value=0.0, max_value=10.0),
    cap=st.floats(min_value=0.0, max_value=60.0),
)
def test_delay_is_within_the_jitter_band(
    attempt: int, random: float, initial: float, cap: float
) -> None:
    policy = ReconnectPolicy(initial_delay=initial, max_delay=cap)
    base = min(initial * 2.0 ** min(attempt - 1, 1000), cap)
    delay = policy.delay(attempt, random=random)
    assert 0.75 * base - 1e-9 <= delay <= base + 1e-9


def test_decide_counts_attempts_up_to_max_retries() -> None:
    policy = ReconnectPolicy(max_retries=2, initial_delay=1.0, max_delay=10.0)
    first = policy.decide(1, close_code=1011, random=1.0)
    assert (first.reconnect, first.attempt, first.delay, first.reason) == (
        True,
        1,
        1.0,
        "close code 1011",
    )
    assert policy.decide(2, close_code=1006, random=1.0).delay == 2.0
    over = policy.decide(3, close_code=1006, random=1.0)
    assert (over.reconnect, over.reason) == (False, "retries exhausted")


@pytest.mark.parametrize("code", [1000, 1008, 1002, 4001])
def test_decide_never_reconnects_after_a_final_code(code: int) -> None:
    decision = ReconnectPolicy().decide(1, close_code=code, random=0.5)
    assert not decision.reconnect
    assert decision.reason == f"close code {code} is final"


def test_zero_retries_never_reconnects() -> None:
    assert not ReconnectPolicy(max_retries=0).decide(1, close_code=1006, random=0).reconnect


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": 1.5},
        {"initial_delay": -0.1},
        {"max_delay": math.inf},
        {"initial_delay": math.nan},
    ],
)
def test_bad_policy_values(kwargs: Any) -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy(**kwargs)


@pytest.mark.parametrize(("attempt", "random"), [(0, 0.5), (1, -0.1), (1, 1.5)])
def test_bad_delay_inputs(attempt: int, random: float) -> None:
    with pytest.raises(ValueError):
        ReconnectPolicy().delay(attempt, random=random)


def test_reconnecting_event_is_frozen_with_the_sdks_fields() -> None:
    event = ReconnectingEvent(
        attempt=1, max_attempts=5, delay=0.5, close_code=1006, extra_query={}, extra_headers={}
    )
    assert (event.attempt, event.max_attempts, event.close_code) == (1, 5, 1006)
    with pytest.raises(AttributeError):
        event.attempt = 2  # type: ignore[misc]


# Overrides ---------------------------------------------------------------------------


def test_overrides() -> None:
    q, h = {"a": "1"}, {"X": "1"}
    assert apply_overrides(None, extra_query=q, extra_headers=h) == (q, h)
    assert apply_overrides({}, extra_query=q, extra_headers=h) == (q, h)
    assert apply_overrides({"extra_query": {"b": "2"}}, extra_query=q, extra_headers=h) == (
        {"b": "2"},
        h,
    )
    assert apply_overrides({"extra_headers": {}}, extra_query=q, extra_headers=h) == (q, {})
    assert apply_overrides({"abort": True}, extra_query=q, extra_headers=h) is None
    assert apply_overrides({"abort": False}, extra_query=q, extra_headers=h) == (q, h)
    with pytest.raises(TypeError):
        apply_overrides(True, extra_query=q, extra_headers=h)


@pytest.mark.parametrize(
    ("message", "progress"),
    [
        ('{"type":"session.created"}', True),
        (b'{"type":"response.done","x":1}', True),
        ('{"type":"error","error":{}}', False),
        ('{"type":""}', False),
        ('{"type":1}', False),
        ("[1,2]", False),
        ("not json", False),
        (b"\xff", False),
    ],
)
def test_progress(message: Any, progress: bool) -> None:
    assert is_progress(message) is progress


# Send queue --------------------------------------------------------------------------


def test_queue_is_fifo_and_counts_utf8_bytes() -> None:
    queue = SendQueue(max_bytes=10)
    queue.put("é")  # 2 bytes
    queue.put(b"\x00\x01\x02")
    queue.put("abcde")
    assert (len(queue), queue.nbytes, bool(queue)) == (3, 10, True)
    with pytest.raises(WebSocketQueueFullError):
        queue.put("x")
    assert len(queue) == 3  # the refused message is not queued
    assert queue.pop() == "é"
    assert queue.nbytes == 8
    queue.put("xy")
    assert queue.drain() == [b"\x00\x01\x02", "abcde", "xy"]
    assert (len(queue), queue.nbytes, bool(queue)) == (0, 0, False)
    with pytest.raises(IndexError):
        queue.pop()


def test_queue_default_size_and_bad_size() -> None:
    assert SendQueue().max_bytes == 1_048_576
    with pytest.raises(ValueError):
        SendQueue(-1)
    SendQueue(0).put("")  # an empty message fits a zero budget
    with pytest.raises(WebSocketQueueFullError):
        SendQueue(0).put("a")


def test_queue_full_error_is_an_openai_error() -> None:
    assert issubclass(WebSocketQueueFullError, OpenAIError)


def test_unsent_frames_and_messages() -> None:
    exc = WebSocketConnectionClosedError(
        "closed", code=1006, unsent_messages=["a", b"b", b"\xff", "c"]
    )
    assert exc.unsent_frames == ["a", b"b", b"\xff", "c"]
    assert exc.unsent_messages == ["a", "b", "c"]  # opaque binary only in unsent_frames
    plain = WebSocketConnectionClosedError("closed", code=1000)
    assert (plain.unsent_frames, plain.unsent_messages) == ([], [])


# Handlers ----------------------------------------------------------------------------


def test_handlers_order_once_off_and_catch_all() -> None:
    handlers = EventHandlers()
    calls: List[str] = []

    def a(_: object) -> None:
        calls.append("a")

    def b(_: object) -> None:
        calls.append("b")

    handlers.add("event", b)
    handlers.add("x", a)
    handlers.add("x", a, once=True)
    handlers.add("x", b)
    assert handlers.has("x") and bool(handlers)
    assert handlers.handlers_for("x", None) == [a, a, b, b]
    assert handlers.handlers_for("x", None) == [a, b, b]  # the once registration is gone
    handlers.remove("x", a)
    assert handlers.handlers_for("x", None) == [b, b]
    handlers.remove("x", a)  # not there: no effect
    handlers.remove("nothing", a)
    assert handlers.handlers_for("y", None) == [b]


def test_unhandled_error_event_raises() -> None:
    handlers = EventHandlers()
    with pytest.raises(OpenAIError, match="WebSocket error: boom"):
        handlers.handlers_for("error", "boom")
    handlers.add("event", print)
    assert handlers.handlers_for("error", "boom") == [print]


def test_merge_moves_registrations() -> None:
    source, target = EventHandlers(), EventHandlers()
    target.add("x", print)
    source.add("x", repr, once=True)
    source.merge_into(target)
    assert not source
    assert target.handlers_for("x", None) == [print, repr]
    assert target.handlers_for("x", None) == [print]


def test_handler_must_be_callable() -> None:
    with pytest.raises(TypeError):
        EventHandlers().add("x", 3)  # type: ignore[arg-type]
