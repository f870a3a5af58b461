"""Rule 10: timestamp inversions, found in O(n log n) per key.

Rule 2 orders writes by real time: a write that completed certainly before another write
of the same region was invoked ranks below it (with ε, across regions when the gap exceeds
2ε + δ; in strong mode across all regions; rule 1's same-process order counts too). Ok
writes that carry ``ts`` are ordered by ``(ts, origin)``. When a chain of rule-2
constraints leads from an ok write w1 with a ``ts`` to an ok write w2 with a ``ts``, through
writes without one, while ``(ts, origin)`` of w2 is smaller than w1's, the two orders
contradict each other: the key shows ``ts-inversion`` (a ``read_after_write`` anomaly) and
is judged by the ``ts`` order, without the contradicted constraints. A constraint a -> b is
contradicted when it lies on such a chain, i.e. when

    into(a) > out(b)

where ``into(a)`` is the largest ``(ts, origin)`` of a timestamped write from which a chain
(with untimed inner writes) reaches a (a's own when a has a ``ts``), and ``out(b)`` the
smallest of a timestamped write that b reaches (b's own when b has a ``ts``). Both come from
one sweep each over the key's events in file order: constraints only ever point from a
completion to a later invocation, so "every write that completed certainly before this
invocation" is a prefix of the completions seen so far (a bisection into a running maximum),
and symmetrically backwards.

Writes whose outcome is unknown never completed, so they are never the source of a
constraint and never an inner write of a chain; they are left out.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.props.read_after_write import TS_INVERSION
from gtcheck.checker.anomalies import Anomaly, op_ref
from gtcheck.kernel.units import format_duration
from gtcheck.checker.candidates import Clock, cpos, ipos
from gtcheck.checker.operations import OK, Header, Operation

_WRITES = frozenset(("write", "update", "delete", "cas"))
_BOTTOM = (0,)          # below every (1, ts, origin)
_TOP = (2,)             # above every (1, ts, origin)
_MAX_LISTED = 50        # writes named in details.writes


def _key(op: Operation) -> tuple:
    return (1, op.ts, op.origin or op.region)


@dataclass
class Inversions:
    """The contradicted rule-2 constraints of one key (empty when there are none)."""

    into: dict[int, tuple] = field(default_factory=dict)    # ok write -> into(w) (see above)
    out: dict[int, tuple] = field(default_factory=dict)     # ok write -> out(w)
    succ_min: dict[int, tuple] = field(default_factory=dict)  # min out() over w's successors
    tainted: set[int] = field(default_factory=set)          # writes with a dropped constraint
    anomalies: list[Anomaly] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.tainted)

    def dropped(self, a: int, b: int) -> bool:
        """Is the rule-2 constraint "a below b" (both ok writes) contradicted by the ``ts``?"""
        if a not in self.tainted:
            return False
        ob = self.out.get(b)
        return ob is not None and self.into[a] > ob


NONE = Inversions()


def _link(clock: Clock, strong: bool, gap: int | None, a: Operation, b: Operation) -> str | None:
    """The rule-2 reason why ok write a precedes write b, or None (a != b)."""
    if a.complete_time is None:
        return None
    same = a.region == b.region
    if (same or strong) and clock.before(a.complete_time, cpos(a), a.process,
                                          b.invoke_time, ipos(b), b.process):
        if a.process == b.process and clock.delta and \
                not b.invoke_time - a.complete_time > clock.delta:
            return "proc"
        return "region" if same else "strong"
    if not same and gap is not None and b.invoke_time - a.complete_time > gap:
        return "eps"
    return None


def find_inversions(header: Header, ops: list[Operation], clock: Clock | None = None
                    ) -> Inversions:
    """The timestamp inversions of ONE key's operations (rule 10), with their anomaly."""
    writes = [o for o in ops if o.outcome == OK and o.f in _WRITES and o.complete_time is not None]
    if len(writes) < 2 or all(o.ts is None for o in writes):
        return NONE
    clock = clock or Clock(header.clock_uncertainty_ns)
    delta = clock.delta
    strong = header.mode == "strong"
    eps = header.ts_uncertainty_ns
    gap = None if (eps is None or strong) else 2 * int(eps) + delta

    # events in file order: (time, position, kind, op); kind 0 = invocation, 1 = completion
    events = []
    for o in writes:
        events.append((o.invoke_time, ipos(o), 0, o))
        events.append((o.complete_time, cpos(o), 1, o))
    events.sort(key=lambda e: (e[0], e[1], e[2]))

    def scope(o: Operation) -> Any:
        return "*" if strong else o.region

    # ---- forward: into(w) = max over predecessors of into'(pred), with its source
    into: dict[int, tuple] = {}
    pred: dict[int, int] = {}                 # untimed write -> the predecessor giving into()
    s_keys: dict[Any, list] = defaultdict(list)
    s_max: dict[Any, list] = defaultdict(list)
    g_keys: list = []
    g_max: list = []
    proc_max: dict[Any, tuple] = {}

    def push(keys: list, mx: list, k: Any, v: tuple) -> None:
        keys.append(k)
        mx.append(v if not mx or v > mx[-1] else mx[-1])

    for t, p, kind, o in events:
        if kind == 0:
            best = (_BOTTOM, -1)
            sc = scope(o)
            keys = s_keys.get(sc)
            if keys:
                j = bisect_left(keys, (t, p)) if delta == 0 else bisect_left(keys, t - delta)
                if j:
                    best = max(best, s_max[sc][j - 1])
            if gap is not None and g_keys:
                j = bisect_left(g_keys, t - gap)
                if j:
                    best = max(best, g_max[j - 1])
            if delta:
                pm = proc_max.get((o.process, sc))
                if pm is not None:
                    best = max(best, pm)
            into[o.index] = _key(o) if o.ts is not None else best[0]
            if o.ts is None and best[1] >= 0:
                pred[o.index] = best[1]
        else:
            v = (into[o.index], o.index)
            sc = scope(o)
            push(s_keys[sc], s_max[sc], (t, p) if delta == 0 else t, v)
            if gap is not None:
                push(g_keys, g_max, t, v)
            if delta:
                pk = (o.process, sc)
                if pk not in proc_max or v > proc_max[pk]:
                    proc_max[pk] = v

    # ---- backward: out(w) = min over successors of out'(succ), with its source
    out: dict[int, tuple] = {}
    succ_min: dict[int, tuple] = {}
    succ: dict[int, int] = {}
    s_keys2: dict[Any, list] = defaultdict(list)
    s_min: dict[Any, list] = defaultdict(list)
    g_keys2: list = []
    g_min: list = []
    proc_min: dict[Any, tuple] = {}

    def push_min(keys: list, mn: list, k: Any, v: tuple) -> None:
        keys.append(k)                        # keys decrease: stored negated for bisection
        mn.append(v if not mn or v < mn[-1] else mn[-1])

    def neg(k: Any) -> Any:
        return (-k[0], -k[1]) if isinstance(k, tuple) else -k

    for t, p, kind, o in reversed(events):
        if kind == 1:
            best = (_TOP, -1)
            sc = scope(o)
            keys = s_keys2.get(sc)
            if keys:
                # successors: invoked after (t, p) (δ = 0) or more than δ after t
                j = bisect_left(keys, neg((t, p))) if delta == 0 else bisect_left(keys, -(t + delta))
                if j:
                    best = min(best, s_min[sc][j - 1])
            if gap is not None and g_keys2:
                j = bisect_left(g_keys2, -(t + gap))
                if j:
                    best = min(best, g_min[j - 1])
            if delta:
                pm = proc_min.get((o.process, sc))
                if pm is not None:
                    best = min(best, pm)
            succ_min[o.index] = best[0]
            out[o.index] = _key(o) if o.ts is not None else best[0]
            if best[1] >= 0:
                succ[o.index] = best[1]
        else:
            v = (out[o.index], o.index)
            sc = scope(o)
            push_min(s_keys2[sc], s_min[sc], neg((t, p)) if delta == 0 else -t, v)
            if gap is not None:
                push_min(g_keys2, g_min, -t, v)
            if delta:
                pk = (o.process, sc)
                if pk not in proc_min or v < proc_min[pk]:
                    proc_min[pk] = v

    tainted = {o.index for o in writes
               if into[o.index] > succ_min[o.index] and into[o.index] != _BOTTOM
               and succ_min[o.index] != _TOP}
    if not tainted:
        return NONE
    inv = Inversions(into=into, out=out, succ_min=succ_min, tainted=tainted)
    by_index = {o.index: o for o in writes}
    # the chain cited: through the first tainted write to complete
    first = min((by_index[i] for i in tainted), key=lambda o: (o.complete_time, cpos(o)))
    back = [first]
    while back[0].ts is None:
        back.insert(0, by_index[pred[back[0].index]])
    fwd = [by_index[succ[first.index]]]
    while fwd[-1].ts is None:
        fwd.append(by_index[succ[fwd[-1].index]])
    chain = back + fwd
    inv.anomalies.append(_anomaly(chain, clock, strong, gap, sorted(tainted)))
    return inv


