"""The Monte Carlo engine against a plain per-trial reference, and the laws it must keep.

The reference (``_reference``) is written from docs/model.md one trial at a time with the
model's own ``random.Random`` samplers, as the simulator carries a write and a read out;
the vectorised engine must give the same distribution of visibility thresholds
(two-sample KS on max(V, 0), the part t >= 0 sees; p > 0.001 with 20,000 trials each).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from gtcheck.forecast.visibility import EVENTUAL, STRONG, Case, thresholds
from gtcheck.model import distributions as D
from gtcheck.model.choices import MAX_COPY_LAG_NS, MAX_REPLICATION_DELAY_NS
from gtcheck.model.scenario import Messages, scenario_from_dict

N = 20_000
REGIONS = ["a", "b"]


def _scenario(**regions):
    base = {"names": REGIONS, "copies": 3, "write_quorum": 2,
            "copy_lag": {"dist": "exponential", "mean": "20ms"},
            "request_latency": {"dist": "uniform", "low": "2ms", "high": "30ms"}}
    base.update(regions)
    return scenario_from_dict({"regions": base, "replication": {
        "delay": {"dist": "lognormal", "median": "100ms", "sigma": 0.6}}})


def _reference(sc, case: Case, rng: random.Random) -> float:
    """One trial, the simulator's way (model/simulator.py ``_install`` and ``_apply``)."""
    if case.mode == STRONG and case.kind == STRONG:
        return -math.inf
    latency = sc.request_latency.sample(rng)
    lag = lambda: min(sc.copy_lag.sample(rng), MAX_COPY_LAG_NS)   # noqa: E731
    if case.writer == case.reader:
        held = [0 if c < sc.write_quorum else lag() for c in range(sc.copies)]
    else:
        d = min(sc.delay(case.writer, case.reader).sample(rng), MAX_REPLICATION_DELAY_NS)
        held = [d if c == 0 else d + lag() for c in range(sc.copies)]
    copy = 0 if case.kind == STRONG else int(rng.random() * sc.copies)
    return held[copy] - latency


def _wars_reference(sc, case: Case, rng: random.Random) -> float:
    """One trial of PBS's rule, written as its authors' simulator does (loops, sorts)."""
    m = sc.messages
    c, wq = sc.copies, sc.write_quorum
    if case.writer == case.reader:
        w = [m.write.sample(rng) for _ in range(c)]
        acks = sorted(w[i] + m.ack.sample(rng) for i in range(c))
        held = [x - acks[wq - 1] for x in w]
    else:
        d = min(sc.delay(case.writer, case.reader).sample(rng), MAX_REPLICATION_DELAY_NS)
        held = [d + m.write.sample(rng) for _ in range(c)]
    r = [m.read.sample(rng) for _ in range(c)]
    s = [m.response.sample(rng) for _ in range(c)]
    rq = sc.read_quorum if case.kind == EVENTUAL else c - wq + 1
    order = sorted(range(c), key=lambda i: r[i] + s[i])[:rq]
    return min(held[i] - r[i] for i in order)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.maximum(a, 0), np.maximum(b, 0)
    if (a == 0).all() and (b == 0).all():
        return
    res = stats.ks_2samp(a, b)
    assert res.pvalue > 1e-3, f"KS {res.statistic:.4f}, p = {res.pvalue:.2g}"


CASES = [Case(mode, w, r, kind) for mode in ("eventual", "strong") for w, r in (("a", "a"), ("a", "b"))
         for kind in (EVENTUAL, STRONG)]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_simulator_model_matches_the_per_trial_reference(case):
    sc = _scenario()
    ours = thresholds(sc, case, N, np.random.default_rng(3))
    rng = random.Random(4)
    ref = np.array([_reference(sc, case, rng) for _ in range(N)])
    _same(ours, ref)


WARS = {"messages": {"write": {"dist": "exponential", "mean": "3ms"}, "ack": {"dist": "uniform", "low": "1ms", "high": "2ms"},
                     "read": {"dist": "lognormal", "median": "1ms", "sigma": 0.5},
                     "response": {"dist": "pareto", "xm": "500us", "alpha": 2.0}},
        "copies": 4, "write_quorum": 1, "read_quorum": 2}


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_wars_model_matches_the_per_trial_reference(case):
    sc = _scenario(**WARS)
    ours = thresholds(sc, case, N, np.random.default_rng(3))
    rng = random.Random(4)
    ref = np.array([(-math.inf if case.mode == STRONG and case.kind == STRONG else _wars_reference(sc, case, rng))
                    for _ in range(N)])
    _same(ours, ref)


def test_constant_latencies_give_exact_thresholds():
    sc = scenario_from_dict({"regions": {"names": REGIONS, "copies": 1, "write_quorum": 1,
                                         "request_latency": "5ms"}, "replication": {"delay": "100ms"}})
    v = thresholds(sc, Case(EVENTUAL, "a", "b", STRONG), 1000, np.random.default_rng(1))
    assert (v == 95_000_000).all()          # fresh from t = 95 ms on: delay minus the read's latency
    v = thresholds(sc, Case(EVENTUAL, "a", "a", EVENTUAL), 1000, np.random.default_rng(1))
    assert (v == -np.inf).all()             # one copy, the write's quorum: always fresh


def test_strong_reads_in_strong_mode_are_always_fresh():
    sc = _scenario()
    for w, r in (("a", "a"), ("a", "b")):
        assert (thresholds(sc, Case(STRONG, w, r, STRONG), 100, np.random.default_rng(1)) == -np.inf).all()


dists = st.one_of(
    st.integers(0, 20_000_000).map(D.Constant),
    st.tuples(st.integers(0, 5_000_000), st.integers(0, 5_000_000)).map(lambda t: D.Uniform(min(t), max(t))),
    st.integers(1, 10_000_000).map(D.Exponential),
    st.tuples(st.integers(1, 10_000_000), st.floats(1.1, 5)).map(lambda t: D.Pareto(*t)))


@settings(max_examples=60, deadline=None)
@given(copies=st.integers(1, 5), data=st.data(), w=dists, a=dists, r=dists, s=dists)
def test_strict_quorums_are_fresh_at_once(copies, data, w, a, r, s):
    """R + W > N: a read quorum meets every write quorum, so in the writer's region a
    read is fresh from t = 0, whatever the latencies (PBS's strict quorums)."""
    import dataclasses
    wq = data.draw(st.integers(1, copies))
    rq = data.draw(st.integers(copies - wq + 1, copies))
    sc = dataclasses.replace(_scenario(), copies=copies, write_quorum=wq, read_quorum=rq,
                             messages=Messages(w, a, r, s))
    v = thresholds(sc, Case(EVENTUAL, "a", "a", EVENTUAL), 500, np.random.default_rng(2))
    assert (v <= 0).all()
    v = thresholds(sc, Case(EVENTUAL, "a", "a", STRONG), 500, np.random.default_rng(2))
    assert (v <= 0).all()
