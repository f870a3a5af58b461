"""The one duration formatter (``kernel.units.format_duration``): every output of gtcheck
writes times and durations through it (explanations, text, report, solver
contradictions, fault windows, search explanations)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gtcheck.kernel.units import format_duration, parse_duration


def test_short_form_examples():
    assert format_duration(None) == "-"
    assert format_duration(0) == "0 ns"
    assert format_duration(40) == "40 ns"
    assert format_duration(12_500) == "12.5 µs"
    assert format_duration(750_000_000) == "750 ms"
    assert format_duration(1_500_000) == "1.50 ms"
    assert format_duration(1_300_000_000) == "1.30 s"
    assert format_duration(-2_000_000_000) == "-2.00 s"


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_exact_form_reads_back_as_the_same_nanoseconds(ns):
    text = format_duration(ns, exact=True)
    assert text.endswith(" s")
    whole, frac = text[:-2].split(".")
    assert len(frac) >= 2 and (len(frac) == 2 or not frac.endswith("0"))
    assert parse_duration(text.replace(" ", "")) == ns


@given(st.integers(min_value=2**53, max_value=2**200))
def test_short_form_is_exact_past_the_float_range(ns):
    """Rounded to hundredths of a second in integers, never through a float."""
    cs = (ns + 5_000_000) // 10_000_000
    assert format_duration(ns) == f"{cs // 100}.{cs % 100:02d} s"
    assert format_duration(-ns) == f"-{cs // 100}.{cs % 100:02d} s"


@given(st.integers(min_value=-(2**52), max_value=2**52))
def test_an_integer_and_its_float_read_the_same(ns):
    assert format_duration(ns) == format_duration(float(ns))


def test_the_report_and_the_search_explanations_use_it():
    from gtcheck.checker.report.text import fmt_ns

    for ns in (0, 999, 12_345, 7_250_000, 1_234_567_890, 2**70):
        assert fmt_ns(ns) == format_duration(ns)
    assert fmt_ns(None) == "-" and fmt_ns("n/a") == "n/a"
