"""Rule 11 in the checker: conditions and UpdateExpressions as DynamoDB wrote them, judged by
the one evaluator (kernel/expressions.py) in validation, integrity (rule 8) and the
linearizability register, never crying wolf where the evaluator cannot tell."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gtcheck.checker.check import check_history
from gtcheck.checker.history import validate_file, write_history
from gtcheck.kernel.errors import EXIT_BAD_INPUT, ManyUserErrors, UserError
from gtcheck.kernel.expressions import REJECTED, condition, update
from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXPR = ROOT / "histories" / "expressions"
S = 1_000_000_000
R = "us-east-1"
HEADER = {"format": "gt-history", "version": 1, "regions": [R, "eu-west-1"]}


def inv(p, f, value, t, key="k", region=R, **kw):
    return {"type": "invoke", "process": p, "region": region, "f": f, "key": key,
            "value": value, "time": t, **kw}


def done(p, ty, t, **kw):
    return {"type": ty, "process": p, "time": t, **kw}


# These histories are eventual-mode ones written from one region: linearizability judges
# them with --linearizability-scope single-region-keys (outside the history format's scope)
SINGLE = "single-region-keys"


def check(tmp_path, events, header=None, name="h.jsonl"):
    path = tmp_path / name
    write_history(path, header or HEADER, events)
    return check_history(path, jobs=1, linearizability_scope=SINGLE).summary


def verdicts(s):
    return {p: s[p]["valid"] for p in ("integrity", "linearizability")}


def anomalies(s):
    return sorted((a["name"], a["ops"]) for p in ("integrity", "linearizability")
                  for a in s[p]["anomalies"])


# --------------------------------------------------------------------------- examples
def test_double_sale_is_not_linearizable():
    s = check_history(EXPR / "double-sale.jsonl", jobs=1, linearizability_scope=SINGLE).summary
    assert verdicts(s) == {"integrity": True, "linearizability": False}
    assert anomalies(s) == [("not-linearizable", [4, 2])]


def test_impossible_decrement_is_a_phantom_read():
    s = check_history(EXPR / "phantom-decrement.jsonl", jobs=1,
                      linearizability_scope=SINGLE).summary
    assert verdicts(s) == {"integrity": False, "linearizability": False}
    # the search linearizes unknown outcomes just in time: its longest prefix is the write
    # #0, and no run of the unknown update #2 makes read #4 possible after it
    assert anomalies(s) == [("not-linearizable", [4, 0]), ("phantom-read", [4])]


def test_issue_16a_smallest_case(tmp_path):
    """One put, UpdateItem ... ConditionExpression 'bal >= :min' (ok), one read: valid;
    with a minimum the balance never reached, the same history is not linearizable."""
    def history(minimum):
        after = {"pk": "k", "bal": 70}
        return [
            inv(1, "write", {"pk": "k", "bal": 100}, 1 * S), done(1, "ok", 2 * S),
            inv(1, "update", {"expression": "SET bal = bal - :amt", "values": {":amt": 30}},
                3 * S, condition={"expression": "bal >= :min", "values": {":min": minimum}}),
            done(1, "ok", 4 * S, value=after),
            inv(2, "read", None, 5 * S, consistent=True), done(2, "ok", 6 * S, value=after)]
    assert verdicts(check(tmp_path, history(30))) == {"integrity": True, "linearizability": True}
    assert verdicts(check(tmp_path, history(300))) == {"integrity": True,
                                                       "linearizability": False}


def test_short_form_means_its_expression_on_a_missing_item(tmp_path):
    """Rule 11: {ATTR: null} is attribute_not_exists(ATTR): it holds on a missing item."""
    s = check(tmp_path, [
        inv(1, "write", {"pk": "k", "v": 1}, 1 * S, condition={"v": None}), done(1, "ok", 2 * S),
        inv(2, "read", None, 3 * S, consistent=True), done(2, "ok", 4 * S, value={"pk": "k", "v": 1})])
    assert verdicts(s) == {"integrity": True, "linearizability": True}


def test_what_gtcheck_cannot_evaluate_is_never_false(tmp_path):
    """An expression that does not parse is not bad input; it admits every outcome."""
    events = [
        inv(1, "write", {"pk": "k", "v": 1}, 1 * S), done(1, "ok", 2 * S),
        inv(1, "update", {"expression": "SET v = mystery(v)"}, 3 * S,
            condition={"expression": "v ~ :x", "values": {":x": 1}}),
        done(1, "ok", 4 * S, value={"pk": "k", "v": 99}),
        inv(2, "update", {"expression": "SET w = :w ??", "values": {":w": 5}}, 5 * S),
        done(2, "info", 6 * S),
        inv(3, "read", None, 7 * S, consistent=True),
        done(3, "ok", 8 * S, value={"pk": "k", "v": 99, "w": "anything at all"})]
    path = tmp_path / "u.jsonl"
    write_history(path, HEADER, events)
    validate_file(path)                                        # not bad input
    s = check_history(path, jobs=1, linearizability_scope=SINGLE).summary
    # the ok update is its post-image; the info one may have produced anything, so the
    # read is no phantom, and the register cannot say more than "unknown"
    assert verdicts(s) == {"integrity": True, "linearizability": "unknown"}
    assert "#4" in s["unknown_keys"][0]["reason"] if s.get("unknown_keys") else True


def test_info_update_of_a_missing_item_without_key_attributes(tmp_path):
    """Without key_attributes the result on a missing item is unknown: admitted, and a
    register search that fails because of it is unknown, not "not linearizable"."""
    events = [
        inv(1, "update", {"expression": "SET n = :one", "values": {":one": 1}}, 1 * S),
        done(1, "info", 2 * S),
        inv(2, "read", None, 3 * S, consistent=True), done(2, "ok", 4 * S, value={"pk": "k", "n": 1})]
    s = check(tmp_path, events)
    assert s["integrity"]["valid"] is True
    assert s["linearizability"]["valid"] == "unknown"
    # with the key attributes recorded, both are decided
    events[0]["key_attributes"] = {"pk": "k"}
    s = check(tmp_path, events)
    assert verdicts(s) == {"integrity": True, "linearizability": True}
    events[3]["value"] = {"pk": "k", "n": 2}
    s = check(tmp_path, events)
    assert verdicts(s) == {"integrity": False, "linearizability": False}


def test_an_update_refused_on_a_version_did_not_apply_there(tmp_path):
    """ADD to a string is refused by DynamoDB: the info update cannot explain a read."""
    events = [
        inv(1, "write", {"pk": "k", "n": "x", "tok": "w0"}, 1 * S), done(1, "ok", 2 * S),
        inv(1, "update", {"expression": "ADD n :one", "values": {":one": 1}}, 3 * S,
            key_attributes={"pk": "k"}),
        done(1, "info", 4 * S),
        inv(2, "read", None, 5 * S, consistent=True),
        done(2, "ok", 6 * S, value={"pk": "k", "n": 1, "tok": "w0"})]
    s = check(tmp_path, events)
    assert anomalies(s) == [("not-linearizable", [4, 0]), ("phantom-read", [4])]
    # on the version where n is a number the same update explains the read
    events[0]["value"]["n"] = 0
    assert anomalies(check(tmp_path, events)) == []


# --------------------------------------------------------------------------- validation
def _problems(tmp_path, events):
    path = tmp_path / "bad.jsonl"
    write_history(path, HEADER, events)
    try:
        validate_file(path)
    except (ManyUserErrors, UserError) as exc:
        return str(exc) + "\n" + "\n".join(str(e) for e in getattr(exc, "errors", []))
    return ""


def test_malformed_shapes_are_named_by_line_and_field(tmp_path):
    text = _problems(tmp_path, [
        inv(1, "update", {"expression": "SET a = :v", "values": {":v": 1}, "set": {}}, 1),
        done(1, "ok", 2, value={"a": 1}),
        inv(1, "write", {"a": 1}, 3, condition=7), done(1, "ok", 4),
        inv(1, "write", {"a": 2}, 5, condition={"expression": "a = :v", "names": {"a": "b"},
                                                  "values": {":v": {"$SS": ["b", "a"]}}}),
        done(1, "ok", 6),
        inv(1, "read", None, 7, condition={}), done(1, "ok", 8, value=None),
        inv(1, "update", {"expression": 5}, 9, key_attributes=["pk"]), done(1, "info", 10),
        inv(1, "write", {"a": 3, "b": {"$B": "not base64!"}}, 11), done(1, "ok", 12),
    ])
    for expected in ['line 2, field "value"', 'line 4, field "condition"',
                     'line 6, field "condition.names"', 'line 6, field "condition.values.:v.$SS"',
                     'line 8, field "condition"', 'line 10, field "value.expression"',
                     'line 10, field "key_attributes"', 'line 12, field "value.b.$B"']:
        assert expected in text, (expected, text)


def test_bad_condition_exits_254_with_a_hint(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    write_history(path, HEADER, [inv(1, "write", {"a": 1}, 1, condition=["a", 1]),
                                 done(1, "ok", 2)])
    code, out, err = run_cli(["check", str(path)], capsys)
    assert code == EXIT_BAD_INPUT
    assert 'field "condition"' in err and "ExpressionAttributeValues" in err
    assert "Traceback" not in err


def test_a_bare_string_condition_is_an_expression(tmp_path):
    """Earlier recorders wrote the ConditionExpression's text alone: it is read as an
    expression without names or values (placeholders in it are undefined, so DynamoDB's
    refusal makes it unknown, never false)."""
    after = {"pk": "k", "v": 2}
    for cond, lin in (("attribute_exists(pk)", True), ("attribute_not_exists(pk)", False),
                      ("v = :one", True)):
        s = check(tmp_path, [
            inv(1, "write", {"pk": "k", "v": 1}, 1 * S), done(1, "ok", 2 * S),
            inv(1, "write", after, 3 * S, condition=cond), done(1, "ok", 4 * S),
            inv(2, "read", None, 5 * S, consistent=True), done(2, "ok", 6 * S, value=after)])
        assert verdicts(s) == {"integrity": True, "linearizability": lin}, cond


# --------------------------------------------------------------------------- no false alarms
_EXPRS = [
    ("SET n = if_not_exists(n, :zero) + :d", None),
    ("SET n = n - :d", "n >= :d"),
    ("ADD n :d", None),
    ("SET tags = list_append(if_not_exists(tags, :empty), :l)", None),
    ("REMOVE tags", "attribute_exists(tags)"),
    ("SET s = :s", "attribute_not_exists(s) OR s <> :s"),
    ("DELETE ss :set", "contains(ss, :elem)"),
    ("ADD ss :set", "size(tags) < :d OR attribute_not_exists(tags)"),
]


@st.composite
def sequential_history(draw):
    """One key, one region, operations one after another: the evaluator decides each
    condition and update, so the history is correct by construction. Some updates time
    out (info), having taken effect or not."""
    events = []
    state = None
    t = 1
    key = {"pk": "k"}
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["write", "update", "update", "update", "read"]))
        tok = f"t{i}"
        if kind == "read":
            events += [inv(2, "read", None, t, consistent=True), done(2, "ok", t + 1, value=state)]
            t += 2
            continue
        if kind == "write":
            value = {"pk": "k", "n": draw(st.integers(0, 3)), "tok": tok}
            events += [inv(1, "write", value, t), done(1, "ok", t + 1)]
            state = value
            t += 2
            continue
        expr, cond = draw(st.sampled_from(_EXPRS))
        values = {":d": draw(st.integers(1, 3)), ":zero": 0, ":empty": [], ":l": [i],
                  ":s": draw(st.sampled_from(["a", "b"])), ":set": {"$SS": ["x"]},
                  ":elem": "x", ":tok": tok}
        used = {k: v for k, v in values.items() if k in expr or (cond and k in cond)}
        upd = {"expression": expr + ", tok = :tok" if expr.startswith("SET") else
               expr + " SET tok = :tok", "values": used | {":tok": tok}}
        c = condition(cond, None, used) if cond else None
        holds = c is None or c.holds(state) is True
        new = update(upd["expression"], None, upd["values"]).apply(state, key) if holds else REJECTED
        outcome = draw(st.sampled_from(["ok", "ok", "info"])) if new is not REJECTED else "fail"
        extra = {"key_attributes": key}
        if cond:
            extra["condition"] = {"expression": cond, "values": {
                k: v for k, v in used.items() if k in cond}}
        events.append(inv(1, "update", upd, t, **extra))
        if outcome == "ok":
            events.append(done(1, "ok", t + 1, value=new))
            state = new
        elif outcome == "info":
            events.append(done(1, "info", t + 1))
            if draw(st.booleans()):
                state = new                      # the timed-out update took effect
        else:
            events.append(done(1, "fail", t + 1))
        t += 2
    return events


@given(sequential_history())
@settings(max_examples=150, deadline=None)
def test_correct_histories_with_expressions_are_valid(tmp_path_factory, events):
    """No false alarms: every history the evaluator itself produced one operation at a
    time passes integrity and linearizability."""
    path = tmp_path_factory.mktemp("seq") / "h.jsonl"
    write_history(path, {**HEADER, "mode": "strong"}, events)
    s = check_history(path, jobs=1).summary
    assert s["integrity"]["valid"] is True, json.dumps(s["integrity"]["anomalies"])
    assert s["linearizability"]["valid"] is True, json.dumps(s["linearizability"]["anomalies"])
