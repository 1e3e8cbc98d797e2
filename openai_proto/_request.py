"""Request building: an operation plus the call's arguments become one HTTP request.

Pure: no I/O. The engine calls :func:`build_request` once per attempt (the API key may
come from an async provider and change between attempts).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qsl, quote, urlencode

import msgspec

from ._config import ClientConfig, Origin, split_base_url
from ._exceptions import LocalProtocolError
from ._headers import redact
from ._operation import Operation
from ._types import NOT_GIVEN, Omit, Timeout, is_given, omit
from ._version import __version__

if TYPE_CHECKING:  # the multipart encoder loads on the first upload
    from ._multipart import FileSize, MultipartBody

__all__ = ["Request", "RequestOptions", "build_request", "encode_query", "merge_body"]

USER_AGENT = f"openai-proto/{__version__} Python/{sys.version_info[0]}.{sys.version_info[1]}"

_json_encode = msgspec.json.Encoder(enc_hook=None).encode


class RequestOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Per-call options every generated method accepts, as in the official SDK."""

    extra_headers: Optional[Mapping[str, Any]] = None
    extra_query: Optional[Mapping[str, object]] = None
    extra_body: Optional[object] = None
    timeout: Any = NOT_GIVEN
    """``NOT_GIVEN`` (client default), ``None`` (no timeout), a float or a ``Timeout``."""


class Request(msgspec.Struct, frozen=True, kw_only=True):
    """A fully built HTTP request: where to connect, what to send, how long to wait."""

    method: str
    origin: Origin
    target: str
    """Path and query as sent on the request line (RFC 9112 §3.2.1, origin-form)."""
    headers: List[Tuple[str, str]]
    body: Optional[bytes]
    timeout: Timeout
    upload: Optional[MultipartBody] = None
    """A multipart/form-data body (then ``body`` is ``None``): the engine streams its
    segments, reading file contents as it goes. ``headers`` already frame it."""

    def __repr__(self) -> str:
        # Every APIError carries its request: credentials must not reach tracebacks.
        size = 0 if self.body is None else len(self.body)
        return (
            f"Request(method={self.method!r}, url={self.url!r}, "
            f"headers={redact(self.headers)!r}, body=<{size} bytes>)"
        )

    @property
    def url(self) -> str:
        return f"{self.origin.scheme}://{self.origin.host_header}{self.target}"


def _flatten(key: str, value: object, out: List[Tuple[str, str]]) -> None:
    # Same query format as the official SDK: lists repeat the key, mappings nest with
    # brackets, booleans are lowercase, None is left out.
    if value is None or not is_given(value):
        return
    if isinstance(value, bool):
        out.append((key, "true" if value else "false"))
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{key}[{k}]", v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _flatten(key, v, out)
    else:
        out.append((key, str(value)))


def encode_query(*parts: Optional[Mapping[str, object]]) -> str:
    """Merge query mappings left to right (later wins) and encode them."""
    merged: Dict[str, object] = {}
    for part in parts:
        if part:
            merged.update(part)
    if not merged:
        return ""
    items: List[Tuple[str, str]] = []
    for key, value in merged.items():
        _flatten(key, value, items)
    return urlencode(items)


def merge_body(body: Optional[Mapping[str, object]], extra: Optional[object]) -> Any:
    """Drop not-given fields from ``body`` and deep-merge ``extra_body`` over it."""
    clean: Dict[str, object] = {}
    if body:
        # Identity tests: the two sentinels are singletons, and this runs for every
        # parameter of every call (the generated methods pass them all).
        clean = {k: v for k, v in body.items() if v is not omit and v is not NOT_GIVEN}
    if extra is None:
        return clean
    if not isinstance(extra, Mapping):
        return extra
    return _deep_merge(clean, extra)


def _deep_merge(base: Dict[str, object], extra: Mapping[str, object]) -> Dict[str, object]:
    out = dict(base)
    for key, value in extra.items():
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            out[key] = _deep_merge(current, value)
        elif is_given(value):
            out[key] = value
        else:
            out.pop(key, None)
    return out


