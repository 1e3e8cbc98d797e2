"""The runnable examples in ``docs/examples/`` work as the guides say (against the fake server)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator, Optional

import pytest
from realtime_server import RealtimeServer

from backends.fake_openai import FakeServer, Reply

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "blocking_socket_stream.py"
KEY = "sk-docs-example"


def run_example(*args: str, key: Optional[str] = KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=45,
    )


def test_blocking_socket_example_streams_the_answer(server: FakeServer) -> None:
    proc = run_example(server.url, "hello over a plain socket", "gpt-4o")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "Hello! You said: hello over a plain socket\n"
    (request,) = server.state.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"].startswith("openai-proto/")
    assert request.json == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hello over a plain socket"}],
        "stream": True,
    }


def test_blocking_socket_example_reads_a_long_stream(server: FakeServer) -> None:
    # The fake server echoes the prompt token by token: 20,000 events, a body of several
    # MB, read in many recv() calls and parsed across arbitrary chunk boundaries.
    prompt = " ".join(f"w{i}" for i in range(20_000))
    proc = run_example(server.url, prompt)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"Hello! You said: {prompt}\n"


def test_blocking_socket_example_raises_the_api_error(server: FakeServer) -> None:
    server.state.script(
        "/v1/chat/completions",
        Reply(status=401, json={"error": {"message": "Incorrect API key", "code": "bad_key"}}),
    )
    proc = run_example(server.url, "hi")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "openai_proto._exceptions.AuthenticationError: Error code: 401" in proc.stderr
    assert "Incorrect API key" in proc.stderr


@pytest.mark.parametrize("content", ["\u00e9t\u00e9 \u2603", "line one\nline two"])
def test_blocking_socket_example_keeps_the_text_exact(server: FakeServer, content: str) -> None:
    proc = run_example(server.url, content)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"Hello! You said: {content}\n"


SELECTORS_EXAMPLE = ROOT / "docs" / "examples" / "selectors_loop.py"


def run_selectors_example(
    server: FakeServer, prompts: list[str]
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", OPENAI_API_KEY=KEY)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(SELECTORS_EXAMPLE), server.url, *prompts],
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=45,
    )
    return proc, time.monotonic() - started


def test_selectors_loop_streams_several_completions_at_once(server: FakeServer) -> None:
    server.state.stream_delay = 0.15  # every event drips: the loop must interleave streams
    prompts = ["first prompt", "second prompt", "third prompt"]
    single, one_stream = run_selectors_example(server, prompts[:1])
    assert single.returncode == 0, single.stderr
    server.state.reset()
    server.state.stream_delay = 0.15
    proc, three_streams = run_selectors_example(server, prompts)
    assert (proc.returncode, proc.stderr) == (0, "")
    lines = proc.stdout.splitlines()
    assert lines[:3] == [f"[{i}] Hello! You said: {p}" for i, p in enumerate(prompts, 1)]
    assert lines[3] == "event-loop libraries imported: none"
    assert sorted(r.json["messages"][0]["content"] for r in server.state.requests) == prompts
    # Run one after another, three streams would take three times as long as one.
    assert three_streams < 2 * one_stream, (one_stream, three_streams)


REALTIME_EXAMPLE = ROOT / "docs" / "examples" / "selectors_realtime.py"


@pytest.fixture(scope="module")
def realtime_server() -> Iterator[RealtimeServer]:
    with RealtimeServer() as server:
        yield server


def run_realtime_example(
    server: RealtimeServer, *args: str, key: str = KEY
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8", OPENAI_API_KEY=key)
    return subprocess.run(
        [sys.executable, str(REALTIME_EXAMPLE), server.base_url, *args],
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=45,
    )


def test_selectors_realtime_session(realtime_server: RealtimeServer) -> None:
    test = uuid.uuid4().hex
    proc = run_realtime_example(realtime_server, "gpt-realtime", f"test={test}")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [
        "event: session.created",
        "event: session.updated",
        "event: response.created",
        "event: response.output_text.delta",
        "event: response.output_text.delta",
        "event: response.output_audio.delta",
        "event: response.done",
        "text: Hello",
        "closed: 1000",
        "event-loop libraries imported: none",
    ]
    record = realtime_server.record(test)
    assert record.query["model"] == ["gpt-realtime"]
    assert record.header("Authorization") == f"Bearer {KEY}"
    assert record.events == [
        {"type": "session.update", "session": {"type": "realtime"}},
        {"type": "response.create", "response": {"output_modalities": ["text"]}},
    ]
    deadline = time.monotonic() + 10
    while not record.handler_done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert record.close_code == 1000  # the example's closing handshake completed


def test_selectors_realtime_rejected_and_abnormal_close(realtime_server: RealtimeServer) -> None:
    rejected = run_realtime_example(realtime_server, f"test={uuid.uuid4().hex}", key="bad-key")
    assert (rejected.returncode, rejected.stdout) == (1, "")
    assert rejected.stderr.startswith("handshake rejected: HTTP 401: ")
    assert "invalid_api_key" in rejected.stderr
    extra = (f"test={uuid.uuid4().hex}", "scenario=close_1011")
    closed = run_realtime_example(realtime_server, *extra)
    assert closed.returncode == 1, closed.stderr
    assert "closed: 1011" in closed.stdout.splitlines()
