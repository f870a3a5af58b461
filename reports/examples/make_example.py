"""Regenerate reports/examples/report.html and report.png (the README's screenshot).

    /work/venv/bin/python reports/examples/make_example.py

A small version of histories/scenarios/isolation.toml (20 s of load, eu-west-1 isolated
from 6 s to 14 s) run with the simulator's ``drop-replication`` test bug, checked with a
1 s staleness bound: the page shows a divergent final state and stale reads. The
screenshot is taken by headless chromium (through chromedriver) with the divergent key's
worst stale read of the busiest key selected on the timeline, scrolled back to the top of the page.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gtcheck.checker.check import check_history  # noqa: E402
from gtcheck.checker.report import write_report  # noqa: E402
from gtcheck.model.scenario import scenario_from_dict  # noqa: E402
from gtcheck.model.simulator import simulate  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    data = tomllib.loads((ROOT / "histories/scenarios/isolation.toml").read_text())
    data["name"] = "isolation-small"
    data["workload"].update(duration="20s", rate=120, keys=12)
    data["faults"][0].update(at="6s", duration="8s")
    data["final"]["settle"] = "10s"
    scenario = scenario_from_dict(data, ROOT / "histories/scenarios")
    with tempfile.TemporaryDirectory() as tmp:
        hist = Path(tmp) / "isolation-small.jsonl"
        simulate(scenario, 3, hist, True, bug="drop-replication")
        result = check_history(hist, staleness_bound_ns=1_000_000_000, keep_reads=True, jobs=1)
        out = write_report(hist, HERE / "report.html", check_result=result)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    from tests.checker.test_report_browser import WebDriver

    driver = WebDriver(1400, 1000)
    try:
        driver.get(out.resolve().as_uri())
        # the worst stale read of the busiest key: the partition, the write it missed
        errors = driver.js("""
            var a = gtReport.data.anomalies, info = gtReport.data.keyInfo, pick = 0, best = -1;
            for (var i = 0; i < a.length; i++) {
              if (a[i].property === 'staleness' && a[i].key >= 0 && info[a[i].key][0] > best) { pick = i; best = info[a[i].key][0]; }
            }
            gtReport.showAnomaly(pick);
            document.querySelector('#anomaly-' + pick).classList.add('active');
            window.scrollTo(0, 0); document.getElementById('tl-wrap').scrollTop = 0;
            return window.__gtErrors;""")
        assert errors == [], errors
        time.sleep(0.3)
        driver.screenshot(HERE / "report.png")
    finally:
        driver.close()
    print(f"wrote {HERE / 'report.png'}")


if __name__ == "__main__":
    main()
