"""Check a history file: partition it by key, judge the parts in parallel, merge.

    from gtcheck.checker.check import check_history
    result = check_history("histories/run.jsonl", staleness_bound_ns=750_000_000, jobs=2)
    result.summary["valid"], result.exit_code

Each of ``jobs`` worker processes reads the history with
:func:`checker.history.open_history` (which validates it: bad input raises
:class:`~gtcheck.kernel.errors.ManyUserErrors`, exit 254), keeps the keys of its part and checks
them (:func:`checker.shard.check_part`); ``jobs=1`` runs inline. The parts'
:class:`~gtcheck.checker.shard.ShardResult` are merged into the summary described in
``docs/check-result.md``. Results do not depend on ``jobs`` or the number of parts: every
list in the summary is sorted.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from gtcheck.checker import partitioned
from gtcheck.checker.faults import annotate, fault_windows
from gtcheck.checker.operations import Header, NemesisEvent, Operation
from gtcheck.checker.judge import ReadRecord, WriteRecord
from gtcheck.checker.props import plan
from gtcheck.checker.props import properties as all_properties
from gtcheck.checker.props import staleness as staleness_prop
from gtcheck.checker.props.base import SummaryContext, counts_in_verdict, not_checked_section
from gtcheck.checker.shard import CheckOptions, PartResult, ShardResult, check_part, set_progress_queue
from gtcheck.kernel import __version__
from gtcheck.kernel.errors import EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID, UserError

ENGINES = ("local", "dask")
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 1_000_000   # about 11 days; the solver counts its budget in 32-bit milliseconds


@dataclass
class CheckResult:
    """What :func:`check_history` returns (see ``docs/check-result.md``)."""

    summary: dict[str, Any]
    header: Header
    nemesis: list[NemesisEvent] = field(default_factory=list)
    reads: list[ReadRecord] | None = None
    final_state: dict[str, dict[str, int | None]] | None = None
    writes: list[WriteRecord] | None = None      # with keep_writes: every ok/info write and its rank

    @property
    def valid(self) -> bool | str:
        return self.summary["valid"]

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.summary["valid"])


def exit_code_for(valid: bool | str, unknown_ok: bool = False) -> int:
    if valid is True:
        return EXIT_VALID
    if valid is False:
        return EXIT_INVALID
    return EXIT_VALID if unknown_ok else EXIT_UNKNOWN


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


ONE_PROCESS_BYTES = 4_000_000
"""Histories smaller than this (on disk; a gzip file counts 8 times its size) are checked
in the calling process by default: below it, starting and feeding worker processes costs
more than the second core gives back (measured: benchmarks/bench_check.py --crossover)."""


def jobs_for(path: str | os.PathLike) -> int:
    """The default ``--jobs`` for one history: 1 below :data:`ONE_PROCESS_BYTES`, else the
    number of CPUs."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return 1
    if os.fspath(path).endswith(".gz"):
        size *= 8
    return 1 if size < ONE_PROCESS_BYTES else default_jobs()


