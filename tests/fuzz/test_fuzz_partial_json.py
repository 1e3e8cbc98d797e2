"""Fuzz the incremental partial-JSON reader: any text, any split.

Properties: ``feed`` and ``value`` return or raise :class:`PartialJSONError`
(:class:`RemoteProtocolError` past ``max_size``), nothing else; the outcome, value or
error message, does not depend on how the text is split; a value agrees with jiter's
``partial_mode=True`` (the official SDK's reader), and text jiter rejects is rejected;
below the size limit, the limit changes nothing.

Under pytest this runs as a hypothesis test. With atheris installed it is also a
coverage-guided harness::

    python tests/fuzz/test_fuzz_partial_json.py -atheris_runs=100000
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import jiter
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto._exceptions import RemoteProtocolError
from openai_proto._partial_json import PartialJSON, PartialJSONError

Outcome = Tuple[str, Any]


def canon(value: Any) -> Any:
    """``value`` with its types spelled out (``1 != 1.0``, ``0.0 != -0.0``, key order)."""
    if isinstance(value, dict):
        return ("d", tuple((k, canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("l", tuple(canon(v) for v in value))
    if isinstance(value, float):
        return ("f", repr(value))
    return (type(value).__name__, value)


def pieces_of(text: str, cuts: Sequence[int]) -> List[str]:
    bounds = [0, *sorted({c % (len(text) + 1) for c in cuts}), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


def read(pieces: Sequence[str], limit: Optional[int] = None) -> Outcome:
    """The value after the last piece, or the error (kind and message) that stopped it."""
    reader = PartialJSON() if limit is None else PartialJSON(max_size=limit)
    try:
        for piece in pieces:
            reader.feed(piece)
        return ("ok", canon(reader.value()))
    except PartialJSONError as exc:
        return ("error", str(exc))
    except RemoteProtocolError as exc:
        return ("limit", str(exc))


def check(text: str, cuts: Sequence[int], limit: Optional[int]) -> None:
    """All properties for one text, one split and one limit."""
    whole = read([text])
    assert whole[0] != "limit"  # the default limit is far above these inputs
    assert read(pieces_of(text, cuts)) == whole
    assert read(list(text)) == whole
    try:
        expected = ("ok", canon(jiter.from_json(text.encode(), partial_mode=True)))
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8, never JSON
        assert whole[0] == "error"
        expected = None
    except ValueError:
        expected = ("error", None)
    if expected is not None:
        if whole[0] == "ok":  # accepted text begins a JSON document: jiter's value
            assert whole == expected
        if expected[0] == "error":
            assert whole[0] == "error"
    if limit is not None:
        limited = read(pieces_of(text, cuts), limit)
        if len(text) <= limit:
            assert limited == whole
        else:
            assert limited[0] in ("error", "limit")


TOKENS = [
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    '"',
    '"k"',
    '"a\\"b"',
    "\\",
    "\\u",
    "\\ud83d",
    "\\ude00",
    "\\n",
    "d83d",
    "00e9",
    " ",
    "\n",
    "\t",
    "-",
    "0",
    "12",
    ".5",
    "e",
    "E+",
    "true",
    "fals",
    "null",
    "NaN",
    "é",
    "\x00",
    "\ud800",
]

texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=3)), max_size=50).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(
    text=texts,
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=10),
    limit=st.one_of(st.none(), st.integers(min_value=0, max_value=64)),
)
def test_fuzz_partial_json(text: str, cuts: List[int], limit: Optional[int]) -> None:
    check(text, cuts, limit)


def test_one_input_entry_point() -> None:
    # The atheris entry point accepts anything, including an empty input.
    for blob in (b"", b"\x05", b'\x40\x02\x01\x03{"a": [1, "b', bytes(range(256))):
        fuzz_one_input(blob)


def fuzz_one_input(blob: bytes) -> None:
    """Atheris entry point: the first bytes choose the limit and the split; the rest is
    the text (bytes that are not UTF-8 become lone surrogates)."""
    if not blob:
        return check("", [], None)
    limit: Optional[int] = blob[0] if blob[0] >= 8 else None
    ncuts = blob[1] % 8 if len(blob) > 1 else 0
    cuts = list(blob[2 : 2 + ncuts])
    check(blob[2 + ncuts :].decode("utf-8", "surrogateescape"), cuts, limit)


if __name__ == "__main__":
    from _atheris import campaign

    campaign(fuzz_one_input, ["openai_proto._partial_json"], ())
