"""Rule 8 for updates written as DynamoDB expressions: which values an update whose
post-image is unknown (``info``) may have produced.

Such an update is its UpdateExpression applied to *some version* of its key (rules 8 and
11). An expression that ``checker.inverse`` cannot run backwards the way it runs a
set/remove/add change or a list append (``checker.candidates`` does those) is run
forwards here: from the versions known from the
history (the initial state, what ok and info writes, cas and ok updates produced), it
applies every unknown update, expression or set/remove/add, where its condition may hold,
and again to what that produced, each update at most once along a chain, until nothing
new appears. A value met on the way is one the update may have produced.

Never a false alarm: where the evaluator cannot tell (an UNKNOWN result: an expression
it cannot read, a missing item whose key attributes are unknown), or where the closure
grows past its budget, the update is taken to have possibly produced *any* value.
"""

from __future__ import annotations

from typing import Any, Iterable

from gtcheck.checker.operations import FAIL, Operation
from gtcheck.kernel.exactjson import canon
from gtcheck.kernel.expressions import UNKNOWN
from gtcheck.kernel.itemspec import Request, step

MAX_STATES = 20_000        # (version, updates applied) pairs walked per key; past it: anything


def is_expression_update(op: Operation) -> bool:
    """Whether an update carries an UpdateExpression (rule 11) rather than set/remove/add
    (cheap: looks at the shape only)."""
    v = op.invoke_value
    return op.f == "update" and type(v) is dict and "expression" in v


def key_attributes(op: Operation) -> dict[str, Any] | None:
    """The key attributes an update of a missing item starts from, when recorded."""
    k = (op.extra or {}).get("key_attributes")
    return k if isinstance(k, dict) else None


class _Step:
    """One unknown update as a function on versions, by the kernel's item spec (the rule
    the model runs and the register replays): a new version, None (it cannot take effect
    there: its condition does not hold, or DynamoDB refuses it on that version) or
    UNKNOWN."""

    __slots__ = ("op", "request", "expr")

    def __init__(self, op: Operation):
        self.op = op
        extra = op.extra or {}
        self.request = Request("update", op.key, op.invoke_value, extra.get("condition"),
                               key_attributes(op))
        self.expr = is_expression_update(op)

    def __call__(self, version: Any) -> Any:
        new, ok, _ = step(version, self.request)
        return new if ok else None


class ExpressionVersions:
    """What each unknown expression update of one key may have produced.

    A depth-first walk over (version, updates already applied): every unknown update
    applies at most once along a chain, as in the history (an update applied to its own
    result would make a decrement look like two)."""

    def __init__(self, known: Iterable[Any], expr_updates: list[Operation],
                 other_updates: list[Operation]):
        self.anything: set[int] = set()           # op indices that may produce any value
        self.produced: dict[bytes, set[int]] = {}  # canonical value -> op indices
        self.values: list[Any] = []               # the new values reached
        steps = [_Step(op) for op in expr_updates if op.outcome != FAIL]
        steps += [_Step(op) for op in other_updates if op.outcome != FAIL]
        exprs = {s.op.index for s in steps if s.expr}
        seen: set[bytes] = set()
        stack: list[tuple[Any, bytes, int]] = []
        visited: set[tuple[bytes, int]] = set()
        for v in known:
            c = canon(v)
            if c not in seen:
                seen.add(c)
                visited.add((c, 0))
                stack.append((v, c, 0))
        memo: dict[tuple[int, bytes], Any] = {}   # (step, version) -> (result, its canon)
        while stack:
            v, cv, used = stack.pop()
            for i, s in enumerate(steps):
                if used >> i & 1:
                    continue
                hit = memo.get((i, cv))
                if hit is None:
                    r = s(v)
                    hit = memo[(i, cv)] = (r, canon(r) if isinstance(r, dict) else None)
                r, c = hit
                if r is None:
                    continue
                if r is UNKNOWN or c is None:
                    if s.expr:
                        self.anything.add(s.op.index)
                    continue
                if s.expr:
                    self.produced.setdefault(c, set()).add(s.op.index)
                state = (c, used | 1 << i)
                if state in visited:
                    continue
                visited.add(state)
                stack.append((r, c, state[1]))
                if c not in seen:
                    seen.add(c)
                    self.values.append(r)
                if len(visited) > MAX_STATES:
                    self.anything |= exprs        # too many chains to follow: admit anything
                    return

    def producers(self, cv: bytes, ops: dict[int, Operation]) -> list[Operation]:
        """The unknown expression updates that may have produced the value ``cv``."""
        idx = self.produced.get(cv, set()) | self.anything
        return [ops[i] for i in sorted(idx)]
