"""``gtcheck check --invariant``: the application invariants of ``gtcheck search`` judged on a
recorded history (no ground truth), in text, JSON and JUnit, counted in the verdict; the
user's invariant that raises or answers nonsense is the user's error (254 naming it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]
LOST = ROOT / "histories" / "lost-writes"


def run(argv, capsys):
    return run_cli(["check", *map(str, argv), "--no-progress"], capsys)


def test_a_double_create_in_a_recording_fails_the_invariant_and_the_verdict(capsys):
    path = LOST / "lost-conditional-create.jsonl"
    code, out, _ = run([path], capsys)
    assert code == 0, out                       # lost writes alone are reported, not counted
    code, out, _ = run([path, "--invariant", "create_at_most_once"], capsys)
    assert code == 1
    assert out.startswith("INVALID: invariant create_at_most_once failed")
    line = next(x for x in out.splitlines() if x.strip().startswith("create_at_most_once"))
    assert "INVALID" in line and "conditional create of usernames/alice succeeded 2 times" in line
    code, out, _ = run([path, "--invariant", "create_at_most_once", "--format", "json"], capsys)
    doc = json.loads(out)
    entry = doc["invariants"]["create_at_most_once"]
    assert doc["valid"] is False and entry["valid"] is False and len(entry["cited"]) == 2
    code, out, _ = run([path, "--invariant", "create_at_most_once", "--format", "junit"], capsys)
    case = next(c for c in ET.fromstring(out).iter("testcase") if c.get("name") == "invariant create_at_most_once")
    assert case.find("failure") is not None


def test_invariants_that_hold_leave_the_verdict_and_unknown_makes_it_unknown(capsys):
    """Writes overwritten, none lost by rule 12; but the last version is a blind put in
    us-east-1 100 ms after an update in eu-west-1, and nothing in the history shows the
    update had reached us-east-1 by then: only the ground truth could say it was not lost."""
    path = LOST / "overwritten-not-lost.jsonl"
    code, out, _ = run([path, "--invariant", "create_at_most_once", "--invariant", "converges",
                        "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["valid"] is True, doc["invariants"]
    assert {n: e["valid"] for n, e in doc["invariants"].items()} == {"create_at_most_once": True, "converges": True}
    code, out, _ = run([path, "--invariant", "no_acknowledged_write_lost", "--format", "json"], capsys)
    doc = json.loads(out)
    entry = doc["invariants"]["no_acknowledged_write_lost"]
    assert code == 2 and doc["valid"] == "unknown" and entry["valid"] == "unknown"
    assert "blind write 6 (us-east-1)" in entry["reason"] and "write 4 had reached" in entry["reason"]
    code, out, _ = run([path, "--invariant", "no_acknowledged_write_lost"], capsys)
    assert out.startswith("UNKNOWN") and "no_acknowledged_write_lost unknown" in out


def test_the_lost_writes_invariant_names_rule_12s_writes_on_a_recording(capsys):
    path = LOST / "stale-base-update.jsonl"
    code, out, _ = run([path, "--format", "json"], capsys)
    named = sorted(a["details"]["write"] for a in json.loads(out)["lost_writes"]["anomalies"])
    assert named
    code, out, _ = run([path, "--invariant", "no_acknowledged_write_lost", "--format", "json"], capsys)
    entry = json.loads(out)["invariants"]["no_acknowledged_write_lost"]
    assert code == 1 and entry["valid"] is False and entry["cited"] == named


def test_without_ground_truth_a_blind_overwrite_is_unknown_not_a_violation(tmp_path, capsys):
    """Two blind puts from two regions, concurrent: whether the winner had seen the other
    needs the ground truth a recording does not have: unknown (exit 2), never invalid."""
    h = tmp_path / "blind.jsonl"
    lines = [{"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"],
              "mode": "eventual", "clock_uncertainty_ns": 0, "settled_after_ns": 5_000_000_000},
             {"index": 0, "type": "invoke", "process": 1, "region": "us-east-1", "f": "write", "key": "k",
              "value": {"pk": "k", "v": 1}, "time": 1_000_000_000},
             {"index": 1, "type": "invoke", "process": 2, "region": "eu-west-1", "f": "write", "key": "k",
              "value": {"pk": "k", "v": 2}, "time": 1_000_000_000},
             {"index": 2, "type": "ok", "process": 1, "time": 1_100_000_000, "value": {"pk": "k", "v": 1},
              "ts": 1_050_000, "origin": "us-east-1"},
             {"index": 3, "type": "ok", "process": 2, "time": 1_100_000_000, "value": {"pk": "k", "v": 2},
              "ts": 1_060_000, "origin": "eu-west-1"}]
    t = 6_000_000_000
    for i, region in enumerate(("us-east-1", "eu-west-1")):
        lines.append({"index": 4 + 2 * i, "type": "invoke", "process": 10 + i, "region": region, "f": "read",
                      "key": "k", "value": None, "time": t, "consistent": True})
        lines.append({"index": 5 + 2 * i, "type": "ok", "process": 10 + i, "time": t + 1_000_000,
                      "value": {"pk": "k", "v": 2}})
        t += 10_000_000
    h.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, out, _ = run([h, "--invariant", "no_acknowledged_write_lost", "--format", "json"], capsys)
    doc = json.loads(out)
    entry = doc["invariants"]["no_acknowledged_write_lost"]
    assert code == 2 and doc["valid"] == "unknown" and entry["valid"] == "unknown", entry
    assert "blind write 1 (eu-west-1)" in entry["reason"] and "ground truth" in entry["reason"]
    code, _, _ = run([h, "--invariant", "no_acknowledged_write_lost", "--unknown-ok"], capsys)
    assert code == 0


def test_several_histories_each_judged(capsys):
    code, out, _ = run([LOST / "lost-conditional-create.jsonl", LOST / "overwritten-not-lost.jsonl",
                        "--invariant", "create_at_most_once"], capsys)
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("INVALID") and "invariant create_at_most_once: conditional create" in lines[0]
    assert lines[1].startswith("valid")


@pytest.fixture()
def user_module(tmp_path, monkeypatch):
    (tmp_path / "cli_userinv.py").write_text(
        "from gtcheck.search.run import Unknown\n"
        "def boom(run):\n"
        "    return {}['missing']\n"
        "def odd(run):\n"
        "    return 42\n"
        "def cannot(run):\n"
        "    return Unknown('needs the shopping cart service')\n"
        "def two_writes(run):\n"
        "    w = [o['index'] for o in run.operations() if o['f'] != 'read' and o.get('type') == 'ok']\n"
        "    return None if len(w) < 2 else ('two writes: ' + str(w), w)\n")
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop("cli_userinv", None)      # another test's module may have the same name


def test_the_users_invariant_runs_and_its_errors_are_the_users(user_module, capsys):
    path = LOST / "lost-conditional-create.jsonl"
    code, out, _ = run([path, "--invariant", "cli_userinv:two_writes", "--format", "json"], capsys)
    assert code == 1 and json.loads(out)["invariants"]["cli_userinv:two_writes"]["message"].startswith("two writes")
    code, out, err = run([path, "--invariant", "cli_userinv:boom"], capsys)
    assert code == 254 and "Traceback" not in err
    assert "the invariant cli_userinv:boom raised KeyError: 'missing'" in err
    assert "cli_userinv.py:3" in err and "--invariant" in err
    code, _, err = run([path, "--invariant", "cli_userinv:odd"], capsys)
    assert code == 254 and "cli_userinv:odd returned 42, which is not an answer" in err
    code, out, _ = run([path, "--invariant", "cli_userinv:cannot", "--format", "json"], capsys)
    assert code == 2 and "shopping cart" in json.loads(out)["invariants"]["cli_userinv:cannot"]["reason"]
    code, _, err = run([path, "--invariant", "cli_userinv:nothere"], capsys)
    assert code == 254 and "no function 'nothere'" in err
    code, _, err = run([path, "--invariant", "nomodule_xyz:f"], capsys)
    assert code == 254 and "cannot import 'nomodule_xyz'" in err


def test_a_history_in_parts_is_refused_before_any_work(tmp_path, capsys):
    parts = tmp_path / "day"
    parts.mkdir()
    (parts / "a.jsonl").write_bytes((LOST / "lost-conditional-create.jsonl").read_bytes())
    code, _, err = run([parts, "--invariant", "create_at_most_once"], capsys)
    assert code == 254 and "--invariant judges a history read whole" in err and "Traceback" not in err
