"""Checker throughput: a 1,000,000-operation history over 10,000 keys, with ts.

Run: python benchmarks/bench_check.py [--ops 1000000] [--keys 10000] [--jobs 2]
         [--history FILE] [--regenerate]
     python benchmarks/bench_check.py --crossover [--repeat 3]

``--crossover`` instead checks histories of 2,000 to 200,000 operations (the same generator,
one key per 100 operations) with ``--jobs 1`` and ``--jobs 2``, alternating, best of
``--repeat``, and prints wall and CPU (this process and its workers) against the file's
size: where two worker processes start to pay for themselves (``gtcheck check``'s default
``--jobs`` is 1 below ``checker.check.ONE_PROCESS_BYTES``).

Without ``--history`` it checks ``benchmarks/out/check-1m.jsonl``, writing it first when
absent with a small self-contained last-writer-wins generator (three regions, skewed
clocks, replication delays, 1 % unknown outcomes, 0.5 % failures, final reads). Prints
operations per second, the time split (parse / order / solve / judge; the last three are
CPU seconds summed over the workers) and peak RSS of this process and of its children.
The target is 30 s and 2 GB with ``--jobs 2``.
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
MS = 1_000_000


def generate(path: Path, n_ops: int, n_keys: int, seed: int = 1, update_share: float = 0.0,
             expressions: bool = False) -> None:
    """A valid eventual-mode history with ts; reads see what LWW replicas hold.

    ``update_share`` of the writes become updates (a third of them conditional on the item
    existing), applied at their origin to the version it holds: ``SET v = :v ADD bal :d``
    with ``attribute_exists(id) AND v <> :never`` written as DynamoDB expressions (rule 11)
    when ``expressions``, else the same change as set/add with the short-form condition
    ``{"id": key}``. Both give the same items, so the two histories differ only in how the
    changes are written (``benchmarks/bench_expressions.py`` checks them side by side)."""
    rng = random.Random(seed)
    urng = random.Random(seed + 1)   # updates draw from their own stream: default unchanged
    n_proc = 600
    per_region = n_proc // len(REGIONS)
    skew = {r: rng.randint(-20, 20) * MS for r in REGIONS}
    keys = [f"user#{i}" for i in range(n_keys)]
    final_ops = n_keys * len(REGIONS)
    body_ops = max(0, n_ops - final_ops)
    # each process: sequential ops; op i of process p
    ops = []          # (t0, ta, t1, pid, region, f, key, outcome, consistent)
    clocks = [rng.randint(0, 5) * MS + p for p in range(n_proc)]
    for i in range(body_ops):
        p = i % n_proc
        region = REGIONS[p // per_region]
        t0 = clocks[p] + rng.randint(0, 4) * MS
        ta = t0 + rng.randint(1, 8) * MS
        t1 = ta + rng.randint(1, 8) * MS
        clocks[p] = t1 + 1000
        x = rng.random()
        if x < 0.30:
            f = "write"
        elif x < 0.32:
            f = "delete"
        else:
            f = "read"
        y = rng.random()
        outcome = "ok" if f == "read" or y > 0.015 else ("info" if y > 0.005 else "fail")
        ops.append([t0 + i % 997, ta + i % 997, t1 + i % 997, p, region, f,
                    keys[rng.randrange(n_keys)], outcome, f == "read" and rng.random() < 0.3])
    end = max(clocks) + 6000 * MS      # after every replication delay (at most 4 s)
    settled = end - 500 * MS
    for j in range(final_ops):
        region = REGIONS[j % len(REGIONS)]
        p = (j % len(REGIONS)) * per_region + (j // len(REGIONS)) % per_region
        t0 = end + j * 1000
        ops.append([t0, t0 + 200, t0 + 400, p, region, "read", keys[j // len(REGIONS)], "ok",
                    False])
    # event-driven LWW: apply writes at ta, deliver to other regions after a delay
    heap = []
    for n, op in enumerate(ops):
        heapq.heappush(heap, (op[1], 1, n, None))
    state: dict[tuple[str, str], tuple] = {}   # (key, region) -> (ts, origin, value)
    counter = 0
    values: list = [None] * len(ops)
    updates: dict[int, tuple[int, bool]] = {}       # op -> (amount, conditional)
    ts_of: list = [None] * len(ops)
    while heap:
        t, kind, n, payload = heapq.heappop(heap)
        op = ops[n]
        key, region = op[6], op[4]
        if kind == 0:                        # replication arrival: payload = (region, version)
            r2, ver = payload
            cur = state.get((key, r2))
            if cur is None or ver[:2] > cur[:2]:
                state[(key, r2)] = ver
            continue
        f = op[5]
        if f == "read":
            cur = state.get((key, region))
            values[n] = cur[2] if cur is not None else None
            continue
        counter += 1
        value = {"id": key, "v": counter} if f == "write" else None
        change = None
        if f == "write" and update_share and urng.random() < update_share:
            change = _update_change(key, counter, urng)
            cur = state.get((key, region))
            base = cur[2] if cur is not None else None
            if change[1] and base is None:          # conditional on the item existing
                op[7] = "fail"
            value = dict(base) if base is not None else {"id": key}
            value["v"] = counter
            value["bal"] = value.get("bal", 0) + change[0]
            updates[n] = change
        values[n] = value
        applied = op[7] == "ok" or (op[7] == "info" and rng.random() < 0.5)
        if not applied:
            continue
        ts = t + skew[region]
        ver = (ts, region, value)
        ts_of[n] = ts
        cur = state.get((key, region))
        if cur is None or ver[:2] > cur[:2]:
            state[(key, region)] = ver
        for r2 in REGIONS:
            if r2 != region:
                delay = rng.randint(50, 900) * MS if rng.random() < 0.98 else rng.randint(1, 4) * 1000 * MS
                heapq.heappush(heap, (t + delay, 0, n, (r2, ver)))
    events = []
    for n, op in enumerate(ops):
        t0, ta, t1, p, region, f, key, outcome, consistent = op
        inv = {"type": "invoke", "process": p, "region": region, "f": f, "key": key,
               "value": values[n] if f == "write" else None, "time": t0}
        if n in updates:
            _as_update(inv, key, values[n]["v"], updates[n], expressions)
        if f == "read":
            inv["consistent"] = consistent
        done = {"type": outcome, "process": p, "time": t1,
                "value": values[n] if f != "delete" else None}
        if n in updates and outcome != "ok":
            done.pop("value")
        if outcome == "ok" and f != "read":
            done["ts"] = ts_of[n]
            done["origin"] = region
        events.append((t0, 0, n, inv))
        events.append((t1, 1, n, done))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    header = {"format": "gt-history", "version": 1, "regions": REGIONS, "mode": "eventual",
              "clock_uncertainty_ns": 0, "settled_after_ns": settled, "source": "bench_check",
              "seed": seed}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(orjson.dumps(header) + b"\n")
        buf = []
        for idx, (_, _, _, ev) in enumerate(events):
            ev["index"] = idx
            buf.append(orjson.dumps(ev))
            if len(buf) >= 10000:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")
    tmp.replace(path)


def replicate(src: Path, dst: Path, copies: int) -> int:
    """``src`` (a history of :func:`generate`) as ``copies`` copies one after another: in
    copy ``k`` every key gets the suffix ``/k``, every process and index is moved past the
    earlier copies' and every time by ``k`` spans of the history plus 10 s. Each copy is
    ``src`` on keys of its own, later, so the result is valid when ``src`` is, and its
    reads see the same versions: a history ``copies`` times larger in a minute of CPU
    (``generate`` needs about an hour and 6 GB for 10M operations). Streaming; returns
    the number of events written."""
    with open(src, "rb") as f:
        header = orjson.loads(f.readline())
        n_ev, last_t, top = 0, 0, 0
        for raw in f:
            ev = orjson.loads(raw)
            n_ev, last_t = n_ev + 1, ev["time"]
            if type(ev["process"]) is int:
                top = max(top, ev["process"] + 1)
    span = last_t + 10_000_000_000
    header["settled_after_ns"] += (copies - 1) * span
    header["source"] = f"{header.get('source', src.name)} x{copies} copies"
    with open(dst, "wb") as out:
        out.write(orjson.dumps(header) + b"\n")
        for k in range(copies):
            with open(src, "rb") as f:
                f.readline()
                for raw in f:
                    ev = orjson.loads(raw)
                    ev["time"] += k * span
                    ev["index"] += k * n_ev
                    if type(ev["process"]) is int:
                        ev["process"] += k * top
                    if "key" in ev:
                        ev["key"] = f"{ev['key']}/{k}"
                    out.write(orjson.dumps(ev) + b"\n")
    return n_ev * copies


def _update_change(key: str, counter: int, rng: random.Random) -> tuple[int, bool]:
    return rng.randint(1, 9), rng.random() < 1 / 3


def _as_update(inv: dict, key: str, v: int, change: tuple[int, bool], expressions: bool
               ) -> None:
    """Turn a write's invocation into the update ``change`` (see :func:`generate`)."""
    amount, conditional = change
    inv["f"] = "update"
    if expressions:
        inv["value"] = {"expression": "SET v = :v ADD bal :d",
                        "values": {":v": v, ":d": amount}}
        inv["key_attributes"] = {"id": key}
        if conditional:
            inv["condition"] = {"expression": "attribute_exists(id) AND v <> :never",
                                "values": {":never": -1}}
    else:
        inv["value"] = {"set": {"id": key, "v": v}, "add": {"bal": amount}}
        if conditional:
            inv["condition"] = {"id": key}


