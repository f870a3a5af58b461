"""Record ``gtcheck check --format json`` for the shared test histories (timing stripped).

Run ``python tests/golden/check-json/make_check_json.py`` to re-record, in a commit of its
own that says why the output changed. ``tests/checker/test_check_json_golden.py`` compares.

Cases: every history of ``histories/anomalies/`` and ``histories/naive-traps/``, and the
isolation scenario simulated with seed 1, checked with and without a staleness bound.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
SCENARIO = ROOT / "histories" / "scenarios" / "isolation.toml"
SIM_SEED = 1
BOUND_NS = 750_000_000


def cases() -> list[tuple[str, str, int | None]]:
    """(name, path relative to the root or 'sim:isolation@1', staleness bound)."""
    out: list[tuple[str, str, int | None]] = []
    for folder in ("anomalies", "naive-traps"):
        for p in sorted((ROOT / "histories" / folder).glob("*.jsonl")):
            rel = p.relative_to(ROOT).as_posix()
            out.append((f"{folder}__{p.stem}", rel, None))
    out.append(("anomalies__stale-read__bound", "histories/anomalies/stale-read.jsonl", BOUND_NS))
    out.append(("sim__isolation-1", f"sim:isolation@{SIM_SEED}", None))
    out.append(("sim__isolation-1__bound", f"sim:isolation@{SIM_SEED}", BOUND_NS))
    return out


def _simulated(tmp: Path) -> Path:
    from click.testing import CliRunner

    from gtcheck.cli import cli
    out = tmp / "isolation-1.jsonl"
    if not out.exists():
        res = CliRunner().invoke(cli, ["simulate", "--scenario", str(SCENARIO), "--seed",
                                       str(SIM_SEED), "-o", str(out), "--no-progress"])
        if res.exit_code != 0:
            raise RuntimeError(f"simulate failed: {res.output}")
    return out


def strip(summary: dict[str, Any], shown_path: str) -> dict[str, Any]:
    s = summary
    s.pop("timing", None)
    s["history"]["path"] = shown_path
    return s


def render_case(path: str, bound: int | None, tmp: Path) -> str:
    from gtcheck.checker.check import check_history
    from gtcheck.checker.output import render_json
    real = _simulated(tmp) if path.startswith("sim:") else ROOT / path
    try:
        res = check_history(str(real), staleness_bound_ns=bound, jobs=1)
    except Exception as exc:  # bad input: the message and exit code are the output
        code = getattr(exc, "exit_code", None) or getattr(exc, "code", None)
        msg = str(exc).replace(str(real), path)
        return json.dumps({"error": msg, "exit": code}, indent=1) + "\n"
    return render_json(strip(res.summary, path))


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        for name, path, bound in cases():
            (HERE / f"{name}.json").write_text(render_case(path, bound, Path(d)))
            print("recorded", name)


if __name__ == "__main__":
    main()
