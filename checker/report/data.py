"""The page's data: the compact JSON its script draws the timeline, the fault windows, the
staleness charts and the anomaly links from (``page["data"]``).

The operations drawn in detail (:mod:`.detail`) become columns (``timeline``), encoded
compactly (indices and invoke times as deltas, completions as durations, ts as offsets,
values through a string table); the others become counts per region per time bucket
(``summarised_lanes``). Staleness becomes exact quantiles per region pair plus at most
``MAX_STALENESS_POINTS`` sampled points (``staleness_pairs``, ``staleness_data``).
"""

from __future__ import annotations

import gzip
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import orjson

from gtcheck.checker.operations import NemesisEvent, Operation
from gtcheck.checker.props.linearizability import NOT_LINEARIZABLE_KEY
from gtcheck.checker.report.detail import Selection
from gtcheck.checker.report.lostwrites import lost_positions
from gtcheck.checker.report.text import _get, _natural, nice_step, short

MAX_STALENESS_POINTS = 5_000        # sampled points of the staleness-over-time chart
TOP_STALE_POINTS = 500              # the stalest reads are always among the points
MAX_AGG_BUCKETS = 500               # time buckets of the summarised lanes
CDF_POINTS = 101                    # quantiles per region pair (0 %, 1 %, ..., 100 %)
KINDS = ("read", "write", "update", "delete", "cas")
OUTCOMES = ("ok", "fail", "info")
FAULT_WINDOWS = {  # opening event -> closing event
    "partition": "heal",
    "region-down": "region-up",
}


def reads_by_index(reads: Iterable[Any] | None) -> tuple[list[Any] | None, dict[int, Any]]:
    """The check's per-read records (staleness, what each read saw), by read index."""
    read_info: dict[int, Any] = {}
    reads_list = list(reads) if reads is not None else None
    if reads_list is not None:
        for r in reads_list:
            idx = _get(r, "index")
            if isinstance(idx, int):
                read_info[idx] = r
    return reads_list, read_info


@dataclass
class Timeline:
    """The detailed operations as columns, and the tables their ids refer to."""

    keys: list[str]
    key_id: dict[str, int]
    values: list[str]
    lanes: list[tuple[int, Any]]
    cols: dict[str, list[Any]]
    pos_of: dict[int, int]          # operation index -> position on the timeline
    ts_base: str | None


def timeline(sel: Selection, region_idx: dict[str, int], read_info: Mapping[int, Any]
             ) -> Timeline:
    """The operations drawn in detail, as compact columns (see the module doc)."""
    detail_ops, cited, t0 = sel.detail_ops, sel.cited, sel.t0
    keys_sorted = sorted(
        sel.detail_keys,
        key=lambda k: (-sel.anomaly_keys.get(k, 0), -len(sel.by_key.get(k, ())), k))
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
    return Timeline(keys_sorted, key_id, values, lane_list, cols, pos_of, ts_base)


def summarised_lanes(sel: Selection, regions: list[str], region_idx: dict[str, int]
                     ) -> dict[str, Any] | None:
    """The operations not drawn in detail, as counts (and non-ok counts) per region per
    time bucket."""
    summarised, t0, t1 = sel.summarised, sel.t0, sel.t1
    if not summarised:
        return None
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
    return {"bucket": bucket, "n": n_buckets, "counts": counts, "nonok": nonok,
            "ops": len(summarised), "keys": len(sel.by_key) - len(sel.detail_keys)}


def anomaly_refs(sel: Selection, tl: Timeline) -> list[list[dict[str, Any]]]:
    """For each listed anomaly, the operations it cites: index, timeline position (-1
    when not drawn) and label."""
    out = []
    for a in sel.anomalies:
        refs = []
        for i in a.get("ops") or []:
            oi = sel.op_of(i)
            refs.append({"index": i, "pos": tl.pos_of.get(oi, -1) if oi is not None else -1,
                         "label": _op_label(sel.ops_by_index.get(oi)) if oi is not None
                         else "event"})
        out.append(refs)
    return out


