"""multipart/form-data request bodies (RFC 7578), encoded without reading any file.

Uploads (``files.create``, ``audio.transcriptions.create``, ``images.edit`` ...) send form
fields and file parts. The core writes every delimiter and part header itself and leaves
file contents as :class:`FilePart` references, which the engine reads in small pieces
while it sends, so a large upload never sits in memory whole. The boundary comes from a
random source the caller passes in; sizes of files the core cannot see (paths, file
objects) come from a ``file_size`` function the caller passes in, so the core stays free
of I/O.

Encoding follows the official SDK (whose bodies httpx writes): form fields first, nested
values flattened as ``a[b]`` and arrays as ``a[]`` (its ``brackets`` format), then the
files; a file's part names ``filename`` and a ``Content-Type`` guessed from it.
"""

from __future__ import annotations

import enum
import io
import string
import sys
from pathlib import PurePath
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import msgspec

from ._exceptions import LocalProtocolError
from ._types import is_given

__all__ = [
    "FilePart",
    "FileSize",
    "MultipartBody",
    "encode_multipart",
    "extract_files",
    "flatten_form",
    "is_file_content",
    "is_path",
]


def is_path(value: object) -> bool:
    """An ``os.PathLike`` (anything with ``__fspath__``), tested without importing ``os``."""
    return hasattr(type(value), "__fspath__")


#: Measures a path or a file object without reading it: its size in bytes, or ``None``
#: when that cannot be known before reading (a pipe, a socket, any stream that cannot seek).
FileSize = Callable[[Any], Optional[int]]

# Bytes contents at least this large stay a segment of their own instead of being copied
# into the surrounding part headers.
_INLINE_LIMIT = 64 * 1024

# Field names and filenames inside ``name="..."``: the escaping of WHATWG HTML §4.10.21.8
# as httpx applies it (so bodies match the official SDK's byte for byte): ``"`` as %22,
# C0 controls except ESC as %XX, and a backslash doubled.
_PARAM_ESCAPES: Dict[int, str] = {ord('"'): "%22", ord("\\"): "\\\\"}
_PARAM_ESCAPES.update({c: f"%{c:02X}" for c in range(0x20) if c != 0x1B})

# RFC 2046 §5.1.1: a boundary is 1 to 70 ``bchars`` and does not end with a space.
_BCHARS = frozenset(string.ascii_letters + string.digits + "'()+_,-./:=? ")


class FilePart(msgspec.Struct, frozen=True, kw_only=True):
    """A reference to one file's content, read by the engine when the body is sent.

    ``source`` is an ``os.PathLike`` (the engine opens it) or a binary file object (the
    engine rewinds it with ``seek(0)`` when it can, as httpx does, and reads it).
    """

    source: Any
    size: Optional[int]
    """Bytes to send; ``None`` when unknown (the body is then sent chunked)."""

    @property
    def rewindable(self) -> bool:
        """Whether the content can be read again for a retry (a path, or a sized file)."""
        return self.size is not None or is_path(self.source)


class MultipartBody(msgspec.Struct, frozen=True, kw_only=True):
    """An encoded multipart/form-data body: bytes to send as they are, and file references.

    Send the ``segments`` in order: a ``bytes`` segment as it is, a :class:`FilePart` as
    the file's content (exactly ``size`` bytes when the size is known).
    """

    boundary: str
    segments: Tuple[Union[bytes, FilePart], ...]
    content_length: Optional[int]
    """Total body size when every file size is known, else ``None`` (send chunked,
    RFC 9112 §7.1)."""

    @property
    def content_type(self) -> str:
        """The request's ``Content-Type`` (RFC 7578 §4.1: the boundary is required)."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def framing(self) -> Tuple[str, str]:
        """The header that frames this body: ``Content-Length``, or chunked transfer coding
        when a size is unknown."""
        if self.content_length is None:
            return ("Transfer-Encoding", "chunked")
        return ("Content-Length", str(self.content_length))

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again (a retry): true unless a file is a stream
        that cannot be rewound."""
        return all(not isinstance(s, FilePart) or s.rewindable for s in self.segments)


