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
    "omit",
]


class NotGiven:
    """The type of :data:`NOT_GIVEN`: an argument left at its default. Falsy, identity-compared."""

    _instance: Optional[NotGiven] = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()
not_given = NOT_GIVEN


class Omit:
    """The type of :data:`omit`: drop this key (a default header, a body field) from the request."""

    _instance: Optional[Omit] = None

    def __new__(cls) -> Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "omit"

    def __reduce__(self) -> str:
        return "omit"


omit = Omit()


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
