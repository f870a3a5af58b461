"""convergence: the final reads of a key agree, and on the conflict winner
(``checker.judge.judge_key`` decides it per key under the order)."""

from __future__ import annotations

from typing import Any

from gtcheck.checker.anomalies import AnomalyKind
from gtcheck.checker.props.base import (KeyContext, SummaryContext, add_own_anomalies, anomalies_of,
                                        counts_or_reason, is_register, no_merge, plural,
                                        verdict_word)
from gtcheck.kernel.units import format_duration

NAME = "convergence"
TITLE = "Convergence"
DESCRIPTION = ("After the system settles, every region holds the same version: the conflict "
               "winner.")
ORDER = 20

DIVERGENT_FINAL_STATE = AnomalyKind(
    "divergent-final-state", NAME, "Divergent final state",
    "after settling, regions hold different versions")
WRONG_WINNER = AnomalyKind(
    "wrong-winner", NAME, "Wrong winner",
    "regions agree, but not on the conflict winner: an acknowledged winning write vanished")
ANOMALIES = (DIVERGENT_FINAL_STATE, WRONG_WINNER)
merge = no_merge


def applies(header: Any, options: Any) -> str | None:
    if is_register(header) and header.settled_after_ns is None:
        # a register history (a Jepsen import) records no settled phase
        return "a register history (a Jepsen import) has no settled_after_ns, so no final reads"
    return None


def judge_key(ctx: KeyContext, res: Any) -> None:
    add_own_anomalies(ctx, res, ANOMALIES)
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
    ca, cc = anomalies_of(ctx.merged, ANOMALIES)
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
    if not any_final:
        out["valid"] = "unknown"
        out["reason"] = ("the header has no settled_after_ns, so there are no final reads"
                         if header.settled_after_ns is None else
                         "no read was invoked at or after settled_after_ns "
                         f"({format_duration(header.settled_after_ns)})")
    elif out["valid"] == "unknown":
        out["reason"] = f"{unk[NAME]} key(s) with final reads could not be ordered"
    return out


def summary_line(section: dict[str, Any]) -> str:
    keys = section.get("figures", {}).get("keys_judged", 0)
    return counts_or_reason(section) or f"{plural(keys, 'key')} with final reads converged"
