"""Multi-region strong consistency (MRSC) in the emulator, by the model's strong-mode rules.

A table becomes MRSC through UpdateTable (``globaltables.py``). Its requests then follow the
rules of ``gtcheck.model.rules`` and the item's log (``gtcheck.model.world.ItemLog``), in real
time (monotonic nanoseconds), as the timed simulator follows them in simulated time:

- **Reachability** (``rules.strong_reachable``): a write or strongly consistent read needs
  its region and one other replica region or the witness connected (not isolated, not
  stopped). A request that cannot reach one waits for a fault to heal, at most
  ``--strong-timeout`` (the model's ``regions.timeout``), then gets ``InternalServerError``
  (HTTP 500: the client cannot know whether a write took effect; here it did not).
- **The round trip** (``rules.quorum_wait``): one round-trip draw per peer (``--round-trip``,
  plus any extra delay on the link); the shortest over the peers connected counts.
- **Conflicts** (``rules.strong_admit``): a write of an item whose write from another region
  is in flight (decided, not yet acknowledged) fails after its round trip with
  ``ReplicatedWriteConflictException`` (HTTP 409, as DynamoDB); writes of one item from one
  region queue behind each other.
- **A write** is decided when admitted: carried out by moto against the item's latest decided
  version (in a scratch copy, so no region shows it early), stamped by ``rules.stamp`` at the
  region's clock at its acknowledgement, recorded in the item's log (``ItemLog.decide``), and
  acknowledged after its round trip; only then is it applied in its region and replicated
  asynchronously to the others, as in eventual mode. A condition that fails fails after the
  round trip and changes nothing.
- **A strongly consistent read** (GetItem, Query, Scan, BatchGetItem, PartiQL SELECT with
  ``ConsistentRead``) waits for its round trip, then brings the region's copy up to the heads
  of the items' logs (``ItemLog.at``) and reads it: it sees every write acknowledged before it.
  An eventually consistent read is served by the region's copy at once and may be stale.
- **Refused** as in DynamoDB (``ValidationException``): transactions (TransactWriteItems,
  TransactGetItems, ExecuteTransaction) and Time to Live. PartiQL writes on an MRSC table are
  refused too, saying the emulator does not emulate them.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from gtcheck.model import lww, rules
from gtcheck.model.world import ItemLog
from gtcheck.realworld import wire
from gtcheck.realworld.regions import SCRATCH_REGION, STRONG, Group, Regions
from gtcheck.realworld.wire import Response, WireError


class StrongTable:
    """One MRSC table: its replica regions, its witness, and a log per item."""

    def __init__(self, group: Group) -> None:
        self.group = group
        self.logs: dict[str, ItemLog] = {}
        self.lock = threading.Lock()

    def log(self, key_json: str) -> ItemLog:
        log = self.logs.get(key_json)
        if log is None:
            log = self.logs[key_json] = ItemLog()
        return log

    def peers(self, region: str) -> list[str]:
        g = self.group
        return [r for r in sorted(g.regions) if r != region] + ([g.witness] if g.witness else [])


class Strong:
    def __init__(self, emu: Regions) -> None:
        self.emu = emu
        self.tables: dict[tuple[str, str], StrongTable] = {}
        self.scratch_lock = threading.Lock()
        self.scratch_tables: set[tuple[str, str]] = set()
        self.writes = self.conflicts = self.timeouts = self.reads = 0

    def counters(self) -> dict[str, int]:
        with self.emu.state:
            tables = sum(1 for g in self.emu.groups.values() if g.consistency == STRONG)
        return {"tables": tables, "writes": self.writes, "conflicts": self.conflicts,
                "timeouts": self.timeouts, "strong_reads": self.reads}

    def _table(self, region: str, name: Any) -> StrongTable | None:
        """The MRSC table ``name`` as seen from ``region`` (a replica of it), with its logs."""
        emu = self.emu
        if not isinstance(name, str):
            return None
        with emu.state:
            if not any(g.consistency == STRONG for g in emu.groups.values()):
                return None
        account = emu.account_of(region, name)
        group = emu.group(account, name) if account else None
        if group is None or group.consistency != STRONG or region not in group.regions:
            return None
        with emu.state:
            st = self.tables.get((group.account, name))
            if st is None or st.group is not group:        # new, or the table was made again
                st = self.tables[(group.account, name)] = StrongTable(group)
                self.scratch_tables.discard((group.account, name))
            return st

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], op: str, region: str) -> Response | None:
        """Serve the request when it touches an MRSC table (None: it does not)."""
        if op in ("PutItem", "UpdateItem", "DeleteItem"):
            st = self._table(region, doc.get("TableName"))
            if st is None:
                return None
            attrs = doc["Item"] if op == "PutItem" else doc["Key"]
            return self.write(environ, body, region, st, self._key(st, region, attrs))
        if op in ("TransactWriteItems", "TransactGetItems"):
            names = [b.get("TableName") for e in doc.get("TransactItems") or [] for b in e.values() if isinstance(b, dict)]
            if any(self._table(region, n) for n in names):
                raise WireError(400, "ValidationException", f"{op} is not supported on a table with multi-Region "
                                f"strong consistency (MultiRegionConsistency STRONG)")
            return None
        if op == "BatchWriteItem":
            if any(self._table(region, n) for n in doc.get("RequestItems") or {}):
                return self.batch_write(environ, doc, region)
            return None
        if op in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
            return self._partiql(environ, body, doc, op, region)
        if op in ("GetItem", "Query", "Scan"):
            st = self._table(region, doc.get("TableName"))
            if st is None or not doc.get("ConsistentRead"):
                return None
            keys = [self._key(st, region, doc["Key"])] if op == "GetItem" else None
            return self.read(environ, body, region, [(st, keys)])
        if op == "BatchGetItem":
            wanted = []
            for name, spec in (doc.get("RequestItems") or {}).items():
                st = self._table(region, name)
                if st is not None and spec.get("ConsistentRead"):
                    wanted.append((st, [self._key(st, region, k) for k in spec.get("Keys") or []]))
            return self.read(environ, body, region, wanted) if wanted else None
        return None

    def _key(self, st: StrongTable, region: str, attrs: dict[str, Any]) -> str:
        table = self.emu.backend(st.group.account, region).get_table(st.group.table)
        try:
            return self.emu.item_key(table, attrs)
        except KeyError:
            raise WireError(400, "ValidationException",
                            "One or more parameter values were invalid: the key does not match the table's key schema") from None

    def _partiql(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], op: str, region: str) -> Response | None:
        from moto.dynamodb.parsing import partiql

        statements = [doc.get("Statement")] if op == "ExecuteStatement" else [
            s.get("Statement") for s in doc.get("Statements") or doc.get("TransactStatements") or []]
        touched: list[tuple[StrongTable, bool]] = []
        for text in statements:
            if not isinstance(text, str):
                continue
            try:
                meta = partiql.get_query_metadata(text)
                names, select = meta.get_table_names(), meta.is_select_query()
            except Exception:  # noqa: BLE001 - moto will refuse the statement itself
                continue
            touched += [(st, select) for st in (self._table(region, n) for n in names) if st is not None]
        if not touched:
            return None
        if op == "ExecuteTransaction":
            raise WireError(400, "ValidationException", "ExecuteTransaction is not supported on a table with "
                            "multi-Region strong consistency (MultiRegionConsistency STRONG)")
        if not all(select for _, select in touched):
            raise WireError(400, "ValidationException", "gtcheck emulator: PartiQL writes on a table with multi-Region "
                            "strong consistency are not emulated; use PutItem, UpdateItem or DeleteItem")
        if op == "ExecuteStatement" and doc.get("ConsistentRead"):
            return self.read(environ, body, region, [(st, None) for st, _ in touched])
        return None

    # -- the rules, live ------------------------------------------------------------------------
    def _connected(self, region: str) -> bool:
        emu = self.emu
        return region not in emu.isolated and region not in emu.stopped

    def _await_reachable(self, st: StrongTable, region: str, deadline_ns: int) -> bool:
        """Wait (at most until ``deadline_ns``) until ``rules.strong_reachable`` holds."""
        emu = self.emu
        with emu.state:
            while True:
                if rules.strong_reachable(self._connected(region), [self._connected(p) for p in st.peers(region)]):
                    return True
                left = deadline_ns - time.monotonic_ns()
                if left <= 0 or not emu.running:
                    return False
                emu.state.wait(timeout=min(left / 1e9, 0.5))

    def _round_trip(self, st: StrongTable, region: str, budget_ns: int) -> int | None:
        peers = st.peers(region)
        with self.emu.state:
            whole = [self._connected(p) for p in peers]
        return rules.quorum_wait([self.emu.draw_round_trip(region, p) for p in peers], whole, budget_ns)

    def _timeout(self, st: StrongTable, region: str) -> Response:
        self.timeouts += 1
        return wire.error(500, "InternalServerError",
                          f"gtcheck emulator: no other region of {st.group.table} answered {region} within "
                          f"{self.emu.strong_timeout_ns / 1e9:g} s (multi-Region strong consistency needs a second region)")

    @staticmethod
    def _sleep_until(t_ns: int) -> None:
        left = t_ns - time.monotonic_ns()
        if left > 0:
            time.sleep(left / 1e9)

    # -- writes -----------------------------------------------------------------------------------
    def write(self, environ: dict[str, Any], body: bytes, region: str, st: StrongTable, key_json: str) -> Response:
        emu = self.emu
        t0 = time.monotonic_ns()
        deadline = t0 + emu.strong_timeout_ns
        if not self._await_reachable(st, region, deadline):
            return self._timeout(st, region)
        decided: lww.Version | None = None
        with st.lock:
            log = st.log(key_json)
            now = time.monotonic_ns()
            log.at(now)           # the acknowledged versions leave the log's pending list (bounded memory)
            start = rules.strong_admit(log, region, now)
            at = now if start is None else start
            rtt = self._round_trip(st, region, deadline - at)
            if rtt is not None and start is not None:
                latest = log.latest()
                status, headers, data, value = self._evaluate(environ, body, st, key_json, latest)
                if status.startswith("200"):
                    ack = start + rtt
                    ts = rules.stamp(emu.clock_us(region, ack), latest)
                    decided = lww.Version(ts, region, next(emu.write_ids), value, value is None)
                    log.decide(ack, decided)
        if rtt is None:
            self._sleep_until(deadline)
            return self._timeout(st, region)
        self._sleep_until(at + rtt)
        if start is None:
            self.conflicts += 1
            return wire.error(409, "ReplicatedWriteConflictException",
                              "The request was rejected because one or more items in the request are being modified "
                              "by a request in another Region.")
        if decided is None:
            return status, headers, data          # moto's refusal (a condition that failed...), after the round trip
        self.writes += 1
        self._acknowledge(st, region, key_json, decided)
        headers = list(headers) + [("x-gtcheck-versions", json.dumps([[decided.ts, decided.origin]]))]
        if region in emu.stopped:
            return wire.error(503, "ServiceUnavailable", f"region {region} was stopped while the write was in flight "
                              f"(it took effect: another region holds it)")
        return status, headers, data

    def batch_write(self, environ: dict[str, Any], doc: dict[str, Any], region: str) -> Response:
        """BatchWriteItem on an MRSC table: each item a strong write of its own; the ones that
        conflict or time out come back as ``UnprocessedItems``, as DynamoDB returns items it
        could not write."""
        unprocessed: dict[str, list[Any]] = {}
        for name, reqs in (doc.get("RequestItems") or {}).items():
            st = self._table(region, name)
            for r in reqs or []:
                if r.get("PutRequest"):
                    op, one = "PutItem", {"TableName": name, "Item": r["PutRequest"]["Item"]}
                    attrs = r["PutRequest"]["Item"]
                else:
                    op, one = "DeleteItem", {"TableName": name, "Key": r["DeleteRequest"]["Key"]}
                    attrs = r["DeleteRequest"]["Key"]
                one_body = json.dumps(one).encode()
                if st is None:
                    status = self.emu.local_call(environ, one_body, region, op=op)[0]
                else:
                    env = dict(environ, HTTP_X_AMZ_TARGET=wire.TARGET_PREFIX + op)
                    status = self.write(env, one_body, region, st, self._key(st, region, attrs))[0]
                if not status.startswith("200"):
                    unprocessed.setdefault(name, []).append(r)
        return wire.json_response({"UnprocessedItems": unprocessed})

    def _evaluate(self, environ: dict[str, Any], body: bytes, st: StrongTable, key_json: str,
                  latest: lww.Version | None) -> tuple[str, list[tuple[str, str]], bytes, Any]:
        """Carry the write out against ``latest`` in a scratch copy of the table; moto's answer
        and the item it leaves (None: absent)."""
        emu = self.emu
        account, name = st.group.account, st.group.table
        with self.scratch_lock:
            self._scratch_table(environ, st)
            emu.put_local(account, SCRATCH_REGION, name, key_json, None if latest is None or latest.deleted else latest.value)
            status, headers, data = emu.call(environ, body, region=SCRATCH_REGION)
            value = emu.read_item(account, SCRATCH_REGION, name, key_json) if status.startswith("200") else None
            emu.put_local(account, SCRATCH_REGION, name, key_json, None)
        return status, headers, data, value

    def _scratch_table(self, environ: dict[str, Any], st: StrongTable) -> None:
        from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

        account, name = st.group.account, st.group.table
        if (account, name) in self.scratch_tables:
            return
        per_account = dynamodb_backends[account]
        if SCRATCH_REGION not in per_account.keys():
            dict.__setitem__(per_account, SCRATCH_REGION, DynamoDBBackend(SCRATCH_REGION, account))
        for op, shape_body in st.group.shape:
            if op != "UpdateTimeToLive":
                self.emu.call(environ, shape_body, region=SCRATCH_REGION, op=op)
        self.scratch_tables.add((account, name))

    def _acknowledge(self, st: StrongTable, region: str, key_json: str, v: lww.Version) -> None:
        """The write is acknowledged: apply it in its region, replicate it to the others."""
        emu = self.emu
        ident = (st.group.account, st.group.table, key_json)
        with emu.lock(region):
            emu.install(region, ident, v)
        now = time.monotonic_ns()
        for other in sorted(st.group.regions - {region}):
            emu.replicator.send(region, other, ident, v, now)

    # -- strongly consistent reads -------------------------------------------------------------------
    def read(self, environ: dict[str, Any], body: bytes, region: str,
             wanted: list[tuple[StrongTable, list[str] | None]]) -> Response:
        """After the round trip, bring ``region``'s copy up to the heads of the logs (of the keys
        given, or of every item of the table) and let moto serve the read there."""
        emu = self.emu
        t0 = time.monotonic_ns()
        deadline = t0 + emu.strong_timeout_ns
        longest = 0
        for st, _ in wanted:
            if not self._await_reachable(st, region, deadline):
                return self._timeout(st, region)
            rtt = self._round_trip(st, region, deadline - time.monotonic_ns())
            if rtt is None:
                self._sleep_until(deadline)
                return self._timeout(st, region)
            longest = max(longest, rtt)
        self._sleep_until(time.monotonic_ns() + longest)
        self.reads += 1
        with emu.lock(region):
            for st, keys in wanted:
                with st.lock:
                    now = time.monotonic_ns()
                    heads = {k: st.logs[k].at(now) for k in (keys if keys is not None else list(st.logs))
                             if k in st.logs}
                for k, head in heads.items():
                    if head is not None:
                        emu.install(region, (st.group.account, st.group.table, k), head)
            return emu.call(environ, body)
