"""Durations as people write them (``750ms``, ``1.5s``) and as histories store them (ns)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from gtcheck.kernel.errors import UserError

_UNITS_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
             "m": 60_000_000_000, "min": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zµμ]*)\s*$", re.IGNORECASE)

DURATION_FORMS = "750ms, 1.5s, 200us, 1000000ns, 2m, or a plain integer of nanoseconds"
MAX_DURATION_NS = 2**63 - 1  # durations are signed 64-bit nanoseconds (about 292 years)
_MAX_DURATION_TEXT = 100  # characters: no real duration is longer


def _bound(x: float | int) -> str:
    """A bound as people read it: 10,000,000 rather than 1e+07; 0.5 stays 0.5."""
    if isinstance(x, int) or float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:g}"


def check_number(value: object, where: str | None, *, low: float | int | None = None,
                 high: float | int | None = None, integer: bool = False,
                 low_open: bool = False) -> int | float:
    """The one check every numeric input field goes through: a number (an integer when
    ``integer``), finite (no NaN, no infinity), and within ``[low, high]`` (``low`` itself
    excluded when ``low_open``). Raise UserError naming ``where`` and the range.

    NaN compares false with everything, so a plain ``value < low`` test lets it through:
    this is why the finiteness test comes first and why every field must come here."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise UserError(f"expected {kind}, got {value!r}", where=where)
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"expected a finite number, got {value!r}", where=where,
                        hint="NaN and infinity are not allowed here")
    below = low is not None and (value <= low if low_open else value < low)
    if below or (high is not None and value > high):
        if low is not None and high is not None:
            bound = (f"greater than {_bound(low)} and at most {_bound(high)}" if low_open
                     else f"between {_bound(low)} and {_bound(high)}")
        elif low is not None:
            bound = f"greater than {_bound(low)}" if low_open else f"at least {_bound(low)}"
        else:
            assert high is not None
            bound = f"at most {_bound(high)}"
        raise UserError(f"must be {bound}, got {value!r}", where=where)
    return value


def parse_duration(text: object, where: str | None = None) -> int:
    """Parse a duration into integer nanoseconds, exactly (decimal, not float);
    raise UserError naming ``where`` (a field or an option)."""
    if isinstance(text, bool):
        raise UserError(f"expected a duration, got {text!r}", where=where, hint=f"write it as {DURATION_FORMS}")
    if isinstance(text, int):
        if text < 0:
            raise UserError(f"a duration cannot be negative, got {text}", where=where)
        return _within_64_bits(text, text, where)
    if isinstance(text, float):
        raise UserError(f"ambiguous duration {text!r}: give a unit", where=where, hint=f"write it as {DURATION_FORMS}")
    if not isinstance(text, str):
        raise UserError(f"cannot read {text!r} as a duration", where=where, hint=f"write it as {DURATION_FORMS}")
    if len(text) > _MAX_DURATION_TEXT:
        raise UserError(f"cannot read {text[:40]!r}... ({len(text)} characters) as a duration", where=where,
                        hint=f"write it as {DURATION_FORMS}")
    m = _DURATION.match(text)
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
    return _within_64_bits(int(ns), text, where)


def _within_64_bits(ns: int, text: object, where: str | None) -> int:
    if ns > MAX_DURATION_NS:
        raise UserError(f"the duration {text!r} does not fit in 64 bits of nanoseconds", where=where,
                        hint=f"durations are at most {MAX_DURATION_NS:,} ns (about 292 years)")
    return ns


def _sig(x: float) -> str:
    """Three significant figures at most, for a value in [1, 1000)."""
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def format_duration(ns: Any, exact: bool = False) -> str:
    """The one way gtcheck writes a duration or a moment (ns) for people.

    Short form (default): ``1.30 s``, ``750 ms``, ``12.5 µs``, ``40 ns``; ``-`` for None.
    It is how explanations, the text verdict and the report cite times and durations.

    ``exact=True``: seconds with every digit that is not a trailing zero (at least two
    decimals): ``12.30 s``, ``1.000250 s`` -> ``1.00025 s``. It is for citations whose
    order matters to the reader (a solver's contradiction, a fault window, a
    counterexample's steps), where rounding could make two different moments look equal.

    Integers of any size are written exactly (no float on the way) when they pass 2**53.
    (``ns`` is typed ``Any``: compiled by mypyc, ``int | float`` would be a C double, and
    integers past 2**53 would lose digits.)"""
    if ns is None:
        return "-"
    if exact:
        n = ns if type(ns) is int else int(round(ns))
        whole, frac = divmod(abs(n), 1_000_000_000)
        digits = f"{frac:09d}".rstrip("0").ljust(2, "0")
        return f"{'-' if n < 0 else ''}{whole}.{digits} s"
    a = abs(ns)
    if a >= 1_000_000_000:
        if type(ns) is int and a >= 2 ** 53:
            cs = (a + 5_000_000) // 10_000_000
            return f"{'-' if ns < 0 else ''}{cs // 100}.{cs % 100:02d} s"
        return f"{ns / 1e9:.2f} s"
    if a >= 1_000_000:
        return f"{_sig(ns / 1e6)} ms"
    if a >= 1_000:
        return f"{_sig(ns / 1e3)} µs"
    return f"{int(ns)} ns"
