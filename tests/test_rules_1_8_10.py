"""Rules 1, 8 and 10 of the history format, on hand-made histories.

* rule 1: events at equal times are ordered by their place in the file, never by ``index``;
* rule 8: an unknown post-image is the change applied to *some version* of the key;
* rule 10: real-time constraints that contradict the recorded ``ts`` are a ``ts-inversion``.

Each test fails on a checker that departs from the rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gtcheck.checker.check import check_history

MS = 1_000_000
PROPS = ("integrity", "convergence", "read_after_write", "staleness")


def _write(tmp_path: Path, events: list[dict], name: str = "h.jsonl", **header) -> Path:
    head = {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"],
            "mode": "eventual", "clock_uncertainty_ns": 0}
    head.update(header)
    p = tmp_path / name
    p.write_text("\n".join(json.dumps(e) for e in [head] + events) + "\n")
    return p


def _names(summary) -> list[tuple[str, list[int]]]:
    return sorted((a["name"], a["ops"]) for p in PROPS for a in summary[p]["anomalies"])


def _ev(index, typ, process, f, time, region="us-east-1", key="k", **kw) -> dict:
    e = {"index": index, "type": typ, "process": process, "region": region, "f": f,
         "key": key, "time": time}
    if f == "read" and typ == "invoke":
        e["value"] = None
    e.update(kw)
    return e


# --------------------------------------------------------------------------- rule 1
def _tie_history(ts: bool) -> list[dict]:
    """Write #10 completes at 300 ms on the line just before strongly consistent read #5 is
    invoked at 300 ms, in the same region: it completed before the read began (rule 1), but
    its completion's index (21) is larger than the read's (5)."""
    extra = (lambda n: {"ts": n}) if ts else (lambda n: {})
    return [
        _ev(0, "invoke", 1, "write", 0, value={"v": 1}),
        _ev(1, "ok", 1, "write", 100 * MS, value={"v": 1}, **extra(1)),
        _ev(10, "invoke", 2, "write", 200 * MS, value={"v": 2}),
        _ev(21, "ok", 2, "write", 300 * MS, value={"v": 2}, **extra(2)),
        _ev(5, "invoke", 3, "read", 300 * MS, consistent=True),
        _ev(6, "ok", 3, "read", 400 * MS, value={"v": 1}),
    ]


@pytest.mark.parametrize("ts", [True, False], ids=["ts-path", "solver-path"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_rule1_equal_times_ordered_by_file_position_not_index(tmp_path, ts, jobs):
    s = check_history(_write(tmp_path, _tie_history(ts)), jobs=jobs).summary
    assert s["read_after_write"]["valid"] is False
    assert _names(s) == [("lost-own-write", [5, 0, 10])]


def test_rule1_read_invoked_on_a_later_line_than_a_tied_completion_only(tmp_path):
    """The mirror case: the read's invocation comes first in the file, so the write had not
    completed before it began, whatever the indices say."""
    ev = _tie_history(True)
    ev[3], ev[4] = ev[4], ev[3]
    ev[3]["index"], ev[4]["index"] = 5, 4
    s = check_history(_write(tmp_path, ev), jobs=1).summary
    assert s["read_after_write"]["valid"] is True, _names(s)


# --------------------------------------------------------------------------- rule 8
def _rule8_history(reads: list[dict], updates: list[dict], first=None) -> list[dict]:
    """A write of ``first`` (default {"v": 1, "n": 5, "l": [1]}), info updates with the
    given changes (all in flight until the end: their post-images are unknown), then eventual
    reads of the given values."""
    ev, i, t = [], 0, 0
    first = {"v": 1, "n": 5, "l": [1]} if first is None else first
    ev += [_ev(0, "invoke", 1, "write", 0, value=first),
           _ev(1, "ok", 1, "write", MS, value=first, ts=1)]
    i, t = 2, 2 * MS
    for n, change in enumerate(updates):
        ev += [_ev(i, "invoke", 10 + n, "update", t, value=change),
               _ev(i + 1, "info", 10 + n, "update", t + MS)]
        i, t = i + 2, t + 2 * MS
    for value in reads:
        ev += [_ev(i, "invoke", 2, "read", t, region="eu-west-1"),
               _ev(i + 1, "ok", 2, "read", t + MS, region="eu-west-1", value=value)]
        i, t = i + 2, t + 2 * MS
    return ev


def _read_verdicts(tmp_path, reads, updates, first=None) -> list[str]:
    """For each read (in order): "ok" when it passed integrity, else the anomaly's name."""
    s = check_history(_write(tmp_path, _rule8_history(reads, updates, first)), jobs=1).summary
    failed = {a["ops"][0]: a["name"] for a in s["integrity"]["anomalies"]}
    first_read = 2 + 2 * len(updates)
    return [failed.get(first_read + 2 * n, "ok") for n in range(len(reads))]


def test_rule8_an_attribute_no_version_has_is_a_phantom_read(tmp_path):
    # agrees with the change (a = 5) but "zz" is in no version: no version + change gives it
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 5, "l": [1], "a": 5},
                                     {"v": 1, "n": 5, "l": [1], "a": 5, "zz": 9},
                                     {"v": 2, "n": 5, "l": [1], "a": 5},
                                     {"a": 5}],
                          [{"set": {"a": 5}}]) == ["ok", "phantom-read", "phantom-read", "ok"]


def test_rule8_remove_and_numeric_add(tmp_path):
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 7},
                                     {"v": 1, "n": 8},
                                     {"v": 1, "l": [1], "n": 7},
                                     {"n": 2}],
                          [{"remove": ["l"], "add": {"n": 2}}]) == [
        "ok", "phantom-read", "phantom-read", "ok"]


def test_rule8_list_add(tmp_path):
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 5, "l": [1, 3]},
                                     {"v": 1, "n": 5, "l": [2, 3]},
                                     {"v": 1, "n": 5, "l": [3]},
                                     {"l": [3]}],
                          [{"add": {"l": [3]}}]) == ["ok", "phantom-read", "phantom-read", "ok"]


def test_rule8_chains_of_unknown_post_images(tmp_path):
    """An unknown post-image is itself a version another info update may apply to."""
    assert _read_verdicts(tmp_path, [{"v": 1, "n": 5, "l": [1], "a": 1, "b": 2},
                                     {"v": 1, "n": 5, "l": [1], "b": 2},
                                     {"a": 1, "b": 2},
                                     {"v": 1, "n": 5, "l": [1], "a": 1, "b": 2, "c": 3}],
                          [{"set": {"a": 1}}, {"set": {"b": 2}}]) == [
        "ok", "ok", "ok", "phantom-read"]
