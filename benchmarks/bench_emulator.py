"""Benchmarks of issue 10: emulator start-up, runner throughput against the emulator
(3 regions, 30 clients), and the recorder's overhead per call against moto in process.

    python benchmarks/bench_emulator.py [--duration 10] [--calls 2000] [--starts 3]
    python benchmarks/bench_emulator.py --only recorder --baseline-ref cdb222b   # recorder then and now

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


class _Stub:
    """A DynamoDB client that answers at once (no I/O): what the recorder adds to any real
    call is the difference between recording it and not."""

    class meta:
        region_name = "us-east-1"

    ITEMS = [{"pk": {"S": "k"}, "sk": {"N": str(i)}, "v": {"N": "1"}} for i in range(10)]

    def __getattr__(self, name):
        return lambda **kw: {}

    def get_item(self, **kw):
        return {"Item": {**kw["Key"], "v": {"N": "1"}}}

    def put_item(self, **kw):
        return {}

    def update_item(self, **kw):
        return {"Attributes": {**kw["Key"], "v": {"N": "2"}}}

    def query(self, **kw):
        return {"Items": self.ITEMS}

    def transact_write_items(self, **kw):
        return {}


def _k(i: int) -> dict:
    return {"pk": {"S": f"k{i % 50}"}}


STUB_CALLS = {
    "GetItem": lambda c, i: c.get_item(TableName="t", Key=_k(i)),
    "PutItem": lambda c, i: c.put_item(TableName="t", Item={**_k(i), "v": {"N": str(i)}}),
    "UpdateItem (NONE)": lambda c, i: c.update_item(
        TableName="t", Key=_k(i), UpdateExpression="SET v = v + :one", ExpressionAttributeValues={":one": {"N": "1"}}),
    "UpdateItem (UPDATED_NEW)": lambda c, i: c.update_item(
        TableName="t", Key=_k(i), UpdateExpression="SET v = v + :one", ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="UPDATED_NEW"),
    "Query (a page of 10 items)": lambda c, i: c.query(
        TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "k"}}),
    "TransactWriteItems (Update + Put)": lambda c, i: c.transact_write_items(TransactItems=[
        {"Update": {"TableName": "t", "Key": _k(i), "UpdateExpression": "SET v = v - :one",
                    "ConditionExpression": "v >= :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": "t", "Item": _k(i + 1)}}]),
}


def _load_baseline(ref: str):
    """The recorder module as it was at git ``ref`` (a single module then), for a side by
    side comparison in one run."""
    import importlib.util
    import subprocess

    root = Path(__file__).resolve().parents[1]
    src = subprocess.run(["git", "-C", str(root), "show", f"{ref}:src/gtcheck/realworld/recorder.py"],
                         check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_recorder.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("baseline_recorder", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def bench_recorder_stub(calls: int, baseline_ref: str | None) -> None:
    """The recorder's own CPU per call, per kind of call, against a stub client (best of 3
    blocks of ``calls``); with ``baseline_ref``, the recorder of that git revision beside it."""
    from gtcheck.realworld import recorder as current

    variants = [("now", current)]
    if baseline_ref:
        variants.append((baseline_ref, _load_baseline(baseline_ref)))
    schema = {"t": ["pk", "sk"]}

    def cpu(c, fn) -> float:
        best = float("inf")
        for _ in range(3):
            p = time.process_time()
            for i in range(calls):
                fn(c, i)
            best = min(best, time.process_time() - p)
        return best

    print(f"recorder alone (stub client, best of 3 x {calls} calls): CPU added per call, us")
    print("  " + f"{'call':36}" + "".join(f"{name:>14}" for name, _ in variants))
    for label, fn in STUB_CALLS.items():
        plain = cpu(_Stub(), fn)
        row = []
        for _, mod in variants:
            rec = mod.Recorder(None, ["us-east-1"], key_schema=schema)
            c = rec.attach(_Stub())
            recorded = getattr(c, "_gtcheck_original", {})
            name = {"GetItem": "get_item", "PutItem": "put_item", "Query (a page of 10 items)": "query",
                    "TransactWriteItems (Update + Put)": "transact_write_items"}.get(label, "update_item")
            if name not in recorded:
                row.append("not recorded")
                continue
            row.append(f"{(cpu(c, fn) - plain) / calls * 1e6:.1f}")
        print("  " + f"{label:36}" + "".join(f"{x:>14}" for x in row))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--clients-per-region", type=int, default=10)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--only", choices=["startup", "runner", "recorder"], default=None)
    ap.add_argument("--baseline-ref", default=None,
                    help="also measure the recorder of this git revision (e.g. cdb222b) beside today's")
    a = ap.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    if a.only in (None, "startup"):
        bench_startup(a.starts)
    if a.only in (None, "recorder"):
        bench_recorder(a.calls, a.rounds)
        bench_recorder_stub(5 * a.calls, a.baseline_ref)
    if a.only in (None, "runner"):
        bench_runner(a.duration, a.clients_per_region)


if __name__ == "__main__":
    main()
