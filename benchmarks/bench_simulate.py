"""Simulator throughput: 1,000,000 operations over 10,000 keys, three regions.

Run: python benchmarks/bench_simulate.py [--ops 1000000] [--keys 10000]
Prints operations per second and peak memory (the history is streamed to disk).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gtcheck.model.scenario import scenario_from_dict  # noqa: E402
from gtcheck.model.simulator import simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--out", default="benchmarks/out/sim-1m.jsonl")
    ap.add_argument("--truth", action="store_true", help="also write the ground-truth sidecar")
    args = ap.parse_args()
    rate = 20_000.0
    duration_s = args.ops / rate
    scenario = scenario_from_dict({
        "name": "bench",
        "workload": {"keys": args.keys, "processes_per_region": 100, "rate": rate, "duration": f"{duration_s}s"},
        "faults": [{"kind": "isolate", "region": "eu-west-1", "at": f"{duration_s * 0.3}s",
                    "duration": f"{duration_s * 0.2}s"}],
        "final": {"reads": False},
    })
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    summary = simulate(scenario, 1, args.out, args.truth)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = os.path.getsize(args.out) / 1e6
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"operations: {summary.operations:,} ({summary.events:,} events) over {args.keys:,} keys, "
          f"truth sidecar: {'yes' if args.truth else 'no'}")
    print(f"wall time: {elapsed:.1f} s -> {summary.operations / elapsed:,.0f} operations/s")
    print(f"CPU time: {cpu:.1f} s -> {summary.operations / cpu:,.0f} operations/s per core")
    print(f"peak RSS: {peak_mb:.0f} MB; history file: {size_mb:.0f} MB")


if __name__ == "__main__":
    main()
