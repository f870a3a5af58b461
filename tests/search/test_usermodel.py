"""A model written against the public protocol (docs/examples/lost_update_model.py, under 60
lines) is checked by the same explorer as global tables: ``gtcheck explore --model``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from gtcheck.model.explorer import explore
from gtcheck.search.usermodel import load_model

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "lost_update_model.py"


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-W", "ignore", "-m", "gtcheck", "explore", *args],
                          capture_output=True, timeout=120, cwd=cwd)


def test_the_example_is_small_and_explore_finds_its_lost_update():
    assert len(EXAMPLE.read_text().splitlines()) < 60
    r = cli("--model", f"{EXAMPLE}:LostUpdate", "--quiet")
    assert r.returncode == 1, r.stderr
    out = r.stdout.decode()
    assert out.startswith("complete: every reachable state explored (13 states")
    assert "every increment is counted: VIOLATED in 4 steps: the counter ends at 1 after 2 increments" in out
    assert "client 0 reads\n    client 1 reads\n    client 0 writes\n    client 1 writes" in out
    assert "the counter never exceeds the increments: holds" in out
    doc = orjson.loads(cli("--model", f"{EXAMPLE}:LostUpdate", "--format", "json", "--quiet").stdout)
    assert doc["complete"] is True and doc["properties"]["every increment is counted"]["holds"] is False


def test_the_api_gives_the_same_result():
    model = load_model(f"{EXAMPLE}:LostUpdate")
    r = explore(model)
    assert r.complete and r.states == 13
    v = r.violations["every increment is counted"]
    assert [model.label(a) for a in v.path] == ["client 0 reads", "client 1 reads", "client 0 writes",
                                                 "client 1 writes"]
    assert r.unseen == [] and "the counter never exceeds the increments" not in r.violations


def test_a_bounded_exploration_of_a_model_never_says_it_holds():
    r = cli("--model", f"{EXAMPLE}:LostUpdate", "--max-states", "3", "--format", "json", "--quiet")
    doc = orjson.loads(r.stdout)
    assert doc["complete"] is False and doc["coverage"].startswith("INCOMPLETE")
    assert doc["properties"]["the counter never exceeds the increments"]["holds"] is None
    assert r.returncode == 2


def test_bad_model_specs_exit_254_naming_what(tmp_path):
    for spec, words in ((f"{EXAMPLE}", "FILE.py:CLASS"), (f"{tmp_path}/none.py:X", "no such file"),
                        (f"{EXAMPLE}:Nope", "has no 'Nope'")):
        r = cli("--model", spec)
        assert r.returncode == 254 and words in r.stderr.decode(), (spec, r.stderr)
    broken = tmp_path / "broken.py"
    broken.write_text("from gtcheck.model.protocol import Model\n"
                      "class M(Model):\n"
                      "    def init(self): return [0]\n"
                      "    def actions(self, s): return [1]\n"
                      "    def next(self, s, a): raise KeyError('oops')\n")
    r = cli("--model", f"{broken}:M")
    assert r.returncode == 254 and "the model raised KeyError" in r.stderr.decode() and b"Traceback" not in r.stderr
    r = cli("--model", f"{broken}:M", "--scenario", str(EXAMPLE))
    assert r.returncode == 254 and "one of them" in r.stderr.decode()
