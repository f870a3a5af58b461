"""Conflict-order inference for keys whose writes lack timestamps (rules 2 and 5).

``infer_order`` picks, for one key, an admissible conflict order of the writes and what
each read saw, choosing by rule 5 of the history format: (a) convergence if any order gives
it, then (b) read-after-write if any such order gives it, then (c) the smallest largest
staleness. It never guesses: a solver timeout makes the key ``unknown``.

Encoding (see docs/solver.md for the user-facing description)
-------------------------------------------------------------
Every requirement is a precedence "u below v" between *nodes*: the writes, plus auxiliary
"max" nodes standing for a set of writes (a prefix or a range of the writes sorted by
completion time).  An aux node ``M`` gets ``pos[w] <= pos[M]`` for each member ``w``;
"every write of the set is below ``c``" is then the single constraint ``pos[M] < pos[c]``.
Prefix nodes form a chain (``P_k >= P_{k-1}``, ``P_k >= w_k``) and ranges use a lazily
built sparse table, so no requirement ever costs more than a few constraints and nothing
is quadratic.  Each requirement is an *item* ``(u, v, tag, guards)``: it holds when all its
guard literals hold.  Guards are the read's choice among its candidates (``x``), an info
write taking effect (``eff``), the convergence target (``conv``) and per-property
assumption literals (``raw``, ``st``) used to obtain unsat cores.

* When no read has a choice left (after dominance pruning), the items form a plain
  precedence graph: a topological sort decides it and a cycle *is* the contradiction.
* Otherwise z3 decides it.  Small segments use the full encoding: integer ``pos`` per node
  (difference logic), Booleans for the guards, one ``check`` with assumptions per question,
  staleness bounds pushed/popped.  Large segments (more than ``INT_NODE_LIMIT`` nodes, where
  z3's arithmetic needs minutes) use the lazy engine: z3 searches the Booleans only, each
  proposal is checked by a topological sort of the precedence graph, and each cycle found
  comes back as a learned clause; it answers the same questions with the same cores.

The largest staleness is minimised by binary search over bounds ``B``: a bound adds, for
every read ``r`` and every ok write ``w`` completed certainly before ``r`` with
``r.invoke - w.complete > B``, the item "w below saw(r) unless w is saw(r)".  Each
satisfiable probe yields an order whose actual largest staleness (computed exactly) becomes
the new upper bound; each unsatisfiable probe moves the lower bound to the next distinct
gap value, so the search only visits values that matter.

Rule 10: real-time constraints that the recorded timestamps contradict (a chain of them
from a timestamped write to one with a smaller ``(ts, origin)`` through untimed writes) are
found first (:mod:`gtcheck.checker.inversions`) and left out: the writes they start from
("tainted") are kept out of the shared prefix sequences and get their remaining constraints
one by one, and dominance pruning then relies on timestamps only.

The key is split into independent segments at quiet points (nothing in flight) across
which rule 2 already orders every write before every later write (strong mode, a known ε,
or one writing region); segments are merged back when a read could have seen a write of an
earlier segment that is not forced below the later ones (info writes), and the final reads'
segment extends to the end.  Each segment is solved on its own; requirements reaching
writes of a later segment are constants.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from gtcheck.checker.candidates import Clock, cpos, ipos
from gtcheck.checker.inversions import find_inversions
from gtcheck.checker.operations import FAIL, OK, Header, Operation
from gtcheck.checker.order import DECIDED, UNKNOWN, KeyOrder

try:  # z3 is a declared dependency; keep the import failure readable
    import z3
except ImportError:  # pragma: no cover
    z3 = None

_ALL = "*"
_INF = float("inf")
_MAX_COMBOS = 16
ENGINE = "auto"            # "auto", "int" (full integer encoding) or "lazy"; tests set it
INT_NODE_LIMIT = 1500      # segments with more nodes use the lazy engine


class _Timeout(Exception):
    """The key's time budget ran out (z3 said unknown, or the deadline passed)."""


class _Unavailable(_Timeout):
    """The key needs z3 and z3-solver is not installed: the key is unknown, not an error."""


_ipos = ipos      # rule 1: file positions (the line), never the ``index`` field
_cpos = cpos


def _tc(op: Operation) -> int:
    if op.complete_time is not None:
        return op.complete_time
    return op.end_time if op.end_time is not None else op.invoke_time


# --------------------------------------------------------------------------------------
# Key-level data
# --------------------------------------------------------------------------------------

@dataclass(slots=True)
class _GSeq:
    """Ok writes of one scope, sorted by completion: ids, completion times, keys, global pos."""

    ids: list[int]
    tcs: list[int]
    keys: list[tuple]
    gidx: list[int]


class _Agg:
    """Maxima over a set of writes, to test "some member is certainly after c" in O(regions)."""

    __slots__ = ("inv_all", "inv_nots", "t_all", "t_nots", "ts_max")

    def __init__(self) -> None:
        self.inv_all: dict[str, tuple] = {}
        self.inv_nots: dict[str, tuple] = {}
        self.t_all = None
        self.t_nots = None
        self.ts_max = None

    def add(self, op: Operation) -> None:
        k = (op.invoke_time, _ipos(op))
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


