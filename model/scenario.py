"""Scenarios: what to simulate, read from TOML and checked field by field.

A scenario names the regions and their clocks, the replication delays, the workload
and the faults. Every field has a default (``default_scenario()`` is a three-region
table through one isolation and heal), unknown fields are errors that name the
field, and every value is checked before the simulation starts: a bad scenario never
produces half a history. The documented examples live in ``histories/scenarios/``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import check_number
from gtcheck.model.distributions import (Constant, Distribution, LogNormal, Exponential, Uniform,
                                         parse_distribution, scenario_duration)

DEFAULT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
MIX_KINDS = ("read", "write", "update", "increment", "delete", "cas", "conditional_update",
             "conditional_delete", "transaction")
FAULT_KINDS = ("isolate", "outage", "replication-delay", "clock-jump")
MODES = ("eventual", "strong")
SECOND = 1_000_000_000

# Limits (docs/scenarios.md, "Limits"): a scenario beyond them is refused before anything is
# simulated, so a typo cannot run for hours or exhaust memory.
MAX_SCENARIO_BYTES = 16 * 1024 * 1024   # the TOML file itself
MAX_REGIONS = 100
MAX_CLIENTS = 1_000_000                 # regions x processes_per_region
MAX_RATE = 1_000_000.0                  # requests per second
MIN_RATE = 0.001
MAX_OPERATIONS = 50_000_000             # rate x duration, plus the final reads (regions x keys)
MAX_RANDOM_FAULTS = 10_000
MAX_MIX_WEIGHT = 1_000_000.0


@dataclass(frozen=True)
class ClockSpec:
    offset_ns: int = 0      # where the region's clock stands against true time at t = 0
    drift_ppm: float = 0.0  # how fast it runs away (parts per million)
    # ``offset = { min, max }``: a range (offset_ns is the min). The timed simulator draws
    # the offset from the seed (Choices.clock_offset); search and exploration choose it.
    offset_max_ns: int | None = None


@dataclass(frozen=True)
class Messages:
    """Per-message latencies inside a region, the WARS model of PBS (Bailis et al., VLDB
    2012): a write's coordinator sends it to every copy (``write``, W), each copy
    acknowledges (``ack``, A); a read's coordinator asks every copy (``read``, R) and each
    answers (``response``, S). ``gtcheck predict`` models them; the drivers (simulate,
    search, explore) refuse a scenario that gives them (docs/scenarios.md)."""

    write: Distribution
    ack: Distribution
    read: Distribution
    response: Distribution


@dataclass(frozen=True)
class Fault:
    """One timed fault. ``isolate``: the region's replication is cut both ways, its
    clients keep working. ``outage``: the region's endpoint stops answering (clients time
    out with unknown outcomes) and it replicates nothing until it recovers.
    ``replication-delay``: extra delay on links ``source -> target`` (``*`` for any).
    ``clock-jump``: the region's clock jumps by ``by_ns`` (may be negative)."""

    kind: str
    at_ns: int
    duration_ns: int = 0
    region: str | None = None
    source: str = "*"
    target: str = "*"
    extra: Distribution | None = None
    by_ns: int = 0

    @property
    def end_ns(self) -> int:
        return self.at_ns + self.duration_ns


@dataclass(frozen=True)
class RandomFaults:
    count: int = 0
    kinds: tuple[str, ...] = ("isolate", "outage", "replication-delay")
    min_duration_ns: int = 2 * SECOND
    max_duration_ns: int = 15 * SECOND
    max_clock_jump_ns: int = 50_000_000


@dataclass(frozen=True)
class Failover:
    policy: str = "none"               # none | next | map
    after_ns: int = 2 * SECOND          # how long clients keep timing out before moving
    failback: bool = True
    targets: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ttl:
    share: float = 0.0                  # fraction of puts that carry a TTL attribute
    after_ns: int = 5 * SECOND          # expiry time after the write
    lag: Distribution = Uniform(0, 2 * SECOND)  # how late the background sweeper deletes


