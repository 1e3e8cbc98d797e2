"""The exception tree matches the official SDK's names, bases and status mapping."""

from __future__ import annotations

from typing import Any

import openai
import pytest

import openai_proto
from openai_proto import _exceptions as ours
from openai_proto._headers import Headers

OFFICIAL_NAMES = [
    "OpenAIError", "APIError", "APIStatusError", "APIConnectionError", "APITimeoutError",
    "APIResponseValidationError", "BadRequestError", "AuthenticationError",
    "PermissionDeniedError", "NotFoundError", "ConflictError", "UnprocessableEntityError",
    "RateLimitError", "InternalServerError", "LengthFinishReasonError",
    "ContentFilterFinishReasonError", "InvalidWebhookSignatureError",
]  # fmt: skip


@pytest.mark.parametrize("name", OFFICIAL_NAMES)
def test_exported_from_the_package_like_the_official_sdk(name: str) -> None:
    cls = getattr(openai_proto, name)
    theirs = getattr(openai, name)
    # Same position in the tree: every official base (by name) is one of ours too.
    their_bases = {b.__name__ for b in theirs.__mro__ if b.__module__.startswith("openai")}
    our_bases = {b.__name__ for b in cls.__mro__}
    assert their_bases <= our_bases, (name, their_bases - our_bases)
    assert issubclass(cls, ValueError) == issubclass(theirs, ValueError)


class FakeResponse:
    def __init__(self, status: int, headers: Any = ()) -> None:
        self.status_code = status
        self.headers = Headers(headers)
        self.request = "REQ"


@pytest.mark.parametrize(
    "status, name",
    [
        (400, "BadRequestError"), (401, "AuthenticationError"), (403, "PermissionDeniedError"),
        (404, "NotFoundError"), (409, "ConflictError"), (422, "UnprocessableEntityError"),
        (429, "RateLimitError"), (500, "InternalServerError"), (502, "InternalServerError"),
        (599, "InternalServerError"), (418, "APIStatusError"), (402, "APIStatusError"),
    ],
)  # fmt: skip
def test_status_mapping(status: int, name: str) -> None:
    body = {"message": "nope", "type": "invalid_request_error", "param": "model", "code": "x1"}
    err = ours.make_status_error(FakeResponse(status, [("X-Request-ID", "req_9")]), body)
    assert type(err).__name__ == name
    assert err.status_code == status and err.request_id == "req_9"
    assert (err.code, err.param, err.type) == ("x1", "model", "invalid_request_error")
    assert err.message == f"Error code: {status} - {body}"
    assert err.request == "REQ" and err.body is body


def test_text_body_and_no_body() -> None:
    err = ours.make_status_error(FakeResponse(502), "<html>Bad Gateway</html>")
    assert isinstance(err, ours.InternalServerError)
    assert err.body == "<html>Bad Gateway</html>" and err.code is None and err.request_id is None
    assert ours.make_status_error(FakeResponse(500), None).message == "Error code: 500"


def test_connection_and_timeout_messages_match_official() -> None:
    assert str(ours.APIConnectionError()) == "Connection error."
    assert str(ours.APITimeoutError()) == "Request timed out."
    assert isinstance(ours.APITimeoutError(), ours.APIConnectionError)


def test_protocol_errors_are_openai_errors() -> None:
    assert issubclass(ours.RemoteProtocolError, ours.OpenAIError)
    assert issubclass(ours.LocalProtocolError, ours.ProtocolError)
