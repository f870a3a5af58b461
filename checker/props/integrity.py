"""integrity: every read returns the initial state or a value some write might have
produced (rules 3 and 8); found by the candidate computation (``checker.candidates``)."""

from __future__ import annotations

from typing import Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.props.base import KeyContext, SummaryContext, anomalies_of, no_merge, verdict_word

NAME = A.INTEGRITY
merge = no_merge


def judge_key(ctx: KeyContext, res: Any) -> None:
    fig = res.figures
    if ctx.ordered:
        fig["reads_checked"] += len(ctx.judgement.samples) + len(ctx.integrity)
    else:
        fig["reads_checked"] += sum(1 for op in ctx.ops if op.f == "read" and op.outcome == "ok")
    for a in ctx.integrity:
        res.add_anomaly(a, ctx.limit)


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    ia, ic = anomalies_of(ctx.merged, NAME)
    return {"valid": verdict_word(ia, False), "anomalies": ia, "anomaly_counts": ic,
            "figures": {"reads_checked": ctx.figures["reads_checked"],
                        "reads_failed": sum(ic.values())}}
