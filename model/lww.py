"""The conflict order of global tables: last writer wins, per whole item.

A version is ``(ts, origin, write_id, value, deleted)``. The order is ``(ts, origin)``,
larger wins; ``write_id`` breaks the tie that the model never produces (one origin
never stamps two versions of an item with one timestamp, since ts = max(clock,
stored + 1)) so that ``merge`` is a total, deterministic function.

``merge`` is THE rule by which a storage copy applies a version that reaches it: the one
transition relation (``globaltables.GlobalTables``, which every driver runs), the emulator
and the law tests (``tests/model/test_lww.py``) all call this one function. It sits on the
simulator's hot path, so ``Version`` is a small class with typed fields (compiled, the
comparisons are native reads of machine integers) compared by value like a tuple.
"""

from __future__ import annotations

from typing import Any


class Version:
    """One version of an item, never changed once stamped. Equal (and hashed) by its five
    fields, as a tuple of them would be; the model compares versions by identity (``is``)
    where it means "this very version"."""

    __slots__ = ("ts", "origin", "write_id", "value", "deleted")

    def __init__(self, ts: int, origin: str, write_id: int, value: Any, deleted: bool = False):
        self.ts = ts                # microseconds on the origin region's clock
        self.origin = origin        # the region that stamped it
        self.write_id = write_id    # the history index of the write's invocation
        self.value = value          # the whole item; None for a tombstone
        self.deleted = deleted

    @property
    def order(self) -> tuple[int, str, int]:
        return (self.ts, self.origin, self.write_id)

    def fields(self) -> tuple[int, str, int, Any, bool]:
        return (self.ts, self.origin, self.write_id, self.value, self.deleted)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash((self.ts, self.origin, self.write_id, self.deleted))

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied and pickled as a tuple would be (a compiled class has no default way)."""
        return (Version, self.fields())

    def __repr__(self) -> str:
        return (f"Version(ts={self.ts!r}, origin={self.origin!r}, write_id={self.write_id!r}, "
                f"value={self.value!r}, deleted={self.deleted!r})")


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
    if a.ts != b.ts:
        return a if a.ts > b.ts else b
    if a.origin != b.origin:
        return a if a.origin > b.origin else b
    return a if a.write_id >= b.write_id else b
