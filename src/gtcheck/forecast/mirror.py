"""A scenario whose workload mirrors a recording: regions, rates, key popularity, the
read/write mix, the share of strongly consistent reads, and the faults it recorded.

One streaming pass over the history (the checker's reader, which validates it again):

| scenario field | from the recording |
| --- | --- |
| ``regions.names``, ``mode``, ``regions.witness`` | the header |
| ``workload.keys`` | the number of distinct keys |
| ``workload.zipf`` | the Zipf exponent s that maximises the likelihood of the key counts (P(i-th most used key) proportional to i^-s, as the model draws keys) |
| ``workload.mix.KIND`` | requests per kind: a read; a write; an update (an ``add`` makes it an increment, a ``condition`` a conditional update); a delete (conditional with a ``condition``); a cas; a transaction (operations sharing a ``txn`` count once) |
| ``workload.transaction_size`` | mean items per transaction |
| ``workload.strong_reads`` | strongly consistent reads / reads |
| ``workload.processes_per_region`` | distinct clients per region (the mean over regions; the model gives every region as many) |
| ``workload.rate``, ``workload.duration`` | the request rate the model's closed-loop clients need to reach the recorded throughput (a client waits ``processes / rate`` on average between a completion and its next request), and the span from the first to the last request |
| ``[[faults]]`` | every isolation and outage window of the nemesis events (replication-delay faults are reported but not mirrored: their extra delay is not in the history) |
| ``final.reads`` | whether the recording has a settled final phase |

What a recording cannot show is left at the model's defaults and said in the scenario's
comment: copies per region, write quorum, copy lag, coalescing, clock offsets. Times are
counted from the recording's start (0 for the model's histories).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from gtcheck.checker.faults import FaultWindow
from gtcheck.checker.history import open_history
from gtcheck.checker.operations import Header
from gtcheck.model.scenario import MAX_RATE, MIN_RATE

MS = 1_000_000


@dataclass
class WorkloadStats:
    header: Header
    keys: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    reads: int = 0
    strong_reads: int = 0
    transactions: set = field(default_factory=set)
    transaction_items: int = 0
    clients: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    first_ns: int | None = None
    last_ns: int | None = None
    requests: int = 0
    latency_ns: int = 0             # summed over completed requests
    completed: int = 0
    final_reads: int = 0

    @property
    def span_ns(self) -> int:
        if self.first_ns is None or self.last_ns is None:
            return 0
        return self.last_ns - self.first_ns


def _kind(op: Any) -> str:
    extra = op.extra or {}
    if "txn" in extra:
        return "transaction"
    f = op.f
    if f == "update":
        if "condition" in extra:
            return "conditional_update"
        change = op.invoke_value if isinstance(op.invoke_value, dict) else {}
        return "increment" if change.get("add") else "update"
    if f == "delete":
        return "conditional_delete" if "condition" in extra else "delete"
    return f          # read, write, cas


def scan(path: str) -> WorkloadStats:
    """One pass over the recording's operations."""
    with open_history(path) as reader:
        st = WorkloadStats(reader.header)
        settled = st.header.settled_after_ns
        for op in reader.operations():
            if op.process == "ttl":
                continue
            if settled is not None and op.invoke_time >= settled:
                st.final_reads += op.f == "read"
                continue
            st.keys[op.key] += 1
            st.clients[op.region].add(op.process)
            st.first_ns = op.invoke_time if st.first_ns is None else min(st.first_ns, op.invoke_time)
            st.last_ns = op.invoke_time if st.last_ns is None else max(st.last_ns, op.invoke_time)
            kind = _kind(op)
            if kind == "transaction":
                txn = (op.process, (op.extra or {}).get("txn"))
                st.transaction_items += 1
                if txn in st.transactions:
                    continue
                st.transactions.add(txn)
            st.kinds[kind] += 1
            st.requests += 1
            if kind == "read":
                st.reads += 1
                st.strong_reads += bool(op.consistent)
            if op.complete_time is not None:
                st.latency_ns += op.complete_time - op.invoke_time
                st.completed += 1
    return st


def zipf_exponent(counts: list[int]) -> float:
    """The maximum-likelihood Zipf exponent of key counts (0: uniform), within [0, 10]."""
    from scipy import optimize

    c = sorted(counts, reverse=True)
    if len(c) < 2:
        return 0.0
    logs = [math.log(i + 1) for i in range(len(c))]
    total = sum(c)
    weighted = sum(ci * li for ci, li in zip(c, logs))

    def nll(s: float) -> float:
        z = sum(math.exp(-s * li) for li in logs)
        return s * weighted + total * math.log(z)
    res = optimize.minimize_scalar(nll, bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-4})
    return round(float(res.x), 3) if res.x > 0.005 else 0.0


def start_ns(st: WorkloadStats, windows: list[FaultWindow]) -> int:
    """Where the mirrored scenario's time 0 is: 0 for the model's histories (they start
    there), else the recording's first request or fault."""
    if st.header.meta.get("source") == "model":
        return 0
    firsts = [t for t in [st.first_ns, *(w.start for w in windows)] if t is not None]
    return min(firsts, default=0)


def workload(st: WorkloadStats) -> dict[str, Any]:
    """The ``[workload]`` table."""
    regions = list(st.header.regions)
    per_region = max(1, round(sum(len(st.clients.get(r, ())) for r in regions) / max(1, len(regions))))
    span = max(st.span_ns, MS)
    throughput = st.requests / (span / 1e9)
    clients = per_region * len(regions)
    mean_latency_s = (st.latency_ns / st.completed / 1e9) if st.completed else 0.0
    cycle = clients / throughput if throughput > 0 else 0.0        # seconds per request per client
    think = cycle - mean_latency_s
    rate = clients / think if think > 0 else throughput * 10     # saturated clients: offer more
    rate = min(max(rate, MIN_RATE), MAX_RATE)
    mix = {k: v for k, v in sorted(st.kinds.items()) if v}
    out: dict[str, Any] = {
        "keys": max(1, len(st.keys)),
        "zipf": zipf_exponent(list(st.keys.values())),
        "processes_per_region": per_region,
        "rate": round(rate, 3),
        "duration": f"{max(1, round(span / MS))}ms",
        "strong_reads": round(st.strong_reads / st.reads, 4) if st.reads else 0.0,
        "mix": mix or {"read": 1.0},
    }
    if st.transactions:
        out["transaction_size"] = max(1, min(100, round(st.transaction_items / len(st.transactions))))
    return out


def faults(windows: list[FaultWindow], t0: int, end_ns: int) -> tuple[list[dict[str, Any]], list[str]]:
    """``[[faults]]`` for the isolations and outages; notes for what is not mirrored."""
    out, notes = [], []
    for w in windows:
        if w.what in ("isolated", "down") and len(w.regions) == 1:
            (region,) = tuple(w.regions)
            stop = w.end if w.end is not None else end_ns
            if stop <= w.start:
                continue
            out.append({"kind": "isolate" if w.what == "isolated" else "outage", "region": region,
                        "at": f"{max(0, w.start - t0)}ns", "duration": f"{stop - w.start}ns"})
        else:
            notes.append(f"not mirrored: {w.describe()} (the history does not hold its extra delay)")
    out.sort(key=lambda f: int(f["at"][:-2]))
    return out, notes
