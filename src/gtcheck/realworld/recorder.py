"""Record what boto3 DynamoDB clients see as a gt-history (../shared/HISTORY-FORMAT.md).

``Recorder.attach(client)`` patches the data-plane methods of one low-level boto3 DynamoDB
client *instance* (the client stays a real botocore client; other methods are untouched):

| call | recorded as |
| --- | --- |
| GetItem | ``read`` (``consistent`` from ConsistentRead) |
| PutItem | ``write``; with ``attribute_not_exists(<key>)`` as its condition: ``cas [null, item]``; any other condition is kept in an extra ``condition`` field |
| UpdateItem | ``update``: the invoke carries the change parsed from the UpdateExpression (``set``/``remove``/``add``, the key attributes always in ``set``, as UpdateItem creates a missing item with them; the raw expression in ``update_expression``), the ok the whole new item (the recorder asks ``ReturnValues=ALL_NEW`` and hides it from the caller if it did not ask) |
| DeleteItem | ``delete`` |
| TransactWriteItems / TransactGetItems | one operation per item sharing a ``txn`` id (ConditionCheck items are not operations) |
| BatchWriteItem / BatchGetItem | one operation per item; unprocessed items ``fail`` |

Operations of one call that touches several items run concurrently, so each gets its own
process (``"<pid>.<i>"``) with the call's real invoke-to-completion window rather than the
model's "one after the other" convention, which would claim windows that did not happen.
An Update inside TransactWriteItems has no ``ALL_NEW``: its post-image is unknown, so its
completion is ``info`` even when the transaction succeeded (the checker then considers the
change applied to some version).

**Version token.** Every written item gets a unique attribute (``gt_token`` by default,
``"<recorder id>-<n>"``) so that versions of a key can be told apart (format rule 4). Pass
``token_attribute=None`` when the application already writes a unique version attribute.

**Outcomes.** ``ok`` on success. ``fail`` when the request certainly had no effect: any 4xx
answer (ConditionalCheckFailed, TransactionCanceled, ValidationException, throttling
(ProvisionedThroughputExceeded, ThrottlingException, RequestLimitExceeded: refused before
any work), ResourceNotFound, AccessDenied...) and client-side ParamValidationError (never
sent). ``info`` when it may have taken effect: 5xx answers (InternalServerError,
ServiceUnavailable), TransactionInProgress, timeouts, connection errors, anything else.

**Timestamps.** Against the gtcheck emulator, each write's completion carries the ``ts`` and
``origin`` the emulator stamped (its ``x-gtcheck-versions`` response header), so the checker
orders writes exactly; real DynamoDB sends no such header and the fields are left out.
``emulator_ts=False`` leaves them out always.

**Keys.** ``"<table>/<hash key value>"`` or ``"<table>/<hash>/<range>"``; the key schema
comes from one DescribeTable per table (not recorded) unless given as ``key_schema``.

**Times.** ``time.monotonic_ns()`` from the recorder's creation, taken under the recorder's
lock together with the event's index, so times are non-decreasing down the file. The
recorder is thread-safe; a process is one (thread, client) pair.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import os
import re
import threading
import time
import uuid
from decimal import Decimal
from typing import Any, Callable

INFO_CODES = frozenset({
    "InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
    "TransactionInProgressException", "RequestTimeout", "RequestTimeoutException",
})
OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "transact_write_items",
              "transact_get_items", "batch_get_item", "batch_write_item")


def plain(av: Any) -> Any:
    """A DynamoDB AttributeValue as plain JSON (numbers exact when integral)."""
    (t, v), = av.items()
    if t == "S":
        return v
    if t == "N":
        return _number(v)
    if t == "BOOL":
        return bool(v)
    if t == "NULL":
        return None
    if t == "M":
        return {k: plain(x) for k, x in v.items()}
    if t == "L":
        return [plain(x) for x in v]
    if t == "SS":
        return sorted(v)
    if t == "NS":
        return sorted((_number(x) for x in v), key=lambda n: Decimal(str(n)))
    if t == "B":
        return _b64(v)
    if t == "BS":
        return sorted(_b64(x) for x in v)
    raise ValueError(f"unknown attribute type {t!r}")


def plain_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {k: plain(v) for k, v in item.items()}


def _number(text: str) -> Any:
    d = Decimal(text)
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def _b64(v: Any) -> str:
    if isinstance(v, str):
        return v
    return base64.b64encode(bytes(v)).decode("ascii")


def _scalar(av: dict[str, Any]) -> str:
    (t, v), = av.items()
    if t == "N":
        return str(_number(v))
    if t == "B":
        return _b64(v)
    return str(v)


_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)


def parse_update(expr: str | None, names: dict[str, str] | None,
                 values: dict[str, Any] | None) -> dict[str, Any]:
    """The change of an UpdateExpression in the history's terms, as far as it can be said:
    ``SET a = :v`` -> set, ``REMOVE a`` -> remove, ``ADD n :v`` -> add. Anything else
    (arithmetic, if_not_exists, list_append, nested paths) is left out; the event keeps the
    raw expression in ``update_expression``."""
    names = names or {}
    values = values or {}
    change: dict[str, Any] = {}
    if not expr:
        return change
    parts = _CLAUSE.split(expr)
    # parts: [prefix, KW, body, KW, body, ...]
    for kw, body in zip(parts[1::2], parts[2::2]):
        kw = kw.upper()
        for piece in _split_top(body):
            piece = piece.strip()
            if not piece:
                continue
            if kw == "SET":
                m = re.fullmatch(r"([#\w]+)\s*=\s*(:\w+)", piece)
                if m and m.group(2) in values:
                    change.setdefault("set", {})[names.get(m.group(1), m.group(1))] = plain(values[m.group(2)])
            elif kw == "REMOVE":
                if re.fullmatch(r"[#\w]+", piece):
                    change.setdefault("remove", []).append(names.get(piece, piece))
            elif kw == "ADD":
                m = re.fullmatch(r"([#\w]+)\s+(:\w+)", piece)
                if m and m.group(2) in values:
                    change.setdefault("add", {})[names.get(m.group(1), m.group(1))] = plain(values[m.group(2)])
    return change


def _split_top(body: str) -> list[str]:
    out, depth, cur = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def classify_error(exc: BaseException) -> str:
    """``fail`` when the request certainly had no effect, ``info`` when it may have."""
    try:
        from botocore.exceptions import ClientError, ParamValidationError
    except ImportError:  # pragma: no cover
        return "info"
    if isinstance(exc, ParamValidationError):
        return "fail"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in INFO_CODES or status >= 500:
            return "info"
        return "fail"
    return "info"


class Recorder:
    """One history per run; attach it to one boto3 client per region."""

    def __init__(self, path: str | os.PathLike[str] | None, regions: list[str] | tuple[str, ...], *,
                 clock_uncertainty_ns: int = 0, token_attribute: str | None = "gt_token",
                 key_schema: dict[str, list[str]] | None = None,
                 metadata: dict[str, Any] | None = None, emulator_ts: bool = True) -> None:
        self.path = None if path is None else os.fspath(path)
        self.regions = list(regions)
        self.clock_uncertainty_ns = int(clock_uncertainty_ns)
        self.token_attribute = token_attribute
        self.emulator_ts = emulator_ts
        self.metadata = dict(metadata or {})
        self.settled_after_ns: int | None = None
        self._key_schema: dict[str, list[str]] = {k: list(v) for k, v in (key_schema or {}).items()}
        self._lock = threading.Lock()
        self._t0 = time.monotonic_ns()
        self._events: list[dict[str, Any]] = []
        self._pids = itertools.count()
        self._tokens = itertools.count(1)
        self._txns = itertools.count(1)
        self._local = threading.local()
        self._id = uuid.uuid4().hex[:8]
        self.closed = False
        self.touched: dict[str, tuple[str, dict[str, Any]]] = {}   # history key -> (table, Key)

    # -- clock and events -------------------------------------------------------------------
    def now(self) -> int:
        return time.monotonic_ns() - self._t0

    def _emit(self, ev: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            ev["time"] = time.monotonic_ns() - self._t0
            ev["index"] = len(self._events)
            self._events.append(ev)
        return ev

    def _emit_many(self, evs: list[dict[str, Any]]) -> None:
        with self._lock:
            t = time.monotonic_ns() - self._t0
            for ev in evs:
                ev["time"] = t
                ev["index"] = len(self._events)
                self._events.append(ev)

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    def nemesis(self, f: str, value: Any) -> None:
        """Record a fault event (``partition``, ``heal``, ``region-down``, ``region-up``,
        ``clock-skew``, ``replication-delay``)."""
        self._emit({"type": "info", "process": "nemesis", "f": f, "value": value})

    def mark_settled(self) -> int:
        """From now on no fault is active and replication has finished: set
        ``settled_after_ns`` (only final reads may follow)."""
        self.settled_after_ns = self.now()
        return self.settled_after_ns

    def final_reads(self, clients: dict[str, Any]) -> None:
        """The final phase: mark the history settled, then every region (one recorded client
        each) reads every key the history touched, strongly consistently."""
        self.mark_settled()
        for region in self.regions:
            client = clients.get(region)
            if client is None:
                continue
            for _, (table, key) in sorted(self.touched.items()):
                try:
                    client.get_item(TableName=table, Key=key, ConsistentRead=True)
                except Exception:  # noqa: BLE001 - recorded as fail/info
                    pass

    def header(self) -> dict[str, Any]:
        h: dict[str, Any] = {"format": "gt-history", "version": 1, "regions": self.regions,
                             "mode": "eventual", "clock_uncertainty_ns": self.clock_uncertainty_ns}
        if self.settled_after_ns is not None:
            h["settled_after_ns"] = self.settled_after_ns
        h["source"] = "recorder"
        h.update(self.metadata)
        return h

    def write(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the header and every event so far (a valid history at any moment: an
        operation still in flight simply has no completion, which counts as ``info``)."""
        target = os.fspath(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path to write the history to")
        events = self.events
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
        tmp = target + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(self.header(), separators=(",", ":")) + "\n")
            for ev in events:
                fh.write(json.dumps(_ordered(ev), separators=(",", ":"), default=_json_default) + "\n")
        os.replace(tmp, target)
        return target

    def close(self) -> str | None:
        self.closed = True
        return self.write() if self.path is not None else None

    # -- processes ----------------------------------------------------------------------------
    def _pid(self, client: Any) -> int:
        table = getattr(self._local, "pids", None)
        if table is None:
            table = self._local.pids = {}
        pid = table.get(id(client))
        if pid is None:
            pid = table[id(client)] = next(self._pids)
        return pid

    def _token(self) -> str:
        return f"{self._id}-{next(self._tokens)}"

    def _keys(self, client: Any, orig: dict[str, Callable[..., Any]], table: str) -> list[str]:
        names = self._key_schema.get(table)
        if names is None:
            try:
                desc = client.describe_table(TableName=table)["Table"]["KeySchema"]
            except Exception:  # noqa: BLE001 - no such table, no access...: the call itself will say
                return []
            names = [k["AttributeName"] for k in sorted(desc, key=lambda k: k["KeyType"] != "HASH")]
            with self._lock:
                self._key_schema[table] = names
        return names

    def _key(self, client: Any, orig: Any, table: str, item: dict[str, Any]) -> str:
        names = self._keys(client, orig, table)
        if not names:
            return table + "/?"
        key = table + "/" + "/".join(_scalar(item[n]) if n in item else "?" for n in names)
        if key not in self.touched:
            with self._lock:
                self.touched.setdefault(key, (table, {n: item[n] for n in names if n in item}))
        return key

    # -- attaching ------------------------------------------------------------------------------
    def attach(self, client: Any) -> Any:
        """Record every data-plane call of ``client`` (patched in place; returned)."""
        if getattr(client, "_gtcheck_recorder", None) is self:
            return client
        region = client.meta.region_name
        if region not in self.regions:
            raise ValueError(f"client region {region!r} is not one of the recorder's regions {self.regions}")
        orig = {name: getattr(client, name) for name in OPERATIONS}
        handlers = {
            "get_item": self._get_item, "put_item": self._put_item,
            "update_item": self._update_item, "delete_item": self._delete_item,
            "transact_write_items": self._transact_write, "transact_get_items": self._transact_get,
            "batch_get_item": self._batch_get, "batch_write_item": self._batch_write,
        }
        for name, handler in handlers.items():
            setattr(client, name, functools.partial(handler, client, region, orig[name], orig))
        client._gtcheck_recorder = self
        client._gtcheck_original = orig
        return client

    def detach(self, client: Any) -> Any:
        orig = getattr(client, "_gtcheck_original", None)
        if orig:
            for name, fn in orig.items():
                setattr(client, name, fn)
            del client._gtcheck_original
            del client._gtcheck_recorder
        return client

    # -- single-item calls ---------------------------------------------------------------------
    def _single(self, client: Any, region: str, call: Callable[[], Any], inv: dict[str, Any],
                on_ok: Callable[[Any], dict[str, Any]]) -> Any:
        pid = self._pid(client)
        inv = {"type": "invoke", "process": pid, "region": region, **inv}
        self._emit(inv)
        try:
            resp = call()
        except BaseException as exc:
            kind = classify_error(exc)
            comp = {"type": kind, "process": pid, "region": region, "f": inv["f"], "key": inv["key"]}
            if isinstance(exc, Exception):
                comp["error"] = _error_name(exc)
            self._emit(comp)
            raise
        comp = {"type": "ok", "process": pid, "region": region, "f": inv["f"], "key": inv["key"]}
        comp.update(on_ok(resp))
        if inv["f"] != "read":
            stamps = self._stamps(resp, 1)
            if stamps:
                comp["ts"], comp["origin"] = stamps[0]
        self._emit(comp)
        return resp

    def _stamps(self, resp: Any, n: int) -> list[tuple[int, str]] | None:
        """The versions the gtcheck emulator stamped for this write (its response header
        ``x-gtcheck-versions``), when there is one per written item; never from AWS."""
        if not self.emulator_ts or not isinstance(resp, dict):
            return None
        raw = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-gtcheck-versions")
        if not raw:
            return None
        try:
            stamps = [(int(ts), str(origin)) for ts, origin in json.loads(raw)]
        except (ValueError, TypeError):
            return None
        if len(stamps) != n or any(o not in self.regions for _, o in stamps):
            return None
        return stamps

    def _get_item(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        key = self._key(client, orig, kw["TableName"], kw["Key"])
        inv = {"f": "read", "key": key, "value": None, "consistent": bool(kw.get("ConsistentRead", False))}
        return self._single(client, region, lambda: fn(**kw), inv,
                            lambda r: {"value": plain_item(r.get("Item"))})

    def _with_token(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.token_attribute is None:
            return item
        return {**item, self.token_attribute: {"S": self._token()}}

    def _put_item(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        kw = dict(kw)
        kw["Item"] = self._with_token(kw["Item"])
        table = kw["TableName"]
        key = self._key(client, orig, table, kw["Item"])
        new = plain_item(kw["Item"])
        cond = kw.get("ConditionExpression")
        inv: dict[str, Any] = {"key": key}
        if cond and _is_create(cond, kw.get("ExpressionAttributeNames"), self._keys(client, orig, table)):
            inv.update(f="cas", value=[None, new])
        else:
            inv.update(f="write", value=new)
            if cond or kw.get("Expected"):
                inv["condition"] = cond or "Expected"
        value = inv["value"]
        return self._single(client, region, lambda: fn(**kw), inv, lambda r: {"value": value})

    def _update_item(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        kw = dict(kw)
        table = kw["TableName"]
        key = self._key(client, orig, table, kw["Key"])
        asked = kw.get("ReturnValues", "NONE")
        if asked in ("NONE", "ALL_NEW"):
            kw["ReturnValues"] = "ALL_NEW"
        if self.token_attribute is not None:
            kw = _inject_update_token(kw, self.token_attribute, self._token())
        change = parse_update(kw.get("UpdateExpression"), kw.get("ExpressionAttributeNames"),
                              kw.get("ExpressionAttributeValues"))
        if "AttributeUpdates" in kw:
            change = _attribute_updates_change(kw["AttributeUpdates"])
        change = _with_key(change, kw["Key"])
        inv: dict[str, Any] = {"f": "update", "key": key, "value": change}
        if kw.get("UpdateExpression"):
            inv["update_expression"] = kw["UpdateExpression"]
        if kw.get("ConditionExpression") or kw.get("Expected"):
            inv["condition"] = kw.get("ConditionExpression") or "Expected"

        def on_ok(r: Any) -> dict[str, Any]:
            if asked == "ALL_NEW" or asked == "NONE":
                out = {"value": plain_item(r.get("Attributes"))}
                if asked == "NONE":
                    r.pop("Attributes", None)
                return out
            return {}

        pid = self._pid(client)
        if asked not in ("NONE", "ALL_NEW"):
            # the caller wants other return values: the post-image is unknown -> info
            inv2 = {"type": "invoke", "process": pid, "region": region, **inv}
            self._emit(inv2)
            try:
                resp = fn(**kw)
            except BaseException as exc:
                self._emit({"type": classify_error(exc), "process": pid, "region": region,
                            "f": "update", "key": key})
                raise
            self._emit({"type": "info", "process": pid, "region": region, "f": "update", "key": key,
                        "note": f"ReturnValues={asked}: post-image not known"})
            return resp
        return self._single(client, region, lambda: fn(**kw), inv, on_ok)

    def _delete_item(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        key = self._key(client, orig, kw["TableName"], kw["Key"])
        inv: dict[str, Any] = {"f": "delete", "key": key, "value": None}
        if kw.get("ConditionExpression") or kw.get("Expected"):
            inv["condition"] = kw.get("ConditionExpression") or "Expected"
        return self._single(client, region, lambda: fn(**kw), inv, lambda r: {"value": None})

    # -- multi-item calls ------------------------------------------------------------------------
    def _multi(self, client: Any, region: str, call: Callable[[], Any], ops: list[dict[str, Any]],
               judge: Callable[[Any, int, dict[str, Any]], dict[str, Any]], txn: int | None) -> Any:
        pid = self._pid(client)
        invs = []
        for i, op in enumerate(ops):
            ev = {"type": "invoke", "process": f"{pid}.{i}", "region": region, **op}
            if txn is not None:
                ev["txn"] = txn
            invs.append(ev)
        self._emit_many(invs)
        try:
            resp = call()
        except BaseException as exc:
            kind = classify_error(exc)
            err = _error_name(exc) if isinstance(exc, Exception) else type(exc).__name__
            self._emit_many([{"type": kind, "process": ev["process"], "region": region, "f": ev["f"],
                              "key": ev["key"], "error": err} for ev in invs])
            raise
        comps = []
        for i, ev in enumerate(invs):
            c = {"type": "ok", "process": ev["process"], "region": region, "f": ev["f"], "key": ev["key"]}
            c.update(judge(resp, i, ev))
            comps.append(c)
        writes = [c for c in comps if c["f"] != "read"]
        if writes and len(writes) == len(comps):
            stamps = self._stamps(resp, len(writes))
            if stamps and all(c["type"] in ("ok", "info") for c in writes):
                for c, (ts, origin) in zip(writes, stamps):
                    if c["type"] == "ok":
                        c["ts"], c["origin"] = ts, origin
        self._emit_many(comps)
        return resp

    def _transact_write(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        kw = dict(kw)
        items = []
        ops: list[dict[str, Any]] = []
        for entry in kw["TransactItems"]:
            (kind, body), = entry.items()
            body = dict(body)
            if kind == "Put":
                body["Item"] = self._with_token(body["Item"])
                key = self._key(client, orig, body["TableName"], body["Item"])
                op = {"f": "write", "key": key, "value": plain_item(body["Item"])}
                if body.get("ConditionExpression"):
                    op["condition"] = body["ConditionExpression"]
                ops.append(op)
            elif kind == "Update":
                if self.token_attribute is not None:
                    body = _inject_update_token(body, self.token_attribute, self._token())
                key = self._key(client, orig, body["TableName"], body["Key"])
                op = {"f": "update", "key": key, "value": _with_key(parse_update(
                    body.get("UpdateExpression"), body.get("ExpressionAttributeNames"),
                    body.get("ExpressionAttributeValues")), body["Key"]),
                    "update_expression": body.get("UpdateExpression")}
                ops.append(op)
            elif kind == "Delete":
                key = self._key(client, orig, body["TableName"], body["Key"])
                ops.append({"f": "delete", "key": key, "value": None})
            items.append({kind: body})
        kw["TransactItems"] = items
        txn = next(self._txns)

        def judge(resp: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
            if ev["f"] == "update":
                return {"type": "info", "note": "post-image of an Update in a transaction is not returned"}
            return {"value": ev["value"]}
        return self._multi(client, region, lambda: fn(**kw), ops, judge, txn)

    def _transact_get(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        ops = []
        for entry in kw["TransactItems"]:
            body = entry["Get"]
            ops.append({"f": "read", "key": self._key(client, orig, body["TableName"], body["Key"]),
                        "value": None, "consistent": True})
        txn = next(self._txns)

        def judge(resp: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
            return {"value": plain_item(resp["Responses"][i].get("Item"))}
        return self._multi(client, region, lambda: fn(**kw), ops, judge, txn)

    def _batch_get(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        ops, where = [], []
        for table, spec in kw["RequestItems"].items():
            names = self._keys(client, orig, table)
            for k in spec["Keys"]:
                ops.append({"f": "read", "key": self._key(client, orig, table, k), "value": None,
                            "consistent": bool(spec.get("ConsistentRead", False))})
                where.append((table, tuple(_scalar(k[n]) for n in names)))

        def judge(resp: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
            table, kt = where[i]
            names = self._keys(client, orig, table)
            for k in resp.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []):
                if tuple(_scalar(k[n]) for n in names) == kt:
                    return {"type": "fail", "error": "Unprocessed"}
            for item in resp.get("Responses", {}).get(table, []):
                if tuple(_scalar(item[n]) for n in names if n in item) == kt:
                    return {"value": plain_item(item)}
            return {"value": None}
        return self._multi(client, region, lambda: fn(**kw), ops, judge, None)

    def _batch_write(self, client: Any, region: str, fn: Any, orig: Any, **kw: Any) -> Any:
        kw = dict(kw)
        ops, where, request = [], [], {}
        for table, reqs in kw["RequestItems"].items():
            names = self._keys(client, orig, table)
            out = []
            for r in reqs:
                if "PutRequest" in r:
                    item = self._with_token(r["PutRequest"]["Item"])
                    out.append({"PutRequest": {**r["PutRequest"], "Item": item}})
                    ops.append({"f": "write", "key": self._key(client, orig, table, item),
                                "value": plain_item(item)})
                    where.append((table, "PutRequest", tuple(_scalar(item[n]) for n in names)))
                else:
                    k = r["DeleteRequest"]["Key"]
                    out.append(r)
                    ops.append({"f": "delete", "key": self._key(client, orig, table, k), "value": None})
                    where.append((table, "DeleteRequest", tuple(_scalar(k[n]) for n in names)))
            request[table] = out
        kw["RequestItems"] = request

        def judge(resp: Any, i: int, ev: dict[str, Any]) -> dict[str, Any]:
            table, kind, kt = where[i]
            names = self._keys(client, orig, table)
            for r in resp.get("UnprocessedItems", {}).get(table, []):
                if kind in r:
                    body = r[kind].get("Item") or r[kind].get("Key")
                    if tuple(_scalar(body[n]) for n in names) == kt:
                        return {"type": "fail", "error": "Unprocessed"}
            return {"value": ev["value"]}
        return self._multi(client, region, lambda: fn(**kw), ops, judge, None)


def _error_name(exc: Exception) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        code = resp.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def _is_create(cond: str, names: dict[str, str] | None, keys: list[str]) -> bool:
    m = re.fullmatch(r"\s*attribute_not_exists\s*\(\s*([#\w]+)\s*\)\s*", cond)
    if not m:
        return False
    name = (names or {}).get(m.group(1), m.group(1))
    return name in keys


def _inject_update_token(kw: dict[str, Any], attr: str, token: str) -> dict[str, Any]:
    kw = dict(kw)
    if "AttributeUpdates" in kw and not kw.get("UpdateExpression"):
        kw["AttributeUpdates"] = {**kw["AttributeUpdates"], attr: {"Value": {"S": token}, "Action": "PUT"}}
        return kw
    names = dict(kw.get("ExpressionAttributeNames") or {})
    values = dict(kw.get("ExpressionAttributeValues") or {})
    names["#gtcheck_tok"] = attr
    values[":gtcheck_tok"] = {"S": token}
    expr = kw.get("UpdateExpression") or ""
    m = re.search(r"\bSET\b", expr, re.IGNORECASE)
    if m:
        expr = expr[:m.end()] + " #gtcheck_tok = :gtcheck_tok," + expr[m.end():]
    else:
        expr = ("SET #gtcheck_tok = :gtcheck_tok " + expr).strip()
    kw["UpdateExpression"] = expr
    kw["ExpressionAttributeNames"] = names
    kw["ExpressionAttributeValues"] = values
    return kw


def _with_key(change: dict[str, Any], key: dict[str, Any]) -> dict[str, Any]:
    """UpdateItem creates a missing item with its key attributes: the change says so, so
    that the change applied to an absent item gives the post-image DynamoDB returns."""
    out = dict(change)
    out["set"] = {**{k: plain(v) for k, v in key.items()}, **change.get("set", {})}
    return out


def _attribute_updates_change(updates: dict[str, Any]) -> dict[str, Any]:
    change: dict[str, Any] = {}
    for name, u in updates.items():
        action = u.get("Action", "PUT")
        if action == "PUT" and "Value" in u:
            change.setdefault("set", {})[name] = plain(u["Value"])
        elif action == "DELETE" and "Value" not in u:
            change.setdefault("remove", []).append(name)
        elif action == "ADD" and "Value" in u:
            change.setdefault("add", {})[name] = plain(u["Value"])
    return change


def _ordered(ev: dict[str, Any]) -> dict[str, Any]:
    out = {"index": ev["index"]}
    for k, v in ev.items():
        if k not in ("index", "time"):
            out[k] = v
    out["time"] = ev["time"]
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(bytes(o)).decode("ascii")
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"cannot write {type(o).__name__} in a history")
