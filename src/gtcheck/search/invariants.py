"""The application invariants gtcheck ships (``--invariant NAME`` or
``--invariant gtcheck.search.invariants:NAME``), for ``gtcheck search``/``explore`` (runs of
the model) and ``gtcheck check`` (recordings) alike.

Each takes a :class:`gtcheck.search.run.Run` and returns None when it holds, a message and
the history indexes it cites when it does not, or :class:`~gtcheck.search.run.Unknown`
when the run cannot tell. They read the history (``run.operations()``), the final state
(``run.final``, from the final reads) and what the checker established about the history
(``run.established``: the conflict order, the version each read returned, the lost
writes), all of which a recording has as much as a model run. Only
``no_acknowledged_write_lost`` also reads the ground truth where there is one
(``run.has_truth``), and says ``Unknown`` on a recording where the truth would be needed.

Conditions and changes are read through the kernel's expression evaluator, so a write
recorded with DynamoDB's expressions (``attribute_not_exists(pk)``, ``ADD n :one``,
``SET n = n + :one``, ``ver = :v``) counts as the model's ``cas``/``add``/short-form
condition does. Write your own the same way: a function of a ``Run``.
"""

from __future__ import annotations

from bisect import bisect_left
from decimal import Decimal
from typing import Any, Iterator

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import canon
from gtcheck.kernel.expressions import history_condition, history_update
from gtcheck.kernel.exprparse import parse_condition
from gtcheck.kernel.items import apply_change
from gtcheck.search.answer import Unknown

WRITES = ("write", "update", "cas", "delete")


def _ops(run: Any) -> list[dict[str, Any]]:
    return [o for o in run.operations() if not o["final"]]


def _num(x: Any) -> bool:
    return isinstance(x, (int, float, Decimal)) and not isinstance(x, bool)


def _may_have_applied(o: dict[str, Any]) -> bool:
    """``ok``, ``info``, or never completed (which counts as ``info``: the format's `type` field): only a
    ``fail`` certainly took no effect."""
    return o.get("type") != "fail"


def _cites(idx: list[int]) -> str:
    return ", ".join(map(str, idx))


# --------------------------------------------------------------------------- changes
def _updated(o: dict[str, Any], item: dict[str, Any]) -> dict[str, Any] | None:
    """What update ``o`` makes of ``item`` (its change by rule 8, or its UpdateExpression
    through the kernel's evaluator); None when that cannot be told."""
    value = o.get("value")
    upd = history_update(value)
    if upd is None:
        return apply_change(item, value) if isinstance(value, dict) else None
    if upd.rejected is not None:
        return None
    out = upd.apply(dict(item, **(o.get("key_attributes") or {})), None)
    return out if isinstance(out, dict) else None      # UNKNOWN or REJECTED: cannot tell


def _delta(o: dict[str, Any], attribute: str) -> Any:
    """The amount update ``o`` adds to the number ``attribute`` whatever it was (0 when it
    leaves it alone), or None when it does something else to it (sets it, removes it, or
    cannot be evaluated). Probed on two values, the item's other attributes as its
    post-image shows them (``list_append(ops, :me)`` needs ``ops``), through the same
    evaluator as the checker."""
    got = []
    post = o.get("result") if o.get("type") == "ok" else None
    around = post if isinstance(post, dict) else {}       # the item's other attributes
    for start in (0, 7):
        new = _updated(o, dict(around, **{attribute: start}))
        if new is None or not _num(new.get(attribute)):
            return None
        got.append(new[attribute] - start)
    return got[0] if got[0] == got[1] else None


def _item_written(o: dict[str, Any]) -> Any:
    """The item an ok write left (an update's post-image as its completion carries it);
    None for a delete or when the history does not say."""
    if o["f"] == "write":
        return o.get("value")
    if o["f"] == "cas":
        v = o.get("value")
        return v[1] if isinstance(v, list) and len(v) == 2 else None
    if o["f"] == "update":
        r = o.get("result")
        return r if isinstance(r, dict) else None
    return None


