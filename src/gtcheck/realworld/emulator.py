"""A local multi-region DynamoDB endpoint with real replication lag and last-writer-wins.

One HTTP endpoint on 127.0.0.1 serves every listed region: each request goes to the region
named in its SigV4 ``Authorization`` header (``Credential=KEY/DATE/REGION/dynamodb/...``),
as AWS routes by endpoint. Underneath, each region's table is a moto table
(``moto.dynamodb.models.dynamodb_backends[account][region]``) behind moto's own server app,
so every call the emulator does not change behaves exactly as moto's server.

What the emulator adds, between the client and moto:

- **Global tables.** CreateTable + UpdateTable ``ReplicaUpdates: [{Create: {RegionName}}]``
  (version 2019.11.21) creates the replica (same CreateTable request, replayed in that
  region, existing items copied); DescribeTable shows ``Replicas`` and
  ``GlobalTableVersion``. ``global_tables="all"`` makes every table global in all regions.
- **Replication by the model's rules.** A write to a global table is carried out by moto in
  its region (conditions and transactions are evaluated there, against that region's copy
  only), under that region's write lock; the emulator then reads each item it touched and
  stamps the new version with ``gtcheck.model.rules.stamp`` (region clock in microseconds,
  plus the region's clock offset, but strictly after the version the region holds). The
  version is sent to every other replica with a delay drawn from the model's
  distribution (``gtcheck.model.distributions``), per-link per-item order kept with
  ``rules.fifo_arrival``; on arrival it is applied with ``gtcheck.model.lww.merge``, and
  written into the target's moto table only when it wins. A losing version is dropped
  silently, as DynamoDB does.
- **Faults**, through ``/__gtcheck/`` on the same port (``Control`` is the Python client):
  isolate/heal (replication cut both ways, versions queued and resent with a fresh delay on
  heal), stop/start (the region answers 503 ServiceUnavailable and has no effect; nothing
  replicates to or from it), extra delay on links, replication to a region switched off
  (versions dropped: for testing the checker), region clock offsets.

One copy per region: an eventually consistent read in the emulator is as fresh as a strong
read in the same region (the model's storage copies and copy lag are not emulated).
"""

from __future__ import annotations

import heapq
import io
import itertools
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import parse_duration
from gtcheck.model import lww, rules
from gtcheck.model.distributions import Constant, Distribution, LogNormal, parse_distribution

CONTROL_PREFIX = "/__gtcheck/"
WRITE_TARGETS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
_REGION_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")
DEFAULT_DELAY = "lognormal(250ms, 0.5)"
MAX_DELAY_NS = 15_000_000_000


def parse_delay(text: str | None) -> Distribution:
    """``'lognormal(250ms, 0.5)'``, ``'uniform(100ms, 300ms)'``, ``'exponential(200ms)'``,
    ``'constant(250ms)'`` or a plain duration: a model distribution (the model's parser
    checks every field)."""
    if text is None:
        text = DEFAULT_DELAY
    text = text.strip()
    m = re.fullmatch(r"(\w+)\s*\((.*)\)", text)
    if not m:
        return parse_distribution(text, where="--delay")
    kind, args = m.group(1).lower(), [a.strip().strip("'\"") for a in m.group(2).split(",") if a.strip()]
    names = {"lognormal": ["median", "sigma", "max"], "uniform": ["low", "high"],
             "exponential": ["mean", "min"], "constant": ["value"]}
    if kind not in names or len(args) > len(names[kind]):
        raise UserError(f"cannot read the delay {text!r}", where="--delay",
                        hint="e.g. 'lognormal(250ms, 0.5)', 'uniform(100ms, 300ms)', 'exponential(200ms)', '250ms'")
    spec: dict[str, Any] = {"dist": kind}
    for name, value in zip(names[kind], args):
        spec[name] = float(value) if name == "sigma" else value
    return parse_distribution(spec, where="--delay")


