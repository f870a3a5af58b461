"""``gtcheck check``: judge histories and print the verdict (text, JSON or JUnit XML)."""

from __future__ import annotations

import glob
import os
import sys

import click

from gtcheck.checker import props as checker_props
from gtcheck.commands import EpilogFromRegistry
from gtcheck.kernel.errors import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID, UserError
from gtcheck.kernel.outfiles import check_target, write_text
from gtcheck.kernel.units import DURATION_FORMS, parse_duration

SCOPES = ("contract", "single-region-keys")   # checker.props.linearizability.SCOPES (not imported: start-up)


def _properties_help() -> str:
    """One entry per property of the checker's registry: its name and when it holds."""
    import textwrap

    return "\n".join(textwrap.fill(p.DESCRIPTION, 78, initial_indent=f"  {p.NAME:<17} ",
                                    subsequent_indent=" " * 20)
                      for p in checker_props.properties())


EPILOG = """\b
Examples:
  gtcheck check histories/run.jsonl --staleness-bound 750ms
  gtcheck check histories/run.jsonl --format json -o result.json --jobs 4
  gtcheck check histories/run.jsonl --format junit -o gtcheck.xml --unknown-ok
  gtcheck check histories/run.jsonl --html reports/run.html
  gtcheck check histories/run.jsonl --reads-out reads.parquet   # one row per read
  gtcheck check big.jsonl --engine dask --scheduler tcp://10.0.0.5:8786
  gtcheck check day/ --engine dask --jobs 2   # a history in parts: day/*.jsonl[.gz]
  gtcheck check jepsen/etcd_*.log                       # one line per file, then a summary
  gtcheck check 'jepsen/**/*.edn' --property linearizability --format junit -o lin.xml
  gtcheck check run.jsonl --linearizability-scope single-region-keys
  gtcheck check recorded.jsonl --fail-on lost-writes
  gtcheck check recorded.jsonl --invariant create_at_most_once --invariant myapp.checks:no_oversell

\b
A verdict looks like:
  INVALID: staleness failed (histories/run.jsonl: 200000 operations, 1000 keys)
    integrity         valid    150000 reads checked
    convergence       valid    1000 keys with final reads converged
    read_after_write  valid    30000 strongly consistent reads
    linearizability   not checked (eventual mode: the history format judges ...)
    staleness         INVALID  3 stale-read; smallest bound 1.30 s over 150000 reads (bound 750 ms)
    lost_writes       found    2 lost writes on 1 key (not counted; --fail-on lost-writes counts it)
  anomalies (worst first):
    [stale-read] key 'user#7': read #1234 in eu-west-1 at 12.30 s returned ...

\b
and for several histories:
  INVALID  jepsen/etcd_000.log  linearizability: 1 not-linearizable (84 operations, 1 key)
  valid    jepsen/etcd_002.log  77 operations, 1 key
  2 histories: 1 valid, 1 invalid, 0 unknown, 0 bad input

\b
Exit codes: 0 valid, 1 invalid, 2 unknown (0 with --unknown-ok),
254 bad input or arguments, 255 internal error. With several histories every one is
checked and the exit code is the worst verdict (1 before 2 before 0), or 254 when any
history was bad input (each named in the output).

\b
Properties (a property with nothing in its scope is "not checked" and does not count):
"""


def expand(args: tuple[str, ...]) -> list[str]:
    """The histories named by ``args``: each a file, or a glob pattern (``*``, ``?``,
    ``[...]``, ``**``) the shell did not expand, matched here in sorted order. A pattern
    that matches nothing is bad input."""
    out: list[str] = []
    for arg in args:
        if os.path.exists(arg) or not glob.has_magic(arg):
            out.append(arg)
            continue
        found = sorted(p for p in glob.glob(arg, recursive=True) if not os.path.isdir(p))
        if not found:
            raise UserError(f"no history matches {arg!r}",
                            hint="quote a pattern for gtcheck to expand it, e.g. 'dir/*.log'")
        out.extend(found)
    return out


@click.command(cls=EpilogFromRegistry, epilog_of=lambda: EPILOG + _properties_help() + "\n")
@click.argument("histories", nargs=-1, required=True, metavar="HISTORY...")
@click.option("--staleness-bound", "staleness_bound", metavar="DURATION", default=None,
              help=f"Fail staleness when a read is staler than this ({DURATION_FORMS}).")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Judge only this property (repeatable; names below). The others are "
                   "reported not checked and are not computed.")
