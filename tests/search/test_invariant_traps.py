"""The shipped invariants on correct recordings that a naive reading calls wrong
(``histories/invariant-traps/``): each history's header says what is right about it. An
invariant users gate CI on may answer unknown where it cannot decide, never a violation a
correct application did not commit; and the one wrong history there is still named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gtcheck.search import recorded

ROOT = Path(__file__).resolve().parents[2]
TRAPS = ROOT / "histories" / "invariant-traps"
JUDGED = ("create_at_most_once", "money_conserved", "converges", "optimistic_locking", "no_acknowledged_write_lost",
          "counter_matches_increments", "later_write_wins")

EXPECTED = {
    # rule 12 names alice's create lost to bob's (its versions are the ok writes only); the
    # invariant does not claim it: the delete of unknown outcome may be bob's base
    "recreate-after-unknown-delete": {"create_at_most_once": "unknown", "no_acknowledged_write_lost": "unknown"},
    "transfer-between-reads": {"converges": "unknown"},          # no final reads
    "numbers-written-differently": {},
    "increment-never-completed": {},
    "unanswered-rewrite": {"later_write_wins": "unknown"},
    "read-transaction-sees-half": {"money_conserved": False, "converges": "unknown"},
}


def verdicts(path: Path) -> dict[str, dict]:
    return recorded.judge(str(path), recorded.invariant_list(JUDGED))


def test_every_trap_has_its_expectation():
    assert sorted(p.stem for p in TRAPS.glob("*.jsonl")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_invariants_on_each_trap(name):
    got = verdicts(TRAPS / f"{name}.jsonl")
    want = {inv: EXPECTED[name].get(inv, True) for inv in JUDGED}
    assert {inv: e["valid"] for inv, e in got.items()} == want, got


def test_a_recreate_after_an_unknown_delete_says_why_it_is_unknown():
    got = verdicts(TRAPS / "recreate-after-unknown-delete.jsonl")["create_at_most_once"]
    assert "user#1" in got["reason"] and "outcome unknown" in got["reason"]


def test_a_lost_write_that_may_rest_on_an_unknown_delete_is_unknown_not_lost():
    got = verdicts(TRAPS / "recreate-after-unknown-delete.jsonl")["no_acknowledged_write_lost"]
    assert "rule 12 names write 0 of user#1 lost, but a write of unknown outcome" in got["reason"], got


def test_the_half_seen_transfer_cites_the_read_transaction():
    got = verdicts(TRAPS / "read-transaction-sees-half.jsonl")["money_conserved"]
    assert got["cited"] == [5, 10] and "eu-west-1 saw 150 in total" in got["message"]


def _rewrite(src: Path, dst: Path, change) -> Path:
    lines = [json.loads(x) for x in src.read_text().splitlines()]
    dst.write_text("".join(json.dumps(e) + "\n" for e in change(lines)))
    return dst


def test_a_balance_written_outside_transactions_makes_conservation_unknown(tmp_path):
    """A plain put of ``to`` (a deposit) before the half-seen snapshot: the reads after it
    are not the transactions' alone, so the snapshot is not judged, and the answer is
    unknown, naming the put."""
    def deposit(lines):
        header, events = lines[0], lines[1:]
        put = [{"type": "invoke", "process": "d", "region": "us-east-1", "f": "write", "key": "to",
                "value": {"balance": 7}, "time": 1_500_000_000},
               {"type": "ok", "process": "d", "region": "us-east-1", "f": "write", "key": "to",
                "value": {"balance": 7}, "time": 1_500_000_001, "ts": 1704067201500000, "origin": "us-east-1"}]
        ordered = events[:4] + put + events[4:]
        return [header] + [dict(e, index=i) for i, e in enumerate(ordered)]

    path = _rewrite(TRAPS / "read-transaction-sees-half.jsonl", tmp_path / "deposit.jsonl", deposit)
    got = verdicts(path)["money_conserved"]
    assert got["valid"] == "unknown" and "outside transactions (ops 4)" in got["reason"], got


def test_optimistic_locking_counts_one_version_written_two_ways(tmp_path):
    """Two writers succeed from ``ver = 0``, one recorder writing it ``0``, the other
    ``0.0``: one number (rule 7), so a violation (it was missed when the values were told
    apart by their text)."""
    header = {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"], "mode": "eventual"}
    events = []
    for n, (region, ver, t) in enumerate((("us-east-1", 0, 1), ("eu-west-1", 0.0, 2))):
        cond = {"ver": ver}
        value = {"ver": 1, "by": n}
        events += [{"type": "invoke", "process": n, "region": region, "f": "write", "key": "doc", "value": value,
                    "condition": cond, "time": t * 1_000_000_000},
                   {"type": "ok", "process": n, "region": region, "f": "write", "key": "doc", "value": value,
                    "time": t * 1_000_000_000 + 1000, "ts": 1704067200000000 + t * 1_000_000, "origin": region}]
    path = tmp_path / "ol.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in [header] + [dict(e, index=i) for i, e in enumerate(events)]))
    got = verdicts(path)["optimistic_locking"]
    assert got["valid"] is False and got["cited"] == [0, 2], got


def test_a_read_transaction_recorded_one_client_per_item_is_one_snapshot(tmp_path):
    """The recorder gives each item of a TransactGetItems its own client (``<pid>.<i>``):
    its reads are still paired, by their ``txn`` id."""
    def per_item(lines):
        for e in lines[1:]:
            if e.get("f") == "read":
                e["process"] = "a.0" if e["key"] == "from" else "a.1"
        return lines

    path = _rewrite(TRAPS / "read-transaction-sees-half.jsonl", tmp_path / "per-item.jsonl", per_item)
    got = verdicts(path)["money_conserved"]
    assert got["valid"] is False and got["cited"] == [5, 10], got