def signed_duration(value: Any, where: str) -> int:
    """``'+40ms'``, ``'-2s'``, ``'0'`` or an integer of nanoseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    sign = -1 if text.startswith("-") else 1
    return sign * parse_duration(text.lstrip("+-"), where=where)


def region_of(environ: dict[str, Any]) -> str | None:
    m = _REGION_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(1) if m else None


@dataclass(order=True)
class _Flight:
    arrival_ns: int
    seq: int
    source: str = field(compare=False)
    target: str = field(compare=False)
    account: str = field(compare=False)
    table: str = field(compare=False)
    key: str = field(compare=False)
    version: lww.Version = field(compare=False)


class Emulator:
    """The emulator's state and WSGI application. ``serve()`` starts it on a port."""

    def __init__(self, regions: list[str], *, delay: Distribution | str | None = None,
                 global_tables: str = "explicit", clock_offsets_ns: dict[str, int] | None = None,
                 seed: int | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        if not regions:
            raise UserError("at least one region is needed", where="--regions")
        self.regions = list(dict.fromkeys(regions))
        self.delay = parse_delay(delay) if isinstance(delay, str) or delay is None else delay
        self.global_all = global_tables == "all"
        self.app = DomainDispatcherApplication(create_backend_app)
        # moto's own DynamoDB app, called directly for DynamoDB requests: the dispatcher's
        # service inference per request costs a third of the CPU and picks this same app
        self.dynamodb_app = create_backend_app("dynamodb")
        self.rng = random.Random(seed)
        self.clock_offsets_ns = dict(clock_offsets_ns or {})
        self.locks = {r: threading.RLock() for r in self.regions}
        self.state_lock = threading.RLock()
        self.versions: dict[str, dict[tuple[str, str, str], lww.Version]] = {r: {} for r in self.regions}
        self.groups: dict[tuple[str, str], set[str]] = {}      # (account, table) -> replica regions
        self.create_requests: dict[tuple[str, str], bytes] = {}
        self.isolated: set[str] = set()
        self.stopped: set[str] = set()
        self.dropped_to: set[str] = set()
        self.extra_delays: dict[tuple[str, str], Distribution] = {}
        self.heap: list[_Flight] = []
        self.held: list[_Flight] = []
        self.last_arrival: dict[tuple[str, str, str, str, str], int] = {}
        self.seq = itertools.count()
        self.write_ids = itertools.count(1)
        self.cv = threading.Condition(self.state_lock)
        self.running = True
        self.applied = 0
        self.lost = 0
        self.worker = threading.Thread(target=self._replicate_loop, name="gtcheck-replication", daemon=True)
        self.worker.start()

    # -- clocks ----------------------------------------------------------------------------------
    def clock_us(self, region: str) -> int:
        return (time.time_ns() + self.clock_offsets_ns.get(region, 0)) // 1000

    # -- moto access -----------------------------------------------------------------------------
    @staticmethod
    def _backend(account: str, region: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends
        return dynamodb_backends[account][region]

    def _account_of(self, region: str, table: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends
        for account in list(dynamodb_backends.keys()):
            if table in self._backend(account, region).tables:
                return account
        return None

    def _call(self, environ: dict[str, Any], body: bytes, region: str | None = None,
              op: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        """Pass one request to moto (as ``region``, as operation ``op`` when given); returns
        status, headers, body."""
        env = dict(environ)
        if op is not None:
            env["HTTP_X_AMZ_TARGET"] = "DynamoDB_20120810." + op
        if region is not None and env.get("HTTP_AUTHORIZATION"):
            env["HTTP_AUTHORIZATION"] = re.sub(r"(Credential=[^/]+/\d{8}/)([^/]+)/", r"\g<1>" + region + "/",
                                               env["HTTP_AUTHORIZATION"], count=1)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None
        app = self.dynamodb_app if env.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_") else self.app
        chunks = app(env, start_response)
        try:
            data = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        return captured["status"], captured["headers"], data

    # -- WSGI ------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX):])
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        op = target.split(".", 1)[1] if target.startswith("DynamoDB_") else None
        region = region_of(environ)
        if op is None or region is None:
            status, headers, data = self._call(environ, body)
        elif region not in self.regions:
            status, headers, data = _error(400, "UnrecognizedClientException",
                                           f"region {region} is not served by this emulator ({', '.join(self.regions)})")
        elif region in self.stopped:
            status, headers, data = _error(503, "ServiceUnavailable", f"region {region} is stopped (gtcheck emulator)")
        else:
            status, headers, data = self._dynamodb(environ, body, op, region)
        start_response(status, headers)
        return [data]

    def _dynamodb(self, environ: dict[str, Any], body: bytes, op: str, region: str) -> tuple[str, list[tuple[str, str]], bytes]:
        if op in WRITE_TARGETS:
            return self._write(environ, body, op, region)
        if op == "CreateTable":
            status, headers, data = self._call(environ, body)
            if status.startswith("200"):
                req = json.loads(body or b"{}")
                account = self._account_of(region, req["TableName"])
                if account is not None:
                    with self.state_lock:
                        self.create_requests[(account, req["TableName"])] = body
                        self.groups[(account, req["TableName"])] = {region}
                    if self.global_all:
                        for other in self.regions:
                            if other != region:
                                self._add_replica(environ, account, req["TableName"], region, other)
            return status, headers, data
        if op == "UpdateTable":
            req = json.loads(body or b"{}")
            if "ReplicaUpdates" in req:
                return self._replica_updates(environ, req, region)
            return self._call(environ, body)
        if op == "DescribeTable":
            status, headers, data = self._call(environ, body)
            if status.startswith("200"):
                data = self._with_replicas(data, region)
                headers = _fix_length(headers, data)
            return status, headers, data
        if op == "DeleteTable":
            status, headers, data = self._call(environ, body)
            if status.startswith("200"):
                name = json.loads(body)["TableName"]
                with self.state_lock:
                    for (account, table), group in self.groups.items():
                        if table == name:
                            group.discard(region)
            return status, headers, data
        with self.locks[region]:
            # reads (Scan, Query, GetItem...) run under the region's lock too, so a version
            # arriving from another region never changes a moto table under an iteration
            return self._call(environ, body)

    # -- global tables ------------------------------------------------------------------------------
    def _group(self, account: str, table: str) -> set[str]:
        with self.state_lock:
            return set(self.groups.get((account, table), ()))

    def _add_replica(self, environ: dict[str, Any], account: str, table: str, source: str, target: str) -> None:
        body = self.create_requests.get((account, table))
        if body is None:
            raise UserError(f"table {table} was not created through this emulator")
        if target not in self.regions:
            raise UserError(f"region {target} is not served by this emulator")
        if table not in self._backend(account, target).tables:
            status, _, data = self._call(environ, body, region=target, op="CreateTable")
            if not status.startswith("200"):
                raise UserError(f"creating the replica in {target} failed: {data[:200]!r}")
        with self.locks[source], self.locks[target], self.state_lock:
            src = self._backend(account, source).get_table(table)
            dst = self._backend(account, target).get_table(table)
            for item in list(src.all_items()):
                attrs = item.to_json()["Attributes"]
                dst.put_item(attrs, overwrite=True)
                k = self._item_key(src, attrs)
                v = self.versions[source].get((account, table, k))
                if v is not None:
                    self.versions[target][(account, table, k)] = v
            self.groups.setdefault((account, table), {source}).add(target)

    def _replica_updates(self, environ: dict[str, Any], req: dict[str, Any], region: str) -> tuple[str, list[tuple[str, str]], bytes]:
        table = req["TableName"]
        account = self._account_of(region, table)
        if account is None:
            return _error(400, "ResourceNotFoundException", f"Requested resource not found: Table: {table} not found")
        try:
            for update in req["ReplicaUpdates"]:
                if "Create" in update:
                    self._add_replica(environ, account, table, region, update["Create"]["RegionName"])
                elif "Delete" in update:
                    with self.state_lock:
                        self.groups.get((account, table), set()).discard(update["Delete"]["RegionName"])
        except UserError as exc:
            return _error(400, "ValidationException", exc.message if hasattr(exc, "message") else str(exc))
        rest = {k: v for k, v in req.items() if k != "ReplicaUpdates"}
        if len(rest) > 1:
            status, headers, data = self._call(environ, json.dumps(rest).encode(), op="UpdateTable")
            if not status.startswith("200"):
                return status, headers, data
        status, headers, data = self._call(environ, json.dumps({"TableName": table}).encode(), op="DescribeTable")
        desc = json.loads(self._with_replicas(data, region))
        out = json.dumps({"TableDescription": desc["Table"]}).encode()
        return status, _fix_length(headers, out), out

    def _with_replicas(self, data: bytes, region: str) -> bytes:
        doc = json.loads(data)
        t = doc.get("Table")
        if not t:
            return data
        account = self._account_of(region, t["TableName"])
        group = self._group(account, t["TableName"]) if account else set()
        if len(group) > 1:
            t["GlobalTableVersion"] = "2019.11.21"
            t["Replicas"] = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in self.regions
                             if r in group and r != region]
        return json.dumps(doc).encode()

    # -- writes ----------------------------------------------------------------------------------------
    @staticmethod
    def _item_key(table: Any, attrs: dict[str, Any]) -> str:
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr:
            key[table.range_key_attr] = attrs[table.range_key_attr]
        return json.dumps(key, sort_keys=True)

    @staticmethod
    def _touched(op: str, req: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if op == "PutItem":
            return [(req["TableName"], req["Item"])]
        if op in ("UpdateItem", "DeleteItem"):
            return [(req["TableName"], req["Key"])]
        out = []
        if op == "TransactWriteItems":
            for entry in req.get("TransactItems", []):
                for kind in ("Put", "Update", "Delete"):
                    if kind in entry:
                        b = entry[kind]
                        out.append((b["TableName"], b.get("Item") or b["Key"]))
        elif op == "BatchWriteItem":
            for table, reqs in req.get("RequestItems", {}).items():
                for r in reqs:
                    if "PutRequest" in r:
                        out.append((table, r["PutRequest"]["Item"]))
                    elif "DeleteRequest" in r:
                        out.append((table, r["DeleteRequest"]["Key"]))
        return out

    def _write(self, environ: dict[str, Any], body: bytes, op: str, region: str) -> tuple[str, list[tuple[str, str]], bytes]:
        try:
            req = json.loads(body or b"{}")
            touched = self._touched(op, req)
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._call(environ, body)
        with self.locks[region]:
            status, headers, data = self._call(environ, body)
            if not status.startswith("200"):
                return status, headers, data
            now_ns = time.monotonic_ns()
            stamped = []
            for table_name, attrs in touched:
                account = self._account_of(region, table_name)
                if account is None:
                    continue
                group = self._group(account, table_name)
                backend = self._backend(account, region)
                table = backend.get_table(table_name)
                try:
                    k = self._item_key(table, attrs)
                    hash_key, range_key = backend.get_keys_value(table, json.loads(k))
                except Exception:  # noqa: BLE001 - not a key moto would accept
                    continue
                item = table.get_item(hash_key, range_key)
                value = None if item is None else item.to_json()["Attributes"]
                ident = (account, table_name, k)
                stored = self.versions[region].get(ident)
                ts = rules.stamp(self.clock_us(region), stored)
                v = lww.Version(ts, region, next(self.write_ids), value, value is None)
                self.versions[region][ident] = v
                stamped.append((ts, v))
                for other in sorted(group - {region}):
                    self._send(region, other, account, table_name, k, v, now_ns)
            if stamped:
                headers = list(headers) + [("x-gtcheck-versions", json.dumps(
                    [[v.ts, v.origin] for _, v in stamped]))]
        return status, headers, data

    # -- replication -----------------------------------------------------------------------------------
    def _draw(self, source: str, target: str) -> int:
        with self.state_lock:
            d = self.delay.sample(self.rng)
            extra = self.extra_delays.get((source, target)) or self.extra_delays.get((source, "*")) \
                or self.extra_delays.get(("*", target))
            if extra is not None:
                d += extra.sample(self.rng)
        return min(max(d, 0), MAX_DELAY_NS)

    def _send(self, source: str, target: str, account: str, table: str, key: str, v: lww.Version, now_ns: int) -> None:
        arrival = now_ns + self._draw(source, target)
        with self.cv:
            link = (source, target, account, table, key)
            arrival = rules.fifo_arrival(self.last_arrival.get(link, 0), arrival)
            self.last_arrival[link] = arrival
            heapq.heappush(self.heap, _Flight(arrival, next(self.seq), source, target, account, table, key, v))
            self.cv.notify()

    def _cut(self, source: str, target: str) -> bool:
        return bool({source, target} & (self.isolated | self.stopped))

    def _replicate_loop(self) -> None:
        while True:
            with self.cv:
                while self.running and (not self.heap or self.heap[0].arrival_ns > time.monotonic_ns()):
                    timeout = None if not self.heap else (self.heap[0].arrival_ns - time.monotonic_ns()) / 1e9
                    self.cv.wait(timeout=timeout if timeout is None else max(timeout, 0.0005))
                if not self.running:
                    return
                flight = heapq.heappop(self.heap)
                if flight.target in self.dropped_to:
                    continue
                if self._cut(flight.source, flight.target):
                    self.held.append(flight)
                    continue
            self._apply(flight)

    def _apply(self, f: _Flight) -> None:
        with self.locks[f.target]:
            ident = (f.account, f.table, f.key)
            held = self.versions[f.target].get(ident)
            merged = lww.merge(held, f.version)
            if merged is held:
                self.lost += 1
                return
            self.versions[f.target][ident] = merged
            try:
                table = self._backend(f.account, f.target).get_table(f.table)
            except Exception:  # noqa: BLE001 - the replica was deleted meanwhile
                return
            if f.version.deleted:
                key = json.loads(f.key)
                backend = self._backend(f.account, f.target)
                h, r = backend.get_keys_value(table, key)
                table.delete_item(h, r)
            else:
                table.put_item(f.version.value, overwrite=True)
            self.applied += 1

    def _release(self) -> None:
        """Resend held versions whose link is whole again (fresh delay, per-item order kept)."""
        now = time.monotonic_ns()
        with self.cv:
            keep, go = [], []
            for f in self.held:
                (keep if self._cut(f.source, f.target) else go).append(f)
            self.held = keep
        for f in sorted(go):
            self._send(f.source, f.target, f.account, f.table, f.key, f.version, now)

    def in_flight(self) -> int:
        with self.cv:
            return len(self.heap) + len(self.held)

    # -- faults --------------------------------------------------------------------------------------
    def _check_region(self, region: str) -> str:
        if region not in self.regions:
            raise UserError(f"unknown region {region!r}", hint="one of " + ", ".join(self.regions))
        return region

    def isolate(self, region: str) -> None:
        with self.cv:
            self.isolated.add(self._check_region(region))

    def heal(self, region: str | None = None) -> None:
        with self.cv:
            if region is None:
                self.isolated.clear()
            else:
                self.isolated.discard(self._check_region(region))
        self._release()

    def stop_region(self, region: str) -> None:
        with self.cv:
            self.stopped.add(self._check_region(region))

    def start_region(self, region: str) -> None:
        with self.cv:
            self.stopped.discard(self._check_region(region))
        self._release()

    def set_delay(self, source: str, target: str, extra: Distribution | str | None) -> None:
        for r in (source, target):
            if r != "*":
                self._check_region(r)
        with self.cv:
            if extra is None:
                self.extra_delays.pop((source, target), None)
            else:
                self.extra_delays[(source, target)] = parse_delay(extra) if isinstance(extra, str) else extra

    def set_replication(self, target: str, enabled: bool) -> None:
        with self.cv:
            (self.dropped_to.discard if enabled else self.dropped_to.add)(self._check_region(target))

    def set_clock_offset(self, region: str, offset_ns: int) -> None:
        with self.cv:
            self.clock_offsets_ns[self._check_region(region)] = offset_ns

    def heal_all(self) -> None:
        with self.cv:
            self.isolated.clear()
            self.stopped.clear()
            self.extra_delays.clear()
        self._release()

    def status(self) -> dict[str, Any]:
        with self.cv:
            return {"regions": self.regions, "isolated": sorted(self.isolated), "stopped": sorted(self.stopped),
                    "replication_off_to": sorted(self.dropped_to),
                    "extra_delays": {f"{s}->{t}": d.describe() for (s, t), d in self.extra_delays.items()},
                    "clock_offsets_ns": dict(self.clock_offsets_ns), "delay": self.delay.describe(),
                    "in_flight": len(self.heap), "held": len(self.held), "applied": self.applied,
                    "lost": self.lost,
                    "global_tables": {f"{t}": sorted(g) for (a, t), g in self.groups.items()}}

    def close(self) -> None:
        with self.cv:
            self.running = False
            self.cv.notify_all()
        self.worker.join(timeout=5)

    # -- control endpoint ----------------------------------------------------------------------
    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any], action: str) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            args = json.loads(raw) if raw else {}
            result = self.control(action, args)
            status, out = "200 OK", result
        except UserError as exc:
            status, out = "400 Bad Request", {"error": exc.render()}
        except (ValueError, KeyError, TypeError) as exc:
            status, out = "400 Bad Request", {"error": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(out).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def control(self, action: str, args: dict[str, Any]) -> dict[str, Any]:
        """The control API: every action returns the status afterwards."""
        if action == "status":
            pass
        elif action == "isolate":
            self.isolate(args["region"])
        elif action == "heal":
            self.heal(args.get("region"))
        elif action == "stop":
            self.stop_region(args["region"])
        elif action == "start":
            self.start_region(args["region"])
        elif action == "delay":
            self.set_delay(args.get("source", "*"), args.get("target", "*"), args.get("extra"))
        elif action == "replication":
            self.set_replication(args["target"], bool(args.get("enabled", True)))
        elif action == "clock":
            self.set_clock_offset(args["region"], signed_duration(args["offset"], "offset"))
        elif action == "heal-all":
            self.heal_all()
        elif action == "reset":
            self.heal_all()
            with self.cv:
                self.dropped_to.clear()
        else:
            raise UserError(f"unknown control action {action!r}",
                            hint="status, isolate, heal, stop, start, delay, replication, clock, heal-all, reset")
        return self.status()


def _error(code: int, name: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    data = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{name}", "message": message}).encode()
    reason = {400: "Bad Request", 503: "Service Unavailable"}.get(code, "Error")
    return f"{code} {reason}", [("Content-Type", "application/x-amz-json-1.0"),
                                ("Content-Length", str(len(data))), ("x-amzn-ErrorType", name)], data


def _fix_length(headers: list[tuple[str, str]], data: bytes) -> list[tuple[str, str]]:
    import zlib
    return [(k, v) for k, v in headers if k.lower() not in ("content-length", "x-amz-crc32")] + [
        ("Content-Length", str(len(data))), ("x-amz-crc32", str(zlib.crc32(data) & 0xFFFFFFFF))]


class Server:
    """The emulator served on 127.0.0.1 (only loopback) in a background thread."""

    def __init__(self, emulator: Emulator, port: int = 0, host: str = "127.0.0.1") -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            # keep-alive: boto3 reuses its connections, so a request costs no new connection
            # and no new thread
            protocol_version = "HTTP/1.1"

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        if host not in ("127.0.0.1", "localhost"):
            raise UserError("the emulator listens on loopback only", where="--host")
        self.emulator = emulator
        self.httpd = make_server(host, port, emulator, threaded=True, request_handler=QuietHandler)
        self.port = self.httpd.server_port
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="gtcheck-emulator", daemon=True)

    def start(self) -> "Server":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.emulator.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(regions: list[str], port: int = 0, **kw: Any) -> Server:
    """Start an emulator in this process: ``with serve([...]) as s: s.endpoint``."""
    return Server(Emulator(regions, **kw), port).start()
