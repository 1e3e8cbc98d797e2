"""The I/O side of openai-proto: drivers, the shared async engine and the facade.

Everything that decides lives in ``openai_proto`` (pure); this package connects, reads,
writes, sleeps and closes. Names load on first access, so importing one submodule (the
test server, a single driver) does not import the whole client stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._azure import AsyncAzureOpenAI
    from ._client import AsyncOpenAI
    from ._pagination import AsyncPage, AsyncPaginator
    from ._pool import AsyncHTTPClient, HTTPResponse
    from ._stream import AsyncStream
    from ._sync._azure import AzureOpenAI
    from ._sync._client import OpenAI
    from ._sync._pagination import SyncPage
    from ._sync._pool import SyncHTTPClient
    from ._sync._stream import Stream

__all__ = [
    "AsyncAzureOpenAI",
    "AsyncHTTPClient",
    "AsyncOpenAI",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncStream",
    "AzureOpenAI",
    "HTTPResponse",
    "OpenAI",
    "Stream",
    "SyncHTTPClient",
    "SyncPage",
]

_WHERE = {
    "AsyncAzureOpenAI": "._azure",
    "AsyncOpenAI": "._client",
    "AsyncPage": "._pagination",
    "AsyncPaginator": "._pagination",
    "AsyncHTTPClient": "._pool",
    "HTTPResponse": "._pool",
    "AsyncStream": "._stream",
    # the blocking facade, generated from the modules above by scripts/unasync.py
    "AzureOpenAI": "._sync._azure",
    "OpenAI": "._sync._client",
    "Stream": "._sync._stream",
    "SyncHTTPClient": "._sync._pool",
    "SyncPage": "._sync._pagination",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'backends' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
