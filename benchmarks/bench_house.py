"""Before and after, side by side in one run: the checker of another tree (``--before``,
the tree before a change, with its own interpreter) and this one, on the same inputs,
alternating, each in a fresh process.

Run:

    python benchmarks/bench_house.py --before-python /work/venvs/before/bin/python \\
        [--base-python OTHER] [--history benchmarks/out/sim-1m.jsonl] [--jobs 2] [--repeat 3]
        [--skip-1m] [--skip-anchors] [--scan]

``--base-python``: a third tree run in the same rotation (e.g. main just before a change
lands, to tell the change's own effect from everything else since ``--before``).

Two workloads:

* **check 1M**: ``check_history(HISTORY, jobs=JOBS)`` on the simulator's ~1M-operation
  history (written first by ``benchmarks/bench_simulate.py`` when absent: it is the
  history the README's check figure uses);
* **anchors**: ``check_history(path, jobs=1)`` on each of the 171 files of the shared
  linearizability anchor set (Knossos EDN, Porcupine etcd logs), one process for all;
* **scan** (``--scan``): the history reader's hot loop alone, ``validate_file(HISTORY)``
  in one process (reading and validating every event, building nothing).

Each (tree, workload) pair runs ``--repeat`` times, the trees alternating (before, after,
before, after, ...), so both see the same load. Each child reports its own CPU time
(``time.process_time`` of itself plus its worker processes, from ``resource``) and wall
time around the work only, and the verdicts, which must agree. Printed: every run, then
per tree the best and the median of CPU and of wall, and the ratio after / before of the
medians. CPU is the figure to compare on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = Path(os.environ.get("GTCHECK_ANCHOR_DATA", "/work/shared/anchor-data"))

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from gtcheck.checker.check import check_history

def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

work, arg, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
if work == "scan":
    from gtcheck.checker.history import validate_file
    c0, w0 = cpu(), time.perf_counter()
    stats = validate_file(arg)
    w, c = time.perf_counter() - w0, cpu() - c0
    print(json.dumps({"cpu_s": c, "wall_s": w, "verdicts": [stats["operations"], stats["keys"]]}))
    sys.exit(0)
if work == "check":
    paths = [Path(arg)]
else:
    anchor = Path(arg)
    rows = [l.split("\t")[:2] for l in (anchor / "VERDICTS.tsv").read_text().splitlines()[1:] if l.strip()]
    paths = [anchor / rel for rel, _ in rows]
c0, w0 = cpu(), time.perf_counter()
verdicts = [check_history(p, jobs=jobs).summary["valid"] for p in paths]
w, c = time.perf_counter() - w0, cpu() - c0
print(json.dumps({"cpu_s": c, "wall_s": w, "verdicts": verdicts}))
"""


def run(python: str, work: str, arg: str, jobs: int) -> dict:
    env = dict(os.environ)
    env.pop("GTCHECK_PURE_PYTHON", None)
    proc = subprocess.run([python, "-W", "ignore", "-c", CHILD, work, arg, str(jobs)],
                          capture_output=True, text=True, env=env, cwd="/")
    if proc.returncode != 0:
        sys.exit(f"{python} {work} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tree_of(python: str) -> str:
    out = subprocess.run([python, "-W", "ignore", "-c",
                          "import gtcheck.checker, gtcheck.model as m, os; "
                          "print(os.path.dirname(gtcheck.checker.__file__), m.implementation())"],
                         capture_output=True, text=True, cwd="/")
    return out.stdout.strip() or out.stderr.strip()[-300:]


def compare(label: str, work: str, arg: str, jobs: int, pythons: dict[str, str],
            repeat: int) -> None:
    runs: dict[str, list[dict]] = {name: [] for name in pythons}
    for i in range(repeat):
        for name, py in pythons.items():
            r = run(py, work, arg, jobs)
            runs[name].append(r)
            print(f"  {label} run {i + 1} {name:<6} CPU {r['cpu_s']:7.2f} s  wall {r['wall_s']:7.2f} s"
                  f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    verdicts = {name: rs[0]["verdicts"] for name, rs in runs.items()}
    same = len({json.dumps(v) for v in verdicts.values()}) == 1
    med = {}
    for name, rs in runs.items():
        cpus, walls = [r["cpu_s"] for r in rs], [r["wall_s"] for r in rs]
        med[name] = (statistics.median(cpus), statistics.median(walls))
        print(f"{label} {name:<6}: CPU best {min(cpus):.2f} s, median {med[name][0]:.2f} s; "
              f"wall best {min(walls):.2f} s, median {med[name][1]:.2f} s")
    for other in (n for n in med if n != "after"):
        print(f"{label} after/{other} (medians): CPU {med['after'][0] / med[other][0]:.3f}, "
              f"wall {med['after'][1] / med[other][1]:.3f}")
    print(f"{label} verdicts " + ("identical" if same else f"DIFFER: {verdicts}"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before-python", required=True, help="the interpreter of the tree before")
    ap.add_argument("--base-python", help="a third tree's interpreter (optional)")
    ap.add_argument("--after-python", default=sys.executable, help="this tree's (default: this one)")
    ap.add_argument("--history", default=str(ROOT / "benchmarks" / "out" / "sim-1m.jsonl"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--skip-anchors", action="store_true")
    ap.add_argument("--scan", action="store_true", help="also time the reader alone")
    args = ap.parse_args()
    pythons = {"before": args.before_python}
    if args.base_python:
        pythons["base"] = args.base_python
    pythons["after"] = args.after_python
    for name, py in pythons.items():
        print(f"{name}: {py} -> {tree_of(py)}")
    print(f"cores {os.cpu_count()}, load {os.getloadavg()}, {time.strftime('%Y-%m-%d %H:%M')}")
    if not args.skip_1m:
        history = Path(args.history)
        if not history.exists():
            print(f"writing {history} with benchmarks/bench_simulate.py (compiled model) ...", flush=True)
            subprocess.run([args.after_python, str(ROOT / "benchmarks" / "bench_simulate.py"),
                            "--out-dir", str(history.parent)], check=True, cwd=ROOT)
        compare("check 1M", "check", str(history), args.jobs, pythons, args.repeat)
    if args.scan:
        compare("scan 1M", "scan", str(Path(args.history)), 1, pythons, args.repeat)
    if not args.skip_anchors:
        compare("anchors", "anchors", str(ANCHOR), 1, pythons, args.repeat)


if __name__ == "__main__":
    main()