def anomaly_entries(sel: Selection, tl: Timeline, refs: list[list[dict[str, Any]]]
                    ) -> list[dict[str, Any]]:
    """The listed anomalies as the script links them: key, positions, time, and for a
    not-linearizable anomaly its longest linearizable prefix."""
    out = []
    for a, op_refs in zip(sel.anomalies, refs):
        tns = a.get("time_ns")
        entry = {
            "name": str(a.get("name", "anomaly")), "property": a["property"],
            "key": tl.key_id.get(a.get("key"), -1) if isinstance(a.get("key"), str) else -1,
            "pos": [r["pos"] for r in op_refs if r["pos"] >= 0],
            "t": tns - sel.t0 if isinstance(tns, int) else None,
        }
        if a.get("name") == "lost-write":
            entry["lost"] = lost_positions(a.get("details") or {}, tl.pos_of)
        lin = _partial_linearization(a, sel.op_of, tl.pos_of)
        if lin is not None:
            entry["lin"], entry["stuck"] = lin
            total = (a.get("details") or {}).get("prefix_length")
            entry["linN"] = total if isinstance(total, int) else len(lin[0])
        out.append(entry)
    return out


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


@dataclass
class StalenessPairs:
    """Per region pair (``"writer -> reader"``): the exact figures of the summary (or, for
    a pair the summary lacks, of the reads), the quantiles, and every read as a point."""

    stats: list[dict[str, Any]]          # name, n, q, stale, max, p50, p99, reads
    points: list[tuple[int, int, str, int, int]]   # (t - t0, staleness, pair, index, key id)
    fresh: int                           # current reads with no writer to attribute them to


def staleness_pairs(section: Mapping[str, Any], reads: list[Any] | None,
                    ops_by_index: Mapping[int, Operation], t0: int,
                    key_id: Mapping[str, int]) -> StalenessPairs:
    pairs_summary = section.get("pairs") or {}
    per_pair: dict[str, list[int]] = defaultdict(list)
    points: list[tuple[int, int, str, int, int]] = []
    fresh = 0
    if reads is not None:
        for r in reads:
            st = _get(r, "staleness_ns")
            if not isinstance(st, (int, float)):
                continue
            reader = _get(r, "region")
            writer = _get(r, "writer_region")
            idx = _get(r, "index")
            if writer is None:  # a current read with no attribution
                fresh += 1
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
    stats = []
    for p in sorted(set(per_pair) | set(pairs_summary)):
        vals = sorted(per_pair.get(p, []))
        s = pairs_summary.get(p) or {}
        nreads = s.get("reads", len(vals)) if isinstance(s, Mapping) else len(vals)
        mx = s.get("max_ns") if isinstance(s, Mapping) and "max_ns" in s else (vals[-1] if vals else None)
        p50 = s.get("p50_ns") if isinstance(s, Mapping) and "p50_ns" in s else (
            _quantiles(vals, 101)[50] if vals else None)
        p99 = s.get("p99_ns") if isinstance(s, Mapping) and "p99_ns" in s else (
            _quantiles(vals, 101)[99] if vals else None)
        stats.append({"name": p, "n": len(vals), "q": _quantiles(vals, CDF_POINTS),
                      "stale": sum(1 for v in vals if v > 0),
                      "max": mx, "p50": p50, "p99": p99, "reads": nreads})
    return StalenessPairs(stats, points, fresh)


def staleness_data(section: Mapping[str, Any], sp: StalenessPairs, have_reads: bool,
                   cited: Iterable[int]) -> dict[str, Any]:
    """The staleness charts' data. Past ``MAX_STALENESS_POINTS`` points, the reads cited
    by anomalies and the stalest are always kept and the rest sampled (seed 0)."""
    points = sp.points
    cited = set(cited)
    pair_id = {p["name"]: i for i, p in enumerate(sp.stats)}
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
    return {
        "pairs": sp.stats,
        "points": [[t, st, pair_id[p], i, k] for t, st, p, i, k in sampled],
        "nPoints": n_points,
        "bound": section.get("bound_ns"), "smallest": section.get("smallest_bound_ns"),
        "haveReads": have_reads,
    }