def is_file_content(value: object) -> bool:
    """Bytes, a path, or a binary file object: what a file field accepts besides a tuple."""
    return (
        isinstance(value, (bytes, bytearray, memoryview, io.IOBase))
        or is_path(value)
        or callable(getattr(value, "read", None))
    ) and not isinstance(value, str)


def extract_files(
    body: Mapping[str, object], file_fields: Sequence[str]
) -> Tuple[Dict[str, object], List[Tuple[str, object]]]:
    """Split a request body into form fields and ``(part name, file)`` pairs.

    A file field holding a list gives one part per item, named ``field[]`` (the official
    SDK's ``extract_files`` with the ``brackets`` format). A file field holding a mapping
    (a reference such as ``{"id": ...}``) stays a form field. Anything else in a file
    field is a :class:`TypeError`.
    """
    fields: Dict[str, object] = {}
    files: List[Tuple[str, object]] = []
    wanted = set(file_fields)
    for key, value in body.items():
        if key not in wanted or isinstance(value, Mapping) or not is_given(value):
            fields[key] = value
        elif isinstance(value, list):
            for item in value:
                _check_file(item, f"{key}[]")
                files.append((f"{key}[]", item))
        else:
            _check_file(value, key)
            files.append((key, value))
    return fields, files


def _check_file(value: object, key: str) -> None:
    if not (is_file_content(value) or isinstance(value, tuple)):
        raise TypeError(
            f"Expected entry at `{key}` to be bytes, an io.IOBase instance, PathLike or a "
            f"tuple but received {type(value)} instead."
        )


def flatten_form(fields: Mapping[str, object]) -> List[Tuple[str, Union[str, bytes]]]:
    """Form fields as ``(name, value)`` pairs in the official SDK's ``brackets`` format:
    mappings nest as ``a[b]``, lists and tuples repeat ``a[]``, booleans are ``true`` /
    ``false``, ``None`` and omitted values are left out."""
    out: List[Tuple[str, Union[str, bytes]]] = []
    for key, value in fields.items():
        _flatten(key, value, out)
    return out


