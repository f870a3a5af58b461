"""The fault plan (the nemesis): which links are cut, which regions are down, when.

Explicit faults come from the scenario; random ones are chosen before the run (by the
``Choices``: the timed simulator draws them from their own seeded stream), so the whole
plan is known up front and replication can compute when a version crosses a link (queued
while the link is cut, retried at heal) without simulating every retry. Everything here
is a pure function of the plan: the effects of faults on links, regions and delays.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from gtcheck.model.choices import Choices
from gtcheck.model.scenario import Fault, Scenario


@dataclass(frozen=True)
class NemesisRecord:
    """A fault event as it appears in the history (process ``nemesis``), and its effect on
    the state: ``region`` is isolated (``cut`` +1), or goes down (``cut`` and ``down`` +1),
    or that ends (-1). Replication delays and clock jumps change timing and clocks only."""

    time: int
    f: str
    value: dict[str, Any]
    region: str | None = None
    cut: int = 0
    down: int = 0


class FaultPlan:
    def __init__(self, scenario: Scenario, random_faults: list[Fault]):
        # strong mode: the witness too (it can be isolated or go down)
        self.regions = scenario.regions + ((scenario.witness,) if scenario.witness is not None else ())
        faults = list(scenario.faults) + random_faults
        faults.sort(key=lambda f: (f.at_ns, f.kind, f.region or ""))
        self.faults = faults
        # per region: sorted, merged windows [start, end) where its links are cut, and
        # where its endpoint is down
        self.cut = {r: self._merge([(f.at_ns, f.end_ns) for f in faults
                                    if f.region == r and f.kind in ("isolate", "outage")]) for r in self.regions}
        self.down = {r: self._merge([(f.at_ns, f.end_ns) for f in faults
                                     if f.region == r and f.kind == "outage"]) for r in self.regions}
        self._cut_starts = {r: [w[0] for w in ws] for r, ws in self.cut.items()}
        self._down_starts = {r: [w[0] for w in ws] for r, ws in self.down.items()}
        self.delays = [f for f in faults if f.kind == "replication-delay"]
        self.jumps = [f for f in faults if f.kind == "clock-jump"]
        self.any_cut = any(self.cut.values())
        ends = [f.end_ns for f in faults]
        self.healed_at = max(ends, default=0)

    @staticmethod
    def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(windows):
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    @staticmethod
    def _window_at(windows: list[tuple[int, int]], starts: list[int], t: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(starts, t) - 1
        if i >= 0 and windows[i][0] <= t < windows[i][1]:
            return windows[i]
        return None

    def is_down(self, region: str, t: int) -> bool:
        ws = self.down[region]
        return bool(ws) and self._window_at(ws, self._down_starts[region], t) is not None

    def down_since(self, region: str, t: int) -> int | None:
        w = self._window_at(self.down[region], self._down_starts[region], t) if self.down[region] else None
        return None if w is None else w[0]

    def link_cut_until(self, source: str, target: str, t: int) -> int | None:
        """When the link is cut at ``t``: the time it is whole again, else None."""
        end = None
        for r in (source, target):
            ws = self.cut[r]
            if ws:
                w = self._window_at(ws, self._cut_starts[r], t)
                if w is not None:
                    end = w[1] if end is None else max(end, w[1])
        return end

    def next_cut(self, source: str, target: str, after: int) -> int | None:
        """The first moment after ``after`` at which the link gets cut, else None."""
        best = None
        for r in (source, target):
            starts = self._cut_starts[r]
            i = bisect.bisect_right(starts, after)
            if i < len(starts) and (best is None or starts[i] < best):
                best = starts[i]
        return best

    def extra_delay(self, source: str, target: str, t: int, choices: Choices) -> int:
        """The extra delay of a version sent at ``t``: one draw (``choices``) per
        replication-delay fault active on the link then."""
        extra = 0
        for f in self.delays:
            if f.at_ns <= t < f.end_ns and f.source in ("*", source) and f.target in ("*", target):
                extra += choices.fault_extra_delay(f)
        return extra

    def nemesis_records(self) -> list[NemesisRecord]:
        """Every fault's start and end as history events, in time order."""
        out = []
        for f in self.faults:
            if f.kind == "isolate":
                if f.duration_ns <= 0:
                    continue        # an empty window: nothing happens (as the plan's windows say)
                out.append(NemesisRecord(f.at_ns, "partition", {"isolate": [f.region]}, f.region, 1))
                out.append(NemesisRecord(f.end_ns, "heal", {"isolate": [f.region]}, f.region, -1))
            elif f.kind == "outage":
                if f.duration_ns <= 0:
                    continue
                out.append(NemesisRecord(f.at_ns, "region-down", {"region": f.region}, f.region, 1, 1))
                out.append(NemesisRecord(f.end_ns, "region-up", {"region": f.region}, f.region, -1, -1))
            elif f.kind == "replication-delay":
                out.append(NemesisRecord(f.at_ns, "replication-delay",
                                         {"from": f.source, "to": f.target, "extra": f.extra.describe() if f.extra is not None else None,
                                          "until_ns": f.end_ns}))
            else:
                out.append(NemesisRecord(f.at_ns, "clock-skew", {"region": f.region, "delta_ns": f.by_ns}))
        out.sort(key=lambda r: r.time)
        return out
