"""How the page writes values: compact exact JSON (``dumps``), values cut to a width
(``short``), durations (``fmt_ns``, the checker's ``format_duration``), figures and
verdict words, and the small helpers the data and the view share."""

from __future__ import annotations

import math
from typing import Any, Mapping

from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.units import format_duration

VALUE_CHARS = 60                    # values are cut to this many characters


def dumps(obj: Any) -> bytes:
    """Compact JSON: orjson's, or the exact writer's for what orjson refuses (integers
    beyond 64 bits, exact decimals, deep nesting), so numbers are never rounded."""
    return exact_dumps(obj, default=str)


def short(value: Any, limit: int = VALUE_CHARS) -> str:
    """A value as compact JSON text, cut to ``limit`` characters."""
    if isinstance(value, str) and len(value) > 4 * limit:
        value = value[: 4 * limit]
    text = dumps(value).decode("utf-8")
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text


def fmt_ns(ns: Any) -> str:
    """A duration in ns as the checker writes it (``kernel.units.format_duration``);
    anything that is not a number (a value read from a header) as its text."""
    if ns is None or (isinstance(ns, (int, float)) and not isinstance(ns, bool)):
        return format_duration(ns)
    return str(ns)


def fmt_value(name: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "–"}[value]
    if name.endswith("_ns") and isinstance(value, (int, float)):
        return fmt_ns(value)
    if name.endswith("_s") and isinstance(value, (int, float)):
        return f"{value:.3g} s"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value if len(value) <= 600 else value[:599] + "\u2026"
    return short(value, 120)


def flatten_figures(figures: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``{"reads": 10, "pairs": {...}}`` -> ``[("reads", "10"), ...]`` for display."""
    out: list[tuple[str, str]] = []
    if not isinstance(figures, Mapping):
        return out
    for name, value in figures.items():
        label = f"{prefix}{name}"
        if isinstance(value, Mapping) and len(value) <= 8 and prefix == "":
            out.extend(flatten_figures(value, label + "."))
        else:
            out.append((label.replace("_", " ").removesuffix(" ns"), fmt_value(str(name), value)))
    return out


def verdict_word(valid: Any) -> str:
    if valid is True:
        return "valid"
    if valid is False:
        return "invalid"
    if valid in (None, "not checked", "not-checked"):
        return "not checked"
    return "unknown"


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def nice_step(span: float, target: int) -> int:
    """The 1-2-5 step near ``span / target`` (at least 1)."""
    raw = max(span / max(target, 1), 1.0)
    exp = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * exp >= raw:
            return int(m * exp)
    return int(10 * exp)


def _natural(label: Any) -> tuple:
    return (0, label, "") if isinstance(label, int) else (1, 0, str(label))
