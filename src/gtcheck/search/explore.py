"""``gtcheck explore``: every run of a scripted scenario, breadth first over the step
interface (``model/step.py``), states deduplicated by fingerprint, the graph in networkx.

Every decision is an action: which client's request runs next, which copy serves an
eventual read, each delivery of a version on a link (per item in order, per link),
coalescing, a version reaching a follower copy, the next isolation or heal. A region
whose clock offset is a range (``offset = { min, max }``) adds a first choice: its offset
at either end of the range. Two writes from regions A and B are ordered by
``t_A + o_A`` against ``t_B + o_B``, and ``o_A - o_B`` takes its extreme values at the
range ends, so both conflict orders are explored wherever the ranges allow either (for
each pair of writes; for several pairs at once, the combinations the corners reach).

States are keyed by (offsets, fingerprint) and, when an invariant over the history is
checked, by the history too (the fingerprint leaves the history out: two paths to one
state may have seen different things).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import make_directory, write_bytes, write_text
from gtcheck.model.lww import Version
from gtcheck.model.scenario import Scenario
from gtcheck.model.step import Action, StepState, StepWorld
from gtcheck.search.run import Property, Run, Verdict


def _value(v: Version | None) -> Any:
    return None if v is None or v.deleted else v.value


def label(world: StepWorld, a: Action) -> str:
    r = world.regions
    if a.kind == "request":
        return f"request {a.client}" + (f" copy {a.copy}" if a.copy >= 0 else "")
    if a.kind in ("deliver", "coalesce"):
        return f"{a.kind} {a.key} {r[a.source]}->{r[a.target]}"
    if a.kind == "copy":
        return f"copy {a.key} v{a.write_id} slot {a.target}"
    return a.kind


def action_dict(a: Action) -> dict[str, Any]:
    return {k: v for k, v in a._asdict().items() if v not in ("", -1)}


@dataclass
class Exploration:
    graph: Any
    states: int
    edges: int
    complete: bool
    outcomes: dict[str, list[Any]]
    final_states: dict[str, list[dict[str, Any]]]
    properties: dict[str, dict[str, Any]]
    offsets: list[dict[str, int]]
    wall_s: float = 0.0
    cpu_s: float = 0.0
    paths: dict[str, tuple[int, list[Action]]] = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return all(p["holds"] for p in self.properties.values())

    @property
    def decided(self) -> bool:
        """Every property was decided on every complete run (the checker's properties may
        be unknown on a run, e.g. convergence with no final reads)."""
        return not any("undecided" in p for p in self.properties.values())

    def to_json(self) -> dict[str, Any]:
        return {"states": self.states, "edges": self.edges, "complete": self.complete,
                "outcomes": self.outcomes, "final_states": self.final_states,
                "properties": self.properties, "offsets": self.offsets}


def offset_vectors(sc: Scenario) -> list[dict[str, int]]:
    ranged = [(r, sc.clock(r)) for r in sc.regions if sc.clock(r).offset_max_ns is not None]
    if not ranged:
        return [{}]
    choices = [sorted({c.offset_ns, c.offset_max_ns}) for _, c in ranged]   # type: ignore[type-var]
    return [{r: o for (r, _), o in zip(ranged, combo)} for combo in itertools.product(*choices)]


def world_for(sc: Scenario, offsets: dict[str, int]) -> StepWorld:
    w = StepWorld(sc)
    for r, o in offsets.items():
        w.clocks.offset[r] = o
    return w


def request_names(world: StepWorld, sc: Scenario) -> dict[tuple[str, int], str]:
    """(client, position in its program) -> the scripted request's ``name``."""
    names: dict[tuple[str, int], str] = {}
    pos: dict[str, int] = {}
    auto = 0
    for entry in sc.script:               # the step world's own numbering of clients
        if entry.process is None:
            auto += 1
            client = f"s{auto}"
        else:
            client = str(entry.process)
        i = pos.get(client, 0)
        pos[client] = i + 1
        if entry.name is not None:
            names[(client, i)] = entry.name
    return names


