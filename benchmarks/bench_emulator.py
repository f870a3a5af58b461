"""Benchmarks of issue 10: emulator start-up, runner throughput against the emulator
(3 regions, 30 clients), and the recorder's overhead per call against moto in process.

    python benchmarks/bench_emulator.py [--duration 10] [--calls 2000] [--starts 3]

Prints wall and CPU time separately (CPU of this process and of the emulator's process).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bench_startup(starts: int) -> None:
    from gtcheck.pytest_plugin import EmulatorProcess

    walls = []
    for _ in range(starts):
        emu = EmulatorProcess(REGIONS, delay="constant(10ms)")
        walls.append(emu.startup_s)
        cpu = proc_cpu(emu.proc.pid)
        emu.stop()
    print(f"start-up: median {statistics.median(walls):.2f} s wall to the first 'listening' line "
          f"(runs: {', '.join(f'{w:.2f}' for w in walls)}); the last start used {cpu:.2f} s CPU "
          "(a fresh Python importing gtcheck, moto and flask)")


def bench_runner(duration: float, clients_per_region: int) -> None:
    from gtcheck.model.scenario import scenario_from_dict
    from gtcheck.pytest_plugin import EmulatorProcess
    from gtcheck.realworld.runner import RunConfig, check_and_report, run_workload

    scenario = scenario_from_dict({"name": "bench", "regions": {"names": REGIONS},
                                   "workload": {"keys": 100, "processes_per_region": clients_per_region,
                                                "rate": 1_000_000, "duration": f"{int(duration)}s"}})
    with EmulatorProcess(REGIONS, delay="lognormal(250ms, 0.5)") as emu, tempfile.TemporaryDirectory() as out:
        cpu0, ecpu0 = self_cpu(), proc_cpu(emu.proc.pid)
        cfg = RunConfig(regions=REGIONS, table="bench", scenario=scenario, duration_ns=int(duration * 1e9),
                        out_dir=Path(out), endpoint_url=emu.endpoint, settle_ns=20_000_000_000)
        res = run_workload(cfg)
        cpu1, ecpu1 = self_cpu(), proc_cpu(emu.proc.pid)
        t = time.monotonic()
        check_and_report(res, None, html=False)
        check_s = time.monotonic() - t
    n = 3 * clients_per_region
    print(f"runner: {res.workload_ops} operations by {n} clients in {res.workload_s:.1f} s wall = "
          f"{res.workload_ops / res.workload_s:.0f} ops/s (whole run incl. settle and final reads "
          f"{res.wall_s:.1f} s, {res.operations} operations); CPU: runner {cpu1 - cpu0:.1f} s, "
          f"emulator {ecpu1 - ecpu0:.1f} s; check {check_s:.1f} s; verdict {res.summary['valid']}")


def _get_put_block(c, calls: int) -> tuple[float, float]:
    """``calls`` alternating get_item / put_item on 50 keys of table ``t``: (wall, CPU) s."""
    w, p = time.perf_counter(), time.process_time()
    for i in range(calls):
        k = {"pk": {"S": f"k{i % 50}"}}
        if i % 2:
            c.put_item(TableName="t", Item={**k, "v": {"N": str(i)}})
        else:
            c.get_item(TableName="t", Key=k)
    return time.perf_counter() - w, time.process_time() - p


def bench_recorder(calls: int, rounds: int) -> None:
    import boto3
    from moto import mock_aws

    from gtcheck.realworld.recorder import Recorder

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        plain = boto3.client("dynamodb", region_name="us-east-1")
        plain.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST")
        rec = Recorder(None, ["us-east-1"])
        recorded = rec.attach(boto3.client("dynamodb", region_name="us-east-1"))

        def block(c) -> tuple[float, float]:
            return _get_put_block(c, calls)
        block(plain), block(recorded)      # warm up
        pw, pc, rw, rc = [], [], [], []
        for _ in range(rounds):           # interleaved, in one run
            w, c = block(plain)
            pw.append(w), pc.append(c)
            w, c = block(recorded)
            rw.append(w), rc.append(c)
    per = lambda xs: statistics.median(xs) / calls * 1e6  # noqa: E731
    print(f"recorder: {calls} calls x {rounds} rounds against moto in process; per call "
          f"without {per(pw):.0f} us wall / {per(pc):.0f} us CPU, with {per(rw):.0f} us wall / "
          f"{per(rc):.0f} us CPU: ratio {statistics.median(rw) / statistics.median(pw):.3f} wall, "
          f"{statistics.median(rc) / statistics.median(pc):.3f} CPU "
          f"({len(rec.events)} events recorded)")


def bench_recorder_stub(calls: int) -> None:
    """The recorder's own cost per call, without any I/O behind it: a stub client whose
    get_item/put_item return at once (what the recorder adds to any real call)."""
    from gtcheck.realworld.recorder import Recorder

    class Stub:
        class meta:
            region_name = "us-east-1"

        def __getattr__(self, name):
            return lambda **kw: {}

        def get_item(self, **kw):
            return {"Item": {"pk": kw["Key"]["pk"], "v": {"N": "1"}}}

        def put_item(self, **kw):
            return {}

    plain_w, plain_c = _get_put_block(Stub(), calls)
    rec = Recorder(None, ["us-east-1"], key_schema={"t": ["pk"]})
    rec_w, rec_c = _get_put_block(rec.attach(Stub()), calls)
    print(f"recorder alone (stub client, {calls} calls): {(rec_c - plain_c) / calls * 1e6:.1f} us CPU added per call "
          f"({(rec_w - plain_w) / calls * 1e6:.1f} us wall)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--clients-per-region", type=int, default=10)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--only", choices=["startup", "runner", "recorder"], default=None)
    a = ap.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    if a.only in (None, "startup"):
        bench_startup(a.starts)
    if a.only in (None, "recorder"):
        bench_recorder(a.calls, a.rounds)
        bench_recorder_stub(20 * a.calls)
    if a.only in (None, "runner"):
        bench_runner(a.duration, a.clients_per_region)


if __name__ == "__main__":
    main()
