"""Item semantics that the history format itself defines, shared by model and checker.

Rule 8 of the format says what an update does to an item; the model applies it to
produce new versions and the checker uses it to recognise them, so it lives here, below
both, rather than in either. Conditions (rule 11) are the expression evaluator's
(``kernel/expressions.py``), applied by the item spec (``kernel/itemspec.py``).
"""

from __future__ import annotations

from typing import Any


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def apply_change(item: dict[str, Any] | None, change: dict[str, Any]) -> dict[str, Any]:
    """Rule 8: ``set`` replaces top-level attributes, then ``remove`` deletes them, then
    ``add`` adds to a number (missing counts as 0) or appends the elements of a list not
    already present. Works on a copy; ``None`` (no item) counts as ``{}``."""
    new = dict(item) if isinstance(item, dict) else {}
    for name, v in (change.get("set") or {}).items():
        new[name] = v
    for name in change.get("remove") or ():
        new.pop(name, None)
    for name, v in (change.get("add") or {}).items():
        old = new.get(name)
        if is_number(v):
            new[name] = (old if is_number(old) else 0) + v
        elif isinstance(v, list):
            base = list(old) if isinstance(old, list) else []
            base.extend(x for x in v if x not in base)
            new[name] = base
    return new
