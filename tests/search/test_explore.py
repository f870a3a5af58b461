"""gtcheck explore (issue 9): every run of a small scripted scenario over the step
interface: conflict orders the clock-offset ranges allow, hand-derived outcome sets,
stable counts, shortest counterexample paths."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.model.scenario import scenario_from_dict
from gtcheck.search.explore import explore, load_path, replay
from gtcheck.search.run import invariant_property

US, EU = "us-east-1", "eu-west-1"
NEW = {"v": 1, "rev": 1}


def two_writes(us_offset, eu_offset) -> dict:
    """2 regions, 1 key, 2 concurrent writes from different regions."""
    return {"name": "two-writes", "regions": {"names": [US, EU], "copies": 1, "write_quorum": 1},
            "clocks": {US: {"offset": us_offset}, EU: {"offset": eu_offset}},
            "script": [{"at": "1s", "region": US, "f": "write", "key": "x", "value": {"w": "us"}},
                       {"at": "1.01s", "region": EU, "f": "write", "key": "x", "value": {"w": "eu"}}],
            # concurrent: neither write can reach the other region before the other is written
            "faults": [{"kind": "isolate", "region": EU, "at": "500ms", "duration": "5s"}]}


def test_offset_ranges_that_allow_either_order_give_both_final_states():
    ex = explore(scenario_from_dict(two_writes({"min": "-50ms", "max": "50ms"}, {"min": "-50ms", "max": "50ms"})))
    assert ex.complete and ex.holds
    finals = ex.final_states["x"]
    assert len(finals) == 2
    assert {f[US]["w"] for f in finals} == {"us", "eu"}
    assert all(f[US] == f[EU] for f in finals), "every complete run converges"


def test_offset_ranges_that_rule_one_order_out_give_one_final_state():
    # us-east-1 runs 100-200 ms ahead: its write (at 1 s, or later) is always stamped later
    ex = explore(scenario_from_dict(two_writes({"min": "100ms", "max": "200ms"}, "0ms")))
    assert ex.complete and ex.holds
    assert [f[US]["w"] for f in ex.final_states["x"]] == ["us"]


def _outcomes(script: list[dict], copies: int = 1, quorum: int = 1) -> dict:
    sc = scenario_from_dict({"name": "o", "regions": {"names": [US, EU], "copies": copies,
                                                      "write_quorum": quorum}, "script": script})
    ex = explore(sc)
    assert ex.complete and ex.holds
    return ex.outcomes


def test_an_eventual_read_in_another_region_right_after_a_write_sees_absent_or_new():
    out = _outcomes([{"at": "0s", "region": US, "f": "write", "key": "x", "value": {"v": 1}, "process": "a"},
                     {"at": "0s", "region": EU, "f": "read", "key": "x", "process": "a", "name": "r"}])
    assert out == {"r": [None, NEW]}


def test_a_strong_read_in_the_writing_region_after_the_write_sees_only_new():
    out = _outcomes([{"at": "0s", "region": US, "f": "write", "key": "x", "value": {"v": 1}, "process": "a",
                      "name": "w"},
                     {"at": "0s", "region": US, "f": "read", "key": "x", "consistent": True, "process": "a",
                      "name": "r"}], copies=3, quorum=2)
    assert out == {"r": [NEW], "w": ["ok"]}


def test_an_eventual_read_in_the_writing_region_sees_either_because_of_the_lagging_copy():
    script = [{"at": "0s", "region": US, "f": "write", "key": "x", "value": {"v": 1}, "process": "a"},
              {"at": "0s", "region": US, "f": "read", "key": "x", "process": "a", "name": "r"}]
    assert _outcomes(script, copies=3, quorum=2) == {"r": [None, NEW]}
    assert _outcomes(script, copies=2, quorum=2) == {"r": [NEW]}, "no lagging copy: only new"


def test_counts_are_stable_across_runs_and_the_reduction_loses_nothing():
    sc = scenario_from_dict(dict(two_writes({"min": "-50ms", "max": "50ms"}, "0ms"),
                                 regions={"names": [US, EU], "copies": 2, "write_quorum": 1},
                                 script=two_writes("0ms", "0ms")["script"] + [
                                     {"at": "2s", "region": EU, "f": "read", "key": "x", "name": "r"}]))
    a, b = explore(sc), explore(sc)
    assert (a.states, a.edges) == (b.states, b.edges)
    assert a.to_json() == b.to_json()
    full = explore(sc, reduce=False)
    assert full.states >= a.states
    assert (full.outcomes, full.final_states) == (a.outcomes, a.final_states)
    assert (a.states, a.edges) == (STATES, EDGES), (a.states, a.edges)


STATES, EDGES = 32, 36   # recorded; a change means the exploration changed


def test_a_violated_invariant_comes_with_the_shortest_path(tmp_path):
    sc = scenario_from_dict({"name": "inc", "regions": {"names": [US, EU], "copies": 1, "write_quorum": 1},
                             "script": [{"at": "0s", "region": r, "f": "update", "key": "c", "add": {"n": 1}}
                                        for r in (US, EU)]})
    ex = explore(sc, invariants=[("counter_matches_increments", invariant_property("counter_matches_increments"))])
    p = ex.properties["counter_matches_increments"]
    assert p["holds"] is False and "lost" in p["message"]
    # shortest: both increments sent and carried out before either delivery, then both deliveries
    assert p["path"] == ["invoke s1", "invoke s2", "complete s1", "complete s2", "deliver c v1 ->us-east-1",
                         "deliver c v0 ->eu-west-1"]
    from gtcheck.search.explore import write_counterexamples
    write_counterexamples(ex, sc, tmp_path)
    files = ex.properties["counter_matches_increments"]["counterexample"]
    offsets, actions = load_path(tmp_path / "counter_matches_increments.path.json")
    m, state, events = replay(sc, offsets, actions)
    lines = (tmp_path / "counter_matches_increments.jsonl").read_bytes().splitlines()
    assert [orjson.loads(x) for x in lines] == [m.header(state)] + events
    assert set(files) == {"history", "scenario", "path"}


def test_the_command_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("""
[regions]
names = ["us-east-1", "eu-west-1"]
copies = 1
write_quorum = 1
[clocks.us-east-1]
offset = { min = "-50ms", max = "50ms" }
[[script]]
at = "1s"
region = "us-east-1"
f = "update"
key = "c"
add = { n = 1 }
[[script]]
at = "1s"
region = "eu-west-1"
f = "update"
key = "c"
add = { n = 1 }
name = "second"
""")
    run = lambda *a: subprocess.run([sys.executable, "-W", "ignore", "-m", "gtcheck", "explore", "--scenario",  # noqa: E731
                                     str(path), *a], capture_output=True, timeout=120, cwd=tmp_path)
    r = run("--format", "json")
    assert r.returncode == 0, r.stderr
    doc = orjson.loads(r.stdout)
    assert set(doc) >= {"states", "edges", "complete", "outcomes", "final_states", "properties"}
    assert doc["complete"] is True and doc["outcomes"] == {"second": ["ok"]}
    assert doc["properties"]["model"]["holds"] is True
    r = run("--format", "json", "--max-states", "3")
    assert r.returncode == 2 and orjson.loads(r.stdout)["complete"] is False
    r = run("--format", "json", "--property", "counter_matches_increments", "-o", str(tmp_path / "cx"))
    assert r.returncode == 1
    doc = orjson.loads(r.stdout)
    cx = doc["properties"]["counter_matches_increments"]["counterexample"]
    assert (tmp_path / "cx" / "counter_matches_increments.jsonl").exists() and cx["path"].endswith(".path.json")
    r = subprocess.run([sys.executable, "-W", "ignore", "-m", "gtcheck", "explore", "--scenario", cx["scenario"],
                        "--replay", cx["path"]], capture_output=True, timeout=120)
    assert r.returncode == 0 and r.stdout == (tmp_path / "cx" / "counter_matches_increments.jsonl").read_bytes()
    nonscript = tmp_path / "n.toml"
    nonscript.write_text("[workload]\nduration = '1s'\n")
    r = subprocess.run([sys.executable, "-W", "ignore", "-m", "gtcheck", "explore", "--scenario", str(nonscript)],
                       capture_output=True, timeout=120)
    assert r.returncode == 254


@pytest.mark.slow
def test_a_larger_exploration_completes():
    sc = scenario_from_dict({"name": "big", "regions": {"names": [US, EU, "ap-southeast-2"], "copies": 2,
                                                        "write_quorum": 1},
                             "script": [{"at": "0s", "region": r, "f": "write", "key": "x", "value": {"r": r}}
                                        for r in (US, EU, "ap-southeast-2")]
                             + [{"at": "1s", "region": EU, "f": "read", "key": "x", "name": "r"}]})
    ex = explore(sc, max_states=2_000_000)
    assert ex.complete and ex.holds and len(ex.final_states["x"]) == 3


def test_a_checker_property_is_judged_on_every_complete_run(tmp_path):
    from gtcheck.search.run import builtin_property

    sc = scenario_from_dict({"name": "st", "regions": {"names": [US, EU], "copies": 1, "write_quorum": 1},
                             "script": [{"at": "0s", "region": US, "f": "write", "key": "x", "value": {"v": 1}},
                                        {"at": "2s", "region": EU, "f": "read", "key": "x", "name": "r"}]})
    ex = explore(sc, invariants=[("staleness", builtin_property("staleness", 1_000_000_000))])
    assert ex.outcomes == {"r": [None, NEW]}
    p = ex.properties["staleness"]
    assert p["holds"] is False and "stale-read" in p["message"]
    # the shortest complete run: the read before the delivery (properties are judged on complete runs)
    assert p["path"] == ["invoke s1", "complete s1", "invoke s2", "complete s2 copy 0", "deliver x v0 ->eu-west-1"]
    ok = explore(sc, invariants=[("staleness", builtin_property("staleness", 3_000_000_000))])
    assert ok.properties["staleness"]["holds"] is True and ok.complete


# --------------------------------------------------------------------------- the reduction, the full graph
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_reduction_loses_no_end_state_outcome_or_verdict(data):
    """On generated scenarios of both modes with every fault kind, failover and
    transactions, wherever both finish: the reduced exploration has the same outcomes,
    final states and verdicts (the model's invariants and a history invariant) as the
    full graph, in time order and in any order."""
    from tests.model.scripted import scenarios

    table = data.draw(scenarios(max_requests=4))
    for r in table["script"]:
        r.setdefault("name", f"r{table['script'].index(r)}")
    sc = scenario_from_dict(table)
    timed = data.draw(st.booleans())
    props = [("no_acknowledged_write_lost", invariant_property("no_acknowledged_write_lost"))]
    for invariants in ([], props):
        full = explore(sc, max_states=20_000, reduce=False, timed=timed, invariants=invariants)
        if not full.complete:
            continue
        reduced = explore(sc, max_states=20_000, timed=timed, invariants=invariants)
        assert reduced.complete and reduced.states <= full.states
        assert reduced.outcomes == full.outcomes
        assert reduced.final_states == full.final_states
        assert {n: p["holds"] for n, p in reduced.properties.items()} == \
            {n: p["holds"] for n, p in full.properties.items()}


def test_an_incomplete_exploration_never_says_holds():
    sc = scenario_from_dict(dict(two_writes({"min": "-50ms", "max": "50ms"}, "0ms"),
                                 regions={"names": [US, EU], "copies": 2, "write_quorum": 1}))
    ex = explore(sc, max_states=5)
    assert not ex.complete and ex.properties["model"]["holds"] is None
    assert ex.coverage.startswith("INCOMPLETE: stopped by --max-states (5 states)")
    assert "holds only for the part explored" in ex.coverage
    done = explore(sc)
    assert done.complete and done.properties["model"]["holds"] is True and done.coverage.startswith("complete")


def _failover_loss(outage: bool = True, failover: bool = True) -> dict:
    """alice writes in us-east-1, whose clock runs 500 ms ahead; us-east-1 goes down before
    (maybe) replicating it; alice's next write fails over to eu-west-1 and is acknowledged;
    when us-east-1 comes back its older write carries the later stamp and wins."""
    table = {"name": "failover-loss", "regions": {"names": [US, EU], "copies": 1, "write_quorum": 1,
                                                  "timeout": "50ms"},
             "clocks": {US: {"offset": "500ms"}},
             "failover": {"policy": "next", "after": "100ms", "failback": False},
             "faults": [{"kind": "outage", "region": US, "at": "10ms", "duration": "1s"}],
             "script": [{"at": "0ms", "region": US, "f": "write", "key": "x", "value": {"v": 1}, "process": "alice"},
                        {"at": "200ms", "region": US, "f": "write", "key": "x", "value": {"v": 2},
                         "process": "alice", "name": "second"}]}
    if not outage:
        del table["faults"]
    if not failover:
        del table["failover"]
    return table


def test_explore_covers_outages_and_failover_and_finds_the_lost_write_that_needs_them():
    prop = [("no_acknowledged_write_lost", invariant_property("no_acknowledged_write_lost"))]
    ex = explore(scenario_from_dict(_failover_loss()), invariants=prop)
    assert ex.complete and "both outcomes of a write cut off by an outage" in ex.coverage
    p = ex.properties["no_acknowledged_write_lost"]
    assert p["holds"] is False and "acknowledged write 3 vanished" in p["message"]
    assert ex.outcomes["second"] == ["ok"], "failover sent it to eu-west-1"
    assert any(step.startswith("nemesis") for step in p["path"])
    for without in (_failover_loss(outage=False), _failover_loss(failover=False)):
        ok = explore(scenario_from_dict(without), invariants=prop)
        assert ok.complete and ok.properties["no_acknowledged_write_lost"]["holds"] is True
