"""Strong mode (multi-region strong consistency, MRSC): ``mode = "strong"`` in a scenario.

A write is acknowledged once one other region holds it; strongly consistent reads in every
region return the latest acknowledged write; concurrent writes of one item from two
regions make one fail with a replication conflict; an isolated region serves only
eventually consistent reads; transactions and TTL are refused. Checked on scripted
scenarios with exact outcomes, on the example scenarios, and against the checker (the same
workload in eventual mode shows stale strongly consistent reads that strong mode never
shows; generated strong-mode histories validate and are linearizable).
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.checker.check import check_history
from gtcheck.checker.history import validate_file
from gtcheck.kernel.errors import EXIT_BAD_INPUT, UserError
from gtcheck.model.rules import REPLICATED_WRITE_CONFLICT
from gtcheck.model.scenario import load_scenario, scenario_from_dict
from gtcheck.model.globaltables import GlobalTables
from tests.clihelp import run_cli
from tests.simhelp import SCENARIOS, Run, run

REGIONS = ["us-east-1", "us-east-2", "us-west-2"]


def errors_of(r: Run) -> dict[int, str]:
    """invoke index -> the ``error`` field of its completion."""
    pending: dict[Any, int] = {}
    out: dict[int, str] = {}
    for e in r.events:
        if e["process"] == "nemesis":
            continue
        if e["type"] == "invoke":
            pending[e["process"]] = e["index"]
        else:
            i = pending.pop(e["process"])
            if "error" in e:
                out[i] = e["error"]
    return out


def scripted(script: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A strong-mode scenario of scripted requests: 5 ms to reach the region, a 40 ms round
    trip, asynchronous replication slow (2 s), so that only the strong rules can explain a
    fresh read in another region."""
    data: dict[str, Any] = {
        "name": "strong-scripted", "mode": "strong",
        "regions": {"names": REGIONS, "request_latency": "5ms", "copy_lag": "0ms"},
        "replication": {"delay": "2s", "round_trip": "40ms", "coalesce": 0.0},
        "workload": {"duration": "10s"},
        "script": script,
    }
    for k, v in extra.items():
        data[k] = v
    return data


# ------------------------------------------------------------------ exact behaviours

def test_an_acknowledged_write_is_read_by_strong_reads_in_every_other_region(tmp_path: Path) -> None:
    # the write reaches us-east-1 at 1.005 s and is acknowledged after the 40 ms round trip
    script = [{"at": "1s", "region": "us-east-1", "f": "write", "key": "x", "value": {"v": 1}}]
    for region in REGIONS[1:]:
        script.append({"at": "1046ms", "region": region, "f": "read", "key": "x", "consistent": True})
        script.append({"at": "1046ms", "region": region, "f": "read", "key": "x", "consistent": False})
    r = run(scenario_from_dict(scripted(script)), tmp=tmp_path)
    assert r.header["mode"] == "strong"
    (write,) = r.completed("write", "x")
    assert write["outcome"] == "ok" and write["end"] == 1_045_000_000, "acknowledged after the round trip"
    reads = [o for o in r.completed("read", "x") if o["end"] < r.header["settled_after_ns"]]
    assert len(reads) == 4 and all(o["invoke_time"] > write["end"] for o in reads)
    for o in reads:
        if o["consistent"]:
            assert o["outcome"] == "ok" and o["value"] == write["value"], o
        else:   # replication takes 2 s: the other regions' copies do not have it yet
            assert o["outcome"] == "ok" and o["value"] is None, o


def test_a_conflicting_concurrent_write_from_another_region_fails(tmp_path: Path) -> None:
    script = [
        {"at": "1s", "region": "us-east-1", "f": "write", "key": "x", "value": {"v": 1}},
        {"at": "1010ms", "region": "us-east-2", "f": "write", "key": "x", "value": {"v": 2}},
        {"at": "1010ms", "region": "us-west-2", "f": "update", "key": "x", "set": {"a": 1}},
        {"at": "2s", "region": "us-east-2", "f": "write", "key": "x", "value": {"v": 3}},   # not concurrent
    ]
    r = run(scenario_from_dict(scripted(script)), tmp=tmp_path)
    errors = errors_of(r)
    first, second, third, later = sorted((o for o in r.completed(key="x") if o["f"] != "read"),
                                         key=lambda o: o["index"])
    assert first["outcome"] == "ok" and errors.get(first["index"]) is None
    for loser in (second, third):
        assert loser["outcome"] == "fail" and errors[loser["index"]] == REPLICATED_WRITE_CONFLICT
        assert loser["end"] == loser["invoke_time"] + 45_000_000, "the conflict is known after the round trip"
    assert later["outcome"] == "ok"
    assert {str(v) for v in r.finals("x").values()} == {str(later["value"])}
    lost = {t["index"] for t in r.of("write") if not t["took_effect"]}
    assert lost == {second["index"], third["index"]}


