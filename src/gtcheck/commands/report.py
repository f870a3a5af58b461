"""``gtcheck report``: check a history and write one self-contained HTML page about it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import check_target

EPILOG = """\b
Examples:
  gtcheck simulate --seed 7 -o histories/generated/run.jsonl
  gtcheck report histories/generated/run.jsonl
      -> wrote reports/run.html (INVALID: 3 anomalies), 412 KB
  gtcheck report histories/generated/run.jsonl -o /tmp/run.html --staleness-bound 750ms --jobs 4

\b
The page needs no network and no other file: open it in a browser, or keep it as a CI
artifact. It shows the verdict and one card per property, every anomaly with its
explanation and a link to its operations on the timeline, a zoomable timeline of the
operations per region and client (fault windows shaded; click a write to see when each
region applied it, from the simulator's NAME.truth.jsonl when it is beside the history),
staleness charts per region pair, the final state of every key in every region, and the
history's metadata. Large histories are drawn in full detail around the anomalies and for
the busiest keys; the rest is summarised, and the page says what was left out.

\b
The exit status is 0 once the report is written, whatever the verdict (use
`gtcheck check HISTORY --html FILE` to fail a CI job on anomalies and keep the page);
254 for bad input or arguments, 255 for an internal error.
"""


@click.command(epilog=EPILOG)
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write (default: reports/<history name>.html).")
@click.option("--staleness-bound", "staleness_bound", metavar="DURATION", default=None,
              help="Fail staleness when a read is staler than this (750ms, 1.5s, 200us, or ns).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for the check (default: 1 for a history under 4 MB, "
                   "else the number of CPUs).")
@click.option("--linearizability-scope", "lin_scope", default="contract", show_default=True,
              metavar="contract|single-region-keys",
              help="As for gtcheck check: single-region-keys also judges, in eventual mode, "
                   "the keys written from a single region.")
def report(history: str, output: str | None, staleness_bound: str | None,
           jobs: int | None, lin_scope: str) -> int:
    """Check HISTORY and write a self-contained HTML report about it."""
    from gtcheck.checker.props import names
    from gtcheck.checker.report import write_report
    from gtcheck.kernel.units import parse_duration

    bound = parse_duration(staleness_bound, where="--staleness-bound") if staleness_bound is not None else None
    if not os.path.exists(history):
        raise UserError(f"no such history file: {history}",
                        hint="give the path of a .jsonl history (gtcheck simulate writes one)")
    out = Path(output) if output else default_output(history)
    check_target(out, "-o/--output")   # before the check's long work
    started = time.perf_counter()
    from gtcheck.checker.check import check_history

    result = check_history(history, staleness_bound_ns=bound, jobs=jobs, keep_reads=True,
                           linearizability_scope=lin_scope)
    path = write_report(history, out, check_result=result, staleness_bound_ns=bound)
    valid = result.summary.get("valid")
    word = "valid" if valid is True else "INVALID" if valid is False else "unknown"
    # exact counts: the summary lists at most the worst 1,000 anomalies of each kind
    n = sum(sum(((result.summary.get(p) or {}).get("anomaly_counts") or {}).values())
            for p in names())
    # -o - is standard output (kernel.outfiles), which has no size to tell
    size = "" if str(path) == "-" else f", {_size(path.stat().st_size)}"
    click.echo(f"wrote {'the report to standard output' if str(path) == '-' else path} ({word}"
               + (f": {n} {'anomaly' if n == 1 else 'anomalies'}" if n else "")
               + f"){size} in {time.perf_counter() - started:.1f} s", err=True)
    return 0


def default_output(history: str) -> Path:
    """``histories/run.jsonl.gz`` -> ``reports/run.html``."""
    name = Path(history).name
    for suffix in (".jsonl.gz", ".jsonl", ".json.gz", ".json", ".edn", ".log", ".gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return Path("reports") / f"{name or 'report'}.html"


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB"
    return f"{max(n // 1000, 1)} KB"
