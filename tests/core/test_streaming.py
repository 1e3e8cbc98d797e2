"""The OpenAI stream layer: [DONE], error payloads, Assistants events, split invariance."""

from __future__ import annotations

import json
from typing import Any, List, Sequence, Tuple, Union

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._exceptions import APIError, LocalProtocolError, RemoteProtocolError
from openai_proto._streaming import StreamItem, StreamParser

REQUEST = object()

CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}],
}


def sse(data: Union[bytes, str, Any], event: str = "") -> bytes:
    if not isinstance(data, (bytes, str)):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode()
    head = f"event: {event}\n".encode() if event else b""
    return head + b"".join(b"data: " + line + b"\n" for line in data.split(b"\n")) + b"\n"


Outcome = Tuple[List[StreamItem], object]


def run(pieces: Sequence[bytes]) -> Outcome:
    """Items until the end or the first error, and that error as (class, message, body)."""
    parser = StreamParser(request=REQUEST)
    items: List[StreamItem] = []
    try:
        for piece in pieces:
            items.extend(parser.feed(piece))
        items.extend(parser.end())
    except (APIError, RemoteProtocolError) as exc:
        return items, (type(exc), str(exc), getattr(exc, "body", None))
    return items, None


def item(data: Any, event: str = "message") -> StreamItem:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return StreamItem(event=event, data=raw)


def test_chat_chunks_then_done() -> None:
    parser = StreamParser()
    stream = sse(CHUNK) + sse(CHUNK) + b"data: [DONE]\n\n"
    items = parser.feed(stream)
    assert items == [item(CHUNK), item(CHUNK)]
    assert msgspec.json.decode(items[0].data) == CHUNK
    assert parser.done
    assert parser.end() == []
    assert parser.end() == []


def test_everything_after_done_is_ignored() -> None:
    parser = StreamParser(max_event_size=64)
    assert parser.feed(b"data: [DONE]\n\ndata: {}\n\n") == []
    assert parser.done
    # Not even limit violations or error payloads count after [DONE].
    assert parser.feed(b"x" * 1000 + b"\n\n" + sse({"error": {"message": "late"}})) == []
    assert parser.end() == []
    with pytest.raises(LocalProtocolError):
        parser.feed(b"data: {}\n\n")


def test_done_prefix_and_done_in_other_events() -> None:
    parser = StreamParser()
    assert parser.feed(b'data: {"a": "[DONE]"}\n\n') == [item(b'{"a": "[DONE]"}')]
    assert not parser.done
    assert parser.feed(b"event: custom\ndata: [DONE] trailing\n\n") == []
    assert parser.done


def test_done_split_byte_by_byte() -> None:
    stream = sse(CHUNK) + b"data: [DONE]\r\n\r\n" + sse(CHUNK)
    parser = StreamParser()
    items: List[StreamItem] = []
    for byte in stream:
        items.extend(parser.feed(bytes((byte,))))
    assert items == [item(CHUNK)]
    assert parser.done


def test_empty_data_is_skipped() -> None:
    parser = StreamParser()
    assert parser.feed(b"data\n\ndata:\n\nevent: x\ndata: \n\n: comment\n\nid: 3\n\n") == []
    assert parser.feed(sse(CHUNK)) == [item(CHUNK)]
    assert not parser.done


def test_responses_events_pass_through() -> None:
    delta = {"type": "response.output_text.delta", "delta": "Hi", "sequence_number": 3}
    failed = {"type": "response.failed", "response": {"error": {"message": "nested deeper"}}}
    parser = StreamParser()
    assert parser.feed(
        sse(delta, "response.output_text.delta") + sse(failed, "response.failed")
    ) == [
        item(delta, "response.output_text.delta"),
        item(failed, "response.failed"),
    ]


@pytest.mark.parametrize(
    "event",
    ["thread.created", "thread.run.created", "thread.run.step.delta", "thread.message.delta"],
)
def test_assistants_thread_events_keep_their_name(event: str) -> None:
    payload = {"id": "run_1", "object": "thread.run", "last_error": None, "status": "queued"}
    parser = StreamParser()
    assert parser.feed(sse(payload, event)) == [item(payload, event)]


def test_thread_events_are_not_checked_for_error_keys() -> None:
    # As in the official SDK, thread.* payloads are Assistants objects, never error wrappers.
    payload = {"object": "thread.run", "error": {"message": "x"}, "type": "error"}
    assert StreamParser().feed(sse(payload, "thread.run.failed")) == [
        item(payload, "thread.run.failed")
    ]


# -- errors ----------------------------------------------------------------------------


