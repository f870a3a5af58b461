"""Run the fuzzer outside pytest: ``python -m tests.fuzz --n 2000 [--seed S] [--kinds history,edn]
[--out summary.json] [--found DIR]``. Same strategies and judgements as tests/cli/test_fuzz.py."""

from __future__ import annotations

import argparse
import json
import os
import sys

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzz.runner import FuzzRunner
from tests.fuzz.strategies import (edn_inputs, edn_twin_inputs, history_inputs, metamorphic_inputs,
                                   scenario_inputs)
from tests.fuzz.surfaces import SHARES, model_inputs, output_inputs, path_inputs


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
    print(f"fuzz seed {seed_value}", flush=True)
    runner = FuzzRunner()
    try:
        for i, kind in enumerate(kinds):
            n = max(1, round(args.n * SHARES[kind] / total_share))
            strategy = {"history": history_inputs(), "metamorphic": metamorphic_inputs(),
                        "scenario": scenario_inputs(dev_zero=True), "edn-twin": edn_twin_inputs(),
                        "edn": edn_inputs(), "model": model_inputs(), "path": path_inputs(),
                        "output": output_inputs()}[kind]

            @settings(max_examples=n, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            @given(strategy)
            def explore(inp):
                runner.run(inp)

            seed(seed_value + i)(explore)()
            print(f"{kind}: done {n}", flush=True)
            if args.out:          # after each kind: a run stopped later keeps what it did
                with open(args.out, "w") as fh:
                    json.dump(runner.summary(), fh, indent=1, ensure_ascii=False)
        print(runner.format_summary(), flush=True)
        if args.out:
            with open(args.out, "w") as fh:
                json.dump(runner.summary(), fh, indent=1, ensure_ascii=False)
        if args.found and runner.classes:
            runner.save_examples(args.found, minimize=not args.no_minimize)
    finally:
        runner.close()
    return 1 if runner.classes else 0


if __name__ == "__main__":
    sys.exit(main())
