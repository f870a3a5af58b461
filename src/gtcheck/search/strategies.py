"""Hypothesis strategies over the model (public: compose them in your own tests).

``runs(base)`` draws one concrete run a scenario allows, as a *scripted* scenario table
plus a seed: which requests are sent (kinds from the workload's mix, keys from its first
few keys, regions, times within its duration, strong or eventual reads by its share),
each request's latency within the scenario's latency distribution, a constant replication
delay per link within the link's delay distribution, coalescing on or off, a copy lag,
clock offsets within their configured ranges, and a fault schedule within the scenario's
``random_faults`` limits (its fixed faults are kept). Everything the search decides is
pinned in the table, so ``gtcheck simulate --scenario T --seed S`` replays it byte for
byte; the seed decides only what the scenario format cannot pin (which copy serves an
eventual read, whether a write cut off by an outage reached storage).

Times are not only uniform over the duration: each request is sent at a uniform time, or
near a fault event (an isolation's or outage's start or end, the moment failover moves the
clients, a clock jump, a replication delay's start), or near a request drawn before it, a
third of the time each (``moment``): violations that need requests close to a fault and
to each other are found in far fewer runs (``benchmarks/bench_search_timing.py``).
``uniform=True`` draws every time uniformly (the comparison's baseline).

Shrinking goes toward fewer requests (a scripted scenario's too: each may be dropped),
times at the fault event or request they are near, the smallest delays, clock offsets
toward zero (the smallest skew that still breaks the property) and no faults: a shrunk
counterexample is small.

    from hypothesis import given
    from gtcheck.search import strategies
    from gtcheck.model.scenario import load_scenario

    @given(strategies.runs(load_scenario("histories/scenarios/replication-delay.toml")))
    def test_my_property(run):
        table, seed = run
        ...
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from gtcheck.model.distributions import Constant, bounds
from gtcheck.kernel.units import parse_duration
from gtcheck.model.scenario import Scenario

MS = 1_000_000
MAX_DELAY_NS = 15_000_000_000
MAX_LAG_NS = 1_000_000_000

# the script function and payload for each kind of the workload mix
KINDS = ("read", "write", "update", "increment", "delete", "cas", "conditional_update",
         "conditional_delete", "transaction")


def support(d: Any, cap: int = MAX_DELAY_NS) -> tuple[int, int]:
    """The range a delay distribution's samples fall in, in practice (the model's
    ``distributions.bounds``: a lognormal's or an exponential's tail cut at 3 sigmas / 5
    means, a Pareto's at its 99.9th percentile), at most ``cap``."""
    return bounds(d, cap)


