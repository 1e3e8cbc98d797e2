"""Checked by ``mypy --strict`` (``test_helper_params.py``), never run: every line marked
``# error`` must be reported, and no other line."""

from __future__ import annotations

from backends import AsyncOpenAI
from backends._responses_ws import AsyncResponsesResponseResource
from backends._structured import AsyncCompletions, AsyncResponses
from backends._sync._responses_ws import ResponsesResponseResource
from backends._sync._structured import Completions, Responses


async def async_helpers(
    chat: AsyncCompletions, responses: AsyncResponses, ws: AsyncResponsesResponseResource
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    await chat.parse(messages=messages, model="m", temprature=0.1)  # error
    await chat.parse(messages=messages, model="m", temperature="hot")  # error
    await chat.parse(messages=messages, model="m", stream=True)  # error
    chat.stream(messages=messages, model="m", max_token=5)  # error
    await responses.parse(model="m", input="hi", temprature=0.1)  # error
    await responses.parse(model="m", input="hi", max_output_tokens="5")  # error
    responses.stream(model="m", input="hi", stream=True)  # error
    await ws.create(model="m", input="hi", temprature=0.1)  # error
    await ws.create(model="m", input="hi", stream=True)  # error
    await ws.create(model="m", input="hi", extra_headers={"x": "1"})  # error


def sync_helpers(chat: Completions, responses: Responses, ws: ResponsesResponseResource) -> None:
    messages = [{"role": "user", "content": "hi"}]
    chat.parse(messages=messages, model="m", temprature=0.1)  # error
    chat.stream(messages=messages, model="m", temprature=0.1)  # error
    responses.parse(model="m", input="hi", temprature=0.1)  # error
    responses.stream(model="m", input="hi", temprature=0.1)  # error
    ws.create(model="m", input="hi", temprature=0.1)  # error


async def streams_are_not_completions(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model="m", messages=[], stream=True)
    print(stream.choices)  # error
