"""Azure OpenAI decisions (pure): configuration, errors, routing, auth headers.

Configuration and errors are compared with the official ``openai.AzureOpenAI`` built from
the same arguments and environment; the wire-level comparison is in
``tests/backends/test_azure_client.py``.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

import msgspec
import openai
import pytest

from openai_proto import OpenAIError
from openai_proto._azure import (
    API_KEY_SENTINEL,
    DEPLOYMENT_ENDPOINTS,
    AzureSettings,
    MutuallyExclusiveAuthError,
    auth_headers,
    check_ad_token,
)
from openai_proto._catalogue import OPERATIONS
from openai_proto._config import ClientConfig
from openai_proto._operation import Operation
from openai_proto._request import build_request
from openai_proto._types import omit
from openai_proto.realtime import build_realtime_url

ENDPOINT = "https://res.openai.azure.com"
AZURE_ENV = (
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "OPENAI_API_KEY",
)


def _provider() -> str:
    return "from-provider"


def resolve(environ: Optional[Mapping[str, str]] = None, **kw: Any) -> AzureSettings:
    return AzureSettings.resolve(environ=environ or {}, **kw)


# -- configuration: the same outcome as the official client, argument by argument --------

CASES: Dict[str, Tuple[Dict[str, Any], Dict[str, str]]] = {
    "endpoint + key": ({"azure_endpoint": ENDPOINT, "api_key": "k", "api_version": "v1"}, {}),
    "endpoint with slash + deployment": (
        {"azure_endpoint": ENDPOINT + "/", "azure_deployment": "dep", "api_key": "k"},
        {"OPENAI_API_VERSION": "2024-10-21"},
    ),
    "everything from the environment": (
        {},
        {
            "OPENAI_API_VERSION": "v",
            "AZURE_OPENAI_ENDPOINT": ENDPOINT,
            "AZURE_OPENAI_API_KEY": "env-key",
        },
    ),
    "env AD token wins over env key": (
        {"api_version": "v", "azure_endpoint": ENDPOINT},
        {"AZURE_OPENAI_API_KEY": "env-key", "AZURE_OPENAI_AD_TOKEN": "env-tok"},
    ),
    "explicit token ignores env key": (
        {"api_version": "v", "azure_endpoint": ENDPOINT, "azure_ad_token": "t"},
        {"AZURE_OPENAI_API_KEY": "env-key"},
    ),
    "explicit key ignores env token": (
        {"api_version": "v", "azure_endpoint": ENDPOINT, "api_key": "k"},
        {"AZURE_OPENAI_AD_TOKEN": "env-tok"},
    ),
    "base_url, deployment ignored": (
        {"api_version": "v", "base_url": ENDPOINT + "/custom", "azure_deployment": "d"},
        {"AZURE_OPENAI_API_KEY": "k", "AZURE_OPENAI_ENDPOINT": "https://ignored.example"},
    ),
    "OPENAI_API_KEY is not an Azure credential": (
        {"api_version": "v", "azure_endpoint": ENDPOINT},
        {"OPENAI_API_KEY": "sk-openai"},
    ),
    "missing api version": ({"azure_endpoint": ENDPOINT, "api_key": "k"}, {}),
    "missing endpoint": ({"api_version": "v", "api_key": "k"}, {}),
    "base_url and endpoint": (
        {"api_version": "v", "api_key": "k", "base_url": ENDPOINT, "azure_endpoint": ENDPOINT},
        {},
    ),
    "key and token": ({"api_key": "k", "azure_ad_token": "t", "api_version": "v"}, {}),
    "token and provider": (
        {"azure_ad_token": "t", "azure_ad_token_provider": _provider, "api_version": "v"},
        {},
    ),
    "missing credentials come first": ({}, {}),
}


def _official(kwargs: Dict[str, Any]) -> Tuple[str, str]:
    try:
        client = openai.AzureOpenAI(**kwargs)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return str(client.base_url), f"{client.api_key}|{client._azure_ad_token}"


def _ours(kwargs: Dict[str, Any], environ: Mapping[str, str]) -> Tuple[str, str]:
    args = dict(kwargs)
    provider = args.pop("azure_ad_token_provider", None)
    try:
        s = resolve(environ, has_ad_token_provider=provider is not None, **args)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    cfg = ClientConfig.create(api_key="", base_url=s.base_url, environ={})
    return cfg.base_url, f"{s.api_key or API_KEY_SENTINEL}|{s.azure_ad_token}"


@pytest.mark.parametrize("name", list(CASES))
def test_configuration_matches_the_official_client(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwargs, environ = CASES[name]
    for var in AZURE_ENV:
        monkeypatch.delenv(var, raising=False)
    for var, value in environ.items():
        monkeypatch.setenv(var, value)
    assert _ours(kwargs, environ) == _official(kwargs), name


def test_error_types_and_messages() -> None:
    with pytest.raises(MutuallyExclusiveAuthError, match="mutually exclusive; Only one"):
        resolve(api_key="k", has_ad_token_provider=True, api_version="v")
    with pytest.raises(MutuallyExclusiveAuthError):
        resolve(has_key_provider=True, azure_ad_token="t", api_version="v")
    assert issubclass(MutuallyExclusiveAuthError, OpenAIError)
    with pytest.raises(OpenAIError, match=r"^Missing credentials\. Please pass one of `api_key`"):
        resolve(api_version="v", azure_endpoint=ENDPOINT)
    with pytest.raises(ValueError, match=r"`OPENAI_API_VERSION` environment variable$"):
        resolve(api_key="k", azure_endpoint=ENDPOINT)
    with pytest.raises(ValueError, match=r"`AZURE_OPENAI_ENDPOINT` environment variable$"):
        resolve(api_key="k", api_version="v")
    with pytest.raises(ValueError, match=r"^base_url and azure_endpoint are mutually exclusive$"):
        resolve(api_key="k", api_version="v", base_url=ENDPOINT, azure_endpoint=ENDPOINT)


def test_providers_count_as_credentials() -> None:
    by_key = resolve(has_key_provider=True, api_version="v", azure_endpoint=ENDPOINT)
    by_token = resolve(has_ad_token_provider=True, api_version="v", azure_endpoint=ENDPOINT)
    assert by_key.api_key is None and by_token.azure_ad_token is None
    # a provider keeps the environment's credentials out, as an explicit one does
    env = {"AZURE_OPENAI_AD_TOKEN": "env-tok", "AZURE_OPENAI_API_KEY": "env-key"}
    s = resolve(env, has_key_provider=True, api_version="v", azure_endpoint=ENDPOINT)
    assert (s.api_key, s.azure_ad_token) == (None, None)


def test_api_version_overrides_the_default_query() -> None:
    s = resolve(api_key="k", api_version="2024-06-01", azure_endpoint=ENDPOINT)
    assert s.default_query(None) == {"api-version": "2024-06-01"}
    assert s.default_query({"a": "1", "api-version": "old"}) == {
        "a": "1",
        "api-version": "2024-06-01",
    }


# -- routing ------------------------------------------------------------------------------

CHAT = OPERATIONS["chat.completions.create"]
MODELS = OPERATIONS["models.list"]
TRANSCRIBE = OPERATIONS["audio.transcriptions.create"]


def _built(settings: AzureSettings, op: Operation, body: Optional[Dict[str, object]] = None) -> str:
    """The URL one call is sent to, through the same functions the engine uses."""
    config = ClientConfig.create(
        api_key="",
        base_url=settings.base_url,
        default_query=settings.default_query(None),
        environ={},
    )
    config, routed = settings.route(config, op, body)
    request = build_request(config, routed, body=body, token_bytes=lambda n: b"x" * n)
    return request.url


def test_model_becomes_the_deployment_of_deployment_endpoints() -> None:
    s = resolve(api_key="k", api_version="v", azure_endpoint=ENDPOINT)
    assert _built(s, CHAT, {"model": "gpt-4o", "messages": []}) == (
        f"{ENDPOINT}/openai/deployments/gpt-4o/chat/completions?api-version=v"
    )
    assert _built(s, MODELS) == f"{ENDPOINT}/openai/models?api-version=v"
    # no model (or not a string): the path stays as it is
    assert _built(s, CHAT, {"messages": []}) == f"{ENDPOINT}/openai/chat/completions?api-version=v"


def test_deployment_endpoints_are_exactly_the_official_list() -> None:
    from openai.lib.azure import _deployments_endpoints

    assert DEPLOYMENT_ENDPOINTS == _deployments_endpoints
    catalogued = {op.path for op in OPERATIONS.values()}
    assert DEPLOYMENT_ENDPOINTS <= catalogued


def test_model_is_quoted_as_a_path_segment_like_the_official_sdk() -> None:
    from openai._utils import path_template

    s = resolve(api_key="k", api_version="v", azure_endpoint=ENDPOINT)
    model = "a b/c:d@e?f#g%h~i"
    config = ClientConfig.create(api_key="", base_url=s.base_url, environ={})
    _, routed = s.route(config, CHAT, {"model": model})
    assert routed.path == path_template("/deployments/{model}", model=model) + "/chat/completions"


def test_fixed_deployment_routes_other_endpoints_to_the_endpoint() -> None:
    s = resolve(api_key="k", api_version="v", azure_endpoint=ENDPOINT + "/", azure_deployment="d")
    assert s.base_url == f"{ENDPOINT}/openai/deployments/d"
    # the deployment comes from the base URL, whatever the body's model
    assert _built(s, CHAT, {"model": "gpt-4o"}) == (
        f"{ENDPOINT}/openai/deployments/d/chat/completions?api-version=v"
    )
    assert _built(s, MODELS) == f"{ENDPOINT}/openai/models?api-version=v"
    assert _built(s, TRANSCRIBE, {"model": "whisper-1", "file": b"RIFF"}).startswith(
        f"{ENDPOINT}/openai/deployments/d/audio/transcriptions?"
    )


def test_base_url_with_a_deployment_is_not_prefixed_again() -> None:
    s = resolve(api_key="k", api_version="v", base_url=f"{ENDPOINT}/openai/deployments/x")
    assert _built(s, CHAT, {"model": "m"}) == (
        f"{ENDPOINT}/openai/deployments/x/chat/completions?api-version=v"
    )
    # without azure_endpoint nothing is rerouted
    assert _built(s, MODELS) == f"{ENDPOINT}/openai/deployments/x/models?api-version=v"


def test_multipart_model_is_the_deployment() -> None:
    s = resolve(api_key="k", api_version="v", azure_endpoint=ENDPOINT)
    url = _built(s, TRANSCRIBE, {"model": "whisper-1", "file": b"RIFF"})
    assert url == f"{ENDPOINT}/openai/deployments/whisper-1/audio/transcriptions?api-version=v"


def test_route_leaves_the_inputs_unchanged() -> None:
    s = resolve(api_key="k", api_version="v", azure_endpoint=ENDPOINT, azure_deployment="d")
    config = ClientConfig.create(api_key="", base_url=s.base_url, environ={})
    before = (msgspec.to_builtins(config), CHAT.path)
    s.route(config, MODELS, None)
    s.route(config, CHAT, {"model": "m"})
    assert (msgspec.to_builtins(config), CHAT.path) == before


# -- auth -----------------------------------------------------------------------------------


def test_auth_headers() -> None:
    assert auth_headers(azure_ad_token="t", api_key=None) == {"Authorization": "Bearer t"}
    assert auth_headers(azure_ad_token=None, api_key="k") == {"api-key": "k"}
    assert auth_headers(azure_ad_token=None, api_key="") == {}
    assert auth_headers(azure_ad_token=None, api_key=API_KEY_SENTINEL) == {}


def test_auth_header_precedence_in_the_built_request() -> None:
    """Above ``default_headers``, below the call's ``extra_headers`` (the engine's order)."""
    op = OPERATIONS["models.list"]
    config = ClientConfig.create(api_key="", default_headers={"api-key": "default"}, environ={})
    from openai_proto._request import RequestOptions

    req = build_request(config, op, extra_headers=auth_headers(azure_ad_token=None, api_key="k"))
    assert dict(req.headers)["api-key"] == "k"
    assert "Authorization" not in dict(req.headers)
    req = build_request(
        config,
        op,
        extra_headers=auth_headers(azure_ad_token=None, api_key="k"),
        options=RequestOptions(extra_headers={"api-key": "call"}),
    )
    assert dict(req.headers)["api-key"] == "call"


class _Str(str):
    def __str__(self) -> str:
        return "other"


def test_ad_token_provider_results_are_checked() -> None:
    assert check_ad_token("tok") == "tok"
    assert check_ad_token(_Str("tok")) == "tok"
    for bad in ("", None, 3, b"tok"):
        with pytest.raises(ValueError, match="to return a non-empty string"):
            check_ad_token(bad)


# -- WebSockets: realtime.connect / beta.realtime.connect / responses.connect --------------

REALTIME: Dict[str, Tuple[Dict[str, Any], Dict[str, Any]]] = {
    "endpoint + key": (
        {"azure_endpoint": ENDPOINT, "api_key": "k"},
        {"model": "gpt-realtime", "extra_query": {}},
    ),
    "fixed deployment + AD token, endpoint with a path": (
        {"azure_endpoint": ENDPOINT + "/pre/", "azure_deployment": "dep", "azure_ad_token": "t"},
        {"model": "gpt-realtime", "extra_query": {"a": "1 2", "l": ["x", None], "n": None}},
    ),
    "http base_url, default query, call_id, api-version in extra_query": (
        {"base_url": "http://127.0.0.1:8000/custom/path", "api_key": "k"},
        {
            "model": "m",
            "extra_query": {"api-version": "mine", "deployment": "x", "z": "1"},
            "call_id": "rtc_1",
            "default_query": {"dq": "1", "nested": {"a": 1}},
        },
    ),
    "websocket_base_url keeps its query and scheme": (
        {"azure_endpoint": "http://127.0.0.1:9", "azure_deployment": "d e", "api_key": "k"},
        {
            "model": "m",
            "extra_query": {"test": "t"},
            "websocket_base_url": "ws://127.0.0.1:9/base/?w=1",
        },
    ),
    "http websocket_base_url is not mapped to ws": (
        {"azure_endpoint": "http://127.0.0.1:9", "api_key": "k"},
        {"model": "m", "extra_query": {}, "websocket_base_url": "http://127.0.0.1:9/base"},
    ),
    "token provider": (
        {"azure_endpoint": "https://h:8443", "azure_deployment": "dep"},
        {"model": "m", "extra_query": {}, "token": "from-provider"},
    ),
}


def _ws_config(settings: AzureSettings, args: Mapping[str, Any]) -> ClientConfig:
    return ClientConfig.create(
        api_key="",
        base_url=settings.base_url,
        websocket_base_url=args.get("websocket_base_url"),
        default_query=settings.default_query(args.get("default_query")),
        environ={},
    )


@pytest.mark.parametrize("name", list(REALTIME))
def test_realtime_url_and_credential_match_the_official_client(name: str) -> None:
    kwargs, args = REALTIME[name]
    token = args.get("token")
    official = openai.AzureOpenAI(
        api_version="2025-04-01-preview",
        websocket_base_url=args.get("websocket_base_url"),
        default_query=args.get("default_query"),
        azure_ad_token_provider=(lambda: token) if token else None,
        **kwargs,
    )
    query = dict(args["extra_query"])
    if "call_id" in args:
        query["call_id"] = args["call_id"]
    url, headers = official._configure_realtime(args["model"], query)

    settings = resolve(
        api_version="2025-04-01-preview", has_ad_token_provider=token is not None, **kwargs
    )
    ours = settings.websocket_request(
        _ws_config(settings, args),
        path="/realtime",
        beta=False,
        model=args["model"],
        call_id=args.get("call_id"),
        extra_query=args["extra_query"],
        extra_headers={"X-Call": "1"},
        api_key=settings.api_key,
        azure_ad_token=token or settings.azure_ad_token,
    )
    assert (ours.url, ours.auth_headers) == (str(url), headers)
    assert ours.extra_headers == {"X-Call": "1"}  # the call's headers, untouched


def test_realtime_needs_a_model_on_the_ga_api_only() -> None:
    settings = resolve(api_version="v", azure_endpoint=ENDPOINT, azure_deployment="d", api_key="k")
    config = _ws_config(settings, {})
    common: Dict[str, Any] = {
        "path": "/realtime",
        "call_id": None,
        "extra_query": None,
        "extra_headers": None,
        "api_key": "k",
        "azure_ad_token": None,
    }
    with pytest.raises(OpenAIError, match=r"^`model` is required for Azure Realtime API$"):
        settings.websocket_request(config, beta=False, model=None, **common)
    beta = settings.websocket_request(config, beta=True, model="m", **common)
    assert beta.url == "wss://res.openai.azure.com/openai/realtime?api-version=v&deployment=d"


def test_realtime_credential_prefers_a_real_api_key() -> None:
    """The SDK's order for WebSockets: ``api-key`` first, else the AD token; the key's
    sentinel and an empty key count as none."""
    settings = resolve(api_version="v", azure_endpoint=ENDPOINT, azure_ad_token="t")
    config = _ws_config(settings, {})

    def credential(api_key: Optional[str], token: Optional[str]) -> Dict[str, str]:
        return settings.websocket_request(
            config,
            path="/realtime",
            beta=False,
            model="m",
            call_id=None,
            extra_query=None,
            extra_headers=None,
            api_key=api_key,
            azure_ad_token=token,
        ).auth_headers

    assert credential("k", "t") == {"api-key": "k"}
    assert credential(API_KEY_SENTINEL, "t") == {"Authorization": "Bearer t"}
    assert credential("", "t") == {"Authorization": "Bearer t"}
    assert credential(None, None) == {}


def test_responses_websocket_uses_the_client_url_and_the_http_credential() -> None:
    settings = resolve(
        api_version="v", azure_endpoint="http://127.0.0.1:9", azure_deployment="dep", api_key="k"
    )
    config = _ws_config(settings, {"default_query": {"dq": "1"}})

    def request(
        extra_headers: Optional[Mapping[str, Any]], token: Optional[str] = None
    ) -> Tuple[str, Dict[str, str], Dict[str, Any]]:
        r = settings.websocket_request(
            config,
            path="/responses",
            beta=False,
            model=None,
            call_id=None,
            extra_query={"x": "1"},
            extra_headers=extra_headers,
            api_key="k",
            azure_ad_token=token,
        )
        return r.url, r.auth_headers, r.extra_headers

    url, low, high = request({"X-Call": "1"})
    assert url == build_realtime_url(
        base_url=config.base_url,
        websocket_base_url=None,
        model=None,
        call_id=None,
        extra_query={"x": "1"},
        beta=False,
        default_query=config.default_query,
        path="/responses",
    )
    assert url == "ws://127.0.0.1:9/openai/deployments/dep/responses?dq=1&api-version=v&x=1"
    # Ranked as the request's own header: above default_headers, below the call's.
    assert (low, high) == ({}, {"api-key": "k", "X-Call": "1"})
    assert request({"API-KEY": "mine"})[2] == {"API-KEY": "mine"}
    assert request({"api-key": omit})[2] == {"api-key": omit}
    assert request(None, token="t")[2] == {"Authorization": "Bearer t"}  # AD token first
