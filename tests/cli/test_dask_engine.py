"""``gtcheck check --engine dask``: the local engine's parts as tasks on dask.distributed.

The same answers as the local engine (JSON, text, JUnit, per-read records) on the example,
anomaly, catalogue and generated histories, eventual and strong, with and without ``ts``;
a scheduler and two workers started as separate processes; a worker killed mid-run."""

from __future__ import annotations

import copy
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from gtcheck.checker.check import check_history
from gtcheck.checker.output import render
from gtcheck.kernel.errors import UserError
from tests.clihelp import run_cli
from tests.simulated import simulate_small

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = ROOT / "histories"
DASK = [sys.executable, "-m", "dask"]


def comparable(summary: dict) -> dict:
    """The summary without what depends on how it was run (timing, jobs)."""
    s = copy.deepcopy(summary)
    s.pop("timing")
    s["options"].pop("jobs")
    return s


def assert_same(local, dask) -> None:
    assert comparable(local.summary) == comparable(dask.summary)
    for fmt in ("text", "junit"):
        assert render(comparable(local.summary), fmt) == render(comparable(dask.summary), fmt)
    assert local.reads == dask.reads
    assert local.final_state == dask.final_state


def strip_ts(src: Path, dst: Path) -> Path:
    """The history without the writes' ``ts`` and ``origin`` (the solver path orders them)."""
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for i, line in enumerate(fin):
            obj = json.loads(line)
            if i > 0:
                obj.pop("ts", None)
                obj.pop("origin", None)
            fout.write(json.dumps(obj) + "\n")
    return dst


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes on loopback, shared by the module's tests."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as c:
        yield c


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("gen")
    out = [simulate_small(d, "eventual", 1), simulate_small(d, "strong", 2)]
    return out + [strip_ts(p, d / f"nots-{p.name}") for p in out]


def _examples() -> list[Path]:
    return sorted((HISTORIES / "anomalies").glob("*.jsonl")) + \
        sorted(p for p in (HISTORIES / "catalogue").glob("*.jsonl")
               if not p.name.endswith(".truth.jsonl")) + \
        sorted((HISTORIES / "naive-traps").glob("*.jsonl"))


