"""``gtcheck predict``: how stale will reads be? Monte Carlo over a scenario's model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import check_target, write_text
from gtcheck.kernel.units import DURATION_FORMS, parse_duration

EPILOG = """\b
Examples:
  gtcheck predict --scenario histories/scenarios/isolation.toml
  gtcheck predict --scenario my.toml --mode both --at 100ms --at 1s --html reports/predict.html
  gtcheck predict --scenario histories/scenarios/pbs/lnkd-disk.toml --trials 2000000 --format json
  gtcheck predict --pbs            # our forecast of PBS's four production fits beside the paper

\b
For every writer region, reader region and read kind (eventually or strongly
consistent): P(a read invoked t after a write completed returns it, or a newer one) at
t = 0, and the t by which 50 %, 99 % and 99.9 % of such reads are fresh, each with a 95 %
confidence interval of the Monte Carlo (Wilson for probabilities, order statistics for
times). Faults, and other writes of the same item, are not forecast: the curves describe
the healthy table, one write at a time (docs/forecast.md).

\b
A row looks like:
  mode      writer -> reader          read      P(fresh at t=0)      t 50%  t 99%  t 99.9%
  eventual  us-east-1 -> eu-west-1    eventual  0.00% [0.00, 0.00]   ...

Exit codes: 0 done, 254 bad input or arguments (numpy and scipy missing included).
"""


@click.command(epilog=EPILOG)
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario TOML (default: the built-in scenario of gtcheck demo).")
@click.option("--seed", type=int, default=1, show_default=True, help="The one seed every Monte Carlo draw flows from.")
@click.option("--trials", type=click.IntRange(min=1_000, max=100_000_000), default=1_000_000, show_default=True,
              help="Monte Carlo trials per curve.")
@click.option("--mode", "mode", type=click.Choice(["scenario", "eventual", "strong", "both"]), default="scenario",
              show_default=True, help="Which mode of global tables to forecast (scenario: the scenario's own).")
@click.option("--at", "at", multiple=True, metavar="DURATION",
              help=f"Also give P(fresh) at this t ({DURATION_FORMS}); repeatable.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write the table or JSON here instead of standard output.")
@click.option("--html", "html", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Also write the curves as a self-contained HTML page.")
@click.option("--pbs", is_flag=True, help="Forecast the PBS paper's production fits and compare with its figures.")
@click.option("--progress/--no-progress", default=None, help="Progress on stderr (default: when it is a terminal).")
def predict(scenario_path: Path | None, seed: int, trials: int, mode: str, at: tuple[str, ...], fmt: str,
            output: str | None, html: str | None, pbs: bool, progress: bool | None) -> int:
    """Forecast how stale reads will be: P(fresh | t after the write) per region pair."""
    from gtcheck.forecast.deps import require

    require("gtcheck predict")
    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    times = [parse_duration(t, where="--at") for t in at]
    for path, what in ((output, "-o/--output"), (html, "--html")):
        if path:
            check_target(path, what)     # before the forecast's long work
    if progress is None:
        progress = sys.stderr.isatty()
    if pbs:
        return _pbs(seed, trials, fmt, output, progress)
    from gtcheck.forecast.predict import forecast, html_page, table
    from gtcheck.model.scenario import default_scenario, load_scenario

    scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
    modes = {"scenario": [scenario.mode], "both": ["eventual", "strong"]}.get(mode, [mode])

    def step(i: int, n: int) -> None:
        click.echo(f"\rforecasting curve {i}/{n}", err=True, nl=i == n)
    fc = forecast(scenario, seed=seed, trials=trials, modes=modes, at=times, progress=step if progress else None)
    text = json.dumps(fc.as_dict(), indent=1) + "\n" if fmt == "json" else table(fc)
    _emit(text, output)
    if html:
        _write(html, html_page(fc))
        click.echo(f"wrote {html}", err=True)
    return 0


def _pbs(seed: int, trials: int, fmt: str, output: str | None, progress: bool) -> int:
    from gtcheck.forecast import pbs

    rows = []
    for name in pbs.CONFIGS:
        if progress:
            click.echo(f"forecasting {name}", err=True)
        rows.append(pbs.compare(name, trials, seed))
    if fmt == "json":
        text = json.dumps([{"config": r.name, "trials": r.trials, "p_fresh_at_0": r.p0, "p_fresh_at_0_ci": r.p0_ci,
                            "p_tolerance": r.p0_tolerance, "paper_p_fresh_at_0": r.published.p0,
                            "t_999_ms": r.t999_ms, "t_999_ci_ms": r.t999_ci_ms, "paper_t_999_ms": r.published.t999_ms,
                            "paper_estimator_99_ms": r.paper_range_ms, "p_ok": r.p0_ok, "t_ok": r.t_ok}
                           for r in rows], indent=1) + "\n"
    else:
        text = (f"PBS (Bailis et al., VLDB 2012), N = 3, R = W = 1: {trials:,} trials per config, seed {seed}\n"
                + pbs.table(rows) + "paper: Section 6.2 and Table 4 of the camera-ready text; the 'paper's "
                "estimator' column replays its 50,000-trial sweep on our curve (docs/forecast.md)\n")
    _emit(text, output)
    return 0


def _emit(text: str, output: str | None) -> None:
    if output and output != "-":
        _write(output, text)
    else:
        click.echo(text, nl=False)


def _write(path: str, text: str) -> None:
    write_text(path, text)      # the one output writer: OS errors are 254 naming the path
