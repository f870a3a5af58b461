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


def explain(run: Run, verdict: Verdict, prop: str, seed: int) -> str:
    ops = [o for o in run.operations() if not o["final"]]
    cited = set(verdict.cited)
    shown = [o for o in ops if o["index"] in cited or o.get("index_end") in cited] or ops
    if len(shown) > 8:
        shown = shown[:8]
    faults = [e for e in run.events[1:] if e.get("process") == "nemesis"]
    lines = [f"{prop} is broken in a run of {len(ops)} client request{'s' if len(ops) != 1 else ''}"
             f" (seed {seed}):"]
    lines.append("; ".join(describe(o) for o in shown) + ".")
    if faults:
        lines.append("Faults: " + "; ".join(f"{e['f']} {e.get('value')} at {format_duration(e['time'], exact=True)}" for e in faults[:4]) + ".")
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
