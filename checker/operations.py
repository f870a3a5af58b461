"""The parsed shape of a history: its header and its operations (invoke + completion).

This module is the contract between the history reader (``checker.history``) and
everything that judges histories. It holds data only, no logic beyond small helpers,
so every part of the checker can depend on it without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtcheck.kernel.vocabulary import (  # noqa: F401  (re-exported for the checker)
    CAS, DELETE, FAIL, FUNCTIONS, INFO, NEMESIS_FUNCTIONS, OK, READ, UPDATE, WRITE,
    WRITE_FUNCTIONS,
)


@dataclass(slots=True)
class Header:
    """Line 1 of a history. ``meta`` keeps the whole header object as read."""

    regions: list[str]
    mode: str = "eventual"
    clock_uncertainty_ns: int = 0
    ts_uncertainty_ns: int | None = None
    settled_after_ns: int | None = None
    initial: Any = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Operation:
    """One client operation: its invocation joined with its completion.

    ``outcome`` is ``ok`` (took effect), ``fail`` (certainly did not) or ``info``
    (unknown; also used for an invocation that never completed).
    ``value`` is what the operation produced or returned: the item read (``None`` for
    "no such item"), the item written, the post-image of an ok update (``None`` when
    unknown), the new value of a cas, ``None`` for a delete. ``invoke_value`` is the
    invocation's value (an update's change, a cas's ``[expected, new]``).
    ``complete_time`` is set only for ``ok`` and ``fail``: an ``info`` operation never
    completed, it may take effect at any later time; ``end_time`` is the time of its
    completion event whatever its type (for drawing), ``None`` if it has none.
    """

    index: int                      # the invoke event's index
    process: int | str
    region: str
    f: str
    key: str
    invoke_value: Any
    value: Any
    outcome: str
    invoke_time: int
    complete_time: int | None
    end_time: int | None = None
    complete_index: int | None = None
    consistent: bool = False
    ts: int | None = None
    origin: str | None = None
    line: int = 0                   # 1-based line of the invocation in the file
    extra: dict[str, Any] | None = None  # free event fields kept as read (txn, condition, ...)
    complete_line: int | None = None  # 1-based line of the completion event, if any (rule 1)

    @property
    def is_write(self) -> bool:
        return self.f in WRITE_FUNCTIONS

    @property
    def conflict_key(self) -> tuple[int, str] | None:
        """(ts, origin): the conflict order, larger wins; None when ts is unknown."""
        if self.ts is None:
            return None
        return (self.ts, self.origin or self.region)


@dataclass(slots=True)
class NemesisEvent:
    """A fault event (process ``nemesis``), kept for reports and fault windows."""

    index: int
    f: str
    value: Any
    time: int
    line: int = 0