class _Ctx:
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
        self.GW = sorted(self.ok, key=lambda o: (_tc(o), _cpos(o)))
        self.gpos = {o.index: i for i, o in enumerate(self.GW)}
        self.gtcs = [_tc(o) for o in self.GW]
        self._gseq: dict[tuple, _GSeq] = {}
        self.proc_ok: dict[Any, list] = defaultdict(list)   # process -> [(cpos, op)]
        for o in sorted(self.ok, key=_cpos):
            self.proc_ok[o.process].append((_cpos(o), o))
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
            if self.cb(_tc(a), _cpos(a), a.process, b.invoke_time, _ipos(b), b.process):
                if a.process == b.process and self.delta > 0 and \
                        not b.invoke_time - _tc(a) > self.delta:
                    return ("rt", "proc")
                return ("rt", "region" if same else "strong")
        if not same and self.eps is not None and \
                b.invoke_time - _tc(a) > 2 * self.eps + self.delta:
            return ("rt", "eps")
        return None

    def dominated(self, c: Operation, agg: _Agg) -> bool:
        """Some member of agg is certainly ranked above ok write c (direct rule 2 / ts)."""
        if c.outcome != OK:
            return False
        tc, cp = _tc(c), _cpos(c)
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
        agg = _Agg()
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
        raw = sorted(inter, key=lambda c: (-1, 0) if c is None else (_tc(self.op[c]), c))
        agg = _Agg()
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
    def gseq(self, variant: str, scope: str) -> _GSeq:
        key = (variant, scope)
        s = self._gseq.get(key)
        if s is None:
            ids, tcs, keys, gidx = [], [], [], []
            for i, o in enumerate(self.GW):
                if scope != _ALL and o.region != scope:
                    continue
                if variant in ("nots", "hnots") and o.ts is not None:
                    continue
                if variant in ("hall", "hnots") and o.index in self.tainted:
                    continue    # rule 10: their links are added one by one (_hard_items)
                ids.append(o.index)
                tcs.append(_tc(o))
                keys.append((_tc(o), _cpos(o)))
                gidx.append(i)
            s = self._gseq[key] = _GSeq(ids, tcs, keys, gidx)
        return s

    def count(self, s: _GSeq, rule: str, t: int, pos: float) -> int:
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
            j = bisect.bisect_left(lst, (_ipos(ro),), key=lambda e: (e[0],))
            ex = []
            while j > 0:
                j -= 1
                o = lst[j][1]
                if _tc(o) < ro.invoke_time - self.delta:
                    break
                ex.append(o)
            self._extras[r] = ex
        return ex

    def last_same_proc(self, op: Operation, region: str | None,
                       skip: set[int] | frozenset = frozenset()) -> Operation | None:
        lst = self.proc_ok.get(op.process, [])
        j = bisect.bisect_left(lst, (_ipos(op),), key=lambda e: (e[0],))
        while j > 0:
            j -= 1
            o = lst[j][1]
            if (region is None or o.region == region) and o.index not in skip:
                return o
        return None

    def raw_scope(self, ro: Operation) -> str:
        return _ALL if self.strong else ro.region

    # --- segments ------------------------------------------------------------------------
    def make_groups(self) -> tuple[list["_Group"], list[int]]:
        ivs = []
        for o in self.ok:
            ivs.append(((o.invoke_time, _ipos(o)), (_tc(o), _cpos(o)), "w", o.index))
        for r in self.reads:
            ro = self.op[r]
            ivs.append(((ro.invoke_time, _ipos(ro)), (_tc(ro), _cpos(ro)), "r", r))
        for i in self.info:
            io = self.op[i]
            ivs.append(((io.invoke_time, _ipos(io)), (io.invoke_time, _ipos(io)), "i", i))
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
                    o = self.op[idx]
                    k = (_tc(o), _cpos(o))
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
                    o = self.op[idx]
                    k = (o.invoke_time, _ipos(o))
                    if o.region not in acc or acc[o.region] > k:
                        acc[o.region] = k
                    if o.ts is not None and (ts_acc is None or ts_acc > o.conflict_key):
                        ts_acc = o.conflict_key
            suf_first[j] = dict(acc)
            suf_ts[j] = ts_acc
        seg_group = [0] * nseg
        g = 0
        for j in range(1, nseg):
            if not self._cut_ok(pre_last[j - 1], suf_first[j], pre_ts[j - 1], suf_ts[j]):
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
        for r in self.reads:
            lst = self.cands_full[r] if r in self.final else self.cands_pruned[r]
            gs = [grp_of[c] for c in lst if c is not None]
            if not gs:
                continue
            lo, hi = min(gs), max(gs)
            if any(c is not None and self.op[c].outcome != OK for c in lst):
                hi = max(hi, grp_of[r])
            if r in self.final:
                hi = ngroups - 1
                if None in self.Vs_raw:
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
            kind = "w" if idx in self.gpos else ("r" if idx in self.cands_full else "i")
            if kind == "r":
                continue
            members[gi_of[merged_to[g0]]][kind].append(idx)
        ungrouped = []
        for r in self.reads:
            lst = self.cands_full[r] if r in self.final else self.cands_pruned[r]
            gs = [grp_of[c] for c in lst if c is not None]
            if not gs:
                ungrouped.append(r)
            else:
                members[gi_of[merged_to[gs[0]]]]["r"].append(r)
        groups = []
        for gi, mem in enumerate(members):
            if not mem["w"] and not mem["i"] and not mem["r"]:
                continue
            pos = [self.gpos[w] for w in mem["w"]]
            if pos:
                gs_, ge_ = min(pos), max(pos) + 1
            else:   # no ok write: an empty slice placed after the previous groups
                prev = [self.gpos[w] for m in members[:gi] for w in m["w"]]
                gs_ = ge_ = (max(prev) + 1) if prev else 0
            groups.append(_Group(self, len(groups), gs_, ge_, sorted(mem["i"]),
                                 sorted(mem["r"], key=lambda i: (self.op[i].invoke_time, i))))
        return groups, ungrouped

    def _cut_ok(self, last: dict, first: dict, ts_b, ts_a) -> bool:
        if not last or not first:
            return True
        if ts_b is not None and ts_a is not None and not ts_b < ts_a:
            return False
        for rb, (tcb, _pb) in last.items():
            for ra, (tia, _pa) in first.items():
                if rb == ra or self.strong:
                    if self.delta > 0 and not tia - tcb > self.delta:
                        return False
                elif self.eps is not None:
                    if not tia - tcb > 2 * self.eps + self.delta:
                        return False
                else:
                    return False
        return True


# --------------------------------------------------------------------------------------
# Groups, sequences, items
# --------------------------------------------------------------------------------------

class _LSeq:
    """A group's slice of a global sequence, with prefix-max chain and sparse-table nodes."""

    def __init__(self, grp: "_Group", gs: _GSeq) -> None:
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


