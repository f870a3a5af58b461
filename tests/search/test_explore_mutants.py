"""Mutants are rules substituted in the one relation, so the explorer runs them as the timed
simulator does: on a scenario that exposes it, each mutant changes what ``explore`` finds
(outcomes, final states or a verdict); the timing-only one is refused by name."""

from __future__ import annotations

import pytest

from gtcheck.kernel.errors import UserError
from gtcheck.model.mutants import mutant
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.search.explore import explore

US, EU, AP = "us-east-1", "eu-west-1", "ap-southeast-2"


def scripted(script, **extra):
    return scenario_from_dict(dict({"name": "exposes", "regions": {"names": [US, EU], "copies": 1,
                                                                   "write_quorum": 1},
                                    "script": script}, **extra))


def both(sc, bug):
    return explore(sc), explore(sc, rules=mutant(bug))


def test_stale_strong_read_lets_a_strong_read_miss_its_own_regions_write():
    sc = scripted([{"at": "0ms", "region": US, "f": "write", "key": "x", "value": {"v": 1}, "process": "c"},
                   {"at": "10ms", "region": US, "f": "read", "key": "x", "consistent": True, "process": "c",
                    "name": "r"}], regions={"names": [US, EU], "copies": 3, "write_quorum": 2})
    good, bad = both(sc, "stale-strong-read")
    assert [v["v"] for v in good.outcomes["r"]] == [1]
    assert None in bad.outcomes["r"]


def test_drop_replication_leaves_a_region_without_the_write():
    sc = scripted([{"at": "0ms", "region": US, "f": "write", "key": "x", "value": {"v": 1}}])
    good, bad = both(sc, "drop-replication")
    assert good.properties["model"]["holds"] is True
    assert bad.properties["model"]["holds"] is False and "did not converge" in bad.properties["model"]["message"]
    assert [f[EU] for f in bad.final_states["x"]] == [None]


def test_phantom_value_makes_a_read_of_nothing_return_something():
    sc = scripted([{"at": "0ms", "region": US, "f": "read", "key": "x", "consistent": True, "name": "r"}])
    good, bad = both(sc, "phantom-value")
    assert good.outcomes["r"] == [None]
    assert bad.outcomes["r"] == [{"rev": -1, "phantom": True}]


def test_show_failed_write_applies_a_write_whose_condition_failed():
    sc = scripted([{"at": "0ms", "region": US, "f": "write", "key": "x", "value": {"v": 1}, "condition": {"v": 0},
                    "process": "c", "name": "w"},
                   {"at": "10ms", "region": US, "f": "read", "key": "x", "consistent": True, "process": "c",
                    "name": "r"}])
    good, bad = both(sc, "show-failed-write")
    assert good.outcomes["w"] == bad.outcomes["w"] == ["fail"]
    assert good.outcomes["r"] == [None]
    assert [v["v"] for v in bad.outcomes["r"]] == [1]


def test_strong_local_read_lets_a_strong_read_miss_an_acknowledged_write():
    sc = scenario_from_dict({"name": "strong", "mode": "strong", "regions": {"names": [US, EU, AP], "copies": 1,
                                                                             "write_quorum": 1},
                             "replication": {"round_trip": "20ms"},
                             "script": [{"at": "0ms", "region": US, "f": "write", "key": "x", "value": {"v": 1}},
                                        {"at": "100ms", "region": EU, "f": "read", "key": "x", "consistent": True,
                                         "name": "r"}]})
    good, bad = both(sc, "strong-local-read")
    assert [v["v"] for v in good.outcomes["r"]] == [1]
    assert None in bad.outcomes["r"]


def test_the_timing_only_mutant_is_refused_by_name():
    sc = scripted([{"at": "0ms", "region": US, "f": "write", "key": "x", "value": {"v": 1}}])
    with pytest.raises(UserError) as info:
        explore(sc, rules=mutant("delay-replication"))
    assert "gtcheck explore cannot cover" in info.value.message
    assert "'delay-replication'" in info.value.message
