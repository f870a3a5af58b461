"""Closing the loop: the recording's measured staleness, the fitted scenario's forecast at
the recording's own read delays, and a simulation of the fitted scenario, side by side.

* **measured**: the share of the recording's reads the checker found stale (a read is
  stale when a write ranked above the version it returned completed before it began). The
  reads counted: every judged read of the workload (not the final phase) that had some
  completed write of its key before it; the others have nothing to miss.
* **predicted**: for each of those reads, the forecast probability that it is stale, given
  its own delay t since the latest write it should have seen and the region pair
  (``visibility.thresholds`` under the fitted scenario), averaged. During a fault the
  model's own rule moves the write's departure: a version cannot leave while its link is
  cut (``FaultPlan.link_cut_until``, the rule the simulator uses), so such a read is
  forecast at t minus the wait.
* **simulated**: ``gtcheck simulate`` of the fitted scenario (same seed), checked, and the
  same share over its reads.

The forecast is of one write at a time on the recorded delays; what it leaves out (another
write of the item queued on the link, coalescing) is what separates predicted from
measured when the recording writes an item from one region faster than it replicates.
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gtcheck.forecast.curves import Curve
from gtcheck.forecast.observations import ReadCase
from gtcheck.forecast.predict import rng_for
from gtcheck.forecast.visibility import EVENTUAL, STRONG, Case, thresholds
from gtcheck.model.faults import FaultPlan
from gtcheck.model.scenario import Scenario

BINS = 20
MIN_PER_BIN = 20


@dataclass
class Row:
    writer: str
    reader: str
    kind: str
    phase: str                 # healthy | fault
    reads: int = 0
    measured: int = 0
    predicted: float = 0.0     # expected stale reads
    sim_reads: int = 0
    sim_stale: int = 0

    @property
    def label(self) -> str:
        return f"{self.writer} -> {self.reader}"

    def shares(self) -> tuple[float | None, float | None, float | None]:
        m = self.measured / self.reads if self.reads else None
        p = self.predicted / self.reads if self.reads else None
        s = self.sim_stale / self.sim_reads if self.sim_reads else None
        return m, p, s


@dataclass
class Comparison:
    rows: list[Row]
    total: Row
    curves: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    simulated: bool = True
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def row(r: Row) -> dict[str, Any]:
            m, p, s = r.shares()
            return {"writer": r.writer, "reader": r.reader, "read": r.kind, "phase": r.phase, "reads": r.reads,
                    "measured_stale": m, "predicted_stale": p, "simulated_reads": r.sim_reads, "simulated_stale": s}
        return {"total": row(self.total), "rows": [row(r) for r in self.rows], "notes": self.notes}


class Forecaster:
    """The fitted scenario's curves, drawn once per (writer, reader, read kind)."""

    def __init__(self, scenario: Scenario, seed: int, trials: int):
        self.sc, self.seed, self.trials = scenario, seed, trials
        self.curves: dict[tuple[str, str, str], Curve] = {}
        self.plan = FaultPlan(scenario, [])

    def curve(self, writer: str, reader: str, kind: str) -> Curve:
        key = (writer, reader, kind)
        c = self.curves.get(key)
        if c is None:
            case = Case(self.sc.mode, writer, reader, kind)
            c = self.curves[key] = Curve.of(thresholds(self.sc, case, self.trials, rng_for(self.seed, case)))
        return c

    def departure(self, writer: str, reader: str, t: int) -> int:
        """When a version made at ``t`` (scenario time) can leave: the model's rule
        (``rules.link_arrival``'s wait while the link is cut)."""
        if writer == reader or not self.plan.any_cut:
            return t
        healed = self.plan.link_cut_until(writer, reader, t)
        while healed is not None:
            t = healed
            healed = self.plan.link_cut_until(writer, reader, t)
        return t

    def p_stale(self, cases: list[ReadCase], t0: int) -> np.ndarray:
        """The forecast probability that each read is stale."""
        out = np.empty(len(cases))
        groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        ts = np.empty(len(cases))
        for i, c in enumerate(cases):
            groups[(c.writer, c.reader, STRONG if c.consistent else EVENTUAL)].append(i)
            t = c.t_ns
            if c.in_fault:
                t = c.invoke_ns - (self.departure(c.writer, c.reader, c.write_complete_ns - t0) + t0)
            ts[i] = t
        for (w, r, kind), idx in groups.items():
            ix = np.array(idx)
            out[ix] = 1.0 - self.curve(w, r, kind).p_fresh_many(ts[ix])
        return out


