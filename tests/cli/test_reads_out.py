"""``gtcheck check --reads-out FILE``: one row per judged read, as JSON lines or Parquet,
from the checker's own read records (docs/reads.md)."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gtcheck.checker.check import check_history
from gtcheck.checker.readsout import NAMES, arrow_schema, row
from tests.clihelp import run_cli
from tests.simulated import simulate_small

ROOT = Path(__file__).resolve().parents[2]
ANOM = ROOT / "histories" / "anomalies"
CATALOGUE = ROOT / "histories" / "catalogue"


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_a_stale_read_row_names_its_superseding_write_and_its_anomaly(tmp_path, capsys):
    out = tmp_path / "reads.jsonl"
    code, _, err = run_cli(["check", ANOM / "stale-read.jsonl", "--staleness-bound", "100ms",
                            "--reads-out", out], capsys)
    assert code == 1
    assert "reads: wrote 3 rows" in err
    rows = _jsonl(out)
    assert [r["index"] for r in rows] == [4, 6, 8]
    assert all(list(r) == list(NAMES) for r in rows)
    stale = rows[0]
    # the history's own explanation: read #4 returned #0's version, #2 had completed 1.30 s before
    assert stale == {"index": 4, "key": "user#7", "region": "eu-west-1", "consistent": False,
                     "time_ns": 3_400_000_000, "complete_ns": 3_450_000_000, "saw": 0,
                     "staleness_ns": 1_300_000_000,
                     "superseded_by": 2, "writer_region": "us-east-1", "final": False,
                     "anomalies": ["stale-read"]}
    assert [r["anomalies"] for r in rows[1:]] == [[], []]
    assert all(r["final"] and r["superseded_by"] is None and r["staleness_ns"] == 0
               for r in rows[1:])


def test_without_a_bound_the_stale_read_has_no_anomaly(tmp_path, capsys):
    out = tmp_path / "reads.jsonl"
    code, _, _ = run_cli(["check", ANOM / "stale-read.jsonl", "--reads-out", out], capsys)
    assert code == 0
    rows = _jsonl(out)
    assert rows[0]["staleness_ns"] == 1_300_000_000 and rows[0]["anomalies"] == []


@pytest.mark.parametrize("name", ["lost-own-write", "divergent-final-state", "wrong-winner"])
def test_every_anomaly_reaches_the_reads_it_cites(tmp_path, capsys, name):
    """The anomalies column against the summary: a read's kinds are exactly the kinds of
    the summary's anomalies that cite it (all anomalies are listed: far under the limit)."""
    out = tmp_path / "reads.jsonl"
    code, stdout, _ = run_cli(["check", ANOM / f"{name}.jsonl", "--format", "json",
                               "--reads-out", out], capsys)
    assert code == 1
    summary = json.loads(stdout)
    cited: dict[int, set[str]] = {}
    for section in summary.values():
        if isinstance(section, dict) and "anomalies" in section:
            for a in section["anomalies"]:
                for i in a["ops"]:
                    cited.setdefault(i, set()).add(a["name"])
    rows = _jsonl(out)
    assert any(name in r["anomalies"] for r in rows)
    for r in rows:
        assert set(r["anomalies"]) == cited.get(r["index"], set()), r


def test_parquet_and_json_lines_hold_the_same_rows(tmp_path, capsys):
    hist = CATALOGUE / "clock-offset-loses.jsonl"
    for out in (tmp_path / "r.parquet", tmp_path / "r.jsonl.gz"):
        code, _, _ = run_cli(["check", hist, "--reads-out", out], capsys)
        assert code in (0, 1, 2)
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.schema.equals(arrow_schema())
    rows = _jsonl(tmp_path / "r.jsonl.gz")
    assert rows and table.to_pylist() == rows


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A simulated history of a few hundred reads over 40 keys, with faults."""
    return simulate_small(tmp_path_factory.mktemp("gen"), seed=3)


def test_the_rows_are_the_checkers_read_records(generated, tmp_path, capsys):
    """One judging path: the file is the API's ``result.reads``, row for row, whatever
    the number of worker processes; every judged read has its row."""
    api = check_history(generated, jobs=1, keep_reads=True, staleness_bound_ns=50_000_000)
    out = tmp_path / "r.jsonl"
    code, _, _ = run_cli(["check", generated, "--jobs", "2", "--staleness-bound", "50ms",
                          "--reads-out", out], capsys)
    assert code == api.exit_code
    rows = _jsonl(out)
    assert len(rows) > 100
    assert rows == [row(r) for r in api.reads]
    assert len(rows) == api.summary["staleness"]["figures"]["reads"]
    assert [r["index"] for r in rows] == sorted(r["index"] for r in rows)
    assert sum("stale-read" in r["anomalies"] for r in rows) == \
        api.summary["staleness"]["anomaly_counts"]["stale-read"] > 0
    for r in rows:     # staleness and the superseding write go together
        assert (r["staleness_ns"] > 0) == (r["superseded_by"] is not None), r
        assert ("stale-read" in r["anomalies"]) == (r["staleness_ns"] > 50_000_000), r


def test_parquet_without_pyarrow_exits_254_saying_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)     # import pyarrow raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "r.parquet"
    code, stdout, err = run_cli(["check", ANOM / "stale-read.jsonl", "--reads-out", out], capsys)
    assert code == 254
    assert "pip install 'gtcheck[parquet]'" in err and ".jsonl" in err
    assert stdout == ""                  # refused before the history was checked
    assert not out.exists()


@pytest.mark.parametrize("name", ["reads.csv", "reads"])
def test_a_name_that_says_no_format_is_bad_input(tmp_path, capsys, name):
    code, stdout, err = run_cli(["check", ANOM / "stale-read.jsonl", "--reads-out",
                                 tmp_path / name], capsys)
    assert code == 254 and stdout == ""
    assert ".parquet" in err and ".jsonl" in err


def test_reads_out_takes_one_history(tmp_path, capsys):
    code, _, err = run_cli(["check", ANOM / "stale-read.jsonl", ANOM / "valid.jsonl",
                            "--reads-out", tmp_path / "r.jsonl"], capsys)
    assert code == 254 and "one history" in err
