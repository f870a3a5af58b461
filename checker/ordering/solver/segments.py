"""A key split into independent segments (:func:`make_segments`), each with its writes,
info writes and reads (:class:`Segment`), and the auxiliary "max" nodes of its prefix
sequences and sparse tables (:class:`SegmentSequence`), so that "every write of a prefix or
range is below c" costs one constraint. :class:`Answer` is what a check of a segment
returns.

The key is cut at quiet points (nothing in flight) across which rule 2 already orders every
write before every later write (strong mode, a known epsilon, or one writing region);
segments are merged back when a read could have seen a write of an earlier segment that is
not forced below the later ones (info writes), and the final reads' segment extends to the
end.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from gtcheck.checker.operations import OK
from gtcheck.checker.ordering.solver.context import (SolverContext, WriteSequence, completion_time,
                                                    cpos, ipos)


class SegmentSequence:
    """A group's slice of a global sequence, with prefix-max chain and sparse-table nodes."""

    def __init__(self, grp: "Segment", gs: WriteSequence) -> None:
        self.g = grp
        self.gs = gs
        self.a = bisect.bisect_left(gs.gidx, grp.gs)
        self.b = bisect.bisect_left(gs.gidx, grp.ge)
        self.e = [grp.node[i] for i in gs.ids[self.a:self.b]]
        self.where = {n: j for j, n in enumerate(self.e)}
        self.pref: list[int] = [-1] + ([self.e[0]] if self.e else [])   # pref[k] = max e[:k]
        self.blk: dict[tuple, int] = {}

    def local(self, kglob: int) -> int:
        return min(max(kglob - self.a, 0), self.b - self.a)

    def prefix(self, k: int) -> int:
        while len(self.pref) <= k:
            j = len(self.pref)
            n = self.g.new_aux()
            self.g.aux_edge(self.pref[j - 1], n)
            self.g.aux_edge(self.e[j - 1], n)
            self.pref.append(n)
        return self.pref[k]

    def block(self, i: int, lev: int) -> int:
        if lev == 0:
            return self.e[i]
        n = self.blk.get((i, lev))
        if n is None:
            left = self.block(i, lev - 1)
            right = self.block(i + (1 << (lev - 1)), lev - 1)
            n = self.g.new_aux()
            self.g.aux_edge(left, n)
            self.g.aux_edge(right, n)
            self.blk[(i, lev)] = n
        return n

    def cover(self, a: int, b: int) -> list[int]:
        if b <= a:
            return []
        if a == 0:
            return [self.prefix(b)]
        lev = (b - a).bit_length() - 1
        x, y = self.block(a, lev), self.block(b - (1 << lev), lev)
        return [x] if x == y else [x, y]

    def minus(self, k: int, c: int) -> list[int]:
        """Nodes covering e[:k] without node c."""
        j = self.where.get(c)
        if j is None or j >= k:
            return self.cover(0, k)
        return self.cover(0, j) + self.cover(j + 1, k)


class Segment:
    """An independent segment: a contiguous slice [gs, ge) of the completion order, the info
    writes placed in it and the reads whose candidates lie in it."""

    def __init__(self, ctx: SolverContext, gi: int, gs: int, ge: int, infos: list[int],
                 reads: list[int]) -> None:
        self.ctx, self.gi, self.gs, self.ge = ctx, gi, gs, ge
        self.wops = [ctx.GW[k].index for k in range(gs, ge)] + infos
        self.node = {idx: n for n, idx in enumerate(self.wops)}
        self.nw = len(self.wops)
        self.n = self.nw
        self.aux_u: list[int] = []
        self.aux_v: list[int] = []
        self.reads = reads
        self._lseq: dict[tuple, SegmentSequence] = {}
        self._modes: dict[bool, Any] = {}     # conv -> requirements.Problem (problem_of)
        self.order_conflict: list | None = None    # cycle of rule-2 / ts edges, if any
        self.relaxed = False

    def new_aux(self) -> int:
        self.n += 1
        return self.n - 1

    def aux_edge(self, u: int, v: int) -> None:
        self.aux_u.append(u)
        self.aux_v.append(v)

    def lseq(self, variant: str, scope: str) -> SegmentSequence:
        key = (variant, scope)
        s = self._lseq.get(key)
        if s is None:
            s = self._lseq[key] = SegmentSequence(self, self.ctx.gseq(variant, scope))
        return s

    def has_final(self) -> bool:
        return any(r in self.ctx.final for r in self.reads)


@dataclass
class Answer:
    """The answer to one question asked of a segment: satisfiable or not, with the
    choices, what each read saw and the order (or the core / the failures)."""

    sat: bool
    assign: dict = field(default_factory=dict)
    saw: dict = field(default_factory=dict)
    order: list = field(default_factory=list)      # effective write nodes, lowest first
    V: Any = None
    stale: int | None = None
    core: list = field(default_factory=list)        # z3 core keys / graph failures
    failures: list = field(default_factory=list)    # graph path: [(V, kind, payload)]


