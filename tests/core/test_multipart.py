"""multipart/form-data encoding (pure): exact bytes, parity with the official SDK's bodies
(its field flattening + httpx's encoder), and round trips through the stdlib's MIME parser."""

from __future__ import annotations

import email.parser
import email.policy
import io
import os
import types
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from openai_proto import omit
from openai_proto._config import ClientConfig
from openai_proto._exceptions import LocalProtocolError
from openai_proto._multipart import (
    FilePart,
    MultipartBody,
    encode_multipart,
    extract_files,
    flatten_form,
    is_path,
)
from openai_proto._operation import Operation
from openai_proto._request import RequestOptions, build_request

BOUNDARY_BYTES = bytes(range(16))
BOUNDARY = BOUNDARY_BYTES.hex()


def fixed(n: int) -> bytes:
    assert n == 16
    return BOUNDARY_BYTES


def measure(source: Any) -> Optional[int]:
    """What the engine does (``backends._pool.upload_size``), for tests of the pure core."""
    if is_path(source):
        return os.path.getsize(source)
    if not source.seekable():
        return None
    position = source.tell()
    end: int = source.seek(0, os.SEEK_END)
    source.seek(position)
    return end


def materialize(body: MultipartBody) -> bytes:
    """The bytes the engine sends for ``body``."""
    out: List[bytes] = []
    for segment in body.segments:
        if isinstance(segment, bytes):
            out.append(segment)
        elif is_path(segment.source):
            out.append(Path(segment.source).read_bytes())
        else:
            if segment.size is not None:
                segment.source.seek(0)
            out.append(segment.source.read())
    return b"".join(out)


def parse(body: MultipartBody) -> List[Tuple[str, Optional[str], str, bytes]]:
    """(name, filename, content type, content) of each part, read by the stdlib's parser."""
    head = f"Content-Type: {body.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head + materialize(body)
    )
    assert message.is_multipart() and not message.defects
    parts = []
    for part in message.iter_parts():
        assert not part.defects
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        parts.append((name, part.get_filename(), part.get_content_type(), payload))
    return parts


# -- exact bytes ---------------------------------------------------------------------------


def test_exact_bytes_fields_nesting_and_a_file() -> None:
    fields = {"purpose": "fine-tune", "expires_after": {"anchor": "created_at", "seconds": 3600}}
    body = encode_multipart(fields, [("file", ("a.txt", b"hi\n"))], token_bytes=fixed)
    d = f"--{BOUNDARY}\r\n".encode()
    expected = (
        d + b'Content-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        + d + b'Content-Disposition: form-data; name="expires_after[anchor]"\r\n\r\n'
        b"created_at\r\n"
        + d + b'Content-Disposition: form-data; name="expires_after[seconds]"\r\n\r\n3600\r\n'
        + d + b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhi\n\r\n"
        + f"--{BOUNDARY}--\r\n".encode()
    )  # fmt: skip
    assert materialize(body) == expected
    assert body.content_length == len(expected)
    assert body.content_type == f"multipart/form-data; boundary={BOUNDARY}"
    assert body.framing == ("Content-Length", str(len(expected)))
    assert body.replayable


def test_exact_bytes_of_a_four_tuple_and_escaped_names() -> None:
    file = ('say "hi"\n.bin', b"\x00\xff", None, {"X-Tag": "t1", "Content-Type": "a/b"})
    body = encode_multipart({}, [("f\\", file)], token_bytes=fixed)
    assert materialize(body) == (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="f\\\\"; filename="say %22hi%22%0A.bin"\r\n'
        b"X-Tag: t1\r\nContent-Type: a/b\r\n\r\n\x00\xff\r\n" + f"--{BOUNDARY}--\r\n".encode()
    )


def test_no_fields_and_no_files_is_still_a_multipart_body() -> None:
    # The official SDK forces a multipart body even without files (ForceMultipartDict).
    body = encode_multipart({}, [], token_bytes=fixed)
    assert materialize(body) == f"--{BOUNDARY}--\r\n".encode()


def test_flattening_is_the_brackets_format() -> None:
    fields = {"a": [1, [2, 3], {"b": True}], "n": None, "o": omit, "f": 0.5, "s": "x", "e": []}
    assert flatten_form(fields) == [
        ("a[]", "1"), ("a[][]", "2"), ("a[][]", "3"), ("a[][b]", "true"), ("f", "0.5"),
        ("s", "x"),
    ]  # fmt: skip


def test_the_boundary_comes_from_the_random_source() -> None:
    calls: List[int] = []

    def source(n: int) -> bytes:
        calls.append(n)
        return b"\xab" * n

    body = encode_multipart({"a": "b"}, [], token_bytes=source)
    assert calls == [16] and body.boundary == "ab" * 16


# -- parity with the official SDK (its flattening and extract_files, httpx's encoder) -------


