"""The local engine beside the Dask engine with one and two workers, side by side in one run.

Run: python benchmarks/bench_dask.py [--ops 1000000 10000000] [--configs local dask1 dask2]
         [--task-stream PREFIX]

For each size it checks ``benchmarks/out/check-<N>k-<keys>.jsonl`` (written first when
absent by ``bench_check.generate``, one key per 100 operations; a multiple of a million
above it as copies of the 1M history, ``bench_check.replicate``), once per configuration,
each in a fresh Python process so that every figure is that configuration's own:

* ``local``: ``check_history(path, jobs=2)``, the local engine's two worker processes
  (each reads the whole file, keeps its keys);
* ``dask1`` / ``dask2``: ``--engine dask`` on a LocalCluster of 1 or 2 single-threaded
  worker processes, started before the clock starts (its start-up is printed apart).

Printed per run: wall of the check; CPU seconds of this process and of every worker
(``getrusage`` in each: exact, not sampled); peak RSS of this process and of every worker
(``ru_maxrss`` in each); whether the summary (but for ``timing`` and ``jobs``) equals the
local engine's. CPU and wall are apart because the machine is shared: the load average
at the start and end of each run is printed beside it. For the Dask runs, per worker: the
fraction of the wall time it was running a task (Dask's task stream), and the seconds it
was runnable but waited for a CPU (``/proc/<pid>/task/*/schedstat``): a worker busy all the
time that still got less than a core was short of CPU (the machine's other work), not of
tasks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MILLION = 1_000_000
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _sched() -> tuple[float, float]:
    """Seconds this process's threads ran on a CPU and waited, runnable, for one (Linux
    ``/proc/<pid>/task/*/schedstat``; zeros elsewhere): the wait is the time the machine's
    other work took from it, what CPU and wall alone cannot tell apart from idling."""
    ran = waited = 0
    try:
        tids = os.listdir(f"/proc/{os.getpid()}/task")
    except OSError:
        return 0.0, 0.0
    for tid in tids:
        try:
            with open(f"/proc/{os.getpid()}/task/{tid}/schedstat") as f:
                r, w, _ = f.read().split()
        except (OSError, ValueError):
            continue
        ran, waited = ran + int(r), waited + int(w)
    return ran / 1e9, waited / 1e9


def _usage() -> dict:
    """This process's CPU seconds, peak RSS (MB) and run-queue wait, and its waited
    children's CPU and peak RSS."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    ran, waited = _sched()
    return {"cpu": me.ru_utime + me.ru_stime, "rss_mb": me.ru_maxrss / 1024,
            "children_cpu": ch.ru_utime + ch.ru_stime, "children_rss_mb": ch.ru_maxrss / 1024,
            "ran": ran, "waited": waited}


def _busy(records: list[dict], wall: float) -> dict[str, float]:
    """Per worker, the fraction of the check's wall time it spent running tasks (Dask's
    task stream: each task's compute interval); a worker short of 1 was idle, waiting
    for work or for data, whatever CPU it got while busy."""
    busy: dict[str, float] = {}
    for r in records:
        for s in r["startstops"]:
            if s["action"] == "compute":
                busy[r["worker"]] = busy.get(r["worker"], 0.0) + s["stop"] - s["start"]
    return {w: b / wall for w, b in sorted(busy.items())}


def _digest(summary: dict) -> str:
    s = dict(summary)
    s.pop("timing", None)
    s["options"] = {k: v for k, v in s["options"].items() if k != "jobs"}
    return hashlib.sha256(json.dumps(s, sort_keys=True, default=str).encode()).hexdigest()[:16]


def one(config: str, path: str) -> dict:
    """Run one configuration in this (fresh) process; its figures as a dict."""
    from gtcheck.checker.check import check_history

    out: dict = {"config": config, "load_start": os.getloadavg()[0]}
    if config == "local":
        u0 = _usage()
        t = time.perf_counter()
        res = check_history(path, jobs=2)
        out["wall"] = time.perf_counter() - t
        u1 = _usage()
        out["cpu_client"] = u1["cpu"] - u0["cpu"]
        out["cpu_workers"] = [u1["children_cpu"] - u0["children_cpu"]]
        out["rss_client_mb"] = u1["rss_mb"]
        out["rss_workers_mb"] = [u1["children_rss_mb"]]      # the largest worker's
    else:
        import logging

        from distributed import Client, LocalCluster, get_task_stream

        n = int(config[len("dask"):])
        t = time.perf_counter()
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client:
            out["cluster_start"] = time.perf_counter() - t
            w0 = client.run(_usage)
            u0 = _usage()
            t, t0 = time.perf_counter(), time.time()
            with get_task_stream(client) as stream:
                res = check_history(path, engine="dask", scheduler=cluster.scheduler_address)
            out["wall"] = time.perf_counter() - t
            u1 = _usage()
            w1 = client.run(_usage)
            out["busy"] = list(_busy(stream.data, out["wall"]).values())
            if os.environ.get("BENCH_DASK_TASK_STREAM"):     # --task-stream: for diagnosis
                with open(f"{os.environ['BENCH_DASK_TASK_STREAM']}-{config}.json", "w") as f:
                    json.dump([{"task": str(r["key"]).split("-")[0], "worker": r["worker"],
                                "start": s["start"] - t0, "stop": s["stop"] - t0,
                                "action": s["action"]}
                               for r in stream.data for s in r["startstops"]], f)
        out["cpu_client"] = u1["cpu"] - u0["cpu"]       # the client and the scheduler
        out["cpu_workers"] = [w1[a]["cpu"] - w0[a]["cpu"] for a in sorted(w1)]
        out["rss_client_mb"] = u1["rss_mb"]
        out["rss_workers_mb"] = [w1[a]["rss_mb"] for a in sorted(w1)]
        out["waited_workers"] = [w1[a]["waited"] - w0[a]["waited"] for a in sorted(w1)]
    out["load_end"] = os.getloadavg()[0]
    out["operations"] = res.summary["history"]["counts"]["operations"]
    out["valid"] = res.summary["valid"]
    out["digest"] = _digest(res.summary)
    out["shards"] = res.summary["timing"]["shards"]
    out["stages"] = res.summary["timing"].get("stages_cpu_s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ops", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--configs", nargs="+", default=["local", "dask1", "dask2"])
    ap.add_argument("--task-stream", metavar="PREFIX",
                    help="write each Dask run's task stream (task, worker, start, stop: "
                    "seconds from the check's start) to PREFIX-<config>.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--history", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.history)))
        return
    from bench_check import generate, replicate

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for n in args.ops:
        path = ROOT / "benchmarks" / "out" / f"check-{n // 1000}k-{max(10, n // 100)}.jsonl"
        if not path.exists():
            t = time.perf_counter()
            path.parent.mkdir(parents=True, exist_ok=True)
            if n > MILLION and n % MILLION == 0:      # copies of the 1M history: minutes, not hours
                base = ROOT / "benchmarks" / "out" / f"check-{MILLION // 1000}k-{MILLION // 100}.jsonl"
                if not base.exists():
                    generate(base, MILLION, MILLION // 100)
                replicate(base, path, n // MILLION)
            else:
                generate(path, n, max(10, n // 100))
            print(f"generated {path.name} in {time.perf_counter() - t:.0f} s", flush=True)
        print(f"\n{n:,} operations, {path.stat().st_size / 1e6:,.0f} MB ({path.name})")
        print(f"{'config':<7} {'wall s':>7} {'CPU s':>7} {'client':>7} {'workers CPU s':<16} "
              f"{'peak RSS MB: client':>20} {'workers':<14} {'load':>9} {'shards':>6} same")
        ref = None
        for config in args.configs:
            env = dict(os.environ)
            if args.task_stream:
                env["BENCH_DASK_TASK_STREAM"] = f"{args.task_stream}-{n // 1000}k"
            proc = subprocess.run([sys.executable, __file__, "--one", config, "--history",
                                   str(path)], capture_output=True, text=True, cwd=ROOT,
                                  env=env)
            if proc.returncode != 0:
                print(f"{config:<7} failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            ref = ref or r["digest"]
            cpu = r["cpu_client"] + sum(r["cpu_workers"])
            workers = " ".join(f"{c:.1f}" for c in r["cpu_workers"])
            rss = " ".join(f"{m:,.0f}" for m in r["rss_workers_mb"])
            start = f" (cluster start {r['cluster_start']:.1f} s)" if "cluster_start" in r else ""
            print(f"{config:<7} {r['wall']:>7.1f} {cpu:>7.1f} {r['cpu_client']:>7.1f} "
                  f"{workers:<16} {r['rss_client_mb']:>20,.0f} {rss:<14} "
                  f"{r['load_start']:>4.1f}-{r['load_end']:<4.1f} {r['shards']:>6} "
                  f"{'yes' if r['digest'] == ref else 'NO'}{start}", flush=True)
            if r.get("busy"):
                print("        workers busy (task stream): " + " ".join(
                    f"{b:.0%}" for b in r["busy"]) + "; waited for a CPU while runnable "
                    "(schedstat): " + " ".join(f"{w:.1f} s" for w in r["waited_workers"]),
                    flush=True)
            if r.get("stages"):
                print("        CPU s by stage, summed over tasks: " + ", ".join(
                    f"{k} {v:.1f}" for k, v in r["stages"].items()), flush=True)


if __name__ == "__main__":
    main()
