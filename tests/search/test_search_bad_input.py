"""Bad input to search and explore (issue 18): each was exit 255 before. An --invariant
that is not module:function, a user's invariant that raises or returns the wrong shape
(the user's code: 254 naming it, never "a bug in gtcheck"), --shrink-runs 0 once a
violation is found (Hypothesis's FlakyFailure), and malformed path files given to
explore --replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clihelp import run_cli
from tests.fuzz.surfaces import USER_INVARIANTS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "search"
LOST_UPDATE = ROOT / "histories" / "scenarios" / "behaviours" / "lost-update.toml"


def refused(code: int, err: str) -> bool:
    return code == 254 and "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("spec", [":", ":f", ".x:f", "a..b:f", "x:", "os:", "1x:f", "os:get-cwd()"])
def test_an_invariant_that_is_not_module_function_is_bad_input(tmp_path, capsys, spec):
    for argv in (["search", "--scenario", DATA / "heals.toml", "--budget", "2", "-o", tmp_path / "o"],
                 ["explore", "--scenario", LOST_UPDATE, "-o", tmp_path / "o"]):
        code, _, err = run_cli([*argv, "--invariant", spec], capsys)
        assert refused(code, err), err
        assert "--invariant" in err


INVARIANTS = USER_INVARIANTS.decode()     # the fuzzer's too: fine, boom, shape, pair, arity, message, counted


@pytest.fixture
def invariants(tmp_path, monkeypatch):
    name = f"userinv_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(INVARIANTS)
    monkeypatch.chdir(tmp_path)
    return name


@pytest.mark.parametrize("function,words", [("boom", "raised KeyError: 'no such account'"),
                                            ("shape", "returned 5"),
                                            ("pair", "returned"),
                                            ("arity", "raised TypeError")])
def test_a_user_invariant_that_fails_is_reported_as_the_users(tmp_path, capsys, invariants, function, words):
    spec = f"{invariants}:{function}"
    for argv in (["search", "--scenario", DATA / "heals.toml", "--budget", "5", "-o", tmp_path / "o"],
                 ["explore", "--scenario", LOST_UPDATE, "-o", tmp_path / "o"]):
        code, _, err = run_cli([*argv, "--invariant", spec], capsys)
        assert refused(code, err), err
        assert f"the invariant {spec} {words}" in err
        assert "bug in gtcheck" not in err


def test_a_user_invariant_that_raises_stops_the_search_at_once(tmp_path, capsys, invariants):
    """Not a violation to shrink: the first failure ends the search (Hypothesis would
    otherwise call it again and again while shrinking)."""
    code, _, err = run_cli(["search", "--scenario", DATA / "heals.toml", "--budget", "50", "-o", tmp_path / "o",
                            "--invariant", f"{invariants}:counted"], capsys)
    assert refused(code, err), err
    assert "raised ValueError: call 1" in err
    import sys
    assert sys.modules[invariants].CALLS == [1]


def test_debug_shows_where_the_users_invariant_failed(tmp_path, capsys, invariants, monkeypatch):
    monkeypatch.setenv("GTCHECK_DEBUG", "1")
    code, _, err = run_cli(["explore", "--scenario", LOST_UPDATE, "-o", tmp_path / "o",
                            "--invariant", f"{invariants}:boom"], capsys)
    assert code == 254 and "internal error" not in err, err
    assert "Traceback" in err and ", in boom" in err and 'raise KeyError("no such account")' in err


def test_a_user_invariant_returning_a_message_is_a_violation(tmp_path, capsys, invariants):
    code, out, err = run_cli(["explore", "--scenario", LOST_UPDATE, "-o", tmp_path / "o",
                              "--invariant", f"{invariants}:message"], capsys)
    assert code == 1, err
    assert "balance went negative" in out


def test_shrink_runs_zero_keeps_the_first_violation(tmp_path, capsys):
    code, out, err = run_cli(["search", "--scenario", DATA / "slow-replication.toml", "--property", "staleness",
                              "--staleness-bound", "1s", "--budget", "50", "--seed", "1", "--shrink-runs", "0",
                              "--no-report", "-o", tmp_path / "cx"], capsys)
    assert code == 1, err
    assert "counterexample to staleness" in out and (tmp_path / "cx" / "counterexample.toml").exists()


@pytest.fixture(scope="module")
def path_file(tmp_path_factory):
    """A real counterexample path of lost-update.toml, written by explore -o."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("cx")
    r = subprocess.run([sys.executable, "-W", "ignore", "-m", "gtcheck", "explore", "--scenario", str(LOST_UPDATE),
                        "--property", "no_acknowledged_write_lost", "-o", str(out), "--format", "json"],
                       capture_output=True, timeout=300)
    assert r.returncode == 1, r.stderr
    cx = json.loads(r.stdout)["properties"]["no_acknowledged_write_lost"]["counterexample"]
    return Path(cx["scenario"]), Path(cx["path"])