def check_history(path: str | os.PathLike, *, staleness_bound_ns: int | None = None,
                  jobs: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                  keep_reads: bool = False, progress: bool = False,
                  shards: int | None = None, anomaly_limit: int = 1000,
                  memory_budget_ops: int | None = None,
                  properties: Iterable[str] | None = None,
                  linearizability_scope: str = "contract",
                  keep_writes: bool = False,
                  fail_on: Iterable[str] = (), engine: str = "local",
                  scheduler: str | None = None) -> CheckResult:
    """Check the history at ``path``; see the module doc and ``docs/check-result.md``.

    ``jobs``: worker processes (default: :func:`jobs_for`, by the file's size: one
    process for a history one process checks faster). ``shards`` is the number of key
    partitions (default: ``jobs``); each is read and checked by one task.
    ``memory_budget_ops`` bounds the operations a task keeps in memory before spilling to
    temporary files (default 1,500,000 / jobs, at least 100,000). ``properties``: the
    names of the properties to judge (default all; the others are reported not checked
    and not computed). ``linearizability_scope``: ``contract`` (strong mode and register
    histories) or ``single-region-keys`` (also, in eventual mode, the keys written from
    one region). ``keep_reads`` keeps what was concluded about every judged read
    (``result.reads``), ``keep_writes`` every write that did not fail with its place in the
    key's conflict order (``result.writes``): together they say which writes each read saw
    and missed.
    ``fail_on`` names the findings counted in the verdict (``("lost-writes",)``);
    they are reported whether counted or not.
    ``engine``: ``local`` (worker processes of this machine) or ``dask`` (the same parts as
    tasks on dask.distributed: ``checker.dask_engine``; ``scheduler`` is the address of a
    running cluster, else a LocalCluster of ``jobs`` workers is started and stopped). Both
    run the same parts and the same merge, so the summary is the same but for ``timing``.
    """
    path = os.fspath(path)
    options = make_options(staleness_bound_ns=staleness_bound_ns, timeout_s=timeout_s,
                           keep_reads=keep_reads, anomaly_limit=anomaly_limit,
                           properties=properties, linearizability_scope=linearizability_scope,
                           keep_writes=keep_writes, fail_on=fail_on)
    if engine not in ENGINES:
        raise UserError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if scheduler is not None and engine != "dask":
        raise UserError("--scheduler names a Dask cluster: it needs --engine dask")
    if jobs is not None and int(jobs) < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    t0 = time.perf_counter()
    files = part_files(path)
    say = _say if progress else None
    if engine == "dask":
        from gtcheck.checker import dask_engine

        dask_engine.require()
        header, plist = partitioned.open_parts(files)    # a bad header: 254 before any work
        with dask_engine.connect(scheduler, int(jobs or default_jobs())) as client:
            tasks = dask_engine.Tasks(client)
            jobs = tasks.workers
            parts = partitioned.run(plist, header, options, tasks, say)
        nparts = len(parts)
    elif os.path.isdir(path):         # a history in parts: in pieces, in this process
        header, plist = partitioned.open_parts(files)
        parts = partitioned.run(plist, header, options, partitioned.Inline(), say)
        jobs, nparts = 1, len(parts)
    else:
        jobs = jobs_for(path) if jobs is None else int(jobs)
        nparts = _nparts(path, shards or jobs)
        options.memory_budget_ops = memory_budget_ops or max(100_000, 1_500_000 // jobs)
        parts = _run_parts(path, nparts, options, jobs, progress)
    t_check = time.perf_counter() - t0
    for part in parts:
        if part.error is not None:
            raise _Reported(part.error, part.error_exit)
    header = parts[0].header
    t_merge = time.perf_counter()
    merged = ShardResult()
    for part in parts:
        merged.merge(part.result, anomaly_limit)
    if merged.bad_input:   # sorted: the same text whatever the number of parts
        raise UserError("\n".join(sorted(merged.bad_input)))
    stats, nemesis = parts[0].stats, parts[0].nemesis
    timing = {
        "parse_s": max(p.read_s for p in parts),
        "parse_cpu_s": max(p.read_cpu_s for p in parts),
        "check_s": t_check - max(p.read_s for p in parts),  # wall after the slowest read
        "check_cpu_s": max(p.check_cpu_s for p in parts),
        "total_s": time.perf_counter() - t0,
        "order_s": merged.timing.get("order_s", 0.0),
        "solve_s": merged.timing.get("solve_s", 0.0),
        "judge_s": merged.timing.get("judge_s", 0.0) + merged.timing.get("candidates_s", 0.0),
        "load_s": merged.timing.get("load_s", 0.0),
        "linearizability_s": merged.timing.get("linearizability_s", 0.0),
        "jobs": jobs,
        "shards": nparts,
        "engine": engine,
        "spilled": any(p.spilled for p in parts),
    }
    if "stages_cpu_s" in stats:     # in pieces: CPU seconds summed over the tasks of each stage
        timing["stages_cpu_s"] = stats["stages_cpu_s"]
    summary = build_summary(path, header, stats, options, jobs, merged, timing)
    windows = fault_windows(nemesis)
    for prop in all_properties():
        annotate(summary[prop.NAME]["anomalies"], windows)
    timing["merge_s"] = time.perf_counter() - t_merge
    timing["total_s"] = time.perf_counter() - t0
    result = CheckResult(summary=summary, header=header, nemesis=nemesis)
    _keep(result, merged, keep_reads, keep_writes)
    return result


def _keep(result: CheckResult, merged: ShardResult, keep_reads: bool, keep_writes: bool) -> None:
    if keep_reads:
        result.reads = sorted(merged.records, key=lambda r: r.index)
        result.final_state = {k: merged.final_state[k] for k in sorted(merged.final_state)}
    if keep_writes:
        result.writes = sorted(merged.writes, key=lambda w: w.index)


def part_files(path: str) -> list[str]:
    """The files of one history: ``path`` itself, or, for a directory, its part files
    (``*.jsonl``, ``*.jsonl.gz``; docs/history-format.md "Histories in parts") in name
    order."""
    if not os.path.isdir(path):
        return [path]
    files = sorted(os.path.join(path, n) for n in os.listdir(path)
                   if n.endswith((".jsonl", ".jsonl.gz")) and not n.startswith(".")
                   and os.path.isfile(os.path.join(path, n)))
    if not files:
        raise UserError("a directory names a history in parts, but it holds no part file "
                        "(*.jsonl, *.jsonl.gz)", where=path,
                        hint="put each recorder's file in it, e.g. day/host-a.jsonl.gz")
    return files


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _nparts(path: str, wanted: int) -> int:
    """The number of key partitions: ``wanted``, but one for a register history, whose
    transactions may join any keys (``checker.txnregister``). A bad header fails here,
    before any work."""
    from gtcheck.checker.history import open_history

    nparts = max(1, int(wanted))
    if nparts > 1:
        try:
            with open_history(path) as reader:
                if reader.header.meta.get("register") is True:
                    nparts = 1
        except OSError as exc:
            raise UserError(f"cannot read the history: {exc.strerror or exc}", where=path) from exc
    return nparts


class _Reported(UserError):
    """A problem already rendered by a worker (its text is shown as is)."""

    def __init__(self, text: str, exit_code: int):
        self.exit_code = exit_code
        super().__init__(text)


def make_options(*, staleness_bound_ns: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 keep_reads: bool = False, anomaly_limit: int = 1000,
                 properties: Iterable[str] | None = None,
                 linearizability_scope: str = "contract",
                 keep_writes: bool = False,
                 fail_on: Iterable[str] = ()) -> CheckOptions:
    """The options of one check, validated (bad ones: :class:`UserError`, exit 254).
    ``fail_on``: the findings counted in the verdict (``lost-writes``)."""
    from gtcheck.checker import props as registry
    from gtcheck.checker.props.linearizability import SCOPES

    if staleness_bound_ns is not None and staleness_bound_ns < 0:
        raise UserError(f"the staleness bound must not be negative, got {staleness_bound_ns} ns")
    if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s <= MAX_TIMEOUT_S):
        raise UserError(f"the solver timeout must be a number of seconds above 0 and at most "
                        f"{MAX_TIMEOUT_S:,}, got {timeout_s}",
                        hint="e.g. --timeout 30; NaN and infinity are not timeouts")
    selected = None
    if properties is not None:
        selected = tuple(dict.fromkeys(properties))
        unknown = [p for p in selected if p not in registry.names()]
        if unknown or not selected:
            raise UserError(f"no property named {', '.join(map(repr, unknown)) or '(none)'}",
                            hint=f"--property takes one of {registry.describe()}")
    if linearizability_scope not in SCOPES:
        raise UserError(f"--linearizability-scope must be one of {', '.join(SCOPES)}, "
                        f"got {linearizability_scope!r}")
    counted = tuple(dict.fromkeys(fail_on or ()))
    unknown = [n for n in counted if n not in registry.fail_on_names()]
    if unknown:
        raise UserError(f"--fail-on {unknown[0]!r} is not a finding gtcheck reports",
                        hint=f"accepted: {', '.join(registry.fail_on_names())}")
    return CheckOptions(staleness_bound_ns=staleness_bound_ns, timeout_s=timeout_s,
                        keep_reads=keep_reads, anomaly_limit=anomaly_limit,
                        properties=selected, linearizability_scope=linearizability_scope,
                        keep_writes=keep_writes, fail_on=counted)


