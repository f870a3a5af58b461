"""Where moto's DynamoDB fails on a valid request and DynamoDB's rule is known, the emulator
applies the rule (installed once per process by the emulator; moto's files are not changed).

One gap so far, found by the emulator fuzzer (tests/fuzz/emulator.py): an order comparison
(``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``) between values of different types, e.g.
``FilterExpression: "size(l) > :z"`` with ``:z`` a string, or ``n < :b`` with ``n`` a number
and ``:b`` a binary, raises ``TypeError`` inside moto (a 500). In DynamoDB an order exists
only within numbers, within strings and within binaries (the kernel's
``attrvalues.compare``), so such a comparison is false and the item simply does not match.
The mended operators decide exactly that case and leave every other to moto's own code.

The mends apply only while the emulator's own thread is inside moto (``mending()``), so moto
used directly in the same process (``mock_aws`` in a test) behaves as moto does.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Callable, Iterator

__all__ = ["install", "mending"]

_installed = False
_state = threading.local()


@contextmanager
def mending() -> Iterator[None]:
    """Within this block (this thread), moto's gaps are mended."""
    before = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = before


def _order_type(v: Any) -> str | None:
    """DynamoDB's type of a value moto computes, for the types an order exists in."""
    t = type(v)
    if t is Decimal or t is int:         # size() gives an int: a number
        return "N"
    if t is str:
        return "S"
    if t is bytes:
        return "B"
    return None


def _unordered(*values: Any) -> bool:
    """Whether these (present) values cannot be ordered against each other."""
    kinds = {_order_type(v) for v in values}
    return len(kinds) != 1 or None in kinds


def _mend_op(original: Callable[..., bool]) -> Callable[..., bool]:
    def expr(self: Any, item: Any) -> bool:
        if not getattr(_state, "on", False):
            return original(self, item)
        lhs, rhs = self.lhs.expr(item), self.rhs.expr(item)
        if lhs is not None and rhs is not None and _unordered(lhs, rhs):
            return False
        return original(self, item)
    expr.__doc__ = original.__doc__
    return expr


def _mend_between(original: Callable[..., bool]) -> Callable[..., bool]:
    def expr(self: Any, item: Any) -> bool:
        if not getattr(_state, "on", False):
            return original(self, item)
        values = (self.attr.expr(item), self.start.expr(item), self.end.expr(item))
        if None not in values and _unordered(*values):
            return False
        return original(self, item)
    expr.__doc__ = original.__doc__
    return expr


def install() -> None:
    """Mend moto's comparison operators in this process (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb import comparisons as c

    for cls in (c.OpLessThan, c.OpGreaterThan, c.OpLessThanOrEqual, c.OpGreaterThanOrEqual):
        cls.expr = _mend_op(cls.expr)          # type: ignore[method-assign]
    c.FuncBetween.expr = _mend_between(c.FuncBetween.expr)     # type: ignore[method-assign]
    _installed = True
