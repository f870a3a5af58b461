"""The page of ``gtcheck fit --html``: the fits, and with ``--compare`` the curves."""

from __future__ import annotations

import numpy as np

from gtcheck.forecast import fitting
from gtcheck.forecast.compare import Comparison, _pct
from gtcheck.forecast.fit import FitResult, _ci
from gtcheck.forecast.html import Chart, Section, Series, page as html_page

POINTS = 161


def page(fr: FitResult, cmp: Comparison | None) -> str:
    o = fr.observations
    head = ["link", "observations", "family", "median [95% CI]", "p99 [95% CI]", "set aside (faults)"]
    rows = []
    series = []
    fits = [lf for lf in fr.links if lf.fit is not None]
    top = max((lf.fit.p99_ns for lf in fits if lf.fit is not None), default=1e9) * 1.3
    xs = np.linspace(0.0, top, POINTS)
    for lf in fr.links:
        f = lf.fit
        if f is None:
            rows.append([lf.name, str(lf.link.n), "too few observations", "", "", str(lf.link.set_aside_faults)])
            continue
        rows.append([lf.name, f"{f.n} ({f.bounded} bounded)", f.family, _ci(f.median_ns, f.median_ci_ns),
                     _ci(f.p99_ns, f.p99_ci_ns), str(lf.link.set_aside_faults)])
        cdf = fitting.cdf(f.family, f.params, xs / fitting.NS)
        series.append(Series(lf.name, [float(x) for x in xs], [float(y) for y in cdf]))
    sections = [Section("Replication delay per link", [
        f"Interval-censored maximum likelihood over the model's families, chosen by AIC; timing "
        f"{o.timing}, reads used: {o.reads_used}. Intervals: observed information."],
        [Chart("Fitted delay distributions: P(delay <= x)", "P(delay <= x)", series, x_label="replication delay")],
        (head, rows))]
    if cmp is not None:
        chead = ["writer -> reader", "read", "phase", "reads", "measured stale", "predicted stale", "simulated stale"]
        crows = []
        for r in cmp.rows + [cmp.total]:
            if r.reads == 0 and r is not cmp.total:
                continue
            m, p, s = r.shares()
            crows.append([r.label if r is not cmp.total else "all reads", r.kind, r.phase, str(r.reads), _pct(m),
                          _pct(p), _pct(s)])
        charts = []
        for (w, rd, kind), c in sorted(cmp.curves.items()):
            sr = [Series("predicted (fitted scenario)", c["grid"], c["predicted"])]
            mx, my = c["measured"]
            if mx:
                sr.append(Series("measured (the recording, binned by t)", mx, my, points=True))
            sx, sy = c["simulated"]
            if sx:
                sr.append(Series("simulated (the fitted scenario)", sx, sy, points=True))
            charts.append(Chart(f"{w} -> {rd}, {kind} reads: P(fresh | t)", "P(fresh)", sr))
        sections.append(Section("Measured, predicted and simulated staleness", [
            "Measured: the share of the recording's reads the checker found stale. Predicted: the fitted "
            "scenario's forecast at each read's own delay since the write it should have seen, averaged. "
            "Simulated: gtcheck simulate of the fitted scenario, checked the same way."], charts, (chead, crows)))
    notes = [f"Note: {n}" for n in fr.notes]
    return html_page(f"gtcheck fit: {fr.path}", [f"Scenario written: {fr.table['name']}."] + notes, sections)