def result_of(events: list[dict[str, Any]]) -> Any:
    """What a request returned: a read's value; a write's ``ok`` or ``fail``."""
    done = [e for e in events if e["type"] in ("ok", "fail", "info")]
    if not done:
        return None
    if done[0]["f"] == "read":
        return done[0]["value"]
    return "ok" if all(e["type"] == "ok" for e in done) else done[0]["type"]


def final_of(world: StepWorld) -> dict[str, dict[str, Any]]:
    C = world.copies
    return {key: {r: _value(slots[i * C]) for i, r in enumerate(world.regions)}
            for key, slots in sorted(world.state.slots.items())}


def run_of(world: StepWorld, seen: dict[int, frozenset[int]] | None = None) -> Run:
    return Run([world.header()] + world.history(), [], final_of(world), world.sc, seen)


def _sort(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS))


def _ample(w: StepWorld, actions: list[Action], eventual_regions: dict[str, list[set[int]]]) -> list[Action]:
    """Partial-order reduction: a version reaching a follower copy in a region where no
    eventually consistent read remains to be served is independent of every other action
    and invisible (only eventual reads see follower copies; it cannot be disabled), so
    exploring it alone, now, loses no outcome, final state or history-and-final-state
    violation (the model's own per-state check sees fewer intermediate states)."""
    C = w.copies
    st = w.state
    pending: set[int] = set()
    for client, sets in eventual_regions.items():
        pending |= sets[st.pc[client]]
    for a in actions:
        if a.kind == "copy" and a.target // C not in pending:
            return [a]
    # likewise a delivery into a region where no request remains (nothing there observes
    # it; deliveries into one region commute: last writer wins is a join), on a link with
    # nothing queued behind it (no coalescing to choose) once no fault event remains (an
    # isolation would disable it)
    if st.nemesis >= len(w.faults):
        busy = {w.rix[program[st.pc[c]].region] for c, program in w.programs.items() if st.pc[c] < len(program)}
        for a in actions:
            if a.kind == "deliver" and a.target not in busy and len(st.links[(a.source, a.target, a.key)]) == 1:
                return [a]
    return actions


def _in_time_order(w: StepWorld, actions: list[Action]) -> list[Action]:
    """Scripted requests and fault events happen in the order of their scripted times (ties
    in any order); deliveries and copies may happen at any point in between (replication
    takes any time)."""
    st = w.state
    times: dict[Action, int] = {}
    for a in actions:
        if a.kind == "request":
            times[a] = w.programs[a.client][st.pc[a.client]].at
        elif a.kind == "nemesis":
            times[a] = w.faults[st.nemesis][0]
    if not times:
        return actions
    first = min(times.values())
    return [a for a in actions if a not in times or times[a] == first]


def networkx() -> Any:
    """networkx, which holds the explored graph: an optional dependency (the extra
    ``explore``); without it exploration is bad input saying how to install it."""
    try:
        import networkx as nx
    except ImportError:
        raise UserError("gtcheck explore keeps the explored graph in networkx, which is not "
                        "installed", hint="pip install 'gtcheck[explore]' (or pip install "
                        "networkx)") from None
    return nx


