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
from typing import Any, Callable, Final, Protocol

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import check_number, parse_duration

# Limits of what a scenario may ask for (docs/scenarios.md, "Limits").
MAX_SCENARIO_DURATION_NS = 7 * 24 * 3600 * 1_000_000_000  # any duration in a scenario: a week
MAX_SIGMA = 10.0                         # lognormal: e^(10 x 8 sigma) is already absurd
MAX_SAMPLE_FILE_BYTES = 64 * 1024 * 1024  # an empirical delay file
MAX_SAMPLES = 1_000_000
MIN_PARETO_ALPHA = 0.1                   # below, a draw near u = 1 overflows a float
MAX_PARETO_ALPHA = 1000.0
MAX_MIXTURE_COMPONENTS = 16


def scenario_duration(value: Any, where: str) -> int:
    """A duration field of a scenario: parsed exactly, at most a week (refused beyond)."""
    ns = parse_duration(value, where=where)
    if ns > MAX_SCENARIO_DURATION_NS:
        raise UserError(f"{value!r} is longer than a scenario allows (7 days)", where=where,
                        hint="durations in a scenario are at most 168h")
    return ns


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


TWOPI: Final = 2.0 * math.pi


@dataclass(frozen=True)
class LogNormal:
    median: int
    sigma: float
    maximum: int | None = None

    def sample(self, rng: random.Random) -> int:
        v = int(self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0)))
        return v if self.maximum is None else min(v, self.maximum)

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        median, sigma, r = self.median, self.sigma, rng.random
        cap = self.maximum if self.maximum is not None else 1 << 62
        def draw() -> int:
            # rng.gauss(0.0, 1.0) inlined (random.py's Box-Muller pair, the same floats)
            z: float | None = getattr(rng, "gauss_next")
            setattr(rng, "gauss_next", None)
            if z is None:
                x2pi = r() * TWOPI
                g2rad = math.sqrt(-2.0 * math.log(1.0 - r()))
                z = math.cos(x2pi) * g2rad
                setattr(rng, "gauss_next", math.sin(x2pi) * g2rad)
            v = int(median * math.exp(sigma * (0.0 + z * 1.0)))
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


@dataclass(frozen=True)
class Pareto:
    """Pareto (type I): ``xm / (1 - u) ** (1 / alpha)``, u uniform on [0, 1); at least
    ``xm``, with a tail heavier the smaller ``alpha`` (its mean is infinite for alpha <= 1).
    The fits of PBS (Bailis et al., VLDB 2012) mix it with an exponential."""

    xm: int
    alpha: float
    maximum: int | None = None

    def sample(self, rng: random.Random) -> int:
        v = int(self.xm * (1.0 - rng.random()) ** (-1.0 / self.alpha))
        return v if self.maximum is None else min(v, self.maximum)

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        xm, power, r = self.xm, -1.0 / self.alpha, rng.random
        cap = self.maximum if self.maximum is not None else 1 << 62
        def draw() -> int:
            v = int(xm * (1.0 - r()) ** power)
            return v if v < cap else cap
        return draw

    def describe(self) -> str:
        return f"pareto xm {self.xm} ns alpha {self.alpha}"


@dataclass(frozen=True)
class Mixture:
    """A weighted mixture: one uniform draw picks a component (weights as given,
    normalised), then that component draws. Components are not mixtures themselves."""

    weights: tuple[float, ...]
    components: tuple[Distribution, ...]

    def _cumulative(self) -> list[float]:
        total = 0.0
        out: list[float] = []
        for w in self.weights:
            total += w
            out.append(total)
        return out

    def pick(self, u: float) -> int:
        """The component a uniform draw ``u`` in [0, 1) selects."""
        cum = self._cumulative()
        x = u * cum[-1]
        for i, c in enumerate(cum):
            if x < c:
                return i
        return len(cum) - 1

    def sample(self, rng: random.Random) -> int:
        return self.components[self.pick(rng.random())].sample(rng)

    def sampler(self, rng: random.Random) -> Callable[[], int]:
        draws = [c.sampler(rng) for c in self.components]
        cum = self._cumulative()
        total, last, r = cum[-1], len(cum) - 1, rng.random
        def draw() -> int:
            x = r() * total
            for i in range(last):
                if x < cum[i]:
                    return draws[i]()
            return draws[last]()
        return draw

    def describe(self) -> str:
        total = sum(self.weights)
        return "mixture of " + " + ".join(f"{w / total:.4g} {c.describe()}"
                                          for w, c in zip(self.weights, self.components))


