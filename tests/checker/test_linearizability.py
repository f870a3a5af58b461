"""The linearizability checker (checker/wgl.py, checker/props/linearizability.py).

* histories generated from a sequential register run with random overlaps are linearizable;
* mutations of them (a read's value swapped for an older one, a value never written) are
  caught;
* on small random histories the search agrees with a brute-force check written here;
* eventual mode, with --linearizability-scope single-region-keys: a single-writer-region key
  whose strong read in that region is stale is flagged by read_after_write and
  linearizability, both citing the same read and write;
* a search that runs out of its budget is unknown, never valid.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gtcheck.checker.check import check_operations
from gtcheck.checker.operations import Header, Operation
from gtcheck.checker.wgl import check_register
from tests.bruteforce import some_order

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ABSENT = None


def op(index: int, f: str, inv: int, comp: int | None, *, value: Any = None,
       invoke_value: Any = None, outcome: str = "ok", region: str = "us-east-1",
       consistent: bool = True, key: str = "k", process: Any = None,
       condition: Any = None) -> Operation:
    return Operation(index=index, process=index if process is None else process, region=region,
                     f=f, key=key, invoke_value=invoke_value, value=value, outcome=outcome,
                     invoke_time=inv, complete_time=comp if outcome != "info" else None,
                     end_time=comp, consistent=consistent,
                     extra={"condition": condition} if condition is not None else None)


# --------------------------------------------------------------------------- generators
def sequential_run(rng: random.Random, n: int, *, kinds=("read", "write", "cas", "delete"),
                   unique: bool = False, info_share: float = 0.15, domain: int = 3,
                   initial: Any = None) -> list[Operation]:
    """A register run in linearization order; each op's interval contains its point."""
    state = initial
    ops: list[Operation] = []
    counter = itertools.count(100)
    for i in range(n):
        lp = 1000 * (i + 1)
        inv = lp - rng.randint(0, 2500)
        comp = lp + rng.randint(0, 2500)
        f = rng.choice(kinds)
        info = f != "read" and rng.random() < info_share
        if f == "read":
            ops.append(op(i, "read", inv, comp, value=state))
            continue
        took = not info or rng.random() < 0.5   # an info op took effect, or never did
        if f == "write":
            v = next(counter) if unique else rng.randint(1, domain)
            ops.append(op(i, "write", inv, comp, value=v, invoke_value=v,
                          outcome="info" if info else "ok"))
            if took:
                state = v
        elif f == "delete":
            ops.append(op(i, "delete", inv, comp, outcome="info" if info else "ok"))
            if took:
                state = None
        else:  # cas
            exp = state if rng.random() < 0.6 else rng.choice([None, *range(1, domain + 1)])
            new = next(counter) if unique else rng.randint(1, domain)
            matches = exp == state
            outcome = "info" if info else ("ok" if matches else "fail")
            ops.append(op(i, "cas", inv, comp, value=new, invoke_value=[exp, new],
                          outcome=outcome))
            if matches and took:
                state = new
    return ops


def random_history(rng: random.Random, n: int, domain: int = 2) -> list[Operation]:
    """Any small history (linearizable or not)."""
    ops = []
    for i in range(n):
        inv = rng.randint(0, 40)
        comp = inv + rng.randint(1, 25)
        f = rng.choice(["read", "read", "write", "cas", "delete"])
        outcome = rng.choice(["ok", "ok", "ok", "info", "fail"])
        if f == "read":
            ops.append(op(i, "read", inv, comp, outcome=outcome,
                          value=rng.choice([None, *range(1, domain + 1)])))
        elif f == "write":
            v = rng.randint(1, domain)
            ops.append(op(i, "write", inv, comp, value=v, invoke_value=v, outcome=outcome))
        elif f == "delete":
            ops.append(op(i, "delete", inv, comp, outcome=outcome))
        else:
            exp, new = rng.choice([None, *range(1, domain + 1)]), rng.randint(1, domain)
            ops.append(op(i, "cas", inv, comp, value=new, invoke_value=[exp, new],
                          outcome=outcome))
    ops.sort(key=lambda o: (o.invoke_time, o.index))
    return ops


