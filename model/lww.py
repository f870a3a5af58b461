"""The conflict order of global tables: last writer wins, per whole item.

A version is ``(ts, origin, write_id, value, deleted)``. The order is ``(ts, origin)``,
larger wins; ``write_id`` breaks the tie that the model never produces (one origin
never stamps two versions of an item with one timestamp, since ts = max(clock,
stored + 1)) so that ``merge`` is a total, deterministic function. Tuples rather than
objects: this sits on the simulator's hot path.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Version(NamedTuple):
    ts: int            # microseconds on the origin region's clock
    origin: str        # the region that stamped it
    write_id: int      # the history index of the write's invocation
    value: Any         # the whole item; None for a tombstone
    deleted: bool = False

    @property
    def order(self) -> tuple[int, str, int]:
        return (self.ts, self.origin, self.write_id)


def wins(a: Version, b: Version | None) -> bool:
    """True when version ``a`` beats ``b`` (``None`` is the initial, absent state)."""
    return b is None or (a[0], a[1], a[2]) > (b[0], b[1], b[2])


def merge(a: Version | None, b: Version | None) -> Version | None:
    """The LWW join: commutative, associative, idempotent; ``None`` is the identity."""
    if a is None:
        return b
    if b is None:
        return a
    return a if (a[0], a[1], a[2]) >= (b[0], b[1], b[2]) else b
