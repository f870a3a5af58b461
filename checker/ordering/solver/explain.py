"""Words for the ordering solver's contradictions.

A contradiction is a handful of operations that no admissible order can satisfy together,
found as a cycle of precedences ("#7 must rank below #3 because ...; yet #3 must precede #7
because ...") or as a requirement that holds in no order at all.  Each becomes
``{"property", "ops", "explanation"}`` with the explanation citing ``#index``, region and
time in seconds.
"""

from __future__ import annotations

import itertools
from typing import Any

from gtcheck.checker.operations import OK
from gtcheck.checker.ordering.solver.context import (MAX_COMBOS, SolverContext, SolverTimeout,
                                                    completion_time, ipos)
from gtcheck.checker.ordering.solver.graphs import find_cycle
from gtcheck.checker.ordering.solver.requirements import Problem
from gtcheck.checker.ordering.solver.segments import Answer
from gtcheck.kernel.units import format_duration

_LEAD = {"convergence": ("conv",), "read_after_write": ("raw",),
         "staleness": ("stale",), "order": ("ts", "rt")}


def _version(c) -> str:
    return "the initial state (null)" if c is None else f"the version of #{c}"


def _read_head(ctx: SolverContext, r: int) -> str:
    ro = ctx.op[r]
    s = f"Read #{r} in {ro.region} at {format_duration(ro.invoke_time, exact=True)}"
    return s + (" (strongly consistent)" if ro.consistent else "")


def _done(ctx: SolverContext, w: int) -> str:
    o = ctx.op[w]
    return f"#{w} had completed in {o.region} at {format_duration(completion_time(o), exact=True)}"


def link_text(ctx: SolverContext, a: int, b: int, tag: tuple) -> str:
    """Why write a must rank below write b, in words."""
    oa, ob = ctx.op[a], ctx.op[b]
    kind = tag[0]
    if kind == "rt":
        sub = tag[1]
        if sub == "region":
            return (f"#{a} completed in {oa.region} at {format_duration(completion_time(oa), exact=True)} before #{b} was "
                    f"invoked there at {format_duration(ob.invoke_time, exact=True)}")
        if sub == "proc":
            return (f"process {ob.process} invoked #{b} at {format_duration(ob.invoke_time, exact=True)} after "
                    f"#{a} had completed")
        if sub == "eps":
            gap = 2 * (ctx.eps or 0) + ctx.delta
            return (f"#{a} completed in {oa.region} at {format_duration(completion_time(oa), exact=True)}, more than "
                    f"2ε+δ = {format_duration(gap, exact=True)} before #{b} was invoked in {ob.region} at "
                    f"{format_duration(ob.invoke_time, exact=True)}")
        return (f"#{a} completed in {oa.region} at {format_duration(completion_time(oa), exact=True)} before #{b} was "
                f"invoked in {ob.region} at {format_duration(ob.invoke_time, exact=True)}, and strong mode "
                f"orders all regions by real time")
    if kind == "ts":
        return f"#{a} carries a smaller timestamp than #{b} ({oa.ts} < {ob.ts})"
    if kind == "raw":
        r = tag[1]
        ro = ctx.op[r]
        return (f"strongly consistent read #{r} in {ro.region} at {format_duration(ro.invoke_time, exact=True)} "
                f"returned the version of #{b} after {_done(ctx, a)}")
    if kind == "stale":
        r, bound = tag[1], tag[3]
        ro = ctx.op[r]
        return (f"read #{r} in {ro.region} at {format_duration(ro.invoke_time, exact=True)} returned the version "
                f"of #{b} although {_done(ctx, a)}, more than {format_duration(bound, exact=True)} earlier")
    if kind == "conv":
        return f"the final reads returned the version of #{b}, which must therefore outrank #{a}"
    return f"#{a} must rank below #{b}"


