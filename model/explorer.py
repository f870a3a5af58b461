"""An explicit-state explorer for any model of the protocol (``gtcheck.model.protocol``):
every path from its initial states, breadth first, states merged by fingerprint. It lives
beside the model so that it is compiled with it (mypyc); it knows nothing of global
tables (``gtcheck explore`` adapts it: ``gtcheck.search.explore``).

Stateright's and TLC's design, sized for Python: the visited set holds only fingerprints,
each with its parent's (``seen``: fingerprint -> parent fingerprint), never the states or
the edges, so memory grows by about a hundred bytes per state; the states themselves live
only in the breadth-first frontier. A counterexample's path is rebuilt afterwards by
replaying from the initial state, at each step taking the action whose successor has the
recorded fingerprint (as Stateright does). Properties (``always``, ``at_end``,
``sometimes``) are checked as states are reached; a model's ``ample`` hook may reduce the
actions explored (partial-order reduction). The exploration stops at ``max_states``
distinct states or ``time_limit_s`` seconds, and then says so: an incomplete exploration
never reports that a property holds, only that no violation was found in what was
explored.
"""

from __future__ import annotations

import gc
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from mypy_extensions import mypyc_attr

from gtcheck.model.protocol import ALWAYS, AT_END, SOMETIMES, Model, Property

PROGRESS_EVERY_S = 2.0


@dataclass
class Violation:
    """A property broken (or, for ``sometimes``, an example found) at state ``fp``."""

    name: str
    kind: str
    message: str
    fp: Hashable
    path: list[Any] = field(default_factory=list)     # the actions from an initial state
    root: int = 0                                     # which initial state


@dataclass
class Result:
    """What an exploration found. ``complete``: every reachable state was explored (else
    ``stopped`` says why not). ``violations``: per property, the shortest path (breadth
    first) to a state breaking it; ``examples``: per ``sometimes`` property, a path to a
    state showing it."""

    states: int
    transitions: int
    complete: bool
    stopped: str
    depth: int
    violations: dict[str, Violation]
    examples: dict[str, Violation]
    unseen: list[str]                   # sometimes-properties never shown
    wall_s: float
    cpu_s: float
    graph: Any = None                   # networkx.MultiDiGraph, when asked for (keep_graph)
    terminal: int = 0                   # states where no action is enabled

    @property
    def holds(self) -> bool:
        return not self.violations

    def rate(self) -> float:
        return self.states / self.cpu_s if self.cpu_s > 0 else 0.0


@mypyc_attr(allow_interpreted_subclasses=True)
class Observer:
    """Extra per-path data an exploration carries (a history, say) and folds into the state
    key: two paths to one state that observed differently are then two states. Default:
    nothing observed."""

    def start(self, state: Any, root: int) -> Any:
        return None

    def step(self, obs: Any, state: Any, action: Any, new: Any, events: list[dict[str, Any]]) -> Any:
        return None

    def key(self, obs: Any) -> Hashable:
        return None


def _key(fingerprint: Hashable, extra: Hashable) -> Hashable:
    return fingerprint if extra is None else (fingerprint, extra)


def explore(model: Model, *, max_states: int = 1_000_000, time_limit_s: float | None = None,
            reduce: bool = True, keep_graph: bool = False, observer: Observer | None = None,
            on_transition: Callable[[Any, Any, Any, list[dict[str, Any]]], None] | None = None,
            on_end: Callable[[Any, Any, Hashable], list[tuple[str, str]]] | None = None,
            progress: Callable[[str], None] | None = None) -> Result:
    """Explore ``model`` breadth first. ``on_transition(state, action, new, events)`` sees
    every transition taken that produced events; ``on_end(state, obs, fp)`` every state
    where no action is enabled and returns the broken run properties there, as (name,
    message) pairs. ``progress`` receives a line now and then (``stderr_progress`` writes
    them to stderr). The cyclic garbage collector is paused meanwhile: states are
    acyclic and freed as they go, and it would only scan the growing frontier again and
    again."""
    was = gc.isenabled()
    gc.disable()
    try:
        return _explore(model, max_states, time_limit_s, reduce, keep_graph, observer, on_transition, on_end,
                        progress)
    finally:
        if was:
            gc.enable()


