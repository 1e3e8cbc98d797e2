"""``chat.completions`` and ``responses`` with the structured-output helpers: ``parse()``
and ``stream()``, as the official SDK has them (notes ``official-sdk.md`` §10).

The schemas, parsing and event accumulation are the core's (``openai_proto._structured``);
this module sends the request and drives the stream through the core's machines. No vendor
helper header is sent.
"""

from __future__ import annotations

from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Generic,
    Iterable,
    Mapping,
    Optional,
    Type,
    TypeVar,
    Union,
    cast,
)

from openai_proto._exceptions import RemoteProtocolError
from openai_proto._reconnect import DEFAULT_MAX_QUEUE_SIZE
from openai_proto._types import Omit, Query, omit

from ._stream import AsyncStream
from .resources.chat.completions.completions import AsyncCompletions as _GeneratedCompletions
from .resources.responses.responses import AsyncResponses as _GeneratedResponses

if TYPE_CHECKING:  # the core helpers import the types modules: loaded on first use only
    from typing_extensions import Unpack

    from openai_proto._structured import (
        ChatCompletionStreamEvent,  # noqa: F401 (named in a base-class subscript string)
        ParsedChatCompletion,
        ParsedResponse,
    )
    from openai_proto.types.chat import ChatCompletionChunk

    from ._realtime import OnReconnecting
    from ._responses_ws import AsyncResponsesConnectionManager
    from .resources._params import CompletionParseParams, ResponseParseParams

__all__ = [
    "AsyncChatCompletionStream",
    "AsyncChatCompletionStreamManager",
    "AsyncCompletions",
    "AsyncResponseStream",
    "AsyncResponseStreamManager",
    "AsyncResponses",
]

T = TypeVar("T")
E = TypeVar("E")


def _response_format_param(response_format: Any) -> Any:
    from openai_proto._structured import is_format_type, type_to_response_format

    return (
        type_to_response_format(response_format)
        if is_format_type(response_format)
        else response_format
    )


def _check_params(params: Mapping[str, object]) -> None:
    if "stream" in params:
        raise TypeError("parse() and stream() choose `stream` themselves; do not pass it")


class AsyncCompletions(_GeneratedCompletions):
    """Operations of ``client.chat.completions``, plus ``parse`` and ``stream``."""

    async def parse(
        self,
        *,
        messages: Iterable[object],
        model: str,
        response_format: Union[Type[T], object, Omit] = omit,
        tools: Union[Iterable[object], Omit] = omit,
        **params: Unpack[CompletionParseParams],
    ) -> ParsedChatCompletion[T]:
        """``create`` with ``response_format`` given as a type (msgspec Struct, dataclass or
        pydantic model): the request carries its strict JSON schema and each
        ``choice.message.parsed`` is the decoded content; strict tools' arguments come back
        as ``parsed_arguments``. Other keyword arguments are those of ``create``.

        Raises ``LengthFinishReasonError`` / ``ContentFilterFinishReasonError``.
        """
        from openai_proto._structured import parse_chat_completion, validate_input_tools

        _check_params(params)
        input_tools = validate_input_tools(tools)
        result = await self.create(
            messages=messages,
            model=model,
            response_format=_response_format_param(response_format),
            tools=tools,
            **params,
        )
        return parse_chat_completion(
            result, response_format=response_format, input_tools=input_tools
        )

    def stream(
        self,
        *,
        messages: Iterable[object],
        model: str,
        response_format: Union[Type[T], object, Omit] = omit,
        tools: Union[Iterable[object], Omit] = omit,
        **params: Unpack[CompletionParseParams],
    ) -> AsyncChatCompletionStreamManager[T]:
        """A streamed ``create`` to use as ``async with client.chat.completions.stream(...)
        as stream``: iterate the helper events, then ``await stream.get_final_completion()``.
        The request is sent on entering the block."""
        from openai_proto._structured import validate_input_tools

        _check_params(params)
        input_tools = validate_input_tools(tools)

        async def request() -> AsyncStream[ChatCompletionChunk]:
            result = await self.create(
                messages=messages,
                model=model,
                response_format=_response_format_param(response_format),
                tools=tools,
                stream=True,
                **params,
            )
            return result

        return AsyncChatCompletionStreamManager(
            request, response_format=response_format, input_tools=input_tools
        )


