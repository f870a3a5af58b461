"""The catalogue of what global tables do to applications (docs/catalogue.md): for each
behaviour, its scripted scenario under ``histories/scenarios/behaviours/``, the invariant
it breaks and the outcome the documentation states; the kept counterexample (history,
ground truth, report) lives under ``histories/catalogue/``; ``search_base`` is the
configuration ``gtcheck search`` finds it in (the scenario without its script, with a
workload of the kinds of request involved).

    python -m gtcheck.search.catalogue histories/catalogue     # rewrite the kept files and
                                                               # results.json (search, explore)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtcheck.kernel.outfiles import make_directory, write_bytes, write_text
from gtcheck.model.scenario import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[3]   # the checkout: src/gtcheck/search/ -> root
BEHAVIOURS = ROOT / "histories" / "scenarios" / "behaviours"
KEPT = ROOT / "histories" / "catalogue"
SEED = 1


@dataclass(frozen=True)
class Entry:
    name: str                  # the scenario file's stem
    title: str
    invariant: str             # in gtcheck.search.invariants
    outcome: str               # a fragment of the invariant's message on the kept run
    mix: dict[str, float] = field(default_factory=dict)
    strong_reads: float = 0.5
    explore: bool = True       # small enough to explore completely
    keys: int = 1              # keys the search's workload touches

    @property
    def path(self) -> Path:
        return BEHAVIOURS / f"{self.name}.toml"

    def scenario(self) -> Scenario:
        return load_scenario(self.path)

    def search_base(self) -> Scenario:
        src = dict(self.scenario().source)
        src.pop("script", None)
        wl = dict(src.get("workload", {}))
        wl.update(keys=self.keys, mix=self.mix, strong_reads=self.strong_reads, random=True)
        src["workload"] = wl
        return scenario_from_dict(src, name=f"{self.name}-search")


ENTRIES = (
    Entry("lost-update", "Concurrent attribute updates in two regions: one is lost",
          "no_acknowledged_write_lost", "1 acknowledged write(s) lost", {"write": 1, "update": 2}),
    Entry("lost-increment", "Counter increments lost", "counter_matches_increments",
          "3 increments acknowledged", {"increment": 1}),
    Entry("double-create", "A conditional create succeeds twice", "create_at_most_once",
          "succeeded 2 times", {"cas": 1}),
    Entry("optimistic-locking", "Optimistic locking defeated across regions", "optimistic_locking",
          "2 writers all succeeded from ver = 0", {"write": 1, "conditional_update": 2}),
    Entry("read-your-writes-failover", "Read-your-writes broken after failover", "read_your_writes",
          "its own write is missing", {"write": 1, "read": 2}, strong_reads=1.0),
    Entry("isolation-lww", "Writes on both sides of an isolation; after heal, acknowledged writes vanish",
          "no_acknowledged_write_lost", "1 acknowledged write(s) lost", {"write": 1}),
    Entry("clock-offset-loses", "A clock offset makes a later write lose", "no_acknowledged_write_lost",
          "acknowledged write 2 vanished", {"write": 1}),
    Entry("partial-transaction", "A transaction seen partially in another region", "money_conserved",
          "a transaction seen partially", {"transaction": 1, "read": 3}, strong_reads=1.0, explore=False, keys=2),
    Entry("eventual-read-backwards", "An eventually consistent read goes backwards", "monotonic_reads",
          "going backwards", {"write": 1, "read": 3}, strong_reads=0.0, explore=False),
    Entry("delete-races-put", "A delete racing a put", "no_acknowledged_write_lost",
          "acknowledged write 2 vanished", {"write": 1, "delete": 1}),
)


def by_name(name: str) -> Entry:
    for e in ENTRIES:
        if e.name == name:
            return e
    raise KeyError(name)


def judge(entry: Entry, run: Any) -> Any:
    from gtcheck.search import invariants

    return getattr(invariants, entry.invariant)(run)


def write_kept(out: Path = KEPT) -> list[Path]:
    """Simulate every entry's scenario (seed 1) and keep its history, truth and report."""
    from gtcheck.checker.check import check_history
    from gtcheck.checker.report import write_report
    from gtcheck.search.run import invariant_property, run_from_bytes
    from gtcheck.search.search import run_bytes

    make_directory(out)
    written = []
    for e in ENTRIES:
        h, t = run_bytes(e.scenario(), SEED)
        hist = out / f"{e.name}.jsonl"
        write_bytes(hist, h)
        write_bytes(out / f"{e.name}.truth.jsonl", t)
        cr = check_history(hist, jobs=1, keep_reads=True)
        verdict = invariant_property(e.invariant)(run_from_bytes(h, t), h)
        finding = None if verdict.holds else {"name": e.invariant, "message": verdict.message,
                                              "cited": verdict.cited}
        write_report(hist, out / f"{e.name}.html", check_result=cr, finding=finding)
        written.append(hist)
    return written


def results(budget: int = 1500) -> dict[str, Any]:
    """Search and exploration results for every entry (no timings: the same every run)."""
    from gtcheck.search.explore import explore
    from gtcheck.search.run import invariant_property
    from gtcheck.search.search import search

    out: dict[str, Any] = {}
    for e in ENTRIES:
        prop = invariant_property(e.invariant)
        r = search(e.search_base(), prop, budget=budget, seed=0)
        row: dict[str, Any] = {"invariant": e.invariant, "search": {
            "seed": 0, "budget": budget, "found_at_run": r.runs_to_find, "runs": r.runs,
            "shrunk_requests": r.requests, "message": r.found.verdict.message if r.found else None}}
        if e.explore:
            ex = explore(e.scenario(), max_states=300_000, invariants=[(e.invariant, prop)])
            p = ex.properties[e.invariant]
            row["explore"] = {"states": ex.states, "edges": ex.edges, "complete": ex.complete,
                              "holds": p["holds"], "shortest_path": p.get("path"),
                              "message": p.get("message")}
        out[e.name] = row
    return out


if __name__ == "__main__":
    import json

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else KEPT
    for p in write_kept(target):
        print(p)
    write_text(target / "results.json", json.dumps(results(), indent=1) + "\n")
    print(target / "results.json")
