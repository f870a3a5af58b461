"""The one transition relation (model/globaltables.py), as the explorer walks it.

From states reached by random walks over generated scripted scenarios (both modes, every
fault kind, failover, transactions): every enabled action leads to a state where every copy
holds the join of what reached it, and changes something; ``next`` never changes the
state it is given, and is a function (the same action from the same state, the same state);
independent deliveries commute; fingerprints are equal exactly for equal states; a
complete run converges, ends every client's program, and writes a valid history the
checker accepts.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.model.globaltables import Action, GlobalTables
from gtcheck.model.lww import merge
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.world import FINISHED
from tests.model.scripted import REGIONS, scenarios
from tests.simhelp import Walker

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def worlds(**kw: Any) -> Any:
    return scenarios(**kw).map(lambda data: Walker(GlobalTables(scenario_from_dict(data), observe=True)))


def canonical(model: GlobalTables, state: Any) -> Any:
    """The state as plain values, independently of ``encode``."""
    def v(x):
        return None if x is None else (x.ts, x.origin, x.write_id, orjson.dumps(x.value, option=orjson.OPT_SORT_KEYS),
                                       x.deleted)

    items = frozenset((k, tuple(v(s) for s in it.slots),
                       frozenset((v(f.version), tuple(a if a < 0 or a == 1 << 62 else "due" for a in f.due))
                                 for f in it.flights),
                       v(it.log.head), tuple((a, v(x)) for a, x in it.log.pending))
                      for k, it in state.items.items())
    clients = tuple((c.phase, c.pc, c.fpc) + ((c.due, c.region, c.timeout, c.outcome, v(c.version))
                                              if c.phase in (1, 2) else ())
                    for c in state.clients)
    return (state.vector, state.nemesis, tuple(state.cut), tuple(state.down), items, clients)


def walk(world: Walker, data, limit: int = 80) -> list[Action]:
    taken = []
    for _ in range(limit):
        actions = world.enabled()
        if not actions:
            break
        a = actions[data.draw(st.integers(0, len(actions) - 1))]
        world.step(a)
        taken.append(a)
    return taken


@SETTINGS
@given(worlds(), st.data())
def test_every_enabled_action_steps_to_a_valid_state(world, data):
    m = world.model
    for _ in range(40):
        actions = world.enabled()
        if not actions:
            break
        before = m.encode(world.state)
        for a in actions:
            new, _ = m.next(world.state, a)
            assert m.encode(world.state) == before, f"next() changed the state it was given ({a})"
            again, _ = m.next(world.state, a)
            assert m.encode(again) == m.encode(new), "next() is a function"
            assert m.encode(new) != before, f"{a} changed nothing"
            saved, world.state = world.state, new
            assert world.violations() == [], a
            world.state = saved
        world.step(actions[data.draw(st.integers(0, len(actions) - 1))])


@SETTINGS
@given(worlds(), st.data())
def test_a_complete_run_converges_to_the_join(world, data):
    walk(world, data, limit=10_000)
    assert world.enabled() == []
    assert all(c.phase == FINISHED for c in world.state.clients)
    assert world.violations() == []
    for key, item in world.state.items.items():
        assert item.settled()
        join = None
        for v in item.written:
            join = merge(join, v)
        assert all(s is join for s in item.slots), key


def _independent(a: Action, b: Action) -> bool:
    replication = ("deliver", "copy", "coalesce")
    if a.kind not in replication or b.kind not in replication:
        return False
    if a.key != b.key:
        return True
    return a.kind == "copy" and b.kind == "copy" and a.region != b.region


@SETTINGS
@given(worlds(), st.data())
def test_independent_actions_commute(world, data):
    m = world.model
    for _ in range(30):
        actions = world.enabled()
        if not actions:
            break
        for i, a in enumerate(actions):
            for b in actions[i + 1:]:
                if not _independent(a, b):
                    continue
                ab = m.next(m.next(world.state, a)[0], b)[0]
                ba = m.next(m.next(world.state, b)[0], a)[0]
                assert m.encode(ab) == m.encode(ba), (a, b)
        world.step(actions[data.draw(st.integers(0, len(actions) - 1))])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.data())
def test_encodings_are_equal_exactly_for_equal_states(world, data):
    m = world.model
    seen: dict[Any, Any] = {}
    by_state: dict[Any, Any] = {}
    start = world.state
    for _ in range(3):                 # several walks from the start: different paths
        world.state = start
        for _ in range(25):
            enc, canon = m.encode(world.state), canonical(m, world.state)
            assert seen.setdefault(enc, canon) == canon, "one encoding, two states"
            assert by_state.setdefault(canon, enc) == enc, "one state, two encodings"
            actions = world.enabled()
            if not actions:
                break
            world.step(actions[data.draw(st.integers(0, len(actions) - 1))])


def _afresh(state: Any) -> Any:
    """A copy of ``state`` sharing nothing that caches a hash: every client, item and flight
    copied, the items' slot numbers dropped."""
    w = state.fork()
    for ix in range(len(w.clients)):
        w.own_client(ix)
    for key in list(w.items):
        it = w.own_item(key)
        it.svids = None
        for f in list(it.flights):
            it.own_flight(f.version.write_id)
    return w


