"""The blocking driver: plain ``socket`` (+ ``ssl``) behind the engine's stream interface.

Hand-written, unlike the rest of ``backends/_sync``: it is the one piece that differs in
kind between the two worlds. Each read and write sets the socket's timeout for that one
call, so a timeout bounds one wait for bytes, never a whole body. Failures are translated
in one table (:func:`_errors`) at each boundary. ``abort`` shuts the socket down before
closing it, which wakes another thread blocked reading it.

Also here: the blocking world's :class:`LoopBinding` and :func:`load_backend` (there is
one driver, so nothing to detect) and :func:`adapt_http_client`, which says what the
blocking client accepts as ``http_client``.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from typing import Callable, Dict, List, NoReturn, Optional, Sequence, Type, TypeVar, Union

from ._base import (
    Backend,
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

__all__ = ["LoopBinding", "SocketStream", "SyncBackend", "adapt_http_client", "load_backend"]

T = TypeVar("T")


def _errors(
    timeout: Type[TransportError], error: Type[TransportError]
) -> Dict[Type[BaseException], Type[TransportError]]:
    """The one translation table (first match wins).

    ``socket.timeout`` is ``TimeoutError`` from Python 3.10 and an ``OSError`` subclass
    before, so it comes first; TLS failures (``ssl.SSLError``, certificate errors), resets
    and refused connections are all ``OSError``.
    """
    return {socket.timeout: timeout, OSError: error}


_CONNECT_ERRORS = _errors(ConnectTimeout, ConnectError)
_READ_ERRORS = _errors(ReadTimeout, ReadError)
_WRITE_ERRORS = _errors(WriteTimeout, WriteError)


class SocketStream:
    """One connection as the engine's ``NetworkStream`` (a TCP or TLS socket)."""

    __slots__ = ("_sock",)

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: Optional[float]) -> bytes:
        with map_exceptions(_READ_ERRORS):
            self._sock.settimeout(timeout)
            return self._sock.recv(max_bytes)

    def write(self, data: bytes, timeout: Optional[float]) -> None:
        if not data:
            return
        with map_exceptions(_WRITE_ERRORS):
            self._sock.settimeout(timeout)
            self._sock.sendall(data)  # the timeout bounds the whole call (Python >= 3.5)

    def close(self) -> None:
        """Close the socket (no TLS ``close_notify``: HTTP framing detects truncation,
        RFC 9112 §9.8, and a peer that stopped reading must not make this block)."""
        self._sock.close()

    def abort(self) -> None:
        # shutdown() first: close() alone does not wake a thread blocked in recv() on Linux.
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def is_readable(self) -> bool:
        """Zero-timeout poll of the socket: on an idle connection, readable means a FIN,
        a reset or TLS ``close_notify`` arrived, so it must not be reused."""
        sock = self._sock
        if sock.fileno() < 0:
            return True
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        if hasattr(select, "poll"):  # no FD_SETSIZE limit, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)  # pragma: no cover - Windows
        return bool(readable)


class _Semaphore:
    __slots__ = ("_sem",)

    def __init__(self, value: int) -> None:
        self._sem = threading.Semaphore(value)

    def acquire(self, timeout: Optional[float]) -> None:
        if not self._sem.acquire(timeout=timeout):
            raise PoolTimeout("timed out waiting for a free connection")

    def release(self) -> None:
        self._sem.release()


class SyncBackend:
    """Blocking primitives for the engine; safe to share between threads."""

    name = "sync"

    def connect_tcp(
        self,
        host: str,
        port: int,
        *,
        ssl_context: Optional[ssl.SSLContext],
        server_hostname: Optional[str],
        timeout: Optional[float],
    ) -> SocketStream:
        """TCP (``TCP_NODELAY``), then the TLS handshake; each bounded by ``timeout``."""
        sock: Optional[socket.socket] = None
        try:
            with map_exceptions(_CONNECT_ERRORS):
                sock = socket.create_connection((host, port), timeout=timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if ssl_context is not None:
                    sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname)
                return SocketStream(sock)
        except BaseException:
            if sock is not None:
                sock.close()
            raise

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def run_all(self, calls: Sequence[Callable[[], T]], limit: int) -> List[T]:
        """``limit`` threads (the client is shared by threads safely); the first failure
        in the order of ``calls`` is raised and the calls not started yet are skipped."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=limit) as pool:
            futures = [pool.submit(call) for call in calls]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def semaphore(self, value: int) -> _Semaphore:
        return _Semaphore(value)


_BACKEND = SyncBackend()


def load_backend(name: str) -> SyncBackend:
    """The blocking driver (``"auto"`` or ``"sync"``; there is no other)."""
    if name in ("auto", "sync"):
        return _BACKEND
    raise ValueError(
        f"unknown backend {name!r} for the blocking client; expected 'auto' or 'sync' "
        "(the event loop drivers belong to AsyncOpenAI)"
    )


class LoopBinding:
    """The blocking counterpart of the async pool's binding: always the socket driver,
    chosen at construction (no running loop to detect, nothing to race on)."""

    __slots__ = ("_backend",)

    def __init__(self, backend: Union[str, Backend] = "auto") -> None:
        self._backend: Backend = load_backend(backend) if isinstance(backend, str) else backend

    @property
    def name(self) -> str:
        return self._backend.name

    def get(self) -> Backend:
        return self._backend


def adapt_http_client(http_client: object) -> NoReturn:
    """What the blocking client does with ``backend="httpcore"`` or an ``http_client`` that
    is not a ``SyncHTTPClient``: refuse it clearly (no httpcore/httpx adapter exists yet)."""
    got = "backend='httpcore'" if http_client is None else f"http_client={http_client!r}"
    raise TypeError(
        f"the blocking OpenAI client runs on its own socket driver, got {got}; pass "
        "http_client=SyncHTTPClient(...) or nothing (httpcore and httpx clients work with "
        "AsyncOpenAI only)"
    )
