"""Each hand-written history under histories/anomalies and histories/naive-traps gives
exactly the verdicts, anomaly names, cited indices and exit code it was written for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gtcheck.checker.check import check_history
from gtcheck.cli import main

ROOT = Path(__file__).resolve().parents[2]
ANOM = ROOT / "histories" / "anomalies"
TRAPS = ROOT / "histories" / "naive-traps"
MS = 1_000_000

from gtcheck.checker.props import anomaly_kinds, names

PROPS = names()
NOT_CHECKED = "not checked"

# file -> (bound, {property: valid}, [(name, ops)], exit code). Every history is in eventual
# mode but not-linearizable's (strong): there linearizability is outside the history format's
# scope, so not checked; SINGLE_REGION below gives its verdicts with
# --linearizability-scope single-region-keys
CASES = {
    "valid": (None, dict(integrity=True, convergence=True, read_after_write=True,
                         linearizability=NOT_CHECKED, staleness=True,
                         lost_writes=True), [], 0),
    "stale-read": (750 * MS, dict(integrity=True, convergence=True, read_after_write=True,
                                  linearizability=NOT_CHECKED, staleness=False,
                         lost_writes=True),
                   [("stale-read", [4, 0, 2])], 1),
    "lost-own-write": (None, dict(integrity=True, convergence=True, read_after_write=False,
                                  linearizability=NOT_CHECKED, staleness=True,
                         lost_writes=True),
                       [("lost-own-write", [4, 0, 2])], 1),
    "divergent-final-state": (None, dict(integrity=True, convergence=False,
                                         read_after_write=True, linearizability=NOT_CHECKED,
                                         staleness=True,
                         lost_writes=True),
                              [("divergent-final-state", [4, 0, 6, 2])], 1),
    "wrong-winner": (None, dict(integrity=True, convergence=False, read_after_write=True,
                                linearizability=NOT_CHECKED, staleness=True,
                         lost_writes=True),
                     [("wrong-winner", [4, 2, 0])], 1),
    "read-of-failed-write": (None, dict(integrity=False, convergence="unknown",
                                        read_after_write=True, linearizability=NOT_CHECKED,
                                        staleness=True,
                         lost_writes=True),
                             [("read-of-failed-write", [4, 2])], 1),
    "phantom-read": (None, dict(integrity=False, convergence="unknown", read_after_write=True,
                                linearizability=NOT_CHECKED, staleness=True,
                         lost_writes=True),
                     [("phantom-read", [2])], 1),
    "future-read": (None, dict(integrity=False, convergence="unknown", read_after_write=True,
                               linearizability=NOT_CHECKED, staleness=True,
                         lost_writes=True),
                    [("future-read", [0, 2])], 1),
    "ts-inversion": (None, dict(integrity=True, convergence=True, read_after_write=False,
                                linearizability=NOT_CHECKED, staleness=True,
                         lost_writes=True),
                     [("ts-inversion", [0, 2])], 1),
    # strong mode; only linearizability fails: no write completed before a read, yet the
    # reads' order of values (v2, v1, v2) has no linearization
    "not-linearizable": (None, dict(integrity=True, convergence=True, read_after_write=True,
                                    linearizability=False, staleness=True,
                         lost_writes=True),
                         [("not-linearizable", [6, 4])], 1),
    # rule 12: #3's increment survives nowhere, lost to #4; reported, not counted (exit 0)
    "lost-write": (None, dict(integrity=True, convergence=True, read_after_write=True,
                              linearizability=NOT_CHECKED, staleness=True, lost_writes=False),
                   [("lost-write", [3, 4, 0])], 0),
}

# --linearizability-scope single-region-keys: a key written from one region is judged (that
# region's writes and strongly consistent reads; a stale strong read there fails it too);
# written from two regions, nothing is in scope: not checked, never valid, not counted
SINGLE_REGION = {
    "valid": (NOT_CHECKED, []), "divergent-final-state": (NOT_CHECKED, []),
    "wrong-winner": (NOT_CHECKED, []), "stale-read": (True, []),
    "lost-own-write": (False, [("not-linearizable", [4, 2])]),
    "read-of-failed-write": (True, []), "phantom-read": (True, []), "future-read": (True, []),
    "ts-inversion": (False, [("not-linearizable", [4, 2])]),
    "not-linearizable": (False, [("not-linearizable", [6, 4])]),
    "lost-write": (NOT_CHECKED, []),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_anomaly_file_with_single_region_keys(name):
    bound = CASES[name][0]
    want, lin_anoms = SINGLE_REGION[name]
    s = check_history(ANOM / f"{name}.jsonl", staleness_bound_ns=bound, jobs=1,
                      linearizability_scope="single-region-keys").summary
    lin = s["linearizability"]
    assert _verdict(lin) == want
    assert sorted((a["name"], a["ops"]) for a in lin["anomalies"]) == lin_anoms
    assert lin["figures"]["keys_checked"] == (0 if want == NOT_CHECKED else 1)
    # the other properties do not depend on the option
    others = {p: _verdict(s[p]) for p in PROPS if p != "linearizability"}
    assert others == {p: v for p, v in CASES[name][1].items() if p != "linearizability"}


def test_every_anomaly_kind_has_a_history_here():
    """Every anomaly kind of the registry has its small history in histories/anomalies/."""
    assert {k.name for k in anomaly_kinds()} <= {p.stem for p in ANOM.glob("*.jsonl")}


TRAP_CASES = ["skewed-clock-winner", "cross-region-consistent-read", "info-write-seen",
              "conditional-update-expression", "info-update-expression"]


def _verdict(section):
    return NOT_CHECKED if section.get("checked") is False else section["valid"]


def _anomalies(summary):
    out = []
    for p in PROPS:
        out.extend((a["name"], a["ops"]) for a in summary[p]["anomalies"])
    return sorted(out)


def _exit(argv, capsys=None) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


@pytest.mark.parametrize("name", sorted(CASES))
def test_anomaly_file(name):
    bound, verdicts, anomalies, code = CASES[name]
    path = ANOM / f"{name}.jsonl"
    header = json.loads(path.read_text().splitlines()[0])
    assert header.get("description"), "every hand-written history says what it shows"
    res = check_history(path, staleness_bound_ns=bound, jobs=1)
    s = res.summary
    assert {p: _verdict(s[p]) for p in PROPS} == verdicts
    assert _anomalies(s) == sorted(anomalies)
    lin = s["linearizability"]
    assert lin["figures"].get("keys_checked", 0) == \
        (0 if verdicts["linearizability"] == NOT_CHECKED else 1)
    if header["mode"] == "eventual":
        assert "eventual mode" in lin["reason"]
    for p in PROPS:
        for a in s[p]["anomalies"]:
            assert a["property"] == p
            assert a["key"] == "user#7"
            for idx in a["ops"]:
                assert f"#{idx}" in a["explanation"], (idx, a["explanation"])
    assert res.exit_code == code


@pytest.mark.parametrize("name", sorted(CASES))
def test_anomaly_file_exit_code_via_cli(name, capsys):
    bound, _, anomalies, code = CASES[name]
    argv = ["check", str(ANOM / f"{name}.jsonl"), "--jobs", "1", "--no-progress"]
    if bound is not None:
        argv += ["--staleness-bound", f"{bound // MS}ms"]
    assert _exit(argv) == code
    out = capsys.readouterr().out
    for aname, _ in anomalies:
        assert f"[{aname}]" in out


def test_stale_read_without_bound_is_valid_and_reports_smallest_bound():
    s = check_history(ANOM / "stale-read.jsonl", jobs=1).summary
    assert s["valid"] is True
    st = s["staleness"]
    assert st["valid"] is True and st["bound_ns"] is None
    assert st["smallest_bound_ns"] == 1300 * MS
    assert st["pairs"]["us-east-1 -> eu-west-1"] == {"reads": 2, "max_ns": 1300 * MS,
                                                     "p50_ns": 0, "p99_ns": 1300 * MS}
    # a bound equal to the smallest bound is satisfied; one nanosecond less is not
    assert check_history(ANOM / "stale-read.jsonl", jobs=1,
                         staleness_bound_ns=1300 * MS).summary["valid"] is True
    assert check_history(ANOM / "stale-read.jsonl", jobs=1,
                         staleness_bound_ns=1300 * MS - 1).summary["valid"] is False


def test_stale_read_explanation_names_times_and_bound():
    s = check_history(ANOM / "stale-read.jsonl", staleness_bound_ns=750 * MS, jobs=1).summary
    (a,) = s["staleness"]["anomalies"]
    assert a["explanation"] == (
        "read #4 in eu-west-1 at 3.40 s returned the version written by #0 (us-east-1); "
        "write #2 (us-east-1) had completed at 2.10 s with a newer version; the read was "
        "1.30 s stale, over the 750 ms bound.")
    assert a["time_ns"] == 3400 * MS and a["region"] == "eu-west-1"
    assert a["details"]["staleness_ns"] == 1300 * MS


def test_ambiguous_version_is_bad_input(capsys):
    assert _exit(["check", str(ANOM / "ambiguous-version.jsonl"), "-j", "1"]) == 254
    err = capsys.readouterr().err
    assert "line 5" in err and "line 3" in err


@pytest.mark.parametrize("name", TRAP_CASES)
def test_naive_trap_is_valid(name):
    path = TRAPS / f"{name}.jsonl"
    assert json.loads(path.read_text().splitlines()[0]).get("description")
    res = check_history(path, jobs=1, keep_reads=True)
    s = res.summary
    assert s["valid"] is True, s
    assert all(_verdict(s[p]) in (True, NOT_CHECKED) for p in PROPS)
    assert _anomalies(s) == []
    assert res.exit_code == 0


def test_trap_skewed_clock_winner_is_the_larger_ts():
    res = check_history(TRAPS / "skewed-clock-winner.jsonl", jobs=1, keep_reads=True)
    assert res.final_state == {"user#7": {"us-east-1": 0, "eu-west-1": 0}}


def test_trap_cross_region_consistent_read_is_measured_as_staleness():
    res = check_history(TRAPS / "cross-region-consistent-read.jsonl", jobs=1, keep_reads=True)
    s = res.summary
    assert s["staleness"]["smallest_bound_ns"] == 100 * MS
    assert s["read_after_write"]["figures"]["consistent_reads_stale"] == 1
    (r,) = [r for r in res.reads if r.index == 2]
    assert (r.staleness_ns, r.writer_region, r.saw, r.consistent) == (100 * MS, "us-east-1", None, True)
    # a bound under 100 ms catches it as a stale read
    assert check_history(TRAPS / "cross-region-consistent-read.jsonl", jobs=1,
                         staleness_bound_ns=50 * MS).summary["staleness"]["valid"] is False


def test_cross_region_consistent_read_is_lost_write_in_strong_mode(tmp_path):
    lines = (TRAPS / "cross-region-consistent-read.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["mode"] = "strong"
    path = tmp_path / "strong.jsonl"
    path.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    s = check_history(path, jobs=1).summary
    assert s["read_after_write"]["valid"] is False
    assert [(a["name"], a["ops"]) for a in s["read_after_write"]["anomalies"]] == \
        [("lost-own-write", [2, 0])]
    assert s["read_after_write"]["scope"] == "all regions"


def test_trap_info_write_seen_takes_effect_on_top():
    res = check_history(TRAPS / "info-write-seen.jsonl", jobs=1, keep_reads=True)
    assert {r.index: r.saw for r in res.reads} == {4: 2, 6: 2, 8: 2, 10: 2}
    assert res.summary["convergence"]["figures"]["keys_converged"] == 1


def test_ts_inversion_explanation_and_details():
    s = check_history(ANOM / "ts-inversion.jsonl", jobs=1).summary
    (a,) = s["read_after_write"]["anomalies"]
    assert a["explanation"] == (
        "write #2 (us-east-1) was invoked at 2.00 s, after write #0 (us-east-1) had completed "
        "in the same region at 1.10 s, so it must rank above it (rule 2), yet its (ts, origin) "
        "(1000, us-east-1) is smaller than #0's (2000, us-east-1): the later write of us-east-1 "
        "silently lost to the earlier one. The key is judged by the ts order, without the "
        "contradicted real-time constraints.")
    assert a["time_ns"] == 2000 * MS and a["region"] == "us-east-1"
    assert a["details"] == {"w1": 0, "w2": 2, "chain": [], "writes": [0], "writes_count": 1}
    assert s["read_after_write"]["anomaly_counts"] == {"ts-inversion": 1}
    # judged by the ts order: #0 wins, the final reads agree on it, nothing is stale
    assert s["convergence"]["valid"] is True and s["staleness"]["smallest_bound_ns"] == 0