@dataclass(frozen=True)
class Workload:
    keys: int = 20
    zipf: float = 0.0
    processes_per_region: int = 3
    rate: float = 300.0                 # offered requests per second, whole table
    duration_ns: int = 40 * SECOND
    strong_reads: float = 0.5
    mix: dict[str, float] = field(default_factory=lambda: {
        "read": 0.55, "write": 0.12, "update": 0.08, "increment": 0.05, "delete": 0.04,
        "cas": 0.06, "conditional_update": 0.03, "conditional_delete": 0.02, "transaction": 0.05})
    transaction_size: int = 2
    ttl: Ttl = field(default_factory=Ttl)


@dataclass(frozen=True)
class ScriptedOp:
    """One request at a fixed time, for counterexamples and exact behaviour tests.
    ``request`` holds ``f``, ``key`` and the payload as the workload would build it;
    operations sharing ``process`` run one after another on that client."""

    at_ns: int
    region: str
    request: dict[str, Any]
    process: int | str | None = None
    latency_ns: int | None = None
    name: str | None = None     # optional: how exploration's ``outcomes`` names this request


SCRIPT_FUNCTIONS = ("read", "write", "update", "delete", "cas", "transaction")


@dataclass(frozen=True)
class Scenario:
    name: str = "default"
    description: str = ""
    regions: tuple[str, ...] = tuple(DEFAULT_REGIONS)
    copies: int = 3
    write_quorum: int = 2
    copy_lag: Distribution = Exponential(1_000_000)
    request_latency: Distribution = Uniform(2_000_000, 8_000_000)
    timeout_ns: int = SECOND
    clocks: dict[str, ClockSpec] = field(default_factory=dict)
    replication_delay: Distribution = LogNormal(250_000_000, 0.5, 30 * SECOND)
    pair_delays: dict[tuple[str, str], Distribution] = field(default_factory=dict)
    coalesce: float = 0.5
    workload: Workload = field(default_factory=Workload)
    faults: tuple[Fault, ...] = ()
    random_faults: RandomFaults = field(default_factory=RandomFaults)
    failover: Failover = field(default_factory=Failover)
    settle_ns: int = 20 * SECOND
    final_reads: bool = True
    script: tuple[ScriptedOp, ...] = ()
    random_workload: bool = True
    source: dict[str, Any] = field(default_factory=dict)   # the raw table, for metadata
    # multi-region strong consistency (docs/model.md, "Strong mode"): ``mode = "strong"``
    mode: str = "eventual"
    witness: str | None = None          # strong mode: the witness region (no replica, no clients)
    round_trip: Distribution = LogNormal(30_000_000, 0.3, SECOND)   # strong mode: one synchronous round trip
    # in-region per-message latencies (WARS) and the copies an eventual read waits for:
    # modelled by gtcheck predict only (the drivers refuse them: ``refuse_messages``)
    messages: Messages | None = None
    read_quorum: int = 1

    @property
    def strong(self) -> bool:
        return self.mode == "strong"

    def clock(self, region: str) -> ClockSpec:
        return self.clocks.get(region, ClockSpec())

    def delay(self, source: str, target: str) -> Distribution:
        return self.pair_delays.get((source, target), self.replication_delay)


# ---------------------------------------------------------------------------- parsing

