"""Delay distributions for replication and request latency, sampled in nanoseconds.

Written in scenarios as inline tables, e.g. ``{dist = "lognormal", median = "250ms",
sigma = 0.5}``. Every sample comes from the ``random.Random`` passed in, so one seed
decides every delay.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import parse_duration


class Distribution(Protocol):
    def sample(self, rng: random.Random) -> int: ...
    def sampler(self, rng: random.Random) -> "Callable[[], int]": ...
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Constant:
    value: int

    def sample(self, rng: random.Random) -> int:
        return self.value

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        value = self.value
        return lambda: value

    def describe(self) -> str:
        return f"constant {self.value} ns"


@dataclass(frozen=True)
class Uniform:
    low: int
    high: int

    def sample(self, rng: random.Random) -> int:
        return self.low + int(rng.random() * (self.high - self.low + 1))

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        low, width, r = self.low, self.high - self.low + 1, rng.random
        return lambda: low + int(r() * width)

    def describe(self) -> str:
        return f"uniform [{self.low}, {self.high}] ns"


@dataclass(frozen=True)
class Exponential:
    mean: int
    minimum: int = 0

    def sample(self, rng: random.Random) -> int:
        return self.minimum + int(-self.mean * math.log(1.0 - rng.random()))

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        minimum, mean, r, log = self.minimum, self.mean, rng.random, math.log
        return lambda: minimum + int(-mean * log(1.0 - r()))

    def describe(self) -> str:
        return f"exponential mean {self.mean} ns + {self.minimum} ns"


@dataclass(frozen=True)
class LogNormal:
    median: int
    sigma: float
    maximum: int | None = None

    def sample(self, rng: random.Random) -> int:
        v = int(self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0)))
        return v if self.maximum is None else min(v, self.maximum)

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        median, sigma, gauss, exp = self.median, self.sigma, rng.gauss, math.exp
        cap = self.maximum if self.maximum is not None else 1 << 62
        def draw() -> int:
            v = int(median * exp(sigma * gauss(0.0, 1.0)))
            return v if v < cap else cap
        return draw

    def describe(self) -> str:
        return f"lognormal median {self.median} ns sigma {self.sigma}"


@dataclass(frozen=True)
class Empirical:
    """Resamples measured delays (one duration per line, ``#`` comments allowed)."""

    samples: tuple[int, ...]
    source: str = ""

    def sample(self, rng: random.Random) -> int:
        return self.samples[int(rng.random() * len(self.samples))]

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        samples, n, r = self.samples, len(self.samples), rng.random
        return lambda: samples[int(r() * n)]

    def describe(self) -> str:
        return f"empirical, {len(self.samples)} samples from {self.source}"


def _dur(spec: dict[str, Any], name: str, where: str) -> int:
    if name not in spec:
        raise UserError(f"missing field {name!r}", where=where)
    return parse_duration(spec[name], where=f"{where}.{name}")


def parse_distribution(spec: Any, where: str, base_dir: Path | None = None) -> Distribution:
    """Build a distribution from its scenario table; errors name the field."""
    if isinstance(spec, (str, int)) and not isinstance(spec, bool):
        return Constant(parse_duration(spec, where=where))
    if not isinstance(spec, dict):
        raise UserError(f"expected a duration or a table with 'dist', got {spec!r}", where=where)
    kind = spec.get("dist")
    allowed = {
        "constant": {"dist", "value"},
        "uniform": {"dist", "low", "high"},
        "exponential": {"dist", "mean", "min"},
        "lognormal": {"dist", "median", "sigma", "max"},
        "empirical": {"dist", "file"},
    }
    if kind not in allowed:
        raise UserError(f"unknown distribution {kind!r}", where=f"{where}.dist",
                        hint="use one of: " + ", ".join(allowed))
    extra = set(spec) - allowed[kind]
    if extra:
        raise UserError(f"unknown field {sorted(extra)[0]!r} for a {kind} distribution", where=where,
                        hint="allowed: " + ", ".join(sorted(allowed[kind])))
    if kind == "constant":
        return Constant(_dur(spec, "value", where))
    if kind == "uniform":
        low, high = _dur(spec, "low", where), _dur(spec, "high", where)
        if high < low:
            raise UserError("'high' must not be below 'low'", where=where)
        return Uniform(low, high)
    if kind == "exponential":
        mean = _dur(spec, "mean", where)
        return Exponential(mean, parse_duration(spec.get("min", 0), where=f"{where}.min"))
    if kind == "lognormal":
        sigma = spec.get("sigma", 0.5)
        if not isinstance(sigma, (int, float)) or isinstance(sigma, bool) or sigma < 0:
            raise UserError(f"'sigma' must be a non-negative number, got {sigma!r}", where=f"{where}.sigma")
        maximum = parse_duration(spec["max"], where=f"{where}.max") if "max" in spec else None
        return LogNormal(_dur(spec, "median", where), float(sigma), maximum)
    path = Path(str(spec.get("file", "")))
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise UserError(f"cannot read the sample file {str(path)!r}: {exc.strerror}", where=f"{where}.file")
    samples = []
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if line:
            samples.append(parse_duration(line, where=f"{path}:{n}"))
    if not samples:
        raise UserError(f"the sample file {str(path)!r} holds no durations", where=f"{where}.file")
    return Empirical(tuple(samples), str(path))
