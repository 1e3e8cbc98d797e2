"""A raw TCP server for fault injection: scripted bytes and misbehaviour, no HTTP library.

The peer of ``test_faults.py``. It shares no code with the library under test (plain
``socket`` + one thread per connection): it reads a request the simple way (head up to the
blank line, then ``Content-Length`` bytes) and lets each test's handler write whatever bytes
it likes, slowly, truncated, then close with a FIN or a reset (RST, ``SO_LINGER`` 0).

Usage::

    def handler(conn: RawConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nshort")
            conn.reset()

    with RawServer(handler) as server:  # 127.0.0.1, ephemeral port
        ...  # point a client at server.url ("http://127.0.0.1:PORT/v1")
        assert server.connections == 1 and len(server.requests) == 1

The handler runs once per accepted connection, in its own thread; the connection is closed
(FIN) when it returns. Client-caused socket errors (the client went away) end a handler
quietly; any other exception is kept in :attr:`RawServer.errors` for the test to check.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type

__all__ = [
    "RawConnection",
    "RawRequest",
    "RawServer",
    "chunk",
    "response",
    "sse_event",
]

#: Bound on every blocking socket call of a handler, so no test can leave a thread behind.
SOCKET_TIMEOUT = 5.0
_MAX_HEAD = 1 << 20


@dataclass(frozen=True)
class RawRequest:
    """One request as read off the wire (header names lower-cased)."""

    method: str
    target: str
    headers: Dict[str, str]
    body: bytes


class RawConnection:
    """One accepted connection, as a handler sees it."""

    def __init__(self, sock: socket.socket, server: RawServer, index: int) -> None:
        self.sock = sock
        self.server = server
        self.index = index  #: 0 for the server's first connection, 1 for the next...
        self._buffer = b""
        self._closed = False

    def read_request(self) -> Optional[RawRequest]:
        """The next request, or ``None`` if the client closed (or reset) first."""
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > _MAX_HEAD:
                raise ValueError("request head too large")
            data = self._recv()
            if not data:
                return None
            self._buffer += data
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers: Dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        size = int(headers.get("content-length", "0"))
        while len(self._buffer) < size:
            data = self._recv()
            if not data:
                return None
            self._buffer += data
        body, self._buffer = self._buffer[:size], self._buffer[size:]
        request = RawRequest(method=method, target=target, headers=headers, body=body)
        self.server._record(request)
        return request

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except (ConnectionError, socket.timeout):
            return b""

    def send(self, data: bytes) -> bool:
        """Write all of ``data``; ``False`` if the client is gone."""
        try:
            self.sock.sendall(data)
        except (OSError, socket.timeout):
            return False
        return True

    def drip(self, data: bytes, interval: float) -> bool:
        """Write ``data`` one byte at a time, ``interval`` seconds apart (``TCP_NODELAY``
        is on, so each byte leaves as its own segment)."""
        for i in range(len(data)):
            if i:
                time.sleep(interval)
            if not self.send(data[i : i + 1]):
                return False
        return True

    def reset(self) -> None:
        """Abort with a TCP reset: ``SO_LINGER`` on with a zero timeout, then close."""
        if not self._closed:
            self._closed = True
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()

    def close(self) -> None:
        """Close gracefully (FIN)."""
        if not self._closed:
            self._closed = True
            self.sock.close()

    def wait_readable(self) -> bool:
        """Block until the client sends more bytes (left unread) or closes (bounded)."""
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except (ConnectionError, socket.timeout):
            return False
        return True

    def wait_for_proceed(self) -> bool:
        """Block until the test calls :meth:`RawServer.proceed` (bounded)."""
        return self.server._proceed.wait(SOCKET_TIMEOUT)

    def wait_peer_close(self) -> bool:
        """Read and discard until the client closes or resets the connection (bounded);
        counted in :attr:`RawServer.peer_closes`."""
        deadline = time.monotonic() + SOCKET_TIMEOUT
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionError:
                data = b""
            if not data:
                self.server._peer_closed()
                return True
        return False


Handler = Callable[[RawConnection], None]


@dataclass
class _State:
    connections: int = 0
    requests: List[RawRequest] = field(default_factory=list)
    peer_closes: int = 0
    errors: List[BaseException] = field(default_factory=list)


class RawServer:
    """A TCP server on 127.0.0.1 running ``handler`` for each connection."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._lock = threading.Lock()
        self._state = _State()
        self._proceed = threading.Event()
        self._stop = threading.Event()
        self._open: List[socket.socket] = []
        self._threads: List[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        """The base URL a client uses (``/v1`` like the real API)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return self._state.connections

    @property
    def requests(self) -> List[RawRequest]:
        """Requests read so far, in order."""
        with self._lock:
            return list(self._state.requests)

    @property
    def peer_closes(self) -> int:
        """Connections the client closed while a handler waited in :meth:`RawConnection.wait_peer_close`."""
        with self._lock:
            return self._state.peer_closes

    @property
    def errors(self) -> List[BaseException]:
        """Unexpected exceptions raised by handlers (a broken test, not a client fault)."""
        with self._lock:
            return list(self._state.errors)

    def proceed(self) -> None:
        """Release handlers waiting in :meth:`RawConnection.wait_for_proceed`."""
        self._proceed.set()

    def _record(self, request: RawRequest) -> None:
        with self._lock:
            self._state.requests.append(request)

    def _peer_closed(self) -> None:
        with self._lock:
            self._state.peer_closes += 1

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(SOCKET_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                index = self._state.connections
                self._state.connections += 1
                self._open.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock, index), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, index: int) -> None:
        conn = RawConnection(sock, self, index)
        try:
            self.handler(conn)
        except (ConnectionError, socket.timeout):
            pass  # the client went away: that is the client's business
        except BaseException as exc:
            with self._lock:
                self._state.errors.append(exc)
        finally:
            conn.close()

    def __enter__(self) -> RawServer:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._stop.set()
        self._proceed.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the acceptor at once (Linux)
        except OSError:
            pass
        self._acceptor.join(SOCKET_TIMEOUT)
        self._listener.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked in recv
            except OSError:
                pass
        for thread in self._threads:
            thread.join(SOCKET_TIMEOUT)


# -- bytes on the wire -----------------------------------------------------------------


def response(
    status: int = 200,
    body: bytes = b"",
    *,
    reason: str = "",
    headers: Sequence[Tuple[str, str]] = (),
    content_length: Optional[int] = -1,
) -> bytes:
    """An HTTP/1.1 response: status line, ``headers``, then ``Content-Length`` (the body's
    length by default; pass a number to lie, ``None`` to leave it out) and ``body``."""
    lines = [f"HTTP/1.1 {status} {reason or _REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if content_length == -1:
        content_length = len(body)
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_REASONS = {200: "OK", 502: "Bad Gateway"}


def chunk(data: bytes) -> bytes:
    """One chunk of a ``Transfer-Encoding: chunked`` body (RFC 9112 §7.1)."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def sse_event(data: str) -> bytes:
    """One ``text/event-stream`` event carrying ``data``."""
    return f"data: {data}\n\n".encode()
