"""``gtcheck fit``: from a recorded history to every link's delay distribution and a scenario."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import check_target, write_text

EPILOG = """\b
Examples:
  gtcheck simulate --scenario histories/scenarios/forecast/slow-link.toml --seed 1 -o slow.jsonl
  gtcheck fit slow.jsonl -o slow-fitted.toml
  gtcheck fit slow.jsonl -o slow-fitted.toml --compare --html reports/slow-fit.html
  gtcheck fit recorded.jsonl -o fitted.toml --format json --jobs 2

\b
For every link (writer region -> reader region), each write gives one interval
observation of its replication delay: reads in the other region that missed it bound the
delay from below, the first that saw it from above (docs/forecast.md says exactly how).
The delay distribution is fitted by interval-censored maximum likelihood over the model's
families (lognormal, shifted exponential, Pareto, PBS's Pareto + exponential mixture),
chosen by AIC, with 95 % intervals of the median and p99. The scenario written mirrors the
recording's workload (regions, rate, clients, keys and their Zipf skew, read/write mix,
strongly consistent share, faults) and holds every link's fit.

\b
--compare puts side by side, per region pair and read kind: the recording's share of stale
reads (the checker's verdict), the fitted scenario's forecast at the recording's own read
delays, and a simulation of the fitted scenario.

Exit codes: 0 done, 254 bad input or arguments (numpy and scipy missing included).
"""


@click.command(epilog=EPILOG)
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The fitted scenario (TOML) to write.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the fit's random choices (subsampling, interval draws, the comparison's Monte Carlo "
                   "and simulation).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes of the check that orders the history.")
@click.option("--timing", type=click.Choice(["auto", "bounds", "completion"]), default="auto", show_default=True,
              help="When requests took effect: bounds (anywhere between invocation and completion), "
                   "completion (gtcheck's model), auto (completion for the model's histories).")
@click.option("--reads", "reads", type=click.Choice(["auto", "strong", "eventual", "all"]), default="auto",
              show_default=True, help="Which reads bound the delays (auto: strongly consistent ones when a tenth "
                                      "of reads are; eventual ones in strong mode).")
@click.option("--compare", is_flag=True, help="Measured vs predicted vs simulated staleness, side by side.")
@click.option("--trials", type=click.IntRange(min=1_000, max=10_000_000), default=200_000, show_default=True,
              help="Monte Carlo trials per curve of the comparison's forecast.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--html", "html", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Also write the fits (and with --compare the curves) as a self-contained HTML page.")
@click.option("--progress/--no-progress", default=None, help="Progress on stderr (default: when it is a terminal).")
def fit(history: str, output: Path, seed: int, jobs: int, timing: str, reads: str, compare: bool, trials: int,
        fmt: str, html: str | None, progress: bool | None) -> int:
    """Fit every link's replication delay to a recorded HISTORY and write a scenario."""
    from gtcheck.forecast.deps import require

    require("gtcheck fit")
    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    from gtcheck.forecast import report
    from gtcheck.forecast.fit import fit_history, text

    if progress is None:
        progress = sys.stderr.isatty()
    say = (lambda m: click.echo(m, err=True)) if progress else None
    check_target(output, "scenario")       # before the fit's long work
    if html:
        check_target(html, "HTML page")
    fr = fit_history(history, seed=seed, jobs=jobs, timing=timing, reads=reads, name=output.stem, progress=say)
    write_text(output, fr.toml())      # the one output writer: OS errors are 254 naming the path
    cmp = None
    if compare:
        from gtcheck.forecast.compare import compare as run_compare

        if say:
            say("comparing: forecast at the recording's read delays, and a simulation of the fitted scenario")
        cmp = run_compare(fr.observations.reads, fr.scenario, fr.start_ns, seed=seed, trials=trials)
    if fmt == "json":
        doc = fr.as_dict()
        doc["scenario_file"] = str(output)
        if cmp is not None:
            doc["comparison"] = cmp.as_dict()
        click.echo(json.dumps(doc, indent=1))
    else:
        from gtcheck.forecast.compare import table

        click.echo(text(fr), nl=False)
        if cmp is not None:
            click.echo("\n" + table(cmp), nl=False)
        click.echo(f"wrote {output}")
    if html:
        write_text(html, report.page(fr, cmp))
        click.echo(f"wrote {html}", err=fmt == "json")
    return 0
