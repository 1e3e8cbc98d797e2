"""Raw and streamed responses (``with_raw_response`` / ``with_streaming_response``) and
binary response content, with the official SDK's surface.

``await client.files.with_raw_response.retrieve(id)`` returns a :class:`LegacyAPIResponse`
(body already read; ``parse()`` gives what the plain call returns). ``async with
client.files.with_streaming_response.content(id) as response`` yields an
:class:`AsyncAPIResponse` whose body is read only on demand (``iter_bytes()``,
``stream_to_file()``, ``await parse()``). Binary operations (file content, speech)
return :class:`BinaryResponseContent` (the official ``HttpxBinaryResponseContent``).

Both views work for every generated method without generated wrappers: the resource is
rebuilt over a stand-in client that records the call (operation and arguments) instead of
sending it, and the view then sends it and wraps the response. Recording stops the method
at its ``_request`` / ``_paginate`` call, so nothing the method does with a parsed result
(a ``.decode()``, a discarded ``None``) runs on a raw response.
"""

from __future__ import annotations

import codecs
import importlib
import inspect
import os
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Generator,
    Generic,
    Iterator,
    List,
    Mapping,
    Optional,
    Type,
    TypeVar,
    Union,
)

import msgspec

from openai_proto._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    OpenAIError,
    RemoteProtocolError,
)
from openai_proto._headers import Headers
from openai_proto._operation import Operation, resolve_type
from openai_proto._request import Request, RequestOptions

from ._base import AsyncResponse, TimeoutException, TransportError
from ._engine import decode_json
from ._resource import AsyncAPIResource
from ._stream import AsyncStream

if TYPE_CHECKING:
    from ._client import AsyncOpenAI

__all__ = [
    "AsyncAPIResponse",
    "AsyncResponseContextManager",
    "AsyncStreamedBinaryAPIResponse",
    "BinaryResponseContent",
    "HttpxBinaryResponseContent",
    "LegacyAPIResponse",
    "StreamAlreadyConsumed",
    "response_view",
]

T = TypeVar("T")
R = TypeVar("R", bound="AsyncAPIResponse")

#: Pieces written to a file at a time by ``stream_to_file`` / ``write_to_file``.
_WRITE_CHUNK = 64 * 1024

# Binary operations whose plain call returns text (the official ``cast_to=str``).
_TEXT_OPERATIONS = frozenset({"files.retrieve_content"})


class StreamAlreadyConsumed(OpenAIError):
    """The body was already streamed (``iter_bytes()`` ...), so it cannot be read again.

    Call ``read()`` before iterating to keep the whole body, or accumulate it yourself.
    """

    def __init__(self) -> None:
        super().__init__(
            "Attempted to read or stream some content, but the content has already been "
            "streamed. Call `.read()` before iterating if you need the content twice."
        )


# -- text helpers ------------------------------------------------------------------------


def _charset(headers: Headers) -> Optional[str]:
    """The ``charset`` parameter of ``Content-Type`` if Python knows the codec
    (RFC 9110 §8.3.2)."""
    value = headers.get("content-type")
    if not value:
        return None
    for param in value.split(";")[1:]:
        name, _, charset = param.partition("=")
        if name.strip().lower() == "charset":
            charset = charset.strip().strip('"')
            try:
                codecs.lookup(charset)
            except LookupError:
                return None
            return charset
    return None


def _text(content: bytes, headers: Headers) -> str:
    return content.decode(_charset(headers) or "utf-8", errors="replace")


def _json(content: bytes, response: AsyncResponse) -> Any:
    try:
        return msgspec.json.decode(content)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise APIResponseValidationError(
            response, content.decode("utf-8", "replace"), message=f"Invalid JSON body: {exc}"
        ) from exc


def _rechunk(data: bytes, size: Optional[int]) -> List[bytes]:
    if not data:
        return []
    if not size:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