def test_writes_of_one_region_to_one_item_queue_instead_of_conflicting(tmp_path: Path) -> None:
    script = [
        {"at": "1s", "region": "us-east-1", "f": "write", "key": "x", "value": {"v": 1}},
        {"at": "1010ms", "region": "us-east-1", "f": "update", "key": "x", "set": {"a": 1}},
    ]
    r = run(scenario_from_dict(scripted(script)), tmp=tmp_path)
    w, u = sorted(r.completed("write") + r.completed("update"), key=lambda o: o["index"])
    assert w["outcome"] == u["outcome"] == "ok"
    assert u["end"] == w["end"] + 40_000_000, "proposed once the first is acknowledged"
    assert {k: v for k, v in u["value"].items() if k != "rev"} == {"v": 1, "a": 1}


def test_an_isolated_region_serves_only_eventual_reads_while_the_majority_works(tmp_path: Path) -> None:
    r = run("strong-isolation.toml", tmp=tmp_path)
    start, end = 5_000_000_000, 13_000_000_000
    during = [o for o in r.ops.values() if start + 1_000_000_000 <= o["invoke_time"] and o["end"] < end]
    cut = [o for o in during if o["region"] == "us-west-2"]
    strong_or_write = [o for o in cut if o["f"] != "read" or o["consistent"]]
    assert strong_or_write and all(o["outcome"] == "info" for o in strong_or_write)
    eventual = [o for o in cut if o["f"] == "read" and not o["consistent"]]
    assert eventual and all(o["outcome"] == "ok" for o in eventual)
    majority = [o for o in during if o["region"] != "us-west-2"]
    assert all(o["outcome"] in ("ok", "fail") for o in majority)
    assert sum(1 for o in majority if o["f"] != "read" and o["outcome"] == "ok") > 100
    assert sum(1 for o in majority if o["f"] == "read" and o["consistent"] and o["outcome"] == "ok") > 100
    # the isolated region's timed-out writes had no effect
    no_effect = {t["index"] for t in r.of("write") if not t["took_effect"]}
    assert {o["index"] for o in strong_or_write if o["f"] != "read"} <= no_effect


def test_with_a_witness_the_remaining_replica_keeps_working(tmp_path: Path) -> None:
    r = run("strong-witness.toml", tmp=tmp_path)
    assert r.header["regions"] == ["us-east-1", "us-east-2"] and r.header["witness"] == "us-west-2"
    assert {o["region"] for o in r.ops.values()} == {"us-east-1", "us-east-2"}, "the witness serves no traffic"
    during = [o for o in r.ops.values() if 6_000_000_000 <= o["invoke_time"] and o["end"] < 11_000_000_000]
    east1 = [o for o in during if o["region"] == "us-east-1"]
    assert any(o["f"] != "read" and o["outcome"] == "ok" for o in east1), "us-east-1 + the witness are a majority"
    east2 = [o for o in during if o["region"] == "us-east-2" and (o["f"] != "read" or o["consistent"])]
    assert east2 and all(o["outcome"] == "info" for o in east2)


# ------------------------------------------------------------------ against eventual mode, with the checker

WORKLOAD = {
    "regions": {"names": REGIONS},
    "workload": {"keys": 6, "processes_per_region": 2, "rate": 150, "duration": "8s", "strong_reads": 0.6},
    "final": {"settle": "20s"},
}


def _both(tmp_path: Path, seed: int) -> tuple[Run, Run]:
    eventual = run(scenario_from_dict(dict(WORKLOAD, name="eventual")), seed, tmp_path)
    strong = run(scenario_from_dict(dict(WORKLOAD, name="strong", mode="strong")), seed, tmp_path)
    return eventual, strong


