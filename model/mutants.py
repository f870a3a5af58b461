"""Test-only mutants: the model broken in one known way each, so tests can prove the
checker catches it. Each is a ``Rules`` object with one rule substituted; the driver
runs whatever rules it is given (``simulate(..., bug=NAME)`` or ``rules=``), and the
correct rules know nothing about them. Never reachable from scenarios or the command
line.

| name | substituted rule | caught as |
| --- | --- | --- |
| ``stale-strong-read`` | strong reads served by the slowest copy, which trails by 1.5 s | ``lost-own-write`` |
| ``drop-replication`` | one write never reaches the next region | ``divergent-final-state`` |
| ``phantom-value`` | one read returns a value nobody wrote | ``phantom-read`` |
| ``show-failed-write`` | one write reported failed is applied | ``read-of-failed-write`` |
| ``delay-replication`` | one write reaches other regions 5 s late, and is read there meanwhile | ``stale-read`` |
| ``strong-local-read`` | strong mode: strong reads return the local leader copy, not the log's head | ``lost-own-write``, ``not-linearizable`` |

The first five run in eventual mode only, ``strong-local-read`` in strong mode only (``Rules.mode``).

The three one-write mutants write a key of their own (``bug-NAME``) a third of the way
through the workload, so that nothing else can hide the damage.
"""

from __future__ import annotations

from typing import Any

from gtcheck.model.choices import Choices
from gtcheck.model.lww import Version
from gtcheck.model.rules import Rules
from gtcheck.model.state import Op
from gtcheck.model.storage import NEVER

STALE_COPY_LAG_NS = 1_500_000_000
LATE_REPLICATION_NS = 5_000_000_000


class StaleStrongRead(Rules):
    name = "stale-strong-read"
    mode = "eventual"

    def read_copy(self, consistent: bool, copies: int, choices: Choices) -> int:
        return copies - 1 if consistent else choices.eventual_copy(copies)

    def arrivals(self, arrival: list[int], copies: int, n_regions: int) -> None:
        if copies > 1:
            for d in range(n_regions):
                arrival[d * copies + copies - 1] += STALE_COPY_LAG_NS


class PhantomValue(Rules):
    name = "phantom-value"
    mode = "eventual"

    def __init__(self) -> None:
        self.done = False
        self.after = 0

    def attach(self, sim: Any) -> None:
        self.after = sim.duration // 3

    def read_value(self, v: Version | None, t: int) -> Any:
        if not self.done and t >= self.after:
            self.done = True
            return {"rev": -1, "phantom": True}
        return None if v is None or v[4] else v[3]


class _OneWrite(Rules):
    """Writes ``bug-NAME`` once, a third of the way through, and breaks that write
    (``damage``); may make a client read it later (``forced``)."""

    mode = "eventual"

    def __init__(self) -> None:
        self.done = False
        self.sim: Any = None
        self.forced: dict[Any, tuple[str, int]] = {}   # pid -> (key, not before)

    def attach(self, sim: Any) -> None:
        self.sim = sim

    def inject(self, sim: Any, proc: Any, t: int) -> Any:
        forced = self.forced.get(proc.pid)
        if forced is not None and t >= forced[1]:
            del self.forced[proc.pid]
            return Op("read", forced[0], None, True)
        if self.done or t < sim.duration // 3:
            return None
        self.done = True
        key = f"bug-{self.name}"
        if sim.sc.final_reads:
            for p in sim.state.processes:
                if p.pid % sim.sc.workload.processes_per_region == 0 and p.final_keys is not None:
                    p.final_keys.insert(0, key)
        op = Op("write", key, sim.new_item(t))
        op.injected = True
        return op

    def carry_out(self, sim: Any, proc: Any, op: Any, item: Any, t: int, new_item: Any,
                  stored: Version | None) -> None:
        version = sim.write(item, op, t, new_item, stored)
        entry = item.pending[-1] if item.pending and item.pending[-1].version is version else None
        self.damage(sim, proc, op, item, entry, t, new_item, version)

    def damage(self, sim: Any, proc: Any, op: Any, item: Any, entry: Any, t: int, new_item: Any,
               version: Version) -> None:
        raise NotImplementedError


class ShowFailedWrite(_OneWrite):
    name = "show-failed-write"

    def damage(self, sim: Any, proc: Any, op: Any, item: Any, entry: Any, t: int, new_item: Any,
               version: Version) -> None:
        self.forced[proc.pid] = (item.key, t)          # reported failed, applied all the same
        sim.finish_op(proc, op, t, "fail", None, None, took_effect=True)


class DropReplication(_OneWrite):
    name = "drop-replication"

    def damage(self, sim: Any, proc: Any, op: Any, item: Any, entry: Any, t: int, new_item: Any,
               version: Version) -> None:
        if entry is not None:
            C = sim.copies
            target = (sim.rix[op.region] + 1) % len(sim.regions)
            for c in range(C):
                entry.cancel(target * C + c)            # never reaches the next region
        sim.finish_op(proc, op, t, "ok", new_item, version)


class DelayReplication(_OneWrite):
    name = "delay-replication"

    def damage(self, sim: Any, proc: Any, op: Any, item: Any, entry: Any, t: int, new_item: Any,
               version: Version) -> None:
        if entry is not None:                           # 5 s late everywhere else
            C, o = sim.copies, sim.rix[op.region]
            for d in range(len(sim.regions)):
                if d != o:
                    for c in range(C):
                        a = entry.arrival[d * C + c]
                        if a >= 0 and a != NEVER:
                            entry.arrival[d * C + c] = a + LATE_REPLICATION_NS
            entry.due = min(a for a in entry.arrival if a >= 0)
            sim.state.max_arrival += LATE_REPLICATION_NS
            target = sim.regions[(o + 1) % len(sim.regions)]
            reader = next(p for p in sim.state.processes if p.home == target)
            self.forced[reader.pid] = (item.key, t + 2_000_000_000)
        sim.finish_op(proc, op, t, "ok", new_item, version)


class StrongLocalRead(Rules):
    """Strong mode without the read half: a strongly consistent read still waits for its
    round trip, but returns what its own region's leader copy holds (replicated
    asynchronously), not the head of the item's log."""

    name = "strong-local-read"
    mode = "strong"

    def strong_read(self, sim: Any, key: str, region: str, head: Version | None, t: int) -> Version | None:
        item = sim.item(key)
        item.catch_up(t, sim.completed)
        local: Version | None = item.slots[sim.rix[region] * sim.copies]
        return local


MUTANTS: dict[str, type[Rules]] = {
    "stale-strong-read": StaleStrongRead,
    "drop-replication": DropReplication,
    "phantom-value": PhantomValue,
    "show-failed-write": ShowFailedWrite,
    "delay-replication": DelayReplication,
}
# strong mode's (``simulator.STRONG_BUGS``)
STRONG_MUTANTS: dict[str, type[Rules]] = {
    "strong-local-read": StrongLocalRead,
}


def mutant(name: str) -> Rules:
    """A fresh instance of the named mutant (they keep per-run state)."""
    cls = MUTANTS.get(name) or STRONG_MUTANTS.get(name)
    if cls is None:
        raise ValueError(f"unknown bug {name!r}; known: {', '.join(list(MUTANTS) + list(STRONG_MUTANTS))}")
    return cls()
