"""An incremental reader of partial JSON: the value of a document that is still arriving.

The structured-output stream helpers show, on every chunk, what the model's JSON holds so
far (the official SDK re-parses the whole snapshot with ``jiter.from_json(...,
partial_mode=True)`` each time, notes ``official-sdk.md`` §10). :class:`PartialJSON` reads
each character once instead: ``feed(text)`` advances a small scanner over the new text
(RFC 8259 grammar) and builds the value as it goes, so completed strings, numbers and
containers are decoded exactly once; ``value()`` only copies the containers that are
still open (the path from the root to the innermost one).

The partial value follows jiter's ``partial_mode=True``:

- a string, ``true``/``false``/``null`` or key that is not finished is left out, with its
  whole array element or object member; so is a key without its value;
- a number at the very end counts when it is already a whole number (``[1, 2`` is
  ``[1, 2]``, ``-0`` is ``0``) and is left out otherwise (``[1.``, ``[-``, ``[1e``);
- open arrays and objects count as closed (``{"a": [`` is ``{"a": []}``);
- an unfinished top-level scalar (``"ab``, ``tru``, ``1.``) and a blank text have no value:
  ``value()`` raises :class:`PartialJSONError`, as jiter does;
- more than 201 nested containers, or an integer of more digits than ``int()`` accepts,
  raise :class:`PartialJSONError`, as jiter does.

It is stricter than jiter on text that can never become JSON: jiter in partial mode
ignores anything after a whole top-level value and stops at an unexpected character where
``,`` was due (``[1 2`` reads as ``[1]``) and accepts ``NaN``/``Infinity``; this reader
raises :class:`PartialJSONError` for all of them, as soon as the offending character is
fed, like the final parse of the whole content would.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Union

from ._exceptions import RemoteProtocolError

__all__ = ["PartialJSON", "PartialJSONError", "parse_partial"]

DEFAULT_MAX_SIZE = 16 * 1024 * 1024
"""Characters one reader accepts by default: far above the longest model output."""

DEFAULT_MAX_DEPTH = 201
"""Nested arrays and objects jiter accepts (its recursion limit)."""


class PartialJSONError(ValueError):
    """The text cannot be the beginning of a JSON document, or has no value yet (a blank
    text, an unfinished top-level scalar). A ``ValueError``, as jiter's errors are."""


# What the scanner expects next (outside a string, number or literal).
_VALUE = 0  # a value, after ``:`` or ``,`` in an array, or at the top level
_VALUE_OR_CLOSE = 1  # just after ``[``
_COMMA_OR_CLOSE = 2  # after an element or a member
_KEY = 3  # after ``,`` in an object
_KEY_OR_CLOSE = 4  # just after ``{``
_COLON = 5  # after a key
_END = 6  # after the whole top-level value: only whitespace may follow

# What is being read at the end of the text so far.
_NONE = 0
_STRING = 1
_NUMBER = 2
_LITERAL = 3

_WS = re.compile(r"[ \t\n\r]*")
# Unescaped string characters: anything but the quote, the backslash, controls (RFC 8259
# §7) and lone surrogates (no UTF-8 encoding: jiter, given bytes, could never see them).
_STR_RUN = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]+')
_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_LITERALS: Dict[str, Any] = {"true": True, "false": False, "null": None}
_DIGITS = frozenset("0123456789")

# RFC 8259 §6 number grammar as a machine: state -> accepting? States: 0 start, 1 after
# "-", 2 after a leading "0", 3 integer digits, 4 after ".", 5 fraction digits, 6 after
# "e", 7 after the exponent sign, 8 exponent digits.
_NUM_ACCEPT = (False, False, True, True, False, True, False, False, True)


def _num_step(state: int, ch: str) -> int:
    """The next number state, or -1 when ``ch`` cannot continue the number."""
    digit = ch in _DIGITS
    if state in (0, 1):
        if ch == "-" and state == 0:
            return 1
        return (2 if ch == "0" else 3) if digit else -1
    if state in (2, 3):
        if digit:
            return 3 if state == 3 else -1
        if ch == ".":
            return 4
        return 6 if ch in "eE" else -1
    if state in (4, 5):
        if digit:
            return 5
        return 6 if ch in "eE" and state == 5 else -1
    if state == 6 and ch in "+-":
        return 7
    return 8 if digit else -1


