"""The trio driver: ``trio.SocketStream`` (+ ``trio.SSLStream``) behind the engine's interface.

Each read and write runs under its own ``trio.fail_after``, so a timeout bounds one wait for
bytes, never a whole body. Aborting closes the raw socket synchronously (trio wakes any task
blocked on it), which is what the pool needs on cancellation. trio exceptions are
translated in one table (:func:`_errors`) at each boundary.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Sequence, Type, TypeVar

import trio

from ._base import (
    ConnectError,
    ConnectTimeout,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    TransportError,
    WriteError,
    WriteTimeout,
    map_exceptions,
)

__all__ = ["TrioBackend", "TrioStream"]

T = TypeVar("T")

# Bound on a graceful close (TLS close_notify) so ``aclose`` cannot hang on a stuck peer.
_CLOSE_TIMEOUT = 5.0


def _errors(
    timeout: Type[TransportError], error: Type[TransportError]
) -> Dict[Type[BaseException], Type[TransportError]]:
    """The one translation table, instantiated per operation (first match wins).

    ``fail_after`` raises ``TooSlowError``; a peer reset or a TLS failure surfaces as
    ``BrokenResourceError`` (trio wraps the ``SSLError``); using a stream we aborted is
    ``ClosedResourceError``; name resolution and connect failures are ``OSError``.
    """
    return {
        trio.TooSlowError: timeout,
        trio.BrokenResourceError: error,
        trio.ClosedResourceError: error,
        trio.BusyResourceError: error,
        ssl.SSLError: error,
        OSError: error,
    }


_CONNECT_ERRORS = _errors(ConnectTimeout, ConnectError)
_READ_ERRORS = _errors(ReadTimeout, ReadError)
_WRITE_ERRORS = _errors(WriteTimeout, WriteError)


@contextlib.contextmanager
def _deadline(timeout: Optional[float]) -> Iterator[None]:
    """``fail_after`` that accepts ``None`` (wait forever)."""
    with trio.fail_after(math.inf if timeout is None else timeout):
        yield


def _socket_stream(stream: trio.abc.Stream) -> trio.SocketStream:
    while isinstance(stream, trio.SSLStream):
        stream = stream.transport_stream
    assert isinstance(stream, trio.SocketStream)
    return stream


class TrioStream:
    """One connection as the engine's ``AsyncNetworkStream``."""

    __slots__ = ("_socket", "_stream")

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self._socket = _socket_stream(stream).socket

    async def read(self, max_bytes: int, timeout: Optional[float]) -> bytes:
        with map_exceptions(_READ_ERRORS), _deadline(timeout):
            return bytes(await self._stream.receive_some(max_bytes))

    async def write(self, data: bytes, timeout: Optional[float]) -> None:
        with map_exceptions(_WRITE_ERRORS), _deadline(timeout):
            await self._stream.send_all(data)

    async def aclose(self) -> None:
        """Close gracefully (TLS ``close_notify``), bounded; the socket is closed either way."""
        try:
            with trio.move_on_after(_CLOSE_TIMEOUT):
                await self._stream.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            self._socket.close()

    def abort(self) -> None:
        # trio's socket close notifies tasks blocked on it (they get ClosedResourceError).
        self._socket.close()

    def is_readable(self) -> bool:
        # The raw socket, even under TLS: an idle connection holds no buffered plaintext, so
        # pending bytes there mean close_notify, a FIN or a reset. trio polls the one fd
        # (``poll``, not ``select``: no FD_SETSIZE limit).
        if self._socket.fileno() < 0:
            return True
        return self._socket.is_readable()


class _Semaphore:
    __slots__ = ("_sem",)

    def __init__(self, value: int) -> None:
        self._sem = trio.Semaphore(value)

    async def acquire(self, timeout: Optional[float]) -> None:
        try:
            with _deadline(timeout):
                await self._sem.acquire()
        except trio.TooSlowError:
            raise PoolTimeout("timed out waiting for a free connection") from None

    def release(self) -> None:
        self._sem.release()


class TrioBackend:
    """trio primitives for the engine."""

    name = "trio"

    async def connect_tcp(
        self,
        host: str,
        port: int,
        *,
        ssl_context: Optional[ssl.SSLContext],
        server_hostname: Optional[str],
        timeout: Optional[float],
    ) -> TrioStream:
        """TCP (happy eyeballs, ``TCP_NODELAY``), then the TLS handshake, both within
        ``timeout``. ``https_compatible``: a TLS EOF without ``close_notify`` is a plain EOF,
        since HTTP framing detects truncation (RFC 9112 §9.8)."""
        tcp: Optional[trio.SocketStream] = None
        try:
            with map_exceptions(_CONNECT_ERRORS), _deadline(timeout):
                tcp = await trio.open_tcp_stream(host, port)
                if ssl_context is None:
                    return TrioStream(tcp)
                tls = trio.SSLStream(
                    tcp, ssl_context, server_hostname=server_hostname, https_compatible=True
                )
                await tls.do_handshake()
                return TrioStream(tls)
        except BaseException:
            if tcp is not None:
                tcp.socket.close()
            raise

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)

    async def run_all(self, calls: Sequence[Callable[[], Awaitable[T]]], limit: int) -> List[T]:
        limiter = trio.CapacityLimiter(limit)
        results: List[Any] = [None] * len(calls)
        errors: List[Exception] = []

        async def one(index: int, nursery: trio.Nursery) -> None:
            async with limiter:
                try:
                    results[index] = await calls[index]()
                except Exception as exc:  # the first one wins; the rest are cancelled
                    errors.append(exc)
                    nursery.cancel_scope.cancel()

        async with trio.open_nursery() as nursery:
            for index in range(len(calls)):
                nursery.start_soon(one, index, nursery)
        if errors:
            raise errors[0]
        return results

    def semaphore(self, value: int) -> _Semaphore:
        return _Semaphore(value)
