"""A 10,000,000-operation history in three part files, checked on a real ``dask scheduler``
with two ``dask worker`` processes started by the test (slow; run it with
``pytest -m slow tests/cli/test_dask_10m.py``; ``GTCHECK_DASK_TEST_OPS=100000`` runs it at
a smaller size, for trying it out: the issue's size is the default).

The history is ``benchmarks/bench_check.py``'s generator (valid by construction: every
read returns what the last-writer-wins replica of its region held): above a million
operations, copies of its 1M history on keys, processes and times of their own
(``bench_check.replicate``), as ``benchmarks/bench_dask.py`` makes it. It is split by
process into three recorders' files with a clock uncertainty of 1 ms; the check must
find it valid, with every operation and key counted, and no worker may grow past 2 GB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import Client

from tests.cli.test_dask_engine import real_cluster  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("GTCHECK_DASK_TEST_OPS", 10_000_000))
MILLION = 1_000_000


def split_by_process(src: Path, directory: Path, n: int, delta: int) -> Path:
    """``src`` as ``n`` part files: each process's events in one, the header's clock
    uncertainty set to ``delta``; streaming."""
    directory.mkdir()
    outs = [open(directory / f"host-{k}.jsonl", "wb") for k in range(n)]
    try:
        with open(src, "rb") as f:
            header = json.loads(f.readline())
            header["clock_uncertainty_ns"] = delta
            line = (json.dumps(header) + "\n").encode()
            for out in outs:
                out.write(line)
            for raw in f:
                start = raw.index(b'"process":') + len(b'"process":')
                proc = raw[start:raw.index(b",", start)]
                outs[hash(proc) % n if not proc.isdigit() else int(proc) % n].write(raw)
    finally:
        for out in outs:
            out.close()
    return directory


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_ten_million_operations_in_parts_on_a_scheduler_and_two_workers(real_cluster,  # noqa: F811
                                                                        tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_check import generate, replicate

    # the benchmark's history when it was written already (bench_dask.py), else a new one
    out = ROOT / "benchmarks" / "out"
    given = out / f"check-{N // 1000}k-{N // 100}.jsonl"
    whole = given if given.exists() else tmp_path / "whole.jsonl"
    if not given.exists():
        if N > MILLION and N % MILLION == 0:
            one = out / f"check-{MILLION // 1000}k-{MILLION // 100}.jsonl"
            if not one.exists():
                one = tmp_path / "one.jsonl"
                generate(one, MILLION, MILLION // 100)
            replicate(one, whole, N // MILLION)
        else:
            generate(whole, N, N // 100)
    parts = split_by_process(whole, tmp_path / "day", 3, 1_000_000)
    if whole != given:
        whole.unlink()
    address, _ = real_cluster
    proc = subprocess.run([sys.executable, "-m", "gtcheck", "check", str(parts), "--engine",
                           "dask", "--scheduler", address, "--format", "json"],
                          capture_output=True, text=True, timeout=4 * 3600)   # a hang guard
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout)
    assert got["valid"] is True
    assert got["history"]["counts"]["operations"] == N
    assert got["history"]["counts"]["keys"] == N // 100
    assert got["history"]["counts"]["reads_checked"] > N // 2
    assert got["timing"]["engine"] == "dask"
    with Client(address, timeout=120) as client:
        peaks = client.run(_peak_rss_mb)
    assert len(peaks) == 2 and max(peaks.values()) < 2048, peaks
