"""A plain ``gtcheck check`` imports only what it needs: no solver (z3) when every key has
``ts`` or the history is a register import, no HTML templates (jinja2), no Hypothesis, no
networkx, and no worker machinery (multiprocessing) for a history checked in one process, no
temporary files machinery, traceback or XML (JUnit output only) on the plain path, and
neither OpenSSL's hashing (hashlib), secrets nor pickle (a spilled history's shards only).
(Measured with ``python -X importtime -m gtcheck check ...``; figures in README.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("z3", "jinja2", "hypothesis", "networkx", "numpy", "scipy", "multiprocessing",
         "concurrent", "boto3", "moto", "tempfile", "traceback", "xml", "hashlib", "_hashlib",
         "secrets", "pickle")
# The interpreter may load some of these before gtcheck runs (a site-packages .pth file: CI's
# Python imports certifi, hence importlib.resources and tempfile, at start-up). They are
# forgotten first, so that what is counted is what gtcheck itself imports.
PROBE = """
import sys
for _name in [m for m in sys.modules if m.split(".")[0] in %r]:
    del sys.modules[_name]
from gtcheck.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("LOADED", " ".join(sorted({m.split(".")[0] for m in sys.modules} & set(%r))))
""" % (HEAVY, HEAVY)

EDN = """[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value 1}]
"""


def loaded(*args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    (line,) = [x for x in out.stdout.splitlines() if x.startswith("LOADED")]
    return set(line.split()[1:])


@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_a_plain_check_imports_no_heavy_module(fmt: str) -> None:
    # every ok write of the valid history carries ts: the timestamp path, no solver
    # XML only for JUnit; tempfile only where a history spills to disk or workers run
    assert loaded("check", "histories/anomalies/valid.jsonl", "--format", fmt,
                  "--no-progress") == ({"xml"} if fmt == "junit" else set())


def test_a_register_import_imports_no_solver(tmp_path: Path) -> None:
    path = tmp_path / "r.edn"
    path.write_text(EDN)
    assert loaded("check", str(path), str(path), "--no-progress") == set()


def test_the_solver_is_imported_when_a_key_needs_it(tmp_path: Path) -> None:
    # ok writes without ts: the solver orders the key
    lines = (ROOT / "histories" / "anomalies" / "valid.jsonl").read_text().splitlines()
    untimed = [line.replace('"ts"', '"ts_was"') for line in lines]
    path = tmp_path / "untimed.jsonl"
    path.write_text("\n".join(untimed) + "\n")
    assert "z3" in loaded("check", str(path), "--no-progress")
