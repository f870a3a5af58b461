"""Linearizability of a multi-register whose transactions are atomic (Knossos's
``multi-register`` model).

A Jepsen ``:txn`` history (``[[:read :x 1] [:write :y 2]]``: reads and writes of several
registers in one operation) is imported as one gt operation per read and write, the
operations of one transaction sharing a ``txn`` id (``kernel.jepsen``). Judging each
key on its own would miss what a transaction promises: a read transaction that sees one
write of another transaction must see all of them. So here a *transaction* is one
operation of the search, over a state that maps every key to its register:

* it runs from its first operation's invocation to its last one's completion (rule 1 on
  that interval); it took effect (``ok``) when its operations did, never (``fail``, left
  out) or maybe (``info``: at any time after its invocation, or never);
* applied to a state it applies its operations in order, each by the register's own rule
  (``checker.wgl``): a read needs its key to hold the value read, a write sets it; a read
  that returned Knossos's unconstrained ``nil`` constrains nothing;
* keys that no transaction ties together are still judged each on its own (the property
  groups keys into the connected parts that transactions join: P-compositionality holds
  between the parts, not inside one).

The search is ``checker.linsearch``'s (a transaction that writes is a state change with no
inverse, searched forwards; a read-only one is a read).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from gtcheck.checker.candidates import cpos, ipos
from gtcheck.checker.linsearch import CHANGE, READ, Problem, search
from gtcheck.checker.operations import Operation
from gtcheck.checker.wgl import (_MISSING, _UNSEEN, LINEARIZABLE, MAX_VISITED, NOT_LINEARIZABLE,
                                 UNKNOWN, RegisterResult, Spans, _included, _Step, realtime)
from gtcheck.kernel.exactjson import canon


def txn_of(op: Operation) -> Any:
    """The transaction id of an operation (its ``txn`` field), or None."""
    extra = op.extra
    return extra.get("txn") if isinstance(extra, dict) else None


def transactions(ops: list[Operation]) -> list[list[Operation]]:
    """The operations grouped into transactions (an operation with no ``txn`` is one on its
    own), in the order of their first invocation."""
    groups: dict[Any, list[Operation]] = {}
    for op in sorted(ops, key=lambda o: (o.invoke_time, o.line, o.index)):
        t = txn_of(op)
        key = ("op", op.index) if t is None else ("txn", op.process, canon(t))
        groups.setdefault(key, []).append(op)
    return list(groups.values())


def components(by_key: dict[str, list[Operation]]) -> list[list[str]]:
    """The keys joined by transactions: each part is a sorted list of keys; a key no
    transaction shares with another is a part of its own."""
    parent = {k: k for k in by_key}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first_key: dict[Any, str] = {}
    for key, ops in by_key.items():
        for op in ops:
            t = txn_of(op)
            if t is None:
                continue
            tid = (op.process, canon(t))
            other = first_key.setdefault(tid, key)
            a, b = find(key), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    parts: dict[str, list[str]] = {}
    for k in by_key:
        parts.setdefault(find(k), []).append(k)
    return sorted(sorted(p) for p in parts.values())


def check_transactions(ops: list[Operation], initial: Any = None, *, delta: int = 0,
                       timeout_s: float | None = None,
                       clock: Callable[[], float] = time.process_time,
                       max_visited: int = MAX_VISITED) -> RegisterResult:
    """Is this history linearizable as a multi-register whose transactions are atomic,
    every register starting at ``initial``? (See the module doc; the arguments are
    :func:`checker.wgl.check_register`'s.) ``prefix`` and ``stuck`` name a transaction by
    the index of its first operation."""
    units: list[list[Operation]] = []
    spans = Spans()
    for txn in transactions(ops):
        kept = [op for op in txn if _included(op)]
        if not kept:
            continue
        first = txn[0]
        ended = [op for op in txn if op.end_time is not None]
        if any(op.outcome == "ok" for op in kept) and ended:
            last = max(ended, key=lambda o: (o.end_time, cpos(o)))
            done, at = last.end_time, cpos(last)
        else:
            done, at = None, 0.0            # an unknown outcome: no completion
        units.append(kept)
        spans.add(first.invoke_time, ipos(first), done, at, first.process)
    if not units:
        return RegisterResult(valid=LINEARIZABLE)
    init_item = None if initial is None else canon(initial)
    values: dict[Any, Any] = {}
    if initial is not None:
        values[init_item] = initial
    steps = [[_Step(op) for op in unit] for unit in units]
    memo: list[dict[Any, Any]] = [{} for _ in units]

    def apply(g: int, state: Any) -> Any:
        hit = memo[g].get(state, _UNSEEN)
        if hit is not _UNSEEN:
            return hit
        regs = dict(state)
        out: Any = _MISSING
        for op, step in zip(units[g], steps[g]):
            new = step.apply(regs.get(op.key, init_item), values)
            if new is _MISSING:
                break
            if new == init_item:
                regs.pop(op.key, None)
            else:
                regs[op.key] = new
        else:
            out = tuple(sorted(regs.items()))
        memo[g][state] = out
        return out

    order = realtime(spans, delta)
    kind = [READ if all(op.f == "read" for op in unit) else CHANGE for unit in units]
    n = len(units)
    problem = Problem(
        apply=apply, missing=_MISSING, memo=memo, values=values, kind=kind, result=[None] * n,
        guard=[_MISSING] * n,
        sig=[tuple((op.f, op.key, canon(op.invoke_value), canon(op.value)) for op in units[g])
             for g in order.info],
        inverse=[None] * n, ok_gid=order.ok, ok_k=order.ok_k, ok_prev=order.ok_prev,
        ok_need=[_MISSING] * len(order.ok), info_gid=order.info, info_k=order.info_k,
        info_prev=order.info_prev)
    deadline = None if timeout_s is None else clock() + timeout_s
    out = search(problem, (), deadline=deadline, clock=clock, timeout_s=timeout_s,
                 max_visited=max_visited)
    size = sum(len(u) for u in units)
    if out.valid is True:
        return RegisterResult(valid=LINEARIZABLE, ops=size, steps=out.steps)
    if out.valid == UNKNOWN:
        return RegisterResult(valid=UNKNOWN, ops=size, steps=out.steps, reason=out.reason)
    states: list[Any] = []
    st: Any = ()
    for g in out.order:
        st = apply(g, st)
        states.append(_text(st))
    return RegisterResult(valid=NOT_LINEARIZABLE, ops=size,
                          prefix=[units[g][0].index for g in out.order], states=states,
                          stuck=None if out.stuck is None else units[out.stuck][0].index,
                          stuck_state=_text(out.stuck_state), steps=out.steps)


def _text(state: Any) -> str | None:
    """A multi-register state as text: ``{"x": 1, "y": 2}`` (keys at the initial value
    left out)."""
    if not state:
        return "initial"
    return "{" + ", ".join(f"{k!r}: {'absent' if v is None else v.decode()}"
                           for k, v in state) + "}"
