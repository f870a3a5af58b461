"""``gtcheck check`` on several histories, ``--property``, ``--linearizability-scope``, and
only the properties that apply being computed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from gtcheck.checker import shard
from gtcheck.checker.check import check_history
from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]
ANOM = ROOT / "histories" / "anomalies"
PROPS = ["integrity", "convergence", "read_after_write", "linearizability", "staleness",
         "lost_writes"]

# a Knossos-style register history: linearizable, and one that is not
GOOD_EDN = """[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value 1}]
"""
BAD_EDN = """[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 0, :type :invoke, :f :write, :value 2}
 {:process 0, :type :ok, :f :write, :value 2}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value 1}]
"""


def run(argv, capsys):
    return run_cli(["check", *argv, "--no-progress"], capsys)


@pytest.fixture()
def jepsen_dir(tmp_path: Path) -> Path:
    d = tmp_path / "jepsen"
    d.mkdir()
    (d / "a-good.edn").write_text(GOOD_EDN)
    (d / "b-bad.edn").write_text(BAD_EDN)
    return d


def test_several_histories_one_line_each_and_a_summary(jepsen_dir, capsys):
    code, out, _ = run([jepsen_dir / "a-good.edn", jepsen_dir / "b-bad.edn"], capsys)
    assert code == 1                         # the worst verdict
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("valid") and "a-good.edn" in lines[0]
    assert lines[1].startswith("INVALID") and "b-bad.edn" in lines[1]
    assert "linearizability: 1 not-linearizable" in lines[1]
    assert lines[2] == "2 histories: 1 valid, 1 invalid, 0 unknown, 0 bad input"


def test_a_quoted_glob_is_expanded_in_order(jepsen_dir, capsys):
    code, out, _ = run([str(jepsen_dir / "*.edn")], capsys)
    assert code == 1
    assert [line.split()[1] for line in out.splitlines()[:2]] == \
        [str(jepsen_dir / "a-good.edn"), str(jepsen_dir / "b-bad.edn")]
    # a pattern that matches nothing is bad input
    code, _, err = run([str(jepsen_dir / "*.nothing")], capsys)
    assert code == 254 and "no history matches" in err
    # a pattern that matches one file still gives the one-line form
    code, out, _ = run([str(jepsen_dir / "a-*.edn")], capsys)
    assert code == 0 and out.splitlines()[-1].startswith("1 history: 1 valid")


def test_bad_input_is_named_after_checking_the_others(jepsen_dir, capsys):
    (jepsen_dir / "c-broken.edn").write_text("[{:process 0, :type :invoke")
    code, out, err = run([str(jepsen_dir / "*.edn"), jepsen_dir / "missing.edn"], capsys)
    assert code == 254
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["valid", "INVALID", "error", "error"]
    assert "c-broken.edn" in lines[2] and "missing.edn" in lines[3]
    assert lines[-1] == "4 histories: 1 valid, 1 invalid, 0 unknown, 2 bad input"
    assert "c-broken.edn" in err and "missing.edn" in err


def test_json_and_junit_of_several_histories(jepsen_dir, capsys):
    code, out, _ = run([str(jepsen_dir / "*.edn"), "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 1
    assert [h["valid"] for h in doc["histories"]] == [True, False]
    assert doc["histories"][0]["history"]["path"].endswith("a-good.edn")
    assert set(doc["histories"][0]) >= {"valid", "history", *PROPS}
    assert doc["summary"] == {"histories": 2, "valid": 1, "invalid": 1, "unknown": 0,
                              "bad_input": 0, "exit_code": 1}
    code, out, _ = run([str(jepsen_dir / "*.edn"), "--format", "junit"], capsys)
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(jepsen_dir / "a-good.edn"),
                                              str(jepsen_dir / "b-bad.edn")]
    assert [s.get("failures") for s in suites] == ["0", "1"]
    assert root.get("failures") == "1" and root.get("tests") == str(2 * len(PROPS))


def test_html_takes_one_history(jepsen_dir, tmp_path, capsys):
    code, _, err = run([str(jepsen_dir / "*.edn"), "--html", tmp_path / "r.html"], capsys)
    assert code == 254 and "one history" in err


def test_property_selects_what_is_judged_and_computed(monkeypatch, capsys):
    def no_order(*a, **k):
        raise AssertionError("the order was computed though no selected property needs it")

    monkeypatch.setattr(shard, "order_key", no_order)
    code, out, _ = run([ANOM / "divergent-final-state.jsonl", "--property", "integrity",
                        "--format", "json"], capsys)
    s = json.loads(out)
    assert code == 0 and s["valid"] is True           # convergence is not judged
    assert s["integrity"]["valid"] is True
    for p in PROPS[1:]:
        assert s[p]["checked"] is False and "not selected" in s[p]["reason"]
    assert s["options"]["properties"] == ["integrity"]
    code, _, err = run([ANOM / "valid.jsonl", "--property", "speed"], capsys)
    assert code == 254 and "no property named 'speed'" in err and "integrity" in err


def test_a_register_history_computes_no_order(monkeypatch, jepsen_dir):
    """A register import has no convergence (no settled phase), read-after-write or
    staleness to judge: they are not computed (no conflict order, no solver) and are
    reported not checked, with the reason."""
    def no_order(*a, **k):
        raise AssertionError("the order was computed for a register history")

    monkeypatch.setattr(shard, "order_key", no_order)
    s = check_history(jepsen_dir / "b-bad.edn", jobs=1).summary
    assert s["linearizability"]["valid"] is False and s["integrity"]["valid"] is True
    for p in ("convergence", "read_after_write", "staleness"):
        assert s[p]["checked"] is False and "register history" in s[p]["reason"]


def test_only_linearizability_computes_no_candidates(monkeypatch):
    def no_candidates(*a, **k):
        raise AssertionError("candidates were computed though no selected property needs them")

    monkeypatch.setattr(shard, "key_candidates", no_candidates)
    s = check_history(ANOM / "not-linearizable.jsonl", jobs=1,
                      properties=["linearizability"]).summary
    assert s["linearizability"]["valid"] is False and s["valid"] is False


def test_linearizability_scope_option(capsys):
    code, out, _ = run([ANOM / "lost-own-write.jsonl", "--format", "json"], capsys)
    s = json.loads(out)
    assert s["linearizability"]["checked"] is False
    assert "--linearizability-scope single-region-keys" in s["linearizability"]["reason"]
    code, out, _ = run([ANOM / "lost-own-write.jsonl", "--format", "json",
                        "--linearizability-scope", "single-region-keys"], capsys)
    s = json.loads(out)
    assert s["linearizability"]["valid"] is False
    assert s["linearizability"]["scope"].startswith("keys written from a single region")
    code, _, err = run([ANOM / "valid.jsonl", "--linearizability-scope", "everything"], capsys)
    assert code == 254 and "contract, single-region-keys" in err


def test_one_history_keeps_the_full_verdict(tmp_path, capsys):
    path = tmp_path / "v.jsonl"
    shutil.copy(ANOM / "valid.jsonl", path)
    code, out, _ = run([path], capsys)
    assert code == 0 and out.startswith("VALID (")