# --------------------------------------------------------------------------- brute force
def brute_force(ops: list[Operation], initial: Any = None) -> bool:
    """Try every subset of the unknown-outcome ops and every order of what is kept."""
    kept = [o for o in ops if o.outcome != "fail" and not (o.f == "read" and o.outcome != "ok")]
    must = [o for o in kept if o.outcome == "ok"]
    maybe = [o for o in kept if o.outcome != "ok"]

    def before(a: Operation, b: Operation) -> bool:    # a completed before b was invoked
        if a.complete_time is None:
            return False
        return a.complete_time < b.invoke_time or (
            a.complete_time == b.invoke_time and a.index + 0.5 < b.index)

    def legal(seq: tuple[Operation, ...]) -> bool:
        pos = {o.index: i for i, o in enumerate(seq)}
        for a in seq:
            for b in seq:
                if before(a, b) and pos[a.index] > pos[b.index]:
                    return False
        state = initial
        for o in seq:
            if o.f == "read":
                if o.value != state:
                    return False
            elif o.f == "write":
                state = o.value
            elif o.f == "delete":
                state = None
            elif o.f == "cas":
                if state != o.invoke_value[0]:
                    return False
                state = o.invoke_value[1]
        return True

    return some_order(must, maybe, legal)


# --------------------------------------------------------------------------- tests
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_generated_sequential_runs_are_linearizable(seed: int, n: int) -> None:
    ops = sequential_run(random.Random(seed), n)
    r = check_register(ops, None)
    assert r.valid is True, (r.stuck, r.prefix)


def test_generated_runs_with_a_register_initial_value_and_updates() -> None:
    rng = random.Random(7)
    ops = sequential_run(rng, 200, initial=0, domain=4)
    assert check_register(ops, 0).valid is True
    # the same run checked from another initial value fails at its first read of 0, if any
    if any(o.f == "read" and o.value == 0 for o in ops):
        assert check_register(ops, None).valid is False


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(4, 40), pick=st.integers(0, 10**6))
def test_a_read_swapped_for_an_older_value_is_caught(seed: int, n: int, pick: int) -> None:
    rng = random.Random(seed)
    ops = sequential_run(rng, n, kinds=("read", "write"), unique=True, info_share=0.0)

    def before(a: Operation, b: Operation) -> bool:
        return a.complete_time is not None and a.complete_time < b.invoke_time

    writes = [o for o in ops if o.f == "write"]
    reads = [o for o in ops if o.f == "read"]
    # (read, old write): some write lies certainly between the old write and the read
    triples = [(r, w_old) for r in reads for w_old in writes
               if any(before(w_old, w_new) and before(w_new, r) for w_new in writes)]
    assume(triples)
    r, w_old = triples[pick % len(triples)]
    r.value = w_old.value
    res = check_register(ops, None)
    assert res.valid is False
    assert res.stuck is not None and res.stuck in {o.index for o in ops}


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), pick=st.integers(0, 10**6))
def test_a_value_never_written_is_caught(seed: int, n: int, pick: int) -> None:
    ops = sequential_run(random.Random(seed), n)
    reads = [o for o in ops if o.f == "read"]
    assume(reads)
    r = reads[pick % len(reads)]
    r.value = 987654
    res = check_register(ops, None)
    # the stuck operation is where the deepest search stopped: the read, or one whose
    # return came before the search could get past the read
    assert res.valid is False and res.stuck is not None
    assert res.stuck == r.index or r.index not in res.prefix


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_agrees_with_brute_force(seed: int, n: int) -> None:
    ops = random_history(random.Random(seed), n)
    initial = random.Random(seed ^ 1).choice([None, 1])
    assert check_register(ops, initial).valid is brute_force(ops, initial)


def test_the_longest_prefix_and_the_stuck_operation() -> None:
    ops = [op(0, "write", 0, 10, value=1, invoke_value=1),
           op(1, "write", 20, 30, value=2, invoke_value=2),
           op(2, "read", 40, 50, value=2),
           op(3, "read", 60, 70, value=1)]
    r = check_register(ops, None)
    assert r.valid is False
    assert r.prefix == [0, 1, 2] and r.stuck == 3 and r.stuck_state == "2"
    assert r.states == ["1", "2", "2"]


