"""The pytest plugin's CI gate (issue 9): the ``gtcheck_model`` fixture fails an example
application test with the shrunk explanation and the counterexample files, and passes a
correct one (docs/examples/test_model_gate.py, run by pytester)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtcheck.search.gate import PropertyViolated, holds_by_exploration, holds_by_search

pytest_plugins = ["pytester"]
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "test_model_gate.py"


def test_the_documented_example_fails_the_wrong_app_and_passes_the_right_one(pytester):
    pytester.makepyfile(test_gate=EXAMPLE.read_text())
    result = pytester.runpytest_subprocess("-W", "ignore", "-q",  # the plugin: pytest11 entry point
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "test_increments_from_every_region_are_counted" in out
    assert "counter_matches_increments does not hold" in out
    assert "increments acknowledged" in out and "lost" in out       # the explanation
    assert "counterexample.toml" in out and "explanation.txt" in out  # the files


def test_the_helpers_directly(tmp_path):
    sc = {"name": "two", "regions": {"names": ["us-east-1", "eu-west-1"], "copies": 1, "write_quorum": 1},
          "script": [{"at": "0s", "region": r, "f": "cas", "key": "k", "new": {"owner": r}}
                     for r in ("us-east-1", "eu-west-1")]}
    with pytest.raises(PropertyViolated, match="create_at_most_once does not hold") as err:
        holds_by_exploration(sc, prop="create_at_most_once", out=tmp_path / "x")
    assert "shortest path" in str(err.value) and (tmp_path / "x" / "create_at_most_once.path.json").exists()
    ex = holds_by_exploration(sc, prop="converges", out=tmp_path / "y")
    assert ex.complete
    with pytest.raises(PropertyViolated, match="the exploration stopped"):
        holds_by_exploration(sc, prop="converges", max_states=3, out=tmp_path / "z")
    ok = holds_by_search(dict(sc, script=[], workload={"keys": 1, "duration": "2s", "mix": {"write": 1}}),
                         prop="converges", budget=10, out=tmp_path / "w")
    assert ok.found is None
