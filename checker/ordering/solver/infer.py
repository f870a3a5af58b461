"""Choosing a key's conflict order without timestamps: the solver run, worded.

:func:`infer_order` builds the key's context (:mod:`.context`), splits it into segments
(:mod:`.segments`), asks each segment's requirements (:mod:`.requirements`) the questions
of rule 5 in order, and asks :mod:`.explain` to put each contradiction into words. It sits
above them all so that none imports it back.
"""

from __future__ import annotations

import time
from typing import Any

from gtcheck.checker.operations import Header, Operation
from gtcheck.checker.ordering.key_order import DECIDED, UNKNOWN, KeyOrder
from gtcheck.checker.ordering.solver import explain as ex
from gtcheck.checker.ordering.solver.context import SolverContext, SolverTimeout, SolverUnavailable
from gtcheck.checker.ordering.solver.engines import LazyEngine
from gtcheck.checker.ordering.solver.requirements import Problem, problem_of
from gtcheck.checker.ordering.solver.segments import Answer, Segment, make_segments


def infer_order(header: Header, ops: list[Operation], candidates: dict[int, list[int | None]],
                *, timeout_s: float = 10.0, staleness_bound_ns: int | None = None) -> KeyOrder:
    """Choose a conflict order for one key's writes and what each read saw (rule 5).

    ``ops``: every operation of the key; ``candidates``: for each read that passed
    integrity, the writes it may have seen (``None`` = initial state).  Returns a
    ``KeyOrder`` with ``status`` ``unknown`` (and no order) if ``timeout_s`` runs out.
    """
    t0 = time.perf_counter()
    deadline = t0 + timeout_s
    key = ops[0].key if ops else ""
    stats: dict[str, Any] = {"variables": 0, "constraints": 0, "segments": 0,
                             "solve_seconds": 0.0, "build_seconds": 0.0,
                             "explain_seconds": 0.0, "z3_checks": 0, "graph_checks": 0,
                             "path": "graph"}
    timing = {"build": 0.0, "solve": 0.0, "explain": 0.0}
    contradictions: list[dict] = []

    def finish(status: str, rank=None, saw=None, reason=None) -> KeyOrder:
        stats["build_seconds"] = round(timing["build"], 6)
        stats["solve_seconds"] = round(timing["solve"], 6)
        stats["explain_seconds"] = round(timing["explain"], 6)
        stats["seconds"] = round(time.perf_counter() - t0, 6)
        return KeyOrder(key=key, status=status, rank=rank or {}, saw=saw or {},
                        reason=reason, contradictions=contradictions, stats=stats,
                        inversions=inversions[0])

    inversions: list = [None]       # rule 10, once the key's context is built

    groups: list[Segment] = []
    try:
        tb = time.perf_counter()
        ctx = SolverContext(header, ops, candidates)
        inversions[0] = ctx.inv.anomalies
        groups, ungrouped = make_segments(ctx)
        stats["segments"] = len(groups)
        stats["skipped_reads"] = ctx.skipped
        final_group = groups[-1] if groups and groups[-1].has_final() else None
        timing["build"] += time.perf_counter() - tb

        def timed_check(m: Problem, raw: bool, bound):
            tb0 = time.perf_counter()
            try:
                return m.check(raw, bound, deadline)
            finally:
                timing["solve"] += time.perf_counter() - tb0

        def explain(fn, *args):
            te = time.perf_counter()
            try:
                out = fn(*args)
                if out:
                    contradictions.append(out)
            finally:
                timing["explain"] += time.perf_counter() - te

        # (a) convergence
        conv_ok = False
        if ctx.final:
            if not ctx.Vs:
                conv_ok = False
                explain(ex.convergence_constant, ctx)
            elif final_group is None:
                conv_ok = True
            else:
                tb0 = time.perf_counter()
                m = problem_of(final_group, True)
                timing["build"] += time.perf_counter() - tb0
                res = timed_check(m, False, None)
                conv_ok = res.sat
                if not res.sat:
                    explain(ex.explain_unsat, m, "convergence", False, None, res, deadline)
        stats["convergence_possible"] = conv_ok if ctx.final else None

        def mode_of(g: Segment) -> Problem:
            tb0 = time.perf_counter()
            try:
                return problem_of(g, conv_ok and g is final_group)
            finally:
                timing["build"] += time.perf_counter() - tb0

        # (b) read-after-write
        raw_ok = True
        base_sol: dict[int, Answer] = {}
        if any(ctx.op[r].consistent for r in ctx.reads):
            for g in groups:
                m = mode_of(g)
                if not m.consistent:
                    continue
                res = timed_check(m, True, None)
                if not res.sat:
                    raw_ok = False
                    explain(ex.explain_unsat, m, "read_after_write", True, None, res, deadline)
                else:
                    base_sol[g.gi] = res
            for r in ungrouped:
                if ctx.op[r].consistent:
                    w = ex.raw_witness_initial(ctx, r)
                    if w is not None:
                        raw_ok = False
                        explain(ex.raw_initial, ctx, r, w)
        stats["read_after_write_possible"] = raw_ok

        # (c) staleness
        best_total = 0
        for r in ungrouped:
            best_total = max(best_total, ex.initial_staleness(ctx, r))
        sols: dict[int, Answer] = {}
        per_group: dict[int, int] = {}
        probes = 0
        for g in groups:
            m = mode_of(g)
            res = base_sol.get(g.gi) if raw_ok else None
            if res is None:
                res = timed_check(m, raw_ok, None)
            if not res.sat:   # pragma: no cover - (a)/(b) guarantee a solution
                raise RuntimeError("no admissible order for a segment")
            hi = m.staleness(res)
            lo = m.lower_bound()
            best = res
            while lo < hi:
                mid = (lo + hi) // 2
                probes += 1
                r2 = timed_check(m, raw_ok, mid)
                if r2.sat:
                    best = r2
                    hi = min(hi, m.staleness(r2))
                else:
                    lo = m.next_gap(mid)
            best.stale = hi
            sols[g.gi] = best
            per_group[g.gi] = hi
            best_total = max(best_total, hi)
        stats["probes"] = probes
        for g in groups:
            if g.order_conflict:
                explain(ex.order_conflict, next(iter(g._modes.values())), g.order_conflict)
        stats["max_staleness_ns"] = int(best_total)

        if staleness_bound_ns is not None and best_total > staleness_bound_ns:
            for r in ungrouped:
                if ex.initial_staleness(ctx, r) > staleness_bound_ns:
                    explain(ex.stale_initial, ctx, r, staleness_bound_ns)
                    break
            for g in groups:
                if per_group[g.gi] > staleness_bound_ns:
                    m = mode_of(g)
                    explain(ex.explain_bound, m, raw_ok, staleness_bound_ns, deadline)
            stats["staleness_bound_ns"] = staleness_bound_ns

        # assemble
        rank: dict[int, int] = {}
        saw: dict[int, int | None] = {}
        for g in groups:
            res = sols[g.gi]
            for n in res.order:
                rank[g.wops[n]] = len(rank)
            saw.update(res.saw)
        for r in ungrouped:
            saw[r] = None
        for g in groups:
            for m in g._modes.values():
                tally_checks(m, stats)
                if m._z3 is not None:
                    lazy = isinstance(m._z3, LazyEngine)
                    stats["engine"] = "lazy" if lazy else "int"
                    stats["variables"] += len(m._z3.P) + len(m._z3.L) + (g.n if lazy else 0)
                    stats["constraints"] += m._z3.nconstraints
                    if lazy:
                        stats["learned_clauses"] = stats.get("learned_clauses", 0) + \
                            m._z3.learned
                        stats["lazy_rounds"] = stats.get("lazy_rounds", 0) + m._z3.rounds
                else:
                    stats["variables"] += g.n
                    stats["constraints"] += len(g.aux_u) + len(m.hard) + len(m.raw_items) + \
                        sum(len(v) for v in m.conv_items.values())
        return finish(DECIDED, rank, saw)
    except SolverTimeout as e:
        for g in groups:
            for m in g._modes.values():
                tally_checks(m, stats)
        contradictions.clear()
        if isinstance(e, SolverUnavailable):
            return finish(UNKNOWN, reason="ordering this key needs z3 (pip install z3-solver); "
                          "the key's properties cannot be decided")
        return finish(UNKNOWN, reason=f"ordering solver gave up after {timeout_s:g} s "
                      f"({e}); the key's properties cannot be decided")


def tally_checks(m: Any, stats: dict[str, Any]) -> None:
    """Add one mode's solver-call counts to the key's stats (decided or not)."""
    stats["z3_checks"] += m.stats["z3_checks"]
    stats["graph_checks"] += m.stats["graph_checks"]
    if m._z3 is not None:
        stats["path"] = "z3"