class _HelperStream(Generic[E]):
    """What the two helper streams share: each raw item goes through a core state machine
    (``handle``) and the events it returns are yielded; ``until_done``, ``close`` and
    ``async with`` (which closes)."""

    def __init__(self, raw: AsyncStream[Any], handle: Callable[[Any], Iterable[E]]) -> None:
        self._raw = raw
        self._iterator = self._events(handle)

    @property
    def response(self) -> Any:
        """The HTTP response the events are read from."""
        return self._raw.response

    async def _events(self, handle: Callable[[Any], Iterable[E]]) -> AsyncIterator[E]:
        async for item in self._raw:
            for event in handle(item):
                yield event

    def __aiter__(self) -> AsyncIterator[E]:
        return self._iterator

    async def __anext__(self) -> E:
        return await self._iterator.__anext__()

    async def until_done(self: _S) -> _S:
        """Read every remaining event."""
        async for _ in self._iterator:
            pass
        return self

    async def close(self) -> None:
        """Stop reading and release the connection."""
        await self._raw.close()

    async def __aenter__(self: _S) -> _S:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()


_S = TypeVar("_S", bound=_HelperStream[Any])


class _StreamManager(Generic[_S]):
    """Sends the request on ``async with`` and closes the stream on leaving the block."""

    def __init__(
        self,
        request: Callable[[], Awaitable[AsyncStream[Any]]],
        make: Callable[[AsyncStream[Any]], _S],
    ) -> None:
        self._request = request
        self._make = make
        self._stream: Optional[_S] = None

    async def __aenter__(self) -> _S:
        self._stream = self._make(await self._request())
        return self._stream

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._stream is not None:
            await self._stream.close()


class AsyncChatCompletionStream(_HelperStream["ChatCompletionStreamEvent"], Generic[T]):
    """The helper events of a streamed chat completion (``async for event in stream``).

    ``get_final_completion()`` reads to the end and returns the parsed completion;
    ``until_done()`` reads to the end; ``current_completion_snapshot`` is the completion so
    far. ``close()`` releases the connection.
    """

    def __init__(
        self,
        raw: AsyncStream[ChatCompletionChunk],
        *,
        response_format: Any,
        input_tools: Any,
    ) -> None:
        from openai_proto._structured import ChatCompletionStreamState

        self._state = ChatCompletionStreamState(
            response_format=response_format, input_tools=input_tools
        )
        super().__init__(raw, self._state.handle_chunk)

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[T]:
        return self._state.current_completion_snapshot

    async def get_final_completion(self) -> ParsedChatCompletion[T]:
        """Read to the end; the accumulated completion, parsed (finish-reason errors raise)."""
        await self.until_done()
        return self._state.get_final_completion()


class AsyncChatCompletionStreamManager(_StreamManager[AsyncChatCompletionStream[T]]):
    """What ``chat.completions.stream()`` returns: sends the request on ``async with`` and
    closes the stream on leaving it."""

    def __init__(
        self,
        request: Callable[[], Awaitable[AsyncStream[ChatCompletionChunk]]],
        *,
        response_format: Any,
        input_tools: Any,
    ) -> None:
        def make(raw: AsyncStream[Any]) -> AsyncChatCompletionStream[T]:
            return AsyncChatCompletionStream(
                raw, response_format=response_format, input_tools=input_tools
            )

        super().__init__(request, make)


# -- responses ------------------------------------------------------------------------------


def _text_param(text: Any, text_format: Any) -> Any:
    if isinstance(text_format, Omit):
        return text
    from openai_proto._structured import type_to_text_format

    base: Dict[str, Any] = dict(text) if isinstance(text, dict) else {}
    base["format"] = type_to_text_format(text_format)
    return base


