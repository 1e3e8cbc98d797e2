"""``chat.completions.parse/stream`` and ``responses.parse/stream`` against the fake server,
on the async client (both loops) and the blocking one."""

from __future__ import annotations

import dataclasses
from typing import List, Optional

import msgspec
import pytest

from backends import OpenAI
from backends.fake_openai import FakeServer
from openai_proto import AsyncOpenAI, LengthFinishReasonError
from openai_proto._structured import (
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent,
    ParsedChatCompletion,
    ParsedResponse,
    ParsedResponseCompletedEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)

pytestmark = pytest.mark.anyio

MESSAGES = [{"role": "user", "content": "Solve 8x + 7 = -23"}]


class Step(msgspec.Struct):
    explanation: str
    output: str


class MathReasoning(msgspec.Struct):
    steps: List[Step]
    final_answer: str
    attempts: int
    note: Optional[str] = None


@dataclasses.dataclass
class Weather:
    city: str
    celsius: float
    sunny: bool


EXPECTED_MATH = MathReasoning(
    steps=[Step(explanation="text", output="text")], final_answer="text", attempts=1, note="text"
)


def client_for(server: FakeServer) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=server.url, api_key="sk-test")


async def test_chat_parse_sends_strict_schema_and_parses(server: FakeServer) -> None:
    async with client_for(server) as client:
        completion = await client.chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=MathReasoning
        )
    assert isinstance(completion, ParsedChatCompletion)
    assert completion.choices[0].message.parsed == EXPECTED_MATH
    sent = server.state.requests[-1]
    fmt = sent.json["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "MathReasoning"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["steps", "final_answer", "attempts", "note"]
    assert "x-stainless-helper-method" not in {k.lower() for k in sent.headers}


async def test_chat_parse_dataclass_and_length_error(server: FakeServer) -> None:
    async with client_for(server) as client:
        completion = await client.chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Weather
        )
        assert completion.choices[0].message.parsed == Weather(city="text", celsius=1.5, sunny=True)
        with pytest.raises(LengthFinishReasonError):
            await client.chat.completions.parse(
                model="gpt-4o-mini", messages=MESSAGES, response_format=Weather, max_tokens=2
            )


async def test_chat_parse_rejects_non_strict_tools(server: FakeServer) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    async with client_for(server) as client:
        with pytest.raises(ValueError, match="not strict"):
            await client.chat.completions.parse(
                model="gpt-4o-mini", messages=MESSAGES, tools=[tool]
            )
    assert server.state.requests == []


async def test_chat_stream_events_and_final_completion(server: FakeServer) -> None:
    async with client_for(server) as client:
        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=MESSAGES, response_format=MathReasoning
        ) as stream:
            events = [event async for event in stream]
            final = await stream.get_final_completion()
            snapshot = stream.current_completion_snapshot
    assert server.state.requests[-1].json["stream"] is True
    deltas = [e for e in events if isinstance(e, ContentDeltaEvent)]
    assert len(deltas) > 1
    assert "".join(d.delta for d in deltas) == deltas[-1].snapshot
    done = [e for e in events if isinstance(e, ContentDoneEvent)]
    assert len(done) == 1 and done[0].parsed == EXPECTED_MATH
    assert sum(isinstance(e, ChunkEvent) for e in events) >= len(deltas)
    assert final.choices[0].message.parsed == EXPECTED_MATH
    assert final.choices[0].finish_reason == "stop"
    assert snapshot.choices[0].message.content == done[0].content


async def test_chat_stream_until_done_plain_text(server: FakeServer) -> None:
    async with client_for(server) as client:
        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi there"}]
        ) as stream:
            await stream.until_done()
            final = await stream.get_final_completion()
    assert final.choices[0].message.content == "Hello! You said: hi there"
    assert final.choices[0].message.parsed is None


async def test_responses_parse(server: FakeServer) -> None:
    async with client_for(server) as client:
        response = await client.responses.parse(
            model="gpt-4o-mini", input="weather?", text_format=Weather
        )
    assert isinstance(response, ParsedResponse)
    assert response.output_parsed == Weather(city="text", celsius=1.5, sunny=True)
    fmt = server.state.requests[-1].json["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "Weather" and fmt["strict"] is True
    assert fmt["schema"]["required"] == ["city", "celsius", "sunny"]


async def test_responses_stream(server: FakeServer) -> None:
    async with client_for(server) as client:
        async with client.responses.stream(
            model="gpt-4o-mini", input="weather?", text_format=Weather
        ) as stream:
            events = [event async for event in stream]
            final = await stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    deltas = [e for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert len(deltas) > 1 and deltas[-1].snapshot == "".join(d.delta for d in deltas)
    done = [e for e in events if isinstance(e, ResponseTextDoneEvent)]
    assert done[0].parsed == Weather(city="text", celsius=1.5, sunny=True)
    assert isinstance(events[-1], ParsedResponseCompletedEvent)
    assert final.output_parsed == Weather(city="text", celsius=1.5, sunny=True)


def test_blocking_client_parse_and_stream(server: FakeServer) -> None:
    with OpenAI(base_url=server.url, api_key="sk-test") as client:
        completion = client.chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=MathReasoning
        )
        assert completion.choices[0].message.parsed == EXPECTED_MATH
        with client.chat.completions.stream(
            model="gpt-4o-mini", messages=MESSAGES, response_format=MathReasoning
        ) as stream:
            kinds = [event.type for event in stream]
            final = stream.get_final_completion()
        assert kinds[0] == "chunk" and "content.done" in kinds
        assert final.choices[0].message.parsed == EXPECTED_MATH
        with client.responses.stream(model="gpt-4o-mini", input="x", text_format=Weather) as rs:
            response = rs.get_final_response()
        assert response.output_parsed == Weather(city="text", celsius=1.5, sunny=True)
