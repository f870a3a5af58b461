"""Soak benchmark of the emulator (issue 20): one hour of an application's traffic, compressed
into a few minutes, on loopback only, against `gtcheck emulate` and against bare moto_server in
the same run.

    python benchmarks/bench_soak.py [--ops 36000] [--clients 8] [--keys 1000] [--run-seconds 30]

"One hour of traffic" is what an application doing 10 requests a second sends in an hour: 36,000
requests, sent here as fast as the server answers (8 client threads). The mix: 45 % GetItem (half
strongly consistent), 25 % PutItem (one in ten with a TTL a few seconds ahead, so the sweeper
works), 10 % UpdateItem (ADD a counter), 5 % DeleteItem, 10 % Query, 5 % TransactWriteItems of two
items, on 1,000 keys of one table with a stream (NEW_AND_OLD_IMAGES) and TTL on. The emulator
serves three regions and the table is global in all three (every write replicated twice, stamped,
merged); moto_server serves the same table in one region.

Printed for each server: operations per second (wall), its CPU per operation (user + system from
/proc, of the server process alone), its resident memory (VmRSS) after the table was made, every
10 % of the way, and at the end, and how long it took to exit after SIGTERM. The client's CPU is
not the server's and is printed apart. A server whose memory passes --max-rss-mb (3 GB) is
stopped there, so that the machine does not suffer. Last, the issue's own case: the emulator's
memory after a 30 s `gtcheck run` of the default scenario, and its exit.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.nethelp import free_port  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
TABLE = "soak"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerProcess:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "emulator":
            cmd = [sys.executable, "-W", "ignore", "-m", "gtcheck", "emulate", "--port", "0",
                   "--regions", ",".join(REGIONS), "--global-tables", "all"]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            self.endpoint = line.split("listening on ", 1)[1].split()[0]
            self.proc.stdout.readline()      # the control token
        else:
            port = free_port()
            self.proc = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "moto.server", "-H", "127.0.0.1",
                                          "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)

    def stop(self) -> float:
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - t


def client(endpoint: str, region: str = "us-east-1"):
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint, aws_access_key_id="soak",
                        aws_secret_access_key="soak", config=Config(retries={"total_max_attempts": 3,
                                                                             "mode": "standard"},
                                                                    max_pool_connections=4))


def create_table(endpoint: str) -> None:
    c = client(endpoint)
    c.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST",
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    c.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})


def one(c, rng: random.Random, keys: int, i: int) -> None:
    pk = f"p{rng.randrange(keys // 10)}"
    key = {"pk": {"S": pk}, "sk": {"S": f"s{rng.randrange(10)}"}}
    r = rng.random()
    if r < 0.45:
        c.get_item(TableName=TABLE, Key=key, ConsistentRead=rng.random() < 0.5)
    elif r < 0.70:
        item = {**key, "v": {"N": str(i)}, "payload": {"S": "x" * 150}}
        if rng.random() < 0.1:
            item["exp"] = {"N": str(int(time.time()) + rng.randrange(2, 20))}
        c.put_item(TableName=TABLE, Item=item)
    elif r < 0.80:
        c.update_item(TableName=TABLE, Key=key, UpdateExpression="ADD n :one",
                      ExpressionAttributeValues={":one": {"N": "1"}})
    elif r < 0.85:
        c.delete_item(TableName=TABLE, Key=key)
    elif r < 0.95:
        c.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}})
    else:
        other = {"pk": {"S": f"p{rng.randrange(keys // 10)}"}, "sk": {"S": "t"}}
        if other == key:
            return
        c.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": {**key, "v": {"N": str(i)}}}},
                                              {"Put": {"TableName": TABLE, "Item": {**other, "v": {"N": str(i)}}}}])


def soak(kind: str, ops: int, clients: int, keys: int, max_s: float, max_rss_mb: float) -> dict:
    server = ServerProcess(kind)
    pid = server.proc.pid
    create_table(server.endpoint)
    time.sleep(1)
    rss = [rss_mb(pid)]
    cpu0 = cpu_s(pid)
    done = [0]
    errors = [0]
    lock = threading.Lock()
    marks = [ops * k // 10 for k in range(1, 11)]
    t0 = time.monotonic()
    peak = [rss[0]]
    halt = threading.Event()      # the server's memory passed --max-rss-mb: stop before the machine suffers

    def watch() -> None:
        while not halt.wait(1.0):
            try:
                peak[0] = max(peak[0], rss_mb(pid))
            except (OSError, ValueError):
                halt.set()
            if peak[0] > max_rss_mb:
                halt.set()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def work(n: int) -> None:
        c = client(server.endpoint, REGIONS[n % len(REGIONS)] if kind == "emulator" else "us-east-1")
        rng = random.Random(n)
        while True:
            with lock:
                if done[0] >= ops or time.monotonic() > t0 + max_s or halt.is_set():
                    return
                done[0] += 1
                i = done[0]
                if marks and i >= marks[0]:
                    marks.pop(0)
                    rss.append(rss_mb(pid))
            try:
                one(c, rng, keys, i)
            except Exception:  # noqa: BLE001 - counted; a soak run goes on
                errors[0] += 1
    client_cpu0 = time.process_time()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    capped = halt.is_set()
    halt.set()
    server_cpu = cpu_s(pid) - cpu0
    client_cpu = time.process_time() - client_cpu0
    extra = ""
    if kind == "emulator":
        from gtcheck.realworld.control import Control
        ctl = Control(server.endpoint)
        ctl.wait_quiet(timeout=60)
        s = ctl.status()
        extra = f"; versions replicated {s['applied']}, lost to LWW {s['lost']}, TTL deletes {s['ttl_deletes']}"
    time.sleep(2)
    rss.append(rss_mb(pid))
    exit_s = server.stop()
    return {"kind": kind, "ops": done[0], "wall": wall, "capped": capped, "peak": peak[0], "server_cpu": server_cpu, "client_cpu": client_cpu,
            "rss": rss, "exit_s": exit_s, "errors": errors[0], "extra": extra}


def gtcheck_run(seconds: int) -> None:
    """The issue's case: a `gtcheck run` of the default scenario for ``seconds`` against the
    emulator; the emulator's RSS afterwards and how long it takes to exit on SIGTERM."""
    import tempfile

    server = ServerProcess("emulator")
    pid = server.proc.pid
    start = rss_mb(pid)
    with tempfile.TemporaryDirectory() as out:
        t = time.monotonic()
        res = subprocess.run([sys.executable, "-W", "ignore", "-m", "gtcheck", "run", "--regions", ",".join(REGIONS),
                              "--table", "orders", "--endpoint-url", server.endpoint, "--duration", f"{seconds}s",
                              "-o", out, "--no-progress"], capture_output=True, text=True)
        wall = time.monotonic() - t
    end = rss_mb(pid)
    exit_s = server.stop()
    wrote = [line for line in res.stderr.splitlines() if line.startswith("wrote ")]
    print(f"gtcheck run {seconds}s (default scenario, 3 regions): exit {res.returncode} after {wall:.0f} s wall; "
          f"{wrote[0] if wrote else res.stderr[-300:]}; emulator RSS {start:.0f} -> {end:.0f} MB; "
          f"emulator exit after SIGTERM {exit_s:.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=36_000, help="requests: one hour at 10 per second")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--only", choices=["emulator", "moto", "none"], default=None)
    ap.add_argument("--max-seconds", type=float, default=1200, help="stop a server's run after this long")
    ap.add_argument("--max-rss-mb", type=float, default=3000, help="stop a server's run when its RSS passes this")
    ap.add_argument("--run-seconds", type=int, default=30, help="also: a gtcheck run this long (0: not)")
    a = ap.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"{a.ops} requests, {a.clients} clients, {a.keys} keys")
    for kind in ("moto", "emulator"):
        if a.only not in (None, kind):
            continue
        r = soak(kind, a.ops, a.clients, a.keys, a.max_seconds, a.max_rss_mb)
        curve = ", ".join(f"{x:.0f}" for x in r["rss"])
        stopped = (f" (stopped: RSS passed {a.max_rss_mb:.0f} MB)" if r["capped"] else
                   " (stopped at --max-seconds)" if r["ops"] < a.ops else "")
        print(f"{kind:9s} {r['ops']} requests{stopped}, peak RSS {r['peak']:.0f} MB: "
              f"{r['ops'] / r['wall']:.0f} ops/s ({r['wall']:.0f} s wall); server CPU "
              f"{r['server_cpu']:.1f} s = {r['server_cpu'] / r['ops'] * 1e3:.2f} ms/op; client CPU {r['client_cpu']:.1f} s; "
              f"RSS MB start {r['rss'][0]:.0f} -> end {r['rss'][-1]:.0f} (every 10 %: {curve}); exit after SIGTERM "
              f"{r['exit_s']:.2f} s; errors {r['errors']}{r['extra']}", flush=True)
    if a.run_seconds:
        gtcheck_run(a.run_seconds)
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
