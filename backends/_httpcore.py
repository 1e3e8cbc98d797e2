"""The httpcore driver, and adapters for a caller's own httpcore pool or ``httpx.AsyncClient``.

httpcore brings its own connection pool and HTTP/1.1 (and HTTP/2) machinery, so this
driver replaces the engine's pool rather than its network streams: it offers the surface
the engine uses (:class:`~backends._base.AsyncTransport`: ``send``, ``backend``,
``aclose``) and returns :class:`~backends._base.AsyncResponse` objects.
Both run on asyncio and trio (httpcore picks its network backend through sniffio).

Failures are translated in one table per library into the driver-level exceptions of
``_base``, so the engine maps them to ``APIConnectionError`` / ``APITimeoutError`` exactly
as for the native drivers. httpcore does not decode ``Content-Encoding``: the core's
decoder (the one :class:`~openai_proto._http11.HTTP11Connection` uses) does, with the same
decompression cap. httpx decodes on its own.
"""

from __future__ import annotations

import contextlib
import ssl
import sys
from contextvars import ContextVar
from typing import (
    Any,
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    Type,
    Union,
)

import httpcore
import sniffio

from openai_proto._exceptions import LocalProtocolError
from openai_proto._headers import Headers
from openai_proto._http11 import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    _make_decoder,
)
from openai_proto._request import Request

from ._base import (
    AsyncBackend,
    AsyncResponse,
    AsyncTransport,
    ConnectError,
    ConnectTimeout,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    TransportError,
    WriteError,
    WriteTimeout,
    default_ssl_context,
    map_exceptions,
)
from ._pool import AsyncHTTPClient, LoopBinding, aiter_upload

__all__ = ["HttpcoreHTTPClient", "HttpxHTTPClient", "adapt_http_client"]

ErrorTable = Mapping[Type[BaseException], Type[TransportError]]

#: httpcore's exceptions, most specific first. ``RemoteProtocolError`` is nearly always
#: "server disconnected without sending a response": a broken connection, as for the
#: native drivers.
_HTTPCORE_ERRORS: ErrorTable = {
    httpcore.ConnectTimeout: ConnectTimeout,
    httpcore.ReadTimeout: ReadTimeout,
    httpcore.WriteTimeout: WriteTimeout,
    httpcore.PoolTimeout: PoolTimeout,
    httpcore.ConnectError: ConnectError,
    httpcore.ProxyError: ConnectError,
    httpcore.ReadError: ReadError,
    httpcore.WriteError: WriteError,
    httpcore.RemoteProtocolError: ReadError,
    httpcore.NetworkError: ReadError,
}
_HTTPCORE_LOCAL: Tuple[Type[BaseException], ...] = (
    httpcore.LocalProtocolError,
    httpcore.UnsupportedProtocol,
)


class _Errors:
    """One library's translation: its transport table, plus caller misuse (a header the
    library refuses, an unsupported scheme) as :class:`LocalProtocolError`."""

    __slots__ = ("local", "table")

    def __init__(self, table: ErrorTable, local: Tuple[Type[BaseException], ...]) -> None:
        self.table = table
        self.local = local

    @contextlib.contextmanager
    def translate(self) -> Iterator[None]:
        try:
            yield
        except self.local as exc:
            raise LocalProtocolError(str(exc) or type(exc).__name__) from exc
        except Exception:
            with map_exceptions(self.table):
                raise


@contextlib.asynccontextmanager
async def _closing(it: AsyncIterator[bytes]) -> AsyncIterator[AsyncIterator[bytes]]:
    """``contextlib.aclosing`` for Python 3.9: close the library's body iterator when we
    stop early, since trio reports async generators left to the garbage collector."""
    try:
        yield it
    finally:
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            await aclose()


class _Attempt:
    """What one attempt at a request did on the network, as seen by :class:`_WatchedBackend`:
    whether it opened a connection, and whether any byte of an answer arrived."""

    __slots__ = ("connected", "received")

    def __init__(self) -> None:
        self.connected = False
        self.received = False


#: The attempt the current task is making. httpcore 1.x connects, writes and reads the
#: response head of a request in the task that sent it, so the watchers find it here.
_ATTEMPT: ContextVar[Optional[_Attempt]] = ContextVar("openai_proto_httpcore_attempt", default=None)


