"""The item value model and its encodings (kernel/attrvalues.py): wire <-> history JSON <->
evaluator values, DynamoDB's number rules and its comparison rules."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtcheck.kernel import attrvalues as av
from gtcheck.kernel.attrvalues import (
    BinSet, EncodingProblem, NumberProblem, NumSet, StrSet, compare, equal, from_json,
    from_wire, item_json_problems, json_problems, number_text, parse_number, to_json,
    to_wire,
)
from gtcheck.kernel.exactjson import canon, dumps, loads_exact
from tests.kernel.strategies import items, values


# --------------------------------------------------------------------------- round trips
@given(values())
@settings(max_examples=400)
def test_wire_json_wire_is_identity(v):
    """A value as DynamoDB sends it (normal numbers, binary as bytes) survives the trip
    through the history encoding unchanged, and so does its base64 wire form."""
    wire = to_wire(v)
    assert av.json_to_wire(av.wire_to_json(wire)) == wire
    b64 = to_wire(v, binary="base64")
    assert av.json_to_wire(av.wire_to_json(b64), binary="base64") == b64


@given(values())
@settings(max_examples=400)
def test_json_value_json_is_canonical(v):
    """to_json gives canonical JSON: read back (through the exact JSON reader, as a history
    line would be) it is the same value, writes the same bytes again, and has no
    encoding problem."""
    j = to_json(v)
    assert json_problems(j) == []
    back = from_json(loads_exact(dumps(j)))
    assert equal(back, v)
    assert canon(to_json(back)) == canon(j)


@given(items())
@settings(max_examples=200)
def test_items_round_trip(item):
    j = av.item_to_json(item)
    assert item_json_problems(j) == []
    back = av.item_from_json(loads_exact(dumps(j)))
    assert equal(back, item)
    assert av.item_to_wire(back) == av.item_to_wire(item)
    assert equal(av.item_from_wire(av.item_to_wire(item)), item)


@given(values(), values())
@settings(max_examples=400)
def test_equal_values_are_equal_json(a, b):
    """Equal values have equal canonical JSON and vice versa (what lets the checker compare
    versions by their JSON)."""
    assert equal(a, b) == (canon(to_json(a)) == canon(to_json(b)))


def test_plain_json_items_mean_what_they_meant():
    item = {"name": "a", "v": 17, "f": 0.5, "ok": True, "none": None, "l": [1, "x"],
            "m": {"k": 2}}
    v = av.item_from_json(item)
    assert v == {"name": "a", "v": Decimal(17), "f": Decimal("0.5"), "ok": True,
                 "none": None, "l": [Decimal(1), "x"], "m": {"k": Decimal(2)}}
    assert canon(av.item_to_json(v)) == canon(item)


def test_numbers_beyond_dynamodb_are_kept_exactly():
    """A history may come from any system: a number DynamoDB could not store is still read
    exactly (only arithmetic on it follows DynamoDB's rules)."""
    assert from_json(2 ** 200) == Decimal(2 ** 200)
    assert to_json(from_json(2 ** 200)) == 2 ** 200
    assert from_json(Decimal("1e-400")) == Decimal("1e-400")
    with pytest.raises(EncodingProblem):
        av.item_from_json([1])


def test_tagged_forms():
    assert from_json({"$B": "AAH/"}) == b"\x00\x01\xff"
    assert from_json({"$SS": ["a", "b"]}) == StrSet({"a", "b"})
    assert type(from_json({"$NS": [1, 2.5]})) is NumSet
    assert from_json({"$BS": ["AA==", "/w=="]}) == BinSet({b"\x00", b"\xff"})
    # a map whose only key is a tag is escaped; other maps with such keys are not
    assert to_json({"$B": "x"}) == {"$M": {"$B": "x"}}
    assert to_json({"$M": {}}) == {"$M": {"$M": {}}}
    assert to_json({"$B": "x", "y": True}) == {"$B": "x", "y": True}
    assert from_json({"$M": {"$B": {"$B": "eA=="}}}) == {"$B": b"x"}
    assert to_json({"$X": Decimal(1)}) == {"$X": 1}    # not a tag
    # the top level of an item is never a tag
    assert av.item_from_json({"$B": "eA=="}) == {"$B": "eA=="}
    assert av.item_to_json({"$B": "eA=="}) == {"$B": "eA=="}


def test_canonical_set_order():
    """Strings by code point (UTF-8 byte order, not UTF-16's), numbers by value, binary by
    unsigned bytes (not by their base64 text)."""
    assert to_json(StrSet({"\U0001f600", "\uffff", "a"})) == {"$SS": ["a", "\uffff", "\U0001f600"]}
    assert to_json(NumSet({Decimal(10), Decimal(9), Decimal("-1.5")})) == {"$NS": [-1.5, 9, 10]}
    # b"\xff" is "/w==" and b"\x00\x00" "AAA=": by bytes \x00\x00 < \xff
    assert to_json(BinSet({b"\xff", b"\x00\x00"})) == {"$BS": ["AAA=", "/w=="]}
    assert [str(p) for p in json_problems({"$SS": ["b", "a"]})] == [
        "$SS: set elements must be in canonical order"]
    assert json_problems({"$NS": [2, 10]}) == []
    assert len(json_problems({"$NS": [10, 2]})) == 1


@pytest.mark.parametrize("bad, where", [
    ({"$B": 5}, "$B"),
    ({"$B": "no base64!"}, "$B"),
    ({"$SS": []}, "$SS"),
    ({"$SS": ["a", "a"]}, "$SS"),
    ({"$SS": ["a", 1]}, "$SS[1]"),
    ({"$NS": [1, 1.0]}, "$NS"),
    ({"$NS": [True]}, "$NS[0]"),
    ({"$BS": "AA=="}, "$BS"),
    ({"$M": [1]}, "$M"),
    ([{"x": {"$SS": "a"}}], "[0].x.$SS"),
])
def test_malformed_tags_name_their_place(bad, where):
    with pytest.raises(EncodingProblem) as e:
        from_json(bad)
    assert e.value.path == where
    assert [p.path for p in json_problems(bad)] == [where]


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("text, normal_text", [
    ("1", "1"), ("-5", "-5"), ("0", "0"), ("100", "100"),
    ("007", "7"), ("001.23", "1.23"), ("00", "0"),
    ("+3", "3"), ("+1.5", "1.5"),
    ("1.0", "1"), ("1.10", "1.1"), ("100.000", "100"), ("0.10", "0.1"),
    ("1e3", "1000"), ("1E+3", "1000"), ("-3e2", "-300"), ("1.23e4", "12300"),
    ("1e-3", "0.001"), ("123e-2", "1.23"), ("1.0e-1", "0.1"),
    ("-0", "0"), ("-0.0", "0"), ("0e5", "0"), ("0e-5", "0"),
    (".5", "0.5"), ("-.5", "-0.5"),
    ("1e20", "100000000000000000000"), ("1e125", "1" + "0" * 125),
    ("1e-20", "0.00000000000000000001"),
    ("31415926535897932384626433832795028841e30", "31415926535897932384626433832795028841" + "0" * 30),
])
def test_number_normal_form(text, normal_text):
    """DynamoDB returns numbers as plain decimals without exponent or needless zeros."""
    assert number_text(parse_number(text)) == normal_text
    assert to_wire(from_wire({"N": text})) == {"N": normal_text}


@pytest.mark.parametrize("text", [
    "NaN", "Infinity", "-Infinity", "dog", " 1", "1 ", "", "1e", "e5", ".", "1..2",
    "1e126", "11e125", "-1e126", "1e-131", "0.9e-130",
    "3.14159265358979323846264338327950288419",           # 39 significant digits
])
def test_numbers_dynamodb_refuses(text):
    with pytest.raises(NumberProblem):
        parse_number(text)


def test_number_range_edges():
    assert parse_number("9.9999999999999999999999999999999999999E+125")
    assert parse_number("-1E-130")
    assert parse_number("12345678901234567890123456789012345678")
    assert parse_number("1234567890123456789012345678901234567800000")   # trailing zeros


def test_arithmetic_is_exact_or_refused():
    D = Decimal
    assert av.add(D(1), D(10) ** 22) == D("10000000000000000000001")
    assert av.subtract(D(10) ** 22, D(1)) == D("9999999999999999999999")
    assert av.add(D("0.1"), D("0.2")) == D("0.3")
    assert av.add(D("1.5"), D("-1.5")) == 0
    # DynamoDB refuses results it cannot store exactly: no rounding
    assert isinstance(av.add(D("1e50"), D(1)), str)
    assert isinstance(av.add(D("9e125"), D("9e125")), str)
    assert isinstance(av.subtract(D("9e125"), D("-9e125")), str)
    assert isinstance(av.subtract(D("1.5e-130"), D("1e-130")), str)     # underflow
    # a 38-digit result is fine, a 39-digit one is not
    assert av.add(D(10 ** 37), D(1)) == D(10 ** 37 + 1)
    assert isinstance(av.add(D(10 ** 38), D(1)), str)
    # wildly different exponents do not cost memory: refused at once
    assert isinstance(av.add(D("1e-130"), D("1e125")), str)


@given(st.integers(-10 ** 38 + 1, 10 ** 38 - 1), st.integers(-10 ** 38 + 1, 10 ** 38 - 1))
def test_integer_arithmetic_matches_python(a, b):
    exact = a + b
    got = av.add(Decimal(a), Decimal(b))
    if len(str(abs(exact)).rstrip("0")) <= 38:
        assert got == exact
    else:
        assert isinstance(got, str)


# --------------------------------------------------------------------------- comparison
def test_equality_needs_equal_types():
    D = Decimal
    assert not equal(True, D(1))
    assert not equal([True], [D(1)])
    assert not equal({"a": False}, {"a": D(0)})
    assert not equal("1", D(1))
    assert not equal(b"a", "a")
    assert not equal(None, False)
    assert equal(D("1.0"), D(1))
    assert equal(NumSet({D(1), D(2)}), NumSet({D("2.00"), D(1)}))
    assert not equal(StrSet({"1"}), NumSet({D(1)}))
    assert equal({"a": [D(1), {"b": None}]}, {"a": [D("1e0"), {"b": None}]})


def test_order_only_within_numbers_strings_binaries():
    D = Decimal
    assert compare(D(2), D(10)) == -1
    assert compare("10", "2") == -1                       # strings are not numbers
    assert compare(b"\x7f", b"\x80") == -1                # unsigned bytes
    assert compare("\uffff", "\U0001f600") == -1          # code point (UTF-8) order
    assert compare(D(1), "1") is None
    assert compare([D(1)], [D(2)]) is None
    assert compare(True, False) is None


def test_type_of():
    assert [av.type_of(v) for v in ["s", Decimal(1), b"b", True, None, [], {},
                                    StrSet({"a"}), NumSet({Decimal(1)}), BinSet({b"a"})]] == \
        ["S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"]


def test_wire_forms():
    assert from_wire({"B": base64.b64encode(b"\x01").decode()}) == b"\x01"
    assert from_wire({"B": b"\x01"}) == b"\x01"
    assert from_wire({"NS": ["2", "1.0e0"]}) == NumSet({Decimal(1), Decimal(2)})
    with pytest.raises(EncodingProblem):
        from_wire({"NS": ["1", "1.0"]})                   # the same number twice
    with pytest.raises(EncodingProblem):
        from_wire({"SS": []})
    with pytest.raises(EncodingProblem):
        from_wire({"N": "NaN"})
    with pytest.raises(EncodingProblem):
        from_wire({"X": 1})
    with pytest.raises(EncodingProblem):
        from_wire({"S": "a", "N": "1"})
    assert to_wire({"m": [NumSet({Decimal("1e2")})]}) == {"M": {"m": {"L": [{"NS": ["100"]}]}}}
