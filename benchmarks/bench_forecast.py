"""Forecast benchmarks: ``gtcheck predict``'s Monte Carlo, and ``gtcheck fit`` of a
1,000,000-operation history.

    python benchmarks/bench_forecast.py --only predict [--trials 1000000]
    python benchmarks/bench_forecast.py --only fit [--ops 1000000] [--jobs 2]

predict: the default scenario (3 regions: 9 region pairs x 2 read kinds, the simulator's
in-region model) and PBS's LNKD-DISK (WARS: 3 copies, 4 messages each), ``--trials`` per
curve. Reported per curve and in all: CPU (``time.process_time``) and wall
(``time.perf_counter``) apart, since the machine is shared; ``uptime``'s load beside them.

fit: histories/scenarios/forecast/lognormal.toml scaled up (1,000 keys, 33,000 requests
per second offered, as long as it takes to record ``--ops`` operations), simulated once into
benchmarks/out/fit-1m.jsonl (kept), then ``fit_history`` with ``--jobs`` check workers.
Reported: each phase's wall time (check, observations, fits, workload mirror), the whole
run's CPU (this process and its workers) and wall, peak RSS of this process and of the
largest worker.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_predict(trials: int) -> None:
    from gtcheck.forecast.predict import forecast
    from gtcheck.model.scenario import default_scenario, load_scenario

    for name, sc in (("default scenario (simulator's in-region model)", default_scenario()),
                     ("PBS LNKD-DISK (WARS, 3 copies)", load_scenario(ROOT / "histories/scenarios/pbs/lnkd-disk.toml"))):
        c0, w0 = time.process_time(), time.perf_counter()
        fc = forecast(sc, seed=1, trials=trials)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        curves = len(fc.rows)
        pairs = len(sc.regions) ** 2
        print(f"predict {name}: {curves} curves ({pairs} region pairs x 2 read kinds) x {trials:,} trials: "
              f"{cpu:.2f} s CPU, {wall:.2f} s wall; per pair {cpu / pairs:.3f} s CPU; load {_load()}")


def _history(ops: int) -> Path:
    from gtcheck.model.scenario import load_scenario
    from gtcheck.model.simulator import simulate

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"fit-{ops // 1000}k.jsonl"
    if path.exists():
        return path
    sc = load_scenario(ROOT / "histories/scenarios/forecast/lognormal.toml")
    rate = 33_000.0
    wl = dataclasses.replace(sc.workload, keys=1_000, rate=rate, processes_per_region=200,
                             duration_ns=int(ops / (rate * 0.78) * 1e9))
    c0 = time.process_time()
    s = simulate(dataclasses.replace(sc, workload=wl), 1, path, False)
    print(f"simulated {path.name}: {s.operations:,} operations in {time.process_time() - c0:.1f} s CPU")
    return path


def bench_fit(ops: int, jobs: int) -> None:
    from gtcheck.forecast.fit import fit_history

    path = _history(ops)
    marks = [("start", time.perf_counter(), time.process_time())]
    c0 = time.process_time()
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    fr = fit_history(str(path), seed=1, jobs=jobs,
                     progress=lambda m: marks.append((m, time.perf_counter(), time.process_time())))
    wall = time.perf_counter() - marks[0][1]
    cpu = time.process_time() - c0
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (ch1.ru_utime + ch1.ru_stime) - (ch0.ru_utime + ch0.ru_stime)
    marks.append(("end", time.perf_counter(), time.process_time()))
    phases: dict[str, list[float]] = {}
    for (m, t, c), (_, t2, c2) in zip(marks[:-1], marks[1:]):
        name = "fits" if m.startswith("fitting") else m.split(" (")[0]
        acc = phases.setdefault(name, [0.0, 0.0])
        acc[0] += t2 - t
        acc[1] += c2 - c
    n = sum(1 for _ in open(path)) - 1
    print(f"fit of {path.name} ({n:,} events, {len(fr.check.reads or []):,} reads judged, "
          f"{sum(lf.link.n for lf in fr.links):,} interval observations), --jobs {jobs}:")
    for name, (secs, cpu_s) in phases.items():
        if name != "start":
            print(f"  {name}: {secs:.1f} s wall, {cpu_s:.1f} s CPU in this process")
    print(f"  total: {wall:.1f} s wall; CPU {cpu:.1f} s in this process + {child_cpu:.1f} s in the check's workers; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (this process), "
          f"{ch1.ru_maxrss / 1024:.0f} MB (largest worker); load {_load()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["predict", "fit"], default=None)
    ap.add_argument("--trials", type=int, default=1_000_000)
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    print(f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    if args.only in (None, "predict"):
        bench_predict(args.trials)
    if args.only in (None, "fit"):
        bench_fit(args.ops, args.jobs)


if __name__ == "__main__":
    main()
