"""The step interface (model/step.py): the model's rules one action at a time.

From states reached by random walks over random scripted scenarios: every enabled action
steps to a valid state (each copy holds the LWW join of what reached it, link queues are
in stamp order, every action changes the state); snapshot and restore round-trip;
fingerprints are equal for equal states reached by different paths (independent
deliveries in either order) and differ for different states; every complete run
converges. And the step world, driven in the timed simulator's order, ends where the
timed simulator ends.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.model.lww import merge
from gtcheck.model.scenario import load_scenario, scenario_from_dict
from gtcheck.model.step import Action, StepWorld
from tests.simhelp import SCENARIOS, run

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
KEYS = ["x", "y"]


@st.composite
def requests(draw, regions: list[str], n: int) -> dict[str, Any]:
    f = draw(st.sampled_from(["write", "update", "delete", "read", "read", "cas", "transaction"]))
    entry: dict[str, Any] = {"at": f"{draw(st.integers(0, 50))}ms", "region": draw(st.sampled_from(regions)),
                             "f": f}
    if draw(st.booleans()):
        entry["process"] = draw(st.sampled_from(["c0", "c1"]))
    key = draw(st.sampled_from(KEYS))
    if f == "transaction":
        entry["items"] = [{"f": "write", "key": "x", "value": {"t": n}},
                          {"f": "update", "key": "y", "set": {"t": n}}]
        return entry
    entry["key"] = key
    if f == "write":
        entry["value"] = {"v": n}
    elif f == "update":
        entry["set"] = {"a": n}
    elif f == "read":
        entry["consistent"] = draw(st.booleans())
    elif f == "cas":
        entry["new"] = {"v": n}
    if f in ("update", "delete") and draw(st.booleans()):
        entry["condition"] = {}
    return entry


@st.composite
def scripted(draw) -> StepWorld:
    regions = REGIONS[:draw(st.integers(2, 3))]
    copies = draw(st.integers(1, 3))
    n = draw(st.integers(1, 6))
    data = {
        "name": "steps",
        "regions": {"names": regions, "copies": copies, "write_quorum": draw(st.integers(1, copies))},
        "clocks": {r: {"offset": f"{draw(st.integers(-5, 5))}ms"} for r in regions if draw(st.booleans())},
        "script": [draw(requests(regions, i)) for i in range(n)],
        "faults": [{"kind": "isolate", "region": draw(st.sampled_from(regions)),
                    "at": f"{draw(st.integers(0, 50))}ms", "duration": f"{draw(st.integers(1, 50))}ms"}
                   for _ in range(draw(st.integers(0, 2)))],
    }
    return StepWorld(scenario_from_dict(data))


def canonical(world: StepWorld) -> Any:
    """The state as plain values, independently of the fingerprint's encoding."""
    s = world.state

    def v(x):
        return None if x is None else (x.ts, x.origin, x.write_id, repr(sorted((x.value or {}).items())), x.deleted)

    return (s.now,
            frozenset((k, tuple(v(x) for x in slots)) for k, slots in s.slots.items()),
            frozenset((link, tuple(v(x) for x in q)) for link, q in s.links.items()),
            frozenset((where, tuple(sorted(v(x) for x in vs))) for where, vs in s.followers.items()),
            frozenset(s.pc.items()), s.nemesis, tuple(s.isolated))


def canonical_of(world: StepWorld, state) -> Any:
    saved = world.state
    world.state = state
    try:
        return canonical(world)
    finally:
        world.state = saved


def walk(world: StepWorld, data, limit: int = 80) -> list[Action]:
    taken = []
    for _ in range(limit):
        actions = world.enabled()
        if not actions:
            break
        a = actions[data.draw(st.integers(0, len(actions) - 1))]
        world.step(a)
        taken.append(a)
    return taken


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scripted(), st.data())
def test_every_enabled_action_steps_to_a_valid_state(world, data):
    for _ in range(40):
        actions = world.enabled()
        if not actions:
            break
        before, snap = world.fingerprint(), world.snapshot()
        cut = world.state.isolated
        assert not any(a.kind == "deliver" and (cut[a.source] or cut[a.target]) for a in actions)
        for a in actions:
            new = world.after(a)
            assert world.fingerprint() == before, "after() leaves the world as it is"
            world.step(a)
            assert canonical(world) == canonical_of(world, new)
            assert world.violations() == [], a
            assert world.fingerprint() != before, f"{a} changed nothing"
            world.restore(snap)
            assert world.fingerprint() == before
        world.step(actions[data.draw(st.integers(0, len(actions) - 1))])