class _Group:
    """An independent segment: a contiguous slice [gs, ge) of the completion order, the info
    writes placed in it and the reads whose candidates lie in it."""

    def __init__(self, ctx: _Ctx, gi: int, gs: int, ge: int, infos: list[int],
                 reads: list[int]) -> None:
        self.ctx, self.gi, self.gs, self.ge = ctx, gi, gs, ge
        self.wops = [ctx.GW[k].index for k in range(gs, ge)] + infos
        self.node = {idx: n for n, idx in enumerate(self.wops)}
        self.nw = len(self.wops)
        self.n = self.nw
        self.aux_u: list[int] = []
        self.aux_v: list[int] = []
        self.reads = reads
        self._lseq: dict[tuple, _LSeq] = {}
        self._modes: dict[bool, _Mode] = {}
        self.order_conflict: list | None = None    # cycle of rule-2 / ts edges, if any
        self.relaxed = False

    def new_aux(self) -> int:
        self.n += 1
        return self.n - 1

    def aux_edge(self, u: int, v: int) -> None:
        self.aux_u.append(u)
        self.aux_v.append(v)

    def lseq(self, variant: str, scope: str) -> _LSeq:
        key = (variant, scope)
        s = self._lseq.get(key)
        if s is None:
            s = self._lseq[key] = _LSeq(self, self.ctx.gseq(variant, scope))
        return s

    def mode(self, conv: bool) -> "_Mode":
        m = self._modes.get(conv)
        if m is None:
            m = self._modes[conv] = _Mode(self, conv)
        return m

    def has_final(self) -> bool:
        return any(r in self.ctx.final for r in self.reads)


@dataclass
class _Res:
    sat: bool
    assign: dict = field(default_factory=dict)
    saw: dict = field(default_factory=dict)
    order: list = field(default_factory=list)      # effective write nodes, lowest first
    V: Any = None
    stale: int | None = None
    core: list = field(default_factory=list)        # z3 core keys / graph failures
    failures: list = field(default_factory=list)    # graph path: [(V, kind, payload)]


