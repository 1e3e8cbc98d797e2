"""Fuzz the typed event decoders: stream bytes, Realtime messages and webhook bodies in,
typed events out.

Four paths, each through the pure core only:

- **streams**: body bytes → :class:`StreamParser` → (``event_envelope`` for ``thread.*``)
  → ``decoder_for(stream_type).decode``, for every ``stream_type`` of the catalogue, as
  ``backends/_stream.py`` does it. The parser raises ``APIError`` or
  ``RemoteProtocolError``; a payload that does not fit raises ``msgspec.DecodeError`` (a
  ``ValidationError`` is one) or ``RecursionError``, which the stream maps to
  ``APIResponseValidationError``. Nothing else may come out;
- **Realtime**: server frames → :class:`RealtimeConnection` → ``decode_server_event``
  with and without the generated ``RealtimeServerEvent`` union: a typed variant or a
  generic ``RealtimeEvent``, or ``RemoteProtocolError``;
- **webhooks**: a signed body → ``webhooks.unwrap`` (a generic ``WebhookEvent`` or
  ``ValueError``), then the generated class for its ``type`` with the types' ``dec_hook``
  (as ``client.webhooks.unwrap`` does), falling back to the generic event;
- **accumulators**: typed chunks and Responses events → ``ChatCompletionStreamState`` /
  ``ResponseStreamState``: helper events, or ``RemoteProtocolError``, the finish-reason
  errors, or ``APIResponseValidationError`` (content that does not fit the format).

Properties: only those exceptions; the typed results, and the error, do not depend on how
the bytes are split; unknown fields and unknown ``type`` values decode (generic fallback);
an event over the size limit raises ``RemoteProtocolError`` after the events before it.

Under pytest this runs as a hypothesis test. With atheris installed it is also a
coverage-guided harness::

    python tests/fuzz/test_fuzz_typed_events.py -atheris_runs=100000
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto.utilities import generate_accept_token

from openai_proto import _catalogue
from openai_proto._catalogue import OPERATIONS
from openai_proto._exceptions import (
    APIError,
    APIResponseValidationError,
    ContentFilterFinishReasonError,
    InvalidWebhookSignatureError,
    LengthFinishReasonError,
    RemoteProtocolError,
)
from openai_proto._http11 import NEED_DATA
from openai_proto._operation import resolve_type
from openai_proto._streaming import StreamParser, event_envelope
from openai_proto._structured import (
    ChatCompletionStreamState,
    ResponseStreamState,
    function_tool,
)
from openai_proto.realtime import (
    Closed,
    Message,
    Opened,
    RealtimeConnection,
    RealtimeEvent,
    decode_server_event,
)
from openai_proto.types import UnionType, UnknownObject, dec_hook, decoder_for
from openai_proto.types import webhooks as webhook_types
from openai_proto.types.realtime import RealtimeServerEvent
from openai_proto.webhooks import WebhookEvent, unwrap

#: Every stream event type of the catalogue, by its ``"module:Name"`` reference.
STREAM_TYPES: Dict[str, Any] = {
    ref: resolve_type(ref)
    for ref in sorted({op.stream_type for op in OPERATIONS.values() if op.stream_type})
}
REFS = list(STREAM_TYPES)
CHAT = "openai_proto.types.chat:ChatCompletionChunk"
RESPONSES = "openai_proto.types.responses:ResponseStreamEvent"
ASSISTANTS = "openai_proto.types.beta:AssistantStreamEvent"
COMPLETIONS = "openai_proto.types.completions:Completion"

# (names and builtins of the typed results, how it ended: "" | "api:..." | "remote" | "invalid")
Outcome = Tuple[List[Tuple[str, Any]], str]


def norm(obj: Any) -> Tuple[str, Any]:
    return type(obj).__name__, msgspec.to_builtins(obj)


def pieces_of(data: bytes, cuts: Sequence[int]) -> List[bytes]:
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def bytewise(data: bytes) -> List[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# -- streams --------------------------------------------------------------------------------


def sse(*payloads: bytes, event: Optional[str] = None) -> bytes:
    head = b"" if event is None else b"event: " + event.encode() + b"\n"
    return b"".join(head + b"data: " + p + b"\n\n" for p in payloads)


_RESPONSE = (
    b'{"id":"r","object":"response","created_at":1,"model":"m","output":[],"tools":[],'
    b'"tool_choice":"auto","metadata":{},"temperature":1,"top_p":1,"error":null,'
    b'"incomplete_details":null,"instructions":null,"parallel_tool_calls":true,'
    b'"status":"in_progress"}'
)
_CHUNK = b'{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":%s}'
_MESSAGE_ITEM = b'{"type":"message","id":"i","role":"assistant","content":[],"status":"x"}'
_TEXT_PART = b'{"type":"output_text","text":"","annotations":[]}'

STREAM_SEEDS: List[Tuple[str, bytes]] = [
    (
        CHAT,
        sse(
            _CHUNK
            % b'[{"index":0,"delta":{"role":"assistant","content":"He"},"finish_reason":null}]',
            _CHUNK % b'[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function",'
            b'"function":{"name":"f","arguments":"{\\"a\\""}}]},"finish_reason":null,'
            b'"logprobs":{"content":[{"token":"a","logprob":-0.5,"bytes":[97],'
            b'"top_logprobs":[]}],"refusal":null}}]',
            _CHUNK % b'[{"index":0,"delta":{},"finish_reason":"stop"}]',
            b"[DONE]",
        ),
    ),
    (
        RESPONSES,
        sse(
            b'{"type":"response.created","sequence_number":0,"response":' + _RESPONSE + b"}",
            b'{"type":"response.output_item.added","sequence_number":1,"output_index":0,'
            b'"item":' + _MESSAGE_ITEM + b"}",
            b'{"type":"response.content_part.added","sequence_number":2,"item_id":"i",'
            b'"output_index":0,"content_index":0,"part":' + _TEXT_PART + b"}",
            b'{"type":"response.output_text.delta","sequence_number":3,"item_id":"i",'
            b'"output_index":0,"content_index":0,"delta":"hi","logprobs":[]}',
            b'{"type":"response.completed","sequence_number":4,"response":' + _RESPONSE + b"}",
        ),
    ),
    (
        ASSISTANTS,
        sse(
            b'{"id":"t","object":"thread","created_at":1,"metadata":{},"tool_resources":null}',
            event="thread.created",
        )
        + sse(
            b'{"id":"m","object":"thread.message.delta","delta":{"role":"assistant",'
            b'"content":[{"index":0,"type":"text","text":{"value":"hi","annotations":[]}}]}}',
            event="thread.message.delta",
        )
        + sse(b"[DONE]", event="done"),
    ),
    (
        COMPLETIONS,
        sse(
            b'{"id":"c","object":"text_completion","created":1,"model":"m","usage":null,'
            b'"choices":[{"index":0,"text":"h","finish_reason":null,"logprobs":null}]}',
            b'{"id":"c","object":"text_completion","created":1,"model":"m",'
            b'"choices":[{"index":0,"text":"i","finish_reason":"stop","logprobs":null}]}',
            b"[DONE]",
        ),
    ),
]


def typed_stream(pieces: Sequence[bytes], tp: Any, limit: Optional[int]) -> Tuple[List[Any], str]:
    """The typed events of a body fed in ``pieces``, and how the stream ended."""
    parser = StreamParser() if limit is None else StreamParser(max_event_size=limit)
    decode = decoder_for(tp).decode
    out: List[Any] = []
    try:
        for piece in [*pieces, None]:
            for item in parser.end() if piece is None else parser.feed(piece):
                data = event_envelope(item) if item.event.startswith("thread.") else item.data
                try:
                    obj = decode(data)
                except (msgspec.DecodeError, RecursionError):  # -> APIResponseValidationError
                    return out, "invalid"
                assert isinstance(obj, tp) and is_named_variant(tp, obj), (tp, obj)
                out.append(obj)
    except APIError as exc:
        return out, f"api:{exc.message}:{exc.body!r}"
    except RemoteProtocolError:
        return out, "remote"
    return out, ""


def is_named_variant(tp: Any, obj: object) -> bool:
    """Whether a union gave the class it names for the object's tag (or, for an unknown
    tag, the generic fallback): never another variant that happens to fit."""
    disc = getattr(tp, "__discriminator__", None)
    if disc is None or isinstance(obj, UnknownObject):
        return True
    tag = getattr(obj, disc)
    allowed: List[Any] = []
    for tags, ref in tp.__variants__:
        if tag in tags:
            target = resolve_type(ref)
            is_union = isinstance(target, type) and issubclass(target, UnionType)
            allowed += target._classes() if is_union else [target]
    return type(obj) in allowed


def stream_outcome(pieces: Sequence[bytes], tp: Any, limit: Optional[int]) -> Outcome:
    objs, end = typed_stream(pieces, tp, limit)
    return [norm(o) for o in objs], end


def check_stream(data: bytes, cuts: Sequence[int], ref: str, limit: Optional[int]) -> None:
    """Property 1 and 2 for one body: only documented errors; the same typed events and
    the same end whatever the split; under a limit, a prefix of the unlimited run."""
    tp = STREAM_TYPES[ref]
    whole = stream_outcome([data], tp, limit)
    assert stream_outcome(pieces_of(data, cuts), tp, limit) == whole
    assert stream_outcome(bytewise(data), tp, limit) == whole
    if limit is not None:
        reference = stream_outcome([data], tp, None)
        if whole[1] == "remote":
            assert whole[0] == reference[0][: len(whole[0])]
        else:
            assert whole == reference


# -- Realtime -------------------------------------------------------------------------------


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    if n < 65536:
        return bytes([first, 126]) + struct.pack("!H", n) + payload
    return bytes([first, 127]) + struct.pack("!Q", n) + payload


REALTIME_SEEDS: List[bytes] = [
    b'{"type":"input_audio_buffer.speech_started","event_id":"e","audio_start_ms":5,"item_id":"i"}',
    b'{"type":"error","event_id":"e","error":{"type":"invalid_request_error","message":"m",'
    b'"code":null,"param":null,"event_id":null}}',
    b'{"type":"response.output_text.delta","event_id":"e","response_id":"r","item_id":"i",'
    b'"output_index":0,"content_index":0,"delta":"hi"}',
    b'{"type":"rate_limits.updated","event_id":"e","rate_limits":[{"name":"requests",'
    b'"limit":10,"remaining":9,"reset_seconds":1.5}]}',
]

_KEY = re.compile(rb"\r\nSec-WebSocket-Key: ([^\r]+)\r\n", re.IGNORECASE)


def open_client(limit: int) -> RealtimeConnection:
    """A client machine past a valid ``101`` answer."""
    client = RealtimeConnection(
        host="api.example.test", target="/v1/realtime", headers=[], max_message_size=limit
    )
    match = _KEY.search(client.initiate())
    assert match is not None
    client.receive_data(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + generate_accept_token(match.group(1)) + b"\r\n\r\n"
    )
    assert isinstance(client.next_event(), Opened)
    return client


def check_realtime_event(obj: object, union: Any) -> None:
    if isinstance(obj, RealtimeEvent):
        assert isinstance(obj.type, str) and obj.raw["type"] == obj.type
    else:  # only a variant the union names for this "type", never a look-alike
        assert union is not None and isinstance(obj, union), obj
        assert not isinstance(obj, (dict, UnknownObject))


def realtime_outcome(pieces: Sequence[bytes], union: Any, limit: int = 4096) -> Outcome:
    """Typed server events of the frames fed in ``pieces`` (then end of stream)."""
    client = open_client(limit)
    out: List[Tuple[str, Any]] = []
    try:
        for piece in [*pieces, b""]:
            client.receive_data(piece)
            for _ in range(10_000):
                event = client.next_event()
                if event is NEED_DATA or isinstance(event, Closed):
                    break
                if isinstance(event, Message):
                    obj = decode_realtime(event.data, union)
                    check_realtime_event(obj, union)
                    out.append(norm(obj))
            else:
                raise AssertionError("unbounded events")
            if isinstance(event, Closed):
                break
    except RemoteProtocolError:
        return out, "remote"
    return out, ""


def decode_realtime(text: str, union: Any) -> object:
    return decode_server_event(text, union=union)


def check_realtime(texts: Sequence[bytes], cuts: Sequence[int], union: Any) -> None:
    data = b"".join(frame(0x1, t) for t in texts) + frame(0x8, struct.pack("!H", 1000))
    whole = realtime_outcome([data], union)
    assert realtime_outcome(pieces_of(data, cuts), union) == whole
    assert realtime_outcome(bytewise(data), union) == whole


# -- webhooks -------------------------------------------------------------------------------

_KEY_BYTES = b"fuzz-webhook-key-0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(_KEY_BYTES).decode()
NOW = 1_700_000_000


def signed(body: bytes) -> Dict[str, str]:
    mac = hmac.new(_KEY_BYTES, b"msg_1.%d." % NOW + body, hashlib.sha256).digest()
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


def _webhook_events() -> Dict[str, str]:
    """Event type -> ``"module:Name"`` of its generated class (the catalogue's table; the
    naming rule ``batch.cancelled`` -> ``WebhookBatchCancelled`` where it has none)."""
    table: Optional[Dict[str, str]] = getattr(_catalogue, "WEBHOOK_EVENTS", None)
    if table is not None:
        return table
    out: Dict[str, str] = {}
    for name in dir(webhook_types):
        cls = getattr(webhook_types, name)
        if (
            name.startswith("Webhook")
            and isinstance(cls, type)
            and "data" in getattr(cls, "__struct_fields__", ())
        ):
            out[name] = f"{webhook_types.__name__}:{name}"
    return {
        t: ref
        for t, ref in (
            (re.sub(r"(?<!^)([A-Z])", r".\1", n[len("Webhook") :]).lower(), r)
            for n, r in out.items()
        )
    }


WEBHOOK_EVENTS = _webhook_events()


WEBHOOK_SEEDS: List[bytes] = [
    b'{"id":"evt_1","type":"batch.completed","created_at":1,"object":"event","data":{"id":"b"}}',
    b'{"id":"evt_2","type":"response.completed","created_at":2,"data":{"id":"resp_1"}}',
    b'{"id":"evt_3","type":"eval.run.failed","created_at":3,"data":{"id":"run_1"}}',
    b'{"id":"evt_4","type":"something.new","created_at":4,"data":{"k":[1,2.5,null]}}',
]


def typed_webhook(event: WebhookEvent) -> object:
    """The generated class for the event's type, else the generic event (what
    ``client.webhooks.unwrap`` returns), built from core pieces only."""
    ref = WEBHOOK_EVENTS.get(event.type)
    if ref is None:
        return event
    try:
        return msgspec.convert(event.raw, resolve_type(ref), dec_hook=dec_hook)
    except msgspec.ValidationError:
        return event


def webhook_outcome(payload: Any, headers: Dict[str, str]) -> Tuple[str, Any]:
    try:
        event = unwrap(payload, headers, secret=SECRET, now=NOW)
    except InvalidWebhookSignatureError as exc:
        raise AssertionError(f"a correctly signed body was refused: {exc}") from exc
    except ValueError as exc:
        return "ValueError", str(exc).partition(":")[0]
    assert isinstance(event, WebhookEvent)
    assert event.raw["type"] == event.type and event.raw["data"] == event.data
    return norm(typed_webhook(event))


def check_webhook(body: bytes) -> None:
    """A signed body: a typed or generic event, or ValueError; str and bytes agree."""
    outcome = webhook_outcome(body, signed(body))
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return
    assert webhook_outcome(text, signed(body)) == outcome


# -- accumulators ---------------------------------------------------------------------------


class Answer(msgspec.Struct):
    a: int


_FORMATS: List[Tuple[Any, Any]] = [
    (None, None),
    (Answer, [function_tool(Answer, name="f")]),
]
_ACCUMULATOR_ERRORS = (
    RemoteProtocolError,
    LengthFinishReasonError,
    ContentFilterFinishReasonError,
    APIResponseValidationError,
)


def chat_outcome(pieces: Sequence[bytes], which: int) -> Tuple[List[str], str, Any]:
    """Helper events of the chunks of a body, how it ended, and the final completion."""
    chunks, end = typed_stream(pieces, STREAM_TYPES[CHAT], None)
    fmt, tools = _FORMATS[which]
    state = ChatCompletionStreamState(response_format=fmt, input_tools=tools)
    names: List[str] = []
    try:
        for chunk in chunks:
            names += [type(e).__name__ for e in state.handle_chunk(chunk)]
        final = norm(state.get_final_completion()) if chunks else None
    except _ACCUMULATOR_ERRORS as exc:
        return names, f"{end}/{type(exc).__name__}", None
    return names, end, final


def responses_outcome(pieces: Sequence[bytes], which: int) -> Tuple[List[Any], str, Any]:
    events, end = typed_stream(pieces, STREAM_TYPES[RESPONSES], None)
    fmt, tools = _FORMATS[which]
    state = ResponseStreamState(text_format=fmt, input_tools=tools)
    out: List[Any] = []
    try:
        for event in events:
            out += [norm(e) for e in state.handle_event(event)]
    except _ACCUMULATOR_ERRORS as exc:
        return out, f"{end}/{type(exc).__name__}", None
    completed = state.completed_response
    return out, end, None if completed is None else norm(completed)


def check_accumulators(data: bytes, cuts: Sequence[int], which: int) -> None:
    for run in (chat_outcome, responses_outcome):
        whole = run([data], which)
        assert run(pieces_of(data, cuts), which) == whole


# -- strategies -----------------------------------------------------------------------------

_INSERTS = [
    b"\x00",
    b"\xff",
    b"\xe2\x82",
    b"\n\n",
    b"\r\n",
    b"data: ",
    b"event: error\n",
    b"event: thread.run.created\n",
    b"[DONE]",
    b'"error"',
    b'"type":"error",',
    b'"type":"response.future",',
    b'"x_new":{"a":[1,{}]},',
    b"null",
    b"{}",
    b"[]",
    b"-1",
    b"1e999",
    b"\\ud800",
    b'"\\u0000"',
    b"[" * 40,
    b"[" * 1100,  # past msgspec's nesting limit: RecursionError
]


@st.composite
def mutated(draw: st.DrawFn, seeds: List[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(_INSERTS))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
        else:
            del data[at:]
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
cuts_st = st.lists(st.integers(0, 4000), max_size=16)
_settings = settings(max_examples=120, deadline=None)


@st.composite
def chat_chunks(draw: st.DrawFn) -> bytes:
    """Chunks that decode but push the accumulator: odd indices, repeated tool calls,
    unknown finish reasons and roles, content that is and is not the format's JSON."""
    texts = st.sampled_from(['{"a":', "1}", '{"a":1}', "x", "", "\u00e9"])
    chunks = []
    for _ in range(draw(st.integers(1, 5))):
        choices = []
        for _ in range(draw(st.integers(0, 2))):
            delta: Dict[str, Any] = {}
            if draw(st.booleans()):
                delta["role"] = draw(st.sampled_from(["assistant", "robot"]))
            if draw(st.booleans()):
                delta["content"] = draw(st.none() | texts)
            if draw(st.integers(0, 3)) == 0:
                delta["refusal"] = draw(st.none() | texts)
            if draw(st.booleans()):
                calls = []
                for _ in range(draw(st.integers(0, 2))):
                    call: Dict[str, Any] = {"index": draw(st.integers(-1, 2))}
                    if draw(st.booleans()):
                        call["id"] = "t"
                    if draw(st.booleans()):
                        call["function"] = {"name": draw(st.sampled_from(["f", "g"]))}
                        call["function"]["arguments"] = draw(texts)
                    calls.append(call)
                delta["tool_calls"] = calls
            choice: Dict[str, Any] = {
                "index": draw(st.integers(-1, 2) | st.just(5000)),
                "delta": delta,
                "finish_reason": draw(
                    st.sampled_from(
                        [None, None, "stop", "tool_calls", "length", "content_filter", "new"]
                    )
                ),
            }
            if draw(st.integers(0, 3)) == 0:
                lp = {"token": "a", "logprob": -1.0, "bytes": None, "top_logprobs": []}
                choice["logprobs"] = draw(
                    st.sampled_from(
                        [
                            None,
                            {"content": [lp], "refusal": None},
                            {"content": None, "refusal": [lp]},
                        ]
                    )
                )
            choices.append(choice)
        chunks.append(_CHUNK % msgspec.json.encode(choices))
    if draw(st.booleans()):
        chunks.append(b"[DONE]")
    return sse(*chunks)


