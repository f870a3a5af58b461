"""The HTML report: one self-contained page that shows a history and its verdict.

``write_report`` is the entry point (used by ``gtcheck report`` and ``gtcheck check
--html``). The work splits in three steps, each testable on its own:

1. *gather*: read the history (``checker.history.open_history``), run the checker
   (``checker.check.check_history``) unless a result is given, and read the
   ground-truth sidecar ``NAME.truth.jsonl`` when the simulator left one.
2. *build* (``build_page``, pure): choose what to draw in full detail within a budget
   and summarise the rest, and produce two things: ``view``, the values the template
   renders on the server side (banner, property cards, anomalies, convergence table,
   metadata), and ``data``, the compact JSON the page's script draws the timeline and
   the staleness charts from.
3. *render* (``render_html``): jinja2 with autoescape on; the JSON goes into a
   ``<script type="application/json">`` block through ``embed_json``, which escapes
   ``<``, ``>``, ``&``, U+2028 and U+2029, so no value of the history can close the
   block or become markup. The page's own scripts are allowed by a Content-Security-
   Policy hash; nothing else may run, and the script writes data only via textContent.

Large histories: at most ``op_budget`` operations are drawn in detail (all operations
cited by anomalies; then the keys with anomalies, whole when they fit, else a window
around each anomaly; then the busiest keys, whole). The other operations are drawn
as counts per region per time bucket, and staleness as at most
``MAX_STALENESS_POINTS`` sampled points plus exact quantiles per region pair. The page
says what was summarised.
"""

from __future__ import annotations

import base64
import datetime as _dt
import gzip
import hashlib
import json
import math
import os
import random
import time as _time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

import jinja2
import orjson
from markupsafe import Markup

from gtcheck.checker.operations import Header, NemesisEvent, Operation
from gtcheck.checker.props import properties
from gtcheck.checker.props.linearizability import NOT_LINEARIZABLE_KEY
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.sidecar import truth_path_for
from gtcheck.kernel.units import format_duration

# -- limits ---------------------------------------------------------------------
DEFAULT_OP_BUDGET = 20_000          # operations drawn in full detail
MAX_DETAIL_KEYS = 2_000             # keys drawn in detail (the key list stays usable)
MAX_KEY_BYTES = 400_000             # ... and their names' total length
MAX_STALENESS_POINTS = 5_000        # sampled points of the staleness-over-time chart
TOP_STALE_POINTS = 500              # the stalest reads are always among the points
MAX_ANOMALIES = 500                 # anomalies listed on the page (a fair share per name)
MAX_CONVERGENCE_ROWS = 200          # rows of the convergence table
MAX_AGG_BUCKETS = 500               # time buckets of the summarised lanes
VALUE_CHARS = 60                    # values are cut to this many characters
DETAILS_CHARS = 400                 # an anomaly's ``details`` as JSON, cut
CDF_POINTS = 101                    # quantiles per region pair (0 %, 1 %, ..., 100 %)

KINDS = ("read", "write", "update", "delete", "cas")
OUTCOMES = ("ok", "fail", "info")
FAULT_WINDOWS = {  # opening event -> closing event
    "partition": "heal",
    "region-down": "region-up",
}
FAULT_MARKERS = ("clock-skew", "replication-delay")

_TEMPLATES = Path(__file__).parent / "templates"


# -- public API -----------------------------------------------------------------
def write_report(
    history_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    check_result: Any = None,
    staleness_bound_ns: int | None = None,
    jobs: int | None = None,
    op_budget: int = DEFAULT_OP_BUDGET,
) -> Path:
    """Check ``history_path`` (unless ``check_result`` is given) and write the report.

    ``check_result`` is a ``checker.check.CheckResult``; pass one computed with
    ``keep_reads=True`` so the page can draw per-read staleness and the convergence
    table (without it those parts say what is missing). Returns the path written.
    Raises ``gtcheck.kernel.errors.UserError`` on bad input.
    """
    started = _time.perf_counter()
    page = build_report(
        history_path, check_result=check_result, staleness_bound_ns=staleness_bound_ns,
        jobs=jobs, op_budget=op_budget,
    )
    page["view"]["report_build_s"] = round(_time.perf_counter() - started, 3)
    html = render_html(page)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def build_report(
    history_path: str | os.PathLike[str],
    *,
    check_result: Any = None,
    staleness_bound_ns: int | None = None,
    jobs: int | None = None,
    op_budget: int = DEFAULT_OP_BUDGET,
) -> dict[str, Any]:
    """Gather the history, the check result and the sidecar; return ``build_page``'s page."""
    from gtcheck.checker.history import open_history  # imported late: written alongside

    path = Path(history_path)
    if check_result is None:
        from gtcheck.checker.check import check_history

        kwargs: dict[str, Any] = {"staleness_bound_ns": staleness_bound_ns, "keep_reads": True}
        if jobs is not None:
            kwargs["jobs"] = jobs
        check_result = check_history(path, **kwargs)
    with open_history(path) as history:
        header = history.header
        operations = list(history.operations())
        nemesis = list(history.nemesis)
    summary = getattr(check_result, "summary", None) or {}
    reads = getattr(check_result, "reads", None)
    final_state = getattr(check_result, "final_state", None)
    truth_path = truth_path_for(path)
    truth = truth_path if truth_path.exists() else None
    return build_page(
        header, operations, nemesis, summary, reads=reads, final_state=final_state,
        truth_path=truth, history_path=str(history_path), op_budget=op_budget,
    )