def explore(sc: Scenario, *, max_states: int = 100_000,
            invariants: list[tuple[str, Property]] | None = None, reduce: bool = True,
            timed: bool = True, time_limit_s: float | None = None) -> Exploration:
    """Explore every run of ``sc`` (up to ``max_states`` states). ``timed``: requests and
    fault events in scripted-time order (off: in any order, as the step interface allows).
    ``reduce``: the partial-order reduction of ``_ample`` (off: every interleaving of
    follower copies). ``time_limit_s``: stop (incomplete) after this much wall time."""
    if not sc.script:
        raise UserError("exploration needs a scripted scenario ([[script]] requests)", where="--scenario")
    nx = networkx()
    t0, c0 = time.perf_counter(), time.process_time()
    invariants = invariants or []
    with_history = bool(invariants)
    vectors = offset_vectors(sc)
    worlds = [world_for(sc, v) for v in vectors]
    names = request_names(worlds[0], sc)
    # per client, from each position on: the regions its remaining eventual reads read in
    eventual_regions: dict[str, list[set[int]]] = {}
    w0 = worlds[0]
    for client, program in w0.programs.items():
        sets: list[set[int]] = [set() for _ in range(len(program) + 1)]
        for i in range(len(program) - 1, -1, -1):
            sets[i] = set(sets[i + 1])
            first = program[i].parts[0]
            if first.f == "read" and not first.consistent:
                sets[i].add(w0.rix[program[i].region])
        eventual_regions[client] = sets
    g = nx.MultiDiGraph()
    parent: dict[str, tuple[str | None, Action | None]] = {}
    queue: deque[tuple[str, int, StepState]] = deque()

    # with invariants: per state, what each write had seen when it was written (write id ->
    # its invoke index; invoke index -> the invoke indexes of the writes that had reached its
    # origin's leader copy), the exploration's ground truth for no_acknowledged_write_lost
    Obs = tuple[dict[int, int], dict[int, frozenset[int]]]
    obs_of: dict[str, Obs] = {}

    def key_of(w: StepWorld, vi: int, obs: Obs | None = None) -> str:
        k = f"{vi}:{w.fingerprint()}"
        if with_history:
            extra = [w.state.log, sorted((i, sorted(v)) for i, v in obs[1].items()) if obs else []]
            k += ":" + hashlib.blake2b(orjson.dumps(extra), digest_size=8).hexdigest()
        return k

    def observe(w: StepWorld, state: StepState, a: Action, new: StepState, before: int, obs: Obs) -> Obs:
        req = w.programs[a.client][state.pc[a.client]]
        slot = w.rix[req.region] * w.copies
        invokes = [e for e in new.log[before:] if e["type"] == "invoke"]
        widx, seen = dict(obs[0]), dict(obs[1])
        for j, part in enumerate(req.parts):
            if part.f == "read" or j >= len(invokes):
                continue
            idx = invokes[j]["index"]
            widx[part.write_id] = idx
            seen[idx] = frozenset(widx[x] for x in state.reached.get((part.key, slot), []) if x in widx)
        return widx, seen

    for vi, w in enumerate(worlds):
        k = key_of(w, vi)
        if k not in parent:
            parent[k] = (None, None)
            obs_of[k] = ({}, {})
            g.add_node(k)
            queue.append((k, vi, w.snapshot()))
    outcomes: dict[str, list[Any]] = {n: [] for n in sorted(set(names.values()))}
    seen_outcome: dict[str, set[bytes]] = {n: set() for n in outcomes}
    finals: dict[str, dict[bytes, dict[str, Any]]] = {}
    violated: dict[str, tuple[str, int, str]] = {}     # property -> (state, vector, message)
    undecided: dict[str, str] = {}     # property -> why the checker could not decide it on a run
    complete = True
    edges: list[tuple[str, str, Action]] = []      # (state, next state, action): the graph's edges
    popped = 0
    while queue:
        popped += 1
        if time_limit_s is not None and popped % 256 == 0 and time.perf_counter() - t0 > time_limit_s:
            complete = False
            break
        k, vi, state = queue.popleft()
        w = worlds[vi]
        w.state = state
        bad = w.violations()
        if bad and "model" not in violated:
            violated["model"] = (k, vi, "; ".join(bad))
        actions = w.enabled()
        if not actions:                        # a complete run: every request done, all delivered
            for key, regions in final_of(w).items():
                blob = orjson.dumps(regions, option=orjson.OPT_SORT_KEYS)
                finals.setdefault(key, {})[blob] = regions
            if invariants:
                run = run_of(w, obs_of[k][1])
                history = b"".join(orjson.dumps(e) + b"\n" for e in run.events)
                for pname, prop in invariants:
                    if pname not in violated:
                        verdict: Verdict = prop(run, history)
                        if not verdict.holds:
                            violated[pname] = (k, vi, verdict.message)
                        elif verdict.unknown is not None:
                            undecided.setdefault(pname, verdict.unknown)
            continue
        if timed:
            actions = _in_time_order(w, actions)
        if reduce:
            actions = _ample(w, actions, eventual_regions)
        for a in actions:
            before = len(state.log)
            new = w.after(a)
            if a.kind == "request":
                name = names.get((a.client, state.pc[a.client]))
                if name is not None:
                    res = result_of(new.log[before:])
                    blob = orjson.dumps(res, option=orjson.OPT_SORT_KEYS)
                    if blob not in seen_outcome[name]:
                        seen_outcome[name].add(blob)
                        outcomes[name].append(res)
            obs = obs_of.get(k) if with_history else None
            if obs is not None and a.kind == "request":
                obs = observe(w, state, a, new, before, obs)
            w.state = new
            nk = key_of(w, vi, obs)
            w.state = state
            if nk not in parent:
                if len(parent) >= max_states:
                    complete = False
                    continue
                parent[nk] = (k, a)
                if obs is not None:
                    obs_of[nk] = obs
                queue.append((nk, vi, new))
            edges.append((k, nk, a))
    g.add_edges_from(edges)       # keyed by the Action (label(world, action) prints it)
    del edges
    props: dict[str, dict[str, Any]] = {}
    paths: dict[str, tuple[int, list[Action]]] = {}
    for pname in ["model"] + [n for n, _ in invariants]:
        if pname in violated:
            k, vi, message = violated[pname]
            path: list[Action] = []
            cur: str | None = k
            while cur is not None:
                p, a = parent[cur]
                if a is not None:
                    path.append(a)
                cur = p
            path.reverse()
            paths[pname] = (vi, path)
            props[pname] = {"holds": False, "message": message, "counterexample": None,
                            "path": [label(worlds[vi], a) for a in path]}
        else:
            props[pname] = {"holds": True, "counterexample": None}
            if pname in undecided:
                props[pname]["undecided"] = undecided[pname]
    final_states = {key: _sort(list(v.values())) for key, v in sorted(finals.items())}
    ex = Exploration(g, g.number_of_nodes(), g.number_of_edges(), complete,
                     {n: _sort(v) for n, v in outcomes.items()}, final_states, props, vectors,
                     time.perf_counter() - t0, time.process_time() - c0, paths)
    return ex


