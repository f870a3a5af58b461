"""Property-based tests: an in-test last-writer-wins simulation produces histories whose
staleness a brute-force computation knows; the checker must agree with it, judge the
simulation valid, and give identical results inline and shard-parallel."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtcheck.checker.check import check_history
from gtcheck.checker.history import write_history

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
KEYS = ["a", "b", "c"]
MS = 1_000_000
TS0 = 10**12


def _op_strategy(n_regions: int, n_keys: int, deletes: bool, info: bool):
    kinds = ["write", "write", "read", "cread"] + (["delete"] if deletes else [])
    outcomes = ["ok", "ok", "ok", "info-applied", "info-lost", "fail"] if info else ["ok"]
    return st.tuples(
        st.sampled_from(kinds), st.integers(0, n_regions - 1), st.integers(0, n_keys - 1),
        st.integers(0, 60), st.integers(1, 10), st.integers(1, 10),
        st.lists(st.integers(0, 60), min_size=3, max_size=3), st.sampled_from(outcomes))


@st.composite
def lww_histories(draw, deletes: bool = False, info: bool = False):
    """(header, events, truth): truth maps read index -> (version id or None, read op)."""
    regions = REGIONS[:draw(st.integers(2, 3))]
    keys = KEYS[:draw(st.integers(1, 3))]
    skew = [draw(st.integers(-30, 30)) for _ in regions]
    specs = draw(st.lists(_op_strategy(len(regions), len(keys), deletes, info),
                          min_size=1, max_size=30))
    ops = []          # dicts describing each op
    versions = []     # (key, ts, origin, write id, value, arrival per region, op)
    for i, (kind, ri, ki, start, lat1, lat2, delays, outcome) in enumerate(specs):
        t0 = start * MS + i + 1
        ta = t0 + lat1 * MS
        t1 = ta + lat2 * MS
        op = {"i": i, "kind": kind, "region": regions[ri], "key": keys[ki], "t0": t0, "ta": ta,
              "t1": t1, "outcome": "ok"}
        if kind in ("write", "delete"):
            op["outcome"] = outcome
            op["value"] = {"w": i} if kind == "write" else None
            applied = outcome in ("ok", "info-applied")
            if applied:
                ts = ta + skew[ri] * MS + TS0
                arrival = [ta + (0 if r == ri else delays[r] * MS) for r in range(len(regions))]
                versions.append((keys[ki], ts, regions[ri], i, op["value"], arrival, op))
            op["ts"] = ts if outcome == "ok" else None
        ops.append(op)

    def state(key, ri, t):
        best = None
        for v in versions:
            if v[0] == key and v[5][ri] <= t and (best is None or (v[1], v[2]) > (best[1], best[2])):
                best = v
        return best

    end = max(op["t1"] for op in ops)
    for ri in range(len(regions)):
        for k in keys:
            ops.append({"i": len(ops), "kind": "read", "region": regions[ri], "key": k,
                        "t0": end + 200 * MS + len(ops), "outcome": "ok", "final": True})
            ops[-1]["ta"] = ops[-1]["t0"] + MS
            ops[-1]["t1"] = ops[-1]["t0"] + 2 * MS
    for op in ops:
        if op["kind"] in ("read", "cread"):
            v = state(op["key"], regions.index(op["region"]), op["ta"])
            op["saw"] = v
            op["value"] = v[4] if v is not None else None

    raw = []
    for op in ops:
        f = "read" if op["kind"] in ("read", "cread") else op["kind"]
        inv = {"type": "invoke", "process": op["i"], "region": op["region"], "f": f,
               "key": op["key"], "value": op.get("value") if f == "write" else None,
               "time": op["t0"]}
        if f == "read":
            inv["consistent"] = op["kind"] == "cread"
        outcome = op["outcome"]
        ty = "ok" if outcome == "ok" else "fail" if outcome == "fail" else "info"
        done = {"type": ty, "process": op["i"], "region": op["region"], "f": f,
                "key": op["key"], "value": op.get("value"), "time": op["t1"]}
        if ty == "ok" and f != "read":
            done["ts"] = op["ts"]
            done["origin"] = op["region"]
        raw.append((op["t0"], inv, op, "inv"))
        raw.append((op["t1"], done, op, "done"))
    raw.sort(key=lambda t: t[0])
    events = []
    for pos, (_, ev, op, what) in enumerate(raw):
        ev = dict(ev, index=pos)
        events.append(ev)
        op["inv_index" if what == "inv" else "done_index"] = pos
    delta = draw(st.sampled_from([0, 0, 1, MS, 5 * MS]))
    header = {"format": "gt-history", "version": 1, "regions": regions, "mode": "eventual",
              "clock_uncertainty_ns": delta, "settled_after_ns": end + 100 * MS}
    return header, events, ops


def brute_force(ops, delta=0):
    """Staleness of every read from the simulation's truth, quadratic and obvious.

    Every operation has its own process and all times differ, so rule 1 reduces to
    "completed more than δ before the read's invocation"."""
    writes = [op for op in ops if op["kind"] in ("write", "delete")]
    out = {}
    for r in ops:
        if r["kind"] not in ("read", "cread"):
            continue
        saw = r["saw"]
        rank = (saw[1], saw[2]) if saw is not None else None
        best = None
        for w in writes:
            if w["key"] != r["key"] or w["outcome"] != "ok" or r["t0"] - w["t1"] <= delta:
                continue
            if rank is not None and (w["ts"], w["region"]) <= rank:
                continue
            if best is None or w["t1"] < best["t1"]:
                best = w
        if best is None:
            writer = saw[2] if saw is not None else "initial"
            out[r["inv_index"]] = (0, writer)
        else:
            out[r["inv_index"]] = (r["t0"] - best["t1"], best["region"])
    return out


def _write(tmp_path_factory, header, events):
    path = tmp_path_factory.mktemp("h") / "history.jsonl"
    write_history(path, header, events)
    return path


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                       HealthCheck.too_slow])


@settings(max_examples=60, **SETTINGS)
@given(lww_histories())
def test_staleness_equals_brute_force(tmp_path_factory, hist):
    header, events, ops = hist
    res = check_history(_write(tmp_path_factory, header, events), jobs=1, keep_reads=True)
    s = res.summary
    assert s["integrity"]["valid"] is True
    assert s["convergence"]["valid"] is True
    assert s["read_after_write"]["valid"] is True
    assert "ts-inversion" not in s["read_after_write"]["anomaly_counts"]   # rule 10
    truth = brute_force(ops, header["clock_uncertainty_ns"])
    got = {r.index: (r.staleness_ns, r.writer_region) for r in res.reads}
    assert got == truth
    assert s["staleness"]["smallest_bound_ns"] == max(v[0] for v in truth.values())


@settings(max_examples=60, **SETTINGS)
@given(lww_histories(deletes=True, info=True))
def test_unknown_outcomes_and_deletes_never_exceed_the_truth(tmp_path_factory, hist):
    """With info writes and deletes the checker may choose another admissible order, but by
    rule 5 its largest staleness is never above the simulation's, and the run is valid."""
    header, events, ops = hist
    s = check_history(_write(tmp_path_factory, header, events), jobs=1).summary
    assert s["integrity"]["valid"] is True
    assert s["convergence"]["valid"] is True
    assert s["read_after_write"]["valid"] is True
    truth = brute_force(ops, header["clock_uncertainty_ns"])
    assert s["staleness"]["smallest_bound_ns"] <= max(v[0] for v in truth.values())


