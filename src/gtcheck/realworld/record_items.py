"""The recorder's single-item calls: GetItem, PutItem, UpdateItem, DeleteItem.

Each handler takes the :class:`~gtcheck.realworld.recorder.Recorder`, the client, its
region and the call's keyword arguments, sends the application's request (plus the version
token, and the ``ReturnValues`` the recorder needs) and returns exactly what the
application would have got without the recorder.

UpdateItem and ``ReturnValues``: the ``ok`` of an update carries the whole item after it,
so that the checker can tell which version it made and measure the staleness of reads of
it. The recorder asks DynamoDB for ``ALL_NEW`` when the application asked ``NONE``,
``ALL_NEW`` or ``UPDATED_NEW`` (and projects ``UPDATED_NEW`` from it), and for ``ALL_OLD``
when it asked ``ALL_OLD`` or ``UPDATED_OLD`` (projecting ``UPDATED_OLD``); then the item
after the update is read back (:meth:`Recorder.post_image`): the completion is ``ok`` with
it when the item still carries this update's token, ``info`` otherwise. DynamoDB charges
nothing for returned values; the read back costs one strongly consistent read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gtcheck.kernel.attrvalues import EncodingProblem
from gtcheck.realworld.translate import (condition_of, creates_only, item_json, project, record, update_of,
                                    update_paths, with_token_update)

if TYPE_CHECKING:
    from gtcheck.realworld.recording import Recording as Recorder


def get_item(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    send = lambda: rec.original(client, "get_item")(**kw)   # noqa: E731
    if kw.get("ProjectionExpression") or kw.get("AttributesToGet"):
        return send()            # part of an item is not a version: not recorded
    try:
        inv = {"f": "read", "key": rec.key(client, kw["TableName"], kw["Key"]), "value": None,
               "consistent": bool(kw.get("ConsistentRead", False))}
    except EncodingProblem as exc:
        return rec.unencodable("GetItem", send, exc, writes=False)
    resp, _ = rec.run(client, region, send, [inv], lambda r, i, ev: {"value": item_json(r.get("Item"))})
    return resp


def write_op(rec: "Recorder", client: Any, table: str, body: dict[str, Any]) -> dict[str, Any]:
    """A Put (PutItem, or a transaction's Put) as an operation: ``cas [null, item]`` when
    its condition is exactly "the item does not exist", else a ``write`` with its
    condition (rule 11)."""
    key = rec.key(client, table, body["Item"])
    new = item_json(body["Item"])
    cond = condition_of(body)
    if cond is not None and creates_only(cond, rec.key_names(client, table)):
        return {"f": "cas", "key": key, "value": [None, new]}
    op: dict[str, Any] = {"f": "write", "key": key, "value": new}
    if cond is not None:
        op["condition"] = record(*cond)
    return op


def update_op(rec: "Recorder", client: Any, table: str, body: dict[str, Any]) -> dict[str, Any]:
    """An Update (UpdateItem, or a transaction's Update) as an ``update`` whose value is its
    UpdateExpression verbatim (rule 11), with its condition, and the item's key attributes
    in ``key_attributes`` (what a missing item starts as: the history's key text does not
    say their types)."""
    op: dict[str, Any] = {"f": "update", "key": rec.key(client, table, body["Key"]),
                          "value": record(*update_of(body)), "key_attributes": item_json(body["Key"])}
    cond = condition_of(body)
    if cond is not None:
        op["condition"] = record(*cond)
    return op


def delete_op(rec: "Recorder", client: Any, table: str, body: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"f": "delete", "key": rec.key(client, table, body["Key"]), "value": None}
    cond = condition_of(body)
    if cond is not None:
        op["condition"] = record(*cond)
    return op


def put_item(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    kw = dict(kw)
    kw["Item"] = rec.with_token(kw["Item"])
    send = lambda: rec.original(client, "put_item")(**kw)   # noqa: E731
    try:
        op = write_op(rec, client, kw["TableName"], kw)
    except EncodingProblem as exc:
        return rec.unencodable("PutItem", send, exc)
    value = op["value"]
    resp, _ = rec.run(client, region, send, [op], lambda r, i, ev: {"value": value})
    return resp


def delete_item(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    send = lambda: rec.original(client, "delete_item")(**kw)   # noqa: E731
    try:
        op = delete_op(rec, client, kw["TableName"], kw)
    except EncodingProblem as exc:
        return rec.unencodable("DeleteItem", send, exc)
    resp, _ = rec.run(client, region, send, [op], lambda r, i, ev: {"value": None})
    return resp


def update_item(rec: "Recorder", client: Any, region: str, **kw: Any) -> Any:
    table = kw["TableName"]
    asked = kw.get("ReturnValues", "NONE")
    body = dict(kw)
    token = None
    if rec.token_attribute is not None:
        token = rec.token()
        body = with_token_update(body, rec.token_attribute, token)
    text, names, values = update_of(body)
    paths = update_paths(text, names, values) if asked in ("UPDATED_NEW", "UPDATED_OLD") else []
    if paths is not None:
        paths = [p for p in paths if p != (rec.token_attribute,)]
    if asked in ("NONE", "ALL_NEW") or (asked == "UPDATED_NEW" and paths is not None):
        body["ReturnValues"] = "ALL_NEW"
    elif asked == "ALL_OLD" or (asked == "UPDATED_OLD" and paths is not None):
        body["ReturnValues"] = "ALL_OLD"
    asks = body.get("ReturnValues", "NONE")
    send = lambda: rec.original(client, "update_item")(**body)   # noqa: E731
    try:
        op = update_op(rec, client, table, body)
    except EncodingProblem as exc:
        return rec.unencodable("UpdateItem", send, exc)

    def judge(r: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
        if asks == "ALL_NEW":
            return {"value": item_json(r.get("Attributes"))}
        if asks == "ALL_OLD":
            return {"type": "info", "note": "the item after the update is being read back"}
        return {"type": "info", "note": f"ReturnValues={asked}: the update expression could not be read"}

    resp, comps = rec.run(client, region, send, [op], judge)
    if asks == "ALL_OLD":
        post = rec.post_image(client, table, kw["Key"], token)
        if post is None:
            rec.amend(comps[0], note="the item after the update could not be read back")
        else:
            rec.amend(comps[0], type="ok", value=post, note=None)
    if asks == asked:
        return resp
    # hand back what the application asked: nothing, or the projection of the named paths
    attrs = resp.pop("Attributes", None)
    shown = project(attrs, paths or []) if asked in ("UPDATED_NEW", "UPDATED_OLD") else None
    if shown:
        resp["Attributes"] = shown
    return resp
