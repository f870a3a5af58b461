"""The explorer before and after, side by side (issue 19): each configuration of
``bench_search.py``'s ladder explored in a fresh process of each tree, alternating, with
its states, CPU and wall time and peak RSS.

    python benchmarks/bench_explore_compare.py --before-tree /work/before \
        --before-python /work/venvs/before/bin/python [--configs 3x1x2,4x1x1] [--limit 180]

Each child imports ``config`` from its own tree's ``benchmarks/bench_search.py`` and that
tree's ``gtcheck.search.explore.explore``; CPU (``time.process_time``) and wall time are
the child's around the exploration only; peak RSS is the child's (``ru_maxrss``). Note the
machine's load (printed) beside the figures: CPU is the steadier one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
tree, r, w, c, limit = sys.argv[1], *map(int, sys.argv[2:5]), float(sys.argv[5])
sys.path[:0] = [tree + "/benchmarks", tree]
from bench_search import config
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.search.explore import explore
sc = scenario_from_dict(config(r, w, c))
c0 = time.process_time()
ex = explore(sc, max_states=50_000_000, time_limit_s=limit)
cpu = time.process_time() - c0
print(json.dumps({"states": ex.states, "edges": ex.edges, "complete": ex.complete, "cpu_s": round(cpu, 2),
                  "wall_s": round(ex.wall_s, 2), "states_per_cpu_s": round(ex.states / cpu) if cpu else None,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def run(python: str, tree: Path, cfg: tuple[int, int, int], limit: float) -> dict[str, object]:
    out = subprocess.run([python, "-c", CHILD, str(tree), *map(str, cfg), str(limit)], capture_output=True,
                         text=True, check=True)
    row: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before-tree", type=Path, required=True)
    ap.add_argument("--before-python", required=True)
    ap.add_argument("--configs", default="3x1x2,4x1x1", help="regions x writes per region x copies, comma separated")
    ap.add_argument("--limit", type=float, default=180.0, help="seconds of wall time per exploration")
    args = ap.parse_args()
    sides = [("before", args.before_python, args.before_tree), ("after", sys.executable, HERE)]
    rows = []
    for spec in args.configs.split(","):
        cfg = tuple(int(x) for x in spec.split("x"))
        for name, python, tree in sides:
            load = os.getloadavg()[0]
            row = {"config": spec, "side": name, "load": round(load, 1), **run(python, tree, cfg, args.limit)}
            rows.append(row)
            print(f"{spec:7} {name:6} load {load:5.1f}: {row['states']:>9,} states "
                  f"{'complete' if row['complete'] else 'STOPPED '} cpu {row['cpu_s']:7.2f} s wall {row['wall_s']:7.2f} s "
                  f"{row['states_per_cpu_s'] or 0:>8,} states/cpu-s  peak RSS {row['peak_rss_mb']} MB", flush=True)
    path = HERE / "benchmarks" / "out" / "explore-compare.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
