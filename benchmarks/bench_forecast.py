"""Forecast benchmarks: ``gtcheck predict``'s Monte Carlo.

    python benchmarks/bench_forecast.py --only predict [--trials 1000000]

predict: the default scenario (3 regions: 9 region pairs x 2 read kinds, the simulator's
in-region model) and PBS's LNKD-DISK (WARS: 3 copies, 4 messages each), ``--trials`` per
curve. Reported per curve and in all: CPU (``time.process_time``) and wall
(``time.perf_counter``) apart, since the machine is shared; ``uptime``'s load beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["predict"], default=None)
    ap.add_argument("--trials", type=int, default=1_000_000)
    args = ap.parse_args()
    print(f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    if args.only in (None, "predict"):
        bench_predict(args.trials)


if __name__ == "__main__":
    main()
