"""WebSockets of the Azure clients (``realtime.connect``, ``beta.realtime.connect``,
``responses.connect``) against the scripted ``websockets`` server (``realtime_server.py``).

The handshake is compared with the one the official ``openai.AzureOpenAI`` sends to the
same server for the same configuration (path, query, credential headers): the SDK's Azure
Realtime URL is ``wss`` whatever the endpoint's scheme, so those cases run over TLS with a
``trustme`` certificate, the others through ``websocket_base_url``. The async tests run on
the four (loop, driver) combinations of ``make_http_client``; the last section runs the
blocking ``AzureOpenAI``. Every test is bounded by ``anyio.fail_after`` or a timeout mark.
"""

from __future__ import annotations

import ssl
import uuid
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import anyio
import openai
import pytest
import trustme
from realtime_server import RealtimeServer, Record

from backends import AsyncHTTPClient
from backends._sync._pool import SyncHTTPClient
from openai_proto import (
    AsyncAzureOpenAI,
    AuthenticationError,
    AzureOpenAI,
    OpenAIError,
)
from openai_proto.types import realtime as rt

MakeHTTP = Callable[..., AsyncHTTPClient]
LIMIT = 10.0  # seconds any test may take
VERSION = "2025-04-01-preview"
TOKEN = "ad-token"
#: Headers that carry the credential or pick the API: compared with the official SDK's.
AUTH = ("api-key", "authorization", "openai-beta")


@pytest.fixture(scope="module")
def ws_server() -> Iterator[RealtimeServer]:
    with RealtimeServer() as server:
        yield server


