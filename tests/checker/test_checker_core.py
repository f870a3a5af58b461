"""Candidates, ordering and judging on operation lists built by hand."""

from __future__ import annotations


import pytest

from gtcheck.checker.candidates import Clock, read_candidates
from gtcheck.checker.inverse import agrees_with_change
from gtcheck.kernel.items import apply_change
from gtcheck.checker.check import check_operations, percentile
from gtcheck.checker.operations import Header, Operation
from gtcheck.checker.ordering.timestamps import order_key_ts
from gtcheck.kernel.errors import UserError

US, EU = "us-east-1", "eu-west-1"
MS = 1_000_000
K = "k"


class H:
    """Builds operations with consecutive event indices (invoke i, completion i+1)."""

    def __init__(self):
        self.ops: list[Operation] = []
        self.i = 0

    def add(self, f, region, value, t0, t1, outcome="ok", ts=None, inv=None, process=None,
            consistent=False, key=K, origin=None):
        idx = self.i
        self.i += 2
        if inv is None:
            inv = value if f in ("write",) else None
        op = Operation(index=idx, process=process if process is not None else idx, region=region,
                       f=f, key=key, invoke_value=inv, value=value, outcome=outcome,
                       invoke_time=t0 * MS, complete_time=t1 * MS if outcome != "info" else None,
                       end_time=t1 * MS, complete_index=idx + 1, consistent=consistent,
                       ts=ts, origin=origin)
        self.ops.append(op)
        return idx

    def w(self, region, v, t0, t1, ts, outcome="ok", **kw):
        return self.add("write", region, v, t0, t1, outcome, ts if outcome == "ok" else None, **kw)

    def r(self, region, v, t0, t1, **kw):
        return self.add("read", region, v, t0, t1, "ok", **kw)


def hdr(**kw):
    kw.setdefault("regions", [US, EU])
    return Header(**kw)


def names(summary, prop):
    return [(a["name"], a["ops"]) for a in summary[prop]["anomalies"]]


# --------------------------------------------------------------------------- rule 1
def test_clock_certainly_before():
    c0, c5 = Clock(0), Clock(5)
    assert c0.before(10, 1, "a", 10, 2, "b") and not c0.before(10, 2, "a", 10, 1, "b")
    assert not c5.before(10, 1, "a", 15, 2, "b")      # within δ: not certain
    assert c5.before(10, 1, "a", 16, 2, "b")
    assert c5.before(10, 1, "a", 11, 2, "a")          # same process: file order


def test_delta_decides_whether_a_write_supersedes():
    h = H()
    w1 = h.w(US, {"v": 1}, 0, 1, ts=1)
    w2 = h.w(US, {"v": 2}, 2, 10, ts=2, process="p")
    r_other = h.r(EU, {"v": 1}, 15, 16)                  # 5 ms after w2 completed
    r_same = h.r(US, {"v": 1}, 15, 16, process="p")      # same process as w2
    res = check_operations(hdr(clock_uncertainty_ns=10 * MS), h.ops, keep_reads=True)
    st = {r.index: r.staleness_ns for r in res.reads}
    assert st[r_other] == 0            # not certainly after w2 completed
    assert st[r_same] == 5 * MS        # same process: certainly after
    assert w1 == 0
    res0 = check_operations(hdr(), h.ops, keep_reads=True)
    assert {r.index: r.staleness_ns for r in res0.reads} == {r_other: 5 * MS, r_same: 5 * MS}


# --------------------------------------------------------------------------- rule 3, 8
def test_change_agreement_and_application():
    change = {"set": {"a": 1}, "remove": ["b"], "add": {"n": 2, "l": [3]}}
    assert agrees_with_change({"a": 1, "n": 7, "l": [1, 3]}, change)
    assert not agrees_with_change({"a": 1, "b": 0, "n": 7, "l": [3]}, change)
    assert not agrees_with_change({"a": 2, "n": 7, "l": [3]}, change)
    assert not agrees_with_change({"a": 1, "n": "x", "l": [3]}, change)
    assert apply_change({"b": 1, "n": 5, "l": [3, 4]}, change) == {"a": 1, "n": 7, "l": [3, 4]}
    assert apply_change(None, change) == {"a": 1, "n": 2, "l": [3]}