# -- JSON embedding -------------------------------------------------------------
_JSON_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def dumps(obj: Any) -> bytes:
    """Compact JSON: orjson's, or the exact writer's for what orjson refuses (integers
    beyond 64 bits, exact decimals, deep nesting), so numbers are never rounded."""
    return exact_dumps(obj, default=str)


def embed_json(obj: Any) -> Markup:
    """JSON safe to place inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` can only occur inside JSON strings, where ``\\u003c`` etc.
    mean the same characters to ``JSON.parse``; escaping them means no ``</script>``,
    ``<!--`` or entity can appear in the block. U+2028/U+2029 are escaped as well.
    """
    raw = dumps(obj)
    for needle, replacement in _JSON_ESCAPES:
        raw = raw.replace(needle, replacement)
    return Markup(raw.decode("utf-8"))


def short(value: Any, limit: int = VALUE_CHARS) -> str:
    """A value as compact JSON text, cut to ``limit`` characters."""
    if isinstance(value, str) and len(value) > 4 * limit:
        value = value[: 4 * limit]
    text = dumps(value).decode("utf-8")
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text


# -- formatting -------------------------------------------------------------------
def fmt_ns(ns: Any) -> str:
    """A duration in ns as the checker writes it (``kernel.units.format_duration``);
    anything that is not a number (a value read from a header) as its text."""
    if ns is None or (isinstance(ns, (int, float)) and not isinstance(ns, bool)):
        return format_duration(ns)
    return str(ns)


def fmt_value(name: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "–"}[value]
    if name.endswith("_ns") and isinstance(value, (int, float)):
        return fmt_ns(value)
    if name.endswith("_s") and isinstance(value, (int, float)):
        return f"{value:.3g} s"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value if len(value) <= 600 else value[:599] + "\u2026"
    return short(value, 120)


