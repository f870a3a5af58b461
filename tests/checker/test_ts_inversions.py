"""Rule 10 of the history format: real-time constraints that contradict the recorded ``ts``
are a ``ts-inversion`` (hand-made histories, and the inversions and orders of random
histories against a brute force)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.checker.candidates import Clock
from gtcheck.checker.check import check_history
from gtcheck.checker.ordering.inversions import find_inversions
from gtcheck.checker.ordering.solver.infer import infer_order
from gtcheck.checker.ordering.timestamps import has_all_ts, order_key_ts
from tests.checker import test_ordering_solver as Z
from tests.checker.handmade import MS, PROPS, ev, write


def _rt_before(h, a, b) -> bool:
    """Rule 2's real-time constraint "a below b", ignoring timestamps (independent)."""
    if a.outcome != "ok" or a.index == b.index:
        return False
    d = h.clock_uncertainty_ns
    if a.region == b.region or h.mode == "strong":
        if Z.certainly_before(a.complete_time, Z.cpos(a), a.process, b.invoke_time, b.index,
                              b.process, d):
            return True
    return h.ts_uncertainty_ns is not None and h.mode != "strong" and \
        b.invoke_time - a.complete_time > 2 * h.ts_uncertainty_ns + d


def _contradicted(h, ops) -> set[tuple[int, int]]:
    """Rule 10 by brute force: the real-time constraints on a chain from an ok write with ts
    to an ok write with a smaller (ts, origin), whose inner writes carry no ts."""
    ok = [o for o in ops if o.is_write and o.outcome == "ok"]
    edges = {(a.index, b.index) for a in ok for b in ok if _rt_before(h, a, b)}
    byi = {o.index: o for o in ok}

    def k(o):
        return (o.ts, o.origin or o.region)

    def walk(start, forward):
        seen, todo = {start}, [start]
        while todo:
            x = todo.pop()
            if x != start and byi[x].ts is not None:
                continue                    # chains stop at a timed write
            for a, b in edges:
                y = b if forward and a == x else (a if not forward and b == x else None)
                if y is not None and y not in seen:
                    seen.add(y)
                    todo.append(y)
        return seen
    out = set()
    timed = [o for o in ok if o.ts is not None]
    for w1 in timed:
        fwd = walk(w1.index, True)
        for w2 in timed:
            if k(w2) < k(w1) and w2.index in fwd:
                back = walk(w2.index, False)
                for a, b in edges:
                    if a in fwd and b in back and (a == w1.index or byi[a].ts is None) and \
                            (b == w2.index or byi[b].ts is None):
                        out.add((a, b))
    return out


def _inverted_history(rng, p):
    h, ops = Z.random_history(rng, p["n_regions"], p["n_writes"], p["n_reads"], p["p_delete"],
                              p["p_info"], p["p_consistent"], p["delta"], p["eps"],
                              p["finals"], keep_ts=True, p_anomaly=p["p_anomaly"])
    if p["strong"]:
        h.mode = "strong"
    tss = [o.ts for o in ops if o.ts is not None]
    for o in ops:
        if o.ts is None:
            continue
        if rng.random() < p["p_untimed"]:
            o.ts = o.origin = None
        elif rng.random() < p["p_shuffle"]:
            o.ts = rng.choice(tss) // 1000 * 1000 + 500 + o.index   # still unique
    return h, ops


inv_params = st.fixed_dictionaries({
    "seed": st.integers(0, 2**32 - 1), "n_regions": st.integers(1, 3),
    "n_writes": st.integers(2, 5), "n_reads": st.integers(0, 4),
    "p_delete": st.sampled_from([0.0, 0.3]), "p_info": st.sampled_from([0.0, 0.2]),
    "p_consistent": st.sampled_from([0.0, 0.5, 1.0]), "delta": st.sampled_from([0, 0, 20 * MS]),
    "eps": st.sampled_from([None, None, 30 * MS]), "finals": st.booleans(),
    "p_anomaly": st.sampled_from([0.0, 0.3]), "strong": st.sampled_from([False, False, True]),
    "p_untimed": st.sampled_from([0.0, 0.3, 0.6]), "p_shuffle": st.sampled_from([0.3, 0.7]),
})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=inv_params)
def test_rule10_inversions_and_orders_match_brute_force(p):
    """On random small keys whose timestamps were shuffled (and some removed): the
    contradicted constraints found in O(n log n) are those a brute force over chains finds,
    a ts-inversion is reported exactly when there is one, citing a real inverted chain, and
    both paths choose an order that respects the ts order and every other constraint and
    scores as well as the best such order."""
    rng = random.Random(p["seed"])
    h, ops = _inverted_history(rng, p)
    clock = Clock(h.clock_uncertainty_ns)
    want = _contradicted(h, ops)
    inv = find_inversions(h, ops, clock)
    ok = [o for o in ops if o.is_write and o.outcome == "ok"]
    got = {(a.index, b.index) for a in ok for b in ok
           if _rt_before(h, a, b) and inv.dropped(a.index, b.index)}
    assert got == want
    assert bool(inv.anomalies) == bool(want)
    byi = {o.index: o for o in ops}
    for a in inv.anomalies:
        w1, w2 = byi[a.ops[0]], byi[a.ops[1]]
        assert a.name == "ts-inversion" and a.property == "read_after_write"
        assert (w2.ts, w2.origin or w2.region) < (w1.ts, w1.origin or w1.region)
        chain = [w1] + [byi[i] for i in a.ops[2:]] + [w2]
        assert all(_rt_before(h, x, y) for x, y in zip(chain, chain[1:]))
        assert all(o.ts is None for o in chain[1:-1])
        for i in a.ops:
            assert f"#{i}" in a.explanation

    original = Z.rule2_before

    def rule2(h_, a, b):
        if a.ts is not None and b.ts is not None and b.outcome == "ok" and a.outcome == "ok":
            return original(h_, a, b)
        return _rt_before(h_, a, b) and (a.index, b.index) not in want
    Z.rule2_before = rule2
    try:
        cands = Z.candidates_of(ops, h.clock_uncertainty_ns)
        best = Z.brute_force(h, ops, cands)
        orders = [infer_order(h, ops, cands, timeout_s=30)]
        if has_all_ts(ops):
            orders.append(order_key_ts(h, ops, cands, clock))
        for ko in orders:
            assert ko.status == "decided"
            assert [a.ops for a in ko.inversions] == [a.ops for a in inv.anomalies]
            Z.admissible(h, ops, cands, ko.rank, ko.saw)
            assert Z.score(Z.judge(h, ops, ko.rank, ko.saw)) == best
    finally:
        Z.rule2_before = original


