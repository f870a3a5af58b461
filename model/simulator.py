"""The deterministic discrete-event simulation of a global table.

Clients (processes) in every region issue requests; each request is handled by the
region that received it (its origin): conditions are evaluated there, the write is
stamped there with ``max(region clock, stored ts + 1 µs)``, and acknowledged once
``write_quorum`` of the region's storage copies hold it. It then replicates to every
other region, asynchronously, per item in order, possibly coalesced, and is applied
only where it wins (last writer wins on the whole item). Faults cut links, stop
regions, delay replication and move clocks; clients can fail over.

There is no wall clock: simulated time is an integer of nanoseconds, every random
choice comes from streams seeded by the one seed, and ties in the event queue are
broken by insertion order, so one scenario and one seed give one byte-identical
history.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable

from gtcheck.kernel import __version__
from gtcheck.kernel.errors import UserError
from gtcheck.model import spec
from gtcheck.model.clocks import RegionClocks
from gtcheck.model.faults import FaultPlan
from gtcheck.kernel.sidecar import truth_path_for
from gtcheck.model.history_writer import HistoryWriter, JsonLinesWriter
from gtcheck.model.lww import Version
from gtcheck.model.scenario import Scenario
from gtcheck.model.storage import NEVER, InFlight, ItemStore
from gtcheck.model.workload import KeyChooser, MixChooser, increment_change, new_item, update_change

MAX_REPLICATION_DELAY_NS = 15_000_000_000   # no version takes longer to cross a link
MAX_COPY_LAG_NS = 1_000_000_000             # nor to reach a region's slowest copy
BUGS = ("stale-strong-read", "drop-replication", "phantom-value", "show-failed-write", "delay-replication")

_INVOKE, _COMPLETE, _NEMESIS, _TTL, _SCRIPT = 0, 1, 2, 3, 4


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


class _Process:
    __slots__ = ("pid", "home", "region", "op", "last_seen", "final_keys", "forced", "queue")

    def __init__(self, pid: int, home: str, scripted: bool = False):
        self.pid = pid
        self.queue: list[dict[str, Any]] | None = [] if scripted else None   # scripted clients only
        self.home = home
        self.region = home
        self.op: dict[str, Any] | None = None      # the operation in flight
        self.last_seen: dict[str, Any] = {}         # key -> item last read (for conditions)
        self.final_keys: list[str] | None = None
        self.forced: tuple[str, str, int] | None = None   # (f, key, not_before) for injected bugs


class Simulator:
    def __init__(self, scenario: Scenario, seed: int, history: str | Path | IO[bytes],
                 truth: str | Path | IO[bytes] | None = None, *,
                 progress: Callable[[int], None] | None = None, bug: str | None = None):
        if bug is not None and bug not in BUGS:
            raise ValueError(f"unknown bug {bug!r}; known: {', '.join(BUGS)}")
        self.sc = scenario
        self.seed = seed
        self.bug = bug
        self.progress = progress
        self.rng = random.Random(f"gtcheck/{seed}/workload")
        self.net = random.Random(f"gtcheck/{seed}/network")
        self.plan = FaultPlan(scenario, random.Random(f"gtcheck/{seed}/faults"))
        self.clocks = RegionClocks(scenario, self.plan)
        self.regions = list(scenario.regions)
        self.rix = {r: i for i, r in enumerate(self.regions)}
        self.copies = scenario.copies
        self.items: dict[str, ItemStore] = {}
        self.key_chooser = KeyChooser(scenario.workload)
        self.mix = MixChooser(scenario.workload)
        wl = scenario.workload
        self.duration = wl.duration_ns
        self.settled_at = (max(self.duration + scenario.timeout_ns, self.plan.healed_at)
                           + max(scenario.settle_ns, MAX_REPLICATION_DELAY_NS + MAX_COPY_LAG_NS + scenario.timeout_ns))
        n_proc = wl.processes_per_region * len(self.regions)
        self.think_mean = n_proc / wl.rate * 1e9
        self.processes = [_Process(i, self.regions[i // wl.processes_per_region]) for i in range(n_proc)]
        self.heap: list[tuple[int, int, int, Any]] = []
        self.seq = 0
        self.index = 0
        self.rev = 0
        self.txn = 0
        self.script_procs: dict[int | str, _Process] = {}
        for op in scenario.script:
            if isinstance(op.process, int) and op.process < n_proc:
                raise UserError(f"process {op.process} is one of the workload's clients (0 to {n_proc - 1})",
                                where="script", hint=f"use a number from {n_proc} on, or a name")
        self.auto_pid = 0
        self.bug_done = False
        self.max_arrival = 0
        self.now = 0
        self.lag = scenario.copy_lag.sampler(self.net)
        self.latency = scenario.request_latency.sampler(self.rng)
        self.delay = {(a, b): scenario.delay(a, b).sampler(self.net)
                      for a in self.regions for b in self.regions if a != b}
        self.faulty_links = self.plan.any_cut or bool(self.plan.delays)
        self.any_down = any(self.plan.down.values())
        ts_eps = self.clocks.max_abs_offset(self.settled_at) + 2_000
        header = {
            "format": "gt-history", "version": 1, "regions": self.regions, "mode": "eventual",
            "clock_uncertainty_ns": 0, "ts_uncertainty_ns": ts_eps, "settled_after_ns": self.settled_at,
            "source": "model", "seed": seed, "scenario": scenario.name, "gtcheck_version": __version__,
            "workload": {"keys": wl.keys, "zipf": wl.zipf, "processes_per_region": wl.processes_per_region,
                         "rate": wl.rate, "duration_ns": wl.duration_ns, "strong_reads": wl.strong_reads},
        }
        if scenario.description:
            header["description"] = scenario.description
        if bug:
            header["injected_bug"] = bug
        self.out = HistoryWriter(history, header)
        self.summary = SimulationSummary(str(history) if isinstance(history, (str, Path)) else "<stream>",
                                         str(truth) if isinstance(truth, (str, Path)) else None)
        self.truth = JsonLinesWriter(truth) if truth is not None else None
        if self.truth:
            self.truth.write({"kind": "header", "format": "gt-truth", "version": 1, "seed": seed,
                              "scenario": scenario.name, "regions": self.regions})

    # ------------------------------------------------------------------ plumbing
    def _push(self, t: int, kind: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def _emit(self, event: dict[str, Any]) -> int:
        i = self.index
        self.index += 1
        event["index"] = i
        self.out.write(event)
        return i

    def _item(self, key: str) -> ItemStore:
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = ItemStore(key, len(self.regions), self.copies)
        return item

    def _on_complete(self, entry: InFlight) -> None:
        if self.truth is None:
            return
        v = entry.version
        self.truth.write({"kind": "write", "index": v.write_id, "key": entry.key, "region": entry.region,
                          "ts": v.ts, "origin": v.origin, "took_effect": True,
                          "applied_ns": {r: entry.applied[i] for i, r in enumerate(self.regions)}})

    def _truth_no_effect(self, write_id: int, key: str, region: str) -> None:
        if self.truth is not None:
            self.truth.write({"kind": "write", "index": write_id, "key": key, "region": region,
                              "took_effect": False})

    # ------------------------------------------------------------------ routing
    def _route(self, proc: _Process, t: int) -> str:
        fo = self.sc.failover
        if fo.policy == "none":
            return proc.home
        home_down_since = self.plan.down_since(proc.home, t)
        if home_down_since is None:
            if fo.failback or proc.region == proc.home or self.plan.is_down(proc.region, t):
                proc.region = proc.home
            return proc.region
        if t - home_down_since < fo.after_ns:
            return proc.home
        if proc.region != proc.home and not self.plan.is_down(proc.region, t):
            return proc.region
        if fo.policy == "map":
            target = fo.targets.get(proc.home, proc.home)
            proc.region = target if not self.plan.is_down(target, t) else proc.home
            return proc.region
        i = self.rix[proc.home]
        for step in range(1, len(self.regions)):
            cand = self.regions[(i + step) % len(self.regions)]
            if not self.plan.is_down(cand, t):
                proc.region = cand
                return cand
        return proc.home

    # ------------------------------------------------------------------ replication
    def _arrival(self, source: str, target: str, t: int) -> int:
        """When a version sent from ``source`` at ``t`` reaches ``target``'s leader copy:
        queued while the link is cut, resent when it heals."""
        draw = self.delay[(source, target)]
        if not self.faulty_links:
            d = draw()
            return t + (d if d < MAX_REPLICATION_DELAY_NS else MAX_REPLICATION_DELAY_NS)
        plan, s = self.plan, t
        while True:
            if plan.any_cut:
                healed = plan.link_cut_until(source, target, s)
                if healed is not None:
                    s = healed
            d = draw()
            if plan.delays:
                d += plan.extra_delay(source, target, s, self.net)
            a = s + min(d, MAX_REPLICATION_DELAY_NS)
            if plan.any_cut:
                cut = plan.next_cut(source, target, s)
                if cut is not None and cut < a:
                    s = cut
                    continue
            return a

    def _copy_lag(self) -> int:
        d = self.lag()
        return d if d < MAX_COPY_LAG_NS else MAX_COPY_LAG_NS

    def _install(self, item: ItemStore, version: Version, t: int, region: str) -> InFlight:
        """Record a new version stamped in ``region`` at ``t`` and its arrival everywhere."""
        C = self.copies
        quorum = self.sc.write_quorum
        lag = self._copy_lag
        stale_copy = self.bug == "stale-strong-read" and C > 1
        o = self.rix[region]
        arrival: list[int] = []
        append = arrival.append
        for d, target in enumerate(self.regions):
            if d == o:
                append(t)
                for c in range(1, C):   # the quorum's followers have it at the acknowledgement
                    append(t if c < quorum else t + lag())
                continue
            a = self._arrival(region, target, t)
            tail = item.link_tail.get((o, d))
            if tail is not None:
                prev = tail.arrival[d * C]
                if prev != NEVER and prev > t:
                    # still queued on this link: per-item order is kept, and the older
                    # version may be coalesced into this one
                    if prev > a:
                        a = prev
                    if self.net.random() < self.sc.coalesce:
                        for c in range(C):
                            tail.cancel(d * C + c)
            append(a)
            for c in range(1, C):
                append(a + lag())
            if a + MAX_COPY_LAG_NS > self.max_arrival:
                self.max_arrival = a + MAX_COPY_LAG_NS
        if stale_copy:
            for d in range(len(self.regions)):
                arrival[d * C + C - 1] += 1_500_000_000
        entry = InFlight(version, arrival, item.key, region, len(self.regions))
        for d in range(len(self.regions)):
            if d != o:
                item.link_tail[(o, d)] = entry
        item.pending.append(entry)
        item.catch_up(t, self._on_complete)
        return entry

    # ------------------------------------------------------------------ the run
    def run(self) -> SimulationSummary:
        for rec in self.plan.nemesis_records():
            self._push(rec.time, _NEMESIS, rec)
        wl = self.sc.workload
        for proc in self.processes:
            start = int(self.rng.random() * self.think_mean) if self.sc.random_workload else self.settled_at
            self._push(start, _INVOKE, proc)
        for op in self.sc.script:
            self._push(op.at_ns, _SCRIPT, op)
        if self.sc.final_reads:
            keys = self.key_chooser.keys if self.sc.random_workload else []
            keys = keys + sorted({op.request["key"] for op in self.sc.script} - set(keys))
            per_region = wl.processes_per_region
            for proc in self.processes:
                j = proc.pid % per_region
                proc.final_keys = keys[j::per_region]
        progress_every = 4_096
        heap = self.heap
        pop = heapq.heappop
        handled = 0
        while heap:
            t, _, kind, payload = pop(heap)
            self.now = t
            if kind == _COMPLETE:
                self._complete(payload, t)
            elif kind == _INVOKE:
                self._invoke(payload, t)
            elif kind == _SCRIPT:
                self._scripted(payload, t)
            elif kind == _NEMESIS:
                self._emit({"index": 0, "type": "info", "process": "nemesis", "f": payload.f, "value": payload.value,
                            "time": t})
            else:
                self._ttl_sweep(payload, t)
            handled += 1
            if self.progress is not None and handled % progress_every == 0:
                self.progress(t)
        return self._finish()

    def _finish(self) -> SimulationSummary:
        end = self.now
        for key in sorted(self.items):
            self.items[key].flush(self._on_complete)
        if self.truth is not None:
            C = self.copies
            workload_keys = self.key_chooser.keys if self.sc.random_workload else []
            for key in workload_keys + sorted(set(self.items) - set(workload_keys)):
                item = self.items.get(key)
                for i, r in enumerate(self.regions):
                    v = item.slots[i * C] if item else None
                    self.truth.write({"kind": "final", "region": r, "key": key,
                                      "saw": None if v is None else v.write_id})
            self.truth.close()
        self.out.close()
        s = self.summary
        s.events = self.index
        s.settled_after_ns = self.settled_at
        s.end_ns = end
        if self.max_arrival > self.settled_at:
            raise AssertionError("replication outlived the settle period; the header would lie")
        return s

    # ------------------------------------------------------------------ invocations
    def _scripted(self, entry: Any, t: int) -> None:
        """A scripted request: runs on its own client, or queues behind the earlier
        requests of the client it names. Every item it writes gets a fresh ``rev``."""
        if entry.process is not None:
            pid = entry.process
        else:
            self.auto_pid += 1
            pid = f"s{self.auto_pid}"
        proc = self.script_procs.get(pid)
        if proc is None:
            proc = self.script_procs[pid] = _Process(pid, entry.region, scripted=True)
        proc.home = proc.region = entry.region
        op = self._tag(dict(entry.request))
        if op["f"] == "transaction":
            parts = [self._tag(dict(p)) for p in op["parts"]]
            self.txn += 1
            op = dict(parts[0])
            op["txn"] = self.txn
            op["parts"] = parts
        if entry.latency_ns is not None:
            op["latency"] = entry.latency_ns
        if proc.op is None:
            self._start(proc, t, op)
        else:
            proc.queue.append(op)

    def _tag(self, req: dict[str, Any]) -> dict[str, Any]:
        f, value = req["f"], req.get("value")
        if f == "write" and isinstance(value, dict):
            self.rev += 1
            req["value"] = {**value, "rev": self.rev}
        elif f == "update":
            self.rev += 1
            req["value"] = {**value, "set": {**(value.get("set") or {}), "rev": self.rev}}
        elif f == "cas":
            self.rev += 1
            req["value"] = [value[0], {**value[1], "rev": self.rev}]
        return req

    def _invoke(self, proc: _Process, t: int) -> None:
        if t >= self.duration:
            if not proc.final_keys:
                return
            if t < self.settled_at:
                self._push(self.settled_at, _INVOKE, proc)
                return
            key = proc.final_keys.pop()
            proc.region = proc.home
            self._start(proc, t, {"f": "read", "key": key, "consistent": True, "final": True})
            return
        rng = self.rng
        if proc.forced is not None and t >= proc.forced[2]:
            f, key, _ = proc.forced
            proc.forced = None
            self._start(proc, t, {"f": f, "key": key, "consistent": True, "forced": True})
            return
        if self.bug in ("show-failed-write", "drop-replication", "delay-replication") and not self.bug_done \
                and t >= self.duration // 3:
            self.bug_done = True
            key = f"bug-{self.bug}"
            if self.sc.final_reads:
                for p in self.processes:
                    if p.pid % self.sc.workload.processes_per_region == 0 and p.final_keys is not None:
                        p.final_keys.insert(0, key)
            self._start(proc, t, {"f": "write", "key": key, "value": self._new_item(t), "bug": True})
            return
        kind = self.mix.pick(rng)
        key = self.key_chooser.pick(rng)
        op: dict[str, Any] = {"key": key}
        if kind == "read":
            op["f"] = "read"
            op["consistent"] = rng.random() < self.sc.workload.strong_reads
        elif kind == "write":
            op["f"] = "write"
            op["value"] = self._new_item(t)
        elif kind in ("update", "increment", "conditional_update"):
            op["f"] = "update"
            self.rev += 1
            op["value"] = increment_change(self.rev) if kind == "increment" else update_change(self.rev, rng)
            if kind == "conditional_update":
                op["condition"] = self._condition(proc, key)
        elif kind in ("delete", "conditional_delete"):
            op["f"] = "delete"
            if kind == "conditional_delete":
                op["condition"] = self._condition(proc, key)
        elif kind == "cas":
            op["f"] = "cas"
            op["value"] = [proc.last_seen.get(key), self._new_item(t)]
        else:
            self.txn += 1
            keys = [key]
            for _ in range(min(self.sc.workload.transaction_size, len(self.key_chooser.keys)) - 1):
                k = self.key_chooser.pick(rng)
                tries = 0
                while k in keys and tries < 20:
                    k = self.key_chooser.pick(rng)
                    tries += 1
                if k not in keys:
                    keys.append(k)
            parts = []
            for i, k in enumerate(keys):
                self.rev += 1
                part = {"f": "update", "key": k, "value": update_change(self.rev, rng)}
                if i == 0 and rng.random() < 0.3:
                    part["condition"] = self._condition(proc, k)
                parts.append(part)
            op = dict(parts[0])
            op["txn"] = self.txn
            op["parts"] = parts
        self._start(proc, t, op)

    def _new_item(self, t: int) -> dict[str, Any]:
        self.rev += 1
        item = new_item(self.rev, self.rng)
        ttl = self.sc.workload.ttl
        if ttl.share > 0 and self.rng.random() < ttl.share:
            item["ttl"] = (t + ttl.after_ns) // 1_000_000_000 + 1_704_067_200
        return item

    def _condition(self, proc: _Process, key: str) -> dict[str, Any]:
        seen = proc.last_seen.get(key)
        return {"rev": seen.get("rev")} if isinstance(seen, dict) else {}

    def _start(self, proc: _Process, t: int, op: dict[str, Any]) -> None:
        region = self._route(proc, t)
        op["region"] = region
        op["invoke_time"] = t
        event: dict[str, Any] = {"index": 0, "type": "invoke", "process": proc.pid, "region": region, "f": op["f"],
                                 "key": op["key"], "value": op.get("value")}
        if op["f"] == "read":
            event["consistent"] = op["consistent"]
        event["time"] = t
        if "condition" in op:
            event["condition"] = op["condition"]
        if "txn" in op:
            event["txn"] = op["txn"]
        op["index"] = self._emit(event)
        proc.op = op
        if self.any_down and self.plan.is_down(region, t):
            op["timeout"] = True
            self._push(t + self.sc.timeout_ns, _COMPLETE, proc)
        else:
            self._push(t + (op["latency"] if "latency" in op else self.latency()), _COMPLETE, proc)

    # ------------------------------------------------------------------ completions
    def _complete(self, proc: _Process, t: int) -> None:
        op = proc.op
        proc.op = None
        region = op["region"]
        if op.get("timeout"):
            self._finish_op(proc, op, t, "info", None, None)
        elif self.any_down and self.plan.is_down(region, t):
            # the region failed while the request was in flight: the client times out,
            # and a write may or may not have reached durable storage
            applied = op["f"] != "read" and self.rng.random() < 0.5
            self._apply(proc, op, t, outcome="info" if applied else None)
        else:
            self._apply(proc, op, t)
        if proc.queue is not None:
            if proc.queue:
                self._start(proc, t, proc.queue.pop(0))
        elif t < self.duration or proc.final_keys:
            self._push(t + int(self.rng.expovariate(1.0) * self.think_mean), _INVOKE, proc)

    def _finish_op(self, proc: _Process, op: dict[str, Any], t: int, outcome: str, value: Any,
                   version: Version | None, took_effect: bool | None = None) -> None:
        event: dict[str, Any] = {"index": 0, "type": outcome, "process": proc.pid, "region": op["region"], "f": op["f"],
                                 "key": op["key"], "value": value, "time": t}
        if version is not None and outcome == "ok":
            event["ts"] = version.ts
            event["origin"] = version.origin
        self._emit(event)
        self.summary.operations += 1
        if op["f"] == "read":
            self.summary.reads += 1
        else:
            self.summary.writes += 1
            if version is None and not took_effect:
                self._truth_no_effect(op["index"], op["key"], op["region"])

    def _apply(self, proc: _Process, op: dict[str, Any], t: int, outcome: str | None = "ok") -> None:
        """Carry out ``op`` at its region at ``t``. ``outcome`` None: it was lost (info,
        no effect); "info": took effect but the client saw a timeout."""
        if "parts" in op:
            self._apply_transaction(proc, op, t, outcome)
            return
        f, key, region = op["f"], op["key"], op["region"]
        if outcome is None:
            self._finish_op(proc, op, t, "info", None, None)
            return
        item = self._item(key)
        item.catch_up(t, self._on_complete)
        C = self.copies
        base = self.rix[region] * C
        if f == "read":
            if outcome != "ok":
                self._finish_op(proc, op, t, "info", None, None)
                return
            if op["consistent"]:
                copy = C - 1 if self.bug == "stale-strong-read" else 0
            else:
                copy = int(self.rng.random() * C)
            v = item.slots[base + copy]
            value = None if v is None or v.deleted else v.value
            if self.bug == "phantom-value" and not self.bug_done and t >= self.duration // 3:
                self.bug_done = True
                value = {"rev": -1, "phantom": True}
            proc.last_seen[key] = value
            self._finish_op(proc, op, t, "ok", value, None)
            self.summary.final_reads += 1 if op.get("final") else 0
            if self.truth is not None:
                self.truth.write({"kind": "read", "index": op["index"], "saw": None if v is None else v.write_id,
                                  "copy": copy})
            return
        stored = item.slots[base]
        request = spec.Request(f, key, op.get("value"), op.get("condition"))
        new_item, ok, answer = spec.step(None if stored is None or stored.deleted else stored.value, request)
        if op.get("bug"):
            self._apply_bug(proc, op, item, t, new_item, stored)
            return
        if not ok:
            # a timed-out client never hears that its condition failed
            self._finish_op(proc, op, t, "fail" if outcome == "ok" else "info", None, None)
            return
        version = self._stamp(item, op, t, new_item, stored)
        if outcome == "info":
            self._finish_op(proc, op, t, "info", None, version)
        else:
            # a cas completes with its [expected, new] pair, as in Jepsen histories
            self._finish_op(proc, op, t, "ok", op["value"] if f == "cas" else answer, version)
        ttl = self.sc.workload.ttl
        if isinstance(new_item, dict) and "ttl" in new_item and ttl.share > 0:
            sweep = t + ttl.after_ns + ttl.lag.sample(self.rng)
            if sweep < self.duration:
                self._push(sweep, _TTL, (key, region, version.write_id))

    def _stamp(self, item: ItemStore, op: dict[str, Any], t: int, new_item: Any,
               stored: Version | None) -> Version:
        region = op["region"]
        ts = self.clocks.now_us(region, t)
        if stored is not None and stored.ts + 1 > ts:
            ts = stored.ts + 1
        version = Version(ts, region, op["index"], new_item, new_item is None)
        entry = self._install(item, version, t, region)
        return version

    def _apply_bug(self, proc: _Process, op: dict[str, Any], item: ItemStore, t: int, new_item: Any,
                   stored: Version | None) -> None:
        """Test-only: break the model in one known way, on a key of its own so that
        nothing else can hide the damage (see ``BUGS``)."""
        version = self._stamp(item, op, t, new_item, stored)
        entry = item.pending[-1] if item.pending and item.pending[-1].version is version else None
        C, o = self.copies, self.rix[op["region"]]
        target = (o + 1) % len(self.regions)
        if self.bug == "show-failed-write":
            proc.forced = ("read", item.key, t)       # reported failed, applied all the same
            self._finish_op(proc, op, t, "fail", None, None, took_effect=True)
            return
        if entry is not None and self.bug == "drop-replication":
            for c in range(C):
                entry.cancel(target * C + c)          # never reaches the next region
        elif entry is not None:                       # delay-replication: 5 s late everywhere else
            for d in range(len(self.regions)):
                if d != o:
                    for c in range(C):
                        if entry.arrival[d * C + c] >= 0 and entry.arrival[d * C + c] != NEVER:
                            entry.arrival[d * C + c] += 5_000_000_000
            entry.due = min(a for a in entry.arrival if a >= 0)
            self.max_arrival += 5_000_000_000
            reader = next(p for p in self.processes if p.home == self.regions[target])
            reader.forced = ("read", item.key, t + 2_000_000_000)
        self._finish_op(proc, op, t, "ok", new_item, version)

    def _apply_transaction(self, proc: _Process, op: dict[str, Any], t: int, outcome: str | None) -> None:
        """TransactWriteItems: all or nothing at the origin region, each item then
        replicated on its own (other regions may see part of it for a while). Recorded as
        consecutive operations of one process at one time sharing a ``txn`` id."""
        parts, region = op["parts"], op["region"]
        results = []
        ok_all = outcome is not None
        for part in parts:
            item = self._item(part["key"])
            item.catch_up(t, self._on_complete)
            stored = item.slots[self.rix[region] * self.copies]
            request = spec.Request(part["f"], part["key"], part["value"], part.get("condition"))
            new_item, ok, answer = spec.step(None if stored is None or stored.deleted else stored.value, request)
            ok_all = ok_all and ok
            results.append((item, stored, new_item, answer))
        for i, (part, (item, stored, new_item, answer)) in enumerate(zip(parts, results)):
            if i > 0:
                sub = {"f": part["f"], "key": part["key"], "region": region, "value": part["value"]}
                event = {"index": 0, "type": "invoke", "process": proc.pid, "region": region, "f": part["f"],
                         "key": part["key"], "value": part["value"], "time": t, "txn": op["txn"]}
                if "condition" in part:
                    event["condition"] = part["condition"]
                sub["index"] = self._emit(event)
            else:
                sub = op
            if outcome is None:
                self._finish_op(proc, sub, t, "info", None, None)
            elif not ok_all:
                self._finish_op(proc, sub, t, "fail" if outcome == "ok" else "info", None, None)
            else:
                version = self._stamp(item, sub, t, new_item, stored)
                self._finish_op(proc, sub, t, outcome, answer if outcome == "ok" else None, version)

    def _ttl_sweep(self, payload: tuple[str, str, int], t: int) -> None:
        """TTL expiry: the background sweeper deletes the item if it still holds the
        version that carried the TTL; the delete is a version like any other."""
        key, region, write_id = payload
        if self.plan.is_down(region, t):
            return
        item = self._item(key)
        item.catch_up(t, self._on_complete)
        stored = item.slots[self.rix[region] * self.copies]
        if stored is None or stored.write_id != write_id:
            return
        op = {"f": "delete", "key": key, "region": region}
        op["index"] = self._emit({"index": 0, "type": "invoke", "process": "ttl", "region": region, "f": "delete",
                                  "key": key, "value": None, "time": t})
        version = self._stamp(item, op, t, None, stored)
        self._emit({"index": 0, "type": "ok", "process": "ttl", "region": region, "f": "delete", "key": key,
                    "value": None, "time": t, "ts": version.ts, "origin": version.origin})
        self.summary.operations += 1
        self.summary.writes += 1


def simulate(scenario: Scenario, seed: int, history: str | Path | IO[bytes],
             truth: str | Path | IO[bytes] | None | bool = True, *,
             progress: Callable[[int], None] | None = None, bug: str | None = None) -> SimulationSummary:
    """Run ``scenario`` with ``seed``; stream the history to ``history`` and the ground
    truth to ``truth`` (True: beside the history as ``NAME.truth.jsonl``; None/False: no
    sidecar). ``bug`` is a test-only switch that breaks the model in one known way
    (see ``BUGS``) so tests can prove the checker catches it."""
    if truth is True:
        truth = truth_path_for(history) if isinstance(history, (str, Path)) else None
    elif truth is False:
        truth = None
    return Simulator(scenario, seed, history, truth, progress=progress, bug=bug).run()