@SETTINGS
@given(worlds(), st.data())
def test_the_hashes_kept_from_the_parent_equal_those_made_afresh(world, data):
    """``encode`` reuses the hash of every client, item and flight a transition did not
    copy, and an item's numbers for its slots' versions: a state's encoding equals the one
    made from scratch, after every enabled action (a stale hash would show here)."""
    m = world.model
    for _ in range(40):
        actions = world.enabled()
        if not actions:
            break
        for a in actions:
            new, _ = m.next(world.state, a)
            assert m.encode(new) == m.encode(_afresh(new)), a
        world.step(actions[data.draw(st.integers(0, len(actions) - 1))])


def test_two_deliveries_in_either_order_reach_one_state():
    sc = scenario_from_dict({"name": "two", "regions": {"names": REGIONS, "copies": 1, "write_quorum": 1},
                             "final": {"reads": False},
                             "script": [{"at": "0ms", "region": "us-east-1", "f": "write", "key": "x",
                                         "value": {"v": 1}},
                                        {"at": "0ms", "region": "eu-west-1", "f": "write", "key": "x",
                                         "value": {"v": 2}}]})
    m = GlobalTables(sc)
    a = Walker(m)
    a.run_until(("invoke", "complete"))
    to_ap = [x for x in a.enabled() if x.kind == "deliver" and x.region == 2]
    assert len(to_ap) == 2
    b = Walker(m)
    b.state, b.events = a.state, list(a.events)
    for x in to_ap:
        a.step(x)
    for x in reversed(to_ap):
        b.step(x)
    assert a.fingerprint() == b.fingerprint()
    assert a.history() == b.history()
    c = Walker(m)                      # one write sent, the other not: another state
    c.step(Action("invoke", "s1"))
    d = Walker(m)
    d.step(Action("invoke", "s2"))
    assert c.fingerprint() != d.fingerprint()


def test_a_step_refuses_an_action_that_is_not_enabled():
    sc = scenario_from_dict({"name": "one", "final": {"reads": False},
                             "script": [{"at": "0ms", "region": "us-east-1", "f": "write", "key": "x",
                                         "value": {"v": 1}}]})
    m = GlobalTables(sc)
    s = m.init()[0]
    with pytest.raises(ValueError):
        m.next(s, Action("deliver", key="x", write=0, region=1))
    s, _ = m.next(s, Action("invoke", "s1"))
    with pytest.raises(ValueError):
        m.next(s, Action("invoke", "s1"))
    with pytest.raises(ValueError):
        m.next(s, Action("invoke", "nobody"))
    with pytest.raises(ValueError):
        m.next(s, Action("coalesce", key="x", write=0, region=1))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(worlds(), st.data())
def test_a_walk_writes_a_valid_history_the_checker_accepts(tmp_path, world, data):
    from gtcheck.checker.check import check_history
    from gtcheck.checker.history import validate_file

    walk(world, data, limit=10_000)
    path = tmp_path / "walk.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in [world.header()] + world.history()))
    assert validate_file(path)
    result = check_history(path, jobs=1)
    for prop in ("integrity", "read_after_write"):
        assert result.summary[prop]["valid"] is True, (prop, result.summary[prop]["anomalies"][:2])
