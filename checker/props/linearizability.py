"""linearizability: placeholder until the checker is wired (kept for the golden step)."""

from __future__ import annotations

from typing import Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.props.base import KeyContext, SummaryContext, no_merge

NAME = A.LINEARIZABILITY
COUNTED = False
merge = no_merge
REASON = "arrives with strong mode"


def judge_key(ctx: KeyContext, res: Any) -> None:
    return None


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    return {"valid": "unknown", "checked": False, "reason": REASON}
