"""``AsyncOpenAI``: the official SDK's client surface over the engine and a chosen driver.

Same constructor, environment variables, properties and resource tree as
``openai.AsyncOpenAI``, so code ports by changing the import. Extra: ``backend=``
(``"auto"``, ``"asyncio"``, ``"trio"``) or ``http_client=AsyncHTTPClient(...)`` to choose
the driver, TLS context and pool limits.
"""

from __future__ import annotations

import importlib
import os
from functools import cached_property
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Mapping,
    Optional,
    Tuple,
    Type,
    Union,
)

from openai_proto._config import ClientConfig
from openai_proto._operation import Operation, resolve_type
from openai_proto._request import RequestOptions
from openai_proto._types import NOT_GIVEN, NotGiven, Omit, Timeout

from .resources import AsyncResources

# The engine, the pool (h11) and the response classes are imported on first use, not with
# the client: constructing a client stays cheap (the import-time goal in benchmarks/).
if TYPE_CHECKING:
    from ._base import AsyncTransport
    from ._engine import Engine
    from ._pagination import AsyncPaginator

__all__ = ["AsyncOpenAI"]

ApiKey = Union[str, Callable[[], Awaitable[str]], None]


# unasync: async-only
def _paginator() -> type[AsyncPaginator[Any]]:
    from ._pagination import AsyncPaginator

    return AsyncPaginator


