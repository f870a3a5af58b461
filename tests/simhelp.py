"""Run the model in tests and read back what it wrote (history events and ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gtcheck.model.lww import Version, merge
from gtcheck.model.rules import Rules
from gtcheck.model.scenario import Scenario, load_scenario, scenario_from_dict
from gtcheck.model.simulator import simulate

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "histories" / "scenarios"


@dataclass
class Run:
    header: dict[str, Any]
    events: list[dict[str, Any]]
    truth: list[dict[str, Any]]
    path: Path
    ops: dict[int, dict[str, Any]] = field(default_factory=dict)   # invoke index -> merged op

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [t for t in self.truth if t["kind"] == kind]

    def finals(self, key: str) -> dict[str, Any]:
        """region -> the value the final read returned."""
        return {o["region"]: o["value"] for o in self.ops.values()
                if o["f"] == "read" and o["key"] == key and o["time"] >= self.header["settled_after_ns"]}

    def completed(self, f: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.ops.values() if (f is None or o["f"] == f) and (key is None or o["key"] == key)]

    def winners(self) -> dict[str, Version]:
        """Per key, the conflict winner among the writes that took effect, by the model's
        own rule (``lww.merge``) over the ground truth's versions."""
        out: dict[str, Version] = {}
        for t in self.of("write"):
            if t["took_effect"]:
                v = Version(t["ts"], t["origin"], t["index"], None)
                out[t["key"]] = merge(out.get(t["key"]), v)
        return out


def run(scenario: Scenario | dict[str, Any] | str, seed: int = 1, tmp: Path | None = None,
        bug: str | None = None, rules: Rules | None = None) -> Run:
    if isinstance(scenario, str):
        scenario = load_scenario(SCENARIOS / scenario)
    elif isinstance(scenario, dict):
        scenario = scenario_from_dict(scenario)
    assert tmp is not None
    path = tmp / f"{scenario.name}-{seed}.jsonl"
    simulate(scenario, seed, path, True, bug=bug, rules=rules)
    lines = path.read_bytes().splitlines()
    header = orjson.loads(lines[0])
    events = [orjson.loads(x) for x in lines[1:]]
    truth = [orjson.loads(x) for x in path.with_name(path.name.replace(".jsonl", ".truth.jsonl")).read_bytes().splitlines()]
    r = Run(header, events, truth, path)
    open_ops: dict[Any, dict[str, Any]] = {}
    for e in events:
        if e["process"] == "nemesis":
            continue
        if e["type"] == "invoke":
            open_ops[e["process"]] = dict(e, invoke_value=e["value"], invoke_time=e["time"])
        else:
            op = open_ops.pop(e["process"])
            op.update(outcome=e["type"], value=e["value"], time=op["invoke_time"], end=e["time"],
                      ts=e.get("ts"), origin=e.get("origin"))
            r.ops[op["index"]] = op
    return r
