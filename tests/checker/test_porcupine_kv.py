"""Porcupine's kv logs (get / put / append of strings) imported as register histories
(``kernel.porcupine_kv``) and judged: against a brute-force checker of Porcupine's own
string model written here (appends completing ``info``, as the import records them), on
generated logs."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtcheck.checker.check import check_history
from gtcheck.kernel.files import detect_format
from gtcheck.checker.history import open_history
from gtcheck.kernel.porcupine_kv import segments
from gtcheck.kernel.errors import UserError
from tests.bruteforce import some_order

LOG = """{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "0", :value nil}
{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "0", :value "x 0 0 y"}
{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
{:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
{:process 2, :type :invoke, :f :put, :key "1", :value "x 2 0 y"}
{:process 2, :type :ok, :f :put, :key "1", :value "x 2 0 y"}
{:process 1, :type :invoke, :f :get, :key "0", :value nil}
{:process 1, :type :ok, :f :get, :key "0", :value "x 0 0 yx 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "1", :value nil}
{:process 1, :type :ok, :f :get, :key "1", :value "x 2 0 y"}
"""


def test_import(tmp_path: Path) -> None:
    path = tmp_path / "c01.txt"
    path.write_text(LOG)
    assert detect_format(path) == "edn"              # op maps, one a line
    with open_history(path) as r:
        header, ops = r.header, list(r.operations())
    assert header.meta["register"] is True and header.initial == {"value": []}
    appends = [o for o in ops if o.f == "update"]
    assert [o.outcome for o in appends] == ["info", "info"]      # post-image unknown
    assert appends[0].invoke_value["expression"] == "SET #v = list_append(#v, :s)"
    reads = [o.value for o in ops if o.f == "read"]
    # the same string appended twice is there twice (rule 8's list add would drop it)
    assert reads == [{"value": ["x 0 0 y"]}, {"value": ["x 0 0 y", "x 0 0 y"]},
                     {"value": ["x 2 0 y"]}]
    assert [o.value for o in ops if o.f == "write"] == [{"value": ["x 2 0 y"]}]
    s = check_history(path, jobs=1).summary
    assert s["valid"] is True and s["linearizability"]["figures"]["keys_checked"] == 2


def test_segments() -> None:
    atoms = {"ab", "a", "b", "c"}
    lengths = sorted({len(a) for a in atoms})
    assert segments("", atoms, lengths) == (1, [])
    assert segments("c", atoms, lengths) == (1, ["c"])
    assert segments("abc", atoms, lengths)[0] == 2        # ab|c or a|b|c
    assert segments("x", atoms, lengths) == (0, None)
    assert segments("cc", {"c"}, [1]) == (1, ["c", "c"])


def test_an_ambiguous_get_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "amb.txt"
    path.write_text('{:process 0, :type :invoke, :f :put, :key "k", :value "ab"}\n'
                    '{:process 0, :type :ok, :f :put, :key "k", :value "ab"}\n'
                    '{:process 1, :type :invoke, :f :append, :key "k", :value "a"}\n'
                    '{:process 3, :type :invoke, :f :append, :key "k", :value "b"}\n'
                    '{:process 2, :type :invoke, :f :get, :key "k", :value nil}\n'
                    '{:process 2, :type :ok, :f :get, :key "k", :value "ab"}\n')
    with pytest.raises(UserError) as info:
        check_history(path, jobs=1)
    assert "more than one way" in info.value.render() and ":6" in info.value.render()


# --------------------------------------------------------------------------- reference
def reference(events: list[tuple]) -> bool:
    """Porcupine's kv model on one key (a string, initially ""), with every append's
    outcome unknown (it may take effect after its invocation, or never), gets and puts
    completed at their completion: every order and subset, by brute force."""
    ops = []          # (kind, value, invoke position, completion position or None)
    pending: dict[int, int] = {}
    for pos, (proc, typ, f, value) in enumerate(events):
        if typ == "invoke":
            pending[proc] = len(ops)
            ops.append([f, value, pos, None])
        else:
            i = pending.pop(proc)
            if f == "get":
                ops[i][1] = value
            if f != "append":
                ops[i][3] = pos
    must = [i for i, o in enumerate(ops) if o[3] is not None]
    maybe = [i for i, o in enumerate(ops) if o[3] is None]

    def ok(seq: tuple[int, ...]) -> bool:
        for a in range(len(seq)):
            for b in range(a + 1, len(seq)):
                x, y = ops[seq[a]], ops[seq[b]]
                if y[3] is not None and y[3] < x[2]:     # y completed before x began
                    return False
        s = ""
        for i in seq:
            f, v = ops[i][0], ops[i][1]
            if f == "get" and v != s:
                return False
            s = v if f == "put" else s + v if f == "append" else s
        return True

    return some_order(must, maybe, ok)


def generate(seed: int, n: int) -> list[tuple]:
    rng = random.Random(seed)
    s = ""
    events: list[tuple] = []
    pending: dict[int, tuple] = {}
    started = 0
    while started < n or pending:
        p = rng.choice([q for q in range(3) if q in pending or started < n])
        if p not in pending:
            f = rng.choice(["get", "get", "put", "append", "append"])
            v = None if f == "get" else rng.choice(["x 1 y", "x 2 y", "x 3 y"])
            pending[p] = (f, v)
            started += 1
            events.append((p, "invoke", f, v))
            continue
        f, v = pending.pop(p)
        if f == "put":
            s = v
        elif f == "append" and rng.random() < 0.9:
            s += v
        got = s if rng.random() < 0.8 else rng.choice(["", "x 1 y", "x 2 yx 1 y"])
        events.append((p, "ok", f, got if f == "get" else v))
    return events


def _edn(events: list[tuple]) -> str:
    lines = []
    for p, typ, f, v in events:
        value = "nil" if v is None else f'"{v}"'
        lines.append(f'{{:process {p}, :type :{typ}, :f :{f}, :key "k", :value {value}}}')
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6))
def test_agrees_with_porcupines_model_by_brute_force(tmp_path: Path, seed: int, n: int) -> None:
    events = generate(seed, n)
    path = tmp_path / f"kv-{seed}-{n}.txt"
    path.write_text(_edn(events))
    lin = check_history(path, jobs=1).summary["linearizability"]
    assert lin["valid"] is reference(events)


def test_integrity_runs_appends_backwards(tmp_path: Path) -> None:
    """A get can only return strings appended as often as they were: one append of "x 1 y"
    explains ["x 1 y"] but not ["x 1 y", "x 1 y"] (a phantom read), and a string never
    written is one too; the search behind it runs each append backwards
    (``checker.inverse``), not every order of them forwards."""
    def log(got: str) -> str:
        return ('{:process 0, :type :invoke, :f :append, :key "k", :value "x 1 y"}\n'
                '{:process 0, :type :ok, :f :append, :key "k", :value "x 1 y"}\n'
                '{:process 1, :type :invoke, :f :append, :key "k", :value "x 2 y"}\n'
                '{:process 1, :type :ok, :f :append, :key "k", :value "x 2 y"}\n'
                '{:process 2, :type :invoke, :f :get, :key "k", :value nil}\n'
                f'{{:process 2, :type :ok, :f :get, :key "k", :value "{got}"}}\n')
    for got, phantom in (("x 2 yx 1 y", False), ("x 1 yx 1 y", True), ("x 3 y", True)):
        path = tmp_path / "k.txt"
        path.write_text(log(got))
        s = check_history(path, jobs=1).summary
        assert (s["integrity"]["anomaly_counts"] == {"phantom-read": 1}) is phantom, got