def test_info_ops_may_take_effect_late_or_never() -> None:
    late = [op(0, "write", 0, None, value=1, invoke_value=1, outcome="info"),
            op(1, "read", 10, 20, value=None),
            op(2, "read", 30, 40, value=1)]
    assert check_register(late, None).valid is True
    never = [op(0, "write", 0, None, value=1, invoke_value=1, outcome="info"),
             op(1, "read", 30, 40, value=None)]
    assert check_register(never, None).valid is True
    # but never before its invocation, and a failed write never happens
    early = [op(0, "read", 0, 5, value=1),
             op(1, "write", 10, None, value=1, invoke_value=1, outcome="info")]
    assert check_register(early, None).valid is False
    failed = [op(0, "write", 0, 5, value=1, invoke_value=1, outcome="fail"),
              op(1, "read", 10, 20, value=1)]
    assert check_register(failed, None).valid is False


def test_conditional_updates_and_deletes() -> None:
    ops = [op(0, "write", 0, 10, value={"rev": 1}, invoke_value={"rev": 1}),
           op(1, "update", 20, 30, value={"rev": 2, "a": 5},
              invoke_value={"set": {"rev": 2}, "add": {"a": 5}}, condition={"rev": 1}),
           op(2, "read", 40, 50, value={"rev": 2, "a": 5}),
           op(3, "delete", 60, 70, condition={"rev": 2}),
           op(4, "read", 80, 90, value=None)]
    assert check_register(ops, None).valid is True
    # a conditional delete whose condition cannot hold there cannot have taken effect
    ops[3] = op(3, "delete", 60, 70, condition={"rev": 9})
    assert check_register(ops, None).valid is False
    # rule 3: an ok update's post-image is the version it made, even when its change
    # alone would give another (the change may be partial): it is the write of that item
    partial = [op(0, "write", 0, 10, value={"n": 1}, invoke_value={"n": 1}),
               op(1, "update", 20, 30, value={"n": 3, "m": 1}, invoke_value={"add": {"n": 1}}),
               op(2, "read", 40, 50, value={"n": 3, "m": 1})]
    assert check_register(partial, None).valid is True
    # ... and a later read of what the change alone gives is not linearizable
    partial[2] = op(2, "read", 40, 50, value={"n": 2})
    assert check_register(partial, None).valid is False
    # an unknown update's post-image is its change applied to the state (rule 8)
    info = [op(0, "write", 0, 10, value={"n": 1}, invoke_value={"n": 1}),
            op(1, "update", 20, None, invoke_value={"add": {"n": 1}}, outcome="info"),
            op(2, "read", 40, 50, value={"n": 2})]
    assert check_register(info, None).valid is True
    info[2] = op(2, "read", 40, 50, value={"n": 3})
    assert check_register(info, None).valid is False


def test_a_search_out_of_budget_is_unknown() -> None:
    # 18 concurrent writes and a concurrent read of a value nobody wrote: the search must
    # visit a great many (set, state) pairs before it can give up
    ops = [op(i, "write", i, 1000 + i, value=i + 1, invoke_value=i + 1) for i in range(18)]
    ops.append(op(18, "read", 18, 2000, value=999))
    ticks = itertools.count()
    r = check_register(ops, None, timeout_s=5.0, clock=lambda: float(next(ticks)))
    assert r.valid == "unknown" and "budget" in (r.reason or "")
    r = check_register(ops, None, max_visited=1000)
    assert r.valid == "unknown" and "memory budget" in (r.reason or "")
    header = Header(regions=["us-east-1"], mode="strong")
    res = check_operations(header, ops, timeout_s=1e-9)
    lin = res.summary["linearizability"]
    assert lin["valid"] == "unknown" and lin["figures"]["keys_unknown"] == 1
    assert any("linearizability" in u["properties"] for u in res.summary["unknown_keys"])
    assert res.summary["valid"] in (False, "unknown")   # integrity fails the phantom read


