"""EDN readers compared: gtcheck's own (kernel/edn.py) and edn-format from PyPI.

    python benchmarks/bench_edn.py                       # a generated 100,000-operation history
    python benchmarks/bench_edn.py --ops 500000 --repeat 3
    python benchmarks/bench_edn.py --file some-jepsen-history.edn

For each reader, in a fresh process per run: CPU time (user + system), wall time and peak
memory (ru_maxrss) of reading the file into Python data, the figure over ``--repeat`` runs
being the median. Then correctness on every file of the shared anchor data
(``../shared/anchor-data``, or ``$GTCHECK_ANCHOR_DATA``): the EDN files whole, and the
value of every op line of the Jepsen logs, read by both readers and compared after
normalising each reader's types (keywords, symbols, vectors, lists, maps, sets, numbers);
and how each treats the hostile inputs of issue 12.

edn-format is only needed for this measurement, not by gtcheck: without it (``pip install
edn-format``) its columns are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def have_edn_format() -> bool:
    try:
        import edn_format  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- input

def generate(path: Path, ops: int, seed: int = 1) -> None:
    """A Knossos/Jepsen-style register history: ``ops`` operations (two events each) of 10
    processes on one register, with ``:time``, ``:index``, timeouts and nemesis events."""
    rng = random.Random(seed)
    lines = []
    idx = 0
    t = 0
    pending: dict[int, tuple[str, object]] = {}
    procs = list(range(10))
    next_proc = 10
    done = 0
    while done < ops:
        t += rng.randrange(1, 200_000)
        p = rng.choice(procs)
        if p in pending:
            f, v = pending.pop(p)
            r = rng.random()
            if r < 0.85:
                ty, val = "ok", (rng.randrange(5) if f == "read" else v)
            elif r < 0.95:
                ty, val = "fail", v
            else:
                ty, val = "info", v
            extra = ", :error :timeout" if ty == "info" else ""
            lines.append(f"{{:type :{ty}, :f :{f}, :value {fmt(val)}, :process {p}, "
                         f":time {t}, :index {idx}{extra}}}")
            if ty == "info":  # Jepsen gives the client a new process
                procs[procs.index(p)] = next_proc
                next_proc += 1
            done += 1
        else:
            f = rng.choice(("read", "read", "write", "cas"))
            v = None if f == "read" else (rng.randrange(5) if f == "write"
                                          else [rng.randrange(5), rng.randrange(5)])
            pending[p] = (f, v)
            lines.append(f"{{:type :invoke, :f :{f}, :value {fmt(v)}, :process {p}, "
                         f":time {t}, :index {idx}}}")
        idx += 1
        if idx % 5000 == 0:
            lines.append(f"{{:type :info, :f :start, :value [:isolated #{{\"n1\" \"n2\"}}], "
                         f":process :nemesis, :time {t}, :index {idx}}}")
            idx += 1
    path.write_text("[" + "\n ".join(lines) + "]\n")


def fmt(v: object) -> str:
    if v is None:
        return "nil"
    if isinstance(v, list):
        return "[" + " ".join(fmt(x) for x in v) + "]"
    return str(v)


# --------------------------------------------------------------------------- timing

def child(reader: str, path: str) -> None:
    """Read ``path`` with ``reader`` once and print the figures as JSON."""
    with open(path, "rb") as fh:
        data = fh.read()
    if reader == "gtcheck":
        from gtcheck.kernel import edn

        parse = edn.loads
    else:
        import edn_format

        def parse(b: bytes):
            return edn_format.loads(b.decode("utf-8"))
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    value = parse(data)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_mb": after.ru_maxrss / 1024,
        "base_mb": before.ru_maxrss / 1024,
        "forms": len(value),
    }))


def measure(reader: str, path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", reader, str(path)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


# --------------------------------------------------------------------------- correctness

def norm_gtcheck(v):
    from gtcheck.kernel import edn

    if isinstance(v, edn.Keyword):
        return ["kw", v.name]
    if isinstance(v, edn.Symbol):
        return ["sym", v.name]
    if isinstance(v, edn.Tagged):
        return ["tag", v.tag, norm_gtcheck(v.value)]
    if isinstance(v, edn.EdnList):
        return ["list", [norm_gtcheck(x) for x in v]]
    if isinstance(v, (list, tuple)):
        return ["vec", [norm_gtcheck(x) for x in v]]
    if isinstance(v, dict):
        return ["map", sorted(([norm_gtcheck(k), norm_gtcheck(x)] for k, x in v.items()), key=repr)]
    if isinstance(v, frozenset):
        return ["set", sorted((norm_gtcheck(x) for x in v), key=repr)]
    return norm_scalar(v)


def norm_edn_format(v):
    import edn_format
    from edn_format.immutable_dict import ImmutableDict
    from edn_format.immutable_list import ImmutableList

    if isinstance(v, edn_format.Keyword):
        return ["kw", v.name]
    if isinstance(v, edn_format.Symbol):
        return ["sym", v.name]
    if isinstance(v, edn_format.Char):
        return ["str", str(v)]
    if isinstance(v, edn_format.TaggedElement):
        return ["tag", type(v).__name__, str(v)]
    if isinstance(v, ImmutableList):
        return ["vec", [norm_edn_format(x) for x in v]]
    if isinstance(v, tuple):
        return ["list", [norm_edn_format(x) for x in v]]
    if isinstance(v, (dict, ImmutableDict)):
        return ["map", sorted(([norm_edn_format(k), norm_edn_format(x)] for k, x in v.items()), key=repr)]
    if isinstance(v, frozenset):
        return ["set", sorted((norm_edn_format(x) for x in v), key=repr)]
    return norm_scalar(v)


def norm_scalar(v):
    if v is None or isinstance(v, bool):
        return ["lit", v]
    if isinstance(v, int):
        return ["num", str(v)]
    if isinstance(v, (float, Decimal, Fraction)):
        return ["num", repr(float(v))]
    if isinstance(v, str):
        return ["str", v]
    return ["other", type(v).__name__, repr(v)]


_LOG_VALUE = re.compile(r"jepsen\.util\s+-\s+(\S+)\s+:(?:invoke|ok|fail|info)\s+:\S+(?:\s+(.*?))?\s*$")


def anchor_dir() -> Path | None:
    for cand in (os.environ.get("GTCHECK_ANCHOR_DATA"), ROOT.parent / "shared" / "anchor-data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def correctness(anchor: Path) -> dict:
    from gtcheck.kernel import edn
    import edn_format

    result = {"files": 0, "identical": 0, "forms": 0, "differ": []}
    for path in sorted(anchor.rglob("*")):
        if path.suffix not in (".edn", ".log"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".edn":
            texts = [text]
        else:  # the value of each op line (not nemesis lines, whose value is free text)
            texts = [m.group(2) for m in map(_LOG_VALUE.search, text.splitlines())
                     if m and m.group(2) and m.group(1) != ":nemesis"]
        same = True
        for t in texts:
            result["forms"] += 1
            try:
                a = norm_gtcheck(edn.loads(t))
            except Exception as exc:  # noqa: BLE001
                a = ["error", type(exc).__name__]
            try:
                b = norm_edn_format(edn_format.loads(t))
            except Exception as exc:  # noqa: BLE001
                b = ["error", type(exc).__name__]
            if a != b:
                same = False
                if len(result["differ"]) < 5:
                    result["differ"].append(f"{path.name}: {t[:60]!r}: {str(a)[:80]} vs {str(b)[:80]}")
        result["files"] += 1
        result["identical"] += same
    return result


HOSTILE = [
    ("ratio 1/0", "1/0"),
    ("bad radix (a bit flip of :read)", "[8read]"),
    ("##NaN", "##NaN"),
    ("##Inf", "##Inf"),
    ("lone surrogate", '"\\ud800"'),
    ("nesting 5,000 deep", "[" * 5000 + "]" * 5000),
    ("big integer", "123456789012345678901234567890N"),
    ("repeated map key", "{:a 1 :a 2}"),
]


def hostile() -> list[tuple[str, str, str]]:
    from gtcheck.kernel import edn

    rows = []
    for name, text in HOSTILE:
        cells = []
        for parse in (edn.loads, *((__import__("edn_format").loads,) if have_edn_format() else ())):
            try:
                cells.append(f"value {parse(text)!r}"[:40])
            except edn.EdnError:
                cells.append("refused (EdnError, line and column)")
            except BaseException as exc:  # noqa: BLE001
                cells.append(f"crash: {type(exc).__name__}")
        rows.append((name, *cells))
    return rows


# --------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=100_000, help="operations in the generated history")
    ap.add_argument("--file", type=Path, help="read this EDN history instead of generating one")
    ap.add_argument("--repeat", type=int, default=3, help="runs per reader (the median is shown)")
    ap.add_argument("--child", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.file:
        path = args.file
    else:
        path = HERE / "out" / f"jepsen-{args.ops}.edn"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            generate(path, args.ops)
    size = path.stat().st_size / 1e6
    print(f"input: {path} ({size:.1f} MB); machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    readers = ["gtcheck"] + (["edn-format"] if have_edn_format() else [])
    if len(readers) == 1:
        print("edn-format is not installed (pip install edn-format): measuring gtcheck's reader only")
    print(f"{'reader':<12} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'(base MB)':>9} {'forms':>8}")
    for reader in readers:
        try:
            r = measure(reader, path, args.repeat)
        except subprocess.CalledProcessError as exc:
            print(f"{reader:<12} failed: {exc.stderr.strip().splitlines()[-1] if exc.stderr else exc}")
            continue
        print(f"{reader:<12} {r['wall_s']:8.2f} {r['cpu_s']:8.2f} {r['peak_mb']:8.0f} {r['base_mb']:9.0f} "
              f"{int(r['forms']):8d}")
    anchor = anchor_dir()
    if anchor is not None and have_edn_format():
        c = correctness(anchor)
        print(f"anchor data ({anchor}): {c['identical']} of {c['files']} files read identically "
              f"by both readers ({c['forms']} forms compared)")
        for d in c["differ"]:
            print("  differs:", d)
    elif anchor is None:
        print("anchor data not found: correctness not compared")
    else:
        print("correctness on the anchor data is compared only when edn-format is installed")
    print("hostile inputs (issue 12):")
    for row in hostile():
        print("  " + " | ".join(row))


if __name__ == "__main__":
    main()