def make_segments(ctx: SolverContext) -> tuple[list[Segment], list[int]]:
    ivs = []
    for o in ctx.ok:
        ivs.append(((o.invoke_time, ipos(o)), (completion_time(o), cpos(o)), "w", o.index))
    for r in ctx.reads:
        ro = ctx.op[r]
        ivs.append(((ro.invoke_time, ipos(ro)), (completion_time(ro), cpos(ro)), "r", r))
    for i in ctx.info:
        io = ctx.op[i]
        ivs.append(((io.invoke_time, ipos(io)), (io.invoke_time, ipos(io)), "i", i))
    ivs.sort()
    segs: list[list] = []
    end = None
    for st, en, kind, idx in ivs:
        if end is None or st > end:
            segs.append([])
            end = en
        elif en > end:
            end = en
        segs[-1].append((kind, idx))
    nseg = len(segs)
    # validity of each cut (between segment j and j+1)
    pre_last: list[dict] = []
    acc: dict = {}
    ts_acc = None
    pre_ts = []
    for seg in segs:
        for kind, idx in seg:
            if kind == "w":
                o = ctx.op[idx]
                k = (completion_time(o), cpos(o))
                if o.region not in acc or acc[o.region] < k:
                    acc[o.region] = k
                if o.ts is not None and (ts_acc is None or ts_acc < o.conflict_key):
                    ts_acc = o.conflict_key
        pre_last.append(dict(acc))
        pre_ts.append(ts_acc)
    suf_first: list[dict] = [dict() for _ in range(nseg)]
    suf_ts: list = [None] * nseg
    acc, ts_acc = {}, None
    for j in range(nseg - 1, -1, -1):
        for kind, idx in segs[j]:
            if kind == "w":
                o = ctx.op[idx]
                k = (o.invoke_time, ipos(o))
                if o.region not in acc or acc[o.region] > k:
                    acc[o.region] = k
                if o.ts is not None and (ts_acc is None or ts_acc > o.conflict_key):
                    ts_acc = o.conflict_key
        suf_first[j] = dict(acc)
        suf_ts[j] = ts_acc
    seg_group = [0] * nseg
    g = 0
    for j in range(1, nseg):
        if not _cut_ok(ctx, pre_last[j - 1], suf_first[j], pre_ts[j - 1], suf_ts[j]):
            seg_group[j] = g
        else:
            g += 1
            seg_group[j] = g
    ngroups = g + 1
    grp_of: dict[int, int] = {}
    for j, seg in enumerate(segs):
        for kind, idx in seg:
            grp_of[idx] = seg_group[j]
    # merge groups linked by reads
    intervals = []
    for r in ctx.reads:
        lst = ctx.cands_full[r] if r in ctx.final else ctx.cands_pruned[r]
        gs = [grp_of[c] for c in lst if c is not None]
        if not gs:
            continue
        lo, hi = min(gs), max(gs)
        if any(c is not None and ctx.op[c].outcome != OK for c in lst):
            hi = max(hi, grp_of[r])
        if r in ctx.final:
            hi = ngroups - 1
            if None in ctx.Vs_raw:
                lo = 0
        intervals.append((lo, hi))
    intervals.sort()
    merged_to = list(range(ngroups))
    cur_lo, cur_hi = None, None
    for lo, hi in intervals + [(ngroups, ngroups)]:
        if cur_hi is not None and lo <= cur_hi:
            cur_hi = max(cur_hi, hi)
            continue
        if cur_lo is not None:
            for k in range(cur_lo, cur_hi + 1):
                merged_to[k] = cur_lo
        cur_lo, cur_hi = lo, hi
    # build groups
    order = sorted(set(merged_to))
    gi_of = {m: i for i, m in enumerate(order)}
    members: list[dict] = [{"w": [], "i": [], "r": []} for _ in order]
    for idx, g0 in grp_of.items():
        kind = "w" if idx in ctx.gpos else ("r" if idx in ctx.cands_full else "i")
        if kind == "r":
            continue
        members[gi_of[merged_to[g0]]][kind].append(idx)
    ungrouped = []
    for r in ctx.reads:
        lst = ctx.cands_full[r] if r in ctx.final else ctx.cands_pruned[r]
        gs = [grp_of[c] for c in lst if c is not None]
        if not gs:
            ungrouped.append(r)
        else:
            members[gi_of[merged_to[gs[0]]]]["r"].append(r)
    groups = []
    for gi, mem in enumerate(members):
        if not mem["w"] and not mem["i"] and not mem["r"]:
            continue
        pos = [ctx.gpos[w] for w in mem["w"]]
        if pos:
            gs_, ge_ = min(pos), max(pos) + 1
        else:   # no ok write: an empty slice placed after the previous groups
            prev = [ctx.gpos[w] for m in members[:gi] for w in m["w"]]
            gs_ = ge_ = (max(prev) + 1) if prev else 0
        groups.append(Segment(ctx, len(groups), gs_, ge_, sorted(mem["i"]),
                             sorted(mem["r"], key=lambda i: (ctx.op[i].invoke_time, i))))
    return groups, ungrouped

def _cut_ok(ctx: SolverContext, last: dict, first: dict, ts_b, ts_a) -> bool:
    if not last or not first:
        return True
    if ts_b is not None and ts_a is not None and not ts_b < ts_a:
        return False
    for rb, (tcb, _pb) in last.items():
        for ra, (tia, _pa) in first.items():
            if rb == ra or ctx.strong:
                if ctx.delta > 0 and not tia - tcb > ctx.delta:
                    return False
            elif ctx.eps is not None:
                if not tia - tcb > 2 * ctx.eps + ctx.delta:
                    return False
            else:
                return False
    return True