def test_error_key_chat_shape() -> None:
    error = {"message": "Rate limited", "type": "requests", "code": "rate_limit", "param": None}
    parser = StreamParser(request=REQUEST)
    with pytest.raises(APIError) as info:
        parser.feed(sse({"error": error}))
    exc = info.value
    assert exc.message == str(exc) == "Rate limited"
    assert exc.body == error
    assert (exc.code, exc.type, exc.param) == ("rate_limit", "requests", None)
    assert exc.request is REQUEST
    assert parser.done
    # terminal: every later call raises the same error
    with pytest.raises(APIError) as again:
        parser.feed(b"")
    assert again.value is exc
    with pytest.raises(APIError):
        parser.end()


def test_event_named_error_assistants_shape() -> None:
    body = {
        "code": "server_error",
        "message": "Sorry, something went wrong.",
        "param": None,
        "type": None,
    }
    with pytest.raises(APIError) as info:
        StreamParser(request=REQUEST).feed(sse(body, "error"))
    exc = info.value
    assert exc.message == "Sorry, something went wrong."
    assert exc.body == body
    assert (exc.code, exc.type) == ("server_error", None)
    assert exc.request is REQUEST


def test_event_named_error_with_nested_error() -> None:
    error = {"message": "boom", "type": "server_error", "code": None}
    with pytest.raises(APIError) as info:
        StreamParser().feed(sse({"error": error}, "error"))
    assert info.value.body == error
    assert info.value.message == "boom"
    assert info.value.type == "server_error"


def test_event_named_error_not_json() -> None:
    with pytest.raises(APIError) as info:
        StreamParser().feed(b"event: error\ndata: upstream exploded\n\n")
    assert info.value.message == "An error occurred during streaming"
    assert info.value.body == "upstream exploded"


def test_responses_error_flat_shape() -> None:
    payload = {
        "type": "error",
        "code": "ERR_SOMETHING",
        "message": "Something went wrong",
        "param": None,
        "sequence_number": 1,
    }
    with pytest.raises(APIError) as info:
        StreamParser().feed(sse(payload, "error"))
    exc = info.value
    assert exc.message == "Something went wrong"
    assert exc.body == payload
    assert (exc.code, exc.type) == ("ERR_SOMETHING", "error")
    # The same payload under the default event name (no `event:` line) raises too.
    with pytest.raises(APIError) as info2:
        StreamParser().feed(sse(payload))
    assert info2.value.body == payload
    assert info2.value.message == "Something went wrong"


def test_responses_error_nested_shape() -> None:
    error = {"type": "invalid_request_error", "code": "bad", "message": "Nested", "param": "input"}
    payload = {"type": "error", "error": error, "sequence_number": 2}
    with pytest.raises(APIError) as info:
        StreamParser().feed(sse(payload))
    exc = info.value
    assert exc.message == "Nested"
    assert exc.body == error
    assert (exc.code, exc.type, exc.param) == ("bad", "invalid_request_error", "input")


@pytest.mark.parametrize(
    ("payload", "message", "body"),
    [
        ({"error": {"code": "x"}}, "An error occurred during streaming", {"code": "x"}),
        ({"error": {"message": ""}, "message": "top"}, "top", {"message": ""}),
        ({"error": {"message": 42}}, "An error occurred during streaming", {"message": 42}),
        ({"error": "plain words"}, "plain words", "plain words"),
        ({"error": True}, "An error occurred during streaming", True),
        ({"type": "error"}, "An error occurred during streaming", {"type": "error"}),
    ],
)
def test_error_message_fallbacks(payload: Any, message: str, body: Any) -> None:
    with pytest.raises(APIError) as info:
        StreamParser().feed(sse(payload))
    assert info.value.message == message
    assert info.value.body == body


def test_error_after_leading_whitespace() -> None:
    with pytest.raises(APIError) as info:
        StreamParser().feed(b'data:  \t{"error": {"message": "ws"}}\n\n')
    assert info.value.message == "ws"


@pytest.mark.parametrize(
    "data",
    [
        b'{"error": null, "x": 1}',
        b'{"error": {}, "x": 1}',
        b'{"error": false}',
        b'{"error": ""}',
        b'{"choices": [{"delta": {"content": "error"}}]}',
        b'{"message": "error", "type": "response.output_text.delta"}',
        b'["error", {"error": {"message": "in an array"}}]',
        b'"error"',
        b'{"error": {"message": "truncated',
        b'{"error" oops}',
        b'not json at all but contains "error"',
        b'{"choices": [{"delta": {"content": "say \\"error\\""}}]}',
    ],
)
def test_non_errors_pass_through(data: bytes) -> None:
    parser = StreamParser()
    assert parser.feed(b"data: " + data + b"\n\n") == [item(data)]
    assert not parser.done