def test_the_path_file_replays(path_file, capsys):
    scenario, path = path_file
    code, out, err = run_cli(["explore", "--scenario", scenario, "--replay", path], capsys)
    assert code == 0, err
    assert out.startswith('{"format":"gt-history"')


def _mutations(doc: dict) -> dict[str, bytes]:
    text = json.dumps(doc).encode()
    first = doc["actions"][0]
    muts = {
        "truncated": text[: len(text) // 2],
        "empty": b"",
        "not an object": b"[1, 2]",
        "no actions": json.dumps({"offsets": {}}).encode(),
        "action not an object": json.dumps(dict(doc, actions=[7])).encode(),
        "unknown field": json.dumps(dict(doc, actions=[dict(first, speed=3)])).encode(),
        "wrong type": json.dumps(dict(doc, actions=[dict(first, copy="0")])).encode(),
        "bool for int": json.dumps(dict(doc, actions=[dict(first, copy=True)])).encode(),
        "no kind": json.dumps(dict(doc, actions=[{k: v for k, v in first.items() if k != "kind"}])).encode(),
        "not enabled": json.dumps(dict(doc, actions=[{"kind": "deliver", "source": 0, "target": 1, "key": "nope"}])).encode(),
        "unknown kind": json.dumps(dict(doc, actions=[{"kind": "teleport"}])).encode(),
        "twice the same request": json.dumps(dict(doc, actions=[first] * 50)).encode(),
        "offsets not an object": json.dumps(dict(doc, offsets=[1])).encode(),
        "offset of an unknown region": json.dumps(dict(doc, offsets={"mars-1": 5})).encode(),
        "offset not an integer": json.dumps(dict(doc, offsets={"us-east-1": 1.5})).encode(),
    }
    return muts


def test_malformed_path_files_are_bad_input(path_file, tmp_path, capsys):
    scenario, path = path_file
    doc = json.loads(path.read_text())
    for name, data in _mutations(doc).items():
        bad = tmp_path / "bad.path.json"
        bad.write_bytes(data)
        code, out, err = run_cli(["explore", "--scenario", scenario, "--replay", bad], capsys)
        assert refused(code, err), (name, err)
        assert str(bad) in err, (name, err)


def test_explore_json_goes_to_any_standard_output(tmp_path):
    """explore --format json and --replay wrote to sys.stdout.buffer: called in-process
    with stdout redirected to text (as a harness or notebook does), exit 255."""
    import contextlib
    import io

    from gtcheck.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as info:
        main(["explore", "--scenario", str(LOST_UPDATE), "--quiet", "--format", "json", "-o", str(tmp_path / "o")])
    assert info.value.code == 0
    assert json.loads(out.getvalue())["complete"] is True


def test_explore_refuses_a_nan_time_limit(tmp_path, capsys):
    code, _, err = run_cli(["explore", "--scenario", LOST_UPDATE, "--time-limit", "nan", "-o", tmp_path / "o"],
                           capsys)
    assert refused(code, err) and "--time-limit" in err, err


def test_a_checker_property_on_an_untimed_exploration_names_the_option(tmp_path, capsys):
    """Untimed runs' histories go back in time, which the checker refuses: the refusal named
    a temporary file the user never saw (found by the fuzzer); it names --property now."""
    from tests.fuzz.surfaces import WITNESS_SCRIPT

    scenario = tmp_path / "w.toml"
    scenario.write_bytes(WITNESS_SCRIPT)
    code, _, err = run_cli(["explore", "--scenario", scenario, "--untimed", "--property", "read_after_write",
                            "--quiet", "-o", tmp_path / "o"], capsys)
    assert refused(code, err), err
    assert err.startswith("error: --property:") and "explore timed" in err
