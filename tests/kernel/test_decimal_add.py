"""Rule 8's numeric add is exact for every history number (issue 18): an add of a number
no double holds (0.10000000000000001, a 21-digit decimal, 1e400) was silently an add of
nothing (``is_number`` left Decimal out), so valid histories were judged phantom-read in
eventual mode and not linearizable in strong mode; a float add made the earlier value a
wildcard, which could hide an anomaly."""

from __future__ import annotations

from decimal import Context, Decimal, Inexact

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gtcheck.checker.check import check_history
from gtcheck.kernel import attrvalues
from gtcheck.kernel.items import add_numbers, apply_change, exact, is_number, subtract_numbers

# (stored, added, result) as JSON text: the result is the exact decimal sum
CASES = [
    ("1", "0.10000000000000001", "1.10000000000000001"),
    ("0.10000000000000001", "1", "1.10000000000000001"),
    ("12345678901234567890.5", "1", "12345678901234567891.5"),
    ("1", "12345678901234567890.5", "12345678901234567891.5"),
    ("0", "1e400", "1e400"),
    ("0.1", "0.2", "0.3"),                 # floats: the decimal sum, not 0.30000000000000004
]


def history(mode: str, stored: str, added: str, read: str) -> list[str]:
    """A write, an update adding ``added`` whose outcome is unknown (info: its post-image is
    the change applied to some version, rule 8), a read of ``read`` and final reads of
    ``read`` everywhere (strong reads in strong mode), as JSON text (numbers as written)."""
    strong = mode == "strong"
    c = ', "consistent": true' if strong else ""
    lines = [
        '{"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"], '
        f'"mode": "{mode}", "settled_after_ns": 100000}}',
        f'{{"type": "invoke", "process": 0, "region": "us-east-1", "f": "write", "key": "k", '
        f'"value": {{"n": {stored}}}, "time": 10}}',
        '{"type": "ok", "process": 0, "time": 20, "ts": 15, "origin": "us-east-1"}',
        f'{{"type": "invoke", "process": 0, "region": "us-east-1", "f": "update", "key": "k", '
        f'"value": {{"add": {{"n": {added}}}}}, "time": 30}}',
        '{"type": "info", "process": 0, "time": 40}',
        f'{{"type": "invoke", "process": 0, "region": "us-east-1", "f": "read", "key": "k", '
        f'"value": null, "time": 50{c}}}',
        f'{{"type": "ok", "process": 0, "time": 60, "value": {{"n": {read}}}}}',
    ]
    for p, region in ((1, "us-east-1"), (2, "eu-west-1")):
        lines.append(f'{{"type": "invoke", "process": {p}, "region": "{region}", "f": "read", "key": "k", '
                     f'"value": null, "time": 200000{c}}}')
    for p in (1, 2):
        lines.append(f'{{"type": "ok", "process": {p}, "time": 200010, "value": {{"n": {read}}}}}')
    return lines


def judge(tmp_path, mode, stored, added, read):
    path = tmp_path / f"{mode}.jsonl"
    path.write_text("\n".join(history(mode, stored, added, read)) + "\n")
    return check_history(path, jobs=1).summary


@pytest.mark.parametrize("mode", ["eventual", "strong"])
@pytest.mark.parametrize("stored,added,result", CASES)
def test_an_exact_decimal_add_is_valid(tmp_path, mode, stored, added, result):
    summary = judge(tmp_path, mode, stored, added, result)
    assert summary["valid"] is True, summary
    if mode == "strong":
        assert summary["linearizability"]["valid"] is True


@pytest.mark.parametrize("mode", ["eventual", "strong"])
@pytest.mark.parametrize("stored,added,wrong", [("1", "0.10000000000000001", "1.1"),
                                               ("0.1", "0.2", "0.30000000000000004"),
                                               ("0", "1e400", "1e399"),
                                               ("12345678901234567890.5", "1", "12345678901234567892.5")])
def test_a_wrong_sum_is_found(tmp_path, mode, stored, added, wrong):
    """The sums above, read back wrong: an anomaly (before, a float add made the earlier
    value a wildcard, which accepted 0.30000000000000004)."""
    summary = judge(tmp_path, mode, stored, added, wrong)
    assert summary["valid"] is False, summary


def test_numbers_of_every_kind_are_numbers():
    assert all(is_number(x) for x in (1, 1.5, Decimal("1e400"), 2 ** 80))
    assert not any(is_number(x) for x in (True, "1", None))


def test_apply_change_adds_exactly():
    item = apply_change({"n": Decimal("0.10000000000000001")}, {"add": {"n": 1, "m": 0.1}})
    assert item == {"n": Decimal("1.10000000000000001"), "m": Decimal("0.1")}
    assert apply_change({"n": 2 ** 70}, {"add": {"n": 1}}) == {"n": 2 ** 70 + 1}
    assert type(apply_change({"n": 2}, {"add": {"n": 3}})["n"]) is int


DYNAMO = Context(prec=38, traps=[])
numbers = (st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=Decimal("-1e30"),
                       max_value=Decimal("1e30"))
           | st.integers(-10 ** 30, 10 ** 30)
           | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30))


@given(numbers, numbers)
def test_the_rule_equals_decimal_arithmetic_at_dynamodb_precision(a, b):
    """Where DynamoDB's 38-digit arithmetic is exact (it refuses a request otherwise), the
    model's rule gives the same number; and the kernel's DynamoDB adder agrees."""
    x, y = exact(a), exact(b)
    DYNAMO.clear_flags()
    want = DYNAMO.add(x, y)
    got = add_numbers(a, b)
    if not DYNAMO.flags[Inexact]:
        assert exact(got) == want
        dynamo = attrvalues.add(attrvalues.normal(x), attrvalues.normal(y))
        if not isinstance(dynamo, str):
            assert dynamo == want
    else:
        assert exact(got) == Context(prec=100_000).add(x, y)   # exact where DynamoDB's would round
    assert exact(subtract_numbers(got, b)) == x      # the inverse the checker runs