@SETTINGS
@given(scripted(), st.data())
def test_a_complete_run_converges_to_the_join(world, data):
    walk(world, data, limit=10_000)
    assert world.enabled() == [] and world.quiescent()
    assert all(world.state.pc[c] == len(p) for c, p in world.programs.items())
    assert world.violations() == []
    for key, slots in world.state.slots.items():
        join = None
        for w, v in world.state.versions.items():
            if world.key_of[w] == key:
                join = merge(join, v)
        assert all(s == join for s in slots), key


@SETTINGS
@given(scripted(), st.data())
def test_snapshot_and_restore_round_trip(world, data):
    walk(world, data, limit=data.draw(st.integers(0, 15)))
    snap, fp, hist = world.snapshot(), world.fingerprint(), world.history()
    later = walk(world, data, limit=15)
    fp_later = world.fingerprint()
    world.restore(snap)
    assert world.fingerprint() == fp and world.history() == hist
    for a in later:                   # the same actions again: the same state
        world.step(a)
    assert world.fingerprint() == fp_later
    world.restore(snap)               # a snapshot is not changed by stepping after restore
    world.restore(snap)
    assert world.fingerprint() == fp


def _independent(a: Action, b: Action) -> bool:
    if a.kind in ("request", "nemesis") or b.kind in ("request", "nemesis"):
        return False
    link = lambda x: (x.source, x.target, x.key) if x.kind != "copy" else None  # noqa: E731
    return link(a) is None or link(a) != link(b)


@SETTINGS
@given(scripted(), st.data())
def test_independent_actions_commute(world, data):
    checked = 0
    for _ in range(30):
        actions = world.enabled()
        if not actions:
            break
        snap = world.snapshot()
        for i, a in enumerate(actions):
            for b in actions[i + 1:]:
                if not _independent(a, b):
                    continue
                world.step(a)
                world.step(b)
                ab = world.fingerprint()
                world.restore(snap)
                world.step(b)
                world.step(a)
                assert world.fingerprint() == ab, (a, b)
                world.restore(snap)
                checked += 1
        world.step(actions[data.draw(st.integers(0, len(actions) - 1))])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripted(), st.data())
def test_fingerprints_are_equal_exactly_for_equal_states(world, data):
    seen: dict[str, Any] = {}
    by_state: dict[Any, str] = {}
    for _ in range(3):                 # several walks from the start: different paths
        start = world.snapshot()
        for _ in range(25):
            fp, canon = world.fingerprint(), canonical(world)
            assert seen.setdefault(fp, canon) == canon, "one fingerprint, two states"
            assert by_state.setdefault(canon, fp) == fp, "one state, two fingerprints"
            actions = world.enabled()
            if not actions:
                break
            world.step(actions[data.draw(st.integers(0, len(actions) - 1))])
        world.restore(start)


def test_two_deliveries_in_either_order_reach_one_state():
    sc = scenario_from_dict({"name": "two", "regions": {"names": REGIONS, "copies": 1, "write_quorum": 1},
                             "script": [{"at": "0ms", "region": "us-east-1", "f": "write", "key": "x",
                                         "value": {"v": 1}},
                                        {"at": "0ms", "region": "us-east-1", "f": "write", "key": "x",
                                         "value": {"v": 2}}]})
    a, b = StepWorld(sc), StepWorld(sc)
    for w in (a, b):
        w.step(Action("request", "s1"))
        w.step(Action("request", "s2"))
    to_ap = [x for x in a.enabled() if x.kind == "deliver"]
    assert len(to_ap) == 2
    for x in to_ap:
        a.step(x)
    for x in reversed(to_ap):
        b.step(x)
    assert a.fingerprint() == b.fingerprint()
    assert a.history() == b.history()
    c = StepWorld(sc)                  # the other request order: a different state
    c.step(Action("request", "s2"))
    c.step(Action("request", "s1"))
    assert c.fingerprint() != StepWorld(sc).fingerprint()
    d = StepWorld(sc)
    d.step(Action("request", "s1"))
    d.step(Action("request", "s2"))
    assert d.fingerprint() != c.fingerprint()


