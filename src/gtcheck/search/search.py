"""``gtcheck search``: Hypothesis draws runs a scenario allows (``strategies.runs``), the
model runs them, a property judges them; on a violation Hypothesis shrinks the run to the
smallest it can find that still breaks the property, and the counterexample is written out:
a scripted scenario that replays it byte for byte, the history and ground truth, the
HTML report and a one-paragraph explanation."""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, seed as hseed, settings

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.outfiles import make_directory, write_bytes, write_text
from gtcheck.model.scenario import Scenario, scenario_from_dict
from gtcheck.kernel import tomlout
from gtcheck.model.simulator import simulate
from gtcheck.search import strategies
from gtcheck.search.run import Property, Run, Verdict, run_from_bytes


@dataclass
class Found:
    table: dict[str, Any]
    seed: int
    history: bytes
    truth: bytes
    run: Run
    verdict: Verdict


@dataclass
class SearchResult:
    found: Found | None
    runs: int                      # examples run (generation and shrinking)
    runs_to_find: int | None       # examples run before the first violation
    find_s: float | None           # wall time to the first violation
    total_s: float
    cpu_s: float
    files: dict[str, Path] = field(default_factory=dict)
    explanation: str = ""
    stopped: str = ""               # "time limit" when --time-limit ended the search

    @property
    def requests(self) -> int:
        return 0 if self.found is None else len(self.found.table.get("script", []))


class _Violation(Exception):
    pass


def _fail(found: Found) -> None:
    """Raise the violation, from this one line: Hypothesis tells failures apart by where
    they are raised, and a known violation replayed once shrinking is over (at once with
    ``shrink_runs=0``) must be the same failure as when it was found."""
    raise _Violation(found.verdict.message)


class _OutOfTime(Exception):
    """The time limit passed before any violation was found."""


