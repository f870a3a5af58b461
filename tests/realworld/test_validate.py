"""The emulator's entrance check (src/gtcheck/realworld/validate.py), without a server: each
class of malformed request the fuzzer found (tests/data/fuzz-found/emulator-500s.json) is
refused with DynamoDB's error, and well-formed requests pass untouched. The same requests
through a running emulator: tests/cli/test_fuzz.py (reproducers) and
tests/realworld/test_emulator_wire.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtcheck.kernel import attrvalues
from gtcheck.realworld import validate
from gtcheck.realworld.wire import WireError

KEY = {"pk": {"S": "a"}}


def refused(op: str, doc: dict) -> tuple[str, str]:
    with pytest.raises(WireError) as e:
        validate.check(op, doc)
    assert e.value.status == 400
    return e.value.name, e.value.message


def _nested(levels: int) -> dict:
    v: dict = {"S": "x"}
    for i in range(levels):
        v = {"L": [v]} if i % 2 else {"M": {"a": v}}
    return v


@pytest.mark.parametrize("op, doc", [
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "12345678901234567890.5"},
                                            "s": {"NS": ["1", "2.5"]}, "b": {"B": "AAE="},
                                            "l": {"L": [{"M": {"x": {"NULL": True}}}, {"BOOL": False}]}},
                 "ConditionExpression": "attribute_not_exists(pk) OR #n < :max",
                 "ExpressionAttributeNames": {"#n": "n"}, "ExpressionAttributeValues": {":max": {"N": "1e125"}}}),
    ("UpdateItem", {"TableName": "t", "Key": KEY, "UpdateExpression": "SET #n = #n + :one REMOVE m.b ADD s :s",
                    "ExpressionAttributeNames": {"#n": "n"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":s": {"SS": ["r"]}}}),
    ("Query", {"TableName": "t", "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
               "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"S": "x"}}, "ProjectionExpression": "#a, b[0]",
               "ExpressionAttributeNames": {"#a": "a"}}),
    ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t", "Item": KEY}},
                                              {"ConditionCheck": {"TableName": "t", "Key": KEY,
                                                                  "ConditionExpression": "attribute_exists(pk)"}}]}),
    ("BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": KEY}}, {"DeleteRequest": {"Key": KEY}}]}}),
    ("PutItem", {"TableName": "t", "Item": KEY, "ConditionExpression": None}),     # a null member is absent
    ("ListTables", {}),
])
def test_well_formed_requests_pass(op, doc):
    validate.check(op, doc)


@pytest.mark.parametrize("op, doc, name, says", [
    # the classes of tests/data/fuzz-found/emulator-500s.json
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [KEY, None]}}}, "ValidationException", "Member must not be null"),
    ("BatchWriteItem", {"RequestItems": {"t": None}}, "ValidationException", "Member must not be null"),
    ("TransactGetItems", {"TransactItems": [None]}, "ValidationException", "Member must not be null"),
    ("GetItem", {"TableName": "t", "Key": {"pk": {}}}, "ValidationException", "Supplied AttributeValue is empty"),
    ("GetItem", {"TableName": "t", "Key": {"pk": {"S": "a", "N": "1"}}}, "ValidationException", "more than one datatypes"),
    ("GetItem", {"TableName": "t", "Key": {"pk": {"X": "a"}}}, "ValidationException", "unknown datatype"),
    ("GetItem", {"TableName": "t", "Key": {"pk": {"NS": ["1", "1"]}}}, "ValidationException", "contains duplicates"),
    ("GetItem", {"TableName": "t", "Key": {"pk": {"NS": ["1", "2"]}}}, "ValidationException", "does not match the schema"),
    ("TransactWriteItems", {"TransactItems": [{"ConditionCheck": {"TableName": "t", "Key": KEY,
                                                                  "ConditionExpression": "us-east-1"}}]},
     "ValidationException", "Invalid ConditionExpression: Syntax error"),
    ("TransactWriteItems", {"TransactItems": [{}]}, "ValidationException", "only contain one of"),
    ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t", "Item": KEY},
                                               "Delete": {"TableName": "t", "Key": KEY}}]},
     "ValidationException", "only contain one of"),
    ("BatchWriteItem", {"RequestItems": {"t": [{}]}}, "ValidationException", "exactly one of PutRequest"),
    ("CreateTable", {"TableName": "t"}, "ValidationException", "Value null at 'AttributeDefinitions'"),
    ("Scan", {"TableName": "t", "FilterExpression": "size(l) > :z"}, "ValidationException",
     "Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: :z"),
    ("GetItem", {"TableName": "t", "Key": KEY, "ProjectionExpression": "#n"}, "ValidationException",
     "attribute name: #n"),
    ("PutItem", {"TableName": "t", "Item": KEY, "ConditionExpression": "NOT " * 3000 + "attribute_exists(pk)"},
     "ValidationException", "nests more than"),
    ("PutItem", {"TableName": "t", "Item": KEY, "ConditionExpression": " "}, "ValidationException",
     "The expression can not be empty"),
    ("UpdateItem", {"TableName": "t", "Key": KEY, "UpdateExpression": "SET a = :v SET b = :v",
                    "ExpressionAttributeValues": {":v": {"S": "x"}}}, "ValidationException", "Syntax error"),
    # numbers: the kernel's one rule, DynamoDB's messages
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "nope"}}}, "ValidationException",
     "cannot be converted to a numeric value: nope"),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "1" * 39}}}, "ValidationException",
     "more than 38 significant digits"),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "1e126"}}}, "ValidationException",
     "Number overflow"),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "1e-131"}}}, "ValidationException",
     "Number underflow"),
    ("UpdateItem", {"TableName": "t", "Key": KEY, "UpdateExpression": "SET n = :v",
                    "ExpressionAttributeValues": {":v": {"NS": ["1", "NaN"]}}}, "ValidationException",
     "cannot be converted to a numeric value: NaN"),
    # other values
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "s": {"SS": []}}}, "ValidationException", "empty set"),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "z": {"NULL": False}}}, "ValidationException",
     "must have the value of true"),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "b": {"B": "!!"}}}, "SerializationException", "base64"),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "s": {"S": 5}}}, "SerializationException",
     "must be a string"),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "d": _nested(33)}}, "ValidationException",
     "Nesting Levels"),
    ("Nope", {}, "UnknownOperationException", "Nope"),
])
def test_malformed_requests_are_refused(op, doc, name, says):
    got_name, message = refused(op, doc)
    assert (got_name, says in message) == (name, True), message


def test_nesting_is_allowed_up_to_dynamodbs_32_levels():
    validate.check("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "d": _nested(32)}})
    refused("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "d": _nested(33)}})


_NUMBER_TEXTS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"[+-]?[0-9]{0,45}(\.[0-9]{0,45})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.text(alphabet="0123456789.eE+- nNaIif", max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(_NUMBER_TEXTS)
def test_a_number_is_accepted_exactly_when_the_kernel_accepts_it(text):
    """The entrance uses the kernel's number rule (38 digits, 1E-130..9.99E125, DynamoDB's
    syntax), never a rule of its own."""
    try:
        attrvalues.parse_number(text)
        kernel_ok = True
    except attrvalues.NumberProblem:
        kernel_ok = False
    doc = {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": text}, "s": {"NS": [text]}}}
    if kernel_ok:
        validate.check("PutItem", doc)
    else:
        assert refused("PutItem", doc)[0] == "ValidationException"


def test_a_number_set_with_one_number_written_twice_is_refused():
    """1 and 1.0 are one number: DynamoDB refuses the set as holding a duplicate."""
    assert Decimal("1") == Decimal("1.0")
    assert "duplicates" in refused("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"},
                                                                         "s": {"NS": ["1", "1.0"]}}})[1]
