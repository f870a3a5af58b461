"""Rules 1, 3, 4 and 8: which writes each read may have seen (and the integrity anomalies).

For every ``ok`` read of a key this module lists the versions the read may have returned:

* a ``null`` read may have seen the initial state (``None``) or any ``ok``/``info`` delete
  that was not invoked certainly after the read completed;
* a non-null read may have seen any ``ok`` or ``info`` write, update or cas of that key
  that produced an equal value and was not invoked certainly after the read completed.
  A ``write`` produces its item, a ``cas`` its new value, an ``ok`` update its post-image.
  The post-image of an ``info`` update (or an ``ok`` update whose post-image is missing)
  is unknown (rule 8: the change applied to some version): such an update is a candidate
  for a read whose value *agrees with the change*: every ``set`` attribute present with
  the value set, every ``remove``d attribute absent, every ``add`` attribute present (a
  number for a numeric add, a list holding the added elements for a list add).

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

Values are compared by their canonical JSON (sorted keys), so ``1`` and ``1.0`` differ.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

import orjson

from gtcheck.checker import anomalies as A
from gtcheck.checker.anomalies import Anomaly, fmt_time, op_ref
from gtcheck.kernel.items import is_number
from gtcheck.checker.operations import CAS, DELETE, FAIL, OK, READ, UPDATE, WRITE, Header, Operation
from gtcheck.kernel.errors import UserError

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
    """Canonical bytes of a JSON value, for equality and hashing."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        import json
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr).encode()


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


def agrees_with_change(value: Any, change: dict) -> bool:
    """True when ``value`` could be ``change`` applied to some version (see module doc)."""
    if not isinstance(value, dict) or not isinstance(change, dict):
        return False
    for k, v in (change.get("set") or {}).items():
        if k not in value or value[k] != v:
            return False
    for k in change.get("remove") or ():
        if k in value:
            return False
    for k, v in (change.get("add") or {}).items():
        if k not in value:
            return False
        cur = value[k]
        if is_number(v):
            if not is_number(cur):
                return False
        elif isinstance(v, list):
            if not isinstance(cur, list) or any(e not in cur for e in v):
                return False
    return True


# --------------------------------------------------------------------------- rule 3
class _ChangeIndex:
    """Updates with an unknown post-image, indexed by their first ``set`` attribute."""

    def __init__(self, updates: Iterable[Operation]):
        self.by_attr: dict[tuple[str, bytes], list[Operation]] = defaultdict(list)
        self.rest: list[Operation] = []
        self.any = False
        for u in updates:
            self.any = True
            change = produced_value(u)[1]
            sets = change.get("set") if isinstance(change, dict) else None
            if sets:
                k = next(iter(sets))
                self.by_attr[(k, canon(sets[k]))].append(u)
            else:
                self.rest.append(u)

    def matching(self, value: Any) -> list[Operation]:
        if not self.any or not isinstance(value, dict):
            return []
        found: list[Operation] = []
        if self.by_attr:
            for k, v in value.items():
                bucket = self.by_attr.get((k, canon(v)))
                if bucket:
                    found.extend(u for u in bucket if agrees_with_change(value, produced_value(u)[1]))
        found.extend(u for u in self.rest if agrees_with_change(value, produced_value(u)[1]))
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
                    f"{A.AMBIGUOUS_VERSION}: ok writes #{first.index} (line {first.line}) and "
                    f"#{second.index} (line {second.line}) of key {op.key!r} write equal values; "
                    "every version of a key must be distinguishable (rule 4)",
                    hint="make every written value unique per key, e.g. with a counter attribute")
            ok_values[c] = op
        exact[c].append(op)
    changes = _ChangeIndex(unknown)

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
            producers = list(producers) + changes.matching(v)
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
    return f"read #{r.index} in {r.region} at {fmt_time(r.invoke_time)}"


def _integrity_anomaly(r: Operation, failed: list[Operation], later: list[Operation]) -> Anomaly:
    if failed:
        w = min(failed, key=lambda o: o.index)
        when = fmt_time(w.end_time if w.end_time is not None else w.invoke_time)
        return A.make(
            A.READ_OF_FAILED_WRITE, r.key, [r.index] + sorted(o.index for o in failed),
            f"{_read_ref(r)} returned the value of {w.f} {op_ref(w)}, which failed at {when} "
            "and so never took effect.",
            time_ns=r.invoke_time, region=r.region, value=r.value)
    if later:
        w = min(later, key=lambda o: o.index)
        return A.make(
            A.FUTURE_READ, r.key, [r.index] + sorted(o.index for o in later),
            f"{_read_ref(r)} (completed at {fmt_time(r.complete_time)}) returned the value of "
            f"{w.f} {op_ref(w)}, which was invoked only at {fmt_time(w.invoke_time)}, after the "
            "read completed.",
            time_ns=r.invoke_time, region=r.region, value=r.value)
    return A.make(
        A.PHANTOM_READ, r.key, [r.index],
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
