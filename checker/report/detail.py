"""What the page draws in full detail, within a budget of operations.

Large histories: at most ``op_budget`` operations are drawn in detail: all operations cited
by anomalies; then the keys with anomalies, whole when they fit, else a window around each
anomaly; then the busiest keys, whole. The other operations are summarised
(``data.summarised_lanes``), and the page says what was left out (``view.scope_text``).
The anomalies listed are capped too, each kind keeping a fair share (:func:`fair_share`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from gtcheck.checker.operations import Header, NemesisEvent, Operation
from gtcheck.checker.props import properties

DEFAULT_OP_BUDGET = 20_000          # operations drawn in full detail
MAX_DETAIL_KEYS = 2_000             # keys drawn in detail (the key list stays usable)
MAX_KEY_BYTES = 400_000             # ... and their names' total length
MAX_ANOMALIES = 500                 # anomalies listed on the page (a fair share per name)


@dataclass
class PropertyAnomalies:
    """One property's entry of the summary, its anomalies and their exact count."""

    prop: Any                       # the property's module (checker.props)
    section: Mapping[str, Any]
    count: int


@dataclass
class Selection:
    """The history as the page sees it: its time span, the anomalies listed, and which
    operations are drawn in detail."""

    t0: int
    t1: int
    ops_by_index: dict[int, Operation]
    completion_to_invoke: dict[int, int]
    by_property: list[PropertyAnomalies]
    anomalies: list[dict[str, Any]]                  # listed, each with its "property"
    anomaly_total: int
    cited: dict[int, list[int]]                      # op index -> listed anomaly ids
    anomaly_keys: Counter
    by_key: dict[str, list[Operation]]
    detail_keys: set[str]
    detail_ops: list[Operation]                      # by (invoke time, index)
    summarised: list[Operation]
    full_anomaly_keys: list[str] = field(default_factory=list)
    windowed_anomaly_keys: list[str] = field(default_factory=list)
    busy_keys: list[str] = field(default_factory=list)
    skipped_busy: bool = False
    window: int = 0                                  # +/- ns around an anomaly, windowed keys

    def op_of(self, index: Any) -> int | None:
        """The operation an anomaly's index names (an invocation or a completion)."""
        if not isinstance(index, int):
            return None
        if index in self.ops_by_index:
            return index
        return self.completion_to_invoke.get(index)


def time_span(header: Header, operations: list[Operation], nemesis: list[NemesisEvent]
              ) -> tuple[int, int]:
    """The page's time axis: first to last event (and settled_after_ns), never empty."""
    times = [op.invoke_time for op in operations]
    times += [op.end_time for op in operations if op.end_time is not None]
    times += [ev.time for ev in nemesis]
    t0 = min(times) if times else 0
    t1 = max(times) if times else 1
    if header.settled_after_ns is not None:
        t1 = max(t1, header.settled_after_ns)
    if t1 <= t0:
        t1 = t0 + 1
    return t0, t1


def anomalies_by_property(summary: Mapping[str, Any]
                          ) -> tuple[list[PropertyAnomalies], list[dict[str, Any]], int]:
    """Every property's anomalies, in the registry's order, and how many there are in all;
    the list is capped with every kind getting its share."""
    listed: list[dict[str, Any]] = []
    by_property = []
    total = 0
    for prop in properties():
        section = summary.get(prop.NAME) or {}
        anoms = list(section.get("anomalies") or [])
        counts = section.get("anomaly_counts")
        n = sum(counts.values()) if isinstance(counts, Mapping) and counts else len(anoms)
        n = max(n, len(anoms))
        total += n
        listed.extend({"property": prop.NAME, **dict(a)} for a in anoms)
        by_property.append(PropertyAnomalies(prop, section, n))
    return by_property, fair_share(listed, MAX_ANOMALIES), total