def _fill_path(template: str, params: Mapping[str, str]) -> str:
    path = template
    for name, value in params.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"Expected a non-empty value for `{name}` but received {value!r}")
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def build_request(
    config: ClientConfig,
    op: Operation,
    *,
    api_key: Optional[str] = None,
    path_params: Mapping[str, str] = {},
    query: Optional[Mapping[str, object]] = None,
    body: Optional[Mapping[str, object]] = None,
    options: Optional[RequestOptions] = None,
    extra_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
    token_bytes: Optional[Callable[[int], bytes]] = None,
    file_size: Optional[FileSize] = None,
) -> Request:
    """Build the request for ``op`` with the client's defaults and the call's options.

    Header precedence, lowest first: library defaults, auth/organization/project, the
    operation's fixed headers, ``default_headers``, ``extra_headers`` (the engine's) and
    the call's ``extra_headers``; an ``omit`` value removes the header.

    Multipart operations need ``token_bytes`` (the boundary's random source, e.g.
    ``os.urandom``) and take ``file_size`` to measure paths and file objects (see
    :mod:`openai_proto._multipart`); their ``Content-Type`` and framing headers are the
    body's own and override any caller header of those names.
    """
    options = options or RequestOptions()
    origin, host, base_path, base_query = _split(config.base_url)
    # A few spec paths carry a fixed query (``/responses?beta=true``): merge, don't append.
    template, _, fixed_query = op.path.partition("?")
    path = base_path + _fill_path(template, path_params).lstrip("/")
    query_string = encode_query(
        base_query,
        _parse_query(fixed_query),
        config.default_query,
        query,
        options.extra_query,
    )
    target = path + ("?" + query_string if query_string else "")

    key = config.api_key if api_key is None else api_key
    json_body = op.method != "GET" and op.content_type != "multipart/form-data"
    headers: Dict[str, Tuple[str, Union[str, Omit]]] = dict(
        _standard_headers(json_body, key, config.organization, config.project)
    )

    def put(source: Mapping[str, Any]) -> None:
        for name, value in source.items():
            if isinstance(value, (list, tuple)):  # header parameters: comma-joined
                value = ",".join(str(v) for v in value)
            headers[name.lower()] = (name, value if isinstance(value, Omit) else str(value))

    for source in (op.headers, config.default_headers, extra_headers, options.extra_headers):
        if source:
            put(dict(source))

    upload: Optional[MultipartBody] = None
    payload: Optional[bytes] = None
    if op.content_type == "multipart/form-data":
        upload = _multipart_body(op, body, options.extra_body, token_bytes, file_size)
        headers.pop("content-length", None)
        headers.pop("transfer-encoding", None)
        put({"Content-Type": upload.content_type})
        put(dict([upload.framing]))
    elif op.content_type == "application/json" and op.method != "GET":
        merged = merge_body(body, options.extra_body)
        if op.body_params or merged:
            payload = _json_encode(merged)
    elif op.content_type == "":
        extra = options.extra_body
        if extra:
            payload = _json_encode(merge_body(None, extra))
    else:
        raise LocalProtocolError(f"{op.content_type} request bodies are not supported")

    header_list = [("Host", host)]
    header_list += [(n, v) for n, v in headers.values() if isinstance(v, str)]
    timeout = config.timeout if options.timeout is NOT_GIVEN else Timeout.of(options.timeout)
    return Request(
        method=op.method,
        origin=origin,
        target=target,
        headers=header_list,
        body=payload,
        timeout=timeout,
        upload=upload,
    )


def _multipart_body(
    op: Operation,
    body: Optional[Mapping[str, object]],
    extra_body: Optional[object],
    token_bytes: Optional[Callable[[int], bytes]],
    file_size: Optional[FileSize],
) -> MultipartBody:
    if token_bytes is None:
        raise LocalProtocolError(
            f"{op.name} sends multipart/form-data: pass token_bytes (e.g. os.urandom)"
        )
    merged = merge_body(body, extra_body)
    if not isinstance(merged, Mapping):
        raise TypeError(
            f"Expected a mapping for a multipart request body but got {type(merged)} instead."
        )
    from ._multipart import encode_multipart, extract_files

    fields, files = extract_files(merged, op.file_fields)
    return encode_multipart(fields, files, token_bytes=token_bytes, file_size=file_size)


# Pure functions of a client's settings, cached: most calls differ only in their body.
# The dicts they return are shared; callers copy before changing them.


@lru_cache(maxsize=64)
def _split(base_url: str) -> Tuple[Origin, str, str, Dict[str, str]]:
    """Origin, ``Host`` value, base path and base query of ``base_url``."""
    origin, path, query = split_base_url(base_url)
    return origin, origin.host_header, path, _parse_query(query)


@lru_cache(maxsize=64)
def _parse_query(query: str) -> Dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True)) if query else {}


@lru_cache(maxsize=64)
def _standard_headers(
    json_body: bool, key: str, organization: Optional[str], project: Optional[str]
) -> Dict[str, Tuple[str, str]]:
    """The headers every request starts from, by lower-cased name.

    As the official SDK (through httpx): JSON in and out, compressed responses welcome (the
    HTTP machine decodes gzip and deflate), ``Content-Type`` on everything but GET and
    multipart (whose body sets it with its boundary), then the credentials.
    """
    headers = {"accept": ("Accept", "application/json")}
    headers["accept-encoding"] = ("Accept-Encoding", "gzip, deflate")
    if json_body:
        headers["content-type"] = ("Content-Type", "application/json")
    headers["user-agent"] = ("User-Agent", USER_AGENT)
    if key:
        headers["authorization"] = ("Authorization", f"Bearer {key}")
    if organization:
        headers["openai-organization"] = ("OpenAI-Organization", organization)
    if project:
        headers["openai-project"] = ("OpenAI-Project", project)
    return headers