class _Mode:
    """A group under one convergence mode (final reads unpruned when convergence is sought)."""

    def __init__(self, grp: _Group, conv: bool) -> None:
        ctx = grp.ctx
        self.g, self.ctx, self.conv = grp, ctx, conv
        self.cands = {r: list(ctx.cands_full[r] if (conv and r in ctx.final)
                              else ctx.cands_pruned[r]) for r in grp.reads}
        self.choice = [r for r in grp.reads if len(self.cands[r]) > 1]
        self.forced = {lst[0] for lst in self.cands.values()
                       if len(lst) == 1 and lst[0] is not None and lst[0] in grp.node
                       and ctx.op[lst[0]].outcome != OK}
        self.optional = sorted({c for r in self.choice for c in self.cands[r]
                                if c is not None and c in grp.node
                                and ctx.op[c].outcome != OK and c not in self.forced})
        self.Vs = [v for v in ctx.Vs if v is None or v in grp.node] if conv else []
        self.graph_ok = all(r in ctx.final for r in self.choice) if conv else not self.choice
        self.consistent = [r for r in grp.reads if ctx.op[r].consistent]
        self.hard = self._hard_items()
        if grp.order_conflict is None:
            grp.order_conflict = []
            base = [it for it in self.hard if not it[3]]
            order, _alive = _toposort(grp, base, set())
            if order is None:       # recorded ts contradict real time: report, then relax
                grp.order_conflict = find_cycle(grp, base, ("ts",))
                grp.relaxed = True
        if grp.relaxed:
            self.hard = self._hard_items()
        self.conv_items = {v: self._conv_items(v) for v in self.Vs}
        self.raw_items = self._raw_items()
        self._z3: _Z3 | None = None
        self._rinfo: list | None = None
        self.stats = {"z3_checks": 0, "graph_checks": 0}

    # --- items -------------------------------------------------------------------------
    def _info_guard(self, i: int) -> tuple:
        return () if i in self.forced else (("eff", i),)

    def _hard_items(self) -> list:
        ctx, g = self.ctx, self.g
        items = []
        targets = [w for w in g.wops if ctx.op[w].outcome == OK or w in self.forced
                   or w in self.optional]
        rules = [(_ALL, "cb", "strong")] if ctx.strong else [(None, "cb", "region")]
        if ctx.eps is not None and not ctx.strong:
            rules.append((_ALL, "eps", "eps"))
        tainted = ctx.tainted
        h = "h" if tainted else ""      # rule 10: sequences without the tainted writes
        for w in targets:
            o = ctx.op[w]
            t = g.node[w]
            guard = () if o.outcome == OK else self._info_guard(w)
            variant = h + ("nots" if (o.ts is not None and o.outcome == OK) else "all")
            if g.relaxed:   # real time no longer links timestamped writes to the others
                if o.ts is not None and o.outcome == OK:
                    continue
                variant = "nots"
            for scope, rule, kind in rules:
                seq = g.lseq(variant, scope if scope is not None else o.region)
                k = seq.local(ctx.count(seq.gs, rule, o.invoke_time, _ipos(o)))
                if k > 0:
                    items.append((seq.prefix(k), t, ("rt", kind), guard))
            if ctx.delta > 0:
                p = ctx.last_same_proc(o, None if ctx.strong else o.region, tainted)
                if p is not None and p.index in g.node and \
                        not (p.ts is not None and o.ts is not None and o.outcome == OK) and \
                        not (g.relaxed and p.ts is not None):
                    items.append((g.node[p.index], t, ("rt", "proc"), guard))
        # rule 10: a tainted write's links, one by one, without the contradicted ones
        for u in sorted(tainted & g.node.keys()):
            ou = ctx.op[u]
            for w in targets:
                ow = ctx.op[w]
                if w == u or (ou.ts is not None and ow.ts is not None and ow.outcome == OK):
                    continue
                why = ctx.hard_reason(ou, ow)
                if why is not None:
                    guard = () if ow.outcome == OK else self._info_guard(w)
                    items.append((g.node[u], g.node[w], why, guard))
        tsw = sorted((ctx.op[w] for w in g.wops
                      if ctx.op[w].outcome == OK and ctx.op[w].ts is not None),
                     key=lambda o: o.conflict_key)
        for a, b in zip(tsw, tsw[1:]):
            items.append((g.node[a.index], g.node[b.index], ("ts",), ()))
        return items

    def _conv_items(self, v) -> list:
        g = self.g
        gk = ("conv", v)
        items = []
        if v is None:
            for i in self.optional:
                items.append((-1, -1, ("conv_none_info", i), (gk, ("eff", i))))
            return items
        vn = g.node[v]
        seq = g.lseq("all", _ALL)
        for m in seq.minus(len(seq.e), vn):
            items.append((m, vn, ("conv", v), (gk,)))
        for i in sorted(self.forced) + self.optional:
            if i != v:
                items.append((g.node[i], vn, ("conv", v), (gk,) + self._info_guard(i)))
        return items

    def _raw_items(self) -> list:
        ctx, g = self.ctx, self.g
        items = []
        agg: dict[tuple, tuple] = {}
        for r in self.consistent:
            ro = ctx.op[r]
            scope = ctx.raw_scope(ro)
            seq = g.lseq("all", scope)
            kg = ctx.count(seq.gs, "cb", ro.invoke_time, _ipos(ro))
            ex = [w for w in ctx.extras(r) if ctx.strong or w.region == ro.region]
            lst = self.cands[r]
            fixed = len(lst) == 1
            for c in lst:
                guards = (("raw",),) if fixed else (("raw", r), ("x", r, c))
                if c is None:
                    if kg > 0 or ex:
                        w = seq.gs.ids[0] if kg > 0 else ex[0].index
                        items.append((-1, -1, ("raw_none", r, w), guards))
                    continue
                if kg > seq.b:
                    items.append((-1, -1, ("raw_later", r, c, seq.gs.ids[seq.b]), guards))
                    continue
                late = [w for w in ex if ctx.gpos[w.index] >= g.ge]
                if late:
                    items.append((-1, -1, ("raw_later", r, c, late[0].index), guards))
                    continue
                cn = g.node[c]
                k = seq.local(kg)
                for w in ex:
                    if w.index != c and w.index in g.node:
                        items.append((g.node[w.index], cn, ("raw", r, c), guards))
                if k <= 0:
                    continue
                if fixed:
                    key = (cn, scope)
                    if key not in agg or agg[key][0] < k:
                        agg[key] = (k, r, c)
                else:
                    for m in seq.minus(k, cn):
                        items.append((m, cn, ("raw", r, c), guards))
        for (cn, scope), (k, r, c) in agg.items():
            seq = g.lseq("all", scope)
            for m in seq.minus(k, cn):
                items.append((m, cn, ("raw", r, c), (("raw",),)))
        return items

    def _read_info(self) -> list[tuple]:
        """Per read, what every staleness probe needs: (read, invoke time, candidates,
        fixed?, extras as (op, completion time)); built once."""
        if self._rinfo is None:
            ctx = self.ctx
            self._rinfo = [(r, ctx.op[r].invoke_time, self.cands[r], len(self.cands[r]) == 1,
                            [(w, _tc(w)) for w in ctx.extras(r)]) for r in self.g.reads]
        return self._rinfo

    def stale_items(self, bound: int, track: bool = False) -> list:
        ctx, g = self.ctx, self.g
        seq = g.lseq("all", _ALL)
        items = []
        agg: dict[int, tuple] = {}
        gtcs, node, ge = ctx.gtcs, g.node, g.ge
        off = max(bound, ctx.delta)
        lo, span = seq.a, seq.b - seq.a
        bl = bisect.bisect_left
        for r, t, lst, fixed, exs in self._read_info():
            kg = bl(gtcs, t - off)
            ex = [w for w, tc in exs if t - tc > bound] if exs else exs
            if fixed and not track and not ex and lst[0] is not None and kg <= ge:
                k = kg - lo           # the common case, inline: one aggregated requirement
                if k > 0:
                    cn = node[lst[0]]
                    if k > span:
                        k = span
                    prev = agg.get(cn)
                    if prev is None or prev[0] < k:
                        agg[cn] = (k, r, lst[0])
                continue
            for c in lst:
                guards = () if fixed else (("x", r, c),)
                if track:
                    guards = guards + (("st", r),)
                if c is None:
                    if kg > 0 or ex:
                        w = ctx.GW[0].index if kg > 0 else ex[0].index
                        items.append((-1, -1, ("stale_none", r, w, bound), guards))
                    continue
                if kg > g.ge:
                    items.append((-1, -1, ("stale_later", r, c, ctx.GW[g.ge].index, bound),
                                  guards))
                    continue
                late = [w for w in ex if ctx.gpos[w.index] >= g.ge]
                if late:
                    items.append((-1, -1, ("stale_later", r, c, late[0].index, bound), guards))
                    continue
                cn = g.node[c]
                for w in ex:
                    if w.index != c and w.index in g.node:
                        items.append((g.node[w.index], cn, ("stale", r, c, bound), guards))
                k = seq.local(kg)
                if k <= 0:
                    continue
                if fixed and not track:
                    if cn not in agg or agg[cn][0] < k:
                        agg[cn] = (k, r, c)
                else:
                    for m in seq.minus(k, cn):
                        items.append((m, cn, ("stale", r, c, bound), guards))
        for cn, (k, r, c) in agg.items():
            for m in seq.minus(k, cn):
                items.append((m, cn, ("stale", r, c, bound), ()))
        return items

    # --- bounds --------------------------------------------------------------------------
    def _forced_gap(self, r: int, c) -> int:
        """Staleness read r has whatever the order if it saw c (writes of later segments)."""
        ctx, g = self.ctx, self.g
        t = ctx.op[r].invoke_time
        k0 = ctx.count_T(t, 0)
        ex = ctx.extras(r)
        gap = 0
        if c is None:
            if k0 > 0:
                gap = t - ctx.gtcs[0]
            for w in ex:
                gap = max(gap, t - _tc(w))
            return gap
        if k0 > g.ge:
            gap = t - ctx.gtcs[g.ge]
        for w in ex:
            if ctx.gpos[w.index] >= g.ge:
                gap = max(gap, t - _tc(w))
        return gap

    def lower_bound(self) -> int:
        lb = 0
        for r in self.g.reads:
            lb = max(lb, min(self._forced_gap(r, c) for c in self.cands[r]))
        return lb

    def next_gap(self, mid: int) -> float:
        """The smallest gap (read invocation - write completion) that exceeds mid: the
        next bound at which the staleness requirements change."""
        gtcs = self.ctx.gtcs
        off = max(mid, self.ctx.delta)
        bl = bisect.bisect_left
        best = _INF
        for _r, t, _lst, _fixed, exs in self._read_info():
            k = bl(gtcs, t - off)
            if k > 0 and t - gtcs[k - 1] < best:
                best = t - gtcs[k - 1]
            for _w, tc in exs:
                d = t - tc
                if mid < d < best:
                    best = d
        return best

    def staleness(self, res: _Res) -> int:
        """The exact largest staleness of this group's reads under res."""
        ctx, g = self.ctx, self.g
        rank = {n: i for i, n in enumerate(res.order)}
        best = 0
        queries = []
        for r in g.reads:
            t = ctx.op[r].invoke_time
            s = res.saw[r]
            k0 = ctx.count_T(t, 0)
            ex = ctx.extras(r)
            if s is None:
                gap = t - ctx.gtcs[0] if k0 > 0 else 0
                for w in ex:
                    gap = max(gap, t - _tc(w))
                best = max(best, gap)
                continue
            rs = rank[g.node[s]]
            gap = t - ctx.gtcs[g.ge] if k0 > g.ge else 0
            for w in ex:
                p = ctx.gpos[w.index]
                if p >= g.ge or (p >= g.gs and rank[g.node[w.index]] > rs):
                    gap = max(gap, t - _tc(w))
            kl = min(k0, g.ge) - g.gs
            if kl > 0:
                queries.append((kl, rs, t, gap))
            else:
                best = max(best, gap)
        if queries:
            queries.sort()
            nr = len(res.order)
            tree = [_INF] * (nr + 1)       # Fenwick of min tc over reversed rank
            ins = 0
            for kl, rs, t, gap in queries:
                while ins < kl:
                    w = ctx.GW[g.gs + ins]
                    p = nr - rank[g.node[w.index]]
                    v = _tc(w)
                    while p <= nr:
                        if tree[p] > v:
                            tree[p] = v
                        p += p & -p
                    ins += 1
                p = nr - 1 - rs
                m = _INF
                while p > 0:
                    if tree[p] < m:
                        m = tree[p]
                    p -= p & -p
                if m != _INF:
                    gap = max(gap, t - m)
                best = max(best, gap)
        return int(best)

    # --- solving -------------------------------------------------------------------------
    def check(self, raw: bool, bound: int | None, deadline: float) -> _Res:
        if time.perf_counter() > deadline:
            raise _Timeout("time budget exhausted")
        if self.graph_ok:
            return self._graph_check(raw, bound)
        return self.engine().check(raw, bound, deadline)

    def engine(self):
        """The z3 engine for this mode: the full integer encoding for small segments, the
        lazy one (z3 over the choices, precedence graph as theory) for large ones."""
        if self._z3 is None:
            if z3 is None:
                raise _Unavailable("z3-solver is not installed")
            kind = ENGINE
            if kind == "auto":
                kind = "int" if self.g.n <= INT_NODE_LIMIT else "lazy"
            self._z3 = _Z3(self) if kind == "int" else _Lazy(self)
        return self._z3

    def base_assign(self, raw: bool, v=None, choose: dict | None = None) -> dict:
        a: dict = {("raw",): raw}
        for r in self.consistent:
            a[("raw", r)] = raw
        if self.conv:
            a[("conv", v)] = True
        chosen = dict(choose or {})
        for r in self.choice:
            if r not in chosen:
                if self.conv and r in self.ctx.final and v in self.cands[r]:
                    chosen[r] = v
                else:       # the freshest ok write (no info write takes effect needlessly)
                    lst = self.cands[r]
                    oks = [c for c in lst if c is not None and self.ctx.op[c].outcome == OK]
                    chosen[r] = max(oks, key=lambda c: (_tc(self.ctx.op[c]), c)) if oks \
                        else lst[0]
        for r, c in chosen.items():
            a[("x", r, c)] = True
            if c is not None and c in self.optional:
                a[("eff", c)] = True
        return a

    def saw_of(self, assign: dict) -> dict:
        saw = {}
        for r in self.g.reads:
            lst = self.cands[r]
            if len(lst) == 1:
                saw[r] = lst[0]
            else:
                saw[r] = next(c for c in lst if assign.get(("x", r, c)))
        return saw

    def effective(self, assign: dict) -> set[int]:
        ctx, g = self.ctx, self.g
        return {g.node[w] for w in g.wops if ctx.op[w].outcome == OK or w in self.forced
                or assign.get(("eff", w))}

    def active_items(self, raw: bool, bound: int | None, v, assign: dict,
                     stale: list | None = None) -> list:
        lists = [self.hard]
        if self.conv and v in self.conv_items:
            lists.append(self.conv_items[v])
        if raw:
            lists.append(self.raw_items)
        if bound is not None:
            lists.append(stale if stale is not None else self.stale_items(bound))
        out = []
        for lst in lists:
            for it in lst:
                gs = it[3]
                if not gs or all(assign.get(k, False) for k in gs):
                    out.append(it)
        return out

    def solve_graph(self, items: list, assign: dict, v) -> _Res:
        """Order the nodes under fixed choices; a cycle or a constant-false item fails."""
        self.stats["graph_checks"] += 1
        for it in items:
            if it[0] < 0:
                return _Res(False, assign, failures=[(v, "const", it)])
        g = self.g
        eff = self.effective(assign)
        order, alive = _toposort(g, items, eff)
        if order is None:
            return _Res(False, assign, failures=[(v, "cycle", items)], core=alive)
        return _Res(True, assign, saw=self.saw_of(assign), order=order, V=v)

    def _graph_check(self, raw: bool, bound: int | None) -> _Res:
        stale = self.stale_items(bound) if bound is not None else None
        fails = []
        for v in (self.Vs if self.conv else [None]):
            a = self.base_assign(raw, v)
            res = self.solve_graph(self.active_items(raw, bound, v, a, stale), a, v)
            if res.sat:
                return res
            fails.extend(res.failures)
        return _Res(False, failures=fails)