def _anomaly(chain: list[Operation], clock: Clock, strong: bool, gap: int | None,
             tainted: list[int]) -> Anomaly:
    w1, w2 = chain[0], chain[-1]
    inner = chain[1:-1]
    key = w1.key
    k1 = f"({w1.ts}, {w1.origin or w1.region})"
    k2 = f"({w2.ts}, {w2.origin or w2.region})"
    if not inner and w1.region == w2.region and _link(clock, strong, gap, w1, w2) == "region":
        text = (f"{w2.f} {op_ref(w2)} was invoked at {format_duration(w2.invoke_time)}, after "
                f"{w1.f} {op_ref(w1)} had completed in the same region at "
                f"{format_duration(w1.complete_time)}, so it must rank above it (rule 2), yet its "
                f"(ts, origin) {k2} is smaller than #{w1.index}'s {k1}: the later write of "
                f"{w1.region} silently lost to the earlier one.")
    else:
        links = []
        for a, b in zip(chain, chain[1:]):
            why = _link(clock, strong, gap, a, b)
            if why == "eps":
                links.append(f"{op_ref(a)} completed at {format_duration(a.complete_time)}, more than "
                             f"2ε+δ = {format_duration(gap)} before {op_ref(b)} was invoked at "
                             f"{format_duration(b.invoke_time)}")
            elif why == "proc":
                links.append(f"process {b.process} invoked #{b.index} at "
                             f"{format_duration(b.invoke_time)} after #{a.index} had completed at "
                             f"{format_duration(a.complete_time)}")
            else:
                where = "" if why == "region" else " (strong mode: any region)"
                links.append(f"{op_ref(a)} completed at {format_duration(a.complete_time)} before "
                             f"{op_ref(b)} was invoked at {format_duration(b.invoke_time)}{where}")
        untimed = ""
        if inner:
            untimed = (" (" + ", ".join(f"#{o.index}" for o in inner)
                       + (" carries" if len(inner) == 1 else " carry") + " no ts)")
        text = ("; ".join(links) + f"; so #{w1.index} must rank below #{w2.index} (rule 2)"
                + untimed + f", yet (ts, origin) of #{w2.index} {k2} is smaller than "
                f"#{w1.index}'s {k1}: the recorded timestamps contradict real time.")
    text += " The key is judged by the ts order, without the contradicted real-time constraints."
    return A.make(
        TS_INVERSION, key, [w1.index, w2.index] + [o.index for o in inner], text,
        time_ns=w2.invoke_time, region=w2.region, w1=w1.index, w2=w2.index,
        chain=[o.index for o in inner], writes=tainted[:_MAX_LISTED], writes_count=len(tainted))
