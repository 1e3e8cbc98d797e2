"""Typed chat-chunk stream decoding, CPU only: SSE bytes in, typed chunk objects out.

No network: the body of a streamed chat completion (N ``chat.completion.chunk`` events and
``data: [DONE]``, built by ``bench_sse.build_stream``) is cut into 64 KiB pieces, as a socket
read hands them over, and both libraries turn it into typed objects the way their
``AsyncStream`` does.

Two rows:

- **decode loop**: the per-event work alone, run synchronously on both sides.
  openai-proto: ``StreamParser.feed`` then the msgspec decoder of the operation's stream
  type (``openai_proto.types.decoder_for(ChatCompletionChunk).decode``), as
  ``backends._stream.AsyncStream._events`` does. Official SDK: ``client._make_sse_decoder()``
  ``.iter_bytes``, then per event what ``openai._streaming.AsyncStream.__stream__`` does: the
  ``[DONE]`` test, ``sse.json()``, the ``"error"`` check, and
  ``client._process_response_data(data=..., cast_to=ChatCompletionChunk)``, which is
  ``construct_type`` (pydantic ``model_construct`` of every nested model).
- **whole AsyncStream**: each library's real ``AsyncStream`` object iterated with
  ``async for`` over an in-memory body (a minimal stand-in response for ours, an
  ``httpx2.Response`` with an async byte iterator for the SDK), so async-generator and
  response-layer costs are included and the loop above is checked against the real thing.

Times are ``time.perf_counter`` (single-threaded, CPU-bound); medians of ``--rounds``;
ratio = official / openai-proto. Goal: 40x or more for the decode loop.

    python benchmarks/bench_decode.py [--events 20000] [--rounds 5] [--quick] [--json]
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
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, Union

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
import msgspec
import openai
from openai._utils import is_mapping
from openai.types.chat import ChatCompletionChunk

from backends._stream import AsyncStream
from benchmarks.bench_sse import build_stream, split
from openai_proto._catalogue import chat_completions_create
from openai_proto._operation import resolve_type
from openai_proto._streaming import StreamParser
from openai_proto.types import decoder_for

READ_SIZE = 64 * 1024
URL = "http://127.0.0.1:9/v1"
assert chat_completions_create.stream_type is not None
CHUNK_TYPE: Any = resolve_type(chat_completions_create.stream_type)

SDK_CLIENT = openai.AsyncOpenAI(api_key="sk-bench", base_url=URL)
SDK_REQUEST = httpx2.Request("POST", URL + "/chat/completions")


# -- openai-proto ------------------------------------------------------------------------


class _MemoryResponse:
    """What ``backends._stream.AsyncStream`` reads from a response, over in-memory chunks."""

    def __init__(self, chunks: List[bytes]) -> None:
        self._chunks = chunks
        self.request = None
        self.status_code = 200
        self.headers: Dict[str, str] = {}

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        return None


def ours_loop(chunks: List[bytes]) -> Iterator[Any]:
    """``AsyncStream._events`` without the awaits: parse, then typed-decode each payload.

    (Written out rather than calling the stream's private helpers, whose signatures move;
    the whole-``AsyncStream`` row checks that this loop is the real per-event work.)
    """
    parser = StreamParser()
    decode = decoder_for(CHUNK_TYPE).decode
    for chunk in chunks:
        for item in parser.feed(chunk):
            try:
                yield decode(item.data)
            except msgspec.DecodeError as exc:
                raise SystemExit(f"undecodable chunk: {exc}") from exc
    for item in parser.end():
        yield decode(item.data)


def ours_stream(chunks: List[bytes]) -> AsyncIterator[Any]:
    response: Any = _MemoryResponse(chunks)
    stream: AsyncStream[Any] = AsyncStream(response, item_type=CHUNK_TYPE)
    return stream.__aiter__()


# -- the official SDK ----------------------------------------------------------------------


def official_loop(chunks: List[bytes]) -> Iterator[Any]:
    """``openai._streaming.AsyncStream.__stream__`` for a chat stream, run synchronously."""
    response = httpx2.Response(200, request=SDK_REQUEST)
    process = SDK_CLIENT._process_response_data
    for sse in SDK_CLIENT._make_sse_decoder().iter_bytes(iter(chunks)):
        if sse.data.startswith("[DONE]"):
            break
        if sse.event and sse.event.startswith("thread."):
            raise AssertionError("no Assistants events in this workload")
        data = sse.json()
        if is_mapping(data) and data.get("error"):
            raise openai.APIError(message="stream error", request=SDK_REQUEST, body=data)
        yield process(data=data, cast_to=ChatCompletionChunk, response=response)


def official_stream(chunks: List[bytes]) -> AsyncIterator[Any]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    response = httpx2.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=body(),
        request=SDK_REQUEST,
    )
    stream = openai.AsyncStream(cast_to=ChatCompletionChunk, response=response, client=SDK_CLIENT)
    return stream.__aiter__()


# -- measuring -----------------------------------------------------------------------------

Impl = Callable[[List[bytes]], Union[Iterator[Any], AsyncIterator[Any]]]
Summary = Tuple[int, str, str]


class Consumer:
    """What the caller does with each chunk: count it and collect its text (as a chat UI).

    With ``retain``, every chunk object is also kept (``[c async for c in stream]``), which
    makes the garbage collector walk all of them again and again.
    """

    def __init__(self, *, retain: bool) -> None:
        self.retain = retain
        self.count = 0
        self.parts: List[str] = []
        self.kept: List[Any] = []
        self.last_id = ""

    def take(self, chunk: Any) -> None:
        self.count += 1
        if chunk.choices:
            self.parts.append(chunk.choices[0].delta.content or "")
        self.last_id = chunk.id
        if self.retain:
            self.kept.append(chunk)

    def summary(self) -> Summary:
        return self.count, "".join(self.parts), self.last_id


async def _drain_async(items: AsyncIterator[Any], consumer: Consumer) -> float:
    start = time.perf_counter()  # inside the loop: asyncio.run's set-up is not the work
    async for chunk in items:
        consumer.take(chunk)
    return time.perf_counter() - start


def timed(fn: Impl, chunks: List[bytes], *, retain: bool) -> Tuple[float, Summary]:
    """Seconds taken by one pass of ``fn`` over ``chunks``, and what the consumer saw."""
    consumer = Consumer(retain=retain)
    items = fn(chunks)
    if isinstance(items, AsyncIterator):
        seconds = asyncio.run(_drain_async(items, consumer))
    else:
        start = time.perf_counter()
        for chunk in items:
            consumer.take(chunk)
        seconds = time.perf_counter() - start
    return seconds, consumer.summary()


def measure(
    impls: Dict[str, Impl], chunks: List[bytes], events: int, rounds: int, *, retain: bool
) -> Dict[str, List[float]]:
    """µs per event for each implementation; rounds alternate between implementations."""
    expected: Optional[Summary] = None
    for name, fn in impls.items():  # warm up (lazy model builds, decoder caches) and check
        got = timed(fn, chunks, retain=retain)[1]
        if got[0] != events:
            raise SystemExit(f"{name}: expected {events} chunks, got {got[0]}")
        if expected is not None and got != expected:
            raise SystemExit(f"{name}: decoded content differs from the other implementation")
        expected = got
    per_event: Dict[str, List[float]] = {name: [] for name in impls}
    for _ in range(rounds):
        for name, fn in impls.items():
            seconds, _summary = timed(fn, chunks, retain=retain)
            per_event[name].append(seconds / events * 1e6)
    return per_event


def make_row(
    workload: str, ours: List[float], official: List[float], *, goal: bool, note: str
) -> Dict[str, Any]:
    value, other = statistics.median(ours), statistics.median(official)
    ratio = other / value
    return {
        "workload": workload,
        "unit": "µs/chunk",
        "ours": value,
        "official": other,
        "ratio": ratio,
        "better": "lower",
        "goal": ">= 40x" if goal else "",
        "met": ratio >= 40.0 if goal else None,
        "note": note,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="300 events, 2 rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--retain", action="store_true", help="keep every chunk object (GC pressure)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.rounds = 300, 2
    stream = build_stream(args.events, crlf=False)
    chunks = split(stream, READ_SIZE)
    impls: Dict[str, Impl] = {
        "ours_loop": ours_loop,
        "official_loop": official_loop,
        "ours_stream": ours_stream,
        "official_stream": official_stream,
    }
    res = measure(impls, chunks, args.events, args.rounds, retain=args.retain)
    setup = (
        f"{args.events} chat-chunk events ({len(stream) / 1e6:.1f} MB) in {len(chunks)} "
        f"pieces of {READ_SIZE} B, median of {args.rounds}"
        f"{', every chunk retained' if args.retain else ''}"
    )
    rows = [
        make_row(
            "typed chunk decoding, decode loop (SSE bytes -> typed chunks)",
            res["ours_loop"],
            res["official_loop"],
            goal=True,
            note="ours: StreamParser + msgspec; SDK: SSEDecoder + construct_type",
        ),
        make_row(
            "typed chunk decoding, whole `AsyncStream` over an in-memory body",
            res["ours_stream"],
            res["official_stream"],
            goal=False,
            note="adds async iteration and the response layer (httpx2 for the SDK)",
        ),
    ]
    # With --json the text goes to stderr and stdout carries only the JSON document.
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    say(setup)
    say(f"{'implementation':<18} {'median µs/chunk':>16} {'best':>8}")
    for name, values in res.items():
        say(f"{name:<18} {statistics.median(values):>16.2f} {min(values):>8.2f}")
    for row in rows:
        say(f"ratio (official / openai-proto, median), {row['workload']}: {row['ratio']:.1f}x")
    status = "met" if rows[0]["met"] else "NOT met"
    say(f"goal {rows[0]['goal']} for the decode loop: {status}")
    if args.json:
        doc = {
            "benchmark": "decode",
            "params": {
                "events": args.events,
                "rounds": args.rounds,
                "read_size": READ_SIZE,
                "retain": args.retain,
            },
            "versions": {"openai": openai.__version__},
            "rows": rows,
        }
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
