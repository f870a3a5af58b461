"""Linearizability checker speed: the shared anchor files, the 51 Porcupine etcd logs, and a
generated strong-mode-like history of 100,000 operations over 100 keys.

Run: python benchmarks/bench_linearizability.py [--repeat 3] [--ops 100000] [--keys 100]
         [--jobs 2] [--skip-large] [--per-file]

For every anchor file it measures (best of ``--repeat`` runs, each file in this process):

* ``search``: the Wing-Gong-Lowe search alone (``checker.wgl.check_register`` over the
  file's operations already read), wall and CPU;
* ``check``: the whole ``check_history(path, jobs=1)`` (reading the EDN or log, converting,
  validating, every property), wall and CPU.

It prints the slowest file, the totals for the Knossos files, the etcd logs and all 171, and
compares the etcd search total with Porcupine's (about 0.4 s on this machine class, as the
issue states; the goal is within 3x). Then it writes a generated strong-mode history
(``benchmarks/out/lin-100k-100.jsonl``: sequential register runs per key with random
overlaps, 3 regions, writes and cas with ts as the model records them, 5 % of them with
unknown outcomes, cas failing when their expected value is not there) and checks it with ``--jobs``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from tests.anchors import anchor_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = anchor_dir() or ROOT.parent / "shared" / "anchor-data"
OUT = ROOT / "benchmarks" / "out"
PORCUPINE_ETCD_S = 0.4
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def _best(fn, repeat: int) -> tuple[float, float, object]:
    best_w = best_c = float("inf")
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_w = min(best_w, time.perf_counter() - w)
        best_c = min(best_c, time.process_time() - c)
    return best_w, best_c, out


def anchors(repeat: int, per_file: bool) -> None:
    from gtcheck.checker.check import check_history
    from gtcheck.checker.history import open_history
    from gtcheck.checker.wgl import check_register

    rows = [line.split("\t")[:2] for line in
            (ANCHOR / "VERDICTS.tsv").read_text().splitlines()[1:] if line.strip()]
    results = []
    for rel, expected in rows:
        path = ANCHOR / rel
        with open_history(path) as reader:
            header = reader.header
            ops = list(reader.operations())
        by_key: dict[str, list] = {}
        for op in ops:
            by_key.setdefault(op.key, []).append(op)
        for lst in by_key.values():
            lst.sort(key=lambda o: (o.invoke_time, o.index))

        def search():
            return [check_register(lst, header.initial).valid for lst in by_key.values()]

        sw, sc, verdicts = _best(search, repeat)
        cw, cc, res = _best(lambda: check_history(path, jobs=1), repeat)
        lin = res.summary["linearizability"]  # type: ignore[attr-defined]
        if lin.get("checked") is False:
            # nothing in scope (a file with no operation): not checked, and the file's
            # verdict is the published one only if that does not make it invalid
            ok = expected == "linearizable" and res.exit_code == 0  # type: ignore[attr-defined]
        else:
            ok = lin["valid"] is (expected == "linearizable")
        results.append((rel, len(ops), sw, sc, cw, cc, ok))
        if per_file:
            print(f"  {rel:<58} {len(ops):>5} ops  search {sw * 1000:8.2f} ms wall "
                  f"{sc * 1000:8.2f} ms CPU   check {cw * 1000:8.1f} ms wall "
                  f"{cc * 1000:8.1f} ms CPU  {'ok' if ok else 'WRONG VERDICT'}")
    wrong = [r[0] for r in results if not r[6]]
    print(f"anchor files: {len(results)}, verdicts as published: {len(results) - len(wrong)}"
          + (f" (wrong: {wrong})" if wrong else ""))
    for label, sel in (("knossos", lambda r: r[0].startswith("knossos")),
                       ("etcd", lambda r: r[0].startswith("porcupine")),
                       ("all", lambda r: True)):
        part = [r for r in results if sel(r)]
        print(f"  {label:<8} {len(part):>3} files: search {sum(r[2] for r in part):.3f} s wall "
              f"{sum(r[3] for r in part):.3f} s CPU; check {sum(r[4] for r in part):.3f} s wall "
              f"{sum(r[5] for r in part):.3f} s CPU")
    slow_s = max(results, key=lambda r: r[2])
    slow_c = max(results, key=lambda r: r[4])
    print(f"  slowest search: {slow_s[0]} {slow_s[2] * 1000:.1f} ms wall ({slow_s[1]} ops)")
    print(f"  slowest check:  {slow_c[0]} {slow_c[4] * 1000:.1f} ms wall ({slow_c[1]} ops)")
    etcd = sum(r[2] for r in results if r[0].startswith("porcupine"))
    print(f"  etcd search total {etcd:.3f} s vs Porcupine ~{PORCUPINE_ETCD_S} s: "
          f"{etcd / PORCUPINE_ETCD_S:.2f}x (goal: within 3x)")


def generate(path: Path, n_ops: int, n_keys: int, seed: int = 1) -> None:
    """Per key a sequential register run in linearization order; each operation's interval
    holds its point, and operations of one key overlap a few at a time."""
    rng = random.Random(seed)
    events = []
    counter = 0
    per_key = n_ops // n_keys
    proc = 0
    for k in range(n_keys):
        key = f"k{k:03d}"
        state = None
        for i in range(per_key):
            lp = 1_000_000 * (i + 1) + k
            inv = lp - rng.randint(0, 2_500_000)
            comp = lp + rng.randint(0, 2_500_000)
            region = rng.choice(REGIONS)
            proc += 1
            r = rng.random()
            outcome = "ok"
            if r < 0.5:
                f, val = "read", None
            elif r < 0.8:
                counter += 1
                f, val = "write", {"v": rng.randint(0, 9)}
            else:
                exp = state if rng.random() < 0.7 else {"v": rng.randint(0, 9)}
                f, val = "cas", [exp, {"v": rng.randint(0, 9)}]
            u = rng.random()
            if f != "read" and u < 0.05:
                outcome = "info"
            if f == "cas" and val[0] != state:
                outcome = "fail" if outcome == "ok" else outcome
            took = outcome == "ok" or (outcome == "info" and rng.random() < 0.5
                                       and (f != "cas" or val[0] == state))
            inv_ev = {"type": "invoke", "process": proc, "region": region, "f": f, "key": key,
                      "value": val, "time": inv}
            if f == "read":
                inv_ev["consistent"] = True
                done = {"type": "ok", "process": proc, "value": state, "time": comp}
            elif outcome == "info":
                done = None if rng.random() < 0.5 else {"type": "info", "process": proc,
                                                        "time": comp}
            else:
                done = {"type": outcome, "process": proc, "time": comp}
                if f == "cas":
                    done["value"] = val
                if outcome == "ok":   # the replication stamp, as the model records it
                    done["ts"] = lp
                    done["origin"] = region
            if took and f == "write":
                state = val
            elif took and f == "cas":
                state = val[1]
            events.append((inv, 0, inv_ev))
            if done is not None:
                events.append((comp, 1, done))
    events.sort(key=lambda e: (e[0], e[1]))
    t0 = events[0][0]
    header = {"format": "gt-history", "version": 1, "regions": REGIONS, "mode": "strong",
              "description": "bench_linearizability: generated strong-mode register runs"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(orjson.dumps(header) + b"\n")
        for i, (_, _, ev) in enumerate(events):
            ev = {"index": i, **ev, "time": ev["time"] - t0}
            f.write(orjson.dumps(ev) + b"\n")


def large(n_ops: int, n_keys: int, jobs: int) -> None:
    from gtcheck.checker.check import check_history

    path = OUT / f"lin-{n_ops // 1000}k-{n_keys}.jsonl"
    if not path.exists():
        generate(path, n_ops, n_keys)
    for j in sorted({1, jobs}):
        w, c = time.perf_counter(), time.process_time()
        res = check_history(path, jobs=j, timeout_s=60)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        s = res.summary
        lin = s["linearizability"]
        print(f"generated {s['history']['counts']['operations']:,} ops over "
              f"{lin['figures']['keys_checked']} keys, --jobs {j}: {wall:.2f} s wall "
              f"({cpu:.2f} s CPU in this process); linearizability search "
              f"{s['timing'].get('linearizability_s', 0):.2f} s CPU summed over workers; "
              f"parse {s['timing']['parse_s']:.2f} s, order {s['timing']['order_s']:.2f} s, "
              f"solve {s['timing']['solve_s']:.2f} s, judge {s['timing']['judge_s']:.2f} s; "
              f"verdict {s['valid']}, linearizability {lin['valid']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--skip-anchors", action="store_true")
    ap.add_argument("--per-file", action="store_true")
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    if not args.skip_anchors:
        anchors(args.repeat, args.per_file)
    if not args.skip_large:
        large(args.ops, args.keys, args.jobs)


if __name__ == "__main__":
    main()
