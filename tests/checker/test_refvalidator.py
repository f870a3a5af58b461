"""The reference validator (tests/refvalidator.py) on hand-made lines: it must be right
before the fuzzer may trust it as the second opinion on ``gtcheck validate``."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.refvalidator import validate_bytes

H = {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"]}
W = {"type": "invoke", "process": 1, "region": "us-east-1", "f": "write", "key": "k",
     "value": {"v": 1}, "time": 10}
OK = {"type": "ok", "process": 1, "time": 20}


def text(*objs, header=H) -> bytes:
    lines = [json.dumps(header) if not isinstance(header, str) else header]
    lines += [o if isinstance(o, str) else json.dumps(o) for o in objs]
    return ("\n".join(lines) + "\n").encode()


def ev(base, **changes):
    d = dict(base)
    for k, v in changes.items():
        if v is DELETE:
            d.pop(k, None)
        else:
            d[k] = v
    return d


DELETE = object()


def refused(data: bytes, line=None, field=None, rule=None):
    v = validate_bytes(data)
    assert v.verdict == "refuse", v
    if line is not None:
        assert v.line == line, v
    if field is not None:
        assert v.field == field, v
    if rule is not None:
        assert v.rule == rule, v
    return v


def accepted(data: bytes):
    v = validate_bytes(data)
    assert v.verdict == "accept", v


# ---------------------------------------------------------------------------------------
# the file

def test_a_small_valid_history():
    accepted(text(W, OK))


def test_blank_lines_crlf_and_trailing_whitespace_are_fine():
    data = text(W, OK).replace(b"\n", b"\r\n")
    accepted(data)
    accepted(b"\n \t\n" + text(W, "", "   ", OK) + b"\n\n")


def test_only_ascii_whitespace_makes_a_blank_line():
    accepted(text(W, "\x0b \x0c", OK))
    refused(text(W, "\u00a0", OK), line=3, rule="file")
    refused(text(W, "\u3000", OK), line=3, rule="file")
    refused(text(W, "\x1f", OK), line=3, rule="file")
    accepted(text(ev(W, key="a\u2028b\x85"), OK).replace(b"\\u2028", "\u2028".encode()))


def test_not_utf8_is_refused_at_its_line():
    data = text(W, OK).replace(b'"k"', b'"k\xff"')
    refused(data, line=2, rule="file")
    refused(text(W, OK).decode().encode("utf-16"), line=1)


def test_a_byte_order_mark_is_refused():
    refused(b"\xef\xbb\xbf" + text(W, OK), line=1, rule="file")


def test_gzip_is_read_by_its_content():
    accepted(gzip.compress(text(W, OK)))
    refused(gzip.compress(text(W, OK))[:-6], rule="file")
    accepted(gzip.compress(text(W)) + gzip.compress(text(OK, header="")))  # two members
    refused(gzip.compress(text(W, OK)) + b"\n", rule="file")


def test_not_json_nan_tokens_and_trailing_text():
    refused(text(W, '{"type": "ok", "process": 1, "time": NaN}'), line=3, rule="file")
    refused(text(W, '{"type": "ok", "process": 1, "time": 20} x'), line=3, rule="file")
    refused(text(W, '{"type": "ok", "process": 1, "time": 020}'), line=3, rule="file")


def test_control_characters_and_lone_surrogates_in_strings():
    refused(text(ev(W, key="a\x01b"), OK).replace(b"\\u0001", b"\x01"), line=2, rule="file")
    accepted(text(ev(W, key="a\u0001b"), OK))                       # escaped: fine
    refused(text(ev(W, key="\ud800"), OK), line=2, rule="file")     # \\ud800: not UTF-8 text
    accepted(text(ev(W, key="\U0001F600 \u2028"), OK))


def test_duplicate_field_names_at_any_depth():
    refused(text(W, '{"type": "ok", "process": 1, "time": 20, "time": 20}'), line=3, field="time")
    refused(text('{"type": "invoke", "process": 1, "region": "us-east-1", "f": "write", '
                 '"key": "k", "value": {"a": 1, "a": 2}, "time": 10}', OK), line=2, field="a")
    refused(text(W, OK, header='{"format": "gt-history", "format": "gt-history", "version": 1, '
                               '"regions": ["a"]}'), line=1)


def test_depth_beyond_recursion_is_a_limit_not_a_verdict():
    deep = "[" * 100_000 + "]" * 100_000
    data = text(W, OK).replace(b'{"v": 1}', deep.encode(), 1)
    assert validate_bytes(data).verdict == "limit"
    medium = "[" * 200 + "1" + "]" * 200
    accepted(text(W, OK).replace(b'{"v": 1}', medium.encode(), 1))
    # gtcheck refuses lines nested more than 512 deep: near that, either answer is fine
    deep = "[" * 600 + "1" + "]" * 600
    assert validate_bytes(text(W, OK).replace(b'{"v": 1}', deep.encode(), 1)).verdict == "limit"


def test_empty_file_and_header_problems():
    refused(b"", rule="header")
    refused(text(W, header=W), line=1, field="format")
    refused(text(W, OK, header=dict(H, version=1.0)), field="version")
    refused(text(W, OK, header=dict(H, version=2)), field="version")
    refused(text(W, OK, header=dict(H, regions=[])), field="regions")
    refused(text(W, OK, header=dict(H, regions=["a", "a"])), field="regions")
    refused(text(W, OK, header=dict(H, regions=["a", None])), field="regions")
    refused(text(W, OK, header=dict(H, regions=["a", ""])), field="regions")
    refused(text(W, OK, header=dict(H, mode="linearizable")), field="mode")
    refused(text(W, OK, header=dict(H, mode=None)), field="mode")
    refused(text(W, OK, header=dict(H, clock_uncertainty_ns=-1)), field="clock_uncertainty_ns")
    refused(text(W, OK, header=dict(H, clock_uncertainty_ns=1.5)), field="clock_uncertainty_ns")
    accepted(text(W, OK, header=dict(H, ts_uncertainty_ns=None, seed=2 ** 80, anything=[{}])))
    refused(text(W, OK, header=dict(H, settled_after_ns="10")), field="settled_after_ns")
    refused(text(W, OK, header=dict(H, register="yes")), field="register")


# ---------------------------------------------------------------------------------------
# rule 7: fields and their types

@pytest.mark.parametrize("field,value", [
    ("time", -1), ("time", "10"), ("time", 10.0), ("time", 1e1), ("time", None), ("time", True),
    ("process", None), ("process", 1.5), ("process", [1]), ("process", {"a": 1}), ("process", False),
    ("type", "done"), ("type", None), ("f", "put"), ("f", None), ("key", 7), ("key", None),
    ("key", {"a": 1}), ("region", "mars-1"), ("region", None), ("origin", ["us-east-1"]),
    ("origin", None), ("consistent", "yes"), ("consistent", None), ("ts", "5"), ("ts", 5.5),
    ("ts", None), ("index", "1"), ("index", None), ("value", None),
])
def test_a_present_field_must_have_its_type(field, value):
    refused(text(ev(W, **{field: value}), OK), line=2, field=field)


@pytest.mark.parametrize("field", ["time", "process", "type", "f", "key", "region"])
def test_required_fields_of_an_invocation(field):
    refused(text(ev(W, **{field: DELETE}), OK), line=2, field=field)


@pytest.mark.parametrize("field,value", [
    ("f", None), ("key", None), ("region", None), ("ts", None), ("origin", None),
    ("f", "read"), ("key", "other"), ("region", "eu-west-1"), ("ts", "1"), ("origin", "x"),
])
def test_completions_repeat_fields_exactly_and_nulls_are_refused(field, value):
    refused(text(W, ev(OK, **{field: value})), line=3, field=field)


def test_completions_may_repeat_or_omit_f_key_region():
    accepted(text(W, ev(OK, f="write", key="k", region="us-east-1", value={"v": 1}, ts=3)))


def test_time_never_decreases():
    refused(text(W, ev(OK, time=5)), line=3, field="time")
    accepted(text(W, ev(OK, time=10)))


def test_big_integers_are_integers():
    accepted(text(ev(W, time=2 ** 70), ev(OK, time=2 ** 70 + 1, ts=-(2 ** 70))))
    refused(text(ev(W, time=2 ** 70 + 1), ev(OK, time=2 ** 70)), line=3, field="time")


def test_one_operation_at_a_time():
    refused(text(W, ev(W, time=11)), line=3, field="process", rule="R5")
    refused(text(OK), line=2, field="type", rule="R5")
    # after info the process goes on
    accepted(text(W, ev(OK, type="info"), ev(W, time=30, value={"v": 2}), ev(OK, time=40)))
    # 1 and "1" are different processes
    accepted(text(W, ev(W, process="1", value={"v": 2}), OK, ev(OK, process="1")))


def test_nemesis_events():
    nem = {"type": "info", "process": "nemesis", "f": "partition", "value": {"x": [1]}, "time": 15}
    accepted(text(W, nem, OK))
    refused(text(W, ev(nem, f="explode"), OK), line=3, field="f")
    refused(text(W, ev(nem, type="invoke"), OK), line=3, field="type")


def test_values_of_cas_update_write_read():
    cas = ev(W, f="cas", value=[None, {"v": 1}])
    accepted(text(cas, ev(OK, value=[None, {"v": 1}])))
    refused(text(ev(cas, value=[1, None]), OK), line=2, field="value")
    refused(text(ev(cas, value=[1]), OK), line=2, field="value")
    refused(text(cas, OK), line=3, field="value")                      # ok of cas carries value
    accepted(text(cas, ev(OK, value={"v": 1.0})))                      # the new item alone
    refused(text(cas, ev(OK, value=[None, {"v": 2}])), line=3, field="value", rule="docs")
    upd = ev(W, f="update", value={"set": {"a": 1}, "remove": ["b"], "add": {"n": 1}})
    accepted(text(upd, ev(OK, value={"a": 1, "n": 1})))
    accepted(text(upd, ev(OK, value=None)))
    refused(text(ev(upd, value={"incr": 1}), OK), line=2, field="value")
    refused(text(upd, OK), line=3, field="value")                      # ok of update carries value
    read = ev(W, f="read", value=None)
    accepted(text(read, ev(OK, value=None)))
    accepted(text(ev(read, value=DELETE), ev(OK, value={"v": 1})))
    refused(text(read, OK), line=3, field="value")                     # ok of read carries value
    refused(text(ev(W, value=DELETE), OK), line=2, field="value")      # a write has a value
    refused(text(W, ev(OK, value=None)), line=3, field="value")
    # delete: anything, or nothing
    accepted(text(ev(W, f="delete", value=DELETE), OK))


def test_index_unique_and_exact():
    accepted(text(ev(W, index=2 ** 70), ev(OK, index=2 ** 70 + 1)))
    refused(text(ev(W, index=3), ev(OK, index=3)), line=3, field="index")
    refused(text(ev(W, index=1.0), OK), line=2, field="index")
    # an event without index is its position among the events (from 0): a mix may collide
    accepted(text(ev(W, index=7), OK))
    refused(text(ev(W, index=1), OK), line=3, field="index", rule="docs")
    refused(text(W, ev(OK, index=0)), line=3, field="index", rule="docs")


# ---------------------------------------------------------------------------------------
# rules 2, 4, 6

def test_rule_2_duplicate_ts_origin_compared_exactly():
    w2 = ev(W, process=2, value={"v": 2}, time=30)
    ok2 = ev(OK, process=2, time=40)
    refused(text(W, ev(OK, ts=5), w2, ev(ok2, ts=5)), line=5, field="ts", rule="R2")
    accepted(text(W, ev(OK, ts=-1), w2, ev(ok2, ts=-2)))
    accepted(text(W, ev(OK, ts=2 ** 70), w2, ev(ok2, ts=2 ** 70 + 1)))
    accepted(text(W, ev(OK, ts=1), w2, ev(ok2, ts=1 + 2 ** 61 - 1)))
    # origin told apart; the default origin is the region
    accepted(text(W, ev(OK, ts=5), w2, ev(ok2, ts=5, origin="eu-west-1")))
    refused(text(W, ev(OK, ts=5), w2, ev(ok2, ts=5, origin="us-east-1")), line=5)
    # other keys, or failed writes, do not collide
    accepted(text(W, ev(OK, ts=5), ev(w2, key="j"), ev(ok2, ts=5)))
    accepted(text(W, ev(OK, ts=5), w2, ev(ok2, type="fail", ts=5)))


def test_rule_4_equal_values_compared_exactly():
    w2 = ev(W, process=2, time=30)
    ok2 = ev(OK, process=2, time=40)
    refused(text(W, OK, w2, ok2), line=5, field="value", rule="R4")
    # 1 = 1.0 = 1e0, key order does not matter
    data = text(W, OK, ev(w2, value={"v": 1}), ok2).replace(b'{"v": 1}', b'{"v": 1.0}', 2)
    data = data.replace(b'{"v": 1.0}', b'{"v": 1e0}', 1)
    refused(data, line=5, rule="R4")
    refused(text(ev(W, value={"a": 1, "b": 2}), OK, ev(w2, value={"b": 2, "a": 1}), ok2), line=5)
    # distinct big values are distinct
    accepted(text(ev(W, value=2 ** 70), OK, ev(w2, value=2 ** 70 + 1), ok2))
    # info / fail writes may repeat a value; strong mode and registers too
    accepted(text(W, ev(OK, type="info"), w2, ok2))
    accepted(text(W, OK, w2, ok2, header=dict(H, mode="strong")))
    accepted(text(W, OK, w2, ok2, header=dict(H, register=True)))
    # an update's post-image and a cas's new value are values too
    upd = ev(w2, f="update", value={"set": {"v": 1}})
    refused(text(W, OK, upd, ev(ok2, value={"v": 1})), line=5, rule="R4")
    accepted(text(W, OK, upd, ev(ok2, value=None)))
    cas = ev(w2, f="cas", value=[{"v": 1}, {"v": 1}])
    refused(text(W, OK, cas, ev(ok2, value={"v": 1})), line=5, rule="R4")


def test_rule_6_no_write_invoked_at_or_after_settled():
    h = dict(H, settled_after_ns=10)
    refused(text(W, OK, header=h), line=2, field="time", rule="R6")
    accepted(text(ev(W, time=9), OK, header=h))
    accepted(text(ev(W, time=9), OK, ev(W, f="read", value=None, time=30), ev(OK, time=40, value=None), header=h))