# --------------------------------------------------------------------------- counters
def counter_matches_increments(run: Any, attribute: str | None = None) -> Any:
    """A counter ends, in every region, at what its acknowledged changes add up to. A
    counter is a numeric attribute (``attribute``, or every numeric attribute of the final
    items) of a key whose writes all add an amount to it (``add``, ``ADD n :one``, ``SET n
    = n + :one``), after at most one creating put that completed before any of them began.
    A key written otherwise too (a delete, a second put, a change that sets the number) is
    not a counter and is not judged. An update whose outcome is unknown (``info``) may
    count or not: the final value must lie within what they allow."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for o in _ops(run):
        if o["f"] in WRITES and _may_have_applied(o):
            by_key.setdefault(o["key"], []).append(o)
    judged = False
    broken: list[str] = []
    cited: list[int] = []
    for key, writes in sorted(by_key.items()):
        finals = run.final.get(key) or {}
        attrs = [attribute] if attribute else sorted(
            {a for item in finals.values() if isinstance(item, dict) for a, v in item.items() if _num(v)})
        for attr in attrs:
            c = _counter(writes, attr)
            if c is None:
                continue
            base, acked, lo, hi = c
            if not acked:
                continue
            if not finals:
                return Unknown(f"counter {key} has no final reads: its final value is not known "
                               "(record a quiet final phase and settled_after_ns)")
            judged = True
            for region, item in sorted(finals.items()):
                got = (item or {}).get(attr, 0)
                if not (_num(got) and lo <= got <= hi):
                    broken.append(_counter_message(run, key, attr, base, acked, region, got))
                    cited += [o["index"] for o in acked]
                    break
    if broken:
        return "; ".join(broken), cited
    if not judged and not run.final and any(o["f"] == "update" for ws in by_key.values() for o in ws):
        return Unknown("the history has no final reads: no counter's final value is known")
    return None


def _counter(writes: list[dict[str, Any]], attr: str) -> tuple[Any, list[dict[str, Any]], Any, Any] | None:
    """``(start, acknowledged changes, lowest, highest final value allowed)`` when the key's
    writes make ``attr`` a counter, else None."""
    updates = [o for o in writes if o["f"] == "update"]
    others = [o for o in writes if o["f"] != "update"]
    if not updates or len(others) > 1:
        return None
    base: Any = 0
    if others:
        put = others[0]
        item = _item_written(put)
        if put.get("type") != "ok" or put["f"] not in ("write", "cas") or not isinstance(item, dict) \
                or not _num(item.get(attr, 0)) or any(put["end"] >= u["start"] for u in updates):
            return None
        base = item.get(attr, 0)
    acked, lo, hi = [], base, base
    for u in updates:
        d = _delta(u, attr)
        if d is None:
            return None
        if u.get("type") == "ok":
            if d != 0:
                acked.append(u)
            lo, hi = lo + d, hi + d
        elif d < 0:
            lo += d
        else:
            hi += d
    return base, acked, lo, hi


def _counter_message(run: Any, key: str, attr: str, base: Any, acked: list[dict[str, Any]],
                     region: str, got: Any) -> str:
    deltas = [_delta(o, attr) for o in acked]
    want = base + sum(deltas)
    idx = [o["index"] for o in acked]
    if base == 0 and all(d == 1 for d in deltas) and _num(got) and got < want:
        text = (f"counter {key}: {len(idx)} increments acknowledged (ops {_cites(idx)}) "
                f"but {region} ends at {got}: {want - got} lost")
    else:
        text = (f"counter {key} ({attr}): {len(idx)} acknowledged changes (ops {_cites(idx)}) "
                f"take it from {base} to {want}, but {region} ends at {got}")
    try:
        lost = [lw.write for lw in run.established.lost_on(key)]
    except UserError:
        lost = []           # a history the checker cannot judge (an untimed exploration's)
    if lost:
        text += f"; the checker names the lost writes: {_cites(lost)}"
    return text


# --------------------------------------------------------------------------- creation
def _creates(o: dict[str, Any]) -> bool:
    """A conditional create: a cas expecting absent, or a write whose condition holds on no
    item and fails on the item it wrote (``attribute_not_exists(pk)``)."""
    v = o.get("value")
    if o["f"] == "cas" and isinstance(v, list) and len(v) == 2 and v[0] is None:
        return True
    cond = o.get("condition")
    item = _item_written(o)
    if cond is None or not isinstance(item, dict):
        return False
    c = history_condition(cond)
    return c.rejected is None and c.holds(None) is True and c.holds(item) is False


def create_at_most_once(run: Any) -> Any:
    """A conditional create succeeds at most once per key, or once again only after an
    acknowledged delete (in the conflict order the checker established)."""
    wins: dict[str, list[int]] = {}
    deleted: dict[str, list[int]] = {}     # deletes that may have taken effect
    for o in _ops(run):
        if o["f"] in WRITES and o.get("type") == "ok" and _creates(o):
            wins.setdefault(o["key"], []).append(o["index"])
        elif o["f"] == "delete" and _may_have_applied(o):
            deleted.setdefault(o["key"], []).append(o["index"])
    undecided, broken, cited = [], [], []
    for key, idx in sorted(wins.items()):
        if len(idx) < 2:
            continue
        if key in deleted:
            est = run.established
            # a delete of unknown outcome (info, or never completed) that the checker did not
            # place in the conflict order may lie between any two creates
            if key in est.unordered or any(est.rank.get(d) is None for d in deleted[key]):
                undecided.append(key)
                continue
            idx = _creates_without_delete(run, est.order.get(key, []), set(idx))
            if len(idx) < 2:
                continue
        broken.append(f"conditional create of {key} succeeded {len(idx)} times (ops {_cites(idx)})")
        cited += idx
    if broken:
        return "; ".join(broken), cited
    if undecided:
        return Unknown(f"keys {', '.join(undecided)} were created again after a delete that the checker "
                       "could not place in the conflict order (its outcome unknown, or the key's writes "
                       "unordered)")
    return None


def _creates_without_delete(run: Any, order: list[int], creates: set[int]) -> list[int]:
    """The first run of two or more creates with no delete between them, in ``order``."""
    f = {e["index"]: e["f"] for e in run.events[1:] if e.get("type") == "invoke"}
    streak: list[int] = []
    for i in order:
        if f.get(i) == "delete":
            if len(streak) > 1:
                return streak
            streak = []
        elif i in creates:
            streak.append(i)
    return streak


# --------------------------------------------------------------------------- lost writes
def no_acknowledged_write_lost(run: Any) -> Any:
    """Every acknowledged write survives, or was overwritten by a write made in a region it
    had already reached. The ground truth decides where the run has it (a run of the model:
    which writes had reached the region where the final version was written). A recording
    has none, so there the checker decides what the history alone can: the writes rule 12
    names lost (a later surviving write was applied to a version older than them) violate
    it; when none is named but the key's last version is a blind write from another region
    that may not have seen acknowledged writes (or a chain rule 12 could not follow), the
    answer is Unknown, never a guess."""
    lost: dict[str, dict[int, str]] = {}
    doubtful: dict[str, list[int]] = {}      # named by rule 12, but a write of unknown outcome may be the base
    if run.has_truth:
        for key, (win, gone) in _lost_by_truth(run).items():
            for i in gone:
                lost.setdefault(key, {})[i] = (f"the final value is op {win['index']}'s, written "
                                               f"in {win['region']} before they reached it")
    else:
        est = run.established
        maybe = _maybe_bases(run, est)
        by_index = {o["index"]: o for o in _ops(run)}
        for lw in est.lost:
            if _could_be_based_on_unknown(lw, maybe, by_index):
                doubtful.setdefault(lw.key, []).append(lw.write)
                continue
            lost.setdefault(lw.key, {})[lw.write] = (f"lost to op {lw.lost_to} ({lw.lost_to_region}), "
                                                     "applied to a version older than them")
    if lost:
        parts, cited = [], []
        for key, gone in sorted(lost.items()):
            by_why: dict[str, list[int]] = {}
            for i, why in sorted(gone.items()):
                by_why.setdefault(why, []).append(i)
            for why, idx in sorted(by_why.items(), key=lambda kv: kv[1][0]):
                parts.append(f"{key}: acknowledged write{'s' if len(idx) > 1 else ''} {_cites(idx)} "
                             f"vanished ({why})")
            cited += sorted(gone)
        return (f"{len(cited)} acknowledged write(s) lost: " + "; ".join(parts), cited)
    if run.has_truth:
        return None
    maybe = [f"rule 12 names write{'s' if len(idx) > 1 else ''} {_cites(idx)} of {key} lost, but a write of "
             "unknown outcome the checker did not place (info, or never completed) may be the version "
             "the later write was applied to" for key, idx in sorted(doubtful.items())]
    maybe += _blind_overwrites(run, est)
    if est.lost_undecided:
        maybe.append(f"the checker could not follow {est.lost_undecided} key(s)' surviving chains "
                     "(an expression it cannot evaluate)")
    if maybe:
        return Unknown("no write is certainly lost, but " + "; ".join(maybe) + ": whether writes "
                       "were lost there needs the ground truth a recording does not have")
    return None


def _maybe_bases(run: Any, est: Any) -> dict[str, list[dict[str, Any]]]:
    """Per key: the writes of unknown outcome that the checker did not place in the
    conflict order (rule 12's versions are the ``ok`` writes only)."""
    out = {key: [o for o in ws if est.rank.get(o["index"]) is None] for key, ws in _unanswered_writes(run).items()}
    return {key: ws for key, ws in out.items() if ws}


def _could_be_based_on_unknown(lw: Any, maybe: dict[str, list[dict[str, Any]]],
                               ops: dict[int, dict[str, Any]]) -> bool:
    """Whether the write ``lw.write`` is lost to may instead have been applied to a write of
    unknown outcome: one invoked before the later write completed (so it may have reached
    that write's region first, whatever its place in the conflict order), and able to leave
    what the later write's tests accepted: a delete where rule 12's base is the absent
    item, any other write where it is an item (the item an unknown write left is not known
    well enough to rule it out)."""
    later = ops.get(lw.lost_to)
    done = later.get("end") if later else None
    return any((done is None or u["start"] < done) and ((u["f"] == "delete") == (lw.base is None))
               for u in maybe.get(lw.key, ()))


def _final_writers(run: Any) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Per key: the acknowledged write whose value the key ends with (see ``_winner``) and
    the key's acknowledged stamped writes."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for o in _ops(run):
        if o["f"] in WRITES and o.get("type") == "ok" and o.get("ts") is not None:
            by_key.setdefault(o["key"], []).append(o)
    out = {}
    for key, writes in sorted(by_key.items()):
        win = _winner(run, key, writes)
        if win is not None:
            out[key] = (win, writes)
    return out


def _unanswered_writes(run: Any) -> dict[str, list[dict[str, Any]]]:
    """Per key: the writes of unknown outcome (``info``, or never completed)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for o in _ops(run):
        if o["f"] in WRITES and o.get("type") != "ok" and _may_have_applied(o):
            out.setdefault(o["key"], []).append(o)
    return out


def _could_leave(o: dict[str, Any], item: Any) -> bool:
    """Whether write ``o``, of unknown outcome, may have left ``item`` (None: absent)."""
    if o["f"] == "delete" or item is None:
        return o["f"] == "delete" and item is None
    if o["f"] == "update":
        return True                 # an unanswered update's post-image is unknown (rule 8)
    mine = o.get("value") if o["f"] == "write" else _item_written(o)
    return mine is None or canon(mine) == canon(item)


def _lost_by_truth(run: Any) -> dict[str, tuple[dict[str, Any], list[int]]]:
    """Per key: the final version's write and the acknowledged writes of other regions it
    was written without (the ground truth, or exploration's ``Run.seen``)."""
    applied = {t["index"]: t.get("applied_ns") or {} for t in run.truth if t.get("kind") == "write"}
    out = {}
    for key, (win, writes) in _final_writers(run).items():

        def unseen(w: dict[str, Any]) -> bool:
            """the winner was written without ``w``: ``w`` had not reached the winner's
            region when the winner began"""
            if run.seen is not None and win["index"] in run.seen:
                return w["index"] not in run.seen[win["index"]]
            if w["index"] in applied:
                at = applied[w["index"]].get(win["region"])
                return at is None or at > win["start"]
            return not w["end"] < win["start"]

        gone = [w["index"] for w in writes if w is not win and w["region"] != win["region"] and unseen(w)]
        if gone:
            out[key] = (win, gone)
    return out


def later_write_wins(run: Any) -> Any:
    """A write sent after another write of the same key was acknowledged supersedes it,
    as one copy would have it: the value a key ends with is never that of a write
    acknowledged before another acknowledged write of the key was sent. Broken when the
    earlier write wins last-writer-wins because it was stamped later (its region's clock
    ran ahead by more than the time between them). Narrower than
    ``no_acknowledged_write_lost``, which also names writes overwritten by concurrent ones
    and by later ones from regions they had not reached: here only the real-time order
    counts, which a recording gives as well as a model run."""
    parts, cited = [], []
    unsure: list[str] = []
    unanswered = _unanswered_writes(run)
    for key, (win, writes) in _final_writers(run).items():
        lost = sorted(w["index"] for w in writes if w is not win and w["start"] > win["end"])
        if lost and any(_could_leave(u, _item_written(win)) for u in unanswered.get(key, ())):
            unsure.append(key)      # the final item may be an unanswered write's, made later
            continue
        if lost:
            parts.append(f"{key}: acknowledged write{'s' if len(lost) > 1 else ''} {_cites(lost)} sent after "
                         f"op {win['index']} (in {win['region']}) was acknowledged, yet the final value is "
                         f"op {win['index']}'s (stamped later)")
            cited += lost + [win["index"]]
    if parts:
        return (f"{len(cited) - len(parts)} later write(s) overwritten by an earlier one: " + "; ".join(parts),
                cited)
    if unsure:
        return Unknown(f"{', '.join(unsure)} end{'s' if len(unsure) == 1 else ''} with the item of an acknowledged "
                       "write that later acknowledged writes should have superseded, but a write of unknown outcome "
                       "(info, or never completed) may have left that item instead: which write won is not known")
    return None


def _winner(run: Any, key: str, writes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The write whose version the key's final state is: the last by (ts, origin) whose item
    is the final one (a delete when the key ends absent)."""
    finals = list((run.final.get(key) or {}).values())
    if not finals:
        return None
    final = finals[0]
    latest = sorted(writes, key=lambda w: (w["ts"], w["origin"]), reverse=True)
    if final is None:
        return latest[0] if latest[0]["f"] == "delete" else None
    want = canon(final)
    return next((w for w in latest if w["f"] != "delete" and canon(_item_written(w)) == want), None)


def _blind_overwrites(run: Any, est: Any) -> list[str]:
    """Keys whose last version is a blind write (no condition, no base to test) made without
    evidence that acknowledged writes of other regions had reached its region: what only
    the ground truth could decide. The evidence the history gives: a read in that region,
    complete before the blind write began, that returned a version ranked at or above the
    write (replication is not visible in a recording; a write's completion in its own
    region says nothing of the others)."""
    ops = {o["index"]: o for o in _ops(run)}
    reads: dict[tuple[str, str], list[tuple[int, int]]] = {}     # (key, region) -> (end, rank)
    for i, o in ops.items():
        if o["f"] == "read" and o.get("type") == "ok":
            r = est.version_rank(i, o.get("result"))
            if r is not None:
                reads.setdefault((o["key"], o["region"]), []).append((o["end"], r))
    out = []
    for key, order in est.order.items():
        last = est.writes[order[-1]]
        op = ops.get(last.index, {})
        if op.get("f") not in ("write", "delete") or op.get("condition") is not None:
            continue
        known = max((r for end, r in reads.get((key, last.region), ()) if end < last.invoke_ns), default=-1)
        maybe = [w for w in order[:-1] if est.writes[w].ok and est.writes[w].region != last.region
                 and est.rank[w] > known]
        if maybe:
            out.append(f"{key}'s last version is blind write {last.index} ({last.region}), and nothing "
                       f"shows that write{'s' if len(maybe) > 1 else ''} {_cites(maybe)} had reached "
                       f"{last.region} before it")
    for key in sorted(est.unordered):
        out.append(f"{key}'s writes could not be ordered")
    return out


# --------------------------------------------------------------------------- conditions
def _pinned(cond: Any, attribute: str) -> tuple[bool, Any]:
    """``(True, v)`` when condition ``cond`` requires ``attribute = v`` (the short form
    ``{ver: 0}``, or an expression ``ver = :v AND ...``), else ``(False, None)``."""
    if isinstance(cond, dict) and "expression" not in cond:
        return (True, cond[attribute]) if attribute in cond else (False, None)
    if isinstance(cond, str):
        cond = {"expression": cond}
    if not isinstance(cond, dict) or not isinstance(cond.get("expression"), str):
        return False, None
    names, values = cond.get("names") or {}, cond.get("values") or {}
    try:
        tree = parse_condition(cond["expression"])
    except Exception:  # noqa: BLE001 -- a condition the parser cannot read pins nothing
        return False, None
    todo = [tree]
    while todo:
        node = todo.pop()
        if node[0] == "and":
            todo.extend(node[1:])
        elif node[0] == "cmp" and node[1] == "=":
            for p, v in ((node[2], node[3]), (node[3], node[2])):
                if p[0] == "path" and v[0] == "val" and len(p[1]) == 1 and v[1] in values:
                    kind, name = p[1][0]
                    if (names.get(name) if kind == "ph" else name) == attribute:
                        return True, values[v[1]]
    return False, None


def optimistic_locking(run: Any, attribute: str = "ver") -> Any:
    """An optimistic-locking version attribute (``ver``) never lets two writers both
    succeed from the same version: two acknowledged writes conditioned on the same
    ``ver`` value are a violation."""
    seen: dict[tuple[str, Any], list[int]] = {}
    for o in _ops(run):
        if o.get("type") != "ok":
            continue
        pinned, v = _pinned(o.get("condition"), attribute)
        if pinned:
            seen.setdefault((o["key"], canon(v)), []).append(o["index"])
    for (key, ver), idx in sorted(seen.items()):
        if len(idx) > 1:
            return (f"{key}: {len(idx)} writers all succeeded from {attribute} = {ver.decode()} "
                    f"(ops {_cites(idx)})", idx)
    return None


# --------------------------------------------------------------------------- transactions
def money_conserved(run: Any, attribute: str = "balance") -> Any:
    """Money moved between items by transactions is conserved as seen from every region:
    two reads in a row by one client (of the two items the transactions move money
    between), and each region's final state, add up to the total every acknowledged
    transaction wrote.

    A pair of reads is judged only where one state of the table explains it: a transaction
    had been acknowledged before the first read began (before it, the items may hold what
    the recording does not show), and no write of the items, of any outcome, overlaps the
    two reads (two reads straddling a transfer see two states, one before and one after it,
    each conserved; the two reads of one read transaction are one snapshot and are always
    judged). Items also written outside transactions are not what the transactions alone
    decide: reads after such a write, and the final state, are then not judged, and the
    answer is Unknown when nothing else showed a violation."""
    ops = _ops(run)
    txns: dict[Any, list[dict[str, Any]]] = {}
    for o in ops:
        if o.get("txn") is not None and o["f"] in WRITES and o.get("type") == "ok":
            txns.setdefault(o["txn"], []).append(o)
    keys: set[str] = set()
    totals = set()
    for parts in txns.values():
        s: Any = 0
        for p in parts:
            item = _item_written(p)
            if isinstance(item, dict) and _num(item.get(attribute)):
                s += item[attribute]
                keys.add(p["key"])
        totals.add(s)
    if len(totals) != 1 or not keys:
        return None          # no transactions, or ones that create or destroy money: nothing to conserve
    want = totals.pop()
    first_done = min(max(p["end"] for p in parts) for parts in txns.values())
    writes = [o for o in ops if o["f"] in WRITES and o["key"] in keys and _may_have_applied(o)]
    outside = [o for o in writes if o.get("txn") is None]
    outside_from = min((o["start"] for o in outside), default=None)
    busy = _Busy(writes)
    for first, second, snapshot in (_read_pairs(ops, keys) if len(keys) == 2 else ()):
        start, end = first["start"], max(first["end"], second["end"])
        if start <= first_done or (outside_from is not None and end >= outside_from):
            continue
        if not snapshot and busy.overlaps(start, end):
            continue
        amounts = [(x.get("result") or {}).get(attribute, 0) for x in (first, second)]
        if not all(_num(x) for x in amounts):
            continue
        got = amounts[0] + amounts[1]
        if got != want:
            return (f"{second['region']} saw {got} in total (reads {first['index']} of {first['key']} and "
                    f"{second['index']} of {second['key']}), not the {want} every transaction conserved: "
                    "a transaction seen partially", [first["index"], second["index"]])
    if outside:
        return Unknown(f"{', '.join(sorted(keys))} are also written outside transactions (ops "
                       f"{_cites(sorted(o['index'] for o in outside))}): what they add up to is not the "
                       "transactions' alone")
    # (a key without final reads is not judged at the end: the timed simulator reads a
    # scripted transaction's first key only, not the keys of its later items)
    regions = sorted({r for k in keys for r in run.final.get(k, {})}) if all(k in run.final for k in keys) else []
    for region in regions:
        amounts = [((run.final.get(k, {}).get(region) or {}).get(attribute, 0)) for k in sorted(keys)]
        got = sum(amounts) if all(_num(x) for x in amounts) else amounts
        if got != want:
            cited = [p["index"] for parts in txns.values() for p in parts]
            return (f"{region} ends with {got} across {', '.join(sorted(keys))}, not the {want} every "
                    f"transaction conserved (transaction ops {_cites(cited)})", cited)
    return None


def _read_pairs(ops: list[dict[str, Any]], keys: set[str]) -> Iterator[tuple[dict[str, Any], dict[str, Any], bool]]:
    """Pairs of ok reads of two different ``keys``: ``(first, second, snapshot)``. Two reads
    in a row by one client (nothing else of it between them), and the reads of one read
    transaction (one ``txn`` id: the model gives them one client, the recorder one client
    per item), which are one snapshot."""
    last: dict[Any, dict[str, Any]] = {}
    by_txn: dict[Any, dict[str, dict[str, Any]]] = {}
    for o in ops:
        if o["f"] != "read" or o.get("type") != "ok" or o["key"] not in keys:
            last.pop(o["process"], None)
            continue
        prev = last.get(o["process"])
        last[o["process"]] = o
        txn = o.get("txn")
        if prev is not None and prev["key"] != o["key"]:
            yield prev, o, txn is not None and prev.get("txn") == txn
        if txn is not None:
            seen = by_txn.setdefault(txn, {})
            for key, r in seen.items():
                if key != o["key"] and r is not prev:
                    yield r, o, True
            seen[o["key"]] = o


class _Busy:
    """When the items were being written: each transaction's span (its first part's
    invocation to its last part's completion) and each other write's, open-ended unless it
    was acknowledged (a write of unknown outcome may take effect at any time).
    ``overlaps(a, b)``: some span meets the interval (a, b), in O(log n)."""

    def __init__(self, writes: list[dict[str, Any]]) -> None:
        spans: dict[Any, list[float]] = {}
        for o in writes:
            end = o["end"] if o.get("type") == "ok" else float("inf")    # info: may apply any time later
            tag = ("txn", o["txn"]) if o.get("txn") is not None else ("op", o["index"])
            s = spans.setdefault(tag, [o["start"], end])
            s[0], s[1] = min(s[0], o["start"]), max(s[1], end)
        ordered = sorted(spans.values())
        self.starts = [s for s, _ in ordered]
        self.reach: list[float] = []           # the latest end among the spans so far
        for _, e in ordered:
            self.reach.append(max(e, self.reach[-1]) if self.reach else e)

    def overlaps(self, a: float, b: float) -> bool:
        j = bisect_left(self.starts, b)        # the spans that began before b
        return j > 0 and self.reach[j - 1] > a


# --------------------------------------------------------------------------- final state, reads
def converges(run: Any) -> Any:
    """Every region ends with the same item for every key."""
    if not run.final:
        return Unknown("the history has no final reads (settled_after_ns): the final state is not known")
    for key, regions in sorted(run.final.items()):
        if len({canon(v) for v in regions.values()}) > 1:     # 1 and 1.0 are one number
            return f"{key} did not converge: " + ", ".join(f"{r} holds {v}" for r, v in sorted(regions.items()))
    return None


def monotonic_reads(run: Any) -> Any:
    """A client's successive reads of a key never go backwards: a read never returns a
    version the checker ranked below one the client already read (reads of a key that was
    deleted are not judged)."""
    ops = _ops(run)
    deleted = {o["key"] for o in ops if o["f"] == "delete" and _may_have_applied(o)}
    reads = [o for o in ops if o["f"] == "read" and o.get("type") == "ok" and o["key"] not in deleted]
    if not reads:
        return None
    est = run.established
    last: dict[tuple[Any, str], tuple[int, dict[str, Any]]] = {}
    for o in reads:
        r = est.version_rank(o["index"], o.get("result"))
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
    (or a version the checker ranked above it), wherever the client's requests went
    (failover)."""
    ops = _ops(run)
    if not any(o["f"] == "read" and o.get("consistent") for o in ops):
        return None
    est = run.established
    mine: dict[tuple[Any, str], dict[str, Any]] = {}
    for o in ops:
        if o.get("type") != "ok":
            continue
        k = (o["process"], o["key"])
        if o["f"] != "read":
            if o["f"] != "delete" and est.rank.get(o["index"]) is not None:
                mine[k] = o
            else:
                mine.pop(k, None)
            continue
        w = mine.get(k)
        if w is None or not o.get("consistent"):
            continue
        r = est.version_rank(o["index"], o.get("result"))
        if r is not None and r < est.rank[w["index"]]:
            return (f"client {o['process']} wrote {o['key']} in {w['region']} (op {w['index']}, acknowledged), "
                    f"then its strongly consistent read {o['index']} in {o['region']} returned "
                    f"{o.get('result')}: its own write is missing", [w["index"], o["index"]])
    return None


SHIPPED = ("counter_matches_increments", "create_at_most_once", "no_acknowledged_write_lost", "later_write_wins",
           "optimistic_locking", "money_conserved", "converges", "monotonic_reads", "read_your_writes")
