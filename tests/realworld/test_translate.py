"""The recorder's translations of DynamoDB requests (gtcheck.realworld.translate): expressions
with their own placeholders, legacy parameters as expressions, the version token,
UPDATED_OLD/UPDATED_NEW projections as DynamoDB answers them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gtcheck.realworld.translate import (condition_of, creates_only, key_text, legacy_condition, legacy_update,
                                    project, record, update_of, update_paths, with_token_update)


def test_record_keeps_only_the_placeholders_it_uses_and_encodes_values_exactly():
    names = {"#a": "alpha", "#b": "beta"}
    values = {":v": {"N": "12345678901234567890123456789012345678"}, ":w": {"NS": ["3", "1.50", "2"]},
              ":b": {"B": b"\x00\xff"}, ":m": {"M": {"$B": {"S": "x"}}}}
    out = record("#a = :v AND contains(#a, :w) OR :m = :b", names, values)
    assert out == {"expression": "#a = :v AND contains(#a, :w) OR :m = :b", "names": {"#a": "alpha"},
                   "values": {":v": 12345678901234567890123456789012345678, ":w": {"$NS": [Decimal("1.5"), 2, 3]},
                              ":m": {"$M": {"$B": "x"}}, ":b": {"$B": "AP8="}}}
    assert record("attribute_exists(pk)", None, None) == {"expression": "attribute_exists(pk)"}


def test_legacy_expected_becomes_its_expression():
    text, names, values = legacy_condition({"a": {"Value": {"S": "x"}}, "b": {"Exists": False}}, None, "e")
    assert text == "(#gtcheck_e0 = :gtcheck_e0_0) AND (attribute_not_exists(#gtcheck_e1))"
    assert names == {"#gtcheck_e0": "a", "#gtcheck_e1": "b"} and values == {":gtcheck_e0_0": {"S": "x"}}
    text, _, values = legacy_condition(
        {"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "5"}]},
         "s": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "a"}, {"S": "b"}]},
         "t": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "z"}]},
         "u": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "0"}]},
         "v": {"ComparisonOperator": "NOT_NULL"}}, "OR", "e")
    assert text == ("(#gtcheck_e0 BETWEEN :gtcheck_e0_0 AND :gtcheck_e0_1) OR (#gtcheck_e1 IN (:gtcheck_e1_0, "
                    ":gtcheck_e1_1)) OR (NOT contains(#gtcheck_e2, :gtcheck_e2_0)) OR (#gtcheck_e3 <> :gtcheck_e3_0) "
                    "OR (attribute_exists(#gtcheck_e4))")
    assert len(values) == 6
    text, _, _ = legacy_condition({"a": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "1"}]}}, None, "e")
    assert text == "#gtcheck_e0 >= :gtcheck_e0_0"


def test_legacy_attribute_updates_become_their_expression():
    text, names, values = legacy_update({"a": {"Action": "PUT", "Value": {"S": "x"}}, "b": {"Action": "DELETE"},
                                         "c": {"Action": "ADD", "Value": {"N": "2"}},
                                         "d": {"Action": "DELETE", "Value": {"SS": ["q"]}},
                                         "e": {"Value": {"N": "1"}}})
    assert text == ("SET #gtcheck_u0 = :gtcheck_u0, #gtcheck_u4 = :gtcheck_u4 REMOVE #gtcheck_u1 "
                    "ADD #gtcheck_u2 :gtcheck_u2 DELETE #gtcheck_u3 :gtcheck_u3")
    assert set(values) == {":gtcheck_u0", ":gtcheck_u2", ":gtcheck_u3", ":gtcheck_u4"} and len(names) == 5
    assert update_of({"AttributeUpdates": {}}) == ("", {}, {})


def test_condition_of_prefers_the_expression_and_translates_expected():
    assert condition_of({}) is None
    assert condition_of({"ConditionExpression": "a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}}) == \
        ("a = :a", {}, {":a": {"S": "x"}})
    text, names, _ = condition_of({"Expected": {"pk": {"Exists": False}}})
    assert creates_only((text, names, {}), ["pk"])


@pytest.mark.parametrize("text,names,keys,want", [
    ("attribute_not_exists(pk)", {}, ["pk"], True),
    ("attribute_not_exists(#p)", {"#p": "pk"}, ["pk", "sk"], True),
    ("attribute_not_exists(pk) AND attribute_not_exists(sk)", {}, ["pk", "sk"], True),
    ("attribute_not_exists(other)", {}, ["pk"], False),
    ("attribute_not_exists(pk) OR a = :a", {}, ["pk"], False),
    ("attribute_exists(pk)", {}, ["pk"], False),
    ("attribute_not_exists(pk)", {}, [], False),
])
def test_creates_only(text, names, keys, want):
    assert creates_only((text, names, {}), keys) is want


def test_token_goes_into_the_set_clause_or_a_new_one():
    body = with_token_update({"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}},
                             "gt_token", "r-1")
    assert body["UpdateExpression"] == "SET #gtcheck_tok = :gtcheck_tok ADD n :one"
    assert body["ExpressionAttributeNames"] == {"#gtcheck_tok": "gt_token"}
    assert body["ExpressionAttributeValues"] == {":one": {"N": "1"}, ":gtcheck_tok": {"S": "r-1"}}
    body = with_token_update({"UpdateExpression": "REMOVE #set set #set = :set", "ExpressionAttributeNames":
                              {"#set": "x"}}, "tok", "r-2")
    assert body["UpdateExpression"] == "REMOVE #set set #gtcheck_tok = :gtcheck_tok, #set = :set"
    body = with_token_update({"AttributeUpdates": {"a": {"Action": "DELETE"}}}, "tok", "r-3")
    assert body["AttributeUpdates"]["tok"] == {"Value": {"S": "r-3"}, "Action": "PUT"}
    assert "UpdateExpression" not in body


def test_update_paths_are_the_evaluators_action_targets():
    values = {":a": {"S": "x"}, ":z": {"N": "0"}, ":x": {"N": "1"}, ":n": {"N": "5"}, ":s": {"SS": ["q"]},
              ":l": {"L": []}}
    assert update_paths("SET #a = :a, b = if_not_exists(b, :z) + :x REMOVE c.d[3], e ADD n :n DELETE s :s",
                        {"#a": "alpha"}, values) == [("alpha",), ("b",), ("c", "d", 3), ("e",), ("n",), ("s",)]
    assert update_paths("set a.#b[0].c = list_append(a.#b, :l)", {"#b": "beta"}, values) == [("a", "beta", 0, "c")]
    assert update_paths("SET #missing = :a", {}, values) is None        # DynamoDB refuses it
    assert update_paths("SET a = :a ?", {}, values) is None


# DynamoDB's answers for nested paths (ScyllaDB's Alternator test suite, checked against
# DynamoDB: test_returnvalues.py::test_update_item_returnvalues_nested)
ITEM = {"p": {"S": "k"}, "a": {"M": {"b": {"S": "dog"}, "c": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}}},
        "d": {"S": "cat"}}


@pytest.mark.parametrize("paths,want", [
    ([("a", "b")], {"a": {"M": {"b": {"S": "dog"}}}}),
    ([("a", "c", 1)], {"a": {"M": {"c": {"L": [{"N": "2"}]}}}}),
    ([("a", "c", 1), ("a", "b")], {"a": {"M": {"c": {"L": [{"N": "2"}]}, "b": {"S": "dog"}}}}),
    ([("a", "c", 2), ("a", "c", 0)], {"a": {"M": {"c": {"L": [{"N": "1"}, {"N": "3"}]}}}}),
    ([("a", "c", 3), ("a", "x1")], {}),
    ([("d",), ("zz",)], {"d": {"S": "cat"}}),
    ([("a",)], {"a": ITEM["a"]}),
    ([("d", "x")], {}),
])
def test_projection_as_dynamodb_answers(paths, want):
    assert project(ITEM, paths) == want
    assert project(None, paths) == {}


def test_key_text_is_exact():
    assert key_text("t", {"pk": {"N": "1.50"}, "sk": {"S": "x"}}, ["pk", "sk"]) == "t/1.5/x"
    assert key_text("t", {"pk": {"N": "100"}}, ["pk"]) == "t/100"
    assert key_text("t", {"pk": {"B": b"\x01"}}, ["pk", "sk"]) == "t/AQ==/?"