class _WatchedStream(httpcore.AsyncNetworkStream):
    """A network stream that marks the current :class:`_Attempt` when bytes arrive."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: Optional[float] = None) -> bytes:
        data = await self._stream.read(max_bytes, timeout)
        if data:
            attempt = _ATTEMPT.get()
            if attempt is not None:
                attempt.received = True
        return data

    async def write(self, buffer: bytes, timeout: Optional[float] = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _WatchedStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _WatchedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend for the running loop library (trio, else anyio), marking the
    current :class:`_Attempt` when it opens a connection and watching the streams."""

    def __init__(self) -> None:
        self._backend: Optional[httpcore.AsyncNetworkBackend] = None

    def _loop_backend(self) -> httpcore.AsyncNetworkBackend:
        if self._backend is None:
            trio = sniffio.current_async_library() == "trio"
            self._backend = httpcore.TrioBackend() if trio else httpcore.AnyIOBackend()
        return self._backend

    def _inner(self) -> httpcore.AsyncNetworkBackend:
        attempt = _ATTEMPT.get()
        if attempt is not None:
            attempt.connected = True
        return self._loop_backend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: Optional[float] = None,
        local_address: Optional[str] = None,
        socket_options: Optional[Iterable[Any]] = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner().connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return _WatchedStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: Optional[float] = None,
        socket_options: Optional[Iterable[Any]] = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner().connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return _WatchedStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._loop_backend().sleep(seconds)


#: httpcore's failures that may mean a kept-alive connection was already closed by the
#: server when the request reached it (never a timeout: a slow server did get it).
_STALE_ERRORS: Tuple[Type[BaseException], ...] = (
    httpcore.NetworkError,
    httpcore.RemoteProtocolError,
)


