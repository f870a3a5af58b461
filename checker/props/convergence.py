"""convergence: the final reads of a key agree, and on the conflict winner
(``checker.properties.judge_key`` decides it per key under the order)."""

from __future__ import annotations

from typing import Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.anomalies import fmt_dur
from gtcheck.checker.props.base import (KeyContext, SummaryContext, add_own_anomalies, anomalies_of,
                                        no_merge, verdict_word)

NAME = A.CONVERGENCE
merge = no_merge


def judge_key(ctx: KeyContext, res: Any) -> None:
    add_own_anomalies(ctx, res, NAME)
    if not ctx.ordered:
        return
    j = ctx.judgement
    if j.final_reads:
        fig = res.figures
        fig["keys_with_final_reads"] += 1
        fig["final_reads"] += j.final_reads
        fig["keys_" + j.convergence.replace("-", "_")] += 1


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    fig, unk, header = ctx.figures, ctx.unknown, ctx.header
    ca, cc = anomalies_of(ctx.merged, NAME)
    any_final = fig["final_reads"] > 0 or unk.get(NAME, 0) > 0
    out: dict[str, Any] = {
        "valid": verdict_word(ca, bool(unk.get(NAME))), "anomalies": ca,
        "anomaly_counts": cc,
        "figures": {"keys_judged": fig["keys_with_final_reads"], "final_reads": fig["final_reads"],
                    "keys_converged": fig["keys_converged"],
                    "keys_divergent": fig["keys_divergent"],
                    "keys_wrong_winner": fig["keys_wrong_winner"],
                    "keys_unknown": unk.get(NAME, 0),
                    "settled_after_ns": header.settled_after_ns}}
    if not any_final and header.settled_after_ns is None and header.meta.get("register") is True:
        # a register history (a Jepsen import) records no settled phase: convergence is not
        # judged and, like any property not checked, not counted in the overall verdict
        out["valid"] = "unknown"
        out["checked"] = False
        out["reason"] = ("a register history (a Jepsen import) has no settled_after_ns, so "
                         "no final reads")
    elif not any_final:
        out["valid"] = "unknown"
        out["reason"] = ("the header has no settled_after_ns, so there are no final reads"
                         if header.settled_after_ns is None else
                         "no read was invoked at or after settled_after_ns "
                         f"({fmt_dur(header.settled_after_ns)})")
    elif out["valid"] == "unknown":
        out["reason"] = f"{unk[NAME]} key(s) with final reads could not be ordered"
    return out
