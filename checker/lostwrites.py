"""Rule 12: the acknowledged writes that last-writer-wins threw away, per key.

The *versions* of a key are its initial state and its ok writes, in the conflict order
(the order ``checker.ordering`` or the solver chose: rule 5). The *base* of an ok update,
cas or conditional write w' is the set of versions before w' that pass every test that
applies to w':

* an update: its change, applied to the version, yields w''s recorded post-image (an
  UpdateExpression through the kernel's evaluator, a set/remove/add change by rule 8);
* a cas: the version equals the expected value (``null``: the item is absent);
* any write with a ``condition`` (rule 11): the condition holds on the version.

The *surviving chain* starts at the last version and steps from each version w' to the
latest version of base(w'); it stops at a version without a base (a blind put, an
unconditional delete) or whose base is empty. Every ok write strictly between a chain
version w' and the next one down the chain is *lost to* w': w' was applied to a version
older than it, so what it did survives nowhere though no one overwrote it on purpose.

Never a guess. What the evaluator cannot decide (an expression it cannot read, an update
of a missing item whose key attributes are unknown, a version whose value the history does
not give, a condition or change on a value that is not an item: a strong-mode history may
hold plain register values) is no evidence: when such a version lies between w' and the latest version that
certainly passes, the latest version of base(w') is not known, so the chain stops at w'
and nothing is reported through it. Every write named is one the definition names,
whatever the undecided tests would have said; an undecided test can only leave writes
unnamed (a lower count, never a higher one).

Cost: one sort of the key's versions, then each step of the chain scans down from w' to
its base's latest version and the next step starts there, so every version is tested at
most once per key: O(n log n).

Where two versions have equal values (a delete and the initial state are both "absent";
strong-mode and register histories may repeat values) the step to "the latest version
with that value" is a reconstruction: the writes named are the definition's, but another
version with the same value may be the one w' really read. Such findings are flagged
``reconstructed``; the count is exact under the definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gtcheck.checker.exprversions import key_attributes
from gtcheck.checker.operations import CAS, DELETE, OK, UPDATE, WRITE, Operation
from gtcheck.kernel.exactjson import canon
from gtcheck.kernel.expressions import REJECTED, UNKNOWN, history_condition, history_update
from gtcheck.kernel.items import apply_change

# A test maps a version's value to True (passes), False (does not) or None (cannot tell).
Test = Callable[[Any], Any]
_UNKNOWN_VALUE = object()     # a version whose value the history does not give


@dataclass(slots=True)
class LostWrite:
    """One write rule 12 names: ``write`` was lost to ``lost_to``, which was applied to
    ``base`` (the version the chain stepped to; None: the initial state)."""

    write: Operation
    lost_to: Operation
    base: Operation | None
    reconstructed: bool


@dataclass(slots=True)
class KeyLostWrites:
    """What rule 12 finds on one key: the lost writes, the chain from the last version
    down (indices of its versions, None for the initial state) and why it stopped."""

    lost: list[LostWrite]
    chain: list[int | None]
    stop: str


def version_value(op: Operation) -> Any:
    """The value an ok write leaves: the item written, a cas's new value, an update's
    post-image (unknown when the history does not carry it), None for a delete."""
    f = op.f
    if f == DELETE:
        return None
    if f == UPDATE and op.value is None:
        return _UNKNOWN_VALUE
    return op.value


def _condition_test(cond: Any) -> Test | None:
    c = history_condition(cond)
    if c.rejected is not None:
        return None           # DynamoDB would refuse it whatever the item, yet it was ok

    def holds(v: Any) -> Any:
        if v is not None and type(v) is not dict:
            return None       # a plain register's value (strong mode): not an item
        r = c.holds(v)
        return r if r is True or r is False else None
    return holds


def _update_test(op: Operation) -> Test | None:
    if op.value is None:
        return None           # no post-image: nothing to compare with
    post = canon(op.value)
    upd = history_update(op.invoke_value)
    if upd is None:
        change = op.invoke_value
        if not isinstance(change, dict):
            return None
        return lambda v: (None if v is not None and type(v) is not dict
                          else canon(apply_change(v, change)) == post)
    if upd.rejected is not None:
        return None
    key = key_attributes(op)

    def yields(v: Any) -> Any:
        if v is not None and type(v) is not dict:
            return None
        r = upd.apply(v, key)
        if r is UNKNOWN:
            return None
        if r is REJECTED:
            return False      # DynamoDB refuses it on this version: not applied there
        return canon(r) == post
    return yields


def _cas_test(op: Operation) -> Test | None:
    iv = op.invoke_value
    if not isinstance(iv, (list, tuple)) or len(iv) != 2:
        return None
    expected = iv[0]
    if expected is None:
        return lambda v: v is None
    want = canon(expected)
    return lambda v: v is not None and canon(v) == want


def base_tests(op: Operation) -> list[Test] | None:
    """The tests rule 12 applies to the versions before ``op``; None when ``op`` has no
    base (a blind put or delete, or a test the checker cannot evaluate at all)."""
    tests: list[Test] = []
    f = op.f
    if f == UPDATE:
        t = _update_test(op)
        if t is None:
            return None
        tests.append(t)
    elif f == CAS:
        t = _cas_test(op)
        if t is None:
            return None
        tests.append(t)
    elif f not in (WRITE, DELETE):
        return None
    cond = (op.extra or {}).get("condition")
    if cond is not None:
        t = _condition_test(cond)
        if t is None:
            return None
        tests.append(t)
    return tests or None


def _passes(tests: list[Test], value: Any) -> Any:
    """Kleene AND of the tests on one version: False as soon as one certainly fails."""
    if value is _UNKNOWN_VALUE:
        return None
    out: Any = True
    for t in tests:
        r = t(value)
        if r is False:
            return False
        if r is None:
            out = None
    return out


def lost_writes(ops: list[Operation], rank: dict[int, int], initial: Any = None) -> KeyLostWrites:
    """Rule 12 on one key: ``ops`` its operations, ``rank`` the conflict order (index of
    every write that took effect -> its place; larger wins), ``initial`` the initial
    state's value (the header's ``initial``, None: absent)."""
    versions = sorted((op for op in ops if op.outcome == OK and op.f != "read" and op.index in rank),
                      key=lambda op: rank[op.index])
    values: list[Any] = [initial] + [version_value(op) for op in versions]
    first_seen: dict[bytes, int] = {}
    first: list[int] = []                 # position of the first version with an equal value
    for i, v in enumerate(values):
        first.append(i if v is _UNKNOWN_VALUE else first_seen.setdefault(canon(v), i))
    lost: list[LostWrite] = []
    chain: list[int | None] = []
    j = len(versions)                      # position in ``values`` (0: the initial state)
    stop = "the initial state" if j == 0 else ""
    while j > 0:
        w = versions[j - 1]
        chain.append(w.index)
        tests = base_tests(w)
        if tests is None:
            stop = f"#{w.index} has no base (a blind {w.f} or a test the checker cannot evaluate)"
            break
        k = j - 1
        found = -1
        while k >= 0:
            r = _passes(tests, values[k])
            if r is True:
                found = k
                break
            if r is None:
                break
            k -= 1
        if found < 0:
            stop = (f"the latest version #{w.index} may have been applied to is undecided"
                    if k >= 0 else f"no version before #{w.index} passes its tests (empty base)")
            break
        base = versions[found - 1] if found > 0 else None
        recon = first[found] < found
        for m in range(found + 1, j):
            lost.append(LostWrite(versions[m - 1], w, base, recon))
        j = found
        if j == 0:
            chain.append(None)
            stop = "the initial state"
    return KeyLostWrites(lost, chain, stop)
