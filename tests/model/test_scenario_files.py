"""Every example scenario under histories/scenarios/ loads, simulates, and produces a
valid history (issue: "gtcheck simulate on every example scenario produces a valid
history"), and bad scenarios are rejected with the field named and exit code 254."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gtcheck.checker.history import validate_file
from gtcheck.kernel.errors import UserError
from gtcheck.model.scenario import load_scenario
from gtcheck.model.simulator import simulate

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "histories" / "scenarios").rglob("*.toml"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT / "histories" / "scenarios")) for p in FILES])
def test_example_scenario_gives_a_valid_history(tmp_path, path):
    out = tmp_path / "h.jsonl"
    scenario = load_scenario(path)
    if scenario.messages is not None:     # histories/scenarios/pbs/: a forecast model, refused by simulate
        with pytest.raises(UserError) as info:
            simulate(scenario, 1, out, False)
        assert info.value.where == "regions.messages" and not out.exists()
        return
    summary = simulate(scenario, 1, out, False)
    stats = validate_file(out)
    assert stats["operations"] == summary.operations > 0


BAD = [
    ("foo = 1\n", "scenario: unknown field 'foo'"),
    ("[workload]\nrate = -5\n", "workload.rate: must be between 0.001 and 1,000,000"),
    ("[workload]\nduration = \"ten seconds\"\n", "workload.duration: cannot read 'ten seconds' as a duration"),
    ("[regions]\nnames = []\n", "regions.names: expected a non-empty list"),
    ("[[faults]]\nkind = \"isolate\"\nregion = \"mars-1\"\nat = \"1s\"\nduration = \"1s\"\n",
     "faults[0].region: unknown region 'mars-1'"),
    ("[[faults]]\nkind = \"meteor\"\nat = \"1s\"\n", "faults[0].kind: unknown value 'meteor'"),
    ("[replication]\ndelay = {dist = \"gamma\", mean = \"1s\"}\n", "replication.delay.dist: unknown distribution 'gamma'"),
    ("[[script]]\nat = \"1s\"\nregion = \"us-east-1\"\nf = \"write\"\nkey = \"x\"\n", "script[0]: a write needs 'value'"),
    ("not toml [", "not valid TOML"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_scenario_is_rejected_with_the_field(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "gtcheck", "simulate", "--scenario", str(path), "-o",
                           str(tmp_path / "h.jsonl")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 254
    assert message in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "h.jsonl").exists(), "nothing is written for a bad scenario"
