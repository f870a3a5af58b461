"""What one item does, as Porcupine models are written: partition, init, step, describe.

These four functions are the whole semantics of a DynamoDB item at the region that
receives a request; the simulator adds regions, replication and time around them, and
the checker's per-key decomposition is ``partition``. ``step`` is pure: it takes the
item as the origin region holds it and returns the new item and the client's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gtcheck.kernel.items import apply_change, condition_holds  # noqa: F401  (re-exported)

Item = dict[str, Any] | None   # None: no such item (never written, or deleted)


@dataclass(frozen=True, slots=True)
class Request:
    """A client request against one item, as the origin region evaluates it.

    ``f`` is read / write / update / delete / cas. ``value`` is the whole item for a
    write, the change ``{"set", "remove", "add"}`` for an update, ``[expected, new]``
    for a cas (``expected`` None: the item must not exist). ``condition`` is an
    optional ``{"attr": value}`` map the stored item must match (conditional update /
    delete, and transaction conditions).
    """

    f: str
    key: str
    value: Any = None
    condition: dict[str, Any] | None = None


def partition(request: Request) -> str:
    """Requests on different keys never interact: last writer wins is per item."""
    return request.key


def init() -> Item:
    """Every item starts absent."""
    return None


def step(item: Item, request: Request) -> tuple[Item, bool, Any]:
    """Apply ``request`` to ``item`` at its origin region.

    Returns ``(new_item, ok, answer)``: ``ok`` False means a condition failed and nothing
    changed; ``answer`` is what the client sees (the item read, the item written, the
    update's post-image, the cas's new value, None for a delete).
    """
    f = request.f
    if f == "read":
        return item, True, item
    if f == "cas":
        expected, new = request.value
        if item != expected:
            return item, False, None
        return new, True, new
    if not condition_holds(item, request.condition):
        return item, False, None
    if f == "write":
        return request.value, True, request.value
    if f == "update":
        new = apply_change(item, request.value)
        return new, True, new
    if f == "delete":
        return None, True, None
    raise ValueError(f"unknown request kind {f!r}")


def describe(item: Item) -> str:
    """A short human rendering of an item for explanations and reports."""
    if item is None:
        return "absent"
    text = ", ".join(f"{k}={v!r}" for k, v in item.items())
    return "{" + (text if len(text) <= 80 else text[:77] + "...") + "}"
