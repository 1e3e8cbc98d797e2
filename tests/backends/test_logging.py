"""Logging: what the engine records, that credentials never reach a record, ``OPENAI_LOG``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from backends import AsyncOpenAI, _logs
from backends._logs import REDACTED, SensitiveHeadersFilter, setup_logging
from backends.fake_openai import FakeServer, Reply
from openai_proto import APIConnectionError, AuthenticationError

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-proj-very-secret-key-0123456789"
MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="openai_proto"):
        yield caplog


def messages_of(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.name == "openai_proto"]


async def test_a_request_logs_method_url_and_status(
    server: FakeServer, debug_log: pytest.LogCaptureFixture
) -> None:
    async with AsyncOpenAI(api_key=KEY, base_url=server.url) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    info = [r.getMessage() for r in debug_log.records if r.levelno == logging.INFO]
    assert f'HTTP Request: POST {server.url}/chat/completions "200"' in info


async def test_a_retry_logs_its_decision(
    server: FakeServer, debug_log: pytest.LogCaptureFixture
) -> None:
    server.state.script(
        "/v1/chat/completions", Reply(status=429, headers={"retry-after-ms": "10"}, json={})
    )
    async with AsyncOpenAI(api_key=KEY, base_url=server.url) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    messages = messages_of(debug_log)
    url = f"{server.url}/chat/completions"
    first, second = (messages.index(f'HTTP Request: POST {url} "{s}"') for s in (429, 200))
    retry = [m for m in messages[first:second] if m.startswith("retrying in 0.010 s")]
    assert len(retry) == 1 and "429" in retry[0]
    options = [m for m in messages if m.startswith("Request options: ")]
    assert len(options) == 2 and "'retries_taken': 1" in options[1]


async def test_the_api_key_never_appears_in_a_record(
    server: FakeServer, refused_port: int, debug_log: pytest.LogCaptureFixture
) -> None:
    azure_key = "azure-secret-key-9876543210"
    headers = {"API-Key": azure_key, "X-Trace": "visible"}
    server.state.script(
        "/v1/chat/completions",
        Reply(status=500, headers={"retry-after-ms": "1"}, json={"error": {"message": "x"}}),
        Reply(status=401, json={"error": {"message": "bad key", "type": "auth"}}),
    )
    async with AsyncOpenAI(
        api_key=KEY, base_url=server.url, default_headers=headers, max_retries=1
    ) as client:
        with pytest.raises(AuthenticationError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert [m.id async for m in client.models.list()]
    async with AsyncOpenAI(
        api_key=KEY, base_url=f"http://127.0.0.1:{refused_port}/v1", max_retries=0
    ) as client:
        with pytest.raises(APIConnectionError):
            await client.models.retrieve("gpt-4o")

    messages = messages_of(debug_log)
    options = [m for m in messages if m.startswith("Request options: ")]
    assert len(options) == 4  # 500, 401, the list and the refused connection
    assert all(f"('Authorization', '{REDACTED}')" in m for m in options)
    assert f"('API-Key', '{REDACTED}')" in options[0] and "('X-Trace', 'visible')" in options[0]
    for record in debug_log.records:
        text = record.getMessage()
        assert KEY not in text and azure_key not in text, text
    # Redaction copies: the requests themselves still carried the credentials.
    sent = server.state.requests[0].headers
    assert sent["authorization"] == f"Bearer {KEY}" and sent["api-key"] == azure_key


def _record(args: Any) -> logging.LogRecord:
    return logging.LogRecord("openai_proto", logging.DEBUG, __file__, 1, "%s", args, None)


def test_the_filter_redacts_mappings_and_pair_lists_without_touching_them() -> None:
    as_dict: Dict[str, object] = {"authorization": "Bearer k", "Content-Type": "json"}
    as_list = [("AUTHORIZATION", "Bearer k"), (b"Api-Key", b"k"), ("Accept", "*/*")]
    for headers, expected in (
        (as_dict, {"authorization": REDACTED, "Content-Type": "json"}),
        (as_list, [("AUTHORIZATION", REDACTED), (b"Api-Key", REDACTED), ("Accept", "*/*")]),
    ):
        options = {"method": "GET", "headers": headers}
        record = _record(options)  # a lone mapping becomes record.args itself
        assert SensitiveHeadersFilter().filter(record) is True
        assert isinstance(record.args, dict) and record.args["headers"] == expected
        assert "Bearer k" not in record.getMessage()
        assert options["headers"] is headers and headers in (as_dict, as_list)
    assert as_dict["authorization"] == "Bearer k" and as_list[0][1] == "Bearer k"

    record = _record(("first", {"headers": {"Api-KEY": "k"}}))
    SensitiveHeadersFilter().filter(record)
    assert record.args == ("first", {"headers": {"Api-KEY": REDACTED}})
    untouched = ("no", "headers", 3)
    record = _record(untouched)
    SensitiveHeadersFilter().filter(record)
    assert record.args == untouched


def test_setup_logging_reads_openai_log_once(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("openai_proto")
    calls: List[Dict[str, Any]] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: calls.append(kw))
    monkeypatch.setattr(_logs, "_configured", False)
    old = logger.level
    try:
        setup_logging({"OPENAI_LOG": "debug"})
        assert logger.level == logging.DEBUG and len(calls) == 1
        assert "%(levelname)s" in calls[0]["format"]
        setup_logging({"OPENAI_LOG": "error"})  # only the first call counts
        assert logger.level == logging.DEBUG and len(calls) == 1

        monkeypatch.setattr(_logs, "_configured", False)
        logger.setLevel(logging.NOTSET)
        setup_logging({"OPENAI_LOG": "chatty"})  # unknown values are ignored
        setup_logging({"OPENAI_LOG": "info"})
        assert logger.level == logging.NOTSET and len(calls) == 1
    finally:
        logger.setLevel(old)


_SCRIPT = """
import asyncio, sys
from openai_proto import AsyncOpenAI

async def main():
    async with AsyncOpenAI(base_url=sys.argv[1]) as client:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

asyncio.run(main())
"""


def _run_with(server: FakeServer, openai_log: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, PYTHONPATH=str(ROOT))
    if openai_log:
        env["OPENAI_LOG"] = openai_log
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, server.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_openai_log_turns_logging_on(server: FakeServer) -> None:
    url = f"{server.url}/chat/completions"
    assert "openai_proto" not in _run_with(server, "")

    info = _run_with(server, "info")
    assert f'- INFO] HTTP Request: POST {url} "200"' in info
    assert "Request options" not in info

    debug = _run_with(server, "debug")
    assert "- DEBUG] Request options: {'method': 'POST'" in debug
    assert f"('Authorization', '{REDACTED}')" in debug and KEY not in debug
    assert f'HTTP Request: POST {url} "200"' in debug
