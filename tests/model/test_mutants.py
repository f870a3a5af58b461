"""The test-only bugs are mutants: rule objects substituted for the correct ones
(model/mutants.py), passed to the drivers, never switched on inside them. Each is
caught by the checker by name, with and without timestamps."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gtcheck.checker.check import check_history
from gtcheck.model import mutants
from gtcheck.model.rules import Rules
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.globaltables import GlobalTables
from gtcheck.model.simulator import BUGS, simulate
from tests.simhelp import Walker, run
from tests.model.test_ground_truth import BUG_SCENARIO
from tests.model.test_ground_truth import BUGS as CAUGHT_AS
from tests.checker.test_timestamp_free import strip

MODEL = Path(__file__).resolve().parents[2] / "model"


def _bytes(**kw) -> tuple[bytes, bytes]:
    h, t = io.BytesIO(), io.BytesIO()
    simulate(scenario_from_dict(dict(BUG_SCENARIO, name="m")), 1, h, t, **kw)
    return h.getvalue(), t.getvalue()


def test_every_bug_name_is_a_mutant():
    assert set(BUGS) == set(mutants.MUTANTS) == {b for b, _, _ in CAUGHT_AS}
    for name in BUGS:
        m = mutants.mutant(name)
        assert isinstance(m, Rules) and m.name == name
        assert mutants.mutant(name) is not m, "a fresh mutant per run: they keep per-run state"
    with pytest.raises(ValueError, match="unknown bug"):
        mutants.mutant("no-such-bug")


@pytest.mark.parametrize("name", BUGS)
def test_bug_by_name_is_the_mutant_passed_in(name):
    by_name = _bytes(bug=name)
    assert by_name == _bytes(rules=mutants.mutant(name))
    assert by_name != _bytes(), "the mutant changes the run"
    assert f'"injected_bug":"{name}"'.encode() in by_name[0].split(b"\n", 1)[0]


def test_the_core_does_not_know_the_mutants():
    for module in ("rules.py", "globaltables.py", "world.py", "lww.py", "../kernel/itemspec.py", "choices.py"):
        text = (MODEL / module).read_text()
        for name in BUGS:
            assert name not in text, (module, name)
    sim = (MODEL / "simulator.py").read_text()
    assert "self.bug" not in sim and "bug ==" not in sim


@pytest.mark.parametrize("name,prop,anomaly", CAUGHT_AS)
@pytest.mark.parametrize("with_ts", [True, False])
def test_each_mutant_is_caught_by_name(tmp_path, name, prop, anomaly, with_ts):
    r = run(dict(BUG_SCENARIO, name=f"mutant-{name}"), 2, tmp=tmp_path, rules=mutants.mutant(name))
    path = r.path if with_ts else strip(r.path, tmp_path / "stripped.jsonl")
    result = check_history(path, jobs=1, timeout_s=60, staleness_bound_ns=1_500_000_000)
    assert result.summary[prop]["valid"] is False
    assert anomaly in {a["name"] for a in result.summary[prop]["anomalies"]}


class LeaderOnly(Rules):
    """A rule set defined outside the model: every read served by the leader copy."""

    def read_copy(self, consistent, copies, copy):
        return 0


def test_a_rule_set_from_outside_the_model_is_run(tmp_path):
    r = run(dict(BUG_SCENARIO, name="leader-only"), 1, tmp=tmp_path, rules=LeaderOnly())
    assert {t["copy"] for t in r.of("read")} == {0}
    assert "injected_bug" not in r.header
    assert check_history(r.path, jobs=1).summary["valid"] is True


def test_stale_strong_read_in_the_relation():
    sc = scenario_from_dict({"name": "own", "regions": {"copies": 3, "write_quorum": 2},
                             "script": [{"at": "0ms", "region": "us-east-1", "f": "write", "key": "x",
                                         "value": {"v": 1}, "process": "c"},
                                        {"at": "1ms", "region": "us-east-1", "f": "read", "key": "x",
                                         "consistent": True, "process": "c"}]})
    reads = {}
    for label, rules in (("correct", None), ("mutant", mutants.mutant("stale-strong-read"))):
        w = Walker(GlobalTables(sc, rules))
        w.run_until(("invoke", "complete"))
        reads[label] = w.history()[-1]["value"]
    assert reads["correct"] is not None and reads["correct"]["v"] == 1
    assert reads["mutant"] is None, "the strong read missed its own region's acknowledged write"
