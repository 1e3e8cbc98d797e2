"""The I/O side of openai-proto: drivers, the shared async engine and the facade.

Everything that decides lives in ``openai_proto`` (pure); this package connects, reads,
writes, sleeps and closes.
"""

from __future__ import annotations

from ._client import AsyncOpenAI
from ._pagination import AsyncPage, AsyncPaginator
from ._pool import AsyncHTTPClient, HTTPResponse
from ._stream import AsyncStream

__all__ = [
    "AsyncHTTPClient",
    "AsyncOpenAI",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncStream",
    "HTTPResponse",
]
