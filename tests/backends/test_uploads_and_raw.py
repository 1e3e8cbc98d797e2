"""Uploads (multipart, streamed from disk), binary responses, ``with_raw_response`` and
``with_streaming_response``, and pagination, end to end against the loopback server on
every loop and driver."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from backends import AsyncHTTPClient
from backends._response import (
    AsyncAPIResponse,
    AsyncStreamedBinaryAPIResponse,
    BinaryResponseContent,
    LegacyAPIResponse,
    StreamAlreadyConsumed,
)
from backends.fake_openai import CREATED, FakeServer, Reply
from openai_proto import (
    APIStatusError,
    AsyncOpenAI,
    AsyncStream,
    InternalServerError,
    NotFoundError,
)

pytestmark = pytest.mark.anyio

MESSAGES: Any = [{"role": "user", "content": "hello there"}]
MiB = 1024 * 1024


@pytest.fixture
def make_client(
    server: FakeServer, make_http_client: Callable[..., AsyncHTTPClient]
) -> Callable[..., AsyncOpenAI]:
    def make(**kwargs: Any) -> AsyncOpenAI:
        return AsyncOpenAI(
            api_key="sk-test", base_url=server.url, http_client=make_http_client(), **kwargs
        )

    return make


def seed(server: FakeServer, content: bytes, *, filename: str = "seed.bin") -> str:
    """Put a file on the server without uploading it (for download and list tests)."""
    file_id = f"file-{len(server.state.files) + 1:06d}"
    obj = {"id": file_id, "object": "file", "bytes": len(content), "created_at": CREATED,
           "filename": filename, "purpose": "batch", "status": "processed"}  # fmt: skip
    server.state.files[file_id] = {"object": obj, "content": content}
    return file_id


def speech_bytes(model: str, voice: str, text: str) -> Iterator[bytes]:
    """The fake server's deterministic audio, computed here independently."""
    block = hashlib.sha256(f"{model}\0{voice}\0{text}".encode()).digest() * 32
    for _ in range(len(text.encode())):
        yield block


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(MiB), b""):
            digest.update(piece)
    return digest.hexdigest()


class OneShot(io.RawIOBase):
    """A binary stream that cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


# -- uploads ---------------------------------------------------------------------------------

DATA = b'{"prompt": "p", "completion": "c"}\n' * 50


@pytest.mark.parametrize("kind", ["bytes", "file object", "path", "tuple"])
async def test_upload_each_kind_of_file(
    kind: str, server: FakeServer, make_client: Callable[..., AsyncOpenAI], tmp_path: Path
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(DATA)
    with open(path, "rb") as opened:
        file: Any = {
            "bytes": DATA,
            "file object": opened,
            "path": path,
            "tuple": ("named.jsonl", DATA, "application/jsonl"),
        }[kind]
        async with make_client() as client:
            created = await client.files.create(
                file=file,
                purpose="fine-tune",
                expires_after={"anchor": "created_at", "seconds": 3600},
            )
    stored = server.state.files[created.id]
    assert stored["sha256"] == hashlib.sha256(DATA).hexdigest()
    assert created.bytes == stored["size"] == len(DATA)
    assert created.filename == {"bytes": "upload", "tuple": "named.jsonl"}.get(kind, "train.jsonl")
    expected_type = "application/jsonl" if kind == "tuple" else "application/octet-stream"
    assert stored["content_type"] == expected_type
    assert stored["fields"] == [
        ("purpose", "fine-tune"),
        ("expires_after[anchor]", "created_at"),
        ("expires_after[seconds]", "3600"),
    ]
    headers = server.state.requests[-1].headers
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert int(headers["content-length"]) > len(DATA)


async def test_stream_that_cannot_seek_is_sent_chunked(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI]
) -> None:
    async with make_client() as client:
        created = await client.files.create(file=OneShot(DATA), purpose="batch")
    assert server.state.files[created.id]["sha256"] == hashlib.sha256(DATA).hexdigest()
    headers = server.state.requests[-1].headers
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers


async def test_a_retry_sends_the_file_again_from_the_start(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI], tmp_path: Path
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    retry = Reply(status=500, headers={"retry-after-ms": "1"})
    async with make_client() as client:
        with open(path, "rb") as opened:
            for file in (opened, path, ("t.bin", io.BytesIO(DATA))):
                server.state.script("/v1/files", retry)
                created = await client.files.create(file=file, purpose="batch")
                assert server.state.files[created.id]["size"] == len(DATA)
                assert server.state.files[created.id]["sha256"] == hashlib.sha256(DATA).hexdigest()
    assert len(server.state.requests) == 6


async def test_a_stream_that_cannot_seek_is_never_sent_twice(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI]
) -> None:
    server.state.script("/v1/files", Reply(status=500, headers={"retry-after-ms": "1"}))
    async with make_client() as client:
        with pytest.raises(InternalServerError):
            await client.files.create(file=OneShot(DATA), purpose="batch")
    assert len(server.state.requests) == 1 and not server.state.files


async def test_a_50_mb_upload_keeps_memory_flat(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI], tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    block = hashlib.sha256(b"block").digest() * (MiB // 32)
    with open(path, "wb") as f:
        for i in range(50):
            f.write(block[i:] + block[:i])
    async with make_client() as client:
        await client.files.create(file=("warm.txt", b"x"), purpose="batch")  # imports, pool
        tracemalloc.start()
        try:
            created = await client.files.create(file=path, purpose="batch")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # The peak counts this process: the client, and the server thread parsing the upload.
    assert peak < 8 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"
    assert created.bytes == 50 * MiB
    assert server.state.files[created.id]["sha256"] == sha256_of(path)


@pytest.fixture
def early_answer() -> Iterator[int]:
    """A bare HTTP server on 127.0.0.1 that answers 413 to the request head and closes
    without reading the body (so the client's writes fail mid-upload); yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def answer() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
            body = b'{"error": {"message": "File too large", "type": "invalid_request_error"}}'
            conn.sendall(
                b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\n"
                b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
            time.sleep(0.3)  # the client's writes now fill the buffers; then a reset

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(10)


async def test_an_early_answer_beats_the_upload_error(
    early_answer: int,
    make_http_client: Callable[..., AsyncHTTPClient],
    driver: str,
    request: pytest.FixtureRequest,
) -> None:
    if driver == "httpcore":
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                reason="httpcore reports the broken upload (ReadError after the write "
                "failed) instead of the response the server sent before closing",
            )
        )
    client = AsyncOpenAI(
        api_key="sk-test",
        base_url=f"http://127.0.0.1:{early_answer}/v1",
        http_client=make_http_client(),
        max_retries=0,
    )
    async with client:
        with pytest.raises(APIStatusError) as caught:
            await client.files.create(file=b"\0" * (16 * MiB), purpose="batch")
    assert caught.value.status_code == 413
    assert caught.value.body == {"message": "File too large", "type": "invalid_request_error"}


