"""Global tables as one transition relation: every driver runs this.

``GlobalTables`` is a ``Model`` (``model/protocol.py``): ``init``, ``actions``, ``next``,
``fingerprint``. The explorer walks it; the timed simulator (``model/simulator.py``) is a
scheduler that takes the same transitions in place, choosing among them by time with the
seeded ``Choices``; search pins those choices in a scripted scenario. Every rule of the
model lives once, here or in ``rules.py`` / ``lww.py`` / ``kernel.itemspec``.

**Actions** (``Action``; each client, each version on its way and the fault schedule can
move):

- ``invoke``: a client sends its next request (failover picks the region; a region that is
  down makes it time out: ``info`` after ``regions.timeout``, no effect).
- ``complete``: the request reaches its region and is answered there (eventual mode, and in
  strong mode eventually consistent reads and timeouts): a read is served by a copy
  (``copy``: which, for an eventually consistent read), a write is evaluated against the
  origin's leader copy (``kernel.itemspec.step``), stamped (``rules.stamp``), written to the
  write quorum's copies and sent towards every other region. A region that went down while
  the request was on its way answers ``info``; a write then reached storage or not
  (``durable``).
- strong mode, a write or strongly consistent read: ``arrive`` (it reaches its region and
  waits for one other region: ``rules.quorum_round_trip``; a write is decided against the
  head of the item's log, or fails on a replication conflict, ``rules.strong_admit``) then
  ``ack`` (the wait is over: a read returns the log's head, a write becomes the head, is
  applied at its region and replicates as in eventual mode).
- ``deliver``: the oldest version of an item queued from a region to another reaches the
  target's leader copy (per item in order per link; not while either end is cut off).
- ``copy``: a version reaches a follower copy (after its region's leader has it).
- ``coalesce``: a queued version is dropped because a newer version of the item from the
  same region is queued behind it.
- ``nemesis``: the next fault event (isolation, outage, their ends; replication delays
  and clock jumps are recorded, their effect is on timing and clocks).
- ``sweep``: TTL expiry (the timed simulator's; the explorer refuses TTL).

**Time.** Requests, their completions and fault events happen at times the state fixes
(a scripted request at its ``at`` or when its client is free; a completion a latency
later); the explorer takes them in time order (ties in any order) and lets replication
happen at any point in between; the timed simulator also draws when each version reaches
each copy. Stamps read the region clocks at those times.
"""

from __future__ import annotations

from typing import Any, Final, Hashable

from gtcheck.kernel import __version__
from gtcheck.kernel import itemspec
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.jsonlines import history_header
from gtcheck.model.choices import MAX_COPY_LAG_NS, MAX_REPLICATION_DELAY_NS, Choices
from gtcheck.model.clocks import RegionClocks
from gtcheck.model.distributions import bounds
from gtcheck.model.faults import FaultPlan, NemesisRecord
from gtcheck.model.history_writer import ListSink, Sink
from gtcheck.model.lww import Version, merge
from gtcheck.model.protocol import Model, Property
from gtcheck.model.rules import (REPLICATED_WRITE_CONFLICT, Rules, completion_event, evaluate, invoke_event,
                                  quorum_round_trip, route, stamp, strong_admit)
from gtcheck.model.scenario import Scenario, refuse_messages
from gtcheck.model.workload import KeyChooser, tag
from gtcheck.model.world import (DONE, FAIL, FINISHED, IDLE, INFO, NEVER, OK, SENT, WAIT, Client, Driver, Flight,
                                 Item, Op, World)

CORRECT = Rules()
ACTION_FIELDS = ("kind", "client", "copy", "durable", "key", "write", "region")
_REPLICATION = ("deliver", "copy", "coalesce")


class Action:
    """One transition. ``client``: the client's name; ``copy``: the copy serving an
    eventually consistent read; ``durable``: whether a write cut off by an outage reached
    storage (1) or not (0); ``key``, ``write``: the version (its write id) a ``deliver``,
    ``copy`` or ``coalesce`` moves; ``region``: the target region of a ``deliver`` or
    ``coalesce`` (its index), the slot of a ``copy``. A value (compared and hashed by its
    fields); a compiled class rather than a NamedTuple: the explorer makes millions."""

    __slots__ = ("kind", "client", "copy", "durable", "key", "write", "region")

    def __init__(self, kind: str, client: str = "", copy: int = -1, durable: int = -1, key: str = "",
                 write: int = -1, region: int = -1):
        self.kind = kind
        self.client = client
        self.copy = copy
        self.durable = durable
        self.key = key
        self.write = write
        self.region = region

    def fields(self) -> tuple[str, str, int, int, str, int, int]:
        return (self.kind, self.client, self.copy, self.durable, self.key, self.write, self.region)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Action) and self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash(self.fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(ACTION_FIELDS, self.fields()) if v not in ("", -1))
        return f"Action({shown})"

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(ACTION_FIELDS, self.fields()))


class Timing(Choices):
    """The explorer's durations: each at the low end of its distribution (``bounds``), so
    that what the explorer orders by time is what the shortest delays give. (Discrete
    decisions are actions there; the timed simulator draws everything.)"""

    def __init__(self, scenario: Scenario):
        self.latency = bounds(scenario.request_latency)[0]
        self.rtt = bounds(scenario.round_trip)[0]

    def request_latency(self) -> int:
        return self.latency

    def round_trip(self, source: str, target: str) -> int:
        return self.rtt

    def fault_extra_delay(self, fault: Any) -> int:
        return 0 if fault.extra is None else bounds(fault.extra)[0]


_EXPLORER: Final = Driver()


