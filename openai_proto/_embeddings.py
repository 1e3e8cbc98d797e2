"""Base64 embedding vectors (pure).

The official SDK asks for ``encoding_format="base64"`` when the caller did not choose one
(a quarter of the bytes of JSON floats) and hands back lists of floats. The vector is the
little-endian float32 array encoded in base64; ``array`` turns it into floats in C, with
no per-float Python loop.
"""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any, List

__all__ = ["decode_vector", "decode_vectors"]


def decode_vector(encoded: str) -> List[float]:
    """One base64 float32 (little-endian) vector as a list of Python floats."""
    values = array("f")
    values.frombytes(base64.b64decode(encoded))
    if sys.byteorder == "big":  # pragma: no cover - no big-endian CI machine
        values.byteswap()
    return values.tolist()


def decode_vectors(response: Any) -> Any:
    """Replace every base64 ``embedding`` in a ``CreateEmbeddingResponse`` with floats."""
    for item in response.data:
        if isinstance(item.embedding, str):
            item.embedding = decode_vector(item.embedding)
    return response
