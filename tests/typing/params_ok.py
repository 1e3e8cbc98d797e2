"""Checked by ``mypy --strict`` (``test_helper_params.py``), never run: the keyword arguments
of ``create`` that the helpers forward type-check, with their own types."""

from __future__ import annotations

from typing import Optional

from backends import AsyncOpenAI, OpenAI
from backends._responses_ws import AsyncResponsesResponseResource
from backends._structured import AsyncCompletions, AsyncResponses
from backends._sync._responses_ws import ResponsesResponseResource
from backends._sync._structured import Completions, Responses


async def async_helpers(
    chat: AsyncCompletions, responses: AsyncResponses, ws: AsyncResponsesResponseResource
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    await chat.parse(messages=messages, model="m", temperature=0.1, max_completion_tokens=5, seed=1)
    async with chat.stream(
        messages=messages, model="m", temperature=0.1, extra_headers={"x": "1"}, timeout=3.0
    ):
        pass
    await responses.parse(model="m", input="hi", temperature=0.1, max_output_tokens=5)
    async with responses.stream(model="m", input="hi", instructions="be brief"):
        pass
    await ws.create(model="m", input="hi", temperature=0.1, stream_id="lane_1")


def sync_helpers(chat: Completions, responses: Responses, ws: ResponsesResponseResource) -> None:
    messages = [{"role": "user", "content": "hi"}]
    chat.parse(messages=messages, model="m", temperature=0.1, n=1)
    with chat.stream(messages=messages, model="m", top_p=0.5):
        pass
    responses.parse(model="m", input="hi", temperature=0.1, store=False)
    with responses.stream(model="m", input="hi", previous_response_id="resp_1"):
        pass
    ws.create(model="m", input="hi", temperature=0.1, stream_id="lane_1")


async def through_the_client(client: AsyncOpenAI) -> None:
    # The client's resources are typed, and ``stream`` picks the return type (overloads).
    messages = [{"role": "user", "content": "hi"}]
    completion = await client.chat.completions.create(model="m", messages=messages)
    content: Optional[str] = completion.choices[0].message.content
    request_id: Optional[str] = completion._request_id
    stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
    async with stream:
        async for chunk in stream:
            delta: object = chunk.choices[0].delta.content
            del delta
    parsed: object = await client.chat.completions.parse(messages=messages, model="m", seed=1)
    del content, request_id, parsed


def through_the_blocking_client(client: OpenAI) -> None:
    response = client.responses.create(model="m", input="hi")
    text: object = response.output_text
    for event in client.responses.create(model="m", input="hi", stream=True):
        kind: str = event.type
        del kind
    del text
