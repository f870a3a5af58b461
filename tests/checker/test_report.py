"""The HTML report (``checker.report``, ``gtcheck report``): content, escaping, size.

The browser side (JavaScript errors, drawing, the hostile history not running) is in
``test_report_browser.py``; the synthetic history generator below is shared with it.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import markupsafe
import orjson
import pytest

from gtcheck.checker.check import check_history
from gtcheck.checker.history import write_history
from gtcheck.checker.report import (
    DEFAULT_OP_BUDGET, MAX_STALENESS_POINTS, build_report, embed_json, render_html, write_report,
)
from gtcheck.kernel.units import parse_duration
from gtcheck.kernel.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
ANOMALIES = ROOT / "histories" / "anomalies"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
MAX_BYTES = 5_000_000


# --------------------------------------------------------------------------- helpers
def data_of(html: str) -> dict[str, Any]:
    """The JSON the page embeds, parsed as the browser's JSON.parse would."""
    m = re.search(r'<script type="application/json" id="gt-data">(.*?)</script>', html, re.S)
    assert m, "the page has no data block"
    return json.loads(m.group(1))


def json_block(html: str) -> str:
    return re.search(r'<script type="application/json" id="gt-data">(.*?)</script>', html,
                     re.S).group(1)


def bound_for(path: Path) -> int | None:
    """The example histories say in their header how they are meant to be checked."""
    header = orjson.loads(path.read_bytes().split(b"\n", 1)[0])
    m = re.search(r"--staleness-bound (\S+?)\)?[:.,;]?\s", str(header.get("description", "")) + " ")
    return parse_duration(m.group(1)) if m else None


