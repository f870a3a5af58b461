"""The outcome of ordering one key: the conflict order chosen and what each read saw.

Two producers fill it: the timestamp path (``checker.ordering.timestamps``, O(n log n),
when every ok write of the key carries ``ts``) and the solver path
(``checker.ordering.solver``, z3, when
some do not). One consumer judges it: the property evaluation. Keeping the shape here,
apart from both, lets either producer be replaced without touching the judges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DECIDED, UNKNOWN = "decided", "unknown"


@dataclass(slots=True)
class KeyOrder:
    """A conflict order for one key's writes, chosen by rule 5 of the history format.

    ``rank`` maps the index of every write that took effect (ok writes, and the info
    writes judged to have taken effect) to its position: a larger rank wins.
    ``saw`` maps each read that passed integrity to the index of the write whose version
    it returned, or ``None`` for the initial state.
    ``status`` is ``unknown`` when the order could not be decided (solver timeout): the
    key's properties are then ``unknown``, never ``true`` or ``false``.
    ``inversions`` holds the key's ``ts-inversion`` anomalies (rule 10: recorded ``ts``
    contradicting real time; the order then follows the ``ts``), ``None`` when the producer
    did not look for them. ``contradictions`` explain, from an unsat core, which few operations cannot all be
    satisfied together: ``{"ops": [indices], "explanation": "..."}``.
    """

    key: str
    status: str = DECIDED
    rank: dict[int, int] = field(default_factory=dict)
    saw: dict[int, int | None] = field(default_factory=dict)
    reason: str | None = None
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    # rule 10: the key's ``ts-inversion`` anomalies (None: not looked for by the producer)
    inversions: list[Any] | None = None
