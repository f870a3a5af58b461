"""The vectorised samplers draw the model's distributions (one definition: the model's).

For each family, 50,000 draws of the model's own sampler (``random.Random``, what the
simulator uses) and 50,000 of ``forecast.sampling.draw`` (numpy) are compared with a
two-sample Kolmogorov-Smirnov test. The tolerance: the test fails when the KS p-value is
below 0.001 (for two samples of 50,000 that is a largest CDF gap of about 0.012); a wrong
parameter or transformation gives gaps of several tenths and p-values of ~0. Seeds are
fixed, so the test is deterministic.
"""

from __future__ import annotations

import dataclasses
import inspect
import random

import numpy as np
import pytest
from scipy import stats

from gtcheck.forecast.sampling import SAMPLERS, capped, draw
from gtcheck.model import distributions as D

N = 50_000
P_MIN = 1e-3

CASES = [
    D.Constant(5_000_000),
    D.Uniform(2_000_000, 8_000_000),
    D.Exponential(1_000_000),
    D.Exponential(602_410, 100_000),
    D.LogNormal(250_000_000, 0.5),
    D.LogNormal(250_000_000, 1.5, 400_000_000),
    D.Pareto(235_000, 10.0),
    D.Pareto(1_050_000, 1.51),
    D.Pareto(1_000_000, 0.8, 50_000_000),
    D.Mixture((0.9122, 0.0878), (D.Pareto(235_000, 10.0), D.Exponential(602_410))),
    D.Mixture((0.38, 0.62), (D.Pareto(1_050_000, 1.51), D.Exponential(5_464_481))),
    D.Mixture((1.0, 3.0, 2.0), (D.Constant(1_000_000), D.LogNormal(5_000_000, 0.3), D.Uniform(0, 9_000_000))),
    D.Empirical((1_000_000, 2_000_000, 2_000_000, 7_000_000, 50_000_000), "test"),
]


def _model_draws(dist, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    f = dist.sampler(rng)
    return np.array([f() for _ in range(N)], dtype=np.float64)


@pytest.mark.parametrize("dist", CASES, ids=[c.describe()[:60] for c in CASES])
def test_numpy_draws_are_the_model_distribution(dist):
    ours = draw(dist, np.random.default_rng(7), N)
    model = _model_draws(dist, 11)
    assert ours.shape == (N,)
    if isinstance(dist, D.Constant):
        assert (ours == dist.value).all() and (model == dist.value).all()
        return
    res = stats.ks_2samp(ours, model)
    assert res.pvalue > P_MIN, f"{dist.describe()}: KS statistic {res.statistic:.4f}, p = {res.pvalue:.2g}"
    # whole nanoseconds, as the model's int(...) gives
    assert np.array_equal(ours, np.floor(ours))


def test_a_wrong_parameter_is_caught():
    """The test above has teeth: 5 % off in a median or 6 % in a tail index fails it."""
    res = stats.ks_2samp(draw(D.LogNormal(262_500_000, 0.5), np.random.default_rng(7), N),
                         _model_draws(D.LogNormal(250_000_000, 0.5), 11))
    assert res.pvalue < P_MIN
    res = stats.ks_2samp(draw(D.Pareto(1_050_000, 1.6), np.random.default_rng(7), N),
                         _model_draws(D.Pareto(1_050_000, 1.51), 11))
    assert res.pvalue < P_MIN


def test_every_model_family_has_a_sampler():
    families = [obj for _, obj in inspect.getmembers(D, inspect.isclass)
                if dataclasses.is_dataclass(obj) and hasattr(obj, "sampler")]
    assert set(families) <= set(SAMPLERS), "a model distribution has no vectorised sampler"
    assert len(families) >= 7


def test_caps_are_the_models():
    d = D.LogNormal(250_000_000, 3.0)
    x = capped(d, np.random.default_rng(1), 10_000, 15_000_000_000)
    assert x.max() == 15_000_000_000
    assert draw(D.Pareto(1_000_000, 0.5, 2_000_000), np.random.default_rng(1), 10_000).max() == 2_000_000


def test_mixture_model_sampler_and_sample_draw_the_same_stream():
    d = D.Mixture((0.2, 0.8), (D.Pareto(1_000, 2.0), D.LogNormal(5_000, 0.4)))
    a, b = random.Random(5), random.Random(5)
    f = d.sampler(b)
    assert [d.sample(a) for _ in range(500)] == [f() for _ in range(500)]
