"""Output formats (text, JSON, JUnit), -o, durations and exit codes of ``gtcheck check``."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from gtcheck.cli import main
from tests.clihelp import run_cli
from tests.checker.test_timestamp_free import strip
from gtcheck.kernel.units import parse_duration
from gtcheck.kernel.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
ANOM = ROOT / "histories" / "anomalies"
PROPS = ["integrity", "convergence", "read_after_write", "linearizability", "staleness",
         "lost_writes"]


def run(argv, capsys):
    return run_cli(["check", *argv, "--no-progress", "-j", "1"], capsys)


def unknown_history(tmp_path) -> Path:
    """valid.jsonl without settled_after_ns: convergence (and so the verdict) is unknown."""
    lines = (ANOM / "valid.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    del header["settled_after_ns"]
    path = tmp_path / "unknown.jsonl"
    path.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    return path


def test_json_structure(capsys):
    code, out, _ = run([ANOM / "stale-read.jsonl", "--format", "json", "--staleness-bound",
                        "750ms"], capsys)
    assert code == 1
    s = json.loads(out)
    assert s["valid"] is False
    assert set(s) >= {"valid", "gtcheck_version", "history", "options", *PROPS,
                      "unknown_keys", "timing"}
    assert s["history"]["path"].endswith("stale-read.jsonl")
    assert s["history"]["header"]["regions"] == ["us-east-1", "eu-west-1"]
    assert s["history"]["counts"]["operations"] == 5
    assert s["options"]["staleness_bound_ns"] == 750_000_000
    for p in ("integrity", "convergence", "read_after_write"):
        assert set(s[p]) >= {"valid", "anomalies", "figures"}
    st = s["staleness"]
    assert set(st) >= {"valid", "bound_ns", "smallest_bound_ns", "pairs", "anomalies"}
    assert st["valid"] is False and st["bound_ns"] == 750_000_000
    assert st["smallest_bound_ns"] == 1_300_000_000
    pair = st["pairs"]["us-east-1 -> eu-west-1"]
    assert set(pair) == {"reads", "max_ns", "p50_ns", "p99_ns"}
    (a,) = st["anomalies"]
    assert a["name"] == "stale-read" and a["ops"] == [4, 0, 2] and a["property"] == "staleness"
    # eventual mode: linearizability is outside the history format's scope
    assert s["linearizability"]["checked"] is False and s["linearizability"]["valid"] == "unknown"
    assert s["options"]["linearizability_scope"] == "contract"
    code, out, _ = run([ANOM / "stale-read.jsonl", "--format", "json",
                        "--linearizability-scope", "single-region-keys"], capsys)
    s2 = json.loads(out)
    assert s2["linearizability"]["valid"] is True            # one key, written in one region
    assert s2["linearizability"]["figures"]["keys_checked"] == 1
    assert set(s["timing"]) >= {"parse_s", "order_s", "solve_s", "judge_s"}


def test_junit_has_a_testcase_per_property_and_fails_the_right_one(capsys):
    code, out, _ = run([ANOM / "lost-own-write.jsonl", "--format", "junit",
                        "--linearizability-scope", "single-region-keys"], capsys)
    assert code == 1
    suite = ET.fromstring(out)
    assert suite.tag == "testsuite" and suite.get("name") == "gtcheck"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == PROPS
    # the stale strong read in the writing region fails read_after_write and linearizability
    assert suite.get("tests") == "6" and suite.get("failures") == "2"
    failure = cases["read_after_write"].find("failure")
    assert failure is not None and "lost-own-write" in failure.get("message")
    assert "#4" in failure.text and "#2" in failure.text
    lin = cases["linearizability"].find("failure")
    assert lin is not None and "not-linearizable" in lin.get("message")
    assert "#4" in lin.text and "#2" in lin.text
    for name in ("integrity", "convergence", "staleness"):
        assert cases[name].find("failure") is None and cases[name].find("skipped") is None


def test_junit_marks_unknown_as_skipped(tmp_path, capsys):
    code, out, _ = run([unknown_history(tmp_path), "--format", "junit"], capsys)
    assert code == 2
    cases = {c.get("name"): c for c in ET.fromstring(out).findall("testcase")}
    assert cases["convergence"].find("skipped") is not None
    assert "settled_after_ns" in cases["convergence"].find("skipped").get("message")


def test_text_output_lists_properties_and_anomalies(capsys):
    code, out, _ = run([ANOM / "divergent-final-state.jsonl"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("INVALID: convergence failed")
    for p in PROPS:
        assert any(line.strip().startswith(p) for line in lines)
    assert "[divergent-final-state]" in out and "#4" in out and "#6" in out


def test_output_file(tmp_path, capsys):
    target = tmp_path / "out.json"
    code, out, err = run([ANOM / "valid.jsonl", "--format", "json", "-o", target], capsys)
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["valid"] is True
    assert "wrote" in err


@pytest.mark.parametrize("extra, code", [([], 2), (["--unknown-ok"], 0)])
def test_unknown_exit_codes(tmp_path, capsys, extra, code):
    assert run([unknown_history(tmp_path), *extra], capsys)[0] == code


def test_valid_exit_code(capsys):
    assert run([ANOM / "valid.jsonl"], capsys)[0] == 0


@pytest.mark.parametrize("bound", ["fast", "10 parsecs", "1.5", "-3ms", "1.0000000001s", ""])
def test_bad_staleness_bound_is_exit_254(capsys, bound):
    code, _, err = run([ANOM / "valid.jsonl", "--staleness-bound", bound], capsys)
    assert code == 254
    assert "750ms, 1.5s, 200us, 1000000ns" in err


@pytest.mark.parametrize("timeout", ["nan", "inf", "1e300"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_254(capsys, timeout):
    """click's FloatRange lets NaN and infinity through its bounds."""
    code, out, err = run([ANOM / "valid.jsonl", "--timeout", timeout], capsys)
    assert code == 254, (out, err)
    assert "the solver timeout must be a number of seconds" in err