def _consistent_staleness(path: Path) -> tuple[Any, list[int]]:
    result = check_history(path, jobs=1, keep_reads=True)
    assert result.reads is not None
    return result, [rec.staleness_ns for rec in result.reads if rec.consistent and not rec.final]


@pytest.mark.parametrize("seed", [1, 2])
def test_eventual_mode_shows_stale_strong_reads_that_strong_mode_never_shows(tmp_path: Path, seed: int) -> None:
    eventual, strong = _both(tmp_path, seed)
    ev_result, ev_stale = _consistent_staleness(eventual.path)
    st_result, st_stale = _consistent_staleness(strong.path)
    # eventual: a strongly consistent read is fresh only for its own region's writes
    assert ev_result.summary["read_after_write"]["valid"] is True
    assert sum(1 for s in ev_stale if s > 0) >= 5 and max(ev_stale) > 100_000_000
    # strong: read-after-write holds across all regions, and no strong read is ever stale
    assert strong.header["mode"] == "strong"
    assert st_result.summary["read_after_write"]["valid"] is True
    assert st_result.summary["integrity"]["valid"] is True and st_result.summary["convergence"]["valid"] is True
    assert len(st_stale) > 50 and max(st_stale) == 0


def _write_latencies(r: Run) -> list[int]:
    return [o["end"] - o["invoke_time"] for o in r.ops.values()
            if o["f"] != "read" and o["outcome"] == "ok" and o["region"] is not None]


def test_write_latencies_differ_between_modes_for_the_same_seed(tmp_path: Path) -> None:
    eventual, strong = _both(tmp_path, 3)
    ev, sm = _write_latencies(eventual), _write_latencies(strong)
    assert max(ev) <= 8_000_000, "eventual: acknowledged in the region (2-8 ms)"
    assert min(sm) > 8_000_000, "strong: every write waits for another region"
    assert statistics.median(sm) - statistics.median(ev) > 15_000_000   # the round trip, median ~30 ms


def test_eventual_reads_in_strong_mode_may_be_stale(tmp_path: Path) -> None:
    _, strong = _both(tmp_path, 1)
    result = check_history(strong.path, jobs=1, keep_reads=True)
    assert result.reads is not None
    assert any(rec.staleness_ns > 0 for rec in result.reads if not rec.consistent)


