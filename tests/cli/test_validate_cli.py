"""`gtcheck validate`: each kind of bad input gets its own message and exit code 254."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gtcheck.kernel.errors import EXIT_BAD_INPUT
from tests.anchors import ANCHOR_DATA, needs_anchor_data
from tests.clihelp import run_cli as run

MALFORMED = Path(__file__).parents[1] / "data" / "malformed"
GTCHECK = Path(sys.executable).parent / "gtcheck"

# file -> (line, the message part that names the line and field, what else it must say)
CASES = {
    "bad_header_format.jsonl": (1, 'line 1, field "format"', 'expected "gt-history"'),
    "bad_header_version.jsonl": (1, 'line 1, field "version"', "expected 1, got 2"),
    "bad_header_regions.jsonl": (1, 'line 1, field "regions"', "a non-empty list"),
    "bad_header_mode.jsonl": (1, 'line 1, field "mode"', 'got "linearizable"'),
    "missing_header.jsonl": (1, "line 1:", "expected the header, got an event"),
    "not_json.jsonl": (3, "line 3:", "not valid JSON"),
    "not_object.jsonl": (3, 'line 3, field "event"', "a JSON object, got a list"),
    "time_negative.jsonl": (2, 'line 2, field "time"', "non-negative integer (nanoseconds), got -5"),
    "time_decreasing.jsonl": (3, 'line 3, field "time"', "expected at least 10 (the time of line 2"),
    "time_not_int.jsonl": (2, 'line 2, field "time"', 'got "10"'),
    "bad_type.jsonl": (3, 'line 3, field "type"', 'got "done"'),
    "bad_f.jsonl": (2, 'line 2, field "f"', 'got "put"'),
    "bad_nemesis_f.jsonl": (3, 'line 3, field "f"', 'a nemesis function: partition'),
    "key_not_string.jsonl": (2, 'line 2, field "key"', "expected a string"),
    "region_unknown.jsonl": (2, 'line 2, field "region"', 'got "mars-1"'),
    "origin_unknown.jsonl": (3, 'line 3, field "origin"', 'got "mars-1"'),
    "consistent_not_bool.jsonl": (2, 'line 2, field "consistent"', 'true or false, got "yes"'),
    "ts_not_int.jsonl": (3, 'line 3, field "ts"', 'expected an integer'),
    "cas_value_shape.jsonl": (2, 'line 2, field "value"', "[expected, new] with new not null, got [1]"),
    "cas_new_null.jsonl": (2, 'line 2, field "value"', "got [1,null]"),
    "update_change_keys.jsonl": (2, 'line 2, field "value"', 'only "set", "remove", "add"'),
    "duplicate_index.jsonl": (4, 'line 4, field "index"', "got 1, already used on line 3"),
    "completion_f_mismatch.jsonl": (3, 'line 3, field "f"', 'expected "write" (as invoked on line 2)'),
    "completion_key_mismatch.jsonl": (3, 'line 3, field "key"', 'expected "k" (as invoked on line 2)'),
    "completion_region_mismatch.jsonl": (3, 'line 3, field "region"', '"us-east-1" (as invoked on line 2)'),
    "completion_without_invoke.jsonl": (4, 'line 4, field "type"', "process 3 has no operation in flight"),
    "double_invoke.jsonl": (3, 'line 3, field "process"', "invocation on line 2 has not completed"),
    "write_after_settled.jsonl": (2, 'line 2, field "time"', "before settled_after_ns = 1000"),
    "equal_ts_origin.jsonl": (5, 'line 5, field "ts"', 'got (5, "us-east-1"), already used on line 3'),
    "equal_values.jsonl": (5, 'line 5, field "value"', "already written on line 3"),
    "read_invoke_value.jsonl": (2, 'line 2, field "value"', "expected null"),
    # issue 12: a present field has its type (null is not a string), on every line
    "completion_f_null.jsonl": (3, 'line 3, field "f"', "or no f, got null"),
    "completion_key_null.jsonl": (3, 'line 3, field "key"', "or no key, got null"),
    "completion_region_null.jsonl": (3, 'line 3, field "region"', "or no region, got null"),
    "completion_ts_null.jsonl": (3, 'line 3, field "ts"', "expected an integer (the replication timestamp), got null"),
    "completion_origin_null.jsonl": (3, 'line 3, field "origin"', "got null"),
    "origin_list.jsonl": (3, 'line 3, field "origin"', 'got ["us-east-1"]'),
    "invoke_ts_not_int.jsonl": (2, 'line 2, field "ts"', 'got "soon"'),
    "invoke_origin_unknown.jsonl": (2, 'line 2, field "origin"', 'got "mars-1"'),
    "consistent_null.jsonl": (2, 'line 2, field "consistent"', "true or false, got null"),
    "index_null.jsonl": (2, 'line 2, field "index"', "a non-negative integer, got null"),
    "key_missing_never_completes.jsonl": (2, 'line 2, field "key"', "got nothing (the field is missing)"),
    "key_object_never_completes.jsonl": (2, 'line 2, field "key"', 'got {"id":7}'),
    "nemesis_region_unknown.jsonl": (2, 'line 2, field "region"', 'got "mars-1"'),
    "header_settled_null.jsonl": (1, 'line 1, field "settled_after_ns"', "got null"),
    "update_add_string.jsonl": (2, 'line 2, field "value.add.tag"', 'a number to add or a list'),
    "completion_consistent_not_bool.jsonl": (3, 'line 3, field "consistent"', "true or false, got 0"),
    # a repeated name, at any depth, is not "the last one wins"
    "repeated_field.jsonl": (2, 'line 2, field "value"', 'the name "value" appears twice'),
    "repeated_nested_field.jsonl": (2, 'line 2, field "value.tags[0].a"', 'the name "a" appears twice'),
    # a write's value is not null; the ok of a read or cas carries its value
    "write_value_null.jsonl": (2, 'line 2, field "value"', "the item written (not null), got null"),
    "read_ok_without_value.jsonl": (3, 'line 3, field "value"', "got nothing (the field is missing)"),
    "cas_ok_without_value.jsonl": (3, 'line 3, field "value"', "got nothing (the field is missing)"),
    "value_nan.jsonl": (2, "line 2:", "not valid JSON"),
    # numbers are equal by exact value: 1 = 1.0, and big integers are exact
    "equal_values_int_float.jsonl": (5, 'line 5, field "value"', "already written on line 3"),
    "equal_big_values.jsonl": (5, 'line 5, field "value"', "got 1180591620717411303425, already written on line 3"),
}


def test_every_malformed_file_has_a_case():
    assert sorted(p.name for p in MALFORMED.glob("*.jsonl")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_file_gets_its_message(name, capsys):
    line, place, detail = CASES[name]
    code, out, err = run(["validate", str(MALFORMED / name)], capsys)
    assert code == EXIT_BAD_INPUT
    assert out == ""  # nothing claims the file is ok
    assert "Traceback" not in err
    wanted = f"{MALFORMED / name}:{line}: {place}"
    lines = [ln for ln in err.splitlines() if wanted in ln]
    assert lines, err
    assert any(detail in ln for ln in lines), err
    assert err.rstrip().splitlines()[-2].startswith("error: 1 of 1 file has problems")


def test_valid_file_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "ok.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [
        {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"]},
        {"type": "invoke", "process": 0, "region": "us-east-1", "f": "write", "key": "a",
         "value": 1, "time": 1},
        {"type": "ok", "process": 0, "time": 2},
        {"type": "invoke", "process": 1, "region": "eu-west-1", "f": "read", "key": "b",
         "value": None, "time": 3},
    ]) + "\n\n")
    code, out, err = run(["validate", str(path)], capsys)
    assert code == 0, err
    assert out == (f"ok  {path}: 3 events, 2 operations, 2 keys, regions us-east-1, eu-west-1, "
                   "mode eventual (1 never completed)\n")


def test_blank_lines_and_gzip(tmp_path, capsys):
    lines = [{"format": "gt-history", "version": 1, "regions": ["r"]}, {},
             {"type": "invoke", "process": 0, "region": "r", "f": "read", "key": "a",
              "value": None, "time": 1}, {},
             {"type": "ok", "process": 0, "value": None, "time": 2}]
    text = "\n".join("" if x == {} else json.dumps(x) for x in lines) + "\n"
    gz = tmp_path / "h.jsonl.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    code, out, _ = run(["validate", str(gz)], capsys)
    assert code == 0 and "2 events, 1 operations" in out


def test_several_files_report_each_and_fail_once(tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text('{"format": "gt-history", "version": 1, "regions": ["r"]}\n')
    code, out, err = run(["validate", str(good), str(MALFORMED / "bad_f.jsonl"),
                          str(MALFORMED / "bad_type.jsonl")], capsys)
    assert code == EXIT_BAD_INPUT
    assert out.startswith(f"ok  {good}: 0 events")
    assert "bad_f.jsonl:2" in err and "bad_type.jsonl:3" in err
    assert "2 of 3 files have problems" in err


def test_missing_file_is_bad_input(tmp_path, capsys):
    code, _, err = run(["validate", str(tmp_path / "nope.jsonl")], capsys)
    assert code == EXIT_BAD_INPUT and "no such file" in err


@needs_anchor_data
def test_jepsen_inputs_are_validated_as_converted(capsys):
    anchor = ANCHOR_DATA
    code, out, _ = run(["validate", str(anchor / "knossos-cas-register/bad/cas-failure.edn"),
                        str(anchor / "porcupine-etcd/etcd_000.log")], capsys)
    assert code == 0
    assert out.count("ok  ") == 2 and "converted from edn" in out and "jepsen-log" in out


def test_help_shows_a_worked_example(capsys):
    code, out, _ = run(["validate", "--help"], capsys)
    assert code == 0
    assert "Example" in out and 'field "time": expected at least 10' in out


def test_real_command_exits_254_without_traceback():
    # the console script when this environment has one, else the same entry point by -m
    cmd = [str(GTCHECK)] if GTCHECK.exists() else [sys.executable, "-m", "gtcheck"]
    proc = subprocess.run([*cmd, "validate", str(MALFORMED / "equal_values.jsonl")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 254
    assert "Traceback" not in proc.stderr
    assert 'equal_values.jsonl:5: line 5, field "value"' in proc.stderr