@st.composite
def response_events(draw: st.DrawFn) -> bytes:
    """Responses events in any order with any indices: items and parts that exist or not,
    kinds the accumulator does not know, and a ``response.completed`` with output."""
    index = st.integers(-1, 2)
    items = st.sampled_from(
        [
            _MESSAGE_ITEM,
            b'{"type":"function_call","call_id":"c","name":"f","arguments":""}',
            b'{"type":"item.future","content":[{"type":"output_text"}]}',
        ]
    )
    parts = st.sampled_from(
        [_TEXT_PART, b'{"type":"refusal","refusal":"no"}', b'{"type":"part.future"}']
    )
    text = st.sampled_from([b'"{\\"a\\":1}"', b'"{\\"a\\":"', b'"hi"', b'""'])
    events = []
    for n in range(draw(st.integers(1, 8))):
        kind = draw(st.integers(0, 7))
        head = b'"sequence_number":%d,"item_id":"i","output_index":%d,"content_index":%d' % (
            n,
            draw(index),
            draw(index),
        )
        if kind == 0:
            event = b'{"type":"response.created","sequence_number":%d,"response":%s}' % (
                n,
                _RESPONSE,
            )
        elif kind == 1:
            event = b'{"type":"response.output_item.added",%s,"item":%s}' % (head, draw(items))
        elif kind == 2:
            event = b'{"type":"response.content_part.added",%s,"part":%s}' % (head, draw(parts))
        elif kind == 3:
            event = b'{"type":"response.output_text.delta",%s,"delta":%s,"logprobs":[]}' % (
                head,
                draw(text),
            )
        elif kind == 4:
            event = b'{"type":"response.output_text.done",%s,"text":%s,"logprobs":[]}' % (
                head,
                draw(text),
            )
        elif kind == 5:
            event = b'{"type":"response.function_call_arguments.delta",%s,"delta":%s}' % (
                head,
                draw(text),
            )
        elif kind == 6:
            output = b"[%s]" % b",".join(
                b'{"type":"message","id":"i","role":"assistant","status":"x","content":[%s]}'
                % (b'{"type":"output_text","annotations":[],"text":%s}' % draw(text))
                for _ in range(draw(st.integers(0, 2)))
            )
            response = _RESPONSE.replace(b'"output":[]', b'"output":' + output)
            event = b'{"type":"response.completed","sequence_number":%d,"response":%s}' % (
                n,
                response,
            )
        else:
            event = b'{"type":"response.future.event","sequence_number":%d,"x":[1]}' % n
        events.append(event)
    return sse(*events)


