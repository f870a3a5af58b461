"""Anomalies: what the checker found wrong, named, located and explained in words.

An :class:`Anomaly` names its operations by history ``index`` and carries a one- or
two-sentence explanation that cites those indices, their regions and their times, so a
reader can go straight to the lines of the history. Names are stable (tests, reports and
users match on them); ``docs/anomalies.md`` describes each one.

The small formatting helpers (:func:`fmt_time`, :func:`fmt_dur`, :func:`op_ref`) live
here so that every explanation reads the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# property names, in report order
INTEGRITY = "integrity"
CONVERGENCE = "convergence"
READ_AFTER_WRITE = "read_after_write"
LINEARIZABILITY = "linearizability"
STALENESS = "staleness"
PROPERTIES = (INTEGRITY, CONVERGENCE, READ_AFTER_WRITE, LINEARIZABILITY, STALENESS)

# stable anomaly names -> property they fail
STALE_READ = "stale-read"
LOST_OWN_WRITE = "lost-own-write"
DIVERGENT_FINAL_STATE = "divergent-final-state"
WRONG_WINNER = "wrong-winner"
READ_OF_FAILED_WRITE = "read-of-failed-write"
PHANTOM_READ = "phantom-read"
FUTURE_READ = "future-read"
TS_INVERSION = "ts-inversion"             # rule 10: the recorded ts contradict real time
AMBIGUOUS_VERSION = "ambiguous-version"   # reported as bad input (rule 4), see docs/anomalies.md

NOT_LINEARIZABLE = "not-linearizable"     # a key's operations have no linearization

# the one map of anomalies to the property they fail (each tuple in reporting order); every
# property module (checker/props/) takes its names from here
PROPERTY_ANOMALIES: dict[str, tuple[str, ...]] = {
    INTEGRITY: (PHANTOM_READ, FUTURE_READ, READ_OF_FAILED_WRITE, AMBIGUOUS_VERSION),
    CONVERGENCE: (DIVERGENT_FINAL_STATE, WRONG_WINNER),
    READ_AFTER_WRITE: (LOST_OWN_WRITE, TS_INVERSION),
    LINEARIZABILITY: (NOT_LINEARIZABLE,),
    STALENESS: (STALE_READ,),
}
ANOMALY_PROPERTY = {name: prop for prop, names in PROPERTY_ANOMALIES.items() for name in names}


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


def make(name: str, key: str, ops: list[int], explanation: str, *, time_ns: int | None = None,
         region: str | None = None, severity_ns: int = 0, **details: Any) -> Anomaly:
    """Build an anomaly of a known name (its property is looked up)."""
    return Anomaly(name=name, property=ANOMALY_PROPERTY[name], key=key, ops=ops,
                   explanation=explanation, time_ns=time_ns, region=region,
                   details=details, severity_ns=severity_ns)


def _num(x: float) -> str:
    x = float(x)
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_dur(ns: int | float | None) -> str:
    """A duration for people: ``1.30 s``, ``750 ms``, ``12.5 µs``, ``40 ns``."""
    if ns is None:
        return "-"
    a = abs(ns)
    if a >= 1_000_000_000:
        if type(ns) is int and a >= 2 ** 53:   # exact for integers of any size (no float)
            cs = (a + 5_000_000) // 10_000_000
            return f"{'-' if ns < 0 else ''}{cs // 100}.{cs % 100:02d} s"
        return f"{ns / 1e9:.2f} s"
    if a >= 1_000_000:
        return f"{_num(ns / 1e6)} ms"
    if a >= 1_000:
        return f"{_num(ns / 1e3)} µs"
    return f"{int(ns)} ns"


def fmt_time(ns: int | None) -> str:
    """A moment on the history's ``time`` axis, in the same units as :func:`fmt_dur`."""
    return fmt_dur(ns)


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
