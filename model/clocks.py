"""Region clocks: each region stamps writes with its own clock, offset, drifting, jumping.

The conflict order compares these stamps, so a region whose clock runs ahead wins
conflicts it "should" lose by real time: that is the behaviour the checker must not
mistake for an anomaly.
"""

from __future__ import annotations

import bisect
from typing import Final

from gtcheck.model.faults import FaultPlan
from gtcheck.model.scenario import Scenario

# Simulated time 0 is this moment on the region clocks (2024-01-01T00:00:00Z), so that
# stamps look like DynamoDB's microsecond epoch timestamps.
EPOCH_NS: Final = 1_704_067_200_000_000_000


class RegionClocks:
    def __init__(self, scenario: Scenario, plan: FaultPlan):
        self.offset = {r: scenario.clock(r).offset_ns for r in scenario.regions}
        self.drift = {r: scenario.clock(r).drift_ppm for r in scenario.regions}
        self.jump_times: dict[str, list[int]] = {r: [] for r in scenario.regions}
        self.jump_sums: dict[str, list[int]] = {r: [] for r in scenario.regions}
        for f in sorted(plan.jumps, key=lambda f: f.at_ns):
            region = f.region
            if region is None:
                continue
            total = (self.jump_sums[region][-1] if self.jump_sums[region] else 0) + f.by_ns
            self.jump_times[region].append(f.at_ns)
            self.jump_sums[region].append(total)

    def offset_at(self, region: str, t: int) -> int:
        """How far the region's clock is from true time at ``t`` (ns)."""
        off = self.offset[region] + int(self.drift[region] * t / 1_000_000)
        times = self.jump_times[region]
        if times:
            i = bisect.bisect_right(times, t)
            if i:
                off += self.jump_sums[region][i - 1]
        return off

    def now_us(self, region: str, t: int) -> int:
        """The region's clock reading at true time ``t``, in epoch microseconds."""
        return (EPOCH_NS + t + self.offset_at(region, t)) // 1000

    def max_abs_offset(self, horizon_ns: int) -> int:
        """The largest |offset| any region clock reaches before ``horizon_ns``."""
        worst = 0
        for r in self.offset:
            points = [0, horizon_ns] + [t for t in self.jump_times[r] if t <= horizon_ns]
            points += [t - 1 for t in self.jump_times[r] if 0 < t <= horizon_ns]
            worst = max(worst, *(abs(self.offset_at(r, t)) for t in points))
        return worst