def official_body(
    body: Dict[str, Any], file_fields: Tuple[str, ...], boundary: bytes
) -> Tuple[bytes, Optional[int]]:
    httpx_multipart = pytest.importorskip("httpx._multipart")
    base_client = pytest.importorskip("openai._base_client")
    from openai._files import to_httpx_files
    from openai._qs import Querystring
    from openai._utils import extract_files as official_extract

    body = dict(body)
    paths = [[f] for f in file_fields] + [[f, "<array>"] for f in file_fields]
    files = to_httpx_files(official_extract(body, paths=paths))
    stub = types.SimpleNamespace(qs=Querystring(array_format="brackets"))
    data = base_client.BaseClient._serialize_multipartform(stub, body)
    stream = httpx_multipart.MultipartStream(data=data, files=files, boundary=boundary)
    length = stream.get_content_length()
    return b"".join(stream), length


def cases(tmp_path: Path) -> List[Tuple[Dict[str, Any], Tuple[str, ...]]]:
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_bytes(b'{"messages": []}\n' * 3)
    wav = tmp_path / "speech.wav"
    wav.write_bytes(b"RIFF" + bytes(range(256)) * 300)
    opened = open(wav, "rb")  # closed by the test
    opened.read(10)  # the official SDK (httpx) sends from offset 0 anyway
    return [
        (
            {"file": jsonl, "purpose": "fine-tune",
             "expires_after": {"anchor": "created_at", "seconds": 3600}},
            ("file",),
        ),
        (
            {"file": opened, "model": "whisper-1", "temperature": 0.5, "language": "en",
             "timestamp_granularities": ["word", "segment"], "include": []},
            ("file",),
        ),
        (
            {"image": [b"\x89PNG1", ("b.png", b"\x89PNG2", "image/png"),
                       ("c.webp", io.BytesIO(b"RIFFWEBP"), None, {"X-A": "1"})],
             "mask": ("m.png", b"mask"), "prompt": "an otter, \u00e9t\u00e9 \U0001f9a6", "n": 2,
             "stream": False, "user": None},
            ("image", "mask"),
        ),
        ({"files": [("dir/a.py", b"print(1)\n"), ("SKILL.md", "# skill\n")]}, ("files",)),
        ({"data": io.BytesIO(b"\x00" * 70_000)}, ("data",)),
    ]  # fmt: skip


def test_bodies_match_the_official_sdk_byte_for_byte(tmp_path: Path) -> None:
    for body, file_fields in cases(tmp_path):
        fields, files = extract_files(body, file_fields)
        ours = encode_multipart(fields, files, token_bytes=fixed, file_size=measure)
        theirs, their_length = official_body(body, file_fields, BOUNDARY.encode())
        assert materialize(ours) == theirs
        assert ours.content_length == their_length == len(theirs)
        for value in body.values():
            if hasattr(value, "close"):
                value.close()


def test_large_contents_stay_references_not_copies(tmp_path: Path) -> None:
    big = b"x" * 200_000
    path = tmp_path / "p.bin"
    path.write_bytes(b"y" * 10)
    body = encode_multipart(
        {"a": "b"}, [("f", big), ("g", path)], token_bytes=fixed, file_size=measure
    )
    assert any(segment is big or segment == big for segment in body.segments)
    refs = [s for s in body.segments if isinstance(s, FilePart)]
    assert refs == [FilePart(source=path, size=10)]
    assert body.content_length == len(materialize(body))


# -- sizes, framing, replay ------------------------------------------------------------------


