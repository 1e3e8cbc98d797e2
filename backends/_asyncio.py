"""The asyncio driver: transports and protocols, no streams layer, no anyio on the hot path.

Incoming chunks are kept as the ``bytes`` objects the transport hands over (no copying into
a bytearray), reading pauses when the buffer passes a high-water mark, and waits use
``loop.call_later`` rather than ``wait_for`` so a read costs one future.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Awaitable, Callable, Deque, List, Optional, Sequence, TypeVar

from ._base import (
    ConnectError,
    ConnectTimeout,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

__all__ = ["AsyncioBackend"]

T = TypeVar("T")

_HIGH_WATER = 1 << 20  # pause reading past 1 MiB buffered


class _Protocol(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: Optional[asyncio.Transport] = None
        self.chunks: Deque[bytes] = deque()
        self.buffered = 0
        self.eof = False
        self.error: Optional[BaseException] = None
        self.paused_reading = False
        self.paused_writing = False
        self.waiter: Optional[asyncio.Future[None]] = None
        self.drain_waiter: Optional[asyncio.Future[None]] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.paused_reading and self.transport:
            self.paused_reading = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        w = self.drain_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def pause_writing(self) -> None:
        self.paused_writing = True

    def resume_writing(self) -> None:
        self.paused_writing = False
        w = self.drain_waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)


def _expire(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


class AsyncioStream:
    """One connection as the engine's ``AsyncNetworkStream``."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._p = protocol
        self._loop = protocol._loop
        # Read timeouts: one long-lived timer per connection (see _watch_read).
        self._read_deadline = 0.0
        self._read_timer: Optional[asyncio.TimerHandle] = None

    async def _wait(self, attr: str, timeout: Optional[float], exc: type) -> None:
        fut: asyncio.Future[None] = self._loop.create_future()
        setattr(self._p, attr, fut)
        handle = None
        if timeout is not None:
            if attr == "waiter":
                self._watch_read(self._loop.time() + timeout)
            else:
                handle = self._loop.call_later(timeout, _expire, fut)
        try:
            await fut
        except TimeoutError:
            raise exc("timed out") from None
        finally:
            setattr(self._p, attr, None)
            if handle is not None:
                handle.cancel()

    def _watch_read(self, deadline: float) -> None:
        """Time out the read now starting at ``deadline``.

        A timer made and cancelled for every read is a visible share of a request's CPU,
        so one timer stays armed across reads: it is moved only to an earlier deadline, and
        when it fires it expires the read in progress if that read is past its deadline,
        re-arms for it if not, and lapses when no read is waiting.
        """
        self._read_deadline = deadline
        timer = self._read_timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._read_timer = self._loop.call_at(deadline, self._read_timer_fired)

    def _read_timer_fired(self) -> None:
        self._read_timer = None
        waiter = self._p.waiter
        if waiter is None or waiter.done():
            return
        if self._loop.time() >= self._read_deadline:
            waiter.set_exception(TimeoutError())
        else:
            self._read_timer = self._loop.call_at(self._read_deadline, self._read_timer_fired)

    def _stop_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    async def read(self, max_bytes: int, timeout: Optional[float]) -> bytes:
        p = self._p
        if not p.chunks:
            if p.eof:
                if p.error is not None:
                    raise ReadError(str(p.error) or type(p.error).__name__) from p.error
                return b""
            await self._wait("waiter", timeout, ReadTimeout)
            if not p.chunks:
                if p.error is not None:
                    raise ReadError(str(p.error) or type(p.error).__name__) from p.error
                return b""
        data = p.chunks.popleft()
        if len(data) > max_bytes:
            p.chunks.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        p.buffered -= len(data)
        if p.paused_reading and p.buffered < _HIGH_WATER // 4:
            p.paused_reading = False
            self._transport.resume_reading()
        return data

    async def write(self, data: bytes, timeout: Optional[float]) -> None:
        if self._transport.is_closing():
            raise WriteError("connection closed")
        try:
            self._transport.write(data)
        except (OSError, RuntimeError) as exc:  # write() after close or write_eof()
            raise WriteError(str(exc) or type(exc).__name__) from exc
        if self._p.paused_writing:
            await self._wait("drain_waiter", timeout, WriteTimeout)
            if self._p.error is not None or self._transport.is_closing():
                raise WriteError("connection lost while writing")

    async def aclose(self) -> None:
        self._stop_read_timer()
        self._transport.close()

    def abort(self) -> None:
        self._stop_read_timer()
        self._transport.abort()

    def is_readable(self) -> bool:
        return bool(self._p.chunks) or self._p.eof


class _Semaphore:
    def __init__(self, value: int) -> None:
        self._sem = asyncio.Semaphore(value)

    async def acquire(self, timeout: Optional[float]) -> None:
        if timeout is None or not self._sem.locked():
            # Free slot (the usual case) or no deadline: no wait_for, no extra Task.
            await self._sem.acquire()
            return
        try:
            await asyncio.wait_for(self._sem.acquire(), timeout)
        except asyncio.TimeoutError:
            raise PoolTimeout("timed out waiting for a free connection") from None

    def release(self) -> None:
        self._sem.release()


class AsyncioBackend:
    """asyncio primitives for the engine."""

    name = "asyncio"

    async def connect_tcp(
        self,
        host: str,
        port: int,
        *,
        ssl_context: Optional[ssl.SSLContext],
        server_hostname: Optional[str],
        timeout: Optional[float],
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        protocol = _Protocol(loop)
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(
                    lambda: protocol,
                    host,
                    port,
                    ssl=ssl_context,
                    server_hostname=server_hostname if ssl_context else None,
                ),
                timeout,
            )
        except asyncio.TimeoutError:
            raise ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        assert isinstance(transport, asyncio.Transport)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def run_all(self, calls: Sequence[Callable[[], Awaitable[T]]], limit: int) -> List[T]:
        semaphore = asyncio.Semaphore(limit)

        async def one(call: Callable[[], Awaitable[T]]) -> T:
            async with semaphore:
                return await call()

        tasks = [asyncio.ensure_future(one(call)) for call in calls]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def semaphore(self, value: int) -> _Semaphore:
        return _Semaphore(value)