def test_info_update_is_a_candidate_when_the_value_agrees():
    h = H()
    w = h.w(US, {"a": 0, "v": 1}, 0, 1, ts=1)
    u = h.add("update", EU, None, 2, 3, outcome="info", inv={"set": {"a": 5}})
    r_ok = h.r(US, {"a": 5, "v": 1}, 4, 5)
    r_bad = h.r(US, {"a": 6, "v": 1}, 6, 7)
    cands, anomalies = read_candidates(hdr(), h.ops)
    assert cands == {r_ok: [u]}
    assert [(a.name, a.ops) for a in anomalies] == [("phantom-read", [r_bad])]
    assert w == 0


def test_null_reads_see_initial_state_or_deletes():
    h = H()
    w = h.w(US, {"v": 1}, 0, 1, ts=1)
    d = h.add("delete", US, None, 2, 3, ts=2)
    r = h.r(EU, None, 4, 5)
    late_delete = h.add("delete", US, None, 10, 11, ts=3)
    cands, anomalies = read_candidates(hdr(), h.ops)
    assert cands == {r: [None, d]} and anomalies == []
    res = check_operations(hdr(), h.ops, keep_reads=True)
    (rec,) = res.reads
    assert rec.saw == d and rec.staleness_ns == 0
    assert w == 0 and late_delete == 6


def test_failed_write_beats_future_write_in_naming():
    h = H()
    r = h.r(EU, {"v": 1}, 0, 1)
    f = h.w(US, {"v": 1}, 2, 3, ts=None, outcome="fail")
    s = check_operations(hdr(), h.ops).summary
    assert names(s, "integrity") == [("future-read", [r, f])]


def test_equal_ok_values_are_bad_input():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    h.w(EU, {"v": 1}, 2, 3, ts=2)
    with pytest.raises(UserError, match="ambiguous-version"):
        check_operations(hdr(), h.ops)


def test_equal_ts_origin_is_bad_input():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    h.w(US, {"v": 2}, 2, 3, ts=1)
    with pytest.raises(UserError, match=r"equal \(ts, origin\)"):
        check_operations(hdr(), h.ops)


# --------------------------------------------------------------------------- rule 5
def test_info_write_goes_below_the_final_winner_when_admissible():
    h = H()
    w1 = h.w(US, {"v": 1}, 0, 1, ts=1)
    i = h.w(EU, {"v": 2}, 2, 3, ts=None, outcome="info")
    r = h.r(EU, {"v": 2}, 4, 5)
    w3 = h.w(US, {"v": 3}, 6, 7, ts=3)
    f1 = h.r(US, {"v": 3}, 100, 101)
    f2 = h.r(EU, {"v": 3}, 102, 103)
    header = hdr(settled_after_ns=50 * MS)
    res = check_operations(header, h.ops, keep_reads=True)
    assert res.summary["valid"] is True
    from gtcheck.checker.candidates import key_candidates
    cands, _ = key_candidates(header, h.ops)
    order = order_key_ts(header, h.ops, cands)
    assert order.rank == {w1: 0, i: 1, w3: 2}
    assert order.saw == {r: i, f1: w3, f2: w3}


def test_info_write_forced_above_the_final_version_is_a_wrong_winner():
    h = H()
    w1 = h.w(US, {"v": 1}, 0, 1, ts=1)
    i = h.w(US, {"v": 2}, 2, 3, ts=None, outcome="info")   # same region, after w1 completed
    h.r(EU, {"v": 2}, 4, 5)
    f1 = h.r(US, {"v": 1}, 100, 101)
    h.r(EU, {"v": 1}, 102, 103)
    s = check_operations(hdr(settled_after_ns=50 * MS), h.ops).summary
    assert names(s, "convergence") == [("wrong-winner", [f1, w1, i])]
    assert "outcome unknown" in s["convergence"]["anomalies"][0]["explanation"]


