"""The one small interface every property implements.

A property is a module (``checker/props/<name>.py``) that declares what it is and judges
it. What it is, written once there and read by every output (text, JSON, JUnit, the
report, ``gtcheck search``, the pytest fixtures, help texts):

* ``NAME`` -- its name in the summary and on the command line (``read_after_write``);
* ``TITLE`` -- its name for people (``Read-after-write``), the report's card title;
* ``DESCRIPTION`` -- one line: when it holds;
* ``ORDER`` -- its place in every listing (smaller first);
* ``ANOMALIES`` -- the kinds of anomaly it reports (:class:`checker.anomalies.AnomalyKind`,
  each declared once, here);
* ``summary_line(section)`` -- what the text verdict says after ``valid``/``INVALID``
  (:func:`counts_or_reason` gives the common start);
* optional ``NEEDS_BOUND = True`` -- it fails only over ``--staleness-bound``, so asking for
  it alone without a bound is bad input;
* optional ``NEEDS`` -- what it reads of a key besides its operations, so that a check
  computes only what the properties it judges need (default both): ``"candidates"`` (rule 3,
  which versions each read may have seen: ``checker.candidates``) and ``"order"`` (rule 5's
  conflict order and what each read saw: ``checker.ordering``, the solver);
* optional ``applies(header, options)`` -- ``None`` when the property has something to
  judge in such a history, else the reason it has not (a register import has no
  replication to measure staleness of): the property is then not computed at all and is
  reported not checked with that reason (default: it always applies);
* optional ``FAIL_ON = "lost-writes"`` -- a finding about the application, always reported
  but counted in the overall verdict only when the user names it (``--fail-on``); its
  entry then carries ``"counted": true``, else ``false`` (:func:`counts_in_verdict`);
* optional ``text_lines(section)`` -- lines the text output adds after the property lines.

How it judges:

* ``judge_key(ctx, res)`` -- judge one key (:class:`KeyContext`) and add the findings to
  the part's accumulator ``res`` (a :class:`checker.shard.ShardResult`): anomalies with
  ``res.add_anomaly``, additive figures in ``res.figures``, maxima in ``res.maxima``,
  anything else in ``res.extra[NAME]``;
* ``merge(mine, other)`` -- merge what ``judge_key`` put in ``res.extra[NAME]`` of two parts
  (anomalies, counts, figures and maxima are merged generically by ``ShardResult.merge``);
* ``verdict(ctx)`` -- the property's entry of the summary (:class:`SummaryContext`): at
  least ``valid``, ``anomalies``, ``anomaly_counts`` and ``figures``. A property with
  nothing in its scope says so with :func:`not_checked` (``"checked": false``), and then
  does not count in the overall verdict.

``checker.props`` finds the modules of this folder and is the registry; a property from
elsewhere (a plugin, a test) joins it with ``checker.props.register(module)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gtcheck.checker.anomalies import Anomaly, AnomalyKind
from gtcheck.checker.operations import Header, Operation
from gtcheck.checker.ordering.key_order import UNKNOWN, KeyOrder


class ReadRecord(NamedTuple):
    """What the checker concluded about one judged read (kept with ``keep_reads``)."""

    index: int
    key: str
    region: str
    time_ns: int                 # the read's invocation time
    staleness_ns: int
    writer_region: str           # pair attribution (see module doc)
    saw: int | None              # index of the write whose version it returned
    consistent: bool
    final: bool
    complete_ns: int | None = None   # the read's completion time (None: it never completed)
    superseded_by: int | None = None   # index of the first superseding write (None: current)
    anomalies: tuple[str, ...] = ()    # kinds of the anomalies whose operations cite this read


class WriteRecord(NamedTuple):
    """A write as the checker ordered it (kept with ``keep_writes``): with the reads'
    ``saw`` it tells which writes each read saw and which it missed (what ``gtcheck fit``
    reads). Failed writes are not kept."""

    index: int
    key: str
    region: str
    process: Any
    invoke_ns: int
    complete_ns: int | None      # None: never completed (info)
    outcome: str                 # ok | info
    rank: int | None             # its place in the key's conflict order (larger wins); None: took no effect


@dataclass
class KeyJudgement:
    """One key judged under its order (``checker.judge.judge_key``): what the
    properties read from it."""

    key: str
    anomalies: list[Anomaly] = field(default_factory=list)
    samples: list[tuple[str, str, int]] = field(default_factory=list)   # (writer, reader, ns)
    records: list[ReadRecord] = field(default_factory=list)
    writes: list[WriteRecord] = field(default_factory=list)
    final_state: dict[str, int | None] = field(default_factory=dict)
    convergence: str = "not-judged"   # not-judged | converged | divergent | wrong-winner | unknown
    final_reads: int = 0
    consistent_reads: int = 0
    consistent_stale: int = 0
    consistent_max_staleness_ns: int = 0
    eventual_reads: int = 0
    eventual_behind_own: int = 0
    eventual_max_own_lag_ns: int = 0
    unknown_reason: str | None = None
    unknown_affects: tuple[str, ...] = ()


@dataclass
class KeyContext:
    """Everything known about one key once it is ordered and judged."""

    header: Header
    key: str
    ops: list[Operation]            # sorted by (invoke_time, index)
    integrity: list[Anomaly]        # integrity anomalies (candidates)
    order: KeyOrder
    judgement: KeyJudgement
    options: Any  # checker.shard.CheckOptions (not imported: no cycle)
    timing: Counter

    @property
    def ordered(self) -> bool:
        return self.order.status != UNKNOWN

    @property
    def limit(self) -> int:
        return self.options.anomaly_limit


@dataclass
class SummaryContext:
    """What a verdict is built from: the merged parts, the header and the options."""

    merged: Any
    header: Header
    options: Any  # checker.shard.CheckOptions (not imported: no cycle)

    @property
    def figures(self) -> Counter:
        return self.merged.figures

    @property
    def unknown(self) -> Counter:
        return self.merged.unknown_props


def anomalies_of(merged: Any, kinds: tuple[AnomalyKind, ...]) -> tuple[list[dict], dict[str, int]]:
    """The anomalies of ``kinds`` (worst first, as JSON) and their exact counts."""
    lst: list[Anomaly] = []
    counts: dict[str, int] = {}
    for kind in kinds:
        n = kind.name
        if merged.counts.get(n):
            counts[n] = merged.counts[n]
            lst.extend(merged.anomalies.get(n, []))
    lst.sort(key=lambda a: a.sort_key())
    return [a.to_json() for a in lst], counts


def add_own_anomalies(ctx: KeyContext, res: Any, kinds: tuple[AnomalyKind, ...]) -> None:
    """Add the judgement's anomalies of ``kinds`` (in the judgement's order)."""
    names = {k.name for k in kinds}
    for a in ctx.judgement.anomalies:
        if a.name in names:
            res.add_anomaly(a, ctx.limit)


def verdict_word(anoms: list, unknown: bool) -> bool | str:
    if anoms:
        return False
    return "unknown" if unknown else True


def not_checked(section: dict[str, Any], reason: str) -> dict[str, Any]:
    """Mark a verdict entry as not checked: nothing was in the property's scope. It is
    then ``unknown`` with ``"checked": false`` and a reason, never ``valid``, and the
    overall verdict leaves it out (HISTORY-FORMAT "What the checker answers")."""
    section["valid"] = "unknown"
    section["checked"] = False
    section["reason"] = reason
    return section


def not_checked_section(reason: str) -> dict[str, Any]:
    """The summary entry of a property that was not computed (not selected, or nothing to
    judge in such a history): not checked, with the reason."""
    return not_checked({"valid": "unknown", "anomalies": [], "anomaly_counts": {},
                        "figures": {}}, reason)


REGISTER_HISTORY = ("a register history (a Jepsen import) has no replication to judge: "
                    "linearizability judges its reads")


def is_register(header: Header) -> bool:
    """A history imported as a plain register (header ``"register": true``)."""
    return header.meta.get("register") is True


def counts_in_verdict(section: Any) -> bool:
    """Whether a summary entry takes part in the overall verdict: not when it was not
    checked (``"checked": false``: nothing in its scope) nor when it is a finding the user
    did not ask to count (``"counted": false``: lost writes without ``--fail-on``). The one
    rule every consumer of a summary (the verdict, text, JUnit, the pytest fixture) reads."""
    return not (isinstance(section, dict)
                and (section.get("checked") is False or section.get("counted") is False))


def no_merge(mine: Any, other: Any) -> Any:
    return mine


def plural(n: Any, word: str) -> str:
    """``1 read``, ``3 reads``, ``? reads`` (unknown count)."""
    if n is None:
        return f"? {word}s"
    return f"{n} {word}" + ("" if n == 1 else "s")


def counts_or_reason(section: dict[str, Any]) -> str:
    """The start every summary line shares: the anomaly counts when there are any, else
    the reason when the property is unknown, else ``""``."""
    counts = section.get("anomaly_counts") or {}
    if counts:
        return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    if section.get("valid") == "unknown":
        return str(section.get("reason", ""))
    return ""