def test_eventual_single_writer_region_stale_strong_read_fails_both_properties() -> None:
    E9 = 1_000_000_000
    ops = [op(0, "write", 1 * E9, 1 * E9 + 50, value={"v": 1}, invoke_value={"v": 1}, process=1),
           op(1, "write", 2 * E9, 2 * E9 + 50, value={"v": 2}, invoke_value={"v": 2}, process=1),
           op(2, "read", 3 * E9, 3 * E9 + 50, value={"v": 1}, process=2),          # stale, strong
           op(3, "read", 3 * E9, 3 * E9 + 50, value={"v": 1}, process=3,
              region="eu-west-1", consistent=False),                                # allowed
           # another key, written from two regions: out of the linearizability scope
           op(4, "write", 1 * E9, 1 * E9 + 50, value=1, invoke_value=1, key="two", process=4),
           op(5, "write", 2 * E9, 2 * E9 + 50, value=2, invoke_value=2, key="two", process=5,
              region="eu-west-1"),
           op(6, "read", 3 * E9, 3 * E9 + 50, value=1, key="two", process=6)]
    header = Header(regions=["us-east-1", "eu-west-1"], mode="eventual")
    # outside the history format's scope by default: not checked (and not computed)
    off = check_operations(header, ops).summary["linearizability"]
    assert off["checked"] is False and off["figures"] == {}
    s = check_operations(header, ops, linearizability_scope="single-region-keys").summary
    raw, lin = s["read_after_write"], s["linearizability"]
    assert lin["figures"]["keys_checked"] == 1
    (lost,) = [a for a in raw["anomalies"] if a["key"] == "k"]
    (nl,) = lin["anomalies"]
    assert lost["name"] == "lost-own-write" and nl["name"] == "not-linearizable"
    # both cite the stale read first, and the write it missed
    assert lost["ops"][0] == nl["ops"][0] == 2
    assert 1 in lost["ops"] and 1 in nl["ops"]
    for a in (lost, nl):
        assert "#2" in a["explanation"] and "#1" in a["explanation"]
        assert "us-east-1" in a["explanation"] and "3.00 s" in a["explanation"]
    assert nl["details"]["prefix"] == [0, 1] and nl["details"]["stuck"] == 2
    # the eventually consistent read in eu-west-1 is not in scope
    assert "#3" not in nl["explanation"]


# --------------------------------------------------------------------------- one item spec
@st.composite
def _spec_requests(draw: Any) -> list[Any]:
    from gtcheck.kernel.itemspec import Request

    out = []
    for i in range(draw(st.integers(1, 8))):
        f = draw(st.sampled_from(["read", "write", "update", "delete", "cas"]))
        cond = draw(st.sampled_from([None, {}, {"a": 1}, {"a": None}])) if f in ("write", "update", "delete") else None
        if f == "write":
            value: Any = {"a": draw(st.integers(0, 1)), "rev": i}
        elif f == "update":
            value = {"set": {"rev": i}, "add": {"n": 1}}
        elif f == "cas":
            value = [draw(st.sampled_from([None, {"a": 1, "rev": 0}])), {"a": 1, "rev": i}]
        else:
            value = None
        out.append(Request(f, "k", value, cond))
    return out + [Request("read", "k")]      # at least one read, to corrupt


@SETTINGS
@given(_spec_requests(), st.integers(0, 3))
def test_the_register_replays_the_kernels_item_spec(requests, corrupt):
    """The model carries out requests with ``kernel.itemspec.step``; the register replays
    the same spec: a sequential run of it is linearizable, and a read whose answer is not
    the spec's is not."""
    from gtcheck.kernel.itemspec import step

    item = None
    ops = []
    for i, req in enumerate(requests):
        item, ok, answer = step(item, req)
        ops.append(op(i, req.f, 10 * i, 10 * i + 5, value=answer if req.f != "cas" else req.value[1],
                      invoke_value=req.value, outcome="ok" if ok else "fail", condition=req.condition))
    assert check_register(ops).valid is True
    reads = [o for o in ops if o.f == "read"]
    reads[corrupt % len(reads)].value = {"never": "written"}
    assert check_register(ops).valid is False
