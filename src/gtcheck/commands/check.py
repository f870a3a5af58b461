"""``gtcheck check``: judge a history and print the verdict (text, JSON or JUnit XML)."""

from __future__ import annotations

import os
import sys

import click

from gtcheck.checker import props as checker_props
from gtcheck.commands import EpilogFromRegistry
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import DURATION_FORMS, parse_duration


def _properties_help() -> str:
    """One entry per property of the checker's registry: its name and when it holds."""
    import textwrap

    return "\n".join(textwrap.fill(p.DESCRIPTION, 78, initial_indent=f"  {p.NAME:<17} ",
                                    subsequent_indent=" " * 20)
                      for p in checker_props.properties())


EPILOG = """\b
Example:
  gtcheck check histories/run.jsonl --staleness-bound 750ms
  gtcheck check histories/run.jsonl --format json -o result.json --jobs 4
  gtcheck check histories/run.jsonl --format junit -o gtcheck.xml --unknown-ok
  gtcheck check histories/run.jsonl --html reports/run.html

\b
A verdict looks like:
  INVALID: staleness failed (histories/run.jsonl: 200000 operations, 1000 keys)
    integrity         valid    150000 reads checked
    convergence       valid    1000 keys with final reads converged
    read_after_write  valid    30000 strongly consistent reads
    linearizability   valid    40 keys linearizable (5200 operations; scope: keys written from one region)
    staleness         INVALID  3 stale-read; smallest bound 1.30 s over 150000 reads (bound 750 ms)
  anomalies (worst first):
    [stale-read] key 'user#7': read #1234 in eu-west-1 at 12.30 s returned ...

\b
Exit codes: 0 valid, 1 invalid, 2 unknown (0 with --unknown-ok),
254 bad input or arguments, 255 internal error.

\b
Properties (a property with nothing in its scope is "not checked" and does not count):
"""


@click.command(cls=EpilogFromRegistry, epilog_of=lambda: EPILOG + _properties_help() + "\n")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("--staleness-bound", "staleness_bound", metavar="DURATION", default=None,
              help=f"Fail staleness when a read is staler than this ({DURATION_FORMS}).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True, help="Output format.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, allow_dash=True),
              default=None, help="Write the output to this file instead of standard output.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs; 1 runs inline).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
              default=10.0, show_default=True, metavar="SECONDS",
              help="CPU budget per key for the solver (writes without ts) and for the "
                   "linearizability search (past it the key is unknown).")
@click.option("--unknown-ok", is_flag=True,
              help="Exit 0 instead of 2 when the verdict is unknown.")
@click.option("--html", "html", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Also write the self-contained HTML report (as `gtcheck report`).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar on stderr (default: when stderr is a terminal).")
def check(history: str, staleness_bound: str | None, fmt: str, output: str | None,
          jobs: int | None, timeout_s: float, unknown_ok: bool, html: str | None,
          progress: bool | None) -> int:
    """Check HISTORY (a gt-history .jsonl / .jsonl.gz, or a Jepsen history) for every
    property of the checker (listed below).
    """
    from gtcheck.checker.check import check_history, exit_code_for
    from gtcheck.checker.output import render

    bound = parse_duration(staleness_bound, where="--staleness-bound") if staleness_bound is not None else None
    if not os.path.exists(history):
        raise UserError(f"no such history file: {history}")
    if progress is None:
        progress = sys.stderr.isatty()
    result = check_history(history, staleness_bound_ns=bound, jobs=jobs, timeout_s=timeout_s,
                           progress=progress, keep_reads=html is not None)
    text = render(result.summary, fmt)
    if output and output != "-":
        try:
            os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UserError(f"cannot write the output: {exc.strerror or exc}", where=output) from None
        click.echo(f"{_verdict_word(result.summary['valid'])}: wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    if html is not None:
        from gtcheck.checker.report import write_report

        page = write_report(history, html, check_result=result, staleness_bound_ns=bound, jobs=jobs)
        click.echo(f"report: {page}", err=True)
    return exit_code_for(result.summary["valid"], unknown_ok)


def _verdict_word(valid) -> str:
    return "valid" if valid is True else "INVALID" if valid is False else "unknown"
