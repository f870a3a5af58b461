"""``gtcheck demo``: the whole job end to end on built-in defaults.

Simulates a three-region table through an isolation of eu-west-1 and its heal, checks
the history, and writes everything under ``reports/demo/``: the history and its ground
truth, the verdict as text, JSON and JUnit XML, and the HTML report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(epilog="""\b
Example:
  gtcheck demo                       # writes reports/demo/*
  gtcheck demo --seed 7 --out reports/demo-7
  open reports/demo/report.html

The demo exits 0 once every output is written, whatever the verdict (with the
default 2 s bound the isolation makes some reads stale: that is what it shows).
Use `gtcheck check` for a gate whose exit code is the verdict.""")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for the simulation.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("reports/demo"), show_default=True, help="Folder for every output.")
@click.option("--staleness-bound", default="2s", show_default=True,
              help="Staleness bound the check holds the history to.")
@click.option("--jobs", type=int, default=None, help="Worker processes for the check (default: all cores).")
def demo(seed: int, out_dir: Path, staleness_bound: str, jobs: int | None) -> int:
    """Simulate, check and report on built-in defaults (three regions, isolate, heal)."""
    from gtcheck.checker.check import check_history
    from gtcheck.checker.output import render
    from gtcheck.checker.report import write_report
    from gtcheck.kernel.errors import UserError
    from gtcheck.kernel.outfiles import make_directory, write_text
    from gtcheck.kernel.units import parse_duration
    from gtcheck.model.scenario import default_scenario
    from gtcheck.model.simulator import simulate

    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    bound = parse_duration(staleness_bound, where="--staleness-bound")
    make_directory(out_dir, "output folder")
    history = out_dir / "history.jsonl"
    scenario = default_scenario()
    click.echo(f"1/3 simulating scenario '{scenario.name}' with seed {seed}: {scenario.description}")
    summary = simulate(scenario, seed, history, True)
    click.echo(f"    {history}: {summary.operations} operations, ground truth in {summary.truth}")
    click.echo(f"2/3 checking {history} (staleness bound {staleness_bound})")
    result = check_history(history, staleness_bound_ns=bound, jobs=jobs, keep_reads=True,
                           progress=sys.stderr.isatty())
    for fmt, name in (("text", "check.txt"), ("json", "check.json"), ("junit", "check.junit.xml")):
        write_text(out_dir / name, render(result.summary, fmt))
    click.echo(render(result.summary, "text").rstrip())
    click.echo("3/3 writing the HTML report")
    page = write_report(history, out_dir / "report.html", check_result=result, staleness_bound_ns=bound)
    click.echo(f"    {page}")
    click.echo(f"outputs: {out_dir}/ (history.jsonl, history.truth.jsonl, check.txt, check.json, "
               f"check.junit.xml, report.html)")
    return 0
