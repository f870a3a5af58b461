"""Item semantics that the history format itself defines, shared by model and checker.

Rule 8 of the format says what an update does to an item; the model applies it to
produce new versions and the checker uses it to recognise them, so it lives here, below
both, rather than in either. Conditions (rule 11) are the expression evaluator's
(``kernel/expressions.py``), applied by the item spec (``kernel/itemspec.py``).
"""

from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from typing import Any

MAX_EXACT_DIGITS = 100_000   # past this many digits a sum is not computed (unknown)


class Unknown(Exception):
    """Rule 8's result cannot be computed (a sum of more than MAX_EXACT_DIGITS digits)."""


def is_number(x: Any) -> bool:
    """A number of the history: an integer, a float (a decimal some float renders), or an
    exact ``Decimal`` (one no float holds: ``0.10000000000000001``, ``1e400``)."""
    t = type(x)
    return t is int or t is float or t is Decimal


def exact(x: Any) -> Decimal:
    """The exact decimal value a history number stands for (a float: the decimal it was
    read from, its shortest rendering, never its binary expansion)."""
    if type(x) is float:
        return Decimal(repr(x))
    return Decimal(x)


def _digits_needed(a: Decimal, b: Decimal) -> int:
    """Digits that hold ``a + b`` exactly (from the larger magnitude down to the smaller
    exponent, one more for a carry)."""
    top = max(a.adjusted() if a else 0, b.adjusted() if b else 0)
    low = min(int(a.as_tuple().exponent), int(b.as_tuple().exponent), 0)
    return top - low + 2


def _exact_sum(a: Decimal, b: Decimal, subtract: bool) -> Decimal:
    if not (a.is_finite() and b.is_finite()):
        raise Unknown("not a finite number")
    need = _digits_needed(a, b)
    if need > MAX_EXACT_DIGITS:
        raise Unknown(f"a sum of {need} digits")
    ctx = Context(prec=need, Emax=MAX_EMAX, Emin=MIN_EMIN)
    return ctx.subtract(a, b) if subtract else ctx.add(a, b)


def add_numbers(old: Any, a: Any) -> Any:
    """Rule 8's ``add`` of two numbers, exact: integers as integers (any size), anything
    else as the exact sum of the decimal values (``0.1 + 0.2`` is ``0.3``; DynamoDB's
    38-digit arithmetic gives the same wherever DynamoDB accepts the sum). Raises
    :class:`Unknown` past MAX_EXACT_DIGITS digits."""
    if type(old) is int and type(a) is int:
        return old + a
    return _exact_sum(exact(old), exact(a), False)


def subtract_numbers(total: Any, a: Any) -> Any:
    """The number ``x`` with ``add_numbers(x, a) == total`` (rule 8 run backwards)."""
    if type(total) is int and type(a) is int:
        return total - a
    return _exact_sum(exact(total), exact(a), True)


def apply_change(item: dict[str, Any] | None, change: dict[str, Any]) -> dict[str, Any]:
    """Rule 8: ``set`` replaces top-level attributes, then ``remove`` deletes them, then
    ``add`` adds to a number (missing counts as 0) or appends the elements of a list not
    already present. Works on a copy; ``None`` (no item) counts as ``{}``. Numbers add
    exactly (:func:`add_numbers`; raises :class:`Unknown` when a sum is too long to hold)."""
    new = dict(item) if isinstance(item, dict) else {}
    for name, v in (change.get("set") or {}).items():
        new[name] = v
    for name in change.get("remove") or ():
        new.pop(name, None)
    for name, v in (change.get("add") or {}).items():
        old = new.get(name)
        if is_number(v):
            new[name] = add_numbers(old if is_number(old) else 0, v)
        elif isinstance(v, list):
            base = list(old) if isinstance(old, list) else []
            base.extend(x for x in v if x not in base)
            new[name] = base
    return new
