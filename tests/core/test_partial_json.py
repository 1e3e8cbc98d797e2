"""The incremental partial-JSON reader against jiter's ``partial_mode=True`` (the official
SDK's reader): a table of cases, a differential property over random documents fed in
random pieces, invalid text, the limits and the terminal error state."""

from __future__ import annotations

import json
from typing import Any, List, Tuple

import jiter
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_proto import RemoteProtocolError
from openai_proto._partial_json import PartialJSON, PartialJSONError, parse_partial

Outcome = Tuple[str, Any]


def canon(value: Any) -> Any:
    """``value`` with its types spelled out: ``1 != 1.0``, ``0.0 != -0.0``, key order."""
    if isinstance(value, dict):
        return ("d", tuple((k, canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("l", tuple(canon(v) for v in value))
    if isinstance(value, float):
        return ("f", repr(value))
    return (type(value).__name__, value)


def oracle(text: str) -> Outcome:
    try:
        return ("ok", canon(jiter.from_json(text.encode(), partial_mode=True)))
    except ValueError:
        return ("error", None)


def ours(reader: PartialJSON) -> Outcome:
    try:
        return ("ok", canon(reader.value()))
    except PartialJSONError:
        return ("error", None)


def split(text: str, cuts: List[int]) -> List[str]:
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(points, points[1:])]


CASES = [
    # numbers at the end count when already whole
    ("[1, 2", [1, 2]),
    ("[1.", []),
    ("[-", []),
    ("[-0", [0]),
    ("[-1.5", [-1.5]),
    ("[1.5e", []),
    ("[1e-", []),
    ("[1e5", [100000.0]),
    ("[1e400", [float("inf")]),
    ('{"a": 1', {"a": 1}),
    ('{"a": -', {}),
    ("1", 1),
    ("1.5e+3", 1500.0),
    ("100000000000000000000000", 100000000000000000000000),
    ("[" + "1" * 4300, [int("1" * 4300)]),
    # unfinished strings, literals and keys drop their element or member
    ('["abc', []),
    ('["a\\', []),
    ('["\\ud83d\\ude00', []),
    ('["\\ud800\\', []),
    ('["\\ud83d\\ude00"', ["\U0001f600"]),
    ('{"a": "b', {}),
    ('{"a"', {}),
    ('{"a":', {}),
    ('{"a": 1, "b', {"a": 1}),
    ('{"a": 1, ', {"a": 1}),
    ("[tru", []),
    ("[true", [True]),
    ("[nul", []),
    ('{"a": fals', {}),
    # open containers count as closed
    ("[", []),
    ("{", {}),
    ("[[", [[]]),
    ('{"a":{"b":[1,{"c":', {"a": {"b": [1, {}]}}),
    # duplicate keys: the last value, at the first key's place
    ('{"a": 1, "b": 2, "a": [', {"a": [], "b": 2}),
    ('{"a": 1, "a": "x', {"a": 1}),
    ('{"a": 1, "b": 2, "a": 3', {"a": 3, "b": 2}),
    # escapes and whitespace
    ('  ["\\u00e9\\/\\b\\f\\n\\r\\t\\"\\\\\\u0000"] \n', ['é/\b\f\n\r\t"\\\x00']),
    ('{"": 1}', {"": 1}),
    ('"abc" ', "abc"),
    ("null", None),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_table_matches_jiter(text: str, expected: Any) -> None:
    assert canon(parse_partial(text)) == canon(expected)
    assert oracle(text) == ("ok", canon(expected))


NO_VALUE_YET = ["", " \n", '"abc', '"a\\u12', "tru", "-", "1.", "1e", "1.5e+"]
INVALID = [
    "[1,]",
    '{"a":1,}',
    "[01",
    "[-01",
    "[1.e",
    "[.5",
    "[+1",
    "[-]",
    "[1.]",
    '"\\x"',
    '["\\udc00',
    '["\\ud800x',
    '["\\ud800\\u0041',
    '{"a" 1',
    "{1",
    "[,",
    "[falsx",
    '[" \t"]',
    "[\x0c1]",
    "\ufeff[1]",
    "[" + "1" * 4301,
    "[" * 202,
]


@pytest.mark.parametrize("text", NO_VALUE_YET + INVALID)
def test_errors_match_jiter(text: str) -> None:
    with pytest.raises(PartialJSONError):
        parse_partial(text)
    assert oracle(text) == ("error", None)


@pytest.mark.parametrize(
    "text, jiter_value",
    [
        ("[1] x", [1]),
        ("[1 2", [1]),
        ('{"a":1 "b"', {"a": 1}),
        ('["\\u12x', []),
        ("NaN", float("nan")),
    ],
)
def test_stricter_than_jiter_on_text_that_cannot_be_json(text: str, jiter_value: Any) -> None:
    # jiter stops early or reads NaN; this reader (like the final parse) rejects the text.
    assert repr(jiter.from_json(text.encode(), partial_mode=True)) == repr(jiter_value)
    with pytest.raises(PartialJSONError):
        parse_partial(text)


def test_depth_limit_is_jiters_and_configurable() -> None:
    assert parse_partial("[" * 201) is not None
    assert parse_partial('{"a":' * 201) is not None
    with pytest.raises(PartialJSONError, match="recursion"):
        parse_partial('{"a":' * 202)
    with pytest.raises(PartialJSONError, match="recursion"):
        parse_partial("[[[", max_depth=2)


def test_size_limit_and_terminal_state() -> None:
    reader = PartialJSON(max_size=8)
    reader.feed('{"a": ')
    with pytest.raises(RemoteProtocolError, match="max_size"):
        reader.feed("1234}")
    with pytest.raises(RemoteProtocolError):
        reader.value()
    with pytest.raises(RemoteProtocolError):
        reader.feed("")
    broken = PartialJSON()
    with pytest.raises(PartialJSONError) as first:
        broken.feed("[1,,")
    with pytest.raises(PartialJSONError) as again:
        broken.feed("2]")
    assert again.value is first.value
    assert str(first.value).endswith("character 3")


def test_values_are_snapshots() -> None:
    reader = PartialJSON()
    reader.feed('{"items": [{"a": 1}, {"b": [2')
    first = reader.value()
    assert first == {"items": [{"a": 1}, {"b": [2]}]}
    assert not reader.complete
    reader.feed('2, 3]}, 4], "c": "d"}  ')
    assert first == {"items": [{"a": 1}, {"b": [2]}]}  # not changed by later text
    assert reader.value() == {"items": [{"a": 1}, {"b": [22, 3]}, 4], "c": "d"}
    assert reader.complete
    assert reader.value() is reader.value()  # whole: nothing left to copy


# -- differential: random documents, every prefix, random pieces --------------------------

WS = st.sampled_from(["", "", " ", "\n", "\t", "\r\n  "])
NUMBERS = st.from_regex(
    r"\A-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?\Z", fullmatch=True
)
STRINGS = st.one_of(
    st.builds(json.dumps, st.text(max_size=12), ensure_ascii=st.booleans()),
    st.sampled_from(['"\\/"', '"\\b\\f"', '"\\u00E9x"', '"\\uD83D\\uDE00"', '"\\u0000"', '""']),
)
SCALARS = st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "false", "null"]))


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    element = st.builds(lambda a, v, b: a + v + b, WS, children, WS)
    member = st.builds(
        lambda a, k, b, c, v, d: a + k + b + ":" + c + v + d, WS, STRINGS, WS, WS, children, WS
    )
    return st.one_of(
        st.builds(lambda xs, w: "[" + (",".join(xs) or w) + "]", st.lists(element, max_size=4), WS),
        st.builds(lambda xs, w: "{" + (",".join(xs) or w) + "}", st.lists(member, max_size=4), WS),
    )


