"""Partial JSON on the chat stream accumulator's deltas: ``ContentDeltaEvent.parsed`` and
``parsed_arguments`` grow chunk by chunk as the official SDK's do (its
``ChatCompletionStreamState`` fed the same chunks is the oracle), the ``.done`` events and
the final completion keep the typed values, and content that cannot be JSON is an
:class:`APIResponseValidationError` as soon as it shows."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import jiter
import msgspec
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.lib.streaming.chat import ChatCompletionStreamState as SDKState
from openai.types.chat import ChatCompletionChunk as SDKChunk

from openai_proto import APIResponseValidationError
from openai_proto._structured import ChatCompletionStreamState, function_tool
from openai_proto.types import decode
from openai_proto.types.chat import ChatCompletionChunk


class Step(pydantic.BaseModel):
    explanation: str
    output: float


class Solution(pydantic.BaseModel):
    steps: List[Step]
    final_answer: str
    confident: bool


class Lookup(pydantic.BaseModel):
    query: str
    limit: int


SOLUTION = Solution(
    steps=[
        Step(explanation='8x + 7 = -23, "subtract" 7 \\ é \U0001f600', output=-30.0),
        Step(explanation="divide by 8\n", output=-3.75),
    ],
    final_answer="x = -3.75",
    confident=True,
)
CONTENT = " " + json.dumps(SOLUTION.model_dump(), indent=1, ensure_ascii=False)
ARGUMENTS = '{"query": "weather in \\u00c9vian", "limit": 10}'


def _body(delta: Dict[str, Any], finish: Optional[str] = None) -> Dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _split(text: str, cuts: List[int]) -> List[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:]) if b > a]


def _stream(content: List[str], arguments: List[str]) -> List[Dict[str, Any]]:
    """A role chunk (as the API sends first), content pieces, then one tool call."""
    bodies = [_body({"role": "assistant", "content": "", "refusal": None})]
    bodies += [_body({"content": p}) for p in content]
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "Lookup"}}
    bodies.append(
        _body({"tool_calls": [{**call, "function": {"name": "Lookup", "arguments": ""}}]})
    )
    bodies += [
        _body({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in arguments
    ]
    bodies.append(_body({}, "tool_calls"))
    return bodies


def _ours(bodies: List[Dict[str, Any]]) -> List[Any]:
    state = ChatCompletionStreamState(response_format=Solution, input_tools=[function_tool(Lookup)])
    events = []
    for body in bodies:
        chunk = decode(ChatCompletionChunk, msgspec.json.encode(body))
        events += [e for e in state.handle_chunk(chunk) if e.type != "chunk"]
    final = state.get_final_completion()
    assert final.choices[0].message.parsed == SOLUTION
    calls = final.choices[0].message.tool_calls
    assert isinstance(calls, list) and calls[0].function.parsed_arguments == Lookup(
        query="weather in Évian", limit=10
    )
    return events


def _sdks(bodies: List[Dict[str, Any]]) -> List[Any]:
    import openai

    state: SDKState[Solution] = SDKState(
        response_format=Solution, input_tools=[openai.pydantic_function_tool(Lookup)]
    )
    events = []
    for body in bodies:
        events += [
            e for e in state.handle_chunk(SDKChunk.model_validate(body)) if e.type != "chunk"
        ]
    return events


def _view(event: Any) -> Any:
    """What a user reads off a helper event (the SDK's pydantic values as plain data)."""
    if event.type == "content.delta":
        return (event.type, event.snapshot, event.parsed)
    if event.type == "tool_calls.function.arguments.delta":
        return (event.type, event.arguments, event.parsed_arguments)
    parsed = getattr(event, "parsed", getattr(event, "parsed_arguments", None))
    return (event.type, parsed.model_dump() if isinstance(parsed, pydantic.BaseModel) else parsed)


@settings(max_examples=40, deadline=None)
@given(
    content_cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=40),
    argument_cuts=st.lists(st.integers(min_value=0, max_value=100), max_size=12),
)
def test_partial_parsed_matches_the_official_sdk(
    content_cuts: List[int], argument_cuts: List[int]
) -> None:
    bodies = _stream(_split(CONTENT, content_cuts), _split(ARGUMENTS, argument_cuts))
    ours, sdks = _ours(bodies), _sdks(bodies)
    assert [_view(e) for e in ours] == [_view(e) for e in sdks]
    deltas = [e for e in ours if e.type == "content.delta"]
    for event in deltas:  # and each is jiter's reading of the snapshot
        blank = not event.snapshot.strip()
        assert event.parsed == (
            None if blank else jiter.from_json(event.snapshot.encode(), partial_mode=True)
        )
    assert deltas[-1].parsed == SOLUTION.model_dump()