def flatten_figures(figures: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``{"reads": 10, "pairs": {...}}`` -> ``[("reads", "10"), ...]`` for display."""
    out: list[tuple[str, str]] = []
    if not isinstance(figures, Mapping):
        return out
    for name, value in figures.items():
        label = f"{prefix}{name}"
        if isinstance(value, Mapping) and len(value) <= 8 and prefix == "":
            out.extend(flatten_figures(value, label + "."))
        else:
            out.append((label.replace("_", " ").removesuffix(" ns"), fmt_value(str(name), value)))
    return out


def verdict_word(valid: Any) -> str:
    if valid is True:
        return "valid"
    if valid is False:
        return "invalid"
    if valid in (None, "not checked", "not-checked"):
        return "not checked"
    return "unknown"


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def nice_step(span: float, target: int) -> int:
    """The 1-2-5 step near ``span / target`` (at least 1)."""
    raw = max(span / max(target, 1), 1.0)
    exp = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * exp >= raw:
            return int(m * exp)
    return int(10 * exp)


def _natural(label: Any) -> tuple:
    return (0, label, "") if isinstance(label, int) else (1, 0, str(label))


# -- the page ---------------------------------------------------------------------
def build_page(
    header: Header,
    operations: list[Operation],
    nemesis: list[NemesisEvent],
    summary: Mapping[str, Any],
    *,
    reads: Iterable[Any] | None = None,
    final_state: Mapping[str, Mapping[str, int | None]] | None = None,
    truth_path: Path | None = None,
    history_path: str = "history.jsonl",
    op_budget: int = DEFAULT_OP_BUDGET,
) -> dict[str, Any]:
    """Everything the template needs: ``{"view": ..., "data": ...}`` (see module doc)."""
    regions = list(header.regions)
    region_idx = {r: i for i, r in enumerate(regions)}
    ops_by_index: dict[int, Operation] = {op.index: op for op in operations}
    completion_to_invoke = {
        op.complete_index: op.index for op in operations if op.complete_index is not None
    }

    times = [op.invoke_time for op in operations]
    times += [op.end_time for op in operations if op.end_time is not None]
    times += [ev.time for ev in nemesis]
    t0 = min(times) if times else 0
    t1 = max(times) if times else 1
    if header.settled_after_ns is not None:
        t1 = max(t1, header.settled_after_ns)
    if t1 <= t0:
        t1 = t0 + 1

    # anomalies, in property order; every kind gets its share of the cap
    anomalies_all: list[dict[str, Any]] = []
    prop_views = []
    anomaly_total = 0
    for prop_mod in properties():
        prop = prop_mod.NAME
        section = summary.get(prop) or {}
        anoms = list(section.get("anomalies") or [])
        counts = section.get("anomaly_counts")
        n_prop = sum(counts.values()) if isinstance(counts, Mapping) and counts else len(anoms)
        n_prop = max(n_prop, len(anoms))
        anomaly_total += n_prop
        for a in anoms:
            anomalies_all.append({"property": prop, **dict(a)})
        prop_views.append(_property_view(prop_mod, section, n_prop, header))
    anomalies = _fair_share(anomalies_all, MAX_ANOMALIES)
    anomalies_all = anomalies

    def op_of(index: Any) -> int | None:
        if not isinstance(index, int):
            return None
        if index in ops_by_index:
            return index
        return completion_to_invoke.get(index)

    cited: dict[int, list[int]] = defaultdict(list)    # op index -> anomaly ids
    anomaly_keys: Counter[str] = Counter()
    for aid, a in enumerate(anomalies_all):
        key = a.get("key")
        if isinstance(key, str):
            anomaly_keys[key] += 1
        for i in a.get("ops") or []:
            oi = op_of(i)
            if oi is not None:
                cited[oi].append(aid)
                if not isinstance(key, str):
                    anomaly_keys[ops_by_index[oi].key] += 0

    # -- choose the detail set
    by_key: dict[str, list[Operation]] = defaultdict(list)
    for op in operations:
        by_key[op.key].append(op)
    detail: set[int] = set(i for i in cited if i in ops_by_index)
    full_anomaly_keys: list[str] = []
    windowed_anomaly_keys: list[str] = []
    busy_keys: list[str] = []
    detail_keys: set[str] = {ops_by_index[i].key for i in detail}
    window = max((t1 - t0) // 100, 100_000_000)  # ±1 % of the span, at least ±100 ms
    anomaly_times: dict[str, list[int]] = defaultdict(list)
    for a in anomalies_all:
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

    for key, _n in sorted(anomaly_keys.items(), key=lambda kv: (-kv[1], kv[0])):
        ops_k = by_key.get(key, [])
        if not ops_k:
            continue
        if len(detail_keys) >= MAX_DETAIL_KEYS and key not in detail_keys:
            break
        missing = [op.index for op in ops_k if op.index not in detail]
        if len(missing) <= room():
            detail.update(missing)
            full_anomaly_keys.append(key)
            detail_keys.add(key)
        elif room() > 0:
            spans = [(t - window, t + window) for t in anomaly_times.get(key, [])]
            near = [
                op.index for op in ops_k if op.index not in detail and any(
                    lo <= op.invoke_time <= hi or lo <= (op.end_time or op.invoke_time) <= hi
                    for lo, hi in spans)
            ]
            detail.update(near[: max(room(), 0)])
            windowed_anomaly_keys.append(key)
            detail_keys.add(key)
    anomalous_set = set(anomaly_keys)
    skipped_busy = False
    key_bytes = sum(len(k) for k in detail_keys)
    for key, ops_k in sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if room() <= 0 or len(detail_keys) >= MAX_DETAIL_KEYS or key_bytes > MAX_KEY_BYTES:
            break
        if key in anomalous_set:
            continue
        if len(ops_k) <= room():
            detail.update(op.index for op in ops_k)
            busy_keys.append(key)
            detail_keys.add(key)
            key_bytes += len(key)
        else:
            skipped_busy = True

    detail_ops = sorted((ops_by_index[i] for i in detail), key=lambda o: (o.invoke_time, o.index))
    summarised = [op for op in operations if op.index not in detail]

    # -- reads: staleness per read, what each read saw
    read_info: dict[int, Any] = {}
    reads_list = list(reads) if reads is not None else None
    if reads_list is not None:
        for r in reads_list:
            idx = _get(r, "index")
            if isinstance(idx, int):
                read_info[idx] = r

    # -- string tables
    keys_sorted = sorted(
        detail_keys, key=lambda k: (-anomaly_keys.get(k, 0), -len(by_key.get(k, ())), k))
    key_id = {k: i for i, k in enumerate(keys_sorted)}
    values: list[str] = []
    value_id: dict[str, int] = {}

    def vid(text: str | None) -> int:
        if text is None:
            return -1
        got = value_id.get(text)
        if got is None:
            got = value_id[text] = len(values)
            values.append(text)
        return got

    lanes: dict[tuple[int, Any], int] = {}
    for op in detail_ops:
        lane = (region_idx.get(op.region, 0), op.process)
        if lane not in lanes:
            lanes[lane] = 0
    lane_list = sorted(lanes, key=lambda rp: (rp[0], _natural(rp[1])))
    lane_id = {lane: i for i, lane in enumerate(lane_list)}

    cols: dict[str, list[Any]] = {c: [] for c in (
        "i", "k", "p", "f", "o", "s", "e", "v", "iv", "ts", "or", "st", "saw", "c", "a")}
    pos_of: dict[int, int] = {}
    for pos, op in enumerate(detail_ops):
        pos_of[op.index] = pos
        cols["i"].append(op.index)
        cols["k"].append(key_id[op.key])
        cols["p"].append(lane_id[(region_idx.get(op.region, 0), op.process)])
        cols["f"].append(KINDS.index(op.f) if op.f in KINDS else 0)
        cols["o"].append(OUTCOMES.index(op.outcome) if op.outcome in OUTCOMES else 2)
        cols["s"].append(op.invoke_time - t0)
        end = op.end_time if op.end_time is not None else op.complete_time
        cols["e"].append(end - t0 if end is not None else -1)
        if op.f == "delete":
            cols["v"].append(-1)
        elif op.f == "update" and op.outcome != "ok" and op.value is None:
            cols["v"].append(-1)
        elif op.f == "read" and op.outcome != "ok":
            cols["v"].append(-1)
        else:
            cols["v"].append(vid(short(op.value)))
        if op.f == "update" or op.f == "cas":
            cols["iv"].append(vid(short(op.invoke_value)))
        else:
            cols["iv"].append(-1)
        cols["ts"].append(str(op.ts) if op.ts is not None else None)
        origin = op.origin if op.origin is not None else (op.region if op.ts is not None else None)
        cols["or"].append(region_idx.get(origin, -1) if origin is not None else -1)
        info = read_info.get(op.index)
        st = _get(info, "staleness_ns") if info is not None else None
        cols["st"].append(st if isinstance(st, (int, float)) else None)
        saw = _get(info, "saw") if info is not None else None
        cols["saw"].append(saw if isinstance(saw, int) else (-1 if info is not None else None))
        cols["c"].append(1 if op.consistent else 0)
        cols["a"].append(cited.get(op.index, []))
    # compact encodings (the page decodes them): indices and invoke times as deltas,
    # completions as durations, ts as offsets from the smallest one
    cols["i"] = _deltas(cols["i"])
    cols["d"] = [e - st if e >= 0 else -1 for st, e in zip(cols["s"], cols.pop("e"))]
    cols["s"] = _deltas(cols["s"])
    ts_base: str | None = None
    ts_ints = [int(x) for x in cols["ts"] if x is not None]
    if not ts_ints:
        cols["ts"] = []
    elif max(ts_ints) - min(ts_ints) < 2 ** 53:
        base = min(ts_ints)
        ts_base = str(base)
        cols["ts"] = [int(x) - base if x is not None else None for x in cols["ts"]]
    if not any(cols["a"]):
        cols["a"] = []

    # -- where each detailed write was applied
    applied, applied_source, truth_note = _applied_markers(
        detail_ops, pos_of, read_info, ops_by_index, region_idx, t0, truth_path)

    # -- summarised lanes
    agg = None
    if summarised:
        bucket = nice_step(t1 - t0, MAX_AGG_BUCKETS)
        n_buckets = (t1 - t0) // bucket + 1
        counts = [[0] * n_buckets for _ in regions]
        nonok = [[0] * n_buckets for _ in regions]
        for op in summarised:
            b = (op.invoke_time - t0) // bucket
            ri = region_idx.get(op.region, 0)
            counts[ri][b] += 1
            if op.outcome != "ok":
                nonok[ri][b] += 1
        agg = {"bucket": bucket, "n": n_buckets, "counts": counts, "nonok": nonok,
               "ops": len(summarised), "keys": len(by_key) - len(detail_keys)}

    faults, marks = _faults(nemesis, regions, t0, t1)

    # -- staleness: CDFs per pair, sampled points
    stale_view, stale_data = _staleness(
        summary.get("staleness") or {}, reads_list, ops_by_index, region_idx, regions, t0,
        key_id, set(cited))

    # -- convergence table
    conv_view = _convergence(final_state, ops_by_index, regions, summary, cited, pos_of)

    # -- anomalies (page list and data)
    anomaly_views = []
    anomaly_data = []
    for aid, a in enumerate(anomalies):
        op_refs = []
        for i in a.get("ops") or []:
            oi = op_of(i)
            op_refs.append({"index": i, "pos": pos_of.get(oi, -1) if oi is not None else -1,
                            "label": _op_label(ops_by_index.get(oi)) if oi is not None else "event"})
        details = a.get("details")
        details_text = short(details, DETAILS_CHARS) if details not in (None, {}, []) else ""
        tns = a.get("time_ns")
        anomaly_views.append({
            "id": aid, "name": str(a.get("name", "anomaly")), "property": a["property"],
            "key": a.get("key"), "region": a.get("region"),
            "explanation": str(a.get("explanation", "")),
            "time": fmt_ns(tns - t0) if isinstance(tns, int) else None,
            "ops": op_refs, "details": details_text,
        })
        entry = {
            "name": str(a.get("name", "anomaly")), "property": a["property"],
            "key": key_id.get(a.get("key"), -1) if isinstance(a.get("key"), str) else -1,
            "pos": [r["pos"] for r in op_refs if r["pos"] >= 0],
            "t": tns - t0 if isinstance(tns, int) else None,
        }
        lin = _partial_linearization(a, op_of, pos_of)
        if lin is not None:
            entry["lin"], entry["stuck"] = lin
            total = (a.get("details") or {}).get("prefix_length")
            entry["linN"] = total if isinstance(total, int) else len(lin[0])
        anomaly_data.append(entry)

    # -- what was summarised, in words
    n_total = len(operations)
    n_detail = len(detail_ops)
    if n_detail == n_total:
        scope = (f"Showing all {n_total:,} operations of {len(by_key):,} "
                 f"{'key' if len(by_key) == 1 else 'keys'} in detail.")
    else:
        parts = []
        if full_anomaly_keys:
            parts.append(f"all ops of the {len(full_anomaly_keys):,} keys with anomalies")
        if windowed_anomaly_keys:
            parts.append(f"ops within ±{fmt_ns(window)} of each anomaly for "
                         f"{len(windowed_anomaly_keys):,} more keys with anomalies")
        if busy_keys and skipped_busy:
            parts.append(f"all ops of {len(busy_keys):,} more keys, busiest first "
                         "(keys too big for what was left of the budget are summarised)")
        elif busy_keys:
            parts.append(f"all ops of the {len(busy_keys):,} busiest keys")
        if not parts:
            parts.append("the operations cited by anomalies")
        rest = f"the other {len(summarised):,} ops"
        if agg and agg["keys"]:
            rest += f" ({agg['keys']:,} keys not drawn" + (
                ", and the rest of the partly drawn keys)" if windowed_anomaly_keys else ")")
        scope = (f"Showing {n_detail:,} of {n_total:,} operations in detail: "
                 + ", ".join(parts) + f"; {rest} are summarised as counts per "
                 + (fmt_ns(agg["bucket"]) if agg else "bucket") + " per region.")

    meta = _meta_view(header, summary, history_path, n_total, len(nemesis))
    valid = summary.get("valid", "unknown")
    n_bad_props = sum(1 for p in prop_views if p["n_anomalies"])
    if valid is True:
        banner = "No anomalies found"
    elif valid is False:
        banner = (f"{anomaly_total:,} {'anomaly' if anomaly_total == 1 else 'anomalies'} in "
                  f"{n_bad_props} {'property' if n_bad_props == 1 else 'properties'}")
    else:
        banner = "The checker could not decide every property"
    unknown_keys = summary.get("unknown_keys") or []

    view = {
        "title": Path(history_path).name,
        "verdict": verdict_word(valid),
        "banner": banner,
        "properties": prop_views,
        "anomalies": anomaly_views,
        "anomaly_total": anomaly_total,
        "anomaly_listed": len(anomalies),
        "anomaly_cap": MAX_ANOMALIES,
        "scope": scope,
        "staleness": stale_view,
        "convergence": conv_view,
        "meta": meta,
        "unknown_keys": [str(k) for k in list(unknown_keys)[:50]],
        "unknown_keys_total": len(unknown_keys),
        "applied_source": applied_source,
        "truth_note": truth_note,
        "regions": regions,
        "report_build_s": None,
    }
    data = {
        "version": 1,
        "regions": regions,
        "t0": t0, "t1": t1 - t0,
        "settled": header.settled_after_ns - t0 if header.settled_after_ns is not None else None,
        "keys": keys_sorted,
        "keyInfo": [[len(by_key.get(k, ())), anomaly_keys.get(k, 0)] for k in keys_sorted],
        "lanes": [[r, str(p)] for r, p in lane_list],
        "vals": values,
        "ops": cols,
        "tsBase": ts_base,
        "applied": applied,
        "appliedSource": applied_source,
        "agg": agg,
        "faults": faults,
        "marks": marks,
        "anomalies": anomaly_data,
        "staleness": stale_data,
        "scope": scope,
    }
    return {"view": view, "data": data}


def _partial_linearization(a: Mapping[str, Any], op_of: Any, pos_of: Mapping[int, int]
                           ) -> tuple[list[int], int] | None:
    """A not-linearizable anomaly's longest linearizable prefix, as timeline positions in
    linearization order, and the position of the operation that cannot be placed (-1 when
    not drawn): the page marks them as Porcupine's visualizer does."""
    details = a.get("details")
    if a.get("name") != NOT_LINEARIZABLE_KEY.name or not isinstance(details, Mapping):
        return None
    prefix = details.get("prefix")
    if not isinstance(prefix, list):
        return None
    order = []
    for i in prefix:
        oi = op_of(i)
        p = pos_of.get(oi, -1) if oi is not None else -1
        if isinstance(p, int) and p >= 0:
            order.append(p)
    so = op_of(details.get("stuck"))
    stuck = pos_of.get(so, -1) if so is not None else -1
    return order, stuck if isinstance(stuck, int) else -1


def _fair_share(anomalies: list[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
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


def _deltas(values: list[int]) -> list[int]:
    out = []
    prev = 0
    for v in values:
        out.append(v - prev)
        prev = v
    return out


def _op_label(op: Operation | None) -> str:
    if op is None:
        return "event"
    return f"{op.f} {op.outcome}"


def _property_view(prop: Any, section: Mapping[str, Any], n_anoms: int,
                   header: Header) -> dict[str, Any]:
    """A property's card: its title and description from the registry; its verdict, or
    "not checked" when the summary has no entry for it or the entry says so."""
    valid = section.get("valid") if section else None
    figures = section.get("figures") if section else None
    verdict = verdict_word(valid)
    if not section or section.get("checked") is False:
        verdict = "not checked"
    about = prop.DESCRIPTION
    if section and isinstance(section.get("scope"), str):
        about += f" In scope ({header.mode} mode): {section['scope']}."
    figs = flatten_figures(figures)
    if prop.NAME == "staleness" and section:
        extra = []
        if "smallest_bound_ns" in section:
            extra.append(("smallest bound satisfied", fmt_ns(section.get("smallest_bound_ns"))))
        if section.get("bound_ns") is not None:
            extra.append(("bound given", fmt_ns(section.get("bound_ns"))))
        figs = extra + [f for f in figs if not f[0].startswith("pairs.")]
    reason = section.get("reason") if section else None
    return {
        "id": prop.NAME, "title": prop.TITLE, "about": about, "verdict": verdict,
        "n_anomalies": n_anoms, "figures": figs[:8], "more_figures": figs[8:40],
        "reason": str(reason) if reason else None,
    }


def _meta_view(header: Header, summary: Mapping[str, Any], history_path: str,
               n_ops: int, n_nemesis: int) -> dict[str, Any]:
    meta = dict(header.meta or {})
    known = {"format", "version", "regions", "mode", "clock_uncertainty_ns",
             "ts_uncertainty_ns", "settled_after_ns", "initial"}
    rows = [
        ("history", history_path),
        ("regions", ", ".join(header.regions)),
        ("mode", header.mode),
        ("clock uncertainty δ", fmt_ns(header.clock_uncertainty_ns)),
        ("ts uncertainty ε", fmt_ns(header.ts_uncertainty_ns)
         if header.ts_uncertainty_ns is not None else "unknown"),
        ("settled after", fmt_ns(header.settled_after_ns)
         if header.settled_after_ns is not None else "not given (no final reads)"),
        ("operations", f"{n_ops:,}"),
        ("fault events", f"{n_nemesis:,}"),
    ]
    if header.initial is not None:
        rows.append(("initial value", short(header.initial, 120)))
    for name in sorted(meta):
        if name in known:
            continue
        rows.append((str(name), fmt_value(str(name), meta[name])))
    hist = summary.get("history") or {}
    counts = hist.get("counts") if isinstance(hist, Mapping) else None
    if isinstance(counts, Mapping):
        rows.append(("counts", ", ".join(f"{k} {fmt_value(str(k), v)}" for k, v in counts.items())))
    options = summary.get("options")
    if isinstance(options, Mapping):
        rows.append(("check options", ", ".join(
            f"{k}={fmt_value(str(k), v)}" for k, v in options.items())))
    timing = summary.get("timing")
    if isinstance(timing, Mapping):
        rows.append(("check timing", ", ".join(
            f"{k} {fmt_value(str(k), v)}" for k, v in timing.items())))
    version = summary.get("gtcheck_version")
    if not version:
        from gtcheck.kernel import __version__ as version
    return {
        "rows": rows,
        "mode": header.mode,
        "scenario": meta.get("scenario") or meta.get("workload"),
        "seed": meta.get("seed"),
        "source": meta.get("source"),
        "gtcheck_version": str(version),
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def _faults(nemesis: list[NemesisEvent], regions: list[str], t0: int, t1: int
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fault windows (partition..heal, region-down..region-up) and point markers."""
    region_set = set(regions)

    def named(value: Any) -> list[str]:
        found: list[str] = []
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, str) and v in region_set and v not in found:
                found.append(v)
            elif isinstance(v, Mapping):
                stack.extend(v.values())
            elif isinstance(v, (list, tuple)):
                stack.extend(v)
        return found

    open_: list[dict[str, Any]] = []
    windows: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    closers = {v: k for k, v in FAULT_WINDOWS.items()}
    for ev in sorted(nemesis, key=lambda e: (e.time, e.index)):
        if ev.f in FAULT_WINDOWS:
            regs = named(ev.value)
            open_.append({"f": ev.f, "s": ev.time - t0, "e": None,
                          "r": [regions.index(r) for r in regs] or None,
                          "label": f"{ev.f} {short(ev.value, 80)}", "i": ev.index})
        elif ev.f in closers:
            opener = closers[ev.f]
            regs = set(named(ev.value))
            still = []
            for w in open_:
                hits = w["f"] == opener and (
                    not regs or w["r"] is None or regs & {regions[i] for i in w["r"]})
                if hits:
                    w["e"] = ev.time - t0
                    w["label"] += f", until {ev.f} (#{ev.index})"
                    windows.append(w)
                else:
                    still.append(w)
            open_ = still
        else:
            marks.append({"f": ev.f, "t": ev.time - t0, "label": f"{ev.f} {short(ev.value, 80)}",
                          "i": ev.index})
    for w in open_:
        w["e"] = t1 - t0
        w["label"] += ", never ended"
        windows.append(w)
    windows.sort(key=lambda w: w["s"])
    return windows, marks


def _read_truth(truth_path: Path, wanted: set[int]) -> tuple[dict[int, dict[str, Any]], str]:
    found: dict[int, dict[str, Any]] = {}
    try:
        opener = gzip.open if str(truth_path).endswith(".gz") else open
        with opener(truth_path, "rb") as fh:
            for line in fh:
                line = line.strip()
                if not line or b'"write"' not in line:
                    continue
                rec = orjson.loads(line)
                if rec.get("kind") == "write" and rec.get("index") in wanted:
                    found[rec["index"]] = rec
    except (OSError, EOFError, orjson.JSONDecodeError, AttributeError) as exc:
        return {}, f"the ground-truth sidecar {truth_path.name} could not be read ({exc})"
    return found, ""


def _ref_time(op: Operation) -> int:
    """Applied times are stored relative to this: the write's completion, else its invoke."""
    end = op.end_time if op.end_time is not None else op.complete_time
    return end if end is not None else op.invoke_time


def _applied_markers(detail_ops, pos_of, read_info, ops_by_index, region_idx, t0, truth_path):
    """Per detailed write, when it was applied in each region: ``{pos: [[r, t, kind]]}``.

    kind 0: ground truth from the simulator's sidecar; kind 1: inferred upper bound
    (the write's own completion, or the completion of the first read in that region
    that saw it or a version with a larger (ts, origin)).
    """
    writes = [op for op in detail_ops if op.f != "read"]
    applied: dict[int, list[list[int]]] = {}
    note = ""
    if truth_path is not None and writes:
        truth, note = _read_truth(truth_path, {op.index for op in writes})
        mismatched = [op.index for op in writes if op.index in truth
                      and truth[op.index].get("key") not in (None, op.key)]
        if mismatched:
            note = (f"the ground-truth sidecar {truth_path.name} does not match this history "
                    f"(write #{mismatched[0]} names another key); applied times are inferred")
        elif truth:
            for op in writes:
                rec = truth.get(op.index)
                if not rec:
                    continue
                marks = []
                ref = _ref_time(op)
                for region, t in (rec.get("applied_ns") or {}).items():
                    if isinstance(t, int) and region in region_idx:
                        marks.append([region_idx[region], t - ref, 0])
                if not rec.get("took_effect", True):
                    marks.append([-1, -1, 2])  # flag: the write never took effect
                applied[pos_of[op.index]] = marks
            return applied, "truth", note
    # inferred from the reads: per (key, region) the reads in completion order, the
    # first read that saw each write, and the running maximum of the (ts, origin) seen
    per_kr: dict[tuple[str, int], list[tuple[int, int | None]]] = defaultdict(list)
    detail_keys = {op.key for op in writes}
    for idx, info in read_info.items():
        op = ops_by_index.get(idx)
        if op is None or op.complete_time is None or op.key not in detail_keys:
            continue
        saw = _get(info, "saw")
        per_kr[(op.key, region_idx.get(op.region, 0))].append(
            (op.complete_time, saw if isinstance(saw, int) else None))
    index_kr: dict[tuple[str, int], tuple[list[int], list[Any], dict[int, int]]] = {}
    for kr, lst in per_kr.items():
        lst.sort(key=lambda x: x[0])
        times, running, first_saw = [], [], {}
        best: Any = None
        for t, saw in lst:
            if saw is None:
                continue
            first_saw.setdefault(saw, t)
            other = ops_by_index.get(saw)
            ck = other.conflict_key if other is not None else None
            if ck is not None and (best is None or ck > best):
                best = ck
            times.append(t)
            running.append(best)
        index_kr[kr] = (times, running, first_saw)
    n_regions = len(region_idx)
    for op in writes:
        first: dict[int, int] = {}
        if op.outcome == "ok" and op.complete_time is not None:
            own = region_idx.get(op.origin or op.region, region_idx.get(op.region, 0))
            first[own] = op.complete_time
        ck = op.conflict_key
        for ri in range(n_regions):
            if ri in first:
                continue
            got = index_kr.get((op.key, ri))
            if got is None:
                continue
            times, running, first_saw = got
            cands = []
            if op.index in first_saw:
                cands.append(first_saw[op.index])
            if ck is not None and running and running[-1] is not None and running[-1] > ck:
                lo, hi = 0, len(running)
                while lo < hi:  # first position whose running maximum beats ck
                    mid = (lo + hi) // 2
                    if running[mid] is not None and running[mid] > ck:
                        hi = mid
                    else:
                        lo = mid + 1
                cands.append(times[lo])
            if cands:
                first[ri] = min(cands)
        if first:
            ref = _ref_time(op)
            applied[pos_of[op.index]] = [[ri, t - ref, 1] for ri, t in sorted(first.items())]
    return applied, "inferred" if applied else "none", note


def _quantiles(sorted_vals: list[int], n: int) -> list[int]:
    if not sorted_vals:
        return []
    last = len(sorted_vals) - 1
    return [sorted_vals[min(last, round(q * last / (n - 1)))] for q in range(n)]


def _staleness(section: Mapping[str, Any], reads: list[Any] | None, ops_by_index, region_idx,
               regions, t0, key_id, cited: set[int]):
    pairs_summary = section.get("pairs") or {}
    bound = section.get("bound_ns")
    smallest = section.get("smallest_bound_ns")
    per_pair: dict[str, list[int]] = defaultdict(list)
    points: list[tuple[int, int, str, int, int]] = []
    fresh: Counter[str] = Counter()
    if reads is not None:
        for r in reads:
            st = _get(r, "staleness_ns")
            if not isinstance(st, (int, float)):
                continue
            reader = _get(r, "region")
            writer = _get(r, "writer_region")
            idx = _get(r, "index")
            if writer is None:  # a current read with no attribution
                fresh[str(reader)] += 1
                writer = "?"
            pair = f"{writer} -> {reader}"
            per_pair[pair].append(int(st))
            t = _get(r, "time_ns", _get(r, "time"))
            if not isinstance(t, int):
                op = ops_by_index.get(idx)
                t = op.invoke_time if op is not None else t0
            key = _get(r, "key")
            points.append((t - t0, int(st), pair, idx if isinstance(idx, int) else -1,
                           key_id.get(key, -1)))
    pair_names = sorted(set(per_pair) | set(pairs_summary))
    pair_id = {p: i for i, p in enumerate(pair_names)}
    pairs_data = []
    pairs_view = []
    for p in pair_names:
        vals = sorted(per_pair.get(p, []))
        s = pairs_summary.get(p) or {}
        nreads = s.get("reads", len(vals)) if isinstance(s, Mapping) else len(vals)
        mx = s.get("max_ns") if isinstance(s, Mapping) and "max_ns" in s else (vals[-1] if vals else None)
        p50 = s.get("p50_ns") if isinstance(s, Mapping) and "p50_ns" in s else (
            _quantiles(vals, 101)[50] if vals else None)
        p99 = s.get("p99_ns") if isinstance(s, Mapping) and "p99_ns" in s else (
            _quantiles(vals, 101)[99] if vals else None)
        q = _quantiles(vals, CDF_POINTS)
        pairs_data.append({"name": p, "n": len(vals), "q": q,
                           "stale": sum(1 for v in vals if v > 0),
                           "max": mx, "p50": p50, "p99": p99, "reads": nreads})
        pairs_view.append({"name": p, "reads": fmt_value("reads", nreads), "max": fmt_ns(mx),
                           "p50": fmt_ns(p50), "p99": fmt_ns(p99),
                           "over": bound is not None and isinstance(mx, (int, float)) and mx > bound})
    # sample the points: anomalies' reads and the stalest always, the rest at random
    n_points = len(points)
    sampled = points
    if n_points > MAX_STALENESS_POINTS:
        keep_idx = set()
        for j, pt in enumerate(points):
            if pt[3] in cited:
                keep_idx.add(j)
        stalest = sorted(range(n_points), key=lambda j: -points[j][1])[:TOP_STALE_POINTS]
        keep_idx.update(stalest)
        rest = [j for j in range(n_points) if j not in keep_idx]
        rng = random.Random(0)
        need = max(MAX_STALENESS_POINTS - len(keep_idx), 0)
        keep_idx.update(rng.sample(rest, min(need, len(rest))))
        sampled = [points[j] for j in sorted(keep_idx)][: MAX_STALENESS_POINTS + len(cited)]
    data = {
        "pairs": pairs_data,
        "points": [[t, st, pair_id[p], i, k] for t, st, p, i, k in sampled],
        "nPoints": n_points,
        "bound": bound, "smallest": smallest,
        "haveReads": reads is not None,
    }
    view = {
        "pairs": pairs_view,
        "bound": fmt_ns(bound) if bound is not None else None,
        "smallest": fmt_ns(smallest) if smallest is not None else None,
        "have_reads": reads is not None,
        "n_points": n_points, "n_sampled": len(sampled),
        "fresh": sum(fresh.values()),
    }
    return view, data


def _convergence(final_state, ops_by_index, regions, summary, cited, pos_of):
    if final_state is None:
        section = summary.get("convergence") or {}
        return {"available": False, "rows": [], "total": 0, "omitted": 0,
                "omitted_disagree": 0, "valid": verdict_word(section.get("valid"))}
    conv_anoms = {a.get("key") for a in (summary.get("convergence") or {}).get("anomalies") or []}
    rows = []

    def group(idx: int | None) -> Any:  # null reads and deletions agree with each other
        op = ops_by_index.get(idx) if idx is not None else None
        return "null" if idx is None or (op is not None and op.f == "delete") else idx

    for key, per_region in final_state.items():
        per_region = per_region or {}
        present = {group(per_region[r]) for r in regions if r in per_region}
        disagree = len(present) > 1
        rows.append((key, per_region, disagree, key in conv_anoms))
    rows.sort(key=lambda r: (not r[2], not r[3], str(r[0])))
    total = len(rows)
    n_disagree = sum(1 for r in rows if r[2])
    shown = rows[:MAX_CONVERGENCE_ROWS]
    out = []
    for key, per_region, disagree, anomalous in shown:
        cells = []
        for r in regions:
            if r not in per_region:
                cells.append({"state": "none", "text": "no final read", "index": None, "pos": -1})
                continue
            idx = per_region[r]
            if idx is None:
                cells.append({"state": "null", "text": "absent (null)", "index": None, "pos": -1})
                continue
            op = ops_by_index.get(idx)
            text = "deleted" if op is not None and op.f == "delete" else (
                short(op.value, 40) if op is not None else "?")
            cells.append({"state": "v", "text": text, "index": idx, "pos": pos_of.get(idx, -1)})
        out.append({"key": str(key), "cells": cells, "disagree": disagree,
                    "anomalous": anomalous})
    return {
        "available": True, "rows": out, "total": total, "disagree": n_disagree,
        "omitted": total - len(shown),
        "omitted_disagree": max(n_disagree - len(shown), 0),
    }


# -- rendering ----------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ns"] = fmt_ns
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    return env


def _asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def render_html(page: Mapping[str, Any]) -> str:
    """The page as one HTML string (no external resources)."""
    guard = _asset("report-guard.js")
    script = _asset("report.js")
    style = _asset("report.css")
    for name, text in (("report-guard.js", guard), ("report.js", script)):
        if "</script" in text.lower() or "<!--" in text:
            raise AssertionError(f"{name} must not contain </script or <!--")
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(guard)} {_csp_hash(script)}; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        view=page["view"],
        data_json=embed_json(page["data"]),
        guard_js=Markup(guard),
        report_js=Markup(script),
        report_css=Markup(style),
        csp=csp,
    )
