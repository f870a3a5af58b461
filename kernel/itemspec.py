"""The sequential specification of one DynamoDB item, as Porcupine writes a model:
``partition``, ``init``, ``step``, ``describe``.

It is the one definition of what a request does to an item, read by both sides of the
project: the model (``gtcheck.model``) carries out every request with ``step`` at its
origin region, and the checker's linearizability register (``checker/wgl.py``) replays a
history's operations through the same ``step``. It lives in the kernel because the model
and the checker may not import each other. The model compares values with ``==``; the
checker passes ``same``, the history format's exact equality (rule 4), so both read one
rule.

Conditions and updates are the history format's (rules 8 and 11): a condition is
DynamoDB's ConditionExpression or the short form, an update's change set/remove/add or
an UpdateExpression, all evaluated by the kernel's one expression evaluator
(``kernel/expressions.py``). Where that evaluator cannot decide, ``step`` does not guess
against the request: a condition it cannot decide (or that DynamoDB would refuse whatever
the item) lets the request through, and an update whose result it cannot tell answers
``UNKNOWN`` as its new item (the checker then admits what the history recorded). The
model's own requests (short-form conditions, set/remove/add changes) are always decided.
"""

from __future__ import annotations

from typing import Any, Callable

from gtcheck.kernel.expressions import REJECTED, UNKNOWN, history_condition, history_update
from gtcheck.kernel.items import Unknown, apply_change

# An item: a map of attributes, None when there is no such item (never written, or
# deleted). A plain register (a Jepsen history) holds any JSON value, so: Any.
Item = Any


class Request:
    """A client request against one item, as the region that receives it evaluates it.

    ``f`` is read / write / update / delete / cas. ``value`` is the whole item for a
    write, the change for an update (``{"set", "remove", "add"}``, or an UpdateExpression
    ``{"expression", "names", "values"}``), ``[expected, new]`` for a cas (``expected``
    None: the item must not exist). ``condition`` is optional: the short form
    ``{"attr": value}`` the stored item must match (conditional write, update and delete,
    and transaction conditions), or a ConditionExpression (rule 11).
    ``key_attributes`` are the item's key attributes, which an UpdateExpression applied to
    a missing item starts from (None: unknown). A plain class rather than a frozen
    dataclass: one is made per simulated request, and the compiled build makes this
    one five times faster; treat it as immutable (``compiled`` caches the evaluator's
    form of its condition and update, made on first use).
    """

    __slots__ = ("f", "key", "value", "condition", "key_attributes", "compiled")

    def __init__(self, f: str, key: str, value: Any = None, condition: Any = None,
                 key_attributes: dict[str, Any] | None = None):
        self.f = f
        self.key = key
        self.value = value
        self.condition = condition
        self.key_attributes = key_attributes
        self.compiled: Any = None

    def __repr__(self) -> str:
        return f"Request({self.f!r}, {self.key!r}, {self.value!r}, {self.condition!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Request) and self.f == other.f and self.key == other.key
                and self.value == other.value and self.condition == other.condition
                and self.key_attributes == other.key_attributes)

    __hash__ = None   # type: ignore[assignment]   # holds dicts: not hashable


def partition(request: Request) -> str:
    """Requests on different keys never interact: last writer wins is per item."""
    return request.key


def init() -> Item:
    """Every item starts absent."""
    return None


def step(item: Item, request: Request,
         same: Callable[[Any, Any], bool] | None = None) -> tuple[Item, bool, Any]:
    """Carry out ``request`` on ``item``: ``(new item, ok, answer)``.

    ``ok`` False: a condition (or a cas's expected item) does not hold and nothing
    changes. ``answer`` is the value the request's ok completion records in a history
    (HISTORY-FORMAT.md): the item read, the item written, an update's post-image, a cas's
    ``[expected, new]`` pair (as in Jepsen), None for a delete. ``same`` compares a cas's
    expected item with the stored one (default ``==``; the checker passes exact equality);
    conditions and updates are the kernel's expression evaluator's (see the module doc).
    """
    f = request.f
    if f == "read":
        return item, True, item
    cond, upd = _compiled(request)
    if cond is not None and cond.holds(item) is False:
        return item, False, None
    if f == "cas":
        expected, new = request.value
        if expected is None or item is None:
            matches = expected is None and item is None
        else:
            matches = item == expected if same is None else same(item, expected)
        if not matches:
            return item, False, None
        return new, True, request.value
    if f == "write":
        return request.value, True, request.value
    if f == "update":
        new_item: Any
        if upd is None:
            try:
                new_item = apply_change(item, request.value)
            except Unknown:
                new_item = UNKNOWN    # a sum too long to compute: the result is unknown
        elif upd.rejected is not None:
            new_item = UNKNOWN        # refused whatever the item: it may be gtcheck's grammar
        else:
            new_item = upd.apply(item, request.key_attributes)
            if new_item is REJECTED:  # DynamoDB refuses it on this item: nothing changes
                return item, False, None
        return new_item, True, new_item
    if f == "delete":
        return None, True, None
    raise ValueError(f"unknown request kind {f!r}")


def _compiled(request: Request) -> tuple[Any, Any]:
    """(condition, UpdateExpression or None) of a request, compiled once."""
    c = request.compiled
    if c is None:
        cond = None if request.condition is None else history_condition(request.condition)
        upd = history_update(request.value) if request.f == "update" else None
        c = request.compiled = (cond, upd)
    return c


def describe(item: Item) -> str:
    """A short human rendering of an item for explanations and reports."""
    if item is None:
        return "absent"
    text = ", ".join(f"{k}={v!r}" for k, v in item.items())
    return "{" + (text if len(text) <= 80 else text[:77] + "...") + "}"
