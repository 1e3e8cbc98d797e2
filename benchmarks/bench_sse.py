"""Server-Sent Events framing speed: openai_proto's SSEDecoder vs the official SDK's.

Builds N chat-completion-chunk events (``data: {...}\\n\\n``, about 230 bytes each),
cuts the stream into fixed-size chunks (16 KiB by default, like socket reads) and times:

- ``openai_proto.sse.SSEDecoder.feed`` (events out as ServerSentEvent);
- ``openai_proto._streaming.StreamParser.feed`` (the OpenAI layer: [DONE], error checks);
- ``openai._streaming.SSEDecoder().iter_bytes(chunks)``, which is how the official SDK's
  ``Stream`` drives its decoder (``client._make_sse_decoder().iter_bytes(response.iter_bytes())``).

Best of ``--repeat`` runs; prints events per second and the ratio to the SDK.

    python benchmarks/bench_sse.py [--events 100000] [--chunk-size 16384] [--repeat 5] [--crlf]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, List

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


def best_rate(
    fn: Callable[[List[bytes]], int], chunks: List[bytes], expected: int, repeat: int
) -> float:
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        got = fn(chunks)
        elapsed = time.perf_counter() - start
        if got != expected:
            raise SystemExit(f"{fn.__name__}: expected {expected} events, got {got}")
        best = max(best, expected / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=16 * 1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--crlf", action="store_true", help="use CRLF line endings")
    args = parser.parse_args()

    stream = build_stream(args.events, crlf=args.crlf)
    chunks = split(stream, args.chunk_size)
    expected = args.events + 1  # the [DONE] event is an SSE event too
    print(
        f"{expected} events, {len(stream) / 1e6:.1f} MB, {len(chunks)} chunks of "
        f"{args.chunk_size} B, {'CRLF' if args.crlf else 'LF'} line endings, best of {args.repeat}"
    )

    import openai

    sdk = best_rate(run_sdk, chunks, expected, args.repeat)
    ours = best_rate(run_ours, chunks, expected, args.repeat)
    layer = best_rate(run_ours_openai_layer, chunks, expected, args.repeat)
    print(f"openai {openai.__version__} SSEDecoder.iter_bytes : {sdk:>12,.0f} events/s  (1.00x)")
    print(f"openai_proto SSEDecoder.feed        : {ours:>12,.0f} events/s  ({ours / sdk:.2f}x)")
    print(f"openai_proto StreamParser.feed      : {layer:>12,.0f} events/s  ({layer / sdk:.2f}x)")


if __name__ == "__main__":
    main()
