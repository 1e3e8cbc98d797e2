"""Sentinels and small value types shared by every layer.

``NOT_GIVEN`` means "the caller did not pass this argument" (so a default applies);
``omit`` means "leave this out of the request" (e.g. ``extra_headers={"User-Agent": omit}``).
Both are distinct from ``None``, which is sent as JSON ``null``.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Union

import msgspec

__all__ = [
    "NOT_GIVEN",
    "Body",
    "Headers",
    "NotGiven",
    "Omit",
    "Query",
    "Timeout",
    "not_given",
    "is_given",
    "omit",
]


class _Sentinel:
    """A falsy singleton whose repr (and pickle) is its module-level name."""

    _name = ""

    def __new__(cls) -> _Sentinel:
        instance = cls.__dict__.get("_instance")
        if instance is None:
            instance = super().__new__(cls)
            cls._instance = instance
        return instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> str:
        return self._name


class NotGiven(_Sentinel):
    """The type of :data:`NOT_GIVEN`: an argument left at its default. Falsy, identity-compared."""

    _name = "NOT_GIVEN"


NOT_GIVEN = NotGiven()
not_given = NOT_GIVEN


class Omit(_Sentinel):
    """The type of :data:`omit`: drop this key (a default header, a body field) from the request."""

    _name = "omit"


omit = Omit()


def is_given(value: object) -> bool:
    """False for :data:`NOT_GIVEN` and :data:`omit`: the argument is left out of the request."""
    return not isinstance(value, _Sentinel)


class Timeout(msgspec.Struct, frozen=True, kw_only=True):
    """Per-phase timeouts in seconds (``None`` = wait forever).

    ``connect``: TCP + TLS handshake; ``read``: each wait for response bytes (so a long
    stream may run longer in total); ``write``: each wait to send request bytes;
    ``pool``: waiting for a free connection when the pool is at its limit.
    """

    connect: Optional[float] = None
    read: Optional[float] = None
    write: Optional[float] = None
    pool: Optional[float] = None

    @classmethod
    def of(cls, value: Union[float, int, Timeout, None], *, connect: Any = NOT_GIVEN) -> Timeout:
        """Normalise a float / ``Timeout`` / ``None`` argument (as ``httpx.Timeout(x)`` does)."""
        if isinstance(value, Timeout):
            return value
        t = None if value is None else float(value)
        c = t if connect is NOT_GIVEN else connect
        return cls(connect=c, read=t, write=t, pool=t)


# 600 s for everything but a 5 s connect, as the official SDK's DEFAULT_TIMEOUT.
DEFAULT_TIMEOUT = Timeout(connect=5.0, read=600.0, write=600.0, pool=600.0)
DEFAULT_MAX_RETRIES = 2

Headers = Mapping[str, Union[str, Omit]]
Query = Mapping[str, object]
Body = object
JSONDict = Dict[str, Any]
