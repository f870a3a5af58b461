"""integrity: every read returns the initial state or a value some write might have
produced (rules 3 and 8); found by the candidate computation (``checker.candidates``)."""

from __future__ import annotations

from typing import Any

from gtcheck.checker.anomalies import AnomalyKind
from gtcheck.checker.props.base import (KeyContext, SummaryContext, anomalies_of, counts_or_reason,
                                        no_merge, plural, verdict_word)

NAME = "integrity"
TITLE = "Integrity"
DESCRIPTION = "Every read returns the initial state or a value some write might have produced."
ORDER = 10

PHANTOM_READ = AnomalyKind(
    "phantom-read", NAME, "Phantom read",
    "a read returned a value no write, update or cas of the key could have produced")
FUTURE_READ = AnomalyKind(
    "future-read", NAME, "Future read",
    "a read returned a value written only by writes invoked after the read completed")
READ_OF_FAILED_WRITE = AnomalyKind(
    "read-of-failed-write", NAME, "Read of a failed write",
    "a read returned a value only a failed write produced")
AMBIGUOUS_VERSION = AnomalyKind(
    "ambiguous-version", NAME, "Ambiguous version",
    "two ok writes of one key wrote equal values, so reads cannot be attributed: by rule 4 "
    "the history is rejected as bad input (exit 254), naming both lines")
ANOMALIES = (PHANTOM_READ, FUTURE_READ, READ_OF_FAILED_WRITE, AMBIGUOUS_VERSION)
merge = no_merge


NEEDS = ("candidates",)


def judge_key(ctx: KeyContext, res: Any) -> None:
    fig = res.figures
    fig["reads_checked"] += sum(1 for op in ctx.ops if op.f == "read" and op.outcome == "ok")
    for a in ctx.integrity:
        res.add_anomaly(a, ctx.limit)


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    ia, ic = anomalies_of(ctx.merged, ANOMALIES)
    return {"valid": verdict_word(ia, False), "anomalies": ia, "anomaly_counts": ic,
            "figures": {"reads_checked": ctx.figures["reads_checked"],
                        "reads_failed": sum(ic.values())}}


def summary_line(section: dict[str, Any]) -> str:
    return (counts_or_reason(section)
            or f"{plural(section.get('figures', {}).get('reads_checked', 0), 'read')} checked")
