"""Anomalies: what the checker found wrong, named, located and explained in words.

An :class:`Anomaly` names its operations by history ``index`` and carries a one- or
two-sentence explanation that cites those indices, their regions and their times, so a
reader can go straight to the lines of the history. Names are stable (tests, reports and
users match on them); ``docs/anomalies.md`` describes each one.

Each kind of anomaly is an :class:`AnomalyKind`, declared once in the module of the
property it fails (``checker/props/``); ``checker.props`` lists them all. Explanations cite
times and durations with ``gtcheck.kernel.units.format_duration`` and operations with
:func:`op_ref`, so that every explanation reads the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class AnomalyKind:
    """One kind of anomaly, declared once, in the module of the property it fails
    (``checker/props/<property>.py``, its ``ANOMALIES``). ``name`` is stable (tests, reports
    and users match on it); ``doc`` is the one line docs/anomalies.md and README expand.
    ``fault_context``: the anomaly spans a lag (a stale read, a missed write), so its
    explanation names the fault windows that overlap that lag (``checker.faults``)."""

    name: str
    property: str
    title: str
    doc: str
    fault_context: bool = False


@dataclass(slots=True)
class Anomaly:
    """One violation. ``ops`` are history indices, the most telling first.

    ``time_ns`` is when it shows (the read's invocation, for reads); ``severity_ns`` orders
    anomalies of one name, worst first (a stale read's staleness, a lost write's lag).
    """

    name: str
    property: str
    key: str
    ops: list[int]
    explanation: str
    time_ns: int | None = None
    region: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    severity_ns: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "property": self.property,
            "key": self.key,
            "ops": list(self.ops),
            "explanation": self.explanation,
            "time_ns": self.time_ns,
            "region": self.region,
            "details": self.details,
        }

    def sort_key(self) -> tuple:
        """Worst first: larger severity, then earlier, then smaller first index."""
        return (-self.severity_ns, self.time_ns if self.time_ns is not None else 0,
                self.ops[0] if self.ops else -1, self.key)


def make(kind: AnomalyKind, key: str, ops: list[int], explanation: str, *,
         time_ns: int | None = None, region: str | None = None, severity_ns: int = 0,
         **details: Any) -> Anomaly:
    """Build an anomaly of a declared kind (its name and property come from the kind)."""
    return Anomaly(name=kind.name, property=kind.property, key=key, ops=ops,
                   explanation=explanation, time_ns=time_ns, region=region,
                   details=details, severity_ns=severity_ns)


def op_ref(op: Any) -> str:
    """``#12 (us-east-1)``: how explanations name an operation."""
    return f"#{op.index} ({op.region})"


def version_ref(op: Any | None) -> str:
    """How explanations name the version a read returned."""
    if op is None:
        return "the initial state (no item)"
    if op.f == "delete":
        return f"the deletion by #{op.index} ({op.region})"
    return f"the version written by #{op.index} ({op.region})"