class _AdaptedResponse:
    """A response of an adapted library (an :class:`~backends._base.AsyncResponse`).

    ``chunks`` yields decoded body pieces with errors already translated; ``close`` frees
    the library's connection (it closes it when the body was not read to the end).
    """

    def __init__(
        self,
        *,
        status_code: int,
        headers: Headers,
        request: Request,
        http_version: str,
        chunks: AsyncGenerator[bytes, None],
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.request = request
        self.http_version = http_version
        self._chunks: Optional[AsyncGenerator[bytes, None]] = chunks
        self._close: Optional[Callable[[], Awaitable[None]]] = close
        self._content: Optional[bytes] = None

    @property
    def is_closed(self) -> bool:
        return self._close is None

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Decoded body chunks as they arrive; the connection is freed at the end."""
        if self._content is not None:
            if self._content:
                yield self._content
            return
        chunks, self._chunks = self._chunks, None
        if chunks is None:
            raise RuntimeError("the response body was already consumed or closed")
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            # Free the connection first, then close our own generator explicitly (trio
            # reports async generators left to the garbage collector).
            try:
                await self.aclose()
            finally:
                await chunks.aclose()

    async def aread(self) -> bytes:
        if self._content is None:
            parts: List[bytes] = [chunk async for chunk in self.aiter_bytes()]
            self._content = b"".join(parts)
        return self._content

    async def aclose(self) -> None:
        """Free the connection (closed by the library if the body was not finished)."""
        close, self._close = self._close, None
        self._chunks = None
        if close is not None:
            await close()


class _AdaptedHTTPClient:
    """Base of the adapters: one event-loop library per client, and ``backend.sleep``.

    Implements :class:`~backends._base.AsyncTransport`, as the native pool does.
    """

    def __init__(self) -> None:
        self._binding = LoopBinding()
        self._closed = False

    @property
    def backend(self) -> AsyncBackend:
        """The running loop's primitives (the engine sleeps with them between retries)."""
        return self._binding.get()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the HTTP client was closed")


class HttpcoreHTTPClient(_AdaptedHTTPClient):
    """Send through an ``httpcore.AsyncConnectionPool`` (yours, or one made here with the
    official SDK's limits: 1,000 connections, 100 kept alive for 5 s).

    ``ssl_context`` and the limits configure the pool made here; a pool you pass is used
    as it is (passing ``ssl_context`` with it is an error, so trust settings are never
    silently ignored). ``max_compression_ratio`` bounds the body decoder as in
    :class:`~openai_proto._http11.HTTP11Connection`.

    A request that fails on a kept-alive connection of the pool made here before any
    byte of an answer arrived is sent once more (the server had closed that connection
    as the request reached it; RFC 9112 §9.3.1), as the native pool does, unless its
    body cannot be replayed. A pool you pass is not watched, so its failures are final.
    """

    def __init__(
        self,
        pool: Optional[httpcore.AsyncConnectionPool] = None,
        *,
        ssl_context: Optional[ssl.SSLContext] = None,
        max_connections: int = 1000,
        max_keepalive_connections: int = 100,
        max_compression_ratio: Optional[float] = DEFAULT_MAX_COMPRESSION_RATIO,
    ) -> None:
        super().__init__()
        self._watched = pool is None
        if pool is None:
            if max_connections < 1:
                raise ValueError("max_connections must be at least 1")
            pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl_context if ssl_context is not None else default_ssl_context(),
                max_connections=max_connections,
                max_keepalive_connections=max_keepalive_connections,
                keepalive_expiry=5.0,
                network_backend=_WatchedBackend(),
            )
        elif ssl_context is not None:
            raise ValueError("pass ssl_context to the httpcore pool you supply, not here")
        self.pool = pool
        self._max_compression_ratio = max_compression_ratio
        self._errors = _Errors(_HTTPCORE_ERRORS, _HTTPCORE_LOCAL)

    async def send(self, request: Request) -> AsyncResponse:
        """Send ``request``; return once the response head has arrived."""
        self._check_open()
        _ = self.backend  # one loop library per client
        headers = _encode_headers(request.headers, request.body)
        attempt = _Attempt()
        token = _ATTEMPT.set(attempt)
        try:
            with self._errors.translate():
                try:
                    response = await self.pool.handle_async_request(_core(request, headers))
                except _STALE_ERRORS:
                    # Not a stale kept-alive connection: a new one failed, or the server
                    # answered (it may have acted on the request), or the body is spent.
                    if (
                        not self._watched
                        or attempt.connected
                        or attempt.received
                        or not (request.upload is None or request.upload.replayable)
                    ):
                        raise
                    _ATTEMPT.set(None)  # once only: the replay's failure is final
                    response = await self.pool.handle_async_request(_core(request, headers))
        finally:
            _ATTEMPT.reset(token)
        version = response.extensions.get("http_version", b"HTTP/1.1")
        return _AdaptedResponse(
            status_code=response.status,
            headers=Headers(response.headers),
            request=request,
            http_version=version.decode("ascii", "replace"),
            chunks=self._body(response),
            close=response.aclose,
        )

    async def _body(self, response: httpcore.Response) -> AsyncGenerator[bytes, None]:
        decoder = _make_decoder(
            response.headers, DEFAULT_MAX_DECOMPRESSED_SIZE, self._max_compression_ratio
        )
        stream = response.stream
        assert isinstance(stream, AsyncIterable), "an async pool yields async streams"
        with self._errors.translate():
            async with _closing(stream.__aiter__()) as pieces:
                async for data in pieces:
                    if decoder is None:
                        if data:
                            yield data
                        continue
                    decoder.feed(data)
                    out = decoder.read()
                    while out:
                        yield out
                        out = decoder.read()
                if decoder is not None:
                    decoder.finish()

    def idle_connections(self) -> int:
        """Kept-alive connections waiting in the httpcore pool."""
        return sum(1 for conn in self.pool.connections if conn.is_idle())

    async def aclose(self) -> None:
        """Close the httpcore pool and all its connections."""
        self._closed = True
        await self.pool.aclose()

    def __repr__(self) -> str:
        return f"<HttpcoreHTTPClient pool={self.pool!r}>"


def _core(request: Request, headers: List[Tuple[bytes, bytes]]) -> httpcore.Request:
    """``request`` as httpcore's request (a new one per attempt: an upload body is an
    iterator, started afresh each time)."""
    origin, timeout = request.origin, request.timeout
    return httpcore.Request(
        request.method,
        httpcore.URL(
            scheme=origin.scheme, host=origin.host, port=origin.port, target=request.target
        ),
        headers=headers,
        content=_content(request),
        extensions={
            "timeout": {
                "connect": timeout.connect,
                "read": timeout.read,
                "write": timeout.write,
                "pool": timeout.pool,
            }
        },
    )


def _content(request: Request) -> Union[bytes, AsyncIterator[bytes], None]:
    """The body to hand over: bytes, or a multipart upload streamed in 64 KiB pieces (its
    framing headers are already in ``request.headers``)."""
    return request.body if request.upload is None else aiter_upload(request.upload)


