"""The one query behind staleness and read-after-write, answered in O(log n).

*Which is the first (earliest-completing) write ranked above the version a read saw that
completed certainly before the read began?* Staleness (rule 9) is the read's invocation
time minus that write's completion time, attributed to that write's region; a strongly
consistent read fails read-after-write when such a write exists in its own region (any
region in strong mode).

:class:`KeyTimeline` indexes one key's writes under a :class:`~gtcheck.checker.ordering.key_order.KeyOrder`:
it keeps the completed writes in rank order with a suffix minimum of their completion
(time, position), once for all regions and once per region, so the query is one
bisection. Writes that never completed (``info``) never supersede anything: they cannot
have completed before a read began.

Why the suffix minimum suffices: with δ = 0 "completed certainly before the read began"
is "completion event before the read's invocation event", a prefix of the completion
order, so if the earliest-completing write ranked above the version is not before the
read, none is. With δ > 0 the same holds for the time test (completion more than δ
before the invocation); the only other way to be certainly before is to belong to the
read's own process (rule 1), and those few writes, completed within δ before the read,
are found by scanning the process's completions inside that window.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from typing import Any, NamedTuple

from gtcheck.checker.candidates import Clock, cpos, ipos
from gtcheck.checker.operations import OK, Operation
from gtcheck.checker.ordering.key_order import KeyOrder

NEG_INF = float("-inf")


class Superseding(NamedTuple):
    """The first write that superseded a read's version before the read began."""

    write: Operation
    lag_ns: int          # read.invoke_time - write.complete_time


class _Chain:
    """Completed writes in rank order with suffix minima of their completion key."""

    __slots__ = ("ranks", "keys", "writes")

    def __init__(self, items: list[tuple[Any, tuple[int, int], Operation]]):
        items.sort(key=lambda it: it[0])
        n = len(items)
        self.ranks = [it[0] for it in items]
        keys: list[tuple[int, int]] = [None] * n  # type: ignore[list-item]
        writes: list[Operation] = [None] * n      # type: ignore[list-item]
        best_k = None
        best_w = None
        for i in range(n - 1, -1, -1):
            _, k, w = items[i]
            if best_k is None or k < best_k:
                best_k, best_w = k, w
            keys[i] = best_k
            writes[i] = best_w
        self.keys = keys
        self.writes = writes


class KeyTimeline:
    """Staleness / read-after-write queries for one key under one order."""

    def __init__(self, clock: Clock, ops_by_index: dict[int, Operation], order: KeyOrder):
        self.delta = clock.delta
        self.rank = order.rank
        everything: list = []
        per_region: dict[str, list] = defaultdict(list)
        per_process: dict[Any, list] = defaultdict(list)
        for idx, rk in order.rank.items():
            w = ops_by_index.get(idx)
            if w is None or w.outcome != OK or w.complete_time is None:
                continue
            ck = (w.complete_time, cpos(w))
            item = (rk, ck, w)
            everything.append(item)
            per_region[w.region].append(item)
            if self.delta:
                per_process[w.process].append((ck, rk, w))
        self.all = _Chain(everything)
        self._per_region = per_region           # region chains are built when first asked
        self.regions: dict[str, _Chain] = {}
        self.processes = {p: sorted(v, key=lambda t: t[0]) for p, v in per_process.items()}
        self._ptimes = {p: [t[0][0] for t in v] for p, v in self.processes.items()}

    def first_superseding(self, read: Operation, saw: int | None,
                          region: str | None = None) -> Superseding | None:
        """The earliest-completing write (of ``region``, or any) ranked above ``saw`` that
        completed certainly before ``read`` was invoked; None if there is none."""
        rank = NEG_INF if saw is None else self.rank.get(saw, NEG_INF)
        if region is None:
            chain = self.all
        else:
            chain = self.regions.get(region)
            if chain is None:
                items = self._per_region.get(region)
                if not items:
                    return None
                chain = self.regions[region] = _Chain(items)
        j = bisect_right(chain.ranks, rank)
        it = read.invoke_time
        if j < len(chain.ranks):
            ck = chain.keys[j]
            if self.delta == 0:
                if ck < (it, ipos(read)):
                    return Superseding(chain.writes[j], it - ck[0])
            elif it - ck[0] > self.delta:
                return Superseding(chain.writes[j], it - ck[0])
            else:
                w = self._same_process(read, rank, region)
                if w is not None:
                    return Superseding(w, it - w.complete_time)
        return None

    def _same_process(self, read: Operation, rank: float, region: str | None) -> Operation | None:
        """δ > 0: the read's own process's writes that completed within δ before it."""
        lst = self.processes.get(read.process)
        if not lst:
            return None
        times = self._ptimes[read.process]
        j = bisect_left(times, read.invoke_time - self.delta)
        ikey = (read.invoke_time, ipos(read))
        for ck, rk, w in lst[j:]:
            if ck >= ikey:
                break
            if rk > rank and (region is None or w.region == region):
                return w      # sorted by completion: the first match is the earliest
        return None
