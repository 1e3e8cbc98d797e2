"""Pages and auto-pagination for ``list`` methods, as the official SDK's ``AsyncPaginator``.

``await client.models.list()`` gives the first page; ``async for item in
client.files.list()`` walks every item across pages. The next-page rule is the core's.
"""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Dict,
    Generator,
    Generic,
    List,
    Mapping,
    Optional,
    TypeVar,
)

import msgspec

from openai_proto._operation import Operation, resolve_type
from openai_proto._pagination import next_page_query
from openai_proto._request import RequestOptions

from ._engine import decode_json

if TYPE_CHECKING:
    from ._client import AsyncOpenAI

__all__ = ["AsyncPage", "AsyncPaginator"]

T = TypeVar("T")

_PAGE_BODIES: Dict[Any, Any] = {}


def _page_body(item_type: Any) -> Any:
    body = _PAGE_BODIES.get(item_type)
    if body is None:
        body = _PAGE_BODIES[item_type] = msgspec.defstruct(
            "PageBody",
            [
                ("data", List[item_type], []),
                ("object", Optional[str], None),
                ("has_more", Optional[bool], None),
                ("first_id", Optional[str], None),
                ("last_id", Optional[str], None),
                ("next", Optional[str], None),
            ],
            kw_only=True,
        )
    return body


class AsyncPage(Generic[T]):
    """One page of a list: ``data``, ``has_more`` and the way to the next page."""

    def __init__(
        self, client: AsyncOpenAI, call: _ListCall, body: Any, request_id: Optional[str]
    ) -> None:
        self._client = client
        self._call = call
        self.data: List[T] = body.data
        self.object: Optional[str] = body.object
        self.has_more: Optional[bool] = body.has_more
        self.first_id: Optional[str] = body.first_id
        self.last_id: Optional[str] = body.last_id
        self.next: Optional[str] = body.next
        self._request_id = request_id
        self._next_query = next_page_query(
            call.op.page or "page",
            data=self.data,
            has_more=self.has_more,
            last_id=self.last_id,
            next_cursor=self.next,
        )

    def has_next_page(self) -> bool:
        return self._next_query is not None

    async def get_next_page(self) -> AsyncPage[T]:
        if self._next_query is None:
            raise RuntimeError("No next page expected; check `.has_next_page()` first.")
        return await self._call.fetch(self._client, self._next_query)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item

    def __repr__(self) -> str:
        return f"AsyncPage(data=<{len(self.data)} items>, has_more={self.has_more!r})"


class _ListCall:
    """One list call's arguments; each page repeats them with the next-page query."""

    __slots__ = ("body", "op", "options", "path_params", "query")

    def __init__(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        query: Optional[Mapping[str, object]],
        options: RequestOptions,
        body: Optional[Mapping[str, object]] = None,
    ) -> None:
        self.op = op
        self.path_params = path_params
        self.query = query
        self.options = options
        self.body = body  # a few list endpoints are POSTs (vector_stores.search)

    async def fetch(self, client: AsyncOpenAI, extra: Mapping[str, object]) -> AsyncPage[Any]:
        query = {**(self.query or {}), **extra}
        response = await client._engine.send(
            self.op,
            path_params=self.path_params,
            query=query,
            body=self.body,
            options=self.options,
        )
        item = resolve_type(self.op.response_type) if self.op.response_type else Any
        body = decode_json(await response.aread(), _page_body(item), response)
        return AsyncPage(client, self, body, response.headers.get("x-request-id"))


# unasync: async-only
class AsyncPaginator(Generic[T]):
    """What ``list()`` returns: awaitable (first page) and async-iterable (every item)."""

    def __init__(
        self,
        client: AsyncOpenAI,
        op: Operation,
        *,
        path_params: Mapping[str, str],
        query: Optional[Mapping[str, object]],
        options: RequestOptions,
        body: Optional[Mapping[str, object]] = None,
    ) -> None:
        self._client = client
        self._call = _ListCall(op, path_params, query, options, body)

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._call.fetch(self._client, {}).__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page: AsyncPage[T] = await self
        async for item in page:
            yield item
