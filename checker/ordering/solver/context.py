"""One key as the solver sees it (:class:`SolverContext`): its writes and reads, the
reads' candidate lists (pruned of dominated candidates), the rule-1 and rule-2 predicates
(``cb``, ``hard_reason``, ``dominated``), the convergence targets, and the writes sorted by
completion (:class:`WriteSequence`, per variant and scope) that the requirements count
over by bisection. Also the solver's exceptions and small shared helpers.

Rule 1 positions are file positions (``ipos``/``cpos``: the line), never the ``index``
field.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from gtcheck.checker.candidates import Clock, cpos, ipos
from gtcheck.checker.operations import FAIL, OK, Header, Operation
from gtcheck.checker.ordering.inversions import find_inversions


ALL_REGIONS = "*"
INF = float("inf")
MAX_COMBOS = 16


class SolverTimeout(Exception):
    """The key's time budget ran out (z3 said unknown, or the deadline passed)."""


class SolverUnavailable(SolverTimeout):
    """The key needs z3 and z3-solver is not installed: the key is unknown, not an error."""


def completion_time(op: Operation) -> int:
    """When a write completed, for ordering: its completion, else when it was last heard of."""
    if op.complete_time is not None:
        return op.complete_time
    return op.end_time if op.end_time is not None else op.invoke_time


@dataclass(slots=True)
class WriteSequence:
    """Ok writes of one scope, sorted by completion: ids, completion times, keys, global pos."""

    ids: list[int]
    tcs: list[int]
    keys: list[tuple]
    gidx: list[int]


class Maxima:
    """Maxima over a set of writes, to test "some member is certainly after c" in O(regions)."""

    __slots__ = ("inv_all", "inv_nots", "t_all", "t_nots", "ts_max")

    def __init__(self) -> None:
        self.inv_all: dict[str, tuple] = {}
        self.inv_nots: dict[str, tuple] = {}
        self.t_all = None
        self.t_nots = None
        self.ts_max = None

    def add(self, op: Operation) -> None:
        k = (op.invoke_time, ipos(op))
        r = op.region
        if r not in self.inv_all or self.inv_all[r] < k:
            self.inv_all[r] = k
        if self.t_all is None or self.t_all < k:
            self.t_all = k
        if op.ts is None or op.outcome != OK:
            if r not in self.inv_nots or self.inv_nots[r] < k:
                self.inv_nots[r] = k
            if self.t_nots is None or self.t_nots < k:
                self.t_nots = k
        else:
            ck = op.conflict_key
            if self.ts_max is None or self.ts_max < ck:
                self.ts_max = ck


