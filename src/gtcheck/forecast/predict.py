"""``gtcheck predict``: per (writer region, reader region), read kind and mode, the
probability that a read invoked t after a write completed returns it, and the t for
50 / 99 / 99.9 %.

Every curve comes from ``trials`` Monte Carlo trials of ``visibility.thresholds`` with a
numpy ``Generator`` of its own, seeded from the one ``--seed`` and the curve's name
(``rng_for``), so a curve does not change when others are added or removed.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from gtcheck.forecast.curves import CONFIDENCE, Curve
from gtcheck.forecast.visibility import KINDS, STRONG, Case, thresholds
from gtcheck.kernel.units import format_duration
from gtcheck.model.scenario import Scenario

QUANTILES = (0.5, 0.99, 0.999)
GRID_POINTS = 201          # points of each curve in the JSON output and the page


def rng_for(seed: int, case: Case) -> np.random.Generator:
    """The curve's own stream: from the seed and the curve's name (stable across runs)."""
    return np.random.default_rng([seed, zlib.crc32(case.label.encode("utf-8"))])


@dataclass
class Row:
    case: Case
    curve: Curve
    p0: float
    p0_ci: tuple[float, float]
    quantiles: dict[float, tuple[float, float, float]]     # p -> (t, low, high), ns
    at: dict[int, tuple[float, float, float]] = field(default_factory=dict)   # --at t -> (p, low, high)

    def as_dict(self, grid: np.ndarray) -> dict[str, Any]:
        return {
            "mode": self.case.mode, "writer": self.case.writer, "reader": self.case.reader,
            "read": self.case.kind, "trials": self.curve.n,
            "p_fresh_at_0": self.p0, "p_fresh_at_0_ci": list(self.p0_ci),
            "t_ns": {f"{p * 100:g}%": {"t": _num(t), "low": _num(lo), "high": _num(hi)}
                     for p, (t, lo, hi) in self.quantiles.items()},
            "p_fresh_at": {str(t): {"p": p, "low": lo, "high": hi} for t, (p, lo, hi) in self.at.items()},
            "curve": {"p_fresh": [round(float(x), 7) for x in self.curve.p_fresh_many(grid)]},
        }


@dataclass
class Forecast:
    scenario: str
    seed: int
    trials: int
    rows: list[Row]
    grid: np.ndarray
    in_region: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seed": self.seed, "trials_per_curve": self.trials,
                "confidence": CONFIDENCE, "in_region_model": self.in_region,
                "intervals": {"probability": "Wilson score", "time": "order statistics (distribution-free)"},
                "grid_t_ns": [int(x) for x in self.grid], "notes": self.notes,
                "curves": [r.as_dict(self.grid) for r in self.rows]}


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 1)


def cases(scenario: Scenario, modes: list[str]) -> list[Case]:
    return [Case(mode, w, r, kind) for mode in modes for w in scenario.regions for r in scenario.regions
            for kind in KINDS]


def row_of(case: Case, th: np.ndarray, at: list[int] = []) -> Row:
    curve = Curve.of(th)
    qs = {}
    for p in QUANTILES:
        lo, hi = curve.quantile_ci(p)
        qs[p] = (curve.quantile(p), lo, hi)
    points = {t: (curve.p_fresh(t), *curve.p_fresh_ci(t)) for t in at}
    return Row(case, curve, curve.p_fresh(0.0), curve.p_fresh_ci(0.0), qs, points)


def forecast(scenario: Scenario, *, seed: int = 1, trials: int = 1_000_000, modes: list[str] | None = None,
             at: list[int] = [], progress: Callable[[int, int], None] | None = None) -> Forecast:
    """Every curve of ``scenario`` (for ``modes``, default the scenario's own mode);
    ``at``: times (ns) at which to give P(fresh) with its interval as well."""
    todo = cases(scenario, modes or [scenario.mode])
    rows = []
    for i, case in enumerate(todo):
        rows.append(row_of(case, thresholds(scenario, case, trials, rng_for(seed, case)), at))
        if progress is not None:
            progress(i + 1, len(todo))
    top = max((r.quantiles[0.999][0] for r in rows if math.isfinite(r.quantiles[0.999][0])), default=0.0)
    grid = np.linspace(0.0, max(top * 1.25, 1_000_000.0), GRID_POINTS)
    model = "WARS messages" if scenario.messages is not None else "copies, write quorum and copy lag"
    return Forecast(scenario.name, seed, trials, rows, grid, model, limits(scenario))


def limits(scenario: Scenario) -> list[str]:
    """What the scenario holds that a forecast does not model (said with the output)."""
    out = []
    if scenario.faults or scenario.random_faults.count:
        out.append("faults are not forecast: the curves describe the healthy table")
    if any(c.offset_ns or c.drift_ppm or c.offset_max_ns is not None for c in scenario.clocks.values()):
        out.append("clock offsets are not forecast: with one write at a time they do not change visibility")
    out.append("one write at a time: per-link order behind older versions and coalescing are not in the forecast")
    return out


def _p(p: float, lo: float, hi: float) -> str:
    return f"{p * 100:.2f}% [{lo * 100:.2f}, {hi * 100:.2f}]"


def _t(x: float) -> str:
    if not math.isfinite(x):
        return "never"
    return "0" if x == 0 else format_duration(int(round(x)))


def table(fc: Forecast) -> str:
    """The forecast as a text table (one row per curve)."""
    head = (f"forecast for scenario {fc.scenario!r}: {fc.trials:,} trials per curve, seed {fc.seed}; "
            f"in-region model: {fc.in_region}\n"
            f"[brackets]: {CONFIDENCE:.0%} confidence intervals (Wilson for probabilities, order "
            "statistics for times)\n")
    at = list(fc.rows[0].at) if fc.rows else []
    cols = (["mode", "writer -> reader", "read", "P(fresh at t=0)"] + [f"P(fresh at {_t(t)})" for t in at]
            + ["t 50%", "t 99%", "t 99.9%"])
    lines = []
    for r in fc.rows:
        c = r.case
        cells = [c.mode, f"{c.writer} -> {c.reader}", c.kind, _p(r.p0, *r.p0_ci)]
        cells += [_p(*r.at[t]) for t in at]
        for p in QUANTILES:
            t, lo, hi = r.quantiles[p]
            cells.append(_t(t) if t == 0 and hi == 0 else f"{_t(t)} [{_t(lo)}, {_t(hi)}]")
        lines.append(cells)
    widths = [max(len(x) for x in col) for col in zip(cols, *lines)]
    out = [head, "  ".join(h.ljust(w) for h, w in zip(cols, widths)).rstrip()]
    out += ["  ".join(x.ljust(w) for x, w in zip(cells, widths)).rstrip() for cells in lines]
    for note in fc.notes:
        out.append(f"note: {note}")
    return "\n".join(out) + "\n"


def html_page(fc: Forecast) -> str:
    """The curves as a self-contained page (``--html``)."""
    from gtcheck.forecast.html import Chart, Section, Series, page

    grid = [float(x) for x in fc.grid]
    sections = []
    for mode in dict.fromkeys(r.case.mode for r in fc.rows):
        for kind in KINDS:
            rows = [r for r in fc.rows if r.case.mode == mode and r.case.kind == kind]
            if mode == STRONG and kind == STRONG:
                sections.append(Section(f"{mode} mode, {kind} reads",
                                        ["A strongly consistent read in strong mode returns the latest "
                                         "acknowledged write: fresh at every t, in every region."]))
                continue
            fresh = [Series(f"{r.case.writer} -> {r.case.reader}", grid,
                            [float(x) for x in r.curve.p_fresh_many(fc.grid)]) for r in rows]
            stale = [Series(s.label, s.xs, [1.0 - y for y in s.ys]) for s in fresh]
            head = ["writer -> reader", "P(fresh at t=0)", "t 50%", "t 99%", "t 99.9%"]
            body = [[f"{r.case.writer} -> {r.case.reader}", f"{r.p0 * 100:.2f}%"]
                    + [_t(r.quantiles[p][0]) for p in QUANTILES] for r in rows]
            sections.append(Section(f"{mode} mode, {kind} reads", [], [
                Chart("P(the read returns the write, or a newer one)", "P(fresh)", fresh),
                Chart("P(stale), log scale", "P(stale)", stale, log_y=True)], (head, body)))
    intro = [f"{fc.trials:,} Monte Carlo trials per curve, seed {fc.seed}; in-region model: {fc.in_region}. "
             "A read invoked t after a write completed (in the writer's region) is fresh when it "
             "returns that write or a newer one."] + [f"Note: {n}" for n in fc.notes]
    return page(f"gtcheck predict: {fc.scenario}", intro, sections)
