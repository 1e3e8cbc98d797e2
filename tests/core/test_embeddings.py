"""Base64 embedding vectors decode to the same floats the JSON form carries."""

from __future__ import annotations

import base64
import struct

import pytest

from openai_proto._embeddings import decode_vector, decode_vectors
from openai_proto.types import CreateEmbeddingResponse, decode


def test_decode_vector_little_endian_float32() -> None:
    values = [0.0, 1.5, -2.25, 3.0e-8]
    encoded = base64.b64encode(struct.pack("<4f", *values)).decode()
    assert decode_vector(encoded) == pytest.approx(values)


def test_response_with_base64_vectors() -> None:
    encoded = base64.b64encode(struct.pack("<2f", 0.5, -1.0)).decode()
    body = (
        '{"object":"list","model":"m","usage":{"prompt_tokens":1,"total_tokens":1},'
        '"data":[{"object":"embedding","index":0,"embedding":"' + encoded + '"},'
        '{"object":"embedding","index":1,"embedding":[0.25]}]}'
    )
    response = decode_vectors(decode(CreateEmbeddingResponse, body))
    assert [e.embedding for e in response.data] == [[0.5, -1.0], [0.25]]


def test_invalid_base64_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        decode_vector("not base64!")
