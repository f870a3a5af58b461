"""The timed simulator: a scheduler over the one transition relation of global tables.

The relation (``model/globaltables.py``) says what can happen; this driver decides when,
with seeded choices: the timed actions (a client sends its next request, its request is
answered at its region, in strong mode its round trip ends, a fault event, a TTL sweep) come
off an event queue in time order, ties by insertion order; every decision the relation
leaves open is drawn from ``SeededChoices`` (three streams seeded by the one seed): request
latency, think time and what the random workload asks, which copy serves an eventually
consistent read, whether a write cut off by an outage reached storage, and when each new
version reaches each copy (replication delay through the fault plan, per-item order on a
link, coalescing, copy lag). A version's deliveries are taken lazily, in arrival order,
just before the next action that reads or changes its item (and before every fault event):
they touch that item only, so the run is one path of the explorer's graph
(``tests/model/test_conformance.py``).

There is no wall clock: simulated time is an integer of nanoseconds, so one scenario and
one seed give one byte-identical history and ground truth.
"""

from __future__ import annotations

import gc
import heapq
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Final

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.sidecar import truth_path_for
from gtcheck.model.choices import MAX_COPY_LAG_NS, MAX_REPLICATION_DELAY_NS, Choices, SeededChoices
from gtcheck.model.globaltables import GlobalTables
from gtcheck.model.history_writer import JsonLinesWriter, Sink
from gtcheck.model.lww import Version
from gtcheck.model.rules import Rules, fifo_arrival, link_arrival
from gtcheck.model.scenario import Scenario, refuse_messages
from gtcheck.model.workload import MixChooser
from gtcheck.model.world import DONE, FINISHED, IDLE, NEVER, SENT, WAIT, Client, Driver, Flight, Item, Op, World

__all__ = ["BUGS", "STRONG_BUGS", "MAX_COPY_LAG_NS", "MAX_REPLICATION_DELAY_NS", "SimulationSummary", "Simulator",
           "simulate"]

# The test-only mutants' names (``model/mutants.py``), for ``simulate(..., bug=NAME)``: eventual
# mode's, and strong mode's.
BUGS = ("stale-strong-read", "drop-replication", "phantom-value", "show-failed-write", "delay-replication")
STRONG_BUGS = ("strong-local-read",)

_CLIENT: Final = 0
_NEMESIS: Final = 1
_TTL: Final = 2
_RECORDER_ACTIONS = ("invoke", "complete", "arrive", "ack")


@dataclass
class SimulationSummary:
    history: str
    truth: str | None
    events: int = 0
    operations: int = 0
    writes: int = 0
    reads: int = 0
    final_reads: int = 0
    settled_after_ns: int = 0
    end_ns: int = 0


def check_script(scenario: Scenario) -> None:
    """What the timed driver cannot run, found before any file is opened: per-message
    latencies (``refuse_messages``), and scripted clients that take the workload's client
    numbers (``scenario_from_dict`` checks this for scenarios it reads; this is for
    scenarios built directly)."""
    refuse_messages(scenario, "gtcheck simulate")
    n_proc = scenario.workload.processes_per_region * len(scenario.regions)
    for i, op in enumerate(scenario.script):
        if isinstance(op.process, int) and op.process < n_proc:
            raise UserError(f"process {op.process} is one of the workload's clients (0 to {n_proc - 1})",
                            where=f"script[{i}].process", hint=f"use a number from {n_proc} on, or a name")


