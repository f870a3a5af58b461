"""Durations as people write them (``750ms``, ``1.5s``) and as histories store them (ns)."""

from __future__ import annotations

import re
from decimal import Decimal

from gtcheck.kernel.errors import UserError

_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
             "m": 60_000_000_000, "min": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zµμ]*)\s*$", re.IGNORECASE)

DURATION_FORMS = "750ms, 1.5s, 200us, 1000000ns, 2m, or a plain integer of nanoseconds"


def parse_duration(text: str | int | float, where: str | None = None) -> int:
    """Parse a duration into integer nanoseconds, exactly (decimal, not float);
    raise UserError naming ``where`` (a field or an option)."""
    if isinstance(text, bool):
        raise UserError(f"expected a duration, got {text!r}", where=where, hint=f"write it as {DURATION_FORMS}")
    if isinstance(text, int):
        if text < 0:
            raise UserError(f"a duration cannot be negative, got {text}", where=where)
        return text
    if isinstance(text, float):
        raise UserError(f"ambiguous duration {text!r}: give a unit", where=where, hint=f"write it as {DURATION_FORMS}")
    m = _DURATION.match(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or (unit and unit not in _UNITS_NS) or (not unit and "." in m.group(1)):
        if str(text).strip().startswith("-"):
            raise UserError(f"a duration cannot be negative, got {text!r}", where=where,
                            hint=f"write it as {DURATION_FORMS}")
        raise UserError(f"cannot read {text!r} as a duration", where=where, hint=f"write it as {DURATION_FORMS}")
    ns = Decimal(m.group(1)) * _UNITS_NS[unit or "ns"]
    if ns != ns.to_integral_value():
        raise UserError(f"{text!r} is not a whole number of nanoseconds", where=where,
                        hint=f"write it as {DURATION_FORMS}")
    return int(ns)


def format_seconds(ns: int | float) -> str:
    """``12300000000`` -> ``12.30 s``: how explanations cite times."""
    return f"{ns / 1e9:.2f} s"


def format_duration(ns: int | float) -> str:
    """A short human duration: ``1.30 s``, ``750 ms``, ``12 µs``, ``0``."""
    ns = float(ns)
    if ns == 0:
        return "0"
    if abs(ns) >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if abs(ns) >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if abs(ns) >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.0f} ns"
