"""``AsyncOpenAI`` end to end on the loopback server, compared with the official SDK."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from backends.fake_openai import FakeServer, RecordedRequest, Reply
from openai_proto import (
    APIConnectionError,
    AsyncOpenAI,
    AsyncStream,
    AuthenticationError,
    NotFoundError,
    OpenAIError,
    RateLimitError,
)

pytestmark = pytest.mark.anyio

MESSAGES: Any = [{"role": "user", "content": "hello there"}]


def client_for(server: FakeServer, **kwargs: Any) -> AsyncOpenAI:
    kwargs.setdefault("api_key", "sk-test")
    return AsyncOpenAI(base_url=server.url, **kwargs)


async def test_chat_completion(server: FakeServer) -> None:
    async with client_for(server) as client:
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Hello! You said: hello there"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert completion._request_id == "req_1"
    assert completion.to_dict()["choices"][0]["message"]["content"].startswith("Hello!")


async def test_streamed_chat(server: FakeServer) -> None:
    async with client_for(server) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=7
        )
        assert isinstance(stream, AsyncStream)
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        pieces = []
        async with stream:
            async for chunk in stream:
                assert chunk.object == "chat.completion.chunk"
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
    assert len(pieces) == 7
    assert stream.response.is_closed


async def test_stream_closed_early_frees_the_connection(server: FakeServer) -> None:
    async with client_for(server) as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=5000
        )
        async for _ in stream:
            break
        await stream.close()
        assert stream.response.is_closed
        models = await client.models.list()  # the pool still serves
        assert models.data


async def test_embeddings(server: FakeServer) -> None:
    async with client_for(server) as client:
        result = await client.embeddings.create(
            model="text-embedding-3-small", input=["a", "b"], dimensions=8
        )
    assert [e.index for e in result.data] == [0, 1]
    assert all(len(e.embedding) == 8 for e in result.data)
    assert result.usage.prompt_tokens > 0


async def test_models_list_retrieve_delete(server: FakeServer) -> None:
    async with client_for(server) as client:
        ids = [model.id async for model in client.models.list()]
        assert ids
        page = await client.models.list()
        assert [m.id for m in page.data] == ids and not page.has_next_page()
        model = await client.models.retrieve(ids[0])
        assert model.id == ids[0] and model.object == "model"
        deleted = await client.models.delete(ids[0])
        assert deleted.deleted is True and deleted.id == ids[0]
        with pytest.raises(NotFoundError) as info:
            await client.models.retrieve("no-such-model")
    assert info.value.status_code == 404 and info.value.request_id


async def test_empty_path_parameter_is_rejected_before_any_request(server: FakeServer) -> None:
    async with client_for(server) as client:
        with pytest.raises(ValueError, match="Expected a non-empty value for `model`"):
            await client.models.retrieve("")
    assert server.state.requests == []


async def test_retried_after_429(server: FakeServer) -> None:
    server.state.script("/v1/chat/completions", Reply(status=429, headers={"retry-after-ms": "20"}))
    async with client_for(server) as client:
        completion = await client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert len(server.state.requests) == 2


async def test_with_options_changes_retries_only_on_the_copy(server: FakeServer) -> None:
    server.state.script("/v1/models", Reply(status=429, json={"error": {"message": "slow"}}))
    async with client_for(server) as client:
        strict = client.with_options(max_retries=0)
        assert strict.max_retries == 0 and client.max_retries == 2
        with pytest.raises(RateLimitError):
            await strict.models.list()
        assert (await client.models.list()).data


async def test_wrong_key_is_authentication_error(server: FakeServer) -> None:
    server.state.api_key = "sk-right"
    async with client_for(server, api_key="sk-wrong-secret-key") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.models.list()
    assert info.value.request_id == "req_1"
    assert info.value.code == "invalid_api_key"
    assert "sk-wrong-secret-key" not in str(info.value)


async def test_async_key_provider(server: FakeServer) -> None:
    async def key() -> str:
        return "sk-from-provider"

    async with client_for(server, api_key=key) as client:
        await client.models.list()
    assert server.state.requests[0].headers["authorization"] == "Bearer sk-from-provider"


async def test_connection_refused(refused_port: int) -> None:
    client = AsyncOpenAI(api_key="k", base_url=f"http://127.0.0.1:{refused_port}/v1", max_retries=0)
    with pytest.raises(APIConnectionError):
        await client.models.list()
    await client.close()
    assert client.is_closed()


def test_missing_key_raises_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    with pytest.raises(OpenAIError, match="Missing credentials"):
        AsyncOpenAI()


def test_environment_is_read_like_the_official_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    ours, theirs = AsyncOpenAI(), openai.AsyncOpenAI()
    assert (ours.api_key, ours.organization, ours.project) == (
        theirs.api_key, theirs.organization, theirs.project,
    )  # fmt: skip
    assert ours.base_url == str(theirs.base_url)
    assert ours.max_retries == theirs.max_retries == 2
    assert (ours.timeout.connect, ours.timeout.read) == (
        theirs.timeout.connect,
        theirs.timeout.read,
    )


# -- the wire: what the server receives matches what the official SDK sends ---------------


async def _both(
    server: FakeServer, call: Any, **client_kwargs: Any
) -> tuple[RecordedRequest, RecordedRequest]:
    common = {"api_key": "sk-wire", "base_url": server.url, **client_kwargs}
    async with openai.AsyncOpenAI(**common) as official:
        await call(official)
    (theirs_req,) = server.state.requests
    server.state.reset()  # e.g. models.delete must find the model again
    async with AsyncOpenAI(**common) as ours:
        await call(ours)
    (ours_req,) = server.state.requests
    return theirs_req, ours_req


WIRE_HEADERS = [
    "authorization", "openai-organization", "openai-project", "content-type", "accept",
    "accept-encoding",
]  # fmt: skip


@pytest.mark.parametrize(
    "name, call",
    [
        ("chat", lambda c: c.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, temperature=0.5, metadata={"k": "v"},
            extra_headers={"X-Custom": "1"}, extra_query={"q": "x"}, extra_body={"seed": 7},
        )),
        ("models.list", lambda c: c.models.list()),
        ("models.retrieve", lambda c: c.models.retrieve("gpt-4o-mini")),
        ("models.delete", lambda c: c.models.delete("gpt-4o-mini")),
        ("embeddings", lambda c: c.embeddings.create(
            model="text-embedding-3-small", input="hi", encoding_format="float",
        )),
    ],
)  # fmt: skip
async def test_request_matches_official_sdk(server: FakeServer, name: str, call: Any) -> None:
    theirs, ours = await _both(server, call, organization="org-1", project="proj-1")
    assert (ours.method, ours.path, ours.query) == (theirs.method, theirs.path, theirs.query), name
    assert ours.json == theirs.json, name
    for header in [*WIRE_HEADERS, "x-custom"]:
        assert ours.headers.get(header) == theirs.headers.get(header), (name, header)
    assert ours.headers["user-agent"].startswith("openai-proto/")
    assert not any(h.startswith("x-stainless") for h in ours.headers)


async def test_embeddings_default_to_base64_on_the_wire(server: FakeServer) -> None:
    async with client_for(server) as client:
        default = await client.embeddings.create(model="e", input="same text", dimensions=16)
        floats = await client.embeddings.create(
            model="e", input="same text", dimensions=16, encoding_format="float"
        )
        raw = await client.embeddings.create(
            model="e", input="same text", dimensions=16, encoding_format="base64"
        )
    sent = [r.json["encoding_format"] for r in server.state.requests]
    assert sent == ["base64", "float", "base64"]
    assert isinstance(raw.data[0].embedding, str)
    # float32 on the wire: equal to the float form within float32 precision
    assert default.data[0].embedding == pytest.approx(floats.data[0].embedding, rel=1e-6)
