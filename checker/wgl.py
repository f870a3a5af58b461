"""Linearizability of one register: the register's transitions and the question per key.

:func:`check_register` states one key's operations as a search problem and asks
``checker.linsearch`` (Wing–Gong–Lowe with Lowe's memoisation and just-in-time
linearization of unknown outcomes; see there). Real-time order is rule 1's *certainly
before* on any δ: a completion precedes an invocation more than δ later (equal times by
file position when δ is 0), and one process's completed operation always precedes its next
ones, whatever δ is.

Operations with an unknown outcome (``info``, or never completed) may take effect at any
point after their invocation, or never (Porcupine gives them an infinite return time):
the search succeeds once every *completed* operation is linearized. Failed operations and
reads with an unknown outcome are left out: they constrain nothing.

The register (:class:`_Step`, the kernel's item spec ``kernel.itemspec.step``, over the one
expression evaluator): read (the state must equal the value read; ``None``: absent), write,
cas ``[expected, new]`` (``expected`` ``None``: must be absent), delete (the state becomes
absent), and update: an ``ok`` update is the write of its post-image (rule 3: the
post-image is the version it made, whatever its change alone would give), an ``info`` one
applies its change to the state (rule 8's set/remove/add or rule 11's UpdateExpression).
Any of the writes may carry a DynamoDB condition (rule 11: an expression or the short
form); a condition the evaluator cannot decide lets the operation through (both outcomes
are admitted). An info update whose result the evaluator cannot tell is not placed there,
and a search that then finds no linearization is unknown, never "not linearizable".
States are the canonical JSON bytes of the item (``None`` for absent), so values compare as
the history format says (``1 == 1.0``).

:func:`check_register` depends only on its arguments; ``checker.props.linearizability``
turns its result into the property's findings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gtcheck.checker.candidates import cpos, ipos
from gtcheck.checker.inverse import inverse_of
from gtcheck.checker.linsearch import BLIND, CHANGE, GUARDED, READ, Problem, search
from gtcheck.checker.exprversions import key_attributes
from gtcheck.checker.operations import Operation
from gtcheck.kernel.exactjson import canon
from gtcheck.kernel.expressions import UNKNOWN as UNSURE
from gtcheck.kernel.itemspec import Request, step

LINEARIZABLE = True
NOT_LINEARIZABLE = False
UNKNOWN = "unknown"

MAX_VISITED = 3_000_000   # memoised (set, state) pairs per key: past it, unknown (bounded memory)

_MISSING = object()      # the operation cannot take effect in this state
_UNSEEN = object()       # not memoised yet


@dataclass
class RegisterResult:
    """What :func:`check_register` found for one key.

    ``valid``: True, False or ``"unknown"`` (the time budget ran out). When False,
    ``prefix`` is the longest linearization the search found (history indices in
    linearization order) and ``stuck`` the index of the completed operation that could not
    be placed after it (its return came before it could be linearized); ``states`` the
    register state after each operation of the prefix (canonical JSON text, ``None`` for
    absent), ``stuck_state`` the state the stuck operation met.
    """

    valid: bool | str
    ops: int = 0
    prefix: list[int] = field(default_factory=list)
    states: list[str | None] = field(default_factory=list)
    stuck: int | None = None
    stuck_state: str | None = None
    steps: int = 0
    reason: str | None = None


class _Step:
    """One operation's transition on states (canonical bytes or None): the kernel's item
    spec (``kernel.itemspec.step``, the one the model runs), values compared exactly, and
    the answer a read recorded must be the one the spec gives (an ok update is the write of
    its post-image, rule 3). Memoised per state (``cache``).

    It also classifies the operation once for the search (``checker.linsearch``'s kinds):
    ``kind``; ``result``, the state a write (blind or guarded) sets; ``guard``, the state a
    cas expects (else ``_MISSING``); ``recorded``, the state a read saw (else
    ``_MISSING``). The spec's request is built on the first ``apply``: the search never
    asks ``apply`` of a read with a recorded value or of a blind write (their kinds say
    what the spec answers), so most operations never need it."""

    __slots__ = ("op", "cache", "request", "recorded", "known", "item", "state", "unsure",
                 "kind", "result", "guard", "_what")

    def __init__(self, op: Operation):
        self.op = op
        self.cache: dict[Any, Any] = {}
        self.unsure = False     # the spec could not tell this update's result on some state
        self.request: Request | None = None
        f = op.f
        extra = op.extra
        cond = extra.get("condition", None) if isinstance(extra, dict) else None
        self.recorded: Any = _MISSING
        self.result: Any = None
        self.guard: Any = _MISSING
        self.kind = GUARDED if cond is not None else BLIND
        # the request's own values (a write's item, a cas's items), encoded once: the spec
        # hands them back as they are (the request holds them, so their ids are stable)
        known: dict[int, Any] = {}
        if f == "read":
            value = None
            self.kind = READ
            self.recorded = None if op.value is None else canon(op.value)
        elif f == "write" or (f == "update" and op.outcome == "ok" and op.value is not None):
            # rule 3: an ok update's post-image is the version it made, whatever its change
            # would give (the change may be partial): the write of that post-image
            f = "write"
            value = op.value
            if value is not None:
                known[id(value)] = self.result = canon(value)
        elif f == "cas":
            value = op.invoke_value
            for x in value:
                if x is not None:
                    known[id(x)] = canon(x)
            expected, new = value
            self.kind = GUARDED
            self.guard = None if expected is None else known[id(expected)]
            self.result = None if new is None else known[id(new)]
        elif f == "delete":
            value = None
        elif f == "update":
            value = op.invoke_value if isinstance(op.invoke_value, dict) else {}
            self.kind = CHANGE
        else:  # pragma: no cover - the reader admits no other f
            raise ValueError(f"unknown f {f!r}")
        self.known = known
        self._what = (f, value, cond)

    def _spec_request(self) -> Request:
        f, value, cond = self._what
        self.request = Request(f, self.op.key, value, cond, key_attributes(self.op))
        return self.request

    def _encode(self, x: Any) -> Any:
        """A value the spec handed back, as a state: the stored item is ``state`` already,
        the request's own values are known; anything else is encoded now."""
        if x is None:
            return None
        if x is self.item:
            return self.state
        e = self.known.get(id(x))
        return canon(x) if e is None else e

    def _same(self, a: Any, b: Any) -> bool:
        return self._encode(a) == self._encode(b)

    def apply(self, state: Any, values: dict[Any, Any]) -> Any:
        """The new state, or ``_MISSING`` when the operation cannot take effect here."""
        hit = self.cache.get(state, _UNSEEN)
        if hit is not _UNSEEN:
            return hit
        request = self.request or self._spec_request()
        out: Any = _MISSING
        item = self.item = values.get(state)
        self.state = state
        new, ok, answer = step(item, request, self._same)
        if ok and new is UNSURE:
            # the evaluator cannot tell what this (info) update made of this state: it is
            # not placed here, and a search that then fails is unknown (check_register)
            self.unsure = True
        elif ok and (self.recorded is _MISSING or self._encode(answer) == self.recorded):
            out = self._encode(new)
            if out is not None:
                values.setdefault(out, new)
        self.cache[state] = out
        return out


def _included(op: Operation) -> bool:
    if op.outcome == "fail":
        return False
    if op.f == "read" and op.outcome != "ok":
        return False        # a read with unknown outcome (or an unconstrained one) says nothing
    return True


def check_register(ops: list[Operation], initial: Any = None, *, delta: int = 0,
                   timeout_s: float | None = None,
                   clock: Callable[[], float] = time.process_time,
                   max_visited: int = MAX_VISITED) -> RegisterResult:
    """Is this one key's history linearizable as a register starting at ``initial``?

    ``delta`` is the clock uncertainty: real-time order is rule 1's *certainly before*
    (a completion precedes an invocation when the invocation is more than ``delta``
    later, equal times by file position when ``delta`` is 0, and always when both are the
    same process's, in file order). ``timeout_s`` bounds the CPU time spent and
    ``max_visited`` the memoised configurations; past either the result is ``unknown``.
    The search is ``checker.linsearch``'s.
    """
    kept = [op for op in ops if _included(op)]
    n = len(kept)
    if n == 0:
        return RegisterResult(valid=LINEARIZABLE)
    problem, init, steps = _problem(kept, initial, delta)
    deadline = None if timeout_s is None else clock() + timeout_s
    out = search(problem, init, deadline=deadline, clock=clock, timeout_s=timeout_s,
                 max_visited=max_visited)
    if out.valid is True:
        return RegisterResult(valid=LINEARIZABLE, ops=n, steps=out.steps)
    if out.valid == UNKNOWN:
        return RegisterResult(valid=UNKNOWN, ops=n, steps=out.steps, reason=out.reason)
    unsure = [kept[i].index for i, s in enumerate(steps) if s.unsure]
    if unsure:
        return RegisterResult(valid=UNKNOWN, ops=n, steps=out.steps, reason=(
            "no linearization found, but update" + ("s" if len(unsure) > 1 else "") + " #"
            + ", #".join(map(str, unsure[:5])) + " (unknown outcome) may have taken effect "
            "in a way gtcheck cannot evaluate (an expression it cannot read, or a missing "
            "item whose key attributes are not recorded)"))
    states: list[Any] = []
    st = init
    for g in out.order:
        st = problem.apply(g, st)
        states.append(_text(st))
    return RegisterResult(valid=NOT_LINEARIZABLE, ops=n,
                          prefix=[kept[g].index for g in out.order], states=states,
                          stuck=None if out.stuck is None else kept[out.stuck].index,
                          stuck_state=_text(out.stuck_state), steps=out.steps)


def _problem(kept: list[Operation], initial: Any, delta: int
             ) -> tuple[Problem, Any, list[_Step]]:
    """The search's view of one key: each operation's kind (``checker.linsearch``), and
    rule 1's real-time order as counts and process predecessors."""
    values: dict[Any, Any] = {}      # state (canonical bytes) -> the item; filled as states appear
    init = None if initial is None else canon(initial)
    if initial is not None:
        values[init] = initial
    steps = [_Step(op) for op in kept]
    memo = [s.cache for s in steps]

    def apply(g: int, state: Any) -> Any:
        new = memo[g].get(state, _UNSEEN)
        if new is _UNSEEN:
            new = steps[g].apply(state, values)
        return new

    n = len(kept)
    kind = [s.kind for s in steps]
    result = [s.result for s in steps]
    guard = [s.guard for s in steps]
    inverse: list[Any] = [None] * n
    sig: list[Any] = [None] * n
    for g, s in enumerate(steps):
        op = s.op
        if s.kind == READ:
            if s.recorded is not None:
                values.setdefault(s.recorded, op.value)
        elif s.kind == CHANGE:
            inverse[g] = inverse_of(op.invoke_value)
        else:                 # the items a write or cas holds, by their states
            f, value, _ = s._what
            for v in (value if f == "cas" else (value,) if f == "write" else ()):
                if v is not None:
                    values.setdefault(s.known[id(v)], v)
        if op.outcome != "ok":
            cond = (op.extra or {}).get("condition") if isinstance(op.extra, dict) else None
            sig[g] = (op.f, canon(op.invoke_value if op.f != "write" else op.value),
                      canon(cond))

    order = realtime(Spans.of(kept), delta)
    ok, info = order.ok, order.info
    need: list[Any] = []
    for g in ok:
        if kind[g] == READ:
            need.append(steps[g].recorded)
        else:
            need.append(guard[g])
    problem = Problem(
        apply=apply, missing=_MISSING, memo=memo, values=values, kind=kind, result=result,
        guard=guard, sig=[sig[g] for g in info], inverse=inverse,
        ok_gid=ok, ok_k=order.ok_k, ok_prev=order.ok_prev, ok_need=need, info_gid=info,
        info_k=order.info_k, info_prev=order.info_prev)
    return problem, init, steps


class Spans:
    """When operations (or transactions) ran, as rule 1 reads them, one column per field:
    each one's invocation time and file position, its completion's when it completed ok
    (else None), its process."""

    __slots__ = ("invoke_time", "ipos", "complete_time", "cpos", "process")

    def __init__(self) -> None:
        self.invoke_time: list[int] = []
        self.ipos: list[float] = []
        self.complete_time: list[int | None] = []
        self.cpos: list[float] = []
        self.process: list[Any] = []

    def add(self, invoke_time: int, ipos: float, complete_time: int | None, cpos: float,
            process: Any) -> None:
        self.invoke_time.append(invoke_time)
        self.ipos.append(ipos)
        self.complete_time.append(complete_time)
        self.cpos.append(cpos)
        self.process.append(process)

    @classmethod
    def of(cls, ops: list[Operation]) -> "Spans":
        sp = cls()
        sp.invoke_time = [op.invoke_time for op in ops]
        sp.ipos = [ipos(op) for op in ops]
        sp.complete_time = [op.complete_time if op.outcome == "ok" else None for op in ops]
        sp.cpos = [cpos(op) for op in ops]
        sp.process = [op.process for op in ops]
        return sp


@dataclass
class RealTime:
    """Rule 1 for the search (``checker.linsearch.Problem``): the completed operations by
    completion (``ok``, ids), the others by invocation (``info``), and for each how many
    completions end certainly before it by time (``k``) and its process's previous
    completed operation (``prev``, a rank in ``ok``, -1 if none)."""

    ok: list[int]
    info: list[int]
    ok_k: list[int]
    ok_prev: list[int]
    info_k: list[int]
    info_prev: list[int]


def realtime(spans: Spans, delta: int) -> RealTime:
    done, inv, ip, cp = spans.complete_time, spans.invoke_time, spans.ipos, spans.cpos
    proc = spans.process
    n = len(inv)
    # one sort of every invocation and completion: the completions come out in their order
    # (time, then file position), and each invocation after exactly the completions that
    # end certainly before it (rule 1 by time: more than delta earlier; with delta 0,
    # earlier, or at the same time and earlier in the file); ties go to the invocation
    if delta:
        events = [(inv[g], 0, ip[g], g) for g in range(n)]
        events += [(done[g] + delta, 1, cp[g], g) for g in range(n) if done[g] is not None]
    else:
        events = [(inv[g], ip[g], 0, g) for g in range(n)]
        events += [(done[g], cp[g], 1, g) for g in range(n) if done[g] is not None]
    events.sort()
    ok_ids: list[int] = []
    k = [0] * n
    rank = [-1] * n
    completion = 1 if delta else 2
    for e in events:
        g = e[3]
        if e[completion]:
            rank[g] = len(ok_ids)
            ok_ids.append(g)
        else:
            k[g] = len(ok_ids)
    # rule 1: one process's completed operation precedes its next ones, whatever delta is
    prev = [-1] * n
    last_ok: dict[Any, int] = {}
    for g in sorted(range(n), key=ip.__getitem__):
        q = last_ok.get(proc[g])
        if q is not None:
            prev[g] = q
        if rank[g] >= 0:
            last_ok[proc[g]] = rank[g]
    info = sorted([(k[g], ip[g], g) for g in range(n) if done[g] is None])
    info_ids = [g for _, _, g in info]
    return RealTime(ok=ok_ids, info=info_ids, ok_k=[k[g] for g in ok_ids],
                    ok_prev=[prev[g] for g in ok_ids], info_k=[k[g] for g in info_ids],
                    info_prev=[prev[g] for g in info_ids])


def _text(state: Any) -> str | None:
    return None if state is None else state.decode()
