"""Interval observations: the exact bounds, the window rules, and the truth.

The unit cases are small histories written by hand; the property is checked against the
simulator's ground truth: every interval observation holds the write's true delay (the
time its version reached the reading region's leader copy), on simulated histories with
and without faults, with both timings."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from gtcheck.checker.check import check_history
from gtcheck.forecast.observations import observe
from gtcheck.model.scenario import load_scenario, scenario_from_dict
from gtcheck.model.simulator import simulate

ROOT = Path(__file__).resolve().parents[2]
A, B = "us-east-1", "eu-west-1"
MS = 1_000_000


class Hist:
    def __init__(self, **header):
        self.events: list[dict] = []
        self.header = {"format": "gt-history", "version": 1, "regions": [A, B], "mode": "eventual",
                       "clock_uncertainty_ns": 0, **header}
        self.ts = 1000

    def op(self, f, region, t0, t1, value=None, *, key="k", consistent=True, process=None, outcome="ok"):
        p = process if process is not None else len(self.events)
        inv = {"index": len(self.events), "type": "invoke", "process": p, "region": region, "f": f, "key": key,
               "value": value if f != "read" else None, "time": t0 * MS}
        if f == "read":
            inv["consistent"] = consistent
        self.events.append(inv)
        done = {"index": len(self.events), "type": outcome, "process": p, "region": region, "f": f, "key": key,
                "value": value, "time": t1 * MS}
        if f != "read" and outcome == "ok":
            self.ts += 1
            done.update(ts=self.ts, origin=region)
        self.events.append(done)
        return inv["index"]

    def nemesis(self, t, f, value):
        self.events.append({"index": len(self.events), "type": "info", "process": "nemesis", "f": f,
                            "value": value, "time": t * MS})

    def observe(self, tmp_path, **kw):
        path = tmp_path / "h.jsonl"
        self.events.sort(key=lambda e: e["time"])
        for i, e in enumerate(self.events):
            e["index"] = i
        path.write_text("\n".join(json.dumps(x) for x in [self.header, *self.events]) + "\n")
        res = check_history(path, jobs=1, keep_reads=True, keep_writes=True)
        return observe(res, **kw)


def _link(obs, a=A, b=B):
    link = obs.links[(a, b)]
    return list(zip(link.low, link.high))


def test_a_miss_and_a_sighting_give_the_exact_interval(tmp_path):
    h = Hist()
    h.op("write", A, 0, 10, {"v": 1})
    h.op("read", B, 50, 55, None)            # missed it
    h.op("read", B, 100, 105, {"v": 1})      # saw it
    assert _link(h.observe(tmp_path, timing="completion")) == [(45 * MS, 95 * MS)]
    # bounds: missed => D > 50 - 10; saw => D <= 105 - 0
    assert _link(h.observe(tmp_path, timing="bounds")) == [(40 * MS, 105 * MS)]


def test_reads_after_the_next_write_from_the_region_say_nothing(tmp_path):
    h = Hist()
    h.op("write", A, 0, 10, {"v": 1}, process=1)
    h.op("read", B, 50, 55, None)
    h.op("write", A, 200, 210, {"v": 2}, process=1)
    h.op("read", B, 300, 305, None)          # after the next write: w1 may be coalesced
    h.op("read", B, 400, 405, {"v": 2})
    obs = h.observe(tmp_path, timing="completion")
    # w1: right-censored at the miss before the next write; w2: waits behind w1 (never seen)
    assert _link(obs) == [(45 * MS, float("inf"))]
    assert obs.links[(A, B)].queued == 1


def test_a_write_queued_behind_an_unseen_one_is_not_used(tmp_path):
    h = Hist()
    h.op("write", A, 0, 10, {"v": 1}, process=1)
    h.op("read", B, 60, 65, {"v": 1})        # w1 seen before w2 completes: w2 is clear
    h.op("write", A, 100, 110, {"v": 2}, process=1)
    h.op("read", B, 150, 155, None if False else {"v": 1})
    h.op("read", B, 200, 205, {"v": 2})
    obs = h.observe(tmp_path, timing="completion")
    assert sorted(_link(obs)) == [(0.0, 55 * MS), (45 * MS, 95 * MS)]
    assert obs.links[(A, B)].queued == 0


def test_reads_kinds_used(tmp_path):
    h = Hist()
    h.op("write", A, 0, 10, {"v": 1})
    h.op("read", B, 50, 55, None, consistent=False)
    h.op("read", B, 80, 85, None, consistent=True)
    h.op("read", B, 100, 105, {"v": 1}, consistent=False)
    h.op("read", B, 130, 135, {"v": 1}, consistent=True)
    assert _link(h.observe(tmp_path, timing="completion", reads="strong")) == [(75 * MS, 125 * MS)]
    assert _link(h.observe(tmp_path, timing="completion", reads="all")) == [(75 * MS, 95 * MS)]
    assert _link(h.observe(tmp_path, timing="completion", reads="eventual")) == [(45 * MS, 95 * MS)]


def test_faults_set_observations_aside(tmp_path):
    h = Hist()
    h.op("write", A, 0, 10, {"v": 1})
    h.nemesis(20, "partition", {"isolate": [B]})
    h.op("read", B, 50, 55, None)
    h.nemesis(500, "heal", {"isolate": [B]})
    h.op("read", B, 600, 605, {"v": 1})
    obs = h.observe(tmp_path, timing="completion")
    assert _link(obs) == [] and obs.links[(A, B)].set_aside_faults == 1
    assert [c.in_fault for c in obs.reads] == [True, True]


def test_read_cases_name_the_latest_completed_write(tmp_path):
    h = Hist()
    h.op("write", A, 0, 10, {"v": 1})
    h.op("write", B, 20, 30, {"v": 2})
    h.op("read", B, 40, 45, {"v": 2})            # fresh: the latest completed write is B's
    h.op("read", A, 50, 55, {"v": 1})            # stale: B's write (ranked higher) completed at 30
    obs = h.observe(tmp_path)
    cases = {c.reader: c for c in obs.reads}
    assert cases[B].writer == B and not cases[B].stale and cases[B].t_ns == 10 * MS
    assert cases[A].writer == B and cases[A].stale and cases[A].t_ns == 20 * MS


@pytest.mark.parametrize("scenario,timing,reads", [
    ("lognormal.toml", "completion", "strong"),
    ("lognormal.toml", "bounds", "strong"),
    ("isolated-region.toml", "completion", "strong"),
    ("slow-link.toml", "bounds", "all"),
])
def test_every_interval_holds_the_true_delay(tmp_path, scenario, timing, reads):
    """Against the simulator's ground truth (when each version reached each region's
    leader). With eventually consistent reads a miss may come from a copy that trails the
    leader by the copy lag, so with reads="all" an interval's lower end may exceed the
    leader's delay by at most the copy lag's cap."""
    sc = load_scenario(ROOT / "histories" / "scenarios" / "forecast" / scenario)
    import dataclasses
    sc = dataclasses.replace(sc, workload=dataclasses.replace(sc.workload, duration_ns=12_000 * MS))
    path = tmp_path / "h.jsonl"
    simulate(sc, 2, path, True)
    applied, done = {}, {}
    for line in (tmp_path / "h.truth.jsonl").read_bytes().splitlines():
        ev = orjson.loads(line)
        if ev["kind"] == "write" and ev["took_effect"]:
            applied[ev["index"]] = ev["applied_ns"]
    res = check_history(path, jobs=1, keep_reads=True, keep_writes=True)
    for w in res.writes:
        done[w.index] = w.complete_ns
    from gtcheck.forecast import observations as O
    seen: list[tuple] = []
    real = O._one

    def spy(obs, a, b, w, rs, end, rank, origin, delta):
        n = obs.links[(a, b)].n
        real(obs, a, b, w, rs, end, rank, origin, delta)
        if obs.links[(a, b)].n > n:
            seen.append((w.index, b, obs.links[(a, b)].low[-1], obs.links[(a, b)].high[-1]))
    O._one = spy
    try:
        obs = observe(res, timing=timing, reads=reads)
    finally:
        O._one = real
    assert len(seen) > 300 and obs.timing == timing
    slack = 1_000 * MS if reads == "all" else 0
    checked = 0
    for idx, b, low, high in seen:
        at = applied[idx][b]
        if at is None:          # coalesced into a newer version: only a lower bound exists
            assert high == float("inf")
            continue
        d = at - done[idx]
        assert low - slack < d <= high, (idx, b, low, d, high)
        checked += 1
    assert checked > 300
