"""An independent OpenAI-compatible HTTP server for the demo, the tests and the benchmarks.

It is the peer our client is tested against, so it shares no code with ``openai_proto``:
it is written with starlette and served by uvicorn (h11), with the stdlib ``json`` encoder.
Response shapes follow the OpenAPI spec (``CreateChatCompletionResponse``,
``CreateChatCompletionStreamResponse``, ``CreateEmbeddingResponse``, ``ListModelsResponse``,
``Model``, ``DeleteModelResponse``, ``ErrorResponse``, ``OpenAIFile``, ``ListFilesResponse``,
``VectorStoreFileObject``, ``VectorStoreFileBatchObject``).
Uploads (``POST /v1/files``) are parsed with starlette's form parser (python-multipart).

In-process use::

    with FakeServer() as server:            # 127.0.0.1, ephemeral port, background thread
        server.state.script("/v1/chat/completions", Reply(status=429))
        ...  # point a client at server.url ("http://127.0.0.1:PORT/v1")

As a process (prints ``LISTENING http://127.0.0.1:PORT`` once ready)::

    python -m backends.fake_openai --host 127.0.0.1 --port 0

and script it over HTTP with ``/_control/script``, ``/_control/requests``,
``/_control/reset``, ``/_control/config`` and ``/_control/connections``.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import collections
import hashlib
import json
import math
import random
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Deque,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
)
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "DEFAULT_MODELS",
    "FakeServer",
    "FakeState",
    "RecordedRequest",
    "Reply",
    "create_app",
    "main",
]

#: ``created`` of every completion: a fixed instant keeps replies byte-for-byte reproducible.
CREATED = 1_700_000_000
#: Default embedding width (``text-embedding-3-small``).
DEFAULT_DIMENSIONS = 1536
#: Upper bounds that keep a hostile or mistaken request from exhausting the server.
MAX_COMPLETION_TOKENS = 1_000_000
MAX_DIMENSIONS = 16_384
MAX_EMBEDDING_INPUTS = 2048
#: Stream batch size: events are joined into writes of about this many bytes.
STREAM_BATCH_BYTES = 64 * 1024
#: Paths under this prefix drive the server; they are not recorded, scripted or authenticated.
CONTROL_PREFIX = "/_control/"

DEFAULT_MODELS: Tuple[Tuple[str, int, str], ...] = (
    ("gpt-4o-mini", 1721172741, "system"),
    ("gpt-4o", 1715367049, "system"),
    ("text-embedding-3-small", 1705948997, "system"),
    ("ft:gpt-4o-mini:fake-org::abc123", 1730000000, "fake-org"),
)

_JSON_SEPARATORS = (",", ":")
_SCOPE_REQUEST_ID = "fake_openai.request_number"
_TOKEN_RE = re.compile(r"\s*\S+")
#: Azure OpenAI paths (``/openai/...``, ``/openai/deployments/{name}/...``), served by the
#: handlers of the same ``/v1/...`` path.
_AZURE_PATH_RE = re.compile(r"^/openai(?:/deployments/[^/]+)?(/.*)$")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=_JSON_SEPARATORS).encode("utf-8")


# --------------------------------------------------------------------------------------
# State: recording and scripting
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (before scripting or auth)."""

    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: bytes
    json: Any

    def to_json(self) -> Dict[str, Any]:
        """A JSON-ready dict (the body as base64, since it may not be text)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body_base64": base64.b64encode(self.body).decode("ascii"),
            "json": self.json,
        }


@dataclass(frozen=True)
class Reply:
    """A scripted answer, consumed (FIFO per path) before normal handling.

    ``delay`` seconds are slept first. A reply with no ``status``, ``json`` or ``body`` only
    sleeps, then the request is handled normally (a stall). Otherwise the server answers with
    ``status`` (default 200), ``headers``, and ``body`` bytes or ``json`` (encoded, with
    ``content-type: application/json`` unless ``headers`` name one).
    """

    status: Optional[int] = None
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    body: Optional[bytes] = None
    delay: float = 0.0

    @property
    def answers(self) -> bool:
        """Whether this reply answers the request (as opposed to only delaying it)."""
        return self.status is not None or self.json is not None or self.body is not None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Reply:
        """Build from the ``/_control/script`` form (``body`` text or ``body_base64``)."""
        body: Optional[bytes] = None
        if obj.get("body_base64") is not None:
            body = base64.b64decode(obj["body_base64"])
        elif obj.get("body") is not None:
            body = str(obj["body"]).encode("utf-8")
        status = obj.get("status")
        return cls(
            status=None if status is None else int(status),
            headers={str(k): str(v) for k, v in (obj.get("headers") or {}).items()},
            json=obj.get("json"),
            body=body,
            delay=float(obj.get("delay") or 0.0),
        )


def _default_models() -> Dict[str, Dict[str, Any]]:
    return {
        model_id: {"id": model_id, "object": "model", "created": created, "owned_by": owner}
        for model_id, created, owner in DEFAULT_MODELS
    }


class FakeState:
    """Everything a test configures or inspects; shared by the server thread and the test.

    ``api_key``: if set, the bearer token must equal it. ``stream_delay``: seconds slept
    between stream events (0 streams in large batches). ``models``: the model catalogue.
    """

    def __init__(self, *, api_key: Optional[str] = None, stream_delay: float = 0.0) -> None:
        self.api_key = api_key
        self.stream_delay = stream_delay
        self.models: Dict[str, Dict[str, Any]] = _default_models()
        self.connection_counter: Optional[Callable[[], int]] = None
        #: Uploaded files by id: ``object`` (the API's file object), ``sha256``, ``size``,
        #: ``content_type`` and ``fields`` (the other form fields) of the upload, and
        #: ``content`` when it is at most ``KEPT_FILE_BYTES`` (else ``None``).
        self.files: Dict[str, Dict[str, Any]] = {}
        #: Vector stores (``/v1/vector_stores/{id}/files``, ``.../file_batches``): a file
        #: attached or a batch created is ``in_progress`` for ``processing_polls`` retrievals,
        #: then ``completed``; in-progress answers carry ``openai-poll-after-ms:
        #: poll_after_ms`` when that is set.
        self.processing_polls = 2
        self.poll_after_ms: Optional[int] = None
        self.vector_store_files: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self.file_batches: Dict[str, Dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._requests: List[RecordedRequest] = []
        self._scripts: Dict[str, Deque[Reply]] = {}
        self._counter = 0

    @property
    def requests(self) -> List[RecordedRequest]:
        """A snapshot of the recorded requests, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def open_connections(self) -> int:
        """Open client connections as the server counts them (0 if no server attached)."""
        counter = self.connection_counter
        return 0 if counter is None else counter()

    def script(self, path: str, *replies: Reply) -> None:
        """Queue ``replies`` for ``path`` (exact request path; ``"*"`` matches any path)."""
        with self._lock:
            self._scripts.setdefault(path, collections.deque()).extend(replies)

    def pending(self, path: str) -> int:
        """How many scripted replies for ``path`` are not consumed yet."""
        with self._lock:
            return len(self._scripts.get(path, ()))

    def reset(self) -> None:
        """Forget requests and scripts; restore the key, delay, models and id counter."""
        with self._lock:
            self._requests.clear()
            self._scripts.clear()
            self.files.clear()
            self.vector_store_files.clear()
            self.file_batches.clear()
            self.processing_polls = 2
            self.poll_after_ms = None
            self._counter = 0
            self.api_key = None
            self.stream_delay = 0.0
            self.models = _default_models()

    def next_request_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"req_{self._counter}"

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def pop_reply(self, path: str) -> Optional[Reply]:
        with self._lock:
            for key in (path, "*"):
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft()
            return None


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _error(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    param: Optional[str] = None,
    code: Optional[str] = None,
) -> JSONResponse:
    """An OpenAI error body: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def _mask_key(key: str) -> str:
    return key if len(key) <= 8 else f"{key[:3]}{'*' * 8}{key[-4:]}"


def _unauthorized(key: str) -> JSONResponse:
    shown = f" {_mask_key(key)}" if key else ""
    return _error(
        401,
        f"Incorrect API key provided:{shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def _bearer(headers: Mapping[str, str]) -> Optional[str]:
    """The bearer token of ``Authorization`` (scheme is case-insensitive, RFC 7235 §2.1)."""
    value = headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _decode_headers(raw: Sequence[Tuple[bytes, bytes]]) -> Dict[str, str]:
    """Lower-cased names; repeated fields joined with ``", "`` (RFC 9110 §5.3)."""
    headers: Dict[str, str] = {}
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _text_of(content: Any) -> str:
    """Text of a message ``content``: a string or a list of ``{"type": "text"}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _int_param(body: Mapping[str, Any], name: str) -> Optional[int]:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Invalid type for '{name}': expected an integer.")
    return value


