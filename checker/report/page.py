"""Build the page (``build_page``, pure): choose what to draw in full detail
(:mod:`.detail`), then produce the two halves apart: ``data``, the compact JSON the
page's script draws the timeline and the staleness charts from (:mod:`.data`), and
``view``, the values the template renders on the server side (:mod:`.view`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from gtcheck.checker.operations import Header, NemesisEvent, Operation
from gtcheck.checker.report import data as D
from gtcheck.checker.report import view as V
from gtcheck.checker.report.detail import DEFAULT_OP_BUDGET, MAX_ANOMALIES, select
from gtcheck.checker.report.lostwrites import lost_writes
from gtcheck.checker.report.text import verdict_word


def build_page(
    header: Header,
    operations: list[Operation],
    nemesis: list[NemesisEvent],
    summary: Mapping[str, Any],
    *,
    reads: Iterable[Any] | None = None,
    final_state: Mapping[str, Mapping[str, int | None]] | None = None,
    truth_path: Path | None = None,
    history_path: str = "history.jsonl",
    op_budget: int = DEFAULT_OP_BUDGET,
    finding: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the template needs: ``{"view": ..., "data": ...}``. ``finding``: a
    property outside the checker the history breaks (``write_report``): it decides the
    verdict and the banner, the checker's own result is said beside it."""
    regions = list(header.regions)
    region_idx = {r: i for i, r in enumerate(regions)}
    sel = select(header, operations, nemesis, summary, op_budget)
    t0, t1 = sel.t0, sel.t1

    # the data
    reads_list, read_info = D.reads_by_index(reads)
    tl = D.timeline(sel, region_idx, read_info)
    applied, applied_source, truth_note = D._applied_markers(
        sel.detail_ops, tl.pos_of, read_info, sel.ops_by_index, region_idx, t0, truth_path)
    agg = D.summarised_lanes(sel, regions, region_idx)
    faults, marks = D._faults(nemesis, regions, t0, t1)
    stale_section = summary.get("staleness") or {}
    pairs = D.staleness_pairs(stale_section, reads_list, sel.ops_by_index, t0, tl.key_id)
    stale_data = D.staleness_data(stale_section, pairs, reads_list is not None, sel.cited)
    refs = D.anomaly_refs(sel, tl)
    scope = V.scope_text(sel, len(operations), agg)
    lost_view, lost_marks = lost_writes(summary.get("lost_writes") or {}, sel.ops_by_index,
                                        tl.pos_of, t0)
    data = {
        "version": 1,
        "regions": regions,
        "t0": t0, "t1": t1 - t0,
        "settled": header.settled_after_ns - t0 if header.settled_after_ns is not None else None,
        "keys": tl.keys,
        "keyInfo": [[len(sel.by_key.get(k, ())), sel.anomaly_keys.get(k, 0)] for k in tl.keys],
        "lanes": [[r, str(p)] for r, p in tl.lanes],
        "vals": tl.values,
        "ops": tl.cols,
        "tsBase": tl.ts_base,
        "applied": applied,
        "appliedSource": applied_source,
        "agg": agg,
        "faults": faults,
        "marks": marks,
        "anomalies": D.anomaly_entries(sel, tl, refs),
        "lost": lost_marks,
        "staleness": stale_data,
        "scope": scope,
    }

    # the view
    cards = V.property_cards(sel, header)
    valid = summary.get("valid", "unknown")
    unknown_keys = summary.get("unknown_keys") or []
    view = {
        "title": Path(history_path).name,
        "verdict": verdict_word(valid),
        "banner": V.banner(valid, sel.anomaly_total, cards),
        "properties": cards,
        "anomalies": V.anomaly_list(sel, refs),
        "anomaly_total": sel.anomaly_total,
        "anomaly_listed": len(sel.anomalies),
        "anomaly_cap": MAX_ANOMALIES,
        "scope": scope,
        "staleness": V.staleness_view(stale_section, pairs, reads_list is not None,
                                      len(stale_data["points"])),
        "convergence": V.convergence_table(final_state, sel.ops_by_index, regions, summary,
                                           sel.cited, tl.pos_of),
        "lost_writes": lost_view,
        "meta": V.meta(header, summary, history_path, len(operations), len(nemesis)),
        "unknown_keys": [str(k) for k in list(unknown_keys)[:50]],
        "unknown_keys_total": len(unknown_keys),
        "applied_source": applied_source,
        "truth_note": truth_note,
        "regions": regions,
        "report_build_s": None,
        "finding": None,
    }
    if finding is not None:
        view["finding"] = V.finding_view(finding, view["verdict"], view["banner"])
        view["verdict"] = "invalid"
        view["banner"] = view["finding"]["banner"]
    return {"view": view, "data": data}
