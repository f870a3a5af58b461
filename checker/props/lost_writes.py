"""lost_writes: the acknowledged writes that last-writer-wins threw away (rule 12,
``checker.lostwrites``), named with the write each was lost to.

A finding about the application, not about the database: last-writer-wins is DynamoDB's
documented behaviour, and whether losing a write matters is the application's business.
So lost writes are always reported, but the entry counts in the overall verdict only when
the user asks (``--fail-on lost-writes``; ``"counted": false`` otherwise, see
:func:`checker.props.base.counts_in_verdict`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.anomalies import AnomalyKind, version_ref
from gtcheck.checker.ordering.timestamps import has_all_ts
from gtcheck.checker.props.base import (REGISTER_HISTORY, KeyContext, SummaryContext,
                                        anomalies_of, is_register, plural, verdict_word)
from gtcheck.kernel.units import format_duration

if TYPE_CHECKING:    # the chain walk is imported only when a history has lost writes to judge
    from gtcheck.checker.lostwrites import LostWrite

NAME = "lost_writes"
TITLE = "Lost writes"
DESCRIPTION = ("No acknowledged write was silently thrown away: every later write that "
               "survives was applied to a version that includes it (rule 12).")
ORDER = 55
FAIL_ON = "lost-writes"     # --fail-on lost-writes counts the entry in the verdict

LOST_WRITE = AnomalyKind(
    "lost-write", NAME, "Lost write",
    "an acknowledged write survives nowhere: a later surviving write was applied to a "
    "version older than it (last-writer-wins threw it away)", fault_context=True)
ANOMALIES = (LOST_WRITE,)
TOP_KEYS = 20               # keys listed in the figures, most lost writes first


def applies(header: Any, options: Any) -> str | None:
    """A register history (a Jepsen import) has no replication, so no last-writer-wins to
    lose writes: linearizability judges it."""
    return REGISTER_HISTORY if is_register(header) else None


def merge(mine: dict[str, Counter], other: dict[str, Counter]) -> dict[str, Counter]:
    for name, counter in other.items():
        mine.setdefault(name, Counter()).update(counter)
    return mine


def judge_key(ctx: KeyContext, res: Any) -> None:
    fig = res.figures
    if not any(op.is_write for op in ctx.ops):
        return
    if not ctx.ordered:
        fig["lost_writes_keys_not_judged"] += 1
        return
    from gtcheck.checker.lostwrites import lost_writes
    found = lost_writes(ctx.ops, ctx.order.rank, ctx.header.initial)
    inferred = not has_all_ts(ctx.ops)
    fig["lost_writes_keys_judged"] += 1
    fig["lost_writes_keys_inferred"] += inferred
    fig["lost_writes_chains_undecided"] += found.stop.startswith("the latest version")
    if not found.lost:
        return
    extra = res.extra.setdefault(NAME, {"pairs": Counter(), "keys": Counter()})
    fig["lost_writes_keys_with"] += 1
    for lw in found.lost:
        fig["lost_writes"] += 1
        fig["lost_writes_inferred"] += inferred
        fig["lost_writes_reconstructed"] += lw.reconstructed
        extra["pairs"][f"{lw.write.region} -> {lw.lost_to.region}"] += 1
        extra["keys"][ctx.key] += 1
        res.add_anomaly(_anomaly(ctx.key, lw, inferred), ctx.limit)


def _ref(op: Any) -> str:
    """``#12 (us-east-1, 1.00 s to 1.01 s)``: a write, its region and its times."""
    when = (f"invoked at {format_duration(op.invoke_time)}" if op.complete_time is None else
            f"{format_duration(op.invoke_time)} to {format_duration(op.complete_time)}")
    return f"#{op.index} ({op.region}, {when})"


