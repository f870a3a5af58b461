"""``gtcheck search``: look for a run of a scenario that breaks a property, shrink it,
and write the counterexample (docs/search.md)."""

from __future__ import annotations

from pathlib import Path

import click

from gtcheck.checker import props as checker_props
from gtcheck.commands import EpilogFromRegistry
from gtcheck.kernel.errors import EXIT_INVALID, EXIT_VALID
from gtcheck.kernel.outfiles import check_directory
from gtcheck.kernel.units import DURATION_FORMS
from gtcheck.search.invariants import SHIPPED


def _checker_properties() -> str:
    """The checker's properties for the help text (its registry), e.g. ``staleness
    (needs --staleness-bound)``."""
    return ", ".join(n + (" (needs --staleness-bound)" if checker_props.needs_bound(n) else "")
                     for n in checker_props.names())


def _epilog() -> str:
    return f"""\b
Examples:
  gtcheck search --scenario histories/scenarios/replication-delay.toml \\
      --property staleness --staleness-bound 1s -o out/stale
  gtcheck search --scenario histories/scenarios/hot-keys.toml \\
      --property counter_matches_increments --budget 500 -o out/counter
  gtcheck search --scenario my.toml --invariant myapp.checks:balance_never_negative -o out/x

Properties (--property): the checker's {_checker_properties()}, and valid (all of them);
the shipped invariants {", ".join(SHIPPED)}.
--invariant module:function names your own: a function of a gtcheck.search.run.Run
returning None when it holds.

\b
Writes into DIR: counterexample.toml (replays with gtcheck simulate, byte-identical),
counterexample.jsonl and .truth.jsonl, report.html, explanation.txt.

\b
Exit codes: 1 counterexample found, 0 none within the budget (not a proof),
254 bad input or arguments, 255 internal error."""


@click.command(cls=EpilogFromRegistry, epilog_of=_epilog)
@click.option("--scenario", "scenario_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The scenario whose runs are searched.")
@click.option("--property", "props", multiple=True, metavar="PROP", help="A property that must hold (repeatable).")
@click.option("--invariant", "invariants", multiple=True, metavar="MODULE:FUNCTION",
              help="An application invariant over the run (repeatable).")
@click.option("--staleness-bound", "bound", default=None, metavar="DURATION",
              help=f"The staleness property's bound ({DURATION_FORMS}).")
@click.option("--budget", type=click.IntRange(1, 1_000_000), default=200, show_default=True,
              help="Runs generated before giving up (shrinking runs come on top).")
@click.option("--shrink-runs", type=click.IntRange(0, 10_000_000), default=1000, show_default=True,
              help="Runs spent shrinking once a violation is found, at most.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="The same seed, the same result.")
@click.option("--max-requests", type=click.IntRange(1, 1000), default=6, show_default=True,
              help="Client requests in a run, at most (of a scripted scenario: at most this many of its requests).")
@click.option("--max-keys", type=click.IntRange(1, 1000), default=2, show_default=True,
              help="Keys a generated run touches, at most.")
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the counterexample files.")
@click.option("--report/--no-report", default=True, show_default=True, help="Write report.html.")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0.001), default=None, metavar="SECONDS",
              help="Stop after this much wall time (no violation yet: exit 0, not a proof; while shrinking: "
                   "the smallest counterexample so far).")
@click.option("--uniform-times", is_flag=True,
              help="Draw request times uniformly over the duration only (default: also near fault events "
                   "and near each other).")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
def search(scenario_path: Path, props: tuple[str, ...], invariants: tuple[str, ...], bound: str | None,
           budget: int, shrink_runs: int, seed: int, max_requests: int, max_keys: int, out: Path, report: bool,
           time_limit: float | None, uniform_times: bool, quiet: bool) -> int:
    """Search the runs a scenario allows for one that breaks a property; shrink it."""
    from gtcheck.model.scenario import load_scenario
    from gtcheck.search.run import parse_bound, properties
    from gtcheck.search.search import search as run_search
    from gtcheck.search.search import write_counterexample

    bound_ns = parse_bound(bound)
    name, prop = properties(props, invariants, bound_ns)
    base = load_scenario(scenario_path)
    check_directory(out, "-o/--output directory")    # before the search's long work
    result = run_search(base, prop, budget=budget, seed=seed, max_requests=max_requests, max_keys=max_keys,
                        shrink_runs=shrink_runs, uniform=uniform_times, time_limit_s=time_limit,
                        progress=None if quiet else (lambda line: click.echo(line, err=True)))
    if result.found is None:
        why = f", stopped by --time-limit after {result.total_s:.1f} s" if result.stopped else ""
        click.echo(f"no counterexample in {result.runs} runs{why} (not a proof)")
        return EXIT_VALID
    files = write_counterexample(result, out, name, bound_ns=bound_ns, report=report)
    click.echo(f"counterexample to {name}: {result.requests} client requests after shrinking "
               f"(found at run {result.runs_to_find}, {result.runs} runs, {result.total_s:.1f} s)")
    click.echo(result.explanation)
    for role, path in files.items():
        click.echo(f"  {role}: {path}")
    return EXIT_INVALID
