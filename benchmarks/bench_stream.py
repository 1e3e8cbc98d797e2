"""Streamed chat over loopback: client CPU per chunk, openai-proto vs the official SDK.

Both clients stream the same 20,000-chunk chat completion from the same server process
(``backends.fake_openai``) in one run; we time the client process's CPU
(``time.process_time``) while it consumes the stream, so the server's work is excluded.

    python benchmarks/bench_stream.py [--chunks 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openai

from benchmarks._server import server_process
from openai_proto import AsyncOpenAI

MESSAGES: Any = [{"role": "user", "content": "benchmark"}]


async def consume(client: Any, chunks: int) -> tuple[float, int]:
    start = time.process_time()
    stream = await client.chat.completions.create(
        model="bench", messages=MESSAGES, stream=True, max_tokens=chunks
    )
    count = 0
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            count += 1
    return time.process_time() - start, count


async def measure(make: Callable[[], Any], chunks: int, rounds: int) -> List[float]:
    client = make()
    await consume(client, 100)  # warm up: connection, imports, decoders
    per_chunk = []
    for _ in range(rounds):
        cpu, count = await consume(client, chunks)
        assert count == chunks, f"expected {chunks} content chunks, got {count}"
        per_chunk.append(cpu / count * 1e6)
    await client.close()
    return per_chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results: Dict[str, List[float]] = {}
    with server_process() as url:
        makers = {
            "openai-proto": lambda: AsyncOpenAI(api_key="sk-bench", base_url=url),
            f"openai {openai.__version__}": lambda: openai.AsyncOpenAI(
                api_key="sk-bench", base_url=url
            ),
        }
        for name, make in makers.items():
            results[name] = asyncio.run(measure(make, args.chunks, args.rounds))
    print(f"streamed chat, {args.chunks} chunks, {args.rounds} rounds, client CPU µs per chunk")
    print(f"{'client':<20} {'median':>8} {'best':>8}")
    for name, values in results.items():
        print(f"{name:<20} {statistics.median(values):8.2f} {min(values):8.2f}")
    ours, theirs = (statistics.median(v) for v in results.values())
    print(f"ratio (official / openai-proto, median): {theirs / ours:.1f}x less CPU per chunk")


if __name__ == "__main__":
    main()
