"""Validation on PBS: the production fits of Bailis et al., "Probabilistically Bounded
Staleness for Practical Partial Quorums" (VLDB 2012), and the t-visibility they published.

The four configurations (N = 3 copies, R = W = 1) are scenarios in the model's own format
(``[regions.messages]``, parsed by ``gtcheck.model.scenario``; also shipped as
``histories/scenarios/pbs/*.toml``), forecast through the same code path as any scenario.
WAN spreads the three copies over three data centres (75 ms one way between them, the
write's and the read's coordinators each in a random centre), which no global-table
scenario describes: it runs the same WARS rule (``visibility.wars``) with those extra
latencies added here.

The published figures come from the paper's LaTeX source (github.com/pbailis/
pbs-vldb-historical-paper-material, ``writeup/ernst.tex`` at commit 682cc15, the camera-
ready text): Section 6.2 for P(consistent) right after commit, Table 4 (p_st = .001,
N = 3, R = W = 1) for the t of 99.9 %. The paper's own simulator (``nrw_solver/src/
Simulator.java`` there) draws YMMR's write latency from Pareto(3 ms, alpha 3.5), while the
paper's Table 3 prints alpha 3.35; both are available here (``YMMR`` and ``YMMR-3.35``).

How the paper estimated its t: for each t of a grid it ran 50,000 fresh trials and
reported the first t whose share of consistent reads reached 99.9 % (sim-graphs/
graphsmallps.py). ``paper_estimates`` replays that estimator on our thresholds, so a
published t is compared with the spread that estimator has, not with a point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gtcheck.forecast.curves import Curve
from gtcheck.forecast.visibility import EVENTUAL, Case, commit_wars, thresholds, wars
from gtcheck.forecast.sampling import draw
from gtcheck.model.scenario import Scenario, scenario_from_dict

MS = 1_000_000
PAPER_TRIALS = 50_000          # trials per t of the paper's Table 4 sweep
PAPER_P = 0.999
DC = "dc"


def _exp(rate_per_ms: float) -> dict[str, Any]:
    """An exponential of rate lambda (1/ms), as the model writes it: its mean in ns."""
    return {"dist": "exponential", "mean": f"{round(1e6 / rate_per_ms)}ns"}


def _mix(pareto_share: float, xm_ms: float, alpha: float, rate_per_ms: float) -> dict[str, Any]:
    return {"dist": "mixture", "components": [
        {"weight": pareto_share, "dist": "pareto", "xm": f"{round(xm_ms * 1e6)}ns", "alpha": alpha},
        {"weight": round(1 - pareto_share, 6), **_exp(rate_per_ms)}]}


SSD = _mix(0.9122, 0.235, 10.0, 1.66)
DISK_W = _mix(0.38, 1.05, 1.51, 0.183)
YMMR_ARS = _mix(0.982, 1.5, 3.8, 0.0217)


def ymmr_w(alpha: float) -> dict[str, Any]:
    return _mix(0.939, 3.0, alpha, 0.0028)


def _scenario(name: str, w: dict[str, Any], ars: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": f"PBS (VLDB 2012) production fit {name}: N = 3, R = W = 1",
            "regions": {"names": [DC], "copies": 3, "write_quorum": 1, "read_quorum": 1,
                        "messages": {"write": w, "ack": ars, "read": ars, "response": ars}}}


# name -> the scenario table (the model's format)
SCENARIOS: dict[str, dict[str, Any]] = {
    "LNKD-SSD": _scenario("LNKD-SSD", SSD, SSD),
    "LNKD-DISK": _scenario("LNKD-DISK", DISK_W, SSD),
    "YMMR": _scenario("YMMR", ymmr_w(3.5), YMMR_ARS),
    "YMMR-3.35": _scenario("YMMR-3.35", ymmr_w(3.35), YMMR_ARS),
}
WAN_DELAY_NS = 75 * MS
WAN_BASE = "LNKD-DISK"


@dataclass(frozen=True)
class Published:
    p0: float              # P(consistent) immediately after commit, as printed
    p0_unit: float         # the printed precision (0.001 for 97.4 %, 0.01 for "33 %")
    t999_ms: float         # Table 4, t for 99.9 %
    grid_ms: float         # the step of the t grid that figure implies
    grid_from_ms: float    # where the sweep started


PUBLISHED = {
    "LNKD-SSD": Published(0.974, 0.001, 1.85, 0.01, 0.0),
    "LNKD-DISK": Published(0.439, 0.001, 45.5, 0.1, 0.0),
    "YMMR": Published(0.893, 0.001, 1364.0, 1.0, 1.0),
    "YMMR-3.35": Published(0.893, 0.001, 1364.0, 1.0, 1.0),
    "WAN": Published(0.33, 0.01, 113.0, 1.0, 0.0),
}
CONFIGS = ("LNKD-SSD", "LNKD-DISK", "YMMR", "YMMR-3.35", "WAN")


def scenario(name: str) -> Scenario:
    return scenario_from_dict(SCENARIOS[name], name=name)


def wan_thresholds(n: int, rng: np.random.Generator) -> np.ndarray:
    """WAN: LNKD-DISK's messages, one copy per data centre; a message to a copy outside
    the coordinator's centre takes 75 ms more, each way. The write's and the read's
    coordinators sit in independently chosen random centres (the paper's simulator)."""
    m = scenario(WAN_BASE).messages
    assert m is not None
    c = 3
    w, a = (draw(d, rng, n * c).reshape(n, c) for d in (m.write, m.ack))
    r, s = (draw(d, rng, n * c).reshape(n, c) for d in (m.read, m.response))
    col = np.arange(c)[None, :]
    remote_w = (col != rng.integers(0, c, n)[:, None]) * float(WAN_DELAY_NS)
    remote_r = (col != rng.integers(0, c, n)[:, None]) * float(WAN_DELAY_NS)
    held = commit_wars(w + remote_w, a + remote_w, 1)
    return wars(held, r + remote_r, s + remote_r, 1)


def curve(name: str, n: int, seed: int) -> Curve:
    rng = np.random.default_rng([seed, CONFIGS.index(name)])
    if name == "WAN":
        return Curve.of(wan_thresholds(n, rng))
    return Curve.of(thresholds(scenario(name), Case(EVENTUAL, DC, DC, EVENTUAL), n, rng))


def paper_estimates(c: Curve, pub: Published, rng: np.random.Generator, replicas: int = 2000) -> np.ndarray:
    """The paper's estimator of the t for 99.9 %, replayed ``replicas`` times on our curve:
    at each grid t, a Binomial(50,000, P(stale at t)) count of stale reads; the first t
    where at most 50 of them are stale. Returns the estimates (ms)."""
    top = max(c.quantile(PAPER_P) / MS * 3, pub.t999_ms * 2)
    grid = np.arange(pub.grid_from_ms, top + pub.grid_ms, pub.grid_ms)
    stale = 1.0 - c.p_fresh_many(grid * MS)
    counts = rng.binomial(PAPER_TRIALS, np.broadcast_to(stale, (replicas, len(grid))))
    ok = counts <= PAPER_TRIALS * (1 - PAPER_P) + 1e-9
    first = np.where(ok.any(axis=1), ok.argmax(axis=1), len(grid) - 1)
    return grid[first]


@dataclass
class Comparison:
    name: str
    trials: int
    p0: float
    p0_ci: tuple[float, float]
    p0_tolerance: float
    t999_ms: float
    t999_ci_ms: tuple[float, float]
    paper_range_ms: tuple[float, float]     # where the paper's estimator lands, 99 % of the time
    published: Published

    @property
    def p0_ok(self) -> bool:
        return abs(self.p0 - self.published.p0) <= self.p0_tolerance

    @property
    def t_ok(self) -> bool:
        return self.paper_range_ms[0] <= self.published.t999_ms <= self.paper_range_ms[1]


def p0_tolerance(p: float, unit: float, trials: int) -> float:
    """How far a published P(consistent at 0) may be from ours: three standard errors of
    the paper's 50,000-trial estimate, three of ours, and half the printed precision."""
    return (3 * (p * (1 - p) / PAPER_TRIALS) ** 0.5 + 3 * (p * (1 - p) / trials) ** 0.5 + unit / 2)


def compare(name: str, trials: int = 1_000_000, seed: int = 1) -> Comparison:
    c = curve(name, trials, seed)
    pub = PUBLISHED[name]
    est = paper_estimates(c, pub, np.random.default_rng([seed, 99, CONFIGS.index(name)]))
    lo, hi = c.quantile_ci(PAPER_P)
    p0 = c.p_fresh(0.0)
    return Comparison(name, trials, p0, c.p_fresh_ci(0.0), p0_tolerance(p0, pub.p0_unit, trials),
                      c.quantile(PAPER_P) / MS, (lo / MS, hi / MS),
                      (float(np.quantile(est, 0.005)), float(np.quantile(est, 0.995))), pub)


def table(rows: list[Comparison]) -> str:
    head = ["config", "P(fresh at 0): ours [95% CI]", "paper", "ok", "t 99.9%: ours [95% CI]",
            "paper", "paper's estimator on ours (99%)", "ok"]
    body = []
    for r in rows:
        body.append([r.name, f"{r.p0 * 100:.2f}% [{r.p0_ci[0] * 100:.2f}, {r.p0_ci[1] * 100:.2f}]",
                     f"{r.published.p0 * 100:g}% ±{r.p0_tolerance * 100:.2f}", "yes" if r.p0_ok else "NO",
                     f"{r.t999_ms:.4g} ms [{r.t999_ci_ms[0]:.4g}, {r.t999_ci_ms[1]:.4g}]",
                     f"{r.published.t999_ms:g} ms",
                     f"{r.paper_range_ms[0]:.4g}-{r.paper_range_ms[1]:.4g} ms", "yes" if r.t_ok else "NO"])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip() for row in body]
    return "\n".join(lines) + "\n"