class _LineSplitter:
    """Lines of incrementally decoded text, split at ``\\n``, ``\\r\\n`` or ``\\r``
    (a ``\\r`` at the end of a piece waits for the next one)."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> List[str]:
        text = self._buffer + text
        if not text:
            return []
        lines = text.splitlines(keepends=True)
        last = lines[-1]
        if last.endswith("\r") or not last.endswith(("\n", "\r")):
            self._buffer = lines.pop()
        else:
            self._buffer = ""
        return [line.rstrip("\r\n") for line in lines]

    def end(self) -> List[str]:
        rest, self._buffer = self._buffer, ""
        return [rest.rstrip("\r\n")] if rest else []


class _MemoryChunks(Generic[T]):
    """Pieces of a body already in memory, to ``for`` or ``async for`` over, and awaitable
    to itself (the official ``await content.aiter_bytes()`` form)."""

    def __init__(self, items: List[T]) -> None:
        self._items = iter(items)

    def __iter__(self) -> Iterator[T]:
        return self._items

    def __aiter__(self) -> _MemoryChunks[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None

    def __await__(self) -> Generator[Any, None, _MemoryChunks[T]]:
        async def itself() -> _MemoryChunks[T]:
            return self

        return itself().__await__()


def _write_pieces(file: Union[str, os.PathLike[str]], pieces: Iterator[bytes]) -> None:
    with open(file, mode="wb") as out:
        for piece in pieces:
            out.write(piece)


# -- binary content ---------------------------------------------------------------------


class BinaryResponseContent:
    """The body of a binary operation (file content, speech audio), already read.

    The official ``HttpxBinaryResponseContent``: ``content``, ``text``, ``json()``,
    ``read()``, ``iter_bytes()`` (``for`` or ``async for``), ``write_to_file(path)``. To
    stream a large body to disk without holding it, call the method through
    ``with_streaming_response`` and use ``stream_to_file``.
    """

    def __init__(self, response: AsyncResponse, content: bytes) -> None:
        self.response = response
        self._content = content

    @property
    def content(self) -> bytes:
        return self._content

    @property
    def text(self) -> str:
        return _text(self._content, self.response.headers)

    @property
    def encoding(self) -> Optional[str]:
        return _charset(self.response.headers) or "utf-8"

    @property
    def charset_encoding(self) -> Optional[str]:
        return _charset(self.response.headers)

    def json(self) -> Any:
        return _json(self._content, self.response)

    def read(self) -> bytes:
        return self._content

    async def aread(self) -> bytes:
        return self._content

    def iter_bytes(self, chunk_size: Optional[int] = None) -> _MemoryChunks[bytes]:
        return _MemoryChunks(_rechunk(self._content, chunk_size))

    aiter_bytes = iter_bytes
    iter_raw = iter_bytes
    aiter_raw = iter_bytes

    def iter_text(self, chunk_size: Optional[int] = None) -> _MemoryChunks[str]:
        text = self.text
        if not chunk_size:
            return _MemoryChunks([text] if text else [])
        return _MemoryChunks([text[i : i + chunk_size] for i in range(0, len(text), chunk_size)])

    aiter_text = iter_text

    def iter_lines(self) -> _MemoryChunks[str]:
        return _MemoryChunks(self.text.splitlines())

    aiter_lines = iter_lines

    def write_to_file(self, file: Union[str, os.PathLike[str]]) -> None:
        """Write the content to ``file`` (a path)."""
        _write_pieces(file, iter(_rechunk(self._content, _WRITE_CHUNK)))

    def stream_to_file(
        self, file: Union[str, os.PathLike[str]], *, chunk_size: Optional[int] = None
    ) -> None:
        """Same as :meth:`write_to_file` (the content is already in memory)."""
        _write_pieces(file, iter(_rechunk(self._content, chunk_size or _WRITE_CHUNK)))

    async def astream_to_file(
        self, file: Union[str, os.PathLike[str]], *, chunk_size: Optional[int] = None
    ) -> None:
        self.stream_to_file(file, chunk_size=chunk_size)

    def close(self) -> None:
        """Nothing to free: the body was read and the connection released."""

    async def aclose(self) -> None:
        """Nothing to free: the body was read and the connection released."""

    def __bytes__(self) -> bytes:
        return self._content

    def __repr__(self) -> str:
        return f"<BinaryResponseContent [{len(self._content)} bytes]>"


#: The official SDK's name, for code ported from it.
HttpxBinaryResponseContent = BinaryResponseContent


# -- recorded calls ----------------------------------------------------------------------


class _Call:
    """One generated method's request: the operation and its arguments."""

    __slots__ = ("body", "op", "options", "paged", "path_params", "query", "stream")

    def __init__(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str],
        query: Optional[Mapping[str, object]],
        body: Optional[Mapping[str, object]],
        options: RequestOptions,
        stream: bool,
        paged: bool,
    ) -> None:
        self.op = op
        self.path_params = path_params
        self.query = query
        self.body = body
        self.options = options
        self.stream = stream
        self.paged = paged


