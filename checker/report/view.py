"""The page's view: the values the template renders on the server side (``page["view"]``):
the verdict and banner, one card per property (title and description from the registry),
the anomalies listed with their explanations, what was summarised (in words), the
staleness table, the convergence table and the history's metadata."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

from gtcheck.checker.operations import Header
from gtcheck.checker.report.data import StalenessPairs
from gtcheck.checker.report.detail import Selection
from gtcheck.checker.report.text import (flatten_figures, fmt_ns, fmt_value, short,
                                         verdict_word)

MAX_CONVERGENCE_ROWS = 200          # rows of the convergence table
DETAILS_CHARS = 400                 # an anomaly's ``details`` as JSON, cut


def property_cards(sel: Selection, header: Header) -> list[dict[str, Any]]:
    return [property_card(pa.prop, pa.section, pa.count, header) for pa in sel.by_property]


def property_card(prop: Any, section: Mapping[str, Any], n_anoms: int,
                   header: Header) -> dict[str, Any]:
    """A property's card: its title and description from the registry; its verdict, or
    "not checked" when the summary has no entry for it or the entry says so."""
    valid = section.get("valid") if section else None
    figures = section.get("figures") if section else None
    verdict = verdict_word(valid)
    if not section or section.get("checked") is False:
        verdict = "not checked"
    elif section.get("counted") is False and valid is False:
        verdict = "found"          # a finding reported, not counted in the verdict
    about = prop.DESCRIPTION
    if section and isinstance(section.get("scope"), str):
        about += f" In scope ({header.mode} mode): {section['scope']}."
    figs = flatten_figures(figures)
    if prop.NAME == "staleness" and section:
        extra = []
        if "smallest_bound_ns" in section:
            extra.append(("smallest bound satisfied", fmt_ns(section.get("smallest_bound_ns"))))
        if section.get("bound_ns") is not None:
            extra.append(("bound given", fmt_ns(section.get("bound_ns"))))
        figs = extra + [f for f in figs if not f[0].startswith("pairs.")]
    reason = section.get("reason") if section else None
    return {
        "id": prop.NAME, "title": prop.TITLE, "about": about, "verdict": verdict,
        "n_anomalies": n_anoms, "figures": figs[:8], "more_figures": figs[8:40],
        "reason": str(reason) if reason else None,
    }


def anomaly_list(sel: Selection, refs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The listed anomalies with their explanations and the operations they cite."""
    out = []
    for aid, (a, op_refs) in enumerate(zip(sel.anomalies, refs)):
        details = a.get("details")
        details_text = short(details, DETAILS_CHARS) if details not in (None, {}, []) else ""
        tns = a.get("time_ns")
        out.append({
            "id": aid, "name": str(a.get("name", "anomaly")), "property": a["property"],
            "key": a.get("key"), "region": a.get("region"),
            "explanation": str(a.get("explanation", "")),
            "time": fmt_ns(tns - sel.t0) if isinstance(tns, int) else None,
            "ops": op_refs, "details": details_text,
        })
    return out


def scope_text(sel: Selection, n_total: int, agg: Mapping[str, Any] | None) -> str:
    """What was drawn in detail and what was summarised, in words."""
    n_detail = len(sel.detail_ops)
    if n_detail == n_total:
        return (f"Showing all {n_total:,} operations of {len(sel.by_key):,} "
                f"{'key' if len(sel.by_key) == 1 else 'keys'} in detail.")
    parts = []
    if sel.full_anomaly_keys:
        parts.append(f"all ops of the {len(sel.full_anomaly_keys):,} keys with anomalies")
    if sel.windowed_anomaly_keys:
        parts.append(f"ops within ±{fmt_ns(sel.window)} of each anomaly for "
                     f"{len(sel.windowed_anomaly_keys):,} more keys with anomalies")
    if sel.busy_keys and sel.skipped_busy:
        parts.append(f"all ops of {len(sel.busy_keys):,} more keys, busiest first "
                     "(keys too big for what was left of the budget are summarised)")
    elif sel.busy_keys:
        parts.append(f"all ops of the {len(sel.busy_keys):,} busiest keys")
    if not parts:
        parts.append("the operations cited by anomalies")
    rest = f"the other {len(sel.summarised):,} ops"
    if agg and agg["keys"]:
        rest += f" ({agg['keys']:,} keys not drawn" + (
            ", and the rest of the partly drawn keys)" if sel.windowed_anomaly_keys else ")")
    return (f"Showing {n_detail:,} of {n_total:,} operations in detail: "
            + ", ".join(parts) + f"; {rest} are summarised as counts per "
            + (fmt_ns(agg["bucket"]) if agg else "bucket") + " per region.")


def banner(valid: Any, anomaly_total: int, cards: list[dict[str, Any]]) -> str:
    n_bad_props = sum(1 for p in cards if p["n_anomalies"])
    if valid is True:
        return "No anomalies found"
    if valid is False:
        return (f"{anomaly_total:,} {'anomaly' if anomaly_total == 1 else 'anomalies'} in "
                f"{n_bad_props} {'property' if n_bad_props == 1 else 'properties'}")
    return "The checker could not decide every property"


def finding_view(finding: Mapping[str, Any], checker_verdict: str, checker_banner: str) -> dict[str, Any]:
    """A property outside the checker that the history breaks (an application invariant a
    search counterexample breaks): the banner names it, the checker's own verdict on the
    history's consistency properties is kept beside it (it is often valid: the database
    kept its promises, the application's assumption did not hold)."""
    cited = [int(i) for i in finding.get("cited") or []]
    return {
        "name": str(finding["name"]),
        "message": str(finding.get("message") or ""),
        "cited": cited,
        "banner": f"{finding['name']} is broken" + (f" (ops {', '.join(map(str, cited))})" if cited else ""),
        "checker": f"{checker_verdict}: {checker_banner}",
    }


