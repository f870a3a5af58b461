"""Issue 12: numbers are exact end to end (rule 7), repeats are found by equality, not by
hashes, and ``--jobs`` never changes a result.

Integers beyond 64 bits used to be read as floats: a read of 2**70 + 1 when only 2**70 was
written was judged valid, and two distinct large values were refused as equal.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from gtcheck.checker.candidates import canon as candidates_canon
from gtcheck.checker.history import open_history, validate_file, write_history
from gtcheck.checker.output import render_json
from gtcheck.kernel.errors import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_VALID, ManyUserErrors
from gtcheck.kernel.exactjson import MAX_DEPTH, JSONProblem, canon, dumps, parse_line
from tests.clihelp import run_cli as run

BIG = 2 ** 70                       # 1180591620717411303424: a float cannot tell it from BIG + 1
HEADER = {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"],
          "settled_after_ns": 1000}
MALFORMED = Path(__file__).parents[1] / "data" / "malformed"


def inv(p, f, key, value, t, region="us-east-1", **kw):
    return {"type": "invoke", "process": p, "region": region, "f": f, "key": key,
            "value": value, "time": t, **kw}


def done(p, ty, t, **kw):
    return {"type": ty, "process": p, "time": t, **kw}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def history(path: Path, events: list[dict]) -> Path:
    write_history(path, HEADER, events)
    return path


# --------------------------------------------------------------------------- reading
def test_integers_beyond_64_bits_are_read_exactly():
    for n in (BIG, BIG + 1, -BIG - 1, 10 ** 38 - 1, 2 ** 64, -(2 ** 63) - 1):
        got = parse_line(f'{{"v": {n}}}'.encode())["v"]
        assert type(got) is int and got == n


def test_a_float_is_a_float_only_when_written_as_one():
    got = parse_line(b'{"a": 1, "b": 1.0, "c": 1e0, "d": 0.1, "e": 1e300}')
    assert [type(got[k]) for k in "abcde"] == [int, float, float, float, float]
    # a decimal no float renders back stays exact
    got = parse_line(b'{"x": 0.1000000000000000055511151231257827, "y": 1e400, "z": 1e-400}')
    assert got == {"x": Decimal("0.1000000000000000055511151231257827"),
                   "y": Decimal("1e400"), "z": Decimal("1e-400")}


@pytest.mark.parametrize("raw, field", [
    (b'{"a": 1, "a": 2}', "a"),
    (b'{"a": 1,"b":{"c": [1, {"d": 1, "d": 1}]}}', "b.c[1].d"),
    (b'{"a":1,"b":2,"a":3}', "a"),
    (b'{"a": 18446744073709551616, "a": 1}', "a"),       # also on the exact path
    (b'{"a":1,"a":2,"b":"\\u003a"}', "a"),              # an escaped colon hides nothing
    (b'{"b": {"c": 1, "c": 2}, "d": "x: y"}', "b.c"),
])
def test_a_repeated_name_is_refused_at_any_depth(raw, field):
    with pytest.raises(JSONProblem) as info:
        parse_line(raw)
    assert info.value.field == field


@pytest.mark.parametrize("raw, words", [
    (b'{"a": NaN}', "unexpected character"),
    (b'{"a": [1e400, Infinity]}', "Infinity is not a JSON number"),
    (b'{"a": 1' + b"0" * 5000 + b"}", "more than 4300 digits"),
    (b'{"a": 1e99999999999999999999}', "exponent out of range"),
    (b'[' * (MAX_DEPTH + 5) + b']' * (MAX_DEPTH + 5), "more than 512 deep"),
    (b'{"a": [1e400, "\\ud800"]}', "lone surrogate"),
])
def test_what_cannot_be_read_exactly_is_refused(raw, words):
    with pytest.raises(JSONProblem) as info:
        parse_line(raw)
    assert words in info.value.message


def test_deep_nesting_within_the_limit_is_read():
    raw = b'{"v": ' + b'[' * 300 + b']' * 300 + b'}'
    v = parse_line(raw)["v"]
    depth = 0
    while v:
        v = v[0]
        depth += 1
    assert depth == 299


# --------------------------------------------------------------------------- equality
@pytest.mark.parametrize("a, b", [
    (1, 1.0), (1, Decimal("1e0")), (1.0, Decimal("1.000")), (100, 1e2), (0, -0.0),
    (10 ** 16, 1e16), (10 ** 400, Decimal("1e400")), (0.1, Decimal("0.10")),
    ({"b": 1, "a": [1.5, 2]}, {"a": [Decimal("1.50"), 2.0], "b": 1.0}),
])
def test_numbers_are_equal_when_their_decimal_values_are(a, b):
    assert canon(a) == canon(b) == candidates_canon(a)


@pytest.mark.parametrize("a, b", [
    (BIG, BIG + 1), ({"v": BIG}, {"v": BIG + 1}), (-1, -2), (2 ** 61 - 1, 2 * (2 ** 61 - 1)),
    (0.1, Decimal("0.1000000000000000055511151231257827")), (1, True), (0, False), (0, None),
    (1, "1"), ([1, 2], [2, 1]), (Decimal("1e-400"), 0), (10 ** 16 + 1, 1e16),
])
def test_distinct_values_stay_distinct(a, b):
    assert canon(a) != canon(b)


def test_python_hashes_collide_where_values_differ():
    """Why repeats are found by equality: these hash alike in Python."""
    assert hash(-1) == hash(-2)
    assert hash(5) == hash(5 + (2 ** 61 - 1))


# --------------------------------------------------------------------------- the reader
def test_two_distinct_large_values_are_not_equal_values(tmp_path):
    path = history(tmp_path / "h.jsonl", [
        inv(0, "write", "k", BIG, 10), done(0, "ok", 20, ts=1),
        inv(1, "write", "k", BIG + 1, 30, "eu-west-1"), done(1, "ok", 40, ts=2),
    ])
    assert validate_file(path)["operations"] == 2
    with open_history(path) as reader:
        values = [op.value for op in reader.operations()]
    assert values == [BIG, BIG + 1] and all(type(v) is int for v in values)


def test_one_and_one_point_zero_are_equal_values(tmp_path):
    """Rule 4 with rule 7: two ok writes of 1 and 1.0 write the same value."""
    path = write_lines(tmp_path / "h.jsonl", [
        json.dumps(HEADER),
        '{"type": "invoke", "process": 0, "region": "us-east-1", "f": "write", "key": "k", "value": {"n": 1}, "time": 10}',
        '{"type": "ok", "process": 0, "time": 20}',
        '{"type": "invoke", "process": 1, "region": "us-east-1", "f": "write", "key": "k", "value": {"n": 1e0}, "time": 30}',
        '{"type": "ok", "process": 1, "time": 40}',
    ])
    with pytest.raises(ManyUserErrors) as info:
        validate_file(path)
    assert 'line 5, field "value"' in str(info.value)
    assert "already written on line 3" in str(info.value)


@pytest.mark.parametrize("ts", [(-1, -2), (5, 5 + (2 ** 61 - 1)), (BIG, BIG + 1)])
def test_distinct_timestamps_are_not_already_used(tmp_path, ts):
    path = history(tmp_path / "h.jsonl", [
        inv(0, "write", "k", {"v": 1}, 10), done(0, "ok", 20, ts=ts[0]),
        inv(1, "write", "k", {"v": 2}, 30, "eu-west-1"), done(1, "ok", 40, ts=ts[1],
                                                              origin="us-east-1"),
    ])
    assert validate_file(path)["operations"] == 2


def test_equal_big_timestamps_are_refused(tmp_path):
    path = history(tmp_path / "h.jsonl", [
        inv(0, "write", "k", {"v": 1}, 10), done(0, "ok", 20, ts=BIG),
        inv(1, "write", "k", {"v": 2}, 30), done(1, "ok", 40, ts=BIG),
    ])
    with pytest.raises(ManyUserErrors) as info:
        validate_file(path)
    assert f'line 5, field "ts"' in str(info.value)
    assert f"got ({BIG}, \"us-east-1\"), already used on line 3" in str(info.value)


def test_an_ok_write_with_an_object_origin_is_bad_input_not_a_crash(tmp_path):
    path = write_lines(tmp_path / "h.jsonl", [
        json.dumps(HEADER),
        '{"type": "invoke", "process": 0, "region": "us-east-1", "f": "write", "key": "k", "value": 1, "time": 10}',
        '{"type": "ok", "process": 0, "time": 20, "ts": 3, "origin": {"r": "us-east-1"}}',
    ])
    with pytest.raises(ManyUserErrors) as info:
        validate_file(path)
    assert 'line 3, field "origin"' in str(info.value)


def test_an_ok_write_whose_value_differs_only_beyond_float_precision(tmp_path):
    """The completion may repeat the written value; 2**70 + 1 is not 2**70."""
    path = history(tmp_path / "h.jsonl", [
        inv(0, "write", "k", BIG, 10), done(0, "ok", 20, value=BIG + 1),
    ])
    with pytest.raises(ManyUserErrors) as info:
        validate_file(path)
    assert 'line 3, field "value"' in str(info.value)


def test_written_histories_keep_big_integers(tmp_path):
    events = [inv(0, "write", "k", {"v": BIG + 1, "w": [BIG]}, 10), done(0, "ok", 20, ts=BIG)]
    path = history(tmp_path / "h.jsonl", events)
    assert str(BIG + 1) in path.read_text()
    with open_history(path) as reader:
        op, = list(reader.operations())
    assert op.value == {"v": BIG + 1, "w": [BIG]} and op.ts == BIG


# --------------------------------------------------------------------------- end to end
def phantom_history(tmp_path: Path) -> Path:
    """2**70 written, 2**70 + 1 read: a phantom read, whatever floats would say."""
    return write_lines(tmp_path / "phantom.jsonl", [
        json.dumps(HEADER),
        f'{{"type": "invoke", "process": 0, "region": "us-east-1", "f": "write", "key": "k", "value": {BIG}, "time": 10}}',
        '{"type": "ok", "process": 0, "time": 20, "ts": 1}',
        '{"type": "invoke", "process": 1, "region": "us-east-1", "f": "read", "key": "k", "value": null, "time": 30}',
        f'{{"type": "ok", "process": 1, "value": {BIG + 1}, "time": 40}}',
        '{"type": "invoke", "process": 1, "region": "eu-west-1", "f": "read", "key": "k", "value": null, "time": 2000}',
        f'{{"type": "ok", "process": 1, "value": {BIG}, "time": 2040}}',
    ])


def test_a_phantom_read_beyond_64_bits_is_found(tmp_path, capsys):
    path = phantom_history(tmp_path)
    code, out, err = run(["check", path, "--jobs", "1"], capsys)
    assert code == EXIT_INVALID, err
    assert "1 phantom-read" in out and "[phantom-read] key 'k'" in out


def test_big_integers_survive_the_json_output(tmp_path, capsys):
    path = phantom_history(tmp_path)
    code, out, err = run(["check", path, "--format", "json", "--jobs", "1"], capsys)
    assert code == EXIT_INVALID, err
    summary = json.loads(out)                 # the standard library reads big ints exactly
    anomaly, = summary["integrity"]["anomalies"]
    assert anomaly["name"] == "phantom-read"
    assert anomaly["details"]["value"] == BIG + 1
    assert str(BIG + 1) in out and "e+21" not in out


def test_big_integers_survive_the_report(tmp_path, capsys):
    path = phantom_history(tmp_path)
    page = tmp_path / "r.html"
    code, out, err = run(["check", path, "--html", page, "--jobs", "1"], capsys)
    assert code == EXIT_INVALID, err
    html = page.read_text()
    assert str(BIG + 1) in html and str(BIG) in html


def _deep_read_history(tmp_path, deep):
    """One write of {"v": 1}, then a read that returns ``deep`` (a phantom read)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(5000)
    try:
        value = json.dumps(deep)
    finally:
        sys.setrecursionlimit(old)
    return write_lines(tmp_path / "deep.jsonl", [
        json.dumps(HEADER),
        '{"type": "invoke", "process": 0, "region": "us-east-1", "f": "write", "key": "k", "value": {"v": 1}, "time": 10}',
        '{"type": "ok", "process": 0, "time": 20, "ts": 1}',
        '{"type": "invoke", "process": 1, "region": "us-east-1", "f": "read", "key": "k", "value": null, "time": 30}',
        f'{{"type": "ok", "process": 1, "value": {value}, "time": 40}}',
    ])