# -- 1 and 2: only documented errors, split invariance --------------------------------------


@pytest.mark.parametrize(("ref", "body"), STREAM_SEEDS, ids=lambda v: str(v)[-20:])
def test_stream_seeds_are_valid(ref: str, body: bytes) -> None:
    objs, end = typed_stream([body], STREAM_TYPES[ref], None)
    assert end == "" and objs
    assert not any(isinstance(o, UnknownObject) for o in objs)
    check_stream(body, [7, 100], ref, None)


@_settings
@given(
    st.binary(max_size=400) | st.lists(st.sampled_from(_INSERTS), max_size=30).map(b"".join),
    st.sampled_from(REFS),
    cuts_st,
)
def test_fuzz_stream_arbitrary_bytes(data: bytes, ref: str, cuts: List[int]) -> None:
    check_stream(data, cuts, ref, None)


@_settings
@given(
    st.sampled_from(range(len(STREAM_SEEDS))).flatmap(
        lambda i: st.tuples(
            mutated([STREAM_SEEDS[i][1]]), st.just(STREAM_SEEDS[i][0]) | st.sampled_from(REFS)
        )
    ),
    cuts_st,
    st.none() | st.integers(8, 400),
)
def test_fuzz_stream_mutated_seeds(
    seed: Tuple[bytes, str], cuts: List[int], limit: Optional[int]
) -> None:
    check_stream(seed[0], cuts, seed[1], limit)


