"""``client.responses.connect()``: the Responses API over a persistent WebSocket.

The official SDK runs it on its Realtime machinery with another path, and so does this
module: the socket, the handshake, reconnection, the send queue and event handlers are
those of :mod:`backends._realtime` (``path="/responses"``); what is the Responses API's
own is the server event union (``ResponsesServerEvent``, generated from the spec) and the
``connection.response`` helpers (``response.create``, ``response.steer``).

The URL is ``websocket_base_url``, or else ``base_url`` with scheme ``ws`` for ``http``
and ``wss`` otherwise, with ``/responses`` appended to its path; the query is the client's
``default_query``, the base URL's own query, then ``extra_query``. The handshake carries
``Authorization``, ``User-Agent``, ``OpenAI-Organization`` / ``OpenAI-Project`` when set,
the client's ``default_headers`` and the call's ``extra_headers`` — no ``OpenAI-Beta``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

from openai_proto._reconnect import DEFAULT_MAX_QUEUE_SIZE
from openai_proto._types import Omit, Query

from ._realtime import (
    AsyncRealtimeConnectionManager,
    OnReconnecting,
    _HandlingConnection,
    _Part,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from openai_proto.realtime import RealtimeEvent
    from openai_proto.types.responses import ResponsesServerEvent

    from ._client import AsyncOpenAI
    from .resources._params import ResponseCreateEventParams

__all__ = [
    "AsyncResponsesConnection",
    "AsyncResponsesConnectionManager",
    "AsyncResponsesResponseResource",
]

#: The endpoint below the base URL (the SDK's ``_prepare_url`` of ``responses.connect``).
_RESPONSES_PATH = "/responses"


class AsyncResponsesResponseResource(_Part):
    """``connection.response``: one method per client event of the Responses WebSocket."""

    async def create(self, **params: Unpack[ResponseCreateEventParams]) -> None:
        """``response.create``: start a response. The keyword arguments are the fields of
        ``POST /responses`` (``model``, ``input``, ``instructions``, ``tools``,
        ``previous_response_id`` ...) plus the WebSocket-only ``stream_id`` (the lane:
        requests with the same one are processed in order); ``omit`` values are left out.
        ``stream`` is implied and ``background`` is not supported over the WebSocket."""
        await self._send("response.create", params)

    async def steer(self, *, input: object, previous_response_id: str) -> None:
        """``response.steer``: queue user input (text, images, files) for the response
        ``previous_response_id``; the server answers ``response.steer.accepted``,
        ``.pending`` or ``.failed``."""
        await self._send(
            "response.steer", {"input": input, "previous_response_id": previous_response_id}
        )


if TYPE_CHECKING:
    _Base = _HandlingConnection[Union[ResponsesServerEvent, RealtimeEvent]]
else:
    _Base = _HandlingConnection


class AsyncResponsesConnection(_Base):
    """A live Responses WebSocket: ``send`` / ``send_raw`` / ``recv`` / ``recv_bytes`` /
    ``parse_event`` / ``async for`` / ``close``, the ``response.create`` and
    ``response.steer`` helpers, and event handlers (``on`` / ``off`` / ``once`` with
    ``dispatch_events()``). ``recv()`` gives a typed ``ResponsesServerEvent``, or a
    generic :class:`~openai_proto.realtime.RealtimeEvent` for a type the spec lacks."""

    def _attach(self) -> None:
        super()._attach()
        self.response = AsyncResponsesResponseResource(self)

    def _union(self) -> Any:
        from openai_proto.types.responses import ResponsesServerEvent

        return ResponsesServerEvent


class AsyncResponsesConnectionManager(AsyncRealtimeConnectionManager[AsyncResponsesConnection]):
    """``async with client.responses.connect() as connection:``; or
    ``connection = await client.responses.connect().enter()`` and close it yourself.
    Before entering, ``send`` queues client events and ``on`` / ``off`` / ``once``
    register handlers, as on the Realtime manager."""

    def __init__(
        self,
        *,
        client: AsyncOpenAI,
        extra_query: Optional[Query] = None,
        extra_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        websocket_connection_options: Optional[Mapping[str, Any]] = None,
        on_reconnecting: Optional[OnReconnecting] = None,
        max_retries: int = 5,
        initial_delay: float = 0.5,
        max_delay: float = 8.0,
        max_queue_size: int = DEFAULT_MAX_QUEUE_SIZE,
    ) -> None:
        super().__init__(
            client=client,
            connection_class=AsyncResponsesConnection,
            beta=False,
            model=None,
            call_id=None,
            extra_query=extra_query,
            extra_headers=extra_headers,
            websocket_connection_options=websocket_connection_options,
            on_reconnecting=on_reconnecting,
            max_retries=max_retries,
            initial_delay=initial_delay,
            max_delay=max_delay,
            max_queue_size=max_queue_size,
            path=_RESPONSES_PATH,
        )
