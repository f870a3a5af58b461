"""One item's storage across every region and storage copy, with versions in flight.

Each (region, copy) slot holds the version it has applied. A new version is recorded
once with its arrival time at every slot (computed when it is written: the fault plan
is known up front) and applied lazily, when the item is next touched, in arrival order:
a version is applied by ``lww.merge`` (last writer wins), so the slot always holds the
LWW join of everything that has reached it. When a version
has reached every slot (or will never reach some, having been coalesced away) its
ground-truth record is complete and is handed to the writer.
"""

from __future__ import annotations

from typing import Callable

from gtcheck.model.lww import Version, merge

NEVER = 1 << 62   # arrival time of a version that will not reach a slot (coalesced)
DONE = -1         # arrival time of a version already applied at a slot


class InFlight:
    """A version and where it still has to arrive."""

    __slots__ = ("version", "arrival", "left", "due", "applied", "took_effect", "key", "region")

    def __init__(self, version: Version, arrival: list[int], key: str, region: str, n_regions: int):
        self.version = version
        self.arrival = arrival                      # per slot; NEVER / DONE sentinels
        self.left = sum(1 for a in arrival if a != NEVER)
        self.due = min(arrival)                     # earliest arrival not yet applied
        self.applied: list[int | None] = [None] * n_regions   # leader-copy arrival per region
        self.took_effect = True
        self.key = key
        self.region = region

    def cancel(self, slot: int) -> None:
        """The version will not reach ``slot`` (coalesced into a newer one, or dropped)."""
        if self.arrival[slot] not in (NEVER, DONE):
            self.arrival[slot] = NEVER
            self.left -= 1


class ItemStore:
    """The item ``key`` in every slot: ``slots[region * copies + copy]``."""

    __slots__ = ("key", "slots", "pending", "copies", "link_tail")

    def __init__(self, key: str, n_regions: int, copies: int):
        self.key = key
        self.copies = copies
        self.slots: list[Version | None] = [None] * (n_regions * copies)
        self.pending: list[InFlight] = []
        # per (source, target) region pair, at source * n_regions + target: the last
        # version sent on that link, for per-item FIFO order and coalescing
        self.link_tail: list[InFlight | None] = [None] * (n_regions * n_regions)

    def catch_up(self, now: int, on_complete: Callable[[InFlight], None]) -> None:
        """Apply every version that has arrived at some slot by ``now``."""
        finished = False
        slots = self.slots
        copies = self.copies
        for entry in self.pending:
            if entry.due > now:
                continue
            arrival = entry.arrival
            applied = entry.applied
            v = entry.version
            due = NEVER
            s = 0
            for r in range(len(applied)):
                for c in range(copies):
                    a = arrival[s]
                    if a > now:
                        if a < due:
                            due = a
                    elif a >= 0:
                        slots[s] = merge(slots[s], v)    # last writer wins: the one rule
                        if c == 0:
                            applied[r] = a
                        arrival[s] = DONE
                        entry.left -= 1
                    s += 1
            entry.due = due
            if entry.left == 0:
                finished = True
        if finished:
            keep = []
            for entry in self.pending:
                if entry.left == 0:
                    on_complete(entry)
                else:
                    keep.append(entry)
            self.pending = keep

    def flush(self, on_complete: Callable[[InFlight], None]) -> None:
        """At the end of the run: apply everything still in flight."""
        self.catch_up(NEVER - 1, on_complete)
        for entry in self.pending:   # only entries with no reachable slot left
            on_complete(entry)
        self.pending = []