class _Table:
    """Reads one TOML table, remembering which fields were used to reject the rest."""

    def __init__(self, data: Any, where: str, base_dir: Path | None):
        if not isinstance(data, dict):
            raise UserError(f"expected a table, got {type(data).__name__}", where=where)
        self.data, self.where, self.base_dir = data, where, base_dir
        self.used: set[str] = set()

    def _at(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(self, name: str, default: Any = None) -> Any:
        self.used.add(name)
        return self.data.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.data

    def table(self, name: str) -> "_Table":
        return _Table(self.get(name, {}), self._at(name), self.base_dir)

    def duration(self, name: str, default: int) -> int:
        if not self.has(name):
            self.used.add(name)
            return default
        return scenario_duration(self.get(name), self._at(name))

    def signed_duration(self, name: str) -> int:
        raw = self.get(name)
        if raw is None:
            raise UserError(f"missing field {name!r}", where=self.where)
        if isinstance(raw, int) and not isinstance(raw, bool):
            return -scenario_duration(-raw, self._at(name)) if raw < 0 else scenario_duration(raw, self._at(name))
        if not isinstance(raw, str):
            return scenario_duration(raw, self._at(name))  # refused there, with the duration forms
        text = raw.strip()
        if text.startswith("-"):
            return -scenario_duration(text[1:], self._at(name))
        return scenario_duration(text[1:] if text.startswith("+") else text, self._at(name))

    def number(self, name: str, default: int | float, *, low: int | float = 0.0,
               high: int | float | None = None, integer: bool = False, low_open: bool = False) -> Any:
        """Every numeric field is read here, through the one kernel check (finite, in range)."""
        return check_number(self.get(name, default), self._at(name), low=low, high=high, integer=integer,
                            low_open=low_open)

    def string(self, name: str, default: str | None = None, choices: tuple[str, ...] | None = None) -> Any:
        value = self.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise UserError(f"expected a string, got {value!r}", where=self._at(name))
        if choices and value not in choices:
            raise UserError(f"unknown value {value!r}", where=self._at(name), hint="use one of: " + ", ".join(choices))
        return value

    def distribution(self, name: str, default: Distribution) -> Distribution:
        if not self.has(name):
            self.used.add(name)
            return default
        return parse_distribution(self.get(name), self._at(name), self.base_dir)

    def done(self, allowed_tables: tuple[str, ...] = ()) -> None:
        extra = [k for k in self.data if k not in self.used and k not in allowed_tables]
        if extra:
            known = sorted(self.used | set(allowed_tables))
            raise UserError(f"unknown field {extra[0]!r}", where=self.where or "scenario",
                            hint="known fields here: " + ", ".join(known))


def _region(value: Any, regions: tuple[str, ...], where: str, allow_any: bool = False) -> str:
    if allow_any and value == "*":
        return "*"
    if value not in regions:
        raise UserError(f"unknown region {value!r}", where=where, hint="regions are: " + ", ".join(regions))
    return str(value)   # one of ``regions``: already a str (mypy --strict: not Any)


def scenario_from_dict(data: dict[str, Any], base_dir: Path | None = None, name: str = "scenario") -> Scenario:
    """Build and check a scenario from its TOML table (errors name the field)."""
    top = _Table(data, "", base_dir)
    d = Scenario()
    sname = top.string("name", name)
    description = top.string("description", "")
    mode = top.string("mode", "eventual", MODES)

    rt = top.table("regions")
    names = rt.get("names", list(DEFAULT_REGIONS))
    if (not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names)
            or len(set(names)) != len(names)):
        raise UserError(f"expected a non-empty list of distinct region names, got {_short(names)}",
                        where="regions.names")
    if len(names) > MAX_REGIONS:
        raise UserError(f"at most {MAX_REGIONS} regions, got {len(names):,}", where="regions.names")
    regions = tuple(names)
    copies = rt.number("copies", d.copies, low=1, high=15, integer=True)
    quorum = rt.number("write_quorum", d.write_quorum, low=1, high=copies, integer=True)
    copy_lag = rt.distribution("copy_lag", d.copy_lag)
    latency = rt.distribution("request_latency", d.request_latency)
    timeout = rt.duration("timeout", d.timeout_ns)
    witness = rt.string("witness")
    messages = _messages(rt) if rt.has("messages") else None
    if rt.has("read_quorum") and messages is None:
        raise UserError("read_quorum needs the per-message latencies [regions.messages]", where="regions.read_quorum",
                        hint="without them an eventually consistent read is served by one copy; add "
                             "[regions.messages] (write, ack, read, response) or remove read_quorum")
    read_quorum = rt.number("read_quorum", 1, low=1, high=copies, integer=True)
    rt.done()

    ct = top.table("clocks")
    clocks = {}
    for rname in list(ct.data):
        _region(rname, regions, f"clocks.{rname}")
        c = ct.table(rname)
        offset_max: int | None = None
        raw_offset = c.data.get("offset")
        if isinstance(raw_offset, dict) and ("min" in raw_offset or "max" in raw_offset):   # a range
            # offset = { min = "-50ms", max = "50ms" }
            r = c.table("offset")
            if not (r.has("min") and r.has("max")):
                raise UserError("an offset range needs both 'min' and 'max'", where=f"clocks.{rname}.offset")
            offset, offset_max = r.signed_duration("min"), r.signed_duration("max")
            r.done()
            if offset_max < offset:
                raise UserError("the offset range's 'max' is below its 'min'", where=f"clocks.{rname}.offset")
        else:
            offset = c.signed_duration("offset") if c.has("offset") else 0
        clocks[rname] = ClockSpec(offset, float(c.number("drift_ppm", 0.0, low=-1000.0, high=1000.0)),
                                  offset_max)
        c.done()
    ct.done()

    rep = top.table("replication")
    delay = rep.distribution("delay", d.replication_delay)
    coalesce = rep.number("coalesce", d.coalesce, high=1.0)
    round_trip_given = rep.has("round_trip")
    round_trip = rep.distribution("round_trip", d.round_trip)
    pairs = {}
    pt = rep.table("pairs")
    for pair in list(pt.data):
        parts = [p.strip() for p in pair.split("->")]
        if len(parts) != 2:
            raise UserError(f"a pair is written 'source -> target', got {pair!r}", where=f"replication.pairs.{pair}")
        src = _region(parts[0], regions, f"replication.pairs.{pair}")
        dst = _region(parts[1], regions, f"replication.pairs.{pair}")
        pairs[(src, dst)] = pt.distribution(pair, delay)
    pt.done()
    rep.done()

    wt = top.table("workload")
    wd = Workload()
    mix_t = wt.table("mix")
    mix = {}
    if mix_t.data:
        for kind in MIX_KINDS:
            mix[kind] = float(mix_t.number(kind, 0.0, high=MAX_MIX_WEIGHT))
        mix_t.done()
        if sum(mix.values()) <= 0:
            raise UserError("the operation mix has no positive weight", where="workload.mix")
    else:
        mix = dict(wd.mix)
        if mode == "strong":   # no transactions in strong mode: the default mix drops them
            mix["transaction"] = 0.0
    tt = wt.table("ttl")
    ttl = Ttl(float(tt.number("share", 0.0, high=1.0)), tt.duration("after", Ttl().after_ns),
              tt.distribution("lag", Ttl().lag))
    tt.done()
    workload = Workload(
        keys=wt.number("keys", wd.keys, low=1, high=10_000_000, integer=True),
        zipf=float(wt.number("zipf", wd.zipf, high=10.0)),
        processes_per_region=wt.number("processes_per_region", wd.processes_per_region, low=1, high=100_000,
                                       integer=True),
        rate=float(wt.number("rate", wd.rate, low=MIN_RATE, high=MAX_RATE)),
        duration_ns=wt.duration("duration", wd.duration_ns),
        strong_reads=float(wt.number("strong_reads", wd.strong_reads, high=1.0)),
        mix=mix,
        transaction_size=wt.number("transaction_size", wd.transaction_size, low=1, high=100, integer=True),
        ttl=ttl,
    )
    script = _parse_script(top.get("script", []), regions, base_dir)
    random_workload = wt.get("random", not script)
    if not isinstance(random_workload, bool):
        raise UserError(f"expected true or false, got {random_workload!r}", where="workload.random")
    wt.done()

    faults = []
    # strong mode: the witness may be isolated or go down like a replica region
    fault_regions = regions + ((witness,) if mode == "strong" and isinstance(witness, str) and witness
                               and witness not in regions else ())
    raw_faults = top.get("faults", [])
    if not isinstance(raw_faults, list):
        raise UserError("expected an array of tables [[faults]]", where="faults")
    for i, raw in enumerate(raw_faults):
        ft = _Table(raw, f"faults[{i}]", base_dir)
        # (not ``kind``: the mix loop above made that a str, and mypyc checks the type of
        # every assignment: a missing kind would be a TypeError instead of this message)
        fkind = ft.string("kind", None, FAULT_KINDS)
        if fkind is None:
            raise UserError("missing field 'kind'", where=f"faults[{i}]", hint="use one of: " + ", ".join(FAULT_KINDS))
        if not ft.has("at"):
            raise UserError("missing field 'at' (when the fault starts)", where=f"faults[{i}]")
        at = ft.duration("at", 0)
        if fkind == "clock-jump":
            region = _region(ft.get("region"), regions, f"faults[{i}].region")
            fault = Fault(fkind, at, 0, region, by_ns=ft.signed_duration("by"))
        elif fkind == "replication-delay":
            fault = Fault(fkind, at, ft.duration("duration", 5 * SECOND), None,
                          _region(ft.get("from", "*"), regions, f"faults[{i}].from", True),
                          _region(ft.get("to", "*"), regions, f"faults[{i}].to", True),
                          ft.distribution("extra", Uniform(SECOND, 3 * SECOND)))
        else:
            region = _region(ft.get("region"), fault_regions, f"faults[{i}].region")
            if not ft.has("duration"):
                raise UserError("missing field 'duration' (how long until it heals)", where=f"faults[{i}]")
            fault = Fault(fkind, at, ft.duration("duration", 0), region)
        ft.done()
        faults.append(fault)
    faults.sort(key=lambda f: (f.at_ns, FAULT_KINDS.index(f.kind)))

    rf = top.table("random_faults")
    rd = RandomFaults()
    kinds = rf.get("kinds", list(rd.kinds))
    if not isinstance(kinds, list) or any(k not in FAULT_KINDS for k in kinds):
        raise UserError(f"expected a list of fault kinds, got {_short(kinds)}", where="random_faults.kinds",
                        hint="use any of: " + ", ".join(FAULT_KINDS))
    count = rf.number("count", 0, high=MAX_RANDOM_FAULTS, integer=True)
    if count > 0 and not kinds:
        raise UserError(f"random_faults.count is {count} but no kind is listed", where="random_faults.kinds",
                        hint="list at least one of: " + ", ".join(FAULT_KINDS) + "; or set count = 0")
    random_faults = RandomFaults(count, tuple(kinds),
                                 rf.duration("min_duration", rd.min_duration_ns),
                                 rf.duration("max_duration", rd.max_duration_ns),
                                 rf.duration("max_clock_jump", rd.max_clock_jump_ns))
    if random_faults.max_duration_ns < random_faults.min_duration_ns:
        raise UserError("max_duration is below min_duration", where="random_faults")
    rf.done()

    fo = top.table("failover")
    targets_t = fo.table("map")
    targets = {}
    for src in list(targets_t.data):
        targets[_region(src, regions, f"failover.map.{src}")] = _region(
            targets_t.get(src), regions, f"failover.map.{src}")
    targets_t.done()
    failback = fo.get("failback", True)
    if not isinstance(failback, bool):
        raise UserError(f"expected true or false, got {_short(failback)}", where="failover.failback")
    failover = Failover(fo.string("policy", "none", ("none", "next", "map")),
                        fo.duration("after", Failover().after_ns), failback, targets)
    if failover.policy == "map" and not targets:
        raise UserError("policy 'map' needs a [failover.map] table", where="failover.policy")
    fo.done()

    fin = top.table("final")
    settle = fin.duration("settle", d.settle_ns)
    final_reads = fin.get("reads", True)
    if not isinstance(final_reads, bool):
        raise UserError(f"expected true or false, got {final_reads!r}", where="final.reads")
    fin.done()

    top.done()
    if len(regions) * workload.processes_per_region > MAX_CLIENTS:
        raise UserError(f"{len(regions)} regions x {workload.processes_per_region:,} clients is more than "
                        f"{MAX_CLIENTS:,} clients", where="workload.processes_per_region",
                        hint="lower processes_per_region or the number of regions")
    requests = workload.rate * workload.duration_ns / SECOND
    final = len(regions) * workload.keys if final_reads else 0
    if requests + final > MAX_OPERATIONS:
        raise UserError(f"about {requests:,.0f} requests (rate x duration) and {final:,} final reads "
                        f"(regions x keys) are more than {MAX_OPERATIONS:,} operations",
                        where="workload.rate" if requests > final else "workload.keys",
                        hint="lower workload.rate, workload.duration or workload.keys")
    if mode == "strong":
        _check_strong(regions, witness, workload, script)
    else:
        if witness is not None:
            raise UserError("a witness takes part only in strong mode", where="regions.witness",
                            hint='set mode = "strong", or remove the witness')
        if round_trip_given:
            raise UserError("the synchronous round trip is used only in strong mode", where="replication.round_trip",
                            hint='set mode = "strong", or remove round_trip')
    for i, op in enumerate(script):
        if op.at_ns >= workload.duration_ns:
            raise UserError(f"the request is sent at or after the workload ends ({workload.duration_ns} ns)",
                            where=f"script[{i}].at", hint="raise workload.duration")
        clients = workload.processes_per_region * len(regions)
        if isinstance(op.process, int) and op.process < clients:
            raise UserError(f"process {op.process} is one of the workload's clients (0 to {clients - 1})",
                            where=f"script[{i}].process", hint=f"use a number from {clients} on, or a name")
    for f in faults:
        if f.kind in ("isolate", "outage") and f.at_ns >= workload.duration_ns:
            raise UserError(f"the fault starts at or after the workload ends ({workload.duration_ns} ns)",
                            where=f"faults[{faults.index(f)}].at")
    return Scenario(sname, description, regions, copies, quorum, copy_lag, latency, timeout, clocks,
                    delay, pairs, float(coalesce), workload, tuple(faults), random_faults, failover, settle,
                    final_reads, script, random_workload, data, mode, witness, round_trip, messages, read_quorum)


