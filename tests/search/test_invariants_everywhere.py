"""One invariant, two places: the same shipped function judged on a run of the model as
``gtcheck search`` sees it (history, final state, ground truth) and on the same history
as ``gtcheck check --invariant`` sees a recording (no ground truth: what the checker
established). Where the history alone decides, both give the same verdict and cite the
same writes; where only the truth decides (a blind put winning), check says unknown,
never a different verdict. Also: the facts of ``run.established`` against the history."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtcheck.model.scenario import load_scenario
from gtcheck.search import invariants, recorded
from gtcheck.search.established import establish
from gtcheck.search.run import Unknown, invariant_property, run_from_bytes, run_from_file
from gtcheck.search.search import run_bytes

BEHAVIOURS = Path(__file__).resolve().parents[2] / "histories" / "scenarios" / "behaviours"


def _both(tmp_path, scenario: str, invariant: str):
    history, truth = run_bytes(load_scenario(BEHAVIOURS / f"{scenario}.toml"), 1)
    path = tmp_path / f"{scenario}.jsonl"
    path.write_bytes(history)
    model_run = run_from_bytes(history, truth)
    in_search = invariant_property(invariant)(model_run, history)
    in_check = recorded.judge(str(path), recorded.invariant_list((invariant,)))[invariant]
    return model_run, in_search, in_check


@pytest.mark.parametrize("scenario,invariant", [
    ("lost-increment", "counter_matches_increments"),
    ("double-create", "create_at_most_once"),
    ("lost-update", "no_acknowledged_write_lost"),
    ("optimistic-locking", "optimistic_locking"),
    ("partial-transaction", "money_conserved"),
])
def test_search_and_check_agree_where_the_history_decides(tmp_path, scenario, invariant):
    model_run, in_search, in_check = _both(tmp_path, scenario, invariant)
    assert model_run.has_truth
    assert in_search.holds is False and in_check["valid"] is False, (in_search, in_check)
    assert sorted(set(in_search.cited)) == in_check["cited"]
    if invariant != "no_acknowledged_write_lost":    # the reason is worded from its source
        assert in_search.message == in_check["message"]


def test_where_only_the_truth_decides_check_says_unknown(tmp_path):
    """Blind puts on both sides of an isolation: the model's truth says which writes the
    winner had not seen (lost); the history alone cannot tell it from an overwrite on
    purpose."""
    model_run, in_search, in_check = _both(tmp_path, "isolation-lww", "no_acknowledged_write_lost")
    assert in_search.holds is False and "vanished" in in_search.message
    assert in_check["valid"] == "unknown" and "ground truth" in in_check["reason"]


def test_a_run_that_keeps_every_write_holds_in_both(tmp_path):
    history, truth = run_bytes(load_scenario(BEHAVIOURS / "lost-increment.toml"), 1)
    run = run_from_bytes(history, truth)
    assert invariants.converges(run) is None
    path = tmp_path / "h.jsonl"
    path.write_bytes(history)
    assert recorded.judge(str(path), recorded.invariant_list(("converges", "read_your_writes")))  \
        == {"converges": {"valid": True}, "read_your_writes": {"valid": True}}


def test_the_established_facts_match_the_history(tmp_path):
    """The conflict order is ts order (every model write carries ts), each judged read saw
    a write of its own key that was invoked before it completed, the final versions are
    the final reads' items, the lost writes are rule 12's."""
    history, _ = run_bytes(load_scenario(BEHAVIOURS / "lost-update.toml"), 1)
    path = tmp_path / "h.jsonl"
    path.write_bytes(history)
    est = establish(str(path))
    run = run_from_file(str(path))
    ops = {o["index"]: o for o in run.operations()}
    for key, order in est.order.items():
        stamps = [(ops[i]["ts"], ops[i]["origin"]) for i in order]
        assert stamps == sorted(stamps) and all(ops[i]["key"] == key for i in order)
        assert [est.rank[i] for i in order] == sorted(est.rank[i] for i in order)
    assert est.saw
    for r, w in est.saw.items():
        if w is not None:
            assert ops[w]["key"] == ops[r]["key"] and ops[w]["start"] <= ops[r]["end"]
    for key, regions in est.final_versions.items():
        for region, w in regions.items():
            assert run.final[key][region] == (None if w is None else ops[w]["result"])
    assert [lw.write for lw in est.lost] == [2]
    assert est.acknowledged and all(w.ok for w in est.acknowledged)


def test_unknown_is_a_string_answer_not_a_violation():
    v = invariant_property("converges")
    from gtcheck.search.run import Run

    run = Run([{"format": "gt-history", "version": 1, "regions": ["us-east-1"]}])
    got = v(run, b"")
    assert got.holds is True and got.unknown.startswith("converges: the history has no final reads")
    assert isinstance(invariants.converges(run), Unknown)
