"""What a recording says about each link's replication delay, read by read.

The checker has ordered every key's writes (``CheckResult.writes``: each write's place in
the conflict order) and said which version every read returned (``CheckResult.reads``:
``saw``). From those, each pair (write w made in region A, region B != A) gives one
*interval observation* of w's replication delay to B, D: the time from w taking effect in
A to a read in B being able to return it.

Exactly, with clock uncertainty delta (the history's ``clock_uncertainty_ns``), w invoked at
w.invoke and completed at w.complete (it took effect somewhere in between), and a read r
in B invoked at r.invoke and completed at r.complete (it was served somewhere in between):

* r **saw** w (returned w's version): w had reached r's copy by the time it served r, so
  D <= r.complete - w.invoke + delta;
* r **missed** w (returned a version ranked below w): w had not reached r's copy when it
  served r (a copy that holds w shows w or something newer: last writer wins), so
  D > r.invoke - w.complete - delta.

These bounds hold whatever happened inside each request. They are loose by the requests'
own latencies, and that slack is not symmetric (a read that saw w is bounded by its
*completion*, one that missed it by its *invocation*), which biases a fit by a fraction of a
request latency (about 1.5 % of a 200 ms delay with 2-8 ms requests). When the recording
says when requests take effect, the bounds are exact instead: gtcheck's model (a history
whose header says ``"source": "model"``) applies a write and serves a read at its
completion, so there D <= r.complete - w.complete when r saw w and D > r.complete -
w.complete when it missed it (``timing="completion"``; ``"bounds"`` for every other source;
``gtcheck fit --timing`` overrides).

The interval for (w, B) is (the largest "missed" bound, the smallest "saw" bound], an
upper bound of infinity when no read in B saw w. These rules keep the intervals honest:

* **Only reads before the next write of the item from A.** Once A has written the item
  again, w may be coalesced into the newer version and never arrive on its own; a read
  that misses w then says nothing about w's delay. Reads after that moment are not used
  (the next write's timing does not depend on w's delay, so this censoring is
  uninformative; the likelihood stays right).
* **Which reads speak for the link** (``reads``). The delay is the model's
  ``replication.delay``: until the version reaches the region's leader copy, which serves
  strongly consistent reads. An eventually consistent read may be served by a copy that
  trails the leader (``copy_lag``), so with ``reads="strong"`` (the default in eventual mode
  when at least a tenth of the reads are strongly consistent) only strongly consistent
  reads are used, for both bounds: using eventual reads for one bound only would make
  whether an interval is closed depend on reads whose outcome the interval ignores, and bias
  the fit. Otherwise every read is used (``"all"``), and the fit measures the delay to
  whichever copy served, the copy lag included. In strong mode (MRSC) a strongly consistent
  read returns the latest acknowledged write whatever has replicated, so only eventually
  consistent reads are used (``"eventual"``). A miss after a sighting is not used (only
  misses before the first sighting bound D from below), so no interval is empty.
* **Per-item order.** A version never overtakes an older version of its item on a link,
  so w may wait behind the previous write of the item from A: its arrival then measures
  that one's delay. w is used for B only when a read in B had already seen the previous
  write (or something newer from A) by the time w completed. Whether it had depends on the
  previous write's delay, not on w's, so this selection does not bias w's.
* **Faults.** An observation that could overlap a fault window touching A or B (from
  the write's invocation to the last read that could have seen it; the history's nemesis
  events: isolation, outage, replication delay) measures the fault, not the link; it is set
  aside (and counted), and the fitted scenario reproduces the fault. Which observations are
  set aside depends on when the requests ran, never on what the reads returned (that would
  keep the short delays and drop the long ones).

The same pass gives, for the comparison of measured and predicted staleness, every read's
*own delay*: the time since the latest write (highest ranked) that completed certainly
before it began, the region that wrote it, and whether the checker found the read stale.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from gtcheck.checker.check import CheckResult
from gtcheck.checker.faults import FaultWindow, fault_windows
from gtcheck.checker.judge import ReadRecord, WriteRecord
from gtcheck.checker.operations import OK

INF = math.inf
ALL_LINKS = "all links"      # checker.faults: a replication-delay fault that names no region


@dataclass
class Link:
    """The interval observations of one link (ns; ``high`` may be ``inf``)."""

    low: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    set_aside_faults: int = 0     # overlapped a fault window of A or B
    queued: int = 0               # the previous write of the item from A not yet seen there: w may wait behind it

    def add(self, low: float, high: float) -> None:
        self.low.append(low)
        self.high.append(high)

    @property
    def n(self) -> int:
        return len(self.low)

    @property
    def bounded(self) -> int:
        """Observations with a finite upper bound (some read saw the write)."""
        return sum(1 for h in self.high if h != INF)


@dataclass(frozen=True)
class ReadCase:
    """One read for the staleness comparison: its own delay since the latest write it
    should have seen, and what the checker found."""

    index: int
    reader: str
    writer: str              # region of that write
    consistent: bool
    invoke_ns: int
    write_complete_ns: int
    stale: bool
    in_fault: bool

    @property
    def t_ns(self) -> int:
        return self.invoke_ns - self.write_complete_ns


@dataclass
class Observations:
    regions: list[str]
    links: dict[tuple[str, str], Link]
    read_latencies: list[int]
    reads: list[ReadCase]
    windows: list[FaultWindow]
    timing: str = "bounds"
    reads_used: str = "all"             # strong | eventual | all: which reads bound the delays
    unordered_keys: int = 0          # keys the checker could not order: nothing observed there
    reads_without_writes: int = 0    # reads with no completed write before them (nothing to miss)


def _touches(win: FaultWindow, a: str, b: str) -> bool:
    return ALL_LINKS in win.regions or a in win.regions or b in win.regions


def _overlaps(windows: Iterable[FaultWindow], a: str, b: str, start: float, end: float) -> bool:
    for w in windows:
        w_end = INF if w.end is None else w.end
        if w.start <= end and start < w_end and _touches(w, a, b):
            return True
    return False


TIMINGS = ("auto", "bounds", "completion")


def timing_of(result: CheckResult, timing: str = "auto") -> str:
    """``completion`` for histories of gtcheck's model (requests take effect when they
    complete), ``bounds`` otherwise; an explicit choice wins."""
    if timing != "auto":
        return timing
    return "completion" if result.header.meta.get("source") == "model" else "bounds"


READS = ("auto", "strong", "eventual", "all")
STRONG_SHARE = 0.1      # auto: strong reads alone when at least this share of reads is strong


def reads_of(result: CheckResult, reads: str = "auto") -> str:
    """Which reads bound the delays (module doc): an explicit choice, else ``eventual`` in
    strong mode, ``strong`` when enough reads are strongly consistent, ``all`` otherwise."""
    if reads != "auto":
        return reads
    if result.header.mode == "strong":
        return "eventual"
    rs = [r for r in result.reads or [] if not r.final]
    strong = sum(1 for r in rs if r.consistent)
    return "strong" if rs and strong >= STRONG_SHARE * len(rs) else "all"


def observe(result: CheckResult, timing: str = "auto", reads: str = "auto") -> Observations:
    """Interval observations per link and read cases, from a check run with
    ``keep_reads=True, keep_writes=True``."""
    if result.reads is None or result.writes is None:
        raise ValueError("observe() needs check_history(..., keep_reads=True, keep_writes=True)")
    header = result.header
    delta = int(header.clock_uncertainty_ns or 0)
    regions = list(header.regions)
    obs = Observations(regions, {(a, b): Link() for a in regions for b in regions if a != b}, [], [],
                       fault_windows(result.nemesis), timing_of(result, timing), reads_of(result, reads))
    obs.unordered_keys = sum(1 for k in result.summary.get("unknown_keys", []) or [])
    reads: dict[str, list[ReadRecord]] = defaultdict(list)
    for r in result.reads:
        reads[r.key].append(r)
    writes: dict[str, list[WriteRecord]] = defaultdict(list)
    for w in result.writes:
        writes[w.key].append(w)
    for key, key_reads in reads.items():
        _key(obs, key_reads, writes.get(key, []), delta)
    return obs


def _key(obs: Observations, key_reads: list[ReadRecord], key_writes: list[WriteRecord], delta: int) -> None:
    rank = {w.index: w.rank for w in key_writes if w.rank is not None}
    origin = {w.index: w.region for w in key_writes}
    by_region: dict[str, list[ReadRecord]] = defaultdict(list)
    for r in key_reads:
        if r.complete_ns is None:
            continue
        by_region[r.region].append(r)
    for lst in by_region.values():
        lst.sort(key=lambda r: (r.time_ns, r.index))
    _links(obs, by_region, key_writes, rank, origin, delta)
    _cases(obs, key_reads, key_writes, delta)


def _links(obs: Observations, by_region: dict[str, list[ReadRecord]], key_writes: list[WriteRecord],
           rank: dict[int, int], origin: dict[int, str], delta: int) -> None:
    per_origin: dict[str, list[WriteRecord]] = defaultdict(list)
    for w in key_writes:
        per_origin[w.region].append(w)
    use = obs.reads_used
    usable = {b: (rs if use == "all" else [r for r in rs if r.consistent == (use == "strong")])
              for b, rs in by_region.items()}
    for a, ws in per_origin.items():
        ws.sort(key=lambda w: (w.invoke_ns, w.index))
        seen = {b: _sightings(rs, a, rank, origin) for b, rs in usable.items() if b != a}
        for i, w in enumerate(ws):
            if w.outcome != OK or w.complete_ns is None or w.rank is None:
                continue
            # reads after A writes the item again say nothing about w (it may be coalesced)
            end = ws[i + 1].invoke_ns if i + 1 < len(ws) else INF
            prev = ws[i - 1] if i > 0 else None
            for b, rs in usable.items():
                if b == a or (a, b) not in obs.links:
                    continue
                if prev is not None and prev.rank is not None and seen[b](prev.rank) > w.complete_ns:
                    obs.links[(a, b)].queued += 1     # w may wait behind prev on the link
                    continue
                _one(obs, a, b, w, rs, end, rank, origin, delta)


def _sightings(rs: list[ReadRecord], a: str, rank: dict[int, int], origin: dict[int, str]):
    """For the reads of one region: the earliest completion by which a version of A ranked
    at least r had been seen there, as a function of r (``inf``: never)."""
    hits = sorted((r.complete_ns, rank[r.saw]) for r in rs
                  if r.saw is not None and r.saw in rank and origin.get(r.saw) == a and r.complete_ns is not None)
    times, best = [], []
    top = -1
    for t, rk in hits:
        if rk > top:
            top = rk
            times.append(t)
            best.append(rk)

    def first(r: int) -> float:
        j = bisect_left(best, r)
        return times[j] if j < len(times) else INF
    return first


def _one(obs: Observations, a: str, b: str, w: WriteRecord, rs: list[ReadRecord], end: float,
         rank: dict[int, int], origin: dict[int, str], delta: int) -> None:
    """The interval observation of w's delay to region b (rules: the module doc)."""
    assert w.complete_ns is not None and w.rank is not None
    times = [r.time_ns for r in rs]
    lo_i = bisect_left(times, w.invoke_ns)
    hi_i = bisect_left(times, end) if end != INF else len(rs)
    if lo_i >= hi_i:
        return
    window = rs[lo_i:hi_i]
    exact = obs.timing == "completion"
    w_from = w.complete_ns if exact else w.invoke_ns
    seen_by = INF          # earliest completion of a read that saw w
    high = INF
    for r in window:
        s = r.saw
        if s is not None and s in rank and origin.get(s) == a and rank[s] >= w.rank:
            assert r.complete_ns is not None
            seen_by = min(seen_by, r.complete_ns)
            high = min(high, r.complete_ns - w_from + delta)
    low = 0.0
    for r in window:
        assert r.complete_ns is not None
        if r.time_ns >= seen_by or (exact and r.complete_ns >= seen_by):
            break
        if r.saw is not None and r.saw not in rank:
            continue       # a version the order does not place: no information
        saw_rank = rank[r.saw] if r.saw is not None else -1
        if saw_rank < w.rank:
            bound = (r.complete_ns if exact else r.time_ns) - w.complete_ns - delta
            if bound > low:
                low = float(bound)
    if low <= 0 and high == INF:
        return
    link = obs.links[(a, b)]
    # set aside by when it could be observed (the write, the last read that could have seen
    # it), not by what was seen: what was seen depends on the delay, and setting aside by it
    # would select the short delays
    if _overlaps(obs.windows, a, b, w.invoke_ns, window[-1].complete_ns or window[-1].time_ns):
        link.set_aside_faults += 1
        return
    link.add(low, float(high))


def _cases(obs: Observations, key_reads: list[ReadRecord], key_writes: list[WriteRecord], delta: int) -> None:
    done = sorted((w for w in key_writes if w.outcome == OK and w.complete_ns is not None and w.rank is not None),
                  key=lambda w: (w.complete_ns, w.index))
    completes = [w.complete_ns for w in done]
    best: list[WriteRecord] = []       # prefix maximum by rank: the latest write completed so far
    for w in done:
        best.append(w if not best or w.rank > best[-1].rank else best[-1])   # type: ignore[operator]
    for r in key_reads:
        if r.final or r.complete_ns is None:
            continue
        obs.read_latencies.append(r.complete_ns - r.time_ns)
        j = bisect_right(completes, r.time_ns - delta - 1)    # completed more than delta before it began
        if j == 0:
            obs.reads_without_writes += 1
            continue
        w = best[j - 1]
        assert w.complete_ns is not None
        fault = _overlaps(obs.windows, w.region, r.region, w.complete_ns, r.complete_ns)
        obs.reads.append(ReadCase(r.index, r.region, w.region, r.consistent, r.time_ns, w.complete_ns,
                                  r.staleness_ns > 0, fault))
