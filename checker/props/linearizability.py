"""linearizability: every key behaves as a linearizable register (``checker.wgl``).

Scope, as the history format says: in ``strong`` mode every key, its writes and strongly
consistent reads; in a history imported as a plain register (``"register": true``, every
Jepsen import) every key, every operation. Eventual mode is outside the contract: there
the property is not checked, unless the user asks for ``--linearizability-scope
single-region-keys``: then the keys written from a single region (every write, update,
delete or cas that did not fail was called in that region) are judged, restricted to that
region's writes and strongly consistent reads (DynamoDB's promise there amounts to a
linearizable register); other keys are not.

A key whose search runs out of ``--timeout`` (CPU seconds, per key) is ``unknown``, never
valid. A key that is not linearizable gets one ``not-linearizable`` anomaly: the longest
linearizable prefix the search found, and the completed operation that cannot be placed
after it, in words.
"""

from __future__ import annotations

import time
from typing import Any

from gtcheck.checker import anomalies as A
from gtcheck.checker.anomalies import AnomalyKind
from gtcheck.checker.operations import Operation
from gtcheck.checker.props.base import (KeyContext, SummaryContext, anomalies_of, counts_or_reason,
                                        is_register, no_merge, not_checked, plural,
                                        verdict_word)
from gtcheck.checker.txnregister import check_transactions, txn_of
from gtcheck.checker.wgl import NOT_LINEARIZABLE, UNKNOWN, RegisterResult, check_register
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.units import format_duration

NAME = "linearizability"
TITLE = "Linearizability"
DESCRIPTION = ("Every key in scope behaves as a linearizable register (read, write, cas, "
               "conditional update, delete).")
ORDER = 40

NOT_LINEARIZABLE_KEY = AnomalyKind(
    "not-linearizable", NAME, "Not linearizable",
    "no linearization of the key exists: it names the longest linearizable prefix found "
    "and the operation that cannot be placed after it")
ANOMALIES = (NOT_LINEARIZABLE_KEY,)
merge = no_merge
NEEDS = ()               # the operations alone: no candidates, no conflict order
TRANSACTIONS = True      # register histories: keys joined by transactions judged at once
PREFIX_KEPT = 200        # the last operations of the prefix kept in an anomaly's details
CONTRACT = "contract"
SINGLE_REGION_KEYS = "single-region-keys"
SCOPES = (CONTRACT, SINGLE_REGION_KEYS)
"""``--linearizability-scope``: what the history format promises (strong mode, register
histories), or that and, in eventual mode, the keys written from a single region."""
SCOPE_STRONG = "every key"
SCOPE_REGISTER = "every key, every operation"
SCOPE_EVENTUAL = ("keys written from a single region: that region's writes and strongly "
                  "consistent reads")
NOT_IN_CONTRACT = ("eventual mode: the history format judges linearizability in strong mode "
                   "and in register histories (--linearizability-scope single-region-keys "
                   "also judges the keys written from a single region)")


def applies(header: Any, options: Any) -> str | None:
    if header.mode == "strong" or is_register(header):
        return None
    if getattr(options, "linearizability_scope", CONTRACT) == SINGLE_REGION_KEYS:
        return None
    return NOT_IN_CONTRACT


def scope_name(header: Any) -> str:
    if is_register(header):
        return SCOPE_REGISTER
    return SCOPE_STRONG if header.mode == "strong" else SCOPE_EVENTUAL


def scope(header: Any, ops: list[Operation]) -> list[Operation] | None:
    """The operations of one key the property judges, or None when the key is out of scope.

    In strong mode DynamoDB promises a linearizable register to writes and strongly
    consistent reads only: an eventually consistent read may still be stale, so it is left
    out. A history imported as a plain register (``"register": true``, Jepsen's files) has
    no such distinction and is judged whole. In eventual mode (only with
    ``--linearizability-scope single-region-keys``) a key written from one region, with
    that region's writes and strongly consistent reads."""
    if is_register(header):
        return ops
    if header.mode == "strong":
        return [op for op in ops if op.f != "read" or op.consistent]
    writers = {op.region for op in ops if op.is_write and op.outcome != "fail"}
    if len(writers) != 1:
        return None
    (region,) = writers
    return [op for op in ops if op.region == region
            and (op.is_write or (op.f == "read" and op.consistent))]


def judge_key(ctx: KeyContext, res: Any) -> None:
    ops = scope(ctx.header, ctx.ops)
    if ops is None:
        return
    t = time.process_time()
    check = check_transactions if is_register(ctx.header) and any(
        txn_of(op) is not None for op in ops) else check_register
    r = check(ops, ctx.header.initial, delta=ctx.header.clock_uncertainty_ns or 0,
              timeout_s=ctx.options.timeout_s)
    ctx.timing["linearizability_s"] += time.process_time() - t
    fig = res.figures
    keys = len({op.key for op in ops})     # several when transactions join keys
    fig["lin_keys_checked"] += keys
    fig["lin_operations"] += r.ops
    if r.valid is True:
        fig["lin_keys_linearizable"] += keys
    elif r.valid is NOT_LINEARIZABLE:
        fig["lin_keys_not_linearizable"] += keys
        res.add_anomaly(explain(ctx.key, ops, r), ctx.limit)
    else:
        fig["lin_keys_unknown"] += 1
        res.unknown_props[NAME] += 1
        for u in reversed(res.unknown_keys):
            if u["key"] == ctx.key:
                u["properties"].append(NAME)
                break
        else:
            res.unknown_keys.append({"key": ctx.key, "reason": r.reason, "properties": [NAME]})


def _a(text: str) -> str:
    return ("an " if text[:1] in "aeiou" else "a ") + text


