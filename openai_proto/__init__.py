"""openai-proto: a Sans-IO OpenAI client.

``import openai_proto`` loads only the pure core (no event loop, socket or thread
modules). ``from openai_proto import AsyncOpenAI`` hands over the facade from ``backends``
on first access (PEP 562 module ``__getattr__``), so the drop-in import still works.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._reconnect import ReconnectingEvent, ReconnectingOverrides

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentFilterFinishReasonError,
    InternalServerError,
    InvalidWebhookSignatureError,
    LengthFinishReasonError,
    LocalProtocolError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    RemoteProtocolError,
    UnprocessableEntityError,
    WebSocketConnectionClosedError,
    WebSocketQueueFullError,
)
from ._types import NOT_GIVEN, NotGiven, Omit, Timeout, not_given, omit
from ._version import __version__

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAzureOpenAI",
    "AsyncHTTPClient",
    "AsyncOpenAI",
    "AsyncStream",
    "AuthenticationError",
    "AzureOpenAI",
    "BadRequestError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "InternalServerError",
    "InvalidWebhookSignatureError",
    "LengthFinishReasonError",
    "LocalProtocolError",
    "NotFoundError",
    "NotGiven",
    "Omit",
    "OpenAI",
    "OpenAIError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "ReconnectingEvent",
    "ReconnectingOverrides",
    "RemoteProtocolError",
    "Stream",
    "Timeout",
    "UnprocessableEntityError",
    "WebSocketConnectionClosedError",
    "WebSocketQueueFullError",
    "__version__",
    "not_given",
    "omit",
]

# Names served by the I/O layer, imported only when asked for.
_FROM_BACKENDS = {
    "AsyncAzureOpenAI",
    "AsyncOpenAI",
    "AsyncStream",
    "AsyncHTTPClient",
    "AzureOpenAI",
    "OpenAI",
    "Stream",
}


# Realtime session types, from a core module loaded on first use (it costs a few ms).
_FROM_RECONNECT = {"ReconnectingEvent", "ReconnectingOverrides"}


def __getattr__(name: str) -> Any:
    if name in _FROM_BACKENDS or name in _FROM_RECONNECT:
        module = "backends" if name in _FROM_BACKENDS else "openai_proto._reconnect"
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'openai_proto' has no attribute {name!r}")
