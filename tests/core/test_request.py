"""Configuration and request building (pure): defaults, environment, headers, query, body."""

from __future__ import annotations

import msgspec
import pytest

from openai_proto import NOT_GIVEN, OpenAIError, Timeout, omit
from openai_proto._config import ClientConfig, split_base_url
from openai_proto._operation import Operation
from openai_proto._request import USER_AGENT, RequestOptions, build_request, encode_query

CHAT = Operation(name="chat.completions.create", method="POST", path="/chat/completions",
                 body_params=("messages", "model"))  # fmt: skip
FILE = Operation(name="files.retrieve", method="GET", path="/files/{file_id}",
                 path_params=("file_id",), content_type="")  # fmt: skip
BETA = Operation(name="beta.assistants.list", method="GET", path="/assistants",
                 content_type="", headers=(("OpenAI-Beta", "assistants=v2"),))  # fmt: skip


def config(**kw: object) -> ClientConfig:
    kw.setdefault("api_key", "sk-1")
    return ClientConfig.create(environ={}, **kw)  # type: ignore[arg-type]


def test_defaults_match_the_official_sdk() -> None:
    cfg = config()
    assert cfg.base_url == "https://api.openai.com/v1/"
    assert cfg.timeout == Timeout(connect=5.0, read=600.0, write=600.0, pool=600.0)
    assert cfg.max_retries == 2


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"OPENAI_API_KEY": "sk-env"}, ("sk-env", None, None, None)),
        ({"OPENAI_API_KEY": "k", "OPENAI_ORG_ID": "o", "OPENAI_PROJECT_ID": "p",
          "OPENAI_WEBHOOK_SECRET": "w"}, ("k", "o", "p", "w")),
        ({"OPENAI_ADMIN_KEY": "sk-admin"}, ("sk-admin", None, None, None)),
    ],
)  # fmt: skip
def test_environment(env: dict[str, str], expected: tuple[object, ...]) -> None:
    cfg = ClientConfig.create(environ=env)
    assert (cfg.api_key, cfg.organization, cfg.project, cfg.webhook_secret) == expected


def test_arguments_win_over_environment() -> None:
    cfg = ClientConfig.create(api_key="arg", organization="org-arg", environ={
        "OPENAI_API_KEY": "env", "OPENAI_ORG_ID": "org-env", "OPENAI_BASE_URL": "http://h/v2"})  # fmt: skip
    assert (cfg.api_key, cfg.organization, cfg.base_url) == ("arg", "org-arg", "http://h/v2/")


def test_missing_key_message_shape() -> None:
    with pytest.raises(OpenAIError, match=r"^Missing credentials\. Please pass an `api_key`"):
        ClientConfig.create(environ={})


def test_key_provider_needs_no_key() -> None:
    assert ClientConfig.create(has_key_provider=True, environ={}).api_key == ""


@pytest.mark.parametrize(
    "value, expected",
    [
        (NOT_GIVEN, Timeout(connect=5.0, read=600.0, write=600.0, pool=600.0)),
        (None, Timeout()),
        (20, Timeout(connect=20.0, read=20.0, write=20.0, pool=20.0)),
        (Timeout(read=1.0), Timeout(read=1.0)),
    ],
)
def test_timeout_forms(value: object, expected: Timeout) -> None:
    assert config(timeout=value).timeout == expected


def test_base_url_split_and_trailing_slash() -> None:
    origin, path, query = split_base_url("https://example.com:8443/openai/v1?api-version=1")
    assert (origin.scheme, origin.host, origin.port, origin.host_header) == (
        "https", "example.com", 8443, "example.com:8443")  # fmt: skip
    assert (path, query) == ("/openai/v1/", "api-version=1")
    with pytest.raises(ValueError):
        split_base_url("not a url")


