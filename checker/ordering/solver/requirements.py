"""A segment's requirements and the questions asked of them (:class:`Problem`).

Every requirement is an *item* ``(u, v, tag, guards)``: node u below node v, holding when
all its guard literals hold (the read's choice ``x``, an info write taking effect ``eff``,
the convergence target ``conv``, the per-property assumptions ``raw`` and ``st``). The
items are the hard rule-2 precedences, the convergence target's, read-after-write's and,
for a staleness bound ``B``, staleness's. :meth:`Problem.check` answers with the graph path
(no choice left: a topological sort, :mod:`.graphs`) or an engine (:mod:`.engines`); the
staleness search (``lower_bound``, ``next_gap``, ``staleness``) minimises the largest
staleness by binary search over the bounds that matter.
"""

from __future__ import annotations

import bisect
import time

from gtcheck.checker.operations import OK
from gtcheck.checker.ordering.solver import engines
from gtcheck.checker.ordering.solver.context import (ALL_REGIONS, INF, SolverTimeout,
                                                    SolverUnavailable, completion_time, ipos)
from gtcheck.checker.ordering.solver.graphs import find_cycle, toposort
from gtcheck.checker.ordering.solver.segments import Answer, Segment


class Problem:
    """A group under one convergence mode (final reads unpruned when convergence is sought)."""

    def __init__(self, grp: Segment, conv: bool) -> None:
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
            order, _alive = toposort(grp, base, set())
            if order is None:       # recorded ts contradict real time: report, then relax
                grp.order_conflict = find_cycle(grp, base, ("ts",))
                grp.relaxed = True
        if grp.relaxed:
            self.hard = self._hard_items()
        self.conv_items = {v: self._conv_items(v) for v in self.Vs}
        self.raw_items = self._raw_items()
        self._z3: engines.Literals | None = None
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
        rules = [(ALL_REGIONS, "cb", "strong")] if ctx.strong else [(None, "cb", "region")]
        if ctx.eps is not None and not ctx.strong:
            rules.append((ALL_REGIONS, "eps", "eps"))
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
                k = seq.local(ctx.count(seq.gs, rule, o.invoke_time, ipos(o)))
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
        seq = g.lseq("all", ALL_REGIONS)
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
            kg = ctx.count(seq.gs, "cb", ro.invoke_time, ipos(ro))
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
                            [(w, completion_time(w)) for w in ctx.extras(r)]) for r in self.g.reads]
        return self._rinfo

    def stale_items(self, bound: int, track: bool = False) -> list:
        ctx, g = self.ctx, self.g
        seq = g.lseq("all", ALL_REGIONS)
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
                gap = max(gap, t - completion_time(w))
            return gap
        if k0 > g.ge:
            gap = t - ctx.gtcs[g.ge]
        for w in ex:
            if ctx.gpos[w.index] >= g.ge:
                gap = max(gap, t - completion_time(w))
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
        best = INF
        for _r, t, _lst, _fixed, exs in self._read_info():
            k = bl(gtcs, t - off)
            if k > 0 and t - gtcs[k - 1] < best:
                best = t - gtcs[k - 1]
            for _w, tc in exs:
                d = t - tc
                if mid < d < best:
                    best = d
        return best

    def staleness(self, res: Answer) -> int:
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
                    gap = max(gap, t - completion_time(w))
                best = max(best, gap)
                continue
            rs = rank[g.node[s]]
            gap = t - ctx.gtcs[g.ge] if k0 > g.ge else 0
            for w in ex:
                p = ctx.gpos[w.index]
                if p >= g.ge or (p >= g.gs and rank[g.node[w.index]] > rs):
                    gap = max(gap, t - completion_time(w))
            kl = min(k0, g.ge) - g.gs
            if kl > 0:
                queries.append((kl, rs, t, gap))
            else:
                best = max(best, gap)
        if queries:
            queries.sort()
            nr = len(res.order)
            tree = [INF] * (nr + 1)       # Fenwick of min tc over reversed rank
            ins = 0
            for kl, rs, t, gap in queries:
                while ins < kl:
                    w = ctx.GW[g.gs + ins]
                    p = nr - rank[g.node[w.index]]
                    v = completion_time(w)
                    while p <= nr:
                        if tree[p] > v:
                            tree[p] = v
                        p += p & -p
                    ins += 1
                p = nr - 1 - rs
                m = INF
                while p > 0:
                    if tree[p] < m:
                        m = tree[p]
                    p -= p & -p
                if m != INF:
                    gap = max(gap, t - m)
                best = max(best, gap)
        return int(best)

    # --- solving -------------------------------------------------------------------------
    def check(self, raw: bool, bound: int | None, deadline: float) -> Answer:
        if time.perf_counter() > deadline:
            raise SolverTimeout("time budget exhausted")
        if self.graph_ok:
            return self._graph_check(raw, bound)
        return self.engine().check(raw, bound, deadline)

    def engine(self):
        """The z3 engine for this mode: the full integer encoding for small segments, the
        lazy one (z3 over the choices, precedence graph as theory) for large ones."""
        if self._z3 is None:
            if engines.z3 is None:
                raise SolverUnavailable("z3-solver is not installed")
            kind = engines.ENGINE
            if kind == "auto":
                kind = "int" if self.g.n <= engines.INT_NODE_LIMIT else "lazy"
            self._z3 = engines.IntEngine(self) if kind == "int" else engines.LazyEngine(self)
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
                    chosen[r] = max(oks, key=lambda c: (completion_time(self.ctx.op[c]), c)) if oks \
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

    def solve_graph(self, items: list, assign: dict, v) -> Answer:
        """Order the nodes under fixed choices; a cycle or a constant-false item fails."""
        self.stats["graph_checks"] += 1
        for it in items:
            if it[0] < 0:
                return Answer(False, assign, failures=[(v, "const", it)])
        g = self.g
        eff = self.effective(assign)
        order, alive = toposort(g, items, eff)
        if order is None:
            return Answer(False, assign, failures=[(v, "cycle", items)], core=alive)
        return Answer(True, assign, saw=self.saw_of(assign), order=order, V=v)

    def _graph_check(self, raw: bool, bound: int | None) -> Answer:
        stale = self.stale_items(bound) if bound is not None else None
        fails = []
        for v in (self.Vs if self.conv else [None]):
            a = self.base_assign(raw, v)
            res = self.solve_graph(self.active_items(raw, bound, v, a, stale), a, v)
            if res.sat:
                return res
            fails.extend(res.failures)
        return Answer(False, failures=fails)


def problem_of(seg: Segment, conv: bool) -> Problem:
    """The segment's problem under one convergence mode, built once and kept on it."""
    m = seg._modes.get(conv)
    if m is None:
        m = seg._modes[conv] = Problem(seg, conv)
    return m