def _w(i, proc, t0, t1, v, region="us-east-1", ts=None) -> list[dict]:
    done = {"ts": ts} if ts is not None else {}
    return [ev(i, "invoke", proc, "write", t0 * MS, region=region, value={"v": v}),
            ev(i + 1, "ok", proc, "write", t1 * MS, region=region, value={"v": v}, **done)]


def _r(i, proc, t0, v, region="us-east-1", consistent=False) -> list[dict]:
    return [ev(i, "invoke", proc, "read", t0 * MS, region=region, consistent=consistent),
            ev(i + 1, "ok", proc, "read", (t0 + 1) * MS, region=region, value={"v": v})]


def _same_for_any_jobs(path, **kw) -> dict:
    a = check_history(path, jobs=1, **kw).summary
    b = check_history(path, jobs=2, **kw).summary
    for p in PROPS:
        assert a[p] == b[p], p
    assert a["valid"] == b["valid"]
    return a


def test_rule10_chain_through_an_untimed_write_drops_only_its_constraints(tmp_path):
    """y (no ts) < w1 (ts 5) < x (no ts) < w2 (ts 1), all in us-east-1, one after the other.
    The chain w1 -> x -> w2 is contradicted: both its constraints go, x is free, w1 wins by
    ts. The constraint y -> w1 is on no contradicted chain and stays, so the final reads that
    all return y cannot make y the winner (wrong-winner), while a consistent read of x is
    fine (x may rank on top)."""
    ev = (_w(0, 1, 0, 1, "y") + _w(2, 1, 2, 3, "w1", ts=5) + _w(4, 1, 4, 5, "x")
          + _w(6, 1, 6, 7, "w2", ts=1) + _r(8, 2, 8, "x", consistent=True)
          + _r(10, 2, 20, "y") + _r(12, 3, 22, "y", region="eu-west-1"))
    s = _same_for_any_jobs(write(tmp_path, ev, settled_after_ns=15 * MS))
    inv = s["read_after_write"]["anomalies"]
    assert [(a["name"], a["ops"]) for a in inv] == [("ts-inversion", [2, 6, 4])]
    assert "#4 carries no ts" in inv[0]["explanation"]
    assert inv[0]["details"]["writes"] == [2, 4]
    assert s["convergence"]["valid"] is False
    assert [a["name"] for a in s["convergence"]["anomalies"]] == ["wrong-winner"]
    assert s["read_after_write"]["anomaly_counts"] == {"ts-inversion": 1}


def test_rule10_timestamps_contradicting_real_time_with_no_order_at_all(tmp_path):
    """Without rule 10 no order exists (w1 -> x -> w2 by real time, w2 < w1 by ts): the key
    is still judged, by the ts order, and the contradiction is reported, on both paths."""
    for name, xts in (("mixed.jsonl", None), ("all-ts.jsonl", 3)):
        ev = (_w(0, 1, 0, 1, "w1", ts=5) + _w(2, 1, 2, 3, "x", ts=xts)
              + _w(4, 1, 4, 5, "w2", ts=1) + _r(6, 2, 10, "w1", consistent=True)
              + _r(8, 3, 20, "w1", region="eu-west-1"))
        s = _same_for_any_jobs(write(tmp_path, ev, name=name, settled_after_ns=15 * MS))
        assert s["read_after_write"]["valid"] is False
        names = [(a["name"], a["ops"]) for a in s["read_after_write"]["anomalies"]]
        assert names == ([("ts-inversion", [0, 4, 2])] if xts is None
                         else [("ts-inversion", [0, 4])]), name
        assert s["convergence"]["valid"] is True and s["integrity"]["valid"] is True


def test_rule10_across_regions_only_beyond_epsilon(tmp_path):
    ev = _w(0, 1, 0, 1, "a", ts=5) + _w(2, 2, 50, 51, "b", region="eu-west-1", ts=1)
    near = _same_for_any_jobs(write(tmp_path, ev, name="near.jsonl", ts_uncertainty_ns=30 * MS))
    assert near["read_after_write"]["anomalies"] == []          # 49 ms < 2ε + δ = 60 ms
    far = _same_for_any_jobs(write(tmp_path, ev, name="far.jsonl", ts_uncertainty_ns=20 * MS))
    (a,) = far["read_after_write"]["anomalies"]
    assert a["ops"] == [0, 2] and "2ε+δ = 40.0 ms" in a["explanation"]
    none = _same_for_any_jobs(write(tmp_path, ev, name="none.jsonl"))
    assert none["read_after_write"]["anomalies"] == []          # ε unknown: no constraint