def test_request_line_headers_and_body() -> None:
    req = build_request(
        config(organization="org-1", project="proj-1", default_headers={"X-App": "a"}),
        CHAT,
        body={"model": "m", "messages": [], "temperature": omit, "top_p": NOT_GIVEN, "n": None},
    )
    assert (req.method, req.target, req.url) == (
        "POST", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions")  # fmt: skip
    headers = dict(req.headers)
    assert headers["Host"] == "api.openai.com"
    assert headers["Authorization"] == "Bearer sk-1"
    assert headers["OpenAI-Organization"] == "org-1" and headers["OpenAI-Project"] == "proj-1"
    assert headers["Content-Type"] == "application/json" and headers["X-App"] == "a"
    assert headers["User-Agent"] == USER_AGENT and USER_AGENT.startswith("openai-proto/")
    assert msgspec.json.decode(req.body or b"") == {"model": "m", "messages": [], "n": None}


def test_extra_options_and_omit() -> None:
    req = build_request(
        config(default_headers={"X-Drop": "1"}, default_query={"d": "1"}),
        CHAT,
        body={"model": "m", "messages": [], "metadata": {"a": "1"}},
        options=RequestOptions(
            extra_headers={"X-Drop": omit, "User-Agent": "mine"},
            extra_query={"q": ["a", "b"], "flag": True},
            extra_body={"metadata": {"b": "2"}, "seed": 3},
            timeout=2.5,
        ),
    )
    headers = dict(req.headers)
    assert "X-Drop" not in headers and headers["User-Agent"] == "mine"
    assert req.target == "/v1/chat/completions?d=1&q=a&q=b&flag=true"
    body = msgspec.json.decode(req.body or b"")
    assert body["metadata"] == {"a": "1", "b": "2"} and body["seed"] == 3
    assert req.timeout == Timeout(connect=2.5, read=2.5, write=2.5, pool=2.5)


def test_get_has_no_body_and_path_params_are_escaped() -> None:
    req = build_request(config(), FILE, path_params={"file_id": "a/b c"})
    assert req.body is None and "Content-Type" not in dict(req.headers)
    assert req.target == "/v1/files/a%2Fb%20c"


@pytest.mark.parametrize("bad", ["", None])
def test_empty_path_param_is_a_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="Expected a non-empty value for `file_id`"):
        build_request(config(), FILE, path_params={"file_id": bad})  # type: ignore[dict-item]


def test_operation_fixed_headers() -> None:
    assert ("OpenAI-Beta", "assistants=v2") in build_request(config(), BETA).headers


def test_query_encoding_like_official() -> None:
    from openai._qs import Querystring

    params = {"a": [1, 2], "m": {"k": "v", "n": {"x": 1}}, "b": False, "skip": None, "s": "x y"}
    assert encode_query(params) == Querystring().stringify(params)


def test_base_query_is_kept() -> None:
    req = build_request(
        config(base_url="http://h/v1?api-version=2"), FILE, path_params={"file_id": "f"}
    )
    assert req.target == "/v1/files/f?api-version=2"


def test_copy_arguments_keep_merge_and_replace() -> None:
    cfg = config(organization="org", default_headers={"A": "1"}, default_query={"q": "1"})
    kept = cfg.copy_arguments()
    assert (kept["organization"], kept["max_retries"], kept["timeout"]) == (
        "org", 2, cfg.timeout)  # fmt: skip
    merged = cfg.copy_arguments(default_headers={"B": "2"}, default_query={"r": "2"}, max_retries=0)
    assert merged["default_headers"] == {"A": "1", "B": "2"}
    assert merged["default_query"] == {"q": "1", "r": "2"} and merged["max_retries"] == 0
    replaced = cfg.copy_arguments(set_default_headers={"B": "2"}, set_default_query={})
    assert replaced["default_headers"] == {"B": "2"} and replaced["default_query"] == {}
    with pytest.raises(ValueError, match="mutually exclusive"):
        cfg.copy_arguments(default_headers={}, set_default_headers={})
    with pytest.raises(ValueError, match="mutually exclusive"):
        cfg.copy_arguments(default_query={}, set_default_query={})
