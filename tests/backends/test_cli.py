"""``python -m openai_proto chat|models`` in a child process against the fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from backends.fake_openai import FakeServer, Reply

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-cli-test-key"
TIMEOUT = 45  # seconds, for every child process


def cli_env(key: Optional[str] = KEY) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = str(ROOT)
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return env


def run_cli(
    *args: str, key: Optional[str] = KEY, stdin: Optional[str] = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openai_proto", *args],
        env=cli_env(key),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("backend", ["auto", "asyncio", "trio"])
def test_chat_prints_the_streamed_answer(server: FakeServer, backend: str) -> None:
    proc = run_cli("chat", "hello there", "--base-url", server.url, "--backend", backend)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "Hello! You said: hello there\n", "")
    (request,) = server.state.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json["stream"] is True and request.json["model"] == "gpt-4o-mini"
    assert request.json["messages"] == [{"role": "user", "content": "hello there"}]


def test_chat_writes_each_token_as_it_arrives(server: FakeServer) -> None:
    server.state.stream_delay = 0.3  # one event per write, 0.3 s apart
    proc = subprocess.Popen(
        [sys.executable, "-m", "openai_proto", "chat", "hi", "--base-url", server.url],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watchdog = threading.Timer(TIMEOUT, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.read(len(b"Hello!"))
        # The first token is on the terminal while the server still holds the rest back.
        assert first == b"Hello!" and proc.poll() is None
        rest, err = proc.communicate(timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait(TIMEOUT)
    assert (proc.returncode, first + rest, err) == (0, b"Hello! You said: hi\n", b"")


def test_chat_model_option_and_prompt_from_stdin(server: FakeServer) -> None:
    proc = run_cli("chat", "-", "--model", "gpt-4o", "--base-url", server.url, stdin="from stdin")
    assert (proc.returncode, proc.stdout) == (0, "Hello! You said: from stdin\n")
    (request,) = server.state.requests
    assert request.json["model"] == "gpt-4o"
    assert request.json["messages"][0]["content"] == "from stdin"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_models_lists_the_ids(server: FakeServer, backend: str) -> None:
    proc = run_cli("models", "--base-url", server.url, "--backend", backend)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines() == list(server.state.models)
    assert [r.path for r in server.state.requests] == ["/v1/models"]


@pytest.mark.parametrize("command", [["chat", "hi"], ["models"]])
def test_no_api_key(server: FakeServer, command: List[str]) -> None:
    proc = run_cli(*command, "--base-url", server.url, key=None)
    assert_one_line_error(proc, "no API key", "OPENAI_API_KEY")
    assert proc.stdout == "" and server.state.requests == []


def test_unreachable_host(refused_port: int) -> None:
    url = f"http://127.0.0.1:{refused_port}/v1"
    proc = run_cli("chat", "hi", "--base-url", url, "--max-retries", "1")
    assert_one_line_error(proc, f"cannot connect to {url}")
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("command", "path"), [(["chat", "hi"], "/v1/chat/completions"), (["models"], "/v1/models")]
)
def test_authentication_failure(server: FakeServer, command: List[str], path: str) -> None:
    error = {
        "message": "Incorrect API key provided: sk-cli***key.",
        "type": "invalid_request_error",
    }
    server.state.script(path, Reply(status=401, json={"error": error}))
    proc = run_cli(*command, "--base-url", server.url)
    assert_one_line_error(proc, "HTTP 401", "Incorrect API key provided: sk-cli***key.")
    assert proc.stdout == "" and len(server.state.requests) == 1  # 401 is never retried


def test_rate_limited_after_retries(server: FakeServer) -> None:
    body = {"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests"}}
    reply = Reply(status=429, headers={"retry-after-ms": "5"}, json=body)
    server.state.script("/v1/chat/completions", reply, reply, reply)
    proc = run_cli("chat", "hi", "--base-url", server.url)
    assert_one_line_error(proc, "HTTP 429", "Rate limit reached for gpt-4o-mini")
    assert len(server.state.requests) == 3  # the first attempt and two retries
    assert server.state.pending("/v1/chat/completions") == 0


def test_error_inside_the_stream_ends_the_answer_line(server: FakeServer) -> None:
    payload = {"error": {"message": "The server had an error mid-stream", "type": "server_error"}}
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": "partial"}, "finish_reason": None}],
    }
    body = f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(payload)}\n\n".encode()
    server.state.script(
        "/v1/chat/completions",
        Reply(status=200, headers={"content-type": "text/event-stream"}, body=body),
    )
    proc = run_cli("chat", "hi", "--base-url", server.url)
    assert_one_line_error(proc, "The server had an error mid-stream")
    assert proc.stdout == "partial\n"


def test_usage_errors_exit_2() -> None:
    proc = run_cli()
    assert proc.returncode == 2 and "usage: python -m openai_proto" in proc.stderr
    proc = run_cli("chat", "hi", "--backend", "curio")
    assert proc.returncode == 2 and "invalid choice: 'curio'" in proc.stderr