class GlobalTables(Model):
    """The relation for one scenario. ``rules``: the correct rules or a mutant; ``driver``:
    who runs it (the timed simulator's arrival times and ground truth; default: the
    explorer's, where replication is an action); ``timing``: durations (default: the
    explorer's ``Timing``); ``random_faults``: the faults a driver drew for the scenario's
    ``[random_faults]``; ``offsets``: clock offset vectors, one initial state each (default:
    the scenario's fixed offsets); ``timed``: the explorer takes requests and fault events in
    time order (off: in any order); ``observe``: keep, per copy, which versions reached it
    (exploration's ground truth and the model's own invariants)."""

    def __init__(self, scenario: Scenario, rules: Rules | None = None, *, driver: Driver | None = None,
                 timing: Choices | None = None, random_faults: list[Any] | None = None,
                 offsets: list[dict[str, int]] | None = None, final_reads: bool | None = None,
                 timed: bool = True, observe: bool = False):
        refuse_messages(scenario, "the model's drivers (simulate, search, explore)")
        self.sc = scenario
        self.rules = rules if rules is not None else CORRECT
        self.plain_rules = type(self.rules) is Rules      # no hook substituted: the fast paths
        if self.rules.mode and self.rules.mode != scenario.mode:
            raise ValueError(f"the test-only mutant {self.rules.name!r} breaks {self.rules.mode} mode; "
                             f"this scenario runs in {scenario.mode} mode")
        self.driver = driver if driver is not None else _EXPLORER
        self.timing: Choices = timing if timing is not None else Timing(scenario)
        self.timed = timed
        self.observe = observe
        # the explorer checks properties of the history's order of events: sending a
        # request is then not reordered by the reduction
        self.history_visible = False
        self._any_from: list[list[int]] = []
        self._follower_from: list[list[int]] = []
        self.regions = list(scenario.regions)
        self.rix = {r: i for i, r in enumerate(self.regions)}
        self.R = len(self.regions)
        self.C = scenario.copies
        self.quorum = scenario.write_quorum
        self.strong = scenario.strong
        self.witness = scenario.witness
        self.names = self.regions + ([scenario.witness] if scenario.witness is not None else [])
        self.peers = [[p for p in range(len(self.names)) if p != r] for r in range(self.R)]
        self.timeout_ns = scenario.timeout_ns
        self.failover = scenario.failover
        self.routing = scenario.failover.policy != "none"
        wl = scenario.workload
        self.duration = wl.duration_ns
        self.ttl_share = wl.ttl.share
        self.plan = FaultPlan(scenario, list(random_faults or []))
        self.settled_at = (max(self.duration + scenario.timeout_ns, self.plan.healed_at)
                           + max(scenario.settle_ns, MAX_REPLICATION_DELAY_NS + MAX_COPY_LAG_NS + scenario.timeout_ns))
        # the fault events in time order, starts before ends at one time (as the plan merges
        # windows), with their effect on the cut/down counters
        recs = self.plan.nemesis_records()
        self.records: list[NemesisRecord] = sorted(recs, key=lambda r: (r.time, -r.cut - r.down))
        self.record_region = [-1 if r.region is None else self.names.index(r.region) for r in self.records]
        self.vectors = offsets if offsets is not None else [{}]
        self.clocks: list[RegionClocks] = []
        for vec in self.vectors:
            clocks = RegionClocks(scenario, self.plan)
            for region, o in vec.items():
                clocks.offset[region] = o
            self.clocks.append(clocks)
        self.final_reads = scenario.final_reads if final_reads is None else final_reads
        self.key_chooser = KeyChooser(wl)
        self._build_clients()
        self._suffixes()
        self._vid: dict[int, int] = {}
        self._vkeep: list[Version] = []
        self._vcanon: dict[tuple[Any, ...], int] = {}
        self._kid: dict[str, int] = {}

    # ------------------------------------------------------------------ set-up
    def _build_clients(self) -> None:
        """The workload's clients (``processes_per_region`` per region: the random workload's,
        and the final phase's readers), then one client per scripted ``process`` (``s1``,
        ``s2``, ... for a request without one). A scripted request's items get their ``rev``
        (rule 4), a write id and a transaction id here, once, in script order."""
        sc = self.sc
        wl = sc.workload
        ppr = wl.processes_per_region
        template: list[Client] = [Client(i, i, self.regions[i // ppr]) for i in range(ppr * self.R)]
        by_name: dict[str, Client] = {}
        rev = txn = wid = auto = 0
        names: dict[tuple[int, int], str] = {}
        for entry in sc.script:
            process: int | str
            if entry.process is None:
                auto += 1
                process = f"s{auto}"
            else:
                process = entry.process
            name = str(process)
            c = by_name.get(name)
            if c is None:
                c = by_name[name] = Client(process, len(template), entry.region)
                c.program = []
                template.append(c)
            elif c.pid != process:
                raise ValueError(f"clients {process!r} and {c.pid!r} share the name {name!r}")
            req = entry.request
            raw = [dict(p) for p in req["parts"]] if req["f"] == "transaction" else [dict(req)]
            parts: list[Op] = []
            for r in raw:
                rev = tag(r, rev)
                part = Op(r["f"], r["key"], r.get("value"), bool(r.get("consistent", False)), r.get("condition"))
                part.write_id = wid
                wid += 1
                parts.append(part)
            op = parts[0]
            if req["f"] == "transaction":
                txn += 1
                first = Op(op.f, op.key, op.value, op.consistent, op.condition)
                first.write_id = op.write_id
                first.txn = txn
                first.parts = parts
                op = first
            op.at = entry.at_ns
            op.region = entry.region
            op.latency = entry.latency_ns
            op.name = entry.name
            assert c.program is not None
            if entry.name is not None:
                names[(c.ix, len(c.program))] = entry.name
            c.program.append(op)
        self.n_static = wid           # scripted write ids are 0 .. n_static - 1
        self.first_rev = rev          # the random workload's revisions come after the script's
        self.first_txn = txn
        self.request_names = names
        self.by_name = {str(c.pid): c.ix for c in template}
        if self.final_reads:
            keys = self.key_chooser.keys if sc.random_workload else []
            scripted = {part["key"] for e in sc.script
                        for part in (e.request["parts"] if e.request["f"] == "transaction" else (e.request,))}
            keys = keys + sorted(scripted - set(keys))
            for c in template[:ppr * self.R]:
                j = int(c.pid) % ppr
                c.finals = list(reversed(keys[j::ppr]))   # read from the end of its share, as always
        self.n_workload = ppr * self.R
        self.template = template
        for c in template:
            if self.workload_client(c):
                c.last_seen = {}
            elif self.next_request(c) is None:
                c.phase = FINISHED
        # the clients that ever move (the others are finished from the start and stay so:
        # the fingerprint leaves them out)
        self.live = [c.ix for c in template if c.phase != FINISHED]

    def new_world(self, vector: int = 0) -> World:
        w = World([c.copy() for c in self.template], len(self.names), vector)
        w.rev = self.first_rev
        w.txn = self.first_txn
        return w

    def item(self, w: World, key: str) -> Item:
        it = w.items.get(key)
        if it is None:
            it = w.items[key] = Item(key, self.R * self.C, self.observe)
        return it

    def write_index(self, write_id: int) -> int:
        """A write id of the random workload's (or TTL's) is its invoke's history index,
        offset by the scripted ones."""
        return write_id - self.n_static

    def header(self, w: World, seed: int | None = None) -> dict[str, Any]:
        """The history's header (line 1)."""
        sc = self.sc
        wl = sc.workload
        clocks = self.clocks[w.vector]
        meta: dict[str, Any] = {"source": "model"}
        if seed is not None:
            meta["seed"] = seed
        meta["scenario"] = sc.name
        meta["gtcheck_version"] = __version__
        meta["workload"] = {"keys": wl.keys, "zipf": wl.zipf, "processes_per_region": wl.processes_per_region,
                            "rate": wl.rate, "duration_ns": wl.duration_ns, "strong_reads": wl.strong_reads}
        header = history_header(self.regions, mode=sc.mode, clock_uncertainty_ns=0,
                                ts_uncertainty_ns=clocks.max_abs_offset(self.settled_at) + 2_000,
                                settled_after_ns=self.settled_at if self.final_reads else None, meta=meta)
        if sc.description:
            header["description"] = sc.description
        if self.witness is not None:
            header["witness"] = self.witness
        if self.rules.name:
            header["injected_bug"] = self.rules.name
        return header

    # ------------------------------------------------------------------ plumbing
    def emit(self, w: World, event: dict[str, Any], out: Sink) -> int:
        i = w.index
        w.index = i + 1
        event["index"] = i
        out.write(event)
        return i

    def next_request(self, c: Client) -> Op | None:
        """A client's next request, if it is known: the next scripted one, or the next final
        read once its program is over. (The random workload's are the timed driver's.)"""
        prog = c.program
        if prog is not None and c.pc < len(prog):
            return prog[c.pc]
        finals = c.finals
        if finals is not None and c.fpc < len(finals):
            op = Op("read", finals[c.fpc], None, True)
            op.final = True
            op.at = self.settled_at
            return op
        return None

    def invoke_time(self, c: Client, op: Op) -> int:
        return op.at if op.at > c.ready else c.ready

    # ------------------------------------------------------------------ transitions (in place)
    def invoke(self, w: World, c: Client, op: Op, t: int, out: Sink) -> None:
        """``c`` sends ``op`` at ``t`` (``c`` belongs to ``w``: the caller owns it)."""
        if op.at >= 0 and not op.final:
            # scripted: the request's region is its home; the region the client called last
            # (failover) carries over while its requests keep that home, as a workload
            # client's does, so that ``failover.failback = false`` keeps it where it went
            home = op.region
            prog = c.program
            same_home = c.pc > 0 and prog is not None and prog[c.pc - 1].region == home
            remember = c.remember if same_home else home
        elif op.final:
            home = remember = c.home
        else:
            home, remember = c.home, c.remember
        if self.routing:
            region, c.remember = route(self.failover, w.down, w.since, self.rix, self.regions, home, remember, t)
        else:
            region = home
        c.region = region
        c.op = op
        c.t0 = t
        c.phase = SENT
        c.outcome, c.error, c.version, c.answer = OK, "", None, None
        c.inv = self.emit(w, invoke_event(c.pid, region, op.f, op.key, op.value, op.consistent, op.condition,
                                          op.txn, t), out)
        if op.write_id >= 0 and op.f != "read":
            self.driver.invoked(op.write_id, c.inv)
        latency = self.timeout_ns
        if not w.down[self.rix[region]]:
            latency = op.latency if op.latency is not None else self.timing.request_latency()
        # a region that is down, or a request slower than the client waits: it gives up at
        # the timeout (info) and the request is lost on the way
        c.timeout = w.down[self.rix[region]] > 0 or latency > self.timeout_ns
        c.due = t + (self.timeout_ns if c.timeout else latency)
        if op.at >= 0 and not op.final:
            c.pc += 1
        elif op.final:
            c.fpc += 1

    def workload_client(self, c: Client) -> bool:
        """A client of the random workload (its requests are the timed driver's to choose)."""
        return self.sc.random_workload and c.ix < self.n_workload

    def _done(self, c: Client, t: int) -> None:
        """``c``'s request is over at ``t``: it is free for its next one, if any."""
        c.op = None
        c.ready = t
        c.phase = IDLE if self.workload_client(c) or self.next_request(c) is not None else FINISHED

    def complete(self, w: World, c: Client, t: int, copy: int, durable: int, out: Sink) -> None:
        """``c``'s request reaches its region and is answered there (see the module doc).
        ``copy``: which copy serves an eventually consistent read; ``durable``: whether a
        write whose region went down meanwhile reached storage."""
        op = c.op
        assert op is not None
        if c.timeout:       # sent to a region that was down: no effect, never answered
            self.finish(w, c, op, op.write_id, t, "info", None, None, out)
        elif w.down[self.rix[c.region]]:
            self._apply(w, c, op, t, "info" if op.f != "read" and durable == 1 else "", copy, out)
        else:
            self._apply(w, c, op, t, "ok", copy, out)
        self._done(c, t)

    def _apply(self, w: World, c: Client, op: Op, t: int, outcome: str, copy: int, out: Sink) -> None:
        """Carry out ``op`` at its region at ``t``. ``outcome`` "": it was lost (info, no
        effect); "info": took effect but the client saw a timeout."""
        if op.parts is not None:
            self._apply_transaction(w, c, op, t, outcome, out)
            return
        if outcome == "":
            self.finish(w, c, op, op.write_id, t, "info", None, None, out)
            return
        f = op.f
        item = self.item(w, op.key)
        self.driver.touch(item, t)
        C = self.C
        base = self.rix[c.region] * C
        rules = self.rules
        if f == "read":
            if outcome != "ok":
                self.finish(w, c, op, -1, t, "info", None, None, out)
                return
            served = rules.read_copy(op.consistent, C, copy)
            self.finish_read(w, c, op, t, item.slots[base + served], served, out)
            return
        wid = op.write_id if op.write_id >= 0 else self.n_static + c.inv
        stored = item.slots[base]
        request = itemspec.Request(f, op.key, op.value, op.condition)
        new_item, ok, answer = evaluate(stored, request)
        if not ok:
            if rules.failed_write_applies():     # a mutant: reported failed, applied all the same
                new_item, _, _ = evaluate(stored, itemspec.Request(f, op.key, op.value, None))
                version = self.write(w, item, wid, c.region, t, new_item, stored)
                self.finish(w, c, op, wid, t, "fail" if outcome == "ok" else "info", None, None, out, version)
                return
            # a timed-out client never hears that its condition failed
            self.finish(w, c, op, wid, t, "fail" if outcome == "ok" else "info", None, None, out)
            return
        version = self.write(w, item, wid, c.region, t, new_item, stored)
        if outcome == "info":
            self.finish(w, c, op, wid, t, "info", None, version, out, version)
        else:
            self.finish(w, c, op, wid, t, "ok", answer, version, out, version)

    def _apply_transaction(self, w: World, c: Client, op: Op, t: int, outcome: str, out: Sink) -> None:
        """TransactWriteItems: all or nothing at the origin region (every condition first),
        each item then replicated on its own (other regions may see part of it for a while).
        Recorded as consecutive operations of one client sharing a ``txn`` id, the later
        ones invoked when the first completes."""
        parts = op.parts
        assert parts is not None
        region = c.region
        base = self.rix[region] * self.C
        results: list[tuple[Item, Version | None, Any, Any]] = []
        ok_all = outcome != ""
        for part in parts:
            item = self.item(w, part.key)
            self.driver.touch(item, t)
            stored = item.slots[base]
            new_item, ok, answer = evaluate(stored, itemspec.Request(part.f, part.key, part.value, part.condition))
            ok_all = ok_all and ok
            results.append((item, stored, new_item, answer))
        for i, part in enumerate(parts):
            item, stored, new_item, answer = results[i]
            if i > 0:
                inv = self.emit(w, invoke_event(c.pid, region, part.f, part.key, part.value, False, part.condition,
                                                op.txn, t), out)
                if part.write_id >= 0:
                    self.driver.invoked(part.write_id, inv)
            else:
                inv = c.inv
            wid = part.write_id if part.write_id >= 0 else self.n_static + inv
            if outcome == "":
                self.finish(w, c, part, wid, t, "info", None, None, out, inv=inv)
            elif not ok_all:
                self.finish(w, c, part, wid, t, "fail" if outcome == "ok" else "info", None, None, out, inv=inv)
            else:
                version = self.write(w, item, wid, region, t, new_item, stored)
                self.finish(w, c, part, wid, t, outcome, answer if outcome == "ok" else None, version, out,
                            version, inv=inv)

    def finish(self, w: World, c: Client, op: Op, wid: int, t: int, outcome: str, value: Any,
               version: Version | None, out: Sink, took_effect: Version | None = None, error: str = "",
               inv: int = -1) -> None:
        """``op``'s completion event; a write without effect tells the driver so (ground truth)."""
        self.emit(w, completion_event(outcome, c.pid, c.region, op.f, op.key, value, t, version, error), out)
        if op.f != "read" and took_effect is None:
            self.driver.no_effect(c.inv if inv < 0 else inv, op.key, c.region)
        self.driver.completed(op.f, op.final)

    def finish_read(self, w: World, c: Client, op: Op, t: int, v: Version | None, copy: int, out: Sink) -> None:
        """A read served ``v`` from ``copy`` of its region: the client's answer, what the
        client remembers for its conditions, and the driver's record of what it saw."""
        value = self.rules.read_value(v)
        if c.last_seen is not None:
            c.last_seen[op.key] = value
        self.emit(w, completion_event("ok", c.pid, c.region, "read", op.key, value, t, None, ""), out)
        self.driver.read(c.inv, v, copy)
        self.driver.completed("read", op.final)

    def write(self, w: World, item: Item, wid: int, region: str, t: int, new_item: Any,
              stored: Version | None) -> Version:
        """Stamp ``new_item`` at ``region`` and install it (acknowledge, replicate)."""
        ts = stamp(self.clocks[w.vector].now_us(region, t), stored)
        version = Version(ts, region, wid, new_item, new_item is None)
        self.install(item, version, self.rix[region], t)
        return version

    def install(self, item: Item, version: Version, o: int, t: int) -> None:
        """A version stamped at region ``o`` at ``t``: the write quorum's copies there hold it
        now; the other copies of ``o`` and every other region's get it later (a ``Flight``)."""
        C = self.C
        due = self.driver.arrivals(item, version, o, t, self.quorum)
        if not self.plain_rules:
            rules = self.rules
            for d in range(self.R):
                if d != o and not rules.replicates(o, d):
                    for k in range(C):
                        due[d * C + k] = NEVER
        slots = item.slots
        for k in range(self.quorum):
            s = o * C + k
            item.put(s, merge(slots[s], version))
            due[s] = DONE
            if item.reached is not None:
                item.reached[s] |= 1 << version.write_id
        if item.written is not None:
            item.written = item.written + (version,)
        self.driver.written(item.key, self.regions[o], version, t)
        flight = Flight(version, o, due, self.R)
        flight.applied[o] = t
        if flight.left:
            flights = item.flights
            i = len(flights)
            while i > 0 and merge(flights[i - 1].version, version) is not version:
                i -= 1            # in the conflict order (the newest version is usually last)
            # coalescing: a version of this origin still queued to a region may be dropped
            # for this newer one (the timed driver decides here; the explorer by an action)
            if self.driver is not _EXPLORER:
                for d in range(self.R):
                    if d == o:
                        continue
                    older = self.queued_before(flights, i, o, d)
                    if older is not None and self.driver.coalesce(item, older, d, t):
                        self.coalesce(item, older, d)
            flights.insert(i, flight)
            self.retire(item)
        else:
            self.driver.flight_done(item.key, flight)

    def queued_before(self, flights: list[Flight], end: int, o: int, d: int) -> Flight | None:
        """The newest of ``flights[:end]`` from region ``o`` still queued to region ``d``."""
        s = d * self.C
        for j in range(end - 1, -1, -1):
            f = flights[j]
            if f.origin == o and f.pending(s):
                return f
        return None

    def arrive(self, item: Item, flight: Flight, slot: int) -> None:
        """``flight``'s version reaches copy ``slot``: applied there by last writer wins."""
        v = flight.version
        item.put(slot, merge(item.slots[slot], v))
        if item.reached is not None:
            item.reached[slot] |= 1 << v.write_id
        if slot % self.C == 0:
            flight.applied[slot // self.C] = flight.due[slot]
        flight.due[slot] = DONE
        flight.left -= 1

    def coalesce(self, item: Item, flight: Flight, d: int) -> None:
        """``flight``'s version will not reach region ``d`` (a newer one of its item from its
        origin is queued behind it and replaces it)."""
        for k in range(self.C):
            s = d * self.C + k
            if flight.pending(s):
                flight.due[s] = NEVER
                flight.left -= 1

    def retire(self, item: Item) -> None:
        """Versions that have reached every copy they will ever reach leave the item."""
        done = False
        for f in item.flights:
            if f.left == 0:
                done = True
                break
        if done:
            keep: list[Flight] = []
            for f in item.flights:
                if f.left == 0:
                    self.driver.flight_done(item.key, f)
                else:
                    keep.append(f)
            item.flights = keep

    # ---- strong mode
    def arrive_strong(self, w: World, c: Client, t: int, out: Sink) -> None:
        """Strong mode: ``c``'s write or strongly consistent read reaches its region at ``t``
        and waits for one other region (``quorum_round_trip``); none answering within the
        timeout, the client sees ``info`` and a write has no effect. A write of an item
        another region is writing fails with a replication conflict (``strong_admit``);
        otherwise it is evaluated against the item's latest version, stamped after it at
        the acknowledgement, and proposed (acknowledged by ``ack``)."""
        op = c.op
        assert op is not None
        r = self.rix[c.region]
        if w.down[r]:           # the region failed while the request was on its way
            self.finish(w, c, op, op.write_id, t, "info", None, None, out)
            self._done(c, t)
            return
        budget = self.timeout_ns
        c.phase = WAIT
        if op.f == "read":
            rtt = quorum_round_trip(self.plan, self.timing, r, self.peers[r], self.names, t, budget)
            c.outcome, c.due = (INFO, t + budget) if rtt is None else (OK, t + rtt)
            return
        item = self.item(w, op.key)
        log = item.log
        start = strong_admit(log, c.region, t)
        at = t if start is None else start
        rtt = quorum_round_trip(self.plan, self.timing, r, self.peers[r], self.names, at, budget - (at - t))
        if rtt is None:
            c.outcome, c.due = INFO, t + budget
        elif start is None:
            c.outcome, c.due, c.error = FAIL, t + rtt, REPLICATED_WRITE_CONFLICT
        else:
            ack = start + rtt
            latest = log.latest()
            new_item, ok, answer = evaluate(latest, itemspec.Request(op.f, op.key, op.value, op.condition))
            c.due = ack
            if not ok:
                c.outcome = FAIL
                return
            wid = op.write_id if op.write_id >= 0 else self.n_static + c.inv
            version = Version(stamp(self.clocks[w.vector].now_us(c.region, ack), latest), c.region, wid, new_item,
                              new_item is None)
            item.own_log().decide(ack, version)
            c.outcome, c.version, c.answer = OK, version, answer

    def ack(self, w: World, c: Client, t: int, out: Sink) -> None:
        """Strong mode: ``c``'s wait is over at ``t``. A strongly consistent read returns the
        latest acknowledged version (the head of the item's log); a decided write becomes the
        head, is applied at its region and replicated (the client sees ``info`` if its region
        has failed meanwhile: it took effect all the same)."""
        op = c.op
        assert op is not None
        if c.outcome != OK:
            self.finish(w, c, op, op.write_id, t, "fail" if c.outcome == FAIL else "info", None, None, out,
                        error=c.error)
        elif op.f == "read":
            item = self.item(w, op.key)
            self.driver.touch(item, t)
            v = self.rules.strong_read(item.log.head, item.slots[self.rix[c.region] * self.C])
            self.finish_read(w, c, op, t, v, 0, out)
        else:
            item = self.item(w, op.key)
            version = c.version
            assert version is not None
            item.own_log().acknowledge(version)
            self.driver.touch(item, t)
            self.install(item, version, self.rix[c.region], t)
            outcome = "info" if w.down[self.rix[c.region]] else "ok"
            self.finish(w, c, op, version.write_id, t, outcome, c.answer if outcome == "ok" else None, version, out,
                        version)
        self._done(c, t)

    # ---- faults
    def nemesis(self, w: World, t: int, out: Sink) -> None:
        """The next fault event, at ``t``: its effect on who is cut off or down, and its
        record in the history (process ``nemesis``)."""
        rec = self.records[w.nemesis]
        w.nemesis += 1
        r = self.record_region[w.nemesis - 1]
        if r >= 0:               # new lists: forks of the state share the old ones
            if rec.cut:
                w.cut = list(w.cut)
                w.cut[r] += rec.cut
            if rec.down:
                if rec.down > 0 and w.down[r] == 0:
                    w.since = list(w.since)
                    w.since[r] = t
                w.down = list(w.down)
                w.down[r] += rec.down
        self.emit(w, {"index": 0, "type": "info", "process": "nemesis", "f": rec.f, "value": rec.value, "time": t},
                  out)

    def sweep(self, w: World, key: str, region: str, write_id: int, t: int, out: Sink) -> None:
        """TTL expiry: the background sweeper deletes the item at ``region`` if that region
        still holds the version that carried the TTL; the delete is a version like any other."""
        if w.down[self.rix[region]]:
            return
        item = self.item(w, key)
        self.driver.touch(item, t)
        stored = item.slots[self.rix[region] * self.C]
        if stored is None or stored.write_id != write_id:
            return
        index = self.emit(w, {"index": 0, "type": "invoke", "process": "ttl", "region": region, "f": "delete",
                              "key": key, "value": None, "time": t}, out)
        version = self.write(w, item, self.n_static + index, region, t, None, stored)
        self.emit(w, completion_event("ok", "ttl", region, "delete", key, None, t, version, ""), out)
        self.driver.completed("delete", False)

    # ------------------------------------------------------------------ the model interface (explorer)
    def uncovered(self) -> list[str]:
        sc = self.sc
        out = []
        if sc.random_workload:
            out.append("the random workload (workload.random; explore a scripted scenario: [[script]])")
        if sc.random_faults.count > 0:
            out.append("random faults ([random_faults]; pin the faults in [[faults]])")
        if sc.workload.ttl.share > 0:
            out.append("TTL expiry (workload.ttl)")
        if self.rules.timing_only:
            out.append(f"the test-only mutant {self.rules.name!r}: it changes only when replication happens, "
                       "and exploration already covers every order of deliveries")
        return out

    def coverage(self) -> list[str]:
        lat = sorted({op.latency for c in self.template for op in (c.program or []) if op.latency is not None})
        fixed = ("each request's scripted latency" if all(op.latency is not None for c in self.template
                                                          for op in (c.program or []))
                 else f"request latency {self.timing.request_latency():,} ns where the script gives none")
        out = [f"every order of replication deliveries, follower copies and coalescing",
               "every copy an eventually consistent read may read"]
        if any(self.plan.down.values()):
            out.append("both outcomes of a write cut off by an outage")
        out.append(("requests and fault events in time order (ties in any order), " if self.timed
                    else "requests and fault events in any order, ") + fixed)
        if self.strong:
            out.append(f"round trips of {self.timing.round_trip(self.regions[0], self.names[-1]):,} ns")
        if len(self.vectors) > 1:
            out.append(f"{len(self.vectors)} clock-offset vectors (each range at both ends)")
        if self.plan.delays:
            out.append("replication-delay faults as any delivery order (and their lowest extra delay in round trips)")
        del lat
        return out

    def init(self) -> list[Any]:
        return [self.new_world(v) for v in range(len(self.vectors))]

    def client_action(self, w: World, c: Client) -> tuple[int, list[Action]]:
        """The time of ``c``'s next step and its actions (empty: none now)."""
        name = str(c.pid)
        if c.phase == IDLE:
            op = self.next_request(c)
            if op is None:
                return -1, []
            if op.final:
                it = w.items.get(op.key)
                if it is not None and not it.settled():
                    return -1, []           # a final read waits for its key to settle
            return self.invoke_time(c, op), [Action("invoke", name)]
        if c.phase == SENT:
            op = c.op
            assert op is not None
            if self.strong and not c.timeout and (op.f != "read" or op.consistent):
                return c.due, [Action("arrive", name)]
            down = w.down[self.rix[c.region]] > 0
            if op.f == "read" and not op.consistent and not c.timeout and not down:
                return c.due, [Action("complete", name, copy=k) for k in range(self.C)]
            if op.f != "read" and not c.timeout and down:
                return c.due, [Action("complete", name, durable=1), Action("complete", name, durable=0)]
            return c.due, [Action("complete", name)]
        if c.phase == WAIT:
            op = c.op
            assert op is not None
            if op.f != "read" and c.outcome == OK:
                it = w.items[op.key]
                if it.log.pending[0][1] is not c.version:
                    return -1, []           # a region's writes of an item are acknowledged in order
            return c.due, [Action("ack", name)]
        return -1, []

    def actions(self, state: Any) -> list[Any]:
        w: World = state
        timed: list[tuple[int, list[Action]]] = []
        for c in w.clients:
            if c.phase != FINISHED:
                t, acts = self.client_action(w, c)
                if acts:
                    timed.append((t, acts))
        if w.nemesis < len(self.records):
            timed.append((self.records[w.nemesis].time, [Action("nemesis")]))
        out: list[Action] = []
        if timed:
            if self.timed:
                first = min(t for t, _ in timed)
                for t, acts in timed:
                    if t == first:
                        out.extend(acts)
            else:
                for _, acts in timed:
                    out.extend(acts)
        C = self.C
        R = self.R
        cut = w.cut
        items = w.items
        for key in sorted(items):
            flights = items[key].flights
            n = len(flights)
            for i in range(n):
                f = flights[i]
                o = f.origin
                wid = f.version.write_id
                due = f.due
                for d in range(R):
                    s = d * C
                    lead = due[s]
                    lead_pending = lead != DONE and lead != NEVER
                    if d != o and lead_pending:
                        older = False          # per item in order per link: an older one first
                        newer = False          # a newer one behind: this one may be coalesced
                        for j in range(n):
                            g = flights[j]
                            if j != i and g.origin == o:
                                a = g.due[s]
                                if a != DONE and a != NEVER:
                                    if j < i:
                                        older = True
                                    else:
                                        newer = True
                        if not older and not cut[o] and not cut[d]:
                            out.append(Action("deliver", "", -1, -1, key, wid, d))
                        if newer:
                            out.append(Action("coalesce", "", -1, -1, key, wid, d))
                    if d == o or not lead_pending:
                        for k in range(1, C):
                            a = due[s + k]
                            if a != DONE and a != NEVER:
                                out.append(Action("copy", "", -1, -1, key, wid, s + k))
        return out

    def next(self, state: Any, action: Any) -> tuple[Any, list[dict[str, Any]]]:
        out = ListSink()
        w = self.take(state, action, out)
        return w, out.items

    def take(self, state: World, a: Action, out: Sink) -> World:
        """``a`` taken from ``state``: the new state (``state`` itself is not changed)."""
        kind = a.kind
        w = state.fork()
        if kind == "deliver" or kind == "copy" or kind == "coalesce":
            item = w.own_item(a.key)
            flight = None if item is None else item.own_flight(a.write)
            if item is None or flight is None:
                raise ValueError(f"no version {a.write} of {a.key!r} is on its way")
            if kind == "deliver":
                self.arrive(item, flight, a.region * self.C)
            elif kind == "copy":
                self.arrive(item, flight, a.region)
            else:
                self.coalesce(item, flight, a.region)
            self.retire(item)
            return w
        if kind == "nemesis":
            if w.nemesis >= len(self.records):
                raise ValueError("no fault event left")
            self.nemesis(w, self.records[w.nemesis].time, out)
            return w
        ix = self.by_name.get(a.client)
        if ix is None:
            raise ValueError(f"no client {a.client!r}")
        c = w.own_client(ix)
        if kind == "invoke":
            op = self.next_request(c)
            if c.phase != IDLE or op is None:
                raise ValueError(f"client {a.client} has no request to send")
            self.invoke(w, c, op, self.invoke_time(c, op), out)
            return w
        op = c.op
        if op is None:
            raise ValueError(f"client {a.client} has no request in flight")
        for key in ([p.key for p in op.parts] if op.parts is not None else [op.key]):
            w.own_item(key)
        if kind == "complete":
            self.complete(w, c, c.due, a.copy, a.durable, out)
        elif kind == "arrive":
            self.arrive_strong(w, c, c.due, out)
        elif kind == "ack":
            self.ack(w, c, c.due, out)
        else:
            raise ValueError(f"unknown action {kind!r}")
        return w

    # ---- partial-order reduction
    def _suffixes(self) -> None:
        """Per client and program position: the regions (as bits) where its remaining
        requests may go (any request; a read a follower copy may serve), failover sending
        them anywhere."""
        every = (1 << self.R) - 1
        self._any_from = []
        self._follower_from = []
        mutant = bool(self.rules.name)
        for c in self.template:
            ops = list(c.program or [])
            n = len(ops)
            anyr = [0] * (n + 1)
            fol = [0] * (n + 1)
            if c.finals:
                anyr[n] = every if self.routing else 1 << self.rix[c.home]
                if mutant:
                    fol[n] = anyr[n]
            for i in range(n - 1, -1, -1):
                op = ops[i]
                where = every if self.routing else 1 << self.rix[op.region]
                anyr[i] = anyr[i + 1] | where
                fol[i] = fol[i + 1]
                if op.f == "read" and (mutant or not op.consistent):
                    fol[i] |= where
            self._any_from.append(anyr)
            self._follower_from.append(fol)

    def _remaining(self, w: World) -> tuple[int, int]:
        """The regions (as bits) where some client's remaining requests may go (in flight
        included), and those where a read a follower copy may serve may still happen."""
        anyr = 0
        fol = 0
        mutant = bool(self.rules.name)
        for c in w.clients:
            if c.phase == FINISHED:
                continue
            table = self._any_from[c.ix]
            pc = c.pc if c.pc < len(table) else len(table) - 1
            anyr |= table[pc]
            fol |= self._follower_from[c.ix][pc]
            op = c.op
            if op is not None:
                bit = 1 << self.rix[c.region]
                anyr |= bit
                if op.f == "read" and (mutant or not op.consistent):
                    fol |= bit
        return anyr, fol

    def ample(self, state: Any, actions: list[Any]) -> list[Any]:
        """Partial-order reduction: a subset of ``actions`` that is persistent (every action
        left out, and every one that could follow it before one of the subset is taken,
        commutes with the whole subset), so exploring only it loses no end state, no
        request's outcome and no violation of a property of runs. Replication actions
        (deliveries, copies, coalescing) commute with each other (last writer wins is a
        join) and with every client action not touching their copies.

        - A follower copy where no read a follower may serve remains, or a delivery into a
          region no request will reach, once no fault event remains (an isolation could
          disable it) and with no coalescing to choose: alone.
        - A request being sent, when no fault event is due now (one could change where it
          goes) and the order of the history's events is not observed: alone (sending
          touches only its client).
        - Time order: the next timed actions (requests answered, round trips ended, fault
          events; all those due at the earliest time), with the replication they depend on:
          what reaches the copies of their region for their items, and for a fault event
          the deliveries to and from its region. Replication nobody observes yet waits.
        - Once no timed action is left, nothing observes replication: one order of it.
        ``tests/search/test_explore.py`` compares reduced and full explorations."""
        w: World = state
        C = self.C
        anyr, fol = self._remaining(w)
        for a in actions:
            if a.kind == "copy" and not fol >> (a.region // C) & 1:
                return [a]
        if w.nemesis >= len(self.records):
            for a in actions:
                if a.kind == "deliver" and not anyr >> a.region & 1:
                    flights = w.items[a.key].flights
                    o = self._origin(w, a)
                    queued = 0
                    for g in flights:
                        if g.origin == o and g.pending(a.region * C):
                            queued += 1
                    if queued == 1:
                        return [a]
        if not self.history_visible:
            nemesis_now = any(a.kind == "nemesis" for a in actions)
            if not nemesis_now and (self.timed or w.nemesis >= len(self.records)):
                for a in actions:
                    if a.kind == "invoke":
                        return [a]
        if self.timed:
            timed = [a for a in actions if a.kind not in _REPLICATION]
            if not timed:
                return [actions[0]]
            slots: set[tuple[str, int]] = set()
            cut: set[int] = set()
            for a in timed:
                if a.kind == "nemesis":
                    r = self.record_region[w.nemesis]
                    if r >= 0 and r < self.R:
                        cut.add(r)
                    continue
                c = w.clients[self.by_name[a.client]]
                op = c.op
                if op is None:
                    continue          # sending reads no copy
                region = self.rix[c.region]
                if op.parts is not None:
                    for part in op.parts:
                        slots.add((part.key, region))
                else:
                    slots.add((op.key, region))
            keep = list(timed)
            for a in actions:
                kind = a.kind
                if kind == "deliver":
                    if (a.key, a.region) in slots or a.region in cut or (cut and self._origin(w, a) in cut):
                        keep.append(a)
                elif kind == "copy":
                    if (a.key, a.region // C) in slots:
                        keep.append(a)
                elif kind == "coalesce":
                    if (a.key, a.region) in slots:
                        keep.append(a)
            return keep
        return actions

    def _origin(self, w: World, a: Action) -> int:
        for f in w.items[a.key].flights:
            if f.version.write_id == a.write:
                return f.origin
        return -1

    def outcome(self, state: World, action: Action, new: World,
                events: list[dict[str, Any]]) -> tuple[str, Any] | None:
        """When ``action`` ends a named scripted request: its name and what it returned (a
        read's value, else ``ok``/``fail``/``info``; ``info`` for a read that timed out)."""
        kind = action.kind
        if kind != "complete" and kind != "ack" and kind != "arrive":
            return None
        ix = self.by_name[action.client]
        c = state.clients[ix]
        op = c.op
        if op is None or op.final or op.at < 0 or new.clients[ix].op is not None:
            return None
        name = self.request_names.get((ix, c.pc - 1))
        if name is None:
            return None
        first: dict[str, Any] | None = None
        all_ok = True
        for e in events:
            typ = e["type"]
            if typ == "invoke" or e["process"] == "nemesis":
                continue
            if first is None:
                first = e
                if e["f"] == "read":
                    return name, (e["value"] if typ == "ok" else typ)
            if typ != "ok":
                all_ok = False
        if first is None:
            return None
        return name, ("ok" if all_ok else first["type"])

    def label(self, action: Any) -> str:
        a: Action = action
        if a.kind in ("deliver", "coalesce"):
            return f"{a.kind} {a.key} v{a.write} ->{self.regions[a.region]}"
        if a.kind == "copy":
            return f"copy {a.key} v{a.write} {self.regions[a.region // self.C]}#{a.region % self.C}"
        if a.kind == "nemesis":
            return "nemesis"
        extra = f" copy {a.copy}" if a.copy >= 0 else f" durable={a.durable}" if a.durable >= 0 else ""
        return f"{a.kind} {a.client}{extra}"

    # ---- fingerprints
    def vid(self, v: Version | None) -> int:
        """A small number per distinct version (0: none), the same for equal versions."""
        if v is None:
            return 0
        n = self._vid.get(id(v))
        if n is None:
            key = (v.ts, v.origin, v.write_id, v.deleted, exact_dumps(v.value, sort_keys=True))   # any number (exact JSON)
            n = self._vcanon.get(key)
            if n is None:
                n = self._vcanon[key] = len(self._vcanon) + 1
            self._vid[id(v)] = n
            self._vkeep.append(v)       # keeps id(v) unique while it is in the table
        return n

    def encode(self, w: World) -> tuple[int, ...]:
        """Everything that decides ``w``'s future, as a tuple of numbers (equal for equal
        states however reached): the clock-offset vector, the fault events taken (the fault
        state, ``cut``/``down``/``since``, is a function of how many: they are taken in one
        order at their own times), then a hash per client that ever moves (``live``) and
        per item (in key order; an item's slots keep their version's number, ``svids``). Only
        numbers are hashed (an item's key by its number, ``_kid``), so the encoding is the same
        in every process whatever PYTHONHASHSEED says.
        Items, clients and flights keep their hash until they change (they are copied
        first: ``World.own_item``, ``own_client``, ``Item.own_flight``), so a transition
        hashes only what it touched."""
        parts: list[int] = [w.vector, w.nemesis]
        clients = w.clients
        for ix in self.live:
            c = clients[ix]
            h = c.enc
            if h == -1:
                h = c.enc = self._encode_client(c)
            parts.append(h)
        items = w.items
        keys = list(items)
        if len(keys) > 1:
            keys.sort()
        for key in keys:
            it = items[key]
            h = it.enc
            if h == -1:
                h = it.enc = self._encode_item(it)
            parts.append(h)
        return tuple(parts)

    def _encode_client(self, c: Client) -> int:
        """A client's hash (never -1, which CPython's ``hash`` never returns)."""
        phase = c.phase
        if phase == FINISHED:
            return phase
        if phase == IDLE:
            prog = c.program
            if prog is not None and c.pc < len(prog):
                at = prog[c.pc].at
            elif c.finals is not None and c.fpc < len(c.finals):
                at = self.settled_at
            else:
                at = -1
            return hash((phase, c.pc, c.fpc, at if at > c.ready else c.ready, self.rix[c.remember]))
        return hash((phase, c.pc, c.fpc, c.due, self.rix[c.region], self.rix[c.remember], c.timeout, c.outcome,
                     self.vid(c.version)))

    def _encode_item(self, it: Item) -> int:
        """An item's hash: its key, the version each copy holds, the versions on their way
        (each with which copies it has reached, never will, or is on its way to) and its log."""
        key = it.key
        kid = self._kid.get(key)
        if kid is None:          # a number, not the string: str hashes differ between processes
            kid = self._kid[key] = len(self._kid)
        parts: list[int] = [kid]
        slots = it.slots
        svids = it.svids
        if svids is None:
            svids = it.svids = [self.vid(v) for v in slots]
        for s in range(len(svids)):
            n = svids[s]
            if n == -1:
                n = svids[s] = self.vid(slots[s])
            parts.append(n)
        flights = it.flights
        parts.append(len(flights))
        for f in flights:
            h = f.enc
            if h == -1:
                bits = 0           # per slot: reached (0), never (1), on its way (2)
                for a in f.due:
                    bits = bits * 3 + (0 if a == DONE else 1 if a == NEVER else 2)
                h = f.enc = hash((self.vid(f.version), bits))
            parts.append(h)
        log = it.log
        parts.append(self.vid(log.head))
        for ack, v in log.pending:
            parts.append(ack)
            parts.append(self.vid(v))
        return hash(tuple(parts))

    def fingerprint(self, state: Any) -> Hashable:
        return hash(self.encode(state))

    # ---- the model's own invariants
    def properties(self) -> list[Property]:
        return [Property.always("model: every copy holds the join of what reached it", _join_holds),
                Property.at_end("model: every copy converges to the join of every version", _converged)]

    def final_of(self, w: World) -> dict[str, dict[str, Any]]:
        """key -> region -> the item its leader copy holds (None: absent)."""
        C = self.C
        return {key: {r: _shown(item.slots[i * C]) for i, r in enumerate(self.regions)}
                for key, item in sorted(w.items.items())}


class Outcomes:
    """What each named scripted request returned, over every transition an exploration
    takes (``gtcheck explore``'s outcomes; the explorer's ``on_transition``): each distinct
    answer once, in the order met. Compiled with the model, as it sees most transitions."""

    def __init__(self, model: GlobalTables):
        self.model = model
        self.found: dict[str, list[Any]] = {n: [] for n in sorted(set(model.request_names.values()))}
        self.blobs: dict[str, set[bytes]] = {n: set() for n in self.found}
        # (name, id(answer)) -> the answer, kept alive so that its id stays its own: one
        # answer object (a version's value) is met again on many paths, serialised once
        self.met: dict[tuple[str, int], Any] = {}

    def transition(self, state: Any, action: Any, new: Any, events: list[dict[str, Any]]) -> None:
        got = self.model.outcome(state, action, new, events)
        if got is None:
            return
        name, res = got
        mk = (name, id(res))
        if mk in self.met:
            return
        self.met[mk] = res
        blob = exact_dumps(res, sort_keys=True)
        blobs = self.blobs[name]
        if blob not in blobs:
            blobs.add(blob)
            self.found[name].append(res)


def _shown(v: Version | None) -> Any:
    return None if v is None or v.deleted else v.value


def _join_holds(model: Any, state: Any) -> str | None:
    """Every copy holds the last-writer-wins join of the versions that reached it (kept
    only when the relation observes them). An item is checked once: it is copied before
    it changes."""
    w: World = state
    for key, item in w.items.items():
        if item.checked:
            continue
        if item.reached is None or item.written is None:
            return None
        for s, bits in enumerate(item.reached):
            join: Version | None = None
            for v in item.written:
                if bits >> v.write_id & 1:
                    join = merge(join, v)
            if item.slots[s] is not join:
                return f"{key} copy {s} holds {item.slots[s]}, not the join {join} of what reached it"
        item.checked = True
    return None


def _converged(model: Any, state: Any) -> str | None:
    """Once nothing is on its way, every copy of an item holds the join of every version
    of it (of the ones installed, when observed; else of what the copies hold)."""
    w: World = state
    for key, item in w.items.items():
        if not item.settled():
            continue
        join: Version | None = None
        for v in (item.written if item.written is not None else item.slots):
            join = merge(join, v)
        if any(s is not join for s in item.slots):
            return f"{key} did not converge: its copies hold different versions after every delivery"
    return None