class _Recorded(Exception):
    """Carries a recorded call out of the generated method (never reaches users)."""

    def __init__(self, call: _Call) -> None:
        super().__init__(call.op.name)
        self.call = call


class _RecordingClient:
    """Stands in for the client inside resources reached through a response view: the
    methods' ``_request`` / ``_paginate`` calls are recorded instead of sent. Top-level
    resources are built over it; any other attribute is the real client's."""

    def __init__(self, client: AsyncOpenAI) -> None:
        self._real = client

    async def _request(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] = {},
        query: Optional[Mapping[str, object]] = None,
        body: Optional[Mapping[str, object]] = None,
        options: RequestOptions,
        stream: bool = False,
    ) -> Any:
        raise _Recorded(
            _Call(
                op,
                path_params=path_params,
                query=query,
                body=body,
                options=options,
                stream=stream,
                paged=False,
            )
        )

    def _paginate(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] = {},
        query: Optional[Mapping[str, object]] = None,
        body: Optional[Mapping[str, object]] = None,
        options: RequestOptions,
    ) -> Any:
        raise _Recorded(
            _Call(
                op,
                path_params=path_params,
                query=query,
                body=body,
                options=options,
                stream=False,
                paged=True,
            )
        )

    def __getattr__(self, name: str) -> Any:
        from .resources import TOP_LEVEL

        ref = TOP_LEVEL.get(name)
        if ref is None:
            return getattr(self._real, name)
        module, _, cls_name = ref.partition(":")
        resource = getattr(importlib.import_module(module), cls_name)(self)
        self.__dict__[name] = resource
        return resource


async def _record(method: Callable[..., Any], args: Any, kwargs: Any) -> _Call:
    try:
        # unasync: sync=method(*args, **kwargs)
        result = method(*args, **kwargs)
        # unasync: async-only
        if inspect.isawaitable(result):
            await result
    except _Recorded as recorded:
        return recorded.call
    raise TypeError(f"{getattr(method, '__qualname__', method)!r} does not send an HTTP request")


async def _send(client: AsyncOpenAI, call: _Call, *, streaming: bool) -> Any:
    """Send a recorded call; wrap the response for the raw or the streaming view."""
    response = await client._engine.send(
        call.op,
        path_params=call.path_params,
        query=call.query,
        body=call.body,
        options=call.options,
        read_body=not (streaming or call.stream),
    )
    if streaming:
        cls = AsyncStreamedBinaryAPIResponse if call.op.binary else AsyncAPIResponse
        return cls(client=client, call=call, response=response)
    content = None if call.stream else await response.aread()
    return LegacyAPIResponse(client=client, call=call, response=response, content=content)


class _ResponseView:
    """``with_raw_response`` / ``with_streaming_response`` of a resource or the client:
    the same attributes, whose methods return raw responses (or context managers)."""

    def __init__(self, target: Any, client: AsyncOpenAI, streaming: bool) -> None:
        self._target = target
        self._client = client
        self._streaming = streaming

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if isinstance(attr, AsyncAPIResource):
            view: Any = _ResponseView(attr, self._client, self._streaming)
        elif name.startswith("_") or not inspect.ismethod(attr):
            return attr
        elif self._streaming:
            view = self._streamed(attr)
        else:
            view = self._raw(attr)
        self.__dict__[name] = view
        return view

    def _raw(self, method: Callable[..., Any]) -> Callable[..., Awaitable[LegacyAPIResponse]]:
        client = self._client

        async def raw(*args: Any, **kwargs: Any) -> LegacyAPIResponse:
            call = await _record(method, args, kwargs)
            result: LegacyAPIResponse = await _send(client, call, streaming=False)
            return result

        raw.__name__ = raw.__qualname__ = method.__name__
        raw.__doc__ = method.__doc__
        return raw

    def _streamed(
        self, method: Callable[..., Any]
    ) -> Callable[..., AsyncResponseContextManager[AsyncAPIResponse]]:
        client = self._client

        def streamed(*args: Any, **kwargs: Any) -> AsyncResponseContextManager[AsyncAPIResponse]:
            async def send() -> AsyncAPIResponse:
                call = await _record(method, args, kwargs)
                result: AsyncAPIResponse = await _send(client, call, streaming=True)
                return result

            return AsyncResponseContextManager(send)

        streamed.__name__ = streamed.__qualname__ = method.__name__
        streamed.__doc__ = method.__doc__
        return streamed

    def __repr__(self) -> str:
        kind = "with_streaming_response" if self._streaming else "with_raw_response"
        return f"<{kind} of {self._target!r}>"


