"""Judge one key under its chosen order: convergence, read-after-write, staleness.

Integrity is judged earlier (``checker.candidates``); reads that failed it never reach
this module. Everything here is a pure function of the key's operations, the reads'
candidates and a :class:`~gtcheck.checker.ordering.key_order.KeyOrder`, whichever path produced the order.

* **convergence** (rule 6): the key's final reads (invoked at or after
  ``settled_after_ns``) must all return one version — null reads all agree with each
  other — and that version must be the conflict winner, i.e. the highest-ranked write
  that took effect (the initial state when none did). ``divergent-final-state`` when they
  disagree, ``wrong-winner`` when they agree on a version that is not the winner.
* **read_after_write**: a strongly consistent read (``consistent: true``) in region R
  must not have missed a write of R (any region in ``strong`` mode) ranked above its
  version that completed certainly before it began: ``lost-own-write``. Eventual reads
  that missed a write of their own region, and strongly consistent reads that were
  stale, are measured (figures), not judged.
* **staleness** (rule 9): see :mod:`checker.timeline`. Every judged read contributes
  one sample to a region pair: a stale read to (region of the first superseding write,
  reader region); a current read (staleness 0) to (region of the write whose version it
  returned, reader region), or ``initial -> R`` when it returned the initial state.
  ``stale-read`` when a bound is given and a read's staleness exceeds it.
"""

from __future__ import annotations

from typing import Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.props.base import KeyJudgement, ReadRecord, WriteRecord
from gtcheck.checker.props.convergence import DIVERGENT_FINAL_STATE, WRONG_WINNER
from gtcheck.checker.props.read_after_write import LOST_OWN_WRITE
from gtcheck.checker.props.staleness import STALE_READ
from gtcheck.checker.anomalies import Anomaly, op_ref, version_ref
from gtcheck.kernel.units import format_duration
from gtcheck.checker.candidates import Candidates, Clock
from gtcheck.checker.ordering.inversions import find_inversions
from gtcheck.checker.operations import FAIL, OK, Header, Operation
from gtcheck.checker.ordering.key_order import UNKNOWN, KeyOrder
from gtcheck.checker.timeline import KeyTimeline

INITIAL_REGION = "initial"


def judge_key(header: Header, key: str, ops: list[Operation], cands: Candidates,
              order: KeyOrder, *, staleness_bound_ns: int | None = None,
              clock: Clock | None = None, keep_reads: bool = False,
              keep_writes: bool = False) -> KeyJudgement:
    clock = clock or Clock(header.clock_uncertainty_ns)
    j = KeyJudgement(key=key)
    by_index = {op.index: op for op in ops}
    reads = sorted((by_index[i] for i in cands), key=lambda o: (o.invoke_time, o.index))
    settled = header.settled_after_ns
    finals = [r for r in reads if settled is not None and r.invoke_time >= settled]
    j.final_reads = len(finals)
    final_idx = {r.index for r in finals}

    # rule 10: timestamps that contradict real time, whatever the order's status
    inversions = order.inversions
    if inversions is None:
        inversions = find_inversions(header, ops, clock).anomalies
    j.anomalies.extend(inversions)

    if order.status == UNKNOWN:
        j.unknown_reason = order.reason or "the order could not be decided"
        affects = ["staleness"] if reads else []
        if finals:
            affects.append("convergence")
            j.convergence = "unknown"
        if any(r.consistent for r in reads):
            affects.append("read_after_write")
        j.unknown_affects = tuple(affects)
        return j

    strong = header.mode == "strong"
    tl = KeyTimeline(clock, by_index, order)
    saw_of = order.saw
    for r in reads:
        s = saw_of.get(r.index)
        sup = tl.first_superseding(r, s)
        if sup is not None:
            stale, writer = sup.lag_ns, sup.write.region
        else:
            stale = 0
            writer = by_index[s].region if s is not None and s in by_index else INITIAL_REGION
        j.samples.append((writer, r.region, stale))
        if r.consistent:
            j.consistent_reads += 1
            if stale > 0:
                j.consistent_stale += 1
                j.consistent_max_staleness_ns = max(j.consistent_max_staleness_ns, stale)
            own = sup if strong or sup is None else tl.first_superseding(r, s, r.region)
            if own is not None:
                j.anomalies.append(_lost_own_write(r, by_index.get(s) if s is not None else None,
                                                   own.write, own.lag_ns, strong))
        else:
            j.eventual_reads += 1
            own = None if sup is None else tl.first_superseding(r, s, r.region)
            if own is not None:
                j.eventual_behind_own += 1
                j.eventual_max_own_lag_ns = max(j.eventual_max_own_lag_ns, own.lag_ns)
        if staleness_bound_ns is not None and sup is not None and stale > staleness_bound_ns:
            j.anomalies.append(_stale_read(r, by_index.get(s) if s is not None else None,
                                           sup.write, stale, staleness_bound_ns))
        if keep_reads:
            j.records.append(ReadRecord(r.index, key, r.region, r.invoke_time, stale, writer, s,
                                        bool(r.consistent), r.index in final_idx, r.complete_time,
                                        sup.write.index if sup is not None else None))
    if keep_writes:
        j.writes = [WriteRecord(w.index, key, w.region, w.process, w.invoke_time, w.complete_time, w.outcome,
                                order.rank.get(w.index)) for w in ops if w.is_write and w.outcome != FAIL]
    if finals:
        for r in finals:
            j.final_state[r.region] = saw_of.get(r.index)
        _judge_convergence(j, finals, order, by_index)
    for a in j.anomalies:
        if order.contradictions:
            a.details.setdefault("contradictions", order.contradictions)
    return j


