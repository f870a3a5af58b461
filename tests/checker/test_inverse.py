"""Updates run backwards (``checker.inverse``) against the kernel's evaluator run forwards:
whatever item an update was applied to is among the answers of its inverse on the result,
and for list appends every answer gives back the result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gtcheck.checker.inverse import ABSENT, fits
from gtcheck.checker.inverse import inverse_of
from gtcheck.kernel.exactjson import canon
from gtcheck.kernel.expressions import update

APPEND = {"expression": "SET #v = list_append(#v, :s)", "names": {"#v": "value"}}
APPEND_OR_NEW = {"expression": "SET v = list_append(if_not_exists(v, :e), :s)",
                 "values": {":e": []}}

words = st.sampled_from(["a", "b", "x 1 0 y", "x 1 0 yx 2 0 y", ""])
lists = st.lists(words, max_size=5)


def holds(pat, item) -> bool:
    value, wild, cons = pat
    if any(k not in wild and (k not in item or canon(item[k]) != canon(v)) for k, v in value.items()):
        return False
    if any(k not in value and k not in wild for k in item):
        return False
    return all(fits(item.get(k, ABSENT), kind) for k, kind in cons)


@settings(max_examples=300, deadline=None)
@given(before=lists, tail=lists, other=st.one_of(st.none(), st.integers(0, 3)))
def test_list_append_inverse_is_exact(before, tail, other) -> None:
    change = dict(APPEND, values={":s": tail})
    item = {"value": before} if other is None else {"value": before, "n": other}
    after = update(change["expression"], change["names"], change["values"]).apply(item, {})
    inverse = inverse_of(change)
    assert inverse is not None
    pats = inverse.preimages((after, frozenset(), ()))
    assert any(holds(p, item) for p in pats)
    for value, wild, cons in pats:       # exact: each answer gives the target back
        assert not wild and not cons
        again = update(change["expression"], change["names"], change["values"]).apply(value, {})
        assert canon(again) == canon(after)


def test_list_append_if_not_exists() -> None:
    change = dict(APPEND_OR_NEW, values={":e": [], ":s": ["a"]})
    inverse = inverse_of(change)
    pats = inverse.preimages(({"v": ["a"], "k": 1}, frozenset(), ()))
    assert sorted(canon(p[0]) for p in pats) == sorted([canon({"v": [], "k": 1}), canon({"k": 1})])
    assert inverse.preimages(({"v": ["b"]}, frozenset(), ())) == []
    assert inverse.preimages(({"k": 1}, frozenset(), ())) == []        # a list_append leaves the list


def test_no_inverse_for_other_expressions() -> None:
    assert inverse_of({"expression": "SET a = :x", "values": {":x": 1}}) is None
    assert inverse_of({"expression": "SET #v = list_append(#v, :s) REMOVE b",
                       "names": {"#v": "v"}, "values": {":s": ["a"]}}) is None
    assert inverse_of({"expression": "SET v = list_append(:s, v)", "values": {":s": ["a"]}}) is None
    assert inverse_of({"expression": "not an expression ((("}) is None
    assert inverse_of({"set": {"a": 1}}) is not None                  # rule 8
