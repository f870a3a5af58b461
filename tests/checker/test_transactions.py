"""Knossos multi-register transactions (``:f :txn``): imported as one gt operation per read
and write sharing a ``txn`` id, judged as atomic operations of one multi-register
(``checker.txnregister``), which per-key linearizability is not. Against a brute-force
checker written here on generated histories, and on small EDN files."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtcheck.checker.check import check_history
from gtcheck.checker.history import open_history
from gtcheck.checker.operations import Operation
from gtcheck.checker.txnregister import check_transactions, components, transactions
from gtcheck.checker.wgl import check_register
from gtcheck.kernel.errors import UserError
from tests.bruteforce import some_order

ROOT = Path(__file__).resolve().parents[2]
TORN = ROOT / "histories" / "jepsen" / "multi-register-torn-read.edn"

GOOD = """[{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:write :y 1]]}
 {:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:write :y 1]]}
 {:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}
 {:process 2, :type :invoke, :f :txn, :value [[:write :y 2]]}
 {:process 1, :type :ok, :f :txn, :value [[:read :x 1] [:read :y 2]]}
 {:process 2, :type :info, :f :txn, :value [[:write :y 2]]}
 {:process 3, :type :invoke, :f :txn, :value [[:read :x nil]]}
 {:process 3, :type :ok, :f :txn, :value [[:read :x nil]]}]
"""


def test_a_torn_read_is_not_linearizable_though_each_key_is(tmp_path: Path) -> None:
    s = check_history(TORN, jobs=1).summary
    lin = s["linearizability"]
    assert lin["valid"] is False and s["valid"] is False
    (a,) = lin["anomalies"]
    assert a["key"] == "x + y" and "transaction" in a["explanation"]
    assert lin["figures"]["keys_checked"] == 2
    # every key on its own, over the transactions' intervals, is a linearizable register:
    # only atomicity is broken
    def op(i, f, key, inv, done, value, process):
        return Operation(index=i, process=process, region="r", f=f, key=key,
                         invoke_value=value if f == "write" else None, value=value,
                         outcome="ok", invoke_time=inv, complete_time=done, end_time=done)
    for key, seen in (("x", 1), ("y", 0)):
        assert check_register([op(0, "write", key, 0, 2, 1, 0),
                               op(1, "read", key, 1, 3, seen, 1)], 0).valid is True


def test_a_valid_transaction_history(tmp_path: Path) -> None:
    path = tmp_path / "good.edn"
    path.write_text(GOOD)
    s = check_history(path, jobs=2).summary          # a register history: one part anyway
    assert s["linearizability"]["valid"] is True and s["valid"] is True
    with open_history(path) as r:
        ops = list(r.operations())
    txns = transactions(ops)
    assert [len(t) for t in txns] == [2, 2, 1, 1]    # one operation per read and write
    assert {o.outcome for o in txns[2]} == {"info"}   # the unknown write
    assert txns[3][0].outcome == "info"              # Knossos's nil read constrains nothing
    by_key: dict[str, list[Operation]] = {}
    for o in ops:
        by_key.setdefault(o.key, []).append(o)
    assert components(by_key) == [["x", "y"]]


def test_transaction_shapes_gtcheck_cannot_read_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "append.edn"
    path.write_text('[{:process 0, :type :invoke, :f :txn, :value [[:append :x 1]]}\n'
                    ' {:process 0, :type :ok, :f :txn, :value [[:append :x 1]]}]\n')
    with pytest.raises(UserError) as info:
        check_history(path, jobs=1)
    assert "[:read k v] and [:write k v]" in info.value.render()


# --------------------------------------------------------------------------- reference
def _txn_units(ops: list[Operation]) -> list[dict[str, Any]]:
    units = []
    for txn in transactions(ops):
        kept = [o for o in txn if o.outcome != "fail" and not (o.f == "read" and o.outcome != "ok")]
        if not kept:
            continue
        ok = any(o.outcome == "ok" for o in kept)
        ends = [o for o in txn if o.end_time is not None]
        last = max(ends, key=lambda o: (o.end_time, o.complete_line)) if ends else None
        units.append({"ops": kept, "ok": ok and last is not None, "proc": txn[0].process,
                      "inv": (txn[0].invoke_time, txn[0].line),
                      "ret": (last.end_time, last.complete_line) if ok and last else None})
    return units


def reference(ops: list[Operation], initial: Any) -> bool:
    """Every order of the completed transactions with every subset of the unknown ones,
    each applied atomically to a map of registers (rule 1 with δ = 0)."""
    units = _txn_units(ops)
    must = [u for u in units if u["ok"]]
    maybe = [u for u in units if not u["ok"]]

    def before(a, b) -> bool:
        return a["ret"] is not None and a["ret"] < b["inv"]

    def apply(u, regs):
        regs = dict(regs)
        for o in u["ops"]:
            if o.f == "read":
                if regs.get(o.key, initial) != o.value:
                    return None
            else:
                regs[o.key] = o.value
        return regs

    def legal(seq) -> bool:
        if any(before(seq[j], seq[i]) for i in range(len(seq)) for j in range(i + 1, len(seq))):
            return False
        regs: dict | None = {}
        for u in seq:
            regs = apply(u, regs)
            if regs is None:
                return False
        return True

    return some_order(must, maybe, legal)


def generate(seed: int, n: int) -> list[Operation]:
    """``n`` transactions of one or two reads and writes of keys x and y, by three
    processes, their events interleaved; read values from an atomic run, some changed."""
    rng = random.Random(seed)
    regs: dict[str, int] = {}
    line = 0
    ops: list[Operation] = []
    pending: dict[int, tuple] = {}
    started = 0
    txn_id = itertools.count()
    while started < n or pending:
        p = rng.choice([q for q in range(3) if q in pending or started < n])
        line += 1
        if p not in pending:
            micro = [(rng.choice(["read", "write"]), rng.choice("xy"), rng.randint(1, 2))
                     for _ in range(rng.randint(1, 2))]
            pending[p] = (micro, line, next(txn_id))
            started += 1
            continue
        micro, at, tid = pending.pop(p)
        outcome = rng.choice(["ok", "ok", "ok", "info", "fail"])
        took = outcome == "ok" or (outcome == "info" and rng.random() < 0.5)
        cur = line
        for idx, (f, key, v) in enumerate(micro):
            if idx == 0:
                inv_line = at
            else:
                inv_line, cur = cur, cur + 1
            done_line, cur = cur, cur + 1
            value = v if f == "write" else (regs.get(key, 0) if rng.random() < 0.85 else v)
            ops.append(Operation(
                index=inv_line, process=p, region="r", f=f, key=key,
                invoke_value=value if f == "write" else None, value=value, outcome=outcome,
                invoke_time=inv_line, complete_time=done_line if outcome != "info" else None,
                end_time=done_line, consistent=True, line=inv_line, complete_line=done_line,
                extra={"txn": tid}))
        line = cur
        if took:
            for f, key, v in micro:
                if f == "write":
                    regs[key] = v
    return ops


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5))
def test_agrees_with_the_reference(seed: int, n: int) -> None:
    ops = generate(seed, n)
    assert check_transactions(ops, 0).valid is reference(ops, 0)