# --------------------------------------------------------------------------- convergence
def _group_of(r: Operation, saw: int | None) -> Any:
    return "null" if r.value is None else saw


def _judge_convergence(j: KeyJudgement, finals: list[Operation], order: KeyOrder,
                       by_index: dict[int, Operation]) -> None:
    groups: dict[Any, list[Operation]] = {}
    for r in finals:
        groups.setdefault(_group_of(r, order.saw.get(r.index)), []).append(r)
    if len(groups) > 1:
        j.convergence = "divergent"
        ops: list[int] = []
        parts: list[str] = []
        for g, rs in groups.items():
            first = rs[0]
            s = order.saw.get(first.index)
            ops.append(first.index)
            if s is not None and s not in ops:
                ops.append(s)
            more = len(rs) - 1
            regions = sorted({r.region for r in rs[1:]})
            parts.append(f"#{first.index} ({first.region}) at {format_duration(first.invoke_time)} returned "
                         f"{version_ref(by_index.get(s) if s is not None else None)}"
                         + (f" (as did {more} more final read{'s' if more > 1 else ''} in "
                            f"{', '.join(regions)})" if more else ""))
        text = f"final reads of key {j.key!r} disagree: " + "; ".join(parts[:3])
        if len(parts) > 3:
            text += f"; and {len(parts) - 3} more versions"
        j.anomalies.append(A.make(
            DIVERGENT_FINAL_STATE, j.key, ops, text + ".", time_ns=finals[0].invoke_time,
            region=None, versions={str(g): [r.index for r in rs] for g, rs in groups.items()}))
        return
    (g, rs), = groups.items()
    first = rs[0]
    v = order.saw.get(first.index)
    winner = max(order.rank, key=order.rank.__getitem__) if order.rank else None
    wop = by_index.get(winner) if winner is not None else None
    if g == "null":
        ok = wop is None or _is_null_version(wop)
    else:
        ok = winner == v
    if ok:
        j.convergence = "converged"
        return
    j.convergence = "wrong-winner"
    # name the most convincing culprit: an ok write that outranks the version read
    vrank = order.rank.get(v, float("-inf")) if v is not None else float("-inf")
    oks = [i for i, rk in order.rank.items() if rk > vrank and by_index[i].outcome == OK
           and not (g == "null" and _is_null_version(by_index[i]))]
    culprit = by_index[max(oks, key=order.rank.__getitem__)] if oks else wop
    ops = [first.index] + ([v] if v is not None else []) + [culprit.index]
    how = (f"completed at {format_duration(culprit.complete_time)} with (ts, origin) = "
           f"({culprit.ts}, {culprit.origin or culprit.region})"
           if culprit.outcome == OK and culprit.ts is not None
           else ("completed at " + format_duration(culprit.complete_time) if culprit.outcome == OK
                 else "(outcome unknown) was seen by a read, so it took effect,"))
    regions = sorted({r.region for r in rs})
    j.anomalies.append(A.make(
        WRONG_WINNER, j.key, ops,
        f"final reads of key {j.key!r} in {', '.join(regions)} (first #{first.index} at "
        f"{format_duration(first.invoke_time)}) agree on {version_ref(by_index.get(v) if v is not None else None)}"
        f", but {culprit.f} {op_ref(culprit)} {how} and ranks above it in the conflict order, "
        "so it should have won.",
        time_ns=first.invoke_time, region=first.region, final_reads=[r.index for r in rs],
        winner=culprit.index))


def _is_null_version(w: Operation) -> bool:
    return w.f == "delete" or (w.f == "write" and (w.value if w.outcome == OK else w.invoke_value) is None)


# --------------------------------------------------------------------------- reads
def _lost_own_write(r: Operation, saw: Operation | None, w: Operation, lag: int,
                    strong: bool) -> Anomaly:
    scope = "" if not strong else " (strong mode: any region)"
    return A.make(
        LOST_OWN_WRITE, r.key, [r.index] + ([saw.index] if saw is not None else []) + [w.index],
        f"strongly consistent read #{r.index} in {r.region} at {format_duration(r.invoke_time)} returned "
        f"{version_ref(saw)}, but {w.f} {op_ref(w)} had completed at {format_duration(w.complete_time)} "
        f"with a newer version{scope}; the read missed it by {format_duration(lag)}.",
        time_ns=r.invoke_time, region=r.region, severity_ns=lag, lag_ns=lag,
        write=w.index, saw=saw.index if saw is not None else None)


def _stale_read(r: Operation, saw: Operation | None, w: Operation, stale: int,
                bound: int) -> Anomaly:
    return A.make(
        STALE_READ, r.key, [r.index] + ([saw.index] if saw is not None else []) + [w.index],
        f"read #{r.index} in {r.region} at {format_duration(r.invoke_time)} returned {version_ref(saw)}; "
        f"{w.f} {op_ref(w)} had completed at {format_duration(w.complete_time)} with a newer version; "
        f"the read was {format_duration(stale)} stale, over the {format_duration(bound)} bound.",
        time_ns=r.invoke_time, region=r.region, severity_ns=stale, staleness_ns=stale,
        bound_ns=bound, writer_region=w.region, write=w.index,
        saw=saw.index if saw is not None else None)