class SolverContext:
    """One key: its writes, reads, candidate lists, rule-1/rule-2 predicates and sequences."""

    def __init__(self, header: Header, ops: list[Operation],
                 candidates: dict[int, list[int | None]]) -> None:
        self.header = header
        self.delta = max(0, int(header.clock_uncertainty_ns or 0))
        self.clock = Clock(self.delta)
        eps = header.ts_uncertainty_ns
        self.eps = None if eps is None else max(0, int(eps))
        self.strong = header.mode == "strong"
        self.settled = header.settled_after_ns
        self.op: dict[int, Operation] = {o.index: o for o in ops}
        self.ok = [o for o in ops if o.is_write and o.outcome == OK]
        # rule 10: real-time constraints contradicted by the recorded ts are dropped
        self.inv = find_inversions(header, ops, self.clock)
        self.tainted = self.inv.tainted
        self.regions = sorted({o.region for o in ops} | set(header.regions or []))

        # reads and their cleaned candidate lists
        self.cands_full: dict[int, list] = {}
        self.skipped: list[int] = []
        for r, lst in candidates.items():
            ro = self.op.get(r)
            if ro is None or ro.is_write or lst is None:
                self.skipped.append(r)
                continue
            clean: list = []
            for c in lst:
                if c is None or (c in self.op and self.op[c].is_write
                                 and self.op[c].outcome != FAIL):
                    if c not in clean:
                        clean.append(c)
            if not clean:
                self.skipped.append(r)
                continue
            self.cands_full[r] = clean
        self.reads = sorted(self.cands_full, key=lambda i: (self.op[i].invoke_time, i))
        self.final = set()
        if self.settled is not None:
            self.final = {r for r in self.reads if self.op[r].invoke_time >= self.settled}
        self.info = sorted({c for lst in self.cands_full.values() for c in lst
                            if c is not None and self.op[c].outcome != OK})
        self.forced_info = {lst[0] for lst in self.cands_full.values()
                            if len(lst) == 1 and lst[0] is not None
                            and self.op[lst[0]].outcome != OK}

        # global completion order of ok writes and per-scope views of it
        self.GW = sorted(self.ok, key=lambda o: (completion_time(o), cpos(o)))
        self.gpos = {o.index: i for i, o in enumerate(self.GW)}
        self.gtcs = [completion_time(o) for o in self.GW]
        self._gseq: dict[tuple, WriteSequence] = {}
        self.proc_ok: dict[Any, list] = defaultdict(list)   # process -> [(cpos, op)]
        for o in sorted(self.ok, key=cpos):
            self.proc_ok[o.process].append((cpos(o), o))
        self._extras: dict[int, list[Operation]] = {}

        # candidate lists with dominated candidates removed (used for non-final reads)
        self.cands_pruned = {r: self._prune(lst) for r, lst in self.cands_full.items()}
        self.Vs, self.Vs_raw = self._targets()

    # --- rule 1 / rule 2 -------------------------------------------------------------
    def cb(self, a_t: int, a_pos: float, a_proc, b_t: int, b_pos: float, b_proc) -> bool:
        """Event a (time, file position, process) is certainly before event b (rule 1).
        The bisect counts below (``count``, ``count_T``, ``extras``) are this predicate
        over sorted sequences: by time beyond δ, or by (time, position) when δ = 0, plus
        the same-process extras when δ > 0."""
        return self.clock.before(a_t, a_pos, a_proc, b_t, b_pos, b_proc)

    def hard_reason(self, a: Operation, b: Operation) -> tuple | None:
        """Why write a must precede write b in every admissible order (direct rule 2), or None."""
        if a.outcome != OK or a.index == b.index:
            return None
        if a.ts is not None and b.ts is not None and b.outcome == OK:
            return ("ts",) if a.conflict_key < b.conflict_key else None
        same = a.region == b.region
        if a.index in self.tainted and self.inv.dropped(a.index, b.index):
            return None         # rule 10: contradicted by the recorded ts, dropped
        if same or self.strong:
            if self.cb(completion_time(a), cpos(a), a.process, b.invoke_time, ipos(b), b.process):
                if a.process == b.process and self.delta > 0 and \
                        not b.invoke_time - completion_time(a) > self.delta:
                    return ("rt", "proc")
                return ("rt", "region" if same else "strong")
        if not same and self.eps is not None and \
                b.invoke_time - completion_time(a) > 2 * self.eps + self.delta:
            return ("rt", "eps")
        return None

    def dominated(self, c: Operation, agg: Maxima) -> bool:
        """Some member of agg is certainly ranked above ok write c (direct rule 2 / ts)."""
        if c.outcome != OK:
            return False
        tc, cp = completion_time(c), cpos(c)
        has_ts = c.ts is not None
        inv = agg.inv_nots if has_ts else agg.inv_all
        glob = agg.t_nots if has_ts else agg.t_all
        if has_ts and agg.ts_max is not None and c.conflict_key < agg.ts_max:
            return True
        if self.tainted:        # rule 10: some real-time links are dropped; rely on ts only
            return False
        regs = list(inv) if self.strong else [c.region]
        for reg in regs:
            k = inv.get(reg)
            if k is None:
                continue
            if self.delta > 0:
                if k[0] - tc > self.delta:
                    return True
            elif (tc, cp) < k:
                return True
        if not self.strong and self.eps is not None and glob is not None and \
                glob[0] - tc > 2 * self.eps + self.delta:
            return True
        return False

    def _prune(self, lst: list) -> list:
        """Drop candidates certainly ranked below another ok (or forced info) candidate:
        choosing the higher one never hurts read-after-write or staleness."""
        if len(lst) <= 1:
            return list(lst)
        dom = [c for c in lst if c is not None and
               (self.op[c].outcome == OK or c in self.forced_info)]
        if not dom:
            return list(lst)
        agg = Maxima()
        for c in dom:
            agg.add(self.op[c])
        out = [c for c in lst if c is not None and not self.dominated(self.op[c], agg)]
        return out or list(lst)

    def _targets(self) -> tuple[list, list]:
        """Possible convergence targets: versions every final read may have seen that no
        ok/forced write is certainly ranked above."""
        if not self.final:
            return [], []
        inter = None
        for r in self.final:
            s = set(self.cands_full[r])
            inter = s if inter is None else inter & s
        raw = sorted(inter, key=lambda c: (-1, 0) if c is None else (completion_time(self.op[c]), c))
        agg = Maxima()
        for o in self.ok:
            agg.add(o)
        for i in self.forced_info:
            agg.add(self.op[i])
        out = []
        for v in raw:
            if v is None:
                if not self.ok and not self.forced_info:
                    out.append(v)
            elif not self.dominated(self.op[v], agg):
                out.append(v)
        out.reverse()       # latest first: the graph path tries them in this order
        return out, raw

    # --- sequences ---------------------------------------------------------------------
    def gseq(self, variant: str, scope: str) -> WriteSequence:
        key = (variant, scope)
        s = self._gseq.get(key)
        if s is None:
            ids, tcs, keys, gidx = [], [], [], []
            for i, o in enumerate(self.GW):
                if scope != ALL_REGIONS and o.region != scope:
                    continue
                if variant in ("nots", "hnots") and o.ts is not None:
                    continue
                if variant in ("hall", "hnots") and o.index in self.tainted:
                    continue    # rule 10: their links are added one by one (_hard_items)
                ids.append(o.index)
                tcs.append(completion_time(o))
                keys.append((completion_time(o), cpos(o)))
                gidx.append(i)
            s = self._gseq[key] = WriteSequence(ids, tcs, keys, gidx)
        return s

    def count(self, s: WriteSequence, rule: str, t: int, pos: float) -> int:
        """How many writes of s completed before an invocation at (t, pos), by rule."""
        if rule == "cb":
            if self.delta > 0:
                return bisect.bisect_left(s.tcs, t - self.delta)
            return bisect.bisect_left(s.keys, (t, pos))
        return bisect.bisect_left(s.tcs, t - (2 * self.eps + self.delta))   # "eps"

    def count_T(self, t: int, bound: int) -> int:
        """Ok writes (global order) completed certainly before time t by more than bound."""
        return bisect.bisect_left(self.gtcs, t - max(bound, self.delta))

    def extras(self, r: int) -> list[Operation]:
        """δ > 0 only: ok writes of the read's process completed before it in the file but
        within δ of its invocation (certainly before by rule 1, not by time)."""
        if self.delta == 0:
            return []
        ex = self._extras.get(r)
        if ex is None:
            ro = self.op[r]
            lst = self.proc_ok.get(ro.process, [])
            j = bisect.bisect_left(lst, (ipos(ro),), key=lambda e: (e[0],))
            ex = []
            while j > 0:
                j -= 1
                o = lst[j][1]
                if completion_time(o) < ro.invoke_time - self.delta:
                    break
                ex.append(o)
            self._extras[r] = ex
        return ex

    def last_same_proc(self, op: Operation, region: str | None,
                       skip: set[int] | frozenset = frozenset()) -> Operation | None:
        lst = self.proc_ok.get(op.process, [])
        j = bisect.bisect_left(lst, (ipos(op),), key=lambda e: (e[0],))
        while j > 0:
            j -= 1
            o = lst[j][1]
            if (region is None or o.region == region) and o.index not in skip:
                return o
        return None

    def raw_scope(self, ro: Operation) -> str:
        return ALL_REGIONS if self.strong else ro.region
