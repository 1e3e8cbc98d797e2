"""Several chat completions streamed at once by a hand-written ``selectors`` event loop.

No asyncio, no trio, no threads: the pure core does all the protocol work and this file
is the whole event loop. Each :class:`ChatStream` is a small state machine fed by socket
readiness: it writes the request bytes that ``HTTP11Connection`` produced, feeds what it
reads back into the machine, and hands body chunks to ``StreamParser``; the loop below
just waits on a selector and calls the ready stream. Plain HTTP only (a TLS version would
run ``ssl.MemoryBIO`` between the socket and the machine).

    OPENAI_API_KEY=sk-... python docs/examples/selectors_loop.py BASE_URL PROMPT [PROMPT ...]
"""

from __future__ import annotations

import os
import selectors
import socket
import sys
import time
from typing import Dict, List, Optional

import msgspec

from openai_proto._catalogue import chat_completions_create
from openai_proto._config import ClientConfig
from openai_proto._http11 import (
    NEED_DATA,
    BodyChunk,
    HTTP11Connection,
    ResponseEnded,
    ResponseStarted,
)
from openai_proto._request import build_request
from openai_proto._streaming import StreamParser
from openai_proto.types import ChatCompletionChunk

decode_chunk = msgspec.json.Decoder(ChatCompletionChunk).decode


class ChatStream:
    """One streamed chat completion, advanced only when its socket is ready."""

    def __init__(self, config: ClientConfig, prompt: str, model: str) -> None:
        request = build_request(
            config,
            chat_completions_create,
            body={
                "model": model,
                "messages": [{"role": "user", "content": prompt}],
                "stream": True,
            },
        )
        self.http = HTTP11Connection()
        self.parser = StreamParser(request=request)
        self.outgoing = bytearray(
            self.http.send_request(request.method, request.target, request.headers, request.body)
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex((request.origin.host, request.origin.port))  # completes later
        self.status: Optional[int] = None
        self.error_body = bytearray()
        self.pieces: List[str] = []
        self.done = False

    def wanted(self) -> int:
        """What to wait for: writable while request bytes remain, then readable."""
        return selectors.EVENT_WRITE if self.outgoing else selectors.EVENT_READ

    def on_writable(self) -> None:
        sent = self.sock.send(self.outgoing)
        del self.outgoing[:sent]

    def on_readable(self) -> None:
        self.http.receive_data(self.sock.recv(65536))  # b"" (EOF) is an event for the machine
        while not self.done:
            event = self.http.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, ResponseStarted):
                self.status = event.status_code
            elif isinstance(event, BodyChunk):
                if self.status != 200:
                    self.error_body += event.data
                    continue
                for item in self.parser.feed(event.data):
                    self.take(item.data)
            elif isinstance(event, ResponseEnded):
                for item in self.parser.end():
                    self.take(item.data)
                self.done = True

    def take(self, data: bytes) -> None:
        chunk = decode_chunk(data)
        for choice in chunk.choices:
            if isinstance(choice.delta.content, str):
                self.pieces.append(choice.delta.content)


def run(streams: List[ChatStream], timeout: float = 30.0) -> None:
    """The event loop: wait for readiness, let the ready stream advance, until all end."""
    selector = selectors.DefaultSelector()
    for stream in streams:
        selector.register(stream.sock, stream.wanted(), stream)
    deadline = time.monotonic() + timeout
    pending = len(streams)
    try:
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{pending} stream(s) still running after {timeout} s")
            for key, mask in selector.select(remaining):
                stream = key.data
                if mask & selectors.EVENT_WRITE:
                    stream.on_writable()
                if mask & selectors.EVENT_READ:
                    stream.on_readable()
                if stream.done:
                    selector.unregister(stream.sock)
                    stream.sock.close()
                    pending -= 1
                else:
                    selector.modify(stream.sock, stream.wanted(), stream)
    finally:
        for stream in streams:
            stream.sock.close()
        selector.close()


def main(argv: List[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, prompts = argv[0], argv[1:]
    config = ClientConfig.create(base_url=base_url, environ=os.environ)
    streams = [ChatStream(config, prompt, "gpt-4o-mini") for prompt in prompts]
    run(streams)
    failed: Dict[int, str] = {}
    for number, stream in enumerate(streams, 1):
        if stream.status != 200:
            failed[number] = f"HTTP {stream.status}: {stream.error_body.decode(errors='replace')}"
        else:
            print(f"[{number}] {''.join(stream.pieces)}")
    for number, message in failed.items():
        print(f"[{number}] error: {message}", file=sys.stderr)
    loops = sorted({"asyncio", "trio", "anyio"} & set(sys.modules))
    print(f"event-loop libraries imported: {loops or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
