"""gtcheck search (issue 9): Hypothesis drives the model's runs, shrinks a violation, and
the counterexample replays byte for byte with gtcheck simulate."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import orjson
import pytest

from gtcheck.model.scenario import load_scenario, scenario_from_dict
from gtcheck.search import invariants
from gtcheck.search.run import builtin_property, invariant_property, properties, run_from_bytes
from gtcheck.search.search import run_bytes
from gtcheck.search.search import search, write_counterexample

DATA = Path(__file__).parents[1] / "data" / "search"
BEHAVIOURS = Path(__file__).resolve().parents[2] / "histories" / "scenarios" / "behaviours"


def gtcheck(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "ignore", "-m", "gtcheck", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_search_finds_a_staleness_violation_shrinks_it_and_it_replays_byte_identical(tmp_path):
    base = load_scenario(DATA / "slow-replication.toml")
    result = search(base, builtin_property("staleness", 1_000_000_000), budget=50, seed=1)
    assert result.found is not None, "a 1 s bound under a 2 s replication delay is broken"
    assert result.runs_to_find is not None and result.runs_to_find <= 50
    assert result.requests <= 3, result.found.table["script"]
    files = write_counterexample(result, tmp_path / "out", "staleness", bound_ns=1_000_000_000)
    assert {p.name for p in files.values()} == {"counterexample.toml", "counterexample.jsonl",
                                                "counterexample.truth.jsonl", "explanation.txt", "report.html"}
    text = files["explanation"].read_text()
    assert "stale" in text and "op " in text and len(text.strip().splitlines()) == 1
    # the replay, by the command line: the same bytes
    replay = tmp_path / "replay.jsonl"
    r = gtcheck("simulate", "--scenario", str(files["scenario"]), "--seed", str(result.found.seed), "-o", str(replay))
    assert r.returncode == 0, r.stderr
    assert replay.read_bytes() == files["history"].read_bytes()
    assert replay.with_name("replay.truth.jsonl").read_bytes() == files["truth"].read_bytes()
    # and the replayed history breaks the property the same way
    from gtcheck.checker.check import check_history
    checked = check_history(replay, staleness_bound_ns=1_000_000_000, jobs=1)
    assert checked.summary["staleness"]["valid"] is False


def test_the_same_seed_gives_the_same_result():
    base = load_scenario(DATA / "slow-replication.toml")
    prop = builtin_property("staleness", 1_000_000_000)
    a = search(base, prop, budget=50, seed=1)
    b = search(base, prop, budget=50, seed=1)
    assert a.found is not None and b.found is not None
    assert (a.found.table, a.found.seed, a.runs) == (b.found.table, b.found.seed, b.runs)
    assert a.found.history == b.found.history


_SEARCH_ONCE = """
import sys, orjson
if sys.argv[1] == "after-others":      # modules a process may happen to import first
    import gtcheck.search.explore, gtcheck.realworld.recorder  # noqa
from gtcheck.search.catalogue import ENTRIES
from gtcheck.search.run import invariant_property
from gtcheck.search.search import search
e = next(e for e in ENTRIES if e.name == "double-create")
r = search(e.search_base(), invariant_property(e.invariant), budget=200, seed=0)
print(orjson.dumps([r.runs, r.runs_to_find, r.found and r.found.table]).decode())
"""


def test_the_same_seed_gives_the_same_result_whatever_was_imported_before():
    """Hypothesis mixes the literals of imported local modules into its draws; a search
    must not depend on which of gtcheck's modules the process imported first."""
    outs = [subprocess.run([sys.executable, "-W", "ignore", "-c", _SEARCH_ONCE, first],
                           capture_output=True, text=True, timeout=300) for first in ("plain", "after-others")]
    for o in outs:
        assert o.returncode == 0, o.stderr
    assert outs[0].stdout == outs[1].stdout
    assert orjson.loads(outs[0].stdout)[1] is not None, "double-create is found"


def test_search_reports_none_for_a_property_that_holds():
    base = load_scenario(DATA / "heals.toml")
    result = search(base, invariant_property("converges"), budget=40, seed=2)
    assert result.found is None and result.runs >= 40


def test_the_command_line(tmp_path):
    out = tmp_path / "found"
    r = gtcheck("search", "--scenario", str(DATA / "slow-replication.toml"), "--property", "staleness",
                "--staleness-bound", "1s", "--budget", "50", "--seed", "1", "-o", str(out), "--no-report")
    assert r.returncode == 1, r.stderr
    assert "counterexample to staleness" in r.stdout and (out / "counterexample.toml").exists()
    tomllib.loads((out / "counterexample.toml").read_text())
    r = gtcheck("search", "--scenario", str(DATA / "heals.toml"), "--property", "converges",
                "--budget", "15", "-o", str(tmp_path / "none"))
    assert r.returncode == 0, r.stderr
    assert "no counterexample in" in r.stdout and "(not a proof)" in r.stdout
    assert not (tmp_path / "none").exists()
    for bad in (["--property", "nope"], ["--property", "staleness"], [],
                ["--invariant", "no.such.module:f"], ["--invariant", "gtcheck.search.invariants:nope"]):
        r = gtcheck("search", "--scenario", str(DATA / "heals.toml"), *bad, "-o", str(tmp_path / "x"))
        assert r.returncode == 254, (bad, r.stdout, r.stderr)
    r = gtcheck("search", "--scenario", str(tmp_path / "missing.toml"), "--property", "converges", "-o", "x")
    assert r.returncode == 254