def _rows(cases: list[ReadCase], p: np.ndarray | None, rows: dict[tuple[str, str, str, str], Row]) -> None:
    for i, c in enumerate(cases):
        kind = STRONG if c.consistent else EVENTUAL
        key = (c.writer, c.reader, kind, "fault" if c.in_fault else "healthy")
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(*key)
        if p is None:
            row.sim_reads += 1
            row.sim_stale += c.stale
        else:
            row.reads += 1
            row.measured += c.stale
            row.predicted += float(p[i])


def binned(cases: list[ReadCase], top_ns: float) -> tuple[list[float], list[float]]:
    """Fresh share of reads by their own delay t (equal-width bins up to ``top_ns``)."""
    if not cases:
        return [], []
    t = np.array([c.t_ns for c in cases], dtype=np.float64)
    fresh = np.array([not c.stale for c in cases])
    edges = np.linspace(0.0, top_ns, BINS + 1)
    xs, ys = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (t >= lo) & (t < hi)
        if m.sum() >= MIN_PER_BIN:
            xs.append(float(t[m].mean()))
            ys.append(float(fresh[m].mean()))
    return xs, ys


def compare(cases: list[ReadCase], scenario: Scenario, t0: int, *, seed: int = 1, trials: int = 200_000,
            simulate_too: bool = True, sim_cases: list[ReadCase] | None = None) -> Comparison:
    """Measured vs predicted (and, with ``simulate_too``, simulated) stale shares."""
    fc = Forecaster(scenario, seed, trials)
    p = fc.p_stale(cases, t0)
    rows: dict[tuple[str, str, str, str], Row] = {}
    _rows(cases, p, rows)
    notes = []
    if simulate_too and sim_cases is None:
        sim_cases = simulated_cases(scenario, seed)
    if sim_cases is not None:
        _rows(sim_cases, None, rows)
    total = Row("all", "all", "all", "all")
    for r in rows.values():
        total.reads += r.reads
        total.measured += r.measured
        total.predicted += r.predicted
        total.sim_reads += r.sim_reads
        total.sim_stale += r.sim_stale
    cmp = Comparison(sorted(rows.values(), key=lambda r: (r.phase, r.writer, r.reader, r.kind)), total,
                     simulated=sim_cases is not None, notes=notes)
    for (w, r, kind) in sorted({(c.writer, c.reader, STRONG if c.consistent else EVENTUAL) for c in cases}):
        if w == r:
            continue
        curve = fc.curve(w, r, kind)
        top = max(curve.quantile(0.999), 1e6)
        grid = np.linspace(0.0, top, 121)
        healthy = [c for c in cases if not c.in_fault and c.writer == w and c.reader == r
                   and (STRONG if c.consistent else EVENTUAL) == kind]
        sim = [c for c in sim_cases or [] if not c.in_fault and c.writer == w and c.reader == r
               and (STRONG if c.consistent else EVENTUAL) == kind]
        cmp.curves[(w, r, kind)] = {"grid": grid.tolist(), "predicted": curve.p_fresh_many(grid).tolist(),
                                    "measured": binned(healthy, top), "simulated": binned(sim, top)}
    return cmp


def simulated_cases(scenario: Scenario, seed: int) -> list[ReadCase]:
    """Simulate the fitted scenario, check it, and its read cases (the same definitions)."""
    from gtcheck.checker.check import check_history
    from gtcheck.forecast.observations import observe
    from gtcheck.model.simulator import simulate

    with tempfile.TemporaryDirectory(prefix="gtcheck-fit-") as d:
        path = Path(d) / "simulated.jsonl"
        simulate(scenario, seed, path, False)
        result = check_history(path, jobs=1, keep_reads=True, keep_writes=True)
        return observe(result).reads


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.2f}%"


def table(cmp: Comparison) -> str:
    head = ["writer -> reader", "read", "phase", "reads", "measured stale", "predicted stale", "difference",
            "simulated stale"]
    body = []
    for r in cmp.rows + [cmp.total]:
        if r.reads == 0 and r is not cmp.total:
            continue
        m, p, s = r.shares()
        diff = "-" if m is None or p is None else f"{(p - m) * 100:+.2f} pts"
        body.append([r.label if r is not cmp.total else "all reads", r.kind, r.phase, str(r.reads), _pct(m), _pct(p),
                     diff, _pct(s) + (f" of {r.sim_reads}" if r.sim_reads else "")])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in body]
    m, p, _ = cmp.total.shares()
    if m is not None and p is not None:
        se = math.sqrt(max(m * (1 - m), 1e-12) / max(cmp.total.reads, 1))
        lines.append(f"predicted - measured over all {cmp.total.reads} reads: {(p - m) * 100:+.2f} points "
                     f"(the measured share's own standard error: {se * 100:.2f} points)")
    return "\n".join(lines) + "\n"
