"""Every decision of the model goes through one ``Choices`` object, and the timed driver
writes to sinks it is given (it opens no files)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import orjson

from gtcheck.model.choices import SeededChoices
from gtcheck.model.history_writer import ListSink
from gtcheck.model.scenario import load_scenario, scenario_from_dict
from gtcheck.model.simulator import Simulator, simulate
from tests.simhelp import SCENARIOS

MODEL = Path(__file__).resolve().parents[2] / "model"
SMALL = {"name": "small", "workload": {"keys": 5, "rate": 200, "duration": "3s"},
         "replication": {"coalesce": 1.0},
         "faults": [{"kind": "isolate", "region": "eu-west-1", "at": "1s", "duration": "1s"}]}


def test_no_rule_or_driver_draws_randomness_of_its_own():
    # the streams live in choices.py; distributions.py and workload.py draw from the ones passed in
    modules = [p for p in MODEL.glob("*.py") if p.name not in ("choices.py", "distributions.py", "workload.py")]
    assert len(modules) >= 10
    for path in modules + [MODEL.parent / "kernel" / "itemspec.py"]:
        module = path.name
        text = path.read_text()
        assert not re.search(r"^\s*(import random|from random)", text, re.M), module
        assert "random.Random(" not in text, module


def test_the_simulator_writes_to_the_sinks_it_is_given():
    sc = scenario_from_dict(SMALL)
    out, truth = ListSink(), ListSink()
    summary = Simulator(sc, 3, out, truth).run()
    assert out.closed and truth.closed
    history, sidecar = io.BytesIO(), io.BytesIO()
    simulate(sc, 3, history, sidecar)
    assert [orjson.dumps(e) for e in out.items] == history.getvalue().splitlines()
    assert [orjson.dumps(e) for e in truth.items] == sidecar.getvalue().splitlines()
    assert summary.events == len(out.items) - 1


class Decided(SeededChoices):
    """The seeded streams, with two decisions taken by the caller instead."""

    def __init__(self, scenario, seed):
        super().__init__(scenario, seed)
        self.asked: dict[str, int] = {}

    def coalesce(self, probability: float) -> bool:
        self.asked["coalesce"] = self.asked.get("coalesce", 0) + 1
        super().coalesce(probability)
        return False

    def eventual_copy(self, copies: int) -> int:
        self.asked["eventual_copy"] = self.asked.get("eventual_copy", 0) + 1
        super().eventual_copy(copies)
        return copies - 1


def test_the_simulator_takes_its_decisions_from_the_choices_it_is_given():
    sc = scenario_from_dict(SMALL)
    default, decided = ListSink(), ListSink()
    Simulator(sc, 1, ListSink(), default).run()
    choices = Decided(sc, 1)
    Simulator(sc, 1, ListSink(), decided, choices=choices).run()
    coalesced = lambda sink: [t for t in sink.items if t.get("kind") == "write" and t["took_effect"]  # noqa: E731
                              and None in t["applied_ns"].values()]
    assert coalesced(default), "with coalesce = 1 the seeded run drops queued versions"
    assert coalesced(decided) == [] and choices.asked["coalesce"] > 0
    eventual = {t["copy"] for t in decided.items if t.get("kind") == "read"} - {0}
    assert eventual == {sc.copies - 1} and choices.asked["eventual_copy"] > 0


def test_the_default_choices_are_the_seeded_streams():
    for path in (SCENARIOS / "failover.toml", SCENARIOS / "ttl.toml"):
        sc = load_scenario(path)
        a, b = ListSink(), ListSink()
        Simulator(sc, 5, a, None).run()
        Simulator(sc, 5, b, None, choices=SeededChoices(sc, 5)).run()
        assert a.items == b.items, path.name