# -- binary responses --------------------------------------------------------------------------


async def test_binary_content_and_write_to_file(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI], tmp_path: Path
) -> None:
    data = bytes(range(256)) * 400
    file_id = seed(server, data)
    text_id = seed(server, "h\u00e9llo\n".encode())
    async with make_client() as client:
        content = await client.files.content(file_id)
        assert isinstance(content, BinaryResponseContent)
        assert content.content == content.read() == bytes(content) == data
        assert content.response.headers["content-type"] == "application/octet-stream"
        assert b"".join([piece async for piece in content.iter_bytes(1000)]) == data
        assert b"".join(await content.aiter_bytes()) == data  # the official form
        content.write_to_file(tmp_path / "out.bin")
        assert (tmp_path / "out.bin").read_bytes() == data
        assert await client.files.retrieve_content(text_id) == "h\u00e9llo\n"
        assert (await client.files.content(text_id)).text == "h\u00e9llo\n"

        speech = await client.audio.speech.create(model="tts-1", voice="alloy", input="hi!")
        assert speech.content == b"".join(speech_bytes("tts-1", "alloy", "hi!"))
        assert speech.response.headers["content-type"] == "audio/mpeg"


async def test_streamed_binary_goes_to_disk_without_being_held(
    make_client: Callable[..., AsyncOpenAI], tmp_path: Path
) -> None:
    text = "a" * (16 * 1024)  # 16 MiB of audio
    out = tmp_path / "speech.mp3"
    async with make_client() as client:
        await client.models.list()  # warm the pool
        tracemalloc.start()
        try:
            speech = client.audio.speech.with_streaming_response.create(
                model="tts-1", voice="nova", input=text, response_format="mp3"
            )
            async with speech as response:
                assert isinstance(response, AsyncStreamedBinaryAPIResponse)
                assert response.headers["content-length"] == str(16 * MiB)
                await response.stream_to_file(out)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert response.is_closed
        with pytest.raises(StreamAlreadyConsumed):
            await response.read()
    assert peak < 4 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"
    expected = hashlib.sha256()
    for block in speech_bytes("tts-1", "nova", text):
        expected.update(block)
    assert sha256_of(out) == expected.hexdigest()


# -- with_raw_response -------------------------------------------------------------------------


async def test_raw_response_of_a_json_call(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI]
) -> None:
    async with make_client() as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert isinstance(raw, LegacyAPIResponse)
    assert raw.status_code == 200 and raw.is_closed
    assert raw.headers["content-type"] == "application/json"
    assert raw.request_id == "req_1"
    assert raw.http_request.method == "POST"
    assert raw.http_request.url.endswith("/v1/chat/completions")
    completion = raw.parse()
    assert raw.parse() is completion
    assert completion.choices[0].message.content == "Hello! You said: hello there"
    assert completion._request_id == "req_1"
    assert raw.json()["object"] == "chat.completion"
    assert raw.read() == raw.content and raw.text.startswith("{")
    assert raw.parse(to=dict)["id"] == completion.id
    assert not any(h.startswith("x-stainless") for h in server.state.requests[0].headers)


