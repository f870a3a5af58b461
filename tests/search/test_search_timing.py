"""Search that finds rare timings (issue 19): request times drawn near fault events and near
each other, scripted requests that shrinking can leave out, --max-requests honoured for
scripted scenarios, clock offsets shrunk toward zero, a time limit, and explanations that
name every fault and clock offset of the counterexample."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, find, given, settings, strategies as st

from gtcheck.model.scenario import scenario_from_dict
from gtcheck.search import strategies
from gtcheck.search.run import invariant_property
from gtcheck.search.search import execute, search

US, EU = "us-east-1", "eu-west-1"
MS = 1_000_000
LOST = invariant_property("no_acknowledged_write_lost")
LATER = invariant_property("later_write_wins")

# alice's two writes, an outage of us-east-1 with failover, us-east-1's clock off by up to 1 s
SCENARIO = Path(__file__).resolve().parents[1] / "data" / "search" / "outage-failover-skew.toml"
FAILOVER_SKEW = tomllib.loads(SCENARIO.read_text())


def test_offsets_shrink_toward_zero():
    assert find(strategies.toward_zero(-50 * MS, 80 * MS), lambda v: True) == 0
    assert find(strategies.toward_zero(20 * MS, 80 * MS), lambda v: True) == 20 * MS
    assert find(strategies.toward_zero(-80 * MS, -20 * MS), lambda v: True) == -20 * MS
    assert find(strategies.toward_zero(-50 * MS, 80 * MS), lambda v: v >= 30 * MS) == 30 * MS
    assert find(strategies.toward_zero(-50 * MS, 80 * MS), lambda v: v <= -30 * MS) == -30 * MS


@given(st.data(), st.integers(-3000, 3000), st.integers(0, 3000))
def test_toward_zero_stays_in_its_range(data, a, width):
    lo, hi = a * MS, (a + width) * MS
    assert lo <= data.draw(strategies.toward_zero(lo, hi)) <= hi


def test_the_fault_events_are_starts_ends_and_failover_moments():
    base = scenario_from_dict(FAILOVER_SKEW)
    assert strategies.fault_events(base, FAILOVER_SKEW["faults"]) == [5_000 * MS, 5_100 * MS, 7_000 * MS]
    no_failover = copy.deepcopy(FAILOVER_SKEW)
    del no_failover["failover"]
    base = scenario_from_dict(no_failover)
    assert strategies.fault_events(base, no_failover["faults"]) == [5_000 * MS, 7_000 * MS]


def _windows_share(events: list[int], window: int, horizon: int) -> float:
    """The share of ``[0, horizon]`` within ``window`` of some event: what a uniform draw
    puts near a fault event, by construction."""
    spans = sorted((max(0, e - window), min(horizon, e + window)) for e in events)
    covered, reach = 0, 0
    for lo, hi in spans:
        lo = max(lo, reach)
        if hi > lo:
            covered += hi - lo
            reach = hi
    return covered / horizon


def _shares(base, uniform: bool, events: list[int], window: int) -> tuple[float, float]:
    """Over a fixed set of 1,000 drawn runs: the share of requests sent within ``window``
    of a fault event, and the share of the requests after the first sent within it of an
    earlier request."""
    c = {"all": 0, "event": 0, "later": 0, "near_earlier": 0}

    @settings(max_examples=1000, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(strategies.runs(base, uniform=uniform))
    def draw(run):
        table, _ = run
        times = [strategies.parse_duration(e["at"]) for e in table["script"]]
        for i, t in enumerate(times):
            c["all"] += 1
            c["event"] += any(abs(t - a) <= window for a in events)
            if i:
                c["later"] += 1
                c["near_earlier"] += any(abs(t - a) <= window for a in times[:i])

    draw()
    return c["event"] / c["all"], c["near_earlier"] / c["later"]


def test_times_are_drawn_near_fault_events_and_each_other_unless_uniform():
    """A uniform draw lands near a fault event about as often as the windows around the
    events cover the duration (here 7.3%); the default draws pick a fault event to be near
    one time in two (the first request) or three, so well over a third of the requests
    land near one. Near each other: Hypothesis already repeats earlier values in its
    "uniform" draws (two requests at the same time is a case it favours on purpose), so
    the uniform share is high too; the near draws add to it."""
    base = scenario_from_dict(FAILOVER_SKEW)
    events = strategies.fault_events(base, FAILOVER_SKEW["faults"])
    window = strategies.near_window(base)
    assert window == 158 * MS          # 8 ms latency + 150 ms delay
    horizon = base.workload.duration_ns - 1
    by_construction = _windows_share(events, window, horizon)
    assert abs(by_construction - 0.0732) < 0.001

    near_event, near_earlier = _shares(base, False, events, window)
    uniform_event, uniform_earlier = _shares(base, True, events, window)
    # the draws over 1,000 runs vary with Hypothesis's choices (5.0 % in one run, 3.3 % in
    # another): the bound says "no more than chance would", which uniform draws meet and
    # draws aimed at the events (46 % measured) do not
    assert uniform_event < 2 * by_construction, uniform_event
    assert near_event > 0.35 and near_event > 4 * uniform_event, (near_event, uniform_event)
    assert near_earlier > uniform_earlier + 0.1, (near_earlier, uniform_earlier)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_scripted_scenarios_runs_keep_at_most_max_requests_of_its_requests(data):
    table = copy.deepcopy(FAILOVER_SKEW)
    table["script"] = [dict(FAILOVER_SKEW["script"][0], value={"v": i}) for i in range(5)]
    base = scenario_from_dict(table)
    run, _ = data.draw(strategies.runs(base, max_requests=2))
    assert 1 <= len(run["script"]) <= 2
    values = [e["value"]["v"] for e in run["script"]]
    assert len(set(values)) == len(values)
    run, _ = data.draw(strategies.runs(base, max_requests=6))
    assert 1 <= len(run["script"]) <= 5


def test_search_finds_the_failover_loss_shrinks_and_names_the_fault_and_the_offset(tmp_path):
    """Two of alice's writes on either side of a moment the outage moves her requests (its
    start, the failover, its end) land in different regions; the later one is lost when the
    earlier one's region stamps it later (its clock off by more than the gap between them,
    a few ms when both are placed near the same moment)."""
    base = scenario_from_dict(FAILOVER_SKEW)
    r = search(base, LATER, budget=3000, seed=0)
    assert r.found is not None, f"not found in {r.runs} runs"
    from gtcheck.search.search import write_counterexample

    write_counterexample(r, tmp_path, "later_write_wins", report=False)
    assert (f"Faults: outage of {US} from 5.00 s to 7.00 s (its clients fail over 0.10 s after it goes down, "
            "and come back when it recovers)") in r.explanation, r.explanation
    assert f"Clock offsets: {US} " in r.explanation, r.explanation
    # the offset is shrunk toward zero: 1 ms less skew and the later write survives
    table = r.found.table
    text = table["clocks"][US]["offset"]
    offset = -strategies.parse_duration(text[1:]) if text.startswith("-") else strategies.parse_duration(text)
    assert offset != 0 and abs(offset) < 1_000 * MS
    smaller = copy.deepcopy(table)
    smaller["clocks"][US]["offset"] = strategies._sns(offset - MS if offset > 0 else offset + MS)
    _, _, run = execute(smaller, r.found.seed)
    assert LATER(run, b"").holds, "a smaller skew still breaks it: the offset was not shrunk"


def test_later_write_wins_names_only_writes_overwritten_by_earlier_ones():
    """The clock-offset behaviour breaks it; a write followed by a later write from a region
    it had not reached yet (which no_acknowledged_write_lost names) does not."""
    from gtcheck.search import invariants
    from gtcheck.search.catalogue import by_name
    from gtcheck.search.run import run_from_bytes
    from gtcheck.search.search import run_bytes

    run = run_from_bytes(*run_bytes(by_name("clock-offset-loses").scenario(), 1))
    msg, cited = invariants.later_write_wins(run)
    assert "overwritten by an earlier one" in msg and len(cited) == 2
    table = copy.deepcopy(FAILOVER_SKEW)
    table["clocks"] = {}
    table["script"][0].update(at="5100ms", latency="2ms")    # to eu-west-1: us-east-1 is down
    table["script"][1].update(at="7000ms", latency="2ms")    # to us-east-1, back, before the first arrives
    _, _, run = execute(table, 0)
    assert invariants.no_acknowledged_write_lost(run) is not None
    assert invariants.later_write_wins(run) is None


def test_shrinking_leaves_out_the_scripted_requests_that_do_not_matter():
    table = copy.deepcopy(FAILOVER_SKEW)
    table["script"] = table["script"] + [
        {"at": "0ms", "region": EU, "f": "read", "key": "y", "consistent": True, "process": "bob"},
        {"at": "0ms", "region": EU, "f": "write", "key": "y", "value": {"v": 9}, "process": "bob"}]
    r = search(scenario_from_dict(table), LOST, budget=3000, seed=0)
    assert r.found is not None
    assert r.requests == 2 and {e["key"] for e in r.found.table["script"]} == {"x"}


def test_a_time_limit_ends_a_search_that_finds_nothing_and_says_so():
    table = copy.deepcopy(FAILOVER_SKEW)
    del table["faults"]                      # no outage: nothing is lost
    lines: list[str] = []
    r = search(scenario_from_dict(table), LOST, budget=1_000_000, seed=0, time_limit_s=0.5,
               progress=lines.append)
    assert r.found is None and r.stopped == "time limit" and r.runs < 1_000_000