_NUM_CHARS = frozenset("0123456789-+.eE")

Container = Union[List[Any], Dict[str, Any]]


class PartialJSON:
    """Read one JSON document fed in pieces; ``value()`` is what it holds so far.

    ``max_size`` caps the characters fed (exceeding it raises
    :class:`~openai_proto.RemoteProtocolError`); ``max_depth`` caps nesting (exceeding it
    raises :class:`PartialJSONError`, as jiter's recursion limit does). After an error the
    reader is spent: every later call raises the same error.

    Values returned by ``value()`` share the arrays and objects that were already closed
    with later values: treat them as read-only.
    """

    __slots__ = (
        "_error",
        "_escape",
        "_expect",
        "_keys",
        "_lit",
        "_lit_len",
        "_max_depth",
        "_max_size",
        "_mode",
        "_num_parts",
        "_num_state",
        "_root",
        "_size",
        "_stack",
        "_str_is_key",
        "_str_parts",
    )

    def __init__(
        self, *, max_size: int = DEFAULT_MAX_SIZE, max_depth: int = DEFAULT_MAX_DEPTH
    ) -> None:
        self._max_size = max_size
        self._max_depth = max_depth
        self._size = 0
        self._error: Optional[Exception] = None
        self._stack: List[Container] = []  # the open containers, outermost first
        self._keys: List[str] = []  # per open container: the key of an object's last member
        self._expect = _VALUE
        self._root: Any = None  # the top-level value once it is whole
        self._mode = _NONE
        self._str_parts: List[str] = []
        self._str_is_key = False
        self._escape = ""  # an escape sequence cut by the end of the text so far
        self._num_parts: List[str] = []
        self._num_state = 0
        self._lit = ""
        self._lit_len = 0

    @property
    def complete(self) -> bool:
        """A whole top-level value has been read (only whitespace may follow); a top-level
        number is whole once a character follows it."""
        return self._expect == _END

    def feed(self, text: str) -> None:
        """Read ``text``, the next piece of the document.

        Raises :class:`PartialJSONError` as soon as the text so far cannot begin a JSON
        document, :class:`~openai_proto.RemoteProtocolError` past ``max_size``.
        """
        if self._error is not None:
            raise self._error
        self._size += len(text)
        try:
            if self._size > self._max_size:
                raise RemoteProtocolError(
                    f"Partial JSON document exceeds max_size={self._max_size} characters"
                )
            self._scan(text)
        except (PartialJSONError, RemoteProtocolError) as exc:
            self._error = exc
            raise

    def value(self) -> Any:
        """The document so far, with jiter's ``partial_mode=True`` rules (module docs).

        Raises :class:`PartialJSONError` while there is no value yet: a blank text or an
        unfinished top-level string, literal or number.
        """
        if self._error is not None:
            raise self._error
        stack = self._stack
        pending = self._pending_number()
        if not stack:
            if self._expect == _END:
                return self._root
            if pending is not _MISSING:
                return pending
            raise PartialJSONError("EOF while parsing a value")
        top = len(stack) - 1
        child: Any = _MISSING
        for level in range(top, -1, -1):
            container = stack[level]
            if isinstance(container, list):
                copy_list = container.copy()
                if child is not _MISSING:
                    copy_list[-1] = child
                elif pending is not _MISSING:
                    copy_list.append(pending)
                child = copy_list
            else:
                copy_dict = container.copy()
                if child is not _MISSING or pending is not _MISSING:
                    copy_dict[self._keys[level]] = pending if child is _MISSING else child
                child = copy_dict
        return child

    # -- internals ----------------------------------------------------------------------

    def _pending_number(self) -> Any:
        """The number at the very end, when it is already whole; else ``_MISSING``."""
        if self._mode != _NUMBER or not _NUM_ACCEPT[self._num_state]:
            return _MISSING
        return self._number("".join(self._num_parts), self._num_state)

    @staticmethod
    def _number(text: str, state: int) -> Any:
        if state in (2, 3):
            try:
                return int(text)
            except ValueError:  # more digits than sys.get_int_max_str_digits()
                raise PartialJSONError("number out of range") from None
        return float(text)

    def _scan(self, text: str) -> None:
        if self._escape:
            text = self._escape + text
            self._escape = ""
        i = 0
        n = len(text)
        while i < n:
            mode = self._mode
            if mode == _STRING:
                i = self._scan_string(text, i)
                continue
            if mode == _NUMBER:
                i = self._scan_number(text, i)
                continue
            if mode == _LITERAL:
                i = self._scan_literal(text, i)
                continue
            ch = text[i]
            if ch in " \t\n\r":
                i = _WS.match(text, i).end()  # type: ignore[union-attr]  # always matches
                continue
            expect = self._expect
            if expect <= _VALUE_OR_CLOSE:
                if ch == '"':
                    self._mode = _STRING
                    self._str_is_key = False
                elif ch == "{":
                    self._open({}, _KEY_OR_CLOSE)
                elif ch == "[":
                    self._open([], _VALUE_OR_CLOSE)
                elif ch in _NUM_CHARS and ch not in "+.eE":
                    self._mode = _NUMBER
                    self._num_state = _num_step(0, ch)
                    self._num_parts = [ch]
                elif ch in "tfn":
                    self._mode = _LITERAL
                    self._lit = "true" if ch == "t" else "false" if ch == "f" else "null"
                    self._lit_len = 1
                elif ch == "]" and expect == _VALUE_OR_CLOSE:
                    self._close()
                else:
                    raise PartialJSONError(f"expected value at character {self._at(i, n)}")
            elif expect == _COMMA_OR_CLOSE:
                is_list = isinstance(self._stack[-1], list)
                if ch == ",":
                    self._expect = _VALUE if is_list else _KEY
                elif ch == ("]" if is_list else "}"):
                    self._close()
                else:
                    raise PartialJSONError(
                        f"expected ',' or {']' if is_list else '}'!r} at character {self._at(i, n)}"
                    )
            elif expect <= _KEY_OR_CLOSE:
                if ch == '"':
                    self._mode = _STRING
                    self._str_is_key = True
                elif ch == "}" and expect == _KEY_OR_CLOSE:
                    self._close()
                else:
                    raise PartialJSONError(f"key must be a string at character {self._at(i, n)}")
            elif expect == _COLON:
                if ch != ":":
                    raise PartialJSONError(f"expected ':' at character {self._at(i, n)}")
                self._expect = _VALUE
            else:
                raise PartialJSONError(f"trailing characters at character {self._at(i, n)}")
            i += 1

    def _at(self, i: int, n: int) -> int:
        """Offset in the whole document of index ``i`` of a piece of length ``n``."""
        return self._size - n + i

    def _put(self, value: Any) -> None:
        """A whole value was read: it becomes the root, an element or a member."""
        stack = self._stack
        if not stack:
            self._root = value
            self._expect = _END
            return
        top = stack[-1]
        if isinstance(top, list):
            top.append(value)
        else:
            top[self._keys[-1]] = value
        self._expect = _COMMA_OR_CLOSE

    def _open(self, container: Container, expect: int) -> None:
        if len(self._stack) >= self._max_depth:
            raise PartialJSONError("recursion limit exceeded")
        self._put(container)  # the parent holds it from now on, open or not
        self._stack.append(container)
        self._keys.append("")
        self._expect = expect

    def _close(self) -> None:
        self._stack.pop()
        self._keys.pop()
        self._expect = _COMMA_OR_CLOSE if self._stack else _END

    def _scan_string(self, text: str, i: int) -> int:
        n = len(text)
        parts = self._str_parts
        while i < n:
            m = _STR_RUN.match(text, i)
            if m is not None:
                parts.append(m.group())
                i = m.end()
                if i == n:
                    break
            ch = text[i]
            if ch == '"':
                value = "".join(parts)
                self._str_parts = []
                self._mode = _NONE
                if self._str_is_key:
                    self._keys[-1] = value
                    self._expect = _COLON
                else:
                    self._put(value)
                return i + 1
            if ch != "\\":
                raise PartialJSONError(
                    f"invalid character {ch!r} in a string at character {self._at(i, n)}"
                )
            end = self._escape_end(text, i)
            if end < 0:  # cut by the end of the text so far: finish it on the next feed
                self._escape = text[i:]
                return n
            parts.append(_decode_escape(text[i:end]))
            i = end
        return n

    def _escape_end(self, text: str, i: int) -> int:
        """End of the escape sequence at ``text[i]`` (a backslash), or -1 when the text
        stops inside it; raises when it cannot be a valid escape (RFC 8259 §7)."""
        n = len(text)
        if i + 1 >= n:
            return -1
        kind = text[i + 1]
        if kind in _ESCAPES:
            return i + 2
        if kind != "u":
            raise PartialJSONError(f"invalid escape at character {self._at(i + 1, n)}")
        for j in range(i + 2, min(i + 6, n)):
            if text[j] not in _HEX:
                raise PartialJSONError(f"invalid escape at character {self._at(j, n)}")
        if i + 6 > n:
            return -1
        unit = int(text[i + 2 : i + 6], 16)
        if 0xDC00 <= unit <= 0xDFFF:
            raise PartialJSONError(f"lone low surrogate at character {self._at(i, n)}")
        if not 0xD800 <= unit <= 0xDBFF:
            return i + 6
        # A high surrogate must be followed by an escaped low one (RFC 8259 §7).
        for j, want in ((i + 6, "\\"), (i + 7, "u")):
            if j < n and text[j] != want:
                raise PartialJSONError(f"lone high surrogate at character {self._at(i, n)}")
        for j in range(i + 8, min(i + 12, n)):
            if text[j] not in _HEX:
                raise PartialJSONError(f"invalid escape at character {self._at(j, n)}")
        if i + 12 > n:
            return -1
        if not 0xDC00 <= int(text[i + 8 : i + 12], 16) <= 0xDFFF:
            raise PartialJSONError(f"lone high surrogate at character {self._at(i, n)}")
        return i + 12

    def _scan_number(self, text: str, i: int) -> int:
        n = len(text)
        start = i
        state = self._num_state
        while i < n:
            ch = text[i]
            if ch not in _NUM_CHARS:
                break
            state = _num_step(state, ch)
            if state < 0:
                raise PartialJSONError(f"invalid number at character {self._at(i, n)}")
            i += 1
        self._num_parts.append(text[start:i])
        self._num_state = state
        if i == n:
            return n  # the number may go on in the next piece
        if not _NUM_ACCEPT[state]:
            raise PartialJSONError(f"invalid number at character {self._at(i, n)}")
        self._mode = _NONE
        value = self._number("".join(self._num_parts), state)
        self._num_parts = []
        self._put(value)
        return i

    def _scan_literal(self, text: str, i: int) -> int:
        n = len(text)
        lit = self._lit
        k = self._lit_len
        while i < n and k < len(lit):
            if text[i] != lit[k]:
                raise PartialJSONError(f"expected ident at character {self._at(i, n)}")
            i += 1
            k += 1
        self._lit_len = k
        if k == len(lit):
            self._mode = _NONE
            self._put(_LITERALS[lit])
        return i


def _decode_escape(seq: str) -> str:
    """The character of a whole, checked escape sequence (one or two ``\\u`` units)."""
    if len(seq) == 2:
        return _ESCAPES[seq[1]]
    unit = int(seq[2:6], 16)
    if len(seq) == 6:
        return chr(unit)
    return chr(0x10000 + ((unit - 0xD800) << 10) + (int(seq[8:12], 16) - 0xDC00))


class _Missing:
    __slots__ = ()


_MISSING: Any = _Missing()


def parse_partial(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The value of ``text``, a possibly unfinished JSON document, in one call: jiter's
    ``from_json(text, partial_mode=True)`` for text that can begin a JSON document."""
    reader = PartialJSON(max_size=len(text), max_depth=max_depth)
    reader.feed(text)
    return reader.value()
