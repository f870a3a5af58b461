"""Search and exploration (issue 9): the explorer's states per second and the largest
configuration it completes in 60 s; for each catalogue behaviour, how long gtcheck search
takes to find its violation and to shrink it.

    python benchmarks/bench_search.py [--limit 60] [--budget 1500] [--skip-explore] [--skip-search]

CPU time (``time.process_time``) and wall time are reported apart: the machine may be
shared, so wall time depends on what else runs. Explorer configurations grow by
concurrent writers: N regions, each writing one key once, plus one eventually consistent
read per region, 2 storage copies per region (one lagging); the largest that completes
within ``--limit`` seconds is reported. Results go to stdout as a table and to
``benchmarks/out/search.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gtcheck.model.scenario import scenario_from_dict  # noqa: E402
from gtcheck.search import catalogue  # noqa: E402
from gtcheck.search.explore import explore  # noqa: E402
from gtcheck.search.run import invariant_property  # noqa: E402
from gtcheck.search.search import search  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "eu-central-1", "sa-east-1"]


def config(regions: int, writes_per_region: int, copies: int, keys: int = 1) -> dict[str, Any]:
    names = REGIONS[:regions]
    script = []
    for i in range(writes_per_region):
        for j, r in enumerate(names):
            script.append({"at": f"{i * 10}ms", "region": r, "f": "write", "key": f"k{(i + j) % keys}",
                           "value": {"w": f"{r}-{i}"}})
    for r in names:
        script.append({"at": f"{writes_per_region * 10}ms", "region": r, "f": "read", "key": "k0", "name": f"read-{r}"})
    return {"name": f"bench-{regions}r-{writes_per_region}w-{copies}c-{keys}k",
            "regions": {"names": names, "copies": copies, "write_quorum": 1}, "script": script}


# (regions, writes per region, copies), growing; the first that does not complete ends the ladder
LADDER = [(2, 1, 1), (2, 1, 2), (2, 2, 1), (3, 1, 1), (2, 2, 2), (2, 3, 1), (3, 1, 2), (4, 1, 1), (3, 2, 1),
          (2, 3, 2), (3, 2, 2), (4, 2, 1), (5, 1, 1)]


def bench_explore(limit: float) -> dict[str, Any]:
    rows = []
    largest = None
    for regions, writes, copies in LADDER:
        sc = scenario_from_dict(config(regions, writes, copies))
        c0 = time.process_time()
        ex = explore(sc, max_states=50_000_000, time_limit_s=limit)
        cpu = time.process_time() - c0
        row = {"config": sc.name, "regions": regions, "writes": regions * writes, "copies": copies,
               "states": ex.states, "edges": ex.edges, "complete": ex.complete, "wall_s": round(ex.wall_s, 3),
               "cpu_s": round(cpu, 3), "states_per_cpu_s": round(ex.states / cpu) if cpu else None,
               "final_states": len(ex.final_states.get("k0", []))}
        rows.append(row)
        print(f"  explore {sc.name:28} {ex.states:>9} states {ex.edges:>9} edges "
              f"{'complete' if ex.complete else 'STOPPED':8} wall {ex.wall_s:7.2f} s cpu {cpu:7.2f} s "
              f"{row['states_per_cpu_s'] or 0:>8} states/cpu-s", flush=True)
        if ex.complete:
            largest = row
        else:
            break
    return {"rows": rows, "largest_complete": largest, "limit_s": limit}


def bench_search(budget: int) -> list[dict[str, Any]]:
    out = []
    for e in catalogue.ENTRIES:
        prop = invariant_property(e.invariant)
        c0 = time.process_time()
        r = search(e.search_base(), prop, budget=budget, seed=0)
        cpu = time.process_time() - c0
        row = {"behaviour": e.name, "invariant": e.invariant, "found": r.found is not None,
               "runs_to_find": r.runs_to_find, "find_wall_s": round(r.find_s, 3) if r.find_s else None,
               "runs_total": r.runs, "find_and_shrink_wall_s": round(r.total_s, 3),
               "find_and_shrink_cpu_s": round(cpu, 3), "shrunk_requests": r.requests}
        out.append(row)
        print(f"  search  {e.name:28} {'found' if row['found'] else 'NOT FOUND':9} at run {r.runs_to_find or '-':>5}"
              f" ({row['find_wall_s'] or '-'} s); shrunk to {r.requests} requests after {r.runs} runs: "
              f"wall {r.total_s:6.2f} s cpu {cpu:6.2f} s", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--budget", type=int, default=1500)
    ap.add_argument("--skip-explore", action="store_true")
    ap.add_argument("--skip-search", action="store_true")
    args = ap.parse_args()
    result: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine()}
    if not args.skip_explore:
        print("explorer:")
        result["explore"] = bench_explore(args.limit)
    if not args.skip_search:
        print("search (catalogue):")
        result["search"] = bench_search(args.budget)
    out = Path(__file__).resolve().parent / "out" / "search.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
