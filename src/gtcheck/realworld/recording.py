"""The history a recorder writes: events in order, places reserved for pages, processes,
version tokens, keys and the final phase; how one call becomes invocations and completions
(:meth:`Recording.run`, :meth:`Recording.run_page`) and how an update's post-image is read
back. :class:`gtcheck.realworld.recorder.Recorder` adds attaching to boto3 clients; the call
handlers (``record_items``, ``record_many``, ``record_pages``) use this class.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
from typing import Any, Callable

from gtcheck.kernel.exactjson import dumps
from gtcheck.kernel.outfiles import writing
from gtcheck.realworld.translate import item_json, key_identity, key_text

INFO_CODES = frozenset({
    "InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
    "TransactionInProgressException", "RequestTimeout", "RequestTimeoutException",
})


class UnrecordableCall(Exception):
    """A call the recorder cannot write as a faithful history. Raised *before* the request
    is sent (so it had no effect), naming the call and what to use instead."""

    def __init__(self, call: str, why: str, instead: str) -> None:
        self.call = call
        super().__init__(f"gtcheck's recorder cannot record {call}: {why}. {instead}")


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


def error_name(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        code = resp.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


class _Slot:
    """A place in the history reserved at a moment (a Query or Scan page in flight): its
    invocations take that place and that time when the answer says what they were."""

    __slots__ = ("time", "events")

    def __init__(self, t: int) -> None:
        self.time = t
        self.events: list[dict[str, Any]] = []


class Recording:
    """One history per run: its events and what the call handlers need to write them."""

    def __init__(self, path: str | os.PathLike[str] | None, regions: list[str] | tuple[str, ...], *,
                 clock_uncertainty_ns: int = 0, token_attribute: str | None = "gt_token",
                 key_schema: dict[str, list[str]] | None = None,
                 metadata: dict[str, Any] | None = None, emulator_ts: bool = True,
                 post_image_reads: bool = True) -> None:
        self.path = None if path is None else os.fspath(path)
        self.regions = list(regions)
        self.clock_uncertainty_ns = int(clock_uncertainty_ns)
        self.token_attribute = token_attribute
        self.emulator_ts = emulator_ts
        self.post_image_reads = post_image_reads
        self.metadata = dict(metadata or {})
        self.settled_after_ns: int | None = None
        self._key_schema: dict[str, list[str]] = {k: list(v) for k, v in (key_schema or {}).items()}
        self._lock = threading.Lock()
        self._t0 = time.monotonic_ns()
        self._entries: list[dict[str, Any] | _Slot] = []
        self._pids = itertools.count()
        self._tokens = itertools.count(1)
        self._txns = itertools.count(1)
        self._local = threading.local()
        self._id = uuid.uuid4().hex[:8]
        self.closed = False
        self.touched: dict[str, tuple[str, dict[str, Any]]] = {}   # history key -> (table, Key)
        self._by_table: dict[str, dict[str, dict[str, Any]]] = {}
        self._by_partition: dict[tuple[str, Any], dict[str, dict[str, Any]]] = {}

    # -- clock and events -------------------------------------------------------------------
    def now(self) -> int:
        return time.monotonic_ns() - self._t0

    def _emit(self, ev: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            ev["time"] = time.monotonic_ns() - self._t0
            self._entries.append(ev)
        return ev

    def emit_many(self, evs: list[dict[str, Any]]) -> None:
        with self._lock:
            t = time.monotonic_ns() - self._t0
            for ev in evs:
                ev["time"] = t
            self._entries.extend(evs)

    def reserve(self) -> _Slot:
        """A place in the history at this moment, for invocations known only later."""
        with self._lock:
            slot = _Slot(time.monotonic_ns() - self._t0)
            self._entries.append(slot)
        return slot

    def fill(self, slot: _Slot, invokes: list[dict[str, Any]]) -> None:
        """Put ``invokes`` at ``slot``'s place, with its time."""
        with self._lock:
            for ev in invokes:
                ev["time"] = slot.time
            slot.events = invokes

    def amend(self, ev: dict[str, Any], **fields: Any) -> None:
        """Change an event already in the history (a completion whose post-image the
        recorder learned after the answer: it keeps its place and time). A field given as
        None is removed."""
        with self._lock:
            for name, value in fields.items():
                if value is None:
                    ev.pop(name, None)
                else:
                    ev[name] = value

    def _flat(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for e in self._entries:
            if type(e) is _Slot:
                out.extend(e.events)
            else:
                out.append(e)
        for i, ev in enumerate(out):
            ev["index"] = i
        return out

    @property
    def events(self) -> list[dict[str, Any]]:
        """The history so far, each event with its ``index`` (its position)."""
        with self._lock:
            return self._flat()

    def last_call(self) -> list[dict[str, Any]]:
        """The invocation events of this thread's last recorded call (empty when it recorded
        nothing). Their ``index`` is final once the recorder is closed, e.g. for an
        application's audit that names writes by their invocation index."""
        return list(getattr(self._local, "last", []))

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
        each) reads every key the history touched, strongly consistently. Call it once
        replication has drained (on the emulator: ``Control.wait_quiet()``), or the final
        reads may disagree."""
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
        with writing(target) as fh:     # the one output writer (atomic; .gz compresses)
            fh.write(json.dumps(self.header(), separators=(",", ":")).encode() + b"\n")
            for ev in events:
                fh.write(dumps(_ordered(ev)) + b"\n")
        return target

    def close(self) -> str | None:
        self.closed = True
        return self.write() if self.path is not None else None

    # -- processes, tokens, keys ----------------------------------------------------------------
    def _pid(self, client: Any) -> int:
        table = getattr(self._local, "pids", None)
        if table is None:
            table = self._local.pids = {}
        pid = table.get(id(client))
        if pid is None:
            pid = table[id(client)] = next(self._pids)
        return pid

    def token(self) -> str:
        return f"{self._id}-{next(self._tokens)}"

    def next_txn(self) -> int:
        return next(self._txns)

    def with_token(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.token_attribute is None:
            return item
        return {**item, self.token_attribute: {"S": self.token()}}

    @staticmethod
    def original(client: Any, name: str) -> Callable[..., Any]:
        """The client's own (unrecorded) method."""
        return client._gtcheck_original[name]

    def key_names(self, client: Any, table: str) -> list[str]:
        """The table's key attributes, hash first (one DescribeTable, not recorded)."""
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

    def key(self, client: Any, table: str, item: dict[str, Any]) -> str:
        """The history key of ``item`` in ``table``; the key is remembered for final reads
        and for the absences a Query or Scan proves."""
        names = self.key_names(client, table)
        if not names:
            return table + "/?"
        text = key_text(table, item, names)
        if text not in self.touched and all(n in item for n in names):
            key = {n: item[n] for n in names}
            with self._lock:
                if text not in self.touched:
                    self.touched[text] = (table, key)
                    self._by_table.setdefault(table, {})[text] = key
                    self._by_partition.setdefault((table, key_identity(key, names[:1])), {})[text] = key
        return text

    def known_keys(self, table: str, partition: Any = None) -> dict[str, dict[str, Any]]:
        """The keys of ``table`` (of one partition, given its hash identity) the history
        touched so far: history key -> wire Key."""
        with self._lock:
            if partition is None:
                return dict(self._by_table.get(table, {}))
            return dict(self._by_partition.get((table, partition), {}))

    # -- recording a call -------------------------------------------------------------------------
    def run(self, client: Any, region: str, send: Callable[[], Any], ops: list[dict[str, Any]],
            judge: Callable[[Any, int, dict[str, Any]], dict[str, Any]], *, multi: bool = False,
            txn: int | None = None, positions: list[int] | None = None) -> tuple[Any, list[dict[str, Any]]]:
        """Invoke ``ops`` now, send the request, complete them: ``judge(response, i,
        invocation)`` gives each ``ok`` completion's fields (it may say ``type``). On an
        error every operation completes as :func:`classify_error` says; a cancelled
        transaction's operations carry their own cancellation reason (``positions`` maps
        each operation to its item in the request). Returns the response and the
        completions (which a caller may :meth:`amend`)."""
        pid = self._pid(client)
        invokes = []
        for i, op in enumerate(ops):
            ev = {"type": "invoke", "process": f"{pid}.{i}" if multi else pid, "region": region, **op}
            if txn is not None:
                ev["txn"] = txn
            invokes.append(ev)
        self.emit_many(invokes)
        self._local.last = invokes
        try:
            resp = send()
        except BaseException as exc:
            kind = classify_error(exc)
            err = error_name(exc)
            reasons = _cancellation_reasons(exc)
            comps = []
            for i, ev in enumerate(invokes):
                c = {"type": kind, "process": ev["process"], "region": region, "f": ev["f"], "key": ev["key"],
                     "error": err}
                if reasons is not None and positions is not None and positions[i] < len(reasons):
                    c["reason"] = reasons[positions[i]]
                comps.append(c)
            self.emit_many(comps)
            raise
        comps = []
        for i, ev in enumerate(invokes):
            c = {"type": "ok", "process": ev["process"], "region": region, "f": ev["f"], "key": ev["key"]}
            try:
                c.update(judge(resp, i, ev))
            except Exception as exc:  # noqa: BLE001 - an answer the recorder cannot read never breaks the call
                c.update(type="info", note=f"the recorder could not read the answer: {type(exc).__name__}: {exc}")
            comps.append(c)
        writes = [c for c in comps if c["f"] != "read"]
        if writes and len(writes) == len(comps):
            stamps = self._stamps(resp, len(writes))
            if stamps:
                for c, (ts, origin) in zip(writes, stamps):
                    if c["type"] in ("ok", "info"):
                        c["ts"], c["origin"] = ts, origin
        self.emit_many(comps)
        return resp, comps

    def run_page(self, client: Any, region: str, send: Callable[[], Any],
                 reads: Callable[[Any], list[dict[str, Any]]]) -> Any:
        """A request whose operations only its answer names (a Query or Scan page): its
        place and invocation time are taken now; ``reads(response)`` gives the read
        operations with their values, invoked at that time and completed at the answer.
        A page that fails read nothing, and records nothing."""
        pid = self._pid(client)
        slot = self.reserve()
        self._local.last = []
        resp = send()
        try:
            ops = reads(resp)
        except Exception:  # noqa: BLE001 - a page the recorder cannot read is not recorded; the call stands
            ops = []
        invokes, comps = [], []
        for i, op in enumerate(ops):
            proc = f"{pid}.{i}"
            invokes.append({"type": "invoke", "process": proc, "region": region, "f": "read", "key": op["key"],
                            "value": None, "consistent": op["consistent"]})
            comps.append({"type": "ok", "process": proc, "region": region, "f": "read", "key": op["key"],
                          "value": op["value"]})
        self.fill(slot, invokes)
        self.emit_many(comps)
        self._local.last = invokes
        return resp

    def post_image(self, client: Any, table: str, key: dict[str, Any], token: str | None) -> dict[str, Any] | None:
        """The item a write just left, read back: a strongly consistent GetItem (not
        recorded) in the write's region whose item still carries the write's own token is
        that write's post-image, as every recorded write changes the token. None (unknown)
        when the token was overwritten already (another write came between), when there is
        no token, or with ``post_image_reads=False``."""
        if token is None or self.token_attribute is None or not self.post_image_reads:
            return None
        try:
            resp = self.original(client, "get_item")(TableName=table, Key=key, ConsistentRead=True)
        except Exception:  # noqa: BLE001 - then the post-image stays unknown
            return None
        item = resp.get("Item")
        if not item or item.get(self.token_attribute) != {"S": token}:
            return None
        try:
            return item_json(item)
        except ValueError:        # a value the history cannot hold (EncodingProblem)
            return None

    def unencodable(self, call: str, send: Callable[[], Any], problem: Exception, writes: bool = True) -> Any:
        """A request holding a value the history cannot encode (DynamoDB refuses such
        requests: a number with 39 digits, an empty set): send it unrecorded; when it
        fails, as it should, it had no effect and nothing needs recording (a read that
        succeeds is simply not recorded); if a write ever succeeds, say that the history
        is now incomplete."""
        if "exactly one type key" in str(problem):
            raise UnrecordableCall(call, f"its values are not DynamoDB AttributeValues ({problem})",
                                   "The recorder reads the low-level API's values ({'S': 'x'}, {'N': '1'}): attach "
                                   "it to boto3.client('dynamodb'), not to the client of a boto3 resource, which "
                                   "takes plain Python values")
        resp = send()
        if not writes:
            return resp
        raise UnrecordableCall(call, f"the server accepted a value DynamoDB refuses ({problem})",
                               "The write took effect but the history cannot hold it, so the history misses it")

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


def _cancellation_reasons(exc: BaseException) -> list[str] | None:
    resp = getattr(exc, "response", None)
    if not isinstance(resp, dict) or "CancellationReasons" not in resp:
        return None
    return [str((r or {}).get("Code", "None")) for r in resp["CancellationReasons"]]


def _ordered(ev: dict[str, Any]) -> dict[str, Any]:
    out = {"index": ev["index"]}
    for k, v in ev.items():
        if k not in ("index", "time"):
            out[k] = v
    out["time"] = ev["time"]
    return out