def _lead_text(ctx: SolverContext, a: int, b: int, tag: tuple) -> str:
    kind = tag[0]
    if kind == "raw":
        return (f"{_read_head(ctx, tag[1])} returned the version of #{b}, but {_done(ctx, a)}, "
                f"before it began, so #{a} must rank below #{b}")
    if kind == "stale":
        return (f"{_read_head(ctx, tag[1])} returned the version of #{b}, but {_done(ctx, a)}, "
                f"more than the bound of {format_duration(tag[3], exact=True)} earlier, so #{a} must rank below #{b}")
    if kind == "conv":
        finals = sorted(ctx.final)
        shown = ", ".join(f"#{r}" for r in finals[:4]) + (", ..." if len(finals) > 4 else "")
        return (f"The final reads ({shown}) returned the version of #{b}, so #{b} must be the "
                f"conflict winner, above #{a}")
    return f"#{a} must precede #{b} because {link_text(ctx, a, b, tag)}"


def cycle_links(m: Problem, edges: list[tuple]) -> list[tuple]:
    """[(u, v, tag)] node edges of a cycle -> [(a, b, tag)] links between write indices."""
    g = m.g
    nodes = [e[0] for e in edges]
    k = len(edges)
    links = []
    for i, (u, v, tag) in enumerate(edges):
        if v >= g.nw:
            continue
        j = i
        src = None
        for _ in range(k):
            if nodes[j] < g.nw:
                src = nodes[j]
                break
            j = (j - 1) % k
        if src is None:
            continue
        links.append((g.wops[src], g.wops[v], tag))
    return links


def _cycle_text(m: Problem, links: list[tuple], phase: str) -> tuple[str, list[int]]:
    ctx = m.ctx
    lead_kinds = _LEAD[phase]
    li = next((i for i, l in enumerate(links) if l[2][0] in lead_kinds), 0)
    links = links[li:] + links[:li]
    a, b, tag = links[0]
    text = _lead_text(ctx, a, b, tag)
    rest = links[1:]
    if rest:
        why = "; ".join(link_text(ctx, x, y, t) for x, y, t in rest)
        text += f"; yet #{b} must precede #{a} because {why}."
    else:
        text += "."
    ops = set()
    for x, y, t in links:
        ops.update((x, y))
        if t[0] in ("raw", "stale"):
            ops.add(t[1])
        if t[0] == "conv":
            ops.update(ctx.final)
    return text, sorted(ops)


def _const_text(m: Problem, item: tuple) -> tuple[str, list[int]]:
    ctx = m.ctx
    tag = item[2]
    kind = tag[0]
    if kind == "raw_none":
        r, w = tag[1], tag[2]
        return (f"{_read_head(ctx, r)} returned the initial state (null), but {_done(ctx, w)}, "
                f"before it began.", [r, w])
    if kind == "stale_none":
        r, w, bound = tag[1], tag[2], tag[3]
        return (f"{_read_head(ctx, r)} returned the initial state (null), but {_done(ctx, w)}, "
                f"more than the bound of {format_duration(bound, exact=True)} earlier.", [r, w])
    if kind in ("raw_later", "stale_later"):
        r, c, w = tag[1], tag[2], tag[3]
        why = ctx.hard_reason(ctx.op[c], ctx.op[w])
        because = link_text(ctx, c, w, why) if why else "rule 2 orders it above"
        extra = "" if kind == "raw_later" else f", more than the bound of {format_duration(tag[4], exact=True)} earlier"
        return (f"{_read_head(ctx, r)} returned the version of #{c}, but {_done(ctx, w)}{extra}"
                f", before it began, and #{w} ranks above #{c} in every admissible order "
                f"because {because}.", [r, c, w])
    if kind == "conv_none_info":
        i = tag[1]
        return (f"The final reads returned the initial state (null), so no write may take "
                f"effect, but info write #{i} was returned by a read and so took effect.",
                sorted(ctx.final) + [i])
    return ("No admissible order satisfies these requirements.", [])


def describe_failure(m: Problem, fail: tuple, phase: str) -> tuple[str, list[int]]:
    _v, kind, payload = fail
    if kind == "const":
        return _const_text(m, payload)
    edges = find_cycle(m.g, payload, _LEAD[phase])
    if not edges:
        return ("No admissible order satisfies these requirements.", [])
    return _cycle_text(m, cycle_links(m, edges), phase)