@pytest.mark.parametrize("text", REALTIME_SEEDS)
def test_realtime_seeds_are_typed(text: bytes) -> None:
    events, end = realtime_outcome([frame(0x1, text)], RealtimeServerEvent)
    assert end == "" and len(events) == 1 and events[0][0].startswith("RealtimeServerEvent")
    events, end = realtime_outcome([frame(0x1, text)], None)
    assert end == "" and events[0][0] == "RealtimeEvent"


@_settings
@given(
    st.lists(mutated(REALTIME_SEEDS) | st.binary(max_size=60), min_size=1, max_size=4),
    cuts_st,
    st.sampled_from([None, RealtimeServerEvent]),
)
def test_fuzz_realtime_events(texts: List[bytes], cuts: List[int], union: Any) -> None:
    check_realtime(texts, cuts, union)


@pytest.mark.parametrize("body", WEBHOOK_SEEDS)
def test_webhook_seeds_decode(body: bytes) -> None:
    name, _ = webhook_outcome(body, signed(body))
    expected = "WebhookEvent" if b"something.new" in body else "Webhook"
    assert name.startswith(expected) and (name == "WebhookEvent") == (expected == "WebhookEvent")


@_settings
@given(mutated(WEBHOOK_SEEDS) | st.binary(max_size=200))
def test_fuzz_webhooks(body: bytes) -> None:
    check_webhook(body)


