"""Every nondeterministic decision of the model, behind one interface.

The transition rules (``model/rules.py``) never draw a random number: whenever the model
could go more than one way they ask a ``Choices`` object. The timed simulator's
``SeededChoices`` answers from three ``random.Random`` streams (workload, network, faults)
seeded by the one ``--seed``, in a fixed order, so one scenario and one seed give one
history; a search or an explorer answers with its own (or, in the step interface, turns
each decision into an enabled action).
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Final

from mypy_extensions import mypyc_attr

from gtcheck.model.distributions import Distribution
from gtcheck.model.scenario import Fault, Scenario
from gtcheck.model.workload import KeyChooser, MixChooser, increment_change, new_item, update_change

MAX_REPLICATION_DELAY_NS: Final = 15_000_000_000   # no version takes longer to cross a link
MAX_COPY_LAG_NS: Final = 1_000_000_000             # nor to reach a region's slowest copy


@mypyc_attr(allow_interpreted_subclasses=True)
class Choices:
    """The decisions the rules leave open (durations in nanoseconds). A base class
    rather than a Protocol so that compiled drivers call it directly; subclass it (from
    compiled or interpreted code) to decide differently."""

    # faults, decided once before the run
    def random_faults(self, scenario: Scenario) -> list[Fault]:
        raise NotImplementedError
    def clock_offset(self, region: str, low: int, high: int) -> int:
        """A region's clock offset (ns) within its configured range ``[low, high]``."""
        raise NotImplementedError
    # the network
    def replication_delay(self, source: str, target: str) -> int:
        """How long a version takes to cross the link (before the cap and fault delays)."""
        raise NotImplementedError

    def fault_extra_delay(self, fault: Fault) -> int:
        """The extra delay a replication-delay fault adds to one crossing."""
        raise NotImplementedError

    def copy_lag(self) -> int:
        """How far a follower copy trails its region's leader for one version."""
        raise NotImplementedError

    def coalesce(self, probability: float) -> bool:
        """Whether a version still queued is dropped for the newer one queued behind it."""
        raise NotImplementedError

    def round_trip(self, source: str, target: str) -> int:
        """Strong mode: one synchronous round trip from ``source`` to ``target`` and back."""
        raise NotImplementedError
    # requests

    def request_latency(self) -> int:
        raise NotImplementedError

    def eventual_copy(self, copies: int) -> int:
        """Which copy serves an eventually consistent read."""
        raise NotImplementedError

    def reached_storage(self) -> bool:
        """Whether a write in flight when its region failed reached durable storage."""
        raise NotImplementedError

    def ttl_sweep_lag(self, lag: Distribution) -> int:
        raise NotImplementedError
    # which client acts next, and what it asks

    def first_request(self, think_mean: float) -> int:
        raise NotImplementedError

    def think_time(self, think_mean: float) -> int:
        raise NotImplementedError

    def request_kind(self, mix: MixChooser) -> str:
        raise NotImplementedError

    def key(self, keys: KeyChooser) -> str:
        raise NotImplementedError

    def strong_read(self, share: float) -> bool:
        raise NotImplementedError

    def new_item(self, rev: int) -> dict[str, Any]:
        raise NotImplementedError

    def carries_ttl(self, share: float) -> bool:
        raise NotImplementedError

    def update_change(self, rev: int, increment: bool) -> dict[str, Any]:
        raise NotImplementedError

    def transaction_condition(self) -> bool:
        raise NotImplementedError


def draw_random_faults(scenario: Scenario, rng: random.Random) -> list[Fault]:
    """The scenario's ``[random_faults]``, drawn from ``rng`` (the faults stream)."""
    from gtcheck.model.distributions import Uniform

    spec = scenario.random_faults
    out = []
    horizon = scenario.workload.duration_ns
    for _ in range(spec.count):
        kind = rng.choice(spec.kinds)
        region = rng.choice(scenario.regions)
        duration = rng.randint(spec.min_duration_ns, spec.max_duration_ns)
        at = rng.randint(0, max(0, horizon - duration))
        if kind == "clock-jump":
            out.append(Fault(kind, at, 0, region, by_ns=rng.randint(-spec.max_clock_jump_ns, spec.max_clock_jump_ns)))
        elif kind == "replication-delay":
            out.append(Fault(kind, at, duration, None, "*", region, Uniform(500_000_000, 3_000_000_000)))
        else:
            out.append(Fault(kind, at, duration, region))
    return out


