"""A Realtime API session driven by a hand-written ``selectors`` event loop.

No asyncio, no trio, no threads: :class:`~openai_proto.realtime.RealtimeConnection` does
the WebSocket protocol (handshake, framing, pings answered, the closing handshake) and
this file only moves bytes when the socket is ready. The session sends ``session.update``
and ``response.create``, prints every server event until ``response.done``, then closes
with code 1000 and waits for the server's Close frame. Plain ``ws://`` only (a TLS version
would run ``ssl.MemoryBIO`` between the socket and the machine).

    OPENAI_API_KEY=sk-... python docs/examples/selectors_realtime.py BASE_URL [MODEL] [K=V ...]

``K=V`` pairs are added to the connection URL's query (``extra_query``).
"""

from __future__ import annotations

import os
import selectors
import socket
import sys
import time
from typing import Dict, List, Optional
from urllib.parse import urlsplit

from openai_proto import RemoteProtocolError
from openai_proto._config import ClientConfig
from openai_proto._http11 import NEED_DATA
from openai_proto._request import USER_AGENT
from openai_proto.realtime import (
    Closed,
    Message,
    Opened,
    RealtimeConnection,
    Rejected,
    build_realtime_url,
    decode_server_event,
)
from openai_proto.types.realtime import RealtimeServerEvent


class RealtimeSession:
    """One Realtime connection, advanced only when its socket is ready."""

    def __init__(self, config: ClientConfig, model: str, extra_query: Dict[str, str]) -> None:
        url = build_realtime_url(
            base_url=config.base_url,
            websocket_base_url=config.websocket_base_url,
            model=model,
            call_id=None,
            extra_query=extra_query,
            beta=False,
        )
        parts = urlsplit(url)
        if parts.scheme != "ws" or parts.hostname is None:
            raise SystemExit(f"this example speaks plain ws:// only, got {url}")
        headers = [("Authorization", f"Bearer {config.api_key}"), ("User-Agent", USER_AGENT)]
        self.ws = RealtimeConnection(
            host=parts.netloc, target=f"{parts.path}?{parts.query}", headers=headers
        )
        self.outgoing = bytearray(self.ws.initiate())
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex((parts.hostname, parts.port or 80))  # completes later
        self.lines: List[str] = []
        self.text: List[str] = []
        self.rejected: Optional[Rejected] = None
        self.closed: Optional[Closed] = None
        self.done = False

    def wanted(self) -> int:
        """Always readable (the server may speak first); writable while bytes wait."""
        return selectors.EVENT_READ | (selectors.EVENT_WRITE if self.outgoing else 0)

    def on_writable(self) -> None:
        try:
            sent = self.sock.send(self.outgoing)
        except BlockingIOError:
            return  # the send buffer is full: wait for the next writable
        del self.outgoing[:sent]

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(65536)
        except ConnectionError:
            data = b""  # the machine reports a lost connection as Closed(1006)
        self.ws.receive_data(data)  # b"" (EOF) is an event for the machine
        try:
            while not self.done:
                event = self.ws.next_event()
                if event is NEED_DATA:
                    break
                self.handle(event)
        finally:
            # Pongs and the echo of a peer's Close frame, queued by the machine.
            self.outgoing += self.ws.data_to_send()

    def handle(self, event: object) -> None:
        if isinstance(event, Opened):
            self.send({"type": "session.update", "session": {"type": "realtime"}})
            self.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        elif isinstance(event, Message):
            server_event = decode_server_event(event.data, union=RealtimeServerEvent)
            kind = getattr(server_event, "type", "?")
            self.lines.append(f"event: {kind}")
            if kind == "response.output_text.delta":
                self.text.append(getattr(server_event, "delta", ""))
            if kind == "response.done":
                self.outgoing += self.ws.close(1000)  # then wait for the peer's Close
        elif isinstance(event, Rejected):
            self.rejected = event
            self.done = True
        elif isinstance(event, Closed):
            self.closed = event
            self.done = True
        # Pong and BinaryMessage: nothing to do here.

    def send(self, event: Dict[str, object]) -> None:
        self.outgoing += self.ws.send_json(event)


def run(session: RealtimeSession, timeout: float = 30.0) -> None:
    """The event loop: wait for readiness, let the session advance, until it ends."""
    selector = selectors.DefaultSelector()
    selector.register(session.sock, session.wanted())
    deadline = time.monotonic() + timeout
    try:
        while not session.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the session is still running after {timeout} s")
            for _key, mask in selector.select(remaining):
                if mask & selectors.EVENT_WRITE and session.outgoing:
                    session.on_writable()
                if mask & selectors.EVENT_READ:
                    session.on_readable()
            selector.modify(session.sock, session.wanted())
    finally:
        selector.close()
        # Last words the machine queued (the echo of the server's Close frame, or the
        # Close frame of a protocol error), best effort, then the socket itself.
        try:
            session.sock.send(session.outgoing)
        except OSError:
            pass
        session.sock.close()


def main(argv: List[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    base_url = argv[0]
    model = argv[1] if len(argv) > 1 and "=" not in argv[1] else "gpt-realtime"
    extra = {k: v for k, _, v in (arg.partition("=") for arg in argv[1:] if "=" in arg)}
    config = ClientConfig.create(base_url=base_url, environ=os.environ)
    session = RealtimeSession(config, model, extra)
    try:
        run(session)
    except RemoteProtocolError as exc:  # the server broke RFC 6455 or a limit
        print(f"protocol error: {exc}", file=sys.stderr)
        return 1
    if session.rejected is not None:
        body = session.rejected.body.decode(errors="replace")
        print(f"handshake rejected: HTTP {session.rejected.status_code}: {body}", file=sys.stderr)
        return 1
    for line in session.lines:
        print(line)
    print(f"text: {''.join(session.text)}")
    assert session.closed is not None
    print(f"closed: {session.closed.code}")
    loops = sorted({"asyncio", "trio", "anyio"} & set(sys.modules))
    print(f"event-loop libraries imported: {loops or 'none'}")
    return 0 if session.closed.code == 1000 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