@_settings
@given(chat_chunks() | response_events(), cuts_st, st.sampled_from(range(len(_FORMATS))))
def test_fuzz_accumulators(body: bytes, cuts: List[int], which: int) -> None:
    check_accumulators(body, cuts, which)


# -- 3: forward compatibility ---------------------------------------------------------------


def _with_extras(value: Any, extras: Dict[str, Any], top: bool = True) -> Any:
    """``value`` with ``extras`` added at the top and, with string values (an object may
    be a ``Dict[str, str]`` map), to every JSON object inside."""
    if isinstance(value, dict):
        added = extras if top else {k: "s" for k in extras}
        return {**{k: _with_extras(v, extras, False) for k, v in value.items()}, **added}
    if isinstance(value, list):
        return [_with_extras(v, extras, False) for v in value]
    return value


def _without_extras(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_extras(v) for k, v in value.items() if not k.startswith("x_")}
    if isinstance(value, list):
        return [_without_extras(v) for v in value]
    return value


_extras = st.dictionaries(
    st.text(max_size=6).map(lambda s: "x_" + s), json_values, min_size=1, max_size=3
)
_payloads = [
    (ref, item.data)
    for ref, body in STREAM_SEEDS
    for item in StreamParser().feed(body)
    if not item.event.startswith("thread.")
]