def test_a_deep_value_cited_in_an_anomaly_renders_as_json(tmp_path, capsys):
    deep: object = {"v": 1}
    for i in range(300):
        deep = [deep] if i % 2 else {"a": deep}
    path = _deep_read_history(tmp_path, deep)
    code, out, err = run(["check", path, "--format", "json", "--jobs", "1"], capsys)
    assert code == EXIT_INVALID, err
    assert "Traceback" not in err
    assert out.count('"a"') == 150
    assert json.loads(out)["integrity"]["anomaly_counts"] == {"phantom-read": 1}


def test_render_json_writes_what_orjson_refuses():
    summary = {"big": BIG + 1, "dec": Decimal("1e400"), "neg": -BIG, "f": 1.5, "s": {1, 2}}
    out = render_json(summary)
    assert json.loads(out, parse_float=Decimal) == {
        "big": BIG + 1, "dec": Decimal("1e400"), "neg": -BIG, "f": Decimal("1.5"),
        "s": [1, 2]}
    assert f'"big": {BIG + 1}' in out and '"dec": 1E+400' in out and f'"neg": {-BIG}' in out
    assert dumps({"a": [BIG]}) == f'{{"a":[{BIG}]}}'.encode()


# --------------------------------------------------------------------------- --jobs
JOBS_CASES = [MALFORMED / n for n in (
    "key_missing_never_completes.jsonl", "key_object_never_completes.jsonl",
    "origin_list.jsonl", "repeated_nested_field.jsonl", "completion_key_null.jsonl",
    "equal_values_int_float.jsonl", "double_invoke.jsonl", "equal_ts_origin.jsonl",
)]


