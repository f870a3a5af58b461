"""Rule 12 of the history format (lost writes), by brute force from its definition: a test
reference for recorded histories whose ok writes all carry ``ts`` (the emulator's).

The versions of a key are its initial state and its ok writes in ``(ts, origin)`` order.
The base of an ok update, cas or conditional write w' is every earlier version that passes
every test applying to w' (its UpdateExpression applied to it, with the recorded
``key_attributes``, gives w''s post-image; it equals the cas's expected value; the
condition holds), all evaluated by the kernel's evaluator; a test the evaluator cannot
decide leaves w' without a base. The surviving chain starts at the last version and steps
to the latest version of each base; the ok writes strictly between two consecutive chain
versions are lost to the later one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gtcheck.kernel.exactjson import canon, loads_exact
from gtcheck.kernel.expressions import REJECTED, UNKNOWN, condition, update


def _ok_writes(path: Path) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    lines = Path(path).read_text().splitlines()
    open_: dict[Any, dict[str, Any]] = {}
    by_key: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for ev in (loads_exact(x) for x in lines[1:]):
        if ev["process"] == "nemesis":
            continue
        if ev["type"] == "invoke":
            open_[ev["process"]] = ev
            continue
        inv = open_.pop(ev["process"])
        if ev["type"] == "ok" and inv["f"] != "read":
            by_key.setdefault(inv["key"], []).append((inv, ev))
    for writes in by_key.values():
        writes.sort(key=lambda w: (w[1]["ts"], w[1]["origin"]))
    return by_key


def _value(inv: dict[str, Any], comp: dict[str, Any]) -> Any:
    if inv["f"] == "delete":
        return None
    if inv["f"] == "cas":
        return inv["value"][1]
    if inv["f"] == "update":
        return comp["value"]
    return inv["value"]


def _tests(inv: dict[str, Any], comp: dict[str, Any]) -> list[Any]:
    """Each test maps a version's value to True, False or None (cannot tell)."""
    tests = []
    if inv["f"] == "update":
        u = update(inv["value"]["expression"], inv["value"].get("names"), inv["value"].get("values"))
        post = canon(comp["value"])

        def yields(v: Any) -> Any:
            r = u.apply(v, inv.get("key_attributes"))
            return None if r is UNKNOWN else (False if r is REJECTED else canon(r) == post)
        tests.append(yields)
    if inv["f"] == "cas":
        expected = inv["value"][0]
        tests.append(lambda v: v is None if expected is None else v is not None and canon(v) == canon(expected))
    if "condition" in inv:
        c = condition(inv["condition"]["expression"], inv["condition"].get("names"), inv["condition"].get("values"))
        tests.append(lambda v: {True: True, False: False}.get(c.holds(v)))
    return tests


def lost_writes(path: Path) -> dict[int, int]:
    """Every lost write's invocation index -> the index of the write it was lost to."""
    lost: dict[int, int] = {}
    for writes in _ok_writes(path).values():
        values = [None] + [_value(i, c) for i, c in writes]      # version 0: the initial state
        j = len(writes)
        while j > 0:
            inv, comp = writes[j - 1]
            tests = _tests(inv, comp)
            if not tests:
                break                                # a blind put or delete: no base
            verdicts = [[t(values[k]) for t in tests] for k in range(j)]
            if any(r is None for rs in verdicts for r in rs):
                break
            base = [k for k, rs in enumerate(verdicts) if all(rs)]
            if not base:
                break
            nxt = max(base)
            for k in range(nxt + 1, j):
                lost[writes[k - 1][0]["index"]] = inv["index"]
            j = nxt
    return lost
