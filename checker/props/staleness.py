"""staleness: how long the version each read returned had already been superseded; the
samples per (writer region, reader region) give max / p50 / p99 and the smallest bound."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from typing import Any

from gtcheck.checker.anomalies import AnomalyKind
from gtcheck.checker.props.base import (REGISTER_HISTORY, KeyContext, SummaryContext,
                                        add_own_anomalies, anomalies_of, counts_or_reason,
                                        is_register, no_merge, plural, verdict_word)
from gtcheck.kernel.units import format_duration

NAME = "staleness"
TITLE = "Staleness"
DESCRIPTION = "How long the version a read returned had already been overwritten."
ORDER = 50
NEEDS_BOUND = True    # it fails only over --staleness-bound

STALE_READ = AnomalyKind(
    "stale-read", NAME, "Stale read",
    "a read returned a version superseded longer ago than the bound", fault_context=True)
ANOMALIES = (STALE_READ,)
merge = no_merge      # the samples live in ShardResult.samples, merged there


def applies(header: Any, options: Any) -> str | None:
    return REGISTER_HISTORY if is_register(header) else None


def extend(arr: "array | list", more) -> "array | list":
    """``arr`` extended by ``more``: a compact array of 64-bit integers while every value
    fits, else a list (exact for integers of any size)."""
    try:
        arr.extend(more)
        return arr
    except (OverflowError, TypeError):
        return list(arr) + list(more)


def judge_key(ctx: KeyContext, res: Any) -> None:
    add_own_anomalies(ctx, res, ANOMALIES)
    if not ctx.ordered:
        return
    samples = res.samples
    for writer, reader, ns in ctx.judgement.samples:
        arr = samples.get((writer, reader))
        if arr is None:
            arr = samples[(writer, reader)] = array("q")
        try:
            arr.append(ns)
        except OverflowError:     # staleness past 64 bits (times are integers of any size)
            samples[(writer, reader)] = extend(arr, (ns,))


def percentile(sorted_values: list[int], p: float) -> int:
    """Nearest-rank percentile (exact): the smallest value with at least p % at or below."""
    n = len(sorted_values)
    if n == 0:
        return 0
    k = max(1, -(-int(p * n * 1000) // 100_000))   # ceil(p/100 * n) without float drift
    return int(sorted_values[min(n, k) - 1])


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    merged, unk = ctx.merged, ctx.unknown
    sa, sc = anomalies_of(merged, ANOMALIES)
    pairs: dict[str, dict[str, int]] = {}
    smallest = 0
    stale_reads = 0
    total = 0
    for (writer, reader) in sorted(merged.samples):
        vals = sorted(merged.samples[(writer, reader)])
        if not vals:
            continue
        total += len(vals)
        stale_reads += len(vals) - bisect_right(vals, 0)
        pairs[f"{writer} -> {reader}"] = {"reads": len(vals), "max_ns": int(vals[-1]),
                                         "p50_ns": percentile(vals, 50),
                                         "p99_ns": percentile(vals, 99)}
        smallest = max(smallest, int(vals[-1]))
    stale_unknown = bool(unk.get(NAME))
    out: dict[str, Any] = {
        "valid": verdict_word(sa, stale_unknown), "bound_ns": ctx.options.staleness_bound_ns,
        "smallest_bound_ns": smallest, "pairs": pairs, "anomalies": sa, "anomaly_counts": sc,
        "figures": {"reads": total, "stale_reads": stale_reads}}
    if stale_unknown:
        # the keys that could not be ordered may need a larger bound: the smallest bound the
        # whole history satisfies is unknown; what the decided keys need is a lower bound
        out["smallest_bound_ns"] = None
        out["smallest_bound_decided_keys_ns"] = smallest
    if stale_unknown and not sa:
        out["reason"] = (f"{unk[NAME]} key(s) could not be ordered; figures cover "
                         "the other keys only")
    return out


def summary_line(section: dict[str, Any]) -> str:
    """The counts (or the reason), then the smallest bound the reads satisfy."""
    detail = counts_or_reason(section)
    reads = plural(section.get("figures", {}).get("reads", 0), "read")
    if section.get("smallest_bound_ns") is None and "smallest_bound_decided_keys_ns" in section:
        extra = (f"smallest bound unknown (the decided keys need "
                 f"{format_duration(section['smallest_bound_decided_keys_ns'])} over {reads})")
    else:
        extra = f"smallest bound {format_duration(section.get('smallest_bound_ns'))} over {reads}"
    bound = section.get("bound_ns")
    if bound is not None:
        extra += f" (bound {format_duration(bound)})"
    return f"{detail}; {extra}" if detail else extra
