"""Base class of every typed API object (generated from the OpenAPI spec).

msgspec Structs: attribute access like the official SDK's pydantic models, plus
``to_dict()``, ``to_json()`` and ``model_dump()``. ``dict=True`` lets the facade attach
``_request_id`` (the ``x-request-id`` header of the response) as the official SDK does.
"""

from __future__ import annotations

from typing import Any, Optional

import msgspec

__all__ = ["BaseModel"]


class BaseModel(msgspec.Struct, kw_only=True, omit_defaults=True, dict=True):
    """A decoded API object; unset optional fields are ``msgspec.UNSET`` and left out of dumps."""

    @property
    def _request_id(self) -> Optional[str]:
        """The ``x-request-id`` of the response this object came from (``None`` when it did
        not come from one), as on the official SDK's models. Not a field."""
        value: Optional[str] = self.__dict__.get("_request_id")
        return value

    @_request_id.setter
    def _request_id(self, value: Optional[str]) -> None:
        self.__dict__["_request_id"] = value

    def to_dict(self) -> dict[str, Any]:
        """The object as plain JSON-compatible Python data."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """Alias of :meth:`to_dict`, for code written against pydantic models."""
        return self.to_dict()

    def to_json(self, *, indent: int = 2) -> str:
        """The object as a JSON string."""
        raw = msgspec.json.encode(self)
        return msgspec.json.format(raw, indent=indent).decode() if indent else raw.decode()

    def model_dump_json(self, *, indent: int | None = None, **_: Any) -> str:
        """Alias of :meth:`to_json`, for code written against pydantic models."""
        return self.to_json(indent=indent or 0)
