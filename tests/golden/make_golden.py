"""Record (or check) the simulator's golden hashes: history and ground truth, byte for byte.

Run ``python tests/golden/make_golden.py`` only when the model's behaviour changes on
purpose, in a commit of its own that says why; ``tests/model/test_golden.py`` compares against
the recorded file on every run.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "hashes.json"
SEEDS = (1, 2, 7)


def scenario_files() -> list[Path]:
    base = ROOT / "histories" / "scenarios"
    return sorted(base.glob("*.toml")) + sorted((base / "behaviours").glob("*.toml"))


BUG_SCENARIO = "isolation.toml"
BUGS = ("stale-strong-read", "drop-replication", "phantom-value", "show-failed-write",
        "delay-replication")


def hashes_for(path: Path, seed: int, bug: str | None = None) -> dict[str, str]:
    from gtcheck.model.scenario import load_scenario
    from gtcheck.model.simulator import simulate

    history, truth = io.BytesIO(), io.BytesIO()
    simulate(load_scenario(path), seed, history, truth, bug=bug)
    return {"history": hashlib.sha256(history.getvalue()).hexdigest(),
            "truth": hashlib.sha256(truth.getvalue()).hexdigest()}


def name_of(path: Path) -> str:
    return path.relative_to(ROOT / "histories" / "scenarios").as_posix()


def main() -> int:
    out = {f"{name_of(p)}@{s}": hashes_for(p, s) for p in scenario_files() for s in SEEDS}
    bug_path = ROOT / "histories" / "scenarios" / BUG_SCENARIO
    out.update({f"bug={b}:{BUG_SCENARIO}@1": hashes_for(bug_path, 1, b) for b in BUGS})
    GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN} ({len(out)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