@pytest.mark.parametrize("hist", _examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_same_answers_as_the_local_engine_on_the_examples(cluster, hist):
    kw = dict(keep_reads=True, staleness_bound_ns=500_000_000)
    try:
        local = check_history(hist, jobs=1, **kw)
    except UserError as exc:     # bad input must be refused the same way, in the same words
        with pytest.raises(UserError) as info:
            check_history(hist, engine="dask", scheduler=cluster.scheduler_address, jobs=2, **kw)
        assert str(info.value) == str(exc)
        assert info.value.exit_code == exc.exit_code == 254
        return
    dask = check_history(hist, engine="dask", scheduler=cluster.scheduler_address, jobs=2, **kw)
    assert dask.summary["timing"]["engine"] == "dask"
    assert_same(local, dask)


def test_the_same_answers_on_generated_histories(cluster, generated):
    assert len(generated) == 4
    for hist in generated:
        for bound in (None, 100_000_000):
            local = check_history(hist, jobs=1, keep_reads=True, staleness_bound_ns=bound)
            dask = check_history(hist, engine="dask", scheduler=cluster.scheduler_address,
                                 jobs=3, keep_reads=True, staleness_bound_ns=bound)
            assert dask.summary["timing"]["shards"] == 8      # four per worker, at least
            assert_same(local, dask)
    # the four differ: eventual and strong, with and without ts, were really checked
    modes = {check_history(h, jobs=1).summary["history"]["header"]["mode"] for h in generated}
    assert modes == {"eventual", "strong"}


def test_many_blocks_parts_and_gzip_on_the_cluster(cluster, generated, tmp_path, monkeypatch):
    """Blocks of 4 kB read by the workers in byte ranges, a gzip history read whole by one
    worker, a history in three part files: each the whole file's answer, through Dask."""
    from gtcheck.checker import partitioned
    from tests.checker.test_partitioned import as_parts, with_delta

    monkeypatch.setattr(partitioned, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(partitioned, "BUCKET_BYTES", 8192)
    src = generated[0]
    gz = tmp_path / "run.jsonl.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    whole = with_delta(src, tmp_path / "delta.jsonl", 1_000_000)
    parts = as_parts(src, tmp_path / "parts", 3, delta=1_000_000)
    for reference, hist in ((src, src), (src, gz), (whole, parts)):
        local = check_history(reference, jobs=1, keep_reads=True, staleness_bound_ns=10**8)
        dask = check_history(hist, engine="dask", scheduler=cluster.scheduler_address,
                             keep_reads=True, staleness_bound_ns=10**8)
        assert dask.summary["timing"]["shards"] > 8       # many buckets: small ones
        mine, theirs = comparable(local.summary), comparable(dask.summary)
        assert mine.pop("history").pop("counts") == theirs.pop("history").pop("counts")
        assert mine == theirs and local.reads == dask.reads


def test_the_command_with_its_own_local_cluster(tmp_path, capsys):
    hist = HISTORIES / "anomalies" / "stale-read.jsonl"
    out = tmp_path / "reads.jsonl"
    code, stdout, _ = run_cli(["check", hist, "--engine", "dask", "--jobs", "2", "--format",
                               "json", "--staleness-bound", "100ms", "--reads-out", out], capsys)
    assert code == 1
    local = check_history(hist, jobs=1, staleness_bound_ns=100_000_000)
    assert comparable(json.loads(stdout)) == json.loads(json.dumps(comparable(local.summary)))
    assert json.loads(out.read_text().splitlines()[0])["anomalies"] == ["stale-read"]


def test_without_dask_the_engine_is_refused_saying_how_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, stdout, err = run_cli(["check", HISTORIES / "anomalies" / "valid.jsonl",
                                 "--engine", "dask"], capsys)
    assert code == 254 and stdout == ""
    assert "pip install 'gtcheck[dask]'" in err


def test_scheduler_arguments_are_checked(capsys):
    valid = HISTORIES / "anomalies" / "valid.jsonl"
    code, _, err = run_cli(["check", valid, "--scheduler", "tcp://127.0.0.1:1"], capsys)
    assert code == 254 and "--engine dask" in err
    port = _free_port()      # nothing listens there
    code, _, err = run_cli(["check", valid, "--engine", "dask", "--scheduler",
                            f"tcp://127.0.0.1:{port}"], capsys)
    assert code == 254 and "cannot connect to the Dask scheduler" in err


def test_a_cluster_that_cannot_finish_exits_255_without_a_verdict(cluster, capsys, monkeypatch):
    """What Dask raises when a part's workers died too often: no verdict, exit 255 (the
    infrastructure failed; the input is not at fault)."""
    from types import SimpleNamespace

    from distributed import KilledWorker

    def gather(self, futures, *args, **kwargs):
        raise KilledWorker("gtcheck-part-0", SimpleNamespace(address="tcp://127.0.0.1:9"), 3)

    monkeypatch.setattr(Client, "gather", gather)
    code, stdout, err = run_cli(["check", HISTORIES / "anomalies" / "stale-read.jsonl",
                                 "--engine", "dask", "--scheduler", cluster.scheduler_address],
                                capsys)
    assert code == 255 and stdout == ""
    assert "lost the workers of a task" in err and "no verdict was computed" in err
    assert "bug" not in err


# --------------------------------------------------------------------------- real parts
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    fh = open(log, "wb")
    return subprocess.Popen(DASK + args, stdout=fh, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture
def real_cluster(tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes on free loopback ports."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(["scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--no-dashboard", "--dashboard-address", "127.0.0.1:0"],
                       tmp_path / "scheduler.log")
    workers = [_start(["worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                       "--no-dashboard", "--name", f"w{i}", "--no-nanny"],
                      tmp_path / f"worker{i}.log") for i in range(2)]
    procs = [scheduler, *workers]
    try:
        with Client(address, timeout=120) as client:
            client.wait_for_workers(2, timeout=300)      # a hang guard, not a speed bound
        yield address, workers
    finally:
        for p in reversed(procs):
            _stop(p)
    assert all(p.poll() is not None for p in procs)


def test_a_real_scheduler_and_two_workers_through_the_command(real_cluster, generated,
                                                             tmp_path):
    address, _ = real_cluster
    hist = generated[0]
    proc = subprocess.run([sys.executable, "-m", "gtcheck", "check", str(hist), "--engine",
                           "dask", "--scheduler", address, "--format", "json",
                           "--staleness-bound", "100ms"],
                          capture_output=True, text=True, timeout=600)
    local = check_history(hist, jobs=1, staleness_bound_ns=100_000_000)
    assert proc.returncode == local.exit_code, proc.stderr
    got = json.loads(proc.stdout)
    assert got["timing"]["engine"] == "dask" and got["timing"]["shards"] == 8   # 4 per worker
    assert comparable(got) == json.loads(json.dumps(comparable(local.summary)))


def test_a_worker_killed_mid_run_gives_the_same_answer(real_cluster, tmp_path):
    """A task of the killed worker runs again on the other one (tasks are pure): the
    verdict is the local engine's."""
    address, workers = real_cluster
    hist = simulate_small(tmp_path, "eventual", 5, duration="60s")    # ~36,000 operations
    local = check_history(hist, jobs=1, keep_reads=True)
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = check_history(hist, engine="dask", scheduler=address, shards=4,
                                          keep_reads=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            box["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    killed = False
    with Client(address, timeout=120) as client:
        deadline = time.monotonic() + 300                        # hang guard
        while time.monotonic() < deadline and not killed and t.is_alive():
            busy = [w for w, tasks in client.processing().items() if tasks]
            names = {w: info.get("name") for w, info in client.scheduler_info()["workers"].items()}
            if len(busy) == 2:
                victim = int(str(names[busy[0]])[1:])
                os.killpg(workers[victim].pid, signal.SIGKILL)
                workers[victim].wait(timeout=30)
                killed = True
            time.sleep(0.05)
    t.join(timeout=600)
    assert killed, "both workers were never busy at once: the kill did not happen mid-run"
    assert "error" not in box, box.get("error")
    assert_same(local, box["result"])


def test_a_directory_is_a_history_in_parts_for_the_command(tmp_path, generated, capsys):
    from tests.checker.test_partitioned import as_parts, with_delta

    parts = as_parts(generated[0], tmp_path / "day", 2, delta=1_000_000)
    whole = with_delta(generated[0], tmp_path / "whole.jsonl", 1_000_000)
    code, stdout, _ = run_cli(["check", parts, "--format", "json"], capsys)
    local = check_history(whole, jobs=1)
    assert code == local.exit_code
    got = comparable(json.loads(stdout))
    want = json.loads(json.dumps(comparable(local.summary)))
    assert got.pop("history")["counts"] == want.pop("history")["counts"]
    assert got == want
    code, _, err = run_cli(["check", parts, "--html", tmp_path / "r.html"], capsys)
    assert code == 254 and "not one in parts" in err