def bounds(d: Distribution, cap: int = 1 << 62) -> tuple[int, int]:
    """The range a distribution's draws fall in, in practice: a lognormal's tail is cut at
    3 sigmas, an exponential's at 5 means, a Pareto's at its 99.9th percentile (or its
    ``max``), a mixture's is its components' together; both ends at most ``cap``. Search
    draws within it; the explorer takes its low end where a duration must be fixed."""
    if isinstance(d, Constant):
        lo = hi = d.value
    elif isinstance(d, Uniform):
        lo, hi = d.low, d.high
    elif isinstance(d, Exponential):
        lo, hi = d.minimum, d.minimum + 5 * d.mean
    elif isinstance(d, LogNormal):
        lo = int(d.median * math.exp(-3 * d.sigma))
        hi = int(d.median * math.exp(3 * d.sigma))
        if d.maximum is not None:
            hi = min(hi, d.maximum)
            lo = min(lo, hi)
    elif isinstance(d, Empirical):
        lo, hi = min(d.samples), max(d.samples)
    elif isinstance(d, Pareto):
        lo = d.xm
        hi = int(min(d.xm * 1000.0 ** (1.0 / d.alpha), float(cap)))
        if d.maximum is not None:
            hi = min(hi, d.maximum)
    elif isinstance(d, Mixture):
        each = [bounds(c, cap) for c in d.components]
        lo, hi = min(b[0] for b in each), max(b[1] for b in each)
    else:
        raise TypeError(f"unknown distribution {d!r}")
    return min(lo, cap), min(hi, cap)


def _dur(spec: dict[str, Any], name: str, where: str) -> int:
    if name not in spec:
        raise UserError(f"missing field {name!r}", where=where)
    return scenario_duration(spec[name], f"{where}.{name}")


def parse_distribution(spec: Any, where: str, base_dir: Path | None = None,
                       component: bool = False) -> Distribution:
    """Build a distribution from its scenario table; errors name the field. ``component``:
    a mixture's component (a table with its ``weight``, which the mixture reads)."""
    if isinstance(spec, (str, int)) and not isinstance(spec, bool):
        return Constant(scenario_duration(spec, where))
    if not isinstance(spec, dict):
        raise UserError(f"expected a duration or a table with 'dist', got {spec!r}", where=where)
    kind = spec.get("dist")
    allowed = {
        "constant": {"dist", "value"},
        "uniform": {"dist", "low", "high"},
        "exponential": {"dist", "mean", "min"},
        "lognormal": {"dist", "median", "sigma", "max"},
        "pareto": {"dist", "xm", "alpha", "max"},
        "mixture": {"dist", "components"},
        "empirical": {"dist", "file"},
    }
    if component:
        if kind == "mixture":
            raise UserError("a mixture's component cannot be a mixture", where=f"{where}.dist",
                            hint="list the inner mixture's components in the outer one, with their weights")
        allowed = {k: v | {"weight"} for k, v in allowed.items() if k != "mixture"}
    if not isinstance(kind, str) or kind not in allowed:
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
        return Exponential(mean, scenario_duration(spec.get("min", 0), f"{where}.min"))
    if kind == "lognormal":
        sigma = check_number(spec.get("sigma", 0.5), f"{where}.sigma", low=0.0, high=MAX_SIGMA)
        maximum = scenario_duration(spec["max"], f"{where}.max") if "max" in spec else None
        return LogNormal(_dur(spec, "median", where), float(sigma), maximum)
    if kind == "pareto":
        if "alpha" not in spec:
            raise UserError("missing field 'alpha'", where=where, hint="the tail index, e.g. alpha = 1.5")
        alpha = check_number(spec["alpha"], f"{where}.alpha", low=MIN_PARETO_ALPHA, high=MAX_PARETO_ALPHA)
        xm = _dur(spec, "xm", where)
        if xm <= 0:
            raise UserError("'xm' (the smallest value) must be above 0", where=f"{where}.xm")
        maximum = scenario_duration(spec["max"], f"{where}.max") if "max" in spec else None
        return Pareto(xm, float(alpha), maximum)
    if kind == "mixture":
        return _mixture(spec, where, base_dir)
    return _empirical(spec, where, base_dir)