def describe(op: Operation) -> str:
    """``read of 4``, ``write of {"v":1}``, ``cas 2 -> 4``, ``delete``, ``update {...}``."""
    f = op.f
    if f == "read":
        return f"read of {_val(op.value)}"
    if f == "write":
        return f"write of {_val(op.value)}"
    if f == "cas":
        exp, new = op.invoke_value
        return f"cas {_val(exp)} -> {_val(new)}"
    if f == "delete":
        return "delete"
    iv = op.invoke_value
    if isinstance(iv, dict) and "expression" in iv:       # rule 11: an UpdateExpression
        values = iv.get("values")
        return f"update {_val(iv['expression'])}" + (f" with {_val(values)}" if values else "")
    return f"update {_val(iv)}"


def _val(v: Any) -> str:
    if v is None:
        return "absent"
    text = exact_dumps(v).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _state(s: str | None) -> str:
    if s is None:
        return "absent"
    return s if len(s) <= 60 else s[:57] + "..."


def _ref(op: Operation) -> str:
    return f"#{op.index} (process {op.process}, {op.region})"


def _when(op: Operation) -> str:
    if op.outcome == "ok" and op.complete_time is not None:
        return f"invoked at {format_duration(op.invoke_time)}, completed at {format_duration(op.complete_time)}"
    return f"invoked at {format_duration(op.invoke_time)}, never completed"


def _txn_describer(ops: list[Operation]) -> Any:
    """``describe`` that names a whole transaction for an operation that is part of one."""
    members: dict[Any, list[Operation]] = {}
    for op in ops:
        t = txn_of(op)
        if t is not None:
            members.setdefault((op.process, repr(t)), []).append(op)

    def what(op: Operation) -> str:
        t = txn_of(op)
        if t is None:
            return describe(op)
        parts = members.get((op.process, repr(t)), [op])
        return (f"transaction {exact_dumps(t).decode()} ["
                + ", ".join(f"{o.f} {o.key!r} " + ("-> " if o.f == "read" else "<- ")
                            + _val(o.value) for o in parts) + "]")
    return what


def explain(key: str, ops: list[Operation], r: RegisterResult) -> A.Anomaly:
    by_index = {op.index: op for op in ops}
    describe = _txn_describer(ops)
    stuck = by_index[r.stuck]  # type: ignore[index]
    n = len(r.prefix)
    if n:
        last = by_index[r.prefix[-1]]
        lead = (f"the longest linearizable prefix found orders {n} operation"
                f"{'' if n == 1 else 's'}, the last {_ref(last)}, {_a(describe(last))} "
                f"{_when(last)}, and leaves the register {_state(r.stuck_state)}")
    else:
        lead = (f"no operation can be linearized first: the register starts "
                f"{_state(r.stuck_state)}")
    need = ""
    if txn_of(stuck) is not None:
        pass                      # a transaction: its operations need their values together
    elif stuck.f == "read":
        need = f"; the read needs {_val(stuck.value)}"
    elif stuck.f == "cas":
        need = f"; the cas needs {_val(stuck.invoke_value[0])}"
    text = (f"{_ref(stuck)}, {_a(describe(stuck))} {_when(stuck)}, cannot be placed in any "
            f"linearization of key {key!r}: {lead}, and no order of the operations "
            f"concurrent with it makes #{stuck.index} possible before it completed{need}.")
    return A.make(NOT_LINEARIZABLE_KEY, key, [stuck.index] + ([r.prefix[-1]] if n else []), text,
                  time_ns=stuck.complete_time if stuck.complete_time is not None
                  else stuck.invoke_time,
                  region=stuck.region, stuck=stuck.index, state=r.stuck_state,
                  prefix_length=n, prefix=r.prefix[-PREFIX_KEPT:],
                  prefix_states=r.states[-PREFIX_KEPT:])


def verdict(ctx: SummaryContext) -> dict[str, Any]:
    fig, unk = ctx.figures, ctx.unknown
    la, lc = anomalies_of(ctx.merged, ANOMALIES)
    out: dict[str, Any] = {
        "valid": verdict_word(la, bool(unk.get(NAME))), "anomalies": la, "anomaly_counts": lc,
        "scope": scope_name(ctx.header),
        "figures": {"keys_checked": fig["lin_keys_checked"],
                    "keys_linearizable": fig["lin_keys_linearizable"],
                    "keys_not_linearizable": fig["lin_keys_not_linearizable"],
                    "keys_unknown": unk.get(NAME, 0),
                    "operations_checked": fig["lin_operations"]}}
    if out["valid"] == "unknown":
        out["reason"] = (f"{unk[NAME]} key(s) ran out of the search budget (--timeout) "
                         "before a verdict")
    elif fig["lin_keys_checked"] == 0:
        not_checked(out, "no key in scope" + ("" if ctx.header.mode == "strong" or
                                              is_register(ctx.header) else
                         ": --linearizability-scope single-region-keys judges the keys "
                         "written from a single region, and every key here is written from "
                         "several"))
    return out


def summary_line(section: dict[str, Any]) -> str:
    fig = section.get("figures", {})
    scope = ("keys written from one region" if section.get("scope") == SCOPE_EVENTUAL
             else section.get("scope", SCOPE_STRONG))
    return (counts_or_reason(section)
            or f"{plural(fig.get('keys_checked', 0), 'key')} linearizable "
               f"({plural(fig.get('operations_checked', 0), 'operation')}; scope: {scope})")


__all__ = ["NAME", "TITLE", "DESCRIPTION", "ORDER", "ANOMALIES", "NOT_LINEARIZABLE_KEY", "judge_key",
           "merge", "verdict", "summary_line", "scope", "explain", "describe", "UNKNOWN",
           "NEEDS", "applies", "SCOPES", "CONTRACT", "SINGLE_REGION_KEYS"]
