"""The emulator's core: its regions on moto, their locks, the versions each holds, the faults,
the versions in flight, and which tables replicate where.

Every part of the emulator works through this object: the global tables
(``globaltables.py``), multi-region strong consistency (``strong.py``), the TTL sweeper
(``ttl.py``), the control plane (``controlplane.py``), and the HTTP front (``emulator.py``, which
puts them together). It knows nothing of them, so the parts depend on the core and never on
each other's insides.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import parse_duration
from gtcheck.model import lww, rules
from gtcheck.model.distributions import Distribution, parse_distribution
from gtcheck.realworld import motogaps, streams, wire
from gtcheck.realworld.replication import Flight, Ident, Replicator
from gtcheck.realworld.wire import Response

_REGION_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")
_SERVICE_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/,\s]+)/")
DEFAULT_DELAY = "lognormal(250ms, 0.5)"
MAX_DELAY_NS = 15_000_000_000
SCRATCH_REGION = "gtcheck-scratch"     # strong mode: where a write is evaluated before its acknowledgement
EVENTUAL, STRONG = "EVENTUAL", "STRONG"


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


def service_of(environ: dict[str, Any]) -> str | None:
    """The service a request's SigV4 signature is scoped to (``dynamodb`` for DynamoDB and
    its streams), or None when it names none."""
    m = _SERVICE_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
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


def moto_regions() -> set[str]:
    """The region names moto's DynamoDB knows (with MOTO_ALLOW_NONEXISTENT_REGION, any)."""
    import os

    from moto.dynamodb.models import dynamodb_backends

    if os.environ.get("MOTO_ALLOW_NONEXISTENT_REGION", "").lower() in ("1", "true"):
        return _AnyRegion()
    return set(dynamodb_backends["123456789012"].regions)


class _AnyRegion(set):  # type: ignore[type-arg]
    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and bool(item)


@dataclass
class Group:
    """One table as the emulator knows it: its replica regions, its shape, its mode."""

    account: str
    table: str
    regions: set[str]
    shape: list[tuple[str, bytes]] = field(default_factory=list)   # (operation, body) to replay in a new replica
    consistency: str = EVENTUAL
    witness: str | None = None

    @property
    def is_global(self) -> bool:
        return len(self.regions) > 1 or self.witness is not None


class Regions:
    """The state every part of the emulator shares, and the operations on it."""

    def __init__(self, regions: list[str], *, delay: Distribution | str | None, round_trip: Distribution,
                 clock_offsets_ns: dict[str, int] | None, seed: int | None, strong_timeout_ns: int,
                 stream_records: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        if not regions:
            raise UserError("at least one region is needed", where="--regions")
        self.regions = list(dict.fromkeys(regions))
        self.moto_regions = known = moto_regions()
        for r in self.regions:
            if r not in known:
                raise UserError(f"{r!r} is not an AWS region moto serves", where="--regions",
                                hint="e.g. us-east-1, eu-west-1, ap-southeast-2")
        self.delay = parse_delay(delay) if isinstance(delay, str) or delay is None else delay
        self.round_trip = round_trip
        self.strong_timeout_ns = strong_timeout_ns
        self.stream_records = stream_records
        streams.untrack()
        streams.reset_moto()       # one emulator per process at a time: it starts with no tables
        motogaps.install()         # DynamoDB's rule where moto raises on a valid request
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
        self.groups: dict[tuple[str, str], Group] = {}            # (account, table) -> where it replicates
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

    # -- which tables replicate where (under the state lock) -------------------------------------------
    def group(self, account: str, table: str) -> Group | None:
        with self.state:
            return self.groups.get((account, table))

    def known(self, account: str, table: str) -> bool:
        with self.state:
            return (account, table) in self.groups

    def replicas(self, account: str, table: str) -> set[str]:
        with self.state:
            g = self.groups.get((account, table))
            return set(g.regions) if g else set()

    def witnesses(self) -> set[str]:
        with self.state:
            return {g.witness for g in self.groups.values() if g.witness}

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
        with motogaps.mending():
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

    def stamp_and_send(self, region: str, ident: Ident, value: Any, now_ns: int) -> lww.Version:
        """Stamp the version ``region`` now holds (``rules.stamp``) and send it to the other
        replicas. The caller holds ``region``'s lock."""
        stored = self.versions[region].get(ident)
        ts = rules.stamp(self.clock_us(region), stored)
        v = lww.Version(ts, region, next(self.write_ids), value, value is None)
        self.versions[region][ident] = v
        for other in sorted(self.replicas(ident[0], ident[1]) - {region}):
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
        table = self.table(account, region, table_name)
        if table is None:
            return False                  # the replica was deleted meanwhile
        if set(json.loads(key_json)) != {table.hash_key_attr} | ({table.range_key_attr} - {None}):
            return False                  # ... and made again with another key: the version has no place there
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
        if region in self.regions or (witness_ok and region in self.witnesses()):
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
            self.groups.clear()
            for r in self.regions:
                self.versions[r].clear()
        self.replicator.clear()

    def accounts(self, region: str) -> list[str]:
        """The moto accounts that have a backend in ``region``."""
        from moto.dynamodb.models import dynamodb_backends
        return [a for a in list(dynamodb_backends.keys()) if region in dynamodb_backends[a].keys()]

    def status(self) -> dict[str, Any]:
        in_flight, held = self.replicator.counts()
        with self.state:
            tables: dict[str, Any] = {}
            for (account, table), g in sorted(self.groups.items()):
                entry: dict[str, Any] = {"regions": sorted(g.regions), "consistency": g.consistency}
                if g.witness:
                    entry["witness"] = g.witness
                tables[table if account == "123456789012" else f"{account}/{table}"] = entry
            return {"regions": self.regions, "isolated": sorted(self.isolated), "stopped": sorted(self.stopped),
                    "replication_off_to": sorted(self.dropped_to),
                    "extra_delays": {f"{s}->{t}": d.describe() for (s, t), d in self.extra_delays.items()},
                    "clock_offsets_ns": dict(self.clock_offsets_ns), "delay": self.delay.describe(),
                    "round_trip": self.round_trip.describe(),
                    "in_flight": in_flight, "held": held, "applied": self.applied, "lost": self.lost,
                    "dropped": self.replicator.dropped, "internal_errors": self.errors, "global_tables": tables}

    def close(self) -> None:
        self.running = False
        with self.state:
            self.state.notify_all()
        self.replicator.close()
