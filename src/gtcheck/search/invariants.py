"""The application invariants gtcheck ships (``--invariant NAME`` or
``--invariant gtcheck.search.invariants:NAME``). Each takes a ``Run`` (the history, the
ground truth, the final state per key and region) and returns None when it holds, else a
message and the history indexes it cites. Write your own the same way: a function of a
``gtcheck.search.run.Run``."""

from __future__ import annotations

from typing import Any

Result = "tuple[str, list[int]] | None"


def _ops(run: Any) -> list[dict[str, Any]]:
    return [o for o in run.operations() if not o["final"]]


def counter_matches_increments(run: Any, attribute: str = "n") -> Any:
    """A counter's final value (attribute ``n``) equals the number of acknowledged
    increments (``ok`` updates that ``add`` to it), in every region. Keys written otherwise
    too (a put, a delete, another update) are not counters and are not judged."""
    acked: dict[str, list[int]] = {}
    other: set[str] = set()          # keys also written otherwise: a put or a delete resets a counter
    for o in _ops(run):
        if o["f"] == "read" or o.get("type") != "ok":
            continue
        if o["f"] == "update" and attribute in ((o.get("value") or {}).get("add") or {}):
            acked.setdefault(o["key"], []).append(o["index"])
        else:
            other.add(o["key"])
    for key in other:
        acked.pop(key, None)
    for key, idx in sorted(acked.items()):
        for region, item in sorted(run.final.get(key, {}).items()):
            got = (item or {}).get(attribute, 0)
            if got != len(idx):
                return (f"counter {key}: {len(idx)} increments acknowledged (ops {', '.join(map(str, idx))}) "
                        f"but {region} ends at {got}: {len(idx) - got} lost", idx)
    return None


def create_at_most_once(run: Any) -> Any:
    """A conditional create (``cas`` expecting absent) succeeds at most once per key."""
    wins: dict[str, list[int]] = {}
    for o in _ops(run):
        if o["f"] == "cas" and o.get("type") == "ok" and (o.get("value") or [None])[0] is None:
            wins.setdefault(o["key"], []).append(o["index"])
    for key, idx in sorted(wins.items()):
        if len(idx) > 1:
            return (f"conditional create of {key} succeeded {len(idx)} times (ops {', '.join(map(str, idx))})", idx)
    return None


def _winner(run: Any, key: str, writes: list[dict[str, Any]]) -> dict[str, Any] | None:
    finals = run.final.get(key, {})
    values = [v for v in finals.values()]
    if not values:
        return None
    final = values[0]
    rev = None if final is None else final.get("rev")
    for w in writes:
        if w["kind_of_write"] == "delete" and final is None:
            if all(w2 is w or w2["ts"] is None or (w["ts"], w["origin"]) >= (w2["ts"], w2["origin"])
                   for w2 in writes):
                return w
        v = w.get("item_rev")
        if v is not None and v == rev:
            return w
    return None