def _encode_headers(
    headers: List[Tuple[str, str]], body: Optional[bytes]
) -> List[Tuple[bytes, bytes]]:
    """Bytes headers as the core's HTTP/1.1 machine would send them: names ASCII, values
    latin-1, and ``Content-Length`` for a body (httpcore frames what it is given, RFC 9112
    §6.2)."""
    try:
        out = [(name.encode("ascii"), value.encode("latin-1")) for name, value in headers]
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(
            f"header names must be ASCII, header values latin-1: {exc}"
        ) from exc
    if body is not None and not any(
        name.lower() in (b"content-length", b"transfer-encoding") for name, _ in out
    ):
        out.append((b"Content-Length", str(len(body)).encode("ascii")))
    return out


def _httpx_tables() -> Tuple[ErrorTable, Tuple[Type[BaseException], ...]]:
    import httpx

    table: Dict[Type[BaseException], Type[TransportError]] = {
        httpx.ConnectTimeout: ConnectTimeout,
        httpx.ReadTimeout: ReadTimeout,
        httpx.WriteTimeout: WriteTimeout,
        httpx.PoolTimeout: PoolTimeout,
        httpx.ConnectError: ConnectError,
        httpx.ProxyError: ConnectError,
        httpx.ReadError: ReadError,
        httpx.WriteError: WriteError,
        httpx.RemoteProtocolError: ReadError,
        httpx.DecodingError: ReadError,  # a body that does not match its Content-Encoding
        httpx.TransportError: ReadError,
    }
    return table, (httpx.LocalProtocolError, httpx.UnsupportedProtocol)


class HttpxHTTPClient(_AdaptedHTTPClient):
    """Send through an ``httpx.AsyncClient`` (as the official SDK's ``http_client=``).

    Requests go out with ``send(..., stream=True)`` and this library's headers and
    timeouts; the client's own transport, proxies and limits apply. httpx decodes
    ``Content-Encoding`` itself.
    """

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = client
        table, local = _httpx_tables()
        self._errors = _Errors(table, local)

    async def send(self, request: Request) -> AsyncResponse:
        import httpx

        self._check_open()
        _ = self.backend
        t = request.timeout
        with self._errors.translate():
            built = self.client.build_request(
                request.method,
                request.url,
                headers=request.headers,
                content=_content(request),
                timeout=httpx.Timeout(
                    None, connect=t.connect, read=t.read, write=t.write, pool=t.pool
                ),
            )
            response = await self.client.send(built, stream=True)
        return _AdaptedResponse(
            status_code=response.status_code,
            headers=Headers(response.headers.raw),
            request=request,
            http_version=response.http_version,
            chunks=self._body(response),
            close=response.aclose,
        )

    async def _body(self, response: Any) -> AsyncGenerator[bytes, None]:
        with self._errors.translate():
            async with _closing(response.aiter_bytes()) as pieces:
                async for data in pieces:
                    yield data

    async def aclose(self) -> None:
        """Close the httpx client (as the official SDK's ``close()`` does)."""
        self._closed = True
        await self.client.aclose()

    def __repr__(self) -> str:
        return f"<HttpxHTTPClient client={self.client!r}>"


def adapt_http_client(http_client: object = None) -> AsyncTransport:
    """The engine's HTTP client for ``AsyncOpenAI(http_client=...)``.

    ``None``: a new httpcore pool (``backend="httpcore"``); an ``httpcore`` async pool or
    an ``httpx.AsyncClient``: wrapped; an :class:`AsyncHTTPClient` (native or adapted):
    itself.
    """
    if http_client is None:
        return HttpcoreHTTPClient()
    if isinstance(http_client, AsyncHTTPClient):
        return http_client
    if isinstance(http_client, (HttpcoreHTTPClient, HttpxHTTPClient)):
        return http_client
    if isinstance(http_client, httpcore.AsyncConnectionPool):
        return HttpcoreHTTPClient(http_client)
    httpx = sys.modules.get("httpx")  # an httpx client means httpx is imported already
    if httpx is not None and isinstance(http_client, httpx.AsyncClient):
        return HttpxHTTPClient(http_client)
    raise TypeError(
        "http_client must be a backends.AsyncHTTPClient, an httpcore.AsyncConnectionPool "
        f"or an httpx.AsyncClient, not {type(http_client).__name__}"
    )
