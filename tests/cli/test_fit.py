"""``gtcheck fit`` as a user runs it: the fits, the scenario it writes, --compare, the page,
JSON, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gtcheck.model.scenario import load_scenario
from gtcheck.model.simulator import simulate
from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fit")
    text = (ROOT / "histories" / "scenarios" / "forecast" / "lognormal.toml").read_text()
    scen = d / "short.toml"
    scen.write_text(text.replace('duration = "30s"', 'duration = "8s"'))
    path = d / "h.jsonl"
    simulate(load_scenario(scen), 3, path, False)
    return path


def test_fit_writes_a_scenario_that_simulates_and_compares(tmp_path, capsys, history):
    out, page = tmp_path / "fitted.toml", tmp_path / "fit.html"
    code, text, err = run_cli(["fit", history, "-o", out, "--compare", "--trials", "20000", "--html", page,
                               "--no-progress"], capsys)
    assert code == 0, err
    assert "us-east-1 -> eu-west-1" in text and "lognormal" in text and f"wrote {out}" in text
    sc = load_scenario(out)                       # the model's own parser accepts it
    assert sc.regions == ("us-east-1", "eu-west-1", "ap-southeast-2")
    assert len(sc.pair_delays) == 6 and sc.workload.keys == 20
    assert "# Fitted by gtcheck fit from" in out.read_text()
    assert simulate(sc, 1, tmp_path / "again.jsonl", False).operations > 1000
    # --compare: measured, predicted and simulated side by side
    assert "measured stale" in text and "predicted stale" in text and "simulated stale" in text
    assert "all reads" in text and "predicted - measured over all" in text
    html = page.read_text()
    assert "default-src 'none'" in html and "<script" not in html
    assert html.count("<svg") >= 1 + 6 * 2      # the fitted CDFs; each cross-region pair and read kind


def test_json(tmp_path, capsys, history):
    code, text, err = run_cli(["fit", history, "-o", tmp_path / "f.toml", "--format", "json", "--no-progress"], capsys)
    assert code == 0, err
    doc = json.loads(text)
    assert doc["timing"] == "completion" and doc["reads_used"] == "strong"
    link = doc["links"][0]
    assert link["fit"]["family"] in ("lognormal", "exponential", "pareto", "pareto+exponential")
    assert {c["family"] for c in link["fit"]["candidates"]} >= {"lognormal", "pareto+exponential"}
    assert doc["scenario"]["replication"]["pairs"]


def test_not_a_history_is_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "gt-history", "version": 1, "regions": ["a"]}\n{"index": 0, "type": "invoke"}\n')
    code, _, err = run_cli(["fit", bad, "-o", tmp_path / "f.toml"], capsys)
    assert code == 254 and str(bad) in err and "line 2" in err and "Traceback" not in err
    assert not (tmp_path / "f.toml").exists()


def test_a_history_with_nothing_to_fit_says_so(tmp_path, capsys):
    one = tmp_path / "one.jsonl"
    simulate(load_scenario(ROOT / "histories" / "scenarios" / "behaviours" / "lost-update.toml"), 1, one, False)
    code, _, err = run_cli(["fit", one, "-o", tmp_path / "f.toml"], capsys)
    assert code == 254 and "too few" in err and str(one) in err
    assert not (tmp_path / "f.toml").exists()


def test_without_scipy_it_says_how_to_install(tmp_path, history):
    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(
        "import sys\nclass _B:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'scipy':\n            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, _B())\n")
    run = subprocess.run([sys.executable, "-m", "gtcheck", "fit", str(history), "-o", str(tmp_path / "f.toml")],
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(block)), timeout=300)
    assert run.returncode == 254 and "scipy" in run.stderr and "gtcheck[forecast]" in run.stderr


def test_help_has_a_worked_example(capsys):
    code, out, _ = run_cli(["fit", "--help"], capsys)
    assert code == 0 and "gtcheck fit slow.jsonl -o slow-fitted.toml" in out and "Exit codes" in out


def test_an_unwritable_scenario_path_is_refused_before_the_fit(tmp_path, capsys, history):
    """The one output writer's rules (kernel/outfiles.py): a path under a regular file is bad
    input, said before the fit's long work (nothing fitted, nothing on stdout)."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, text, err = run_cli(["fit", history, "-o", blocker / "s.toml", "--no-progress"], capsys)
    assert code == 254 and "s.toml" in err and text == ""


def test_a_symlinked_scenario_path_is_followed_and_kept(tmp_path, capsys, history):
    target = tmp_path / "real.toml"
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    code, _, err = run_cli(["fit", history, "-o", link, "--no-progress"], capsys)
    assert code == 0, err
    assert link.is_symlink() and load_scenario(target).regions[0] == "us-east-1"