class OneShot(io.RawIOBase):
    """A stream that cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def test_unknown_sizes_mean_chunked_and_no_replay() -> None:
    body = encode_multipart({}, [("file", OneShot(b"abc"))], token_bytes=fixed, file_size=measure)
    assert body.content_length is None
    assert body.framing == ("Transfer-Encoding", "chunked")
    assert not body.replayable
    assert parse(body) == [("file", "upload", "application/octet-stream", b"abc")]


def test_without_a_size_function_paths_are_chunked_but_replayable(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"n")
    body = encode_multipart({}, [("file", path)], token_bytes=fixed)
    assert body.content_length is None and body.replayable
    assert parse(body) == [("file", "notes.txt", "text/plain", b"n")]


def test_file_names_default_like_the_official_sdk(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"png")
    with open(path, "rb") as opened:
        body = encode_multipart(
            {},
            [("a", b"raw"), ("b", path), ("c", opened), ("d", (None, b"anon"))],
            token_bytes=fixed,
            file_size=measure,
        )
        assert [(n, f, t) for n, f, t, _ in parse(body)] == [
            ("a", "upload", "application/octet-stream"),
            ("b", "photo.png", "image/png"),
            ("c", "photo.png", "image/png"),
            ("d", None, "text/plain"),  # no filename, no Content-Type: the MIME default
        ]


# -- extract_files ---------------------------------------------------------------------------


def test_extract_files_splits_lists_and_keeps_references_as_fields() -> None:
    body = {"files": [b"1", ("b", b"2")], "video": {"id": "video_1"}, "prompt": "p"}
    fields, files = extract_files(body, ("files", "video"))
    assert fields == {"video": {"id": "video_1"}, "prompt": "p"}
    assert files == [("files[]", b"1"), ("files[]", ("b", b"2"))]


@pytest.mark.parametrize("bad", ["a path as str", 42, None, [b"ok", "not ok"]])
def test_extract_files_rejects_what_is_not_a_file(bad: object) -> None:
    with pytest.raises(TypeError, match=r"Expected entry at `file(\[\])?` to be bytes"):
        extract_files({"file": bad}, ("file",))


def test_bad_inputs() -> None:
    with pytest.raises(TypeError, match="binary mode"):
        encode_multipart({}, [("f", io.StringIO("text"))], token_bytes=fixed)
    with pytest.raises(ValueError, match="CR or LF"):
        encode_multipart({}, [("f", ("a", b"", None, {"X": "a\r\nB: c"}))], token_bytes=fixed)
    with pytest.raises(TypeError, match="file tuple"):
        encode_multipart({}, [("f", ("a",))], token_bytes=fixed)
    with pytest.raises(LocalProtocolError, match="boundary"):
        encode_multipart({}, [], token_bytes=lambda n: b"")


# -- build_request -----------------------------------------------------------------------------

UPLOAD = Operation(name="files.create", method="POST", path="/files",
                   body_params=("file", "purpose"), content_type="multipart/form-data",
                   file_fields=("file",))  # fmt: skip


def config() -> ClientConfig:
    return ClientConfig.create(api_key="sk-1", environ={})


def test_build_request_for_an_upload() -> None:
    request = build_request(
        config(),
        UPLOAD,
        body={"file": ("a.jsonl", b"{}\n"), "purpose": "batch"},
        options=RequestOptions(
            extra_body={"extra": {"k": "v"}},
            extra_headers={"Content-Length": "1", "Transfer-Encoding": "gzip", "X-A": "1"},
        ),
        token_bytes=fixed,
    )
    assert request.body is None and request.upload is not None
    headers = dict(request.headers)
    assert headers["Content-Type"] == f"multipart/form-data; boundary={BOUNDARY}"
    assert headers["Content-Length"] == str(request.upload.content_length)
    assert "Transfer-Encoding" not in headers and headers["X-A"] == "1"
    assert [(n, v) for n, _, _, v in parse(request.upload)] == [
        ("purpose", b"batch"), ("extra[k]", b"v"), ("file", b"{}\n"),
    ]  # fmt: skip


def test_build_request_upload_needs_a_random_source() -> None:
    with pytest.raises(LocalProtocolError, match="token_bytes"):
        build_request(config(), UPLOAD, body={"file": b"x", "purpose": "batch"})


def test_build_request_chunked_upload() -> None:
    request = build_request(
        config(),
        UPLOAD,
        body={"file": OneShot(b"x"), "purpose": "batch"},
        token_bytes=fixed,
        file_size=measure,
    )
    assert ("Transfer-Encoding", "chunked") in request.headers
    assert not any(name == "Content-Length" for name, _ in request.headers)


def test_build_request_rejects_a_non_mapping_extra_body() -> None:
    with pytest.raises(TypeError, match="mapping"):
        build_request(
            config(),
            UPLOAD,
            body={"file": b"x", "purpose": "batch"},
            options=RequestOptions(extra_body=[1]),
            token_bytes=fixed,
        )


# -- round trips through an independent parser ------------------------------------------------

names = st.text(
    st.characters(min_codepoint=0x30, max_codepoint=0x7A, exclude_characters="\\"),
    min_size=1,
    max_size=8,
)
safe_filenames = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s)
values = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    fields=st.dictionaries(names, values, max_size=5),
    files=st.lists(st.tuples(names, safe_filenames, st.binary(max_size=300)), max_size=4),
    token=st.binary(min_size=16, max_size=16),
)
def test_round_trip_through_the_stdlib_parser(
    fields: Dict[str, str], files: List[Tuple[str, str, bytes]], token: bytes
) -> None:
    assume(fields or files)  # an empty form is only the close delimiter (tested above)
    body = encode_multipart(
        fields,
        [(name, (filename, content)) for name, filename, content in files],
        token_bytes=lambda n: token,
    )
    parsed = parse(body)
    assert [(n, v) for n, f, _, v in parsed if f is None] == [
        (name, value.encode()) for name, value in fields.items()
    ]
    assert [(n, f, v) for n, f, _, v in parsed if f is not None] == files
    assert body.content_length == len(materialize(body))
