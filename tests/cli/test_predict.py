"""``gtcheck predict`` as a user runs it: the table, JSON, the page, seeds, bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]
SCEN = '''[regions]
names = ["us-east-1", "eu-west-1"]
copies = 3
write_quorum = 2
request_latency = "5ms"
copy_lag = { dist = "exponential", mean = "1ms" }
[replication]
delay = { dist = "lognormal", median = "250ms", sigma = 0.5 }
[replication.pairs]
"us-east-1 -> eu-west-1" = "100ms"
'''


def _scenario(tmp_path: Path, text: str = SCEN) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_table_has_every_pair_and_kind(tmp_path, capsys):
    code, out, err = run_cli(["predict", "--scenario", _scenario(tmp_path), "--trials", "20000", "--at", "100ms"],
                             capsys)
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("eventual ")]
    assert len(rows) == 8                       # 2 x 2 pairs x 2 read kinds
    # the constant 100 ms link: a read invoked 95 ms after the write (served 5 ms later) is fresh
    slow = next(r for r in rows if "us-east-1 -> eu-west-1" in r and " strong " in r)
    assert "95.0 ms" in slow and "P(fresh at 100 ms)" in out


def test_json_and_seed_determinism(tmp_path, capsys):
    args = ["predict", "--scenario", _scenario(tmp_path), "--trials", "5000", "--format", "json", "--seed", "3"]
    code, out1, _ = run_cli(args, capsys)
    code2, out2, _ = run_cli(args, capsys)
    assert code == code2 == 0 and out1 == out2
    doc = json.loads(out1)
    assert doc["trials_per_curve"] == 5000 and len(doc["curves"]) == 8
    c = next(c for c in doc["curves"] if c["writer"] == "us-east-1" and c["reader"] == "eu-west-1"
             and c["read"] == "strong")
    assert c["t_ns"]["50%"]["t"] == 95_000_000 and c["p_fresh_at_0"] == 0
    assert len(c["curve"]["p_fresh"]) == len(doc["grid_t_ns"])
    _, out3, _ = run_cli(args[:-1] + ["4"], capsys)
    assert out3 != out1, "another seed, other draws"


def test_mode_both_and_strong_reads(tmp_path, capsys):
    code, out, _ = run_cli(["predict", "--scenario", _scenario(tmp_path), "--trials", "2000", "--mode", "both",
                            "--format", "json"], capsys)
    doc = json.loads(out)
    strong = [c for c in doc["curves"] if c["mode"] == "strong" and c["read"] == "strong"]
    assert len(strong) == 4 and all(c["p_fresh_at_0"] == 1.0 for c in strong)


def test_html_page_is_self_contained_and_escapes_names(tmp_path, capsys):
    text = SCEN.replace("eu-west-1", "eu-<b>x</b>")
    page = tmp_path / "p.html"
    code, _, err = run_cli(["predict", "--scenario", _scenario(tmp_path, text), "--trials", "2000",
                            "--html", page], capsys)
    assert code == 0, err
    html = page.read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "<b>x</b>" not in html and "eu-&lt;b&gt;x&lt;/b&gt;" in html
    assert html.count("<svg") == 4            # eventual and strong reads, P(fresh) and P(stale) each


def test_bad_scenario_exits_254_naming_the_field(tmp_path, capsys):
    bad = _scenario(tmp_path, '[replication]\ndelay = { dist = "pareto", xm = "1ms", alpha = "x" }\n')
    code, _, err = run_cli(["predict", "--scenario", bad], capsys)
    assert code == 254 and "replication.delay.alpha" in err and "Traceback" not in err
    code, _, err = run_cli(["predict", "--at", "soon"], capsys)
    assert code == 254 and "--at" in err


def test_without_numpy_it_says_how_to_install(tmp_path):
    """numpy and scipy are an optional extra: without them, exit 254 and the pip line."""
    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(
        "import sys\nclass _B:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('numpy', 'scipy'):\n            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, _B())\n")
    env = dict(os.environ, PYTHONPATH=str(block))
    run = subprocess.run([sys.executable, "-m", "gtcheck", "predict"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=120)
    assert run.returncode == 254, run.stderr
    assert "numpy and scipy" in run.stderr and "pip install 'gtcheck[forecast]'" in run.stderr
    assert "Traceback" not in run.stderr


def test_pbs_table(capsys):
    code, out, err = run_cli(["predict", "--pbs", "--trials", "200000"], capsys)
    assert code == 0, err
    for name in ("LNKD-SSD", "LNKD-DISK", "YMMR", "WAN"):
        assert re.search(rf"^{name}\s", out, re.M)
    assert "1364 ms" in out and "113 ms" in out


def test_help_has_a_worked_example(capsys):
    code, out, _ = run_cli(["predict", "--help"], capsys)
    assert code == 0 and "gtcheck predict --scenario" in out and "Exit codes" in out
