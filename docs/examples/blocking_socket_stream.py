"""Stream a chat completion over a blocking socket with nothing but the pure core.

No event loop, no HTTP library: ``build_request`` makes the request, ``HTTP11Connection``
turns it into bytes and the bytes read back into response events, ``StreamParser`` turns
the body into stream items. This script does the I/O: connect, ``sendall``, ``recv``.

    OPENAI_API_KEY=sk-... python docs/examples/blocking_socket_stream.py \\
        [BASE_URL] [PROMPT] [MODEL]

BASE_URL defaults to ``$OPENAI_BASE_URL`` or https://api.openai.com/v1.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
from typing import Iterator, List, Optional

import msgspec

from openai_proto._catalogue import chat_completions_create
from openai_proto._config import ClientConfig
from openai_proto._exceptions import make_status_error
from openai_proto._http11 import (
    NEED_DATA,
    BodyChunk,
    HTTP11Connection,
    ResponseEnded,
    ResponseStarted,
)
from openai_proto._request import Request, build_request
from openai_proto._streaming import StreamParser


# Only the fields this script reads; msgspec skips the rest of each chunk unparsed.
# (The generated ``openai_proto.types.ChatCompletionChunk`` has every field.)
class Delta(msgspec.Struct):
    content: Optional[str] = None


class Choice(msgspec.Struct):
    delta: Delta


class Chunk(msgspec.Struct):
    choices: List[Choice] = []


decode_chunk = msgspec.json.Decoder(Chunk).decode


class ErrorResponse(msgspec.Struct):
    """What ``make_status_error`` reads from a response: status, headers, request."""

    status_code: int
    headers: object
    request: Request


def connect(request: Request) -> socket.socket:
    origin = request.origin
    sock = socket.create_connection((origin.host, origin.port), timeout=request.timeout.connect)
    if origin.tls:
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=origin.host)
    sock.settimeout(request.timeout.read)  # a bound on each wait for bytes, not on the stream
    return sock


def stream_chat(base_url: str, api_key: str, prompt: str, model: str) -> Iterator[str]:
    """Yield the answer's text deltas as they arrive."""
    config = ClientConfig.create(api_key=api_key, base_url=base_url, environ={})
    messages = [{"role": "user", "content": prompt}]
    request = build_request(
        config,
        chat_completions_create,
        body={"model": model, "messages": messages, "stream": True},
    )
    # A stream may be long: lift the machine's body cap (a limit for buffered JSON).
    http = HTTP11Connection(max_body_size=None)
    parser = StreamParser(request=request)
    with connect(request) as sock:
        sock.sendall(
            http.send_request(request.method, request.target, request.headers, request.body)
        )
        error_status: Optional[ResponseStarted] = None
        error_body = b""
        while True:
            event = http.next_event()
            if event is NEED_DATA:
                http.receive_data(sock.recv(65536))  # b"" at end of stream: the machine knows
            elif isinstance(event, ResponseStarted):
                if event.status_code >= 400:
                    error_status = event
            elif isinstance(event, BodyChunk):
                if error_status is not None:
                    error_body += event.data
                    continue
                for item in parser.feed(event.data):
                    for choice in decode_chunk(item.data).choices[:1]:
                        if choice.delta.content:
                            yield choice.delta.content
                if parser.done:  # [DONE] (or an error to raise): nothing more to read
                    break
            elif isinstance(event, ResponseEnded):
                break
        if error_status is not None:
            response = ErrorResponse(
                status_code=error_status.status_code, headers=error_status.headers, request=request
            )
            try:  # the official SDK's rule: the "error" member, else the JSON, else the text
                body = msgspec.json.decode(error_body) if error_body else None
            except msgspec.DecodeError:
                body = error_body.decode("utf-8", "replace")
            if isinstance(body, dict) and "error" in body:
                body = body["error"]
            raise make_status_error(response, body)
        parser.end()  # raises an error event that arrived with the last bytes, if any


def main(argv: List[str]) -> int:
    base_url = argv[1] if len(argv) > 1 else os.environ.get("OPENAI_BASE_URL", "")
    prompt = argv[2] if len(argv) > 2 else "Say hello to the Sans-IO world"
    model = argv[3] if len(argv) > 3 else "gpt-4o-mini"
    api_key = os.environ["OPENAI_API_KEY"]
    for text in stream_chat(base_url or "https://api.openai.com/v1", api_key, prompt, model):
        print(text, end="", flush=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
