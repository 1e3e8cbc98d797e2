"""The fake OpenAI server checked with httpx, an independent client, so the peer is right."""

from __future__ import annotations

import base64
import json
import math
import queue
import re
import ssl
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest
import trustme

from backends.fake_openai import FakeServer, FakeState, Reply

REPO = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer sk-test"}
REQUEST_ID = re.compile(r"^req_\d+$")


@pytest.fixture
def client(server: FakeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=10.0) as c:
        yield c


def chat(content: str = "hi there", **extra: Any) -> Dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def sse_data(body: bytes) -> List[str]:
    """The ``data`` of each event; the server writes one ``data:`` line per event."""
    events = [e for e in body.split(b"\n\n") if e]
    assert all(e.startswith(b"data: ") and b"\n" not in e for e in events)
    return [e[len(b"data: ") :].decode("utf-8") for e in events]


def assert_error_body(response: httpx.Response, status: int, code: Any) -> Dict[str, Any]:
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code
    assert REQUEST_ID.match(response.headers["x-request-id"])
    return dict(error)


# ---- chat completions ----------------------------------------------------------------


def test_chat_completion_body_shape(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json=chat("hi there"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-request-id"] == "req_1"
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt-4o-mini"
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Hello! You said: hi there"
    usage = body["usage"]
    assert usage["prompt_tokens"] == 2
    assert usage["completion_tokens"] == 5
    assert usage["total_tokens"] == 7


def test_chat_replies_to_last_user_message_and_text_parts(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "sécond"}]},
    ]
    r = client.post("/chat/completions", json={"model": "m", "messages": messages})
    assert r.json()["choices"][0]["message"]["content"] == "Hello! You said: sécond"


def test_chat_max_tokens_non_stream_cycles_words(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json=chat("x", max_completion_tokens=6))
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "Hello! You said: xHello! You"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 6


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"messages": [{"role": "user", "content": "a"}]}, "model"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "user"}], "max_tokens": 0}, "max_tokens"),
    ],
)
def test_chat_invalid_request(client: httpx.Client, payload: Dict[str, Any], param: str) -> None:
    r = client.post("/chat/completions", json=payload)
    assert assert_error_body(r, 400, None)["param"] == param