def test_missing_file_and_bad_history_are_254(tmp_path, capsys):
    assert run([tmp_path / "nope.jsonl"], capsys)[0] == 254
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "gt-history", "version": 1, "regions": ["r"]}\n'
                   '{"type": "invoke", "process": 1, "f": "read", "key": 7, "time": 0}\n')
    code, _, err = run([bad], capsys)
    assert code == 254 and "line 2" in err


@pytest.mark.parametrize("text, ns", [("750ms", 750_000_000), ("1.5s", 1_500_000_000),
                                      ("200us", 200_000), ("200µs", 200_000),
                                      ("1000000ns", 1_000_000), ("42", 42), ("0", 0),
                                      ("2m", 120_000_000_000), ("1.25 ms", 1_250_000)])
def test_parse_duration(text, ns):
    assert parse_duration(text) == ns


def test_parse_duration_rejects():
    with pytest.raises(UserError):
        parse_duration("3 fortnights")


def test_help_has_a_worked_example(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--staleness-bound 750ms" in out and "Exit codes" in out


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_bar_does_not_change_the_result(jobs):
    from gtcheck.checker.check import check_history
    a = check_history(ANOM / "stale-read.jsonl", jobs=jobs, progress=True).summary
    b = check_history(ANOM / "stale-read.jsonl", jobs=jobs).summary
    assert a["staleness"] == b["staleness"] and a["valid"] == b["valid"]


def test_check_html_writes_the_report_beside_the_verdict(tmp_path, capsys):
    page = tmp_path / "out" / "r.html"
    hist = str(Path(__file__).resolve().parents[2] / "histories" / "anomalies" / "stale-read.jsonl")
    code, out, err = run([hist, "--staleness-bound", "750ms", "--html", str(page)], capsys)
    assert code == 1 and "INVALID" in out
    html = page.read_text(encoding="utf-8")
    assert "stale-read" in html and "#4" in html and f"report: {page}" in err


def test_text_shows_the_solver_contradiction(tmp_path, capsys):
    src = Path(__file__).resolve().parents[2] / "histories" / "anomalies" / "lost-own-write.jsonl"
    hist = strip(src, tmp_path / "no-ts.jsonl")
    code, out, _ = run([str(hist)], capsys)
    assert code == 1
    assert "why no order avoids it: Read #4 in us-east-1" in out and "#2 ranks above #0" in out


def test_unwritable_output_is_bad_input_not_a_crash(tmp_path, capsys):
    hist = str(Path(__file__).resolve().parents[2] / "histories" / "anomalies" / "valid.jsonl")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run([hist, "-o", str(blocker / "sub" / "out.json")], capsys)
    assert code == 254 and "cannot write the output" in err
    code, _, _ = run([hist, "-o", str(tmp_path / "new" / "dir" / "out.txt")], capsys)
    assert code == 0 and (tmp_path / "new" / "dir" / "out.txt").read_text().startswith("VALID")


def test_smallest_bound_is_unknown_when_a_key_could_not_be_ordered(tmp_path, capsys):
    src = Path(__file__).resolve().parents[2] / "histories" / "anomalies" / "stale-read.jsonl"
    hist = strip(src, tmp_path / "no-ts.jsonl")
    code, out, _ = run([str(hist), "--timeout", "0.000001", "--format", "json"], capsys)
    st = json.loads(out)["staleness"]
    assert code == 2 and st["valid"] == "unknown"
    assert st["smallest_bound_ns"] is None and st["smallest_bound_decided_keys_ns"] == 0
    code, out, _ = run([str(hist), "--timeout", "0.000001"], capsys)
    assert "smallest bound unknown" in out
