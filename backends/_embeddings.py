"""``client.embeddings`` with the official SDK's default: base64 on the wire, floats to you."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional, Sequence, Union

from openai_proto._embeddings import decode_vectors
from openai_proto._types import Body, Headers, NotGiven, Omit, Query, Timeout, not_given, omit

from .resources.embeddings import AsyncEmbeddings as _GeneratedEmbeddings

if TYPE_CHECKING:
    from openai_proto.types.embeddings import CreateEmbeddingResponse

__all__ = ["AsyncEmbeddings"]


class AsyncEmbeddings(_GeneratedEmbeddings):
    """Operations of ``client.embeddings``."""

    async def create(
        self,
        *,
        input: Union[str, Sequence[str], Iterable[int], Iterable[Iterable[int]]],
        model: str,
        encoding_format: Union[str, Omit] = omit,
        dimensions: Union[int, Omit] = omit,
        user: Union[str, Omit] = omit,
        extra_headers: Optional[Headers] = None,
        extra_query: Optional[Query] = None,
        extra_body: Optional[Body] = None,
        timeout: Union[float, Timeout, NotGiven, None] = not_given,
    ) -> CreateEmbeddingResponse:
        """Creates an embedding vector representing the input text.

        Without ``encoding_format`` the vectors travel as base64 and come back as lists of
        floats, as with the official SDK; with ``encoding_format="base64"`` they stay strings.
        """
        chosen = not isinstance(encoding_format, Omit)
        result = await super().create(
            input=input,
            model=model,
            encoding_format=encoding_format if chosen else "base64",
            dimensions=dimensions,
            user=user,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        return result if chosen else decode_vectors(result)