@_settings
@given(st.sampled_from(_payloads), _extras)
def test_stream_events_with_unknown_fields_decode(
    payload: Tuple[str, bytes], extras: Dict[str, Any]
) -> None:
    ref, data = payload
    decode = decoder_for(STREAM_TYPES[ref]).decode
    plain = norm(decode(data))
    richer = norm(decode(msgspec.json.encode(_with_extras(msgspec.json.decode(data), extras))))
    assert richer[0] == plain[0] and _without_extras(richer[1]) == plain[1]


@_settings
@given(
    st.text(min_size=1, max_size=20).map(lambda s: "future." + s),
    json_values,
    st.sampled_from([RESPONSES, ASSISTANTS]),
)
def test_unknown_stream_event_types_fall_back(kind: str, value: Any, ref: str) -> None:
    tag = "type" if ref == RESPONSES else "event"
    data = msgspec.json.encode({tag: kind, "sequence_number": 1, "data": {"v": value}})
    objs, end = typed_stream([sse(data)], STREAM_TYPES[ref], None)
    assert end == "" and len(objs) == 1
    assert isinstance(objs[0], UnknownObject) and objs[0][tag] == kind


@_settings
@given(st.sampled_from(REALTIME_SEEDS), _extras, st.text(max_size=12))
def test_realtime_unknown_fields_and_types(text: bytes, extras: Dict[str, Any], kind: str) -> None:
    raw = msgspec.json.decode(text)
    typed = decode_realtime(text.decode(), RealtimeServerEvent)
    richer = decode_realtime(
        msgspec.json.encode(_with_extras(raw, extras)).decode(), RealtimeServerEvent
    )
    assert type(richer) is type(typed) and _without_extras(
        msgspec.to_builtins(richer)
    ) == msgspec.to_builtins(typed)
    unknown = {**raw, "type": "future." + kind}
    event = decode_realtime(msgspec.json.encode(unknown).decode(), RealtimeServerEvent)
    assert isinstance(event, RealtimeEvent) and event.raw == unknown


