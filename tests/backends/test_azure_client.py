"""``AsyncAzureOpenAI`` / ``AzureOpenAI`` end to end on the loopback server.

The fake server serves ``/openai/...`` and ``/openai/deployments/{name}/...`` with its
``/v1/...`` handlers and accepts an ``api-key`` header as a credential. Requests are
compared with those the official ``openai.AzureOpenAI`` sends for the same calls.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import openai
import pytest

from backends.fake_openai import FakeServer, RecordedRequest, Reply
from openai_proto import AsyncAzureOpenAI, AuthenticationError, AzureOpenAI

pytestmark = pytest.mark.anyio

MESSAGES: Any = [{"role": "user", "content": "hello there"}]
VERSION = "2024-10-21"
WIRE_HEADERS = ["api-key", "authorization", "content-type", "accept", "x-custom", "x-default"]


def azure(server: FakeServer, **kwargs: Any) -> AsyncAzureOpenAI:
    kwargs.setdefault("api_version", VERSION)
    kwargs.setdefault("azure_endpoint", server.origin)
    if not {"api_key", "azure_ad_token", "azure_ad_token_provider"} & set(kwargs):
        kwargs["api_key"] = "az-key"
    return AsyncAzureOpenAI(_environ={}, **kwargs)


def paths(server: FakeServer) -> List[Tuple[str, str, Dict[str, str]]]:
    return [(r.method, r.path, r.query) for r in server.state.requests]


# -- async --------------------------------------------------------------------------------


async def test_chat_goes_to_the_model_deployment_with_api_key(server: FakeServer) -> None:
    async with azure(server) as client:
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        page = await client.models.list()
    assert completion.choices[0].message.content == "Hello! You said: hello there"
    assert [m.id for m in page.data][:1] == ["gpt-4o-mini"]
    assert paths(server) == [
        ("POST", "/openai/deployments/gpt-4o-mini/chat/completions", {"api-version": VERSION}),
        ("GET", "/openai/models", {"api-version": VERSION}),
    ]
    for request in server.state.requests:
        assert request.headers["api-key"] == "az-key"
        assert "authorization" not in request.headers


async def test_fixed_deployment_and_streaming(server: FakeServer) -> None:
    async with azure(server, azure_deployment="my-dep", azure_ad_token="tok") as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=3
        )
        chunks = [chunk async for chunk in stream]
        await client.embeddings.create(model="text-embedding-3-small", input="hi")
        await client.models.retrieve("gpt-4o")
        assert client.api_key == "<missing API key>"
        assert client.base_url == f"{server.origin}/openai/deployments/my-dep/"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) == 3
    assert paths(server) == [
        ("POST", "/openai/deployments/my-dep/chat/completions", {"api-version": VERSION}),
        ("POST", "/openai/deployments/my-dep/embeddings", {"api-version": VERSION}),
        ("GET", "/openai/models/gpt-4o", {"api-version": VERSION}),
    ]
    assert {r.headers["authorization"] for r in server.state.requests} == {"Bearer tok"}


async def test_token_providers_are_called_per_attempt(server: FakeServer) -> None:
    calls: List[str] = []

    async def async_token() -> str:
        calls.append("async")
        return f"tok-{len(calls)}"

    def sync_token() -> str:
        calls.append("sync")
        return f"tok-{len(calls)}"

    server.state.script("/openai/models", Reply(status=500))
    async with azure(server, azure_ad_token_provider=async_token, max_retries=1) as client:
        await client.models.list()
    async with azure(server, azure_ad_token_provider=sync_token) as client:
        await client.models.list()
    assert calls == ["async", "async", "sync"]
    auth = [r.headers["authorization"] for r in server.state.requests]
    assert auth == ["Bearer tok-1", "Bearer tok-2", "Bearer tok-3"]


async def test_empty_token_from_the_provider_is_refused(server: FakeServer) -> None:
    async with azure(server, azure_ad_token_provider=lambda: "") as client:
        with pytest.raises(ValueError, match="non-empty string"):
            await client.models.list()
    assert server.state.requests == []


async def test_async_api_key_provider(server: FakeServer) -> None:
    async def key() -> str:
        return "az-from-provider"

    async with azure(server, api_key=key) as client:
        await client.models.list()
    assert server.state.requests[0].headers["api-key"] == "az-from-provider"


async def test_wrong_key_is_an_authentication_error(server: FakeServer) -> None:
    server.state.api_key = "right"
    async with azure(server, api_key="wrong") as client:
        with pytest.raises(AuthenticationError):
            await client.models.list()
        await client.with_options(api_key="right").models.list()
    assert [r.headers["api-key"] for r in server.state.requests] == ["wrong", "right"]


async def test_copy_keeps_routing_and_switches_credentials(server: FakeServer) -> None:
    async with azure(server, azure_deployment="dep", default_query={"a": "1"}) as client:
        copy = client.with_options(azure_ad_token="tok", api_version="2099-01-01", max_retries=0)
        assert copy.http_client is client.http_client
        assert copy.max_retries == 0 and client.max_retries == 2
        await copy.models.list()
        await copy.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        replaced = client.copy(set_default_query={"b": "2"})
        await replaced.models.list()
        moved = client.copy(base_url=f"{server.origin}/openai")
        await moved.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    new = {"a": "1", "api-version": "2099-01-01"}
    assert paths(server) == [
        ("GET", "/openai/models", new),
        ("POST", "/openai/deployments/dep/chat/completions", new),
        ("GET", "/openai/models", {"b": "2", "api-version": VERSION}),
        ("POST", "/openai/deployments/gpt-4o/chat/completions", {"a": "1", "api-version": VERSION}),
    ]
    requests = server.state.requests
    assert [r.headers.get("authorization") for r in requests[:2]] == ["Bearer tok"] * 2
    assert all("api-key" not in r.headers for r in requests[:2])  # the key did not carry over
    assert [r.headers.get("api-key") for r in requests[2:]] == ["az-key"] * 2


def test_constructor_errors_are_the_official_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_VERSION", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("AZURE_OPENAI_AD_TOKEN", raising=False)
    for kwargs in (
        {},
        {"api_key": "k"},
        {"api_key": "k", "api_version": "v"},
        {"api_key": "k", "azure_ad_token": "t"},
    ):
        with pytest.raises(Exception) as ours:
            AsyncAzureOpenAI(**kwargs)
        with pytest.raises(Exception) as theirs:
            openai.AsyncAzureOpenAI(**kwargs)
        assert (type(ours.value).__name__, str(ours.value)) == (
            type(theirs.value).__name__,
            str(theirs.value),
        )


# -- blocking, and the same requests as the official client --------------------------------


def _both(
    server: FakeServer, call: Callable[[Any], Any], **kwargs: Any
) -> Tuple[List[RecordedRequest], List[RecordedRequest]]:
    common: Dict[str, Any] = {"api_version": VERSION, "azure_endpoint": server.origin, **kwargs}
    with openai.AzureOpenAI(**common) as official:
        call(official)
    theirs = server.state.requests
    server.state.reset()
    with AzureOpenAI(_environ={}, **common) as ours:
        call(ours)
    return theirs, server.state.requests


CALLS: Dict[str, Callable[[Any], Any]] = {
    "chat": lambda c: c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        extra_headers={"X-Custom": "1"},
        extra_query={"q": "x"},
        extra_body={"seed": 7},
    ),
    "embeddings": lambda c: c.embeddings.create(model="text-embedding-3-small", input="hi"),
    "speech": lambda c: c.audio.speech.create(model="tts-1", voice="alloy", input="hi").read(),
    "models": lambda c: (c.models.list(), c.models.retrieve("gpt-4o")),
    "files": lambda c: c.files.create(file=("a.jsonl", b"{}\n"), purpose="batch"),
}
CREDENTIALS: Dict[str, Dict[str, Any]] = {
    "api key": {"api_key": "az-key"},
    "AD token, deployment": {"azure_ad_token": "tok", "azure_deployment": "dep"},
    "token provider": {"azure_ad_token_provider": lambda: "tok-p"},
    "default headers": {"api_key": "az-key", "default_headers": {"X-Default": "d"}},
}


@pytest.mark.parametrize("creds", list(CREDENTIALS))
@pytest.mark.parametrize("name", list(CALLS))
def test_blocking_requests_match_the_official_client(
    server: FakeServer, name: str, creds: str
) -> None:
    theirs, ours = _both(server, CALLS[name], **CREDENTIALS[creds])
    assert len(ours) == len(theirs) > 0
    for mine, official in zip(ours, theirs):
        assert (mine.method, mine.path, mine.query) == (
            official.method,
            official.path,
            official.query,
        )
        if not mine.headers.get("content-type", "").startswith("multipart/"):
            assert mine.json == official.json
        for header in WIRE_HEADERS:
            if header == "content-type" and official.headers.get(header, "").startswith("multi"):
                assert mine.headers[header].startswith("multipart/form-data; boundary=")
                continue
            assert mine.headers.get(header) == official.headers.get(header), header


def test_blocking_copy_and_key_provider(server: FakeServer) -> None:
    keys = iter(["k1", "k2"])
    with AzureOpenAI(
        api_version=VERSION, azure_endpoint=server.origin, api_key=lambda: next(keys), _environ={}
    ) as client:
        client.models.list()
        client.with_options(timeout=5.0).models.list()
    assert [r.headers["api-key"] for r in server.state.requests] == ["k1", "k2"]
    assert paths(server) == [("GET", "/openai/models", {"api-version": VERSION})] * 2
