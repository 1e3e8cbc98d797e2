"""Base of the generated resource classes (``client.chat.completions`` ...)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._client import AsyncOpenAI

__all__ = ["AsyncAPIResource"]


class AsyncAPIResource:
    """Holds the client; generated methods call ``self._client._request`` / ``_paginate``."""

    _client: AsyncOpenAI

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client

    @cached_property
    def with_raw_response(self) -> Any:
        """The same methods, returning the raw response (``headers``, ``status_code``,
        ``parse()`` ...) with its body read; see :class:`backends._response.LegacyAPIResponse`."""
        from ._response import response_view

        return response_view(self, streaming=False)

    @cached_property
    def with_streaming_response(self) -> Any:
        """The same methods, each returning an ``async with`` context manager that yields
        the response before its body is read; see :class:`backends._response.AsyncAPIResponse`."""
        from ._response import response_view

        return response_view(self, streaming=True)