def _good_histories(tmp_path: Path) -> list[Path]:
    events = []
    for i in range(40):
        key = f"k{i % 7}"
        events += [inv(i % 3, "write", key, {"v": BIG + i}, 10 * i),
                   done(i % 3, "ok", 10 * i + 5, ts=BIG + i)]
    events += [inv(0, "read", f"k{i}", None, 1000 + 10 * i) for i in range(1)]
    events += [done(0, "ok", 1005, value={"v": BIG + 35})]
    good = history(tmp_path / "good.jsonl", events)
    return [good, phantom_history(tmp_path)]


def _strip_run_details(out: str) -> str:
    """JSON output without what legitimately differs between runs: timings and --jobs."""
    summary = json.loads(out)
    summary.pop("timing", None)
    summary.get("options", {}).pop("jobs", None)
    return json.dumps(summary, sort_keys=True)


def test_jobs_never_change_a_result(tmp_path, capsys):
    paths = JOBS_CASES + _good_histories(tmp_path)
    seen_codes = set()
    for path in paths:
        results = []
        for jobs in ("1", "2"):
            text = run(["check", path, "--jobs", jobs], capsys)
            js = run(["check", path, "--jobs", jobs, "--format", "json"], capsys)
            results.append((text, js))
        (t1, j1), (t2, j2) = results
        assert t1[0] == t2[0] == j1[0] == j2[0], (path, t1, t2)
        assert t1[0] != 255 and "Traceback" not in t1[2] + t2[2], (path, t1, t2)
        assert t1[1:] == t2[1:], path                 # the same text and the same errors
        if j1[0] in (EXIT_VALID, EXIT_INVALID):
            assert _strip_run_details(j1[1]) == _strip_run_details(j2[1]), path
        else:
            assert j1[2] == j2[2], path
        seen_codes.add(t1[0])
    assert seen_codes == {EXIT_VALID, EXIT_INVALID, EXIT_BAD_INPUT}


