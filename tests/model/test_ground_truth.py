"""The checker against the model's ground truth.

* Agreement: for random scenarios and seeds, the checker's staleness of every read
  equals the staleness computed from the sidecar (what the read really saw, the real
  conflict order). Two differences are inherent, and there the checker may report
  less, never more: a read of "no item" cannot tell which delete it saw, and a read of
  a write whose outcome was unknown (info) cannot tell where that write's hidden
  timestamp lies; rule 5 lets the checker pick the most favourable admissible choice.
* No false positives: a correct model is never flagged (integrity, convergence,
  read-after-write all hold, over many seeds).
* Bug injection: each way of breaking the model is caught, every time, by name.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.checker.check import check_history
from tests.simhelp import run
from tests.model.test_simulator_properties import scenarios


def truth_staleness(r) -> dict[int, int]:
    """Per read (invoke index): staleness computed from the ground truth alone."""
    order = {t["index"]: (t["ts"], t["origin"]) for t in r.of("write") if t["took_effect"]}
    completed = {}   # write index -> completion time, for ok writes that took effect
    for o in r.ops.values():
        if o["f"] != "read" and o["outcome"] == "ok" and o["index"] in order:
            completed[o["index"]] = o["end"]
    by_key: dict[str, list[int]] = {}
    for o in r.ops.values():
        if o["index"] in completed:
            by_key.setdefault(o["key"], []).append(o["index"])
    out = {}
    saw = {t["index"]: t["saw"] for t in r.of("read")}
    for o in r.ops.values():
        if o["f"] != "read" or o["outcome"] != "ok" or o["index"] not in saw:
            continue
        seen = saw[o["index"]]
        rank = order[seen] if seen is not None else None
        first = None
        for w in by_key.get(o["key"], ()):
            if completed[w] < o["time"] and (rank is None or order[w] > rank):
                first = completed[w] if first is None else min(first, completed[w])
        out[o["index"]] = 0 if first is None else o["time"] - first
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(), st.integers(0, 2**32))
def test_checker_staleness_equals_ground_truth(tmp_path, data, seed):
    r = run(data, seed, tmp=tmp_path)
    expected = truth_staleness(r)
    result = check_history(r.path, jobs=1, keep_reads=True)
    got = {rec.index: rec for rec in result.reads}
    assert set(got) == set(expected), "every read the model served is judged"
    saw = {t["index"]: t["saw"] for t in r.of("read")}
    for index, want in expected.items():
        rec = got[index]
        seen = saw[index]
        if r.ops[index]["value"] is None or (seen is not None and r.ops[seen]["outcome"] == "info"):
            assert rec.staleness_ns <= want, f"read #{index} of no item, or of an unknown-outcome write"
        else:
            assert rec.staleness_ns == want, f"read #{index}"
    for prop in ("integrity", "convergence", "read_after_write"):
        assert result.summary[prop]["valid"] in (True, "unknown"), (prop, result.summary[prop]["anomalies"][:2])


@pytest.mark.parametrize("scenario", ["isolation.toml", "failover.toml", "clock-skew.toml",
                                      "replication-delay.toml", "ttl.toml"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_correct_model_is_never_flagged(tmp_path, scenario, seed):
    r = run(scenario, seed, tmp=tmp_path)
    result = check_history(r.path, jobs=1)
    s = result.summary
    for prop in ("integrity", "convergence", "read_after_write"):
        assert s[prop]["valid"] is True, (prop, s[prop]["anomalies"][:2])
    assert s["staleness"]["valid"] is True, "no bound given: staleness is measured, not judged"
    assert result.exit_code == 0


BUG_SCENARIO = {
    "name": "bugs",
    "regions": {"copy_lag": {"dist": "exponential", "mean": "1ms"}},
    "replication": {"delay": {"dist": "uniform", "low": "50ms", "high": "300ms"}},
    "workload": {"keys": 10, "rate": 300, "duration": "10s", "strong_reads": 0.7},
}

BUGS = [
    ("stale-strong-read", "read_after_write", "lost-own-write"),
    ("drop-replication", "convergence", "divergent-final-state"),
    ("phantom-value", "integrity", "phantom-read"),
    ("show-failed-write", "integrity", "read-of-failed-write"),
    ("delay-replication", "staleness", "stale-read"),
]


@pytest.mark.parametrize("bug,prop,anomaly", BUGS)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_injected_bug_is_caught(tmp_path, bug, prop, anomaly, seed):
    bound = 1_500_000_000   # replication here never takes 1.5 s; the delayed one takes 5 s more
    healthy = check_history(run(BUG_SCENARIO, seed, tmp=tmp_path).path, jobs=1, staleness_bound_ns=bound)
    assert healthy.summary["valid"] is True, "the same run without the bug is valid"
    r = run(dict(BUG_SCENARIO, name=f"bug-{bug}"), seed, tmp=tmp_path, bug=bug)
    assert r.header["injected_bug"] == bug
    result = check_history(r.path, jobs=1, staleness_bound_ns=bound)
    assert result.summary[prop]["valid"] is False
    names = {a["name"] for a in result.summary[prop]["anomalies"]}
    assert anomaly in names, names
    assert result.exit_code == 1
