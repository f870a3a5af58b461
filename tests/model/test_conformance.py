"""Every timed run is a path of the explorer's graph.

The timed simulator is a scheduler over the one transition relation (``GlobalTables``); the
explorer walks the same relation. Over Hypothesis-generated scripted scenarios (eventual and
strong mode; isolations, outages, replication delays, clock jumps and offsets, failover,
transactions, coalescing, final reads), the simulator's run is recorded action by action
(``Simulator(trace=...)``) and replayed through the explorer's side of the relation: each
action must be among ``actions(state)`` as the explorer computes them (time order
included), the events ``next`` produces must be the history the simulator wrote, byte for
byte, and the two final states must encode alike. Durations are pinned (scripted
latencies, constant delays and round trips), as ``gtcheck search`` pins them."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.model.globaltables import Action, GlobalTables
from gtcheck.model.history_writer import ListSink
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.simulator import Simulator
from tests.model.scripted import scenarios

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def action_of(step: tuple[Any, ...]) -> Action:
    kind = step[0]
    if kind in ("invoke", "arrive", "ack"):
        return Action(kind, step[1])
    if kind == "complete":
        return Action("complete", step[1], copy=step[2], durable=step[3])
    if kind == "nemesis":
        return Action("nemesis")
    return Action(kind, key=step[1], write=step[2], region=step[3])


def replay(data: dict[str, Any], seed: int, bug: str | None = None) -> tuple[int, set[str]]:
    """The timed run of ``data`` (with mutant ``bug``) replayed on the explorer's side."""
    from gtcheck.model.mutants import mutant

    sc = scenario_from_dict(data)
    out, trace = ListSink(), []
    sim = Simulator(sc, seed, out, trace=trace, rules=mutant(bug) if bug else None)
    sim.run()
    model = GlobalTables(sc, mutant(bug) if bug else None)
    state = model.init()[0]
    assert model.header(state, seed) == out.items[0]
    events: list[dict[str, Any]] = []
    kinds = set()
    for step in trace:
        a = action_of(step)
        enabled = model.actions(state)
        assert a in enabled, (a, enabled)
        state, produced = model.next(state, a)
        events += produced
        kinds.add(a.kind)
    assert [orjson.dumps(e) for e in events] == [orjson.dumps(e) for e in out.items[1:]]
    assert model.actions(state) == [], "the timed run ended where the explorer's run ends"
    assert model.encode(state) == model.encode(sim.world)
    return len(trace), kinds


@SETTINGS
@given(scenarios(pinned=True, strong=False), st.integers(0, 1000))
def test_every_timed_run_is_a_path_of_the_explorers_graph_eventual(data, seed):
    replay(data, seed)


@SETTINGS
@given(scenarios(pinned=True, strong=True), st.integers(0, 1000))
def test_every_timed_run_is_a_path_of_the_explorers_graph_strong(data, seed):
    replay(data, seed)


def test_the_replay_covers_every_kind_of_action():
    """The generated runs exercise what the test claims: over a fixed set of draws every kind
    of action the timed simulator takes is replayed (deliveries, follower copies, coalescing,
    faults, both modes' request steps)."""
    seen: set[str] = set()

    @settings(max_examples=120, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios(pinned=True), st.integers(0, 1000))
    def collect(data, seed):
        seen.update(replay(data, seed)[1])

    collect()
    assert seen >= {"invoke", "complete", "arrive", "ack", "deliver", "copy", "coalesce", "nemesis"}, seen


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(pinned=True, strong=False), st.integers(0, 1000),
       st.sampled_from(["stale-strong-read", "drop-replication", "phantom-value", "show-failed-write",
                        "delay-replication"]))
def test_a_mutants_timed_run_is_a_path_of_its_explorers_graph(data, seed, bug):
    """A mutant is a rule substituted in the relation: both drivers run it (the timing-only
    one changes when deliveries happen, which the explorer leaves open anyway)."""
    replay(data, seed, bug)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(pinned=True, strong=True), st.integers(0, 1000))
def test_the_strong_mutants_timed_run_is_a_path_of_its_explorers_graph(data, seed):
    replay(data, seed, "strong-local-read")
