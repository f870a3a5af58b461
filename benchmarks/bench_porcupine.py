"""gtcheck beside Porcupine, on Porcupine's own test logs, in one run.

Run: python benchmarks/bench_porcupine.py PORCUPINE_CHECKOUT [--repeat 3] [--key-timeout 60]
         [--skip-etcd] [--skip-kv] [--skip-cli] [--kv c50-ok,c50-bad] [--go go]

PORCUPINE_CHECKOUT is a checkout of https://github.com/anishathalye/porcupine (a folder
holding its go.mod, *.go and test_data/). It is copied to a scratch folder, never changed,
and nothing of it is kept in this repository. Porcupine's own tests are built there with
Go (``go test -c``; Debian's ``golang-go`` works: ``apt-get install -y golang-go``) with one
file of ours added beside them, which asks Porcupine about one kv log key by key (its
tests ask about the whole log, and stop at the first key that is not linearizable).

It prints, CPU and wall apart (CPU of a child process from its rusage):

* **etcd** (the Jepsen etcd logs Porcupine tests, ``test_data/jepsen/etcd_*.log``, the empty
  ``etcd_095.log`` skipped as Porcupine does): verdicts against Porcupine's expected ones
  (from its test file); Porcupine's ``TestEtcdJepsen*`` run; gtcheck's whole
  ``check_history`` of every log in this process; ``gtcheck check`` through the command
  line on all the logs at once (one process, one line per log); and per file, one process
  each, ``gtcheck check LOG`` beside ``porcupine.test -test.run '^TestEtcdJepsenNNN$'``
  (and, to show where one file's time goes, the same number of processes of: the bare
  interpreter ``python -c pass``, the floor of any Python command, and ``python -S -c
  pass``, without site-packages' start-up files; ``import gtcheck.cli``, the command line's
  own imports (click); and importing every module that ``gtcheck check LOG`` imports, the
  check then being the rest). The
  command-line runs keep their bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped for them),
  as an installed gtcheck does.
* **kv** (``test_data/kv/*.txt``, read by gtcheck's Porcupine kv import: a get is a read, a
  put a write, an append an update whose completion is ``info``, its post-image being
  unknown): Porcupine's ``TestKv*`` run beside gtcheck's whole check; then every key alone,
  Porcupine with ``--key-timeout`` beside gtcheck with the same ``--timeout``, and which
  keys each decided.

Best of ``--repeat`` for the whole-run timings (one run for the per-key and per-file ones).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PERKEY_GO = '''package porcupine

// Written by gtcheck's benchmarks/bench_porcupine.py into a scratch copy: Porcupine's kv
// model asked about one key at a time, with a timeout.

import (
\t"fmt"
\t"os"
\t"strconv"
\t"testing"
\t"time"
)

func TestZZGtcheckPerKey(t *testing.T) {
\tname := os.Getenv("GTCHECK_KV_LOG")
\tif name == "" {
\t\tt.Skip("GTCHECK_KV_LOG not set")
\t}
\tsecs, _ := strconv.ParseFloat(os.Getenv("GTCHECK_KEY_TIMEOUT"), 64)
\tevents := parseKvLog(name)
\tfor _, part := range kvModel.PartitionEvent(events) {
\t\tkey := ""
\t\tfor _, e := range part {
\t\t\tif e.Kind == CallEvent {
\t\t\t\tkey = e.Value.(kvInput).key
\t\t\t\tbreak
\t\t\t}
\t\t}
\t\tstart := time.Now()
\t\tres := CheckEventsTimeout(kvModel, part, time.Duration(secs*float64(time.Second)))
\t\tfmt.Printf("GTCHECK-KEY %s %v %.6f\\n", key, res, time.Since(start).Seconds())
\t}
}
'''


def _load() -> float:
    return os.getloadavg()[0]


class Child:
    """Run a command; wall and CPU (user + system of the child, from rusage)."""

    @staticmethod
    def run(cmd: list[str], **kw) -> tuple[float, float, subprocess.CompletedProcess]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
        wall = time.perf_counter() - w
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, proc


def best(fn, repeat: int) -> tuple[float, float, object]:
    bw = bc = float("inf")
    out = None
    for _ in range(repeat):
        w, c, out = fn()
        bw, bc = min(bw, w), min(bc, c)
    return bw, bc, out


def in_process(fn):
    def timed():
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        return time.perf_counter() - w, time.process_time() - c, out
    return timed


# --------------------------------------------------------------------------- build
def build(checkout: Path, scratch: Path, go: str) -> tuple[Path, str]:
    if not (checkout / "go.mod").exists() or not (checkout / "test_data").is_dir():
        sys.exit(f"{checkout} is not a checkout of Porcupine (no go.mod and test_data/); "
                 "clone https://github.com/anishathalye/porcupine")
    if shutil.which(go) is None:
        sys.exit(f"no {go!r} on PATH: install Go (Debian: apt-get install -y golang-go)")
    src = scratch / "porcupine"
    shutil.copytree(checkout, src, ignore=shutil.ignore_patterns(".git"))
    (src / "zz_gtcheck_perkey_test.go").write_text(PERKEY_GO)
    env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local", GOPROXY="off",
               GOCACHE=str(scratch / "gocache"), GOPATH=str(scratch / "gopath"))
    version = subprocess.run([go, "version"], capture_output=True, text=True).stdout.strip()
    binary = scratch / "porcupine.test"
    proc = subprocess.run([go, "test", "-c", "-o", str(binary), "."], cwd=src, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"building Porcupine's tests with {version} failed:\n{proc.stderr}")
    return binary, version


# --------------------------------------------------------------------------- etcd
def etcd(binary: Path, data: Path, test_go: str, repeat: int, cli: bool) -> None:
    from gtcheck.checker.check import check_history

    expected = {int(n): v == "true" for n, v in
                re.findall(r"checkJepsen\(t, (\d+), (true|false)\)", test_go)}
    logs = [(n, data / "jepsen" / f"etcd_{n:03d}.log") for n in sorted(expected)]
    logs = [(n, p) for n, p in logs if p.stat().st_size > 0]
    print(f"\netcd: {len(logs)} logs (Porcupine's TestEtcdJepsen*, the empty ones skipped as it does)")
    pw, pc, proc = best(lambda: Child.run([str(binary), "-test.run", "^TestEtcdJepsen",
                                           "-test.count=1"], cwd=binary.parent / "porcupine"),
                        repeat)
    ok = proc.returncode == 0  # type: ignore[union-attr]
    print(f"  Porcupine TestEtcdJepsen*        {pw:7.3f} s wall {pc:7.3f} s CPU  "
          f"({'all pass' if ok else 'FAILED'})")

    def gt_all():
        return [check_history(p, jobs=1).summary["valid"] for _, p in logs]

    gw, gc, verdicts = best(in_process(gt_all), repeat)
    agree = sum(1 for (n, _), v in zip(logs, verdicts) if v is expected[n])  # type: ignore[arg-type]
    print(f"  gtcheck check_history, in process {gw:7.3f} s wall {gc:7.3f} s CPU  "
          f"({agree} of {len(logs)} verdicts as Porcupine's)  "
          f"{gc / pc:.2f}x Porcupine's CPU, {gw / pw:.2f}x its wall")
    if not cli:
        return
    gtcheck = [sys.executable, "-m", "gtcheck"]
    # an installed gtcheck has its bytecode compiled (pip does it); this checkout may not,
    # and PYTHONDONTWRITEBYTECODE would make every process compile every module again
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    Child.run(gtcheck + ["check", str(logs[0][1]), "--no-progress"], env=env)   # writes it
    paths = [str(p) for _, p in logs]
    cw, cc, cproc = best(lambda: Child.run(gtcheck + ["check", *paths, "--no-progress"],
                                           env=env), repeat)
    print(f"  gtcheck check LOG... (one process) {cw:7.3f} s wall {cc:7.3f} s CPU  "
          f"(exit {cproc.returncode}; {cc / pc:.2f}x Porcupine's CPU, "  # type: ignore[union-attr]
          f"{cw / pw:.2f}x its wall)")
    phases = {"python -c pass": [sys.executable, "-c", "pass"],
              "python -S -c pass": [sys.executable, "-S", "-c", "pass"],
              "import gtcheck.cli": [sys.executable, "-c", "import gtcheck.cli"],
              "import what check imports": [sys.executable, "-c",
                                            "import " + ", ".join(_imports(gtcheck, logs[0][1], env))]}
    cpu = {name: 0.0 for name in phases}
    pf_w = pf_c = gf_w = gf_c = 0.0
    for n, p in logs:
        w, c, _ = Child.run([str(binary), "-test.run", f"^TestEtcdJepsen{n:03d}$", "-test.count=1"],
                            cwd=binary.parent / "porcupine")
        pf_w, pf_c = pf_w + w, pf_c + c
        w, c, _ = Child.run(gtcheck + ["check", str(p), "--no-progress"], env=env)
        gf_w, gf_c = gf_w + w, gf_c + c
        for name, cmd in phases.items():
            cpu[name] += Child.run(cmd, env=env)[1]
    k = len(logs)
    print(f"  per file, one process each ({k} processes): Porcupine {pf_w:7.3f} s wall "
          f"{pf_c:7.3f} s CPU; gtcheck check LOG {gf_w:7.3f} s wall {gf_c:7.3f} s CPU "
          f"({gf_c / max(pf_c, 1e-9):.1f}x CPU, {gf_w / pf_w:.1f}x wall; "
          f"{1000 * gf_c / k:.1f} ms CPU per file against Porcupine's {1000 * pf_c / k:.1f} ms)")
    print("  where one file's CPU goes (mean per process): " + "; ".join(
        f"{name} {1000 * c / k:.1f} ms" for name, c in cpu.items()) +
        f"; the whole check {1000 * gf_c / k:.1f} ms")


def _imports(gtcheck: list[str], log: Path, env: dict) -> list[str]:
    """The modules of gtcheck (and click) that ``gtcheck check LOG`` imports, in order."""
    err = subprocess.run([gtcheck[0], "-X", "importtime", *gtcheck[1:], "check", str(log),
                          "--no-progress"], env=env, capture_output=True, text=True).stderr
    names = [line.split("|")[2].strip() for line in err.splitlines()
             if line.startswith("import time:") and "self [us]" not in line]
    return [m for m in names if m.split(".")[0] in ("gtcheck", "click")]


# --------------------------------------------------------------------------- kv
KV_TESTS = {"c01-ok": "Kv1ClientOk", "c01-bad": "Kv1ClientBad", "c10-ok": "Kv10ClientsOk",
            "c10-bad": "Kv10ClientsBad", "c50-ok": "Kv50ClientsOk", "c50-bad": "Kv50ClientsBad"}


def kv(binary: Path, data: Path, names: list[str], repeat: int, key_timeout: float) -> None:
    from gtcheck.checker.check import check_history

    print(f"\nkv: Porcupine's kv logs, appends as info list updates (gtcheck --timeout "
          f"{key_timeout:g} s per key; Porcupine per key with the same timeout)")
    for name in names:
        path = data / "kv" / f"{name}.txt"
        want = name.endswith("-ok")
        pw, pc, proc = best(lambda: Child.run(
            [str(binary), "-test.run", f"^Test{KV_TESTS[name]}$", "-test.count=1"],
            cwd=binary.parent / "porcupine"), repeat)
        gw, gc, res = best(in_process(lambda: check_history(path, jobs=1, timeout_s=key_timeout)),
                           repeat)
        s = res.summary  # type: ignore[attr-defined]
        lin = s["linearizability"]
        bad = {a["key"] for a in lin["anomalies"]}
        unknown = {u["key"] for u in s["unknown_keys"] if "linearizability" in u["properties"]}
        print(f"  {name:<8} Porcupine {pw:7.3f} s wall {pc:7.3f} s CPU "
              f"({'pass' if proc.returncode == 0 else 'FAIL'}; expects "  # type: ignore[union-attr]
              f"{'linearizable' if want else 'not linearizable'})  gtcheck {gw:7.3f} s wall "
              f"{gc:7.3f} s CPU: {lin['valid']} ({lin['figures'].get('keys_checked', 0)} keys, "
              f"{len(bad)} not linearizable, {len(unknown)} unknown)  "
              f"{gc / max(pc, 1e-9):.1f}x Porcupine's CPU, {gw / pw:.1f}x its wall")
        per_key(binary, path, name, key_timeout)


def per_key(binary: Path, path: Path, name: str, key_timeout: float) -> None:
    env = dict(os.environ, GTCHECK_KV_LOG=str(path), GTCHECK_KEY_TIMEOUT=str(key_timeout))
    w, c, proc = Child.run([str(binary), "-test.run", "^TestZZGtcheckPerKey$", "-test.v",
                            "-test.count=1", "-test.timeout=0"], cwd=binary.parent / "porcupine",
                           env=env)
    porc = {}
    for line in proc.stdout.splitlines():
        if line.startswith("GTCHECK-KEY "):
            _, key, res, secs = line.split()
            porc[key] = (res, float(secs))
    from gtcheck.checker.history import open_history
    from gtcheck.checker.wgl import check_register

    with open_history(path) as reader:
        header, ops = reader.header, list(reader.operations())
    by_key: dict[str, list] = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    word = {"Ok": "linearizable", "Illegal": "not-linearizable", "Unknown": "unknown",
            True: "linearizable", False: "not-linearizable", "unknown": "unknown"}
    missed = []
    differ = []
    undecided = 0
    print(f"    per key ({name}): key  Porcupine (wall)            gtcheck search alone (CPU)")
    for key in sorted(porc, key=lambda k: (len(k), k)):
        res, secs = porc[key]
        lst = sorted(by_key.get(key, []), key=lambda o: (o.invoke_time, o.index))
        c = time.process_time()
        g = check_register(lst, header.initial, timeout_s=key_timeout).valid
        gsecs = time.process_time() - c
        if g == "unknown":
            undecided += 1
            if res != "Unknown":
                missed.append(key)
        elif res != "Unknown" and word[g] != word[res]:
            differ.append(f"{key} (Porcupine {word[res]}, gtcheck {word[g]})")
        print(f"      {key:>4}  {word.get(res, res):<17} {secs:8.3f} s   {word[g]:<17} "
              f"{gsecs:8.3f} s")
    decided_p = sum(1 for r, _ in porc.values() if r != "Unknown")
    decided_g = len(porc) - undecided
    print(f"    Porcupine decided {decided_p} of {len(porc)} keys ({w:.1f} s wall for all); gtcheck "
          f"decided {decided_g}; keys Porcupine decided that gtcheck did not: "
          f"{', '.join(missed) if missed else 'none'}; verdicts that differ: "
          f"{', '.join(differ) if differ else 'none'}")
    if differ:
        print("      (an append's completion is info in gtcheck's import, its post-image being "
              "unknown: a weaker claim than Porcupine's, which knows it completed; see "
              "docs/history-format.md)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("porcupine", type=Path, help="a checkout of Porcupine's repository")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--key-timeout", type=float, default=60.0)
    ap.add_argument("--kv", default="c01-ok,c01-bad,c10-ok,c10-bad,c50-ok,c50-bad")
    ap.add_argument("--skip-etcd", action="store_true")
    ap.add_argument("--skip-kv", action="store_true")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--go", default="go")
    args = ap.parse_args()
    checkout = args.porcupine.resolve()
    import gtcheck.model as model

    print(f"{time.strftime('%Y-%m-%d %H:%M')} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, gtcheck model {model.implementation()}, "
          f"load {_load():.1f}")
    with tempfile.TemporaryDirectory(prefix="gtcheck-porcupine-") as tmp:
        binary, version = build(checkout, Path(tmp), args.go)
        print(f"Porcupine built with {version} from {checkout}")
        data = binary.parent / "porcupine" / "test_data"
        test_go = (binary.parent / "porcupine" / "porcupine_test.go").read_text()
        if not args.skip_etcd:
            etcd(binary, data, test_go, args.repeat, not args.skip_cli)
        if not args.skip_kv:
            kv(binary, data, [n for n in args.kv.split(",") if n], args.repeat, args.key_timeout)
    print(f"load at the end {_load():.1f}")


if __name__ == "__main__":
    main()
