"""The recorder's Query and Scan: each page is a read of what it returned, and of the
absence of what it proves absent.

A page's items are whole items (when the request has no projection), each a ``read`` of
its key with the call's window (each on its own process, ``"<pid>.<i>"``: DynamoDB reads
them one by one within the call, not at one instant). A paginator's pages are separate
calls, so each page is read at its own time.

**Absence** is recorded only where a page proves it, for the keys the history knows so
far (those its calls have touched), as a ``read`` returning ``null``:

* a Query without a filter: every known key of its partition on which the whole key
  condition holds (the kernel's evaluator decides, sort-key conditions included; a key on
  which it cannot decide is left out), that the page covers (after ``ExclusiveStartKey``
  and up to ``LastEvaluatedKey``, in the direction of ``ScanIndexForward``) and that it did
  not return, is absent;
* a Scan that covered the whole table in one page (no ``ExclusiveStartKey``, no
  ``LastEvaluatedKey``, no parallel segments, no filter): every known key of the table it
  did not return is absent.

Anything else records no absence: a page of a Scan covers an order of hashed keys that the
client cannot see, and a filter hides items that exist. A Query or Scan of an index, one
with a projection (``ProjectionExpression``, ``AttributesToGet``, ``Select`` other than
``ALL_ATTRIBUTES``) records nothing: an index is a separate, lagging copy, and part of an
item is not a version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gtcheck.kernel.attrvalues import compare, from_wire
from gtcheck.kernel.expressions import Condition, condition
from gtcheck.kernel.exprparse import ExprSyntaxError, parse_condition
from gtcheck.realworld.translate import item_json, key_identity, legacy_condition

if TYPE_CHECKING:
    from gtcheck.realworld.recording import Recording as Recorder


def _recordable(kw: dict[str, Any]) -> bool:
    return not (kw.get("IndexName") or kw.get("ProjectionExpression") or kw.get("AttributesToGet")
                or kw.get("Select", "ALL_ATTRIBUTES") != "ALL_ATTRIBUTES")


def _filtered(kw: dict[str, Any]) -> bool:
    return bool(kw.get("FilterExpression") or kw.get("QueryFilter") or kw.get("ScanFilter"))


def _page(rec: "Recorder", client: Any, region: str, name: str, kw: dict[str, Any], absent: Any) -> Any:
    send = lambda: rec.original(client, name)(**kw)   # noqa: E731
    if not _recordable(kw):
        return send()
    table = kw["TableName"]
    consistent = bool(kw.get("ConsistentRead", False))

    def reads(resp: Any) -> list[dict[str, Any]]:
        names = rec.key_names(client, table)
        out = [{"key": rec.key(client, table, it), "value": item_json(it), "consistent": consistent}
               for it in resp.get("Items", [])]
        if names and not _filtered(kw):
            seen = {op["key"] for op in out}          # key texts are exact (numbers in normal form)
            out.extend({"key": text, "value": None, "consistent": consistent}
                       for text in sorted(absent(resp, names, seen)))
        return out
    return rec.run_page(client, region, send, reads)


def query(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    table = kw.get("TableName", "")

    def absent(resp: Any, names: list[str], seen: set[str]) -> list[str]:
        found = _key_condition(kw, names[0])
        if found is None:
            return []
        hash_value, cond = found
        known = rec.known_keys(table, key_identity({names[0]: hash_value}, names[:1]))
        start = kw.get("ExclusiveStartKey")
        if len(names) == 1:
            return [] if start else [t for t in known if t not in seen]
        last = resp.get("LastEvaluatedKey")
        forward = kw.get("ScanIndexForward", True) is not False
        return [t for t, k in known.items() if t not in seen and _covered(k, names[1], start, last, forward)
                and cond.holds(item_json(k)) is True]
    return _page(rec, client, region, "query", kw, absent)


def scan(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    table = kw.get("TableName", "")

    def absent(resp: Any, names: list[str], seen: set[str]) -> list[str]:
        if kw.get("ExclusiveStartKey") or resp.get("LastEvaluatedKey") or (kw.get("TotalSegments") or 1) > 1:
            return []
        return [t for t in rec.known_keys(table) if t not in seen]
    return _page(rec, client, region, "scan", kw, absent)


def _key_condition(kw: dict[str, Any], hash_name: str) -> tuple[Any, Condition] | None:
    """The partition a Query reads (the hash key's value, from the key condition's
    top-level ``<hash key> = :v``) and the whole key condition compiled by the kernel's
    evaluator (legacy ``KeyConditions`` as their expression); None when it cannot be read."""
    text = kw.get("KeyConditionExpression")
    names = dict(kw.get("ExpressionAttributeNames") or {})
    values = dict(kw.get("ExpressionAttributeValues") or {})
    if not text and kw.get("KeyConditions"):
        text, n, v = legacy_condition(kw["KeyConditions"], None, "k")
        names.update(n)
        values.update(v)
    try:
        tree = parse_condition(text or "")
    except ExprSyntaxError:
        return None
    conjuncts, hash_value = [tree], None
    while conjuncts:
        node = conjuncts.pop()
        if node[0] == "and":
            conjuncts.extend(node[1:])
        elif node[0] == "cmp" and node[1] == "=" and node[2][0] == "path" and node[3][0] == "val":
            steps = node[2][1]
            if len(steps) == 1 and steps[0][0] in ("name", "ph"):
                name = steps[0][1] if steps[0][0] == "name" else names.get(steps[0][1])
                if name == hash_name and node[3][1] in values:
                    hash_value = values[node[3][1]]
    if hash_value is None:
        return None
    return hash_value, condition(text or "", names, values, encoding="wire")


def _covered(key: dict[str, Any], sort_name: str, start: dict[str, Any] | None, last: dict[str, Any] | None,
             forward: bool) -> bool:
    """Whether a page that began after ``start`` and ended at ``last`` (either None: the
    partition's edge) read the position of ``key``'s sort key."""
    if sort_name not in key:
        return False
    sk = from_wire(key[sort_name])
    sign = 1 if forward else -1
    if start is not None and sort_name in start:
        c = compare(sk, from_wire(start[sort_name]))
        if c is None or c * sign <= 0:
            return False
    if last is not None and sort_name in last:
        c = compare(sk, from_wire(last[sort_name]))
        if c is None or c * sign > 0:
            return False
    return True