def _timed_check(path: Path, jobs: int) -> tuple[float, float]:
    from gtcheck.checker.check import check_history

    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = time.perf_counter()
    check_history(path, jobs=jobs)
    wall = time.perf_counter() - w
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
           + c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
    return wall, cpu


def crossover(repeat: int) -> None:
    from gtcheck.checker.check import ONE_PROCESS_BYTES

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}; default --jobs 1 "
          f"below {ONE_PROCESS_BYTES / 1e6:.0f} MB")
    print(f"{'operations':>10} {'MB':>6}  {'jobs 1 wall':>11} {'CPU':>6}  {'jobs 2 wall':>11} "
          f"{'CPU':>6}  2 vs 1 (wall)")
    for n in (2_000, 10_000, 30_000, 60_000, 100_000, 200_000):
        path = Path(f"benchmarks/out/crossover-{n}.jsonl")
        if not path.exists():
            generate(path, n, max(10, n // 100))
        best = {1: (float("inf"), 0.0), 2: (float("inf"), 0.0)}
        for _ in range(repeat):
            for jobs in (1, 2):
                w, c = _timed_check(path, jobs)
                if w < best[jobs][0]:
                    best[jobs] = (w, c)
        (w1, c1), (w2, c2) = best[1], best[2]
        print(f"{n:>10,} {path.stat().st_size / 1e6:>6.1f}  {w1:>9.2f} s {c1:>5.2f}s  "
              f"{w2:>9.2f} s {c2:>5.2f}s  {w2 / w1:.2f}x")
    print(f"load at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--crossover", action="store_true",
                    help="--jobs 1 against --jobs 2 on histories of growing size")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--history", default=None, help="check this file instead")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--bound", default=None, help="a staleness bound, e.g. 750ms")
    args = ap.parse_args()
    if args.crossover:
        crossover(args.repeat)
        return
    path = Path(args.history) if args.history else Path(
        f"benchmarks/out/check-{args.ops // 1000}k-{args.keys}.jsonl")
    if not args.history and (args.regenerate or not path.exists()):
        t = time.perf_counter()
        generate(path, args.ops, args.keys)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")

    from gtcheck.checker.check import check_history
    from gtcheck.commands.check import parse_duration

    bound = parse_duration(args.bound) if args.bound else None
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = check_history(path, jobs=args.jobs, staleness_bound_ns=bound)
    elapsed = time.perf_counter() - start
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    ruc = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    child_cpu = ruc.ru_utime + ruc.ru_stime
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    s = result.summary
    tm = s["timing"]
    n = s["history"]["counts"]["operations"]
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"history: {path} ({n:,} operations, {s['history']['counts'].get('keys', '?'):,} keys)")
    print(f"verdict: {s['valid']}  " + ", ".join(
        f"{p}={s[p]['valid']}" for p in ("integrity", "convergence", "read_after_write",
                                         "staleness")))
    print(f"smallest staleness bound: {s['staleness']['smallest_bound_ns'] / 1e6:.1f} ms")
    print(f"wall: {elapsed:.1f} s -> {n / elapsed:,.0f} operations/s with --jobs {args.jobs}")
    print(f"split: parse {tm['parse_s']:.1f} s wall ({tm['parse_cpu_s']:.1f} s CPU, slowest "
          f"worker; every worker reads the whole file) | check {tm['check_s']:.1f} s wall "
          f"= order {tm['order_s']:.1f} + solve {tm['solve_s']:.1f} + judge "
          f"{tm['judge_s']:.1f} CPU s summed over workers; slowest worker's check "
          f"{tm['check_cpu_s']:.1f} s CPU; merge and summary {tm['merge_s']:.1f} s")
    print(f"peak RSS: self {self_mb:.0f} MB, largest child {child_mb:.0f} MB")
    print(f"CPU: parent {self_cpu:.1f} s, workers {child_cpu:.1f} s; load average at the end "
          f"{load:.1f} on {os.cpu_count()} cores (other processes slow the wall time down)")


if __name__ == "__main__":
    main()
