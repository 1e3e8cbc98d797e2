"""What the core knows about one API operation (one row of the generated catalogue).

The generator (``scripts/generate.py``) writes one :class:`Operation` per endpoint of the
OpenAPI spec into ``openai_proto/_catalogue.py``; the facade's generated resource methods
pass it to the engine together with the call's arguments. Types are referred to by
``"module:Name"`` strings and imported on first use, so importing the catalogue stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, Optional, Tuple

import msgspec

__all__ = ["Operation", "resolve_type"]

# Page kinds (official SDK names): "page" (data, never a next page), "cursor" (after=data[-1].id
# while has_more), "conversation_cursor" (after=last_id), "next_cursor" (after=next).
PAGE_KINDS = ("page", "cursor", "conversation_cursor", "next_cursor")


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    """One endpoint: HTTP method, path template, parameter placement and response shape."""

    name: str
    """Dotted name on the client, e.g. ``"chat.completions.create"``."""
    method: str
    """HTTP method in upper case."""
    path: str
    """Path template relative to the base URL, e.g. ``"/files/{file_id}/content"``."""
    path_params: Tuple[str, ...] = ()
    query_params: Tuple[str, ...] = ()
    body_params: Tuple[str, ...] = ()
    content_type: str = "application/json"
    """Request body encoding: ``application/json``, ``multipart/form-data``, or ``""`` (none)."""
    file_fields: Tuple[str, ...] = ()
    """Multipart fields that carry file contents."""
    response_type: Optional[str] = None
    """``"module:Name"`` of the decoded response (the page item type for paginated lists)."""
    stream_type: Optional[str] = None
    """``"module:Name"`` of each streamed event when called with ``stream=True``."""
    page: Optional[str] = None
    """Pagination kind (one of ``PAGE_KINDS``) for list operations."""
    binary: bool = False
    """The response body is raw bytes (file content, audio), not JSON."""
    headers: Tuple[Tuple[str, str], ...] = ()
    """Fixed headers this operation always sends, e.g. ``("OpenAI-Beta", "assistants=v2")``."""


_TYPE_CACHE: Dict[str, Any] = {}


def resolve_type(ref: str) -> Any:
    """Import ``"package.module:Name"`` on first use and cache it (keeps startup cheap)."""
    try:
        return _TYPE_CACHE[ref]
    except KeyError:
        module, _, name = ref.partition(":")
        obj = getattr(importlib.import_module(module), name)
        _TYPE_CACHE[ref] = obj
        return obj
