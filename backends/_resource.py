"""Base of the generated resource classes (``client.chat.completions`` ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._client import AsyncOpenAI

__all__ = ["AsyncAPIResource"]


class AsyncAPIResource:
    """Holds the client; generated methods call ``self._client._request`` / ``_paginate``."""

    _client: AsyncOpenAI

    def __init__(self, client: AsyncOpenAI) -> None:
        self._client = client
