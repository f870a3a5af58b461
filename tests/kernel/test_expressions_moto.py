"""A reference beside the evaluator: gtcheck and moto (in process, no server) evaluate the
same generated condition and update expressions on the same items, and must agree, or
differ in exactly one of the documented ways (tests/kernel/motocompare.py), never
silently.

CI runs ``CI_CASES`` of each kind; ``-m slow`` runs ``SLOW_CASES`` of each (the figure
reported in README and docs/expressions.md). Every case is drawn from one seed
(``derandomize``), so a run is reproducible.
"""

from __future__ import annotations

import sys
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from tests.kernel.exprgen import Case, condition_cases, update_cases
from tests.kernel.motocompare import (
    LAZY_VALIDATION, LEAF_DIFFERENCES, UPDATE_DIFFERENCES, judge, ours,
)
from tests.kernel.motoref import Moto

CI_CASES = 300
SLOW_CASES = 10_000


@pytest.fixture(scope="module")
def moto():
    with Moto() as m:
        yield m


def compare(kind: str, n: int, moto: Moto) -> Counter:
    counts: Counter = Counter()

    @settings(max_examples=n, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(condition_cases() if kind == "condition" else update_cases())
    def run(case: Case) -> None:
        counts[judge(case, moto)] += 1

    run()
    return counts


def agreed(counts: Counter) -> int:
    return sum(v for k, v in counts.items() if k.startswith("agree:"))


def report(kind: str, counts: Counter) -> None:
    total = sum(counts.values())
    lines = [f"{kind}: {total} cases, {agreed(counts)} agree"] + [
        f"  {v:6d} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
    print("\n".join(lines), file=sys.stderr)


def check(kind: str, counts: Counter, n: int) -> None:
    report(kind, counts)
    total = sum(counts.values())
    assert total >= n * 0.95            # Hypothesis ran (nearly) every case asked for
    # most cases are real comparisons, not moto gaps
    assert agreed(counts) >= 0.5 * total, counts
    # and they compare real outcomes, not only refusals
    assert sum(v for k, v in counts.items() if k in (
        "agree:True", "agree:False", "agree:item")) >= 0.3 * total, counts
    documented = {d.name for d in LEAF_DIFFERENCES} | {d.name for d in UPDATE_DIFFERENCES} | {
        LAZY_VALIDATION[0]}
    for k in counts:
        if k.startswith("difference:"):
            assert set(k.split(":", 1)[1].split("+")) <= documented, k


def test_conditions_agree_with_moto(moto):
    check("conditions", compare("condition", CI_CASES, moto), CI_CASES)


def test_updates_agree_with_moto(moto):
    check("updates", compare("update", CI_CASES, moto), CI_CASES)


@pytest.mark.slow
def test_many_conditions_agree_with_moto(moto):
    check("conditions", compare("condition", SLOW_CASES, moto), SLOW_CASES)


@pytest.mark.slow
def test_many_updates_agree_with_moto(moto):
    check("updates", compare("update", SLOW_CASES, moto), SLOW_CASES)


# --------------------------------------------------------------------------- by hand
D = Decimal
ITEM = {"pk": "k", "a": D(1), "s": "x"}

# (kind, expression, names, values, gtcheck's answer, moto's answer, why they differ)
HAND = [
    ("update", "SET a = :v", {}, {":v": D(1), ":w": D(2)}, "item", "rejected",
     "unused ExpressionAttributeValues: DynamoDB and moto refuse them; gtcheck sees a "
     "request's condition and update apart, each with the request's whole maps, so it "
     "cannot know which entries the other expression used: it does not check"),
    ("update", "SET a = :v", {"#q": "q"}, {":v": D(1)}, "item", "rejected",
     "unused ExpressionAttributeNames: as above"),
    ("condition", "Status = :v", {}, {":v": D(1)}, False, "rejected",
     "reserved words used as bare names: DynamoDB and moto refuse them; gtcheck evaluates "
     "them (such a request can only have failed, so evaluating it admits more, never less)"),
    ("update", "SET a = :v + :v + :v", {}, {":v": D(1)}, "rejected", "item",
     "moto sums three operands; DynamoDB takes exactly one + or - (Alternator's suite)"),
    ("update", "SET a = list_append(list_append(:l, :l), :l)", {}, {":l": [D(1)]},
     "rejected", "item",
     "moto nests list_append; DynamoDB refuses it (Alternator's suite, checked on DynamoDB)"),
    ("condition", "a BETWEEN :x AND :y", {}, {":x": D(5), ":y": D(1)}, "rejected", False,
     "constant bounds out of order: DynamoDB refuses the request; moto answers false"),
    ("condition", "contains(a, a)", {}, {}, "rejected", False,
     "one attribute as both operands of contains: DynamoDB refuses it (Alternator's "
     "suite); moto evaluates it"),
    ("update", "SET c = if_not_exists(b, if_not_exists(q, :v))", {}, {":v": D(3)}, "item",
     "rejected", "a call as if_not_exists's second operand: DynamoDB takes it (Alternator's "
     "suite, checked on DynamoDB); moto's grammar does not"),
    ("condition", "((a = :v))", {}, {":v": D(1)}, "rejected", "rejected",
     "redundant parentheses: both refuse, as DynamoDB does"),
]


@pytest.mark.parametrize("kind, text, names, values, want_ours, want_moto, why", HAND,
                         ids=[h[1] for h in HAND])
def test_hand_written_differences(moto, kind, text, names, values, want_ours, want_moto, why):
    case = Case(kind, dict(ITEM), text, names, values)
    o, _ = ours(case)
    m = moto.run(case)
    m = "rejected" if isinstance(m, tuple) and m[0] == "rejected" else m
    assert ("item" if isinstance(o, dict) else o) == want_ours, why
    assert ("item" if isinstance(m, dict) else m) == want_moto, why


def test_a_delete_past_the_end_of_the_shortened_list(moto):
    """DELETE a[1] after REMOVE a[0] on [0, 0]: DynamoDB's a[1] is the number 0, so deleting
    a string set from it is refused; moto's a[1] is past the end of [0], where its DELETE
    does nothing."""
    from gtcheck.kernel.attrvalues import StrSet

    case = Case("update", {"pk": "k", "a": [D(0), D(0)]}, "REMOVE #n0[0] DELETE a[1] :v0", {"#n0": "a"},
                {":v0": StrSet([""])})
    assert ours(case)[0] == "rejected" and moto.run(case)["a"] == [D(0)]
    assert judge(case, moto) == "difference:clauses-applied-in-order"


@pytest.mark.parametrize("text, values, want", [
    # Alternator's test_update_expression_nested_remove_list_item_original_number (checked on
    # DynamoDB): indexes refer to the list before the update, whichever clause comes first
    ("REMOVE a[1] SET a[3] = :v", {":v": D(17)}, [2, 4, 17, 6, 7]),
    ("SET a[3] = :v REMOVE a[1]", {":v": D(17)}, [2, 4, 17, 6, 7]),
    # the same rule for ADD on a list element (ADD a.d[2] :v is accepted by DynamoDB:
    # Alternator's test_update_condition_eq_nested_set): a[3] is the 5 before the update
    ("REMOVE a[1] ADD a[3] :v", {":v": D(17)}, [2, 4, 22, 6, 7]),
    ("REMOVE a[0] ADD a[1] :v", {":v": D(5)}, [8, 4, 5, 6, 7]),
])
def test_list_indexes_refer_to_the_list_before_the_update(moto, text, values, want):
    """gtcheck resolves every action's list index against the item before the update, as
    DynamoDB does; moto applies the clauses in the order written (a documented difference,
    recognised as such, never an undocumented one)."""
    case = Case("update", {"pk": "k", "a": [D(x) for x in (2, 3, 4, 5, 6, 7)]}, text, {}, values)
    o, _ = ours(case)
    assert o["a"] == [D(x) for x in want]
    verdict = judge(case, moto)
    m = moto.run(case)
    if text.startswith("REMOVE"):
        assert m["a"] != o["a"] and verdict == "difference:clauses-applied-in-order", (m, verdict)
    else:
        assert m["a"] == o["a"] and verdict.startswith("agree"), (m, verdict)