@mypyc_attr(allow_interpreted_subclasses=True)
class SeededChoices(Choices):
    """The timed simulator's choices: three seeded streams, drawn in the order the
    simulator asks (which is what makes a run reproducible byte for byte)."""

    def __init__(self, scenario: Scenario, seed: int):
        self.workload = random.Random(f"gtcheck/{seed}/workload")
        self.network = random.Random(f"gtcheck/{seed}/network")
        self.faults = random.Random(f"gtcheck/{seed}/faults")
        self._seed = seed
        self._clocks: random.Random | None = None   # a stream of its own: drawn only for offset ranges
        self._lag: Callable[[], int] = scenario.copy_lag.sampler(self.network)
        self._latency: Callable[[], int] = scenario.request_latency.sampler(self.workload)
        regions = scenario.regions
        self._delay: dict[tuple[str, str], Callable[[], int]] = {
            (a, b): scenario.delay(a, b).sampler(self.network) for a in regions for b in regions if a != b}
        # strong mode only: drawn from the network stream, after nothing eventual mode draws
        self._round_trip: Callable[[], int] | None = (
            scenario.round_trip.sampler(self.network) if scenario.mode == "strong" else None)

    def random_faults(self, scenario: Scenario) -> list[Fault]:
        return draw_random_faults(scenario, self.faults)

    def clock_offset(self, region: str, low: int, high: int) -> int:
        if self._clocks is None:
            self._clocks = random.Random(f"gtcheck/{self._seed}/clocks")
        return self._clocks.randint(low, high)

    def replication_delay(self, source: str, target: str) -> int:
        return self._delay[(source, target)]()

    def fault_extra_delay(self, fault: Fault) -> int:
        extra = fault.extra
        return 0 if extra is None else extra.sample(self.network)

    def copy_lag(self) -> int:
        d = self._lag()
        return d if d < MAX_COPY_LAG_NS else MAX_COPY_LAG_NS

    def coalesce(self, probability: float) -> bool:
        return self.network.random() < probability

    def round_trip(self, source: str, target: str) -> int:
        draw = self._round_trip
        if draw is None:
            raise AssertionError("a round trip is a strong-mode decision")
        return draw()

    def request_latency(self) -> int:
        return self._latency()

    def eventual_copy(self, copies: int) -> int:
        return int(self.workload.random() * copies)

    def reached_storage(self) -> bool:
        return self.workload.random() < 0.5

    def ttl_sweep_lag(self, lag: Distribution) -> int:
        return lag.sample(self.workload)

    def first_request(self, think_mean: float) -> int:
        return int(self.workload.random() * think_mean)

    def think_time(self, think_mean: float) -> int:
        # random.expovariate(1.0), inlined: -log(1 - u) / 1.0, the same float
        return int(-math.log(1.0 - self.workload.random()) * think_mean)

    def request_kind(self, mix: MixChooser) -> str:
        return mix.pick(self.workload)

    def key(self, keys: KeyChooser) -> str:
        return keys.pick(self.workload)

    def strong_read(self, share: float) -> bool:
        return self.workload.random() < share

    def new_item(self, rev: int) -> dict[str, Any]:
        return new_item(rev, self.workload)

    def carries_ttl(self, share: float) -> bool:
        return self.workload.random() < share

    def update_change(self, rev: int, increment: bool) -> dict[str, Any]:
        return increment_change(rev) if increment else update_change(rev, self.workload)

    def transaction_condition(self) -> bool:
        return self.workload.random() < 0.3