class AsyncOpenAI(AsyncResources):
    """Asynchronous OpenAI client; runs on asyncio or trio (``backend="auto"``)."""

    def __init__(
        self,
        *,
        api_key: ApiKey = None,
        admin_api_key: Optional[str] = None,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        base_url: Union[str, NotGiven, None] = NOT_GIVEN,
        websocket_base_url: Optional[str] = None,
        timeout: Union[float, Timeout, NotGiven, None] = NOT_GIVEN,
        max_retries: int = 2,
        default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        default_query: Optional[Mapping[str, object]] = None,
        http_client: object = None,
        backend: str = "auto",
        _strict_response_validation: bool = False,
        _environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        if os.environ.get("OPENAI_LOG"):  # logging (and its import) only when asked for
            from ._logs import setup_logging

            setup_logging(os.environ)
        provider = api_key if callable(api_key) else None
        self._config = ClientConfig.create(
            api_key=api_key if isinstance(api_key, str) else None,
            admin_api_key=admin_api_key,
            has_key_provider=provider is not None,
            organization=organization,
            project=project,
            webhook_secret=webhook_secret,
            base_url=base_url,
            websocket_base_url=websocket_base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=default_query,
            environ=os.environ if _environ is None else _environ,
        )
        self._api_key_provider = provider
        self._backend = backend
        self._transport: Optional[AsyncTransport] = None
        if http_client is not None or backend != "auto":
            # An explicit choice is checked now, so a wrong one fails at construction; the
            # default pool is made on first use (constructing a client stays cheap).
            self._transport = self._make_transport(http_client)
        self._closed = False

    def _make_transport(self, http_client: object) -> AsyncTransport:
        from ._pool import AsyncHTTPClient

        if isinstance(http_client, AsyncHTTPClient):
            return http_client
        if http_client is None and self._backend != "httpcore":
            return AsyncHTTPClient(backend=self._backend)
        # backend="httpcore", an httpcore.AsyncConnectionPool or an httpx.AsyncClient
        # unasync: sync=from ._sockets import adapt_http_client
        from ._httpcore import adapt_http_client

        return adapt_http_client(http_client)

    @property
    def _http(self) -> AsyncTransport:
        """The HTTP transport, created on first use unless one was passed in."""
        if self._transport is None:
            self._transport = self._make_transport(None)
        return self._transport

    @cached_property
    def _engine(self) -> Engine:
        from ._engine import Engine

        return Engine(config=self._config, http=self._http, key_provider=self._api_key_provider)

    # -- configuration, as the official client exposes it -------------------------------
    @property
    def api_key(self) -> str:
        return self._config.api_key

    @property
    def organization(self) -> Optional[str]:
        return self._config.organization

    @property
    def project(self) -> Optional[str]:
        return self._config.project

    @property
    def webhook_secret(self) -> Optional[str]:
        return self._config.webhook_secret

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def websocket_base_url(self) -> Optional[str]:
        return self._config.websocket_base_url

    @property
    def timeout(self) -> Timeout:
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    @property
    def default_headers(self) -> Dict[str, Union[str, Omit]]:
        return dict(self._config.default_headers)

    @property
    def default_query(self) -> Dict[str, object]:
        return dict(self._config.default_query)

    @property
    def http_client(self) -> AsyncTransport:
        return self._http

    # -- resources ----------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Top-level resources (chat, files, beta, ...) are created on first access and
        # cached on the instance, importing only the resource module that is used.
        from .resources import TOP_LEVEL

        ref = TOP_LEVEL.get(name)
        if ref is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        module, _, cls_name = ref.partition(":")
        resource = getattr(importlib.import_module(module), cls_name)(self)
        self.__dict__[name] = resource
        return resource

    @cached_property
    def with_raw_response(self) -> Any:
        """Every resource's methods, returning raw responses (``client.with_raw_response
        .chat.completions.create(...)``); see :class:`backends._response.LegacyAPIResponse`."""
        from ._response import response_view

        return response_view(self, streaming=False)

    @cached_property
    def with_streaming_response(self) -> Any:
        """Every resource's methods as ``async with`` context managers yielding the response
        before its body is read; see :class:`backends._response.AsyncAPIResponse`."""
        from ._response import response_view

        return response_view(self, streaming=True)

    # -- what generated resources call --------------------------------------------------
    async def _request(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] = {},
        query: Optional[Mapping[str, object]] = None,
        body: Optional[Mapping[str, object]] = None,
        options: RequestOptions,
        stream: bool = False,
    ) -> Any:
        if stream:
            response = await self._engine.send(
                op,
                path_params=path_params,
                query=query,
                body=body,
                options=options,
                read_body=False,
            )
            from ._stream import AsyncStream

            item_type = resolve_type(op.stream_type) if op.stream_type else Any
            return AsyncStream(response, item_type=item_type)
        response = await self._engine.send(
            op, path_params=path_params, query=query, body=body, options=options
        )
        content = await response.aread()
        if op.binary:
            from ._response import BinaryResponseContent

            return BinaryResponseContent(response, content)
        if op.response_type is None:
            return None
        from ._engine import decode_json

        return decode_json(content, resolve_type(op.response_type), response)

    async def _prepare_websocket(
        self,
        *,
        path: str,
        beta: bool,
        model: Optional[str],
        call_id: Optional[str],
        extra_query: Optional[Mapping[str, object]],
        extra_headers: Optional[Mapping[str, Union[str, Omit]]],
    ) -> Tuple[str, Mapping[str, str], Optional[Mapping[str, Union[str, Omit]]]]:
        """The WebSocket handshake's URL, credential headers (ranked as ``Authorization``)
        and the call's headers, for ``realtime.connect``, ``beta.realtime.connect`` and
        ``responses.connect`` (each reconnection too): the official SDK's rules. The key
        provider, if any, is called for each handshake."""
        from openai_proto.realtime import build_realtime_url

        config = self._config
        provider = self._api_key_provider
        api_key = await provider() if provider is not None else config.api_key
        url = build_realtime_url(
            base_url=config.base_url,
            websocket_base_url=config.websocket_base_url,
            model=model,
            call_id=call_id,
            extra_query=extra_query,
            beta=beta,
            default_query=config.default_query,
            path=path,
        )
        return url, {"Authorization": f"Bearer {api_key}"} if api_key else {}, extra_headers

    def _paginate(
        self,
        op: Operation,
        *,
        path_params: Mapping[str, str] = {},
        query: Optional[Mapping[str, object]] = None,
        body: Optional[Mapping[str, object]] = None,
        options: RequestOptions,
    ) -> AsyncPaginator[Any]:
        # The blocking list() returns the first page itself, as the official sync client.
        # unasync: sync=from ._pagination import _ListCall
        # unasync: sync=return _ListCall(op, path_params, query, options, body).fetch(self, {})
        return _paginator()(
            self, op, path_params=path_params, query=query, options=options, body=body
        )

    # -- copies and lifetime ------------------------------------------------------------
    def copy(
        self,
        *,
        api_key: ApiKey = None,
        organization: Optional[str] = None,
        project: Optional[str] = None,
        webhook_secret: Optional[str] = None,
        base_url: Optional[str] = None,
        websocket_base_url: Optional[str] = None,
        timeout: Union[float, Timeout, NotGiven, None] = NOT_GIVEN,
        max_retries: Union[int, NotGiven] = NOT_GIVEN,
        default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        set_default_headers: Optional[Mapping[str, Union[str, Omit]]] = None,
        default_query: Optional[Mapping[str, object]] = None,
        set_default_query: Optional[Mapping[str, object]] = None,
        http_client: Optional[AsyncTransport] = None,
    ) -> AsyncOpenAI:
        """A new client with some options changed, sharing the connection pool.

        ``default_headers`` / ``default_query`` merge over the current ones;
        ``set_default_headers`` / ``set_default_query`` replace them (not both at once).
        """
        cfg = self._config
        key: ApiKey = api_key if api_key is not None else (self._api_key_provider or cfg.api_key)
        return type(self)(
            api_key=key,
            base_url=base_url if base_url is not None else cfg.base_url,
            http_client=http_client or self._http,
            _environ={},
            **cfg.copy_arguments(
                organization=organization,
                project=project,
                webhook_secret=webhook_secret,
                websocket_base_url=websocket_base_url,
                timeout=timeout,
                max_retries=max_retries,
                default_headers=default_headers,
                set_default_headers=set_default_headers,
                default_query=default_query,
                set_default_query=set_default_query,
            ),
        )

    with_options = copy

    def is_closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Close the connection pool (shared with copies made by ``copy()``)."""
        self._closed = True
        if self._transport is not None:
            await self._transport.aclose()

    async def __aenter__(self) -> AsyncOpenAI:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncOpenAI base_url={self.base_url!r} backend={self._http!r}>"