def staleness_view(section: Mapping[str, Any], sp: StalenessPairs, have_reads: bool,
                   n_sampled: int) -> dict[str, Any]:
    """The staleness table: per region pair, reads, max, p50 and p99; over the bound?"""
    bound = section.get("bound_ns")
    smallest = section.get("smallest_bound_ns")
    pairs = [{"name": p["name"], "reads": fmt_value("reads", p["reads"]), "max": fmt_ns(p["max"]),
              "p50": fmt_ns(p["p50"]), "p99": fmt_ns(p["p99"]),
              "over": bound is not None and isinstance(p["max"], (int, float)) and p["max"] > bound}
             for p in sp.stats]
    return {
        "pairs": pairs,
        "bound": fmt_ns(bound) if bound is not None else None,
        "smallest": fmt_ns(smallest) if smallest is not None else None,
        "have_reads": have_reads,
        "n_points": len(sp.points), "n_sampled": n_sampled,
        "fresh": sp.fresh,
    }


def meta(header: Header, summary: Mapping[str, Any], history_path: str,
               n_ops: int, n_nemesis: int) -> dict[str, Any]:
    meta = dict(header.meta or {})
    known = {"format", "version", "regions", "mode", "clock_uncertainty_ns",
             "ts_uncertainty_ns", "settled_after_ns", "initial"}
    rows = [
        ("history", history_path),
        ("regions", ", ".join(header.regions)),
        ("mode", header.mode),
        ("clock uncertainty δ", fmt_ns(header.clock_uncertainty_ns)),
        ("ts uncertainty ε", fmt_ns(header.ts_uncertainty_ns)
         if header.ts_uncertainty_ns is not None else "unknown"),
        ("settled after", fmt_ns(header.settled_after_ns)
         if header.settled_after_ns is not None else "not given (no final reads)"),
        ("operations", f"{n_ops:,}"),
        ("fault events", f"{n_nemesis:,}"),
    ]
    if header.initial is not None:
        rows.append(("initial value", short(header.initial, 120)))
    for name in sorted(meta):
        if name in known:
            continue
        rows.append((str(name), fmt_value(str(name), meta[name])))
    hist = summary.get("history") or {}
    counts = hist.get("counts") if isinstance(hist, Mapping) else None
    if isinstance(counts, Mapping):
        rows.append(("counts", ", ".join(f"{k} {fmt_value(str(k), v)}" for k, v in counts.items())))
    options = summary.get("options")
    if isinstance(options, Mapping):
        rows.append(("check options", ", ".join(
            f"{k}={fmt_value(str(k), v)}" for k, v in options.items())))
    timing = summary.get("timing")
    if isinstance(timing, Mapping):
        rows.append(("check timing", ", ".join(
            f"{k} {fmt_value(str(k), v)}" for k, v in timing.items())))
    version = summary.get("gtcheck_version")
    if not version:
        from gtcheck.kernel import __version__ as version
    return {
        "rows": rows,
        "mode": header.mode,
        "scenario": meta.get("scenario") or meta.get("workload"),
        "seed": meta.get("seed"),
        "source": meta.get("source"),
        "gtcheck_version": str(version),
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def convergence_table(final_state, ops_by_index, regions, summary, cited, pos_of):
    if final_state is None:
        section = summary.get("convergence") or {}
        return {"available": False, "rows": [], "total": 0, "omitted": 0,
                "omitted_disagree": 0, "valid": verdict_word(section.get("valid"))}
    conv_anoms = {a.get("key") for a in (summary.get("convergence") or {}).get("anomalies") or []}
    rows = []

    def group(idx: int | None) -> Any:  # null reads and deletions agree with each other
        op = ops_by_index.get(idx) if idx is not None else None
        return "null" if idx is None or (op is not None and op.f == "delete") else idx

    for key, per_region in final_state.items():
        per_region = per_region or {}
        present = {group(per_region[r]) for r in regions if r in per_region}
        disagree = len(present) > 1
        rows.append((key, per_region, disagree, key in conv_anoms))
    rows.sort(key=lambda r: (not r[2], not r[3], str(r[0])))
    total = len(rows)
    n_disagree = sum(1 for r in rows if r[2])
    shown = rows[:MAX_CONVERGENCE_ROWS]
    out = []
    for key, per_region, disagree, anomalous in shown:
        cells = []
        for r in regions:
            if r not in per_region:
                cells.append({"state": "none", "text": "no final read", "index": None, "pos": -1})
                continue
            idx = per_region[r]
            if idx is None:
                cells.append({"state": "null", "text": "absent (null)", "index": None, "pos": -1})
                continue
            op = ops_by_index.get(idx)
            text = "deleted" if op is not None and op.f == "delete" else (
                short(op.value, 40) if op is not None else "?")
            cells.append({"state": "v", "text": text, "index": idx, "pos": pos_of.get(idx, -1)})
        out.append({"key": str(key), "cells": cells, "disagree": disagree,
                    "anomalous": anomalous})
    return {
        "available": True, "rows": out, "total": total, "disagree": n_disagree,
        "omitted": total - len(shown),
        "omitted_disagree": max(n_disagree - len(shown), 0),
    }