# --------------------------------------------------------------------------------------
# The front door: request id, recording, scripting, auth
# --------------------------------------------------------------------------------------


class _FrontDoor:
    """ASGI wrapper applied to every HTTP request before routing."""

    def __init__(self, app: ASGIApp, state: FakeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.state.next_request_id()
        scope[_SCOPE_REQUEST_ID] = request_id.removeprefix("req_")
        raw_id = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", raw_id))
                message = {**message, "headers": headers}
            await send(message)

        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send_with_id)
            return

        headers = _decode_headers(scope["headers"])
        # Uploads go to their endpoint unbuffered (recorded without their body), so a large
        # one never sits in memory whole.
        streamed = headers.get("content-type", "").startswith("multipart/form-data")
        body = b"" if streamed else await _read_body(receive)
        if body is None:  # the client went away before sending the whole body
            return
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        self.state.record(
            RecordedRequest(
                method=scope["method"],
                path=path,
                query=query,
                headers=headers,
                body=body,
                json=_parse_json(body),
            )
        )

        reply = self.state.pop_reply(path)
        if reply is not None:
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
            if reply.answers:
                await _scripted_response(reply)(scope, receive, send_with_id)
                return

        token = _bearer(headers) or headers.get("api-key") or None  # OpenAI or Azure style
        expected = self.state.api_key
        if token is None or (expected is not None and token != expected):
            await _unauthorized(token or "")(scope, receive, send_with_id)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        azure = _AZURE_PATH_RE.match(path)
        if azure is not None:
            scope = {**scope, "path": "/v1" + azure.group(1)}
        await self.app(scope, receive if streamed else replay, send_with_id)