def response_view(owner: Any, *, streaming: bool) -> Any:
    """The raw (or streaming) view of a resource or of the client ``owner``."""
    client: AsyncOpenAI = owner if not isinstance(owner, AsyncAPIResource) else owner._client
    real: AsyncOpenAI = getattr(client, "_real", client)
    recording: Any = _RecordingClient(real)
    target = recording if owner is client else type(owner)(recording)
    return _ResponseView(target, real, streaming)


# -- responses ---------------------------------------------------------------------------


class _BaseAPIResponse:
    def __init__(self, *, client: AsyncOpenAI, call: _Call, response: AsyncResponse) -> None:
        self._client = client
        self._call = call
        self.http_response = response
        self._parsed: Dict[Any, Any] = {}

    @property
    def headers(self) -> Headers:
        return self.http_response.headers

    @property
    def http_request(self) -> Request:
        return self.http_response.request

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def url(self) -> str:
        return self.http_request.url

    @property
    def method(self) -> str:
        return self.http_request.method

    @property
    def http_version(self) -> str:
        return self.http_response.http_version

    @property
    def request_id(self) -> Optional[str]:
        return self.headers.get("x-request-id")

    @property
    def is_closed(self) -> bool:
        return self.http_response.is_closed

    def _parse(self, content: Optional[bytes], to: Optional[Type[Any]]) -> Any:
        key = to if to is not None else type(None)
        if key in self._parsed:
            return self._parsed[key]
        parsed = self._parse_uncached(content, to)
        self._parsed[key] = parsed
        return parsed

    def _parse_uncached(self, content: Optional[bytes], to: Optional[Type[Any]]) -> Any:
        op, response = self._call.op, self.http_response
        if self._call.stream:
            if to is not None:
                raise TypeError("parse(to=...) is not supported for a stream=True response")
            item_type = resolve_type(op.stream_type) if op.stream_type else Any
            return AsyncStream(response, item_type=item_type)
        assert content is not None
        if to is not None:
            return _parse_to(to, content, response)
        if op.binary:
            if op.name in _TEXT_OPERATIONS:
                return _text(content, response.headers)
            return BinaryResponseContent(response, content)
        if self._call.paged:
            from ._pagination import AsyncPage, _ListCall, _page_body

            item = resolve_type(op.response_type) if op.response_type else Any
            body = decode_json(content, _page_body(item), response)
            call = _ListCall(
                op, self._call.path_params, self._call.query, self._call.options, self._call.body
            )
            return AsyncPage(self._client, call, body, self.request_id)
        if op.response_type is None:
            return None
        return decode_json(content, resolve_type(op.response_type), response)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {self._call.op.name}>"


def _parse_to(to: Type[Any], content: bytes, response: AsyncResponse) -> Any:
    if to is str:
        return _text(content, response.headers)
    if to is bytes:
        return content
    if to is int or to is float:
        return to(_text(content, response.headers))
    if to is bool:
        return _text(content, response.headers).strip().lower() == "true"
    if to is object or to is dict or to is list:
        return _json(content, response)
    if isinstance(to, type) and issubclass(to, BinaryResponseContent):
        return to(response, content)
    return decode_json(content, to, response)


class LegacyAPIResponse(_BaseAPIResponse):
    """What ``with_raw_response`` methods return: the response with its body read (except
    for ``stream=True`` calls, whose events ``parse()`` hands out as an ``AsyncStream``).

    ``parse()`` gives what the plain method returns; ``headers``, ``status_code``,
    ``request_id``, ``content``, ``text`` and ``json()`` give the raw response.
    """

    def __init__(
        self,
        *,
        client: AsyncOpenAI,
        call: _Call,
        response: AsyncResponse,
        content: Optional[bytes],
    ) -> None:
        super().__init__(client=client, call=call, response=response)
        self._content = content

    def parse(self, *, to: Optional[Type[Any]] = None) -> Any:
        """The parsed body (the plain call's result), or ``to``: ``str``, ``bytes``,
        ``dict``/``list``/``object`` (JSON), or any type the generated decoders accept."""
        return self._parse(self._content, to)

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise RuntimeError(
                "the body of a stream=True response is not read: iterate over parse() instead"
            )
        return self._content

    def read(self) -> bytes:
        return self.content

    @property
    def text(self) -> str:
        return _text(self.content, self.headers)

    def json(self) -> Any:
        return _json(self.content, self.http_response)


