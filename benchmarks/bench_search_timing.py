"""Runs gtcheck search needs to find a timing-sensitive violation (issue 19): draws that
place requests near fault events and near each other, against uniform draws over the
whole duration, over several seeds, side by side in one run.

    python benchmarks/bench_search_timing.py [--seeds 5] [--budget 20000] [--duration 10s]

The scenario (``tests/data/search/outage-failover-skew.toml``): alice sends two writes to one item, in us-east-1;
us-east-1's clock is off by up to 1 s either way; us-east-1 goes down from 5 s to 7 s and
its clients fail over to eu-west-1 100 ms after it goes down. The property is
``later_write_wins`` (a write sent after another was acknowledged is not overwritten by
it). It breaks only when the two writes land in different regions, on either side of a
moment the outage moves requests (its start, the failover, its end), and the earlier
one's region stamps it later than the later one: us-east-1's clock off, in the right
direction, by more than the time between the two writes. Uniform draws must place both
writes close to one of those moments and close to each other by chance.
Each search stops at the first violation (no shrinking);
a search that does not find it within ``--budget`` runs counts as the budget (a lower
bound, marked). CPU time (``time.process_time``) and wall time are reported apart; note
the machine's load beside them. Results go to stdout and ``benchmarks/out/search-timing.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tomllib
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gtcheck.model.scenario import scenario_from_dict  # noqa: E402
from gtcheck.search.run import invariant_property  # noqa: E402
from gtcheck.search.search import search  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1] / "tests" / "data" / "search" / "outage-failover-skew.toml"


def scenario(duration: str) -> dict[str, Any]:
    table = tomllib.loads(SCENARIO.read_text())
    table["workload"]["duration"] = duration
    return table


def one(base: Any, seed: int, uniform: bool, budget: int) -> dict[str, Any]:
    prop = invariant_property("later_write_wins")
    c0, t0 = time.process_time(), time.perf_counter()
    r = search(base, prop, budget=budget, seed=seed, shrink_runs=0, uniform=uniform)
    return {"seed": seed, "found": r.found is not None, "runs": r.runs_to_find if r.found else budget,
            "cpu_s": round(time.process_time() - c0, 2), "wall_s": round(time.perf_counter() - t0, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=20_000)
    ap.add_argument("--duration", default="10s")
    args = ap.parse_args()
    base = scenario_from_dict(scenario(args.duration))
    out: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
                           "load_before": os.getloadavg(), "duration": args.duration, "budget": args.budget}
    for name, uniform in (("near", False), ("uniform", True)):
        rows = []
        for seed in range(args.seeds):
            row = one(base, seed, uniform, args.budget)
            rows.append(row)
            print(f"  {name:8} seed {seed}: {'found at run' if row['found'] else 'NOT found in'} {row['runs']:>6}"
                  f"  cpu {row['cpu_s']:7.2f} s  wall {row['wall_s']:7.2f} s", flush=True)
        runs = [r["runs"] for r in rows]
        out[name] = {"rows": rows, "median_runs": statistics.median(runs), "mean_runs": statistics.fmean(runs),
                     "all_found": all(r["found"] for r in rows),
                     "cpu_s": round(sum(r["cpu_s"] for r in rows), 2), "wall_s": round(sum(r["wall_s"] for r in rows), 2)}
        print(f"{name}: median {out[name]['median_runs']} runs, mean {out[name]['mean_runs']:.0f}"
              f"{'' if out[name]['all_found'] else ' (some not found: budget counted, a lower bound)'}", flush=True)
    out["ratio_median"] = out["uniform"]["median_runs"] / out["near"]["median_runs"]
    out["load_after"] = os.getloadavg()
    print(f"uniform / near, median runs: {out['ratio_median']:.1f}x")
    path = Path(__file__).resolve().parent / "out" / "search-timing.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
