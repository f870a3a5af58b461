"""A local multi-region DynamoDB endpoint with both modes of global tables, built on moto.

One HTTP endpoint on 127.0.0.1 serves every listed region: a request goes to the region named
in its SigV4 ``Authorization`` header (``Credential=KEY/DATE/REGION/dynamodb/...``), as AWS
routes by endpoint. Each region's tables are moto tables
(``moto.dynamodb.models.dynamodb_backends[account][region]``) behind moto's own app, so every
call the emulator does not change behaves exactly as moto's server (a superset of it). What
the emulator adds (docs/emulator.md has the whole list):

- **Global tables** (version 2019.11.21) through the real API (``globaltables.py``): replicas
  by UpdateTable ``ReplicaUpdates`` Create and Delete, GSIs and TTL settings kept the same in
  every replica, ``MultiRegionConsistency: STRONG`` with three replicas or two and a witness.
- **Multi-region eventual consistency** (this module): a write is carried out by moto in its
  region under the region's lock; every item it changed (moto reports each change through the
  stream shard, ``streams.Shard``, PartiQL included) is read back and stamped by the model's
  ``rules.stamp``; the version replicates with delays drawn from the model's distributions
  and is applied on arrival by ``lww.merge`` (``replication.py``).
- **Multi-region strong consistency** (``strong.py``): by the model's strong rules
  (``rules.strong_reachable``, ``rules.quorum_wait``, ``rules.strong_admit``, the item's log).
- **TTL** (``ttl.py``): a sweeper deletes expired items; each delete is stamped and replicated
  like any write, and listed for the recorder (process ``ttl``).
- **Faults** through the control plane ``/__gtcheck/`` on the same port (``controlplane.py``:
  POST, JSON, the per-process token, Host and Origin checked).
- **DynamoDB's errors** (``wire.py``): a malformed request gets DynamoDB's JSON error, never
  an HTML page or a traceback; the request body is bounded.
- **Bounded memory** (``streams.py``).

One copy per region: an eventually consistent read is as fresh as a strongly consistent
read in the same region of an eventual-mode table (the model's storage copies and copy lag
are not emulated).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import sys
import threading
import time
import traceback
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import parse_duration
from gtcheck.model import lww, rules
from gtcheck.model.distributions import Distribution, parse_distribution
from gtcheck.model.scenario import Scenario
from gtcheck.realworld import streams, wire
from gtcheck.realworld.replication import Flight, Ident, Replicator
from gtcheck.realworld.strong import SCRATCH_REGION
from gtcheck.realworld.wire import Response, WireError

CONTROL_PREFIX = "/__gtcheck/"
MOTO_API_PREFIX = "/moto-api/"
STREAMS_PREFIX = "DynamoDBStreams_20120810."
WRITE_TARGETS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
PARTIQL_TARGETS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
READ_TARGETS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
_REGION_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")
_DEFAULTS = Scenario()
DEFAULT_DELAY = "lognormal(250ms, 0.5)"
DEFAULT_ROUND_TRIP = "lognormal(30ms, 0.3)"     # the model's replication.round_trip
DEFAULT_STRONG_TIMEOUT_NS = _DEFAULTS.timeout_ns  # the model's regions.timeout
MAX_DELAY_NS = 15_000_000_000
UNSIGNED_REFUSE = "refuse"


def parse_delay(text: str | None, where: str = "--delay") -> Distribution:
    """``'lognormal(250ms, 0.5)'``, ``'uniform(100ms, 300ms)'``, ``'exponential(200ms)'``,
    ``'constant(250ms)'`` or a plain duration: a model distribution (the model's parser
    checks every field)."""
    if text is None:
        text = DEFAULT_DELAY
    if not isinstance(text, str):
        raise UserError(f"a delay is a text such as 'lognormal(250ms, 0.5)' or '2s', not {text!r}", where=where)
    text = text.strip()
    m = re.fullmatch(r"(\w+)\s*\((.*)\)", text)
    if not m:
        return parse_distribution(text, where=where)
    kind, args = m.group(1).lower(), [a.strip().strip("'\"") for a in m.group(2).split(",") if a.strip()]
    names = {"lognormal": ["median", "sigma", "max"], "uniform": ["low", "high"],
             "exponential": ["mean", "min"], "constant": ["value"]}
    if kind not in names or len(args) > len(names[kind]):
        raise UserError(f"cannot read the delay {text!r}", where=where,
                        hint="e.g. 'lognormal(250ms, 0.5)', 'uniform(100ms, 300ms)', 'exponential(200ms)', '250ms'")
    spec: dict[str, Any] = {"dist": kind}
    for name, value in zip(names[kind], args):
        if name == "sigma":
            try:
                spec[name] = float(value)
            except ValueError:
                raise UserError(f"the sigma of {text!r} is not a number", where=where) from None
        else:
            spec[name] = value
    return parse_distribution(spec, where=where)


def signed_duration(value: Any, where: str) -> int:
    """``'+40ms'``, ``'-2s'``, ``'0'`` or an integer of nanoseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise UserError(f"an offset is a duration such as '+40ms' or '-2s', not {value!r}", where=where)
    text = value.strip()
    sign = -1 if text.startswith("-") else 1
    return sign * parse_duration(text.lstrip("+-"), where=where)


