"""Validation on the published PBS figures (Bailis et al., VLDB 2012, N = 3, R = W = 1).

Published (the paper's camera-ready LaTeX, pbailis/pbs-vldb-historical-paper-material at
682cc15, writeup/ernst.tex: Section 6.2 and Table 4): P(consistent) right after commit
LNKD-SSD 97.4 %, LNKD-DISK 43.9 %, YMMR 89.3 %, WAN "33 %"; t for 99.9 %: 1.85 ms, 45.5 ms,
1364 ms, 113.0 ms.

Tolerances, and why (docs/forecast.md, "Validation on PBS"):
* P(fresh at 0): three standard errors of the paper's 50,000-trial estimate, three of
  ours, and half the printed precision (0.05 points; 0.5 for WAN's whole percent).
* t for 99.9 %: the paper swept a grid of t with 50,000 fresh trials each and printed the
  first t reaching 99.9 %; that estimator is noisy (about 50 stale reads decide it) and
  biased early. We replay it 2,000 times on our own curve; the published t must lie in the
  central 99 % of the replayed estimates.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gtcheck.forecast import pbs
from gtcheck.model.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 500_000


@pytest.fixture(scope="module")
def rows():
    return {name: pbs.compare(name, TRIALS, seed=1) for name in pbs.CONFIGS}


@pytest.mark.parametrize("name", ["LNKD-SSD", "LNKD-DISK", "YMMR", "WAN"])
def test_probability_at_commit_matches_the_paper(rows, name):
    r = rows[name]
    assert r.p0_ok, f"{name}: ours {r.p0:.4f}, paper {r.published.p0} (tolerance {r.p0_tolerance:.4f})"
    assert r.p0_tolerance < 0.015     # the tolerance itself stays a constraint (1.5 points at most)


@pytest.mark.parametrize("name", ["LNKD-SSD", "LNKD-DISK", "YMMR", "YMMR-3.35", "WAN"])
def test_t_for_999_matches_the_papers_estimator(rows, name):
    r = rows[name]
    lo, hi = r.paper_range_ms
    assert r.t_ok, f"{name}: paper {r.published.t999_ms} ms outside its estimator's range on our curve {lo}-{hi}"
    # and the estimator's range is a real constraint: at most a quarter of the value wide
    assert (hi - lo) / r.published.t999_ms < 0.25


def test_ymmr_alpha_the_table_prints_does_not_give_the_published_probability(rows):
    """Table 3 prints YMMR's write tail alpha as 3.35; the paper's simulator used 3.5. With
    3.5 we match 89.3 % within 0.2 points; with 3.35 we are more than three standard errors
    of the paper's own estimate (0.14 points with 50,000 trials) low: the published figures
    were computed with 3.5."""
    paper_se = (0.893 * 0.107 / pbs.PAPER_TRIALS) ** 0.5
    assert abs(rows["YMMR"].p0 - 0.893) < 0.002
    assert 0.893 - rows["YMMR-3.35"].p0 > 3 * paper_se


def test_lnkd_disk_ten_ms_after_commit():
    """The paper's other figure for LNKD-DISK: 92.5 % consistent 10 ms after commit."""
    c = pbs.curve("LNKD-DISK", TRIALS, seed=2)
    p = c.p_fresh(10 * pbs.MS)
    assert abs(p - 0.925) <= pbs.p0_tolerance(p, 0.001, TRIALS), p


def test_the_shipped_scenario_files_are_the_configurations():
    for name in ("LNKD-SSD", "LNKD-DISK", "YMMR", "YMMR-3.35"):
        path = ROOT / "histories" / "scenarios" / "pbs" / f"{name.lower()}.toml"
        assert load_scenario(path).messages == scenario_from_dict(pbs.SCENARIOS[name]).messages, path