def test_eventual_output_is_unchanged_by_the_mode_field(tmp_path: Path) -> None:
    """``mode = "eventual"`` written out is the default: the same bytes."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = run(scenario_from_dict(dict(WORKLOAD, name="same")), 4, tmp_path / "a")
    b = run(scenario_from_dict(dict(WORKLOAD, name="same", mode="eventual")), 4, tmp_path / "b")
    assert a.path.read_bytes() == b.path.read_bytes()


# ------------------------------------------------------------------ scenario errors

BAD = [
    ('mode = "strong"\n[regions]\nnames = ["us-east-1", "us-east-2"]\n', "regions.names", "exactly three"),
    ('mode = "strong"\n[regions]\nnames = ["a", "b", "c", "d"]\n', "regions.names", "exactly three"),
    ('mode = "strong"\n[regions]\nnames = ["a"]\n', "regions.names", "exactly three"),
    ('mode = "strong"\n[regions]\nnames = ["a", "b", "c"]\nwitness = "d"\n', "regions.names", "exactly two"),
    ('mode = "strong"\n[regions]\nnames = ["a", "b"]\nwitness = "b"\n', "regions.witness", "also a replica"),
    ('[regions]\nnames = ["a", "b"]\nwitness = "c"\n', "regions.witness", "only in strong mode"),
    ('[replication]\nround_trip = "20ms"\n', "replication.round_trip", "only in strong mode"),
    ('mode = "strong"\n[workload.mix]\nread = 1\ntransaction = 0.1\n', "workload.mix.transaction",
     "transactions are not available"),
    ('mode = "strong"\n[workload.ttl]\nshare = 0.2\n', "workload.ttl.share", "TTL is not available"),
    ('mode = "strong"\n[[script]]\nat = "1s"\nregion = "us-east-1"\nf = "transaction"\n'
     'items = [{ f = "write", key = "a", value = { v = 1 } }]\n', "script[0].f", "transactions are not available"),
    ('mode = "linearizable"\n', "mode", "unknown value"),
]


@pytest.mark.parametrize("text,field,words", BAD)
def test_bad_strong_mode_scenarios_are_refused_naming_file_and_field(tmp_path: Path, text: str, field: str,
                                                                     words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserError) as info:
        load_scenario(path)
    assert str(path) in info.value.where and field in info.value.where, info.value.where
    assert words in info.value.message


def test_a_bad_region_set_is_exit_254_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    path = tmp_path / "two.toml"
    path.write_text('mode = "strong"\n[regions]\nnames = ["us-east-1", "us-east-2"]\n')
    code, _, err = run_cli(["simulate", "--scenario", path, "-o", tmp_path / "h.jsonl"], capsys)
    assert code == EXIT_BAD_INPUT
    assert "two.toml" in err and "regions.names" in err and "witness" in err


def test_the_default_mix_drops_transactions_in_strong_mode() -> None:
    sc = scenario_from_dict({"mode": "strong"})
    assert sc.strong and sc.workload.mix["transaction"] == 0
    assert scenario_from_dict({}).workload.mix["transaction"] > 0


def test_each_mutant_runs_in_its_one_mode() -> None:
    from gtcheck.model.history_writer import ListSink
    from gtcheck.model.mutants import mutant
    from gtcheck.model.simulator import BUGS, STRONG_BUGS, Simulator

    for bug in BUGS:
        with pytest.raises(ValueError, match="breaks eventual mode"):
            Simulator(scenario_from_dict({"mode": "strong"}), 1, ListSink(), rules=mutant(bug))
    for bug in STRONG_BUGS:
        with pytest.raises(ValueError, match="breaks strong mode"):
            Simulator(scenario_from_dict({}), 1, ListSink(), rules=mutant(bug))


def test_the_checker_catches_strong_reads_served_locally(tmp_path: Path) -> None:
    """The strong-mode mutant: strong reads wait for their round trip but return the local
    copy. Read-after-write across regions fails, strong reads are stale, and (when the
    keys are not linearizable."""
    r = run("strong.toml", 1, tmp_path, bug="strong-local-read")
    assert r.header["injected_bug"] == "strong-local-read"
    result, stale = _consistent_staleness(r.path)
    assert result.summary["read_after_write"]["valid"] is False
    assert max(stale) > 100_000_000
    assert result.summary["linearizability"]["valid"] is False


# ------------------------------------------------------------------ generated histories

@pytest.mark.parametrize("name", ["strong.toml", "strong-isolation.toml", "strong-witness.toml"])
def test_the_example_strong_scenarios_validate_and_pass_the_checker(tmp_path: Path, name: str) -> None:
    r = run(name, 2, tmp_path)
    validate_file(r.path)
    result = check_history(r.path, jobs=1)
    for prop in ("integrity", "convergence", "read_after_write"):
        assert result.summary[prop]["valid"] is True, (prop, result.summary[prop])
    assert errors_of(r), "concurrent writes of hot keys conflict"
    assert set(errors_of(r).values()) == {REPLICATED_WRITE_CONFLICT}


@st.composite
def small_strong_scenarios(draw: Any) -> dict[str, Any]:
    witness = draw(st.booleans())
    names = REGIONS[:2] if witness else REGIONS
    data: dict[str, Any] = {
        "name": "gen", "mode": "strong",
        "regions": {"names": names, "copies": draw(st.integers(1, 3)), "write_quorum": 1},
        "replication": {"round_trip": {"dist": "uniform", "low": "5ms", "high": f"{draw(st.integers(5, 80))}ms"},
                        "coalesce": draw(st.sampled_from([0.0, 0.5, 1.0]))},
        "workload": {"keys": draw(st.integers(1, 4)), "processes_per_region": draw(st.integers(1, 3)),
                     "rate": draw(st.integers(20, 200)), "duration": "3s",
                     # eventually consistent reads may be stale: the checker leaves them out
                     "strong_reads": draw(st.sampled_from([0.3, 0.7, 1.0]))},
        "final": {"settle": "16s"},
    }
    if witness:
        data["regions"]["witness"] = "us-west-2"
    faults = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["isolate", "outage", "replication-delay", "clock-jump"]))
        at = f"{draw(st.integers(0, 2000))}ms"
        if kind == "replication-delay":
            faults.append({"kind": kind, "at": at, "duration": "1s", "extra": {"dist": "uniform", "low": "10ms",
                                                                              "high": "300ms"}})
        elif kind == "clock-jump":
            faults.append({"kind": kind, "region": draw(st.sampled_from(names)), "at": at,
                           "by": f"{draw(st.integers(-100, 100))}ms"})
        else:
            faults.append({"kind": kind, "region": draw(st.sampled_from(names)), "at": at,
                           "duration": f"{draw(st.integers(100, 1500))}ms"})
    data["faults"] = faults
    data["clocks"] = {names[0]: {"offset": f"{draw(st.integers(-50, 50))}ms",
                                 "drift_ppm": draw(st.integers(-500, 500))}}
    if draw(st.booleans()):
        data["failover"] = {"policy": "next", "after": "200ms"}
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=small_strong_scenarios(), seed=st.integers(0, 10_000))
def test_generated_strong_mode_histories_are_linearizable(tmp_path: Path, data: dict[str, Any], seed: int) -> None:
    path = tmp_path / f"gen-{seed}.jsonl"
    from gtcheck.model.simulator import simulate

    simulate(scenario_from_dict(data), seed, path, False)
    validate_file(path)
    result = check_history(path, jobs=1, timeout_s=60)
    summary = result.summary
    assert summary["linearizability"]["valid"] is True, summary["linearizability"]
    for prop in ("integrity", "convergence", "read_after_write"):
        assert summary[prop]["valid"] is True, (prop, summary[prop])


def test_eventual_reads_of_a_strong_mode_history_are_not_judged_as_a_register(tmp_path: Path) -> None:
    """In strong mode only writes and strongly consistent reads form the register: the
    example scenarios, whose eventually consistent reads may be stale, are linearizable;
    the same history marked as a plain imported register is not."""
    from gtcheck.model.simulator import simulate

    path = tmp_path / "strong.jsonl"
    simulate(load_scenario(SCENARIOS / "strong.toml"), 1, path, False)
    summary = check_history(path, jobs=1).summary
    assert summary["linearizability"]["valid"] is True, summary["linearizability"]
    lines = path.read_bytes().splitlines()
    header = orjson.loads(lines[0])
    header["register"] = True
    marked = tmp_path / "register.jsonl"
    marked.write_bytes(b"\n".join([orjson.dumps(header)] + lines[1:]) + b"\n")
    assert check_history(marked, jobs=1).summary["linearizability"]["valid"] is False


# ------------------------------------------------------------------ the step interface

def test_the_relation_runs_strong_mode_one_action_at_a_time(tmp_path: Path) -> None:
    """The explorer's walk of strong mode: each request is invoke, arrive (it waits for one
    other region) and ack; replication is left for the end."""
    from tests.simhelp import Walker

    data = scripted([
        {"at": "1s", "region": "us-east-1", "f": "write", "key": "x", "value": {"v": 1}, "process": "a"},
        {"at": "2s", "region": "us-west-2", "f": "read", "key": "x", "consistent": True, "process": "b"},
        {"at": "2s", "region": "us-west-2", "f": "read", "key": "x", "consistent": False, "process": "c"},
        {"at": "3s", "region": "us-east-2", "f": "write", "key": "x", "value": {"v": 2}, "process": "d"},
        {"at": "4s", "region": "us-east-2", "f": "read", "key": "x", "consistent": True, "process": "e"},
    ], faults=[{"kind": "isolate", "region": "us-east-2", "at": "2500ms", "duration": "5s"}])
    world = Walker(GlobalTables(scenario_from_dict(data), observe=True))
    assert world.header()["mode"] == "strong"
    world.run_until()          # for c: copy 0, which replication has not reached
    assert not world.violations()
    done = [e for e in world.history() if e["type"] != "invoke" and e["process"] != "nemesis"]
    by = {e["process"]: e for e in done}
    assert by["a"]["type"] == "ok"
    assert by["b"]["type"] == "ok" and by["b"]["value"] == by["a"]["value"], "fresh in another region"
    assert by["c"]["type"] == "ok" and by["c"]["value"] is None, "eventual: not replicated yet"
    assert by["d"]["type"] == "info" and by["e"]["type"] == "info", "us-east-2 is isolated"
    world.run_until(("deliver", "copy"))      # every copy converges to the log's head
    world.run_until()                          # the final reads
    assert world.enabled() == [] and not world.violations()
    finals = [e["value"] for e in world.history() if e["type"] == "ok" and e["time"] >= world.header()["settled_after_ns"]]
    assert len(finals) == 3 and all(v == by["a"]["value"] for v in finals)
    path = tmp_path / "step.jsonl"
    import orjson

    path.write_bytes(b"\n".join(orjson.dumps(x) for x in [world.header()] + world.history()) + b"\n")
    validate_file(path)


def test_the_witness_can_be_isolated_and_the_replicas_go_on_without_it(tmp_path: Path) -> None:
    base = {"name": "witness-cut", "mode": "strong",
            "regions": {"names": REGIONS[:2], "witness": "us-west-2"},
            "workload": {"keys": 4, "processes_per_region": 2, "rate": 100, "duration": "8s", "strong_reads": 1.0}}
    only_witness = dict(base, faults=[{"kind": "isolate", "region": "us-west-2", "at": "2s", "duration": "4s"}])
    r = run(scenario_from_dict(only_witness), 1, tmp_path)
    nemesis = [e for e in r.events if e["process"] == "nemesis"]
    assert [e["value"] for e in nemesis] == [{"isolate": ["us-west-2"]}] * 2
    during = [o for o in r.ops.values() if 2_000_000_000 <= o["invoke_time"] and o["end"] < 6_000_000_000]
    assert during and all(o["outcome"] in ("ok", "fail") for o in during), "the two replicas are a majority"
    # the witness and us-east-2 both cut off: us-east-1 is alone and its writes and strong reads time out
    both = dict(base, faults=[{"kind": "isolate", "region": "us-west-2", "at": "2s", "duration": "4s"},
                              {"kind": "isolate", "region": "us-east-2", "at": "2s", "duration": "4s"}])
    (tmp_path / "both").mkdir()
    r = run(scenario_from_dict(both), 1, tmp_path / "both")
    alone = [o for o in r.ops.values() if o["region"] == "us-east-1" and 3_000_000_000 <= o["invoke_time"]
             and o["end"] < 6_000_000_000]
    assert alone and all(o["outcome"] == "info" for o in alone)
    validate_file(r.path)
    result = check_history(r.path, jobs=1)
    assert all(result.summary[p]["valid"] is True for p in ("integrity", "convergence", "read_after_write"))


def test_faults_name_the_witness_only_in_strong_mode(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[regions]\nnames = ["a", "b", "c"]\n[[faults]]\nkind = "isolate"\nregion = "w"\nat = "1s"\n'
                    'duration = "1s"\n')
    with pytest.raises(UserError) as info:
        load_scenario(path)
    assert "faults[0].region" in info.value.where
    path.write_text('mode = "strong"\n[regions]\nnames = ["a", "b"]\nwitness = "w"\n[[faults]]\nkind = "clock-jump"\n'
                    'region = "w"\nat = "1s"\nby = "5ms"\n')
    with pytest.raises(UserError) as info:
        load_scenario(path)
    assert "faults[0].region" in info.value.where, "the witness has no clock that matters"


def test_the_relation_isolates_the_witness(tmp_path: Path) -> None:
    from tests.simhelp import Walker

    data = scripted([{"at": "1s", "region": "us-east-1", "f": "write", "key": "x", "value": {"v": 1}}],
                    faults=[{"kind": "isolate", "region": "us-west-2", "at": "500ms", "duration": "5s"},
                            {"kind": "isolate", "region": "us-east-2", "at": "500ms", "duration": "5s"}])
    data["regions"] = dict(data["regions"], names=REGIONS[:2], witness="us-west-2")
    world = Walker(GlobalTables(scenario_from_dict(data)))
    world.run_until(("nemesis",))
    world.run_until(("invoke", "arrive", "ack"))
    done = [e for e in world.history() if e["type"] not in ("invoke",) and e["process"] != "nemesis"]
    assert [e["type"] for e in done] == ["info"], "us-east-1 reaches neither us-east-2 nor the witness"
    assert [e["value"] for e in world.history() if e["process"] == "nemesis"] == [
        {"isolate": ["us-east-2"]}, {"isolate": ["us-west-2"]}]
