"""The report's lost writes (rule 12): the panel's view (how many, per region pair, each
lost write with the write it was lost to and the version that write was applied to,
linked to the timeline) and the timeline's marks (every drawn lost write, struck through;
a selected one's arrows)."""

from __future__ import annotations

from typing import Any, Mapping

from gtcheck.checker.operations import Operation
from gtcheck.checker.report.text import fmt_ns

MAX_LOST_ROWS = 200                 # rows of the lost-writes table


def lost_positions(details: Mapping[str, Any], pos_of: Mapping[int, int]) -> list[int]:
    """``[lost write, the write it was lost to, the version that write was applied to]``
    as timeline positions (-1: not drawn, or the initial state)."""
    base = details.get("base")
    return [pos_of.get(details.get("write"), -1), pos_of.get(details.get("lost_to"), -1),
            pos_of.get(base, -1) if isinstance(base, int) else -1]


def lost_writes(section: Mapping[str, Any], ops_by_index: Mapping[int, Operation],
                pos_of: Mapping[int, int], t0: int) -> tuple[dict[str, Any], list[list[int]]]:
    """The panel's view and the timeline's marks (see the module doc)."""
    if not section or section.get("checked") is False:
        return {"available": False, "reason": section.get("reason") if section else None}, []
    figs = section.get("figures") or {}
    anoms = [a for a in section.get("anomalies") or [] if a.get("name") == "lost-write"]

    def ref(i: Any) -> dict[str, Any] | None:
        op = ops_by_index.get(i) if isinstance(i, int) else None
        if op is None:
            return None
        end = op.complete_time if op.complete_time is not None else op.invoke_time
        return {"index": i, "pos": pos_of.get(i, -1), "region": op.region, "f": op.f,
                "time": fmt_ns(end - t0)}

    rows, marks = [], []
    for a in anoms:
        d = a.get("details") or {}
        m = lost_positions(d, pos_of)
        if m[0] >= 0:
            marks.append(m)
        if len(rows) < MAX_LOST_ROWS:
            rows.append({"key": str(a.get("key")), "write": ref(d.get("write")),
                         "lost_to": ref(d.get("lost_to")), "base": ref(d.get("base")),
                         "inferred": bool(d.get("inferred")),
                         "reconstructed": bool(d.get("reconstructed"))})
    total = figs.get("lost_writes", len(anoms))
    pairs = figs.get("by_region_pair") or {}
    return {
        "available": True, "total": total, "keys": figs.get("keys_with_lost_writes", 0),
        "keys_judged": figs.get("keys_judged", 0), "counted": section.get("counted") is not False,
        "pairs": sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])),
        "rows": rows, "omitted": max(total - len(rows), 0),
        "undecided": figs.get("chains_stopped_undecided", 0),
    }, marks
