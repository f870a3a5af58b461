"""read_after_write: a strongly consistent read sees every write of its region (every
region in strong mode) that completed before it began; also ``ts-inversion`` (rule 10)."""

from __future__ import annotations

from typing import Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.props.base import (KeyContext, SummaryContext, add_own_anomalies, anomalies_of,
                                        no_merge, verdict_word)

NAME = A.READ_AFTER_WRITE
merge = no_merge


def judge_key(ctx: KeyContext, res: Any) -> None:
    add_own_anomalies(ctx, res, NAME)
    if not ctx.ordered:
        return
    j = ctx.judgement
    fig = res.figures
    fig["consistent_reads"] += j.consistent_reads
    fig["consistent_reads_stale"] += j.consistent_stale
    fig["eventual_reads"] += j.eventual_reads
    fig["eventual_reads_behind_own_region"] += j.eventual_behind_own
    mx = res.maxima
    if j.consistent_max_staleness_ns > mx.get("consistent_max_staleness_ns", 0):
        mx["consistent_max_staleness_ns"] = j.consistent_max_staleness_ns
    if j.eventual_max_own_lag_ns > mx.get("eventual_max_own_region_lag_ns", 0):
        mx["eventual_max_own_region_lag_ns"] = j.eventual_max_own_lag_ns


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    fig, unk, merged = ctx.figures, ctx.unknown, ctx.merged
    ra, rc = anomalies_of(merged, NAME)
    out: dict[str, Any] = {
        "valid": verdict_word(ra, bool(unk.get(NAME))), "anomalies": ra,
        "anomaly_counts": rc,
        "scope": "all regions" if ctx.header.mode == "strong" else "own region",
        "figures": {
            "consistent_reads": fig["consistent_reads"],
            "consistent_reads_stale": fig["consistent_reads_stale"],
            "consistent_max_staleness_ns": merged.maxima.get("consistent_max_staleness_ns", 0),
            "eventual_reads": fig["eventual_reads"],
            "eventual_reads_behind_own_region": fig["eventual_reads_behind_own_region"],
            "eventual_max_own_region_lag_ns": merged.maxima.get("eventual_max_own_region_lag_ns", 0),
        }}
    if out["valid"] == "unknown":
        out["reason"] = f"{unk[NAME]} key(s) with consistent reads could not be ordered"
    return out
