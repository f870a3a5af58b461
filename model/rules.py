"""The transition rules of the model: functions over explicit state, nothing else.

No I/O, no clock, no randomness: where the model could go more than one way the rule
takes the decision as an argument, or asks the ``Choices`` object it is given
(``model/choices.py``). The drivers, the timed simulator (``model/simulator.py``) and the
step interface (``model/step.py``), are loops over these rules.

| rule | function |
| --- | --- |
| stamping | ``stamp`` |
| a request and its condition at its origin | ``evaluate`` (over ``spec.step``) |
| applying a version (last writer wins) | ``lww.merge``: the one function |
| serving a strong or eventual read | ``Rules.read_copy``, ``Rules.read_value`` |
| replicating across a link | ``link_arrival`` (timed), ``fifo_arrival``; coalescing: a ``Choices`` decision |
| the effects of faults | ``model/faults.py`` (``FaultPlan``: cut links, down regions, extra delays) |
| failover routing | ``route`` |

``Rules`` bundles the rules a mutant may substitute (``model/mutants.py``); the drivers
take a ``Rules`` object, so a broken rule is passed in, never switched on inside.
"""

from __future__ import annotations

from typing import Any

from mypy_extensions import mypyc_attr

from gtcheck.model import spec
from gtcheck.model.choices import MAX_REPLICATION_DELAY_NS, Choices
from gtcheck.model.faults import FaultPlan
from gtcheck.model.lww import Version
from gtcheck.model.scenario import Failover


def stamp(clock_us: int, stored: Version | None) -> int:
    """The timestamp of a version written at its origin: the region clock, but strictly
    after the version the origin holds (so one origin's stamps of an item increase)."""
    if stored is not None and stored[0] + 1 > clock_us:
        return stored[0] + 1
    return clock_us


def visible(v: Version | None) -> Any:
    """The item a copy holding ``v`` shows: None when absent or deleted."""
    return None if v is None or v[4] else v[3]


def evaluate(stored: Version | None, request: spec.Request) -> tuple[Any, bool, Any]:
    """Carry out ``request`` against what its origin holds: ``(new item, ok, answer)``."""
    return spec.step(None if stored is None or stored[4] else stored[3], request)


def fifo_arrival(previous: int, arrival: int) -> int:
    """Per-item order on a link: a version never overtakes an older version of its item
    still queued on the same link (``previous``: that one's arrival)."""
    return previous if previous > arrival else arrival


def link_arrival(plan: FaultPlan, choices: Choices, source: str, target: str, t: int) -> int:
    """When a version sent from ``source`` at ``t`` reaches ``target``'s leader copy:
    one delay decision, plus the extra delay of any replication-delay fault; queued
    while the link is cut, resent (with a fresh delay) when it heals."""
    s = t
    any_cut = plan.any_cut
    while True:
        if any_cut:
            healed = plan.link_cut_until(source, target, s)
            while healed is not None:   # when one end heals, the other may still be cut
                s = healed
                healed = plan.link_cut_until(source, target, s)
        d = choices.replication_delay(source, target)
        if plan.delays:
            d += plan.extra_delay(source, target, s, choices)
        a = s + (d if d < MAX_REPLICATION_DELAY_NS else MAX_REPLICATION_DELAY_NS)
        if any_cut:
            cut = plan.next_cut(source, target, s)
            if cut is not None and cut < a:
                s = cut
                continue
        return a


def route(failover: Failover, plan: FaultPlan, regions: list[str], home: str, current: str,
          t: int) -> tuple[str, str]:
    """Failover: the region a client whose home is ``home`` (and which last called
    ``current``) calls at ``t``. Returns ``(region called, region to remember)``."""
    if failover.policy == "none":
        return home, current
    home_down_since = plan.down_since(home, t)
    if home_down_since is None:
        if failover.failback or current == home or plan.is_down(current, t):
            current = home
        return current, current
    if t - home_down_since < failover.after_ns:
        return home, current
    if current != home and not plan.is_down(current, t):
        return current, current
    if failover.policy == "map":
        target = failover.targets.get(home, home)
        current = target if not plan.is_down(target, t) else home
        return current, current
    i = regions.index(home)
    for step in range(1, len(regions)):
        cand = regions[(i + step) % len(regions)]
        if not plan.is_down(cand, t):
            return cand, cand
    return home, current


@mypyc_attr(allow_interpreted_subclasses=True)
class Rules:
    """The rules a driver runs that a mutant may replace (``model/mutants.py``). The
    correct model is this class as it is; every hook here does what the rule says."""

    name: str = ""   # a mutant's name; "" for the correct model

    def attach(self, sim: Any) -> None:
        """Called once by the timed driver that will run these rules."""

    def read_copy(self, consistent: bool, copies: int, choices: Choices) -> int:
        """Which of a region's copies serves a read: the leader for a strongly
        consistent read, any copy (a decision) for an eventually consistent one."""
        return 0 if consistent else choices.eventual_copy(copies)

    def read_value(self, v: Version | None, t: int) -> Any:
        """What a read served by a copy holding ``v`` returns."""
        return None if v is None or v[4] else v[3]

    def arrivals(self, arrival: list[int], copies: int, n_regions: int) -> None:
        """A new version's arrival time at every slot (region * copies + copy), as the
        timed driver computed it; the correct model leaves them as they are."""

    def inject(self, sim: Any, proc: Any, t: int) -> Any:
        """A request of the rules' own, sent by ``proc`` at ``t`` instead of the
        workload's (None: none). Only mutants inject."""
        return None

    def carry_out(self, sim: Any, proc: Any, op: Any, item: Any, t: int, new_item: Any,
                  stored: Version | None) -> None:
        """Carry out a request this rule set injected (only mutants inject)."""
        raise AssertionError("the correct model injects no requests")