class AsyncAPIResponse(_BaseAPIResponse):
    """What ``with_streaming_response`` yields: the response head, body read on demand.

    ``await parse()`` reads the body and parses it (or, for ``stream=True`` calls, returns
    the ``AsyncStream``); ``iter_bytes()`` / ``iter_text()`` / ``iter_lines()`` stream it.
    Leaving the ``async with`` block releases the connection.
    """

    def __init__(self, *, client: AsyncOpenAI, call: _Call, response: AsyncResponse) -> None:
        super().__init__(client=client, call=call, response=response)
        self._content: Optional[bytes] = None
        self._streamed = False

    async def parse(self, *, to: Optional[Type[Any]] = None) -> Any:
        """Read (unless ``stream=True``) and parse the body; see ``LegacyAPIResponse.parse``."""
        content = None if self._call.stream else await self.read()
        return self._parse(content, to)

    async def read(self) -> bytes:
        """The whole body (read once, then kept)."""
        if self._content is None:
            if self._streamed:
                raise StreamAlreadyConsumed()
            self._streamed = True
            pieces = [piece async for piece in self._pieces()]
            self._content = b"".join(pieces)
        return self._content

    async def text(self) -> str:
        return _text(await self.read(), self.headers)

    async def json(self) -> Any:
        return _json(await self.read(), self.http_response)

    async def close(self) -> None:
        """Release the connection (aborted if the body was not read to the end)."""
        await self.http_response.aclose()

    async def _pieces(self) -> AsyncIterator[bytes]:
        response = self.http_response
        chunks = response.aiter_bytes()
        try:
            while True:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutException as exc:
                    raise APITimeoutError(response.request) from exc
                except (TransportError, RemoteProtocolError) as exc:
                    raise APIConnectionError(request=response.request) from exc
                yield chunk if type(chunk) is bytes else bytes(chunk)
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    async def iter_bytes(self, chunk_size: Optional[int] = None) -> AsyncIterator[bytes]:
        """The decoded body as it arrives (in pieces of ``chunk_size`` if given)."""
        if self._content is not None:
            for piece in _rechunk(self._content, chunk_size):
                yield piece
            return
        if self._streamed:
            raise StreamAlreadyConsumed()
        self._streamed = True
        if not chunk_size:
            async for piece in self._pieces():
                yield piece
            return
        buffer = b""
        async for piece in self._pieces():
            buffer += piece
            while len(buffer) >= chunk_size:
                yield buffer[:chunk_size]
                buffer = buffer[chunk_size:]
        if buffer:
            yield buffer

    async def iter_text(self, chunk_size: Optional[int] = None) -> AsyncIterator[str]:
        """The body decoded as text (charset from ``Content-Type``, else UTF-8)."""
        decoder = codecs.getincrementaldecoder(_charset(self.headers) or "utf-8")("replace")
        async for piece in self.iter_bytes(chunk_size):
            text = decoder.decode(piece)
            if text:
                yield text
        text = decoder.decode(b"", final=True)
        if text:
            yield text

    async def iter_lines(self) -> AsyncIterator[str]:
        """The body's text line by line, without line endings."""
        splitter = _LineSplitter()
        async for text in self.iter_text():
            for line in splitter.feed(text):
                yield line
        for line in splitter.end():
            yield line


class AsyncStreamedBinaryAPIResponse(AsyncAPIResponse):
    """``with_streaming_response`` of a binary operation: write the body to a file as it
    arrives, never holding it whole."""

    async def stream_to_file(
        self, file: Union[str, os.PathLike[str]], *, chunk_size: Optional[int] = None
    ) -> None:
        """Stream the body into ``file`` (a path). Writes block, one piece at a time."""
        with open(file, mode="wb") as out:
            async for piece in self.iter_bytes(chunk_size):
                out.write(piece)

    async def write_to_file(self, file: Union[str, os.PathLike[str]]) -> None:
        await self.stream_to_file(file)


class AsyncResponseContextManager(Generic[R]):
    """``async with``: sends the request on entry, releases the connection on exit."""

    def __init__(self, send: Callable[[], Awaitable[R]]) -> None:
        self._send = send
        self._response: Optional[R] = None

    async def __aenter__(self) -> R:
        self._response = await self._send()
        return self._response

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._response is not None:
            await self._response.close()