def gtcheck(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gtcheck.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def ev(i: int, type_: str, process: Any, region: str, f: str, key: str, value: Any, time: int,
       **extra: Any) -> dict[str, Any]:
    return {"index": i, "type": type_, "process": process, "region": region, "f": f, "key": key,
            "value": value, "time": time, **extra}


def synthetic_history(path: Path, n_ops: int = 100_000, *, seed: int = 1, n_keys: int = 5000,
                      procs_per_region: int = 10, gap_ns: int = 300_000, phantoms: int = 5,
                      final_keys: int = 200) -> Path:
    """A big eventual-mode history, valid by construction except ``phantoms`` phantom reads.

    Writes and deletes carry (ts, origin) and replicate with a lognormal delay (held back
    while eu-west-1 is partitioned, 10 s to 15 s); reads return the last-writer-wins
    winner among the versions that reached their region; 1 read in 997 times out (info);
    after ``settled_after_ns`` every region reads the ``final_keys`` busiest keys.
    """
    rng = random.Random(seed)
    regions = REGIONS
    n_proc = procs_per_region * len(regions)
    events: list[tuple[int, int, dict[str, Any]]] = []
    seq = 0
    winners: dict[str, tuple[int, str, Any]] = {}
    counts: dict[str, int] = {}
    pending: dict[tuple[str, str], list] = {}
    current: dict[tuple[str, str], tuple[int, str, Any]] = {}
    part_lo, part_hi = 10_000_000_000, 15_000_000_000
    n_main = n_ops - final_keys * len(regions)
    counter = 0
    end = 0
    for k in range(n_main):
        p = k % n_proc
        region = regions[p // procs_per_region]
        t_inv = k * gap_ns
        t_end = t_inv + rng.randint(1_000_000, 5_000_000)
        end = max(end, t_end)
        if rng.random() < 0.5:
            key = f"k{min(int(rng.paretovariate(1.2)) - 1, n_keys - 1):05d}"
        else:
            key = f"k{rng.randrange(n_keys):05d}"
        r = rng.random()
        if r < 0.40:
            f = "write" if r < 0.35 else "delete"
            counter += 1
            value = {"v": counter, "by": p} if f == "write" else None
            inv = ev(0, "invoke", p, region, f, key, value, t_inv)
            o = rng.random()
            outcome = "ok" if o < 0.97 else ("fail" if o < 0.99 else "info")
            comp = ev(0, outcome, p, region, f, key, value, t_end)
            if outcome == "ok":
                ts = (t_inv + t_end) // 2
                comp.update(ts=ts, origin=region)
                counts[key] = counts.get(key, 0) + 1
                if key not in winners or (ts, region) > winners[key][:2]:
                    winners[key] = (ts, region, value)
                for rg in regions:
                    ta = t_end
                    if rg != region:
                        delay = int(rng.lognormvariate(math.log(200e6), 0.6))
                        ta = t_end + delay
                        if "eu-west-1" in (rg, region) and part_lo <= ta <= part_hi + 2_000_000_000:
                            ta = part_hi + delay
                    heapq.heappush(pending.setdefault((key, rg), []), (ta, ts, region, counter, value))
        else:
            inv = ev(0, "invoke", p, region, "read", key, None, t_inv, consistent=rng.random() < 0.3)
            heap = pending.get((key, region))
            cur = current.get((key, region))
            while heap and heap[0][0] <= t_inv:
                _, ts, origin, _, value = heapq.heappop(heap)
                if cur is None or (ts, origin) > cur[:2]:
                    cur = (ts, origin, value)
            if cur is not None:
                current[(key, region)] = cur
            value = cur[2] if cur else None
            if phantoms and k > 10 and k % (n_main // (phantoms + 1)) == 1:
                value = {"v": -k, "phantom": True}
            comp = ev(0, "ok", p, region, "read", key, value, t_end)
            if k % 997 == 5:
                comp.update(type="info", value=None)
        events.append((t_inv, seq, inv))
        events.append((t_end, seq + 1, comp))
        seq += 2
    settled = end + 20_000_000_000
    t = settled
    for key in sorted(counts, key=lambda k: (-counts[k], k))[:final_keys]:
        for region in regions:
            proc = f"final-{region}"
            events.append((t, seq, ev(0, "invoke", proc, region, "read", key, None, t)))
            events.append((t + 1_000_000, seq + 1,
                           ev(0, "ok", proc, region, "read", key, winners[key][2], t + 1_000_000)))
            seq += 2
        t += 2_000_000
    for t_n, f, value in ((part_lo, "partition", {"isolate": ["eu-west-1"]}), (part_hi, "heal", None),
                          (20_000_000_000, "clock-skew", {"region": "ap-southeast-2", "offset_ns": 5_000_000})):
        events.append((t_n, -1, {"index": 0, "type": "info", "process": "nemesis", "f": f,
                                 "value": value, "time": t_n}))
    events.sort(key=lambda e: (e[0], e[1]))
    header = {"format": "gt-history", "version": 1, "regions": list(regions), "mode": "eventual",
              "clock_uncertainty_ns": 0, "settled_after_ns": settled, "source": "synthetic",
              "seed": seed, "scenario": f"synthetic-{n_ops}"}
    out = []
    for i, (_, _, e) in enumerate(events):
        e["index"] = i
        out.append(e)
    write_history(path, header, out)
    return path


def hostile_history(path: Path) -> tuple[Path, dict[str, str]]:
    """Keys, values, processes, header fields and fault values that try to break out."""
    evil = {
        "key": "<script>alert(1)</script>\"'&amp;\u2028\u2029</script>",
        "value": "</script><script>document.title='PWNED';window.__pwned=1</script>",
        "img": "<img src=x onerror=\"document.title='PWNED'\">",
        "comment": "<!-- <script>",
    }
    header = {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"],
              "settled_after_ns": 9_000_000_000, "scenario": "<script>alert(1)</script>",
              "description": evil["value"] + evil["img"], "seed": "</title><h1>x</h1>"}
    key = evil["key"]
    item = {"x": evil["value"], "q": "\"'`", "amp": "&amp;&lt;", "ls": "\u2028\u2029",
            "img": evil["img"], "c": evil["comment"], "v": 1}
    item2 = dict(item, v=2)
    events = [
        ev(0, "invoke", evil["img"], "us-east-1", "write", key, item, 1_000_000_000),
        ev(1, "ok", evil["img"], "us-east-1", "write", key, item, 1_100_000_000, ts=10),
        {"index": 2, "type": "info", "process": "nemesis", "f": "partition",
         "value": {"isolate": ["eu-west-1"], "why": evil["value"]}, "time": 1_500_000_000},
        ev(3, "invoke", 2, "us-east-1", "write", key, item2, 2_000_000_000),
        ev(4, "ok", 2, "us-east-1", "write", key, item2, 2_100_000_000, ts=20),
        # a phantom read: its explanation quotes the key
        ev(5, "invoke", 3, "eu-west-1", "read", key, None, 3_000_000_000, consistent=True),
        ev(6, "ok", 3, "eu-west-1", "read", key, {"evil": evil["value"]}, 3_100_000_000),
        {"index": 7, "type": "info", "process": "nemesis", "f": "heal", "value": evil["img"],
         "time": 4_000_000_000},
        ev(8, "invoke", 3, "eu-west-1", "read", key, None, 9_500_000_000),
        ev(9, "invoke", 2, "us-east-1", "read", key, None, 9_500_000_000),
        ev(10, "ok", 3, "eu-west-1", "read", key, item2, 9_600_000_000),
        ev(11, "ok", 2, "us-east-1", "read", key, item, 9_600_000_000),
    ]
    write_history(path, header, events)
    return path, evil


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def big_history(tmp_path_factory) -> Path:
    return synthetic_history(tmp_path_factory.mktemp("big") / "big.jsonl")


def _examples() -> list[Path]:
    return sorted(ANOMALIES.glob("*.jsonl")) if ANOMALIES.is_dir() else []


# --------------------------------------------------------------------------- content
@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
def test_example_history_report_shows_every_anomaly(path: Path, tmp_path: Path) -> None:
    bound = bound_for(path)
    try:
        result = check_history(path, staleness_bound_ns=bound, keep_reads=True, jobs=1)
    except UserError:
        with pytest.raises(UserError):  # bad input: no report either
            write_report(path, tmp_path / "r.html", staleness_bound_ns=bound, jobs=1)
        return
    out = write_report(path, tmp_path / f"{path.stem}.html", check_result=result)
    html = out.read_text(encoding="utf-8")
    summary = result.summary
    verdict = {True: "valid", False: "invalid"}.get(summary["valid"], "unknown")
    assert f'data-verdict="{verdict}"' in html
    from gtcheck.checker.props import names

    anomalies = [a for p in names() for a in summary[p]["anomalies"]]
    if not anomalies:
        assert "No anomalies found" in html
    items = re.findall(r'<li class="anom" id="anomaly-(\d+)".*?</li>', html, re.S)
    assert len(items) == len(anomalies)
    for a in anomalies:
        escaped = str(markupsafe.escape(a["explanation"]))
        blocks = [m.group(0) for m in re.finditer(r'<li class="anom".*?</li>', html, re.S)
                  if escaped in m.group(0)]
        assert blocks, f"explanation missing: {a['explanation']}"
        for i in a["ops"]:
            assert f">#{i}</a>" in blocks[0], f"op #{i} of {a['name']} not linked"
        assert str(markupsafe.escape(a["name"])) in blocks[0]
    data = data_of(html)
    with_ops = [a for a in data["anomalies"] if a["pos"]]
    assert len(with_ops) == len([a for a in anomalies if a["ops"]])
    # every operation of these small histories is drawn, with its original index
    n_ops = summary["history"]["counts"]["operations"]
    assert len(data["ops"]["i"]) == n_ops
    assert "Showing all" in html


def test_report_without_a_check_result_runs_the_checker(tmp_path: Path) -> None:
    path = synthetic_history(tmp_path / "small.jsonl", 3000, n_keys=40, phantoms=2, final_keys=10)
    out = write_report(path, tmp_path / "deep" / "dir" / "small.html", jobs=1)
    html = out.read_text(encoding="utf-8")
    assert out.exists() and 'data-verdict="invalid"' in html
    assert html.count("phantom-read") >= 2
    data = data_of(html)
    assert data["staleness"]["haveReads"] and data["staleness"]["pairs"]
    assert data["agg"] is None and len(data["ops"]["i"]) == 3000
    assert 'class="conv"' in html  # the convergence table
    # faults drawn: the partition window and the clock-skew marker
    assert [f["f"] for f in data["faults"]] == ["partition"]
    assert data["faults"][0]["r"] == [REGIONS.index("eu-west-1")]
    assert [m["f"] for m in data["marks"]] == ["clock-skew"]


def test_applied_markers_from_the_truth_sidecar_and_inferred(tmp_path: Path) -> None:
    header = {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"]}
    events = [
        ev(0, "invoke", 1, "us-east-1", "write", "k", {"v": 1}, 1_000),
        ev(1, "ok", 1, "us-east-1", "write", "k", {"v": 1}, 2_000, ts=5),
        ev(2, "invoke", 2, "eu-west-1", "read", "k", None, 10_000),
        ev(3, "ok", 2, "eu-west-1", "read", "k", {"v": 1}, 11_000),
    ]
    hist = tmp_path / "t.jsonl"
    write_history(hist, header, events)
    data = build_report(hist, jobs=1)["data"]
    assert data["appliedSource"] == "inferred"
    # relative to the write's completion (2 µs): us-east-1 at once, eu-west-1 by the read's end
    assert data["applied"][0] == [[0, 0, 1], [1, 9_000, 1]]
    truth = [{"kind": "header", "format": "gt-truth"},
             {"kind": "write", "index": 0, "key": "k", "region": "us-east-1", "took_effect": True,
              "applied_ns": {"us-east-1": 1_500, "eu-west-1": 7_000}},
             {"kind": "read", "index": 2, "saw": 0}]
    (tmp_path / "t.truth.jsonl").write_bytes(b"\n".join(orjson.dumps(t) for t in truth) + b"\n")
    page = build_report(hist, jobs=1)
    assert page["data"]["appliedSource"] == "truth"
    assert sorted(page["data"]["applied"][0]) == [[0, -500, 0], [1, 5_000, 0]]
    # a sidecar of another history is ignored, and the page says so
    truth[1]["key"] = "other"
    (tmp_path / "t.truth.jsonl").write_bytes(b"\n".join(orjson.dumps(t) for t in truth) + b"\n")
    page = build_report(hist, jobs=1)
    assert page["data"]["appliedSource"] == "inferred" and "does not match" in page["view"]["truth_note"]


def test_budget_keeps_anomalies_and_says_what_was_summarised(tmp_path: Path) -> None:
    path = synthetic_history(tmp_path / "mid.jsonl", 4000, n_keys=300, phantoms=3, final_keys=20)
    result = check_history(path, keep_reads=True, jobs=1)
    page = build_report(path, check_result=result, op_budget=500)
    data, view = page["data"], page["view"]
    n_detail = len(data["ops"]["i"])
    assert n_detail <= 500
    assert view["scope"].startswith(f"Showing {n_detail:,} of 4,000 operations in detail")
    assert "summarised as counts per" in view["scope"]
    # every operation an anomaly cites is drawn
    cited = {i for a in result.summary["integrity"]["anomalies"] for i in a["ops"]}
    indices = set()
    acc = 0
    for d in data["ops"]["i"]:
        acc += d
        indices.add(acc)
    assert cited and cited <= indices
    agg = data["agg"]
    assert agg["ops"] == 4000 - n_detail
    assert sum(map(sum, agg["counts"])) == agg["ops"]
    html = render_html(page)
    assert str(markupsafe.escape(view["scope"])) in html


# --------------------------------------------------------------------------- escaping
def test_embed_json_escapes_exactly() -> None:
    got = str(embed_json({"k": "</script><!--&\u2028\u2029>"}))
    assert got == '{"k":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029\\u003e"}'
    assert json.loads(got) == {"k": "</script><!--&\u2028\u2029>"}


def test_hostile_history_is_never_markup(tmp_path: Path) -> None:
    path, evil = hostile_history(tmp_path / "evil.jsonl")
    out = write_report(path, tmp_path / "evil.html", jobs=1)
    html = out.read_text(encoding="utf-8")
    low = html.lower()
    # nothing from the history opens a tag: only the page's own three script elements
    assert "<script>alert" not in low and "<script>document" not in low
    assert "<img" not in low and "<h1>" not in low and "<!-- <script>" not in low
    assert low.count("<script") == 3 and low.count("</script>") == 3
    # the JSON block: exact escapes, no raw <, >, &, U+2028, U+2029
    block = json_block(html)
    assert not set(block) & {"<", ">", "&", "\u2028", "\u2029"}
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in block
    assert "\\u003c/script\\u003e\\u003cscript\\u003edocument.title='PWNED'" in block
    assert "\\u0026amp;" in block and "\\u2028\\u2029" in block
    data = json.loads(block)
    assert data["keys"] == [evil["key"]]  # round-trips exactly
    assert evil["img"] in data["lanes"][0][1] or evil["img"] in [ln[1] for ln in data["lanes"]]
    # server-rendered text: entities, never tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;amp;" in html
    assert "&lt;/title&gt;&lt;h1&gt;x&lt;/h1&gt;" in html
    # the page's scripts run only by hash (Content-Security-Policy)
    assert re.search(r"script-src 'sha256-[^']+' 'sha256-[^']+';", html.replace("&#39;", "'"))
    assert 'data-verdict="invalid"' in html and "phantom-read" in html


# --------------------------------------------------------------------------- size
def test_100k_operation_report_is_at_most_5_mb(big_history: Path, tmp_path: Path) -> None:
    """The page's budget at work, without the checker's time: a check result shaped like
    the real one (anomalies, every read's staleness) built from the history itself."""
    from gtcheck.checker.history import open_history

    with open_history(big_history) as h:
        ops = list(h.operations())
    assert len(ops) == 100_000
    rng = random.Random(3)
    reads = [op for op in ops if op.f == "read" and op.outcome == "ok"]
    writes = {op.key: op.index for op in ops if op.f == "write"}
    records = [SimpleNamespace(index=op.index, key=op.key, region=op.region,
                               time_ns=op.invoke_time, staleness_ns=rng.choice((0, 0, 0, rng.randrange(10**9))),
                               writer_region=rng.choice(REGIONS), saw=writes.get(op.key))
               for op in reads]
    stale = sorted(records, key=lambda r: -r.staleness_ns)[:1000]
    anomalies = [{"name": "stale-read", "property": "staleness", "key": r.key, "ops": [r.index],
                  "explanation": f"read #{r.index} was {r.staleness_ns} ns stale",
                  "time_ns": r.time_ns, "region": r.region, "details": {"staleness_ns": r.staleness_ns}}
                 for r in stale]
    summary = {"valid": False, "staleness": {"valid": False, "anomalies": anomalies,
                                             "anomaly_counts": {"stale-read": 4321},
                                             "figures": {"reads": len(records)}, "bound_ns": 1,
                                             "smallest_bound_ns": stale[0].staleness_ns}}
    final_state = {f"k{i:05d}": {r: writes.get(f"k{i:05d}") for r in REGIONS} for i in range(3000)}
    result = SimpleNamespace(summary=summary, reads=records, final_state=final_state)
    out = write_report(big_history, tmp_path / "big.html", check_result=result)
    size = out.stat().st_size
    assert size <= MAX_BYTES, f"{size:,} bytes"
    html = out.read_text(encoding="utf-8")
    data = data_of(html)
    assert len(data["ops"]["i"]) <= DEFAULT_OP_BUDGET
    assert len(data["staleness"]["points"]) <= MAX_STALENESS_POINTS + 1000
    assert "of 100,000 operations in detail" in html
    assert "Listing 500 of 4,321 anomalies" in html
    assert "more keys are not shown" in html  # the convergence table is capped


@pytest.mark.slow
def test_100k_operation_report_end_to_end(big_history: Path, tmp_path: Path) -> None:
    out = tmp_path / "big.html"
    proc = gtcheck("report", str(big_history), "-o", str(out), "--staleness-bound", "1s")
    assert proc.returncode == 0, proc.stderr
    size = out.stat().st_size
    assert size <= MAX_BYTES, f"{size:,} bytes"
    html = out.read_text(encoding="utf-8")
    assert 'data-verdict="invalid"' in html and "phantom-read" in html


# --------------------------------------------------------------------------- command line
def test_cli_report_default_output_and_help(tmp_path: Path) -> None:
    src = ANOMALIES / "divergent-final-state.jsonl"
    hist = tmp_path / "hist.jsonl"
    hist.write_bytes(src.read_bytes())
    proc = gtcheck("report", str(hist), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "reports" / "hist.html").exists()
    assert "wrote reports/hist.html (INVALID: 1 anomaly)" in proc.stderr
    proc = gtcheck("report", "--help")
    assert proc.returncode == 0 and "Examples:" in proc.stdout and "--staleness-bound" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["no/such/file.jsonl"], "no such history file"),
    (["{hist}", "--staleness-bound", "soon"], "cannot read 'soon' as a duration"),
    (["{hist}", "--jobs", "0"], "--jobs"),
    (["{bad}"], "line 2"),
])
def test_cli_report_bad_input_exits_254(tmp_path: Path, args: list[str], message: str) -> None:
    hist = tmp_path / "h.jsonl"
    write_history(hist, {"format": "gt-history", "version": 1, "regions": ["us-east-1"]},
                  [ev(0, "invoke", 1, "us-east-1", "read", "k", None, 1),
                   ev(1, "ok", 1, "us-east-1", "read", "k", None, 2)])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "gt-history", "version": 1, "regions": ["us-east-1"]}\n{"index": 0}\n')
    args = [a.format(hist=hist, bad=bad) for a in args]
    proc = gtcheck("report", *args, "-o", str(tmp_path / "out.html"))
    assert proc.returncode == 254, (proc.stdout, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out.html").exists()


def test_report_from_a_result_without_reads_says_what_is_missing(tmp_path: Path) -> None:
    """``gtcheck check --html`` may pass a result computed without ``keep_reads``."""
    src = ANOMALIES / "stale-read.jsonl"
    result = check_history(src, staleness_bound_ns=750_000_000, jobs=1)
    assert result.reads is None
    out = write_report(src, tmp_path / "r.html", check_result=result)
    html = out.read_text(encoding="utf-8")
    assert "Per-read staleness is not available" in html
    assert "No final state in this check result" in html
    assert 'data-verdict="invalid"' in html and "stale-read" in html


def test_lost_writes_have_a_section_and_marks_on_the_timeline(tmp_path: Path) -> None:
    """Rule 12's findings: the card says "found" (reported, not counted), a panel lists each
    lost write with the write it was lost to and the version that write was applied to,
    linked to the timeline, and the timeline data marks each drawn lost write."""
    path = ANOMALIES / "lost-write.jsonl"
    page = build_report(path, jobs=1)
    view, data = page["view"], page["data"]
    (card,) = [p for p in view["properties"] if p["id"] == "lost_writes"]
    assert card["verdict"] == "found" and card["n_anomalies"] == 1
    lw = view["lost_writes"]
    assert lw["available"] and lw["total"] == 1 and lw["counted"] is False
    assert lw["pairs"] == [("us-east-1 -> eu-west-1", 1)]
    (row,) = lw["rows"]
    assert (row["write"]["index"], row["lost_to"]["index"], row["base"]["index"]) == (3, 4, 0)
    pos = {i: p for p, i in enumerate(_absolute(data["ops"]["i"]))}
    assert data["lost"] == [[pos[3], pos[4], pos[0]]]
    (entry,) = [a for a in data["anomalies"] if a["name"] == "lost-write"]
    assert entry["lost"] == [pos[3], pos[4], pos[0]]
    html = render_html(page)
    panel = html[html.index('<section class="panel" id="lost-writes">'):]
    panel = panel[:panel.index("</section>")]
    assert f'data-pos="{pos[3]}">#3</a>' in panel and f'data-pos="{pos[4]}">#4</a>' in panel
    assert "reported, not counted in the verdict" in panel
    assert f"1 on {lw['keys']} of {lw['keys_judged']} keys with writes" in panel   # not the dict's keys method
    # counted: the card says invalid, the panel says so
    result = check_history(path, jobs=1, keep_reads=True, fail_on=("lost-writes",))
    html = write_report(path, tmp_path / "r.html", check_result=result).read_text()
    assert "counted in the verdict (<code>--fail-on lost-writes</code>)" in html
    assert 'data-verdict="invalid"' in html
    # none lost: the panel says so
    html = write_report(ANOMALIES / "valid.jsonl", tmp_path / "v.html", jobs=1).read_text()
    assert "No acknowledged write was lost." in html


def _absolute(deltas: list[int]) -> list[int]:
    out, i = [], 0
    for d in deltas:
        i += d
        out.append(i)
    return out