def check_operations(header: Header, ops: list[Operation], *,
                     staleness_bound_ns: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                     keep_reads: bool = False, path: str = "<memory>",
                     properties: Iterable[str] | None = None,
                     linearizability_scope: str = "contract",
                     keep_writes: bool = False,
                     fail_on: Iterable[str] = ()) -> CheckResult:
    """Check operations already in memory (tests, small tools): same summary, inline."""
    from gtcheck.checker.shard import check_ops

    options = make_options(staleness_bound_ns=staleness_bound_ns, timeout_s=timeout_s,
                           keep_reads=keep_reads, properties=properties,
                           linearizability_scope=linearizability_scope,
                           keep_writes=keep_writes, fail_on=fail_on)
    t0 = time.perf_counter()
    merged = check_ops(header, ops, options)
    if merged.bad_input:   # sorted: the same text whatever the number of parts
        raise UserError("\n".join(sorted(merged.bad_input)))
    stats = {"operations": len(ops), "keys": len({op.key for op in ops})}
    timing = {"parse_s": 0.0, "check_s": time.perf_counter() - t0,
              "order_s": merged.timing.get("order_s", 0.0),
              "solve_s": merged.timing.get("solve_s", 0.0),
              "judge_s": merged.timing.get("judge_s", 0.0) + merged.timing.get("candidates_s", 0.0),
              "jobs": 1, "shards": 1}
    summary = build_summary(path, header, stats, options, 1, merged, timing)
    result = CheckResult(summary=summary, header=header)
    _keep(result, merged, keep_reads, keep_writes)
    return result


