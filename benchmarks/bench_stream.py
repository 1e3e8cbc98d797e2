"""Streamed chat over loopback: client CPU per chunk, openai-proto vs the official SDK.

Both clients stream the same 20,000-chunk chat completion from the same server process
(``backends.fake_openai``) in one run; we time the client process's CPU
(``time.process_time``) while it consumes the stream, so the server's work is excluded.

    python benchmarks/bench_stream.py [--chunks 20000] [--rounds 5] [--quick] [--json]

Goal: 20x less client CPU per chunk than the SDK. ``--quick`` streams 300 chunks in 2 rounds
(CI smoke test); ``--json`` prints one JSON document (the rows ``benchmarks/run_all.py``
tabulates) instead of text.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="300 chunks, 2 rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.quick:
        args.chunks, args.rounds = 300, 2
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
    ours, theirs = (statistics.median(v) for v in results.values())
    ratio = theirs / ours
    # With --json the text goes to stderr and stdout carries only the JSON document.
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    say(f"streamed chat, {args.chunks} chunks, {args.rounds} rounds, client CPU µs per chunk")
    say(f"{'client':<20} {'median':>8} {'best':>8}")
    for name, values in results.items():
        say(f"{name:<20} {statistics.median(values):8.2f} {min(values):8.2f}")
    say(f"ratio (official / openai-proto, median): {ratio:.1f}x less CPU per chunk")
    say(f"goal >= 20x less: {'met' if ratio >= 20.0 else 'NOT met'}")
    if args.json:
        row = {
            "workload": "streamed chat over loopback, client CPU per chunk",
            "unit": "µs/chunk",
            "ours": ours,
            "official": theirs,
            "ratio": ratio,
            "better": "lower",
            "goal": ">= 20x less",
            "met": ratio >= 20.0,
            "note": f"{args.chunks} chunks per stream, median of {args.rounds} streams",
        }
        doc = {
            "benchmark": "stream",
            "params": {"chunks": args.chunks, "rounds": args.rounds},
            "versions": {"openai": openai.__version__},
            "rows": [row],
        }
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
