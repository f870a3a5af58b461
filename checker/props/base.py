"""The one small interface every property implements.

A property is a module (``checker/props/<name>.py``) with:

* ``NAME`` — its name in the summary (``anomalies.INTEGRITY``, ...); its anomaly names are
  ``anomalies.PROPERTY_ANOMALIES[NAME]`` (the one map of anomalies to properties);
* ``judge_key(ctx, res)`` — judge one key (:class:`KeyContext`) and add the findings to
  the part's accumulator ``res`` (a :class:`checker.shard.ShardResult`): anomalies with
  ``res.add_anomaly``, additive figures in ``res.figures``, maxima in ``res.maxima``,
  anything else in ``res.extra[NAME]``;
* ``merge(mine, other)`` — merge what ``judge_key`` put in ``res.extra[NAME]`` of two parts
  (anomalies, counts, figures and maxima are merged generically by ``ShardResult.merge``);
* ``verdict(ctx)`` — the property's entry of the summary (:class:`SummaryContext`).

``checker.props.PROPERTIES`` lists them in report order; the shard accumulator and the
summary only loop over it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from gtcheck.checker.anomalies import PROPERTY_ANOMALIES, Anomaly
from gtcheck.checker.operations import Header, Operation
from gtcheck.checker.order import UNKNOWN, KeyOrder
from gtcheck.checker.properties import KeyJudgement


@dataclass
class KeyContext:
    """Everything known about one key once it is ordered and judged."""

    header: Header
    key: str
    ops: list[Operation]            # sorted by (invoke_time, index)
    integrity: list[Anomaly]        # integrity anomalies (candidates)
    order: KeyOrder
    judgement: KeyJudgement
    options: Any  # checker.shard.CheckOptions (not imported: no cycle)
    timing: Counter

    @property
    def ordered(self) -> bool:
        return self.order.status != UNKNOWN

    @property
    def limit(self) -> int:
        return self.options.anomaly_limit


@dataclass
class SummaryContext:
    """What a verdict is built from: the merged parts, the header and the options."""

    merged: Any
    header: Header
    options: Any  # checker.shard.CheckOptions (not imported: no cycle)

    @property
    def figures(self) -> Counter:
        return self.merged.figures

    @property
    def unknown(self) -> Counter:
        return self.merged.unknown_props


def anomalies_of(merged: Any, prop: str) -> tuple[list[dict], dict[str, int]]:
    """The property's anomalies (worst first, as JSON) and their exact counts."""
    lst: list[Anomaly] = []
    counts: dict[str, int] = {}
    for n in PROPERTY_ANOMALIES[prop]:
        if merged.counts.get(n):
            counts[n] = merged.counts[n]
            lst.extend(merged.anomalies.get(n, []))
    lst.sort(key=lambda a: a.sort_key())
    return [a.to_json() for a in lst], counts


def add_own_anomalies(ctx: KeyContext, res: Any, prop: str) -> None:
    """Add the judgement's anomalies of ``prop`` (in the judgement's order)."""
    names = PROPERTY_ANOMALIES[prop]
    for a in ctx.judgement.anomalies:
        if a.name in names:
            res.add_anomaly(a, ctx.limit)


def verdict_word(anoms: list, unknown: bool) -> bool | str:
    if anoms:
        return False
    return "unknown" if unknown else True


def no_merge(mine: Any, other: Any) -> Any:
    return mine
