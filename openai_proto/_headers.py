"""Immutable, case-insensitive HTTP header collections.

Field names are case-insensitive (RFC 9110 §5.1); a recipient may combine repeated fields
into one value joined by ``", "`` (RFC 9110 §5.3), which is what :meth:`Headers.get` and
``headers[name]`` return; :meth:`Headers.get_list` keeps the values apart (use it for
``Set-Cookie``, which must not be joined). Bytes are decoded as latin-1, so every byte a
peer can send maps to one character and nothing is lost.
"""

from __future__ import annotations

from typing import (
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
    Union,
    overload,
)

__all__ = ["SENSITIVE_HEADERS", "Headers", "redact"]

_T = TypeVar("_T")

#: Header names (lower case) whose values are credentials: hidden by every ``repr`` and
#: log record, so keys do not end up in logs or tracebacks. ``x-amz-security-token`` is in
#: the official SDK's list too (its Bedrock provider sends it).
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "openai-api-key", "x-amz-security-token"}
)
_SECRET_NAMES = SENSITIVE_HEADERS
REDACTED = "<redacted>"


def redact(headers: Iterable[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """``headers`` with the values of :data:`SENSITIVE_HEADERS` replaced."""
    return [(n, REDACTED if n.lower() in SENSITIVE_HEADERS else v) for n, v in headers]


def _to_bytes(text: Union[str, bytes, bytearray, memoryview]) -> bytes:
    if isinstance(text, str):
        return text.encode("latin-1")
    return bytes(text)


class Headers(Mapping[str, str]):
    """Header fields of one message, in the order received, looked up case-insensitively.

    Built from ``(name, value)`` pairs of bytes (or str, encoded as latin-1). Iteration
    yields each distinct name once, lowercased, in order of first appearance. The lookup
    table is built on first use, so constructing a ``Headers`` costs one list copy.
    """

    __slots__ = ("_index", "_raw")

    _raw: List[Tuple[bytes, bytes]]
    _index: Optional[Dict[str, str]]

    def __init__(
        self,
        raw: Iterable[
            Tuple[
                Union[str, bytes, bytearray, memoryview], Union[str, bytes, bytearray, memoryview]
            ]
        ] = (),
    ) -> None:
        self._raw = [(_to_bytes(name), _to_bytes(value)) for name, value in raw]
        self._index = None

    @classmethod
    def _from_raw(cls, raw: List[Tuple[bytes, bytes]]) -> Headers:
        """Wrap a list of bytes pairs that nobody else holds (no copy, no checks)."""
        self = cls.__new__(cls)
        self._raw = raw
        self._index = None
        return self

    def _table(self) -> Dict[str, str]:
        table = self._index
        if table is None:
            table = {}
            for name, value in self._raw:
                key = name.decode("latin-1").lower()
                text = value.decode("latin-1")
                previous = table.get(key)
                table[key] = text if previous is None else previous + ", " + text
            self._index = table
        return table

    # Mapping interface -------------------------------------------------------------------

    def __getitem__(self, key: str) -> str:
        if isinstance(key, str):
            value = self._table().get(key.lower())
            if value is not None:
                return value
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._table()

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    @overload
    def get(self, key: str) -> Optional[str]: ...

    @overload
    def get(self, key: str, default: Union[str, _T]) -> Union[str, _T]: ...

    def get(self, key: str, default: object = None) -> object:
        """The value of ``key`` (repeated fields joined with ``", "``), else ``default``."""
        if not isinstance(key, str):
            return default
        return self._table().get(key.lower(), default)

    # Beyond Mapping ----------------------------------------------------------------------

    def get_list(self, key: str) -> List[str]:
        """Every value of ``key`` in order, unjoined (empty list when absent)."""
        target = key.lower()
        return [
            value.decode("latin-1")
            for name, value in self._raw
            if name.decode("latin-1").lower() == target
        ]

    def multi_items(self) -> List[Tuple[str, str]]:
        """Every field as ``(lowercased name, value)``, repeats kept, in received order."""
        return [
            (name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in self._raw
        ]

    @property
    def raw(self) -> List[Tuple[bytes, bytes]]:
        """The fields as received: original name case, undecoded values (a fresh list)."""
        return list(self._raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self.multi_items() == other.multi_items()
        if isinstance(other, Mapping):
            lowered = {str(key).lower(): value for key, value in other.items()}
            return self._table() == lowered
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.multi_items()))

    def __repr__(self) -> str:
        shown = [
            (name, b"[redacted]" if name.decode("latin-1").lower() in _SECRET_NAMES else value)
            for name, value in self._raw
        ]
        return f"Headers({shown!r})"
