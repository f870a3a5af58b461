"""The report marks a not-linearizable key's longest linearizable prefix on the timeline
(as Porcupine's visualizer does) and highlights the operation that cannot be placed."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from pathlib import Path

from gtcheck.checker.check import check_history
from gtcheck.checker.report import write_report

ROOT = Path(__file__).resolve().parents[1]


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gt-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_partial_linearization_is_in_the_page(tmp_path: Path) -> None:
    path = ROOT / "histories" / "anomalies" / "lost-own-write.jsonl"
    res = check_history(path, keep_reads=True, jobs=1)
    (a,) = res.summary["linearizability"]["anomalies"]
    out = write_report(path, tmp_path / "r.html", check_result=res)
    html = out.read_text(encoding="utf-8")
    data = _data(html)
    index_of = list(accumulate(data["ops"]["i"]))   # history index of each position (deltas)
    (lin,) = [x for x in data["anomalies"] if x["name"] == "not-linearizable"]
    assert len(lin["lin"]) == a["details"]["prefix_length"] == 2
    assert lin["stuck"] >= 0 and lin["stuck"] == lin["pos"][0]
    assert [index_of[p] for p in lin["lin"]] == a["details"]["prefix"]
    assert index_of[lin["stuck"]] == a["details"]["stuck"]
    # the explanation is listed, escaped, with links to the operations it cites
    assert "cannot be placed in any linearization" in html
    assert "drawLinearization" in html
    # other anomalies carry no linearization
    assert all("lin" not in x for x in data["anomalies"] if x["name"] != "not-linearizable")