def region_of(environ: dict[str, Any]) -> str | None:
    m = _REGION_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(1) if m else None


def canonical_key(key: dict[str, Any]) -> str:
    """An item's key as one string: numbers written as their value (``1`` = ``1.0``)."""
    out = {}
    for name, av in key.items():
        if isinstance(av, dict) and "N" in av and isinstance(av["N"], str):
            try:
                d = Decimal(av["N"])
                av = {"N": format(d.normalize(), "f") if d == d.to_integral_value() else str(d.normalize())}
            except InvalidOperation:
                pass
        out[name] = av
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def _signature_for(region: str) -> str:
    """An Authorization header naming ``region`` (what moto routes by), for an unsigned request."""
    return f"AWS4-HMAC-SHA256 Credential=gtcheck/20000101/{region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0"


class Emulator:
    """The emulator's state and WSGI application. ``serve()`` starts it on a port."""

    def __init__(self, regions: list[str], *, delay: Distribution | str | None = None,
                 round_trip: Distribution | str | None = None, global_tables: str = "explicit",
                 clock_offsets_ns: dict[str, int] | None = None, seed: int | None = None,
                 unlisted: str = "moto", unsigned: str = UNSIGNED_REFUSE,
                 strong_timeout_ns: int = DEFAULT_STRONG_TIMEOUT_NS,
                 stream_records: int = streams.DEFAULT_STREAM_RECORDS, ttl_interval_s: float = 1.0,
                 token: str | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from gtcheck.realworld.controlplane import ControlPlane
        from gtcheck.realworld.globaltables import GlobalTables
        from gtcheck.realworld.strong import Strong
        from gtcheck.realworld.ttl import Sweeper

        if not regions:
            raise UserError("at least one region is needed", where="--regions")
        if unlisted not in ("moto", "refuse"):
            raise UserError(f"unlisted regions are served by moto or refused, not {unlisted!r}", where="--unlisted-regions")
        self.regions = list(dict.fromkeys(regions))
        if unsigned != UNSIGNED_REFUSE and unsigned not in self.regions:
            raise UserError(f"unsigned requests go to a listed region or are refused, not to {unsigned!r}",
                            where="--unsigned", hint="refuse, or one of " + ", ".join(self.regions))
        self.delay = parse_delay(delay) if isinstance(delay, str) or delay is None else delay
        self.round_trip = (parse_delay(round_trip or DEFAULT_ROUND_TRIP, "--round-trip")
                           if isinstance(round_trip, str) or round_trip is None else round_trip)
        self.global_all = global_tables == "all"
        self.unlisted, self.unsigned = unlisted, unsigned
        self.strong_timeout_ns = strong_timeout_ns
        self.stream_records = stream_records
        streams.untrack()
        streams.reset_moto()       # one emulator per process at a time: it starts with no tables
        self.app = DomainDispatcherApplication(create_backend_app)
        # moto's own DynamoDB app, called directly for DynamoDB requests: the dispatcher's
        # service inference per request costs a third of the CPU and picks this same app
        self.dynamodb_app = create_backend_app("dynamodb")
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.clock_offsets_ns = dict(clock_offsets_ns or {})
        for r in self.clock_offsets_ns:
            if r not in self.regions:
                raise UserError(f"a clock offset for {r!r}, which is not one of the regions", where="--clock-offset",
                                hint="one of " + ", ".join(self.regions))
        self.locks: dict[str, threading.RLock] = {r: threading.RLock() for r in self.regions}
        self.locks_lock = threading.Lock()
        self.state = threading.Condition(threading.RLock())     # faults and groups
        self.versions: dict[str, dict[Ident, lww.Version]] = {r: {} for r in self.regions}
        self.isolated: set[str] = set()
        self.stopped: set[str] = set()
        self.dropped_to: set[str] = set()
        self.extra_delays: dict[tuple[str, str], Distribution] = {}
        self.write_ids = itertools.count(1)
        self.applied = 0
        self.lost = 0
        self.errors = 0
        self.capture = threading.local()
        self.running = True
        self.replicator = Replicator(self.draw_delay, self.cut, lambda t: t in self.dropped_to, self._arrive)
        self.tables = GlobalTables(self)
        self.strong = Strong(self)
        self.sweeper = Sweeper(self, ttl_interval_s)
        self.control_plane = ControlPlane(self, token)

    # -- clocks and draws -------------------------------------------------------------------------
    def clock_us(self, region: str, at_monotonic_ns: int | None = None) -> int:
        """``region``'s clock in microseconds (now, or at a monotonic time), with its offset."""
        now = time.time_ns()
        if at_monotonic_ns is not None:
            now += at_monotonic_ns - time.monotonic_ns()
        return (now + self.clock_offsets_ns.get(region, 0)) // 1000

    def _extra(self, source: str, target: str) -> Distribution | None:
        for link in ((source, target), (source, "*"), ("*", target), ("*", "*")):
            d = self.extra_delays.get(link)
            if d is not None:
                return d
        return None

    def _draw(self, dist: Distribution, source: str, target: str) -> int:
        """One draw of ``dist`` on the link, plus any extra delay on it."""
        with self.rng_lock:
            d = dist.sample(self.rng)
            extra = self._extra(source, target)
            if extra is not None:
                d += extra.sample(self.rng)
        return max(d, 0)

    def draw_delay(self, source: str, target: str) -> int:
        """One crossing of the link by a version (capped as the model caps it)."""
        return min(self._draw(self.delay, source, target), MAX_DELAY_NS)

    def draw_round_trip(self, source: str, target: str) -> int:
        """Strong mode: one synchronous round trip on the link."""
        return self._draw(self.round_trip, source, target)

    # -- moto access --------------------------------------------------------------------------------
    @staticmethod
    def backend(account: str, region: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends
        return dynamodb_backends[account][region]

    def account_of(self, region: str, table: str) -> str | None:
        from moto.dynamodb.models import dynamodb_backends
        for account in list(dynamodb_backends.keys()):
            per_account = dynamodb_backends[account]
            if region in per_account.keys() and table in per_account[region].tables:
                return account
        return None

    def table(self, account: str, region: str, name: str) -> Any | None:
        try:
            return self.backend(account, region).tables.get(name)
        except KeyError:
            return None

    def lock(self, region: str) -> threading.RLock:
        """The lock under which moto serves ``region`` (unlisted regions get one on first use)."""
        lk = self.locks.get(region)
        if lk is None:
            with self.locks_lock:
                lk = self.locks.setdefault(region, threading.RLock())
        return lk

    def call(self, environ: dict[str, Any], body: bytes, region: str | None = None, op: str | None = None,
             app: Any = None) -> Response:
        """Pass one request to moto (as ``region``, as operation ``op`` when given)."""
        env = dict(environ)
        if op is not None:
            env["HTTP_X_AMZ_TARGET"] = wire.TARGET_PREFIX + op
        if region is not None:
            auth = env.get("HTTP_AUTHORIZATION") or ""
            if _REGION_RE.search(auth):
                env["HTTP_AUTHORIZATION"] = re.sub(r"(Credential=[^/]+/\d{8}/)([^/]+)/", r"\g<1>" + region + "/",
                                                   auth, count=1)
            else:
                env["HTTP_AUTHORIZATION"] = _signature_for(region)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: None
        if app is None:
            app = self.dynamodb_app if env.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_") else self.app
        chunks = app(env, start_response)
        try:
            data = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        return captured["status"], captured["headers"], data

    def local_call(self, environ: dict[str, Any], body: bytes, region: str, op: str | None = None) -> Response:
        with self.lock(region):
            return self.call(environ, body, region=region, op=op)

    # -- the change hook ------------------------------------------------------------------------
    def ensure_shards(self, account: str, region: str, names: list[str] | None = None) -> None:
        """Every table (or those named) of ``region`` reports its changes (``streams.Shard``)."""
        try:
            tables = self.backend(account, region).tables
        except KeyError:
            return
        for name in (list(tables) if names is None else names):
            t = tables.get(name)
            if t is not None:
                streams.install(t, account, self._on_change, self.stream_records)

    def _on_change(self, table: Any, old: Any, new: Any) -> None:
        sink = getattr(self.capture, "sink", None)
        item = new if new is not None else old
        if sink is None or item is None:
            return
        key = {table.hash_key_attr: item.hash_key.to_json()}
        if table.range_key_attr is not None and item.range_key is not None:
            key[table.range_key_attr] = item.range_key.to_json()
        sink.append((table.name, canonical_key(key)))

    @staticmethod
    def item_key(table: Any, attrs: dict[str, Any]) -> str:
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr:
            key[table.range_key_attr] = attrs[table.range_key_attr]
        return canonical_key(key)

    def read_item(self, account: str, region: str, table_name: str, key_json: str) -> Any:
        """The item as ``region``'s moto table holds it (attributes), or None."""
        backend = self.backend(account, region)
        table = backend.get_table(table_name)
        h, r = backend.get_keys_value(table, json.loads(key_json))
        item = table.get_item(h, r)
        return None if item is None else item.to_json()["Attributes"]

    def put_local(self, account: str, region: str, table_name: str, key_json: str, value: Any) -> None:
        """Set ``region``'s moto copy of an item to ``value`` (None: absent). Caller holds the lock."""
        backend = self.backend(account, region)
        table = backend.get_table(table_name)
        if value is None:
            h, r = backend.get_keys_value(table, json.loads(key_json))
            table.delete_item(h, r)
        else:
            table.put_item(value, overwrite=True)

    # -- WSGI ------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            status, headers, data = self.control_plane.handle(environ, path[len(CONTROL_PREFIX):])
        else:
            try:
                status, headers, data = self._serve(environ, path)
            except WireError as exc:
                status, headers, data = exc.response()
            except Exception as exc:  # noqa: BLE001 - moto's own failure: DynamoDB's 500, no traceback
                self.errors += 1
                if os.environ.get("GTCHECK_DEBUG") == "1":
                    traceback.print_exc(file=sys.stderr)
                status, headers, data = wire.error(500, "InternalServerError",
                                                   f"gtcheck emulator: {type(exc).__name__}: {exc}"[:1000])
        start_response(status, headers)
        return [data]

    def _serve(self, environ: dict[str, Any], path: str) -> Response:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        region = region_of(environ)
        if path.startswith(MOTO_API_PREFIX):
            return self._moto_api(environ, path)
        if not target.startswith(("DynamoDB_", STREAMS_PREFIX)):
            # another AWS service (or moto's own pages): moto's, as its server answers it
            body = wire.read_body(environ)
            return self.call(environ, body)
        if region is None:
            if self.unsigned == UNSIGNED_REFUSE:
                raise WireError(400, "MissingAuthenticationTokenException",
                                "Request is missing Authentication Token (gtcheck emulate routes a request by the "
                                "region of its signature; start it with --unsigned REGION to route unsigned "
                                "requests to one region)")
            region = self.unsigned
            environ = dict(environ, HTTP_AUTHORIZATION=_signature_for(region))
        if region == SCRATCH_REGION or (region not in self.regions and self.unlisted == "refuse"):
            raise WireError(400, "UnrecognizedClientException",
                            f"region {region} is not served by this emulator ({', '.join(self.regions)})")
        if region in self.stopped:
            raise WireError(503, "ServiceUnavailable", f"region {region} is stopped (gtcheck emulator)")
        body = wire.read_body(environ)
        if target.startswith(STREAMS_PREFIX):
            streams.bound_iterators()
            return self.local_call(environ, body, region)
        op = target[len(wire.TARGET_PREFIX):] if target.startswith(wire.TARGET_PREFIX) else target
        doc = wire.parse_json(body)
        if not target.startswith(wire.TARGET_PREFIX):
            raise WireError(400, "UnknownOperationException", f"unknown operation {target!r}")
        wire.Shapes.check(op, doc)
        if region not in self.regions:
            return self.local_call(environ, body, region)     # a plain moto region: not replicated
        return self._dynamodb(environ, body, doc, op, region)

    def _moto_api(self, environ: dict[str, Any], path: str) -> Response:
        """moto's own API (dashboard, reset): refused to web pages; a reset resets the emulator too."""
        if environ.get("HTTP_ORIGIN"):
            raise WireError(403, "AccessDeniedException", "cross-origin requests to moto's API are refused")
        body = wire.read_body(environ)
        out = self.call(environ, body)
        if path.rstrip("/").endswith("/reset") and out[0].startswith("200"):
            self.reset_state()
        return out

    def _dynamodb(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], op: str, region: str) -> Response:
        handled = self.tables.handle(environ, body, doc, op, region)
        if handled is not None:
            return handled
        strong = self.strong.handle(environ, body, doc, op, region)
        if strong is not None:
            return strong
        if op in WRITE_TARGETS or op in PARTIQL_TARGETS:
            return self._write(environ, body, doc, op, region)
        # reads (Scan, Query, GetItem...) run under the region's lock too, so a version
        # arriving from another region never changes a moto table under an iteration
        return self.local_call(environ, body, region)

    # -- eventual-mode writes --------------------------------------------------------------------
    @staticmethod
    def touched(op: str, req: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The (table, key or item) of every item a write request names, in request order."""
        if op == "PutItem":
            return [(req["TableName"], req["Item"])]
        if op in ("UpdateItem", "DeleteItem"):
            return [(req["TableName"], req["Key"])]
        out = []
        if op == "TransactWriteItems":
            for entry in req.get("TransactItems") or []:
                for kind in ("Put", "Update", "Delete"):
                    b = entry.get(kind)
                    if b:
                        out.append((b["TableName"], b.get("Item") or b.get("Key") or {}))
        elif op == "BatchWriteItem":
            for table, reqs in (req.get("RequestItems") or {}).items():
                for r in reqs or []:
                    if r.get("PutRequest"):
                        out.append((table, r["PutRequest"].get("Item") or {}))
                    elif r.get("DeleteRequest"):
                        out.append((table, r["DeleteRequest"].get("Key") or {}))
        return out

    def _write(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], op: str, region: str) -> Response:
        """A write of an eventual-mode table: moto carries it out in ``region``; every item it
        changed, and every item it names (a delete of a missing item is a version too), is
        stamped and sent to the other replicas."""
        try:
            touched = self.touched(op, doc)
        except (KeyError, TypeError, AttributeError):
            touched = []
        names = sorted({t for t, _ in touched}) if op not in PARTIQL_TARGETS else None
        with self.lock(region):
            for account in self._accounts(region):
                self.ensure_shards(account, region, names)
            self.capture.sink = changed = []
            try:
                status, headers, data = self.call(environ, body)
            finally:
                self.capture.sink = None
            if not status.startswith("200"):
                return status, headers, data
            now_ns = time.monotonic_ns()
            keys: list[tuple[str, str]] = []
            for table_name, attrs in touched:
                account = self.account_of(region, table_name)
                table = self.table(account, region, table_name) if account else None
                if table is None:
                    continue
                try:
                    keys.append((table_name, self.item_key(table, attrs)))
                except (KeyError, TypeError):
                    continue
            seen = set(keys)
            keys += [c for c in dict.fromkeys(changed) if c not in seen]
            stamped = []
            for table_name, key_json in keys:
                account = self.account_of(region, table_name)
                if account is None or not self.tables.known(account, table_name):
                    continue
                value = self.read_item(account, region, table_name, key_json)
                stamped.append(self.stamp_and_send(region, (account, table_name, key_json), value, now_ns))
            if stamped:
                headers = list(headers) + [("x-gtcheck-versions", json.dumps([[v.ts, v.origin] for v in stamped]))]
        return status, headers, data

    def _accounts(self, region: str) -> list[str]:
        from moto.dynamodb.models import dynamodb_backends
        return [a for a in list(dynamodb_backends.keys()) if region in dynamodb_backends[a].keys()]

    def stamp_and_send(self, region: str, ident: Ident, value: Any, now_ns: int) -> lww.Version:
        """Stamp the version ``region`` now holds (``rules.stamp``) and send it to the other
        replicas. The caller holds ``region``'s lock."""
        stored = self.versions[region].get(ident)
        ts = rules.stamp(self.clock_us(region), stored)
        v = lww.Version(ts, region, next(self.write_ids), value, value is None)
        self.versions[region][ident] = v
        for other in sorted(self.tables.replicas(ident[0], ident[1]) - {region}):
            self.replicator.send(region, other, ident, v, now_ns)
        return v

    # -- replication -----------------------------------------------------------------------------
    def cut(self, source: str, target: str) -> bool:
        return bool({source, target} & (self.isolated | self.stopped))

    def install(self, region: str, ident: Ident, version: lww.Version) -> bool:
        """Apply ``version`` to ``region``'s copy by last writer wins; True when it won. The
        caller holds ``region``'s lock."""
        held = self.versions[region].get(ident)
        if lww.merge(held, version) is held:
            return False
        account, table_name, key_json = ident
        if self.table(account, region, table_name) is None:
            return False                  # the replica was deleted meanwhile
        self.versions[region][ident] = version
        self.put_local(account, region, table_name, key_json, None if version.deleted else version.value)
        return True

    def _arrive(self, f: Flight) -> None:
        with self.lock(f.target):
            if self.install(f.target, f.ident, f.version):
                self.applied += 1
            else:
                self.lost += 1

    def in_flight(self) -> int:
        return self.replicator.in_flight()

    # -- faults ----------------------------------------------------------------------------------------
    def check_region(self, region: Any, witness_ok: bool = True) -> str:
        if not isinstance(region, str):
            raise UserError(f"a region is a name such as 'eu-west-1', not {region!r}")
        if region in self.regions or (witness_ok and region in self.tables.witnesses()):
            return region
        raise UserError(f"unknown region {region!r}", hint="one of " + ", ".join(self.regions))

    def isolate(self, region: str) -> None:
        with self.state:
            self.isolated.add(self.check_region(region))
            self.state.notify_all()

    def heal(self, region: str | None = None) -> None:
        with self.state:
            if region is None:
                self.isolated.clear()
            else:
                self.isolated.discard(self.check_region(region))
            self.state.notify_all()
        self.replicator.release()

    def stop_region(self, region: str) -> None:
        with self.state:
            self.stopped.add(self.check_region(region))
            self.state.notify_all()

    def start_region(self, region: str) -> None:
        with self.state:
            self.stopped.discard(self.check_region(region))
            self.state.notify_all()
        self.replicator.release()

    def set_delay(self, source: str, target: str, extra: Distribution | str | None) -> None:
        for r in (source, target):
            if r != "*":
                self.check_region(r)
        parsed = parse_delay(extra, "extra") if isinstance(extra, str) else extra
        if extra is not None and not (hasattr(parsed, "sample") and hasattr(parsed, "describe")):
            raise UserError(f"an extra delay is a text such as '2s' or 'uniform(1s, 3s)', not {extra!r}", where="extra")
        with self.state:
            if parsed is None:
                self.extra_delays.pop((source, target), None)
            else:
                self.extra_delays[(source, target)] = parsed

    def set_replication(self, target: str, enabled: bool) -> None:
        with self.state:
            (self.dropped_to.discard if enabled else self.dropped_to.add)(self.check_region(target, witness_ok=False))

    def set_clock_offset(self, region: str, offset_ns: int) -> None:
        with self.state:
            self.clock_offsets_ns[self.check_region(region, witness_ok=False)] = offset_ns

    def heal_all(self) -> None:
        with self.state:
            self.isolated.clear()
            self.stopped.clear()
            self.extra_delays.clear()
            self.state.notify_all()
        self.replicator.release()

    def reset_faults(self) -> None:
        self.heal_all()
        with self.state:
            self.dropped_to.clear()

    def reset_state(self) -> None:
        """After moto's reset: no tables, so no groups, versions or versions in flight."""
        with self.state:
            self.tables.clear()
            for r in self.regions:
                self.versions[r].clear()
        with self.replicator.cv:
            self.replicator.heap.clear()
            self.replicator.held.clear()
            self.replicator.last_arrival.clear()
            self.replicator.queued.clear()

    def status(self) -> dict[str, Any]:
        in_flight, held = self.replicator.counts()
        with self.state:
            return {"regions": self.regions, "isolated": sorted(self.isolated), "stopped": sorted(self.stopped),
                    "replication_off_to": sorted(self.dropped_to),
                    "extra_delays": {f"{s}->{t}": d.describe() for (s, t), d in self.extra_delays.items()},
                    "clock_offsets_ns": dict(self.clock_offsets_ns), "delay": self.delay.describe(),
                    "round_trip": self.round_trip.describe(),
                    "in_flight": in_flight, "held": held, "applied": self.applied, "lost": self.lost,
                    "dropped": self.replicator.dropped, "internal_errors": self.errors,
                    "unlisted_regions": self.unlisted, "unsigned": self.unsigned,
                    "global_tables": self.tables.describe_all(), "strong": self.strong.counters(),
                    "ttl_deletes": self.sweeper.deleted}

    def close(self) -> None:
        self.running = False
        self.sweeper.close()
        self.strong.close()
        self.replicator.close()


class Server:
    """The emulator served on 127.0.0.1 (only loopback) in a background thread."""

    def __init__(self, emulator: Emulator, port: int = 0, host: str = "127.0.0.1") -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            # keep-alive: boto3 reuses its connections, so a request costs no new connection
            # and no new thread
            protocol_version = "HTTP/1.1"
            timeout = 120     # a client that stops sending mid-request does not hold a thread for ever

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

            def log_error(self, *args: Any) -> None:
                pass

        if host not in ("127.0.0.1", "localhost"):
            raise UserError("the emulator listens on loopback only", where="--host")
        self.emulator = emulator
        self.httpd = make_server(host, port, emulator, threaded=True, request_handler=QuietHandler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False      # do not wait for idle keep-alive connections at stop
        self.port = self.httpd.server_port
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.token_file = ""
        emulator.control_plane.bind(self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="gtcheck-emulator", daemon=True)

    @property
    def token(self) -> str:
        return self.emulator.control_plane.token

    def start(self) -> "Server":
        """Serve, and leave the control token where this user's tools find it (``tokens.py``)."""
        from gtcheck.realworld import tokens

        try:
            self.token_file = str(tokens.write_token(self.port, self.token))
        except (OSError, UserError) as exc:
            self.token_file = f"not written: {exc}"
        self.thread.start()
        return self

    def stop(self) -> None:
        from gtcheck.realworld import tokens

        tokens.remove_token(self.port, self.token)
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
        self.emulator.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(regions: list[str], port: int = 0, **kw: Any) -> Server:
    """Start an emulator in this process: ``with serve([...]) as s: s.endpoint`` (its control
    token: ``s.token``)."""
    return Server(Emulator(regions, **kw), port).start()
