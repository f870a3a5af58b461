"""The timestamp path: the conflict order of a key whose ok writes all carry ``ts``.

Ok writes are ranked by ``(ts, origin)`` (origin defaults to the write's region), larger
wins (rule 2). What is left to choose, by rule 5, is:

* **which ``info`` writes took effect, and where.** An info write that no read saw is
  left out (it did not take effect): including it can only make it a wrong winner.
  An info write that some read saw took effect. It never completed, so it never
  supersedes anything for staleness or read-after-write, and placing it higher only
  ever helps the reads that saw it; so it goes as high as admissible: at the top,
  except that when the key's final reads agree on a version V, every other version must
  rank below V (rule 5a) — then it goes just below V, which is admissible only when all
  its rule-2 lower bounds (same-region writes completed certainly before its invocation;
  with ε any write completed more than 2ε+δ before it; in strong mode any write
  completed certainly before it) rank below V.
* **what each read saw** among its candidates: the highest-ranked one (a higher
  version is never staler and never older for read-after-write).
* **V itself**, when final reads could agree on several versions (null final reads:
  the initial state or one of several deletes; values shared by info writes): every V
  that makes convergence hold is tried and the order kept is the one that (b) makes
  read-after-write hold, then (c) has the smallest largest staleness; ties go to the
  highest-ranked ok version.

When no V makes convergence hold (or the key has no final reads) there is no cap: info
writes that were seen go to the top. The resulting :class:`~gtcheck.checker.ordering.key_order.KeyOrder`
ranks the ok writes and the info writes that took effect, and names each read's version.
"""

from __future__ import annotations

from typing import Any

from gtcheck.checker.candidates import Candidates, Clock
from gtcheck.checker.ordering.inversions import find_inversions
from gtcheck.checker.operations import INFO, OK, Header, Operation
from gtcheck.checker.ordering.key_order import KeyOrder
from gtcheck.checker.timeline import KeyTimeline
from gtcheck.kernel.errors import UserError

_NO_CAP = object()       # no final version to respect
_INITIAL = object()      # final version: the initial state (no write took effect)


_WRITES = frozenset(("write", "update", "delete", "cas"))


def has_all_ts(ops: list[Operation]) -> bool:
    """True when every ok write-like operation of the key carries ``ts``."""
    for op in ops:
        if op.ts is None and op.outcome == OK and op.f in _WRITES:
            return False
    return True


def final_reads(header: Header, ops: list[Operation], cands: Candidates) -> list[Operation]:
    """Rule 6: ok reads invoked at or after ``settled_after_ns`` that passed integrity."""
    s = header.settled_after_ns
    if s is None:
        return []
    return [op for op in ops if op.index in cands and op.invoke_time >= s]


def lower_bound(w: Operation, ok_sorted: list[Operation], header: Header, clock: Clock) -> int:
    """Rule 2: the highest position among ``ok_sorted`` that must precede write ``w``
    (-1 when none must)."""
    strong = header.mode == "strong"
    eps = header.ts_uncertainty_ns
    gap = None if eps is None else 2 * eps + clock.delta
    best = -1
    for i in range(len(ok_sorted) - 1, best, -1):
        u = ok_sorted[i]
        if u.complete_time is None or not clock.completed_before_invoke(u, w):
            continue
        if strong or u.region == w.region or (gap is not None and
                                              w.invoke_time - u.complete_time > gap):
            best = i
            break
    return best


def order_key_ts(header: Header, ops: list[Operation], cands: Candidates,
                 clock: Clock | None = None) -> KeyOrder:
    """Order one key (all ok writes have ``ts``); ``cands`` holds this key's reads."""
    clock = clock or Clock(header.clock_uncertainty_ns)
    key = ops[0].key if ops else ""
    ok_sorted = [op for op in ops if op.outcome == OK and op.f in _WRITES]
    ok_sorted.sort(key=lambda o: (o.ts, o.origin or o.region))
    for a, b in zip(ok_sorted, ok_sorted[1:]):
        if a.conflict_key == b.conflict_key:
            raise UserError(
                f"ok writes #{a.index} (line {a.line}) and #{b.index} (line {b.line}) of key "
                f"{key!r} have equal (ts, origin) {a.conflict_key}; the conflict order must be "
                "total (rule 2)")
    m = len(ok_sorted)
    ok_pos = {w.index: i for i, w in enumerate(ok_sorted)}
    by_index = {op.index: op for op in ops}
    seen_info: dict[int, Operation] = {}
    for lst in cands.values():
        for c in lst:
            if c is not None and c not in ok_pos and c not in seen_info:
                w = by_index.get(c)
                if w is not None and w.outcome == INFO:
                    seen_info[c] = w
    lows = {i: lower_bound(w, ok_sorted, header, clock) for i, w in seen_info.items()}
    reads = [by_index[i] for i in cands]
    finals = final_reads(header, ops, cands)

    caps: list[Any] = []
    if finals:
        common = set(cands[finals[0].index])
        for r in finals[1:]:
            common &= set(cands[r.index])
        for v in _preference(common, ok_pos, seen_info):
            if _feasible(v, cands, ok_pos, m, lows):
                caps.append(_INITIAL if v is None else v)
    if not caps:
        caps = [_NO_CAP]

    best: KeyOrder | None = None
    best_score: tuple | None = None
    for pref, cap in enumerate(caps):
        order = _build(key, cap, cands, ok_sorted, ok_pos, seen_info, lows)
        if len(caps) == 1:
            best = order
            break
        score = _score(order, reads, by_index, header, clock) + (pref,)
        if best_score is None or score < best_score:
            best, best_score = order, score
    assert best is not None
    best.stats["path"] = "ts"
    best.inversions = find_inversions(header, ops, clock).anomalies   # rule 10
    if finals:
        best.stats["convergence_possible"] = caps[0] is not _NO_CAP
    return best


