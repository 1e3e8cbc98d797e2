"""``python -m openai_proto demo``: the library end to end against a local server.

Starts the independent fake OpenAI server (starlette + uvicorn, ``backends.fake_openai``)
in a child process on 127.0.0.1, then drives it through ``AsyncOpenAI``: a chat
completion, a streamed chat printed token by token, an embeddings call and a call the
server first answers with 429 + ``retry-after-ms``. ``--base-url`` (or
``OPENAI_BASE_URL``) with ``OPENAI_API_KEY`` talks to that endpoint instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from openai_proto import RateLimitError

from ._client import AsyncOpenAI

STARTUP_TIMEOUT = 30.0


@contextmanager
def local_server() -> Iterator[str]:
    """Run the fake server as a child process; yield its base URL; always stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backends.fake_openai", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        origin = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("LISTENING "):
                origin = line.split()[1]
                break
        if origin is None:
            raise RuntimeError("the local OpenAI-compatible server did not start")
        yield origin + "/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def script_429(base_url: str) -> None:
    """Ask the local server to answer the next chat call with 429 + retry-after-ms."""
    control = base_url.rsplit("/v1", 1)[0] + "/_control/script"
    reply = {
        "status": 429,
        "headers": {"retry-after-ms": "250"},
        "json": {"error": {"message": "Rate limit reached (demo)", "type": "requests"}},
    }
    body = json.dumps({"path": "/v1/chat/completions", "replies": [reply]}).encode()
    req = urllib.request.Request(control, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


async def run(base_url: str, api_key: str, model: str, local: bool) -> List[Tuple[str, float]]:
    timings: List[Tuple[str, float]] = []
    messages: Any = [{"role": "user", "content": "Say hello to the Sans-IO world"}]
    async with AsyncOpenAI(api_key=api_key, base_url=base_url) as client:
        t0 = time.perf_counter()
        completion = await client.chat.completions.create(model=model, messages=messages)
        timings.append(("chat completion", time.perf_counter() - t0))
        print(f"chat completion: {completion.choices[0].message.content!r}")
        print(f"  request id {completion._request_id}")

        t0 = time.perf_counter()
        print("streamed chat: ", end="", flush=True)
        tokens = 0
        stream = await client.chat.completions.create(model=model, messages=messages, stream=True)
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    tokens += 1
                    print(chunk.choices[0].delta.content, end="", flush=True)
        print()
        timings.append((f"streamed chat ({tokens} chunks)", time.perf_counter() - t0))

        t0 = time.perf_counter()
        emb = await client.embeddings.create(
            model="text-embedding-3-small", input=["hello", "world"]
        )
        timings.append(("embeddings", time.perf_counter() - t0))
        print(f"embeddings: {len(emb.data)} vectors of {len(emb.data[0].embedding)} floats")

        if local:
            script_429(base_url)
            t0 = time.perf_counter()
            try:
                again = await client.chat.completions.create(model=model, messages=messages)
            except RateLimitError as exc:  # pragma: no cover - would mean retries are broken
                print(f"retried call failed: {exc}")
                raise
            timings.append(("429 then retried chat", time.perf_counter() - t0))
            print(
                "retried call: server said 429 (retry-after-ms: 250), the client waited "
                f"and got {again.choices[0].message.content!r}"
            )
    return timings


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openai_proto demo", description=__doc__)
    parser.add_argument("--base-url", default=os.environ.get("OPENAI_BASE_URL"))
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args(argv)

    if args.base_url:
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            print("error: OPENAI_API_KEY must be set to use --base-url", file=sys.stderr)
            return 2
        timings = asyncio.run(run(args.base_url, key, args.model, local=False))
    else:
        with local_server() as base_url:
            print(f"local OpenAI-compatible server (starlette + uvicorn) at {base_url}")
            timings = asyncio.run(run(base_url, "sk-demo", args.model, local=True))
    print("\nstep                              seconds")
    for name, seconds in timings:
        print(f"{name:<32} {seconds:8.3f}")
    return 0