def _mixture(spec: dict[str, Any], where: str, base_dir: Path | None) -> Mixture:
    """``components = [{weight = 0.9, dist = ...}, ...]``: weights positive (normalised by
    their sum), at most 16 components, none of them a mixture."""
    raw = spec.get("components")
    if not isinstance(raw, list) or not raw:
        raise UserError("a mixture needs 'components', a non-empty array of tables with a 'weight'",
                        where=f"{where}.components",
                        hint='e.g. components = [{weight = 0.9, dist = "pareto", xm = "1ms", alpha = 2}, '
                             '{weight = 0.1, dist = "exponential", mean = "10ms"}]')
    if len(raw) > MAX_MIXTURE_COMPONENTS:
        raise UserError(f"at most {MAX_MIXTURE_COMPONENTS} components, got {len(raw)}", where=f"{where}.components")
    weights: list[float] = []
    comps: list[Distribution] = []
    for i, c in enumerate(raw):
        at = f"{where}.components[{i}]"
        if not isinstance(c, dict) or "weight" not in c:
            raise UserError("expected a table with 'weight' and 'dist'", where=at)
        weights.append(float(check_number(c["weight"], f"{at}.weight", low=0.0, high=1e9, low_open=True)))
        comps.append(parse_distribution(c, at, base_dir, component=True))
    return Mixture(tuple(weights), tuple(comps))


def _empirical(spec: dict[str, Any], where: str, base_dir: Path | None) -> "Empirical":
    """Read an empirical delay file, bounded: a file that never ends (``/dev/zero``), is
    too large, or is not UTF-8 text is refused with the field and the file named."""
    name = spec.get("file")
    if not isinstance(name, str) or not name or "\0" in name:
        raise UserError(f"expected the path of a sample file, got {name!r}", where=f"{where}.file")
    path = Path(name)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SAMPLE_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read the sample file {str(path)!r}: {exc.strerror or exc}",
                        where=f"{where}.file") from None
    if len(raw) > MAX_SAMPLE_FILE_BYTES:
        raise UserError(f"the sample file {str(path)!r} is larger than {MAX_SAMPLE_FILE_BYTES // (1024 * 1024)} MiB",
                        where=f"{where}.file", hint=f"keep at most {MAX_SAMPLES:,} durations, one a line")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = raw.count(b"\n", 0, exc.start) + 1
        raise UserError(f"the sample file {str(path)!r} is not UTF-8 text (line {lineno})",
                        where=f"{where}.file", hint="one duration a line, such as 250ms") from None
    samples: list[int] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            if len(samples) == MAX_SAMPLES:
                raise UserError(f"the sample file {str(path)!r} holds more than {MAX_SAMPLES:,} durations",
                                where=f"{where}.file")
            samples.append(scenario_duration(line, f"{where}.file: {path}:{n}"))
    if not samples:
        raise UserError(f"the sample file {str(path)!r} holds no durations", where=f"{where}.file")
    return Empirical(tuple(samples), str(path))
