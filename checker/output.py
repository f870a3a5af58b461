"""Render a check summary (``CheckResult.summary``) as text, JSON or JUnit XML.

Every renderer takes only the JSON-able summary dict, so any tool holding a saved JSON
result can render it again.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gtcheck.checker.props import properties
from gtcheck.checker.props.base import counts_in_verdict, plural
from gtcheck.kernel.units import format_duration
from gtcheck.kernel.exactjson import dumps as exact_dumps

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

FORMATS = ("text", "json", "junit")
SHOWN_ANOMALIES = 10


def render(summary: dict[str, Any], fmt: str = "text") -> str:
    if fmt == "json":
        return render_json(summary)
    if fmt == "junit":
        return render_junit(summary)
    if fmt == "text":
        return render_text(summary)
    raise ValueError(f"unknown format {fmt!r}")


def render_json(summary: dict[str, Any]) -> str:
    """The summary as indented JSON. orjson writes it when it can; integers beyond 64 bits,
    exact decimals and values nested deeper than orjson's limit are written by the exact
    writer (same layout), so a number is never rounded on the way out."""
    return exact_dumps(summary, indent=True, default=_default).decode() + "\n"


def _default(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return repr(obj)


# --------------------------------------------------------------------------- text
def _word(valid: Any) -> str:
    return {True: "valid", False: "INVALID"}.get(valid, "unknown") if isinstance(valid, bool) \
        else "unknown"


def _property_line(prop: Any, p: dict[str, Any]) -> str:
    name = prop.NAME
    if p.get("checked") is False:
        return f"  {name:<17} not checked ({p.get('reason', '')})"
    # a finding not counted in the verdict says "found", never "INVALID"
    word = "found" if p.get("counted") is False and p.get("valid") is False else _word(p["valid"])
    return f"  {name:<17} {word:<8} {prop.summary_line(p)}".rstrip()


def render_text(summary: dict[str, Any]) -> str:
    hist = summary.get("history", {})
    counts = hist.get("counts", {})
    valid = summary["valid"]
    props = [p for p in properties() if p.NAME in summary]
    failed = [p.NAME for p in props if summary[p.NAME].get("valid") is False
              and counts_in_verdict(summary[p.NAME])]
    head = {True: "VALID", False: "INVALID"}.get(valid, "UNKNOWN") if isinstance(valid, bool) \
        else "UNKNOWN"
    where = f"{hist.get('path', '?')}: {plural(counts.get('operations'), 'operation')}, " \
            f"{plural(counts.get('keys'), 'key')}"
    invariants = summary.get("invariants") or {}
    failed += [f"invariant {n}" for n, e in invariants.items() if e.get("valid") is False]
    if failed:
        head += f": {', '.join(failed)} failed"
    lines = [f"{head} ({where})"]
    for prop in props:
        lines.append(_property_line(prop, summary[prop.NAME]))
    lines.extend(_invariant_lines(invariants))
    st = summary.get("staleness", {})
    pairs = st.get("pairs") or {}
    if pairs:
        worst = sorted(pairs.items(), key=lambda kv: -kv[1]["max_ns"])[:6]
        lines.append("staleness by region pair (writer -> reader): reads, p50, p99, max")
        for pair, f in worst:
            lines.append(f"  {pair:<34} {f['reads']:>8}  {format_duration(f['p50_ns']):>9}  "
                         f"{format_duration(f['p99_ns']):>9}  {format_duration(f['max_ns']):>9}")
        if len(pairs) > len(worst):
            lines.append(f"  ... and {len(pairs) - len(worst)} more pairs")
    for prop in props:
        more = getattr(prop, "text_lines", None)
        if more is not None:
            lines.extend(more(summary[prop.NAME]))
    anoms: list[dict[str, Any]] = []
    total = 0
    for prop in props:
        p = summary[prop.NAME]
        anoms.extend(p.get("anomalies") or [])
        total += sum((p.get("anomaly_counts") or {}).values())
    if anoms:
        lines.append("anomalies (worst first):")
        for a in anoms[:SHOWN_ANOMALIES]:
            lines.append(f"  [{a['name']}] key {a['key']!r}: {a['explanation']}")
            for c in (a.get("details") or {}).get("contradictions") or ():
                # the solver's unsat core, in words: why no admissible order avoids it
                lines.append(f"    why no order avoids it: {c['explanation']}")
        if total > SHOWN_ANOMALIES:
            lines.append(f"  ... and {total - SHOWN_ANOMALIES} more (use --format json for all)")
    unknown = summary.get("unknown_keys") or []
    if unknown:
        reasons: dict[str, int] = {}
        for u in unknown:
            reasons[u["reason"]] = reasons.get(u["reason"], 0) + 1
        lines.append(f"{len(unknown)} keys could not be ordered: " +
                     "; ".join(f"{n} x {r}" for r, n in sorted(reasons.items())))
    return "\n".join(lines) + "\n"


def _invariant_text(entry: dict[str, Any]) -> str:
    """What an application invariant's entry says: its message, its reason, or nothing."""
    if entry.get("valid") is False:
        return str(entry.get("message", ""))
    return str(entry.get("reason", "")) if entry.get("valid") == "unknown" else ""


