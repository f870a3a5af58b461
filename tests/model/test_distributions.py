"""The Pareto and mixture families, and per-message latencies (WARS) in a scenario:
parsed by the model's one parser, refused field by field, and refused by the drivers that
do not model them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from gtcheck.kernel.errors import UserError
from gtcheck.model.distributions import Exponential, Mixture, Pareto, parse_distribution
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.simulator import simulate
from gtcheck.model.globaltables import GlobalTables
from tests.clihelp import run_cli

PBS_SSD = {"dist": "mixture", "components": [
    {"weight": 0.9122, "dist": "pareto", "xm": "235us", "alpha": 10},
    {"weight": 0.0878, "dist": "exponential", "mean": "602410ns"}]}


def test_pareto_and_mixture_parse():
    d = parse_distribution(PBS_SSD, "replication.delay")
    assert d == Mixture((0.9122, 0.0878), (Pareto(235_000, 10.0), Exponential(602_410)))
    assert parse_distribution({"dist": "pareto", "xm": "1ms", "alpha": 1.5, "max": "2s"}, "x") == \
        Pareto(1_000_000, 1.5, 2_000_000_000)


@settings(max_examples=50, deadline=None)
@given(xm=st.integers(1, 10**9), alpha=st.floats(0.1, 1000), cap=st.none() | st.integers(1, 10**12),
       seed=st.integers(0, 2**32))
def test_pareto_draws_stay_in_range(xm, alpha, cap, seed):
    d = Pareto(xm, alpha, cap)
    rng = random.Random(seed)
    for _ in range(50):
        v = d.sample(rng)
        assert (v >= xm or (cap is not None and v == cap)) and (cap is None or v <= cap)


@settings(max_examples=50, deadline=None)
@given(weights=st.lists(st.floats(0.001, 100), min_size=1, max_size=5), seed=st.integers(0, 2**32))
def test_mixture_sample_and_sampler_are_one_stream(weights, seed):
    comps = tuple(Exponential(1_000 * (i + 1)) if i % 2 else Pareto(500 * (i + 1), 2.0) for i in range(len(weights)))
    d = Mixture(tuple(weights), comps)
    a, b = random.Random(seed), random.Random(seed)
    f = d.sampler(b)
    assert [d.sample(a) for _ in range(40)] == [f() for _ in range(40)]


@pytest.mark.parametrize("spec,where,message", [
    ({"dist": "pareto", "xm": "1ms"}, "x", "missing field 'alpha'"),
    ({"dist": "pareto", "alpha": 2}, "x", "missing field 'xm'"),
    ({"dist": "pareto", "xm": "0ms", "alpha": 2}, "x.xm", "above 0"),
    ({"dist": "pareto", "xm": "1ms", "alpha": 0.01}, "x.alpha", "between 0.1 and 1,000"),
    ({"dist": "pareto", "xm": "1ms", "alpha": float("nan")}, "x.alpha", "finite"),
    ({"dist": "pareto", "xm": "1ms", "alpha": 2, "beta": 1}, "x", "unknown field 'beta'"),
    ({"dist": "mixture"}, "x.components", "needs 'components'"),
    ({"dist": "mixture", "components": []}, "x.components", "needs 'components'"),
    ({"dist": "mixture", "components": [{"dist": "constant", "value": "1ms"}]}, "x.components[0]", "'weight'"),
    ({"dist": "mixture", "components": [{"weight": 0, "dist": "constant", "value": "1ms"}]},
     "x.components[0].weight", "greater than 0"),
    ({"dist": "mixture", "components": [{"weight": 1, "dist": "mixture", "components": []}]},
     "x.components[0].dist", "cannot be a mixture"),
    ({"dist": "mixture", "components": [{"weight": 1, "dist": "pareto", "xm": "1ms"}]},
     "x.components[0]", "missing field 'alpha'"),
    ({"dist": "mixture", "components": [{"weight": 1, "value": "1ms"}] * 17}, "x.components", "at most 16"),
    ({"dist": "lognormal", "median": "1ms", "weight": 1}, "x", "unknown field 'weight'"),
])
def test_bad_families_name_the_field(spec, where, message):
    with pytest.raises(UserError) as info:
        parse_distribution(spec, "x")
    assert info.value.where == where and message in info.value.message


WARS = {"names": ["a", "b"], "copies": 3, "write_quorum": 1, "read_quorum": 2,
        "messages": {"write": PBS_SSD, "ack": "1ms", "read": "1ms", "response": "2ms"}}


def test_messages_and_read_quorum_parse():
    sc = scenario_from_dict({"regions": WARS})
    assert sc.read_quorum == 2 and sc.messages is not None and sc.messages.response.value == 2_000_000
    assert scenario_from_dict({}).messages is None and scenario_from_dict({}).read_quorum == 1


@pytest.mark.parametrize("regions,where,message", [
    ({"read_quorum": 1}, "regions.read_quorum", "needs the per-message latencies"),
    ({**WARS, "read_quorum": 4}, "regions.read_quorum", "between 1 and 3"),
    ({**WARS, "messages": {"write": "1ms", "ack": "1ms", "read": "1ms"}}, "regions.messages", "missing field 'response'"),
    ({**WARS, "messages": {**WARS["messages"], "gossip": "1ms"}}, "regions.messages", "unknown field 'gossip'"),
    ({**WARS, "messages": {**WARS["messages"], "ack": {"dist": "gamma"}}}, "regions.messages.ack.dist",
     "unknown distribution"),
])
def test_bad_messages_name_the_field(regions, where, message):
    with pytest.raises(UserError) as info:
        scenario_from_dict({"regions": regions})
    assert info.value.where == where and message in info.value.message


def test_the_drivers_refuse_per_message_latencies(tmp_path):
    sc = scenario_from_dict({"regions": WARS})
    with pytest.raises(UserError) as info:
        simulate(sc, 1, tmp_path / "h.jsonl", False)
    assert info.value.where == "regions.messages" and "gtcheck predict" in info.value.message
    with pytest.raises(UserError) as info:
        GlobalTables(sc)
    assert info.value.where == "regions.messages"


def test_simulate_command_refuses_them_with_exit_254(tmp_path, capsys):
    path = tmp_path / "w.toml"
    path.write_text('[regions]\nnames = ["a", "b"]\n[regions.messages]\nwrite = "1ms"\nack = "1ms"\n'
                    'read = "1ms"\nresponse = "1ms"\n')
    code, _, err = run_cli(["simulate", "--scenario", path, "-o", tmp_path / "h.jsonl", "--no-progress"], capsys)
    assert code == 254 and "regions.messages" in err and "Traceback" not in err
    assert not (tmp_path / "h.jsonl").exists()


def test_a_pareto_mixture_delay_simulates(tmp_path):
    sc = scenario_from_dict({"replication": {"delay": PBS_SSD}, "workload": {"duration": "2s"}})
    summary = simulate(sc, 3, tmp_path / "h.jsonl", False)
    assert summary.operations > 100
