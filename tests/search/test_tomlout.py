"""The TOML writer of counterexample scenarios (``gtcheck.kernel.tomlout``): whatever it is
given, ``tomllib`` reads back the same document."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtcheck.model.scenario import load_scenario
from gtcheck.kernel import tomlout
from gtcheck.search import strategies

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
SCENARIO = Path(__file__).resolve().parents[2] / "histories" / "scenarios" / "replication-delay.toml"
SCALARS = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | TEXT
           | st.floats(allow_nan=False, allow_infinity=False))
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(TEXT, VALUES | st.lists(st.dictionaries(TEXT, VALUES, max_size=3),
                                               min_size=1, max_size=3), max_size=5))
def test_any_document_reads_back_equal(doc):
    text = tomlout.dumps(doc, "a comment\nover two lines")
    assert tomllib.loads(text) == doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_counterexample_scenarios_read_back_equal(data):
    base = load_scenario(SCENARIO)
    table, _seed = data.draw(strategies.runs(base))
    assert tomllib.loads(tomlout.dumps(table, "counterexample")) == table
    generated = data.draw(strategies.scenarios())
    assert tomllib.loads(tomlout.dumps(generated)) == generated


def test_a_key_ending_in_a_newline_is_quoted():
    # found by the property above: a bare-key pattern ending in "$" matched "0\n"
    doc = {"0\n": [], "a": {"b\n": 1}}
    assert tomllib.loads(tomlout.dumps(doc)) == doc