def _writes_by_key(run: Any) -> dict[str, list[dict[str, Any]]]:
    """The acknowledged stamped writes of each key, with what ``_winner`` matches them by."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for o in _ops(run):
        if o["f"] == "read" or o.get("type") != "ok" or o.get("ts") is None:
            continue
        w = dict(o)
        w["kind_of_write"] = o["f"]
        w["item_rev"] = _rev_of(o)
        by_key.setdefault(o["key"], []).append(w)
    return by_key


def _overwritten(run: Any, losers: Any, say: Any, what: str) -> Any:
    """Per key, the acknowledged writes ``losers(winner, writes)`` names as overwritten by
    the write whose value the key ends with; ``say(winner, lost)`` words them."""
    lost_all: list[int] = []
    parts = []
    for key, writes in sorted(_writes_by_key(run).items()):
        win = _winner(run, key, writes)
        if win is None:
            continue
        lost = losers(win, writes)
        if lost:
            lost_all += [w["index"] for w in lost] + [win["index"]]
            parts.append(f"{key}: {say(win, [w['index'] for w in lost])}")
    if lost_all:
        return (f"{len(lost_all) - len(parts)} {what}: " + "; ".join(parts), lost_all)
    return None


def _ops_list(indexes: list[int]) -> str:
    return f"write{'s' if len(indexes) > 1 else ''} {', '.join(map(str, indexes))}"


def no_acknowledged_write_lost(run: Any) -> Any:
    """Every acknowledged write either survives to the final state or was overwritten by
    a write invoked after it completed. A write overwritten by a concurrent write from
    another region (last writer wins), or by an earlier one stamped later, is lost."""
    applied = {t["index"]: t.get("applied_ns") or {} for t in run.truth if t.get("kind") == "write"}

    def unseen(win: dict[str, Any], w: dict[str, Any]) -> bool:
        """the winner was written without knowing ``w``: ``w`` had not reached the
        winner's region when the winner began (without ground truth: ``w`` had not
        completed before the winner began)"""
        if run.seen is not None and win["index"] in run.seen:
            return w["index"] not in run.seen[win["index"]]
        if w["index"] in applied:
            at = applied[w["index"]].get(win["region"])
            return at is None or at > win["start"]
        return not w["end"] < win["start"]

    return _overwritten(
        run, lambda win, writes: [w for w in writes if w is not win and w["region"] != win["region"] and unseen(win, w)],
        lambda win, lost: (f"acknowledged {_ops_list(lost)} vanished (the final value is op {win['index']}'s, "
                           f"written in {win['region']} before they reached it)"),
        "acknowledged write(s) lost")


def later_write_wins(run: Any) -> Any:
    """A write sent after another write of the same key was acknowledged supersedes it,
    as one copy would have it: the value a key ends with is never that of a write
    acknowledged before another acknowledged write of the key was sent. Broken when the
    earlier write wins last-writer-wins because it was stamped later (its region's clock
    ran ahead by more than the time between them). Narrower than
    ``no_acknowledged_write_lost``, which also names writes overwritten by concurrent ones
    and by later ones from regions they had not reached: here only the real-time order
    counts."""
    return _overwritten(
        run, lambda win, writes: [w for w in writes if w is not win and w["start"] > win["end"]],
        lambda win, lost: (f"acknowledged {_ops_list(lost)} sent after op {win['index']} (in {win['region']}) "
                           f"was acknowledged, yet the final value is op {win['index']}'s (stamped later)"),
        "later write(s) overwritten by an earlier one")


def _rev_of(o: dict[str, Any]) -> Any:
    v = o.get("value")
    if o["f"] == "write" and isinstance(v, dict):
        return v.get("rev")
    if o["f"] == "update" and isinstance(v, dict):
        return (v.get("set") or {}).get("rev")
    if o["f"] == "cas" and isinstance(v, list) and len(v) == 2 and isinstance(v[1], dict):
        return v[1].get("rev")
    return None


def optimistic_locking(run: Any, attribute: str = "ver") -> Any:
    """An optimistic-locking version attribute (``ver``) never lets two writers both
    succeed from the same version: two acknowledged writes conditioned on the same
    ``ver`` value are a violation."""
    seen: dict[tuple[str, Any], list[int]] = {}
    for o in _ops(run):
        cond = o.get("condition")
        if o.get("type") == "ok" and isinstance(cond, dict) and attribute in cond:
            seen.setdefault((o["key"], repr(cond[attribute])), []).append(o["index"])
    for (key, ver), idx in sorted(seen.items()):
        if len(idx) > 1:
            return (f"{key}: {len(idx)} writers all succeeded from {attribute} = {ver} "
                    f"(ops {', '.join(map(str, idx))})", idx)
    return None


def money_conserved(run: Any, attribute: str = "balance") -> Any:
    """Money moved between items by transactions is conserved as seen from every region:
    in each region's final state, the items' ``balance`` attributes add up to the total the
    last acknowledged transaction wrote (the initial total when there is none)."""
    totals: list[tuple[int, int]] = []
    txns: dict[Any, list[dict[str, Any]]] = {}
    for o in _ops(run):
        if o.get("txn") and o.get("type") == "ok":
            txns.setdefault(o["txn"], []).append(o)
    keys: set[str] = set()
    for t, parts in txns.items():
        s = 0
        for p in parts:
            v = p.get("value") or {}
            item = v if p["f"] == "write" else (v.get("set") or {})
            if attribute in item:
                s += item[attribute]
                keys.add(p["key"])
        totals.append((t, s))
    if not totals:
        return None
    expected = {s for _, s in totals}
    if len(expected) != 1:
        return None          # transactions that create or destroy money: nothing to conserve
    want = expected.pop()
    last: dict[Any, dict[str, Any]] = {}       # pairs of reads in a row by one client
    for o in _ops(run):
        if o["f"] != "read" or o.get("type") != "ok" or o["key"] not in keys:
            last.pop(o["process"], None)
            continue
        prev = last.get(o["process"])
        last[o["process"]] = o
        if prev is None or prev["key"] == o["key"] or len(keys) != 2:
            continue
        a, b = prev.get("result"), o.get("result")
        if a is None and b is None:
            continue                             # before any money was there
        got = (a or {}).get(attribute, 0) + (b or {}).get(attribute, 0)
        if got != want:
            return (f"{o['region']} saw {got} in total (reads {prev['index']} of {prev['key']} and {o['index']} of "
                    f"{o['key']}), not the {want} every transaction conserved: a transaction seen partially",
                    [prev["index"], o["index"]])
    # (a key without final reads is not judged at the end: the timed simulator reads a
    # scripted transaction's first key only, not the keys of its later items)
    regions = sorted({r for k in keys for r in run.final.get(k, {})}) if all(k in run.final for k in keys) else []
    for region in regions:
        got = sum(((run.final.get(k, {}).get(region) or {}).get(attribute, 0)) for k in sorted(keys))
        if got != want:
            cited = [p["index"] for parts in txns.values() for p in parts]
            return (f"{region} ends with {got} across {', '.join(sorted(keys))}, not the {want} every "
                    f"transaction conserved (transaction ops {', '.join(map(str, cited))})", cited)
    return None


def converges(run: Any) -> Any:
    """Every region ends with the same item for every key."""
    for key, regions in sorted(run.final.items()):
        if len({repr(v) for v in regions.values()}) > 1:
            return f"{key} did not converge: " + ", ".join(f"{r} holds {v}" for r, v in sorted(regions.items()))
    return None


def _ranks(run: Any) -> dict[Any, tuple[int, str]]:
    """rev -> the (ts, origin) of the acknowledged write that made that item."""
    out: dict[Any, tuple[int, str]] = {}
    for o in _ops(run):
        if o["f"] != "read" and o.get("type") == "ok" and o.get("ts") is not None:
            rev = _rev_of(o)
            if rev is not None:
                out[rev] = (o["ts"], o["origin"])
    return out


def _rank(ranks: dict[Any, tuple[int, str]], item: Any) -> tuple[int, str] | None:
    if item is None:
        return (-1, "")
    return ranks.get(item.get("rev")) if isinstance(item, dict) else None


def monotonic_reads(run: Any) -> Any:
    """A client's successive reads of a key never go backwards: a read never returns a
    version ranked below one the client already read (reads of a key that was deleted
    are not judged)."""
    ranks = _ranks(run)
    deleted = {o["key"] for o in _ops(run) if o["f"] == "delete" and o.get("type") == "ok"}
    last: dict[tuple[Any, str], tuple[tuple[int, str], dict[str, Any]]] = {}
    for o in _ops(run):
        if o["f"] != "read" or o.get("type") != "ok" or o["key"] in deleted:
            continue
        r = _rank(ranks, o.get("result"))
        if r is None:
            continue
        k = (o["process"], o["key"])
        prev = last.get(k)
        if prev is not None and r < prev[0]:
            p = prev[1]
            return (f"client {o['process']} read {o['key']} going backwards: read {p['index']} returned "
                    f"{p.get('result')}, then read {o['index']} returned the older {o.get('result')}",
                    [p["index"], o["index"]])
        if prev is None or r > prev[0]:
            last[k] = (r, o)
    return None


def read_your_writes(run: Any) -> Any:
    """A client's strongly consistent read returns its own acknowledged write of the key
    (or a version ranked above it), wherever the client's requests went (failover)."""
    ranks = _ranks(run)
    mine: dict[tuple[Any, str], dict[str, Any]] = {}
    for o in _ops(run):
        if o.get("type") != "ok":
            continue
        k = (o["process"], o["key"])
        if o["f"] != "read":
            if o.get("ts") is not None and o["f"] != "delete" and _rev_of(o) is not None:
                mine[k] = o
            else:
                mine.pop(k, None)
            continue
        w = mine.get(k)
        if w is None or not o.get("consistent"):
            continue
        r = _rank(ranks, o.get("result"))
        if r is not None and r < (w["ts"], w["origin"]):
            return (f"client {o['process']} wrote {o['key']} in {w['region']} (op {w['index']}, acknowledged), "
                    f"then its strongly consistent read {o['index']} in {o['region']} returned "
                    f"{o.get('result')}: its own write is missing", [w["index"], o["index"]])
    return None


SHIPPED = ("counter_matches_increments", "create_at_most_once", "no_acknowledged_write_lost", "later_write_wins",
           "optimistic_locking", "money_conserved", "converges", "monotonic_reads", "read_your_writes")
