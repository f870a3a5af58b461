"""The report marks a not-linearizable key's longest linearizable prefix on the timeline
(as Porcupine's visualizer does) and highlights the operation that cannot be placed."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from pathlib import Path

import pytest

from gtcheck.checker.check import check_history
from gtcheck.checker.report import write_report

ROOT = Path(__file__).resolve().parents[2]


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="gt-data">(.*?)</script>', html, re.S)
    assert m
    return json.loads(m.group(1))


def test_partial_linearization_is_in_the_page(tmp_path: Path) -> None:
    path = ROOT / "histories" / "anomalies" / "lost-own-write.jsonl"
    res = check_history(path, keep_reads=True, jobs=1, linearizability_scope="single-region-keys")
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


@pytest.mark.browser
def test_partial_linearization_draws_in_the_browser(tmp_path: Path) -> None:
    """In chromium (skipped without it): showing the not-linearizable anomaly of a Knossos
    history selects its stuck operation, keeps the prefix in the page state and draws it
    without a script error."""
    from tests.checker.test_report_browser import CHROMEDRIVER, CHROMIUM, WebDriver

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("needs chromium and chromedriver (apt-get install -y chromium chromium-driver)")
    from tests.anchors import ANCHOR_DATA

    if ANCHOR_DATA is None:
        pytest.skip("the shared anchor data is not present (GTCHECK_ANCHOR_DATA)")
    anchor = ANCHOR_DATA / "knossos-cas-register" / "bad" / "cas-failure.edn"
    res = check_history(anchor, keep_reads=True, jobs=1)
    out = write_report(anchor, tmp_path / "cas-failure.html", check_result=res)
    data = _data(out.read_text(encoding="utf-8"))
    (aid,) = [i for i, a in enumerate(data["anomalies"]) if a["name"] == "not-linearizable"]
    d = WebDriver()
    try:
        d.get(out.resolve().as_uri())
        assert d.js("return document.documentElement.dataset.ready") == "1"
        state = d.js("gtReport.showAnomaly(arguments[0]);"
                     "return {lin: gtReport.state.lin ? gtReport.state.lin.lin.length : -1,"
                     " n: gtReport.state.lin ? gtReport.state.lin.linN : -1,"
                     " sel: gtReport.state.sel, stuck: gtReport.state.lin.stuck,"
                     " errors: window.__gtErrors};", aid)
        assert state["errors"] == []
        a = data["anomalies"][aid]
        assert state["lin"] == len(a["lin"]) > 0 and state["n"] == a["linN"]
        assert state["sel"] == state["stuck"] == a["stuck"]
        d.js("document.getElementById('timeline').scrollIntoView({block: 'start'});")
        d.screenshot(tmp_path / "partial-linearization.png")
        # another anomaly or a plain selection clears the drawing
        assert d.js("gtReport.select(0); return gtReport.state.lin") is None
        assert d.js("return window.__gtErrors") == []
    finally:
        d.close()
