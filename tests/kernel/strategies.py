"""Hypothesis strategies for DynamoDB attribute values (evaluator values and their wire and
history-JSON forms), shared by the kernel's value and expression tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from gtcheck.kernel.attrvalues import BinSet, NumSet, StrSet, normal

# Numbers DynamoDB can store: up to 38 significant digits, magnitude 1E-130 .. 9.99E+125.
# Most draws are small (the interesting arithmetic), some reach the edges of the range.
_coeff = st.one_of(st.integers(-20, 20), st.integers(-10 ** 38 + 1, 10 ** 38 - 1))
_exp = st.one_of(st.integers(-3, 3), st.integers(-167, 125))


@st.composite
def numbers(draw: Any) -> Decimal:
    c = draw(_coeff)
    e = draw(_exp)
    d = normal(Decimal(c).scaleb(e))
    if d and not (-130 <= d.adjusted() <= 125):
        d = normal(Decimal(c))
    return d


texts = st.one_of(st.sampled_from(["", "a", "ab", "b", "é", "\uffff", "\U0001f600", "a b"]),
                  st.text(max_size=6))
binaries = st.one_of(st.sampled_from([b"", b"\x00", b"\x7f", b"\x80", b"\xff", b"ab"]),
                     st.binary(max_size=6))
scalars = st.one_of(texts, numbers(), binaries, st.booleans(), st.none())
sets = st.one_of(
    st.frozensets(texts, min_size=1, max_size=4).map(StrSet),
    st.frozensets(numbers(), min_size=1, max_size=4).map(NumSet),
    st.frozensets(binaries, min_size=1, max_size=4).map(BinSet),
)
# attribute names, including the tags that force the $M escape
names = st.one_of(st.sampled_from(["a", "b", "$B", "$M", "$SS", "$NS", "$BS", "$X"]),
                  st.text(min_size=1, max_size=4))


def values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any evaluator value: scalars, sets, and lists and maps of them, nested."""
    return st.recursive(
        st.one_of(scalars, sets),
        lambda inner: st.one_of(st.lists(inner, max_size=4),
                                st.dictionaries(names, inner, max_size=4)),
        max_leaves=max_leaves)


def items(max_leaves: int = 12) -> st.SearchStrategy[dict[str, Any]]:
    """A DynamoDB item: attribute name -> value."""
    return st.dictionaries(names, values(max_leaves), max_size=5)