def _toposort(g: _Group, items: list, eff: set[int]) -> tuple[list[int] | None, list | None]:
    """Kahn's algorithm, lowest (earliest-completing) write first; aux nodes eagerly.
    Returns (effective write nodes in order, None), or (None, alive) on a cycle, alive
    marking the nodes left over (the cycles and what follows them)."""
    n = g.n
    adj: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for u, v in zip(g.aux_u, g.aux_v):
        adj[u].append(v)
        indeg[v] += 1
    for it in items:
        adj[it[0]].append(it[1])
        indeg[it[1]] += 1
    ctx = g.ctx
    keys = []
    for i in range(g.nw):
        o = ctx.op[g.wops[i]]
        keys.append((_tc(o) if o.outcome == OK else o.invoke_time, o.index))
    heap = []
    aux_ready = []
    for i in range(n):
        if indeg[i] == 0:
            if i < g.nw:
                heap.append((keys[i], i))
            else:
                aux_ready.append(i)
    heapq.heapify(heap)
    out = []
    seen = 0
    while heap or aux_ready:
        if aux_ready:
            x = aux_ready.pop()
        else:
            x = heapq.heappop(heap)[1]
            if x in eff:
                out.append(x)
        seen += 1
        for y in adj[x]:
            indeg[y] -= 1
            if indeg[y] == 0:
                if y < g.nw:
                    heapq.heappush(heap, (keys[y], y))
                else:
                    aux_ready.append(y)
    if seen < n:
        return None, [d > 0 for d in indeg]
    return out, None


