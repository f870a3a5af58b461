"""Vectorised draws from the model's delay distributions (numpy).

The model's ``gtcheck.model.distributions`` is the one definition of every family and of
its parameters: this module reads each distribution object's own fields and draws the
same law with a numpy ``Generator``, many values at once (the model draws one at a time
from ``random.Random``, which is what keeps simulations byte-identical). Values are
nanoseconds as float64, truncated to whole nanoseconds as the model's ``int(...)`` does,
and capped where the model caps. ``tests/forecast/test_sampling.py`` checks, family by
family, that these draws and the model's own draws are one distribution (a two-sample
Kolmogorov-Smirnov test), and that every family the model defines has a sampler here.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from gtcheck.model import distributions as D

Sampler = Callable[[Any, np.random.Generator, int], np.ndarray]


def _constant(d: D.Constant, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.full(n, float(d.value))


def _uniform(d: D.Uniform, rng: np.random.Generator, n: int) -> np.ndarray:
    # low + int(u * (high - low + 1)): every whole nanosecond of [low, high] equally likely
    return np.floor(d.low + rng.random(n) * (d.high - d.low + 1))


def _exponential(d: D.Exponential, rng: np.random.Generator, n: int) -> np.ndarray:
    return d.minimum + np.floor(rng.standard_exponential(n) * d.mean)


def _cap(x: np.ndarray, maximum: int | None) -> np.ndarray:
    return x if maximum is None else np.minimum(x, float(maximum))


def _lognormal(d: D.LogNormal, rng: np.random.Generator, n: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _cap(np.floor(d.median * np.exp(d.sigma * rng.standard_normal(n))), d.maximum)


def _pareto(d: D.Pareto, rng: np.random.Generator, n: int) -> np.ndarray:
    return _cap(np.floor(d.xm * (1.0 - rng.random(n)) ** (-1.0 / d.alpha)), d.maximum)


def _empirical(d: D.Empirical, rng: np.random.Generator, n: int) -> np.ndarray:
    values = np.asarray(d.samples, dtype=np.float64)
    return values[rng.integers(0, len(values), n)]


def _mixture(d: D.Mixture, rng: np.random.Generator, n: int) -> np.ndarray:
    weights = np.asarray(d.weights, dtype=np.float64)
    which = rng.choice(len(weights), size=n, p=weights / weights.sum())
    out = np.empty(n)
    for i, comp in enumerate(d.components):
        mask = which == i
        k = int(mask.sum())
        if k:
            out[mask] = draw(comp, rng, k)
    return out


SAMPLERS: dict[type, Sampler] = {
    D.Constant: _constant, D.Uniform: _uniform, D.Exponential: _exponential,
    D.LogNormal: _lognormal, D.Pareto: _pareto, D.Empirical: _empirical, D.Mixture: _mixture,
}


def draw(dist: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws (ns, float64) of the model distribution ``dist``."""
    sampler = SAMPLERS.get(type(dist))
    if sampler is None:
        raise TypeError(f"no vectorised sampler for {type(dist).__name__}; add one to forecast/sampling.py")
    return sampler(dist, rng, n)


def capped(dist: Any, rng: np.random.Generator, n: int, cap: int) -> np.ndarray:
    """Draws capped at ``cap`` ns, as the model caps replication delay and copy lag."""
    return np.minimum(draw(dist, rng, n), float(cap))