@_settings
@given(st.sampled_from(WEBHOOK_SEEDS[:3]), _extras, st.text(max_size=12))
def test_webhook_unknown_fields_and_types(body: bytes, extras: Dict[str, Any], kind: str) -> None:
    typed = webhook_outcome(body, signed(body))
    richer_body = msgspec.json.encode(_with_extras(msgspec.json.decode(body), extras))
    richer = webhook_outcome(richer_body, signed(richer_body))
    assert richer[0] == typed[0] and _without_extras(richer[1]) == typed[1]
    unknown_body = msgspec.json.encode({**msgspec.json.decode(body), "type": "future." + kind})
    assert webhook_outcome(unknown_body, signed(unknown_body))[0] == "WebhookEvent"


# -- 4: bounded -----------------------------------------------------------------------------


@_settings
@given(
    st.integers(16, 2000), st.integers(1, 3000), st.sampled_from(range(len(STREAM_SEEDS))), cuts_st
)
def test_stream_event_over_the_limit(limit: int, excess: int, which: int, cuts: List[int]) -> None:
    ref, body = STREAM_SEEDS[which]
    huge = sse(b'{"pad":"' + b"x" * (limit + excess) + b'"}')
    data = body.replace(b"data: [DONE]\n\n", b"") + huge
    before, _ = stream_outcome([body.replace(b"data: [DONE]\n\n", b"")], STREAM_TYPES[ref], None)
    for pieces in ([data], pieces_of(data, cuts)):
        events, end = stream_outcome(pieces, STREAM_TYPES[ref], limit)
        assert end == "remote" and events == before[: len(events)]
        if limit >= len(body):  # each seed event fits: all of them come out first
            assert events == before


@_settings
@given(st.integers(32, 1000), st.integers(1, 2000), cuts_st)
def test_realtime_message_over_the_limit(limit: int, excess: int, cuts: List[int]) -> None:
    small = REALTIME_SEEDS[0]
    limit = max(limit, len(small))
    big = b'{"type":"x","pad":"' + b"x" * (limit + excess) + b'"}'
    data = frame(0x1, small) + frame(0x1, big)
    for pieces in ([data], pieces_of(data, cuts)):
        events, end = realtime_outcome(pieces, RealtimeServerEvent, limit=limit)
        assert end == "remote" and [name for name, _ in events] == [
            "RealtimeServerEventInputAudioBufferSpeechStarted"
        ]


# -- regressions found by this harness ------------------------------------------------------

_DEEP = b'{"type":"x","v":' + b"[" * 1100 + b"]" * 1100 + b"}"


def test_realtime_generic_decode_of_too_deep_json_is_a_protocol_error() -> None:
    # Found by this harness: msgspec's RecursionError used to escape the generic path.
    with pytest.raises(RemoteProtocolError):
        decode_realtime(_DEEP.decode(), None)


