"""Next-page decisions for the API's list endpoints (pure).

Four shapes, named as in the official SDK: ``page`` (one page, never a next one),
``cursor`` (``after`` = id of the last item while ``has_more``), ``conversation_cursor``
(``after`` = ``last_id`` while ``has_more``), ``next_cursor`` (``after`` = ``next`` while
it is set).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

__all__ = ["next_page_query"]


def next_page_query(
    kind: str,
    *,
    data: List[Any],
    has_more: Optional[bool],
    last_id: Optional[str] = None,
    next_cursor: Optional[str] = None,
) -> Optional[Dict[str, object]]:
    """Query parameters that fetch the page after this one, or ``None`` at the end."""
    if kind == "page":
        return None
    if kind == "cursor":
        if has_more is False or not data:
            return None
        item_id = getattr(data[-1], "id", None)
        if item_id is None and isinstance(data[-1], dict):
            item_id = data[-1].get("id")
        return {"after": item_id} if item_id else None
    if kind == "conversation_cursor":
        if not has_more or not last_id:
            return None
        return {"after": last_id}
    if kind == "next_cursor":
        return {"after": next_cursor} if next_cursor else None
    raise ValueError(f"unknown page kind {kind!r}")
