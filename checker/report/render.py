"""Render the page (``render_html``): jinja2 with autoescape on; the page's data goes
into a ``<script type="application/json">`` block through :func:`embed_json`, which
escapes ``<``, ``>``, ``&``, U+2028 and U+2029, so no value of the history can close the
block or become markup. The page's own scripts are allowed by a Content-Security-Policy
hash; nothing else may run, and the script writes data only via textContent."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any, Mapping

import jinja2
from markupsafe import Markup

from gtcheck.checker.report.text import dumps, fmt_ns

_TEMPLATES = Path(__file__).parent / "templates"

_JSON_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


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