class Simulator(Driver):
    """Runs ``scenario`` over ``rules`` with ``choices`` (default: seeded by ``seed``),
    writing the history to ``out`` and the ground truth to ``truth`` (sinks; it opens
    no files). ``trace``: a list that receives every transition taken, as the explorer's
    ``Action`` (for the conformance test)."""

    def __init__(self, scenario: Scenario, seed: int, out: Sink, truth: Sink | None = None, *,
                 progress: Callable[[int], None] | None = None, rules: Rules | None = None,
                 choices: Choices | None = None, trace: list[Any] | None = None):
        check_script(scenario)
        self.sc = scenario
        self.seed = seed
        self.progress = progress
        self.choices: Choices = choices if choices is not None else SeededChoices(scenario, seed)
        drawn = self.choices.random_faults(scenario)
        offsets: dict[str, int] = {}
        for region in scenario.regions:     # offset = { min, max }: drawn (only when a range is given)
            clock = scenario.clock(region)
            if clock.offset_max_ns is not None:
                offsets[region] = self.choices.clock_offset(region, clock.offset_ns, clock.offset_max_ns)
        self.model = GlobalTables(scenario, rules, driver=self, timing=self.choices, random_faults=drawn,
                                  offsets=[offsets])
        m = self.model
        self.rules = m.rules
        self.plain_rules = m.plain_rules
        self.plan = m.plan
        self.clocks = m.clocks[0]
        self.regions = m.regions
        self.C = m.C
        self.R = m.R
        self.settled_at = m.settled_at
        self.duration = m.duration
        self.faulty_links = self.plan.any_cut or bool(self.plan.delays)
        self.coalesce_p = scenario.coalesce
        wl = scenario.workload
        self.mix = MixChooser(wl)
        self.strong_share = wl.strong_reads
        self.txn_size = wl.transaction_size
        self.ttl_share = wl.ttl.share
        self.ttl_after_ns = wl.ttl.after_ns
        self.ttl_lag = wl.ttl.lag
        n_proc = wl.processes_per_region * len(self.regions)
        self.think_mean = n_proc / wl.rate * 1e9
        self.world: World = m.new_world()
        self.out = out
        self.truth = truth
        self.trace = trace
        self.heap: list[tuple[int, int, int, Any]] = []
        self.seq = 0
        self.now = 0
        self.max_arrival = 0
        self.index_of: dict[int, int] = {}       # a scripted write item's id -> its invoke's index
        self.operations = self.writes = self.reads = self.final_reads = 0
        out.write(m.header(self.world, seed))
        if truth is not None:
            truth.write({"kind": "header", "format": "gt-truth", "version": 1, "seed": seed,
                         "scenario": scenario.name, "regions": self.regions})

    # ------------------------------------------------------------------ what the relation asks
    def arrivals(self, item: Item, version: Version, origin: int, t: int, quorum: int) -> list[int]:
        """When the new version reaches each copy: the origin's followers trail by the copy
        lag; every other region's leader after a replication delay through the fault plan,
        never before an older version of the item still queued on the link, its followers a
        copy lag later."""
        C, R = self.C, self.R
        choices = self.choices
        plan = self.plan
        rules = self.rules
        plain = self.plain_rules
        flights = item.flights
        queued = len(flights) > 0
        source = self.regions[origin]
        due: list[int] = []
        for d in range(R):
            if d == origin:
                due.append(t)
                for k in range(1, C):   # the quorum's followers have it at the acknowledgement
                    if k < quorum:
                        due.append(t)
                    else:
                        due.append(t + choices.copy_lag() + (0 if plain else rules.extra_delay(origin, d, k, C)))
                continue
            target = self.regions[d]
            if self.faulty_links:
                a = link_arrival(plan, choices, source, target, t)
            else:
                a = choices.replication_delay(source, target)
                a = t + (a if a < MAX_REPLICATION_DELAY_NS else MAX_REPLICATION_DELAY_NS)
            if not plain:
                a += rules.extra_delay(origin, d, 0, C)
            if queued:
                older = self.model.queued_before(flights, len(flights), origin, d)
                if older is not None:
                    a = fifo_arrival(older.due[d * C], a)
            due.append(a)
            for k in range(1, C):
                due.append(a + choices.copy_lag() + (0 if plain else rules.extra_delay(origin, d, k, C)))
        top = self.max_arrival          # the latest arrival anywhere (the settle period must cover it)
        for a in due:
            if a > top:
                top = a
        self.max_arrival = top
        return due

    def coalesce(self, item: Item, older: Flight, target: int, t: int) -> bool:
        if not self.choices.coalesce(self.coalesce_p):
            return False
        if self.trace is not None:
            self.trace.append(("coalesce", item.key, older.version.write_id, target))
        return True

    def touch(self, item: Item, t: int) -> None:
        self.catch_up(item, t)

    def catch_up(self, item: Item, now: int) -> None:
        """Take every delivery and copy of ``item`` due by ``now`` (in the order of the
        versions, then of the copies: per link, per item, that is arrival order)."""
        flights = item.flights
        if not flights:
            return
        model = self.model
        trace = self.trace
        finished = False
        for f in flights:
            if f.next_due > now:
                continue
            due = f.due
            nxt = NEVER
            for s in range(len(due)):
                a = due[s]
                if a == DONE or a == NEVER:
                    continue
                if a > now:
                    if a < nxt:
                        nxt = a
                    continue
                if trace is not None:
                    trace.append(("deliver" if s % self.C == 0 else "copy", item.key, f.version.write_id,
                                  s // self.C if s % self.C == 0 else s))
                model.arrive(item, f, s)
            f.next_due = nxt
            if f.left == 0:
                finished = True
        if finished:
            model.retire(item)

    def written(self, key: str, region: str, version: Version, t: int) -> None:
        if self.ttl_share > 0:
            value = version.value
            if isinstance(value, dict) and "ttl" in value:
                sweep = t + self.ttl_after_ns + self.choices.ttl_sweep_lag(self.ttl_lag)
                if sweep < self.duration:
                    self.push(sweep, _TTL, (key, region, version.write_id))

    def invoked(self, write_id: int, index: int) -> None:
        self.index_of[write_id] = index

    def _index(self, write_id: int) -> int:
        got = self.index_of.get(write_id)
        return self.model.write_index(write_id) if got is None else got

    def read(self, index: int, version: Version | None, copy: int) -> None:
        if self.truth is not None:
            self.truth.write({"kind": "read", "index": index, "saw": None if version is None else
                              self._index(version.write_id), "copy": copy})

    def no_effect(self, index: int, key: str, region: str) -> None:
        if self.truth is not None:
            self.truth.write({"kind": "write", "index": index, "key": key, "region": region, "took_effect": False})

    def flight_done(self, key: str, flight: Flight) -> None:
        truth = self.truth
        if truth is None:
            return
        v = flight.version
        truth.write({"kind": "write", "index": self._index(v.write_id), "key": key, "region": v.origin,
                     "ts": v.ts, "origin": v.origin, "took_effect": True,
                     "applied_ns": {r: flight.applied[i] for i, r in enumerate(self.regions)}})

    def completed(self, f: str, final: bool) -> None:
        self.operations += 1
        if f == "read":
            self.reads += 1
            if final:
                self.final_reads += 1
        else:
            self.writes += 1

    # ------------------------------------------------------------------ the schedule
    def push(self, t: int, kind: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def run(self) -> SimulationSummary:
        m = self.model
        w = self.world
        for i, rec in enumerate(m.records):
            self.push(rec.time, _NEMESIS, i)
        choices = self.choices
        for c in w.clients:
            if c.phase == FINISHED:
                continue
            if m.workload_client(c):
                self.push(choices.first_request(self.think_mean), _CLIENT, c)
            else:
                op = m.next_request(c)
                assert op is not None
                self.push(m.invoke_time(c, op), _CLIENT, c)
        gc_was_enabled = gc.isenabled()
        gc.disable()    # the run allocates many small objects and frees few: cyclic GC only costs
        try:
            self._loop()
            return self._finish()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _loop(self) -> None:
        heap = self.heap
        pop = heapq.heappop
        handled = 0
        progress = self.progress
        w = self.world
        m = self.model
        out = self.out
        while heap:
            t, _, kind, payload = pop(heap)
            self.now = t
            if kind == _CLIENT:
                self._step(payload, t)
            elif kind == _NEMESIS:
                for item in w.items.values():      # deliveries due before the fault happen before it
                    if item.flights:               # (one due at its very time, after it: a heal)
                        self.catch_up(item, t - 1)
                if self.trace is not None:
                    self.trace.append(("nemesis",))
                m.nemesis(w, t, out)
            else:
                key, region, write_id = payload
                m.sweep(w, key, region, write_id, t, out)
            handled += 1
            if progress is not None and handled % 4_096 == 0:
                progress(t)

    def _step(self, c: Client, t: int) -> None:
        """Client ``c``'s next step, due at ``t``."""
        m = self.model
        w = self.world
        phase = c.phase
        trace = self.trace
        if phase == IDLE:
            if m.workload_client(c) and c.fpc == 0 and t < self.duration:
                op = self._workload_request(c, t)
            else:
                nxt = m.next_request(c)
                if nxt is None:
                    c.phase = FINISHED
                    return
                if nxt.final:
                    if t < self.settled_at:
                        self.push(self.settled_at, _CLIENT, c)
                        return
                    self._touch_op(nxt, t)     # its key has settled: everything has arrived
                op = nxt
            if trace is not None:
                trace.append(("invoke", str(c.pid)))
            m.invoke(w, c, op, t, self.out)
        elif phase == SENT:
            sent = c.op
            assert sent is not None
            if trace is not None:
                self._touch_op(sent, t)
            if m.strong and not c.timeout and (sent.f != "read" or sent.consistent):
                if trace is not None:
                    trace.append(("arrive", str(c.pid)))
                m.arrive_strong(w, c, t, self.out)
            else:
                copy = durable = -1
                down = w.down[m.rix[c.region]] > 0
                if sent.f == "read":
                    if not sent.consistent and not c.timeout and not down:
                        copy = self.choices.eventual_copy(self.C)
                elif not c.timeout and down:
                    durable = 1 if self.choices.reached_storage() else 0
                if trace is not None:
                    trace.append(("complete", str(c.pid), copy, durable))
                m.complete(w, c, t, copy, durable, self.out)
        elif phase == WAIT:
            assert c.op is not None
            if trace is not None:
                self._touch_op(c.op, t)
                trace.append(("ack", str(c.pid)))
            m.ack(w, c, t, self.out)
        else:
            return
        self._schedule(c, t)

    def _touch_op(self, op: Op, t: int) -> None:
        """Before a client's request acts on its items at ``t``: their deliveries due by then
        (when tracing, so that the trace has them before the action, as the explorer takes
        them; otherwise the relation's ``touch`` takes them when it reads the item)."""
        items = self.world.items
        if op.parts is None:
            item = items.get(op.key)
            if item is not None and item.flights:
                self.catch_up(item, t)
        else:
            for part in op.parts:
                item = items.get(part.key)
                if item is not None and item.flights:
                    self.catch_up(item, t)

    def _schedule(self, c: Client, t: int) -> None:
        """After a step at ``t``: when ``c`` acts next."""
        phase = c.phase
        if phase == SENT or phase == WAIT:
            self.push(c.due, _CLIENT, c)
        elif phase == IDLE:
            m = self.model
            if m.workload_client(c) and c.fpc == 0:
                if t < self.duration or c.finals:
                    self.push(t + self.choices.think_time(self.think_mean), _CLIENT, c)
            else:
                op = m.next_request(c)
                if op is not None:
                    self.push(m.invoke_time(c, op), _CLIENT, c)

    def _workload_request(self, c: Client, t: int) -> Op:
        """The next request of a workload client: every pick is a choice."""
        choices = self.choices
        w = self.world
        kind = choices.request_kind(self.mix)
        key = choices.key(self.model.key_chooser)
        if kind == "read":
            return Op("read", key, None, choices.strong_read(self.strong_share))
        if kind == "write":
            return Op("write", key, self.new_item(t))
        if kind == "update" or kind == "increment" or kind == "conditional_update":
            w.rev += 1
            op = Op("update", key, choices.update_change(w.rev, kind == "increment"))
            if kind == "conditional_update":
                op.condition = self._condition(c, key)
            return op
        if kind == "delete" or kind == "conditional_delete":
            op = Op("delete", key)
            if kind == "conditional_delete":
                op.condition = self._condition(c, key)
            return op
        seen = c.last_seen
        if kind == "cas":
            return Op("cas", key, [None if seen is None else seen.get(key), self.new_item(t)])
        w.txn += 1
        keys = [key]
        chooser = self.model.key_chooser
        for _ in range(min(self.txn_size, len(chooser.keys)) - 1):
            k = choices.key(chooser)
            tries = 0
            while k in keys and tries < 20:
                k = choices.key(chooser)
                tries += 1
            if k not in keys:
                keys.append(k)
        parts = []
        for i, k in enumerate(keys):
            w.rev += 1
            part = Op("update", k, choices.update_change(w.rev, False))
            if i == 0 and choices.transaction_condition():
                part.condition = self._condition(c, k)
            parts.append(part)
        first = parts[0]
        op = Op(first.f, first.key, first.value, first.consistent, first.condition)
        op.txn = w.txn
        op.parts = parts
        return op

    def new_item(self, t: int) -> dict[str, Any]:
        w = self.world
        w.rev += 1
        item = self.choices.new_item(w.rev)
        share = self.ttl_share
        if share > 0 and self.choices.carries_ttl(share):
            item["ttl"] = (t + self.ttl_after_ns) // 1_000_000_000 + 1_704_067_200
        return item

    def _condition(self, c: Client, key: str) -> dict[str, Any]:
        seen = None if c.last_seen is None else c.last_seen.get(key)
        return {"rev": seen.get("rev")} if isinstance(seen, dict) else {}

    def _finish(self) -> SimulationSummary:
        w = self.world
        end = self.now
        if self.max_arrival > self.settled_at:     # checked before the files are committed
            raise AssertionError("replication outlived the settle period; the header would lie")
        items = w.items
        for key in sorted(items):
            self.catch_up(items[key], NEVER - 1)
        truth = self.truth
        if truth is not None:
            C = self.C
            workload_keys = self.model.key_chooser.keys if self.sc.random_workload else []
            for key in workload_keys + sorted(set(items) - set(workload_keys)):
                item = items.get(key)
                for i, r in enumerate(self.regions):
                    v = item.slots[i * C] if item else None
                    truth.write({"kind": "final", "region": r, "key": key,
                                 "saw": None if v is None else self._index(v.write_id)})
            truth.close()
        self.out.close()
        return SimulationSummary("<stream>", None, w.index, self.operations, self.writes, self.reads,
                                 self.final_reads, self.settled_at, end)


def rules_for(bug: str | None) -> Rules | None:
    """The correct rules (None), or the named test-only mutant (``model/mutants.py``)."""
    if bug is None:
        return None
    from gtcheck.model.mutants import mutant

    return mutant(bug)


def simulate(scenario: Scenario, seed: int, history: str | Path | IO[bytes],
             truth: str | Path | IO[bytes] | None | bool = True, *,
             progress: Callable[[int], None] | None = None, bug: str | None = None,
             rules: Rules | None = None) -> SimulationSummary:
    """Run ``scenario`` with ``seed``; stream the history to ``history`` and the ground
    truth to ``truth`` (True: beside the history as ``NAME.truth.jsonl``; None/False: no
    sidecar). ``bug`` names a test-only mutant (see ``BUGS`` and ``model/mutants.py``)
    that breaks the model in one known way so tests can prove the checker catches it;
    ``rules`` passes a rule set (a mutant) directly."""
    if bug is not None and rules is not None:
        raise ValueError("give bug or rules, not both")
    chosen = rules if rules is not None else rules_for(bug)
    if truth is True:
        truth = truth_path_for(history) if isinstance(history, (str, Path)) else None
    elif truth is False:
        truth = None
    check_script(scenario)
    out = JsonLinesWriter(history)
    sidecar: JsonLinesWriter | None = None
    try:
        sidecar = JsonLinesWriter(truth) if truth is not None else None
        summary = Simulator(scenario, seed, out, sidecar, progress=progress, rules=chosen).run()
    except BaseException:
        out.abort()              # a failed run leaves no half-written history behind
        if sidecar is not None:
            sidecar.abort()
        raise
    summary.history = str(history) if isinstance(history, (str, Path)) else "<stream>"
    summary.truth = str(truth) if isinstance(truth, (str, Path)) else None
    return summary
