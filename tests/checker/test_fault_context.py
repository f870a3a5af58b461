"""Explanations name the faults that overlapped a stale read, and only those."""

from __future__ import annotations

from pathlib import Path

from gtcheck.checker.check import check_history
from gtcheck.checker.faults import annotate, fault_windows
from gtcheck.checker.operations import NemesisEvent
from tests.simhelp import run

ROOT = Path(__file__).resolve().parents[2]
S = 1_000_000_000


def nem(i, f, value, t):
    return NemesisEvent(index=i, f=f, value=value, time=t)


def test_windows_pair_openings_with_their_ends():
    ws = fault_windows([
        nem(1, "partition", {"isolate": ["eu-west-1"]}, 10 * S),
        nem(2, "region-down", {"region": "us-east-1"}, 11 * S),
        nem(3, "replication-delay", {"from": "us-east-1", "to": "*", "until_ns": 14 * S}, 12 * S),
        nem(4, "heal", {"isolate": ["eu-west-1"]}, 20 * S),
        nem(5, "clock-skew", {"region": "eu-west-1", "delta_ns": 5}, 21 * S),
        nem(6, "partition", {"isolate": ["ap-southeast-2"]}, 30 * S),
    ])
    got = {(w.what, tuple(sorted(w.regions)), w.start, w.end, w.index) for w in ws}
    assert got == {("isolated", ("eu-west-1",), 10 * S, 20 * S, 1),
                   ("down", ("us-east-1",), 11 * S, None, 2),
                   ("replication delayed", ("us-east-1",), 12 * S, 14 * S, 3),
                   ("isolated", ("ap-southeast-2",), 30 * S, None, 6)}


def stale(region, writer, t, staleness):
    return {"name": "stale-read", "time_ns": t, "region": region, "explanation": "read was stale.",
            "details": {"staleness_ns": staleness, "writer_region": writer}}


def test_annotate_only_overlapping_faults_of_the_regions_involved():
    ws = fault_windows([nem(1, "partition", {"isolate": ["eu-west-1"]}, 10 * S),
                        nem(2, "heal", {"isolate": ["eu-west-1"]}, 20 * S)])
    during, after, elsewhere = stale("eu-west-1", "us-east-1", 15 * S, S), \
        stale("eu-west-1", "us-east-1", 40 * S, S), stale("us-east-1", "ap-southeast-2", 15 * S, S)
    just_healed = stale("us-east-1", "eu-west-1", 21 * S, 2 * S)   # stale since 19 s: overlaps
    annotate([during, after, elsewhere, just_healed], ws)
    assert during["explanation"].endswith(
        "Meanwhile eu-west-1 was isolated from 10.00 s to 20.00 s (nemesis #1).")
    assert during["details"]["faults"] == [1] and just_healed["details"]["faults"] == [1]
    assert "Meanwhile" not in after["explanation"] and "Meanwhile" not in elsewhere["explanation"]


def test_isolation_stale_reads_say_so_end_to_end(tmp_path):
    r = run("isolation.toml", 1, tmp=tmp_path)
    result = check_history(r.path, jobs=1, staleness_bound_ns=2 * S)
    anomalies = result.summary["staleness"]["anomalies"]
    assert anomalies and any("eu-west-1 was isolated from 10.00 s to 25.00 s" in a["explanation"]
                             for a in anomalies)


def test_no_fault_no_mention():
    result = check_history(ROOT / "histories" / "anomalies" / "stale-read.jsonl", jobs=1,
                           staleness_bound_ns=750_000_000)
    assert all("Meanwhile" not in a["explanation"] for a in result.summary["staleness"]["anomalies"])