def _conflicts(g: _Group, items: list, alive: list, limit: int = 24) -> list[frozenset]:
    """Guard sets of a few short cycles in the left-over part of a failed toposort: each
    is a combination of guards that cannot all hold (a clause to learn)."""
    n = g.n
    eu: list[int] = []
    ev: list[int] = []
    eg: list = []
    for u, v in zip(g.aux_u, g.aux_v):
        if alive[u] and alive[v]:
            eu.append(u)
            ev.append(v)
            eg.append(())
    for it in items:
        if alive[it[0]] and alive[it[1]]:
            eu.append(it[0])
            ev.append(it[1])
            eg.append(it[3])
    # what is left after Kahn also holds everything downstream of the cycles: peel off
    # nodes without a surviving successor so only cycles and paths between them remain
    outdeg = [0] * n
    rin: list[list[int]] = [[] for _ in range(n)]
    for e, u in enumerate(eu):
        outdeg[u] += 1
        rin[ev[e]].append(e)
    keep = list(alive)
    stack = [x for x in range(n) if keep[x] and outdeg[x] == 0]
    while stack:
        x = stack.pop()
        keep[x] = False
        for e in rin[x]:
            u = eu[e]
            outdeg[u] -= 1
            if outdeg[u] == 0 and keep[u]:
                stack.append(u)
    adj: list[list[int]] = [[] for _ in range(n)]
    for e, u in enumerate(eu):
        if keep[u] and keep[ev[e]]:
            adj[u].append(e)
    comp = _scc(n, [x for x in range(n) if keep[x]], adj, ev)
    by_comp: dict[int, list[int]] = defaultdict(list)
    for e in range(len(eu)):
        if eg[e] and keep[eu[e]] and comp[eu[e]] >= 0 and comp[eu[e]] == comp[ev[e]]:
            by_comp[comp[eu[e]]].append(e)
    out: list[frozenset] = []
    seen: set = set()
    comps = sorted(by_comp, key=lambda c: len(by_comp[c]))
    per = max(1, limit // max(1, len(comps)))
    for c in comps:
        cand = by_comp[c]
        step = max(1, len(cand) // per)
        for e in cand[::step][:per]:
            u, v = eu[e], ev[e]
            prev = {v: -1}
            dq = deque([v])
            while dq and u not in prev:
                x = dq.popleft()
                for f in adj[x]:
                    y = ev[f]
                    if y not in prev and comp[y] == c:
                        prev[y] = f
                        dq.append(y)
            if u not in prev and u != v:
                continue
            gs = set(eg[e])
            x = u
            while x != v:
                f = prev[x]
                gs.update(eg[f])
                x = eu[f]
            fs = frozenset(gs)
            if fs not in seen:
                seen.add(fs)
                out.append(fs)
    if not out:         # a cycle with no guard at all (cannot happen once hard is acyclic)
        out.append(frozenset())
    return out


def _scc(n: int, nodes: list[int], adj: list[list[int]], ev: list[int]) -> list[int]:
    """Tarjan's strongly connected components, iteratively: node -> component (-1 if the
    node was not given)."""
    index = [-1] * n
    low = [0] * n
    comp = [-1] * n
    on = [False] * n
    stack: list[int] = []
    counter = 0
    ncomp = 0
    for root in nodes:
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = True
        while work:
            x, i = work[-1]
            edges = adj[x]
            if i < len(edges):
                work[-1] = (x, i + 1)
                y = ev[edges[i]]
                if index[y] < 0:
                    index[y] = low[y] = counter
                    counter += 1
                    stack.append(y)
                    on[y] = True
                    work.append((y, 0))
                elif on[y] and index[y] < low[x]:
                    low[x] = index[y]
                continue
            work.pop()
            if work:
                p = work[-1][0]
                if low[x] < low[p]:
                    low[p] = low[x]
            if low[x] == index[x]:
                while True:
                    y = stack.pop()
                    on[y] = False
                    comp[y] = ncomp
                    if y == x:
                        break
                ncomp += 1
    return comp


def find_cycle(g: _Group, items: list, lead_kinds: tuple) -> list[tuple]:
    """A short cycle in the graph of aux edges + items, as [(u, v, tag)] edges, preferring
    one through an item whose tag kind is in lead_kinds."""
    n = g.n
    edges = [(u, v, None) for u, v in zip(g.aux_u, g.aux_v)] + \
            [(it[0], it[1], it[2]) for it in items]
    adj: list[list[int]] = [[] for _ in range(n)]
    indeg = [0] * n
    for e, (u, v, _t) in enumerate(edges):
        adj[u].append(e)
        indeg[v] += 1
    stack = [i for i in range(n) if indeg[i] == 0]
    while stack:
        x = stack.pop()
        for e in adj[x]:
            y = edges[e][1]
            indeg[y] -= 1
            if indeg[y] == 0:
                stack.append(y)
    alive = [d > 0 for d in indeg]
    if not any(alive):
        return []
    cand = [e for e, (u, v, t) in enumerate(edges)
            if alive[u] and alive[v] and t is not None and t[0] in lead_kinds]
    if not cand:
        cand = [e for e, (u, v, t) in enumerate(edges) if alive[u] and alive[v]]
    best = None
    for e in cand[:50]:
        u, v, _t = edges[e]
        # BFS from v back to u inside the cyclic part
        prev = {v: None}
        dq = deque([v])
        found = False
        while dq and not found:
            x = dq.popleft()
            for f in adj[x]:
                y = edges[f][1]
                if alive[y] and y not in prev:
                    prev[y] = f
                    if y == u:
                        found = True
                        break
                    dq.append(y)
        if u == v:
            found = True
        if not found:
            continue
        path = []
        x = u
        while x != v:
            f = prev[x]
            path.append(f)
            x = edges[f][0]
        path.reverse()
        cyc = [e] + path
        nw_count = sum(1 for f in cyc if edges[f][1] < g.nw)
        if best is None or nw_count < best[0]:
            best = (nw_count, cyc)
            if nw_count <= 2:
                break
    if best is None:
        return []
    return [edges[f] for f in best[1]]


# --------------------------------------------------------------------------------------
# z3
# --------------------------------------------------------------------------------------

class _Literals:
    """The Boolean literals of an engine, by key (``("x", read, candidate)``,
    ``("conv", v)``, ...), and the way back from a literal's name to its key (cores).

    Every engine works in a z3 context of its own (``ctx``). In z3's shared main context
    the terms of earlier keys and runs stay interned, and the solver's choices among equally
    good orders followed them: checking one file twice in one process gave different
    per-read staleness figures. A fresh context makes the answer a function of the key."""

    L: dict
    names: dict
    ctx: Any

    def lit(self, key: tuple):
        b = self.L.get(key)
        if b is None:
            name = "L" + "_".join(str(k) for k in key)
            b = self.L[key] = z3.Bool(name, self.ctx)
            self.names[name] = key
        return b

    def encode_choices(self, m: Any, add: Any) -> None:
        """The Boolean skeleton both engines share: each read saw one of its candidates;
        an unknown-outcome write a read saw took effect; under the convergence
        assumption, some target V holds, every final read saw V, and V took effect."""
        for r in m.choice:
            add(z3.Or([self.lit(("x", r, c)) for c in m.cands[r]]))
            for c in m.cands[r]:
                if c is not None and c in m.optional:
                    add(z3.Implies(self.lit(("x", r, c)), self.lit(("eff", c))))
        if not m.conv:
            return
        add(z3.Implies(self.lit(("conv",)), z3.Or([self.lit(("conv", v)) for v in m.Vs])
                       if m.Vs else z3.BoolVal(False, self.ctx)))
        for v in m.Vs:
            cv = self.lit(("conv", v))
            for r in self.g.reads:
                if r in m.ctx.final:
                    lst = m.cands[r]
                    if v not in lst:
                        add(z3.Not(cv))
                    elif len(lst) > 1:
                        add(z3.Implies(cv, self.lit(("x", r, v))))
            if v is not None and v in m.optional:
                add(z3.Implies(cv, self.lit(("eff", v))))


class _Z3(_Literals):
    """The guarded difference-logic encoding of one mode, kept across questions."""

    def __init__(self, mode: _Mode) -> None:
        if z3 is None:  # pragma: no cover
            raise RuntimeError("z3-solver is not installed")
        self.m = mode
        self.g = mode.g
        self.ctx = z3.Context()     # a fresh context per engine: see _Literals
        self.s = z3.SolverFor("QF_IDL", ctx=self.ctx)
        self.P: list = []
        self.L: dict = {}
        self.names: dict = {}
        self.flushed = 0
        self.nconstraints = 0
        self.flush()
        for it in mode.hard:
            self.add(it)
        self.encode_choices(mode, self._assert)
        for v in (mode.Vs if mode.conv else ()):
            for it in mode.conv_items[v]:
                self.add(it)
        for it in mode.raw_items:
            self.add(it)
        self.flush()

    def var(self, n: int):
        while len(self.P) <= n:
            self.P.append(z3.Int(f"p{len(self.P)}", self.ctx))
        return self.P[n]

    def expr(self, it: tuple):
        u, v, _tag, guards = it
        if u < 0:
            c = z3.BoolVal(False, self.ctx)
        elif v < self.g.nw:
            c = self.var(u) < self.var(v)
        else:
            c = self.var(u) <= self.var(v)
        if not guards:
            return c
        gl = [self.lit(k) for k in guards]
        return z3.Implies(gl[0] if len(gl) == 1 else z3.And(gl), c)

    def add(self, it: tuple) -> None:
        self._assert(self.expr(it))

    def _assert(self, e) -> None:
        self.s.add(e)
        self.nconstraints += 1

    def flush(self) -> None:
        g = self.g
        for k in range(self.flushed, len(g.aux_u)):
            self.s.add(self.var(g.aux_u[k]) <= self.var(g.aux_v[k]))
            self.nconstraints += 1
        self.flushed = len(g.aux_u)

    def assumptions(self, raw: bool, extra: list | None = None) -> list:
        a = []
        if self.m.conv:
            a.append(self.lit(("conv",)))
        if raw:
            if any(it[3] and ("raw",) in it[3] for it in self.m.raw_items):
                a.append(self.lit(("raw",)))
            a.extend(self.lit(("raw", r)) for r in self.m.consistent
                     if ("raw", r) in self.L)
        return a + (extra or [])

    def run(self, assumptions: list, deadline: float):
        left = deadline - time.perf_counter()
        if left <= 0:
            raise _Timeout("time budget exhausted")
        self.s.set("timeout", max(1, int(left * 1000)))
        self.m.stats["z3_checks"] += 1
        r = self.s.check(*assumptions)
        if r == z3.unknown:
            raise _Timeout(f"z3: {self.s.reason_unknown()}")
        return r

    def check(self, raw: bool, bound: int | None, deadline: float, track: bool = False) -> _Res:
        m = self.m
        stale = m.stale_items(bound, track=track) if bound is not None else None
        self.flush()
        extra = []
        if stale is not None:
            self.s.push()
            for it in stale:
                self.add(it)
            if track:
                extra = [self.lit(("st", r)) for r in m.g.reads if ("st", r) in self.L]
        try:
            r = self.run(self.assumptions(raw, extra), deadline)
            if r == z3.unsat:
                core = [self.names.get(str(c), str(c)) for c in self.s.unsat_core()]
                return _Res(False, core=core)
            choose, v = _choices_from_model(m, self.lit, self.s.model())
        finally:
            if stale is not None:
                self.s.pop()
        a = m.base_assign(raw, v, choose)
        res = m.solve_graph(m.active_items(raw, bound, v, a, stale), a, v)
        if not res.sat:  # pragma: no cover - the model satisfies every item it was given
            raise RuntimeError("z3 model rejected by the precedence graph")
        return res


def _choices_from_model(m: Any, lit: Any, model: Any) -> tuple[dict, Any]:
    """What a z3 model chose: the convergence target (or None), and each read's version.

    The encoding only says a read saw *at least one* of its candidates, so a model may
    make several true; every constraint guarded by any of them holds, so any true one is
    sound, except for a final read under a convergence target: it must be that target
    (otherwise the target would not take effect and the final reads would not agree)."""
    def true(key: tuple) -> bool:
        return z3.is_true(model.eval(lit(key), model_completion=True))

    v = None
    if m.conv:
        v = next((cand for cand in m.Vs if true(("conv", cand))), None)
    final = m.ctx.final
    choose = {}
    for rd in m.choice:
        if v is not None and rd in final and v in m.cands[rd] and true(("x", rd, v)):
            choose[rd] = v
            continue
        for c in m.cands[rd]:
            if true(("x", rd, c)):
                choose[rd] = c
                break
    return choose, v


class _Lazy(_Literals):
    """z3 decides only the Booleans (choices, info effects, convergence target); the
    precedence graph is the theory: each proposal is topologically sorted and every cycle
    found becomes a learned clause "not all of these guards".  Clauses learned under a
    staleness bound b carry the literal B_b, assumed true for every probe at or below b
    (a smaller bound only adds requirements), so they are kept across the binary search.
    A proposal that passes the sort is a model of the full integer encoding."""

    def __init__(self, mode: _Mode) -> None:
        if z3 is None:  # pragma: no cover
            raise RuntimeError("z3-solver is not installed")
        self.m = mode
        self.g = mode.g
        self.ctx = z3.Context()     # a fresh context per engine: see _Literals
        self.s = z3.Solver(ctx=self.ctx)
        self.L: dict = {}
        self.names: dict = {}
        self.P: list = []           # no integer variables: positions live in the graph
        self.nconstraints = 0
        self.learned = 0
        self.rounds = 0
        self.bounds: set = set()
        self.hint: tuple | None = None
        m = mode
        self.encode_choices(m, self._add)
        for lst in [m.hard, m.raw_items] + list(m.conv_items.values()):
            self._consts(lst)

    def _add(self, e) -> None:
        self.s.add(e)
        self.nconstraints += 1

    def _clause(self, guards) -> None:
        self._add(z3.Or([z3.Not(self.lit(k)) for k in guards]) if guards
                  else z3.BoolVal(False, self.ctx))

    def _consts(self, items: list) -> None:
        for it in items:
            if it[0] < 0:
                self._clause(it[3])

    def assumptions(self, raw: bool, bound, track: bool) -> list:
        m = self.m
        a = []
        if m.conv:
            a.append(self.lit(("conv",)))
        for k in [("raw",)] + [("raw", r) for r in m.consistent]:
            if k in self.L:
                a.append(self.lit(k) if raw else z3.Not(self.lit(k)))
        for b in self.bounds:
            on = bound is not None and b >= bound
            a.append(self.lit(("B", b)) if on else z3.Not(self.lit(("B", b))))
        if track:
            a.extend(self.lit(("st", r)) for r in m.g.reads if ("st", r) in self.L)
        return a

    def _assign_from_model(self, model, raw: bool) -> tuple[dict, Any]:
        choose, v = _choices_from_model(self.m, self.lit, model)
        return self.m.base_assign(raw, v, choose), v

    def check(self, raw: bool, bound: int | None, deadline: float, track: bool = False) -> _Res:
        m = self.m
        stale = None
        if bound is not None:
            stale = m.stale_items(bound, track=track)
            bk = ("B", bound)
            stale = [(u, v, tag, gs + (bk,)) for u, v, tag, gs in stale]
            if bound not in self.bounds:
                self.bounds.add(bound)
                self.lit(bk)
            self._consts(stale)
        extra = {("B", bound): True} if bound is not None else {}
        if track:
            extra.update({("st", r): True for r in m.g.reads})
        # first try the last solution's choices (or the default ones) without asking z3
        if self.hint is not None:
            v0, choose0 = self.hint
        else:
            v0, choose0 = (m.Vs[0] if m.conv and m.Vs else None), {}
        assign, v = m.base_assign(raw, v0, choose0), v0
        first = True
        while True:
            if not first:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise _Timeout("time budget exhausted")
                self.s.set("timeout", max(1, int(left * 1000)))
                m.stats["z3_checks"] += 1
                r = self.s.check(*self.assumptions(raw, bound, track))
                if r == z3.unknown:
                    raise _Timeout(f"z3: {self.s.reason_unknown()}")
                if r == z3.unsat:
                    core = [self.names.get(str(c).replace("Not(", "").rstrip(")"), str(c))
                            for c in self.s.unsat_core()]
                    return _Res(False, core=core)
                assign, v = self._assign_from_model(self.s.model(), raw)
            first = False
            if time.perf_counter() > deadline:
                raise _Timeout("time budget exhausted")
            assign.update(extra)
            self.rounds += 1
            items = m.active_items(raw, bound, v, assign, stale)
            consts = [it for it in items if it[0] < 0]
            if consts:          # only reachable from the hint: learn and ask z3
                for it in consts:
                    self._clause(it[3])
                continue
            res = m.solve_graph(items, assign, v)
            if res.sat:
                self.hint = (v, {r: res.saw[r] for r in m.choice})
                return res
            for gs in _conflicts(self.g, items, res.core):
                keys = [k for k in gs if k != ("conv",)]
                self._clause(keys)
                self.learned += 1


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------

def _tally_checks(m: Any, stats: dict[str, Any]) -> None:
    """Add one mode's solver-call counts to the key's stats (decided or not)."""
    stats["z3_checks"] += m.stats["z3_checks"]
    stats["graph_checks"] += m.stats["graph_checks"]
    if m._z3 is not None:
        stats["path"] = "z3"