def test_a_step_rejects_an_action_that_is_not_enabled():
    sc = scenario_from_dict({"name": "one", "script": [{"at": "0ms", "region": "us-east-1", "f": "write",
                                                         "key": "x", "value": {"v": 1}}]})
    w = StepWorld(sc)
    with pytest.raises(ValueError):
        w.step(Action("deliver", source=0, target=1, key="x"))
    w.step(Action("request", "s1"))
    with pytest.raises(ValueError):
        w.step(Action("request", "s1"))
    r = StepWorld(scenario_from_dict({"name": "r", "script": [{"at": "0ms", "region": "us-east-1", "f": "read",
                                                              "key": "x"}]}))
    with pytest.raises(ValueError, match="copy"):
        r.step(Action("request", "s1"))           # which copy serves it is the caller's to say
    with pytest.raises(ValueError):
        w.step(Action("coalesce", source=0, target=1, key="x"))


def _settle_copies(world: StepWorld) -> None:
    while True:
        copies = [a for a in world.enabled() if a.kind == "copy"]
        if not copies:
            return
        world.step(copies[0])


@pytest.mark.parametrize("name", ["lost-update", "lost-increment", "double-create", "clock-offset-loses",
                                  "isolation-lww", "tombstone", "partial-transaction"])
def test_the_step_world_replays_the_timed_simulators_run(tmp_path, name):
    """Drive the step world in the order the timed simulator took (each request where it
    completed, each delivery when it arrived, eventual reads from the copy that served
    them; copy lag is 0 in these scenarios): every read returns what it returned there,
    and every region ends with the same item. Both drivers run the same rules."""
    timed = run(f"behaviours/{name}.toml", tmp=tmp_path)
    world = StepWorld(load_scenario(SCENARIOS / "behaviours" / f"{name}.toml"))
    rix = {r: i for i, r in enumerate(world.regions)}
    served = {t["index"]: t["copy"] for t in timed.of("read")}
    firsts = [o for o in timed.ops.values() if o["process"] not in ("nemesis", "ttl")
              and o["time"] < timed.header["settled_after_ns"] and o["index"] not in
              {p["index"] for p in timed.ops.values() if p.get("txn") and p["index"] != min(
                  q["index"] for q in timed.ops.values() if q.get("txn") == p.get("txn"))}]
    events = [(o["end"], 1, o["index"], ("request", o)) for o in firsts]
    events += [(e["time"], 0, e["index"], ("nemesis", e)) for e in timed.events if e["process"] == "nemesis"]
    for t in timed.of("write"):
        assert t["took_effect"]
        for region, at in t["applied_ns"].items():
            assert at is not None, "no coalescing in these scenarios"
            if region != t["region"]:
                events.append((at, 0, t["index"], ("deliver", (rix[t["region"]], rix[region], t["key"]))))
    got_reads = []
    for _, _, _, (kind, what) in sorted(events, key=lambda e: e[:3]):
        if kind == "nemesis":
            world.step(Action("nemesis"))
            assert world.history()[-1]["f"] == what["f"]
        elif kind == "request":
            copy = served.get(what["index"], 0) if what["f"] == "read" and not what.get("consistent") else -1
            world.step(Action("request", str(what["process"]), copy))
        else:
            o, d, key = what
            world.step(Action("deliver", source=o, target=d, key=key))
        _settle_copies(world)
    assert world.quiescent()
    got_reads = [e["value"] for e in world.history() if e["type"] == "ok" and e["f"] == "read"]
    want_reads = [o["value"] for o in sorted(firsts, key=lambda o: (o["end"], o["index"])) if o["f"] == "read"]
    assert got_reads == want_reads
    for key in world.state.slots:
        finals = timed.finals(key)
        for region, value in finals.items():
            v = world.state.slots[key][rix[region] * world.copies]
            assert (None if v is None or v.deleted else v.value) == value, (key, region)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(scripted(), st.data())
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