@click.option("--linearizability-scope", "lin_scope", default="contract", show_default=True,
              metavar="|".join(SCOPES),
              help="contract: linearizability in strong mode and register histories, as "
                   "the history format says; single-region-keys: also, in eventual mode, the "
                   "keys written from a single region (that region's writes and strongly "
                   "consistent reads).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
              show_default=True, help="Output format.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, allow_dash=True),
              default=None, help="Write the output to this file instead of standard output.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes per history (default: 1 for a history under 4 MB, "
                   "which one process checks faster, else the number of CPUs).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True,
              help="local: worker processes of this machine. dask: the history in pieces "
                   "(blocks of lines, shuffled by process, then by key) as tasks on "
                   "dask.distributed (pip install 'gtcheck[dask]'): a LocalCluster of "
                   "--jobs workers, or the cluster at --scheduler. Same answers.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="With --engine dask: the address of a running Dask scheduler "
                   "(tcp://host:8786); every worker must see a plain history at the same "
                   "path (a gzip one is sent from here).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
              default=10.0, show_default=True, metavar="SECONDS",
              help="CPU budget per key for the solver (writes without ts) and for the "
                   "linearizability search (past it the key is unknown).")
@click.option("--unknown-ok", is_flag=True,
              help="Exit 0 instead of 2 when the verdict is unknown.")
@click.option("--html", "html", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Also write the self-contained HTML report (as `gtcheck report`); one "
                   "history only.")
@click.option("--reads-out", "reads_out", type=click.Path(dir_okay=False), default=None,
              metavar="FILE",
              help="Also write one row per judged read (key, region, the version it saw, "
                   "its staleness, the superseding write, anomaly kinds) to FILE: .parquet "
                   "(needs pyarrow) or .jsonl (JSON lines; .jsonl.gz compressed). One "
                   "history only. Schema: docs/reads.md.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar on stderr (default: when stderr is a terminal).")
@click.option("--invariant", "invariants", multiple=True, metavar="MODULE:FUNCTION",
              help="Also judge this application invariant on the history (repeatable): a "
                   "shipped one's name (create_at_most_once, counter_matches_increments, ...: "
                   "the list in gtcheck search --help) or your own module:function, as gtcheck "
                   "search takes; counted in the verdict. docs/check.md, Application invariants.")
@click.option("--fail-on", "fail_on", multiple=True, metavar="FINDING",
              help="Count this finding in the verdict (repeatable). lost-writes: the "
                   "acknowledged writes last-writer-wins threw away (rule 12), always "
                   "reported, counted only when asked.")
