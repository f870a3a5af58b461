"""Hypothesis strategies for small scripted scenarios of global tables, eventual and strong,
with every fault kind the format has (isolation, outage, replication delay, clock jump),
clock offsets, failover and transactions: what the relation and conformance tests walk."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
KEYS = ["x", "y"]


@st.composite
def request(draw: Any, regions: list[str], n: int, strong: bool, pinned: bool) -> dict[str, Any]:
    kinds = ["write", "update", "delete", "read", "read", "cas"] + ([] if strong else ["transaction"])
    f = draw(st.sampled_from(kinds))
    entry: dict[str, Any] = {"at": f"{draw(st.integers(0, 60))}ms", "region": draw(st.sampled_from(regions)),
                             "f": f}
    if draw(st.booleans()):
        entry["process"] = draw(st.sampled_from(["c0", "c1"]))
    if pinned:
        entry["latency"] = f"{draw(st.integers(1, 8))}ms"
    key = draw(st.sampled_from(KEYS))
    if f == "transaction":
        entry["items"] = [{"f": "write", "key": "x", "value": {"t": n}},
                          {"f": "update", "key": "y", "set": {"t": n}}]
        return entry
    entry["key"] = key
    if f == "write":
        entry["value"] = {"v": n}
    elif f == "update":
        entry["set"] = {"a": n}
        if draw(st.booleans()):
            entry["add"] = {"n": 1}
    elif f == "read":
        entry["consistent"] = draw(st.booleans())
    elif f == "cas":
        entry["new"] = {"v": n}
    if f in ("update", "delete", "write") and draw(st.booleans()):
        entry["condition"] = draw(st.sampled_from([{}, {"v": 0}]))
    return entry


@st.composite
def fault(draw: Any, names: list[str], regions: list[str], strong: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["isolate", "isolate", "outage", "replication-delay", "clock-jump"]))
    at = f"{draw(st.integers(0, 60))}ms"
    if kind in ("isolate", "outage"):
        return {"kind": kind, "region": draw(st.sampled_from(names)), "at": at,
                "duration": f"{draw(st.integers(1, 80))}ms"}
    if kind == "replication-delay":
        return {"kind": kind, "from": draw(st.sampled_from(["*"] + regions)), "to": "*", "at": at,
                "duration": f"{draw(st.integers(1, 80))}ms", "extra": f"{draw(st.integers(0, 30))}ms"}
    return {"kind": kind, "region": draw(st.sampled_from(regions)), "at": at,
            "by": f"{draw(st.integers(-5, 5))}ms"}


@st.composite
def scenarios(draw: Any, *, pinned: bool = False, strong: bool | None = None, max_requests: int = 6,
              final_reads: bool | None = None) -> dict[str, Any]:
    """A scripted scenario table. ``pinned``: every duration the timed simulator would
    draw is a constant (request latencies in the script, replication delays, copy lag,
    the strong round trip), so the timed run and the explorer take the same times."""
    strong = draw(st.booleans()) if strong is None else strong
    if strong:
        witness = draw(st.booleans())
        regions = REGIONS[:2] if witness else list(REGIONS)
        names = regions + (["us-west-2"] if witness else [])
    else:
        regions = REGIONS[:draw(st.integers(2, 3))]
        names = list(regions)
        witness = False
    copies = draw(st.integers(1, 3))
    data: dict[str, Any] = {
        "name": "scripted",
        "regions": {"names": regions, "copies": copies, "write_quorum": draw(st.integers(1, copies)),
                    "timeout": f"{draw(st.integers(20, 200))}ms"},
        "clocks": {r: {"offset": f"{draw(st.integers(-5, 5))}ms"} for r in regions if draw(st.booleans())},
        "replication": {"coalesce": draw(st.sampled_from([0.0, 0.5, 1.0]))},
        "workload": {"duration": "1s", "processes_per_region": 1},
        "script": [draw(request(regions, i, strong, pinned)) for i in range(draw(st.integers(1, max_requests)))],
        "faults": [draw(fault(names, regions, strong)) for _ in range(draw(st.integers(0, 3)))],
        "final": {"reads": draw(st.booleans()) if final_reads is None else final_reads, "settle": "1s"},
    }
    if witness:
        data["regions"]["witness"] = "us-west-2"
    if strong:
        data["mode"] = "strong"
        data["replication"]["round_trip"] = f"{draw(st.integers(1, 30))}ms" if pinned else {
            "dist": "uniform", "low": "1ms", "high": "30ms"}
    if pinned:
        data["regions"]["copy_lag"] = f"{draw(st.integers(0, 5))}ms"
        data["regions"]["request_latency"] = f"{draw(st.integers(1, 8))}ms"    # the final reads
        data["replication"]["delay"] = f"{draw(st.integers(0, 40))}ms"
    if draw(st.booleans()):
        policy = draw(st.sampled_from(["next", "map"]))
        data["failover"] = {"policy": policy, "after": f"{draw(st.integers(0, 20))}ms",
                            "failback": draw(st.booleans())}
        if policy == "map":
            data["failover"]["map"] = {r: regions[(i + 1) % len(regions)] for i, r in enumerate(regions)}
    return data
