"""``gtcheck demo``: the main job end to end on built-in defaults."""

from __future__ import annotations

import json


from tests.clihelp import run_cli as run


def test_demo_writes_every_output(tmp_path, capsys):
    code, out, _ = run(["demo", "--out", str(tmp_path / "demo"), "--jobs", "1"], capsys)
    assert code == 0
    names = {p.name for p in (tmp_path / "demo").iterdir()}
    assert names == {"history.jsonl", "history.truth.jsonl", "check.txt", "check.json", "check.junit.xml",
                     "report.html"}
    summary = json.loads((tmp_path / "demo" / "check.json").read_text())
    # the isolation makes eu-west-1's reads seconds stale: over the demo's 2 s bound
    assert summary["staleness"]["valid"] is False
    assert all(summary[p]["valid"] is True for p in ("integrity", "convergence", "read_after_write"))
    assert "stale-read" in out and "eu-west-1 was isolated" in out


def test_demo_output_folder_that_cannot_be_made_is_bad_input(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(["demo", "--out", str(blocker / "demo")], capsys)
    assert code == 254 and "cannot create the output folder" in err