MESSAGE_FIELDS = ("write", "ack", "read", "response")


def _messages(rt: _Table) -> Messages:
    """``[regions.messages]``: the four per-message latency distributions, all required."""
    mt = rt.table("messages")
    for name in MESSAGE_FIELDS:
        if not mt.has(name):
            raise UserError(f"missing field {name!r}", where="regions.messages",
                            hint="give all four: write (W), ack (A), read (R), response (S)")
    out = Messages(*(mt.distribution(name, Constant(0)) for name in MESSAGE_FIELDS))
    mt.done()
    return out


def refuse_messages(scenario: Scenario, driver: str) -> None:
    """The drivers model a region's copies with ``copy_lag`` and ``write_quorum``; a
    scenario with per-message latencies (``[regions.messages]``, for gtcheck predict) is
    refused rather than simulated as something else."""
    if scenario.messages is not None:
        raise UserError(f"{driver} does not model per-message latencies inside a region (WARS); "
                        "only gtcheck predict does", where="regions.messages",
                        hint="remove [regions.messages] and read_quorum to simulate (copy_lag and "
                             "write_quorum model the copies), or use gtcheck predict")


def _check_strong(regions: tuple[str, ...], witness: str | None, workload: Workload,
                  script: tuple[ScriptedOp, ...]) -> None:
    """Multi-region strong consistency, as DynamoDB offers it: three replica regions, or two
    plus a witness; no transactions, no TTL."""
    if witness is not None:
        if not witness:
            raise UserError("expected a region name, got an empty string", where="regions.witness")
        if witness in regions:
            raise UserError(f"the witness {witness!r} is also a replica region", where="regions.witness",
                            hint="a witness holds no replica: list it only as the witness")
        if len(regions) != 2:
            raise UserError(f"with a witness, strong mode takes exactly two replica regions, got {len(regions)}",
                            where="regions.names", hint="two replica regions plus a witness, or three replica "
                            "regions without one")
    elif len(regions) != 3:
        raise UserError(f"strong mode takes exactly three replica regions, got {len(regions)}",
                        where="regions.names", hint='three replica regions, or two plus a witness '
                        '(regions.witness = "REGION")')
    if workload.mix.get("transaction", 0.0) > 0:
        raise UserError("transactions are not available in strong mode (as in DynamoDB)",
                        where="workload.mix.transaction", hint="set its weight to 0, or use eventual mode")
    if workload.ttl.share > 0:
        raise UserError("TTL is not available in strong mode (as in DynamoDB)", where="workload.ttl.share",
                        hint="set it to 0, or use eventual mode")
    for i, op in enumerate(script):
        if op.request["f"] == "transaction":
            raise UserError("transactions are not available in strong mode (as in DynamoDB)",
                            where=f"script[{i}].f", hint="send the items as separate requests, or use eventual mode")