def _anomaly(key: str, lw: LostWrite, inferred: bool) -> A.Anomaly:
    w, to = lw.write, lw.lost_to
    text = (f"ok {w.f} {_ref(w)} was lost to {to.f} {_ref(to)}: "
            f"#{to.index} was applied to {version_ref(lw.base)}, older than #{w.index}, so what "
            f"#{w.index} did survives nowhere, though nothing overwrote it on purpose.")
    if inferred:
        text += (" The conflict order is inferred (not every write of the key carries ts), "
                 "so this finding is too.")
    if lw.reconstructed:
        text += (" Another version of the key has the same value as the one #"
                 f"{to.index} was applied to: the write named is a reconstruction, the count is "
                 "exact.")
    ends = [t for t in (w.complete_time, to.complete_time) if t is not None]
    window = [min(w.invoke_time, to.invoke_time), max(ends) if ends else max(w.invoke_time, to.invoke_time)]
    return A.make(LOST_WRITE, key, [w.index, to.index] + ([lw.base.index] if lw.base else []),
                  text, time_ns=to.complete_time if to.complete_time is not None else to.invoke_time,
                  region=w.region, write=w.index, lost_to=to.index,
                  base=lw.base.index if lw.base else None, write_region=w.region,
                  writer_region=to.region, lost_to_region=to.region,
                  write_time_ns=[w.invoke_time, w.complete_time],
                  lost_to_time_ns=[to.invoke_time, to.complete_time],
                  window_ns=window, inferred=inferred, reconstructed=lw.reconstructed)


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    fig = ctx.figures
    anoms, counts = anomalies_of(ctx.merged, ANOMALIES)
    extra = ctx.merged.extra.get(NAME) or {}
    pairs: Counter = extra.get("pairs") or Counter()
    keys: Counter = extra.get("keys") or Counter()
    not_judged = fig["lost_writes_keys_not_judged"]
    counted = FAIL_ON in (getattr(ctx.options, "fail_on", ()) or ())
    out: dict[str, Any] = {
        "valid": verdict_word(anoms, not_judged > 0), "counted": counted,
        "anomalies": anoms, "anomaly_counts": counts,
        "figures": {
            "lost_writes": fig["lost_writes"],
            "keys_judged": fig["lost_writes_keys_judged"],
            "keys_with_lost_writes": fig["lost_writes_keys_with"],
            "keys_not_judged": not_judged,
            "keys_inferred": fig["lost_writes_keys_inferred"],
            "lost_writes_inferred": fig["lost_writes_inferred"],
            "lost_writes_reconstructed": fig["lost_writes_reconstructed"],
            "chains_stopped_undecided": fig["lost_writes_chains_undecided"],
            "by_region_pair": dict(sorted(pairs.items())),
            "by_key": dict(sorted(keys.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_KEYS]),
        }}
    if not counted:
        out["note"] = ("reported, not counted in the verdict (last-writer-wins is DynamoDB's "
                       f"documented behaviour): --fail-on {FAIL_ON} counts it")
    if out["valid"] == "unknown":
        out["reason"] = f"{not_judged} key(s) with writes could not be ordered"
    return out


def summary_line(section: dict[str, Any]) -> str:
    fig = section.get("figures", {})
    n = fig.get("lost_writes", 0)
    if n:
        keys = fig.get("keys_with_lost_writes", 0)
        text = f"{plural(n, 'lost write')} on {plural(keys, 'key')}"
        if fig.get("lost_writes_inferred"):
            text += f" ({fig['lost_writes_inferred']} on an inferred order)"
    elif section.get("valid") == "unknown":
        text = str(section.get("reason", ""))
    else:
        text = f"none on {plural(fig.get('keys_judged', 0), 'key')} with writes"
    if section.get("counted") is False:
        text += f" (not counted; --fail-on {FAIL_ON} counts it)" if n else ""
    return text


def text_lines(section: dict[str, Any]) -> list[str]:
    """The lost writes per region pair, for the text output."""
    pairs = section.get("figures", {}).get("by_region_pair") or {}
    if not pairs:
        return []
    lines = ["lost writes by region pair (the lost write's region -> the region of the write "
             "it was lost to):"]
    for pair, n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {pair:<34} {n:>8}")
    return lines
