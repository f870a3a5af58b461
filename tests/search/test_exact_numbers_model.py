"""The model adds and writes numbers exactly (issue 18, rule 8 and rule 7): a scripted
value holding an integer past 64 bits, and float adds whose binary sum is not the decimal
one (0.1 + 0.2), go through the simulator and the explorer (which fingerprinted versions
with orjson: an integer past 64 bits was exit 255) and come out as the exact sums, which
the checker judges valid."""

from __future__ import annotations

from decimal import Decimal

from gtcheck.checker.check import check_history
from gtcheck.kernel.exactjson import parse_line
from gtcheck.kernel.items import exact
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.simulator import simulate
from gtcheck.search.explore import explore, load_path, replay, write_counterexamples
from gtcheck.search.run import Verdict

US, EU = "us-east-1", "eu-west-1"
BIG = 123456789012345678901234567890          # past 64 bits


def scenario() -> dict:
    return {"name": "exact", "regions": {"names": [US, EU], "copies": 1, "write_quorum": 1},
            "script": [
                {"at": "1s", "region": US, "f": "write", "key": "x", "value": {"n": BIG, "m": 0.1}},
                {"at": "2s", "region": US, "f": "update", "key": "x", "add": {"n": 1, "m": 0.2}},
                {"at": "3s", "region": EU, "f": "update", "key": "x", "add": {"n": BIG}},
                {"at": "10s", "region": US, "f": "read", "key": "x", "consistent": True, "name": "r"}]}


# (n, m) after the eu-west-1 add, by what it saw when applied: nothing (an item of its own,
# later than both us-east-1 writes: last writer wins), the write only, or both us-east-1 writes
FINALS = {(BIG, None), (2 * BIG, 0.1), (2 * BIG + 1, Decimal("0.3"))}


def test_the_explorer_adds_exactly_past_64_bits():
    ex = explore(scenario_from_dict(scenario()))
    assert ex.complete and ex.holds
    got = {(v["n"], v.get("m")) for v in ex.outcomes["r"]}
    # the strong read in us-east-1 also sees the us-east-1 sum before the eu-west-1 add arrives
    assert got == FINALS | {(BIG + 1, Decimal("0.3"))}
    assert {(f[US]["n"], f[US].get("m")) for f in ex.final_states["x"]} == FINALS


def test_a_simulated_history_of_exact_sums_is_written_exactly_and_judged_valid(tmp_path):
    path = tmp_path / "h.jsonl"
    simulate(scenario_from_dict(scenario()), 1, path, truth=False)
    events = [parse_line(line) for line in path.read_bytes().splitlines()]
    finals = [e["value"] for e in events if e.get("type") == "ok" and e.get("f") == "read"][-2:]
    got = {(v["n"], None if v.get("m") is None else exact(v["m"])) for v in finals}
    assert len(got) == 1 and got <= {(n, None if m is None else exact(m)) for n, m in FINALS}, finals
    assert b"0.30000000000000004" not in path.read_bytes()
    assert check_history(path, jobs=1).summary["valid"] is True


def test_a_counterexample_with_big_numbers_is_written_and_replays(tmp_path):
    """An invariant broken on a run with an integer past 64 bits: its history and path
    files are written (the exact writer) and the path replays to the same history."""
    sc = scenario_from_dict(scenario())

    def never_big(run, history):
        return Verdict(False, "a number past 64 bits") if str(BIG).encode() in history else Verdict(True, "")

    ex = explore(sc, invariants=[("never-big", never_big)])
    assert not ex.holds
    write_counterexamples(ex, sc, tmp_path)
    files = ex.properties["never-big"]["counterexample"]
    assert str(BIG) in open(files["history"]).read()
    offsets, actions = load_path(tmp_path / "never-big.path.json")
    _, _, events = replay(sc, offsets, actions)
    assert any(isinstance(e.get("value"), dict) and e["value"].get("n") == BIG for e in events)
