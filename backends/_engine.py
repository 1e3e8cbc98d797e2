"""The request loop, written once: build, send, retry, decode.

Every decision comes from the core (``build_request``, ``RetryPolicy.decide``,
``make_status_error``); this module supplies what the core may not touch — the clock,
randomness, the driver's sleep — and logs what the core decided.
"""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Any, Awaitable, Callable, Mapping, Optional, Tuple

import msgspec

from openai_proto._config import ClientConfig
from openai_proto._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    RemoteProtocolError,
    make_status_error,
)
from openai_proto._operation import Operation
from openai_proto._request import RequestOptions, build_request
from openai_proto._retry import RetryPolicy

from ._base import AsyncResponse, AsyncTransport, TimeoutException, TransportError
from ._logs import request_options
from ._pool import upload_size

__all__ = ["Engine", "decode_error_body", "decode_json"]

log = logging.getLogger("openai_proto")


def decode_json(content: bytes, tp: Any, response: AsyncResponse) -> Any:
    """Decode a 2xx body into ``tp``; a body that does not fit is an
    :class:`APIResponseValidationError` carrying the raw text."""
    from openai_proto.types import decode  # resource modules import this one: stay lazy

    try:
        obj = decode(tp, content)
    except (msgspec.DecodeError, RecursionError) as exc:
        body = content.decode("utf-8", "replace")
        raise APIResponseValidationError(
            response, body, message=f"Invalid response body: {exc}"
        ) from exc
    request_id = response.headers.get("x-request-id")
    if request_id is not None and hasattr(obj, "__dict__"):
        obj._request_id = request_id
    return obj


def decode_error_body(content: bytes) -> object:
    """The official SDK's rule: the ``"error"`` member if any, else the JSON, else the text."""
    if not content:
        return None
    try:
        data = msgspec.json.decode(content)
    except (msgspec.DecodeError, RecursionError):
        return content.decode("utf-8", "replace")
    if isinstance(data, dict) and "error" in data:
        return data["error"]
    return data


KeyProvider = Callable[[], Awaitable[str]]
#: Per-attempt hook of clients that route or authenticate otherwise (Azure): given the
#: operation and the call's body, the configuration and operation to build with and headers
#: ranked above ``default_headers``, below the call's ``extra_headers``.
Prepare = Callable[
    [Operation, Optional[Mapping[str, object]]],
    Awaitable[Tuple[ClientConfig, Operation, Mapping[str, str]]],
]


class Engine:
    """Sends operations for one client: configuration + HTTP pool + optional key provider."""

    def __init__(
        self,
        *,
        config: ClientConfig,
        http: AsyncTransport,
        key_provider: Optional[KeyProvider] = None,
        prepare: Optional[Prepare] = None,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.http = http
        self.key_provider = key_provider
        self.prepare = prepare
        self._clock = clock
        self._rng = rng
        self._policy = RetryPolicy(max_retries=config.max_retries)

    async def send(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] = {},
        query: Optional[Mapping[str, object]] = None,
        body: Optional[Mapping[str, object]] = None,
        options: Optional[RequestOptions] = None,
        read_body: bool = True,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> AsyncResponse:
        """Send with retries; return a 2xx response (body read unless ``read_body=False``).

        Retries cover everything up to the end of a non-streamed body, and up to the
        response head of a stream (as the official SDK). Errors: ``APIStatusError``
        subclasses for 4xx/5xx, ``APITimeoutError`` / ``APIConnectionError`` for transport
        failures once retries are spent.
        """
        policy = self._policy
        retries_taken = 0
        while True:
            api_key = await self.key_provider() if self.key_provider is not None else None
            config, built_op, headers = self.config, op, extra_headers
            if self.prepare is not None:
                config, built_op, added = await self.prepare(op, body)
                headers = {**added, **(extra_headers or {})}
            request = build_request(
                config,
                built_op,
                api_key=api_key,
                path_params=path_params,
                query=query,
                body=body,
                options=options,
                extra_headers=headers,
                token_bytes=os.urandom,
                file_size=upload_size,
            )
            # An upload read from a stream that cannot be rewound is sent only once.
            replayable = request.upload is None or request.upload.replayable
            if log.isEnabledFor(logging.DEBUG):  # headers redacted by SensitiveHeadersFilter
                log.debug("Request options: %s", request_options(request, retries_taken))
            try:
                response = await self.http.send(request)
                if log.isEnabledFor(logging.INFO):  # request.url is built only for the log
                    log.info(
                        'HTTP Request: %s %s "%d"',
                        request.method,
                        request.url,
                        response.status_code,
                    )
                if response.status_code < 400:
                    if read_body:
                        await response.aread()
                    return response
                content = await response.aread()
            except (TransportError, RemoteProtocolError) as exc:
                timeout = isinstance(exc, TimeoutException)
                decision = policy.decide(
                    retries_taken,
                    error="timeout" if timeout else "connection error",
                    now=self._clock(),
                    random=self._rng(),
                )
                if not decision.retry or not replayable:
                    log.info("%s %s failed: %s", request.method, request.url, exc)
                    raise (
                        APITimeoutError(request) if timeout else APIConnectionError(request=request)
                    ) from exc
                log.info(
                    "%s %s: %s; retrying in %.3f s (%s)",
                    request.method,
                    request.url,
                    exc,
                    decision.delay,
                    decision.reason,
                )
            else:
                decision = policy.decide(
                    retries_taken,
                    status_code=response.status_code,
                    headers=response.headers,
                    now=self._clock(),
                    random=self._rng(),
                )
                if not decision.retry or not replayable:
                    raise make_status_error(response, decode_error_body(content))
                log.info("retrying in %.3f s (%s)", decision.delay, decision.reason)
            await self.http.backend.sleep(decision.delay)
            retries_taken += 1