def _explore(model: Model, max_states: int, time_limit_s: float | None, reduce: bool, keep_graph: bool,
             observer: Observer | None,
             on_transition: Callable[[Any, Any, Any, list[dict[str, Any]]], None] | None,
             on_end: Callable[[Any, Any, Hashable], list[tuple[str, str]]] | None,
             progress: Callable[[str], None] | None) -> Result:
    """``explore``'s loop."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    obs_of = observer if observer is not None else Observer()
    observing = observer is not None
    props: list[Property] = model.properties()
    always = [p for p in props if p.kind == ALWAYS]
    at_end = [p for p in props if p.kind == AT_END]
    sometimes = [p for p in props if p.kind == SOMETIMES]
    graph: Any = None
    if keep_graph:
        import networkx as nx
        graph = nx.MultiDiGraph()
    seen: dict[Hashable, Hashable] = {}
    roots: dict[Hashable, int] = {}
    queue: deque[tuple[Hashable, Any, Any, int]] = deque()
    inits = model.init()
    for i in range(len(inits)):
        s = inits[i]
        obs = obs_of.start(s, i)
        k = _key(model.fingerprint(s), obs_of.key(obs))
        if k not in seen:
            seen[k] = None
            roots[k] = i
            queue.append((k, s, obs, 0))
            if graph is not None:
                graph.add_node(k)
    violations: dict[str, Violation] = {}
    examples: dict[str, Violation] = {}
    transitions = 0
    terminal = 0
    depth = 0
    complete = True
    stopped = ""
    popped = 0
    last_report = t0
    while queue:
        popped += 1
        if popped & 255 == 0:
            now = time.perf_counter()
            if time_limit_s is not None and now - t0 > time_limit_s:
                complete = False
                stopped = f"the time limit ({time_limit_s:g} s)"
                break
            if progress is not None and now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                cpu = time.process_time() - c0
                progress(f"explored {len(seen):,} states, {transitions:,} transitions, depth {depth}, "
                         f"{len(queue):,} to go; {len(seen) / cpu if cpu else 0:,.0f} states per CPU second")
        k, state, obs, d = queue.popleft()
        if d > depth:
            depth = d
        for p in always:
            if p.name not in violations:
                msg = p.check(model, state)
                if msg:
                    violations[p.name] = Violation(p.name, ALWAYS, msg, k)
        for p in sometimes:
            if p.name not in examples and not p.check(model, state):
                examples[p.name] = Violation(p.name, SOMETIMES, "an example", k)
        acts = model.actions(state)
        if not acts:
            terminal += 1
            for p in at_end:
                if p.name not in violations:
                    msg = p.check(model, state)
                    if msg:
                        violations[p.name] = Violation(p.name, AT_END, msg, k)
            if on_end is not None:
                for name, msg in on_end(state, obs, k):
                    if name not in violations:
                        violations[name] = Violation(name, AT_END, msg, k)
            continue
        if reduce:
            acts = model.ample(state, acts)
        for a in acts:
            new, events = model.next(state, a)
            transitions += 1
            if on_transition is not None and events:
                on_transition(state, a, new, events)
            if observing:
                obs2 = obs_of.step(obs, state, a, new, events)
                k2 = _key(model.fingerprint(new), obs_of.key(obs2))
            else:
                obs2 = None
                k2 = model.fingerprint(new)
            if graph is not None:
                graph.add_edge(k, k2, key=a)
            if k2 in seen:
                continue
            if len(seen) >= max_states:
                complete = False
                stopped = f"--max-states ({max_states:,} states)"
                continue
            seen[k2] = k
            queue.append((k2, new, obs2, d + 1))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if queue and not stopped:
        stopped = "unexplored states remain"
    result = Result(len(seen), transitions, complete and not queue, stopped, depth, violations, examples,
                    [p.name for p in sometimes if p.name not in examples], wall, cpu, graph, terminal)
    for v in list(violations.values()) + list(examples.values()):
        v.root, v.path = path_to(model, seen, roots, v.fp, obs_of)
    return result


def path_to(model: Model, seen: dict[Hashable, Hashable], roots: dict[Hashable, int], target: Hashable,
            observer: Observer) -> tuple[int, list[Any]]:
    """The actions from an initial state to the state keyed ``target``: the chain of parents,
    replayed (at each step, the action whose successor has the next key on the chain)."""
    chain = [target]
    while seen[chain[-1]] is not None:
        chain.append(seen[chain[-1]])
    chain.reverse()
    root = roots[chain[0]]
    state = model.init()[root]
    obs = observer.start(state, root)
    path: list[Any] = []
    for nxt in chain[1:]:
        for a in model.actions(state):
            new, events = model.next(state, a)
            obs2 = observer.step(obs, state, a, new, events)
            if _key(model.fingerprint(new), observer.key(obs2)) == nxt:
                path.append(a)
                state, obs = new, obs2
                break
        else:   # pragma: no cover - the model is not a function of its fingerprint
            raise AssertionError("cannot rebuild the path: the model's next() is not deterministic")
    return root, path


def replay(model: Model, root: int, actions: list[Any]) -> tuple[Any, list[dict[str, Any]]]:
    """Take ``actions`` from initial state ``root``: the state reached and the events."""
    state = model.init()[root]
    events: list[dict[str, Any]] = []
    for i, a in enumerate(actions):
        if a not in model.actions(state):
            raise ValueError(f"action {i} ({model.label(a)}) is not enabled there")
        state, ev = model.next(state, a)
        events += ev
    return state, events


def stderr_progress(line: str) -> None:
    print(f"gtcheck explore: {line}", file=sys.stderr, flush=True)


def coverage_line(result: Result, model: Model) -> str:
    """The one line that says what an exploration covered (and never claims more)."""
    what = "; ".join(model.coverage())
    if result.complete:
        head = (f"complete: every reachable state explored ({result.states:,} states, "
                f"{result.transitions:,} transitions, depth {result.depth})")
    else:
        head = (f"INCOMPLETE: stopped by {result.stopped} after {result.states:,} states and "
                f"{result.transitions:,} transitions; what holds below holds only for the part explored")
    return head + (f"; covering {what}" if what else "")
