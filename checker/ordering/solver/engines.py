"""The two z3 engines that answer a segment's questions when reads still have choices.

:class:`IntEngine`, for small segments: an integer ``pos`` per node (difference logic),
Booleans for the guards, one ``check`` with assumptions per question, staleness bounds
pushed and popped. :class:`LazyEngine`, for segments of more than ``INT_NODE_LIMIT``
nodes (where z3's arithmetic needs minutes): z3 searches the Booleans only, each proposal is
checked by a topological sort of the precedence graph, and each cycle found comes back as
a learned clause; it answers the same questions with the same cores. ``ENGINE`` forces one
(tests set it).
"""

from __future__ import annotations

import time
from typing import Any

from gtcheck.checker.ordering.solver.context import SolverTimeout
from gtcheck.checker.ordering.solver.graphs import conflicts
from gtcheck.checker.ordering.solver.segments import Answer

try:  # z3 is a declared dependency; keep the import failure readable
    import z3
except ImportError:  # pragma: no cover
    z3 = None
ENGINE = "auto"            # "auto", "int" (full integer encoding) or "lazy"; tests set it
INT_NODE_LIMIT = 1500      # segments with more nodes use the lazy engine


class Literals:
    """The Boolean literals of an engine, by key (``("x", read, candidate)``,
    ``("conv", v)``, ...), and the way back from a literal's name to its key (cores).

    Every engine works in a z3 context of its own (``ctx``). In z3's shared main context
    the terms of earlier keys and runs stay interned, and the solver's choices among equally
    good orders followed them: checking one file twice in one process gave different
    per-read staleness figures. A fresh context makes the answer a function of the key."""

    L: dict
    names: dict
    ctx: Any

    def _start(self, mode: Any, solver: Any) -> None:
        """What every engine begins with: the mode (a requirements.Problem, which imports
        us), a fresh z3 context, the solver ``solver(ctx)`` and empty literal tables."""
        if z3 is None:  # pragma: no cover
            raise RuntimeError("z3-solver is not installed")
        self.m = mode
        self.g = mode.g
        self.ctx = z3.Context()     # a fresh context per engine: see the class docstring
        self.s = solver(self.ctx)
        self.P: list = []
        self.L = {}
        self.names = {}
        self.nconstraints = 0

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


class IntEngine(Literals):
    """The guarded difference-logic encoding of one mode, kept across questions."""

    def __init__(self, mode: Any) -> None:      # a requirements.Problem (it imports us)
        self._start(mode, lambda ctx: z3.SolverFor("QF_IDL", ctx=ctx))
        self.flushed = 0
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
            raise SolverTimeout("time budget exhausted")
        self.s.set("timeout", max(1, int(left * 1000)))
        self.m.stats["z3_checks"] += 1
        r = self.s.check(*assumptions)
        if r == z3.unknown:
            raise SolverTimeout(f"z3: {self.s.reason_unknown()}")
        return r

    def check(self, raw: bool, bound: int | None, deadline: float, track: bool = False) -> Answer:
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
                return Answer(False, core=core)
            choose, v = choices_from_model(m, self.lit, self.s.model())
        finally:
            if stale is not None:
                self.s.pop()
        a = m.base_assign(raw, v, choose)
        res = m.solve_graph(m.active_items(raw, bound, v, a, stale), a, v)
        if not res.sat:  # pragma: no cover - the model satisfies every item it was given
            raise RuntimeError("z3 model rejected by the precedence graph")
        return res


def choices_from_model(m: Any, lit: Any, model: Any) -> tuple[dict, Any]:
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


class LazyEngine(Literals):
    """z3 decides only the Booleans (choices, info effects, convergence target); the
    precedence graph is the theory: each proposal is topologically sorted and every cycle
    found becomes a learned clause "not all of these guards".  Clauses learned under a
    staleness bound b carry the literal B_b, assumed true for every probe at or below b
    (a smaller bound only adds requirements), so they are kept across the binary search.
    A proposal that passes the sort is a model of the full integer encoding."""

    def __init__(self, mode: Any) -> None:      # a requirements.Problem (it imports us)
        # no integer variables (P stays empty): positions live in the graph
        self._start(mode, lambda ctx: z3.Solver(ctx=ctx))
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
        choose, v = choices_from_model(self.m, self.lit, model)
        return self.m.base_assign(raw, v, choose), v

    def check(self, raw: bool, bound: int | None, deadline: float, track: bool = False) -> Answer:
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
                    raise SolverTimeout("time budget exhausted")
                self.s.set("timeout", max(1, int(left * 1000)))
                m.stats["z3_checks"] += 1
                r = self.s.check(*self.assumptions(raw, bound, track))
                if r == z3.unknown:
                    raise SolverTimeout(f"z3: {self.s.reason_unknown()}")
                if r == z3.unsat:
                    core = [self.names.get(str(c).replace("Not(", "").rstrip(")"), str(c))
                            for c in self.s.unsat_core()]
                    return Answer(False, core=core)
                assign, v = self._assign_from_model(self.s.model(), raw)
            first = False
            if time.perf_counter() > deadline:
                raise SolverTimeout("time budget exhausted")
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
            for gs in conflicts(self.g, items, res.core):
                keys = [k for k in gs if k != ("conv",)]
                self._clause(keys)
                self.learned += 1