def _comparable(summary):
    s = copy.deepcopy(summary)
    s.pop("timing")
    s["options"].pop("jobs")
    return s


@settings(max_examples=8, **SETTINGS)
@given(lww_histories(deletes=True, info=True), st.integers(0, 10**9))
def test_parallel_and_inline_results_are_identical(tmp_path_factory, hist, bound):
    header, events, _ = hist
    path = _write(tmp_path_factory, header, events)
    inline = check_history(path, jobs=1, shards=1, staleness_bound_ns=bound, keep_reads=True)
    parallel = check_history(path, jobs=2, shards=5, staleness_bound_ns=bound, keep_reads=True)
    spilled = check_history(path, jobs=1, shards=2, staleness_bound_ns=bound, keep_reads=True,
                            memory_budget_ops=3)
    n_ops = len(events) // 2
    if n_ops > 6:                 # some part holds more than 3 operations: it spilled
        assert spilled.summary["timing"]["spilled"] is True
    elif n_ops <= 3:
        assert spilled.summary["timing"]["spilled"] is False
    for other in (parallel, spilled):
        assert _comparable(inline.summary) == _comparable(other.summary)
        assert inline.reads == other.reads
        assert inline.final_state == other.final_state


@settings(max_examples=40, **SETTINGS)
@given(lww_histories(), st.randoms(use_true_random=False))
def test_a_final_read_of_an_older_version_is_caught(tmp_path_factory, hist, rnd):
    """Replace what one final read returned by an older acknowledged version of its key:
    the regions now disagree, and the checker must say so, citing that read."""
    header, events, ops = hist
    finals = [op for op in ops if op.get("final") and op["saw"] is not None]
    if not finals:
        return
    victim = rnd.choice(finals)
    older = [op for op in ops if op["kind"] == "write" and op["outcome"] == "ok"
             and op["key"] == victim["key"] and op["i"] != victim["saw"][3]]
    if not older:
        return
    events[victim["done_index"]]["value"] = rnd.choice(older)["value"]
    s = check_history(_write(tmp_path_factory, header, events), jobs=1).summary
    assert s["valid"] is False
    assert s["convergence"]["valid"] is False
    (a,) = [a for a in s["convergence"]["anomalies"] if a["key"] == victim["key"]]
    assert a["name"] == "divergent-final-state"
    assert f"#{victim['inv_index']}" in a["explanation"] or victim["inv_index"] in \
        sum(a["details"]["versions"].values(), [])
