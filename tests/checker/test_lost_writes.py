"""Lost writes (rule 12, ``checker.lostwrites`` and the ``lost_writes`` entry): the shapes
of histories/lost-writes/, the brute-force reference (tests/checker/rule12_brute.py) on
generated histories, undecided tests, inferred orders, and ``--fail-on``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtcheck.checker.check import check_history
from gtcheck.checker.output import render
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.expressions import UNKNOWN, condition, update
from gtcheck.kernel.items import apply_change
from tests.checker.rule12_brute import lost_writes as brute_lost_writes
from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "histories" / "lost-writes"
REGIONS = ["us-east-1", "eu-west-1"]

# every shape: the lost writes it holds ({lost write: the write it was lost to})
ANOM = ROOT / "histories" / "anomalies"
LOST_INCREMENT = ANOM / "lost-write.jsonl"     # the anomaly kind's own history
EXPECTED = {
    "lost-conditional-create": {3: 5},
    "stale-base-update": {3: 5},
    "cas-chain": {3: 7, 5: 7},
    "delete-loses-write": {3: 5},
    "equal-values": {5: 7},
    "overwritten-not-lost": {},
}


def _lost(summary: dict[str, Any]) -> dict[int, int]:
    return {a["details"]["write"]: a["details"]["lost_to"]
            for a in summary["lost_writes"]["anomalies"]}


@pytest.mark.parametrize("shape", sorted(EXPECTED) + ["lost-increment"])
def test_each_shape_names_exactly_its_lost_writes(shape):
    path = LOST_INCREMENT if shape == "lost-increment" else SHAPES / f"{shape}.jsonl"
    want = {3: 4} if shape == "lost-increment" else EXPECTED[shape]
    s = check_history(str(path), jobs=1).summary
    assert _lost(s) == want
    assert brute_lost_writes(path) == want
    lw = s["lost_writes"]
    assert lw["figures"]["lost_writes"] == len(want)
    assert lw["counted"] is False and lw["valid"] is (not want)
    # reported, not counted: the shapes are correct histories of DynamoDB
    for name in ("integrity", "convergence", "read_after_write"):
        assert not s[name]["anomalies"], (name, s[name]["anomalies"])
    assert s["valid"] is True


def test_equal_values_say_the_writes_named_are_a_reconstruction():
    s = check_history(str(SHAPES / "equal-values.jsonl"), jobs=1).summary
    (a,) = s["lost_writes"]["anomalies"]
    assert a["details"]["reconstructed"] is True
    assert "reconstruction, the count is exact" in a["explanation"]
    assert s["lost_writes"]["figures"]["lost_writes_reconstructed"] == 1
    s = check_history(str(LOST_INCREMENT), jobs=1).summary
    assert s["lost_writes"]["anomalies"][0]["details"]["reconstructed"] is False


def test_a_lost_write_names_both_writes_regions_times_and_the_fault():
    s = check_history(str(LOST_INCREMENT), jobs=1).summary
    (a,) = s["lost_writes"]["anomalies"]
    d = a["details"]
    assert a["ops"][:2] == [3, 4] and d["base"] == 0
    assert (d["write_region"], d["lost_to_region"]) == ("us-east-1", "eu-west-1")
    assert d["write_time_ns"] == [1_100_000_000, 1_200_000_000]
    assert d["lost_to_time_ns"] == [1_150_000_000, 1_250_000_000]
    assert "eu-west-1 was isolated" in a["explanation"] and d["faults"] == [2]
    assert s["lost_writes"]["figures"]["by_region_pair"] == {"us-east-1 -> eu-west-1": 1}
    assert s["lost_writes"]["figures"]["by_key"] == {"user#7": 1}


def test_fail_on_counts_lost_writes_in_the_verdict(capsys):
    path = str(LOST_INCREMENT)
    s = check_history(path, jobs=1, fail_on=("lost-writes",)).summary
    assert s["valid"] is False and s["lost_writes"]["counted"] is True
    assert s["options"]["fail_on"] == ["lost-writes"]
    assert "note" not in s["lost_writes"]
    # without it: reported, the verdict valid
    code, out, _ = run_cli(["check", path], capsys)
    assert code == 0 and "lost_writes       found    1 lost write on 1 key (not counted" in out
    assert ("[lost-write] key 'user#7': ok update #3 (us-east-1, 1.10 s to 1.20 s) was lost "
            "to update #4") in out
    code, out, _ = run_cli(["check", path, "--fail-on", "lost-writes"], capsys)
    assert code == 1 and out.startswith("INVALID: lost_writes failed")
    code, _, err = run_cli(["check", path, "--fail-on", "lost-write"], capsys)
    assert code == 254 and "accepted: lost-writes" in err
    with pytest.raises(UserError):
        check_history(path, jobs=1, fail_on=("stale-reads",))


def test_junit_passes_an_uncounted_finding_and_fails_a_counted_one():
    from xml.etree import ElementTree as ET

    path = str(LOST_INCREMENT)
    for fail_on, failed in (((), False), (("lost-writes",), True)):
        s = check_history(path, jobs=1, fail_on=fail_on).summary
        case = ET.fromstring(render(s, "junit")).find("testcase[@name='lost_writes']")
        assert (case.find("failure") is not None) is failed
        text = (case.find("failure") if failed else case.find("system-out")).text
        assert "[lost-write] key 'user#7' ops [3, 4, 0]" in text


def test_json_lists_the_entry_with_its_figures():
    s = check_history(str(SHAPES / "cas-chain.jsonl"), jobs=1).summary
    out = json.loads(render(s, "json"))["lost_writes"]
    assert out["anomaly_counts"] == {"lost-write": 2}
    assert out["figures"]["keys_with_lost_writes"] == 1 and out["figures"]["keys_inferred"] == 0


def test_without_ts_the_order_is_inferred_and_the_findings_say_so(tmp_path):
    lines = (LOST_INCREMENT).read_text().splitlines()
    stripped = []
    for line in lines:
        ev = json.loads(line)
        ev.pop("ts", None)
        ev.pop("origin", None)
        stripped.append(json.dumps(ev))
    path = tmp_path / "no-ts.jsonl"
    path.write_text("\n".join(stripped) + "\n")
    s = check_history(str(path), jobs=1).summary
    lw = s["lost_writes"]
    # the final read saw #4's version: the only admissible order puts #4 last
    assert _lost(s) == {3: 4}
    assert lw["figures"]["keys_inferred"] == 1 and lw["figures"]["lost_writes_inferred"] == 1
    assert lw["anomalies"][0]["details"]["inferred"] is True
    assert "inferred" in lw["anomalies"][0]["explanation"]


def test_an_undecided_test_stops_the_chain_and_names_nothing_through_it(tmp_path):
    """An update of a missing item without key_attributes: the evaluator cannot tell what
    it yields there, so the latest version it may have been applied to is unknown."""
    h = _history([
        ("w", "us-east-1", "write", None, {"id": 0}),
        ("d", "us-east-1", "delete", None, None),
        ("w", "eu-west-1", "write", None, {"id": 2}),
        ("u-nokey", "eu-west-1", "update", {"expression": "SET id = :id", "values": {":id": 3}},
         {"id": 3}),   # applied to #2's version; on "no item" it is undecided
    ])
    path = tmp_path / "undecided.jsonl"
    path.write_text(h)
    s = check_history(str(path), jobs=1).summary
    assert _lost(s) == {} == brute_lost_writes(path)
    assert s["lost_writes"]["figures"]["chains_stopped_undecided"] == 0  # #2 passes first
    # applied to a version below the deletion: the deletion is undecided, so nothing
    h2 = h.replace('"value": {"id": 2}', '"value": {"id": 2, "x": 1}')
    path.write_text(h2)
    s = check_history(str(path), jobs=1).summary
    assert _lost(s) == {} == brute_lost_writes(path)
    assert s["lost_writes"]["figures"]["chains_stopped_undecided"] == 1


# --------------------------------------------------------------------------- generated
def _history(writes: list[tuple], settled: bool = False) -> str:
    """A history of concurrent ok writes (all invoked before any completes, so real time
    orders none of them) in the conflict order given: (kind, region, f, invoke value or
    change, value left); ``f`` may be suffixed ``!`` for a failed write."""
    header = {"format": "gt-history", "version": 1, "regions": REGIONS}
    events: list[dict[str, Any]] = []
    n = len(writes)
    for i, (kind, region, f, change, left) in enumerate(writes):
        inv: dict[str, Any] = {"type": "invoke", "process": i, "region": region, "key": "k",
                               "time": 10 * i + 10}
        fail = f.endswith("!")
        f = f.rstrip("!")
        inv["f"] = f
        if f == "write":
            inv["value"] = left
        elif f == "cas":
            inv["value"] = change["cas"]
        elif f == "update":
            inv["value"] = change if "cond" not in change else change["change"]
        else:
            inv["value"] = None
        if isinstance(change, dict) and "cond" in change:
            inv["condition"] = change["cond"]
        if f == "update" and kind != "u-nokey":
            inv["key_attributes"] = {"pk": "k"}
        events.append(inv)
    for i, (kind, region, f, change, left) in enumerate(writes):
        fail = f.endswith("!")
        f = f.rstrip("!")
        comp: dict[str, Any] = {"type": "fail" if fail else "ok", "process": i,
                                "time": 10 * n + 10 * i + 10}
        if not fail:
            comp["ts"] = i + 1
            comp["origin"] = region
            if f == "update":
                comp["value"] = left
            elif f == "write":
                comp["value"] = left
            elif f == "cas":
                comp["value"] = change["cas"]
        events.append(comp)
    for j, ev in enumerate(events):
        ev["index"] = j
    # invocation indices are 0..n-1 in order: name writes by their position
    return "\n".join(json.dumps(x) for x in [header] + events) + "\n"


def _cond(text: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"expression": text, "values": values} if values else {"expression": text}


@st.composite
def write_histories(draw) -> str:
    """Writes applied one after another, each to a version drawn from those before it
    (the latest usually, an older one as an isolated region would), every kind rule 12
    names: blind puts and deletes, conditional puts and deletes, cas, updates written as
    UpdateExpressions (with and without conditions, sometimes without key attributes) and
    as set/remove/add."""
    versions: list[Any] = [None]
    writes: list[tuple] = []
    n = draw(st.integers(1, 9))
    for i in range(n):
        base = draw(st.one_of(st.just(len(versions) - 1),
                              st.integers(0, len(versions) - 1)))
        v = versions[base]
        region = draw(st.sampled_from(REGIONS))
        kind = draw(st.sampled_from(["put", "cput-absent", "cput-eq", "cas", "u-expr",
                                     "u-cond", "u-nokey", "u-rule8", "del", "cdel"]))
        new = {"pk": "k", "id": i, "n": draw(st.integers(0, 3))}
        ok = True
        if kind == "put":
            writes.append((kind, region, "write", None, new))
            versions.append(new)
            continue
        if kind in ("cput-absent", "cput-eq"):
            cond = (_cond("attribute_not_exists(id)", {}) if kind == "cput-absent" else
                    _cond("n = :x", {":x": (v or {}).get("n", draw(st.integers(0, 3)))}))
            ok = condition(cond["expression"], None, cond.get("values")).holds(v) is True
            writes.append((kind, region, "write" if ok else "write!", {"cond": cond, "value": new}, new))
            if ok:
                versions.append(new)
            continue
        if kind == "cas":
            expected = v if draw(st.booleans()) else draw(st.sampled_from(versions))
            ok = (expected is None and v is None) or (expected == v and v is not None)
            writes.append((kind, region, "cas" if ok else "cas!", {"cas": [expected, new]}, new))
            if ok:
                versions.append(new)
            continue
        if kind in ("del", "cdel"):
            if kind == "del":
                writes.append((kind, region, "delete", None, None))
                versions.append(None)
                continue
            cond = _cond("attribute_exists(id)", {})
            ok = v is not None
            writes.append((kind, region, "delete" if ok else "delete!", {"cond": cond}, None))
            if ok:
                versions.append(None)
            continue
        if kind == "u-rule8":
            change = {"set": {"id": i}, "add": {"n": 1}}
            post = apply_change(v, change)
            writes.append((kind, region, "update", change, post))
            versions.append(post)
            continue
        change = {"expression": "SET id = :id ADD n :one", "values": {":id": i, ":one": 1}}
        u = update(change["expression"], None, change["values"])
        post = u.apply(v, {"pk": "k"})
        entry: Any = change
        if kind == "u-cond":
            cond = _cond("n < :lim", {":lim": 2})
            ok = condition(cond["expression"], None, cond["values"]).holds(v) is True
            entry = {"cond": cond, "change": change}
        assert post is not UNKNOWN
        writes.append((kind, region, "update" if ok else "update!", entry, post))
        if ok:
            versions.append(post)
    return _history(writes)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(write_histories())
def test_the_chain_walk_agrees_with_the_brute_force_reference(tmp_path_factory, history):
    path = tmp_path_factory.mktemp("rule12") / "h.jsonl"
    path.write_text(history)
    s = check_history(str(path), jobs=1).summary
    want = brute_lost_writes(path)
    assert _lost(s) == want
    assert s["lost_writes"]["figures"]["lost_writes"] == len(want)


def test_a_plain_register_value_is_undecided_not_a_crash():
    """Strong-mode histories may hold plain register values (a list, a number): a change or
    a condition cannot be evaluated on them, so the chain stops there (it does not raise)."""
    from gtcheck.checker.check import check_operations
    from gtcheck.checker.operations import Header, Operation

    def op(i, f, iv, value, ts, condition=None):
        return Operation(index=i, process=i, region="r", f=f, key="k", invoke_value=iv,
                         value=value, outcome="ok", invoke_time=10 * i, complete_time=10 * i + 5,
                         end_time=10 * i + 5, ts=ts, origin="r", line=2 * i + 1,
                         complete_line=2 * i + 2,
                         extra={"condition": condition} if condition else None)

    ops = [op(0, "write", [1], [1], 1), op(1, "write", [2], [2], 2),
           op(2, "update", {"set": {"a": 1}}, {"a": 1}, 3),
           op(3, "write", {"a": 2}, {"a": 2}, 4, condition={"expression": "a = :one",
                                                            "values": {":one": 1}})]
    header = Header(regions=["r"], mode="strong", meta={"mode": "strong"})
    lw = check_operations(header, ops).summary["lost_writes"]
    # #3's base is #2's version; #2's change cannot be evaluated on [2]: the chain stops
    assert lw["anomalies"] == [] and lw["figures"]["chains_stopped_undecided"] == 1
