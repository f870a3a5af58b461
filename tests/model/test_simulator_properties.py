"""Laws of the model, for any delays, clocks and fault schedule that ends healed:
every region ends with the same version of every item, that version is the conflict
winner among the writes that took effect, the same seed gives the same bytes, and what
the model writes is always a valid history."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings, strategies as st

from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.simulator import simulate
from tests.simhelp import run

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]


def ms(n: int) -> str:
    return f"{n}ms"


delays = st.one_of(
    st.builds(lambda v: ms(v), st.integers(0, 400)),
    st.builds(lambda lo, w: {"dist": "uniform", "low": ms(lo), "high": ms(lo + w)}, st.integers(0, 200), st.integers(0, 800)),
    st.builds(lambda m: {"dist": "exponential", "mean": ms(m)}, st.integers(1, 500)),
    st.builds(lambda m, s: {"dist": "lognormal", "median": ms(m), "sigma": s}, st.integers(1, 400),
              st.floats(0, 1.5)),
)


@st.composite
def scenarios(draw):
    n = draw(st.integers(2, 4))
    regions = REGIONS[:n]
    copies = draw(st.integers(1, 3))
    duration_ms = draw(st.integers(1500, 4000))
    faults = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["isolate", "outage", "replication-delay", "clock-jump"]))
        at = draw(st.integers(0, duration_ms - 100))
        f = {"kind": kind, "at": ms(at)}
        if kind == "clock-jump":
            f.update(region=draw(st.sampled_from(regions)), by=ms(draw(st.integers(-80, 80))))
        elif kind == "replication-delay":
            f.update(to=draw(st.sampled_from(regions + ["*"])), duration=ms(draw(st.integers(100, 2000))),
                     extra=draw(delays))
        else:
            f.update(region=draw(st.sampled_from(regions)), duration=ms(draw(st.integers(100, 3000))))
        faults.append(f)
    return {
        "name": "prop",
        "regions": {"names": regions, "copies": copies, "write_quorum": draw(st.integers(1, copies)),
                    "copy_lag": draw(delays), "timeout": "300ms"},
        "clocks": {r: {"offset": ms(draw(st.integers(-50, 50))), "drift_ppm": draw(st.integers(-100, 100))}
                   for r in regions if draw(st.booleans())},
        "replication": {"delay": draw(delays), "coalesce": draw(st.sampled_from([0.0, 0.5, 1.0]))},
        "workload": {"keys": draw(st.integers(1, 6)), "rate": draw(st.integers(50, 300)),
                     "processes_per_region": draw(st.integers(1, 3)), "duration": ms(duration_ms),
                     "strong_reads": 0.5, "transaction_size": draw(st.integers(1, 3)),
                     "ttl": {"share": draw(st.sampled_from([0.0, 0.3])), "after": "300ms"}},
        "faults": faults,
        "failover": {"policy": draw(st.sampled_from(["none", "next"])), "after": "200ms"},
        "final": {"settle": "1s"},
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(), st.integers(0, 2**32))
def test_regions_converge_to_the_conflict_winner(tmp_path, data, seed):
    r = run(data, seed, tmp=tmp_path)
    winners = r.winners()
    for f in r.of("final"):
        w = winners.get(f["key"])
        assert f["saw"] == (w.write_id if w else None), f"{f['key']} in {f['region']}"
    for t in r.of("write"):
        w = winners[t["key"]] if t["took_effect"] else None
        if w is not None and w.write_id == t["index"]:
            assert all(a is not None for a in t["applied_ns"].values()), "the winner reaches every region"
    # the final reads in the history show the same thing
    values = {}
    for o in r.ops.values():
        if o["f"] == "read" and o["time"] >= r.header["settled_after_ns"]:
            assert o["outcome"] == "ok"
            values.setdefault(o["key"], set()).add(repr(o["value"]))
    assert all(len(v) == 1 for v in values.values())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(), st.integers(0, 2**32))
def test_same_seed_same_bytes(tmp_path, data, seed):
    digests = []
    for i in range(2):
        path = tmp_path / f"h{i}.jsonl"
        simulate(scenario_from_dict(data), seed, path, True)
        digests.append((hashlib.sha256(path.read_bytes()).hexdigest(),
                        hashlib.sha256(path.with_name(f"h{i}.truth.jsonl").read_bytes()).hexdigest()))
    assert digests[0] == digests[1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(), st.integers(0, 2**32))
def test_generated_history_is_valid(tmp_path, data, seed):
    from gtcheck.checker.history import validate_file

    path = tmp_path / "h.jsonl"
    summary = simulate(scenario_from_dict(data), seed, path, False)
    stats = validate_file(path)
    assert stats  # raises on any problem
    assert summary.events > 0


def test_different_seeds_differ(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    from gtcheck.model.scenario import default_scenario
    simulate(default_scenario(), 1, a, False)
    simulate(default_scenario(), 2, b, False)
    assert a.read_bytes() != b.read_bytes()


def _cut_windows(data) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for f in data.get("faults", []):
        if f["kind"] in ("isolate", "outage"):
            at = int(f["at"][:-2]) * 1_000_000
            out.setdefault(f["region"], []).append((at, at + int(f["duration"][:-2]) * 1_000_000))
    return out


def _assert_no_crossing_while_cut(r, data) -> None:
    windows = _cut_windows(data)
    for t in r.of("write"):
        if not t["took_effect"]:
            continue
        for region, arrived in t["applied_ns"].items():
            if arrived is None or region == t["region"]:
                continue
            for end in (region, t["region"]):
                for start, stop in windows.get(end, []):
                    assert not start < arrived < stop, \
                        f"write {t['index']} reached {region} at {arrived} while {end} was cut off"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios(), st.integers(0, 2**32))
def test_no_version_crosses_a_cut_link(tmp_path, data, seed):
    _assert_no_crossing_while_cut(run(data, seed, tmp=tmp_path), data)


def test_overlapping_isolations_hold_a_version_until_both_ends_heal(tmp_path):
    """us-east-1 is cut off 1-3 s and eu-west-1 2-6 s: a version written in us-east-1 at
    1.5 s reaches eu-west-1 only after 6 s, not when us-east-1 heals at 3 s."""
    data = {"name": "overlap", "replication": {"delay": "250ms"},
            "faults": [{"kind": "isolate", "region": "us-east-1", "at": "1000ms", "duration": "2000ms"},
                       {"kind": "isolate", "region": "eu-west-1", "at": "2000ms", "duration": "4000ms"}],
            "script": [{"at": "1500ms", "region": "us-east-1", "f": "write", "key": "x", "value": {"v": 1}}]}
    r = run(data, 1, tmp=tmp_path)
    (w,) = r.of("write")
    assert w["applied_ns"]["eu-west-1"] == 6_250_000_000
    assert w["applied_ns"]["ap-southeast-2"] == 3_250_000_000
    _assert_no_crossing_while_cut(r, data)