def _preference(common: set, ok_pos: dict[int, int], seen_info: dict[int, Operation]) -> list:
    """Candidate final versions, preferred first: ok (highest rank), info (latest), initial."""
    oks = sorted((v for v in common if v in ok_pos), key=lambda v: -ok_pos[v])
    infos = sorted((v for v in common if v in seen_info),
                   key=lambda v: (-seen_info[v].invoke_time, -v))
    rest = [None] if None in common else []
    return oks + infos + rest


def _feasible(v: int | None, cands: Candidates, ok_pos: dict[int, int], m: int,
              lows: dict[int, int]) -> bool:
    """Can every version that took effect rank below final version ``v``?"""
    if v is None:       # initial state: nothing may take effect
        return m == 0 and all(None in lst for lst in cands.values())
    if v in ok_pos:
        if ok_pos[v] != m - 1:
            return False
        if not lows:        # no info write is a candidate: every read keeps its version
            return True
        top = m - 1
        for lst in cands.values():
            if not any(c is None or c in ok_pos or c == v or lows.get(c, top) < top for c in lst):
                return False
        return True
    return True         # an info write: it goes on top, everything else below it


def _build(key: str, cap: Any, cands: Candidates, ok_sorted: list[Operation],
           ok_pos: dict[int, int], seen_info: dict[int, Operation],
           lows: dict[int, int]) -> KeyOrder:
    """Place info writes under ``cap``, choose each read's version, rank what took effect."""
    m = len(ok_sorted)
    pos: dict[int, tuple] = {w.index: (i, 0, 0, 0) for i, w in enumerate(ok_sorted)}
    tiebreak = lambda w: (w.invoke_time, w.index)  # noqa: E731
    if cap is _INITIAL:
        pass                                         # no info write may take effect
    elif cap is _NO_CAP:
        for i, w in seen_info.items():
            pos[i] = (m, 1) + tiebreak(w)
    elif cap in ok_pos:
        top = ok_pos[cap]
        for i, w in seen_info.items():
            if lows[i] < top:
                pos[i] = (top - 1, 1) + tiebreak(w)
    else:                                            # cap is an info write
        for i, w in seen_info.items():
            pos[i] = (m, 1) + tiebreak(w)
        pos[cap] = (m, 2, 0, 0)
    bottom = (-1, 0, 0, 0)
    saw: dict[int, int | None] = {}
    used: set[int] = set()
    for r, lst in cands.items():
        if len(lst) == 1:   # a feasible cap always places a read's only candidate
            c = lst[0]
            saw[r] = c
            if c is not None:
                used.add(c)
            continue
        best = None
        best_pos = None
        for c in lst:
            p = bottom if c is None else pos.get(c)
            if p is not None and (best_pos is None or p > best_pos):
                best, best_pos = c, p
        saw[r] = best
        if best is not None:
            used.add(best)
    took = [i for i in pos if i in ok_pos or i in used]
    took.sort(key=pos.__getitem__)
    order = KeyOrder(key=key, rank={i: n for n, i in enumerate(took)}, saw=saw)
    order.stats["info_took_effect"] = sum(1 for i in took if i not in ok_pos)
    return order


def _score(order: KeyOrder, reads: list[Operation], by_index: dict[int, Operation],
           header: Header, clock: Clock) -> tuple[int, int]:
    """Rule 5 (b), (c): (read-after-write violations > 0, largest staleness)."""
    tl = KeyTimeline(clock, by_index, order)
    strong = header.mode == "strong"
    raw_bad = 0
    worst = 0
    for r in reads:
        s = order.saw.get(r.index)
        sup = tl.first_superseding(r, s)
        if sup is not None and sup.lag_ns > worst:
            worst = sup.lag_ns
        if r.consistent and tl.first_superseding(r, s, None if strong else r.region) is not None:
            raw_bad += 1
    return (1 if raw_bad else 0, worst)
