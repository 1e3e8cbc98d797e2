"""The exception tree: the official SDK's names and status mapping, plus protocol errors.

Users catch the same classes they catch with the official ``openai`` package
(``openai_proto.RateLimitError`` ...). Protocol-level errors are split by blame, as in h11:
:class:`LocalProtocolError` (the caller misused a machine) and :class:`RemoteProtocolError`
(the peer sent bytes that break a rule or a limit). Drivers and the engine translate every
other failure into :class:`APIConnectionError` / :class:`APITimeoutError`, so no raw h11,
wsproto or socket exception reaches the user.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence, Union

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentFilterFinishReasonError",
    "InternalServerError",
    "InvalidWebhookSignatureError",
    "LengthFinishReasonError",
    "LocalProtocolError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "RemoteProtocolError",
    "UnprocessableEntityError",
    "WebSocketConnectionClosedError",
    "WebSocketQueueFullError",
    "make_status_error",
]


class OpenAIError(Exception):
    """Base of every exception this library raises on purpose."""


class ProtocolError(OpenAIError):
    """A protocol rule or limit was broken; the machine that raised it is now unusable."""


class LocalProtocolError(ProtocolError):
    """The caller used a state machine out of order (a bug in the calling code)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that violate the protocol or exceed a configured limit."""


class APIError(OpenAIError):
    """An error tied to one API request.

    ``body`` is the ``"error"`` object of the JSON body when there is one, else the whole
    decoded body, else its text (or ``None``); ``code``, ``param`` and ``type`` are read
    from it when it is a mapping, as the official SDK does.
    """

    message: str
    request: Any
    body: object | None
    code: Optional[str]
    param: Optional[str]
    type: Optional[str]

    def __init__(self, message: str, request: Any, *, body: object | None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        if isinstance(body, Mapping):
            self.code = _str_or_none(body.get("code"))
            self.param = _str_or_none(body.get("param"))
            self.type = _str_or_none(body.get("type"))
        else:
            self.code = self.param = self.type = None


def _str_or_none(value: object) -> Optional[str]:
    return value if isinstance(value, str) else (None if value is None else str(value))


class APIResponseValidationError(APIError):
    """A 2xx response whose body could not be decoded into the expected type."""

    response: Any
    status_code: int

    def __init__(
        self, response: Any, body: object | None, *, message: Optional[str] = None
    ) -> None:
        super().__init__(
            message or "Data returned by API invalid for expected schema.",
            getattr(response, "request", None),
            body=body,
        )
        self.response = response
        self.status_code = int(getattr(response, "status_code", 0))


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status."""

    response: Any
    status_code: int
    request_id: Optional[str]

    def __init__(self, message: str, *, response: Any, body: object | None) -> None:
        super().__init__(message, getattr(response, "request", None), body=body)
        self.response = response
        self.status_code = int(response.status_code)
        self.request_id = response.headers.get("x-request-id")


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429."""


class InternalServerError(APIStatusError):
    """HTTP 5xx."""


class APIConnectionError(APIError):
    """The request could not be sent or the response could not be read (transport failure)."""

    def __init__(self, *, message: str = "Connection error.", request: Any = None) -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(message="Request timed out.", request=request)


class LengthFinishReasonError(OpenAIError):
    """A structured-output completion was cut off by the token limit."""

    def __init__(self, *, completion: Any = None) -> None:
        msg = "Could not parse response content as the length limit was reached"
        if completion is not None and getattr(completion, "usage", None) is not None:
            msg += f" - {completion.usage}"
        super().__init__(msg)
        self.completion = completion


class ContentFilterFinishReasonError(OpenAIError):
    """A structured-output completion was stopped by the content filter."""

    def __init__(self) -> None:
        super().__init__(
            "Could not parse response content as the request was rejected by the content filter"
        )


class InvalidWebhookSignatureError(ValueError):
    """A webhook payload's signature or timestamp did not verify (a ``ValueError``, as upstream)."""


class WebSocketConnectionClosedError(OpenAIError):
    """The Realtime WebSocket connection is closed: raised by ``recv()`` and ``send()``
    after the end, and by ``async for`` / ``for`` when the end was not normal.

    ``code`` and ``reason`` are those of the peer's Close frame (RFC 6455 §7.1.5-6); 1006
    means the TCP connection ended (or broke) without one, 1011 that the peer stopped
    answering keepalive pings. When the session ends with messages still queued (sent
    during a reconnection that never succeeded, or before the connection opened),
    ``unsent_frames`` holds them in order, text (``str``) and binary (``bytes``) as sent,
    and ``unsent_messages`` the text ones (binary ones that are UTF-8 included as text),
    as in the official SDK; both are empty otherwise.
    """

    code: int
    reason: str
    unsent_messages: List[str]
    unsent_frames: List[Union[str, bytes]]

    def __init__(
        self,
        message: str,
        *,
        code: int,
        reason: str = "",
        unsent_messages: Sequence[Union[str, bytes]] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.unsent_frames = list(unsent_messages)
        texts: List[str] = []
        for frame in self.unsent_frames:
            if isinstance(frame, str):
                texts.append(frame)
            else:
                try:
                    texts.append(frame.decode("utf-8"))
                except UnicodeDecodeError:
                    pass  # opaque binary: only in unsent_frames
        self.unsent_messages = texts


class WebSocketQueueFullError(OpenAIError):
    """A message sent while the Realtime connection is being re-established would take the
    send queue past ``max_queue_size`` bytes; the message was not queued."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def make_status_error(response: Any, body: object | None) -> APIStatusError:
    """Pick the exception class for ``response.status_code`` and build it.

    ``body`` is the decoded error body (the caller extracts the ``"error"`` member). The
    message reads ``"Error code: 429 - {...}"`` as in the official SDK.
    """
    status = int(response.status_code)
    message = f"Error code: {status}" + (f" - {body}" if body not in (None, "") else "")
    if status >= 500:
        cls: type[APIStatusError] = InternalServerError
    else:
        cls = _STATUS_ERRORS.get(status, APIStatusError)
    return cls(message, response=response, body=body)
