"""The timed simulator: a deterministic discrete-event driver over the model's rules.

Clients (processes) in every region issue requests; each request is handled by the
region that received it (its origin): conditions are evaluated there, the write is
stamped there with ``max(region clock, stored ts + 1 µs)``, and acknowledged once
``write_quorum`` of the region's storage copies hold it. It then replicates to every
other region, asynchronously, per item in order, possibly coalesced, and is applied
only where it wins (last writer wins on the whole item). Faults cut links, stop
regions, delay replication and move clocks; clients can fail over.

The semantics live in ``model/rules.py`` (and ``kernel.itemspec``, ``lww``, ``faults``); every
decision comes from a ``Choices`` object (``SeededChoices``: three streams seeded by the
one seed); the state is one ``SimState``. There is no wall clock: simulated time is an
integer of nanoseconds and ties in the event queue are broken by insertion order, so one
scenario and one seed give one byte-identical history.
"""

from __future__ import annotations

import gc
import heapq
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable

from gtcheck.kernel import __version__
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.sidecar import truth_path_for
from gtcheck.kernel import itemspec
from gtcheck.model.choices import MAX_COPY_LAG_NS, MAX_REPLICATION_DELAY_NS, Choices, SeededChoices
from gtcheck.model.clocks import RegionClocks
from gtcheck.model.faults import FaultPlan
from gtcheck.kernel.jsonlines import history_header
from gtcheck.model.history_writer import JsonLinesWriter, Sink
from gtcheck.model.lww import Version
from gtcheck.model.rules import (REPLICATED_WRITE_CONFLICT, Rules, evaluate, fifo_arrival, invoke_event,
                                  link_arrival, quorum_round_trip, route, stamp, strong_admit)
from gtcheck.model.scenario import Scenario, ScriptedOp, refuse_messages
from gtcheck.model.state import ItemLog, Op, Process, SimState
from gtcheck.model.storage import NEVER, InFlight, ItemStore
from gtcheck.model.workload import KeyChooser, MixChooser, tag

__all__ = ["BUGS", "STRONG_BUGS", "MAX_COPY_LAG_NS", "MAX_REPLICATION_DELAY_NS", "SimulationSummary", "Simulator", "simulate"]

# The test-only mutants' names (``model/mutants.py``), for ``simulate(..., bug=NAME)``: eventual
# mode's, and strong mode's.
BUGS = ("stale-strong-read", "drop-replication", "phantom-value", "show-failed-write", "delay-replication")
STRONG_BUGS = ("strong-local-read",)

_INVOKE, _COMPLETE, _NEMESIS, _TTL, _SCRIPT = 0, 1, 2, 3, 4
# strong mode: a request reaches its region (instead of _COMPLETE); a round trip ends
_STRONG, _ACK = 5, 6
_CORRECT = Rules()


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