def test_webhook_too_deep_json_is_a_value_error() -> None:
    # Found by this harness: msgspec's RecursionError used to escape unwrap().
    body = b'{"id":"e","type":"t","created_at":1,"data":{"v":' + b"[" * 1100 + b"]" * 1100 + b"}}"
    with pytest.raises(ValueError):
        unwrap(body, signed(body), secret=SECRET, now=NOW)


def test_completions_stream_chunks_with_null_finish_reason_and_usage() -> None:
    # Every legacy Completions stream chunk but the last has "finish_reason": null (and,
    # with include_usage, "usage": null); the spec's schema said a required string (and a
    # usage object), so a real stream failed on its first chunk.
    chunk = (
        b'{"id":"c","object":"text_completion","created":1,"model":"m","usage":null,'
        b'"choices":[{"index":0,"text":"%s","finish_reason":%s,"logprobs":null}]}'
    )
    usage = b'{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}'
    last = b'{"id":"c","object":"text_completion","created":1,"model":"m","choices":[],"usage":'
    body = sse(chunk % (b"hi", b"null"), chunk % (b"!", b'"stop"'), last + usage + b"}", b"[DONE]")
    objs, end = typed_stream([body], STREAM_TYPES[COMPLETIONS], None)
    assert end == ""
    assert [(o.choices[0].text, o.choices[0].finish_reason) for o in objs[:2]] == [
        ("hi", None),
        ("!", "stop"),
    ]
    assert [o.usage is None for o in objs] == [True, True, False]
    assert objs[2].usage.total_tokens == 3


def test_known_tag_never_falls_through_to_a_lookalike() -> None:
    # "response.created" whose response does not fit used to come out as
    # ResponseAudioDoneEvent (the first variant that fits): now the stream's payload is
    # invalid, and the events before it are kept.
    good = b'{"type":"response.audio.done","sequence_number":0}'
    bad = b'{"type":"response.created","sequence_number":1,"response":{}}'
    objs, end = typed_stream([sse(good, bad)], STREAM_TYPES[RESPONSES], None)
    assert end == "invalid" and [type(o).__name__ for o in objs] == ["ResponseAudioDoneEvent"]
    with pytest.raises(msgspec.ValidationError, match=r"type='response\.created'"):
        decoder_for(STREAM_TYPES[RESPONSES]).decode(bad)


# -- atheris --------------------------------------------------------------------------------


def fuzz_one_input(data: bytes) -> None:
    """Entry point shared by atheris and pytest. Byte 0: the path (low 2 bits: stream,
    Realtime, webhook, accumulators) and its variant (the other bits: stream type, union or
    not, format); byte 1: the read size (low 5 bits) and, for streams, a size limit (high
    bit set: ``(byte 1 & 0x60) * 8 + 16``). The rest is the input."""
    if len(data) < 2:
        return
    path, variant = data[0] & 3, data[0] >> 2
    step = (data[1] & 31) + 1
    payload = data[2:]
    cuts = list(range(step, len(payload), step))
    if path == 0:
        limit = (data[1] & 0x60) * 8 + 16 if data[1] & 0x80 else None
        check_stream(payload, cuts, REFS[variant % len(REFS)], limit)
    elif path == 1:
        union = RealtimeServerEvent if variant & 1 else None
        # The payload is the frames after the handshake.
        whole = realtime_outcome([payload], union)
        assert realtime_outcome(pieces_of(payload, cuts), union) == whole
    elif path == 2:
        check_webhook(payload)
    else:
        check_accumulators(payload, cuts, variant % len(_FORMATS))


@_settings
@given(st.binary(max_size=500))
def test_fuzz_entry_point(data: bytes) -> None:
    fuzz_one_input(data)


def atheris_seeds() -> List[bytes]:
    """Valid inputs with their control bytes, to seed a corpus."""
    seeds = [bytes([REFS.index(ref) << 2, 5]) + body for ref, body in STREAM_SEEDS]
    seeds += [b"\x05\x05" + frame(0x1, text) for text in REALTIME_SEEDS]
    seeds += [b"\x02\x05" + body for body in WEBHOOK_SEEDS]
    seeds += [b"\x03\x05" + STREAM_SEEDS[0][1], b"\x07\x05" + STREAM_SEEDS[1][1]]
    return seeds


def test_atheris_entry_point() -> None:
    for seed in atheris_seeds():
        fuzz_one_input(seed)


if __name__ == "__main__":
    from _atheris import campaign

    campaign(
        fuzz_one_input,
        [
            "openai_proto.sse",
            "openai_proto._streaming",
            "openai_proto.realtime",
            "openai_proto.webhooks",
            "openai_proto._structured",
            "openai_proto.types._base",
        ],
        (),
    )
