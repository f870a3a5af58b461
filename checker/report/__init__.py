"""The HTML report: one self-contained page that shows a history and its verdict.

``write_report`` is the entry point (used by ``gtcheck report`` and ``gtcheck check
--html``). The work splits in three steps, each testable on its own:

1. *gather*: read the history (``checker.history.open_history``), run the checker
   (``checker.check.check_history``) unless a result is given, and read the
   ground-truth sidecar ``NAME.truth.jsonl`` when the simulator left one.
2. *build* (``page.build_page``, pure): choose what to draw in full detail within a
   budget and summarise the rest (``detail``), and produce two things apart: ``data``,
   the compact JSON the page's script draws the timeline and the staleness charts from
   (``data``), and ``view``, the values the template renders on the server side: banner,
   property cards, anomalies, convergence table, metadata (``view``). How values are
   written is ``text``.
3. *render* (``render.render_html``): jinja2 with autoescape on; the JSON goes into a
   ``<script type="application/json">`` block through ``embed_json``, which escapes
   ``<``, ``>``, ``&``, U+2028 and U+2029, so no value of the history can close the
   block or become markup. The page's own scripts (``templates/``) are allowed by a
   Content-Security-Policy hash; nothing else may run, and the script writes data only
   via textContent.

Large histories: at most ``op_budget`` operations are drawn in detail (all operations
cited by anomalies; then the keys with anomalies, whole when they fit, else a window
around each anomaly; then the busiest keys, whole). The other operations are drawn
as counts per region per time bucket, and staleness as at most
``data.MAX_STALENESS_POINTS`` sampled points plus exact quantiles per region pair. The page
says what was summarised.
"""

from __future__ import annotations

import os
import time as _time
from pathlib import Path
from typing import Any

from gtcheck.checker.report.data import MAX_STALENESS_POINTS
from gtcheck.checker.report.detail import DEFAULT_OP_BUDGET
from gtcheck.checker.report.page import build_page
from gtcheck.checker.report.render import embed_json, render_html
from gtcheck.kernel.outfiles import write_text
from gtcheck.kernel.sidecar import truth_path_for

__all__ = ["write_report", "build_report", "build_page", "render_html", "embed_json",
           "DEFAULT_OP_BUDGET", "MAX_STALENESS_POINTS"]


def write_report(
    history_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    check_result: Any = None,
    staleness_bound_ns: int | None = None,
    jobs: int | None = None,
    op_budget: int = DEFAULT_OP_BUDGET,
    finding: Mapping[str, Any] | None = None,
) -> Path:
    """Check ``history_path`` (unless ``check_result`` is given) and write the report.

    ``check_result`` is a ``checker.check.CheckResult``; pass one computed with
    ``keep_reads=True`` so the page can draw per-read staleness and the convergence
    table (without it those parts say what is missing). ``finding``: a property outside
    the checker that the history breaks (``{"name", "message", "cited"}``: an application
    invariant a search counterexample breaks); the page's verdict and banner name it.
    Returns the path written.
    Raises ``gtcheck.kernel.errors.UserError`` on bad input.
    """
    started = _time.perf_counter()
    page = build_report(
        history_path, check_result=check_result, staleness_bound_ns=staleness_bound_ns,
        jobs=jobs, op_budget=op_budget, finding=finding,
    )
    page["view"]["report_build_s"] = round(_time.perf_counter() - started, 3)
    html = render_html(page)
    out = Path(out_path)
    write_text(out, html)       # the one output writer (atomic; never replaces a device or link)
    return out


def build_report(
    history_path: str | os.PathLike[str],
    *,
    check_result: Any = None,
    staleness_bound_ns: int | None = None,
    jobs: int | None = None,
    op_budget: int = DEFAULT_OP_BUDGET,
    finding: Mapping[str, Any] | None = None,
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
        truth_path=truth, history_path=str(history_path), op_budget=op_budget, finding=finding,
    )
