"""Test-only mutants: the model broken in one known way each, so tests can prove the
checker catches it and the explorer finds it. Each is a ``Rules`` object with one rule
substituted; every driver runs whatever rules it is given (``simulate(..., bug=NAME)`` or
``rules=``, ``GlobalTables(scenario, rules)``), and the correct rules know nothing about
them. Never reachable from scenarios or the command line.

| name | substituted rule | caught as |
| --- | --- | --- |
| ``stale-strong-read`` | strong reads served by the last copy (which, timed, trails by 1.5 s) | ``lost-own-write`` |
| ``drop-replication`` | nothing written in the first region reaches the second | ``divergent-final-state`` |
| ``phantom-value`` | a read of an absent item returns a value nobody wrote | ``phantom-read`` |
| ``show-failed-write`` | a write whose condition fails is applied all the same (reported failed) | ``read-of-failed-write`` |
| ``delay-replication`` | every version reaches every copy outside its write quorum 5 s late (timing only) | ``stale-read`` |
| ``strong-local-read`` | strong mode: strong reads return the local leader copy, not the log's head | ``lost-own-write``, ``not-linearizable`` |

The first five run in eventual mode only, ``strong-local-read`` in strong mode only
(``Rules.mode``). ``delay-replication`` changes only when versions arrive; the explorer
explores every arrival order already, so it refuses it (``Rules.timing_only``).
"""

from __future__ import annotations

from typing import Any

from gtcheck.model.lww import Version
from gtcheck.model.rules import Rules

STALE_COPY_LAG_NS = 1_500_000_000
LATE_REPLICATION_NS = 5_000_000_000
PHANTOM = {"rev": -1, "phantom": True}


class StaleStrongRead(Rules):
    name = "stale-strong-read"
    mode = "eventual"

    def read_copy(self, consistent: bool, copies: int, copy: int) -> int:
        return copies - 1 if consistent else copy

    def extra_delay(self, origin: int, target: int, copy: int, copies: int) -> int:
        return STALE_COPY_LAG_NS if copies > 1 and copy == copies - 1 else 0


class DropReplication(Rules):
    name = "drop-replication"
    mode = "eventual"

    def replicates(self, origin: int, target: int) -> bool:
        return not (origin == 0 and target == 1)


class PhantomValue(Rules):
    name = "phantom-value"
    mode = "eventual"

    def read_value(self, v: Version | None) -> Any:
        if v is None or v.deleted:
            return dict(PHANTOM)
        return v.value


class ShowFailedWrite(Rules):
    name = "show-failed-write"
    mode = "eventual"

    def failed_write_applies(self) -> bool:
        return True


class DelayReplication(Rules):
    name = "delay-replication"
    mode = "eventual"
    timing_only = True

    def extra_delay(self, origin: int, target: int, copy: int, copies: int) -> int:
        # every copy outside the write quorum: the origin's followers, every other region's leader
        # (its followers trail that leader as usual)
        return LATE_REPLICATION_NS if target == origin or copy == 0 else 0


class StrongLocalRead(Rules):
    """Strong mode without the read half: a strongly consistent read still waits for its
    round trip, but returns what its own region's leader copy holds (replicated
    asynchronously), not the head of the item's log."""

    name = "strong-local-read"
    mode = "strong"

    def strong_read(self, head: Version | None, local: Version | None) -> Version | None:
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
    """A fresh instance of the named mutant."""
    cls = MUTANTS.get(name) or STRONG_MUTANTS.get(name)
    if cls is None:
        raise ValueError(f"unknown bug {name!r}; known: {', '.join(list(MUTANTS) + list(STRONG_MUTANTS))}")
    return cls()
