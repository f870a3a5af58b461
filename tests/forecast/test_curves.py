"""Curves' own confidence intervals: known values, and coverage checked by repetition."""

from __future__ import annotations

import numpy as np
import pytest

from gtcheck.forecast.curves import Curve, wilson


def test_wilson_known_values():
    # 81 of 263: centre 0.31075, half-width 0.05546 (worked by hand from the formula); 0 of 100: z^2 / (n + z^2)
    lo, hi = wilson(81, 263, 0.95)
    assert lo == pytest.approx(0.2553, abs=1e-4) and hi == pytest.approx(0.3662, abs=1e-4)
    lo, hi = wilson(0, 100, 0.95)
    assert lo == pytest.approx(0, abs=1e-12) and hi == pytest.approx(0.0370, abs=1e-4)
    assert wilson(100, 100)[1] == 1.0


def test_quantile_is_nearest_rank_and_never_negative():
    c = Curve.of(np.array([-5.0, -np.inf, 1.0, 2.0, 3.0]))
    assert c.quantile(0.2) == 0 and c.quantile(0.4) == 0 and c.quantile(0.6) == 1.0 and c.quantile(1.0) == 3.0
    assert c.p_fresh(0) == 0.4 and c.p_fresh(2.5) == 0.8


@pytest.mark.parametrize("p", [0.5, 0.99])
def test_quantile_interval_covers_the_truth(p):
    """Over 400 repetitions of 2,000 exponential draws, the 95 % interval of the p-quantile
    holds the true quantile in 91-99 % of them (binomial spread of 400 trials around the
    order-statistic interval's conservative coverage of at least 95 %)."""
    rng = np.random.default_rng(5)
    truth = -np.log(1 - p)
    hits = 0
    for _ in range(400):
        lo, hi = Curve.of(rng.exponential(1.0, 2_000)).quantile_ci(p)
        hits += lo <= truth <= hi
    assert 0.91 <= hits / 400 <= 0.995


def test_probability_interval_covers_the_truth():
    rng = np.random.default_rng(6)
    truth = 1 - np.exp(-0.1)       # P(Exp(1) <= 0.1)
    hits = 0
    for _ in range(400):
        lo, hi = Curve.of(rng.exponential(1.0, 2_000)).p_fresh_ci(0.1)
        hits += lo <= truth <= hi
    assert 0.91 <= hits / 400 <= 0.99
