"""read_after_write: a strongly consistent read sees every write of its region (every
region in strong mode) that completed before it began; also ``ts-inversion`` (rule 10)."""

from __future__ import annotations

from typing import Any

from gtcheck.checker.anomalies import AnomalyKind
from gtcheck.checker.props.base import (REGISTER_HISTORY, KeyContext, SummaryContext,
                                        add_own_anomalies, anomalies_of, counts_or_reason,
                                        is_register, no_merge, plural, verdict_word)

NAME = "read_after_write"
TITLE = "Read-after-write"
DESCRIPTION = ("A strongly consistent read sees every write that completed in its region "
               "(in any region, in strong mode) before it began; recorded timestamps never "
               "contradict real time.")
ORDER = 30

LOST_OWN_WRITE = AnomalyKind(
    "lost-own-write", NAME, "Lost own write",
    "a strongly consistent read missed a write completed earlier in its own region (any "
    "region, in strong mode)", fault_context=True)
TS_INVERSION = AnomalyKind(
    "ts-inversion", NAME, "Timestamp inversion",
    "the recorded timestamps contradict real time: a region's later write (or a chain of "
    "writes) carries a smaller ts, so it silently lost to the earlier one")
ANOMALIES = (LOST_OWN_WRITE, TS_INVERSION)
merge = no_merge


def applies(header: Any, options: Any) -> str | None:
    return REGISTER_HISTORY if is_register(header) else None


def judge_key(ctx: KeyContext, res: Any) -> None:
    add_own_anomalies(ctx, res, ANOMALIES)
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
    ra, rc = anomalies_of(merged, ANOMALIES)
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


def summary_line(section: dict[str, Any]) -> str:
    reads = section.get("figures", {}).get("consistent_reads", 0)
    return counts_or_reason(section) or plural(reads, "strongly consistent read")