def check(histories: tuple[str, ...], staleness_bound: str | None, properties: tuple[str, ...],
          lin_scope: str, fmt: str, output: str | None, jobs: int | None, engine: str,
          scheduler: str | None, timeout_s: float,
          unknown_ok: bool, html: str | None, reads_out: str | None, progress: bool | None,
          fail_on: tuple[str, ...], invariants: tuple[str, ...]) -> int:
    """Check each HISTORY (a gt-history .jsonl / .jsonl.gz, or a Jepsen history: EDN file
    or text log) for the properties of the checker (listed below). Several histories, or
    a quoted glob pattern, give one line per history and a summary. A directory is one
    history in parts: its *.jsonl / *.jsonl.gz files, one per recorder.
    """
    from gtcheck.checker.check import check_history, exit_code_for, make_options
    from gtcheck.checker.output import FileOutcome, render, render_many

    bound = parse_duration(staleness_bound, where="--staleness-bound") if staleness_bound is not None else None
    # bad options fail before any history is read
    counted = [n.strip() for f in fail_on for n in f.split(",") if n.strip()]
    make_options(staleness_bound_ns=bound, timeout_s=timeout_s, properties=properties or None,
                 linearizability_scope=lin_scope, fail_on=counted)
    if scheduler is not None and engine != "dask":
        raise UserError("--scheduler names a Dask cluster: it needs --engine dask")
    if engine == "dask":
        from gtcheck.checker.dask_engine import require

        require()     # without dask.distributed: 254 saying how to install it, before reading
    paths = expand(histories)
    # one history named as such: the full verdict; several, or a pattern: one line each
    single = len(histories) == 1 and (os.path.exists(histories[0])
                                      or not glob.has_magic(histories[0]))
    if html is not None and not single:
        raise UserError("--html writes the report of one history; several were given",
                        hint="run `gtcheck report HISTORY -o FILE` for each")
    if html is not None and os.path.isdir(paths[0]):
        raise UserError("--html draws a history read whole into memory: not one in parts "
                        "(a directory)", where=paths[0],
                        hint="check the parts without --html; report a smaller history")
    if invariants:
        parted = [p for p in paths if os.path.isdir(p)]
        if parted:
            raise UserError("--invariant judges a history read whole into memory: not one in "
                            "parts (a directory)", where=parted[0],
                            hint="check the parts without --invariant, or join them into one "
                                 "history file to judge the invariants on it")
    # refuse an output that can never be written before the check's long work
    if output and output != "-":
        check_target(output, "-o/--output")
    if html is not None:
        check_target(html, "--html")
    if reads_out is not None:
        from gtcheck.checker.readsout import format_of

        format_of(reads_out)    # a name that says no format, or Parquet without pyarrow: now
        if not single:
            raise UserError("--reads-out writes the reads of one history; several were given",
                            hint="run `gtcheck check HISTORY --reads-out FILE` for each")
        check_target(reads_out, "--reads-out")
    judged = None
    if invariants:     # imported now: a missing module or function fails before any history is read
        from gtcheck.search import recorded

        judged = recorded.invariant_list(invariants)
    if progress is None:
        progress = sys.stderr.isatty()
    options = dict(staleness_bound_ns=bound, jobs=jobs, timeout_s=timeout_s,
                   properties=properties or None, linearizability_scope=lin_scope,
                   fail_on=counted, engine=engine, scheduler=scheduler)
    if judged:
        options.update(keep_reads=True, keep_writes=True)   # the facts the invariants read
    if single:
        path = paths[0]
        if not os.path.exists(path):
            raise UserError(f"no such history file: {path}")
        if not judged:
            options["keep_reads"] = html is not None or reads_out is not None
        result = check_history(path, progress=progress, **options)
        _judge_invariants(path, judged, result)
        text = render(result.summary, fmt)
        code = exit_code_for(result.summary["valid"], unknown_ok)
        word = _verdict_word(result.summary["valid"])
    else:
        outcomes: list[FileOutcome] = []
        for i, path in enumerate(paths):
            if progress:
                click.echo(f"\rchecking {i + 1}/{len(paths)}: {path}", err=True, nl=False)
            try:
                if not os.path.exists(path):
                    raise UserError("no such history file", where=path)
                res = check_history(path, **options)
                _judge_invariants(path, judged, res)
                outcomes.append(FileOutcome(path, res.summary))
            except UserError as exc:
                text = exc.render()
                if exc.where is None or not str(exc.where).startswith(path):
                    text = f"{path}: {text}"
                outcomes.append(FileOutcome(path, error=text, exit_code=exc.exit_code))
        if progress:
            click.echo("", err=True)
        code = worst(outcomes, unknown_ok)
        text = render_many(outcomes, fmt, code)
        word = {EXIT_BAD_INPUT: "bad input", EXIT_INVALID: "INVALID", EXIT_UNKNOWN: "unknown"}.get(
            code, "valid")
        for o in outcomes:
            if o.error is not None and fmt == "text":
                click.echo(f"error: {o.error}", err=True)
    if output and output != "-":
        write_text(output, text)
        click.echo(f"{word}: wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    if reads_out is not None:
        from gtcheck.checker.readsout import write_reads

        rows = write_reads(reads_out, result.reads or [])
        click.echo(f"reads: wrote {rows:,} rows to {reads_out}", err=True)
    if html is not None:
        from gtcheck.checker.report import write_report

        page = write_report(paths[0], html, check_result=result, staleness_bound_ns=bound, jobs=jobs)
        click.echo(f"report: {page}", err=True)
    return code


def _judge_invariants(path: str, judged: list | None, result) -> None:
    """The application invariants on the history just checked, into its summary and verdict."""
    if not judged:
        return
    from gtcheck.checker.check import add_invariants
    from gtcheck.search import recorded

    add_invariants(result.summary, recorded.judge(path, judged, result))


def worst(outcomes: list, unknown_ok: bool = False) -> int:
    """The exit code of several histories: 254 when any was bad input (every one is still
    checked and listed), else the worst verdict: invalid (1), then unknown (2), then 0."""
    from gtcheck.checker.check import exit_code_for

    codes = [o.exit_code if o.error is not None else exit_code_for(o.summary["valid"], unknown_ok)
             for o in outcomes]
    for c in (EXIT_BAD_INPUT, EXIT_INVALID, EXIT_UNKNOWN):
        if c in codes:
            return c
    return EXIT_VALID


def _verdict_word(valid) -> str:
    return "valid" if valid is True else "INVALID" if valid is False else "unknown"