def order_conflict(m: Problem, edges: list[tuple]) -> dict:
    """The recorded timestamps contradict rule 2's real-time order: report the cycle (the
    segment is then ordered with real time linking only untimed writes)."""
    text, ops = _cycle_text(m, cycle_links(m, edges), "order")
    return {"property": "order", "ops": ops,
            "explanation": text + " The recorded timestamps contradict real time; the order "
                                  "keeps the timestamps and drops these real-time links."}


def _z3_failures(m: Problem, phase: str, raw: bool, bound, core: list, deadline) -> list:
    """Re-derive a readable reason from a z3 core: fix the choices of the cored reads one
    combination at a time and look for the cycle in the precedence graph."""
    focus = []
    for k in core:
        if isinstance(k, tuple) and len(k) == 2 and k[0] in ("raw", "st") and k[1] in m.cands:
            if len(m.cands[k[1]]) > 1 and k[1] not in focus:
                focus.append(k[1])
    focus = focus[:3]
    core_set = set(k for k in core if isinstance(k, tuple))
    stale = m.stale_items(bound, track=True) if bound is not None else None
    combos = list(itertools.product(*[m.cands[r] for r in focus]))[:MAX_COMBOS]
    out = []
    for v in (m.Vs[:3] if m.conv else [None]):
        for combo in combos:
            a = m.base_assign(raw, v, dict(zip(focus, combo)))
            for r in m.consistent:
                a[("raw", r)] = raw and (("raw", r) in core_set or r not in m.choice)
            for r in m.g.reads:
                a[("st", r)] = ("st", r) in core_set
            items = m.active_items(raw, bound, v, a, stale)
            res = m.solve_graph(items, a, v)
            if res.sat:
                return []
            out.append((dict(zip(focus, combo)), v, res.failures[0]))
    return out


def _generic(m: Problem, phase: str, core: list) -> dict:
    reads = sorted({k[1] for k in core if isinstance(k, tuple) and len(k) == 2
                    and k[0] in ("raw", "st")})
    if phase == "convergence":
        reads = sorted(m.ctx.final)
    shown = ", ".join(f"#{r}" for r in reads[:6]) or "the reads of this key"
    what = {"convergence": "the final reads agree on the conflict winner",
            "read_after_write": "every strongly consistent read see the latest local write",
            "staleness": "the staleness bound hold"}[phase]
    return {"property": phase, "ops": reads,
            "explanation": f"No choice of versions for {shown} and no admissible order lets "
                           f"{what}."}


def explain_unsat(m: Problem, phase: str, raw: bool, bound, res: Answer, deadline) -> dict:
    try:
        if m.graph_ok:
            fails = [(None, None, f) for f in res.failures]
        else:
            fails = [(c, v, f) for c, v, f in _z3_failures(m, phase, raw, bound, res.core,
                                                           deadline)]
    except SolverTimeout:  # pragma: no cover
        fails = []
    if not fails:
        return _generic(m, phase, res.core)
    texts, ops = [], set()
    seen_combo = set()
    for combo, _v, fail in fails:
        key = tuple(sorted((combo or {}).items(), key=str))
        if key in seen_combo:
            continue
        seen_combo.add(key)
        t, o = describe_failure(m, fail, phase)
        ops.update(o)
        if combo and len(fails) > 1:
            t = "If " + ", ".join(f"#{r} returned {_version(c)}" for r, c in combo.items()) + \
                ": " + t[0].lower() + t[1:]
        texts.append(t)
        ops.update(r for r in (combo or {}))
        if len(texts) >= 3:
            break
    return {"property": phase, "ops": sorted(ops), "explanation": " ".join(texts)}


def explain_bound(m: Problem, raw: bool, bound: int, deadline) -> dict:
    try:
        if m.graph_ok:
            res = m.check(raw, bound, deadline)
        else:
            res = m.engine().check(raw, bound, deadline, track=True)
    except SolverTimeout:
        return _generic(m, "staleness", [])
    if res.sat:  # pragma: no cover - only called when the minimum exceeds the bound
        return {}
    out = explain_unsat(m, "staleness", raw, bound, res, deadline)
    out["bound_ns"] = bound
    return out


# --- constants outside any segment ------------------------------------------------------