def durations(lo: int, hi: int, step: int = MS) -> st.SearchStrategy[int]:
    """Durations in ``[lo, hi]`` on a grid of ``step`` (shrinks toward ``lo``)."""
    first = -(-lo // step) * step            # the grid's first point at or above lo
    if first > hi:
        return st.just(lo)
    if hi - first < step:
        return st.just(first)
    return st.integers(0, (hi - first) // step).map(lambda k: first + k * step)


def _ns(n: int) -> str:
    if n % MS == 0:
        return f"{n // MS}ms"
    return str(n)


def _sns(n: int) -> str:
    return "-" + _ns(-n) if n < 0 else _ns(n)


def keys(base: Scenario, at_most: int = 2) -> list[str]:
    n = base.workload.keys
    width = len(str(n - 1))
    return [f"k{i:0{width}d}" for i in range(min(n, at_most))]


def toward_zero(lo: int, hi: int, step: int = MS) -> st.SearchStrategy[int]:
    """Values in ``[lo, hi]`` on a grid of ``step`` that shrink toward the one nearest zero
    (zero itself when the range holds it): a clock offset, so that a counterexample shows
    the smallest skew that breaks the property, not the range's minimum."""
    if lo >= 0:
        return durations(lo, hi, step)
    if hi <= 0:
        return durations(-hi, -lo, step).map(lambda v: -v)
    return st.tuples(st.booleans(), st.integers(0, max(-lo, hi) // step)).map(
        lambda t: max(lo, min(hi, (-t[1] if t[0] else t[1]) * step)))


def fault_events(base: Scenario, faults: list[dict[str, Any]]) -> list[int]:
    """The times at which a run's faults act (``faults``: its ``[[faults]]`` tables): each
    fault's start and end, and where the scenario fails clients over, the moments an
    outage moves them (start + ``failover.after``). Sorted, without repeats."""
    times: set[int] = set()
    failover = base.failover.policy != "none"
    for f in faults:
        at = parse_duration(f.get("at", "0ms"))
        times.add(at)
        if "duration" in f:
            end = at + parse_duration(f["duration"])
            times.add(end)
            if failover and f.get("kind") == "outage":
                times.add(at + base.failover.after_ns)
    return sorted(times)


def near_window(base: Scenario) -> int:
    """How far from a fault event or another request a time drawn near it may fall: the
    longest a request and its replication take (request latency plus the slowest link's
    delay, as drawn), at least 10 ms, at most 2 s."""
    regions = list(base.regions)
    delay = max((support(base.delay(a, b))[1] for a in regions for b in regions if a != b), default=0)
    return max(10 * MS, min(2_000 * MS, support(base.request_latency)[1] + delay))


@st.composite
def moment(draw: Any, horizon_ns: int, events: list[int], earlier: list[int], window_ns: int,
           uniform: bool = False, step_ns: int = 10 * MS) -> int:
    """When a request is sent, in ``[0, horizon_ns]``: uniformly (on a grid of
    ``step_ns``), or within ``window_ns`` of a fault event (``events``) or of a request sent
    before it (``earlier``), by the millisecond, shrinking toward that very moment.
    ``uniform``: always uniformly."""
    ways = ["uniform"]
    if not uniform:
        ways += ["fault"] * bool(events) + ["request"] * bool(earlier)
    way = draw(st.sampled_from(ways)) if len(ways) > 1 else "uniform"
    if way == "uniform":
        return draw(durations(0, horizon_ns, step_ns))
    anchor = draw(st.sampled_from(events if way == "fault" else earlier))
    k = window_ns // MS
    at = anchor + draw(st.integers(-k, k)) * MS
    return max(0, min(horizon_ns, at))


@st.composite
def request(draw: Any, base: Scenario, n: int, key_names: list[str], horizon_ns: int,
            time_step_ns: int = 10 * MS, events: list[int] | None = None, earlier: list[int] | None = None,
            uniform: bool = False) -> dict[str, Any]:
    """One scripted request the workload could send (``n`` makes its payload unique), sent
    at a ``moment``: uniformly, or near one of ``events`` or ``earlier``."""
    kinds = [k for k in KINDS if base.workload.mix.get(k, 0) > 0] or ["read"]
    kind = draw(st.sampled_from(kinds))
    lat_lo, lat_hi = support(base.request_latency)
    at = draw(moment(horizon_ns, events or [], earlier or [], near_window(base), uniform, time_step_ns))
    entry: dict[str, Any] = {"at": _ns(at), "region": draw(st.sampled_from(list(base.regions)))}
    key = draw(st.sampled_from(key_names))
    if kind == "transaction":
        size = max(1, min(base.workload.transaction_size, len(key_names)))
        entry["f"] = "transaction"
        amount = draw(st.integers(0, 100))    # money moved: the items' balances add up to 100
        balances = [100 - amount, amount] + [0] * max(0, size - 2)
        entry["items"] = [{"f": "write", "key": key_names[i], "value": {"balance": balances[i]}}
                          for i in range(size)]
    elif kind == "read":
        share = base.workload.strong_reads
        strong = True if share >= 1 else False if share <= 0 else draw(st.booleans())
        entry.update(f="read", key=key, consistent=strong)
    elif kind == "write":
        entry.update(f="write", key=key, value={"v": n, "ver": 0})
    elif kind == "update":
        entry.update(f="update", key=key, set={"v": n})
    elif kind == "conditional_update":     # optimistic locking: from version ver to ver + 1
        ver = draw(st.integers(0, 2))
        entry.update(f="update", key=key, set={"v": n, "ver": ver + 1}, condition={"ver": ver})
    elif kind == "increment":
        entry.update(f="update", key=key, add={"n": 1})
    elif kind in ("delete", "conditional_delete"):
        entry.update(f="delete", key=key)
        if kind == "conditional_delete":
            entry["condition"] = {}
    elif kind == "cas":
        entry.update(f="cas", key=key, new={"v": n})
    entry["latency"] = _ns(draw(durations(lat_lo, lat_hi)))
    client = draw(st.sampled_from([None, "c0", "c1"]))    # a client of its own, or a shared one
    if client is not None:
        entry["process"] = client
    return entry


@st.composite
def workloads(draw: Any, base: Scenario, max_requests: int = 6, max_keys: int = 2,
              events: list[int] | None = None, uniform: bool = False) -> list[dict[str, Any]]:
    """A short script of requests the scenario's workload could send, each at a ``moment``
    (near the fault ``events`` or a request before it, or uniformly)."""
    horizon = min(base.workload.duration_ns - 1, 30_000_000_000)   # a request is sent before the end
    names = keys(base, max_keys)
    n = draw(st.integers(1, max_requests))
    out: list[dict[str, Any]] = []
    earlier: list[int] = []
    for i in range(n):
        entry = draw(request(base, i, names, horizon, events=events, earlier=earlier, uniform=uniform))
        earlier.append(parse_duration(entry["at"]))
        out.append(entry)
    return out


@st.composite
def fault_schedules(draw: Any, base: Scenario) -> list[dict[str, Any]]:
    """The scenario's fixed faults, plus up to ``random_faults.count`` faults drawn
    within its limits (kinds, durations, clock jumps), as ``[[faults]]`` tables."""
    out = [copy.deepcopy(f) for f in base.source.get("faults", [])]
    for raw, fault in zip(out, base.faults):       # a fault's extra delay, pinned within its range
        if fault.extra is not None and not isinstance(fault.extra, Constant):
            lo, hi = support(fault.extra)
            raw["extra"] = _ns(draw(durations(lo, hi, 100 * MS)))
    spec = base.random_faults
    if spec.count <= 0:
        return out
    horizon = base.workload.duration_ns
    for _ in range(draw(st.integers(0, min(spec.count, 3)))):
        kind = draw(st.sampled_from(list(spec.kinds)))
        region = draw(st.sampled_from(list(base.regions)))
        duration = draw(durations(spec.min_duration_ns, spec.max_duration_ns, 100 * MS))
        at = draw(durations(0, max(0, horizon - duration), 100 * MS))
        if kind == "clock-jump":
            by = draw(durations(-spec.max_clock_jump_ns, spec.max_clock_jump_ns))
            out.append({"kind": kind, "region": region, "at": _ns(at), "by": _sns(by)})
        elif kind == "replication-delay":
            extra = draw(durations(500 * MS, 3000 * MS, 100 * MS))
            out.append({"kind": kind, "from": "*", "to": region, "at": _ns(at), "duration": _ns(duration),
                        "extra": _ns(extra)})
        else:
            out.append({"kind": kind, "region": region, "at": _ns(at), "duration": _ns(duration)})
    return out


@st.composite
def network(draw: Any, base: Scenario) -> dict[str, Any]:
    """Pinned network and clock decisions: a constant delay per link, coalescing on or
    off, a copy lag, and each ranged clock offset fixed within its range."""
    regions = list(base.regions)
    pairs = {}
    for a in regions:
        for b in regions:
            if a != b:
                lo, hi = support(base.delay(a, b))
                pairs[f"{a} -> {b}"] = _ns(draw(durations(lo, hi, 10 * MS)))
    lag_lo, lag_hi = support(base.copy_lag, MAX_LAG_NS)
    c = base.coalesce
    out: dict[str, Any] = {
        "pairs": pairs,
        "coalesce": float(c) if c in (0, 1) else (1.0 if draw(st.booleans()) else 0.0),
        "copy_lag": _ns(draw(durations(lag_lo, lag_hi))),
        "clocks": {},
    }
    for region in regions:
        spec = base.clock(region)
        clock: dict[str, Any] = {}
        if spec.offset_max_ns is not None:     # toward zero: the smallest skew that breaks it
            clock["offset"] = _sns(draw(toward_zero(spec.offset_ns, spec.offset_max_ns)))
        elif spec.offset_ns:
            clock["offset"] = _sns(spec.offset_ns)
        if spec.drift_ppm:
            clock["drift_ppm"] = spec.drift_ppm
        if clock:
            out["clocks"][region] = clock
    return out


def pinned(base: Scenario, script: list[dict[str, Any]], faults: list[dict[str, Any]],
           net: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """The scripted scenario table for one drawn run of ``base``."""
    src = base.source
    regions = dict(src.get("regions", {}))
    regions["names"] = list(base.regions)
    regions["copy_lag"] = net["copy_lag"]
    regions.pop("request_latency", None)
    table: dict[str, Any] = {"name": name or f"{base.name}-counterexample",
                             "description": f"A run of {base.name} found by gtcheck search."}
    table["regions"] = regions
    if net["clocks"]:
        table["clocks"] = net["clocks"]
    pairs = net["pairs"]
    first = next(iter(pairs.values())) if pairs else "0ms"
    # other replication fields (strong mode's round_trip, ...) are kept as written
    rest = {k: copy.deepcopy(v) for k, v in src.get("replication", {}).items()
            if k not in ("delay", "pairs", "coalesce")}
    table["replication"] = {"delay": first, "coalesce": net["coalesce"],
                            "pairs": {k: v for k, v in pairs.items() if v != first}, **rest}
    if not table["replication"]["pairs"]:
        del table["replication"]["pairs"]
    wl = dict(src.get("workload", {}))
    for k in ("mix", "rate", "zipf", "processes_per_region", "strong_reads", "transaction_size"):
        wl.pop(k, None)
    wl["random"] = False
    table["workload"] = wl
    if "mode" in src:
        table["mode"] = src["mode"]
    for k in ("failover", "final"):
        if k in src:
            table[k] = copy.deepcopy(src[k])
    if faults:
        table["faults"] = faults
    table["script"] = script
    return table


@st.composite
def script_timings(draw: Any, base: Scenario, max_requests: int = 6, events: list[int] | None = None,
                   uniform: bool = False) -> list[dict[str, Any]]:
    """A scripted scenario's own requests, each sent at a ``moment`` within the workload's
    duration (so in any order; near the fault ``events`` or a request before it, or
    uniformly), with a latency within the latency distribution (unless the script fixes
    it). Each request may be left out (rarely when drawn; shrinking leaves out every one it
    can), and at most ``max_requests`` of them are sent (which ones is drawn)."""
    horizon = base.workload.duration_ns - 1
    lat_lo, lat_hi = support(base.request_latency)
    window = near_window(base)
    script = base.source.get("script", [])
    if len(script) > max_requests:
        chosen = sorted(draw(st.lists(st.integers(0, len(script) - 1), min_size=1, max_size=max_requests,
                                      unique=True)))
    else:     # 0 leaves a request out: drawn 1 time in 16, and where shrinking can
        chosen = [i for i in range(len(script)) if draw(st.integers(0, 15)) != 0] or [0]
    out = []
    earlier: list[int] = []
    for i in chosen:
        e = copy.deepcopy(script[i])
        at = draw(moment(horizon, events or [], earlier, window, uniform))
        earlier.append(at)
        e["at"] = _ns(at)
        if "latency" not in e:
            e["latency"] = _ns(draw(durations(lat_lo, lat_hi)))
        out.append(e)
    return out


@st.composite
def runs(draw: Any, base: Scenario, max_requests: int = 6, max_keys: int = 2,
         uniform: bool = False) -> tuple[dict[str, Any], int]:
    """One run ``base`` allows: ``(scripted scenario table, seed)``. A scripted ``base``
    keeps its requests (at most ``max_requests`` of them) and varies their timing and order
    (``script_timings``); otherwise the requests are drawn from its workload
    (``workloads``). The faults are drawn first, so requests can be placed near them
    (``uniform``: every time uniformly instead)."""
    faults = draw(fault_schedules(base))
    events = fault_events(base, faults)
    if base.script and not base.random_workload:
        script = draw(script_timings(base, max_requests, events, uniform))
    else:
        script = draw(workloads(base, max_requests, max_keys, events, uniform))
    net = draw(network(base))
    seed = draw(st.integers(0, 1_000))
    return pinned(base, script, faults, net), seed


@st.composite
def scenarios(draw: Any, max_regions: int = 3, max_requests: int = 5) -> dict[str, Any]:
    """Small scripted scenarios from nothing (two or three regions, a few requests,
    clock offsets and an isolation or not): for exploring or property tests."""
    from gtcheck.model.scenario import scenario_from_dict

    names = ["us-east-1", "eu-west-1", "ap-southeast-2"][:draw(st.integers(2, max_regions))]
    base = scenario_from_dict({"regions": {"names": names, "copies": 1, "write_quorum": 1},
                               "workload": {"keys": 2, "duration": "1s", "strong_reads": 0.5}})
    table, _ = draw(runs(base, max_requests))
    if draw(st.booleans()):
        table["faults"] = [{"kind": "isolate", "region": draw(st.sampled_from(names)),
                            "at": f"{draw(st.integers(0, 500))}ms", "duration": f"{draw(st.integers(1, 500))}ms"}]
    return table