def test_deeply_nested_payloads_do_not_escape() -> None:
    # msgspec raises RecursionError (not DecodeError) past its nesting limit.
    deep = b'{"error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert StreamParser().feed(b"data: " + deep + b"\n\n") == [item(deep)]
    with pytest.raises(APIError) as info:
        StreamParser().feed(b"event: error\ndata: " + deep + b"\n\n")
    assert info.value.message == "An error occurred during streaming"
    assert info.value.body == deep.decode()


def test_items_before_an_error_are_delivered_first() -> None:
    parser = StreamParser(request=REQUEST)
    stream = sse(CHUNK) + sse(CHUNK) + sse({"error": {"message": "late"}}) + sse(CHUNK)
    assert parser.feed(stream) == [item(CHUNK), item(CHUNK)]
    assert parser.done  # an error is pending: the next call raises it
    with pytest.raises(APIError, match="late"):
        parser.end()
    with pytest.raises(APIError, match="late"):
        parser.feed(b"")


def test_invalid_utf8_becomes_replacement_character() -> None:
    [got] = StreamParser().feed(b'data: {"a": "\xff\xe2\x82"}\n\n')
    assert got.data == '{"a": "\ufffd\ufffd"}'.encode()
    assert msgspec.json.decode(got.data) == {"a": "\ufffd\ufffd"}
    [ok] = StreamParser().feed('data: {"a": "h\u00e9 \u20ac"}\n\n'.encode())
    assert msgspec.json.decode(ok.data) == {"a": "h\u00e9 \u20ac"}


def test_multiline_data_is_joined() -> None:
    [got] = StreamParser().feed(b'data: {"a":\ndata: 1}\n\n')
    assert got.data == b'{"a":\n1}'
    assert msgspec.json.decode(got.data) == {"a": 1}


def test_limit_raises_remote_protocol_error() -> None:
    parser = StreamParser(max_event_size=32)
    with pytest.raises(RemoteProtocolError):
        parser.feed(b"data: " + b"x" * 40)
    with pytest.raises(RemoteProtocolError):
        parser.feed(b"\n\n")


def test_items_before_a_broken_limit_are_delivered_first() -> None:
    parser = StreamParser(max_event_size=64)
    assert parser.feed(b'data: {"a": 1}\n\n' + b"x" * 100 + b"\n\ndata: {}\n\n") == [
        item(b'{"a": 1}')
    ]
    assert parser.done  # nothing more to read: end() raises the pending error
    with pytest.raises(RemoteProtocolError, match="line exceeds max_event_size"):
        parser.end()
    with pytest.raises(RemoteProtocolError):
        parser.feed(b"")


def test_done_then_broken_limit_in_the_same_feed() -> None:
    parser = StreamParser(max_event_size=64)
    assert parser.feed(b'data: {"a": 1}\n\ndata: [DONE]\n\n' + b"x" * 100 + b"\n") == [
        item(b'{"a": 1}')
    ]
    assert parser.done
    assert parser.end() == []  # the bytes after [DONE] do not count


def test_feed_after_end() -> None:
    parser = StreamParser()
    assert parser.feed(sse(CHUNK)[:-1]) == []
    assert parser.end() == []  # the unterminated event is dropped
    assert parser.end() == []
    with pytest.raises(LocalProtocolError):
        parser.feed(b"\n")


# -- split invariance --------------------------------------------------------------------

STREAMS = [
    sse(CHUNK) + sse(CHUNK) + b"data: [DONE]\n\n" + sse(CHUNK),
    b"\xef\xbb\xbf"
    + sse({"type": "response.created"}, "response.created")
    + b": keep-alive\r\n\r\n"
    + sse({"type": "error", "message": "m"}, "error")
    + sse(CHUNK),
    sse(CHUNK) + sse({"error": {"message": "x", "code": "c"}}) + sse(CHUNK),
    sse({"id": "run"}, "thread.run.created").replace(b"\n", b"\r\n")
    + sse("not json")
    + b"data\n\n"
    + sse({"id": "msg"}, "thread.message.delta").replace(b"\n", b"\r"),
    sse(CHUNK) + b"data: " + b"y" * 100,
]


@pytest.mark.parametrize("stream", STREAMS)
def test_split_invariance_everywhere(stream: bytes) -> None:
    whole = run([stream])
    assert run([bytes((b,)) for b in stream]) == whole
    for i in range(len(stream) + 1):
        assert run([stream[:i], stream[i:]]) == whole, f"split at {i}"


@settings(max_examples=150, deadline=None)
@given(
    streams=st.lists(st.sampled_from(STREAMS), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
)
def test_split_invariance_random(streams: List[bytes], cuts: List[int]) -> None:
    stream = b"".join(streams)
    bounds = [0, *sorted({c % (len(stream) + 1) for c in cuts}), len(stream)]
    pieces = [stream[a:b] for a, b in zip(bounds, bounds[1:])]
    assert run(pieces) == run([stream])
