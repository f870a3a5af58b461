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

import json
import os
import sys
import threading
import time
import traceback
from typing import Any, Callable

from gtcheck.kernel.errors import UserError
from gtcheck.model.distributions import Distribution
from gtcheck.model.scenario import Scenario
from gtcheck.realworld import streams, validate, wire
from gtcheck.realworld.controlplane import ControlPlane
from gtcheck.realworld.globaltables import GlobalTables
from gtcheck.realworld.regions import (SCRATCH_REGION, Regions, _signature_for, parse_delay, region_of, service_of,
                                       signed_duration)
from gtcheck.realworld.strong import Strong
from gtcheck.realworld.ttl import Sweeper
from gtcheck.realworld.wire import Response, WireError

__all__ = ["Emulator", "Server", "serve", "parse_delay", "signed_duration"]

CONTROL_PREFIX = "/__gtcheck/"
MOTO_API_PREFIX = "/moto-api/"
STREAMS_PREFIX = "DynamoDBStreams_20120810."
WRITE_TARGETS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
PARTIQL_TARGETS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
DEFAULT_ROUND_TRIP = "lognormal(30ms, 0.3)"               # the model's replication.round_trip
DEFAULT_STRONG_TIMEOUT_NS = Scenario().timeout_ns         # the model's regions.timeout
UNSIGNED_REFUSE = "refuse"


class Emulator(Regions):
    """The emulator: the core state (``Regions``) with its parts, as one WSGI application.
    ``serve()`` starts it on a port."""

    def __init__(self, regions: list[str], *, delay: Distribution | str | None = None,
                 round_trip: Distribution | str | None = None, global_tables: str = "explicit",
                 clock_offsets_ns: dict[str, int] | None = None, seed: int | None = None,
                 unlisted: str = "moto", unsigned: str = UNSIGNED_REFUSE,
                 strong_timeout_ns: int = DEFAULT_STRONG_TIMEOUT_NS,
                 stream_records: int = streams.DEFAULT_STREAM_RECORDS, ttl_interval_s: float = 1.0,
                 token: str | None = None) -> None:
        if unlisted not in ("moto", "refuse"):
            raise UserError(f"unlisted regions are served by moto or refused, not {unlisted!r}", where="--unlisted-regions")
        listed = list(dict.fromkeys(regions))
        if unsigned != UNSIGNED_REFUSE and unsigned not in listed:
            raise UserError(f"unsigned requests go to a listed region or are refused, not to {unsigned!r}",
                            where="--unsigned", hint="refuse, or one of " + ", ".join(listed))
        rt = (parse_delay(round_trip or DEFAULT_ROUND_TRIP, "--round-trip")
              if isinstance(round_trip, str) or round_trip is None else round_trip)
        super().__init__(regions, delay=delay, round_trip=rt, clock_offsets_ns=clock_offsets_ns, seed=seed,
                         strong_timeout_ns=strong_timeout_ns, stream_records=stream_records)
        self.global_all = global_tables == "all"
        self.unlisted, self.unsigned = unlisted, unsigned
        self.tables = GlobalTables(self, self.global_all)
        self.strong = Strong(self)
        self.sweeper = Sweeper(self, ttl_interval_s)
        self.control_plane = ControlPlane(self, self.sweeper, self.status, token)

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
        if path.startswith(MOTO_API_PREFIX):
            return self._moto_api(environ, path)
        if not self._for_dynamodb(environ, target):
            # another AWS service (signed for it), or moto's own pages: moto's, as its server answers it
            body = wire.read_body(environ)
            return self.call(environ, body)
        if not target.startswith((wire.TARGET_PREFIX, STREAMS_PREFIX)):
            raise WireError(400, "UnknownOperationException",
                            f"unknown operation {target[:100]!r}" if target else "no operation named (X-Amz-Target)")
        region = region_of(environ)
        if region is None:
            if self.unsigned == UNSIGNED_REFUSE:
                raise WireError(400, "MissingAuthenticationTokenException",
                                "Request is missing Authentication Token (gtcheck emulate routes a request by the "
                                "region of its signature; start it with --unsigned REGION to route unsigned "
                                "requests to one region)")
            region = self.unsigned
            environ = dict(environ, HTTP_AUTHORIZATION=_signature_for(region))
        if (region == SCRATCH_REGION or (region not in self.regions
                                         and (self.unlisted == "refuse" or region not in self.moto_regions))):
            raise WireError(400, "UnrecognizedClientException",
                            f"region {region[:100]!r} is not served by this emulator ({', '.join(self.regions)}"
                            + ("" if self.unlisted == "refuse" else ", or a region moto knows") + ")")
        if region in self.stopped:
            raise WireError(503, "ServiceUnavailable", f"region {region} is stopped (gtcheck emulator)")
        body = wire.read_body(environ)
        doc = wire.parse_json(body)
        if target.startswith(STREAMS_PREFIX):
            op = target[len(STREAMS_PREFIX):]
            validate.check(op, doc, "dynamodbstreams")
            streams.bound_iterators(region)
            with self.lock(region):
                streams.check_request(lambda account, name: self.table(account, region, name), op, doc)
                return self.call(environ, body, region=region)
        op = target[len(wire.TARGET_PREFIX):]
        validate.check(op, doc)
        if region not in self.regions:
            return self.local_call(environ, body, region)     # a plain moto region: not replicated
        return self._dynamodb(environ, body, doc, op, region)

    @staticmethod
    def _for_dynamodb(environ: dict[str, Any], target: str) -> bool:
        """Whether a request is DynamoDB's (this endpoint answers it, errors included): it names
        a DynamoDB target, or is signed for DynamoDB, or is an unsigned POST (an API call)."""
        if target.startswith(("DynamoDB_", STREAMS_PREFIX)):
            return True
        service = service_of(environ)
        if service is not None:
            return service == "dynamodb"
        return environ.get("REQUEST_METHOD", "POST") == "POST"

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
            for account in self.accounts(region):
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
                if account is None or not self.known(account, table_name):
                    continue
                value = self.read_item(account, region, table_name, key_json)
                stamped.append(self.stamp_and_send(region, (account, table_name, key_json), value, now_ns))
            if stamped:
                headers = list(headers) + [("x-gtcheck-versions", json.dumps([[v.ts, v.origin] for v in stamped]))]
        return status, headers, data

    def status(self) -> dict[str, Any]:
        out = super().status()
        out.update(unlisted_regions=self.unlisted, unsigned=self.unsigned, strong=self.strong.counters(),
                   ttl_deletes=self.sweeper.deleted)
        return out

    def close(self) -> None:
        self.sweeper.close()
        super().close()


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
