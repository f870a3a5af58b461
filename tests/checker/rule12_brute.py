"""Rule 12 (lost writes) by brute force, written from the contract's text alone: the
reference the checker's O(n log n) chain walk (``checker.lostwrites``) is compared with.

It reads the history's events itself (no ``checker`` module), orders each key's ok writes
by ``(ts, origin)`` (so every ok write must carry ``ts``), and for every write w' computes
its whole base: each earlier version is tested by the kernel's evaluator, every test that
applies to w' (its change yields its post-image; it equals the cas's expected value; its
condition holds). A version whose tests are undecided is kept apart. Then, for the chain:
the latest version of base(w') is known when no undecided version lies above the latest
passing one; otherwise the chain stops at w' (the contract: what cannot be evaluated is no
base, never a guess). Quadratic, on purpose: small histories only.
"""

from __future__ import annotations

from numbers import Number
from pathlib import Path
from typing import Any

from gtcheck.kernel.exactjson import canon, loads_exact
from gtcheck.kernel.expressions import REJECTED, UNKNOWN, condition, short_condition, update

UNDECIDED = "undecided"


def read_events(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [x for x in Path(path).read_text().splitlines() if x.strip()]
    return loads_exact(lines[0]), [loads_exact(x) for x in lines[1:]]


def ok_writes(events: list[dict[str, Any]]) -> dict[str, list[tuple[dict, dict]]]:
    """Per key, its ok writes (invocation, completion) in (ts, origin) order."""
    open_: dict[Any, dict[str, Any]] = {}
    by_key: dict[str, list[tuple[dict, dict]]] = {}
    for ev in events:
        if ev["process"] == "nemesis":
            continue
        if ev["type"] == "invoke":
            open_[ev["process"]] = ev
            continue
        inv = open_.pop(ev["process"])
        if ev["type"] == "ok" and inv["f"] != "read":
            by_key.setdefault(inv["key"], []).append((inv, ev))
    for writes in by_key.values():
        writes.sort(key=lambda w: (w[1]["ts"], w[1].get("origin", w[0]["region"])))
    return by_key


def left_value(inv: dict[str, Any], comp: dict[str, Any]) -> Any:
    """What the write left: the item written, a cas's new value, an update's post-image,
    None for a delete."""
    f = inv["f"]
    if f == "delete":
        return None
    if f == "cas":
        return inv["value"][1]
    if f == "update":
        return comp["value"]
    return inv["value"]


def _cond(c: Any) -> Any:
    if isinstance(c, str):
        return condition(c)
    if isinstance(c, dict) and "expression" in c:
        return condition(c["expression"], c.get("names"), c.get("values"))
    return short_condition(c)


def _rule8(item: Any, change: dict[str, Any]) -> Any:
    """Rule 8 written out again: set, then remove, then add (numbers; list elements not
    already present); a missing item counts as {}."""
    new = dict(item or {})
    for k, v in (change.get("set") or {}).items():
        new[k] = v
    for k in change.get("remove") or []:
        new.pop(k, None)
    for k, v in (change.get("add") or {}).items():
        if isinstance(v, list):
            old = list(new[k]) if isinstance(new.get(k), list) else []
            new[k] = old + [x for x in v if x not in old]
        else:
            old = new.get(k)
            new[k] = (old if isinstance(old, Number) and not isinstance(old, bool) else 0) + v
    return new


def verdict(inv: dict[str, Any], comp: dict[str, Any], version: Any) -> Any:
    """True / False / UNDECIDED: does ``version`` pass every test of this write? None when
    the write has no test at all (a blind put or delete)."""
    results = []
    f = inv["f"]
    if f == "update":
        post = canon(comp["value"])
        change = inv["value"]
        if "expression" in change:
            r = update(change["expression"], change.get("names"), change.get("values")).apply(
                version, inv.get("key_attributes"))
            results.append(UNDECIDED if r is UNKNOWN else False if r is REJECTED
                           else canon(r) == post)
        else:
            results.append(canon(_rule8(version, change)) == post)
    if f == "cas":
        exp = inv["value"][0]
        results.append(version is None if exp is None
                       else version is not None and canon(version) == canon(exp))
    if "condition" in inv:
        r = _cond(inv["condition"]).holds(version)
        results.append(r if r is True or r is False else UNDECIDED)
    if not results:
        return None
    if False in results:
        return False
    return UNDECIDED if UNDECIDED in results else True


def lost_writes(path: Path) -> dict[int, int]:
    """Every lost write's invocation index -> the index of the write it was lost to."""
    header, events = read_events(path)
    out: dict[int, int] = {}
    for writes in ok_writes(events).values():
        versions = [header.get("initial")] + [left_value(i, c) for i, c in writes]
        chain = [len(writes)]               # positions in ``versions``; 0: the initial state
        while chain[-1] > 0:
            p = chain[-1]
            inv, comp = writes[p - 1]
            verdicts = [verdict(inv, comp, versions[k]) for k in range(p)]
            if verdicts and verdicts[0] is None:
                break                        # no base: a blind put or delete
            base = [k for k, v in enumerate(verdicts) if v is True]
            undecided = [k for k, v in enumerate(verdicts) if v == UNDECIDED]
            if not base:
                break                        # empty base, or undecided
            latest = max(base)
            if any(k > latest for k in undecided):
                break                        # the latest version of the base is not known
            chain.append(latest)
        for upper, lower in zip(chain, chain[1:]):
            for k in range(lower + 1, upper):
                out[writes[k - 1][0]["index"]] = writes[upper - 1][0]["index"]
    return out