def replay(sc: Scenario, offsets: dict[str, int], actions: list[Action]) -> StepWorld:
    """Take ``actions`` from the start (a counterexample path): the world where they lead."""
    w = world_for(sc, offsets)
    for a in actions:
        w.step(a)
    return w


def write_counterexamples(ex: Exploration, sc: Scenario, out: Path) -> None:
    """For each violated property: NAME.jsonl (the history along the shortest path),
    NAME.path.json (the scenario, offsets and actions: ``gtcheck explore --replay``)."""
    from gtcheck.kernel import tomlout

    for pname, (vi, path) in ex.paths.items():
        make_directory(out, "-o/--output directory")
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in pname)
        w = replay(sc, ex.offsets[vi], path)
        hist = out / f"{safe}.jsonl"
        write_bytes(hist, b"".join(orjson.dumps(e) + b"\n" for e in [w.header()] + w.history()))
        table = dict(sc.source)
        table["name"] = sc.name                  # the history header names the scenario
        if ex.offsets[vi]:
            clocks = {r: dict(c) for r, c in table.get("clocks", {}).items()}
            for r, o in ex.offsets[vi].items():
                clocks.setdefault(r, {})["offset"] = str(o)
            table["clocks"] = clocks
        scen = out / f"{safe}.toml"
        write_text(scen, tomlout.dumps(table, f"The scenario of a counterexample to {pname} (offsets pinned);\n"
                                          f"its path: {safe}.path.json"))
        pfile = out / f"{safe}.path.json"
        write_bytes(pfile, orjson.dumps({"scenario": scen.name, "offsets": ex.offsets[vi],
                                        "actions": [action_dict(a) for a in path]}, option=orjson.OPT_INDENT_2))
        ex.properties[pname]["counterexample"] = {"history": str(hist), "scenario": str(scen), "path": str(pfile)}


def load_path(path: Path) -> tuple[dict[str, int], list[Action]]:
    data = orjson.loads(path.read_bytes())
    return data.get("offsets", {}), [Action(**a) for a in data["actions"]]
