"""A forecast curve from Monte Carlo thresholds, with confidence intervals of its own.

``Curve`` holds the sorted visibility thresholds of n independent trials
(``visibility.thresholds``). P(fresh at t) is the share of thresholds at or below t; its
confidence interval is Wilson's score interval for a binomial proportion (it behaves at
0 and 1, where the normal approximation does not). The t for a probability p is the
nearest-rank p-quantile of the thresholds (never below 0: t counts from the write's
completion); its confidence interval is the distribution-free order-statistic interval:
the k-th smallest of n draws lies below the true p-quantile with probability
Binomial(n, p).cdf(k - 1), so the ranks between the binomial's alpha/2 and 1 - alpha/2
quantiles bracket it (exact, conservative, no assumption about the distribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def wilson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Curve:
    """Sorted thresholds (ns; ``-inf`` for reads that are always fresh)."""

    values: np.ndarray

    @classmethod
    def of(cls, thresholds: np.ndarray) -> "Curve":
        return cls(np.sort(thresholds))

    @property
    def n(self) -> int:
        return len(self.values)

    def fresh_count(self, t_ns: float) -> int:
        return int(np.searchsorted(self.values, t_ns, side="right"))

    def p_fresh(self, t_ns: float) -> float:
        return self.fresh_count(t_ns) / self.n

    def p_fresh_many(self, t_ns: np.ndarray) -> np.ndarray:
        """P(fresh) at every t of an array (one binary search each)."""
        return np.searchsorted(self.values, t_ns, side="right") / self.n

    def p_fresh_ci(self, t_ns: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
        return wilson(self.fresh_count(t_ns), self.n, confidence)

    def quantile(self, p: float) -> float:
        """The smallest t >= 0 with P(fresh at t) >= p (nearest rank); ``inf`` never."""
        k = max(1, math.ceil(p * self.n - 1e-9))
        return max(0.0, float(self.values[k - 1]))

    def quantile_ci(self, p: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
        """Order-statistic confidence interval of the p-quantile (ns, each at least 0)."""
        n = self.n
        alpha = 1 - confidence
        lo = int(stats.binom.ppf(alpha / 2, n, p))           # rank (1-based) of the lower bound
        hi = int(stats.binom.ppf(1 - alpha / 2, n, p)) + 1
        lo_v = self.values[max(lo, 1) - 1]
        hi_v = self.values[min(hi, n) - 1] if hi <= n else np.inf
        return max(0.0, float(lo_v)), max(0.0, float(hi_v))
