"""The connection pool and one HTTP/1.1 exchange, written once for every driver.

Runs the core's :class:`~openai_proto._http11.HTTP11Connection` over a driver's
:class:`~backends._base.AsyncNetworkStream`: write the request, read until the response
head, then hand the body out chunk by chunk. Decisions that are pure (framing, limits,
reusability) stay in the core machine; this module only moves bytes and keeps the pool.

Invariants:
- a connection goes back to the pool only after its response was read to the end and the
  machine says it is reusable; on any error or cancellation it is aborted instead;
- a pool slot is released exactly once per request (``HTTPResponse.aclose``);
- an idle connection that became readable (the server closed it) is never reused, and a
  request that fails on a reused connection before any response byte arrives is replayed
  once on a fresh connection (the server may close keep-alive connections at any time,
  RFC 9112 §9.6).
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections import deque
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Deque,
    Dict,
    Generator,
    Iterator,
    List,
    Optional,
    Union,
)

# unasync: sync=import threading
# unasync: sync=from ._sockets import LoopBinding, load_backend
import sniffio

if TYPE_CHECKING:
    import ssl

from openai_proto._config import Origin
from openai_proto._exceptions import LocalProtocolError, RemoteProtocolError
from openai_proto._headers import Headers
from openai_proto._http11 import (
    DEFAULT_MAX_COMPRESSION_RATIO,
    NEED_DATA,
    BodyChunk,
    HTTP11Connection,
    ResponseEnded,
    ResponseStarted,
)
from openai_proto._multipart import FilePart, MultipartBody
from openai_proto._request import Request

from ._base import (
    AsyncBackend,
    AsyncNetworkStream,
    AsyncSemaphore,
    TransportError,
    WriteError,
    default_ssl_context,
)

__all__ = ["AsyncHTTPClient", "HTTPResponse", "load_backend"]

READ_SIZE = 64 * 1024


# unasync: async-only
def load_backend(name: str) -> AsyncBackend:
    """Import a driver by name, lazily (so trio is only imported by trio users)."""
    if name == "asyncio":
        from ._asyncio import AsyncioBackend

        return AsyncioBackend()
    if name == "trio":
        try:
            from ._trio import TrioBackend
        except ImportError as exc:
            raise RuntimeError(
                "the trio driver needs trio: pip install 'openai-proto[trio]'"
            ) from exc
        return TrioBackend()
    if name == "httpcore":
        raise ValueError(
            "'httpcore' is a whole HTTP client, not a network driver: use "
            "AsyncOpenAI(backend='httpcore') or backends._httpcore.HttpcoreHTTPClient()"
        )
    raise ValueError(f"unknown backend {name!r}; expected 'auto', 'asyncio' or 'trio'")


# unasync: async-only
class LoopBinding:
    """The driver of the event-loop library a client is used under, chosen on first use.

    A client holds sockets and locks of one loop library; using it under another one is a
    clear ``RuntimeError``, never a silent cross-loop hang. ``"auto"`` picks the library
    from the running loop (sniffio); a name or a driver object fixes it.
    """

    def __init__(self, backend: Union[str, AsyncBackend] = "auto") -> None:
        self._wanted = backend if isinstance(backend, str) else backend.name
        self._backend: Optional[AsyncBackend] = None if isinstance(backend, str) else backend

    @property
    def name(self) -> str:
        return self._wanted

    def get(self) -> AsyncBackend:
        library = sniffio.current_async_library()
        backend = self._backend
        if backend is None:
            backend = self._backend = load_backend(
                library if self._wanted == "auto" else self._wanted
            )
        if backend.name != library:
            raise RuntimeError(
                f"this client runs on {backend.name} and cannot be used under {library}; "
                "create one client per event loop library"
            )
        return backend


class _StaleConnection(Exception):
    """A reused connection failed before any response byte: replay on a fresh one."""


class _Connection:
    __slots__ = ("http", "idle_since", "origin", "stream")

    def __init__(self, origin: Origin, stream: AsyncNetworkStream, http: HTTP11Connection) -> None:
        self.origin = origin
        self.stream = stream
        self.http = http
        self.idle_since = 0.0


class HTTPResponse:
    """A response whose head has arrived; the body is read on demand.

    Has the attributes the exception classes read (``status_code``, ``headers``,
    ``request``). Call :meth:`aclose` (or read to the end) to free the connection.
    """

    def __init__(
        self,
        *,
        status_code: int,
        headers: Headers,
        request: Request,
        conn: _Connection,
        pool: AsyncHTTPClient,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.request = request
        self.http_version = "HTTP/1.1"
        self._conn: Optional[_Connection] = conn
        self._pool = pool
        self._content: Optional[bytes] = None

    @property
    def is_closed(self) -> bool:
        return self._conn is None

    async def _next_chunk(self) -> Optional[bytes]:
        """The next decoded body chunk, or ``None`` once the body has ended.

        Each read waits at most the read timeout. At the end the connection goes back to
        the pool; on any error (cancellation included) it is aborted.
        """
        conn = self._conn
        if conn is None:
            raise RuntimeError("the response body was already consumed or closed")
        http = conn.http
        try:
            while True:
                event = http.next_event()
                if event is NEED_DATA:
                    data = await conn.stream.read(READ_SIZE, self.request.timeout.read)
                    http.receive_data(data)
                elif type(event) is BodyChunk:
                    return event.data
                elif type(event) is ResponseEnded:
                    self._release(conn, reusable=True)
                    return None
        except BaseException:
            self._release(conn, reusable=False)
            raise

    def _release(self, conn: _Connection, *, reusable: bool) -> None:
        # aclose() may have run first (a consumer that stopped iterating and closed the
        # response): the connection and its slot are then already handed back.
        if self._conn is conn:
            self._conn = None
            self._pool._finish(conn, reusable=reusable)

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Decoded body chunks as they arrive (each read waits at most the read timeout).

        Leaving the loop early aborts the connection (its rest of the body is unread).
        """
        if self._content is not None:
            if self._content:
                yield self._content
            return
        try:
            while (chunk := await self._next_chunk()) is not None:
                yield chunk
        finally:
            conn = self._conn
            if conn is not None:
                self._release(conn, reusable=False)

    async def aread(self) -> bytes:
        """The whole body (bounded by the machine's ``max_body_size``)."""
        if self._content is None:
            # A loop rather than ``aiter_bytes``: no async generator on the common path.
            parts: List[bytes] = []
            while (chunk := await self._next_chunk()) is not None:
                parts.append(chunk)
            self._content = b"".join(parts)
        return self._content

    async def aclose(self) -> None:
        """Free the connection: aborted when the body was not read to the end."""
        conn = self._conn
        if conn is not None:
            self._release(conn, reusable=False)


