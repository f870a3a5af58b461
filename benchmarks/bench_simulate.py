"""Simulator throughput, interpreted and compiled side by side: about 1,000,000 operations
over 10,000 keys, three regions, one region isolated for a fifth of the run.

Run (after ``pip install -e .``, which compiles the model with mypyc):

    python benchmarks/bench_simulate.py [--ops 1250000] [--keys 10000] [--repeat 1]

``--ops`` is the load offered (rate x duration); about 79 % of it completes as operations
(the isolated region's clients wait out timeouts), so the default records about 985,000
operations. The compiled run's history is left in ``benchmarks/out/sim-1m.jsonl`` for
``bench_check.py``; the interpreted one is deleted once its hash is compared.

Each implementation runs in a child process of its own: the interpreted model with
``GTCHECK_PURE_PYTHON=1``, the compiled one without it. Each child measures its own CPU
time (``time.process_time``) and wall time around the simulation only (not the imports),
and its peak RSS. CPU time is the figure to compare: the machine is shared, so wall time
depends on what else runs. With ``--repeat N`` each child runs N times (alternating) and
the best of each is kept. The two histories must be byte-identical (checked by hash).
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
from typing import Any

IMPLEMENTATIONS = ("interpreted", "compiled")
TARGET_RATIO = 2.0            # compiled / interpreted CPU throughput
TARGET_OPS_PER_CPU_S = 100_000  # compiled (issue 19; it was 80,000)
TARGET_PEAK_MB = 500


def child(args: argparse.Namespace) -> None:
    """One run in this process; prints one JSON line."""
    import gtcheck.model as model
    from gtcheck.model.scenario import scenario_from_dict
    from gtcheck.model.simulator import simulate

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
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    h = hashlib.sha256()
    with open(args.out, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    print(json.dumps({"implementation": model.implementation(), "reason": model.REASON,
                      "operations": summary.operations, "events": summary.events, "cpu_s": cpu,
                      "wall_s": wall, "peak_mb": peak_mb, "history_mb": os.path.getsize(args.out) / 1e6,
                      "sha256": h.hexdigest()}))


def run_child(impl: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("GTCHECK_PURE_PYTHON", None)
    if impl == "interpreted":
        env["GTCHECK_PURE_PYTHON"] = "1"
    out = str(Path(args.out_dir) / ("sim-1m.jsonl" if impl == "compiled" else "sim-1m-interpreted.jsonl"))
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--ops", str(args.ops), "--keys", str(args.keys),
           "--out", out] + (["--truth"] if args.truth else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"the {impl} run failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["implementation"] != impl:
        sys.exit(f"asked for the {impl} model, got the {result['implementation']} one: {result['reason']}\n"
                 "(install with `pip install -e .` and a C compiler to build the compiled model)")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=1_250_000, help="offered requests (rate x duration)")
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each implementation; the best CPU time is kept")
    ap.add_argument("--out-dir", default="benchmarks/out")
    ap.add_argument("--truth", action="store_true", help="also write the ground-truth sidecar")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    best: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeat):
        for impl in IMPLEMENTATIONS:
            r = run_child(impl, args)
            if impl not in best or float(r["cpu_s"]) < float(best[impl]["cpu_s"]):
                best[impl] = r
    Path(args.out_dir, "sim-1m-interpreted.jsonl").unlink(missing_ok=True)
    interp, comp = best["interpreted"], best["compiled"]
    ops = int(comp["operations"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"benchmark: {ops:,} operations ({int(comp['events']):,} events) over {args.keys:,} keys, "
          f"truth sidecar: {'yes' if args.truth else 'no'}; best of {args.repeat}")
    print(f"{'':<12}{'CPU s':>9}{'ops/s CPU':>12}{'wall s':>9}{'ops/s wall':>12}{'peak RSS':>10}")
    for impl in IMPLEMENTATIONS:
        r = best[impl]
        cpu, wall = float(r["cpu_s"]), float(r["wall_s"])
        print(f"{impl:<12}{cpu:>9.1f}{ops / cpu:>12,.0f}{wall:>9.1f}{ops / wall:>12,.0f}{float(r['peak_mb']):>8.0f} MB")
    ratio_cpu = float(interp["cpu_s"]) / float(comp["cpu_s"])
    ratio_wall = float(interp["wall_s"]) / float(comp["wall_s"])
    comp_rate = ops / float(comp["cpu_s"])
    peak = max(float(r["peak_mb"]) for r in best.values())
    same = interp["sha256"] == comp["sha256"]
    print(f"compiled / interpreted: {ratio_cpu:.2f}x CPU throughput, {ratio_wall:.2f}x wall")
    print(f"histories byte-identical: {'yes' if same else 'NO'}")
    print("targets: compiled >= {:.1f}x interpreted CPU throughput: {}; >= {:,} ops/s of CPU: {}; "
          "peak RSS < {} MB: {}".format(TARGET_RATIO, "met" if ratio_cpu >= TARGET_RATIO else "MISSED",
                                        TARGET_OPS_PER_CPU_S, "met" if comp_rate >= TARGET_OPS_PER_CPU_S else "MISSED",
                                        TARGET_PEAK_MB, "met" if peak < TARGET_PEAK_MB else "MISSED"))
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