MAX_ITEM_DEPTH = 32  # DynamoDB nests attribute values at most 32 levels


def _item(value: Any, where: str) -> Any:
    """An item, attribute value or condition written in a script: strings, integers,
    finite numbers, booleans, arrays and tables (nested at most 32 levels). TOML's
    ``nan``/``inf`` (JSON cannot hold them: they would be written as null) and dates and
    times (no DynamoDB type) are refused, naming the place."""
    stack = [(value, where, 0)]
    while stack:
        v, at, depth = stack.pop()
        if isinstance(v, float):
            check_number(v, at)
        elif isinstance(v, (dict, list)):
            if depth >= MAX_ITEM_DEPTH:
                raise UserError(f"nested more than {MAX_ITEM_DEPTH} levels deep", where=at,
                                hint="DynamoDB nests attribute values at most 32 levels")
            if isinstance(v, dict):
                stack.extend((x, f"{at}.{k}", depth + 1) for k, x in v.items())
            else:
                stack.extend((x, f"{at}[{i}]", depth + 1) for i, x in enumerate(v))
        elif not isinstance(v, (str, int)):  # bool is an int; datetime, date, time remain
            raise UserError(f"expected a string, number, boolean, array or table, got {_short(v)}",
                            where=at, hint="write a date or time as a string")
    return value


