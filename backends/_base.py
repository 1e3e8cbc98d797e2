"""The tiny interface every driver implements, and the driver-level exceptions.

The engine (``_pool.py``, ``_engine.py``) is written once against these few methods, the
way httpcore shares one implementation over its network backends. A driver only does I/O:
connect, read, write, close, sleep. It translates its own exceptions into the classes
below in one table (:func:`map_exceptions`), and the engine translates those into the
public ``APIConnectionError`` / ``APITimeoutError``.
"""

from __future__ import annotations

import contextlib
from typing import (
    TYPE_CHECKING,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Type,
    TypeVar,
)

if TYPE_CHECKING:
    import ssl

    from openai_proto._headers import Headers
    from openai_proto._request import Request

__all__ = [
    "AsyncBackend",
    "AsyncResponse",
    "AsyncTransport",
    "AsyncNetworkStream",
    "AsyncSemaphore",
    "ConnectError",
    "ConnectTimeout",
    "PoolTimeout",
    "ReadError",
    "ReadTimeout",
    "TransportError",
    "WriteError",
    "WriteTimeout",
    "default_ssl_context",
    "map_exceptions",
]

T = TypeVar("T")


class TransportError(Exception):
    """A driver-level failure; never reaches users (the engine maps it)."""

    kind = "connection error"


class TimeoutException(TransportError):
    kind = "timeout"


class ConnectError(TransportError):
    pass


class ReadError(TransportError):
    pass


class WriteError(TransportError):
    pass


class ConnectTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class WriteTimeout(TimeoutException):
    pass


class PoolTimeout(TimeoutException):
    pass


@contextlib.contextmanager
def map_exceptions(table: Mapping[Type[BaseException], Type[TransportError]]) -> Iterator[None]:
    """Re-raise driver exceptions as our transport errors, first matching class wins."""
    try:
        yield
    except TransportError:
        raise
    except Exception as exc:
        for source, target in table.items():
            if isinstance(exc, source):
                raise target(str(exc) or type(exc).__name__) from exc
        raise


class AsyncNetworkStream(Protocol):
    """A connected byte stream (TCP, maybe TLS)."""

    async def read(self, max_bytes: int, timeout: Optional[float]) -> bytes:
        """Up to ``max_bytes``; ``b""`` at end of stream. Raises ReadError / ReadTimeout."""

    async def write(self, data: bytes, timeout: Optional[float]) -> None:
        """Send all of ``data``. Raises WriteError / WriteTimeout."""

    async def aclose(self) -> None:
        """Close gracefully (TLS close_notify where the driver does it)."""

    def abort(self) -> None:
        """Close at once without awaiting: used on cancellation and errors."""

    def is_readable(self) -> bool:
        """True if bytes or EOF are waiting. An idle keep-alive connection that is readable
        was closed (or broken) by the server and must not be reused."""


class AsyncSemaphore(Protocol):
    async def acquire(self, timeout: Optional[float]) -> None:
        """Take a slot; raise PoolTimeout if none frees up within ``timeout``."""

    def release(self) -> None: ...


class AsyncBackend(Protocol):
    """One event loop's primitives."""

    name: str

    async def connect_tcp(
        self,
        host: str,
        port: int,
        *,
        ssl_context: Optional[ssl.SSLContext],
        server_hostname: Optional[str],
        timeout: Optional[float],
    ) -> AsyncNetworkStream: ...

    async def sleep(self, seconds: float) -> None: ...

    def semaphore(self, value: int) -> AsyncSemaphore: ...

    async def run_all(self, calls: Sequence[Callable[[], Awaitable[T]]], limit: int) -> List[T]:
        """Run ``calls`` at most ``limit`` at a time; their results in the order of
        ``calls``. The first failure cancels the others and is raised as it is."""
        ...


class AsyncResponse(Protocol):
    """A response whose head has arrived; what the engine, streams and errors read."""

    status_code: int
    headers: Headers
    request: Request
    http_version: str

    @property
    def is_closed(self) -> bool: ...

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Decoded body chunks; frees the connection at the end."""

    async def aread(self) -> bytes: ...

    async def aclose(self) -> None:
        """Free the connection (aborted when the body was not read to the end)."""


class AsyncTransport(Protocol):
    """What the engine sends through: our pool (``AsyncHTTPClient``) or an adapter of
    another HTTP library (``backends._httpcore``)."""

    @property
    def backend(self) -> AsyncBackend:
        """The running loop's driver (the engine sleeps with it between retries)."""

    async def send(self, request: Request) -> AsyncResponse: ...

    async def aclose(self) -> None: ...


def default_ssl_context() -> ssl.SSLContext:
    """Verify against certifi's bundle when installed, else the system store.

    ``ssl`` is imported here, on first HTTPS use: it is the largest import of the client
    (about 11 ms and 4.5 MiB), and plain-HTTP users never need it.
    """
    import ssl

    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi is a dependency
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())
