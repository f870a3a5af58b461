"""The rules of global tables that the one transition relation (``model/globaltables.py``)
is built from: functions over explicit state, nothing else.

No I/O, no clock, no randomness: where the model could go more than one way the rule
takes the decision as an argument or asks the ``Choices`` object it is given
(``model/choices.py``). Every driver (the timed simulator, the explorer, search) runs them
through the relation; the emulator and the checker's register call the ones they share
(``stamp``, ``fifo_arrival``, ``lww.merge``, ``kernel.itemspec.step``; in strong mode
``strong_reachable``, ``quorum_wait``, ``strong_admit`` over ``world.ItemLog``).

| rule | function |
| --- | --- |
| a request's invoke event | ``invoke_event`` |
| a request and its condition at its origin | ``evaluate`` (over ``kernel.itemspec.step``) |
| stamping | ``stamp`` |
| what a copy holding a version shows | ``visible`` |
| applying a version (last writer wins) | ``lww.merge``: the one function |
| per-item order on a link | ``fifo_arrival``; when a version crosses a link (timed) ``link_arrival`` |
| failover routing | ``route`` |
| strong mode: a request waits for one other region | ``quorum_round_trip`` (``quorum_wait`` over ``link_whole``); at one moment, ``strong_reachable`` (the emulator's) |
| strong mode: concurrent writes of one item conflict | ``strong_admit`` (over the item's log, ``world.ItemLog``) |

``Rules`` bundles the rules a mutant may substitute (``model/mutants.py``); the relation
takes a ``Rules`` object, so a broken rule is passed in, never switched on inside.
"""

from __future__ import annotations

from typing import Any

from mypy_extensions import mypyc_attr

from gtcheck.kernel import itemspec
from gtcheck.model.choices import MAX_REPLICATION_DELAY_NS, Choices
from gtcheck.model.faults import FaultPlan
from gtcheck.model.lww import Version
from gtcheck.model.scenario import Failover
from gtcheck.model.world import ItemLog

# Strong mode: the error a write gets when another region's write of the item is in flight.
REPLICATED_WRITE_CONFLICT = "ReplicatedWriteConflictException"


def invoke_event(process: int | str, region: str, f: str, key: str, value: Any, consistent: bool,
                 condition: dict[str, Any] | None, txn: int, t: int) -> dict[str, Any]:
    """A request's invoke event as the history records it (HISTORY-FORMAT.md), its fields in
    one order; ``index`` is filled in when it is written."""
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


def completion_event(outcome: str, process: int | str, region: str, f: str, key: str, value: Any, t: int,
                     version: Version | None, error: str) -> dict[str, Any]:
    """A request's completion event: ``ts`` and ``origin`` when it took effect and was
    acknowledged (``ok``); ``error`` when DynamoDB named one."""
    event: dict[str, Any] = {"index": 0, "type": outcome, "process": process, "region": region, "f": f,
                             "key": key, "value": value, "time": t}
    if version is not None and outcome == "ok":
        event["ts"] = version.ts
        event["origin"] = version.origin
    if error:
        event["error"] = error
    return event


def stamp(clock_us: int, stored: Version | None) -> int:
    """The timestamp of a version written at its origin: the region clock, but strictly
    after the version the origin holds (so one origin's stamps of an item increase)."""
    if stored is not None and stored.ts + 1 > clock_us:
        return stored.ts + 1
    return clock_us


def visible(v: Version | None) -> Any:
    """The item a copy holding ``v`` shows: None when absent or deleted."""
    return None if v is None or v.deleted else v.value


def evaluate(stored: Version | None, request: itemspec.Request) -> tuple[Any, bool, Any]:
    """Carry out ``request`` against what its origin holds: ``(new item, ok, answer)``
    (the kernel's item spec, ``kernel.itemspec.step``, the one the checker replays)."""
    return itemspec.step(visible(stored), request)


def fifo_arrival(previous: int, arrival: int) -> int:
    """Per-item order on a link: a version never overtakes an older version of its item
    still queued on the same link (``previous``: that one's arrival)."""
    return previous if previous > arrival else arrival


def link_arrival(plan: FaultPlan, choices: Choices, source: str, target: str, t: int) -> int:
    """When a version sent from ``source`` at ``t`` reaches ``target``'s leader copy:
    one delay decision, plus the extra delay of any replication-delay fault; queued
    while the link is cut, resent (with a fresh delay) when it heals. (The timed driver's
    timing: the relation only needs the link whole when the delivery happens, which this
    guarantees: a cut starting at the arrival time itself stops it too.)"""
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
            if cut is not None and cut <= a:
                s = cut
                continue
        return a


def route(failover: Failover, down: list[int], since: list[int], rix: dict[str, int], regions: list[str],
          home: str, current: str, t: int) -> tuple[str, str]:
    """Failover: the region a client whose home is ``home`` (and which last called
    ``current``) calls at ``t``, from which regions are down now (``down``) and since when
    (``since``). Returns ``(region called, region to remember)``."""
    if failover.policy == "none":
        return home, current
    h = rix[home]
    if not down[h]:
        if failover.failback or current == home or down[rix[current]]:
            current = home
        return current, current
    if t - since[h] < failover.after_ns:
        return home, current
    if current != home and not down[rix[current]]:
        return current, current
    if failover.policy == "map":
        target = failover.targets.get(home, home)
        current = target if not down[rix[target]] else home
        return current, current
    for step in range(1, len(regions)):
        cand = regions[(h + step) % len(regions)]
        if not down[rix[cand]]:
            return cand, cand
    return home, current


