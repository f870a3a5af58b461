"""Fault context for explanations: which nemesis windows overlapped an anomaly.

A stale read during an isolation is expected behaviour, a stale read with every link
healthy is a slow or broken replicator: the difference matters to the person reading
the verdict, so explanations name the fault, citing its nemesis event, whenever a
fault touching the reader's or the writer's region overlaps the time the read was stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from gtcheck.checker.operations import NemesisEvent
from gtcheck.kernel.units import format_duration


@dataclass(frozen=True)
class FaultWindow:
    what: str                 # "isolated", "down", "replication delayed"
    regions: frozenset[str]   # the regions it touches
    start: int
    end: int | None           # None: never healed in the history
    index: int                # the nemesis event that opened it

    def describe(self) -> str:
        names = ", ".join(sorted(self.regions))
        until = f"to {format_duration(self.end, exact=True)}" if self.end is not None else "to the end of the history"
        verb = "was" if len(self.regions) == 1 or self.what == "replication delayed" else "were"
        subject = f"replication {names}" if self.what == "replication delayed" else names
        what = "delayed" if self.what == "replication delayed" else self.what
        return f"{subject} {verb} {what} from {format_duration(self.start, exact=True)} {until} (nemesis #{self.index})"


def _regions(value: Any, *names: str) -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for name in names:
            v = value.get(name)
            if isinstance(v, str) and v != "*":
                out.add(v)
            elif isinstance(v, list):
                out.update(x for x in v if isinstance(x, str))
    return out


def fault_windows(nemesis: Iterable[NemesisEvent]) -> list[FaultWindow]:
    """Pair each partition / region-down with the heal / region-up that ends it; a
    replication-delay carries its own end (``until_ns``) when the recorder knows it."""
    windows: list[FaultWindow] = []
    isolated: dict[str, NemesisEvent] = {}
    down: dict[str, NemesisEvent] = {}
    for ev in sorted(nemesis, key=lambda e: (e.time, e.index)):
        if ev.f == "partition":
            for r in _regions(ev.value, "isolate"):
                isolated.setdefault(r, ev)
        elif ev.f == "heal":
            healed = _regions(ev.value, "isolate") or set(isolated)   # a bare heal heals all
            for r in sorted(healed):
                if r in isolated:
                    opened = isolated.pop(r)
                    windows.append(FaultWindow("isolated", frozenset([r]), opened.time, ev.time, opened.index))
        elif ev.f == "region-down":
            for r in _regions(ev.value, "region", "regions"):
                down.setdefault(r, ev)
        elif ev.f == "region-up":
            ups = _regions(ev.value, "region", "regions") or set(down)
            for r in sorted(ups):
                if r in down:
                    opened = down.pop(r)
                    windows.append(FaultWindow("down", frozenset([r]), opened.time, ev.time, opened.index))
        elif ev.f == "replication-delay":
            regions = _regions(ev.value, "from", "to")
            until = ev.value.get("until_ns") if isinstance(ev.value, dict) else None
            if isinstance(until, int) and not isinstance(until, bool):
                windows.append(FaultWindow("replication delayed", frozenset(regions) or frozenset(["all links"]),
                                           ev.time, until, ev.index))
    for what, still in (("isolated", isolated), ("down", down)):
        for r, opened in still.items():
            windows.append(FaultWindow(what, frozenset([r]), opened.time, None, opened.index))
    windows.sort(key=lambda w: (w.start, w.index))
    return windows


def overlapping(windows: list[FaultWindow], regions: set[str], start: int, end: int) -> list[FaultWindow]:
    """Windows touching one of ``regions`` (or every link) that overlap [start, end]."""
    return [w for w in windows
            if w.start <= end and (w.end is None or w.end >= start)
            and (w.regions & regions or "all links" in w.regions)]


def annotate(anomalies: list[dict[str, Any]], windows: list[FaultWindow]) -> None:
    """Add the fault context to the explanations of anomalies whose kind spans a lag
    (``AnomalyKind.fault_context``: a stale read, a lost own write, a lost write), in
    place. The span is ``details["window_ns"]`` when the anomaly gives it (a lost write:
    from the first invocation to the last completion of it and the write it was lost to),
    else the ``staleness_ns`` or ``lag_ns`` before ``time_ns``; the regions are the
    anomaly's and ``details["writer_region"]``."""
    if not windows:
        return
    from gtcheck.checker.props import anomaly_kind

    for a in anomalies:
        kind = anomaly_kind(a.get("name"))
        if kind is None or not kind.fault_context or a.get("time_ns") is None:
            continue
        details = a.get("details") or {}
        regions = {r for r in (a.get("region"), details.get("writer_region")) if isinstance(r, str)}
        span = details.get("window_ns")
        if isinstance(span, list) and len(span) == 2:     # the anomaly says its own span
            start, end = span
        else:
            end = a["time_ns"]
            start = end - (details.get("staleness_ns", details.get("lag_ns", 0)) or 0)
        hits = overlapping(windows, regions, start, end)
        if hits:
            a["explanation"] = a["explanation"].rstrip() + " Meanwhile " + "; ".join(w.describe() for w in hits) + "."
            details["faults"] = [w.index for w in hits]
            a["details"] = details
