"""``keep_writes``: every write that did not fail, with its place in the key's conflict
order; with the reads' ``saw`` (and ``complete_ns``) it says which writes each read saw and
which it missed (what ``gtcheck fit`` reads). The same records whatever the jobs."""

from __future__ import annotations

from pathlib import Path

import orjson

from gtcheck.checker.check import check_history
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.simulator import simulate

ROOT = Path(__file__).resolve().parents[2]


def test_ranks_follow_the_conflict_order_and_failed_writes_are_left_out():
    res = check_history(ROOT / "histories" / "anomalies" / "read-of-failed-write.jsonl", jobs=1, keep_reads=True,
                        keep_writes=True)
    failed = [line for line in (ROOT / "histories" / "anomalies" / "read-of-failed-write.jsonl").read_text().splitlines()
              if '"type": "fail"' in line or '"type":"fail"' in line]
    assert failed, "the history has a failed write"
    assert [w.index for w in res.writes] == [0], "#2 failed: not kept"
    assert res.writes, "the history has writes"
    for w in res.writes:
        assert w.outcome in ("ok", "info")
        if w.outcome == "ok":
            assert w.complete_ns is not None and w.complete_ns >= w.invoke_ns
    by_key: dict[str, list] = {}
    for w in res.writes:
        if w.rank is not None:
            by_key.setdefault(w.key, []).append(w)
    for ws in by_key.values():
        ranks = [w.rank for w in ws]
        assert len(set(ranks)) == len(ranks), "one place per write in the key's order"
    for r in res.reads:
        assert r.complete_ns is None or r.complete_ns >= r.time_ns
        if r.saw is not None:
            assert any(w.index == r.saw for w in res.writes), "a read's version is a kept write"


def test_ranks_are_the_ts_order_on_a_simulated_history(tmp_path):
    """On a model history the conflict order is (ts, origin): the ground truth's stamps."""
    path = tmp_path / "h.jsonl"
    simulate(scenario_from_dict({"workload": {"duration": "3s", "keys": 3}}), 5, path, True)
    one = check_history(path, jobs=1, keep_reads=True, keep_writes=True)
    two = check_history(path, jobs=2, keep_reads=True, keep_writes=True)
    assert one.writes == two.writes and one.reads == two.reads
    stamp = {}
    for line in (tmp_path / "h.truth.jsonl").read_bytes().splitlines():
        ev = orjson.loads(line)
        if ev["kind"] == "write" and ev["took_effect"]:
            stamp[ev["index"]] = (ev["ts"], ev["origin"])
    by_key: dict[str, list] = {}
    for w in one.writes:
        if w.rank is not None:
            by_key.setdefault(w.key, []).append(w)
    checked = 0
    for ws in by_key.values():
        ws.sort(key=lambda w: w.rank)
        stamps = [stamp[w.index] for w in ws]
        assert stamps == sorted(stamps)
        checked += len(ws)
    assert checked > 20
    assert check_history(path, jobs=1).writes is None, "not kept unless asked"
