"""Linearizability of one register: the Wing–Gong–Lowe search with Lowe's memoisation.

The search is Porcupine's (``checker.go``): the history is a doubly linked list of call and
return entries in real-time order; the search walks it, *linearizing* a call (applying its
operation to the register) when the register allows it, which lifts the call and its return
out of the list; when it meets the return of an operation not yet linearized it backtracks
(undoing the last linearization, putting the two entries back where they were). Lowe's
improvement: every (set of linearized operations, register state) already visited is
remembered (the set as a Python int used as a bitset), and a linearization that leads to a
visited pair is not tried again.

Operations with an unknown outcome (``info``, or never completed) have no return entry:
they may be linearized at any point after their invocation, or never (Porcupine gives them
an infinite return time; here the search succeeds once every *completed* operation is
linearized). Failed operations and reads with an unknown outcome are left out: they
constrain nothing.

The register: read (the state must equal the value read; ``None``: absent), write, cas
``[expected, new]`` (``expected`` ``None``: must be absent), update (its change applied to
the state: rule 8's set/remove/add or rule 11's UpdateExpression; an ok update's
post-image, when known, must be what it gives) and delete (the state becomes absent); any
of the writes may carry a DynamoDB condition (rule 11: an expression or the short form).
All of it is the kernel's item spec (``kernel.itemspec.step``), over the one expression
evaluator: a condition it cannot decide lets the operation through (both outcomes are
admitted); an ok update whose result it cannot tell moves to its recorded post-image; an
info update whose result it cannot tell is not placed there, and a search that then finds
no linearization is unknown, never "not linearizable". States are the canonical JSON bytes of the item (``None`` for absent), so values
compare as the history format says (``1 == 1.0``).

:func:`check_register` depends only on its arguments; ``checker.props.linearizability``
turns its result into the property's findings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gtcheck.checker.candidates import cpos, ipos
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
    the answer the history recorded (a read's item, an ok update's post-image, when
    known) must be the one the spec gives. Memoised per state (``cache``)."""

    __slots__ = ("op", "cache", "request", "recorded", "known", "item", "state", "unsure")

    def __init__(self, op: Operation):
        self.op = op
        self.cache: dict[Any, Any] = {}
        self.unsure = False     # the spec could not tell this update's result on some state
        f = op.f
        extra = op.extra or {}
        cond = extra.get("condition", None) if isinstance(extra, dict) else None
        self.recorded: Any = _MISSING
        # the request's own values (a write's item, a cas's items), encoded once: the spec
        # hands them back as they are (the request holds them, so their ids are stable)
        known: dict[int, Any] = {}
        if f == "read":
            value = None
            self.recorded = None if op.value is None else canon(op.value)
        elif f == "write":
            value = op.value
            if value is not None:
                known[id(value)] = canon(value)
        elif f == "cas":
            value = op.invoke_value
            for x in value:
                if x is not None:
                    known[id(x)] = canon(x)
        elif f == "delete":
            value = None
        elif f == "update":
            value = op.invoke_value if isinstance(op.invoke_value, dict) else {}
            if op.outcome == "ok" and op.value is not None:
                self.recorded = canon(op.value)
        else:  # pragma: no cover - the reader admits no other f
            raise ValueError(f"unknown f {f!r}")
        self.known = known
        self.request = Request(f, op.key, value, cond, key_attributes(op))

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
        request = self.request
        out: Any = _MISSING
        item = self.item = values.get(state)
        self.state = state
        new, ok, answer = step(item, request, self._same)
        if ok and new is UNSURE:
            # the evaluator cannot tell what this update made of this state: an ok update
            # may have made its recorded post-image; an info update is not placed here,
            # and a search that then fails is unknown (check_register)
            if self.recorded is not _MISSING:
                out = self.recorded
            else:
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

    ``delta`` is the clock uncertainty (rule 1): a completion precedes an invocation when
    the invocation is more than ``delta`` later (equal times: by file position when
    ``delta`` is 0). ``timeout_s`` bounds the CPU time spent and
    ``max_visited`` the memoised pairs (about 100 bytes each, plus the bitset); past either
    the result is ``unknown``.
    """
    kept = [op for op in ops if _included(op)]
    n = len(kept)
    values: dict[Any, Any] = {}      # state (canonical bytes) -> the item; filled as states appear
    init = None if initial is None else canon(initial)
    if initial is not None:
        values[init] = initial
    if n == 0:
        return RegisterResult(valid=LINEARIZABLE)
    steps = [_Step(op) for op in kept]
    memo = [s.cache for s in steps]

    # entries: node 0 is the head; call of op i is 2i+1, its return 2i+2. Sorted by time,
    # then (delta 0) file position; with delta > 0 a return is shifted by delta and an
    # invocation at the very same moment comes first (not certainly after).
    events: list[tuple] = []
    completed = 0
    for i, op in enumerate(kept):
        events.append((op.invoke_time, 0 if delta else ipos(op), 2 * i + 1))
        if op.outcome == "ok" and op.complete_time is not None:
            completed += 1
            if delta:
                events.append((op.complete_time + delta, 1, 2 * i + 2))
            else:
                events.append((op.complete_time, cpos(op), 2 * i + 2))
    events.sort()
    size = 2 * n + 1
    nxt = [-1] * size
    prv = [-1] * size
    has_ret = [False] * n
    last = 0
    for _, _, node in events:
        nxt[last] = node
        prv[node] = last
        last = node
        if node % 2 == 0:
            has_ret[node // 2 - 1] = True

    deadline = None if timeout_s is None else clock() + timeout_s
    cache: set[tuple[int, Any]] = set()
    linearized = 0
    state = init
    # the stack of linearized calls as a cons list: (node, state before, parent)
    stack: tuple | None = None
    depth = 0
    done_ok = 0           # completed operations linearized
    best_depth = -1
    best_stack: tuple | None = None
    best_stuck = -1
    best_state: Any = None
    entry = nxt[0]
    count = 0
    while done_ok < completed:
        count += 1
        if count & 0x3FFF == 0:
            if deadline is not None and clock() > deadline:
                return RegisterResult(valid=UNKNOWN, ops=n, steps=count,
                                      reason=f"the linearizability search ran out of its "
                                             f"{timeout_s:g} s budget")
            if len(cache) > max_visited:
                return RegisterResult(valid=UNKNOWN, ops=n, steps=count,
                                      reason=f"the linearizability search visited more than "
                                             f"{max_visited:,} states (memory budget)")
        if entry & 1:                     # a call: try to linearize it here
            i = entry >> 1
            new = memo[i].get(state, _UNSEEN)    # the memo inline: the hot path
            if new is _UNSEEN:
                new = steps[i].apply(state, values)
            if new is not _MISSING:
                lin2 = linearized | (1 << i)
                k = (lin2, new)
                if k not in cache:
                    cache.add(k)
                    stack = (entry, state, stack)
                    depth += 1
                    state = new
                    linearized = lin2
                    if has_ret[i]:
                        done_ok += 1
                    # lift the call and its return out of the list
                    p, q = prv[entry], nxt[entry]
                    nxt[p] = q
                    if q != -1:
                        prv[q] = p
                    if has_ret[i]:
                        r = entry + 1
                        p, q = prv[r], nxt[r]
                        nxt[p] = q
                        if q != -1:
                            prv[q] = p
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
            continue
        # a return of an operation not linearized yet: backtrack
        if depth > best_depth:
            best_depth, best_stack, best_stuck, best_state = depth, stack, entry, state
        if stack is None:
            break
        entry, state, stack = stack
        depth -= 1
        i = entry >> 1
        linearized &= ~(1 << i)
        if has_ret[i]:
            done_ok -= 1
            r = entry + 1
            nxt[prv[r]] = r
            if nxt[r] != -1:
                prv[nxt[r]] = r
        nxt[prv[entry]] = entry
        if nxt[entry] != -1:
            prv[nxt[entry]] = entry
        entry = nxt[entry]
    else:
        return RegisterResult(valid=LINEARIZABLE, ops=n, steps=count)

    unsure = [kept[i].index for i, s in enumerate(steps) if s.unsure]
    if unsure:
        return RegisterResult(valid=UNKNOWN, ops=n, steps=count, reason=(
            "no linearization found, but update" + ("s" if len(unsure) > 1 else "") + " #"
            + ", #".join(map(str, unsure[:5])) + " (unknown outcome) may have taken effect "
            "in a way gtcheck cannot evaluate (an expression it cannot read, or a missing "
            "item whose key attributes are not recorded)"))
    order: list[int] = []
    node = best_stack
    while node is not None:
        order.append(node[0] >> 1)
        node = node[2]
    order.reverse()
    prefix = [kept[i].index for i in order]
    states: list[Any] = []
    st = init
    for i in order:
        st = steps[i].apply(st, values)
        states.append(_text(st))
    stuck_i = (best_stuck >> 1) - 1
    return RegisterResult(valid=NOT_LINEARIZABLE, ops=n, prefix=prefix, states=states,
                          stuck=kept[stuck_i].index, stuck_state=_text(best_state),
                          steps=count)


def _text(state: Any) -> str | None:
    return None if state is None else state.decode()
