"""Self-contained HTML pages with inline SVG charts, for ``predict --html`` and ``fit --html``.

No script at all: the charts are drawn here as SVG, every text from a scenario or a
history goes through ``html.escape``, and a Content-Security-Policy (as the checker's
report has, ``checker/report.py``) forbids anything else: no script, no external
resource, so the page opens offline and nothing in the data can become markup or run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from gtcheck.kernel.units import format_duration

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22")
W, H = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 40

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: 0.9em; }
.legend span { display: inline-block; margin-right: 14px; font-size: 0.85em; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
svg text { font-size: 11px; fill: #333; }
"""


@dataclass
class Series:
    label: str
    xs: list[float]                   # ns
    ys: list[float]
    dashed: bool = False
    points: bool = False              # markers instead of a line (measured values)
    color: str = ""


@dataclass
class Chart:
    title: str
    y_label: str
    series: list[Series]
    log_y: bool = False
    y_floor: float = 1e-4             # the lowest value a log axis shows
    x_label: str = "t after the write completed"


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    table: tuple[list[str], list[list[str]]] | None = None


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def svg(chart: Chart) -> str:
    xs = [x for s in chart.series for x in s.xs if math.isfinite(x)]
    x_hi = max(xs, default=1.0) or 1.0
    if chart.log_y:
        lo_exp = math.floor(math.log10(chart.y_floor))
        y_lo, y_hi = float(lo_exp), 0.0

        def fy(y: float) -> float:
            return math.log10(max(y, chart.y_floor))
        yticks = [float(e) for e in range(lo_exp, 1)]
        ylab = [f"1e{int(e)}" if e < -2 else f"{10 ** e:g}" for e in yticks]
    else:
        ys = [y for s in chart.series for y in s.ys]
        y_lo = min(min(ys, default=0.0), 1.0)
        y_lo = max(0.0, math.floor(y_lo * 10) / 10)
        y_hi = 1.0

        def fy(y: float) -> float:
            return y
        yticks = _ticks(y_lo, y_hi, 5)
        ylab = [f"{t:g}" for t in yticks]
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + pw * min(max(x, 0.0), x_hi) / x_hi

    def py(y: float) -> float:
        v = fy(y)
        return TOP + ph * (1 - (v - y_lo) / (y_hi - y_lo if y_hi > y_lo else 1))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
           f'aria-label="{escape(chart.title)}">',
           f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for t, lab in zip(yticks, ylab):
        y = py(10 ** t if chart.log_y else t)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(lab)}</text>')
    for t in _ticks(0.0, x_hi):
        x = px(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + ph}" stroke="#eee"/>'
                   f'<text x="{x:.1f}" y="{TOP + ph + 16}" text-anchor="middle">{escape(format_duration(int(round(t))))}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 6}" text-anchor="middle">{escape(chart.x_label)}</text>')
    out.append(f'<text x="14" y="{TOP + ph / 2}" transform="rotate(-90 14 {TOP + ph / 2})" '
               f'text-anchor="middle">{escape(chart.y_label)}</text>')
    for i, s in enumerate(chart.series):
        color = s.color or PALETTE[i % len(PALETTE)]
        pts = [(px(x), py(y)) for x, y in zip(s.xs, s.ys) if math.isfinite(x) and math.isfinite(y)]
        if s.points:
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts]
        elif pts:
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6"{dash} points="{path}"/>')
    out.append("</svg>")
    legend = "".join(
        f'<span><i class="swatch" style="background:{s.color or PALETTE[i % len(PALETTE)]}"></i>'
        f'{escape(s.label)}{" (dashed)" if s.dashed else ""}{" (points)" if s.points else ""}</span>'
        for i, s in enumerate(chart.series))
    return "\n".join(out) + f'\n<div class="legend">{legend}</div>'


def page(title: str, intro: list[str], sections: list[Section]) -> str:
    body = [f"<h1>{escape(title)}</h1>"] + [f"<p>{escape(p)}</p>" for p in intro]
    for sec in sections:
        body.append(f"<h2>{escape(sec.title)}</h2>")
        body += [f'<p class="note">{escape(p)}</p>' for p in sec.text]
        if sec.table is not None:
            head, rows = sec.table
            body.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>")
            body += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            body.append("</table>")
        for ch in sec.charts:
            body.append(f"<h3>{escape(ch.title)}</h3>")
            body.append(svg(ch))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
