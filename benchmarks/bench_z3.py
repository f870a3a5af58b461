"""Ordering-solver throughput on histories without timestamps (gtcheck.checker.ordering.solver).

Run: python benchmarks/bench_z3.py [--case many|hot|both] [--jobs 2] [--seed 1]
         [--keys 1000] [--ops 100000] [--hot-writes 5000] [--hot-reads 20000]

(a) ``many``: 100,000 operations over 1,000 keys, δ = 5 ms, no ts: target <= 120 s.
(b) ``hot``: one key with 5,000 writes and 20,000 reads, δ = 5 ms, no ts: target <= 60 s.

Histories come from a small in-benchmark multi-region last-writer-wins generator: three
regions, 20 client processes per region whose clocks are off by up to ±δ/2, operations
1-10 ms long, replication 50-500 ms, 3 % deletes and 2 % unknown (info) outcomes among
writes, 30 % strongly consistent reads, 1 % of reads answered by a faulty replica (any
version already applied somewhere), and one final read per region and key after
replication settles.  Timestamps are then dropped and each key's reads get their
candidates (rule 3) before ``infer_order`` runs, so the figures cover the solver alone.
Prints wall time and the time split (build / solve / explain, CPU seconds summed over the
workers), the paths taken (graph vs z3) and what the orders found.
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gtcheck.checker.operations import Header, Operation  # noqa: E402
from gtcheck.checker.ordering.solver.infer import infer_order  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
MS = 1_000_000
DELTA = 5 * MS


def generate(n_keys: int, n_ops: int, seed: int, *, hot_writes: int | None = None,
             hot_reads: int | None = None, procs_per_region: int = 20,
             think_ms: float = 30.0) -> tuple[Header, dict[str, list[Operation]]]:
    """A multi-region LWW history, returned per key (ts stripped)."""
    rng = random.Random(seed)
    procs = [(r, j) for r in REGIONS for j in range(procs_per_region)]
    clock_off = {p: rng.randint(-DELTA // 2, DELTA // 2) for p in procs}
    ts_skew = {r: rng.randint(-20 * MS, 20 * MS) for r in REGIONS}
    keys = [f"user#{i}" for i in range(n_keys)]
    hot = hot_writes is not None
    body = (hot_writes + hot_reads) if hot else n_ops - n_keys * len(REGIONS)
    kinds = []
    if hot:
        kinds = ["w"] * hot_writes + ["r"] * hot_reads
        rng.shuffle(kinds)
    free_at = {p: rng.randint(0, 20 * MS) for p in procs}
    specs = []            # dicts: kind, key, proc, t0, t1 (true times)
    for n in range(body):
        p = procs[n % len(procs)]
        t0 = free_at[p] + int(rng.expovariate(1 / think_ms) * MS) + rng.randint(0, MS)
        dur = rng.randint(1 * MS, 10 * MS)
        free_at[p] = t0 + dur
        kind = kinds[n] if hot else ("w" if rng.random() < 0.3 else "r")
        specs.append({"kind": kind, "key": keys[0] if hot else rng.choice(keys), "proc": p,
                      "t0": t0, "t1": t0 + dur})
    # writes: apply instant, hidden ts, arrival per region
    arrivals: dict[tuple, list] = defaultdict(list)   # (key, region) -> [(arrive, ts_key, n)]
    last_arrival = 0
    for n, s in enumerate(specs):
        if s["kind"] != "w":
            continue
        region = s["proc"][0]
        x = rng.random()
        s["f"] = "delete" if x < 0.03 else "write"
        s["outcome"] = "info" if rng.random() < 0.02 else "ok"
        applied = s["outcome"] == "ok" or rng.random() < 0.5
        ta = rng.randint(s["t0"] + 1, s["t1"] - 1)
        tskey = ((ta + ts_skew[region]) * 100 + n % 100, region)
        if applied:
            for q in REGIONS:
                arr = ta if q == region else ta + rng.randint(50 * MS, 500 * MS)
                arrivals[(s["key"], q)].append((arr, tskey, n))
                last_arrival = max(last_arrival, arr)
    prefix_best: dict[tuple, tuple] = {}
    for k, lst in arrivals.items():
        lst.sort()
        best, out = None, []
        for arr, tskey, n in lst:
            if best is None or tskey > best[0]:
                best = (tskey, n)
            out.append(best[1])
        prefix_best[k] = ([a for a, _t, _n in lst], out, lst)
    settle = max([last_arrival] + [s["t1"] for s in specs]) + 1000 * MS
    for k in (keys[:1] if hot else keys):
        for j, q in enumerate(REGIONS):
            t0 = settle + rng.randint(1 * MS, 50 * MS)
            specs.append({"kind": "r", "key": k, "proc": ("final", q, j), "t0": t0,
                          "t1": t0 + rng.randint(1 * MS, 5 * MS), "final_region": q})
    for s in specs:
        if s["kind"] != "r":
            continue
        region = s.get("final_region") or s["proc"][0]
        s["region"] = region
        s["consistent"] = rng.random() < 0.3
        tr = rng.randint(s["t0"] + 1, s["t1"] - 1)
        seen = None
        pb = prefix_best.get((s["key"], region))
        if pb is not None:
            j = bisect.bisect_right(pb[0], tr)
            if j > 0:
                seen = pb[1][j - 1]
            if rng.random() < 0.01 and j > 0:        # a faulty replica
                seen = rng.choice(pb[2][:j])[2]
        s["seen"] = seen
    for s in specs:
        if s["kind"] == "w":
            s["region"] = s["proc"][0]
    # recorded times (process clocks off by up to δ/2) and file positions
    events = []
    for n, s in enumerate(specs):
        off = clock_off.get(s["proc"], 0)
        events.append((s["t0"] + off, n, 0))
        if s["kind"] == "r" or s["outcome"] == "ok":
            events.append((s["t1"] + off, n, 1))
    events.sort()
    pos = {}
    for i, (_t, n, e) in enumerate(events):
        pos[(n, e)] = i
    per_key: dict[str, list[Operation]] = defaultdict(list)
    for n, s in enumerate(specs):
        off = clock_off.get(s["proc"], 0)
        proc = "-".join(map(str, s["proc"]))
        if s["kind"] == "w":
            ok = s["outcome"] == "ok"
            val = None if s["f"] == "delete" else {"v": n}
            op = Operation(index=pos[(n, 0)], process=proc, region=s["region"], f=s["f"],
                           key=s["key"], invoke_value=val, value=val, outcome=s["outcome"],
                           invoke_time=s["t0"] + off,
                           complete_time=s["t1"] + off if ok else None,
                           end_time=s["t1"] + off if ok else None,
                           complete_index=pos[(n, 1)] if ok else None)
        else:
            seen = s["seen"]
            val = None if seen is None or specs[seen]["f"] == "delete" else {"v": seen}
            op = Operation(index=pos[(n, 0)], process=proc, region=s["region"], f="read",
                           key=s["key"], invoke_value=None, value=val, outcome="ok",
                           invoke_time=s["t0"] + off, complete_time=s["t1"] + off,
                           end_time=s["t1"] + off, complete_index=pos[(n, 1)],
                           consistent=s["consistent"])
        per_key[s["key"]].append(op)
    for k in per_key:
        per_key[k].sort(key=lambda o: o.index)
    header = Header(regions=list(REGIONS), clock_uncertainty_ns=DELTA,
                    settled_after_ns=settle - 500 * MS)
    return header, per_key


def candidates(ops: list[Operation], delta: int) -> dict[int, list]:
    """Rule 3 for one key (values are distinct per write in this generator)."""
    by_value: dict = {}
    deletes = []
    for o in ops:
        if o.is_write and o.outcome != "fail":
            if o.f == "delete":
                deletes.append(o)
            else:
                by_value.setdefault(repr(o.value), []).append(o)
    deletes.sort(key=lambda o: o.invoke_time)
    dtimes = [o.invoke_time for o in deletes]

    def not_after(r, w):
        if r.process == w.process:
            return w.index < r.complete_index
        if delta > 0:
            return not (w.invoke_time - r.complete_time > delta)
        return not ((r.complete_time, r.complete_index) < (w.invoke_time, w.index))

    out = {}
    for r in ops:
        if r.f != "read" or r.outcome != "ok":
            continue
        if r.value is None:
            j = bisect.bisect_right(dtimes, r.complete_time + delta)
            out[r.index] = [None] + [w.index for w in deletes[:j] if not_after(r, w)]
        else:
            lst = [w.index for w in by_value.get(repr(r.value), []) if not_after(r, w)]
            if lst:
                out[r.index] = lst
    return out


def _solve(payload):
    header, key, ops, timeout = payload
    t0 = time.process_time()
    cands = candidates(ops, header.clock_uncertainty_ns)
    t1 = time.process_time()
    ko = infer_order(header, ops, cands, timeout_s=timeout)
    t2 = time.process_time()
    s = ko.stats
    return {"key": key, "status": ko.status, "path": s.get("path"),
            "build": s.get("build_seconds", 0.0), "solve": s.get("solve_seconds", 0.0),
            "explain": s.get("explain_seconds", 0.0), "cands": t1 - t0, "cpu": t2 - t1,
            "stale": s.get("max_staleness_ns"), "conv": s.get("convergence_possible"),
            "raw": s.get("read_after_write_possible"),
            "contradictions": len(ko.contradictions), "segments": s.get("segments", 0),
            "z3_checks": s.get("z3_checks", 0), "graph_checks": s.get("graph_checks", 0),
            "probes": s.get("probes", 0), "n_ops": len(ops)}


def run(name: str, header: Header, per_key: dict, jobs: int, timeout: float,
        target: float) -> None:
    payloads = [(header, k, ops, timeout) for k, ops in per_key.items()]
    n_ops = sum(len(ops) for ops in per_key.values())
    t0 = time.perf_counter()
    if jobs > 1 and len(payloads) > 1:
        with ProcessPoolExecutor(jobs) as ex:
            results = list(ex.map(_solve, payloads, chunksize=max(1, len(payloads) // (8 * jobs))))
    else:
        results = [_solve(p) for p in payloads]
    wall = time.perf_counter() - t0
    tot = Counter()
    for r in results:
        for k in ("build", "solve", "explain", "cands", "cpu", "contradictions",
                  "z3_checks", "graph_checks", "probes", "segments"):
            tot[k] += r[k]
    status = Counter(r["status"] for r in results)
    path = Counter(r["path"] for r in results)
    conv = Counter(str(r["conv"]) for r in results)
    raw = Counter(str(r["raw"]) for r in results)
    stale = sorted(r["stale"] or 0 for r in results if r["stale"] is not None)
    slowest = max(results, key=lambda r: r["cpu"])
    print(f"== {name}: {n_ops} operations, {len(per_key)} keys, jobs={jobs}")
    print(f"   wall {wall:.2f} s (target {target:.0f} s: "
          f"{'met' if wall <= target else f'MISSED by {wall - target:.2f} s'})")
    print(f"   solver cpu {tot['cpu']:.2f} s (summed over workers); split in wall seconds summed over"
          f" keys: build {tot['build']:.2f}, solve {tot['solve']:.2f}, explain {tot['explain']:.2f};"
          f" candidates (rule 3, not the solver) {tot['cands']:.2f} s cpu")
    print(f"   status {dict(status)}  path {dict(path)}  segments {tot['segments']}")
    print(f"   checks: graph {tot['graph_checks']}, z3 {tot['z3_checks']}, staleness probes {tot['probes']}")
    print(f"   convergence possible {dict(conv)}  read_after_write possible {dict(raw)}  "
          f"contradictions {tot['contradictions']}")
    if stale:
        print(f"   smallest staleness bound per key: median {stale[len(stale) // 2] / MS:.1f} ms, "
              f"max {stale[-1] / MS:.1f} ms")
    print(f"   slowest key {slowest['key']}: {slowest['cpu']:.2f} s cpu, {slowest['n_ops']} ops, "
          f"path {slowest['path']}")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=["many", "hot", "both"], default="both")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--hot-writes", type=int, default=5000)
    ap.add_argument("--hot-reads", type=int, default=20000)
    ap.add_argument("--timeout", type=float, default=60.0, help="per-key solver budget (s)")
    a = ap.parse_args()
    if a.case in ("many", "both"):
        t = time.perf_counter()
        header, per_key = generate(a.keys, a.ops, a.seed)
        print(f"generated {sum(map(len, per_key.values()))} ops in {time.perf_counter() - t:.1f} s")
        run("(a) many keys", header, per_key, a.jobs, a.timeout, 120)
    if a.case in ("hot", "both"):
        t = time.perf_counter()
        header, per_key = generate(1, 0, a.seed + 1, hot_writes=a.hot_writes,
                                   hot_reads=a.hot_reads, think_ms=2.0)
        print(f"generated {sum(map(len, per_key.values()))} ops in {time.perf_counter() - t:.1f} s")
        run("(b) hot key", header, per_key, 1, max(a.timeout, 60.0), 60)


if __name__ == "__main__":
    main()