def _run_parts(path: str, nparts: int, options: CheckOptions, jobs: int,
               progress: bool) -> list[PartResult]:
    """Run :func:`check_part` for every part: inline with one job, else in a pool."""
    bar = _Progress(nparts) if progress else None
    try:
        if jobs == 1 or nparts == 1:
            if bar is not None:
                set_progress_queue(bar.queue)
                bar.start()
            try:
                out = []
                for i in range(nparts):
                    out.append(check_part(path, i, nparts, options))
                return out
            finally:
                set_progress_queue(None)
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor   # only when there are workers

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        queue = bar.queue if bar is not None else None
        with ProcessPoolExecutor(max_workers=min(jobs, nparts), mp_context=ctx,
                                 initializer=set_progress_queue, initargs=(queue,)) as pool:
            futures = [pool.submit(check_part, path, i, nparts, options) for i in range(nparts)]
            if bar is not None:
                bar.start()       # after the workers were forked: no thread is copied into them
            return [f.result() for f in futures]
    finally:
        if bar is not None:
            bar.close()


class _Progress:
    """Progress on stderr: operations read, then a click progress bar over keys checked.

    Workers put ``(kind, part, n)`` messages on a queue; a thread in the parent draws them.
    """

    def __init__(self, nparts: int):
        import multiprocessing as mp
        import threading

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp
        self.queue = ctx.Queue()
        self.nparts = nparts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import queue as queue_mod

        import click

        read = 0
        per_part: dict[int, int] = {}
        totals: dict[int, int] = {}
        done = 0
        bar = None
        while True:
            try:
                kind, part, n = self.queue.get(timeout=0.1)
            except queue_mod.Empty:
                if self._stop.is_set():
                    break
                continue
            except (EOFError, OSError):
                break
            if kind == "read":          # each part builds the operations of its own keys
                per_part[part] = per_part.get(part, 0) + n
                if bar is None:
                    read = sum(per_part.values())
                    click.echo(f"\rreading: {read:,} operations", err=True, nl=False)
            elif kind == "keys_total":
                totals[part] = n
                if len(totals) == self.nparts and bar is None:
                    click.echo("", err=True)
                    length = sum(v for v in totals.values() if v > 0) or 1
                    bar = click.progressbar(length=length, label="checking keys",
                                            file=sys.stderr, show_pos=True)
                    bar.__enter__()
                    bar.update(done)
            elif kind == "keys":
                done += n
                if bar is not None:
                    bar.update(n)
        if bar is not None:
            bar.__exit__(None, None, None)
        else:
            click.echo("", err=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            self.queue.close()
        except Exception:  # noqa: BLE001
            pass


# --------------------------------------------------------------------------- summary
percentile = staleness_prop.percentile   # kept importable from here


def build_summary(path: str, header: Header, stats: dict[str, Any], options: CheckOptions,
                  jobs: int, merged: ShardResult, timing: dict[str, Any]) -> dict[str, Any]:
    fig = merged.figures
    ctx = SummaryContext(merged, header, options)
    why_not = plan(header, options)
    props = {prop.NAME: prop.verdict(ctx) if why_not[prop.NAME] is None
             else not_checked_section(why_not[prop.NAME])   # type: ignore[arg-type]
             for prop in all_properties()}
    valid = overall_valid(props.values())

    counts = {k: stats[k] for k in ("events", "operations", "pending", "keys", "processes",
                                     "nemesis", "per_f") if k in stats}
    counts["reads_checked"] = fig["reads_checked"]
    counts["final_reads"] = fig["final_reads"]
    counts["keys_checked"] = merged.keys
    out: dict[str, Any] = {
        "valid": valid,
        "gtcheck_version": __version__,
        "history": {"path": path, "header": dict(header.meta) or _header_dict(header),
                    "counts": counts},
        "options": {"staleness_bound_ns": options.staleness_bound_ns, "jobs": jobs,
                    "timeout_s": options.timeout_s,
                    "properties": list(options.properties) if options.properties else None,
                    "linearizability_scope": options.linearizability_scope,
                    "fail_on": list(options.fail_on)},
    }
    out.update(props)
    out["unknown_keys"] = sorted(merged.unknown_keys, key=lambda u: u["key"])
    out["timing"] = timing
    return out


def overall_valid(sections: Iterable[dict[str, Any]]) -> bool | str:
    """The verdict of a summary's entries: False when one that counts failed, else
    ``unknown`` when one that counts is unknown, else True. An entry not checked
    (``"checked": false``), or a finding not asked for (``"counted": false``), does not
    take part."""
    judged = [p for p in sections if counts_in_verdict(p)]
    if any(p["valid"] is False for p in judged):
        return False
    if any(p["valid"] == "unknown" for p in judged):
        return "unknown"
    return True


def add_invariants(summary: dict[str, Any], entries: dict[str, dict[str, Any]]) -> None:
    """Put the application invariants judged on the history (``gtcheck check --invariant``:
    each entry ``valid`` True, False or ``unknown``, with ``message`` and ``cited`` history
    indexes, or ``reason``) into the summary, and count them in its verdict: the user asked
    for each, as for a property."""
    if not entries:
        return
    summary["invariants"] = entries
    from gtcheck.checker.props import names

    summary["valid"] = overall_valid([summary[n] for n in names() if n in summary]
                                     + list(entries.values()))


def _header_dict(header: Header) -> dict[str, Any]:
    return {"regions": list(header.regions), "mode": header.mode,
            "clock_uncertainty_ns": header.clock_uncertainty_ns,
            "ts_uncertainty_ns": header.ts_uncertainty_ns,
            "settled_after_ns": header.settled_after_ns}
