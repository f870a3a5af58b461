"""The report in a real browser: Debian's headless chromium (and chromedriver for clicks).

The page records JavaScript errors (``window.onerror``, unhandled rejections and
Content-Security-Policy violations) on ``<html data-js-errors=N data-js-error-text=..>``
and, once drawn, sets ``data-ready="1"`` and ``data-bars`` (the operation bars drawn).
``chromium --dump-dom`` prints the DOM after the page has loaded, so these tests read
those attributes from it. Skipped only when /usr/bin/chromium is not installed
(``apt-get install -y chromium chromium-driver``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gtcheck.checker.check import check_history
from gtcheck.checker.report import write_report
from tests.checker.test_report import data_of, hostile_history, synthetic_history

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="needs Debian's chromium at /usr/bin/chromium "
                                        "(apt-get install -y chromium chromium-driver)")]


def chromium(url: str, *extra: str, timeout: float = 90) -> str:
    profile = tempfile.mkdtemp(prefix="gtcheck-chromium-")
    try:
        proc = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *extra, url],
                              capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def dump_dom(path: Path) -> tuple[str, dict[str, str]]:
    """The DOM after load, and the attributes of its <html> element."""
    dom = chromium(path.resolve().as_uri(), "--dump-dom")
    m = re.search(r"<html([^>]*)>", dom)
    assert m, dom[:500]
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
    return dom, attrs


def assert_rendered(attrs: dict[str, str], n_bars: int) -> None:
    assert "data-js-errors" not in attrs, attrs.get("data-js-error-text")
    assert attrs.get("data-ready") == "1", attrs
    assert int(attrs["data-bars"]) == n_bars


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """A 3,000-operation history with phantom and stale reads, a partition and final reads."""
    tmp = tmp_path_factory.mktemp("browser")
    hist = synthetic_history(tmp / "example.jsonl", 3000, n_keys=40, phantoms=3, final_keys=10)
    result = check_history(hist, staleness_bound_ns=1_000_000_000, keep_reads=True, jobs=1)
    out = write_report(hist, tmp / "example.html", check_result=result)
    return out, data_of(out.read_text(encoding="utf-8"))


def test_report_renders_without_javascript_errors(example) -> None:
    path, data = example
    dom, attrs = dump_dom(path)
    n_ops = len(data["ops"]["i"])
    assert n_ops == 3000
    assert_rendered(attrs, n_ops)
    assert attrs["data-verdict"] == "invalid"
    assert re.search(r'<canvas id="tl-canvas"[^>]*data-bars="3000"', dom)
    # both staleness charts were drawn as SVG, one curve per region pair
    cdf = re.search(r'<div class="chart" id="cdf-chart">(.*?)</div>', dom, re.S).group(1)
    assert cdf.count("<path") == len([p for p in data["staleness"]["pairs"] if p["q"]])
    chart = re.search(r'<div class="chart" id="time-chart">(.*?)</div>', dom, re.S).group(1)
    assert chart.count("<circle") == len(data["staleness"]["points"])
    # the key filter lists every drawn key
    assert dom.count("<option value=\"k0") == len(data["keys"])


def test_screenshot(example, tmp_path: Path) -> None:
    path, _ = example
    shot = tmp_path / "report.png"
    chromium(path.resolve().as_uri(), f"--screenshot={shot}", "--window-size=1400,1000")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 50_000  # a drawn page, not a blank one
    # the example for the README is kept under reports/examples/ (see docs/report.md)
    if os.environ.get("GTCHECK_UPDATE_EXAMPLES"):
        (ROOT / "reports" / "examples").mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, ROOT / "reports" / "examples" / "report-test.png")


def test_hostile_history_does_not_run(tmp_path: Path) -> None:
    path, evil = hostile_history(tmp_path / "evil.jsonl")
    out = write_report(path, tmp_path / "evil.html", jobs=1)
    dom, attrs = dump_dom(out)
    assert_rendered(attrs, 5)  # 2 writes and 3 reads; a CSP violation would show as an error
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert title.startswith("gtcheck report: evil.jsonl") and "PWNED" not in title
    assert "__pwned" not in attrs and "data-pwned" not in dom.split(">", 2)[1]
    # only the page's own elements: the payloads are text
    assert "<img" not in dom and "<h1>" not in dom
    assert dom.lower().count("<script") == 3
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


# --------------------------------------------------------------------------- clicks
class WebDriver:
    """Just enough of the W3C WebDriver protocol (stdlib only) to drive chromedriver."""

    def __init__(self, width: int = 1400, height: int = 1000):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.proc = subprocess.Popen([str(CHROMEDRIVER), f"--port={self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        self.profile = tempfile.mkdtemp(prefix="gtcheck-chromedriver-")
        self.sid = None
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(self.base + "/status", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.05)
            args = FLAGS + [f"--user-data-dir={self.profile}", f"--window-size={width},{height}"]
            caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
                "binary": "/usr/lib/chromium/chromium" if Path("/usr/lib/chromium/chromium").exists()
                else str(CHROMIUM), "args": args}}}}
            self.sid = self._call("POST", "/session", caps)["sessionId"]
        except BaseException:
            self.close()
            raise

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=90) as resp:
            return json.loads(resp.read())["value"]

    def get(self, url: str) -> None:
        self._call("POST", f"/session/{self.sid}/url", {"url": url})

    def js(self, script: str, *args: Any) -> Any:
        return self._call("POST", f"/session/{self.sid}/execute/sync",
                          {"script": script, "args": list(args)})

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", f"/session/{self.sid}/screenshot")))

    def close(self) -> None:
        try:
            if self.sid:
                self._call("DELETE", f"/session/{self.sid}")
        except OSError:
            pass
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def driver():
    if not CHROMEDRIVER.exists():
        pytest.skip("needs chromedriver at /usr/bin/chromedriver (apt-get install -y chromium-driver)")
    d = WebDriver()
    yield d
    d.close()


def test_anomaly_link_selects_the_key_and_zooms_to_its_operations(example, driver) -> None:
    path, data = example
    driver.get(path.resolve().as_uri())
    assert driver.js("return document.documentElement.dataset.ready") == "1"
    first = data["anomalies"][0]
    driver.js("document.querySelector('#anom-list .show').click()")
    state = driver.js("""
        var c = document.getElementById('tl-canvas');
        return {key: document.getElementById('key-input').value,
                visible: Number(c.dataset.visibleOps), bars: Number(c.dataset.bars),
                details: document.getElementById('op-details').textContent,
                active: document.querySelector('#anom-list li.active').id,
                errors: window.__gtErrors};""")
    assert state["errors"] == []
    assert state["key"] == data["keys"][first["key"]]
    assert state["visible"] == data["keyInfo"][first["key"]][0]  # only that key's operations
    assert 0 < state["bars"] <= state["visible"]
    cited_index = sum(data["ops"]["i"][: first["pos"][0] + 1])
    assert f"Operation #{cited_index}:" in state["details"]
    assert state["active"] == "anomaly-0"
    # wheel zoom, drag pan, the buttons, the key filter: no errors, the view changes
    status = driver.js("return document.getElementById('tl-status').textContent")
    driver.js("""
        var c = document.getElementById('tl-canvas'), r = c.getBoundingClientRect();
        c.dispatchEvent(new WheelEvent('wheel', {deltaY: 300, clientX: r.left + 600, clientY: r.top + 60, bubbles: true, cancelable: true}));
        var o = {clientX: r.left + 600, clientY: r.top + 60, button: 0, pointerId: 1, bubbles: true};
        c.dispatchEvent(new PointerEvent('pointerdown', o));
        c.dispatchEvent(new PointerEvent('pointermove', Object.assign({}, o, {clientX: r.left + 400})));
        c.dispatchEvent(new PointerEvent('pointerup', Object.assign({}, o, {clientX: r.left + 400})));
        ['zoom-in', 'zoom-out', 'pan-left', 'pan-right'].forEach(function (id) { document.getElementById(id).click(); });""")
    assert driver.js("return document.getElementById('tl-status').textContent") != status
    driver.js("document.getElementById('key-clear').click()")
    assert driver.js("return Number(document.getElementById('tl-canvas').dataset.visibleOps)") == 3000
    driver.js("var i = document.getElementById('key-input'); i.value = arguments[0];"
              "i.dispatchEvent(new Event('input'));", data["keys"][1])
    assert driver.js("return Number(document.getElementById('tl-canvas').dataset.visibleOps)") == \
        data["keyInfo"][1][0]
    # hovering an operation shows its tooltip (text only)
    shown = driver.js("""
        gtReport.fit();
        var c = document.getElementById('tl-canvas'), r = c.getBoundingClientRect();
        for (var y = 30; y < c.clientHeight; y += 3) {
          for (var x = 200; x < c.clientWidth; x += 4) {
            c.dispatchEvent(new PointerEvent('pointermove', {clientX: r.left + x, clientY: r.top + y, bubbles: true}));
            var t = document.getElementById('tooltip');
            if (!t.hidden && /^#\\d+ /.test(t.textContent)) { return t.textContent; }
          }
        }
        return null;""")
    assert shown and "key" in shown and "invoked" in shown
    assert driver.js("return window.__gtErrors") == []


@pytest.mark.slow
def test_100k_operation_report_loads_in_the_browser(tmp_path: Path) -> None:
    hist = synthetic_history(tmp_path / "big.jsonl")
    out = write_report(hist, tmp_path / "big.html", staleness_bound_ns=1_000_000_000)
    started = time.perf_counter()
    _, attrs = dump_dom(out)
    elapsed = time.perf_counter() - started
    assert_rendered(attrs, 20_000)
    print(f"\n100k-op report: {out.stat().st_size:,} bytes, chromium --dump-dom {elapsed:.1f} s, "
          f"page script {attrs['data-render-ms']} ms")
    assert elapsed < 30
