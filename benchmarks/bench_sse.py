"""Server-Sent Events framing speed: openai_proto's SSEDecoder vs the official SDK's.

Builds N chat-completion-chunk events (``data: {...}\\n\\n``, about 230 bytes each),
cuts the stream into fixed-size chunks (16 KiB by default, like socket reads) and times:

- ``openai_proto.sse.SSEDecoder.feed`` (events out as ServerSentEvent);
- ``openai_proto._streaming.StreamParser.feed`` (the OpenAI layer: [DONE], error checks);
- ``openai._streaming.SSEDecoder().iter_bytes(chunks)``, which is how the official SDK's
  ``Stream`` drives its decoder (``client._make_sse_decoder().iter_bytes(response.iter_bytes())``).

Median (and best) of ``--repeat`` runs; prints events per second and the ratio to the SDK.
Goal: ``SSEDecoder.feed`` at 1M events/s or more, and 5x the SDK or more.

    python benchmarks/bench_sse.py [--events 100000] [--chunk-size 16384] [--repeat 5] [--crlf]
                                   [--quick] [--json]

``--quick`` uses 2,000 events and 3 runs (CI smoke test); ``--json`` prints one JSON
document (the rows ``benchmarks/run_all.py`` tabulates) instead of text.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openai_proto._streaming import StreamParser
from openai_proto.sse import SSEDecoder


def build_stream(events: int, *, crlf: bool) -> bytes:
    """``events`` distinct chat.completion.chunk events, then ``data: [DONE]``."""
    eol = b"\r\n" if crlf else b"\n"
    out: List[bytes] = []
    for i in range(events):
        chunk = {
            "id": "chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUv",
            "object": "chat.completion.chunk",
            "created": 1718000000 + i // 1000,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0ba0d124f1",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": f" token{i % 997}"},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
        payload = json.dumps(chunk, separators=(",", ":")).encode()
        out.append(b"data: " + payload + eol + eol)
    out.append(b"data: [DONE]" + eol + eol)
    return b"".join(out)


def split(stream: bytes, size: int) -> List[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def run_ours(chunks: List[bytes]) -> int:
    decoder = SSEDecoder()
    n = 0
    for chunk in chunks:
        n += len(decoder.feed(chunk))
    n += len(decoder.end())
    return n


def run_ours_openai_layer(chunks: List[bytes]) -> int:
    parser = StreamParser()
    n = 0
    for chunk in chunks:
        n += len(parser.feed(chunk))
    n += len(parser.end())
    return n + 1  # StreamParser swallows the final [DONE]; count it to compare like with like


def run_sdk(chunks: List[bytes]) -> int:
    from openai._streaming import SSEDecoder as SDKDecoder

    n = 0
    for _ in SDKDecoder().iter_bytes(iter(chunks)):
        n += 1
    return n


def rates(
    fn: Callable[[List[bytes]], int], chunks: List[bytes], expected: int, repeat: int
) -> List[float]:
    """Events per second of each of ``repeat`` runs (checking the event count each time)."""
    out: List[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        got = fn(chunks)
        elapsed = time.perf_counter() - start
        if got != expected:
            raise SystemExit(f"{fn.__name__}: expected {expected} events, got {got}")
        out.append(expected / elapsed)
    return out


def make_row(
    workload: str, ours: List[float], official: List[float], *, goal: bool, note: str
) -> Dict[str, Any]:
    """A result row: medians in events/s (higher is better), ratio ours / official."""
    value, other = statistics.median(ours), statistics.median(official)
    ratio = value / other
    return {
        "workload": workload,
        "unit": "events/s",
        "ours": value,
        "official": other,
        "ratio": ratio,
        "better": "higher",
        "goal": ">= 1M events/s; >= 5x" if goal else "",
        "met": (value >= 1e6 and ratio >= 5.0) if goal else None,
        "note": note,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=16 * 1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--crlf", action="store_true", help="use CRLF line endings")
    parser.add_argument("--quick", action="store_true", help="2,000 events, 3 runs")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.repeat = 2_000, 3

    stream = build_stream(args.events, crlf=args.crlf)
    chunks = split(stream, args.chunk_size)
    expected = args.events + 1  # the [DONE] event is an SSE event too
    setup = (
        f"{expected} events, {len(stream) / 1e6:.1f} MB, {len(chunks)} chunks of "
        f"{args.chunk_size} B, {'CRLF' if args.crlf else 'LF'} line endings, "
        f"median of {args.repeat}"
    )

    import openai

    sdk = rates(run_sdk, chunks, expected, args.repeat)
    ours = rates(run_ours, chunks, expected, args.repeat)
    layer = rates(run_ours_openai_layer, chunks, expected, args.repeat)
    rows = [
        make_row(
            "SSE framing: `SSEDecoder.feed` vs SDK `SSEDecoder.iter_bytes`",
            ours,
            sdk,
            goal=True,
            note=f"{expected} chat-chunk events, {args.chunk_size} B chunks",
        ),
        make_row(
            "SSE + OpenAI layer: `StreamParser.feed` vs SDK `SSEDecoder.iter_bytes`",
            layer,
            sdk,
            goal=False,
            note="adds [DONE] and error-payload checks; still untyped",
        ),
    ]
    # With --json the text goes to stderr and stdout carries only the JSON document.
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    say(setup)
    say(f"{'decoder':<36} {'median':>12} {'best':>12}")
    for name, values in (
        (f"openai {openai.__version__} SSEDecoder.iter_bytes", sdk),
        ("openai_proto SSEDecoder.feed", ours),
        ("openai_proto StreamParser.feed", layer),
    ):
        say(f"{name:<36} {statistics.median(values):>12,.0f} {max(values):>12,.0f} events/s")
    for row, name in zip(rows, ("SSEDecoder.feed", "StreamParser.feed")):
        say(f"ratio (openai_proto {name} / official, median): {row['ratio']:.2f}x")
    status = "met" if rows[0]["met"] else "NOT met"
    say(f"goal {rows[0]['goal']} for SSEDecoder.feed: {status}")
    if args.json:
        doc = {
            "benchmark": "sse",
            "params": {
                "events": args.events,
                "chunk_size": args.chunk_size,
                "repeat": args.repeat,
                "crlf": args.crlf,
            },
            "versions": {"openai": openai.__version__},
            "rows": rows,
        }
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