def quorum_wait(round_trips: list[int], whole: list[bool], budget: int) -> int | None:
    """Strong mode, the quorum rule: a write or strongly consistent read waits for the first
    other region (replica or witness) to answer, so for the shortest round trip among the
    peers it can reach (``round_trips[i]``, ``whole[i]``: peer ``i``'s). None: no peer
    answers within ``budget``."""
    best: int | None = None
    for i in range(len(round_trips)):
        rtt = round_trips[i]
        if whole[i] and rtt <= budget and (best is None or rtt < best):
            best = rtt
    return best


def strong_reachable(origin_connected: bool, peers_connected: list[bool]) -> bool:
    """Strong mode, at one moment: a write or strongly consistent read can complete only when
    its region and at least one other region (or the witness) are connected (neither
    isolated nor down). The emulator asks this of its live state."""
    return origin_connected and any(peers_connected)


def link_whole(plan: FaultPlan, a: str, b: str, start: int, end: int) -> bool:
    """Whether the link between ``a`` and ``b`` stays whole (neither end isolated nor down)
    throughout ``[start, end]``. A region the plan does not cut (a witness no fault names)
    is never cut."""
    for r in (a, b):
        windows = plan.cut.get(r)
        if windows:
            for w in windows:
                if w[0] <= end and start < w[1]:
                    return False
    return True


def quorum_round_trip(plan: FaultPlan, choices: Choices, origin: int, peers: list[int],
                      names: list[str], t: int, budget: int) -> int | None:
    """Strong mode: how long a request at region ``origin`` starting at ``t`` waits to hear
    back from at least one other region (``peers``: the other replicas and the witness, as
    indexes into ``names``): a write, until one holds it durably; a strongly consistent read,
    until one confirms the latest version. One round-trip decision per peer, in order (plus
    the extra delay of any replication-delay fault on the link); ``quorum_wait`` over the
    links that stay whole for all of the round trip (``link_whole``: the fault plan fixes
    when a region is cut off, so the explorer and the timed simulator decide alike). None:
    no peer answers within ``budget`` (the origin is cut off, or every peer is)."""
    round_trips: list[int] = []
    whole: list[bool] = []
    src = names[origin]
    for p in peers:
        dst = names[p]
        rtt = choices.round_trip(src, dst)
        if plan.delays:
            rtt += plan.extra_delay(src, dst, t, choices)
        round_trips.append(rtt)
        whole.append(link_whole(plan, src, dst, t, t + rtt))
    return quorum_wait(round_trips, whole, budget)


def strong_admit(log: ItemLog, origin: str, t: int) -> int | None:
    """Strong mode, the conflict rule: when a write of the item reaching ``origin`` at ``t``
    is proposed, given the item's log. At ``t`` when no write of the item is in flight
    (decided, to be acknowledged after ``t``); after the last one in flight when it is
    ``origin``'s own (a region orders its writes of an item); None when another region's
    write is in flight: this one fails with a replication conflict
    (``REPLICATED_WRITE_CONFLICT``)."""
    pending = log.pending
    if not pending or pending[-1][0] <= t:
        return t
    ack, v = pending[-1]
    if v.origin == origin:
        return ack
    return None


@mypyc_attr(allow_interpreted_subclasses=True)
class Rules:
    """The rules a mutant may replace (``model/mutants.py``). The correct model is this
    class as it is; every hook does what the rule says, in every driver."""

    name: str = ""          # a mutant's name; "" for the correct model
    mode: str = ""          # the only mode a mutant runs in ("eventual" or "strong"); "": both
    # a mutant that changes only when things happen: the explorer already explores every
    # timing, so it cannot tell one apart and refuses it
    timing_only: bool = False

    def read_copy(self, consistent: bool, copies: int, copy: int) -> int:
        """Which of a region's copies serves a read: the leader for a strongly consistent
        read, the copy chosen (``copy``, a decision) for an eventually consistent one."""
        return 0 if consistent else copy

    def read_value(self, v: Version | None) -> Any:
        """What a read served by a copy holding ``v`` returns."""
        return visible(v)

    def strong_read(self, head: Version | None, local: Version | None) -> Version | None:
        """Strong mode: the version a strongly consistent read returns once its round trip
        is over: the head of the item's log (``head``; ``local``: its region's leader copy)."""
        return head

    def replicates(self, origin: int, target: int) -> bool:
        """Whether a version written in region ``origin`` is sent to region ``target``."""
        return True

    def failed_write_applies(self) -> bool:
        """Whether a write whose condition does not hold is applied all the same."""
        return False

    def extra_delay(self, origin: int, target: int, copy: int, copies: int) -> int:
        """How much later than drawn a version written in region ``origin`` reaches copy
        ``copy`` of region ``target`` (timing only: the explorer explores every time)."""
        return 0
