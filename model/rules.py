"""The transition rules of the model: functions over explicit state, nothing else.

No I/O, no clock, no randomness: where the model could go more than one way the rule
takes the decision as an argument, or asks the ``Choices`` object it is given
(``model/choices.py``). The drivers, the timed simulator (``model/simulator.py``) and the
step interface (``model/step.py``), are loops over these rules.

| rule | function |
| --- | --- |
| stamping | ``stamp`` |
| a request and its condition at its origin | ``evaluate`` (over ``kernel.itemspec.step``) |
| applying a version (last writer wins) | ``lww.merge``: the one function |
| serving a strong or eventual read | ``Rules.read_copy``, ``Rules.read_value`` |
| replicating across a link | ``link_arrival`` (timed), ``fifo_arrival``; coalescing: a ``Choices`` decision |
| the effects of faults | ``model/faults.py`` (``FaultPlan``: cut links, down regions, extra delays) |
| failover routing | ``route`` |

Strong mode (multi-region strong consistency, ``mode = "strong"``) is a second set of
rules over the same state and choices; the timed driver picks it once, for the whole run:

| rule | function |
| --- | --- |
| a write or strong read waits for one other region | ``quorum_wait`` (timed: ``quorum_round_trip``) |
| whether any region answers, at one moment | ``strong_reachable`` |
| concurrent writes of one item from two regions conflict | ``strong_admit`` |
| what a write builds on, what a strong read returns | the item's log (``state.ItemLog``) |

``Rules`` bundles the rules a mutant may substitute (``model/mutants.py``); the drivers
take a ``Rules`` object, so a broken rule is passed in, never switched on inside.
"""

from __future__ import annotations

from typing import Any

from mypy_extensions import mypyc_attr

from gtcheck.kernel import itemspec
from gtcheck.model.choices import MAX_REPLICATION_DELAY_NS, Choices
from gtcheck.model.faults import FaultPlan
from gtcheck.model.lww import Version
from gtcheck.model.scenario import Failover
from gtcheck.model.state import ItemLog

# Strong mode: the error a write gets when another region's write of the item is in flight.
REPLICATED_WRITE_CONFLICT = "ReplicatedWriteConflictException"


def invoke_event(process: int | str, region: str, f: str, key: str, value: Any, consistent: bool,
                 condition: dict[str, Any] | None, txn: int, t: int) -> dict[str, Any]:
    """A request's invoke event as the history records it (HISTORY-FORMAT.md), its fields in
    one order for both drivers; ``index`` is filled in when it is written."""
    event: dict[str, Any] = {"index": 0, "type": "invoke", "process": process, "region": region, "f": f,
                             "key": key, "value": value}
    if f == "read":
        event["consistent"] = consistent
    event["time"] = t
    if condition is not None:
        event["condition"] = condition
    if txn:
        event["txn"] = txn
    return event


def stamp(clock_us: int, stored: Version | None) -> int:
    """The timestamp of a version written at its origin: the region clock, but strictly
    after the version the origin holds (so one origin's stamps of an item increase)."""
    if stored is not None and stored[0] + 1 > clock_us:
        return stored[0] + 1
    return clock_us


def visible(v: Version | None) -> Any:
    """The item a copy holding ``v`` shows: None when absent or deleted."""
    return None if v is None or v[4] else v[3]


def evaluate(stored: Version | None, request: itemspec.Request) -> tuple[Any, bool, Any]:
    """Carry out ``request`` against what its origin holds: ``(new item, ok, answer)``
    (the kernel's item spec, ``kernel.itemspec.step``, the one the checker replays)."""
    return itemspec.step(None if stored is None or stored[4] else stored[3], request)


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


def link_whole(plan: FaultPlan, a: str, b: str, start: int, end: int) -> bool:
    """Whether the link between ``a`` and ``b`` stays whole (neither end isolated nor down)
    throughout ``[start, end]``. A region the plan does not know (a witness) is never cut."""
    for r in (a, b):
        windows = plan.cut.get(r)
        if windows:
            for w in windows:
                if w[0] <= end and start < w[1]:
                    return False
    return True


def quorum_wait(round_trips: list[int], whole: list[bool], budget: int) -> int | None:
    """Strong mode, the quorum rule: a write or strongly consistent read waits for the first
    other region (replica or witness) to answer, so for the shortest round trip among the
    peers whose link to the origin stays whole for it (``round_trips[i]``, ``whole[i]``: peer
    ``i``'s). None: no peer answers within ``budget``."""
    best: int | None = None
    for i in range(len(round_trips)):
        rtt = round_trips[i]
        if whole[i] and rtt <= budget and (best is None or rtt < best):
            best = rtt
    return best


def strong_reachable(origin_connected: bool, peers_connected: list[bool]) -> bool:
    """Strong mode, at one moment: a write or strongly consistent read can complete only when
    its region and at least one other region (or the witness) are connected (neither
    isolated nor down). The step interface and the emulator ask this of their live state."""
    return origin_connected and any(peers_connected)


def quorum_round_trip(plan: FaultPlan, choices: Choices, origin: str, peers: list[str], t: int,
                      budget: int) -> int | None:
    """Strong mode: how long a request at ``origin`` starting at ``t`` waits to hear back from
    at least one other region (``peers``: the other replicas and the witness): a write, until
    one holds it durably; a strongly consistent read, until one confirms the latest version.
    One round-trip decision per peer, in order (plus the extra delay of any replication-delay
    fault on the link); ``quorum_wait`` over the links that stay whole for it. None: no peer
    answers within ``budget`` (the origin is isolated or down, or every peer is)."""
    round_trips: list[int] = []
    whole: list[bool] = []
    for d in peers:
        rtt = choices.round_trip(origin, d)
        if plan.delays:
            rtt += plan.extra_delay(origin, d, t, choices)
        round_trips.append(rtt)
        whole.append(link_whole(plan, origin, d, t, t + rtt))
    return quorum_wait(round_trips, whole, budget)


def strong_admit(log: ItemLog, origin: str, t: int) -> int | None:
    """Strong mode, the conflict rule: when a write of the item reaching ``origin`` at ``t``
    is proposed. At ``t`` when no write of the item is in flight; after the one in flight
    when that one is ``origin``'s own (a region orders its writes of an item); None when
    another region's write is in flight: this one fails with a replication conflict
    (``REPLICATED_WRITE_CONFLICT``)."""
    if log.busy_until <= t:
        return t
    if log.busy_origin == origin:
        return log.busy_until
    return None


@mypyc_attr(allow_interpreted_subclasses=True)
class Rules:
    """The rules a driver runs that a mutant may replace (``model/mutants.py``). The
    correct model is this class as it is; every hook here does what the rule says."""

    name: str = ""   # a mutant's name; "" for the correct model
    mode: str = ""   # the only mode a mutant runs in ("eventual" or "strong"); "": both

    def attach(self, sim: Any) -> None:
        """Called once by the timed driver that will run these rules."""

    def read_copy(self, consistent: bool, copies: int, choices: Choices) -> int:
        """Which of a region's copies serves a read: the leader for a strongly
        consistent read, any copy (a decision) for an eventually consistent one."""
        return 0 if consistent else choices.eventual_copy(copies)

    def read_value(self, v: Version | None, t: int) -> Any:
        """What a read served by a copy holding ``v`` returns."""
        return None if v is None or v[4] else v[3]

    def strong_read(self, sim: Any, key: str, region: str, head: Version | None, t: int) -> Version | None:
        """Strong mode: the version a strongly consistent read in ``region`` returns at ``t``
        once its round trip is over: the head of the item's log (``head``)."""
        return head

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
