"""Rules 1, 3, 4 and 8: which writes each read may have seen (and the integrity anomalies).

For every ``ok`` read of a key this module lists the versions the read may have returned:

* a ``null`` read may have seen the initial state (``None``) or any ``ok``/``info`` delete
  that was not invoked certainly after the read completed;
* a non-null read may have seen any ``ok`` or ``info`` write, update or cas of that key
  that produced an equal value and was not invoked certainly after the read completed.
  A ``write`` produces its item, a ``cas`` its new value, an ``ok`` update its post-image.
  The post-image of an ``info`` update (or an ``ok`` update whose post-image is missing)
  is unknown (rule 8: the change applied to some version): such an update is a candidate
  for a read whose value is its change applied to *a version of the key* (the initial
  state, a value some ok/info write, cas or update produced, or in turn the possible
  post-image of another such update); a value that merely agrees with the change but has,
  say, an attribute no version has, is a phantom read (see :class:`_Versions`).

When the header gives a non-null ``initial`` value (register histories), a read of that
value may also have seen the initial state.

A read with no candidate fails integrity: ``read-of-failed-write`` when a ``fail``ed
write produced its value (and was not invoked after the read completed), else
``future-read`` when only writes invoked certainly after the read completed produced it,
else ``phantom-read``. Such reads are left out of every other property.

Two ``ok`` writes of one key with equal values make the history ambiguous (rule 4): that
is bad input, reported as a :class:`~gtcheck.kernel.errors.UserError` naming both (the history
reader normally catches it first). Several candidates for one read are legitimate when
``info``/``fail`` writes share a value (rule 4): the ordering step chooses among them.

Values are compared by their canonical JSON (sorted keys, numbers by exact decimal value,
so ``1`` and ``1.0`` are equal and integers of any size are exact).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from gtcheck.checker import anomalies as A
from gtcheck.checker.props.integrity import (AMBIGUOUS_VERSION, FUTURE_READ, PHANTOM_READ,
                                             READ_OF_FAILED_WRITE)
from gtcheck.checker.anomalies import Anomaly, op_ref
from gtcheck.kernel.units import format_duration
from gtcheck.checker.exprversions import ExpressionVersions, is_expression_update
from gtcheck.checker.inverse import ABSENT, Pattern, fits, index_keys, inverse_of
from gtcheck.checker.operations import CAS, DELETE, FAIL, OK, READ, UPDATE, WRITE, Header, Operation
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import canon as exact_canon

Candidates = dict[int, list[int | None]]


# --------------------------------------------------------------------------- rule 1
class Clock:
    """Rule 1, *certainly before*, on events given as (time, position, process).

    Positions are file positions (:func:`ipos` of an invocation, :func:`cpos` of a
    completion): equal times are ordered by the place of the events in the file, never by
    their ``index`` field, which only has to be unique.
    """

    __slots__ = ("delta",)

    def __init__(self, delta: int = 0):
        self.delta = int(delta or 0)

    def before(self, t1: int, p1: float, proc1: Any, t2: int, p2: float, proc2: Any) -> bool:
        if self.delta == 0 or proc1 == proc2:
            return t1 < t2 or (t1 == t2 and p1 < p2)
        return t2 - t1 > self.delta

    def completed_before_invoke(self, w: Operation, r: Operation) -> bool:
        """w completed certainly before r was invoked (False when w never completed)."""
        if w.complete_time is None:
            return False
        return self.before(w.complete_time, cpos(w), w.process, r.invoke_time, ipos(r), r.process)

    def invoked_after_complete(self, w: Operation, r: Operation) -> bool:
        """w was invoked certainly after r completed."""
        t1 = r.complete_time
        if t1 is None:
            return False
        t2 = w.invoke_time
        if self.delta == 0 or r.process == w.process:
            if t1 != t2:
                return t1 < t2
            return cpos(r) < ipos(w)
        return t2 - t1 > self.delta


def ipos(op: Operation) -> float:
    """The file position of an operation's invocation (rule 1): its line in the file.

    Operations built by hand (tests, tools) carry no line; their ``index`` stands in.
    """
    return op.line if op.line > 0 else op.index


def cpos(op: Operation) -> float:
    """The file position of an operation's completion event (rule 1): its line in the file,
    just after the invocation when it has none. Operations without lines use indices."""
    if op.line > 0:
        return op.complete_line if op.complete_line is not None else op.line + 0.5
    return op.complete_index if op.complete_index is not None else op.index + 0.5


# --------------------------------------------------------------------------- values
def canon(value: Any) -> bytes:
    """The identity of a JSON value: equal bytes exactly when the values are equal (keys
    sorted; numbers by exact decimal value, so ``1``, ``1.0`` and ``1e0`` are one value and
    ``2**70``, ``2**70 + 1`` two). See :func:`gtcheck.kernel.exactjson.canon`."""
    return exact_canon(value)


def produced_value(op: Operation) -> tuple[bool, Any]:
    """(known, value) that a write-like operation produces, were it to take effect.

    ``known`` is False for an update whose post-image is unknown (info/fail, or an ok
    update without one); ``value`` is then its change. A delete produces ``None``.
    """
    f = op.f
    if f == DELETE:
        return True, None
    if f == WRITE:
        if op.outcome == OK and op.value is not None:
            return True, op.value
        return True, op.invoke_value if op.invoke_value is not None else op.value
    if f == CAS:
        if op.outcome == OK and op.value is not None:
            return True, op.value
        iv = op.invoke_value
        if isinstance(iv, (list, tuple)) and len(iv) == 2:
            return True, iv[1]
        return True, op.value
    if f == UPDATE:
        if op.outcome == OK and op.value is not None:
            return True, op.value
        return False, op.invoke_value if isinstance(op.invoke_value, dict) else {}
    raise ValueError(f"not a write: {op.f}")


def op_value(op: Operation) -> Any:
    """The value a write-like operation with a known post-image produces."""
    return produced_value(op)[1]


# --------------------------------------------------------------------------- rule 8
_SEARCH_BUDGET = 4000    # inverse steps per (read value, update); past it the value is accepted
_MAX_CHAIN = 64          # unknown post-images chained below the read one; past it, accepted
_KEY_BUDGET = 200_000    # inverse steps per key; once spent, values are accepted


def _without(value: dict, wild: frozenset) -> bytes:
    return canon({k: v for k, v in value.items() if k not in wild} if wild else value)


class _Versions:
    """Rule 8: the versions an unknown update may have been applied to, and the check that a
    read value is the change of an update applied to one of them.

    The versions of a key are its initial state (no item, or the header's ``initial``), the
    values of its ok and info writes, cas and ok updates (a delete leaves no item), and,
    in turn, the possible post-images of its other ok/info updates whose post-image is
    unknown (each applied at most once along a chain)."""

    def __init__(self, known: Iterable[Any], unknown: list[Operation]):
        self.bases: list[dict] = []
        seen: set[bytes] = set()
        for v in known:
            b = v if isinstance(v, dict) else {}      # apply_change: no item counts as {}
            c = canon(b)
            if c not in seen:
                seen.add(c)
                self.bases.append(b)
        # updates with equal changes are interchangeable: count them per distinct change
        self.change_id: dict[bytes, int] = {}
        self.changes: list[dict] = []
        self.inverses: list[Any] = []
        counts: list[int] = []
        for u in unknown:
            if u.outcome == FAIL:
                continue
            change = produced_value(u)[1]
            c = canon(change)
            i = self.change_id.get(c)
            if i is None:
                i = self.change_id[c] = len(self.changes)
                self.changes.append(change)
                self.inverses.append(inverse_of(change))
                counts.append(0)
            counts[i] += 1
        self.counts = tuple(counts)
        # attribute -> the changes that may change it (their ids)
        self.touching: dict[str, list[int]] = defaultdict(list)
        for j, inv in enumerate(self.inverses):
            for k in inv.touches:
                self.touching[k].append(j)
        # which changes may have produced an item, by the index entry every product has
        self.by_index: dict[tuple, list[int]] = defaultdict(list)
        self.index_attrs: dict[str, list[int]] = defaultdict(list)
        self.unindexed: list[int] = []
        for j, inv in enumerate(self.inverses):
            if inv.index is None:
                self.unindexed.append(j)
            else:
                self.by_index[inv.index].append(j)
                self.index_attrs[inv.index[0]].append(j)
        self.base_values: dict[str, set[bytes]] = defaultdict(set)   # attribute -> values
        for b in self.bases:
            for k, v in b.items():
                self.base_values[k].add(canon(v))
        self._index: dict[frozenset, dict[bytes, list[dict]]] = {}
        self._memo: dict[tuple[bytes, bytes, bool], bool] = {}
        self._failed: set[tuple] = set()     # (pattern, counts) from which no base is reached
        self.budget = _KEY_BUDGET

    def _matches_base(self, value: dict, wild: frozenset, cons: tuple) -> bool:
        idx = self._index.get(wild)
        if idx is None:
            idx = self._index[wild] = defaultdict(list)
            for b in self.bases:
                idx[_without(b, wild)].append(b)
        bucket = idx.get(_without(value, wild))
        if not bucket:
            return False
        if not cons:
            return True
        return any(all(fits(b.get(k, ABSENT), kind) for k, kind in cons) for b in bucket)

    def _candidates(self, pat: Pattern) -> list[int]:
        """The changes that may have produced an item of ``pat`` (by their index entry)."""
        value, wild = pat[0], pat[1]
        if not self.by_index:
            return self.unindexed
        found = set(self.unindexed)
        for key in index_keys(value, wild):
            found.update(self.by_index.get(key, ()))
        for k in wild:
            found.update(self.index_attrs.get(k, ()))
        return sorted(found)

    def produced(self, u: Operation, value: Any, cv: bytes) -> bool:
        """Could update ``u`` (post-image unknown) have produced ``value``?"""
        if not isinstance(value, dict):
            return False
        change = produced_value(u)[1]
        cc = canon(change)
        memo_key = (cc, cv, u.outcome == FAIL)
        hit = self._memo.get(memo_key)
        if hit is not None:
            return hit
        counts = list(self.counts)
        i = self.change_id.get(cc)
        if i is not None and u.outcome != FAIL:
            counts[i] -= 1                   # u itself is applied last
        start = tuple(counts)
        budget = [min(_SEARCH_BUDGET, self.budget)]
        failed = self._failed
        touching = self.touching

        def reach(pat: Pattern, avail: tuple) -> bool:
            if self._matches_base(*pat):
                return True
            here = (canon(pat[0]), pat[1], pat[2])
            state = (here, avail)
            if state in failed:
                return False
            # an attribute no remaining change touches must hold a value some version has
            # (asked per attribute: a set of all the attributes the remaining changes touch,
            # made for each new ``avail``, cost a pass over every change at every step)
            val, wild = pat[0], pat[1]
            for k, v in val.items():
                if k not in wild and not any(avail[j] for j in touching.get(k, ())) and \
                        canon(v) not in self.base_values.get(k, ()):
                    failed.add(state)
                    return False
            if sum(start) - sum(avail) >= _MAX_CHAIN:
                raise _Exhausted
            for j in self._candidates(pat):
                n = avail[j]
                if not n:
                    continue
                rest = avail[:j] + (n - 1,) + avail[j + 1:]
                for pre in self.inverses[j].preimages(pat):
                    if (canon(pre[0]), pre[1], pre[2]) == here:
                        continue    # changes nothing it can still change: no new version
                    budget[0] -= 1
                    if budget[0] <= 0:
                        raise _Exhausted
                    if reach(pre, rest):
                        return True
            failed.add(state)
            return False

        before = budget[0]
        inverse = self.inverses[i] if i is not None else inverse_of(change)
        try:
            ok = any(reach(pre, start) for pre in inverse.preimages((value, frozenset(), ())))
        except _Exhausted:
            ok = True           # too many chains to rule out: never a false phantom-read
        self.budget -= before - budget[0]
        self._memo[memo_key] = ok
        return ok


class _Exhausted(Exception):
    pass


# --------------------------------------------------------------------------- rule 3
class _ChangeIndex:
    """Updates with an unknown post-image, indexed by what every item they produce has
    (``checker.inverse``: an attribute set to a value, a list ending with an element)."""

    def __init__(self, updates: Iterable[Operation], versions: _Versions | None = None):
        self.by_key: dict[tuple, list[tuple[Operation, Any]]] = defaultdict(list)
        self.rest: list[tuple[Operation, Any]] = []
        self.any = False
        self.versions = versions
        for u in updates:
            self.any = True
            inv = inverse_of(produced_value(u)[1])
            if inv is not None and inv.index is not None:
                self.by_key[inv.index].append((u, inv))
            else:
                self.rest.append((u, inv))

    def matching(self, value: Any, cv: bytes | None = None) -> list[Operation]:
        if not self.any or not isinstance(value, dict):
            return []
        found: list[Operation] = []
        if self.by_key:
            for key in index_keys(value):
                for u, inv in self.by_key.get(key, ()):
                    if inv.agrees(value):
                        found.append(u)
        found.extend(u for u, inv in self.rest if inv is None or inv.agrees(value))
        if found and self.versions is not None:
            cv = canon(value) if cv is None else cv
            found = [u for u in found if self.versions.produced(u, value, cv)]
        return found


def key_candidates(header: Header, ops: list[Operation], clock: Clock | None = None
                   ) -> tuple[Candidates, list[Anomaly]]:
    """Candidates and integrity anomalies for the operations of ONE key."""
    clock = clock or Clock(header.clock_uncertainty_ns)
    exact: dict[bytes, list[Operation]] = defaultdict(list)   # value -> writes producing it
    nulls: list[Operation] = []                                # ok/info deletes (null versions)
    unknown: list[Operation] = []                              # updates, unknown post-image
    ok_values: dict[bytes, Operation] = {}
    reads: list[Operation] = []
    # rule 4 holds for the eventual-mode properties; strong-mode and register histories may
    # repeat values (the reader accepts them): a read of a repeated value may have seen any.
    check_values = not (header.mode == "strong" or header.meta.get("register") is True)
    initial = None if header.initial is None else canon(header.initial)
    for op in ops:
        f = op.f
        if f == READ:
            if op.outcome == OK:
                reads.append(op)
            continue
        if f == WRITE and op.outcome == OK and op.value is not None:
            known, value = True, op.value            # the common case, inlined
        else:
            known, value = produced_value(op)
        if not known:
            unknown.append(op)
            continue
        if value is None:
            if op.outcome != FAIL:
                nulls.append(op)
            continue
        c = canon(value)
        if op.outcome == OK and check_values:
            other = ok_values.get(c)
            if other is not None:
                first, second = sorted((other, op), key=lambda o: o.index)
                raise UserError(
                    f"{AMBIGUOUS_VERSION.name}: ok writes #{first.index} (line {first.line}) and "
                    f"#{second.index} (line {second.line}) of key {op.key!r} write equal values; "
                    "every version of a key must be distinguishable (rule 4)",
                    hint="make every written value unique per key, e.g. with a counter attribute")
            ok_values[c] = op
        exact[c].append(op)
    versions = None
    by_expr: ExpressionVersions | None = None
    expr_ops: dict[int, Operation] = {}
    if unknown:
        known: list[Any] = [header.initial]
        if nulls:
            known.append(None)
        known.extend(op_value(o) for lst in exact.values() for o in lst if o.outcome != FAIL)
        # rule 11: an update written as an expression that cannot be run backwards
        # (checker.inverse: a list append can) is run forwards from the versions
        # (checker.exprversions); the others are run backwards (below)
        expr_ups = [u for u in unknown if is_expression_update(u)
                    and inverse_of(produced_value(u)[1]) is None]
        if expr_ups:
            forward = {u.index for u in expr_ups}
            unknown = [u for u in unknown if u.index not in forward]
            expr_ops = {u.index: u for u in expr_ups}
            by_expr = ExpressionVersions(known, expr_ups, unknown)
            known.extend(by_expr.values)
        if unknown:
            versions = _Versions(known, unknown)
    changes = _ChangeIndex(unknown, versions)

    cands: Candidates = {}
    found: list[Anomaly] = []
    after = clock.invoked_after_complete
    for r in reads:
        v = r.value
        if v is None:
            lst: list[int | None] = [None]
            if nulls:
                lst.extend(d.index for d in nulls if not after(d, r))
            cands[r.index] = lst
            continue
        cv = canon(v)
        producers = exact.get(cv, ())
        if changes.any:
            producers = list(producers) + changes.matching(v, cv)
        if by_expr is not None:
            producers = list(producers) + by_expr.producers(cv, expr_ops)
        if len(producers) == 1 and initial is None:  # the common case: one ok write
            w = producers[0]
            if w.outcome != FAIL and not after(w, r):
                cands[r.index] = [w.index]
                continue
        ok_lst: list[int | None] = []
        failed: list[Operation] = []
        later: list[Operation] = []
        for w in producers:
            if after(w, r):
                later.append(w)
            elif w.outcome == FAIL:
                failed.append(w)
            else:
                ok_lst.append(w.index)
        if initial is not None and cv == initial:
            ok_lst.append(None)                     # the header's initial value (registers)
        if ok_lst:
            cands[r.index] = sorted(set(ok_lst), key=lambda c: -1 if c is None else c)
        else:
            found.append(_integrity_anomaly(r, failed, later))
    return cands, found


def _read_ref(r: Operation) -> str:
    return f"read #{r.index} in {r.region} at {format_duration(r.invoke_time)}"


def _integrity_anomaly(r: Operation, failed: list[Operation], later: list[Operation]) -> Anomaly:
    if failed:
        w = min(failed, key=lambda o: o.index)
        when = format_duration(w.end_time if w.end_time is not None else w.invoke_time)
        return A.make(
            READ_OF_FAILED_WRITE, r.key, [r.index] + sorted(o.index for o in failed),
            f"{_read_ref(r)} returned the value of {w.f} {op_ref(w)}, which failed at {when} "
            "and so never took effect.",
            time_ns=r.invoke_time, region=r.region, value=r.value)
    if later:
        w = min(later, key=lambda o: o.index)
        return A.make(
            FUTURE_READ, r.key, [r.index] + sorted(o.index for o in later),
            f"{_read_ref(r)} (completed at {format_duration(r.complete_time)}) returned the value of "
            f"{w.f} {op_ref(w)}, which was invoked only at {format_duration(w.invoke_time)}, after the "
            "read completed.",
            time_ns=r.invoke_time, region=r.region, value=r.value)
    return A.make(
        PHANTOM_READ, r.key, [r.index],
        f"{_read_ref(r)} returned a value that no write, update or cas of key {r.key!r} "
        "could have produced.",
        time_ns=r.invoke_time, region=r.region, value=r.value)


def read_candidates(header: Header, ops: Iterable[Operation]) -> tuple[Candidates, list[Anomaly]]:
    """Rule 3 for a whole list of operations (any keys): ``(candidates, integrity anomalies)``.

    ``candidates`` maps the index of every ``ok`` read that passed integrity to the
    versions it may have seen: write indices, ``None`` for the initial state.
    """
    by_key: dict[str, list[Operation]] = defaultdict(list)
    for op in ops:
        by_key[op.key].append(op)
    clock = Clock(header.clock_uncertainty_ns)
    cands: Candidates = {}
    found: list[Anomaly] = []
    for key_ops in by_key.values():
        key_ops.sort(key=lambda o: (o.invoke_time, o.index))
        c, a = key_candidates(header, key_ops, clock)
        cands.update(c)
        found.extend(a)
    return cands, found