@pytest.fixture(scope="module")
def wss_server(tls_ca: trustme.CA) -> Iterator[RealtimeServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with RealtimeServer(ssl_context=context) as server:
        yield server


@pytest.fixture(scope="module")
def trust(tls_ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    tls_ca.configure_trust(context)
    return context


def new_test() -> str:
    return uuid.uuid4().hex


def auth_of(record: Record) -> Dict[str, Optional[str]]:
    return {name: record.header(name) for name in AUTH}


def query_of(record: Record) -> Dict[str, List[str]]:
    return {key: value for key, value in record.query.items() if key != "test"}


# Configurations ------------------------------------------------------------------------
# name -> (TLS server?, client arguments given the server's port, connect arguments)

Case = Tuple[bool, Callable[[int], Dict[str, Any]], Dict[str, Any]]

CASES: Dict[str, Case] = {
    "api key, fixed deployment, https endpoint": (
        True,
        lambda port: {
            "azure_endpoint": f"https://127.0.0.1:{port}",
            "azure_deployment": "my-dep",
            "api_key": "az-key",
        },
        {"model": "gpt-realtime"},
    ),
    "AD token, http endpoint still goes to wss": (
        True,
        lambda port: {"azure_endpoint": f"http://127.0.0.1:{port}/", "azure_ad_token": TOKEN},
        {"model": "gpt-realtime"},
    ),
    "token provider, websocket_base_url, call_id, default query": (
        False,
        lambda port: {
            "azure_endpoint": f"http://127.0.0.1:{port}",
            "azure_deployment": "my-dep",
            "websocket_base_url": f"ws://127.0.0.1:{port}/custom/",
            "azure_ad_token_provider": True,  # replaced by a provider of TOKEN
            "default_query": {"dq": "1"},
        },
        {"model": "gpt-realtime", "call_id": "rtc_1"},
    ),
    "base_url, extra_query overrides api-version, default api-key wins": (
        False,
        lambda port: {
            "base_url": f"http://127.0.0.1:{port}/openai",
            "websocket_base_url": f"ws://127.0.0.1:{port}/openai",
            "api_key": "az-key",
            "default_headers": {"api-key": "from-defaults"},
        },
        {"model": "gpt-realtime", "extra_query": {"api-version": "mine", "x": "1"}},
    ),
    "extra_headers replace the credential": (
        False,
        lambda port: {
            "azure_endpoint": f"http://127.0.0.1:{port}",
            "websocket_base_url": f"ws://127.0.0.1:{port}/openai",
            "azure_ad_token": TOKEN,
        },
        {"model": "gpt-realtime", "extra_headers": {"Authorization": "Bearer mine"}},
    ),
}


def server_for(request: pytest.FixtureRequest, tls: bool) -> Tuple[RealtimeServer, Any]:
    if not tls:
        return request.getfixturevalue("ws_server"), None
    return request.getfixturevalue("wss_server"), request.getfixturevalue("trust")


def sdk_kwargs(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    if kwargs.get("azure_ad_token_provider") is True:
        return {**kwargs, "azure_ad_token_provider": lambda: TOKEN}
    return kwargs


def ours_kwargs(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    if kwargs.get("azure_ad_token_provider") is True:

        async def provider() -> str:
            await anyio.sleep(0)
            return TOKEN

        return {**kwargs, "azure_ad_token_provider": provider}
    return kwargs


def sdk_record(
    server: RealtimeServer,
    context: Optional[ssl.SSLContext],
    client_kwargs: Dict[str, Any],
    connect_kwargs: Dict[str, Any],
    api: str = "realtime",
) -> Record:
    """The handshake the official (blocking) client sends, as the server recorded it."""
    test = new_test()
    client = openai.AzureOpenAI(api_version=VERSION, **sdk_kwargs(client_kwargs))
    kwargs = dict(connect_kwargs)
    kwargs["extra_query"] = {**kwargs.get("extra_query", {}), "test": test}
    if context is not None:
        kwargs["websocket_connection_options"] = {"ssl": context}
    resource: Any = {
        "realtime": client.realtime,
        "beta": client.beta.realtime,
        "responses": client.responses,
    }[api]
    with warnings.catch_warnings():
        # The SDK opens websockets' blocking connection without a context manager, which
        # websockets >= 17.1 reports as deprecated; the SDK is only the reference here.
        warnings.filterwarnings(
            "ignore", "connect.. must be used as a context manager", DeprecationWarning
        )
        with resource.connect(**kwargs) as connection:
            if api != "responses":
                connection.recv()
    return server.record(test)


async def our_record(
    make_http_client: MakeHTTP,
    server: RealtimeServer,
    context: Optional[ssl.SSLContext],
    client_kwargs: Dict[str, Any],
    connect_kwargs: Dict[str, Any],
    api: str = "realtime",
) -> Record:
    test = new_test()
    kwargs = dict(connect_kwargs)
    kwargs["extra_query"] = {**kwargs.get("extra_query", {}), "test": test}
    client = AsyncAzureOpenAI(
        api_version=VERSION,
        http_client=make_http_client(ssl_context=context),
        _environ={},
        **ours_kwargs(client_kwargs),
    )
    async with client:
        resource: Any = {
            "realtime": client.realtime,
            "beta": client.beta.realtime,
            "responses": client.responses,
        }[api]
        async with resource.connect(**kwargs) as connection:
            if api != "responses":
                await connection.recv()
    return server.record(test)


# The handshake, as the official SDK's ------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("case", list(CASES))
async def test_realtime_handshake_matches_the_official_client(
    make_http_client: MakeHTTP, request: pytest.FixtureRequest, case: str
) -> None:
    tls, client_kwargs, connect_kwargs = CASES[case]
    server, context = server_for(request, tls)
    kwargs = client_kwargs(server.port)
    expected = sdk_record(server, context, kwargs, connect_kwargs)
    with anyio.fail_after(LIMIT):
        got = await our_record(make_http_client, server, context, kwargs, connect_kwargs)
    assert (got.path, query_of(got), auth_of(got)) == (
        expected.path,
        query_of(expected),
        auth_of(expected),
    )
    assert got.query["api-version"] and got.query["deployment"]
    assert "model" not in got.query  # Azure names the deployment instead


@pytest.mark.anyio
async def test_realtime_url_and_credential_spelled_out(
    make_http_client: MakeHTTP, wss_server: RealtimeServer, trust: ssl.SSLContext
) -> None:
    _, client_kwargs, connect_kwargs = CASES["api key, fixed deployment, https endpoint"]
    with anyio.fail_after(LIMIT):
        got = await our_record(
            make_http_client, wss_server, trust, client_kwargs(wss_server.port), connect_kwargs
        )
    assert got.path == "/openai/realtime"  # the deployment goes in the query
    assert query_of(got) == {"api-version": [VERSION], "deployment": ["my-dep"]}
    assert auth_of(got) == {"api-key": "az-key", "authorization": None, "openai-beta": None}


@pytest.mark.anyio
@pytest.mark.parametrize("case", ["AD token, http endpoint still goes to wss"])
async def test_beta_realtime_matches_the_official_client(
    make_http_client: MakeHTTP, request: pytest.FixtureRequest, case: str
) -> None:
    tls, client_kwargs, connect_kwargs = CASES[case]
    server, context = server_for(request, tls)
    kwargs = client_kwargs(server.port)
    expected = sdk_record(server, context, kwargs, connect_kwargs, api="beta")
    with anyio.fail_after(LIMIT):
        got = await our_record(make_http_client, server, context, kwargs, connect_kwargs, "beta")
    assert (got.path, query_of(got), auth_of(got)) == (
        expected.path,
        query_of(expected),
        auth_of(expected),
    )
    assert got.header("OpenAI-Beta") == "realtime=v1"
    assert got.header("Authorization") == f"Bearer {TOKEN}"


RESPONSES_CASES: Dict[str, Dict[str, Any]] = {
    "api key, fixed deployment": {"azure_deployment": "my-dep", "api_key": "az-key"},
    "token provider": {"azure_ad_token_provider": True},
    "default api-key loses to the credential": {
        "api_key": "az-key",
        "default_headers": {"api-key": "from-defaults"},
    },
}


@pytest.mark.anyio
@pytest.mark.parametrize("case", list(RESPONSES_CASES))
async def test_responses_connect_matches_the_official_client(
    make_http_client: MakeHTTP, ws_server: RealtimeServer, case: str
) -> None:
    kwargs = {"azure_endpoint": f"http://127.0.0.1:{ws_server.port}", **RESPONSES_CASES[case]}
    expected = sdk_record(ws_server, None, kwargs, {}, api="responses")
    with anyio.fail_after(LIMIT):
        got = await our_record(make_http_client, ws_server, None, kwargs, {}, "responses")
    assert (got.path, query_of(got), auth_of(got)) == (
        expected.path,
        query_of(expected),
        auth_of(expected),
    )
    assert got.path.endswith("/responses") and got.query["api-version"] == [VERSION]


# Sessions --------------------------------------------------------------------------------


async def until_done(connection: Any) -> List[Any]:
    events: List[Any] = []
    async for event in connection:
        events.append(event)
        if event.type == "response.done":
            break
    return events


@pytest.mark.anyio
@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
async def test_full_session_with_a_token_provider(
    make_http_client: MakeHTTP, request: pytest.FixtureRequest, tls: bool
) -> None:
    server, context = server_for(request, tls)
    tokens: List[str] = []

    async def provider() -> str:
        await anyio.sleep(0)
        tokens.append(f"tok-{len(tokens) + 1}")
        return tokens[-1]

    base = {} if tls else {"websocket_base_url": f"ws://127.0.0.1:{server.port}/openai"}
    client = AsyncAzureOpenAI(
        api_version=VERSION,
        azure_endpoint=f"https://127.0.0.1:{server.port}",
        azure_ad_token_provider=provider,
        http_client=make_http_client(ssl_context=context),
        _environ={},
        **base,
    )
    first, second = new_test(), new_test()
    with anyio.fail_after(LIMIT):
        async with client:
            async with client.realtime.connect(
                model="gpt-realtime", extra_query={"test": first}
            ) as connection:
                created = await connection.recv()
                assert isinstance(created, rt.RealtimeServerEventSessionCreated)
                await connection.session.update(session={"type": "realtime", "instructions": "hi"})
                updated = await connection.recv()
                assert isinstance(updated, rt.RealtimeServerEventSessionUpdated)
                await connection.response.create(response={"output_modalities": ["text"]})
                events = await until_done(connection)
            async with client.realtime.connect(
                model="gpt-realtime", extra_query={"test": second}
            ) as connection:
                assert (await connection.recv()).type == "session.created"

    assert events[0].type == "response.created" and events[-1].response.status == "completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Hello"
    assert server.record(first).events == [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "hi"}},
        {"type": "response.create", "response": {"output_modalities": ["text"]}},
    ]
    # The provider is awaited for every handshake.
    assert tokens == ["tok-1", "tok-2"]
    assert server.record(first).header("Authorization") == "Bearer tok-1"
    assert server.record(second).header("Authorization") == "Bearer tok-2"
    assert server.record(second).query["deployment"] == ["gpt-realtime"]


@pytest.mark.anyio
async def test_reconnection_fetches_a_new_token(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    count = 0

    def provider() -> str:  # a plain function works on the async client too
        nonlocal count
        count += 1
        return f"tok-{count}"

    test = new_test()
    client = AsyncAzureOpenAI(
        api_version=VERSION,
        azure_endpoint=f"http://127.0.0.1:{ws_server.port}",
        azure_deployment="my-dep",
        websocket_base_url=f"ws://127.0.0.1:{ws_server.port}/openai",
        azure_ad_token_provider=provider,
        http_client=make_http_client(),
        _environ={},
    )
    with anyio.fail_after(LIMIT):
        async with client:
            manager = client.realtime.connect(
                model="gpt-realtime",
                extra_query={"test": test, "close_code": "1011"},
                on_reconnecting=lambda event: None,
                initial_delay=0.01,
                max_delay=0.02,
            )
            async with manager as connection:
                assert (await connection.recv()).type == "session.created"  # connection 1
                assert (await connection.recv()).type == "session.created"  # connection 2
    first, second = ws_server.history[test]
    assert first.header("Authorization") == "Bearer tok-1"
    assert second.header("Authorization") == "Bearer tok-2"
    assert second.path == "/openai/realtime" and second.query["deployment"] == ["my-dep"]


@pytest.mark.anyio
async def test_rejected_credential_is_an_authentication_error(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    client = AsyncAzureOpenAI(
        api_version=VERSION,
        azure_endpoint=f"http://127.0.0.1:{ws_server.port}",
        websocket_base_url=f"ws://127.0.0.1:{ws_server.port}/openai",
        azure_ad_token="bad-key",  # the server rejects "Bearer bad-key" with 401
        http_client=make_http_client(),
        _environ={},
    )
    with anyio.fail_after(LIMIT):
        async with client:
            with pytest.raises(AuthenticationError) as info:
                async with client.realtime.connect(
                    model="gpt-realtime", extra_query={"test": new_test()}
                ):
                    pass
    assert info.value.status_code == 401


@pytest.mark.anyio
async def test_model_is_required_as_in_the_official_client(
    make_http_client: MakeHTTP, ws_server: RealtimeServer
) -> None:
    client = AsyncAzureOpenAI(
        api_version=VERSION,
        azure_endpoint=f"http://127.0.0.1:{ws_server.port}",
        azure_deployment="my-dep",  # not enough: the SDK asks for `model` all the same
        api_key="az-key",
        http_client=make_http_client(),
        _environ={},
    )
    official = openai.AzureOpenAI(
        api_version=VERSION, azure_endpoint="http://127.0.0.1:1", api_key="k"
    )
    with pytest.raises(openai.OpenAIError) as sdk_error:
        official.realtime.connect().__enter__()
    async with client:
        with pytest.raises(OpenAIError) as error:
            await client.realtime.connect().enter()
    assert str(error.value) == str(sdk_error.value) == "`model` is required for Azure Realtime API"


# The blocking client -----------------------------------------------------------------------


@pytest.mark.timeout(LIMIT)
@pytest.mark.parametrize("tls", [False, True], ids=["ws", "wss"])
def test_blocking_session_with_a_token_provider(request: pytest.FixtureRequest, tls: bool) -> None:
    server, context = server_for(request, tls)
    calls: List[int] = []

    def provider() -> str:
        calls.append(1)
        return TOKEN

    base = {} if tls else {"websocket_base_url": f"ws://127.0.0.1:{server.port}/openai"}
    test = new_test()
    with AzureOpenAI(
        api_version=VERSION,
        azure_endpoint=f"https://127.0.0.1:{server.port}",
        azure_deployment="my-dep",
        azure_ad_token_provider=provider,
        http_client=SyncHTTPClient(ssl_context=context),
        timeout=LIMIT / 2,
        _environ={},
        **base,
    ) as client:
        with client.realtime.connect(model="gpt-realtime", extra_query={"test": test}) as conn:
            assert conn.recv().type == "session.created"
            conn.response.create(response={"output_modalities": ["text"]})
            events = []
            for event in conn:
                events.append(event)
                if event.type == "response.done":
                    break
    assert events[-1].response.status == "completed"
    record = server.record(test)
    assert record.events == [
        {"type": "response.create", "response": {"output_modalities": ["text"]}}
    ]
    assert calls == [1]
    assert (record.path, query_of(record)) == (
        "/openai/realtime",
        {"api-version": [VERSION], "deployment": ["my-dep"]},
    )
    assert record.header("Authorization") == f"Bearer {TOKEN}"


@pytest.mark.timeout(LIMIT)
@pytest.mark.parametrize("case", list(CASES))
def test_blocking_handshake_matches_the_official_client(
    request: pytest.FixtureRequest, case: str
) -> None:
    tls, client_kwargs, connect_kwargs = CASES[case]
    server, context = server_for(request, tls)
    kwargs = sdk_kwargs(client_kwargs(server.port))
    expected = sdk_record(server, context, kwargs, connect_kwargs)
    test = new_test()
    connect = dict(connect_kwargs)
    connect["extra_query"] = {**connect.get("extra_query", {}), "test": test}
    with AzureOpenAI(
        api_version=VERSION,
        http_client=SyncHTTPClient(ssl_context=context),
        timeout=LIMIT / 2,
        _environ={},
        **kwargs,
    ) as client:
        with client.realtime.connect(**connect) as connection:
            connection.recv()
    got = server.record(test)
    assert (got.path, query_of(got), auth_of(got)) == (
        expected.path,
        query_of(expected),
        auth_of(expected),
    )