def _request(t: _Table, f: str, where: str) -> dict[str, Any]:
    """The payload of one scripted request, in the shape the simulator uses."""
    key = t.string("key")
    if key is None:
        raise UserError("missing field 'key'", where=where)
    req: dict[str, Any] = {"f": f, "key": key}
    if f == "read":
        consistent = t.get("consistent", False)
        if not isinstance(consistent, bool):
            raise UserError(f"expected true or false, got {consistent!r}", where=f"{where}.consistent")
        req["consistent"] = consistent
    elif f == "write":
        value = t.get("value")
        if not isinstance(value, dict):
            raise UserError("a write needs 'value', the whole item as a table", where=where)
        req["value"] = dict(_item(value, f"{where}.value"))
    elif f == "update":
        change = {}
        for part, kind in (("set", dict), ("remove", list), ("add", dict)):
            if t.has(part):
                v = t.get(part)
                if not isinstance(v, kind):
                    raise UserError(f"expected a {'table' if kind is dict else 'list'}", where=f"{where}.{part}")
                _item(v, f"{where}.{part}")
                if part == "remove" and not all(isinstance(name, str) for name in v):
                    raise UserError(f"expected a list of attribute names, got {_short(v)}", where=f"{where}.remove")
                if part == "add":
                    for name, n in v.items():
                        if isinstance(n, bool) or not isinstance(n, (int, float)):
                            raise UserError(f"ADD takes a number, got {_short(n)}", where=f"{where}.add.{name}")
                change[part] = v
        if not change:
            raise UserError("an update needs at least one of 'set', 'remove', 'add'", where=where)
        req["value"] = change
    elif f == "cas":
        new = t.get("new")
        if not isinstance(new, dict):
            raise UserError("a cas needs 'new', the item to write, as a table", where=where)
        _item(new, f"{where}.new")
        expected = t.get("expected")
        if expected is not None and not isinstance(expected, dict):
            raise UserError("'expected' is the whole item the key must hold (omit it: must not exist)",
                            where=f"{where}.expected")
        if expected is not None:
            _item(expected, f"{where}.expected")
        req["value"] = [expected, dict(new)]
    if f in ("update", "delete", "write") and t.has("condition"):
        cond = t.get("condition")
        if not isinstance(cond, dict):
            raise UserError("expected a table of attribute = value", where=f"{where}.condition")
        _item(cond, f"{where}.condition")
        req["condition"] = cond
    return req


