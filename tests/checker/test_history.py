"""The history reader: validation rules, pairing into Operations, stats, streaming."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gtcheck.checker.history import (
    MAX_SHOWN_ERRORS, header_to_dict, open_history, validate_file, write_history,
)
from gtcheck.checker.operations import Header, NemesisEvent, Operation
from gtcheck.kernel.errors import ManyUserErrors, UserError

REGIONS = ["us-east-1", "eu-west-1"]
HEADER = {"format": "gt-history", "version": 1, "regions": REGIONS, "mode": "eventual"}


def inv(p, f, key, value, t, region="us-east-1", **kw):
    ev = {"type": "invoke", "process": p, "region": region, "f": f, "key": key,
          "value": value, "time": t}
    ev.update(kw)
    return ev


def done(p, ty, t, **kw):
    ev = {"type": ty, "process": p, "time": t}
    ev.update(kw)
    return ev


def write_lines(path: Path, lines) -> Path:
    with open(path, "w") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


@pytest.fixture
def hist(tmp_path):
    counter = iter(range(10_000))

    def make(events, header=HEADER, name=None):
        path = tmp_path / (name or f"h{next(counter)}.jsonl")
        return write_lines(path, ([header] if header is not None else []) + list(events))

    return make


def problems_of(path) -> list[UserError]:
    with pytest.raises(ManyUserErrors) as info:
        validate_file(path)
    return info.value.errors


def assert_problem(path, line: int, field: str | None, *snippets: str) -> UserError:
    errors = problems_of(path)
    for err in errors:
        if not err.where or not err.where.endswith(f":{line}"):
            continue
        if field is not None and f'field "{field}"' not in err.message:
            continue
        if all(s in err.render() for s in snippets):
            return err
    raise AssertionError(
        f"no problem at line {line} field {field} with {snippets}; got:\n"
        + "\n".join(e.render() for e in errors))


# --------------------------------------------------------------------------- valid input

def test_pairs_operations_with_their_completions(hist):
    path = hist([
        inv(3, "write", "user#7", {"name": "a", "v": 17}, 1200, index=0),
        done(3, "ok", 3400, index=1, f="write", key="user#7", region="us-east-1",
             value={"name": "a", "v": 17}, ts=1700, origin="eu-west-1"),
        inv(5, "read", "user#7", None, 3500, region="eu-west-1", consistent=True, index=2),
        done(5, "ok", 3900, index=3, value={"name": "a", "v": 17}),
        {"index": 4, "type": "info", "process": "nemesis", "f": "partition",
         "value": {"isolate": ["eu-west-1"]}, "time": 4000},
        inv(6, "cas", "user#7", [{"name": "a", "v": 17}, {"v": 18}], 4100, index=5),
        done(6, "fail", 4200, index=6),
        inv(7, "update", "user#8", {"set": {"a": 1}, "remove": ["b"], "add": {"n": 2}}, 4300,
            index=7),
        done(7, "ok", 4400, index=8, value={"a": 1, "n": 2}, ts=9),
        inv(8, "delete", "user#8", None, 4500, index=9),
        done(8, "info", 4600, index=10),
        inv(9, "write", "user#9", {"v": 1}, 4700, index=11),
    ])
    with open_history(path) as reader:
        assert reader.header == Header(regions=REGIONS, mode="eventual", meta=HEADER)
        ops = list(reader.operations())
    assert [op.index for op in ops] == [0, 2, 5, 7, 9, 11]
    w, r, c, u, d, pending = ops
    assert w == Operation(0, 3, "us-east-1", "write", "user#7", {"name": "a", "v": 17},
                          {"name": "a", "v": 17}, "ok", 1200, 3400, 3400, 1, False, 1700,
                          "eu-west-1", 2, None, 3)
    assert w.conflict_key == (1700, "eu-west-1")
    assert (r.f, r.region, r.consistent, r.value, r.outcome) == (
        "read", "eu-west-1", True, {"name": "a", "v": 17}, "ok")
    assert (c.outcome, c.value, c.invoke_value, c.complete_time) == (
        "fail", {"v": 18}, [{"name": "a", "v": 17}, {"v": 18}], 4200)
    assert (u.value, u.invoke_value["remove"], u.ts, u.origin, u.conflict_key) == (
        {"a": 1, "n": 2}, ["b"], 9, None, (9, "us-east-1"))
    # info: never completed as far as the checker knows, but drawn up to its completion
    assert (d.outcome, d.complete_time, d.end_time, d.complete_index) == ("info", None, 4600, 10)
    assert (pending.outcome, pending.complete_time, pending.end_time, pending.value) == (
        "info", None, None, {"v": 1})
    assert reader.nemesis == [NemesisEvent(4, "partition", {"isolate": ["eu-west-1"]}, 4000, 6)]
    s = reader.stats
    assert (s["events"], s["operations"], s["pending"], s["keys"], s["nemesis"]) == (
        12, 6, 1, 3, 1)
    assert s["per_f"]["write"] == {"ok": 1, "fail": 0, "info": 1}
    assert s["per_f"]["delete"] == {"ok": 0, "fail": 0, "info": 1}
    assert (s["first_time"], s["last_time"]) == (1200, 4700)


def test_key_filter_skips_operations_but_not_validation(hist):
    path = hist([inv(0, "write", "a", 1, 1), done(0, "ok", 2),
                 inv(1, "write", "b", 2, 3), done(1, "ok", 4),
                 inv(2, "read", "b", None, 5)])
    with open_history(path) as reader:
        ops = list(reader.operations(key_filter=lambda k: k == "b"))
    assert [(o.key, o.outcome) for o in ops] == [("b", "ok"), ("b", "info")]
    assert reader.stats["operations"] == 3
    bad = hist([inv(0, "write", "a", 1, 1), done(0, "ok", 2, value=5)])
    with open_history(bad) as reader, pytest.raises(ManyUserErrors):
        list(reader.operations(key_filter=lambda k: False))


def test_events_yields_line_numbers_and_dicts(hist):
    path = hist(["", inv(0, "read", "k", None, 1), "   ", done(0, "ok", 2, value=None)])
    with open_history(path) as reader:
        events = list(reader.events())
    assert [line for line, _ in events] == [3, 5]
    assert events[1][1]["type"] == "ok"


def test_blank_lines_are_ignored_and_do_not_shift_implicit_indices(hist):
    path = hist(["", inv(0, "write", "k", 1, 1), "", "", done(0, "ok", 2), "\t",
                 inv(1, "read", "k", None, 3), done(1, "ok", 4, value=1)])
    with open_history(path) as reader:
        ops = list(reader.operations())
    assert [(op.index, op.complete_index, op.line) for op in ops] == [(0, 1, 3), (2, 3, 8)]


def test_gzip_input_is_recognised_by_content(tmp_path):
    lines = [HEADER, inv(0, "write", "k", {"v": 1}, 1), done(0, "ok", 2)]
    data = "\n".join(json.dumps(x) for x in lines).encode()
    gz = tmp_path / "run.jsonl.gz"
    gz.write_bytes(gzip.compress(data))
    assert validate_file(gz)["operations"] == 1
    hidden = tmp_path / "run.jsonl"  # compressed but not named so: still read
    hidden.write_bytes(gzip.compress(data))
    assert validate_file(hidden)["events"] == 2


def test_truncated_gzip_is_a_user_error(tmp_path):
    data = "\n".join(json.dumps(x) for x in [HEADER] + [inv(i, "read", "k", None, i)
                                                         for i in range(2000)]).encode()
    gz = tmp_path / "cut.jsonl.gz"
    gz.write_bytes(gzip.compress(data)[:-40])
    errors = problems_of(gz)
    assert any("cannot be read past line" in e.message for e in errors)


def test_extra_fields_are_kept_in_operation_extra(hist):
    path = hist([
        inv(0, "write", "a", {"v": 1}, 5, txn="t1", condition={"attribute_exists": "id"}),
        done(0, "fail", 6, error="ConditionalCheckFailed"),
        inv(0, "read", "a", None, 7),
        done(0, "ok", 8, value=None),
    ])
    with open_history(path) as reader:
        first, second = reader.operations()
    assert first.extra == {"txn": "t1", "condition": {"attribute_exists": "id"},
                           "error": "ConditionalCheckFailed"}
    assert second.extra is None


def test_process_may_invoke_again_after_info(hist):
    path = hist([inv(0, "write", "k", 1, 1), done(0, "info", 2),
                 inv(0, "write", "k", 2, 3), done(0, "ok", 4)])
    assert validate_file(path)["operations"] == 2


def test_ttl_process_deletes_and_only_deletes(hist):
    ok = hist([inv("ttl", "delete", "k", None, 1), done("ttl", "ok", 2, ts=3)])
    assert validate_file(ok)["operations"] == 1
    bad = hist([inv("ttl", "write", "k", 1, 1), done("ttl", "ok", 2)])
    assert_problem(bad, 2, "f", '"delete" (process "ttl" only expires items)')


def test_equal_values_allowed_for_info_and_fail_writes(hist):
    path = hist([
        inv(0, "write", "k", {"v": 1}, 1), done(0, "ok", 2),
        inv(1, "write", "k", {"v": 1}, 3), done(1, "info", 4),
        inv(2, "write", "k", {"v": 1}, 5), done(2, "fail", 6),
        inv(3, "write", "other", {"v": 1}, 7), done(3, "ok", 8),  # another key
        inv(4, "delete", "k", None, 9), done(4, "ok", 10),
        inv(5, "delete", "k", None, 11), done(5, "ok", 12),  # deletes never conflict
    ])
    assert validate_file(path)["operations"] == 6


def test_equal_values_compare_canonical_json(hist):
    path = hist([inv(0, "write", "k", {"a": 1, "b": 2}, 1), done(0, "ok", 2),
                 inv(1, "update", "k", {"set": {"a": 1}}, 3),
                 done(1, "ok", 4, value={"b": 2, "a": 1})])
    err = assert_problem(path, 5, "value", "already written on line 3")
    assert "every version of a key must be distinguishable" in err.hint


@pytest.mark.parametrize("extra", [{"mode": "strong"}, {"register": True}])
def test_equal_values_accepted_in_strong_mode_and_registers(hist, extra):
    path = hist([inv(0, "write", "r", 1, 1), done(0, "ok", 2),
                 inv(1, "write", "r", 1, 3), done(1, "ok", 4)], header={**HEADER, **extra})
    assert validate_file(path)["operations"] == 2


def test_equal_ts_with_other_origin_or_key_is_fine(hist):
    path = hist([
        inv(0, "write", "k", 1, 1), done(0, "ok", 2, ts=5),
        inv(1, "write", "k", 2, 3, region="eu-west-1"), done(1, "ok", 4, ts=5),
        inv(2, "write", "j", 3, 5), done(2, "ok", 6, ts=5),
    ])
    assert validate_file(path)["operations"] == 3


def test_equal_ts_origin_defaults_to_region(hist):
    path = hist([inv(0, "write", "k", 1, 1), done(0, "ok", 2, ts=5),
                 inv(1, "write", "k", 2, 3, region="eu-west-1"),
                 done(1, "ok", 4, ts=5, origin="us-east-1")])
    assert_problem(path, 5, "ts", '(5, "us-east-1")', "already used on line 3")


def test_reads_may_follow_settled_time_but_writes_may_not(hist):
    header = {**HEADER, "settled_after_ns": 100}
    ok = hist([inv(0, "write", "k", 1, 99), inv(1, "read", "k", None, 100),
               done(0, "ok", 150), done(1, "ok", 160, value=1)], header=header)
    assert validate_file(ok)["operations"] == 2
    for f, value in (("delete", None), ("update", {"set": {"a": 1}}), ("cas", [1, 2])):
        bad = hist([inv(0, f, "k", value, 100), done(0, "ok", 150, value={"a": 1})],
                   header=header)
        assert_problem(bad, 2, "time", "settled_after_ns = 100", f"got a {f} invoked at 100")


def test_unique_indices_out_of_order_are_fine(hist):
    path = hist([inv(0, "write", "k", 1, 1, index=10), done(0, "ok", 2, index=3),
                 inv(1, "read", "k", None, 3, index=7), done(1, "ok", 4, index=11, value=1)])
    with open_history(path) as reader:
        ops = list(reader.operations())
    assert [(o.index, o.complete_index) for o in ops] == [(10, 3), (7, 11)]


def test_huge_indices_are_checked_too(hist):
    big = 2**40
    path = hist([inv(0, "write", "k", 1, 1, index=big), done(0, "ok", 2, index=5),
                 inv(1, "read", "k", None, 3, index=big), done(1, "ok", 4, value=1, index=6)])
    assert_problem(path, 4, "index", f"got {big}", "already used on line 2")


def test_duplicate_implicit_and_explicit_index_names_both_lines(hist):
    path = hist([inv(0, "write", "k", 1, 1), done(0, "ok", 2),
                 inv(1, "read", "k", None, 3, index=0), done(1, "ok", 4, value=1)])
    assert_problem(path, 4, "index", "got 0", "already used on line 2")


def test_completion_fields_may_be_omitted_or_repeated(hist):
    path = hist([inv(0, "write", "k", 1, 1),
                 done(0, "ok", 2, f="write", key="k", region="us-east-1", value=1)])
    assert validate_file(path)["operations"] == 1


@pytest.mark.parametrize("value,problem", [
    ({"set": [1]}, "value.set"),
    ({"remove": "a"}, "value.remove"),
    ({"remove": [1]}, "value.remove"),
    ({"add": 3}, "value.add"),
    ([1], "value"),
])
def test_update_change_shapes(hist, value, problem):
    path = hist([inv(0, "update", "k", value, 1), done(0, "ok", 2, value={"a": 1})])
    assert_problem(path, 2, problem)


def test_ok_update_needs_the_post_image(hist):
    path = hist([inv(0, "update", "k", {"set": {"a": 1}}, 1), done(0, "ok", 2)])
    assert_problem(path, 3, "value", "the whole item after the update",
                   "nothing (the field is missing)")
    null_ok = hist([inv(0, "update", "k", {"set": {"a": 1}}, 1), done(0, "ok", 2, value=None)])
    assert validate_file(null_ok)["operations"] == 1


def test_ok_write_completion_value_must_match(hist):
    path = hist([inv(0, "write", "k", {"v": 1}, 1), done(0, "ok", 2, value={"v": 2})])
    assert_problem(path, 3, "value", "the value written on line 2")
    cas = hist([inv(0, "cas", "k", [1, 2], 1), done(0, "ok", 2, value=[1, 3])])
    assert_problem(cas, 3, "value", "the value of the cas on line 2")
    for same in ([1, 2], 2):   # the pair, or the new item alone
        ok = hist([inv(0, "cas", "k", [1, 2], 1), done(0, "ok", 2, value=same)])
        assert validate_file(ok)["operations"] == 1


def test_write_needs_a_value_but_delete_does_not(hist):
    path = hist([{"type": "invoke", "process": 0, "region": "us-east-1", "f": "write",
                  "key": "k", "time": 1}, done(0, "ok", 2)])
    assert_problem(path, 2, "value", "the item written")
    path = hist([{"type": "invoke", "process": 0, "region": "us-east-1", "f": "delete",
                  "key": "k", "time": 1}, done(0, "ok", 2)])
    assert validate_file(path)["operations"] == 1


@pytest.mark.parametrize("field,value,expected", [
    ("process", 1.5, "an integer or a string"),
    ("process", True, "an integer or a string"),
    ("process", None, "an integer or a string"),
    ("index", -1, "a non-negative integer"),
    ("index", "3", "a non-negative integer"),
    ("type", None, "one of"),
    ("region", None, "one of the header's regions"),
    ("key", None, "a string"),
])
def test_field_types(hist, field, value, expected):
    event = inv(0, "read", "k", None, 1)
    event[field] = value
    path = hist([event])
    assert_problem(path, 2, field, expected)


def test_missing_fields_are_named(hist):
    path = hist([{"type": "invoke", "process": 0, "f": "read", "value": None, "time": 1}])
    errors = problems_of(path)
    text = "\n".join(e.render() for e in errors)
    assert 'field "key": expected a string' in text and 'field "region"' in text
    assert "nothing (the field is missing)" in text
    path = hist([{"type": "invoke", "process": 0, "region": "us-east-1", "f": "read",
                  "key": "k", "value": None}])
    assert_problem(path, 2, "time", "nothing (the field is missing)")


def test_nemesis_must_be_info(hist):
    path = hist([{"type": "invoke", "process": "nemesis", "f": "partition", "time": 1}])
    assert_problem(path, 2, "type", '"info" (nemesis events are info events)')


def test_all_problems_are_collected_then_capped(hist):
    events = [inv(i, "read", "k", None, -1) for i in range(MAX_SHOWN_ERRORS + 20)]
    errors = problems_of(hist(events))
    assert len(errors) == MAX_SHOWN_ERRORS + 1
    assert "and 20 more problems (70 in all" in errors[-1].message
    assert errors[0].where.endswith(":2") and errors[1].where.endswith(":3")


def test_several_problems_on_one_line_are_all_reported(hist):
    path = hist([inv(0, "read", 5, None, -3, region="mars", consistent="y")])
    fields = {re.search(r'field "(\w+)"', e.message).group(1) for e in problems_of(path)}
    assert fields == {"time", "key", "region", "consistent"}


# --------------------------------------------------------------------------- header

@pytest.mark.parametrize("change,field,expected", [
    ({"format": "jepsen"}, "format", '"gt-history"'),
    ({"version": 2}, "version", "1"),
    ({"version": True}, "version", "1"),
    ({"regions": []}, "regions", "a non-empty list"),
    ({"regions": "us-east-1"}, "regions", "a non-empty list"),
    ({"regions": ["a", 3]}, "regions", "a non-empty list"),
    ({"regions": ["a", "b", "a"]}, "regions", "unique region names"),
    ({"mode": "linearizable"}, "mode", '"eventual" or "strong"'),
    ({"clock_uncertainty_ns": -1}, "clock_uncertainty_ns", "a non-negative integer"),
    ({"ts_uncertainty_ns": 0.5}, "ts_uncertainty_ns", "a non-negative integer"),
    ({"settled_after_ns": "soon"}, "settled_after_ns", "a non-negative integer"),
    ({"register": "yes"}, "register", "true or false"),
])
def test_bad_header_fields_are_fatal_at_open(hist, change, field, expected):
    path = hist([inv(0, "read", "k", None, 1)], header={**HEADER, **change})
    with pytest.raises(ManyUserErrors) as info:
        open_history(path)
    (err,) = info.value.errors
    assert err.where.endswith(":1")
    assert f'line 1, field "{field}": expected {expected}' in err.message


def test_header_defaults_and_metadata(hist):
    path = hist([], header={"format": "gt-history", "version": 1, "regions": ["a"],
                            "seed": 42, "ts_uncertainty_ns": None, "initial": 0,
                            "settled_after_ns": 9})
    with open_history(path) as reader:
        h = reader.header
    assert (h.mode, h.clock_uncertainty_ns, h.ts_uncertainty_ns, h.settled_after_ns,
            h.initial) == ("eventual", 0, None, 9, 0)
    assert h.meta["seed"] == 42
    again = header_to_dict(h)
    assert again["seed"] == 42 and again["initial"] == 0 and "ts_uncertainty_ns" not in again


def test_missing_header_and_empty_file(hist, tmp_path):
    path = hist([inv(0, "read", "k", None, 1)], header=None)
    with pytest.raises(ManyUserErrors) as info:
        open_history(path)
    assert "expected the header, got an event" in info.value.render()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(UserError, match="the file is empty"):
        open_history(empty)
    with pytest.raises(UserError, match="no such file"):
        open_history(tmp_path / "nope.jsonl")


# --------------------------------------------------------------------------- writing

def test_write_history_round_trips(tmp_path):
    events = [inv(0, "write", "k", {"v": 1}, 1), done(0, "ok", 2, ts=1)]
    for name in ("a.jsonl", "a.jsonl.gz"):
        path = tmp_path / name
        assert write_history(path, HEADER, events) == 2
        with open_history(path) as reader:
            assert [ev for _, ev in reader.events()] == events
            assert reader.header.meta == HEADER


def test_write_history_accepts_a_header_object(tmp_path):
    path = tmp_path / "h.jsonl"
    write_history(path, Header(regions=["x"], settled_after_ns=5, meta={"seed": 1}), [])
    header = orjson.loads(path.read_bytes().splitlines()[0])
    assert header == {"format": "gt-history", "version": 1, "seed": 1, "regions": ["x"],
                      "mode": "eventual", "clock_uncertainty_ns": 0, "settled_after_ns": 5}


# --------------------------------------------------------------------------- streaming

def test_operations_stream_before_the_end(tmp_path):
    """The first operation is available before the reader reaches the end of the file."""
    path = tmp_path / "big.jsonl"
    events = []
    for i in range(3000):
        events += [inv(i % 7, "read", "k", None, 2 * i), done(i % 7, "ok", 2 * i + 1, value=None)]
    write_history(path, HEADER, events)
    with open_history(path) as reader:
        gen = reader.operations()
        first = next(gen)
        assert first.index == 0 and reader.stats == {}  # stats come at the end
        gen.close()


# --------------------------------------------------------------------------- properties

@st.composite
def histories(draw):
    """Well-formed histories: processes invoke and complete in turn, with unique values."""
    regions = draw(st.lists(st.sampled_from(["r1", "r2", "r3", "r4"]), min_size=1, max_size=3,
                            unique=True))
    n_proc = draw(st.integers(1, 4))
    steps = draw(st.lists(st.tuples(st.integers(0, n_proc - 1), st.integers(0, 1000),
                                    st.sampled_from(["read", "write", "update", "delete", "cas"]),
                                    st.sampled_from(["ok", "fail", "info"]),
                                    st.sampled_from(["k1", "k2", "k3"]),
                                    st.sampled_from(regions), st.booleans()),
                          max_size=40))
    events = []
    inflight = {}
    t = 0
    version = 0
    invokes = 0
    for p, dt, f, outcome, key, region, flag in steps:
        t += dt
        if p in inflight:
            f0 = inflight.pop(p)
            ev = {"type": outcome, "process": p, "time": t}
            if flag:
                ev.update(f=f0[0], key=f0[1], region=f0[2])
            if outcome == "ok" and f0[0] == "read":
                ev["value"] = None if flag else {"v": -1}
            if outcome == "ok" and f0[0] == "update":
                version += 1
                ev["value"] = {"v": version}
            if outcome == "ok" and f0[0] == "cas":
                ev["value"] = f0[3]      # an ok cas carries its pair (rule 7)
        else:
            version += 1
            value = {"read": None, "write": {"v": version}, "delete": None,
                     "update": {"set": {"x": version}},
                     "cas": [{"v": version - 1} if flag else None, {"v": version}]}[f]
            ev = {"type": "invoke", "process": p, "region": region, "f": f, "key": key,
                  "value": value, "time": t}
            if f == "read":
                ev["consistent"] = flag
            inflight[p] = (f, key, region, value)
            invokes += 1
        events.append(ev)
    header = {"format": "gt-history", "version": 1, "regions": regions}
    return header, events, invokes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories())
def test_generated_histories_validate_and_pair(tmp_path, case):
    header, events, invokes = case
    path = tmp_path / "gen.jsonl"
    write_history(path, header, events)
    with open_history(path) as reader:
        ops = list(reader.operations())
    assert len(ops) == invokes == reader.stats["operations"]
    assert sorted(op.index for op in ops) == [
        i for i, ev in enumerate(events) if ev["type"] == "invoke"]
    for op in ops:
        assert events[op.index]["process"] == op.process
        if op.complete_index is not None:
            assert events[op.complete_index]["process"] == op.process
            assert op.complete_index > op.index
        assert (op.complete_time is None) == (op.outcome == "info")


BAD_VALUES = {
    "time": [-1, "5", 1.5, None],
    "process": [[1], 2.5, None, {"p": 1}],
    "type": ["done", 3, None],
    "f": ["put", 1, None],
    "key": [1, None, ["k"]],
    "region": ["mars", 3, None],
    "index": [-2, "1", 0.5],
    "consistent": ["yes", 1],
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories(), st.data())
def test_one_bad_field_is_reported_at_its_line(tmp_path, case, data):
    header, events, _ = case
    invokes = [i for i, ev in enumerate(events) if ev["type"] == "invoke"]
    if not invokes:
        return
    i = data.draw(st.sampled_from(invokes))
    field = data.draw(st.sampled_from(sorted(BAD_VALUES)))
    bad = data.draw(st.sampled_from(BAD_VALUES[field]))
    events = [dict(ev) for ev in events]
    events[i][field] = bad
    path = tmp_path / "bad.jsonl"
    write_history(path, header, events)
    errors = problems_of(path)
    line = i + 2
    assert any(e.where.endswith(f":{line}") and f'line {line}, field "{field}"' in e.message
               for e in errors), [e.render() for e in errors]
