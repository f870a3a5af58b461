"""Long explorations, not selected by CI (``pytest -m slow``): many seeds of every example
scenario, checked with and without timestamps. A correct model must never be flagged."""

from __future__ import annotations

import pytest

from gtcheck.checker.check import check_history
from tests.simhelp import run
from tests.checker.test_timestamp_free import strip

SCENARIOS = ["isolation.toml", "failover.toml", "clock-skew.toml", "replication-delay.toml",
             "hot-keys.toml", "ttl.toml"]
JUDGED = ("integrity", "convergence", "read_after_write")


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("seed", range(10, 30))
def test_many_seeds_no_false_positives(tmp_path, scenario, seed):
    r = run(scenario, seed, tmp=tmp_path)
    with_ts = check_history(r.path, jobs=1)
    assert {p: with_ts.summary[p]["valid"] for p in JUDGED} == {p: True for p in JUDGED}
    if scenario != "hot-keys.toml":   # 1,000 keys: the solver path is exercised by the others
        without = check_history(strip(r.path, tmp_path / "stripped.jsonl"), jobs=1, timeout_s=120)
        assert {p: without.summary[p]["valid"] for p in JUDGED} == {p: True for p in JUDGED}
        assert without.summary["staleness"]["smallest_bound_ns"] <= \
            with_ts.summary["staleness"]["smallest_bound_ns"]