def convergence_constant(ctx: SolverContext) -> dict:
    finals = sorted(ctx.final, key=lambda r: (ctx.op[r].invoke_time, r))
    if not ctx.Vs_raw:
        for r1, r2 in itertools.combinations(finals, 2):
            if not set(ctx.cands_full[r1]) & set(ctx.cands_full[r2]):
                o1, o2 = ctx.op[r1], ctx.op[r2]
                v1 = _versions(ctx, r1)
                v2 = _versions(ctx, r2)
                return {"property": "convergence", "ops": [r1, r2],
                        "explanation": f"Final reads #{r1} in {o1.region} at "
                                       f"{format_duration(o1.invoke_time, exact=True)} and #{r2} in {o2.region} at "
                                       f"{format_duration(o2.invoke_time, exact=True)} returned different versions "
                                       f"({v1} and {v2}), so the final reads do not agree."}
        shown = ", ".join(f"#{r} ({_versions(ctx, r)})" for r in finals[:4])
        return {"property": "convergence", "ops": finals[:4],
                "explanation": f"The final reads {shown} have no version in common, so they "
                               f"do not agree."}
    v = ctx.Vs_raw[-1]
    if v is None:
        w = (ctx.GW[0].index if ctx.GW else sorted(ctx.forced_info)[0])
        why = ("completed" if ctx.op[w].outcome == OK
               else "(outcome unknown) was returned by a read and therefore")
        return {"property": "convergence", "ops": finals[:4] + [w],
                "explanation": f"Every final read returned null, the initial state, but "
                               f"{ctx.op[w].f} #{w} in {ctx.op[w].region} {why} took effect: "
                               f"the initial state cannot be the conflict winner."}
    vo = ctx.op[v]
    cands = list(ctx.GW) + [ctx.op[i] for i in sorted(ctx.forced_info)]
    for w in cands:
        why = ctx.hard_reason(vo, w)
        if why:
            return {"property": "convergence", "ops": sorted(set(finals[:4] + [v, w.index])),
                    "explanation": f"Every final read returned the version of #{v}, but #{v} "
                                   f"cannot be the conflict winner: #{w.index} must rank above "
                                   f"it because {link_text(ctx, v, w.index, why)}."}
    return {"property": "convergence", "ops": finals[:4],
            "explanation": "No version returned by every final read can be the conflict winner."}


def _versions(ctx: SolverContext, r: int) -> str:
    lst = ctx.cands_full[r]
    if len(lst) == 1:
        return _version(lst[0])
    if all(c is None or ctx.op[c].f == "delete" for c in lst):
        return "null"
    return " or ".join(_version(c) for c in lst)


def raw_witness_initial(ctx: SolverContext, r: int):
    ro = ctx.op[r]
    s = ctx.gseq("all", ctx.raw_scope(ro))
    if ctx.count(s, "cb", ro.invoke_time, ipos(ro)) > 0:
        return s.ids[0]
    for w in ctx.extras(r):
        if ctx.strong or w.region == ro.region:
            return w.index
    return None


def raw_initial(ctx: SolverContext, r: int, w: int) -> dict:
    return {"property": "read_after_write", "ops": [r, w],
            "explanation": f"{_read_head(ctx, r)} returned the initial state (null), but "
                           f"{_done(ctx, w)}, before it began."}


def initial_staleness(ctx: SolverContext, r: int) -> int:
    t = ctx.op[r].invoke_time
    gap = t - ctx.gtcs[0] if ctx.count_T(t, 0) > 0 else 0
    for w in ctx.extras(r):
        gap = max(gap, t - completion_time(w))
    return int(gap)


def stale_initial(ctx: SolverContext, r: int, bound: int) -> dict:
    t = ctx.op[r].invoke_time
    w = ctx.GW[0].index if ctx.count_T(t, 0) > 0 else ctx.extras(r)[0].index
    return {"property": "staleness", "ops": [r, w], "bound_ns": bound,
            "explanation": f"{_read_head(ctx, r)} returned the initial state (null), but "
                           f"{_done(ctx, w)}, more than the bound of {format_duration(bound, exact=True)} earlier."}


__all__: list[Any] = ["explain_unsat", "explain_bound", "convergence_constant", "format_duration"]
