"""Run the fuzzer outside pytest: ``python -m tests.fuzz --n 2000 [--seed S] [--kinds history,edn]
[--out summary.json] [--found DIR]``. Same strategies and judgements as tests/cli/test_fuzz.py.

A run always ends with its summary: after the last input, or when it is stopped (an
exception, Ctrl-C, SIGTERM, SIGHUP, running out of its memory limit) with a line saying why
and naming the input it was on. The process's address space is limited
(``GTCHECK_FUZZ_MAIN_MEM_MB``, default 6,000), so an input that grows without bound is a
MemoryError it reports rather than the kernel's silent OOM kill (what ended a run after
18,700 inputs in 2026-12: the path files' "huge" mutation applied twice). Progress goes to
stderr every 500 inputs."""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import time

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzz.runner import FuzzRunner
from tests.fuzz.strategies import (edn_inputs, edn_twin_inputs, history_inputs, metamorphic_inputs,
                                   scenario_inputs)
from tests.fuzz.surfaces import SHARES, model_inputs, output_inputs, path_inputs

MAIN_MEM_MB = int(os.environ.get("GTCHECK_FUZZ_MAIN_MEM_MB", "6000"))
PROGRESS_EVERY = 500


class Stopped(BaseException):
    """A signal asked the run to stop."""


def _stop(signum, frame) -> None:
    raise Stopped(signal.Signals(signum).name)


def _describe(inp) -> str:
    if inp is None:
        return "none yet"
    return (f"{inp.kind} input from seed {inp.seed}, {len(inp.data):,} bytes, mutations "
            f"{'; '.join(inp.mutations)[:300] or 'none'}, commands {inp.commands}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--kinds", default=",".join(SHARES))
    ap.add_argument("--out", default=None)
    ap.add_argument("--found", default=None)
    ap.add_argument("--no-minimize", action="store_true")
    args = ap.parse_args(argv)
    seed_value = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    kinds = args.kinds.split(",")
    total_share = sum(SHARES[k] for k in kinds)
    print(f"fuzz seed {seed_value} (pid {os.getpid()})", flush=True)
    lim = MAIN_MEM_MB << 20
    resource.setrlimit(resource.RLIMIT_AS, (lim, resource.getrlimit(resource.RLIMIT_AS)[1]))
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    runner = FuzzRunner()
    state = {"kind": None, "done": 0, "current": None, "running": False}
    started = time.time()
    stopped = None
    try:
        for i, kind in enumerate(kinds):
            n = max(1, round(args.n * SHARES[kind] / total_share))
            strategy = {"history": history_inputs(), "metamorphic": metamorphic_inputs(),
                        "scenario": scenario_inputs(dev_zero=True), "edn-twin": edn_twin_inputs(),
                        "edn": edn_inputs(), "model": model_inputs(), "path": path_inputs(),
                        "output": output_inputs()}[kind]
            state["kind"] = kind

            @settings(max_examples=n, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            @given(strategy)
            def explore(inp):
                state["current"], state["running"] = inp, True
                runner.run(inp)
                state["running"] = False
                state["done"] += 1
                if state["done"] % PROGRESS_EVERY == 0:
                    print(f"fuzz: {state['done']:,} inputs ({kind}), {time.time() - started:.0f} s, "
                          f"{len(runner.classes)} failure classes", file=sys.stderr, flush=True)

            seed(seed_value + i)(explore)()
            print(f"{kind}: done {n}", flush=True)
            if args.out:          # after each kind: a run stopped later keeps what it did
                with open(args.out, "w") as fh:
                    json.dump(runner.summary(), fh, indent=1, ensure_ascii=False)
    except (Exception, Stopped, KeyboardInterrupt) as exc:  # noqa: BLE001 - any end is reported
        where = ("running" if state["running"] else "generating the input after") + " " + _describe(state["current"])
        stopped = f"{type(exc).__name__}: {str(exc)[:300]}"
        print(f"fuzz STOPPED after {state['done']:,} inputs, in the {state['kind']} phase, by {stopped}, "
              f"while {where}", flush=True)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):     # the summary comes, whatever follows
            signal.signal(sig, signal.SIG_IGN)
        runner._kill()            # it may be mid-input: its answer would be taken for the figures asked next
    try:
        print(runner.format_summary(), flush=True)
        if args.out:
            summary = runner.summary()
            if stopped:
                summary["stopped"] = stopped
            with open(args.out, "w") as fh:
                json.dump(summary, fh, indent=1, ensure_ascii=False)
        if args.found and runner.classes and not stopped:
            runner.save_examples(args.found, minimize=not args.no_minimize)
    finally:
        runner.close()
    if stopped:
        return 3
    return 1 if runner.classes else 0


if __name__ == "__main__":
    sys.exit(main())