def _invariant_lines(invariants: dict[str, dict[str, Any]]) -> list[str]:
    """One line per application invariant (``--invariant``), after the properties."""
    if not invariants:
        return []
    lines = ["application invariants (--invariant):"]
    for name, e in invariants.items():
        lines.append(f"  {name:<26} {_word(e.get('valid')):<8} {_invariant_text(e)}".rstrip())
    return lines


# --------------------------------------------------------------------------- junit
def _anomaly_text(p: dict[str, Any], first: str | None = None) -> str:
    """An entry's anomalies one a line, with how many more there were."""
    anoms = p.get("anomalies") or []
    lines = [first] if first else []
    lines.extend(f"[{a['name']}] key {a['key']!r} ops {a['ops']}: {a['explanation']}" for a in anoms)
    total = sum((p.get("anomaly_counts") or {}).values())
    if total > len(anoms):
        lines.append(f"... and {total - len(anoms)} more")
    return "\n".join(lines)


def render_junit(summary: dict[str, Any]) -> str:
    """One testsuite ``gtcheck``, one testcase per property: failure / skipped / pass."""
    from xml.etree import ElementTree as ET   # JUnit only: the XML library stays unloaded otherwise

    suite = _junit_suite(summary, "gtcheck")
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _junit_suite(summary: dict[str, Any], name: str) -> Element:
    from xml.etree import ElementTree as ET

    hist = summary.get("history", {})
    suite = ET.Element("testsuite", name=name)
    n_fail = n_skip = 0
    total_time = float(summary.get("timing", {}).get("total_s", 0.0) or 0.0)
    for prop in properties():
        name = prop.NAME
        p = summary.get(name)
        if p is None:
            continue
        case = ET.SubElement(suite, "testcase", name=name, classname=f"gtcheck.{name}")
        case.set("file", str(hist.get("path", "")))
        if p.get("checked") is False or p.get("valid") == "unknown":
            n_skip += 1
            ET.SubElement(case, "skipped", message=p.get("reason") or "unknown")
        elif p.get("valid") is False and not counts_in_verdict(p):
            # a finding reported but not counted (lost writes without --fail-on): it
            # passes, and its system-out names what was found
            out = ET.SubElement(case, "system-out")
            out.text = _anomaly_text(p, f"found, not counted in the verdict: {p.get('note', '')}")
        elif p.get("valid") is False:
            n_fail += 1
            counts = p.get("anomaly_counts") or {}
            msg = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "invalid"
            fail = ET.SubElement(case, "failure", message=msg, type=",".join(sorted(counts)))
            fail.text = _anomaly_text(p)
        if name == "staleness" and p.get("checked") is not False:
            out = ET.SubElement(case, "system-out")
            smallest = p.get("smallest_bound_ns")
            out.text = (f"smallest bound {'unknown' if smallest is None else f'{smallest} ns'}; "
                        f"bound {p.get('bound_ns')} ns")
    for name, e in (summary.get("invariants") or {}).items():
        case = ET.SubElement(suite, "testcase", name=f"invariant {name}", classname="gtcheck.invariant")
        case.set("file", str(hist.get("path", "")))
        if e.get("valid") == "unknown":
            n_skip += 1
            ET.SubElement(case, "skipped", message=_invariant_text(e) or "unknown")
        elif e.get("valid") is False:
            n_fail += 1
            fail = ET.SubElement(case, "failure", message=_invariant_text(e)[:200], type="invariant")
            fail.text = f"{_invariant_text(e)}\ncited history indexes: {e.get('cited', [])}"
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(n_fail))
    suite.set("errors", "0")
    suite.set("skipped", str(n_skip))
    suite.set("time", f"{total_time:.3f}")
    return suite


