"""``gtcheck simulate``: run a scenario through the model and write its history."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import check_target
from gtcheck.kernel.sidecar import truth_path_for


def _progress_bar(total_ns: int, enabled: bool):
    if not enabled:
        return None, None
    bar = click.progressbar(length=total_ns // 1_000_000, label="simulating", file=sys.stderr,
                            show_eta=True, item_show_func=lambda _: None)
    state = {"done": 0}

    def update(t: int) -> None:
        ms = min(t // 1_000_000, total_ns // 1_000_000)
        if ms > state["done"]:
            bar.update(ms - state["done"])
            state["done"] = ms

    return bar, update


@click.command(epilog="""\b
Examples:
  gtcheck simulate --seed 7 -o histories/generated/default.jsonl
  gtcheck simulate --scenario histories/scenarios/isolation.toml --seed 1 \\
      -o histories/generated/isolation.jsonl
  gtcheck check histories/generated/isolation.jsonl

Writes the history (format: docs/history-format.md) and, beside it, the ground truth
NAME.truth.jsonl: every write's timestamp, origin and the time it reached each region,
what every read saw, and the final state of every region. The same scenario and seed
always give byte-identical files.""")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario TOML (default: built-in three-region isolation and heal).")
@click.option("--seed", type=int, default=1, show_default=True, help="The one seed every random choice flows from.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("histories/generated/run.jsonl"), show_default=True,
              help="History file to write (.jsonl, or .jsonl.gz to compress).")
@click.option("--truth/--no-truth", default=True, show_default=True, help="Write the ground-truth sidecar.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
def simulate(scenario_path: Path | None, seed: int, output: Path, truth: bool, progress: bool | None) -> int:
    """Simulate a global table under a scenario and write the history it produces."""
    from gtcheck.model.scenario import default_scenario, load_scenario
    from gtcheck.model.simulator import simulate as run

    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
    check_target(output, "-o/--output")
    if truth:
        check_target(truth_path_for(output), "ground truth (beside -o)")
    if progress is None:
        progress = sys.stderr.isatty()
    horizon = scenario.workload.duration_ns
    bar, update = _progress_bar(horizon, progress)
    if bar is not None:
        with bar:
            summary = run(scenario, seed, output, truth, progress=update)
    else:
        summary = run(scenario, seed, output, truth)
    click.echo(f"wrote {output}: {summary.events} events, {summary.operations} operations "
               f"({summary.writes} writes, {summary.reads} reads, {summary.final_reads} final reads), "
               f"{summary.end_ns / 1e9:.1f} s simulated, settled after {summary.settled_after_ns / 1e9:.1f} s")
    if summary.truth:
        click.echo(f"wrote {summary.truth}: ground truth")
    return 0
