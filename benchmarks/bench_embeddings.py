"""Decoding an embeddings response (100 x 1536 floats), CPU only, from the body bytes.

The body is what ``backends.fake_openai`` sends: ``CreateEmbeddingResponse`` JSON with 100
unit-length float32 vectors of 1,536 dimensions, either as JSON numbers
(``encoding_format: "float"``; float32 values widened to double, ~20 characters each) or as
base64 of little-endian float32 (``encoding_format: "base64"``).

- openai-proto: ``backends._engine.decode_json(body, CreateEmbeddingResponse, response)``,
  what ``AsyncOpenAI._request`` does with a non-streamed body (msgspec typed decode); when
  the caller gives no ``encoding_format`` it asks for base64, like the SDK, and
  ``openai_proto._embeddings.decode_vectors`` turns each vector into floats (``array``).
- official SDK: ``response.json()`` (``json.loads``), then
  ``client._process_response_data(cast_to=CreateEmbeddingResponse)`` (``construct_type``,
  which visits every float), then the post-parser ``embeddings.create`` installs
  (``openai.lib._parsing._embeddings.parse_embedding_response``). When the caller gives no
  ``encoding_format`` the SDK asks for base64 and that post-parser decodes it with numpy
  (``np.frombuffer(...).tolist()``) if numpy is installed, else with ``array.array``.

Rows: float JSON (both libraries); base64 to ``list[float]``, each library's default (the
SDK with numpy, and without); and the floor of that path: base64-decoding the vectors and
building their Python floats and nothing else (``b64decode`` + ``array.tolist``), which any
library returning ``list[float]`` pays. Times are ``time.perf_counter``; medians of
``--rounds``; ratio = official / openai-proto. Goal: 40x or more.

    python benchmarks/bench_embeddings.py [--inputs 100] [--dimensions 1536] [--rounds 7]
                                          [--quick] [--json]
"""

from __future__ import annotations

import argparse
import array
import base64
import functools
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
import openai
from openai._types import omit
from openai.lib._parsing import _embeddings as sdk_embeddings
from openai.types import CreateEmbeddingResponse as SDKEmbeddingResponse

from backends._engine import decode_json
from openai_proto._catalogue import embeddings_create
from openai_proto._embeddings import decode_vector, decode_vectors
from openai_proto._operation import resolve_type

URL = "http://127.0.0.1:9/v1"
assert embeddings_create.response_type is not None
OUR_TYPE: Any = resolve_type(embeddings_create.response_type)
SDK_CLIENT = openai.AsyncOpenAI(api_key="sk-bench", base_url=URL)
SDK_REQUEST = httpx2.Request("POST", URL + "/embeddings")


class _Response:
    """The attributes ``decode_json`` and ``APIResponseValidationError`` read."""

    def __init__(self) -> None:
        self.status_code = 200
        self.headers = {"x-request-id": "req_bench"}
        self.request = None


def vectors(inputs: int, dimensions: int) -> List[array.array[float]]:
    """Unit-length float32 vectors, deterministic (as the fake server makes them)."""
    rng = random.Random(1536)
    out = []
    for _ in range(inputs):
        values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        out.append(array.array("f", [v / norm for v in values]))
    return out