# --------------------------------------------------------------------------- several files
class FileOutcome:
    """One history of a multi-file check: its summary, or the bad input that stopped it."""

    __slots__ = ("path", "summary", "error", "exit_code")

    def __init__(self, path: str, summary: dict[str, Any] | None = None,
                 error: str | None = None, exit_code: int = 0):
        self.path = path
        self.summary = summary
        self.error = error
        self.exit_code = exit_code

    @property
    def word(self) -> str:
        if self.error is not None:
            return "error"
        return _word(self.summary["valid"]) if self.summary is not None else "error"


def tally(outcomes: list[FileOutcome]) -> dict[str, int]:
    """How many histories were valid, invalid, unknown, bad input."""
    out = {"histories": len(outcomes), "valid": 0, "invalid": 0, "unknown": 0, "bad_input": 0}
    for o in outcomes:
        if o.error is not None or o.summary is None:
            out["bad_input"] += 1
        else:
            v = o.summary["valid"]
            out["valid" if v is True else "invalid" if v is False else "unknown"] += 1
    return out


def render_many(outcomes: list[FileOutcome], fmt: str, exit_code: int) -> str:
    """Several histories: text (one line per file and a summary line), JSON (one object
    per file, as for one file, and a summary), JUnit (one testsuite per file)."""
    counts = tally(outcomes)
    counts["exit_code"] = exit_code
    if fmt == "json":
        return render_json({"histories": [o.summary if o.error is None else
                                          {"history": {"path": o.path}, "valid": None,
                                           "error": o.error, "exit_code": o.exit_code}
                                          for o in outcomes],
                            "summary": counts})
    if fmt == "junit":
        from xml.etree import ElementTree as ET

        root = ET.Element("testsuites", name="gtcheck")
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for o in outcomes:
            if o.error is not None or o.summary is None:
                suite = ET.SubElement(root, "testsuite", name=o.path)
                case = ET.SubElement(suite, "testcase", name="history",
                                     classname="gtcheck.history")
                case.set("file", o.path)
                err = ET.SubElement(case, "error", message=(o.error or "").splitlines()[0],
                                    type="bad-input")
                err.text = o.error
                for k, v in (("tests", 1), ("failures", 0), ("errors", 1), ("skipped", 0)):
                    suite.set(k, str(v))
            else:
                suite = _junit_suite(o.summary, o.path)
                root.append(suite)
            for k in totals:
                totals[k] += int(suite.get(k, "0"))
        for k, v in totals.items():
            root.set(k, str(v))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    width = max(len(o.path) for o in outcomes)
    lines = [f"{o.word:<8} {o.path:<{width}}  {_one_line(o)}".rstrip() for o in outcomes]
    n = counts["histories"]
    lines.append(f"{n} histor{'y' if n == 1 else 'ies'}: "
                 f"{counts['valid']} valid, {counts['invalid']} invalid, "
                 f"{counts['unknown']} unknown, {counts['bad_input']} bad input")
    return "\n".join(lines) + "\n"


def _one_line(o: FileOutcome) -> str:
    if o.error is not None or o.summary is None:
        return (o.error or "").splitlines()[0]
    summary = o.summary
    counts = summary.get("history", {}).get("counts", {})
    size = f"{plural(counts.get('operations'), 'operation')}, {plural(counts.get('keys'), 'key')}"
    props = [p for p in properties() if p.NAME in summary]
    if summary["valid"] is True:
        return size
    parts = []
    for prop in props:
        p = summary[prop.NAME]
        if not counts_in_verdict(p):
            continue
        if p.get("valid") is False:
            parts.append(f"{prop.NAME}: " + ", ".join(
                f"{n} {k}" for k, n in sorted((p.get("anomaly_counts") or {}).items())))
        elif p.get("valid") == "unknown" and summary["valid"] is not False:
            parts.append(f"{prop.NAME}: {p.get('reason', 'unknown')}")
    for name, e in (summary.get("invariants") or {}).items():
        if e.get("valid") is False or (e.get("valid") == "unknown" and summary["valid"] is not False):
            parts.append(f"invariant {name}: {_invariant_text(e)}")
    return "; ".join(parts) + f" ({size})"