def _flatten(key: str, value: object, out: List[Tuple[str, Union[str, bytes]]]) -> None:
    if value is None or not is_given(value):
        return
    if isinstance(value, bool):
        out.append((key, "true" if value else "false"))
    elif isinstance(value, (str, int, float)):
        out.append((key, str(value.value if isinstance(value, enum.Enum) else value)))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append((key, bytes(value)))
    elif isinstance(value, Mapping):
        for sub, item in value.items():
            _flatten(f"{key}[{sub}]", item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _flatten(f"{key}[]", item, out)
    elif isinstance(value, enum.Enum):
        _flatten(key, value.value, out)
    elif isinstance(value, msgspec.Struct):
        _flatten(key, msgspec.to_builtins(value), out)
    else:
        out.append((key, str(value)))


def _param(name: str, value: str) -> bytes:
    return f'{name}="{value.translate(_PARAM_ESCAPES)}"'.encode()


def _guess_type(filename: Optional[str]) -> Optional[str]:
    if not filename:
        return None
    import mimetypes  # on first use only: keeps ``import openai_proto`` cheap

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _default_filename(value: object) -> str:
    if is_path(value):
        path = value.__fspath__()  # type: ignore[attr-defined]
        if isinstance(path, bytes):
            path = path.decode(sys.getfilesystemencoding(), "surrogateescape")
        return PurePath(path).name
    return PurePath(str(getattr(value, "name", "upload"))).name


def _check_header(text: str) -> str:
    if "\r" in text or "\n" in text:
        raise ValueError(f"part header names and values cannot contain CR or LF: {text!r}")
    return text


def _file_part(
    name: str, value: object, file_size: Optional[FileSize]
) -> Tuple[bytes, Union[bytes, FilePart]]:
    """The part headers (with the blank line) and the content of one file field."""
    headers: Mapping[str, str] = {}
    content_type: Optional[str] = None
    if isinstance(value, tuple):
        if not 2 <= len(value) <= 4:
            raise TypeError(
                f"a file tuple is (filename, content[, content_type[, headers]]), "
                f"not {len(value)} items"
            )
        filename: Optional[str] = value[0]
        content: object = value[1]
        if len(value) > 2:
            content_type = value[2]
        if len(value) > 3:
            headers = value[3] or {}
        if isinstance(content, str):
            content = content.encode("utf-8")
        elif not is_file_content(content):
            raise TypeError(
                f"Expected the content of `{name}` to be bytes, an io.IOBase instance or "
                f"PathLike but received {type(content)} instead."
            )
    else:
        filename = _default_filename(value)
        content = value
    if isinstance(content, io.TextIOBase):
        raise TypeError("multipart file uploads need a file opened in binary mode, not text")

    # Caller headers first, then the guessed Content-Type unless they name one (httpx).
    lines: List[Tuple[str, str]] = [
        (_check_header(str(k)), _check_header(str(v))) for k, v in headers.items()
    ]
    if content_type is None:
        content_type = _guess_type(filename)
    if content_type is not None and not any("content-type" in k.lower() for k, _ in lines):
        lines.append(("Content-Type", _check_header(content_type)))
    head = [b"Content-Disposition: form-data; ", _param("name", name)]
    if filename:
        head += [b"; ", _param("filename", filename)]
    for key, val in lines:
        head += [b"\r\n", key.encode(), b": ", val.encode()]
    head.append(b"\r\n\r\n")

    data: Union[bytes, FilePart]
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
    else:
        data = FilePart(source=content, size=None if file_size is None else file_size(content))
    return b"".join(head), data


def encode_multipart(
    fields: Mapping[str, object],
    files: Sequence[Tuple[str, object]],
    *,
    token_bytes: Callable[[int], bytes],
    file_size: Optional[FileSize] = None,
) -> MultipartBody:
    """Encode ``fields`` (nested values allowed) and ``files`` as multipart/form-data.

    ``files`` pairs a part name with bytes, a binary file object, an ``os.PathLike``, or a
    tuple ``(filename, content[, content_type[, headers]])``. ``token_bytes(16)`` supplies
    the boundary's randomness (hex-encoded, as httpx does). ``file_size`` measures paths
    and file objects; without it their size is unknown and the body is sent chunked.
    """
    boundary = token_bytes(16).hex()
    if not 0 < len(boundary) <= 70 or boundary.endswith(" ") or not _BCHARS.issuperset(boundary):
        raise LocalProtocolError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")
    delimiter = b"--" + boundary.encode("ascii") + b"\r\n"
    segments: List[Union[bytes, FilePart]] = []
    pending: List[bytes] = []

    def flush() -> None:
        if pending:
            segments.append(b"".join(pending))
            pending.clear()

    for key, value in flatten_form(fields):
        pending += [delimiter, b"Content-Disposition: form-data; ", _param("name", key)]
        pending += [b"\r\n\r\n", value.encode() if isinstance(value, str) else value, b"\r\n"]
    for key, file in files:
        head, data = _file_part(key, file, file_size)
        pending += [delimiter, head]
        if isinstance(data, bytes) and len(data) < _INLINE_LIMIT:
            pending.append(data)
        else:
            flush()
            segments.append(data)
        pending.append(b"\r\n")
    pending.append(b"--" + boundary.encode("ascii") + b"--\r\n")
    flush()
    sizes = [len(s) if isinstance(s, bytes) else s.size for s in segments]
    length = None if None in sizes else sum(size or 0 for size in sizes)
    return MultipartBody(boundary=boundary, segments=tuple(segments), content_length=length)