def test_parsed_grows_piece_by_piece() -> None:
    pieces = ['{"steps": [{"explanation": "a', 'dd", "output": 1', ".5}", '], "final_answer": "x']
    events = _ours_events(pieces)
    assert [e.parsed for e in events if e.type == "content.delta"] == [
        None,  # the role chunk's empty content
        {"steps": [{}]},
        {"steps": [{"explanation": "add", "output": 1}]},
        {"steps": [{"explanation": "add", "output": 1.5}]},
        {"steps": [{"explanation": "add", "output": 1.5}]},  # the answer is still open
    ]


def _ours_events(pieces: List[str]) -> List[Any]:
    state = ChatCompletionStreamState(response_format=Solution)
    out = []
    for body in [_body({"role": "assistant", "content": ""})] + [
        _body({"content": p}) for p in pieces
    ]:
        out += state.handle_chunk(decode(ChatCompletionChunk, msgspec.json.encode(body)))
    return out


def test_no_partial_parsing_without_a_format_type_or_after_a_refusal() -> None:
    plain = ChatCompletionStreamState(response_format={"type": "json_object"})
    chunk = decode(ChatCompletionChunk, msgspec.json.encode(_body({"content": '{"a": 1'})))
    assert [e.parsed for e in plain.handle_chunk(chunk) if e.type == "content.delta"] == [None]
    state = ChatCompletionStreamState(response_format=Solution)
    for body, parsed in [
        (_body({"content": '{"final_answer": "x"'}), {"final_answer": "x"}),
        (_body({"refusal": "no"}), None),
        (_body({"content": ', "confident": true'}), {"final_answer": "x"}),  # frozen
    ]:
        events = state.handle_chunk(decode(ChatCompletionChunk, msgspec.json.encode(body)))
        deltas = [e for e in events if e.type == "content.delta"]
        if parsed is not None:
            assert deltas[0].parsed == parsed
    assert state.current_completion_snapshot.choices[0].message.parsed == {"final_answer": "x"}


@pytest.mark.parametrize("pieces", [['{"steps": [1,', "]"], ["[1] x"], ['{"a"', " 1"]])
def test_content_that_cannot_be_json_is_a_validation_error(pieces: List[str]) -> None:
    with pytest.raises(APIResponseValidationError, match="streamed content") as info:
        _ours_events(pieces)
    assert info.value.body == "".join(pieces)
    assert isinstance(info.value.__cause__, ValueError)  # the reader's PartialJSONError


def test_tool_arguments_that_cannot_be_json_are_a_validation_error() -> None:
    state = ChatCompletionStreamState(input_tools=[function_tool(Lookup)])
    call = {
        "index": 0,
        "id": "c",
        "type": "function",
        "function": {"name": "Lookup", "arguments": "{"},
    }
    chunk = decode(ChatCompletionChunk, msgspec.json.encode(_body({"tool_calls": [call]})))
    events = state.handle_chunk(chunk)
    assert [
        e.parsed_arguments for e in events if e.type == "tool_calls.function.arguments.delta"
    ] == [{}]
    bad = {"index": 0, "function": {"arguments": "1}"}}
    chunk = decode(ChatCompletionChunk, msgspec.json.encode(_body({"tool_calls": [bad]})))
    with pytest.raises(APIResponseValidationError, match="tool arguments"):
        state.handle_chunk(chunk)
