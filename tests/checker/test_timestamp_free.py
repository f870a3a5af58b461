"""Timestamp-free mode: model histories with ``ts`` and ``origin`` stripped go through
the solver path (rule 2 orders, z3), which must reach the same verdicts as the
timestamp path, and whose minimal largest staleness never exceeds the true one."""

from __future__ import annotations

import orjson
import pytest

from gtcheck.checker.check import check_history
from tests.simhelp import run
from tests.model.test_ground_truth import BUG_SCENARIO, BUGS, truth_staleness

PROPS = ("integrity", "convergence", "read_after_write", "staleness")


def strip(path, out):
    lines = path.read_bytes().splitlines()
    with open(out, "wb") as fh:
        fh.write(lines[0] + b"\n")
        for line in lines[1:]:
            e = orjson.loads(line)
            e.pop("ts", None)
            e.pop("origin", None)
            fh.write(orjson.dumps(e) + b"\n")
    return out


def verdicts(result):
    return {p: result.summary[p]["valid"] for p in PROPS}


SMALL = {"name": "small", "workload": {"keys": 8, "rate": 150, "duration": "8s"},
         "faults": [{"kind": "isolate", "region": "eu-west-1", "at": "2s", "duration": "3s"}],
         "clocks": {"eu-west-1": {"offset": "3ms"}}}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_verdicts_and_no_larger_staleness_without_ts(tmp_path, seed):
    r = run(SMALL, seed, tmp=tmp_path)
    with_ts = check_history(r.path, jobs=1)
    without = check_history(strip(r.path, tmp_path / "stripped.jsonl"), jobs=1, timeout_s=60)
    assert verdicts(without) == verdicts(with_ts)
    assert without.summary["unknown_keys"] == []
    # rule 10: the model never stamps a later write of a region below an earlier one
    assert "ts-inversion" not in with_ts.summary["read_after_write"]["anomaly_counts"]
    true_max = max(truth_staleness(r).values())
    assert without.summary["staleness"]["smallest_bound_ns"] <= true_max
    assert with_ts.summary["staleness"]["smallest_bound_ns"] == true_max


@pytest.mark.parametrize("bug,prop,anomaly", BUGS)
def test_injected_bugs_are_caught_without_ts(tmp_path, bug, prop, anomaly):
    r = run(dict(BUG_SCENARIO, name=f"bug-{bug}"), 1, tmp=tmp_path, bug=bug)
    result = check_history(strip(r.path, tmp_path / "stripped.jsonl"), jobs=1, timeout_s=60,
                           staleness_bound_ns=1_500_000_000)
    assert result.summary[prop]["valid"] is False
    assert anomaly in {a["name"] for a in result.summary[prop]["anomalies"]}
