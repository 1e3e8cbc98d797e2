"""``AsyncStream``: the official SDK's streaming object over the core's SSE machines."""

from __future__ import annotations

from types import TracebackType
from typing import Any, AsyncIterator, Generic, Optional, Type, TypeVar

import msgspec

from openai_proto._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    RemoteProtocolError,
)
from openai_proto._streaming import StreamItem, StreamParser, event_envelope

from ._base import AsyncResponse, TimeoutException, TransportError

__all__ = ["AsyncStream"]

T = TypeVar("T")

_DRAIN_LIMIT = 64 * 1024  # bytes read after [DONE] to keep the connection reusable


class AsyncStream(Generic[T]):
    """Typed events of a ``stream=True`` call: ``async for chunk in stream``.

    Ends at ``data: [DONE]`` or at the end of the body. An error payload inside the stream
    raises ``APIError``; a transport failure raises ``APIConnectionError`` (or
    ``APITimeoutError``) from the iterator, after every complete event already received
    was delivered. ``close()`` (or leaving ``async with``) releases the connection.
    """

    response: AsyncResponse

    def __init__(self, response: AsyncResponse, *, item_type: Any) -> None:
        self.response = response
        self._item_type = item_type
        self._iterator = self._events()

    async def _events(self) -> AsyncIterator[T]:
        response = self.response
        parser = StreamParser(request=response.request)
        from openai_proto.types import decoder_for  # the types package loads on first use

        decode = decoder_for(self._item_type).decode
        chunks = response.aiter_bytes()
        drained = 0
        try:
            while True:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutException as exc:
                    raise APITimeoutError(response.request) from exc
                except (TransportError, RemoteProtocolError) as exc:
                    raise APIConnectionError(request=response.request) from exc
                if parser.done:
                    drained += len(chunk)
                    if drained > _DRAIN_LIMIT:
                        break
                    continue
                for item in parser.feed(chunk):
                    yield _decode_item(decode, item, response)
            for item in parser.end():
                yield _decode_item(decode, item, response)
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
            await response.aclose()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterator

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def close(self) -> None:
        """Stop reading and release the connection (aborted if the body was not finished)."""
        await self._iterator.aclose()  # type: ignore[attr-defined]
        await self.response.aclose()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()


def _decode_item(decode: Any, item: StreamItem, response: AsyncResponse) -> Any:
    data = event_envelope(item) if item.event.startswith("thread.") else item.data
    try:
        return decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise APIResponseValidationError(
            response, data.decode("utf-8", "replace"), message=f"Invalid stream event: {exc}"
        ) from exc
