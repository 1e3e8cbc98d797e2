"""Every generated method, called through ``AsyncOpenAI`` against Prism serving the spec.

For each operation of the catalogue (parametrized by its dotted name) the method is called
with arguments synthesized from the spec (``_args.py``): once with only the required
parameters, once with every parameter, once with ``stream=True`` where the operation
streams, and through ``with_raw_response`` / ``with_streaming_response`` once those exist.
Prism validates each request against the spec (a 422 from it names what we got wrong) and
answers with the spec's example, which must decode to the operation's response type.

Known library bugs are listed in :data:`KNOWN_BUGS` and marked strict xfail per operation,
so each one flips to a failure (XPASS) the day it is fixed and the entry must go.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple, Union

import msgspec
import pytest

from backends import AsyncOpenAI, AsyncPage, AsyncPaginator, AsyncStream
from openai_proto._catalogue import OPERATIONS
from openai_proto._exceptions import (
    APIResponseValidationError,
    APIStatusError,
    UnprocessableEntityError,
)
from openai_proto._operation import Operation, resolve_type
from openai_proto.types._base import UnknownObject

from ._args import (
    SPEC_PATH,
    CallArgs,
    Spec,
    Synthesizer,
    build_call,
    load_spec,
    resolve_method,
    stream_events,
    wire_names,
)
from .conftest import INSTALL_TIMEOUT, STARTUP_TIMEOUT, PrismServer

# pytest-timeout counts fixture setup: whichever test starts Prism (and installs it, when
# .ci/run has not) needs longer than the suite's 60 s. Each call has its own CALL_TIMEOUT.
pytestmark = pytest.mark.timeout(INSTALL_TIMEOUT + STARTUP_TIMEOUT + 60)

OPS = sorted(OPERATIONS)
STREAM_OPS = [n for n in OPS if OPERATIONS[n].stream_type and "stream" in OPERATIONS[n].body_params]
EVENT_OPS = [n for n in OPS if OPERATIONS[n].stream_type]
CALL_TIMEOUT = 30.0

# Known library bugs: "op.name" (every variant) or "op.name[variant]" -> what is wrong.
# Variants: params, required, all, stream, events, raw, streaming_response. Strict: a fix makes
# the test XPASS, which fails the run until the entry is removed.
_TE_STRING = (
    "Not a library bug: Prism copies the spec's schema type into audio.speech's "
    "Transfer-Encoding header ('Transfer-Encoding: string', next to Content-Length). "
    "'string' is no transfer coding any client can remove (RFC 9112 §6.1), and h11 "
    "refuses every Transfer-Encoding but chunked, so the call ends in APIConnectionError, "
    "as it does with the official SDK (httpcore runs h11 too). The real API answers "
    "chunked, as the spec documents."
)
KNOWN_BUGS: Dict[str, str] = {
    **{
        f"audio.speech.create[{variant}]": _TE_STRING
        for variant in ("required", "all", "raw", "streaming_response")
    },
}


def _mark_known(request: pytest.FixtureRequest, name: str, variant: str) -> None:
    reason = KNOWN_BUGS.get(f"{name}[{variant}]") or KNOWN_BUGS.get(name)
    if reason is not None:
        request.node.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(scope="module")
def spec() -> Spec:
    if not SPEC_PATH.exists():
        pytest.skip(f"spec not found at {SPEC_PATH}")
    return load_spec()


# -- calling ---------------------------------------------------------------------------------


def _client(prism: PrismServer) -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=prism.url, api_key="sk-test", max_retries=0, timeout=CALL_TIMEOUT, _environ={}
    )


def _describe_error(
    op: Operation, call: CallArgs, exc: Union[APIStatusError, APIResponseValidationError]
) -> str:
    """What we sent and what Prism said about it, for the failure report."""
    where = f"{op.method} {op.path}"
    if isinstance(exc, APIStatusError):
        body = exc.body
        detail = repr(body)
        if isinstance(body, dict) and isinstance(body.get("validation"), list):
            detail = "; ".join(
                f"{'.'.join(str(p) for p in v.get('location', []))}: {v.get('message')}"
                for v in body["validation"]
                if isinstance(v, dict)
            )
        sent = getattr(exc.request, "body", None)
        target = getattr(exc.request, "target", None)
        return (
            f"{where}: Prism answered {exc.status_code}: {detail}\n"
            f"  request target: {target}\n  request body: {sent!r:.2000}\n  args: {call.describe()}"
        )
    return f"{where}: response did not decode: {exc.message}\n  body: {exc.body!r:.1500}"


def _run(
    prism: PrismServer,
    spec: Spec,
    name: str,
    *,
    full: bool,
    stream: bool = False,
    wrap: Optional[str] = None,
) -> None:
    op = OPERATIONS[name]

    async def main() -> None:
        async with _client(prism) as client:
            resource, method = resolve_method(client, name)
            call = build_call(spec, op, method, full=full, stream=stream)
            try:
                await asyncio.wait_for(
                    _call_and_check(op, resource, method, call, stream=stream, wrap=wrap),
                    CALL_TIMEOUT,
                )
            except (APIStatusError, APIResponseValidationError) as exc:
                outcome.append(("fail", _describe_error(op, call, exc)))

    outcome: List[Tuple[str, str]] = []
    asyncio.run(main())
    # Outside the except blocks, so the report is the message alone, without a chained
    # traceback of the API error.
    for _kind, message in outcome:
        pytest.fail(message, pytrace=False)


async def _call_and_check(
    op: Operation,
    resource: Any,
    method: Callable[..., Any],
    call: CallArgs,
    *,
    stream: bool,
    wrap: Optional[str],
) -> None:
    meth = op.name.rsplit(".", 1)[-1]
    if wrap == "raw":
        raw: Any = getattr(resource.with_raw_response, meth)(**call.kwargs)
        if inspect.isawaitable(raw):
            raw = await raw
        assert 200 <= raw.status_code < 300
        parsed = raw.parse()
        if inspect.isawaitable(parsed):
            parsed = await parsed
        await _check_result(op, parsed, stream=False)
        return
    if wrap == "streaming_response":
        async with getattr(resource.with_streaming_response, meth)(**call.kwargs) as response:
            assert 200 <= response.status_code < 300
            await _check_result(op, await response.parse(), stream=False)
        return
    result: Any = method(**call.kwargs)
    if not op.page:
        result = await result
    await _check_result(op, result, stream=stream)


# -- checking --------------------------------------------------------------------------------


def _unknown_objects(value: Any, path: str = "$", depth: int = 0) -> Iterator[str]:
    """Where a union field decoded to ``UnknownObject`` (the example's kind is unknown)."""
    if depth > 40:
        return
    if isinstance(value, UnknownObject):
        yield f"{path} (type={value.get('type')!r})"
        return
    if isinstance(value, msgspec.Struct):
        for field_name in value.__struct_fields__:
            sub = getattr(value, field_name, None)
            yield from _unknown_objects(sub, f"{path}.{field_name}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _unknown_objects(item, f"{path}[{i}]", depth + 1)


def _assert_decoded(value: Any, ref: Optional[str], what: str) -> None:
    if ref is None:
        return
    tp = resolve_type(ref)
    assert isinstance(value, tp), f"{what}: got {type(value).__name__}, expected {ref}"
    unknown = list(_unknown_objects(value))
    assert not unknown, f"{what}: parts of the example decoded to UnknownObject: {unknown}"


def _binary(value: Any) -> bytes:
    if isinstance(value, (bytes, str)):
        return value.encode() if isinstance(value, str) else value
    content = getattr(value, "content", None)  # the official SDK's binary response object
    assert isinstance(content, bytes), f"binary result of type {type(value).__name__}"
    return content


async def _check_page(op: Operation, page: Any) -> None:
    assert isinstance(page, AsyncPage), f"expected AsyncPage, got {type(page).__name__}"
    assert isinstance(page.data, list)
    for i, item in enumerate(page.data):
        _assert_decoded(item, op.response_type, f"page.data[{i}]")


async def _check_result(op: Operation, result: Any, *, stream: bool) -> None:
    if stream:
        assert isinstance(result, AsyncStream), f"expected AsyncStream, got {type(result)}"
        assert result.response.status_code == 200
        events: List[Any] = []
        async with result:
            async for event in result:
                events.append(event)
                if len(events) >= 100:
                    break
        for i, event in enumerate(events):
            _assert_decoded(event, op.stream_type, f"event {i}")
        return
    if op.page:
        if isinstance(result, AsyncPaginator):
            result = await result
        await _check_page(op, result)
        if result.has_next_page():  # Prism answers the same example: one more page is enough
            await _check_page(op, await result.get_next_page())
        return
    if op.binary:
        assert isinstance(_binary(result), bytes)
        return
    if op.response_type is None:
        assert result is None
        return
    _assert_decoded(result, op.response_type, "response")


# -- the tests -------------------------------------------------------------------------------


def test_catalogue_matches_spec(spec: Spec) -> None:
    """Every catalogued operation is a spec operation; the spec's paths are all covered."""
    missing = [n for n in OPS if OPERATIONS[n].path not in spec.paths]
    assert missing == []
    covered = {(o.method.lower(), o.path) for o in OPERATIONS.values()}
    in_spec = {
        (m, p)
        for p, item in spec.paths.items()
        for m in item
        if m in ("get", "post", "put", "patch", "delete")
    }
    assert in_spec - covered == set()


def test_prism_rejects_an_invalid_request(prism: PrismServer) -> None:
    """The oracle works: a body the spec forbids gets Prism's 422, naming the field."""

    async def main() -> None:
        async with _client(prism) as client:
            await client.embeddings.create(
                input="hello", model="text-embedding-3-small", extra_body={"model": 5}
            )

    with pytest.raises(UnprocessableEntityError) as info:
        asyncio.run(main())
    body = info.value.body
    assert isinstance(body, dict)
    messages = [v.get("message", "") for v in body.get("validation", [])]
    assert any("model" in m for m in messages), messages


@pytest.mark.parametrize("name", OPS)
def test_method_exposes_spec_params(spec: Spec, name: str, request: pytest.FixtureRequest) -> None:
    """Every path, query, header and body parameter of the spec is an argument."""
    _mark_known(request, name, "params")
    op = OPERATIONS[name]
    client = AsyncOpenAI(base_url="http://127.0.0.1:9", api_key="sk-test", _environ={})
    _, method = resolve_method(client, name)
    names = wire_names(method)
    sig = inspect.signature(method).parameters
    missing: List[Tuple[str, str]] = []
    for prm in spec.parameters(op):
        where = {"path": "path_params", "query": "query"}.get(prm.get("in", ""))
        if where is not None and prm["name"] not in names[where]:
            missing.append((prm["in"], prm["name"]))
        elif prm.get("in") == "header":
            # The official SDK names a header parameter by its `x-stainless-param`.
            py = (prm.get("schema") or {}).get("x-stainless-param") or prm["name"]
            if py not in sig:
                missing.append(("header", f"{prm['name']} (argument {py!r})"))
    schema = spec.request_schema(op)
    if schema is not None and op.content_type in ("application/json", "multipart/form-data"):
        props = Synthesizer(spec).merge_object(schema).get("properties") or {}
        missing += [("body", w) for w in props if w not in names["body"]]
    assert missing == []
    for kind in ("path_params", "query", "body"):
        for py in names[kind].values():
            assert py in sig, f"{kind} maps to {py!r}, which is not an argument"


@pytest.mark.parametrize("name", OPS)
def test_required_params(
    prism: PrismServer, spec: Spec, name: str, request: pytest.FixtureRequest
) -> None:
    _mark_known(request, name, "required")
    _run(prism, spec, name, full=False)


@pytest.mark.parametrize("name", OPS)
def test_all_params(
    prism: PrismServer, spec: Spec, name: str, request: pytest.FixtureRequest
) -> None:
    _mark_known(request, name, "all")
    _run(prism, spec, name, full=True)


@pytest.mark.parametrize("name", STREAM_OPS)
def test_stream(prism: PrismServer, spec: Spec, name: str, request: pytest.FixtureRequest) -> None:
    """``stream=True`` gives an ``AsyncStream``; Prism validates the request.

    Prism answers a streaming request with the JSON example (it cannot frame SSE), so the
    stream ends with no events here: the events are checked by ``test_stream_events_decode``.
    """
    _mark_known(request, name, "stream")
    _run(prism, spec, name, full=False, stream=True)


class _SSEBody:
    """Stands in for an HTTP response whose body is a prepared event stream."""

    def __init__(self, body: bytes, chunk: int) -> None:
        self.request = None
        self.body = body
        self.chunk = chunk
        self.closed = False

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.body), self.chunk):
            yield self.body[i : i + self.chunk]

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize("name", EVENT_OPS)
def test_stream_events_decode(spec: Spec, name: str, request: pytest.FixtureRequest) -> None:
    """Every variant of the operation's stream event union decodes through ``AsyncStream``.

    Prism cannot serve ``text/event-stream`` (it answers 500 ``NO_COMPLEX_OBJECT_TEXT`` for
    object schemas), so ``test_stream`` checks the request side against Prism and this test
    the event side: one event synthesized per variant, framed as SSE, read back typed.
    """
    _mark_known(request, name, "events")
    op = OPERATIONS[name]
    events = stream_events(spec, op)
    assert events, "the spec names no event variants"
    frames = []
    for sse_name, data in events:
        head = f"event: {sse_name}\n".encode() if sse_name else b""
        frames.append(head + b"data: " + msgspec.json.encode(data) + b"\n\n")
    body = b"".join(frames) + b"data: [DONE]\n\n"
    response = _SSEBody(body, chunk=997)

    async def main() -> List[Any]:
        stream: AsyncStream[Any] = AsyncStream(
            response,  # type: ignore[arg-type]
            item_type=resolve_type(op.stream_type or ""),
        )
        return [event async for event in stream]

    decoded = asyncio.run(main())
    assert response.closed
    assert len(decoded) == len(events)
    for (sse_name, data), event in zip(events, decoded):
        tag = sse_name or (data.get("type") if isinstance(data, dict) else None)
        _assert_decoded(event, op.stream_type, f"event {tag!r}")
        if sse_name:
            assert event.event == sse_name
        elif tag is not None:
            assert event.type == tag


@pytest.mark.parametrize("name", OPS)
def test_with_raw_response(
    prism: PrismServer, spec: Spec, name: str, request: pytest.FixtureRequest
) -> None:
    _mark_known(request, name, "raw")
    _run(prism, spec, name, full=False, wrap="raw")


@pytest.mark.parametrize("name", OPS)
def test_with_streaming_response(
    prism: PrismServer, spec: Spec, name: str, request: pytest.FixtureRequest
) -> None:
    _mark_known(request, name, "streaming_response")
    _run(prism, spec, name, full=False, wrap="streaming_response")
