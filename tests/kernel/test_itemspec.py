"""The item semantics (rule 8 of the history format) and the four-function spec."""

from hypothesis import given, strategies as st

from gtcheck.kernel import itemspec as spec
from gtcheck.kernel.items import apply_change
from gtcheck.kernel.itemspec import Request, step


def condition_holds(item, condition):
    """Whether a conditional delete of ``item`` under ``condition`` goes through."""
    return step(item, Request("delete", "k", None, condition))[1]


def test_set_remove_add():
    item = {"a": 1, "b": 2, "n": 5, "tags": ["x"]}
    new = apply_change(item, {"set": {"a": 9}, "remove": ["b"], "add": {"n": 2, "tags": ["x", "y"], "m": 1}})
    assert new == {"a": 9, "n": 7, "tags": ["x", "y"], "m": 1}
    assert item == {"a": 1, "b": 2, "n": 5, "tags": ["x"]}, "the stored item is not mutated"


def test_add_to_missing_counts_from_zero_and_update_creates():
    assert apply_change(None, {"add": {"n": 1}}) == {"n": 1}


def test_cas_create_only_when_absent():
    assert step(None, Request("cas", "k", [None, {"v": 1}])) == ({"v": 1}, True, [None, {"v": 1}]), "a cas answers its pair"
    assert step({"v": 0}, Request("cas", "k", [None, {"v": 1}]))[1] is False
    assert step({"v": 0}, Request("cas", "k", [{"v": 0}, {"v": 1}]))[1] is True


def test_conditions():
    assert condition_holds({"rev": 3}, {"rev": 3})
    assert not condition_holds({"rev": 3}, {"rev": 4})
    assert not condition_holds(None, {})
    assert condition_holds({"a": 1}, {"b": None})
    new, ok, _ = step({"rev": 3}, Request("delete", "k", None, {"rev": 4}))
    assert not ok and new == {"rev": 3}


@given(st.dictionaries(st.sampled_from("abcd"), st.integers(), max_size=4),
       st.dictionaries(st.sampled_from("abcd"), st.integers(), max_size=4))
def test_set_then_remove_is_remove(item, attrs):
    new = apply_change(apply_change(item, {"set": attrs}), {"remove": list(attrs)})
    assert all(k not in new for k in attrs)


def test_partition_init_describe():
    assert spec.partition(Request("read", "user#1")) == "user#1"
    assert spec.init() is None
    assert spec.describe(None) == "absent"
    assert spec.describe({"a": 1}) == "{a=1}"