def test_a_user_invariant_by_module_and_function(tmp_path, monkeypatch):
    (tmp_path / "myinv.py").write_text(
        "def no_two_writes(run):\n"
        "    w = [o for o in run.operations() if o['f'] == 'write' and o.get('type') == 'ok']\n"
        "    return None if len(w) < 2 else ('two writes: ' + str([o['index'] for o in w]), [o['index'] for o in w])\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    name, prop = properties((), ("myinv:no_two_writes",), None)
    result = search(load_scenario(DATA / "slow-replication.toml"), prop, budget=60, seed=1)
    assert result.found is not None and result.requests == 2
    assert "two writes" in result.found.verdict.message


@pytest.mark.parametrize("scenario,invariant", [
    ("lost-increment", "counter_matches_increments"),
    ("double-create", "create_at_most_once"),
    ("isolation-lww", "no_acknowledged_write_lost"),
    ("lost-update", "no_acknowledged_write_lost"),
    ("partial-transaction", "money_conserved"),
])
def test_the_shipped_invariants_catch_the_behaviours(scenario, invariant):
    sc = load_scenario(BEHAVIOURS / f"{scenario}.toml")
    run = run_from_bytes(*run_bytes(sc, 1))
    out = getattr(invariants, invariant)(run)
    assert out is not None and out[1], out
    for other in invariants.SHIPPED:        # what the run shows is named by its own invariant only
        if other not in (invariant, "no_acknowledged_write_lost", "converges"):
            assert getattr(invariants, other)(run) is None, other


def test_optimistic_locking_invariant():
    sc = scenario_from_dict({"name": "ol", "regions": {"names": ["us-east-1", "eu-west-1"], "copies": 1,
                                                      "write_quorum": 1, "request_latency": "5ms"},
                             "replication": {"delay": "500ms"}, "workload": {"duration": "5s"},
                             "script": [
                                 {"at": "0s", "region": "us-east-1", "f": "write", "key": "doc",
                                  "value": {"ver": 0}},
                                 {"at": "2s", "region": "us-east-1", "f": "update", "key": "doc",
                                  "set": {"ver": 1, "by": "a"}, "condition": {"ver": 0}},
                                 {"at": "2.1s", "region": "eu-west-1", "f": "update", "key": "doc",
                                  "set": {"ver": 1, "by": "b"}, "condition": {"ver": 0}}]})
    run = run_from_bytes(*run_bytes(sc, 1))
    msg, cited = invariants.optimistic_locking(run)
    assert "ver = 0" in msg and len(cited) == 2


def test_a_scripted_scenario_keeps_its_requests_and_varies_their_timing():
    """Its runs send the scenario's own requests (shrinking leaves out those that do not
    matter: tests/search/test_search_timing.py), at drawn times."""
    base = load_scenario(BEHAVIOURS / "tombstone.toml")
    result = search(base, invariant_property("no_acknowledged_write_lost"), budget=30, seed=0)
    assert result.found is not None
    script = result.found.table["script"]
    def what(entry):
        return {k: v for k, v in entry.items() if k not in ("at", "latency")}

    own = [what(o) for o in base.source["script"]]
    assert script and all(what(e) in own for e in script), script
    assert len({repr(what(e)) for e in script}) == len(script)      # each at most once
    assert result.found.table["workload"]["random"] is False


def test_an_offset_range_is_drawn_from_the_seed_by_the_simulator():
    from gtcheck.model.history_writer import ListSink
    from gtcheck.model.simulator import Simulator

    table = {"name": "r", "regions": {"names": ["us-east-1", "eu-west-1"]},
             "clocks": {"eu-west-1": {"offset": {"min": "-50ms", "max": "50ms"}}},
             "workload": {"duration": "1s", "rate": 20, "keys": 2}}
    sc = scenario_from_dict(table)
    drawn = {s: Simulator(sc, s, ListSink()).clocks.offset["eu-west-1"] for s in range(8)}
    assert all(-50_000_000 <= o <= 50_000_000 for o in drawn.values())
    assert len(set(drawn.values())) > 1, "the seed decides"
    assert Simulator(sc, 3, ListSink()).clocks.offset["eu-west-1"] == drawn[3]
    assert Simulator(sc, 3, ListSink()).clocks.offset["us-east-1"] == 0
    assert run_bytes(sc, 3) == run_bytes(sc, 3)
    from gtcheck.kernel.errors import UserError
    for bad in ({"min": "1ms"}, {"min": "5ms", "max": "1ms"}, {"min": "1ms", "max": "2ms", "x": 1}):
        with pytest.raises(UserError, match="offset"):
            scenario_from_dict(dict(table, clocks={"eu-west-1": {"offset": bad}}))


def test_search_help_lists_every_shipped_invariant():
    r = gtcheck("search", "--help")
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    for name in invariants.SHIPPED:
        assert name in text, name


def test_an_invariant_counterexamples_report_names_the_broken_invariant(tmp_path):
    """The checker may find the history itself valid (the database kept its promises);
    the report's verdict and banner are the invariant's, the checker's result beside."""
    base = load_scenario(BEHAVIOURS / "isolation-lww.toml")
    result = search(base, invariant_property("no_acknowledged_write_lost"), budget=30, seed=0)
    assert result.found is not None
    files = write_counterexample(result, tmp_path, "no_acknowledged_write_lost")
    html = files["report"].read_text()
    assert 'data-verdict="invalid"' in html
    cited = ", ".join(map(str, result.found.verdict.cited))
    assert f"no_acknowledged_write_lost is broken (ops {cited})" in html
    assert "acknowledged write(s) lost" in html
    assert "The history's consistency properties (the cards below): valid: No anomalies found." in html
