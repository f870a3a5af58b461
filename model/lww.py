"""The conflict order of global tables: last writer wins, per whole item.

A version is ``(ts, origin, write_id, value, deleted)``. The order is ``(ts, origin)``,
larger wins; ``write_id`` breaks the tie that the model never produces (one origin
never stamps two versions of an item with one timestamp, since ts = max(clock,
stored + 1)) so that ``merge`` is a total, deterministic function.

``merge`` is THE rule by which a storage copy applies a version that reaches it: the one
transition relation (``globaltables.GlobalTables``, which every driver runs), the emulator
and the law tests (``tests/model/test_lww.py``) all call this one function. Tuples rather than objects:
it sits on the simulator's hot path.
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
    return b is None or (a is not b and merge(b, a) is a)


def merge(a: Version | None, b: Version | None) -> Version | None:
    """The LWW join, applying ``b`` to a copy that holds ``a``: commutative, associative,
    idempotent; ``None`` (nothing applied yet) is the identity. Ties on the whole order
    keep ``a``, so applying a version a copy already holds changes nothing."""
    if a is None:
        return b
    if b is None:
        return a
    if a[0] != b[0]:
        return a if a[0] > b[0] else b
    if a[1] != b[1]:
        return a if a[1] > b[1] else b
    return a if a[2] >= b[2] else b