async def test_raw_response_of_a_list_call(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI]
) -> None:
    ids = [seed(server, b"x") for _ in range(3)]
    async with make_client() as client:
        raw = await client.files.with_raw_response.list(limit=2)
        page = raw.parse()
        assert [f.id for f in page.data] == ids[::-1][:2] and page.has_more
        rest = await page.get_next_page()
        assert [f.id for f in rest.data] == ids[:1] and not rest.has_next_page()
        models = (await client.with_raw_response.models.list()).parse()  # client level
        assert models.data
    assert server.state.requests[1].query == {"limit": "2", "after": ids[1]}


async def test_raw_response_of_a_stream_call(make_client: Callable[..., AsyncOpenAI]) -> None:
    async with make_client() as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=3
        )
        assert raw.headers["content-type"].startswith("text/event-stream")
        stream = raw.parse()
        assert isinstance(stream, AsyncStream) and raw.parse() is stream
        with pytest.raises(RuntimeError, match="stream=True"):
            raw.content  # noqa: B018
        pieces = [c.choices[0].delta.content async for c in stream if c.choices]
    assert "".join(p for p in pieces if isinstance(p, str)) == "Hello! You said:"
    assert raw.is_closed


async def test_raw_response_of_a_binary_call(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI]
) -> None:
    file_id = seed(server, b"\x00binary\xff")
    async with make_client() as client:
        raw = await client.files.with_raw_response.content(file_id)
        content = raw.parse()
        assert isinstance(content, BinaryResponseContent)
        assert content.content == raw.content == b"\x00binary\xff"
        text = await client.files.with_raw_response.retrieve_content(file_id)
        assert text.parse() == "\x00binary\ufffd"
        deleted = await client.with_raw_response.models.delete("gpt-4o")  # a plain JSON call
        assert deleted.parse().deleted is True
        with pytest.raises(NotFoundError):
            await client.files.with_raw_response.retrieve("file-missing")


# -- with_streaming_response -------------------------------------------------------------------


async def test_streaming_response_of_a_json_call(make_client: Callable[..., AsyncOpenAI]) -> None:
    async with make_client() as client:
        call = client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
        async with call as response:
            assert isinstance(response, AsyncAPIResponse)
            assert not response.is_closed  # the body is not read yet
            assert response.status_code == 200 and response.request_id == "req_1"
            completion = await response.parse()
            assert completion.choices[0].message.content == "Hello! You said: hello there"
            assert (await response.json())["id"] == completion.id
            assert (await response.text()).startswith("{")
        assert response.is_closed
        async with client.with_streaming_response.models.retrieve("gpt-4o") as response:
            lines = [line async for line in response.iter_lines()]
            assert len(lines) == 1 and '"gpt-4o"' in lines[0]


async def test_streaming_response_of_a_list_call(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI]
) -> None:
    ids = [seed(server, b"x") for _ in range(5)]
    async with make_client() as client:
        async with client.files.with_streaming_response.list(limit=2, order="asc") as response:
            page = await response.parse()
        walked = [f.id async for p in page.iter_pages() for f in p.data]
    assert walked == ids


async def test_streaming_response_of_a_stream_call(
    make_client: Callable[..., AsyncOpenAI],
) -> None:
    async with make_client() as client:
        call = client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=3
        )
        async with call as response:
            lines = [line async for line in response.iter_lines()]
        assert lines[-2:] == ["data: [DONE]", ""]
        assert sum(line.startswith("data: {") for line in lines) >= 3
        call = client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, max_tokens=3
        )
        async with call as response:
            stream = await response.parse()
            assert isinstance(stream, AsyncStream)
            chunks = [c async for c in stream]
        assert chunks[0].object == "chat.completion.chunk"


async def test_streaming_response_of_a_binary_call(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI], tmp_path: Path
) -> None:
    data = bytes(range(256)) * 1000
    file_id = seed(server, data)
    async with make_client() as client:
        async with client.files.with_streaming_response.content(file_id) as response:
            pieces = [piece async for piece in response.iter_bytes(4096)]
            assert all(len(p) == 4096 for p in pieces[:-1]) and b"".join(pieces) == data
            with pytest.raises(StreamAlreadyConsumed):
                await response.read()
        async with client.files.with_streaming_response.content(file_id) as response:
            content = await response.parse()
            assert isinstance(content, BinaryResponseContent) and content.content == data
            await response.write_to_file(tmp_path / "copy.bin")  # from the read body
        assert (tmp_path / "copy.bin").read_bytes() == data
        with pytest.raises(ValueError, match="file_id"):
            async with client.files.with_streaming_response.content(""):
                pass


# -- pagination --------------------------------------------------------------------------------


async def test_auto_pagination_walks_every_page(
    server: FakeServer, make_client: Callable[..., AsyncOpenAI]
) -> None:
    ids = [seed(server, b"x") for _ in range(5)]
    async with make_client() as client:
        walked = [f.id async for f in client.files.list(limit=2)]
    assert walked == ids[::-1]
    lists = [r for r in server.state.requests if r.path == "/v1/files"]
    afters: List[Dict[str, str]] = [r.query for r in lists]
    assert afters == [
        {"limit": "2"},
        {"limit": "2", "after": ids[3]},
        {"limit": "2", "after": ids[1]},
    ]