def select(header: Header, operations: list[Operation], nemesis: list[NemesisEvent],
           summary: Mapping[str, Any], op_budget: int) -> Selection:
    """Choose the operations drawn in detail (see the module doc)."""
    t0, t1 = time_span(header, operations, nemesis)
    by_property, anomalies, anomaly_total = anomalies_by_property(summary)
    sel = Selection(
        t0=t0, t1=t1, ops_by_index={op.index: op for op in operations},
        completion_to_invoke={op.complete_index: op.index for op in operations
                              if op.complete_index is not None},
        by_property=by_property, anomalies=anomalies, anomaly_total=anomaly_total,
        cited=defaultdict(list), anomaly_keys=Counter(), by_key=defaultdict(list),
        detail_keys=set(), detail_ops=[], summarised=[])
    ops_by_index, op_of = sel.ops_by_index, sel.op_of
    for aid, a in enumerate(anomalies):
        key = a.get("key")
        if isinstance(key, str):
            sel.anomaly_keys[key] += 1
        for i in a.get("ops") or []:
            oi = op_of(i)
            if oi is not None:
                sel.cited[oi].append(aid)
                if not isinstance(key, str):
                    sel.anomaly_keys[ops_by_index[oi].key] += 0

    by_key = sel.by_key
    for op in operations:
        by_key[op.key].append(op)
    detail: set[int] = set(i for i in sel.cited if i in ops_by_index)
    detail_keys = sel.detail_keys
    detail_keys.update(ops_by_index[i].key for i in detail)
    window = sel.window = max((t1 - t0) // 100, 100_000_000)  # +/-1 % of the span, >= 100 ms
    anomaly_times: dict[str, list[int]] = defaultdict(list)
    for a in anomalies:
        key = a.get("key")
        if isinstance(key, str):
            tns = a.get("time_ns")
            if isinstance(tns, int):
                anomaly_times[key].append(tns)
            for i in a.get("ops") or []:
                oi = op_of(i)
                if oi is not None:
                    anomaly_times[key].append(ops_by_index[oi].invoke_time)

    def room() -> int:
        return op_budget - len(detail)

    for key, _n in sorted(sel.anomaly_keys.items(), key=lambda kv: (-kv[1], kv[0])):
        ops_k = by_key.get(key, [])
        if not ops_k:
            continue
        if len(detail_keys) >= MAX_DETAIL_KEYS and key not in detail_keys:
            break
        missing = [op.index for op in ops_k if op.index not in detail]
        if len(missing) <= room():
            detail.update(missing)
            sel.full_anomaly_keys.append(key)
            detail_keys.add(key)
        elif room() > 0:
            spans = [(t - window, t + window) for t in anomaly_times.get(key, [])]
            near = [
                op.index for op in ops_k if op.index not in detail and any(
                    lo <= op.invoke_time <= hi or lo <= (op.end_time or op.invoke_time) <= hi
                    for lo, hi in spans)
            ]
            detail.update(near[: max(room(), 0)])
            sel.windowed_anomaly_keys.append(key)
            detail_keys.add(key)
    anomalous_set = set(sel.anomaly_keys)
    key_bytes = sum(len(k) for k in detail_keys)
    for key, ops_k in sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if room() <= 0 or len(detail_keys) >= MAX_DETAIL_KEYS or key_bytes > MAX_KEY_BYTES:
            break
        if key in anomalous_set:
            continue
        if len(ops_k) <= room():
            detail.update(op.index for op in ops_k)
            sel.busy_keys.append(key)
            detail_keys.add(key)
            key_bytes += len(key)
        else:
            sel.skipped_busy = True

    sel.detail_ops = sorted((ops_by_index[i] for i in detail),
                            key=lambda o: (o.invoke_time, o.index))
    sel.summarised = [op for op in operations if op.index not in detail]
    return sel


def fair_share(anomalies: list[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    """At most ``cap`` anomalies, each name keeping its order (worst first) and a fair
    share: names with fewer than their share keep all theirs, the rest split the
    remainder. The result keeps the input's order."""
    if len(anomalies) <= cap:
        return anomalies
    groups: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(anomalies):
        groups[f"{a.get('property')}/{a.get('name')}"].append(i)
    quota: dict[str, int] = {}
    left = cap
    pending = sorted(groups, key=lambda g: len(groups[g]))
    while pending:
        share = left // len(pending)
        g = pending[0]
        if len(groups[g]) <= share:
            quota[g] = len(groups[g])
            left -= quota[g]
            pending.pop(0)
        else:
            for j, g2 in enumerate(pending):
                quota[g2] = share + (1 if j < left - share * len(pending) else 0)
            break
    keep = sorted(i for g, idx in groups.items() for i in idx[: quota[g]])
    return [anomalies[i] for i in keep]