def test_epsilon_orders_info_writes_across_regions():
    def build():
        h = H()
        h.w(US, {"v": 1}, 0, 1, ts=1)
        h.w(EU, {"v": 2}, 20, 21, ts=None, outcome="info")    # 19 ms after w1 completed
        h.r(EU, {"v": 2}, 22, 23)
        h.r(US, {"v": 1}, 100, 101)
        h.r(EU, {"v": 1}, 102, 103)
        return h.ops
    assert check_operations(hdr(settled_after_ns=50 * MS), build()).summary["valid"] is True
    loose = hdr(settled_after_ns=50 * MS, ts_uncertainty_ns=10 * MS)   # 2ε = 20 ms > 19 ms
    assert check_operations(loose, build()).summary["valid"] is True
    tight = hdr(settled_after_ns=50 * MS, ts_uncertainty_ns=5 * MS)    # 2ε = 10 ms < 19 ms
    s = check_operations(tight, build()).summary
    assert [a["name"] for a in s["convergence"]["anomalies"]] == ["wrong-winner"]


def test_unseen_info_write_is_excluded():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    h.w(US, {"v": 2}, 2, 3, ts=None, outcome="info")
    h.r(US, {"v": 1}, 100, 101)
    h.r(EU, {"v": 1}, 102, 103)
    assert check_operations(hdr(settled_after_ns=50 * MS), h.ops).summary["valid"] is True


def test_null_final_reads_choose_an_info_delete_to_converge():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    d = h.add("delete", EU, None, 2, 3, outcome="info")
    f1 = h.r(US, None, 100, 101)
    h.r(EU, None, 102, 103)
    res = check_operations(hdr(settled_after_ns=50 * MS), h.ops, keep_reads=True)
    assert res.summary["convergence"]["valid"] is True
    assert res.final_state == {K: {US: d, EU: d}}
    assert f1 == 4


def test_null_final_reads_after_an_ok_write_only_are_wrong_winner():
    h = H()
    w = h.w(US, {"v": 1}, 0, 1, ts=1)
    f1 = h.r(US, None, 100, 101)
    h.r(EU, None, 102, 103)
    s = check_operations(hdr(settled_after_ns=50 * MS), h.ops).summary
    assert names(s, "convergence") == [("wrong-winner", [f1, w])]


def test_reads_before_settled_are_not_final_and_convergence_unknown_without_finals():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    h.r(EU, None, 2, 3)
    s = check_operations(hdr(settled_after_ns=50 * MS), h.ops).summary
    assert s["convergence"]["valid"] == "unknown" and s["valid"] == "unknown"
    assert "settled_after_ns" in s["convergence"]["reason"]


def test_keys_without_final_reads_are_not_judged():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1, key="a")
    h.r(EU, None, 2, 3, key="a")                       # key a: no final read
    h.w(US, {"v": 1}, 4, 5, ts=1, key="b")
    h.r(EU, {"v": 1}, 100, 101, key="b")
    s = check_operations(hdr(settled_after_ns=50 * MS), h.ops).summary
    assert s["convergence"]["valid"] is True
    assert s["convergence"]["figures"]["keys_judged"] == 1


# --------------------------------------------------------------------------- properties
def test_staleness_uses_the_earliest_completing_superseding_write():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    h.w(EU, {"v": 3}, 2, 30, ts=3)        # ranked highest, completes late
    w2 = h.w(US, {"v": 2}, 3, 10, ts=2)   # ranked above v1, completes first
    r = h.r(EU, {"v": 1}, 40, 41)
    res = check_operations(hdr(), h.ops, keep_reads=True, staleness_bound_ns=20 * MS)
    (rec,) = res.reads
    assert (rec.staleness_ns, rec.writer_region) == (30 * MS, US)
    assert names(res.summary, "staleness") == [("stale-read", [r, 0, w2])]