def test_chat_stream_n_content_chunks_usage_and_done(client: httpx.Client) -> None:
    r = client.post(
        "/chat/completions",
        json=chat("a b", stream=True, max_tokens=50, stream_options={"include_usage": True}),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert REQUEST_ID.match(r.headers["x-request-id"])
    data = sse_data(r.content)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    first, *content, finish, usage = chunks
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert len(content) == 50
    assert all(c["choices"][0]["delta"]["content"] for c in content)
    assert all(c["usage"] is None for c in [first, *content, finish])
    assert finish["choices"][0]["delta"] == {}
    assert finish["choices"][0]["finish_reason"] == "length"
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 50
    words = ["Hello!", " You", " said:", " a", " b"]
    assert "".join(c["choices"][0]["delta"]["content"] for c in content) == "".join(
        words[i % 5] for i in range(50)
    )


def test_chat_stream_without_limit_streams_the_reply(client: httpx.Client) -> None:
    r = client.post("/chat/completions", json=chat("one two", stream=True))
    data = sse_data(r.content)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert not any("usage" in c for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Hello! You said: one two"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_chat_stream_20000_chunks_is_fast(client: httpx.Client) -> None:
    start = time.perf_counter()
    with client.stream("POST", "/chat/completions", json=chat(stream=True, max_tokens=20_000)) as r:
        body = b"".join(r.iter_bytes())
    elapsed = time.perf_counter() - start
    data = sse_data(body)
    assert len(data) == 20_000 + 3  # role, content..., finish, [DONE]
    assert data[-1] == "[DONE]"
    assert elapsed < 5.0


def test_stream_delay_spaces_events(client: httpx.Client, server: FakeServer) -> None:
    server.state.stream_delay = 0.05
    start = time.perf_counter()
    with client.stream("POST", "/chat/completions", json=chat(stream=True, max_tokens=3)) as r:
        pieces = list(r.iter_raw())
    elapsed = time.perf_counter() - start
    assert sse_data(b"".join(pieces))[-1] == "[DONE]"
    assert elapsed >= 5 * 0.05 * 0.9  # six events, five gaps
    assert len(pieces) > 1


# ---- embeddings ----------------------------------------------------------------------


def test_embeddings_float_and_base64_agree(client: httpx.Client) -> None:
    payload = {"model": "text-embedding-3-small", "input": ["alpha", "beta"], "dimensions": 16}
    floats = client.post("/embeddings", json=payload).json()
    b64 = client.post("/embeddings", json={**payload, "encoding_format": "base64"}).json()
    assert floats["object"] == "list"
    assert floats["model"] == "text-embedding-3-small"
    assert floats["usage"] == {"prompt_tokens": 2, "total_tokens": 2}
    assert [d["index"] for d in floats["data"]] == [0, 1]
    for f, b in zip(floats["data"], b64["data"]):
        assert f["object"] == b["object"] == "embedding"
        decoded = list(struct.unpack("<16f", base64.b64decode(b["embedding"])))
        assert decoded == f["embedding"]
        assert math.isclose(math.fsum(v * v for v in decoded), 1.0, rel_tol=1e-5)
    assert floats["data"][0]["embedding"] != floats["data"][1]["embedding"]


def test_embeddings_deterministic_default_dimensions_and_tokens(client: httpx.Client) -> None:
    one = client.post("/embeddings", json={"model": "e", "input": "hello world"}).json()
    two = client.post("/embeddings", json={"model": "e", "input": ["hello world"]}).json()
    assert len(one["data"][0]["embedding"]) == 1536
    assert one["data"] == two["data"]
    tokens = client.post("/embeddings", json={"model": "e", "input": [[1, 2, 3], [4]]}).json()
    assert len(tokens["data"]) == 2
    assert tokens["usage"]["prompt_tokens"] == 4
    single = client.post("/embeddings", json={"model": "e", "input": [1, 2, 3]}).json()
    assert single["data"][0]["embedding"] == tokens["data"][0]["embedding"]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"input": []}, "input"),
        ({"input": [1, "a"]}, "input"),
        ({"input": "a", "dimensions": 0}, "dimensions"),
        ({"input": "a", "encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_embeddings_invalid(client: httpx.Client, extra: Dict[str, Any], param: str) -> None:
    r = client.post("/embeddings", json={"model": "e", **extra})
    assert assert_error_body(r, 400, None)["param"] == param


# ---- models --------------------------------------------------------------------------


def test_models_list_retrieve_404_delete(client: httpx.Client, server: FakeServer) -> None:
    listing = client.get("/models").json()
    assert listing["object"] == "list"
    ids = [m["id"] for m in listing["data"]]
    assert "gpt-4o-mini" in ids
    for m in listing["data"]:
        assert m["object"] == "model"
        assert isinstance(m["created"], int) and isinstance(m["owned_by"], str)

    model = client.get("/models/gpt-4o-mini").json()
    assert model == {
        "id": "gpt-4o-mini",
        "object": "model",
        "created": 1721172741,
        "owned_by": "system",
    }

    missing = assert_error_body(client.get("/models/nope"), 404, "model_not_found")
    assert "nope" in missing["message"]

    ft = "ft:gpt-4o-mini:fake-org::abc123"
    deleted = client.delete(f"/models/{ft}")
    assert deleted.json() == {"id": ft, "object": "model", "deleted": True}
    assert client.get(f"/models/{ft}").status_code == 404
    assert client.delete(f"/models/{ft}").status_code == 404

    server.state.reset()
    assert client.get(f"/models/{ft}").status_code == 200


def test_unknown_route_and_method(client: httpx.Client) -> None:
    assert "Invalid URL" in assert_error_body(client.get("/nothing"), 404, None)["message"]
    assert_error_body(client.get("/chat/completions"), 405, None)


# ---- auth, request ids ---------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic abc", "sk-test"])
def test_401_without_bearer(server: FakeServer, authorization: Any) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    r = httpx.post(f"{server.url}/chat/completions", json=chat(), headers=headers)
    error = assert_error_body(r, 401, "invalid_api_key")
    assert error["message"].startswith("Incorrect API key provided")
    assert error["param"] is None


def test_api_key_must_match_when_set(client: httpx.Client, server: FakeServer) -> None:
    server.state.api_key = "sk-right-key-123456"
    wrong = client.get("/models", headers={"Authorization": "Bearer sk-wrong-key-987654"})
    assert_error_body(wrong, 401, "invalid_api_key")
    assert "sk-wrong-key-987654" not in wrong.text  # shown masked, like the real API
    assert "7654" in wrong.json()["error"]["message"]
    right = client.get("/models", headers={"Authorization": "Bearer sk-right-key-123456"})
    assert right.status_code == 200


def test_request_ids_count_up_from_reset(client: httpx.Client) -> None:
    ids = [client.get("/models").headers["x-request-id"] for _ in range(3)]
    assert ids == ["req_1", "req_2", "req_3"]


# ---- scripting -----------------------------------------------------------------------


def test_scripted_429_then_normal_200(client: httpx.Client, server: FakeServer) -> None:
    path = "/v1/chat/completions"
    err = {"error": {"message": "Rate limit", "type": "requests", "param": None, "code": None}}
    server.state.script(path, Reply(status=429, headers={"retry-after-ms": "10"}, json=err))
    assert server.state.pending(path) == 1
    first = client.post("/chat/completions", json=chat())
    assert first.status_code == 429
    assert first.headers["retry-after-ms"] == "10"
    assert first.headers["content-type"] == "application/json"
    assert first.json() == err
    assert REQUEST_ID.match(first.headers["x-request-id"])
    second = client.post("/chat/completions", json=chat())
    assert second.status_code == 200
    assert server.state.pending(path) == 0
    assert len(server.state.requests) == 2


def test_scripted_raw_body_and_wildcard(client: httpx.Client, server: FakeServer) -> None:
    server.state.script(
        "*",
        Reply(
            status=200,
            headers={"content-type": "text/event-stream", "x-request-id": "req_custom"},
            body=b"data: {not json\n\n",
        ),
    )
    r = client.get("/models")
    assert r.content == b"data: {not json\n\n"
    assert r.headers["content-type"] == "text/event-stream"
    assert r.headers["x-request-id"] == "req_custom"
    assert client.get("/models").json()["object"] == "list"


def test_scripted_delay_stalls_then_answers(client: httpx.Client, server: FakeServer) -> None:
    server.state.script("/v1/models", Reply(delay=0.3))
    start = time.perf_counter()
    r = client.get("/models")
    assert time.perf_counter() - start >= 0.3
    assert r.json()["object"] == "list"


def test_stall_makes_a_client_read_timeout(client: httpx.Client, server: FakeServer) -> None:
    server.state.script("/v1/models", Reply(delay=2))
    with pytest.raises(httpx.ReadTimeout):
        client.get("/models", timeout=0.2)
    assert [r.path for r in server.state.requests] == ["/v1/models"]


def test_scripted_reply_precedes_auth(server: FakeServer) -> None:
    server.state.script("/v1/models", Reply(status=503))
    assert httpx.get(f"{server.url}/models").status_code == 503
    assert httpx.get(f"{server.url}/models").status_code == 401


# ---- recording -----------------------------------------------------------------------


def test_recording_headers_query_body(client: httpx.Client, server: FakeServer) -> None:
    client.post(
        "/chat/completions",
        params={"api-version": "1", "empty": ""},
        json=chat("rec"),
        headers={"X-Custom": "Value", "OpenAI-Organization": "org-1"},
    )
    client.post("/embeddings", content=b"\xff not json")
    first, second = server.state.requests
    assert first.method == "POST"
    assert first.path == "/v1/chat/completions"
    assert first.query == {"api-version": "1", "empty": ""}
    assert first.headers["x-custom"] == "Value"
    assert first.headers["openai-organization"] == "org-1"
    assert first.headers["authorization"] == "Bearer sk-test"
    assert all(name == name.lower() for name in first.headers)
    assert json.loads(first.body) == first.json == chat("rec")
    assert second.body == b"\xff not json"
    assert second.json is None
    with pytest.raises(AttributeError):
        first.method = "GET"  # type: ignore[misc]


# ---- control endpoints and connections ------------------------------------------------


def test_control_endpoints_over_http(server: FakeServer) -> None:
    with httpx.Client(base_url=server.origin, timeout=10.0) as ctl:
        scripted = ctl.post(
            "/_control/script",
            json={
                "path": "/v1/embeddings",
                "replies": [
                    {"status": 500, "headers": {"x-should-retry": "true"}, "json": {"e": 1}}
                ],
            },
        )
        assert scripted.json() == {"path": "/v1/embeddings", "pending": 1}
        r = httpx.post(f"{server.url}/embeddings", json={"model": "e", "input": "a"}, headers=AUTH)
        assert (r.status_code, r.headers["x-should-retry"], r.json()) == (500, "true", {"e": 1})

        recorded = ctl.get("/_control/requests").json()
        assert [(q["method"], q["path"]) for q in recorded] == [("POST", "/v1/embeddings")]
        assert recorded[0]["json"] == {"model": "e", "input": "a"}
        assert base64.b64decode(recorded[0]["body_base64"]) == r.request.content

        config = ctl.post("/_control/config", json={"api_key": "k", "stream_delay": 0.01}).json()
        assert config == {"api_key": "k", "stream_delay": 0.01}
        assert httpx.get(f"{server.url}/models", headers=AUTH).status_code == 401

        assert ctl.get("/_control/connections").json()["open_connections"] >= 1
        assert ctl.post("/_control/reset").status_code == 200
        assert ctl.get("/_control/requests").json() == []
        assert server.state.api_key is None


def test_open_connections_counts_keep_alive(server: FakeServer) -> None:
    assert server.wait_for_connections(0)
    with httpx.Client(base_url=server.url, headers=AUTH) as c:
        c.get("/models")
        c.get("/models")
        assert server.wait_for_connections(1)
        assert server.state.open_connections == 1
    assert server.wait_for_connections(0)


def test_fake_server_start_stop_bounded() -> None:
    state = FakeState(api_key="sk-own")
    with FakeServer(state) as own:
        assert own.running
        assert own.url == f"http://127.0.0.1:{own.port}/v1"
        r = httpx.get(f"{own.url}/models", headers={"Authorization": "Bearer sk-own"})
        assert r.status_code == 200
    assert not own.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{own.url}/models", timeout=2.0)


def test_refused_port_refuses(refused_port: int) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{refused_port}/", timeout=2.0)


# ---- TLS -----------------------------------------------------------------------------


def test_tls_reachable_with_ca(
    tls_server: FakeServer, tls_ca: trustme.CA, tls_ca_pem: Path
) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    ctx = ssl.create_default_context(cafile=str(tls_ca_pem))
    r = httpx.get(f"{tls_server.url}/models", headers=AUTH, verify=ctx)
    assert r.status_code == 200
    assert r.json()["object"] == "list"
    ctx2 = ssl.create_default_context()
    tls_ca.configure_trust(ctx2)
    r2 = httpx.get(f"https://localhost:{tls_server.port}/v1/models", headers=AUTH, verify=ctx2)
    assert r2.status_code == 200


def test_tls_rejected_without_ca(tls_server: FakeServer) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_server.url}/models", headers=AUTH, verify=ssl.create_default_context())


# ---- independence and process mode ----


def test_module_uses_no_openai_proto_code() -> None:
    """Loaded on its own (bypassing the ``backends`` package), it pulls in none of our code."""
    script = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('fake_openai', sys.argv[1])\n"
        "module = sys.modules['fake_openai'] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module.create_app(module.FakeState())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openai_proto', 'backends')))\n"
    )
    path = REPO / "backends" / "fake_openai.py"
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip() == "[]"


# ---- process mode --------------------------------------------------------------------


def test_process_mode() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "backends.fake_openai", "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines: queue.Queue[bytes] = queue.Queue()
        assert proc.stdout is not None
        stdout = proc.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        line = lines.get(timeout=20).decode()
        match = re.fullmatch(r"LISTENING (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        r = httpx.post(f"{match.group(1)}/v1/chat/completions", json=chat("proc"), headers=AUTH)
        assert r.json()["choices"][0]["message"]["content"] == "Hello! You said: proc"
        proc.terminate()
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=15)