def body(vecs: List[array.array[float]], *, b64: bool) -> bytes:
    """A ``CreateEmbeddingResponse`` body, encoded like ``backends.fake_openai`` does."""
    data = []
    for index, vec in enumerate(vecs):
        if b64:
            le = array.array("f", vec)
            if sys.byteorder == "big":
                le.byteswap()
            embedding: Any = base64.b64encode(le.tobytes()).decode("ascii")
        else:
            embedding = vec.tolist()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = len(vecs) * 8
    doc = {
        "object": "list",
        "data": data,
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


# -- the decoders --------------------------------------------------------------------------


def ours(content: bytes) -> Any:
    response: Any = _Response()
    return decode_json(content, OUR_TYPE, response)


def ours_default(content: bytes) -> Any:
    """No ``encoding_format`` from the caller: base64 on the wire, floats to the caller."""
    return decode_vectors(ours(content))


def floats_only(content: bytes) -> Any:
    """The floor of the base64 path: the vectors' floats built, no JSON, no objects.

    The base64 strings are cut out of the body beforehand (not timed); what is timed is
    ``b64decode`` + ``array.frombytes`` + ``tolist`` per vector.
    """
    return [decode_vector(text) for text in _B64_STRINGS[content]]


_B64_STRINGS: Dict[bytes, List[str]] = {}


def official(content: bytes, *, encoding_format: Any) -> Any:
    """``APIResponse._parse`` for ``embeddings.create``: JSON, construct, post-parser."""
    response = httpx2.Response(
        200, headers={"content-type": "application/json"}, content=content, request=SDK_REQUEST
    )
    data = response.json()
    parsed = SDK_CLIENT._process_response_data(
        data=data, cast_to=SDKEmbeddingResponse, response=response
    )
    return sdk_embeddings.parse_embedding_response(parsed, encoding_format=encoding_format)


def official_float(content: bytes) -> Any:
    return official(content, encoding_format="float")


def official_default(content: bytes) -> Any:
    """No ``encoding_format`` from the caller: the SDK requested base64 and decodes it."""
    return official(content, encoding_format=omit)


def official_default_without_numpy(content: bytes) -> Any:
    """The same, as on a machine without numpy (the SDK falls back to ``array``)."""
    saved = getattr(sdk_embeddings, "has_numpy")  # noqa: B009 (not re-exported)
    setattr(sdk_embeddings, "has_numpy", lambda: False)  # noqa: B010
    try:
        return official(content, encoding_format=omit)
    finally:
        setattr(sdk_embeddings, "has_numpy", saved)  # noqa: B010


# -- measuring -----------------------------------------------------------------------------


def check(result: Any, vecs: List[array.array[float]]) -> None:
    """Every decoded vector equals the float32 values that were encoded."""
    if len(result.data) != len(vecs):
        raise SystemExit(f"expected {len(vecs)} embeddings, got {len(result.data)}")
    for item, vec in zip(result.data, vecs):
        if list(item.embedding) != vec.tolist():
            raise SystemExit(f"embedding {item.index} differs from what was encoded")


def times(fn: Callable[[bytes], Any], content: bytes, rounds: int) -> List[float]:
    """Milliseconds per decode, one entry per round (after one warm-up call)."""
    fn(content)
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(content)
        out.append((time.perf_counter() - start) * 1e3)
    return out


def make_row(
    workload: str,
    ours_ms: Optional[List[float]],
    official_ms: List[float],
    *,
    goal: bool,
    note: str,
) -> Dict[str, Any]:
    other = statistics.median(official_ms)
    value = statistics.median(ours_ms) if ours_ms else None
    ratio = other / value if value else None
    return {
        "workload": workload,
        "unit": "ms/response",
        "ours": value,
        "official": other,
        "ratio": ratio,
        "better": "lower",
        "goal": ">= 40x" if goal else "",
        "met": (ratio is not None and ratio >= 40.0) if goal else None,
        "note": note,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--dimensions", type=int, default=1536)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="4 x 256 floats, 2 rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.quick:
        args.inputs, args.dimensions, args.rounds = 4, 256, 2
    vecs = vectors(args.inputs, args.dimensions)
    float_body, b64_body = body(vecs, b64=False), body(vecs, b64=True)

    _B64_STRINGS[b64_body] = [item["embedding"] for item in json.loads(b64_body)["data"]]
    check(ours(float_body), vecs)
    check(ours_default(b64_body), vecs)
    check(official_float(float_body), vecs)
    check(official_default(b64_body), vecs)
    check(official_default_without_numpy(b64_body), vecs)
    if [decode_vector(t) for t in _B64_STRINGS[b64_body]] != [v.tolist() for v in vecs]:
        raise SystemExit("the floor decoder does not reproduce the vectors")

    t_ours = times(ours, float_body, args.rounds)
    t_ours_b64 = times(ours_default, b64_body, args.rounds)
    t_floor = times(floats_only, b64_body, args.rounds)
    t_float = times(official_float, float_body, args.rounds)
    t_b64 = times(official_default, b64_body, args.rounds)
    t_b64_array = times(official_default_without_numpy, b64_body, args.rounds)
    shape = f"{args.inputs} x {args.dimensions}"
    sizes = f"float body {len(float_body) / 1e6:.2f} MB, base64 body {len(b64_body) / 1e6:.2f} MB"
    rows = [
        make_row(
            f"embeddings {shape}, float JSON -> typed response",
            t_ours,
            t_float,
            goal=True,
            note=f"{sizes}; SDK: json.loads + construct_type",
        ),
        make_row(
            f"embeddings {shape}, base64 -> list[float] (SDK: numpy), each library's default",
            t_ours_b64,
            t_b64,
            goal=True,
            note="no encoding_format: both ask for base64 and return lists of floats",
        ),
        make_row(
            f"embeddings {shape}, base64 -> list[float] (SDK without numpy: array)",
            t_ours_b64,
            t_b64_array,
            goal=False,
            note="the SDK falls back to array.array when numpy is not installed",
        ),
        make_row(
            f"floor: base64 -> list[float] alone, {shape}",
            t_floor,
            t_b64,
            goal=False,
            note="b64decode + array.tolist per vector, no JSON: the best ratio a library "
            f"returning list[float] could reach; 40x would need <= "
            f"{statistics.median(t_b64) / 40:.2f} ms",
        ),
    ]
    # With --json the text goes to stderr and stdout carries only the JSON document.
    say = functools.partial(print, file=sys.stderr if args.json else sys.stdout)
    say(f"embeddings response decoding, {shape} floats, {sizes}, median of {args.rounds}")
    say(f"{'decoder':<52} {'median ms':>10} {'best':>8}")
    for name, values in (
        ("openai-proto, float JSON (msgspec)", t_ours),
        ("openai-proto, base64 + array (default)", t_ours_b64),
        ("floor: b64decode + array.tolist only", t_floor),
        (f"openai {openai.__version__}, float JSON", t_float),
        (f"openai {openai.__version__}, base64 + numpy (SDK default)", t_b64),
        (f"openai {openai.__version__}, base64 + array (no numpy)", t_b64_array),
    ):
        say(f"{name:<52} {statistics.median(values):>10.2f} {min(values):>8.2f}")
    for row in rows:
        if row["ratio"] is not None:
            say(f"ratio (official / openai-proto, median), {row['workload']}: {row['ratio']:.1f}x")
    for row in rows:
        if row["goal"]:
            status = "met" if row["met"] else "NOT met"
            say(f"goal {row['goal']} for {row['workload']}: {status}")
    if args.json:
        doc = {
            "benchmark": "embeddings",
            "params": {
                "inputs": args.inputs,
                "dimensions": args.dimensions,
                "rounds": args.rounds,
            },
            "versions": {"openai": openai.__version__},
            "rows": rows,
        }
        print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