class AsyncResponses(_GeneratedResponses):
    """Operations of ``client.responses``, plus ``parse``, ``stream`` and ``connect``."""

    def connect(
        self,
        *,
        extra_query: Optional[Query] = None,
        extra_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        websocket_connection_options: Optional[Mapping[str, Any]] = None,
        on_reconnecting: Optional[OnReconnecting] = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    ) -> AsyncResponsesConnectionManager:
        """Open a persistent Responses WebSocket (``/responses`` below the base URL): send
        ``response.create`` (and ``response.steer``) events, receive the response stream
        events. Options, reconnection (``on_reconnecting`` ...) and the send queue are
        those of ``client.realtime.connect()``; see ``backends/_responses_ws.py``."""
        from ._responses_ws import AsyncResponsesConnectionManager

        return AsyncResponsesConnectionManager(
            client=self._client,
            extra_query=extra_query,
            extra_headers=extra_headers,
            websocket_connection_options=websocket_connection_options,
            on_reconnecting=on_reconnecting,
            max_retries=max_retries,
            initial_delay=initial_delay,
            max_delay=max_delay,
            max_queue_size=max_queue_size,
        )

    async def parse(
        self,
        *,
        text_format: Union[Type[T], Omit] = omit,
        text: Union[object, Omit] = omit,
        tools: Union[Iterable[object], Omit] = omit,
        **params: Unpack[ResponseParseParams],
    ) -> ParsedResponse[T]:
        """``create`` with ``text_format`` given as a type: the request's ``text.format`` is
        its strict JSON schema and ``output_parsed`` (and each ``output_text`` part's
        ``parsed``) is the decoded text. Other keyword arguments are those of ``create``."""
        from openai_proto._structured import parse_response

        _check_params(params)
        result = await self.create(text=_text_param(text, text_format), tools=tools, **params)
        return parse_response(cast(Any, result), text_format=text_format, input_tools=tools)

    def stream(
        self,
        *,
        text_format: Union[Type[T], Omit] = omit,
        text: Union[object, Omit] = omit,
        tools: Union[Iterable[object], Omit] = omit,
        **params: Unpack[ResponseParseParams],
    ) -> AsyncResponseStreamManager[T]:
        """A streamed ``create`` for ``async with client.responses.stream(...) as stream``:
        iterate the events (text deltas with ``snapshot``, ``.done`` with ``parsed``), then
        ``await stream.get_final_response()``. The request is sent on entering the block."""
        _check_params(params)

        async def request() -> AsyncStream[Any]:
            result = await self.create(
                text=_text_param(text, text_format), tools=tools, stream=True, **params
            )
            return cast("AsyncStream[Any]", result)

        return AsyncResponseStreamManager(request, text_format=text_format, input_tools=tools)


class AsyncResponseStream(_HelperStream[Any], Generic[T]):
    """The events of a streamed response, enriched by the core's ``ResponseStreamState``."""

    def __init__(self, raw: AsyncStream[Any], *, text_format: Any, input_tools: Any) -> None:
        from openai_proto._structured import ResponseStreamState

        self._state = ResponseStreamState(text_format=text_format, input_tools=input_tools)
        super().__init__(raw, self._state.handle_event)

    @property
    def current_snapshot(self) -> Any:
        """The response accumulated so far."""
        return self._state.current_snapshot

    async def get_final_response(self) -> ParsedResponse[T]:
        """Read to the end; the parsed response of ``response.completed``."""
        await self.until_done()
        final = self._state.completed_response
        if final is None:
            raise RemoteProtocolError("The stream ended without a `response.completed` event")
        return final


class AsyncResponseStreamManager(_StreamManager[AsyncResponseStream[T]]):
    """What ``responses.stream()`` returns: sends the request on ``async with``."""

    def __init__(
        self,
        request: Callable[[], Awaitable[AsyncStream[Any]]],
        *,
        text_format: Any,
        input_tools: Any,
    ) -> None:
        def make(raw: AsyncStream[Any]) -> AsyncResponseStream[T]:
            return AsyncResponseStream(raw, text_format=text_format, input_tools=input_tools)

        super().__init__(request, make)