class Simulator:
    """Runs ``scenario`` over ``rules`` with ``choices`` (default: seeded by ``seed``),
    writing the history to ``out`` and the ground truth to ``truth`` (sinks; it opens
    no files)."""

    def __init__(self, scenario: Scenario, seed: int, out: Sink, truth: Sink | None = None, *,
                 progress: Callable[[int], None] | None = None, rules: Rules | None = None,
                 choices: Choices | None = None):
        check_script(scenario)
        self.sc = scenario
        self.seed = seed
        self.rules = rules if rules is not None else _CORRECT
        if self.rules.mode and self.rules.mode != scenario.mode:
            raise ValueError(f"the test-only mutant {self.rules.name!r} breaks {self.rules.mode} mode; "
                             f"this scenario runs in {scenario.mode} mode")
        self.progress = progress
        self.choices: Choices = choices if choices is not None else SeededChoices(scenario, seed)
        self.plan = FaultPlan(scenario, self.choices.random_faults(scenario))
        self.clocks = RegionClocks(scenario, self.plan)
        for region in scenario.regions:     # offset = { min, max }: drawn (only when a range is given)
            spec = scenario.clock(region)
            if spec.offset_max_ns is not None:
                self.clocks.offset[region] = self.choices.clock_offset(region, spec.offset_ns, spec.offset_max_ns)
        self.regions = list(scenario.regions)
        self.rix = {r: i for i, r in enumerate(self.regions)}
        self.copies = scenario.copies
        self.quorum = scenario.write_quorum
        self.coalesce = scenario.coalesce
        self.key_chooser = KeyChooser(scenario.workload)
        self.mix = MixChooser(scenario.workload)
        wl = scenario.workload
        self.duration = wl.duration_ns
        # scenario values the hot path reads, as plain attributes
        self.timeout_ns = scenario.timeout_ns
        self.routing = scenario.failover.policy != "none"
        self.strong_share = wl.strong_reads
        self.txn_size = wl.transaction_size
        self.ttl_share = wl.ttl.share
        self.ttl_after_ns = wl.ttl.after_ns
        self.ttl_lag = wl.ttl.lag
        self.settled_at = (max(self.duration + scenario.timeout_ns, self.plan.healed_at)
                           + max(scenario.settle_ns, MAX_REPLICATION_DELAY_NS + MAX_COPY_LAG_NS + scenario.timeout_ns))
        n_proc = wl.processes_per_region * len(self.regions)
        self.think_mean = n_proc / wl.rate * 1e9
        self.state = SimState([Process(i, self.regions[i // wl.processes_per_region]) for i in range(n_proc)])
        self.faulty_links = self.plan.any_cut or bool(self.plan.delays)
        self.any_down = any(self.plan.down.values())
        # the mode, chosen once: which event a request's arrival at its region is, and so
        # which set of rules handles it (eventual: _complete; strong: _complete_strong)
        self.arrive_kind = _STRONG if scenario.strong else _COMPLETE
        # strong mode: the regions a region's writes and strong reads wait for
        peers = self.regions + ([scenario.witness] if scenario.witness is not None else [])
        self.peers = {r: [p for p in peers if p != r] for r in self.regions}
        self.out = out
        self.truth = truth
        self.rules.attach(self)
        self.completed: Callable[[InFlight], None] = self._on_complete   # bound once, not per call
        ts_eps = self.clocks.max_abs_offset(self.settled_at) + 2_000
        header = history_header(self.regions, mode=scenario.mode, clock_uncertainty_ns=0,
                                ts_uncertainty_ns=ts_eps, settled_after_ns=self.settled_at, meta={
            "source": "model", "seed": seed, "scenario": scenario.name, "gtcheck_version": __version__,
            "workload": {"keys": wl.keys, "zipf": wl.zipf, "processes_per_region": wl.processes_per_region,
                         "rate": wl.rate, "duration_ns": wl.duration_ns, "strong_reads": wl.strong_reads},
        })
        if scenario.description:
            header["description"] = scenario.description
        if scenario.witness is not None:
            header["witness"] = scenario.witness
        if self.rules.name:
            header["injected_bug"] = self.rules.name
        out.write(header)
        if truth is not None:
            truth.write({"kind": "header", "format": "gt-truth", "version": 1, "seed": seed,
                         "scenario": scenario.name, "regions": self.regions})

    # ------------------------------------------------------------------ plumbing
    def push(self, t: int, kind: int, payload: Any) -> None:
        st = self.state
        st.seq += 1
        heapq.heappush(st.heap, (t, st.seq, kind, payload))

    def emit(self, event: dict[str, Any]) -> int:
        st = self.state
        i = st.index
        st.index = i + 1
        event["index"] = i
        self.out.write(event)
        return i

    def item(self, key: str) -> ItemStore:
        items = self.state.items
        item = items.get(key)
        if item is None:
            item = items[key] = ItemStore(key, len(self.regions), self.copies)
        return item

    def _on_complete(self, entry: InFlight) -> None:
        truth = self.truth
        if truth is None:
            return
        v = entry.version
        truth.write({"kind": "write", "index": v.write_id, "key": entry.key, "region": entry.region,
                     "ts": v.ts, "origin": v.origin, "took_effect": True,
                     "applied_ns": {r: entry.applied[i] for i, r in enumerate(self.regions)}})

    def _truth_no_effect(self, write_id: int, key: str, region: str) -> None:
        if self.truth is not None:
            self.truth.write({"kind": "write", "index": write_id, "key": key, "region": region,
                              "took_effect": False})

    # ------------------------------------------------------------------ replication
    def _install(self, item: ItemStore, version: Version, t: int, region: str) -> InFlight:
        """Record a new version stamped in ``region`` at ``t`` and its arrival everywhere."""
        C = self.copies
        quorum = self.quorum
        choices = self.choices
        lag = choices.copy_lag
        st = self.state
        o = self.rix[region]
        n = len(self.regions)
        arrival: list[int] = []
        append = arrival.append
        plan = self.plan
        faulty = self.faulty_links
        for d, target in enumerate(self.regions):
            if d == o:
                append(t)
                for c in range(1, C):   # the quorum's followers have it at the acknowledgement
                    append(t if c < quorum else t + lag())
                continue
            if faulty:
                a = link_arrival(plan, choices, region, target, t)
            else:
                a = choices.replication_delay(region, target)
                a = t + (a if a < MAX_REPLICATION_DELAY_NS else MAX_REPLICATION_DELAY_NS)
            tail = item.link_tail[o * n + d]
            if tail is not None:
                prev = tail.arrival[d * C]
                if prev != NEVER and prev > t:
                    # still queued on this link: per-item order is kept, and the older
                    # version may be coalesced into this one
                    a = fifo_arrival(prev, a)
                    if choices.coalesce(self.coalesce):
                        for c in range(C):
                            tail.cancel(d * C + c)
            append(a)
            for c in range(1, C):
                append(a + lag())
            if a + MAX_COPY_LAG_NS > st.max_arrival:
                st.max_arrival = a + MAX_COPY_LAG_NS
        self.rules.arrivals(arrival, C, n)
        entry = InFlight(version, arrival, item.key, region, n)
        for d in range(n):
            if d != o:
                item.link_tail[o * n + d] = entry
        item.pending.append(entry)
        item.catch_up(t, self.completed)
        return entry

    # ------------------------------------------------------------------ the run
    def run(self) -> SimulationSummary:
        st = self.state
        sc = self.sc
        for rec in self.plan.nemesis_records():
            self.push(rec.time, _NEMESIS, rec)
        wl = sc.workload
        choices = self.choices
        for proc in st.processes:
            start = choices.first_request(self.think_mean) if sc.random_workload else self.settled_at
            self.push(start, _INVOKE, proc)
        for sop in sc.script:
            self.push(sop.at_ns, _SCRIPT, sop)
        if sc.final_reads:
            keys = self.key_chooser.keys if sc.random_workload else []
            scripted = {part["key"] for sop in sc.script
                        for part in (sop.request["parts"] if sop.request["f"] == "transaction" else (sop.request,))}
            keys = keys + sorted(scripted - set(keys))
            per_region = wl.processes_per_region
            for proc in st.processes:
                j = int(proc.pid) % per_region
                proc.final_keys = keys[j::per_region]
        gc_was_enabled = gc.isenabled()
        gc.disable()    # the run allocates many small objects and frees few: cyclic GC only costs
        try:
            self._loop()
            return self._finish()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _loop(self) -> None:
        st = self.state
        heap = st.heap
        pop = heapq.heappop
        handled = 0
        progress = self.progress
        progress_every = 4_096
        while heap:
            t, _, kind, payload = pop(heap)
            st.now = t
            if kind == _COMPLETE:
                self._complete(payload, t)
            elif kind == _INVOKE:
                self._invoke(payload, t)
            elif kind == _SCRIPT:
                self._scripted(payload, t)
            elif kind == _NEMESIS:
                self.emit({"index": 0, "type": "info", "process": "nemesis", "f": payload.f,
                           "value": payload.value, "time": t})
            elif kind == _STRONG:
                self._complete_strong(payload, t)
            elif kind == _ACK:
                self._acknowledge(payload, t)
            else:
                self._ttl_sweep(payload, t)
            handled += 1
            if progress is not None and handled % progress_every == 0:
                progress(t)

    def _finish(self) -> SimulationSummary:
        st = self.state
        end = st.now
        if st.max_arrival > self.settled_at:   # checked before the files are committed
            raise AssertionError("replication outlived the settle period; the header would lie")
        items = st.items
        for key in sorted(items):
            items[key].flush(self.completed)
        truth = self.truth
        if truth is not None:
            C = self.copies
            workload_keys = self.key_chooser.keys if self.sc.random_workload else []
            for key in workload_keys + sorted(set(items) - set(workload_keys)):
                item = items.get(key)
                for i, r in enumerate(self.regions):
                    v = item.slots[i * C] if item else None
                    truth.write({"kind": "final", "region": r, "key": key,
                                 "saw": None if v is None else v.write_id})
            truth.close()
        self.out.close()
        s = SimulationSummary("<stream>", None, st.index, st.operations, st.writes, st.reads, st.final_reads,
                              self.settled_at, end)
        return s

    # ------------------------------------------------------------------ invocations
    def _scripted(self, entry: ScriptedOp, t: int) -> None:
        """A scripted request: runs on its own client, or queues behind the earlier
        requests of the client it names. Every item it writes gets a fresh ``rev``."""
        st = self.state
        pid: int | str
        if entry.process is not None:
            pid = entry.process
        else:
            st.auto_pid += 1
            pid = f"s{st.auto_pid}"
        proc = st.script_procs.get(pid)
        if proc is None:
            proc = st.script_procs[pid] = Process(pid, entry.region, scripted=True)
        proc.home = proc.region = entry.region
        req = entry.request
        if req["f"] == "transaction":
            parts = [Op.from_request(self._tag(dict(p))) for p in req["parts"]]
            st.txn += 1
            op = parts[0].copy()
            op.txn = st.txn
            op.parts = parts
        else:
            op = Op.from_request(self._tag(dict(req)))
        if entry.latency_ns is not None:
            op.latency = entry.latency_ns
        if proc.op is None:
            self.start(proc, t, op)
        else:
            assert proc.queue is not None
            proc.queue.append(op)

    def _tag(self, req: dict[str, Any]) -> dict[str, Any]:
        self.state.rev = tag(req, self.state.rev)
        return req

    def _invoke(self, proc: Process, t: int) -> None:
        if t >= self.duration:
            if not proc.final_keys:
                return
            if t < self.settled_at:
                self.push(self.settled_at, _INVOKE, proc)
                return
            key = proc.final_keys.pop()
            proc.region = proc.home
            op = Op("read", key, None, True)
            op.final = True
            self.start(proc, t, op)
            return
        injected = self.rules.inject(self, proc, t)
        if injected is not None:
            self.start(proc, t, injected)
            return
        self.start(proc, t, self._workload_request(proc, t))

    def _workload_request(self, proc: Process, t: int) -> Op:
        """The next request of a workload client: every pick is a choice."""
        choices = self.choices
        st = self.state
        kind = choices.request_kind(self.mix)
        key = choices.key(self.key_chooser)
        if kind == "read":
            return Op("read", key, None, choices.strong_read(self.strong_share))
        if kind == "write":
            return Op("write", key, self.new_item(t))
        if kind == "update" or kind == "increment" or kind == "conditional_update":
            st.rev += 1
            op = Op("update", key, choices.update_change(st.rev, kind == "increment"))
            if kind == "conditional_update":
                op.condition = self._condition(proc, key)
            return op
        if kind == "delete" or kind == "conditional_delete":
            op = Op("delete", key)
            if kind == "conditional_delete":
                op.condition = self._condition(proc, key)
            return op
        if kind == "cas":
            return Op("cas", key, [proc.last_seen.get(key), self.new_item(t)])
        st.txn += 1
        keys = [key]
        for _ in range(min(self.txn_size, len(self.key_chooser.keys)) - 1):
            k = choices.key(self.key_chooser)
            tries = 0
            while k in keys and tries < 20:
                k = choices.key(self.key_chooser)
                tries += 1
            if k not in keys:
                keys.append(k)
        parts = []
        for i, k in enumerate(keys):
            st.rev += 1
            part = Op("update", k, choices.update_change(st.rev, False))
            if i == 0 and choices.transaction_condition():
                part.condition = self._condition(proc, k)
            parts.append(part)
        op = parts[0].copy()
        op.txn = st.txn
        op.parts = parts
        return op

    def new_item(self, t: int) -> dict[str, Any]:
        st = self.state
        st.rev += 1
        item = self.choices.new_item(st.rev)
        share = self.ttl_share
        if share > 0 and self.choices.carries_ttl(share):
            item["ttl"] = (t + self.ttl_after_ns) // 1_000_000_000 + 1_704_067_200
        return item

    def _condition(self, proc: Process, key: str) -> dict[str, Any]:
        seen = proc.last_seen.get(key)
        return {"rev": seen.get("rev")} if isinstance(seen, dict) else {}

    def start(self, proc: Process, t: int, op: Op) -> None:
        if not self.routing:
            region = proc.home
        else:
            region, proc.region = route(self.sc.failover, self.plan, self.regions, proc.home, proc.region, t)
        op.region = region
        op.index = self.emit(invoke_event(proc.pid, region, op.f, op.key, op.value, op.consistent,
                                                op.condition, op.txn, t))
        proc.op = op
        if self.any_down and self.plan.is_down(region, t):
            op.timeout = True
            self.push(t + self.timeout_ns, self.arrive_kind, proc)
        else:
            latency = op.latency if op.latency is not None else self.choices.request_latency()
            if latency > self.timeout_ns:
                # slower than the client waits: it gives up at the timeout (info) and the
                # request is lost on the way, as when its region is down
                op.timeout = True
                latency = self.timeout_ns
            self.push(t + latency, self.arrive_kind, proc)

    # ------------------------------------------------------------------ completions
    def _complete(self, proc: Process, t: int) -> None:
        op = proc.op
        assert op is not None
        proc.op = None
        if op.timeout:
            self.finish_op(proc, op, t, "info", None, None)
        elif self.any_down and self.plan.is_down(op.region, t):
            # the region failed while the request was in flight: the client times out,
            # and a write may or may not have reached durable storage
            applied = op.f != "read" and self.choices.reached_storage()
            self._apply(proc, op, t, "info" if applied else None)
        else:
            self._apply(proc, op, t, "ok")
        self._next(proc, t)

    def _next(self, proc: Process, t: int) -> None:
        """A client whose request completed at ``t`` sends its next one."""
        if proc.queue is not None:
            if proc.queue:
                self.start(proc, t, proc.queue.pop(0))
        elif t < self.duration or proc.final_keys:
            self.push(t + self.choices.think_time(self.think_mean), _INVOKE, proc)

    def finish_op(self, proc: Process, op: Op, t: int, outcome: str, value: Any,
                  version: Version | None, took_effect: bool = False, error: str = "") -> None:
        f = op.f
        event: dict[str, Any] = {"index": 0, "type": outcome, "process": proc.pid, "region": op.region, "f": f,
                                 "key": op.key, "value": value, "time": t}
        if version is not None and outcome == "ok":
            event["ts"] = version.ts
            event["origin"] = version.origin
        if error:
            event["error"] = error
        self.emit(event)
        st = self.state
        st.operations += 1
        if f == "read":
            st.reads += 1
        else:
            st.writes += 1
            if version is None and not took_effect:
                self._truth_no_effect(op.index, op.key, op.region)

    def finish_read(self, proc: Process, op: Op, t: int, v: Version | None, copy: int) -> None:
        """A read served ``v`` from ``copy`` of its region: the client's answer, what the
        client remembers for its conditions, and the ground truth of what it saw."""
        value = self.rules.read_value(v, t)
        proc.last_seen[op.key] = value
        self.finish_op(proc, op, t, "ok", value, None)
        if op.final:
            self.state.final_reads += 1
        if self.truth is not None:
            self.truth.write({"kind": "read", "index": op.index, "saw": None if v is None else v.write_id,
                              "copy": copy})

    def _apply(self, proc: Process, op: Op, t: int, outcome: str | None) -> None:
        """Carry out ``op`` at its region at ``t``. ``outcome`` None: it was lost (info,
        no effect); "info": took effect but the client saw a timeout."""
        if op.parts is not None:
            self._apply_transaction(proc, op, t, outcome)
            return
        if outcome is None:
            self.finish_op(proc, op, t, "info", None, None)
            return
        f, key, region = op.f, op.key, op.region
        item = self.item(key)
        item.catch_up(t, self.completed)
        C = self.copies
        base = self.rix[region] * C
        rules = self.rules
        if f == "read":
            if outcome != "ok":
                self.finish_op(proc, op, t, "info", None, None)
                return
            copy = rules.read_copy(op.consistent, C, self.choices)
            self.finish_read(proc, op, t, item.slots[base + copy], copy)
            return
        stored = item.slots[base]
        new_item, ok, answer = evaluate(stored, itemspec.Request(f, key, op.value, op.condition))
        if op.injected:
            rules.carry_out(self, proc, op, item, t, new_item, stored)
            return
        if not ok:
            # a timed-out client never hears that its condition failed
            self.finish_op(proc, op, t, "fail" if outcome == "ok" else "info", None, None)
            return
        version = self.write(item, op, t, new_item, stored)
        if outcome == "info":
            self.finish_op(proc, op, t, "info", None, version)
        else:
            self.finish_op(proc, op, t, "ok", answer, version)
        if self.ttl_share > 0 and isinstance(new_item, dict) and "ttl" in new_item:
            sweep = t + self.ttl_after_ns + self.choices.ttl_sweep_lag(self.ttl_lag)
            if sweep < self.duration:
                self.push(sweep, _TTL, (key, region, version.write_id))

    # ------------------------------------------------------------------ strong mode
    def log(self, key: str) -> ItemLog:
        logs = self.state.logs
        log = logs.get(key)
        if log is None:
            log = logs[key] = ItemLog()
        return log

    def _complete_strong(self, proc: Process, t: int) -> None:
        """Strong mode: ``proc``'s request has reached its region at ``t``. An eventually
        consistent read is answered there, from a local copy, as in eventual mode. A write
        or a strongly consistent read first waits for one other region
        (``quorum_round_trip``); none answering within the timeout, the client sees ``info``
        and a write has no effect. A write of an item another region is writing fails with
        a replication conflict (``strong_admit``); otherwise it is evaluated against the
        item's latest version, stamped after it, and acknowledged (and applied at its
        region, then replicated) when the round trip ends."""
        op = proc.op
        assert op is not None
        region = op.region
        if op.timeout or (op.f == "read" and not op.consistent):
            self._complete(proc, t)
            return
        if self.any_down and self.plan.is_down(region, t):
            proc.op = None         # the region failed while the request was on its way
            self.finish_op(proc, op, t, "info", None, None)
            self._next(proc, t)
            return
        budget = self.timeout_ns
        if op.f == "read":
            rtt = quorum_round_trip(self.plan, self.choices, region, self.peers[region], t, budget)
            if rtt is None:
                self.push(t + budget, _ACK, (proc, "info", None, None, ""))
            else:
                self.push(t + rtt, _ACK, (proc, "ok", None, None, ""))
            return
        log = self.log(op.key)
        start = strong_admit(log, region, t)
        at = t if start is None else start
        rtt = quorum_round_trip(self.plan, self.choices, region, self.peers[region], at, budget - (at - t))
        if rtt is None:
            self.push(t + budget, _ACK, (proc, "info", None, None, ""))
        elif start is None:
            self.push(t + rtt, _ACK, (proc, "fail", None, None, REPLICATED_WRITE_CONFLICT))
        else:
            ack = start + rtt
            latest = log.latest()
            new_item, ok, answer = evaluate(latest, itemspec.Request(op.f, op.key, op.value, op.condition))
            if not ok:
                self.push(ack, _ACK, (proc, "fail", None, None, ""))
                return
            version = Version(stamp(self.clocks.now_us(region, ack), latest), region, op.index, new_item,
                              new_item is None)
            log.decide(ack, version)
            self.push(ack, _ACK, (proc, "ok", version, answer, ""))

    def _acknowledge(self, payload: tuple[Process, str, Version | None, Any, str], t: int) -> None:
        """Strong mode: the round trip of ``proc``'s request has ended at ``t``. A strongly
        consistent read returns the latest acknowledged version (the head of the item's
        log); a decided write is applied at its region and replicated (the client sees
        ``info`` if its region has failed meanwhile: it took effect all the same)."""
        proc, outcome, version, answer, error = payload
        op = proc.op
        assert op is not None
        proc.op = None
        key = op.key
        if outcome != "ok":
            self.finish_op(proc, op, t, outcome, None, None, error=error)
        elif op.f == "read":
            self.finish_read(proc, op, t, self.rules.strong_read(self, key, op.region, self.log(key).at(t), t), 0)
        else:
            assert version is not None
            item = self.item(key)
            item.catch_up(t, self.completed)
            self._install(item, version, t, op.region)
            if self.any_down and self.plan.is_down(op.region, t):
                self.finish_op(proc, op, t, "info", None, version)
            else:
                self.finish_op(proc, op, t, "ok", answer, version)
        self._next(proc, t)

    def write(self, item: ItemStore, op: Op, t: int, new_item: Any, stored: Version | None) -> Version:
        """Stamp ``new_item`` at ``op``'s region and install it (acknowledge, replicate)."""
        region = op.region
        ts = stamp(self.clocks.now_us(region, t), stored)
        version = Version(ts, region, op.index, new_item, new_item is None)
        self._install(item, version, t, region)
        return version

    def _apply_transaction(self, proc: Process, op: Op, t: int, outcome: str | None) -> None:
        """TransactWriteItems: all or nothing at the origin region, each item then
        replicated on its own (other regions may see part of it for a while). Recorded as
        consecutive operations of one process at one time sharing a ``txn`` id."""
        parts = op.parts
        assert parts is not None
        region = op.region
        results = []
        ok_all = outcome is not None
        base = self.rix[region] * self.copies
        for part in parts:
            item = self.item(part.key)
            item.catch_up(t, self.completed)
            stored = item.slots[base]
            new_item, ok, answer = evaluate(stored, itemspec.Request(part.f, part.key, part.value, part.condition))
            ok_all = ok_all and ok
            results.append((item, stored, new_item, answer))
        for i, part in enumerate(parts):
            item, stored, new_item, answer = results[i]
            if i > 0:
                sub = Op(part.f, part.key, part.value)
                sub.region = region
                event: dict[str, Any] = {"index": 0, "type": "invoke", "process": proc.pid, "region": region,
                                         "f": part.f, "key": part.key, "value": part.value, "time": t,
                                         "txn": op.txn}
                if part.condition is not None:
                    event["condition"] = part.condition
                sub.index = self.emit(event)
            else:
                sub = op
            if outcome is None:
                self.finish_op(proc, sub, t, "info", None, None)
            elif not ok_all:
                self.finish_op(proc, sub, t, "fail" if outcome == "ok" else "info", None, None)
            else:
                version = self.write(item, sub, t, new_item, stored)
                self.finish_op(proc, sub, t, outcome, answer if outcome == "ok" else None, version)

    def _ttl_sweep(self, payload: tuple[str, str, int], t: int) -> None:
        """TTL expiry: the background sweeper deletes the item if it still holds the
        version that carried the TTL; the delete is a version like any other."""
        key, region, write_id = payload
        if self.plan.is_down(region, t):
            return
        item = self.item(key)
        item.catch_up(t, self.completed)
        stored = item.slots[self.rix[region] * self.copies]
        if stored is None or stored.write_id != write_id:
            return
        op = Op("delete", key)
        op.region = region
        op.index = self.emit({"index": 0, "type": "invoke", "process": "ttl", "region": region, "f": "delete",
                              "key": key, "value": None, "time": t})
        version = self.write(item, op, t, None, stored)
        self.emit({"index": 0, "type": "ok", "process": "ttl", "region": region, "f": "delete", "key": key,
                   "value": None, "time": t, "ts": version.ts, "origin": version.origin})
        st = self.state
        st.operations += 1
        st.writes += 1


def rules_for(bug: str | None) -> Rules:
    """The correct rules, or the named test-only mutant (``model/mutants.py``)."""
    if bug is None:
        return _CORRECT
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