class AsyncHTTPClient:
    """A pool of keep-alive HTTP/1.1 connections over one driver.

    Pass one as ``http_client=`` to :class:`~backends.AsyncOpenAI` to choose the driver,
    TLS settings or limits. Limits default to the official SDK's (1,000 connections, 100
    kept alive).
    """

    def __init__(
        self,
        *,
        backend: Union[str, AsyncBackend] = "auto",
        ssl_context: Optional[ssl.SSLContext] = None,
        max_connections: int = 1000,
        max_keepalive_connections: int = 100,
        keepalive_expiry: float = 5.0,
        max_header_size: int = 64 * 1024,
        max_body_size: int = 256 * 1024 * 1024,
        max_compression_ratio: Optional[float] = DEFAULT_MAX_COMPRESSION_RATIO,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._binding = LoopBinding(backend)
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._max_keepalive = max_keepalive_connections
        self._keepalive_expiry = keepalive_expiry
        self._max_header_size = max_header_size
        self._max_body_size = max_body_size
        self._max_compression_ratio = max_compression_ratio
        self._idle: Dict[Origin, Deque[_Connection]] = {}
        self._idle_count = 0  # connections in self._idle, all origins together
        self._slots: Optional[AsyncSemaphore] = None
        self._active = 0
        self._closed = False
        # The idle list changes only between awaits, so one event loop needs no lock; the
        # blocking pool is shared by threads and takes a real one (re-entrant: a body
        # iterator finalised by the garbage collector may return its connection).
        # unasync: sync=self._lock = threading.RLock()
        self._lock = contextlib.nullcontext()

    # -- driver selection -------------------------------------------------------------
    @property
    def backend(self) -> AsyncBackend:
        """The driver of the running loop library (see :class:`LoopBinding`)."""
        backend = self._binding.get()
        with self._lock:
            if self._slots is None:
                self._slots = backend.semaphore(self._max_connections)
        return backend

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = default_ssl_context()
        return self._ssl_context

    # -- the exchange ---------------------------------------------------------------
    async def send(self, request: Request) -> HTTPResponse:
        """Send ``request`` and return once the response head has arrived."""
        if self._closed:
            raise RuntimeError("the HTTP client was closed")
        backend = self.backend
        assert self._slots is not None
        await self._slots.acquire(request.timeout.pool)
        try:
            return await self._send_on_pool(backend, request)
        except BaseException:
            self._slots.release()
            raise

    async def _send_on_pool(self, backend: AsyncBackend, request: Request) -> HTTPResponse:
        while True:
            conn = self._take_idle(request.origin)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(backend, request)
            try:
                return await self._exchange(conn, request, reused=reused)
            except _StaleConnection:
                conn.stream.abort()
                continue  # the server had closed this keep-alive connection: use a new one
            except BaseException:
                conn.stream.abort()
                raise

    async def _connect(self, backend: AsyncBackend, request: Request) -> _Connection:
        origin = request.origin
        stream = await backend.connect_tcp(
            origin.host,
            origin.port,
            ssl_context=self._ssl() if origin.tls else None,
            server_hostname=origin.host if origin.tls else None,
            timeout=request.timeout.connect,
        )
        http = HTTP11Connection(
            max_header_size=self._max_header_size,
            max_body_size=self._max_body_size,
            max_compression_ratio=self._max_compression_ratio,
        )
        return _Connection(origin, stream, http)

    async def _exchange(self, conn: _Connection, request: Request, *, reused: bool) -> HTTPResponse:
        http, stream = conn.http, conn.stream
        upload = request.upload
        data = b""
        if upload is None:
            data = http.send_request(request.method, request.target, request.headers, request.body)
        got_bytes = False
        try:
            if upload is None:
                await stream.write(data, request.timeout.write)
            else:
                await self._send_upload(http, stream, request, upload)
            timeout = request.timeout.read
            while True:
                event = http.next_event()
                if event is NEED_DATA:
                    chunk = await stream.read(READ_SIZE, timeout)
                    got_bytes = got_bytes or bool(chunk)
                    http.receive_data(chunk)
                elif type(event) is ResponseStarted:
                    return HTTPResponse(
                        status_code=event.status_code,
                        headers=event.headers,
                        request=request,
                        conn=conn,
                        pool=self,
                    )
                else:  # pragma: no cover - the machine yields ResponseStarted first
                    raise RemoteProtocolError(f"unexpected event before response: {event!r}")
        except (TransportError, RemoteProtocolError) as exc:
            # A body read from a stream that cannot be rewound is never sent twice.
            if reused and not got_bytes and (upload is None or upload.replayable):
                raise _StaleConnection from exc
            raise

    async def _send_upload(
        self,
        http: HTTP11Connection,
        stream: AsyncNetworkStream,
        request: Request,
        upload: MultipartBody,
    ) -> None:
        """Write the head, then the body as it is read, in writes of about UPLOAD_CHUNK.

        A write that fails mid-body ends the upload quietly: the server may have answered
        early (a 401, a 413) and closed its side, and that answer is worth more than the
        write error; if none comes, reading fails and reports the broken connection.
        """
        timeout = request.timeout.write
        pending = [http.start_request(request.method, request.target, request.headers)]
        size = len(pending[0])
        pieces = iter_upload(upload)
        try:
            for piece in pieces:
                pending.append(http.send_body(piece))
                size += len(piece)
                if size >= UPLOAD_CHUNK:
                    await stream.write(b"".join(pending), timeout)
                    pending.clear()
                    size = 0
            pending.append(http.end_request())
            await stream.write(b"".join(pending), timeout)
        except WriteError:
            return
        finally:
            pieces.close()

    # -- pool bookkeeping -------------------------------------------------------------
    def _take_idle(self, origin: Origin) -> Optional[_Connection]:
        with self._lock:
            idle = self._idle.get(origin)
            now = time.monotonic()
            while idle:
                conn = idle.pop()
                self._idle_count -= 1
                if now - conn.idle_since > self._keepalive_expiry or conn.stream.is_readable():
                    conn.stream.abort()
                    continue
                return conn
            return None

    def _finish(self, conn: _Connection, *, reusable: bool) -> None:
        """Return ``conn`` to the pool or abort it, and free its slot (exactly once)."""
        http = conn.http
        with self._lock:
            if reusable and not self._closed and http.is_reusable:
                http.start_next_cycle()
                conn.idle_since = time.monotonic()
                idle = self._idle.setdefault(conn.origin, deque())
                idle.append(conn)
                self._idle_count += 1
                if self._idle_count > self._max_keepalive:
                    idle.popleft().stream.abort()
                    self._idle_count -= 1
            else:
                conn.stream.abort()
        if self._slots is not None:
            self._slots.release()

    def idle_connections(self) -> int:
        """How many kept-alive connections wait in the pool (for tests and metrics)."""
        with self._lock:
            return self._idle_count

    async def aclose(self) -> None:
        """Close every idle connection; responses still open are aborted as they finish."""
        with self._lock:
            self._closed = True
            for queue in self._idle.values():
                while queue:
                    queue.pop().stream.abort()
            self._idle.clear()
            self._idle_count = 0

    def __repr__(self) -> str:
        return f"<AsyncHTTPClient backend={self._binding.name!r}>"


# -- streamed request bodies (multipart uploads) ----------------------------------------

#: Largest piece of a file read (and written) at a time while uploading.
UPLOAD_CHUNK = 64 * 1024


def upload_size(source: Any) -> Optional[int]:
    """The size of a file to upload, measured without reading it; ``None`` for a stream
    that cannot seek (it is then sent chunked and cannot be replayed).

    Paths are ``os.stat``-ed; seekable file objects are measured the way httpx does
    (``os.fstat`` of a regular file, else seek to the end and back) and are later sent
    from offset 0. Passed to ``build_request`` as its ``file_size``.
    """
    if isinstance(source, os.PathLike):
        return os.stat(source).st_size
    try:
        seekable = getattr(source, "seekable", None)
        if callable(seekable) and not seekable():
            return None
        try:
            info = os.fstat(source.fileno())
        except (AttributeError, OSError, ValueError):
            pass
        else:
            if stat.S_ISREG(info.st_mode):
                return info.st_size
        position = source.tell()
        end: int = source.seek(0, os.SEEK_END)
        source.seek(position)
        return end
    except (AttributeError, OSError, ValueError):
        return None


def iter_upload(upload: MultipartBody) -> Generator[bytes, None, None]:
    """The body's bytes in pieces of at most :data:`UPLOAD_CHUNK`, reading files as it goes.

    Paths are opened here and closed at the end (or when the iterator is closed); a sized
    file object is rewound to offset 0 first, so each attempt sends the same bytes. Reads
    block, but only for one small piece at a time.
    """
    for segment in upload.segments:
        if isinstance(segment, bytes):
            view = memoryview(segment)
            for start in range(0, len(view), UPLOAD_CHUNK):
                yield bytes(view[start : start + UPLOAD_CHUNK])
        elif isinstance(segment.source, os.PathLike):
            with open(segment.source, "rb") as file:
                yield from _read_file(file, segment)
        else:
            if segment.size is not None:
                segment.source.seek(0)
            yield from _read_file(segment.source, segment)


def _read_file(file: Any, part: FilePart) -> Iterator[bytes]:
    remaining = part.size
    while remaining is None or remaining > 0:
        data = file.read(UPLOAD_CHUNK if remaining is None else min(UPLOAD_CHUNK, remaining))
        if not data:
            break
        if not isinstance(data, bytes):
            if isinstance(data, str):
                raise TypeError("multipart file uploads need a file opened in binary mode")
            data = bytes(data)
        if remaining is not None:
            remaining -= len(data)
        yield data
    if remaining:
        raise LocalProtocolError(
            f"{part.source!r} ended {remaining} bytes short of the {part.size} bytes measured "
            "before the upload (was it truncated meanwhile?)"
        )


# unasync: async-only
async def aiter_upload(upload: MultipartBody) -> AsyncIterator[bytes]:
    """:func:`iter_upload` as an async iterator (for HTTP libraries that take one as a body)."""
    pieces = iter_upload(upload)
    try:
        for piece in pieces:
            yield piece
    finally:
        pieces.close()