DOCUMENTS = st.builds(
    lambda a, v, b: a + v + b, WS, st.recursive(SCALARS, _containers, max_leaves=16), WS
)


@settings(max_examples=200, deadline=None)
@given(text=DOCUMENTS, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=16))
def test_every_prefix_matches_jiter(text: str, cuts: List[int]) -> None:
    json.loads(text)  # a valid document
    # one character at a time: every prefix
    reader = PartialJSON()
    for i, ch in enumerate(text):
        reader.feed(ch)
        assert ours(reader) == oracle(text[: i + 1]), text[: i + 1]
    # a top-level number may go on: it is whole only once something follows it
    assert reader.complete != (text.rstrip() == text and text[-1].isdigit())
    assert canon(reader.value()) == canon(jiter.from_json(text.encode()))
    # random pieces: the same value after each piece
    reader = PartialJSON()
    fed = ""
    for piece in split(text, cuts):
        reader.feed(piece)
        fed += piece
        assert ours(reader) == oracle(fed)


JSONISH = st.lists(
    st.one_of(
        st.sampled_from([*'[]{}:,"\\ -+.eE0129tfnrulase', "\\u", "d83d", "dc00", "\t"]),
        st.text(max_size=3),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=JSONISH, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_any_text_value_or_documented_error(text: str, cuts: List[int]) -> None:
    reader = PartialJSON()
    outcome: Outcome
    try:
        for piece in split(text, cuts):
            reader.feed(piece)
    except PartialJSONError:
        outcome = ("error", None)
    else:
        outcome = ours(reader)
    try:
        expected = oracle(text)
    except UnicodeEncodeError:  # a lone surrogate: not even UTF-8, never JSON
        assert outcome[0] == "error"
        return
    if outcome[0] == "ok":  # accepted text is a JSON prefix: jiter reads the same value
        assert outcome == expected
    if expected[0] == "error":  # jiter rejects it: so does this reader (never the reverse)
        assert outcome == expected