def _parse_script(raw: Any, regions: tuple[str, ...], base_dir: Path | None) -> tuple[ScriptedOp, ...]:
    if not isinstance(raw, list):
        raise UserError("expected an array of tables [[script]]", where="script")
    ops = []
    for i, entry in enumerate(raw):
        where = f"script[{i}]"
        t = _Table(entry, where, base_dir)
        if not t.has("at"):
            raise UserError("missing field 'at' (when the request is sent)", where=where)
        at = t.duration("at", 0)
        region = _region(t.get("region"), regions, f"{where}.region")
        f = t.string("f", None, SCRIPT_FUNCTIONS)
        if f is None:
            raise UserError("missing field 'f'", where=where, hint="use one of: " + ", ".join(SCRIPT_FUNCTIONS))
        if f == "transaction":
            items = t.get("items")
            if not isinstance(items, list) or not items:
                raise UserError("a transaction needs 'items', an array of requests", where=where)
            parts = []
            for j, item in enumerate(items):
                it = _Table(item, f"{where}.items[{j}]", base_dir)
                pf = it.string("f", None, ("write", "update", "delete"))
                if pf is None:
                    raise UserError("missing field 'f' (write, update or delete)", where=f"{where}.items[{j}]")
                parts.append(_request(it, pf, f"{where}.items[{j}]"))
                it.done()
            request: dict[str, Any] = {"f": "transaction", "key": parts[0]["key"], "parts": parts}
        else:
            request = _request(t, f, where)
        process = t.get("process")
        if process is not None and (isinstance(process, bool) or not isinstance(process, (int, str))
                                    or process == "nemesis" or (isinstance(process, int) and process < 0)):
            raise UserError(f"expected a client name or a non-negative integer, got {process!r}",
                            where=f"{where}.process")
        latency = t.duration("latency", -1) if t.has("latency") else None
        op_name = t.string("name") if t.has("name") else None
        t.done()
        ops.append(ScriptedOp(at, region, request, process, latency, op_name))
    ops.sort(key=lambda o: o.at_ns)
    return tuple(ops)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _deep_line(text: str, limit: int = 100) -> int:
    """The first line at which brackets nest more than ``limit`` deep (roughly: brackets
    inside strings and comments count too), for the error about deep nesting."""
    depth = 0
    for n, line in enumerate(text.splitlines(), 1):
        for c in line:
            if c in "[{":
                depth += 1
                if depth > limit:
                    return n
            elif c in "]}":
                depth -= 1
    return 1


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file; every problem becomes a UserError naming file and field."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_SCENARIO_BYTES + 1)  # bounded: /dev/zero or a huge file is refused
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the scenario: {getattr(exc, 'strerror', None) or exc}", where=str(p)) from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise UserError(f"the scenario is larger than {MAX_SCENARIO_BYTES // (1024 * 1024)} MiB", where=str(p),
                        hint="a scenario is a short TOML file; check the path")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UserError(f"line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                        where=str(p), hint="save the scenario as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"not valid TOML: {exc}", where=str(p)) from None
    except RecursionError:
        raise UserError(f"line {_deep_line(text)}: arrays or inline tables nested too deeply to read",
                        where=str(p), hint="a scenario nests a few levels; check the brackets") from None
    try:
        return scenario_from_dict(data, p.parent, p.stem)
    except UserError as exc:
        raise UserError(exc.message, where=f"{p}: {exc.where}" if exc.where else str(p), hint=exc.hint)


def default_scenario() -> Scenario:
    """Three regions, a mixed workload, eu-west-1 isolated from 10 s to 25 s, then heal."""
    return scenario_from_dict({
        "name": "default",
        "description": "Three regions; eu-west-1 is isolated for 15 s while every region keeps "
                       "taking reads and writes; then it heals and the table settles.",
        "faults": [{"kind": "isolate", "region": "eu-west-1", "at": "10s", "duration": "15s"}],
    }, name="default")