async def _read_body(receive: Receive) -> Optional[bytes]:
    chunks: List[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _scripted_response(reply: Reply) -> Response:
    headers = dict(reply.headers)
    if reply.body is not None:
        content = reply.body
    elif reply.json is not None:
        content = _dumps(reply.json)
        if not any(name.lower() == "content-type" for name in headers):
            headers["content-type"] = "application/json"
    else:
        content = b""
    status = 200 if reply.status is None else reply.status
    return Response(content=content, status_code=status, headers=headers)


# --------------------------------------------------------------------------------------
# /v1/chat/completions
# --------------------------------------------------------------------------------------


def _reply_tokens(messages: Sequence[Any]) -> List[str]:
    """The deterministic reply, cut into word tokens that keep their leading whitespace."""
    last = ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            last = _text_of(message.get("content"))
            break
    return _TOKEN_RE.findall(f"Hello! You said: {last}")


def _prompt_tokens(messages: Sequence[Any]) -> int:
    return sum(len(_text_of(m.get("content")).split()) for m in messages if isinstance(m, dict))


def _usage(prompt: int, completion: int) -> Dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


async def _chat_completions(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    body = _parse_json(await request.body())
    if not isinstance(body, dict):
        return _error(400, "We could not parse the JSON body of your request.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _error(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _error(400, "'messages' must be a non-empty array.", param="messages")
    try:
        limit = _int_param(body, "max_completion_tokens")
        name = "max_completion_tokens"
        if limit is None:
            limit = _int_param(body, "max_tokens")
            name = "max_tokens"
    except ValueError as exc:
        return _error(400, str(exc))
    if limit is not None and not 1 <= limit <= MAX_COMPLETION_TOKENS:
        return _error(400, f"'{name}' must be between 1 and {MAX_COMPLETION_TOKENS}.", param=name)

    tokens = _reply_tokens(messages)
    document = _json_schema_reply(body.get("response_format"))
    if document is not None:
        tokens = _pieces(document)
    count = len(tokens) if limit is None else limit
    finish_reason = "stop" if limit is None else "length"
    prompt = _prompt_tokens(messages)
    completion_id = "chatcmpl-" + str(request.scope.get(_SCOPE_REQUEST_ID, "0"))

    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        events = _chat_stream_events(
            completion_id=completion_id,
            model=model,
            tokens=tokens,
            count=count,
            finish_reason=finish_reason,
            usage=_usage(prompt, count) if include_usage else None,
        )
        return StreamingResponse(
            _batched(events, state.stream_delay),
            media_type="text/event-stream; charset=utf-8",
            headers={"cache-control": "no-cache"},
        )

    k = len(tokens)
    content = "".join(tokens) if limit is None else "".join(tokens[i % k] for i in range(count))
    completion = {
        "id": completion_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": _usage(prompt, count),
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }
    return JSONResponse(completion)


def _chat_stream_events(
    *,
    completion_id: str,
    model: str,
    tokens: Sequence[str],
    count: int,
    finish_reason: str,
    usage: Optional[Dict[str, Any]],
) -> Iterator[bytes]:
    """SSE events (``data: {chunk}\\n\\n``): role, ``count`` content chunks, finish, usage, DONE.

    Each distinct content event is encoded once and reused, so long streams cost a list
    lookup per event.
    """
    base: Dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_fake",
    }

    def event(delta: Dict[str, Any], finish: Optional[str]) -> bytes:
        chunk = dict(base)
        chunk["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        if usage is not None:
            chunk["usage"] = None  # null on every chunk but the last (spec, usage field)
        return b"data: " + _dumps(chunk) + b"\n\n"

    yield event({"role": "assistant", "content": "", "refusal": None}, None)
    encoded = [event({"content": token}, None) for token in tokens]
    k = len(encoded)
    for i in range(count):
        yield encoded[i % k]
    yield event({}, finish_reason)
    if usage is not None:
        final = dict(base)
        final["choices"] = []
        final["usage"] = usage
        yield b"data: " + _dumps(final) + b"\n\n"
    yield b"data: [DONE]\n\n"


async def _batched(events: Iterator[bytes], delay: float) -> AsyncIterator[bytes]:
    """Join events into ~64 KiB writes; with ``delay`` > 0, one event per write, spaced."""
    if delay > 0:
        for index, item in enumerate(events):
            if index:
                await asyncio.sleep(delay)
            yield item
        return
    batch: List[bytes] = []
    size = 0
    for item in events:
        batch.append(item)
        size += len(item)
        if size >= STREAM_BATCH_BYTES:
            yield b"".join(batch)
            batch.clear()
            size = 0
    if batch:
        yield b"".join(batch)


# --------------------------------------------------------------------------------------
# Structured outputs: a JSON document that fits the request's schema
# --------------------------------------------------------------------------------------

_SCHEMA_DEPTH = 16


def _schema_value(schema: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    """A deterministic value fitting ``schema``: its first enum member, "text", 1, 1.5,
    true, a one-item array, an object with every property (nulls only when required)."""
    if not isinstance(schema, dict) or depth > _SCHEMA_DEPTH:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return _schema_value(target, root, depth + 1)
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            typed = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return _schema_value((typed or options)[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or isinstance(schema.get("properties"), dict):
        props = schema.get("properties") or {}
        return {name: _schema_value(sub, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [_schema_value(schema.get("items"), root, depth + 1)]
    return {"string": "text", "integer": 1, "number": 1.5, "boolean": True}.get(str(kind))


def _json_schema_reply(response_format: Any) -> Optional[str]:
    """The reply document for a ``json_schema`` response format (chat ``response_format``
    or Responses ``text.format``), else ``None``."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    inner = response_format.get("json_schema", response_format)
    schema = inner.get("schema") if isinstance(inner, dict) else None
    if not isinstance(schema, dict):
        return None
    return _dumps(_schema_value(schema, schema)).decode("utf-8")


def _pieces(text: str, size: int = 8) -> List[str]:
    """``text`` cut into chunks of ``size`` characters (a streamed JSON document)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# --------------------------------------------------------------------------------------
# /v1/responses
# --------------------------------------------------------------------------------------


def _response_object(
    response_id: str, model: str, status: str, output: List[Dict[str, Any]], usage: Any
) -> Dict[str, Any]:
    obj: Dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "tool_choice": "auto",
        "tools": [],
    }
    if usage is not None:
        obj["usage"] = usage
    return obj


async def _responses(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    body = _parse_json(await request.body())
    if not isinstance(body, dict):
        return _error(400, "We could not parse the JSON body of your request.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _error(400, "you must provide a model parameter", param="model")
    text_param = body.get("text")
    document = _json_schema_reply(
        text_param.get("format") if isinstance(text_param, dict) else None
    )
    raw_input = body.get("input")
    user = (
        raw_input
        if isinstance(raw_input, str)
        else _text_of(
            next((m.get("content") for m in reversed(raw_input or []) if isinstance(m, dict)), "")
        )
    )
    text = document if document is not None else f"Hello! You said: {user}"
    number = str(request.scope.get(_SCOPE_REQUEST_ID, "0"))
    response_id, item_id = "resp_" + number, "msg_" + number
    tokens = _pieces(text)
    usage = {
        "input_tokens": len(user.split()),
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": len(tokens),
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": len(user.split()) + len(tokens),
    }
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    item = {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [part],
    }
    final = _response_object(response_id, model, "completed", [item], usage)
    if body.get("stream") is not True:
        return JSONResponse(final)

    def events() -> Iterator[bytes]:
        seq = iter(range(1_000_000))

        def event(kind: str, **fields: Any) -> bytes:
            data = {"type": kind, "sequence_number": next(seq), **fields}
            return b"event: " + kind.encode() + b"\ndata: " + _dumps(data) + b"\n\n"

        started = _response_object(response_id, model, "in_progress", [], None)
        yield event("response.created", response=started)
        yield event("response.in_progress", response=started)
        at = {"item_id": item_id, "output_index": 0}
        yield event(
            "response.output_item.added",
            output_index=0,
            item={**item, "status": "in_progress", "content": []},
        )
        yield event("response.content_part.added", **at, content_index=0, part={**part, "text": ""})
        for token in tokens:
            yield event(
                "response.output_text.delta", **at, content_index=0, delta=token, logprobs=[]
            )
        yield event("response.output_text.done", **at, content_index=0, text=text, logprobs=[])
        yield event("response.content_part.done", **at, content_index=0, part=part)
        yield event("response.output_item.done", output_index=0, item=item)
        yield event("response.completed", response=final)

    return StreamingResponse(
        _batched(events(), state.stream_delay),
        media_type="text/event-stream; charset=utf-8",
        headers={"cache-control": "no-cache"},
    )


# --------------------------------------------------------------------------------------
# /v1/embeddings
# --------------------------------------------------------------------------------------


def _embedding_inputs(value: Any) -> List[Tuple[bytes, int]]:
    """``(seed material, token count)`` per input: str, [str], [int] or [[int]]."""
    if isinstance(value, str):
        return [(b"s:" + value.encode("utf-8"), max(1, len(value.split())))]
    if not isinstance(value, list) or not value:
        raise ValueError("'input' must be a non-empty string or array.")
    if len(value) > MAX_EMBEDDING_INPUTS:
        raise ValueError(f"'input' must have at most {MAX_EMBEDDING_INPUTS} items.")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [(b"t:" + ",".join(map(str, value)).encode("ascii"), len(value))]
    out: List[Tuple[bytes, int]] = []
    for item in value:
        if isinstance(item, str):
            out.append((b"s:" + item.encode("utf-8"), max(1, len(item.split()))))
        elif (
            isinstance(item, list)
            and item
            and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        ):
            out.append((b"t:" + ",".join(map(str, item)).encode("ascii"), len(item)))
        else:
            raise ValueError("'input' items must be strings or non-empty arrays of integers.")
    return out


def _vector(seed: bytes, dimensions: int) -> array.array[float]:
    """A unit-length float32 vector derived from ``seed`` alone."""
    rng = random.Random(int.from_bytes(hashlib.sha256(seed).digest()[:8], "little"))
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return array.array("f", [v / norm for v in values])


def _float32_le_base64(vector: array.array[float]) -> str:
    if sys.byteorder == "big":  # the API sends little-endian float32
        vector = array.array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode("ascii")


async def _embeddings(request: Request) -> Response:
    body = _parse_json(await request.body())
    if not isinstance(body, dict):
        return _error(400, "We could not parse the JSON body of your request.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _error(400, "you must provide a model parameter", param="model")
    try:
        inputs = _embedding_inputs(body.get("input"))
    except ValueError as exc:
        return _error(400, str(exc), param="input")
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    if (
        isinstance(dimensions, bool)
        or not isinstance(dimensions, int)
        or not 1 <= dimensions <= MAX_DIMENSIONS
    ):
        return _error(
            400, f"'dimensions' must be between 1 and {MAX_DIMENSIONS}.", param="dimensions"
        )
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return _error(
            400, "'encoding_format' must be 'float' or 'base64'.", param="encoding_format"
        )

    data: List[Dict[str, Any]] = []
    for index, (seed, _) in enumerate(inputs):
        vector = _vector(seed, dimensions)
        embedding: Any = _float32_le_base64(vector) if encoding == "base64" else vector.tolist()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(n for _, n in inputs)
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


# --------------------------------------------------------------------------------------
# /v1/models
# --------------------------------------------------------------------------------------


def _model_not_found(model: str) -> JSONResponse:
    return _error(
        404,
        f"The model '{model}' does not exist or you do not have access to it.",
        code="model_not_found",
    )


async def _list_models(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    return JSONResponse({"object": "list", "data": list(state.models.values())})


async def _retrieve_model(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    model: str = request.path_params["model"]
    found = state.models.get(model)
    return _model_not_found(model) if found is None else JSONResponse(found)


async def _delete_model(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    model: str = request.path_params["model"]
    if state.models.pop(model, None) is None:
        return _model_not_found(model)
    return JSONResponse({"id": model, "object": "model", "deleted": True})


# --------------------------------------------------------------------------------------
# /v1/files and /v1/audio/speech
# --------------------------------------------------------------------------------------

#: Uploads up to this size keep their content for ``GET /v1/files/{id}/content``; larger
#: ones keep only their size and SHA-256 (nothing large stays in memory).
KEPT_FILE_BYTES = 8 * 1024 * 1024
_HASH_CHUNK = 64 * 1024
_SPEECH_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def _file_not_found(file_id: str) -> JSONResponse:
    return _error(404, f"No such File object: {file_id}", param="id")


async def _create_file(request: Request) -> Response:
    """``multipart/form-data`` upload, parsed by starlette (python-multipart): the file is
    spooled to disk by the parser and hashed here in small pieces."""
    state: FakeState = request.app.state.fake
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return _error(400, "Expected a multipart/form-data request body.")
    try:
        form = await request.form()
    except Exception as exc:  # starlette's MultiPartException, or a broken body
        return _error(400, f"Invalid multipart body: {exc}")
    try:
        upload = form.get("file")
        purpose = form.get("purpose")
        if upload is None or isinstance(upload, str):
            return _error(400, "Missing required parameter: 'file'.", param="file")
        if not isinstance(purpose, str):
            return _error(400, "Missing required parameter: 'purpose'.", param="purpose")
        digest = hashlib.sha256()
        size = 0
        # UploadFile.size is counted by the parser: a large upload keeps nothing.
        kept: Optional[List[bytes]] = None if (upload.size or 0) > KEPT_FILE_BYTES else []
        while True:
            piece = await upload.read(_HASH_CHUNK)
            if not piece:
                break
            digest.update(piece)
            size += len(piece)
            if kept is not None and size <= KEPT_FILE_BYTES:
                kept.append(piece)
            else:
                kept = None
        file_id = f"file-{len(state.files) + 1:06d}"
        obj: Dict[str, Any] = {
            "id": file_id,
            "object": "file",
            "bytes": size,
            "created_at": CREATED,
            "filename": upload.filename or "",
            "purpose": purpose,
            "status": "processed",
        }
        state.files[file_id] = {
            "object": obj,
            "sha256": digest.hexdigest(),
            "size": size,
            "content_type": upload.content_type,
            "fields": [(k, v) for k, v in form.multi_items() if isinstance(v, str)],
            "content": None if kept is None else b"".join(kept),
        }
        return JSONResponse(obj)
    finally:
        await form.close()


async def _list_files(request: Request) -> Response:
    """Cursor pagination as the API does it: ``after`` (an id), ``limit``, ``order``."""
    state: FakeState = request.app.state.fake
    params = request.query_params
    try:
        limit = int(params.get("limit", "10000"))
    except ValueError:
        return _error(400, "Invalid 'limit': expected an integer.", param="limit")
    if not 1 <= limit <= 10000:
        return _error(400, "Invalid 'limit': expected 1 to 10000.", param="limit")
    order = params.get("order", "desc")
    purpose = params.get("purpose")
    files = [f["object"] for f in state.files.values()]
    if purpose:
        files = [f for f in files if f["purpose"] == purpose]
    if order == "desc":
        files.reverse()
    after = params.get("after")
    if after:
        ids = [f["id"] for f in files]
        if after not in ids:
            return _error(400, f"Invalid 'after': no file {after}.", param="after")
        files = files[ids.index(after) + 1 :]
    page = files[:limit]
    return JSONResponse(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(files) > limit,
        }
    )


async def _retrieve_file(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    file_id: str = request.path_params["file_id"]
    found = state.files.get(file_id)
    return _file_not_found(file_id) if found is None else JSONResponse(found["object"])


async def _file_content(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    file_id: str = request.path_params["file_id"]
    found = state.files.get(file_id)
    if found is None:
        return _file_not_found(file_id)
    if found["content"] is None:
        return _error(400, f"The content of {file_id} is too large to keep in this server.")
    return Response(found["content"], media_type="application/octet-stream")


def _speech_block(model: str, voice: str, text: str) -> bytes:
    return hashlib.sha256(f"{model}\0{voice}\0{text}".encode()).digest() * 32


async def _speech(request: Request) -> Response:
    """Deterministic "audio": one KiB per byte of UTF-8 ``input``, each KiB the SHA-256 of
    ``model NUL voice NUL input`` repeated; streamed in 64 KiB pieces."""
    body = _parse_json(await request.body())
    if not isinstance(body, dict):
        return _error(400, "We could not parse the JSON body of your request.")
    model, text, voice = body.get("model"), body.get("input"), body.get("voice")
    if isinstance(voice, dict):
        voice = voice.get("id")
    for name, value in (("model", model), ("input", text), ("voice", voice)):
        if not isinstance(value, str) or not value:
            return _error(400, f"Missing required parameter: '{name}'.", param=name)
    assert isinstance(model, str) and isinstance(text, str) and isinstance(voice, str)
    fmt = body.get("response_format") or "mp3"
    if fmt not in _SPEECH_TYPES:
        return _error(400, f"Invalid 'response_format': {fmt!r}.", param="response_format")
    block = _speech_block(model, voice, text)
    count = len(text.encode("utf-8"))

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, count, 64):
            yield block * min(64, count - start)

    return StreamingResponse(
        pieces(),
        media_type=_SPEECH_TYPES[fmt],
        headers={"content-length": str(count * len(block))},
    )


# --------------------------------------------------------------------------------------
# /v1/vector_stores/{id}/files and /file_batches: processing that takes a few polls
# --------------------------------------------------------------------------------------


def _poll_headers(state: FakeState, status: str) -> Dict[str, str]:
    if status == "in_progress" and state.poll_after_ms is not None:
        return {"openai-poll-after-ms": str(state.poll_after_ms)}
    return {}


def _vector_store_file(state: FakeState, vector_store_id: str, file_id: str) -> Dict[str, Any]:
    entry = state.vector_store_files[(vector_store_id, file_id)]
    status = "in_progress" if entry["polls_left"] > 0 else "completed"
    obj: Dict[str, Any] = {
        "id": file_id,
        "object": "vector_store.file",
        "usage_bytes": state.files[file_id]["size"] if file_id in state.files else 0,
        "created_at": CREATED,
        "vector_store_id": vector_store_id,
        "status": status,
        "last_error": None,
    }
    if entry["attributes"] is not None:
        obj["attributes"] = entry["attributes"]
    return obj


def _attach(state: FakeState, vector_store_id: str, file_id: str, attributes: Any) -> None:
    state.vector_store_files[(vector_store_id, file_id)] = {
        "polls_left": state.processing_polls,
        "attributes": attributes,
    }


async def _create_vector_store_file(request: Request) -> Response:
    """Attach an uploaded file (``file_id``) to a vector store; it starts ``in_progress``."""
    state: FakeState = request.app.state.fake
    vector_store_id: str = request.path_params["vector_store_id"]
    body = _parse_json(await request.body())
    file_id = body.get("file_id") if isinstance(body, dict) else None
    if not isinstance(file_id, str):
        return _error(400, "Missing required parameter: 'file_id'.", param="file_id")
    if file_id not in state.files:
        return _file_not_found(file_id)
    _attach(state, vector_store_id, file_id, body.get("attributes"))
    obj = _vector_store_file(state, vector_store_id, file_id)
    return JSONResponse(obj, headers=_poll_headers(state, obj["status"]))


async def _retrieve_vector_store_file(request: Request) -> Response:
    """Each retrieval brings an attached file one poll closer to ``completed``."""
    state: FakeState = request.app.state.fake
    vector_store_id: str = request.path_params["vector_store_id"]
    file_id: str = request.path_params["file_id"]
    entry = state.vector_store_files.get((vector_store_id, file_id))
    if entry is None:
        return _error(404, f"No file found with id '{file_id}' in vector store.", param="id")
    obj = _vector_store_file(state, vector_store_id, file_id)
    entry["polls_left"] = max(0, entry["polls_left"] - 1)
    return JSONResponse(obj, headers=_poll_headers(state, obj["status"]))


def _file_batch(state: FakeState, batch_id: str) -> Dict[str, Any]:
    batch = state.file_batches[batch_id]
    total = len(batch["file_ids"])
    done = batch["polls_left"] <= 0
    return {
        "id": batch_id,
        "object": "vector_store.files_batch",
        "created_at": CREATED,
        "vector_store_id": batch["vector_store_id"],
        "status": "completed" if done else "in_progress",
        "file_counts": {
            "in_progress": 0 if done else total,
            "completed": total if done else 0,
            "failed": 0,
            "cancelled": 0,
            "total": total,
        },
    }


async def _create_file_batch(request: Request) -> Response:
    """A batch of uploaded files (``file_ids``), ``in_progress`` while any file is."""
    state: FakeState = request.app.state.fake
    vector_store_id: str = request.path_params["vector_store_id"]
    body = _parse_json(await request.body())
    file_ids = body.get("file_ids") if isinstance(body, dict) else None
    if not isinstance(file_ids, list) or not all(isinstance(f, str) for f in file_ids):
        return _error(400, "Missing required parameter: 'file_ids'.", param="file_ids")
    missing = [f for f in file_ids if f not in state.files]
    if missing:
        return _file_not_found(missing[0])
    batch_id = f"vsfb_{len(state.file_batches) + 1:06d}"
    for file_id in file_ids:
        _attach(state, vector_store_id, file_id, body.get("attributes"))
    state.file_batches[batch_id] = {
        "vector_store_id": vector_store_id,
        "file_ids": list(file_ids),
        "polls_left": state.processing_polls if file_ids else 0,
    }
    obj = _file_batch(state, batch_id)
    return JSONResponse(obj, headers=_poll_headers(state, obj["status"]))


async def _retrieve_file_batch(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    batch_id: str = request.path_params["batch_id"]
    batch = state.file_batches.get(batch_id)
    if batch is None or batch["vector_store_id"] != request.path_params["vector_store_id"]:
        return _error(404, f"No batch found with id '{batch_id}'.", param="batch_id")
    obj = _file_batch(state, batch_id)
    batch["polls_left"] = max(0, batch["polls_left"] - 1)
    return JSONResponse(obj, headers=_poll_headers(state, obj["status"]))


# --------------------------------------------------------------------------------------
# /_control/*
# --------------------------------------------------------------------------------------


async def _control_script(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    body = _parse_json(await request.body())
    if not isinstance(body, dict) or not isinstance(body.get("path"), str):
        return _error(400, "expected {'path': str, 'replies': [...]}", param="path")
    try:
        replies = [Reply.from_json(r) for r in body.get("replies") or []]
    except (AttributeError, TypeError, ValueError) as exc:
        return _error(400, f"bad reply: {exc}", param="replies")
    state.script(body["path"], *replies)
    return JSONResponse({"path": body["path"], "pending": state.pending(body["path"])})


async def _control_requests(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    return JSONResponse([r.to_json() for r in state.requests])


async def _control_reset(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    state.reset()
    return JSONResponse({"reset": True})


async def _control_config(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    body = _parse_json(await request.body())
    if not isinstance(body, dict):
        return _error(400, "expected a JSON object")
    if "api_key" in body:
        key = body["api_key"]
        state.api_key = None if key is None else str(key)
    if "stream_delay" in body:
        state.stream_delay = float(body["stream_delay"])
    return JSONResponse({"api_key": state.api_key, "stream_delay": state.stream_delay})


async def _control_connections(request: Request) -> Response:
    state: FakeState = request.app.state.fake
    return JSONResponse({"open_connections": state.open_connections})


# --------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------


async def _route_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return _error(status, f"Invalid URL ({request.method} {request.url.path})")


def create_app(state: FakeState) -> Starlette:
    """The ASGI application serving ``state``."""
    routes = [
        Route("/v1/chat/completions", _chat_completions, methods=["POST"]),
        Route("/v1/embeddings", _embeddings, methods=["POST"]),
        Route("/v1/responses", _responses, methods=["POST"]),
        Route("/v1/models", _list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", _retrieve_model, methods=["GET"]),
        Route("/v1/models/{model:path}", _delete_model, methods=["DELETE"]),
        Route("/v1/files", _create_file, methods=["POST"]),
        Route("/v1/files", _list_files, methods=["GET"]),
        Route("/v1/files/{file_id}", _retrieve_file, methods=["GET"]),
        Route("/v1/files/{file_id}/content", _file_content, methods=["GET"]),
        Route("/v1/audio/speech", _speech, methods=["POST"]),
        Route(
            "/v1/vector_stores/{vector_store_id}/files",
            _create_vector_store_file,
            methods=["POST"],
        ),
        Route(
            "/v1/vector_stores/{vector_store_id}/files/{file_id}",
            _retrieve_vector_store_file,
            methods=["GET"],
        ),
        Route(
            "/v1/vector_stores/{vector_store_id}/file_batches",
            _create_file_batch,
            methods=["POST"],
        ),
        Route(
            "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}",
            _retrieve_file_batch,
            methods=["GET"],
        ),
        Route("/_control/script", _control_script, methods=["POST"]),
        Route("/_control/requests", _control_requests, methods=["GET"]),
        Route("/_control/reset", _control_reset, methods=["POST"]),
        Route("/_control/config", _control_config, methods=["POST"]),
        Route("/_control/connections", _control_connections, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _route_error, 405: _route_error})
    app.state.fake = state
    app.add_middleware(_FrontDoor, state=state)
    return app


# --------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------


class FakeServer:
    """Runs :func:`create_app` under uvicorn (h11) in a background thread.

    Binds ``host`` (127.0.0.1) on ``port`` (0: ephemeral, read back after binding). With
    ``certfile`` (PEM with the chain; the key too unless ``keyfile``) it serves HTTPS.
    """

    def __init__(
        self,
        state: Optional[FakeState] = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: Optional[str] = None,
        keyfile: Optional[str] = None,
        graceful_timeout: int = 1,
    ) -> None:
        self.state = state if state is not None else FakeState()
        self.host = host
        self._requested_port = port
        self.scheme = "https" if certfile else "http"
        self._config = uvicorn.Config(
            create_app(self.state),
            host=host,
            port=port,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            timeout_graceful_shutdown=graceful_timeout,
        )
        self._server = uvicorn.Server(self._config)
        self._sock: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[BaseException] = None
        self.port = 0

    @property
    def origin(self) -> str:
        """``scheme://host:port``, no path."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL, ``scheme://host:port/v1``."""
        return f"{self.origin}/v1"

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def open_connections(self) -> int:
        """Client connections uvicorn holds open right now."""
        return len(self._server.server_state.connections)

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> bool:
        """Poll until ``open_connections() == count``; False if ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while self.open_connections() != count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def start(self, timeout: float = 10.0) -> FakeServer:
        """Bind, start the thread, and wait (at most ``timeout`` s) until it accepts."""
        if self._thread is not None:
            raise RuntimeError("FakeServer already started")
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets created with it,
        # and without it every small response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.state.connection_counter = self.open_connections
        self._thread = threading.Thread(
            target=self._run, name=f"fake-openai-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() >= deadline:
                self.stop()
                raise RuntimeError(f"fake OpenAI server did not start: {self._error!r}")
            time.sleep(0.005)
        return self

    def _run(self) -> None:
        assert self._sock is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # surfaced by start()
            self._error = exc
        finally:
            self._sock.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit and join the thread; force it after ``timeout`` s."""
        thread = self._thread
        if thread is None:
            return
        self._server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            self._server.force_exit = True
            thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError("fake OpenAI server thread did not stop")
        if self.state.connection_counter == self.open_connections:
            self.state.connection_counter = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run as a process; print ``LISTENING <origin>`` once ready; exit on SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m backends.fake_openai", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    parser.add_argument("--api-key")
    parser.add_argument("--stream-delay", type=float, default=0.0)
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    state = FakeState(api_key=args.api_key, stream_delay=args.stream_delay)
    server = FakeServer(
        state, host=args.host, port=args.port, certfile=args.certfile, keyfile=args.keyfile
    )
    server.start()
    print(f"LISTENING {server.origin}", flush=True)
    try:
        while not stop.wait(0.2):
            if not server.running:
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
