"""One paragraph telling what happened in a counterexample, citing the operations."""

from __future__ import annotations

from typing import Any

from gtcheck.kernel.units import format_duration
from gtcheck.search.run import Run, Verdict


def _value(v: Any) -> str:
    if v is None:
        return "nothing (absent)"
    if isinstance(v, dict):
        shown = {k: x for k, x in v.items() if k != "rev"}
        return "{" + ", ".join(f"{k}: {x}" for k, x in shown.items()) + "}" if shown else "an item"
    return str(v)


def describe(op: dict[str, Any]) -> str:
    """``op 3 (eu-west-1, 1.2 s): eventually consistent read of k00 returned nothing``."""
    f = op["f"]
    where = f"op {op['index']} ({op['region']}, {format_duration(op['start'], exact=True)})"
    key = op["key"]
    outcome = op.get("type", "pending")
    if f == "read":
        kind = "strongly consistent read" if op.get("consistent") else "eventually consistent read"
        return f"{where}: {kind} of {key} returned {_value(op.get('result'))}"
    v = op.get("value")
    if f == "write":
        what = f"put {_value(v)} into {key}"
    elif f == "update":
        parts = []
        if isinstance(v, dict):
            if v.get("add"):
                parts.append("add " + ", ".join(f"{k} += {x}" for k, x in v["add"].items()))
            sets = {k: x for k, x in (v.get("set") or {}).items() if k != "rev"}
            if sets:
                parts.append("set " + ", ".join(f"{k} = {x}" for k, x in sets.items()))
        what = f"update of {key} ({'; '.join(parts) or 'no change'})"
    elif f == "cas":
        exp = v[0] if isinstance(v, list) and v else None
        what = f"conditional {'create' if exp is None else 'write'} of {key}"
    elif f == "delete":
        what = f"delete of {key}"
    else:
        what = f"{f} of {key}"
    if op.get("condition") is not None:
        what += f" (if {op['condition'] or 'it exists'})"
    if op.get("txn"):
        what += f" in transaction {op['txn']}"
    return f"{where}: {what} {'acknowledged' if outcome == 'ok' else 'failed' if outcome == 'fail' else 'unknown'}"


def clock_offsets(run: Run) -> list[tuple[str, int]]:
    """The regions whose clocks were off in the run (a search pins every ranged offset in
    the scenario it writes), with their offsets."""
    sc = run.scenario
    if sc is None:
        return []
    out = []
    for region in sc.regions:
        offset = sc.clock(region).offset_ns
        if offset:
            out.append((region, offset))
    return out


def _at(ns: int) -> str:
    return format_duration(ns, exact=True)


def fault_words(fault: Any, failover: Any) -> str:
    """One fault of a run's scenario in words, with the moments it acts: ``outage of
    us-east-1 from 5 s to 7 s (its clients fail over 100 ms after it goes down)``."""
    span = f"from {_at(fault.at_ns)} to {_at(fault.end_ns)}"
    if fault.kind == "outage":
        words = f"outage of {fault.region} {span}"
        if failover.policy != "none":
            words += f" (its clients fail over {_at(failover.after_ns)} after it goes down"
            words += ", and come back when it recovers)" if failover.failback else ")"
        return words
    if fault.kind == "isolate":
        return f"isolation of {fault.region} (its replication cut both ways) {span}"
    if fault.kind == "replication-delay":
        extra = fault.extra.describe() if fault.extra is not None else "extra"
        return f"replication delay {fault.source} -> {fault.target} (+{extra}) {span}"
    sign = "+" if fault.by_ns >= 0 else "-"
    return f"clock jump of {fault.region} by {sign}{_at(abs(fault.by_ns))} at {_at(fault.at_ns)}"


def explain(run: Run, verdict: Verdict, prop: str, seed: int) -> str:
    ops = [o for o in run.operations() if not o["final"]]
    cited = set(verdict.cited)
    shown = [o for o in ops if o["index"] in cited or o.get("index_end") in cited] or ops
    if len(shown) > 8:
        shown = shown[:8]
    sc = run.scenario
    if sc is not None:       # from the scenario: kinds, spans and the failover, in words
        faults = [fault_words(f, sc.failover) for f in sc.faults]
    else:
        faults = [f"{e['f']} {e.get('value')} at {_at(e['time'])}"
                  for e in run.events[1:] if e.get("process") == "nemesis"]
    lines = [f"{prop} is broken in a run of {len(ops)} client request{'s' if len(ops) != 1 else ''}"
             f" (seed {seed}):"]
    lines.append("; ".join(describe(o) for o in shown) + ".")
    if faults:      # every one: a counterexample is shrunk, what is left mattered
        lines.append("Faults: " + "; ".join(faults) + ".")
    offsets = clock_offsets(run)
    if offsets:
        lines.append("Clock offsets: " + ", ".join(f"{r} {'+' if o > 0 else '-'}{_at(abs(o))}"
                                                   for r, o in offsets) + ".")
    if run.final:
        finals = []
        for key, regions in sorted(run.final.items()):
            vals = {repr(v) for v in regions.values()}
            if len(vals) == 1:
                finals.append(f"{key} ends as {_value(next(iter(regions.values())))} everywhere")
            else:
                finals.append(f"{key} ends as " + ", ".join(f"{_value(v)} in {r}" for r, v in sorted(regions.items())))
        lines.append("After every fault healed, " + "; ".join(finals[:4]) + ".")
    lines.append(f"Why it breaks the property: {verdict.message}")
    return " ".join(lines)