def test_times_and_timestamps_past_the_float_range_are_exact(tmp_path, capsys):
    """time and ts are integers of any size: durations are formatted without floats."""
    b = 10 ** 400
    header = dict(HEADER, settled_after_ns=b + 10_000)
    path = tmp_path / "huge.jsonl"
    write_history(path, header, [
        inv(0, "write", "k", {"v": 1}, b + 10), done(0, "ok", b + 20, ts=b),
        inv(1, "read", "k", None, b + 3_000_000_000, "eu-west-1"),
        done(1, "ok", b + 3_000_000_060, value={"v": 9}),
    ])
    for fmt in ("text", "json", "junit"):
        code, out, err = run(["check", path, "--format", fmt, "--jobs", "1"], capsys)
        assert code == EXIT_INVALID, err
        assert "phantom-read" in out
    code, out, err = run(["check", path, "--jobs", "1"], capsys)
    assert f"at {b // 10 ** 9 + 3}.00 s returned a value" in out
    code, out, err = run(["check", path, "--html", tmp_path / "r.html", "--jobs", "1"], capsys)
    assert code == EXIT_INVALID, err


# --------------------------------------------------------------------------- properties
from hypothesis import given, settings, strategies as st  # noqa: E402

from gtcheck.kernel.exactjson import loads_exact  # noqa: E402

_scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2 ** 80, 2 ** 80)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
_values = st.recursive(_scalars, lambda c: st.lists(c, max_size=4)
                       | st.dictionaries(st.text(max_size=4), c, max_size=4), max_leaves=16)


def _typed(v):
    """A value with its types spelled out, so 1 and 1.0 and True differ."""
    if isinstance(v, dict):
        return ("d", tuple((k, _typed(x)) for k, x in v.items()))
    if isinstance(v, list):
        return ("l", tuple(_typed(x) for x in v))
    return (type(v).__name__, v)


@settings(max_examples=300, deadline=None)
@given(_values, st.sampled_from([None, ",", ", "]))
def test_the_fast_path_reads_what_the_exact_parser_reads(value, sep):
    """Whatever orjson can render, and the standard library's layouts of it, read the same
    through parse_line (orjson, checked) as through the exact parser."""
    if sep is None:
        try:
            raw = dumps({"v": value})
        except TypeError:
            return
    else:
        raw = json.dumps({"v": value}, separators=(sep, ": " if sep == ", " else ":")).encode()
    assert _typed(parse_line(raw)) == _typed(loads_exact(raw)) == _typed({"v": value})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(-5, 5)), min_size=2, max_size=6),
       st.sampled_from([",", ", "]))
def test_any_repeated_name_is_found(pairs, sep):
    body = sep.join(f'"{k}": {v}' for k, v in pairs)
    raw = f'{{"x": [{{{body}}}]}}'.encode()
    if len({k for k, _ in pairs}) < len(pairs):
        with pytest.raises(JSONProblem):
            parse_line(raw)
    else:
        assert parse_line(raw)["x"][0] == dict(pairs)


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None)
       | st.integers(-10 ** 40, 10 ** 40).map(Decimal))
def test_a_number_reads_as_its_exact_decimal_value(d):
    text = str(d)
    got = parse_line(f'{{"n": {text}}}'.encode())["n"]
    assert canon(got) == canon(d)
    if type(got) is float:
        assert Decimal(repr(got)) == d


def test_a_staleness_past_64_bits_is_kept_exactly(tmp_path, capsys):
    """Staleness samples are kept in 64-bit arrays until one does not fit."""
    path = tmp_path / "stale.jsonl"
    write_history(path, dict(HEADER, settled_after_ns=BIG + 10_000), [
        inv(0, "write", "k", {"v": 1}, 10), done(0, "ok", 20, ts=1),
        inv(0, "write", "k", {"v": 2}, 30), done(0, "ok", 40, ts=2),
        inv(1, "read", "k", None, BIG, "eu-west-1", consistent=True),
        done(1, "ok", BIG + 60, value={"v": 1}),
    ])
    for jobs in ("1", "2"):
        code, out, err = run(["check", path, "--jobs", jobs, "--staleness-bound", "1s"], capsys)
        assert code == EXIT_INVALID, err
        assert "the read was 1180591620717.41 s stale" in out
        code, out, err = run(["check", path, "--jobs", jobs, "--format", "json"], capsys)
        assert json.loads(out)["staleness"]["smallest_bound_ns"] == BIG - 40


def test_values_nested_up_to_the_limit_survive_two_jobs_and_the_report(tmp_path, capsys):
    """A worker pickles its result back to the parent: 505 levels must not overflow."""
    deep: object = 1
    for i in range(505):
        deep = {"a": deep} if i % 2 else [deep]
    path = _deep_read_history(tmp_path, deep)
    code, out, err = run(["check", path, "--jobs", "2", "--format", "json",
                          "--html", tmp_path / "r.html"], capsys)
    assert code == EXIT_INVALID, err
    assert json.loads(out)["integrity"]["anomaly_counts"] == {"phantom-read": 1}
    assert (tmp_path / "r.html").stat().st_size > 0