def test_eventual_reads_behind_their_region_are_measured_not_judged():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    h.w(US, {"v": 2}, 2, 3, ts=2)
    h.r(US, {"v": 1}, 10, 11)            # eventual read: allowed
    s = check_operations(hdr(), h.ops).summary
    assert s["read_after_write"]["valid"] is True
    f = s["read_after_write"]["figures"]
    assert f["eventual_reads_behind_own_region"] == 1
    assert f["eventual_max_own_region_lag_ns"] == 7 * MS


def test_keys_without_ts_are_unknown_without_z3(monkeypatch):
    """A key that needs z3 (a read with a choice left) is unknown, saying why, when
    z3-solver is missing; a key the graph path decides does not need it."""
    from gtcheck.checker.ordering.solver import engines
    monkeypatch.setattr(engines, "z3", None)
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=None)
    h.add("delete", US, None, 2, 3)           # two concurrent deletes: a null read may
    h.add("delete", EU, None, 2, 3)           # have seen either, a choice z3 makes
    h.r(EU, None, 5, 6, consistent=True)
    h.r(US, None, 5, 6)
    s = check_operations(hdr(), h.ops).summary
    assert s["valid"] == "unknown"
    (u,) = s["unknown_keys"]
    assert u["key"] == K and "needs z3" in u["reason"]
    assert s["staleness"]["valid"] == "unknown"
    monkeypatch.undo()                         # with z3 the same key is decided
    assert check_operations(hdr(), h.ops).summary["unknown_keys"] == []
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=None)
    h.r(EU, {"v": 1}, 2, 3)
    assert check_operations(hdr(), h.ops).summary["unknown_keys"] == []


def test_keys_without_ts_go_to_the_solver():
    h = H()
    w1 = h.w(US, {"v": 1}, 0, 1, ts=None)
    w2 = h.w(US, {"v": 2}, 2, 3, ts=None)          # rule 2: same region, after w1
    r = h.r(US, {"v": 1}, 10, 11, consistent=True)
    res = check_operations(hdr(), h.ops, keep_reads=True)
    s = res.summary
    assert s["unknown_keys"] == []
    assert names(s, "read_after_write") == [("lost-own-write", [r, w1, w2])]
    assert res.reads[0].staleness_ns == 7 * MS


def test_percentile_is_nearest_rank():
    vals = list(range(1, 101))
    assert percentile(vals, 50) == 50 and percentile(vals, 99) == 99
    assert percentile([7], 99) == 7 and percentile([], 50) == 0
    assert percentile([1, 2, 3], 50) == 2 and percentile([1, 2, 3], 99) == 3


def test_strong_mode_accepts_repeated_values_and_judges_raw_across_regions():
    h = H()
    h.w(US, {"v": 1}, 0, 1, ts=1)
    w2 = h.w(EU, {"v": 1}, 2, 3, ts=2)             # repeated value: fine in strong mode
    r = h.r(US, {"v": 1}, 4, 5, consistent=True)
    res = check_operations(hdr(mode="strong"), h.ops, keep_reads=True)
    assert res.summary["read_after_write"]["valid"] is True
    assert res.reads[0].saw == w2                   # the highest candidate
    with pytest.raises(UserError):
        check_operations(hdr(), h.ops)              # eventual mode: rule 4
    assert r == 4


def test_header_initial_value_is_the_initial_state():
    h = H()
    r = h.r(US, {"v": 0}, 0, 1)
    h.w(US, {"v": 1}, 2, 3, ts=1)
    res = check_operations(hdr(initial={"v": 0}), h.ops, keep_reads=True)
    assert res.summary["integrity"]["valid"] is True
    assert res.reads[0].saw is None and res.reads[0].index == r
    assert check_operations(hdr(), h.ops).summary["integrity"]["valid"] is False