class _UserFailed(BaseException):
    """The user's invariant failed (raised, or answered in a shape gtcheck cannot read):
    the user's error, not a violation to shrink. A BaseException, so that it passes through
    Hypothesis (which catches Exception) and ends the search at once."""


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hypothesis mixes into its draws the literals of every *local* module imported so far
    (``providers._get_local_constants``). Which of gtcheck's modules a process happened to
    import, and whether gtcheck is installed editable (local) or in site-packages (not),
    then changed the runs a seed gives: one search found double-create at run 29 or 32.
    For "the same seed gives the same result", searches draw with no local constants.
    This reaches into Hypothesis's internals; if they move, searches still run, only
    without that guarantee, and ``tests/search/test_search.py`` says so."""
    try:
        from hypothesis.internal.conjecture import providers
        empty = providers.Constants()
        original = providers._get_local_constants
    except (ImportError, AttributeError):   # pragma: no cover - another Hypothesis
        yield
        return
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE.cache.clear()


def run_bytes(scenario: Scenario, seed: int) -> tuple[bytes, bytes]:
    """The history and ground truth ``gtcheck simulate`` writes for ``scenario`` and ``seed``."""
    h, t = io.BytesIO(), io.BytesIO()
    simulate(scenario, seed, h, t)
    return h.getvalue(), t.getvalue()


def execute(table: dict[str, Any], seed: int) -> tuple[bytes, bytes, Run]:
    sc = scenario_from_dict(table, name=table.get("name", "counterexample"))
    h, t = run_bytes(sc, seed)
    return h, t, run_from_bytes(h, t, sc)


def search(base: Scenario, prop: Property, *, budget: int = 200, seed: int = 0, max_requests: int = 6,
           max_keys: int = 2, shrink_runs: int = 1000, uniform: bool = False, time_limit_s: float | None = None,
           progress: Callable[[str], None] | None = None) -> SearchResult:
    """Search ``base`` for a run breaking ``prop`` within ``budget`` generated runs; once
    one is found, shrink it for at most ``shrink_runs`` more runs (then the smallest
    violation found so far is the counterexample: a run count, not a time, so that the
    same seed gives the same result). ``uniform``: request times drawn uniformly only
    (``strategies.moment``). ``time_limit_s``: stop after this much wall time (before a
    violation: nothing found, ``stopped``; while shrinking: the smallest so far).
    ``progress``: called with a line every two seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    deadline = None if time_limit_s is None else t0 + time_limit_s
    stats: dict[str, Any] = {"runs": 0, "first": None, "first_s": None, "last": None, "said": t0, "out": False}
    failing: dict[bytes, Found] = {}

    def tell(now: float) -> None:
        stats["said"] = now
        if progress is None:
            return
        if stats["first"] is None:
            progress(f"search: {stats['runs']} runs, no violation yet ({now - t0:.0f} s)")
        else:
            last = stats["last"]
            progress(f"search: violation found at run {stats['first']}; shrinking, "
                     f"{len(last.table.get('script', []))} requests so far ({stats['runs']} runs, {now - t0:.0f} s)")

    @settings(max_examples=budget, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False, print_blob=False,
              suppress_health_check=list(HealthCheck))
    @hseed(seed)
    @given(strategies.runs(base, max_requests, max_keys, uniform))
    def probe(drawn: tuple[dict[str, Any], int]) -> None:
        table, s = drawn
        ident = exact_dumps([table, s])
        now = time.perf_counter()
        if now - stats["said"] >= 2.0:
            tell(now)
        if deadline is not None and now > deadline:
            stats["out"] = True
            if stats["first"] is None:
                raise _OutOfTime()
        if stats["out"] or (stats["first"] is not None and stats["runs"] - stats["first"] >= shrink_runs):
            known = failing.get(ident)       # shrinking is over: only known violations still fail
            if known is not None:
                stats["last"] = known
                _fail(known)
            return
        stats["runs"] += 1
        h, t, run = execute(table, s)
        try:
            verdict = prop(run, h)
        except UserError as exc:
            raise _UserFailed(exc) from exc
        if not verdict.holds:
            if stats["first"] is None:
                stats["first"] = stats["runs"]
                stats["first_s"] = time.perf_counter() - t0
            found = Found(table, s, h, t, run, verdict)
            failing[ident] = found
            stats["last"] = found
            _fail(found)

    found = None
    stopped = ""
    try:
        with warnings.catch_warnings(), _no_local_constants():
            # the checker raises the recursion limit; Hypothesis says so
            warnings.filterwarnings("ignore", message="The recursion limit will not be reset")
            probe()
    except _Violation:
        found = stats["last"]
    except _OutOfTime:
        stopped = "time limit"
    except _UserFailed as failed:
        raise failed.args[0]      # keeps its cause: the user's exception (GTCHECK_DEBUG=1 shows it)
    return SearchResult(found, stats["runs"], stats["first"], stats["first_s"],
                        time.perf_counter() - t0, time.process_time() - c0, stopped=stopped)


def write_counterexample(result: SearchResult, out: Path, prop_name: str, *, bound_ns: int | None = None,
                         report: bool = True) -> dict[str, Path]:
    """Write the counterexample files into ``out``; returns them by role."""
    from gtcheck.search.explain import explain

    found = result.found
    assert found is not None
    make_directory(out, "-o/--output directory")
    files = {"scenario": out / "counterexample.toml", "history": out / "counterexample.jsonl",
             "truth": out / "counterexample.truth.jsonl", "explanation": out / "explanation.txt"}
    comment = (f"A counterexample to {prop_name}, found and shrunk by gtcheck search.\n"
               f"Replay it exactly: gtcheck simulate --scenario counterexample.toml --seed {found.seed} "
               f"-o counterexample.jsonl\n\n{found.verdict.message}")
    write_text(files["scenario"], tomlout.dumps(found.table, comment))
    write_bytes(files["history"], found.history)
    write_bytes(files["truth"], found.truth)
    text = explain(found.run, found.verdict, prop_name, found.seed)
    write_text(files["explanation"], text + "\n")
    result.explanation = text
    if report:
        from gtcheck.checker.check import check_history
        from gtcheck.checker.report import write_report

        files["report"] = out / "report.html"
        cr = check_history(files["history"], staleness_bound_ns=bound_ns, jobs=1, keep_reads=True)
        finding = {"name": prop_name, "message": found.verdict.message, "cited": found.verdict.cited}
        write_report(files["history"], files["report"], check_result=cr, staleness_bound_ns=bound_ns,
                     finding=finding)
    result.files = files
    return files
