"""Structured outputs in the core: schemas, strict conversion, parsing, finish-reason errors,
and the chat / Responses stream accumulators fed real event sequences."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Dict, List, Literal, Optional

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto import (
    APIResponseValidationError,
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
)
from openai_proto._structured import (
    ChatCompletionStreamState,
    ParsedResponseCompletedEvent,
    ResponseStreamState,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    function_tool,
    json_schema,
    parse_chat_completion,
    parse_content,
    to_strict_json_schema,
    type_to_response_format,
    type_to_text_format,
    validate_input_tools,
)
from openai_proto.types import decode
from openai_proto.types.chat import ChatCompletion, ChatCompletionChunk
from openai_proto.types.responses import ResponseStreamEvent


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(msgspec.Struct):
    street: str
    zip: Optional[str] = None


class Person(msgspec.Struct):
    name: str
    age: int
    tags: List[str]
    address: Optional[Address] = None
    color: Color = Color.RED
    kind: Literal["a", "b"] = "a"


@dataclasses.dataclass
class Point:
    x: float
    y: float
    label: Optional[str] = None


def _walk_objects(schema: Any) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            out.append(schema)
        for value in schema.values():
            out.extend(_walk_objects(value))
    elif isinstance(schema, list):
        for value in schema:
            out.extend(_walk_objects(value))
    return out


# -- strict conversion: a table of (input, expected) ---------------------------------------

STRICT_TABLE = [
    (
        {"type": "object", "properties": {"a": {"type": "integer"}}},
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "required": ["a"],
            "additionalProperties": False,
        },
    ),
    (  # optional with a None default: default dropped, still required
        {
            "type": "object",
            "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}},
            "required": [],
        },
        {
            "type": "object",
            "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
            "required": ["a"],
            "additionalProperties": False,
        },
    ),
    (  # nested object in array items
        {"type": "array", "items": {"type": "object", "properties": {"b": {"type": "boolean"}}}},
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"b": {"type": "boolean"}},
                "required": ["b"],
                "additionalProperties": False,
            },
        },
    ),
    (  # $ref with sibling keys is inlined; a bare $ref stays
        {
            "type": "object",
            "properties": {
                "c": {"$ref": "#/$defs/C", "description": "the colour"},
                "d": {"$ref": "#/$defs/C"},
            },
            "$defs": {"C": {"enum": ["red", "blue"], "title": "C"}},
        },
        {
            "type": "object",
            "properties": {
                "c": {"enum": ["red", "blue"], "title": "C", "description": "the colour"},
                "d": {"$ref": "#/$defs/C"},
            },
            "required": ["c", "d"],
            "additionalProperties": False,
            "$defs": {"C": {"enum": ["red", "blue"], "title": "C"}},
        },
    ),
    (  # a single allOf is merged
        {"allOf": [{"type": "object", "properties": {"e": {"type": "number"}}}]},
        {
            "type": "object",
            "properties": {"e": {"type": "number"}},
            "required": ["e"],
            "additionalProperties": False,
        },
    ),
    (  # an explicit additionalProperties is kept
        {"type": "object", "properties": {}, "additionalProperties": True},
        {"type": "object", "properties": {}, "required": [], "additionalProperties": True},
    ),
]


@pytest.mark.parametrize(("schema", "expected"), STRICT_TABLE)
def test_to_strict_json_schema_table(schema: Dict[str, Any], expected: Dict[str, Any]) -> None:
    before = msgspec.json.encode(schema)
    assert to_strict_json_schema(schema) == expected
    assert msgspec.json.encode(schema) == before  # input untouched


def test_ref_to_missing_definition_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not point"):
        to_strict_json_schema({"properties": {"a": {"$ref": "#/$defs/Nope", "title": "x"}}})


def test_struct_schema_is_strict_everywhere() -> None:
    schema = to_strict_json_schema(json_schema(Person))
    assert schema["title"] == "Person"
    assert schema["required"] == ["name", "age", "tags", "address", "color", "kind"]
    objects = _walk_objects(schema)
    assert len(objects) == 2  # Person and Address (in $defs)
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert schema["$defs"]["Address"]["required"] == ["street", "zip"]
    assert "default" not in schema["$defs"]["Address"]["properties"]["zip"]
    # the enum $ref had a sibling default: it is inlined
    assert sorted(schema["properties"]["color"]["enum"]) == ["blue", "red"]
    assert schema["properties"]["kind"]["enum"] == ["a", "b"]


def test_recursive_struct_keeps_its_definition() -> None:
    schema = to_strict_json_schema(json_schema(Node))
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert schema["$defs"]["Node"]["additionalProperties"] is False


class Node(msgspec.Struct):
    value: int
    children: List[Node]


def test_dataclass_schema_and_formats() -> None:
    fmt = type_to_response_format(Point)
    assert fmt["type"] == "json_schema"
    inner = fmt["json_schema"]
    assert inner["name"] == "Point" and inner["strict"] is True
    assert inner["schema"]["required"] == ["x", "y", "label"]
    text = type_to_text_format(Point, name="pt")
    assert text == {"type": "json_schema", "name": "pt", "schema": inner["schema"], "strict": True}


def test_pydantic_schema_when_installed() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Inner(pydantic.BaseModel):  # type: ignore[misc, name-defined]
        n: int

    class Outer(pydantic.BaseModel):  # type: ignore[misc, name-defined]
        inner: Inner
        items: List[Inner]
        note: Optional[str] = None

    schema = type_to_response_format(Outer)["json_schema"]["schema"]
    assert schema["required"] == ["inner", "items", "note"]
    for obj in _walk_objects(schema):
        assert obj["additionalProperties"] is False
    assert "default" not in schema["properties"]["note"]
    parsed = parse_content(Outer, '{"inner":{"n":1},"items":[],"note":null}')
    assert isinstance(parsed, Outer) and parsed.inner.n == 1
    with pytest.raises(APIResponseValidationError):
        parse_content(Outer, '{"inner":{}}')


def test_unsupported_type_is_rejected() -> None:
    with pytest.raises(TypeError):
        json_schema(int)


# -- parsing -------------------------------------------------------------------------------


def test_parse_content_struct_and_dataclass() -> None:
    person = parse_content(Person, '{"name":"a","age":3,"tags":["x"],"address":null}')
    assert person == Person(name="a", age=3, tags=["x"])
    assert parse_content(Point, b'{"x":1,"y":2.5,"label":"p"}') == Point(1.0, 2.5, "p")
    with pytest.raises(APIResponseValidationError) as info:
        parse_content(Person, '{"name":1}')
    assert info.value.body == '{"name":1}'
    with pytest.raises(APIResponseValidationError):
        parse_content(Point, "{not json")


def _completion(
    content: Optional[str], finish: str, refusal: Optional[str] = None
) -> ChatCompletion:
    body = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "logprobs": None,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
    }
    return decode(ChatCompletion, msgspec.json.encode(body))


def test_parse_chat_completion_and_finish_reasons() -> None:
    parsed = parse_chat_completion(
        _completion('{"x":1,"y":2}', "stop"), response_format=Point, input_tools=[]
    )
    assert parsed.choices[0].message.parsed == Point(1.0, 2.0)
    assert parsed.id == "c1" and parsed.choices[0].message.content == '{"x":1,"y":2}'
    refused = parse_chat_completion(_completion(None, "stop", refusal="no"), response_format=Point)
    assert refused.choices[0].message.parsed is None
    with pytest.raises(LengthFinishReasonError):
        parse_chat_completion(_completion('{"x":', "length"), response_format=Point)
    with pytest.raises(ContentFilterFinishReasonError):
        parse_chat_completion(_completion("", "content_filter"), response_format=Point)


def test_input_tools_must_be_strict_functions() -> None:
    tool = function_tool(Point, description="a point")
    assert tool["function"]["strict"] is True and tool["function"]["name"] == "Point"
    assert validate_input_tools([tool]) == [tool]
    with pytest.raises(ValueError, match="not strict"):
        validate_input_tools([{"type": "function", "function": {"name": "f"}}])
    with pytest.raises(ValueError, match="only `function`"):
        validate_input_tools([{"type": "custom", "custom": {"name": "f"}}])


# -- the chat stream accumulator --------------------------------------------------------------


def _chunk(
    delta: Dict[str, Any], finish: Optional[str] = None, **choice: Any
) -> ChatCompletionChunk:
    body = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **choice}],
    }
    return decode(ChatCompletionChunk, msgspec.json.encode(body))


def _logprob(token: str) -> Dict[str, Any]:
    return {"token": token, "logprob": -0.5, "bytes": list(token.encode()), "top_logprobs": []}


DOC = '{"x": 1.5, "y": -2, "label": "a \\u00e9 label"}'


def _content_stream(pieces: List[str]) -> List[ChatCompletionChunk]:
    chunks = [_chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [
        _chunk({"content": p}, logprobs={"content": [_logprob(p)], "refusal": None}) for p in pieces
    ]
    chunks.append(_chunk({}, "stop"))
    return chunks


def _split(text: str, cuts: List[int]) -> List[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:]) if b > a]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=1000), max_size=12))
def test_chat_accumulator_any_split(cuts: List[int]) -> None:
    pieces = _split(DOC, cuts)
    state = ChatCompletionStreamState(response_format=Point)
    events = [e for c in _content_stream(pieces) for e in state.handle_chunk(c)]
    types = [e.type for e in events]
    assert types.count("chunk") == len(pieces) + 2
    assert types.count("content.delta") == len(pieces) + 1  # the first chunk's "" too
    assert types.count("logprobs.content.delta") == len(pieces)
    assert types[-2:] == ["content.done", "logprobs.content.done"]
    assert "refusal.done" not in types  # the first chunk's refusal was null
    done = events[-2]
    assert done.type == "content.done" and done.content == DOC
    assert done.parsed == Point(1.5, -2.0, "a é label")
    deltas = [e for e in events if e.type == "content.delta"]
    assert deltas[-1].snapshot == DOC  # the deltas carry partial JSON, not the type
    assert deltas[-1].parsed == {"x": 1.5, "y": -2, "label": "a é label"}
    final = state.get_final_completion()
    assert final.choices[0].message.parsed == Point(1.5, -2.0, "a é label")
    assert final.choices[0].finish_reason == "stop"
    lp = final.choices[0].logprobs
    assert lp is not None and [t.token for t in lp.content or []] == pieces


def _tool_delta(
    index: int, *, id: Optional[str] = None, name: Optional[str] = None, args: str = ""
) -> Dict[str, Any]:
    call: Dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if id is not None:
        call.update(id=id, type="function")
        call["function"]["name"] = name
    return {"tool_calls": [call]}


def test_chat_accumulator_tool_calls_and_refusal() -> None:
    tools = [
        function_tool(Point, name="point"),
        {"type": "function", "function": {"name": "raw", "strict": True, "parameters": {}}},
    ]
    chunks = [
        _chunk({"role": "assistant", "content": None}),
        _chunk({"refusal": "I "}),
        _chunk({"refusal": "won't"}),
        _chunk(_tool_delta(0, id="call_a", name="point")),
        _chunk(_tool_delta(0, args='{"x":1,')),
        _chunk(_tool_delta(0, args='"y":2,"label":null}')),
        _chunk(_tool_delta(1, id="call_b", name="raw", args='{"k"')),
        _chunk(_tool_delta(1, args=":[1]}")),
        _chunk({}, "tool_calls"),
    ]
    state = ChatCompletionStreamState(input_tools=tools)
    events = [e for c in chunks for e in state.handle_chunk(c)]
    interesting = [e for e in events if e.type != "chunk"]
    assert [e.type for e in interesting] == [
        "refusal.delta",
        "refusal.delta",
        "tool_calls.function.arguments.delta",
        "refusal.done",  # a tool call started: the text parts are done
        "tool_calls.function.arguments.delta",
        "tool_calls.function.arguments.delta",
        "tool_calls.function.arguments.delta",
        "tool_calls.function.arguments.done",  # the next call started
        "tool_calls.function.arguments.delta",
        "tool_calls.function.arguments.done",  # finish_reason
    ]
    assert interesting[1].snapshot == "I won't"  # type: ignore[union-attr]
    first_done, second_done = interesting[7], interesting[9]
    assert first_done.name == "point" and first_done.parsed_arguments == Point(1.0, 2.0)  # type: ignore[union-attr]
    assert second_done.index == 1 and second_done.parsed_arguments == {"k": [1]}  # type: ignore[union-attr]
    final = state.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert isinstance(calls, list) and [c.id for c in calls] == ["call_a", "call_b"]
    assert calls[0].function.parsed_arguments == Point(1.0, 2.0)


def test_chat_accumulator_finish_reason_errors() -> None:
    state = ChatCompletionStreamState(response_format=Point)
    state.handle_chunk(_chunk({"role": "assistant", "content": '{"x":'}))
    with pytest.raises(LengthFinishReasonError):
        state.handle_chunk(_chunk({}, "length"))
    plain = ChatCompletionStreamState()
    plain.handle_chunk(_chunk({"role": "assistant", "content": "cut"}))
    plain.handle_chunk(_chunk({}, "length"))  # no format: the stream goes on...
    with pytest.raises(LengthFinishReasonError):
        plain.get_final_completion()  # ...but the final completion reports it
    with pytest.raises(ContentFilterFinishReasonError):
        ChatCompletionStreamState().handle_chunk(_chunk({"content": "x"}, "content_filter"))


# -- the Responses stream accumulator ---------------------------------------------------------

_RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "status": "in_progress",
    "error": None,
    "incomplete_details": None,
    "instructions": None,
    "metadata": {},
    "model": "m",
    "output": [],
    "parallel_tool_calls": True,
    "temperature": 1.0,
    "top_p": 1.0,
    "tool_choice": "auto",
    "tools": [],
}


def _event(kind: str, **fields: Any) -> Any:
    return decode(
        ResponseStreamEvent, msgspec.json.encode({"type": kind, "sequence_number": 0, **fields})
    )


def test_response_accumulator() -> None:
    text = '{"x":1,"y":2,"label":"z"}'
    part = {"type": "output_text", "text": text, "annotations": []}
    item = {
        "id": "m1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [part],
    }
    at = {"item_id": "m1", "output_index": 0, "content_index": 0, "logprobs": []}
    events = [
        _event("response.created", response=_RESPONSE),
        _event("response.output_item.added", output_index=0, item={**item, "content": []}),
        _event(
            "response.content_part.added",
            item_id="m1",
            output_index=0,
            content_index=0,
            part={**part, "text": ""},
        ),
        *[_event("response.output_text.delta", **at, delta=p) for p in _split(text, [5, 11, 17])],
        _event("response.output_text.done", **at, text=text),
        _event(
            "response.completed", response={**_RESPONSE, "status": "completed", "output": [item]}
        ),
    ]
    state = ResponseStreamState(text_format=Point)
    out = [o for e in events for o in state.handle_event(e)]
    assert len(out) == len(events)
    deltas = [o for o in out if isinstance(o, ResponseTextDeltaEvent)]
    assert [d.snapshot for d in deltas] == [text[:5], text[:11], text[:17], text]
    done = [o for o in out if isinstance(o, ResponseTextDoneEvent)]
    assert done[0].parsed == Point(1.0, 2.0, "z")
    completed = out[-1]
    assert isinstance(completed, ParsedResponseCompletedEvent)
    assert completed.response.output_parsed == Point(1.0, 2.0, "z")
    assert state.completed_response is completed.response
