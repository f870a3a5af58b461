"""Application invariants on a recorded history (``gtcheck check --invariant``).

The same invariants ``gtcheck search`` and ``explore`` run on the model's runs (the shipped
ones and the user's ``module:function``), given the same :class:`~gtcheck.search.run.Run`:
the history, its final state from the final reads, and what the checker established
(``run.established``); no ground truth, which a recording does not have. Each becomes an
entry of the check's summary (``summary["invariants"]``), counted in its verdict.
"""

from __future__ import annotations

from typing import Any

from gtcheck.checker.check import CheckResult
from gtcheck.search.established import from_result
from gtcheck.search.run import COMMAND_LINE, Names, Property, invariant_property, run_from_file


def invariant_list(specs: tuple[str, ...], names: Names = COMMAND_LINE) -> list[tuple[str, Property]]:
    """The invariants named (a shipped one's name, or ``module:function``), imported now: a
    module or function that is not there is bad input before any history is read."""
    return [(spec, invariant_property(spec, names)) for spec in dict.fromkeys(specs)]


def judge(path: str, invariants: list[tuple[str, Property]],
          result: CheckResult | None = None) -> dict[str, dict[str, Any]]:
    """Each invariant on the history at ``path``: ``{spec: {"valid": True | False |
    "unknown", "message", "cited" | "reason"}}``. ``result``, the check of the same history
    made with ``keep_reads`` and ``keep_writes``, spares a second check when it holds every
    fact the invariants read."""
    run = run_from_file(path)
    if result is not None:
        run._established = from_result(result)
    out: dict[str, dict[str, Any]] = {}
    for spec, prop in invariants:
        v = prop(run, b"")
        if not v.holds:
            out[spec] = {"valid": False, "message": v.message, "cited": sorted(set(v.cited))}
        elif v.unknown is not None:
            out[spec] = {"valid": "unknown", "reason": v.unknown}
        else:
            out[spec] = {"valid": True}
    return out
