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


class Walker:
    """A model of the protocol (``gtcheck.model.protocol``) walked one action at a time, the
    way the explorer walks it: ``enabled()``, ``step(action)``, the history so far."""

    def __init__(self, model: Any, vector: int = 0):
        self.model = model
        self.state = model.init()[vector]
        self.events: list[dict[str, Any]] = []

    def enabled(self) -> list[Any]:
        return self.model.actions(self.state)

    def step(self, action: Any) -> None:
        self.state, events = self.model.next(self.state, action)
        self.events += events

    def fingerprint(self) -> Any:
        return self.model.fingerprint(self.state)

    def history(self) -> list[dict[str, Any]]:
        return list(self.events)

    def header(self) -> dict[str, Any]:
        return self.model.header(self.state)

    def violations(self) -> list[str]:
        from gtcheck.model.protocol import ALWAYS, AT_END

        done = not self.enabled()
        out = []
        for p in self.model.properties():
            if p.kind == ALWAYS or (p.kind == AT_END and done):
                msg = p.check(self.model, self.state)
                if msg:
                    out.append(msg)
        return out

    def run_until(self, kinds: tuple[str, ...] = ("invoke", "complete", "arrive", "ack", "nemesis"),
                  choose: Any = None) -> None:
        """Take, while there is one, the first enabled action of ``kinds`` (``choose``: pick
        among them instead)."""
        while True:
            acts = [a for a in self.enabled() if a.kind in kinds]
            if not acts:
                return
            self.step(acts[0] if choose is None else choose(acts))
