"""The recorder's multi-item calls: TransactWriteItems, TransactGetItems, BatchWriteItem,
BatchGetItem.

One operation per item. The items of one call run concurrently inside DynamoDB, so each
gets its own process (``"<pid>.<i>"``) with the call's real invoke-to-completion window
(the model's convention of invoking them one after the other would claim windows that
never happened).

* **TransactWriteItems**: Put, Update and Delete items are ``write``/``cas``, ``update`` and
  ``delete`` operations sharing a ``txn`` id, conditions verbatim. A ``ConditionCheck``
  constrains the whole transaction without writing: it is recorded on every operation of
  the transaction as ``txn_checks: [{"key": K, "condition": {...}}]`` (gtcheck's decision,
  docs/history-format.md). DynamoDB returns no item for an Update inside a transaction, so
  its post-image is read back (:meth:`Recorder.post_image`): ``ok`` with it when the read
  finds this update's token, ``info`` otherwise. A cancelled transaction had no effect: every
  operation ``fail``s, each with its own item's cancellation reason in ``reason``.
* **TransactGetItems**: strongly consistent ``read``s sharing a ``txn`` id.
* **BatchWriteItem / BatchGetItem**: the items DynamoDB returns as unprocessed were not
  written / not read: those operations ``fail`` (``error: "Unprocessed"``).

Items read with a projection (``ProjectionExpression``, ``AttributesToGet``) are not
recorded: part of an item is not a version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gtcheck.kernel.attrvalues import EncodingProblem
from gtcheck.realworld.record_items import delete_op, update_op, write_op
from gtcheck.realworld.translate import condition_of, item_json, key_identity, record, with_token_update

if TYPE_CHECKING:
    from gtcheck.realworld.recording import Recording as Recorder


def _projected(body: dict[str, Any]) -> bool:
    return bool(body.get("ProjectionExpression") or body.get("AttributesToGet"))


def transact_write_items(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    kw = dict(kw)
    items: list[dict[str, Any]] = []
    tokens: list[str | None] = []
    for entry in kw["TransactItems"]:
        (kind, body), = entry.items()
        body = dict(body)
        token = None
        if kind == "Put":
            body["Item"] = rec.with_token(body["Item"])
        elif kind == "Update" and rec.token_attribute is not None:
            token = rec.token()
            body = with_token_update(body, rec.token_attribute, token)
        items.append({kind: body})
        tokens.append(token)
    kw["TransactItems"] = items
    send = lambda: rec.original(client, "transact_write_items")(**kw)   # noqa: E731
    ops: list[dict[str, Any]] = []
    positions: list[int] = []
    checks: list[dict[str, Any]] = []
    try:
        for pos, entry in enumerate(items):
            (kind, body), = entry.items()
            table = body["TableName"]
            if kind == "ConditionCheck":
                cond = condition_of(body)
                checks.append({"key": rec.key(client, table, body["Key"]),
                               "condition": record(*cond) if cond else {"expression": ""}})
                continue
            make = {"Put": write_op, "Update": update_op, "Delete": delete_op}.get(kind)
            if make is None:
                continue
            ops.append(make(rec, client, table, body))
            positions.append(pos)
    except EncodingProblem as exc:
        return rec.unencodable("TransactWriteItems", send, exc)
    if not ops:
        return send()
    for op in ops:
        if checks:
            op["txn_checks"] = checks

    def judge(r: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
        if ev["f"] == "update":
            return {"type": "info", "note": "the item after the update is being read back"}
        if ev["f"] == "delete":
            return {"value": None}
        return {"value": ev["value"]}

    resp, comps = rec.run(client, region, send, ops, judge, multi=True, txn=rec.next_txn(), positions=positions)
    for c, pos in zip(comps, positions):
        if c["f"] != "update":
            continue
        body = items[pos]["Update"]
        post = rec.post_image(client, body["TableName"], body["Key"], tokens[pos])
        if post is None:
            rec.amend(c, note="the item after an Update in a transaction could not be read back")
        else:
            rec.amend(c, type="ok", value=post, note=None)
    return resp


def transact_get_items(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    send = lambda: rec.original(client, "transact_get_items")(**kw)   # noqa: E731
    ops, positions = [], []
    try:
        for pos, entry in enumerate(kw["TransactItems"]):
            body = entry.get("Get") or {}
            if _projected(body) or "Key" not in body:
                continue
            ops.append({"f": "read", "key": rec.key(client, body["TableName"], body["Key"]), "value": None,
                        "consistent": True})
            positions.append(pos)
    except EncodingProblem as exc:
        return rec.unencodable("TransactGetItems", send, exc, writes=False)
    if not ops:
        return send()

    def judge(r: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
        return {"value": item_json(r["Responses"][positions[i]].get("Item"))}
    resp, _ = rec.run(client, region, send, ops, judge, multi=True, txn=rec.next_txn(), positions=positions)
    return resp


def batch_get_item(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    send = lambda: rec.original(client, "batch_get_item")(**kw)   # noqa: E731
    ops, where = [], []
    try:
        for table, spec in kw["RequestItems"].items():
            if _projected(spec):
                continue
            names = rec.key_names(client, table)
            for k in spec.get("Keys", []):
                ops.append({"f": "read", "key": rec.key(client, table, k), "value": None,
                            "consistent": bool(spec.get("ConsistentRead", False))})
                where.append((table, names, key_identity(k, names)))
    except EncodingProblem as exc:
        return rec.unencodable("BatchGetItem", send, exc, writes=False)
    if not ops:
        return send()

    def judge(r: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
        table, names, ident = where[i]
        for k in r.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []):
            if key_identity(k, names) == ident:
                return {"type": "fail", "error": "Unprocessed"}
        for item in r.get("Responses", {}).get(table, []):
            if key_identity(item, names) == ident:
                return {"value": item_json(item)}
        return {"value": None}
    resp, _ = rec.run(client, region, send, ops, judge, multi=True)
    return resp


def batch_write_item(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    kw = dict(kw)
    request: dict[str, list[dict[str, Any]]] = {}
    for table, reqs in kw["RequestItems"].items():
        out = []
        for r in reqs:
            if "PutRequest" in r:
                out.append({"PutRequest": {**r["PutRequest"], "Item": rec.with_token(r["PutRequest"]["Item"])}})
            else:
                out.append(r)
        request[table] = out
    kw["RequestItems"] = request
    send = lambda: rec.original(client, "batch_write_item")(**kw)   # noqa: E731
    ops, where = [], []
    try:
        for table, reqs in request.items():
            names = rec.key_names(client, table)
            for r in reqs:
                if "PutRequest" in r:
                    item = r["PutRequest"]["Item"]
                    ops.append({"f": "write", "key": rec.key(client, table, item), "value": item_json(item)})
                    where.append((table, "PutRequest", names, key_identity(item, names)))
                elif "DeleteRequest" in r:
                    k = r["DeleteRequest"]["Key"]
                    ops.append({"f": "delete", "key": rec.key(client, table, k), "value": None})
                    where.append((table, "DeleteRequest", names, key_identity(k, names)))
    except EncodingProblem as exc:
        return rec.unencodable("BatchWriteItem", send, exc)
    if not ops:
        return send()

    def judge(r: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
        table, kind, names, ident = where[i]
        for u in r.get("UnprocessedItems", {}).get(table, []):
            if kind in u:
                body = u[kind].get("Item") or u[kind].get("Key") or {}
                if key_identity(body, names) == ident:
                    return {"type": "fail", "error": "Unprocessed"}
        return {"value": ev["value"]}
    resp, _ = rec.run(client, region, send, ops, judge, multi=True)
    return resp
