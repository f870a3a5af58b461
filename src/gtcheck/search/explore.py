"""``gtcheck explore`` on a scenario: every run of a scripted scenario of global tables,
breadth first over the one transition relation (``gtcheck.model.globaltables``), with the
generic explorer (``gtcheck.search.explorer``).

Every decision is an action: which client sends its next request or is answered next (in
scripted-time order, ties in any order; ``timed=False``: any order), which copy serves an
eventually consistent read, each delivery of a version on a link (per item in order, per
link), coalescing, a version reaching a follower copy, each fault event (isolation, outage,
their ends), whether a write cut off by an outage reached storage. A region whose clock
offset is a range (``offset = { min, max }``) adds a first choice: its offset at either end
of the range. Two writes from regions A and B are ordered by ``t_A + o_A`` against
``t_B + o_B``, and ``o_A - o_B`` takes its extreme values at the range ends, so both conflict
orders are explored wherever the ranges allow either (for each pair of writes; for
several pairs at once, the combinations the corners reach).

What the relation cannot enumerate (a random workload, random faults, TTL expiry, a mutant
that changes only timing) is refused, naming it, never ignored. States are keyed by
fingerprint and, when an invariant over the history is checked, by the history too (two
paths to one state may have seen different things).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

import orjson

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.outfiles import make_directory, write_bytes, write_text
from gtcheck.model.globaltables import ACTION_FIELDS, Action, GlobalTables, Outcomes
from gtcheck.model.rules import Rules
from gtcheck.model.scenario import Scenario
from gtcheck.model.world import World
from gtcheck.model.explorer import Observer, Result, coverage_line, explore as explore_model, replay as replay_model
from gtcheck.search.run import Property, Run, Verdict


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
    coverage: str = ""
    stopped: str = ""
    depth: int = 0
    model: Any = None

    @property
    def holds(self) -> bool:
        """No property was found broken (proven only when ``complete``)."""
        return all(p["holds"] is not False for p in self.properties.values())

    @property
    def decided(self) -> bool:
        """Every property was decided on every complete run (the checker's properties may
        be unknown on a run, e.g. convergence with no final reads)."""
        return not any("undecided" in p for p in self.properties.values())

    def to_json(self) -> dict[str, Any]:
        return {"states": self.states, "edges": self.edges, "complete": self.complete, "coverage": self.coverage,
                "outcomes": self.outcomes, "final_states": self.final_states,
                "properties": self.properties, "offsets": self.offsets}


def offset_vectors(sc: Scenario) -> list[dict[str, int]]:
    ranged = [(r, sc.clock(r)) for r in sc.regions if sc.clock(r).offset_max_ns is not None]
    if not ranged:
        return [{}]
    choices = [sorted({c.offset_ns, c.offset_max_ns}) for _, c in ranged]   # type: ignore[type-var]
    return [{r: o for (r, _), o in zip(ranged, combo)} for combo in itertools.product(*choices)]


def model_for(sc: Scenario, *, rules: Rules | None = None, timed: bool = True,
              final_reads: bool = False) -> GlobalTables:
    """The relation as the explorer runs it; refuses (exit 254) what it cannot cover."""
    if not sc.script:
        raise UserError("exploration needs a scripted scenario ([[script]] requests)", where="--scenario")
    m = GlobalTables(sc, rules, offsets=offset_vectors(sc), final_reads=final_reads, timed=timed, observe=True)
    missing = m.uncovered()
    if missing:
        raise UserError("gtcheck explore cannot cover " + "; ".join(missing), where="--scenario",
                        hint="explore a scripted scenario without them, or use gtcheck search, which runs the "
                             "timed simulator")
    return m


def result_of(events: list[dict[str, Any]]) -> Any:
    """What a request returned: a read's value; a write's ``ok``, ``fail`` or ``info``."""
    done = [e for e in events if e["type"] in ("ok", "fail", "info") and e.get("process") != "nemesis"]
    if not done:
        return None
    if done[0]["f"] == "read":
        return done[0]["value"] if done[0]["type"] == "ok" else done[0]["type"]
    return "ok" if all(e["type"] == "ok" for e in done) else done[0]["type"]


def _sort(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda v: exact_dumps(v, sort_keys=True))


class History(Observer):
    """The history so far (a shared chain of events) and exploration's ground truth:
    for each write, which writes had reached its region's leader copy when it was carried
    out (``Run.seen``; ``no_acknowledged_write_lost`` uses it). Folded into the state key:
    (a running hash of both)."""

    def __init__(self, model: GlobalTables):
        self.m = model

    def start(self, state: Any, root: int) -> Any:
        return (None, hash(root), {}, {})

    def step(self, obs: Any, state: Any, action: Any, new: Any, events: list[dict[str, Any]]) -> Any:
        chain, h, wmap, seen = obs
        for e in events:
            chain = (e, chain)
            h = hash((h, exact_dumps(e)))
        a: Action = action
        if a.kind in ("invoke", "complete", "arrive"):
            m = self.m
            ix = m.by_name[a.client]
            before = state.clients[ix]
            after = new.clients[ix]
            op = after.op if a.kind == "invoke" else before.op
            if op is not None and op.f != "read":
                parts = op.parts if op.parts is not None else [op]
                if a.kind == "invoke":
                    wmap = dict(wmap)
                    wmap[parts[0].write_id] = after.inv
                else:
                    invokes = [e["index"] for e in events if e["type"] == "invoke"]
                    wmap = dict(wmap)
                    for j, part in enumerate(parts[1:]):
                        if j < len(invokes):
                            wmap[part.write_id] = invokes[j]
                    seen = dict(seen)
                    slot = m.rix[before.region] * m.C
                    for part in parts:
                        item = state.items.get(part.key)
                        bits = item.reached[slot] if item is not None and item.reached is not None else 0
                        idx = wmap.get(part.write_id)
                        if idx is not None:
                            got = frozenset(i for wid, i in wmap.items() if bits >> wid & 1)
                            seen[idx] = got
                            h = hash((h, idx, tuple(sorted(got))))
        return (chain, h, wmap, seen)

    def key(self, obs: Any) -> Hashable:
        return obs[1]

    @staticmethod
    def events(obs: Any) -> list[dict[str, Any]]:
        out = []
        chain = obs[0]
        while chain is not None:
            out.append(chain[0])
            chain = chain[1]
        out.reverse()
        return out


def run_of(model: GlobalTables, state: World, events: list[dict[str, Any]],
           seen: dict[int, frozenset[int]] | None = None) -> Run:
    return Run([model.header(state)] + events, [], model.final_of(state), model.sc, seen)


def networkx() -> Any:
    """networkx, which holds the explored graph when it is asked for (``keep_graph``): an
    optional dependency (the extra ``explore``); without it that is bad input saying how to
    install it. The explorer itself keeps no graph."""
    try:
        import networkx as nx
    except ImportError:
        raise UserError("keeping the explored graph needs networkx, which is not installed",
                        hint="pip install 'gtcheck[explore]' (or pip install networkx)") from None
    return nx


def explore(sc: Scenario, *, max_states: int = 100_000, invariants: list[tuple[str, Property]] | None = None,
            reduce: bool = True, timed: bool = True, time_limit_s: float | None = None,
            rules: Rules | None = None, keep_graph: bool = False, final_reads: bool = False,
            progress: Callable[[str], None] | None = None) -> Exploration:
    """Explore every run of ``sc`` (up to ``max_states`` states or ``time_limit_s``).
    ``timed``: requests and fault events in scripted-time order (off: in any order).
    ``reduce``: the relation's partial-order reduction. ``rules``: a mutant.
    ``final_reads``: explore the final phase's reads too (default: report the final states
    directly). ``keep_graph``: keep the state graph (networkx; memory!) in ``graph``."""
    if keep_graph:
        networkx()
    m = model_for(sc, rules=rules, timed=timed, final_reads=final_reads)
    invariants = invariants or []
    observer = History(m) if invariants else None
    m.history_visible = bool(invariants)
    outcomes = Outcomes(m)
    finals: dict[str, dict[bytes, dict[str, Any]]] = {}
    undecided: dict[str, str] = {}     # property -> why the checker could not decide it on a run

    def on_end(state: Any, obs: Any, fp: Hashable) -> list[tuple[str, str]]:
        for key, regions in m.final_of(state).items():
            finals.setdefault(key, {})[exact_dumps(regions, sort_keys=True)] = regions
        if not invariants:
            return []
        run = run_of(m, state, History.events(obs), obs[3])
        history = b"".join(exact_dumps(e) + b"\n" for e in run.events)
        broken = []
        for pname, prop in invariants:
            verdict: Verdict = prop(run, history)
            if not verdict.holds:
                broken.append((pname, verdict.message))
            elif verdict.unknown is not None:
                undecided.setdefault(pname, verdict.unknown)
        return broken

    r: Result = explore_model(m, max_states=max_states, time_limit_s=time_limit_s, reduce=reduce,
                              keep_graph=keep_graph, observer=observer, on_transition=outcomes.transition,
                              on_end=on_end, progress=progress)
    props: dict[str, dict[str, Any]] = {}
    paths: dict[str, tuple[int, list[Action]]] = {}
    names = ["model"] + [n for n, _ in invariants]
    model_props = {p.name for p in m.properties()}
    for pname in names:
        broken = [v for v in r.violations.values() if (v.name in model_props if pname == "model" else v.name == pname)]
        if broken:
            v = min(broken, key=lambda v: len(v.path))
            paths[pname] = (v.root, v.path)
            props[pname] = {"holds": False, "message": v.message, "counterexample": None,
                            "path": [m.label(a) for a in v.path]}
        elif r.complete:
            props[pname] = {"holds": True, "counterexample": None}
            if pname in undecided:
                props[pname]["undecided"] = undecided[pname]
        else:        # never "holds" for what was not all explored
            props[pname] = {"holds": None, "counterexample": None,
                            "message": "no violation in the part explored (incomplete)"}
    final_states = {key: _sort(list(v.values())) for key, v in sorted(finals.items())}
    return Exploration(r.graph, r.states, r.transitions, r.complete, {n: _sort(v) for n, v in outcomes.found.items()},
                       final_states, props, m.vectors, r.wall_s, r.cpu_s, paths, coverage_line(r, m), r.stopped,
                       r.depth, m)


def replay(sc: Scenario, offsets: dict[str, int], actions: list[Action], *, timed: bool = True,
           rules: Rules | None = None, where: str = "--replay") -> tuple[GlobalTables, World, list[dict[str, Any]]]:
    """Take ``actions`` from the start (a counterexample path): the model, the state where
    they lead and the history on the way. ``where``: what a complaint names."""
    m = model_for(sc, rules=rules, timed=timed)
    if offsets in m.vectors:
        root = m.vectors.index(offsets)
    elif all(sc.clock(r).offset_max_ns is None and sc.clock(r).offset_ns == o for r, o in offsets.items()):
        root = 0        # the counterexample's own scenario: its offsets are pinned
    else:
        raise UserError(f"the path's clock offsets {offsets} are not among the scenario's ranges' ends "
                        f"{m.vectors}", where=where)
    try:
        state, events = replay_model(m, root, actions)
    except ValueError as exc:
        raise UserError(f"the path does not replay: {exc}", where=where,
                        hint="replay a path against the scenario it was written with") from None
    return m, state, events


def write_counterexamples(ex: Exploration, sc: Scenario, out: Path) -> None:
    """For each violated property: NAME.jsonl (the history along the shortest path),
    NAME.toml (the scenario, offsets pinned), NAME.path.json (the actions:
    ``gtcheck explore --replay``)."""
    from gtcheck.kernel import tomlout

    for pname, (vi, path) in ex.paths.items():
        make_directory(out, "-o/--output directory")
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in pname)
        m, state, events = replay(sc, ex.offsets[vi], path, rules=ex.model.rules if ex.model else None)
        hist = out / f"{safe}.jsonl"
        write_bytes(hist, b"".join(exact_dumps(e) + b"\n" for e in [m.header(state)] + events))
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
        write_bytes(pfile, exact_dumps({"scenario": scen.name, "offsets": ex.offsets[vi],
                                        "actions": [action_dict(a) for a in path]}, indent=True))
        ex.properties[pname]["counterexample"] = {"history": str(hist), "scenario": str(scen), "path": str(pfile)}


_PATH_HINT = "give the NAME.path.json that gtcheck explore -o wrote"


def load_path(path: Path) -> tuple[dict[str, int], list[Action]]:
    """A counterexample's NAME.path.json: ``{"offsets": {region: ns}, "actions": [...]}``,
    each action an object of ``Action``'s fields (strings and integers as written);
    anything else is bad input naming the file and the field (exit 254)."""
    where = str(path)
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise UserError(f"not JSON: {exc}", where=where, hint=_PATH_HINT) from None
    except OSError as exc:
        raise UserError(f"cannot read the path file: {exc.strerror or exc}", where=where) from None
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise UserError('expected an object with an "actions" list', where=where, hint=_PATH_HINT)
    offsets = data.get("offsets", {})
    if not (isinstance(offsets, dict) and all(type(v) is int for v in offsets.values())):
        raise UserError('"offsets" must map region names to integer nanoseconds', where=f"{where}: offsets",
                        hint=_PATH_HINT)
    actions = []
    for i, a in enumerate(data["actions"]):
        at = f"{where}: actions[{i}]"
        if not isinstance(a, dict):
            raise UserError(f"an action is an object, not {type(a).__name__}", where=at, hint=_PATH_HINT)
        for name, value in a.items():
            want = _ACTION_TYPES.get(name)
            if want is None:
                raise UserError(f"unknown field {name!r}", where=at, hint="an action has " + ", ".join(ACTION_FIELDS))
            if type(value) is not want:
                raise UserError(f"field {name!r} must be {'a string' if want is str else 'an integer'}, "
                                f"not {type(value).__name__}", where=at, hint=_PATH_HINT)
        if "kind" not in a:
            raise UserError("an action needs its 'kind'", where=at, hint=_PATH_HINT)
        actions.append(Action(**a))
    return offsets, actions


_ACTION_TYPES = {name: (str if name in ("kind", "client", "key") else int) for name in ACTION_FIELDS}


def replay_file(sc: Scenario, path: Path, *, timed: bool = True) -> tuple[GlobalTables, World, list[dict[str, Any]]]:
    """``gtcheck explore --replay PATH``: :func:`load_path`, then :func:`replay`, whose
    complaints (an offset or an action this scenario does not have) name the file."""
    offsets, actions = load_path(path)
    unknown = sorted(set(offsets) - set(sc.regions))
    if unknown:
        raise UserError(f"offsets name regions the scenario does not have: {', '.join(unknown)}",
                        where=f"{path}: offsets", hint="replay a path with the scenario written beside it (NAME.toml)")
    return replay(sc, offsets, actions, timed=timed, where=str(path))
