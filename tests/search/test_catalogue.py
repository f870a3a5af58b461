"""The catalogue (issue 9, docs/catalogue.md): every behaviour's scenario replays to its
kept counterexample byte for byte, and the kept run shows the documented outcome; the
small ones are explored completely and the violation is found there too."""

from __future__ import annotations

import json

import pytest

from gtcheck.search import catalogue as C
from gtcheck.search.explore import explore
from gtcheck.search.run import invariant_property, run_from_bytes
from gtcheck.search.search import run_bytes
from gtcheck.search.search import search

NAMES = [e.name for e in C.ENTRIES]


def test_the_catalogue_names_ten_behaviours_each_with_its_files_and_docs():
    assert len(C.ENTRIES) == 10 and len(set(NAMES)) == 10
    doc = (C.ROOT / "docs" / "catalogue.md").read_text()
    for e in C.ENTRIES:
        assert e.path.exists(), e.name
        for suffix in (".jsonl", ".truth.jsonl", ".html"):
            assert (C.KEPT / f"{e.name}{suffix}").exists(), (e.name, suffix)
        assert f"behaviours/{e.name}.toml" in doc and e.invariant in doc, e.name


@pytest.mark.parametrize("name", NAMES)
def test_the_kept_counterexample_replays_to_its_documented_outcome(name):
    e = C.by_name(name)
    history, truth = run_bytes(e.scenario(), C.SEED)
    assert history == (C.KEPT / f"{name}.jsonl").read_bytes(), "the scenario no longer replays its kept history"
    assert truth == (C.KEPT / f"{name}.truth.jsonl").read_bytes()
    out = C.judge(e, run_from_bytes(history, truth))
    assert out is not None, f"{e.invariant} holds on {name}"
    message, cited = out
    assert e.outcome in message and cited, message


@pytest.mark.parametrize("name", [e.name for e in C.ENTRIES if e.explore])
def test_the_small_ones_explore_completely(name):
    e = C.by_name(name)
    ex = explore(e.scenario(), max_states=50_000, invariants=[(e.invariant, invariant_property(e.invariant))])
    assert ex.complete and ex.properties["model"]["holds"]
    assert ex.properties[e.invariant]["holds"] is False, name
    kept = json.loads((C.KEPT / "results.json").read_text())[name]["explore"]
    assert (ex.states, ex.edges, ex.properties[e.invariant]["path"]) == (
        kept["states"], kept["edges"], kept["shortest_path"]), "the exploration changed: rerun the catalogue module"


@pytest.mark.parametrize("name", ["lost-increment", "double-create", "clock-offset-loses"])
def test_search_finds_them_quickly(name):
    e = C.by_name(name)
    r = search(e.search_base(), invariant_property(e.invariant), budget=100, seed=0)
    assert r.found is not None and r.requests <= 4
