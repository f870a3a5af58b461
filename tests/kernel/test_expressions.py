"""The expression evaluator (kernel/expressions.py, kernel/exprparse.py): hand-written cases
from the AWS documentation's condition and update expression pages, DynamoDB's behaviours
established by ScyllaDB's Alternator test suite (run against DynamoDB itself), rule 11's
short form, and laws of the evaluation (three-valued logic, parse cache, exactness)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings

from gtcheck.kernel import exprparse
from gtcheck.kernel.expressions import (
    REJECTED, UNKNOWN, condition, short_condition, update,
)
from gtcheck.kernel.itemspec import Request, step
from tests.kernel.exprgen import condition_cases

# The AWS documentation's sample item (ProductCatalog, Id 123), in the history encoding.
BIKE = {
    "Id": 123, "Title": "Bicycle 123", "Description": "123 description",
    "BicycleType": "Hybrid", "Brand": "Brand-Company C", "Price": 500,
    "Color": {"$SS": ["Black", "Red"]}, "ProductCategory": "Bicycle", "InStock": True,
    "QuantityOnHand": None, "RelatedItems": [341, 472, 649],
    "Pictures": {"FrontView": "http://example.com/products/123_front.jpg",
                 "RearView": "http://example.com/products/123_rear.jpg",
                 "SideView": "http://example.com/products/123_left_side.jpg"},
    "ProductReviews": {"FiveStar": ["Excellent! Can't recommend it highly enough! Buy it!",
                                    "Do yourself a favor and buy this."],
                       "OneStar": ["Terrible product! Do not buy this."]},
    "Comment": "This product sells out quickly during the summer",
    "Safety.Warning": "Always wear a helmet",
}
KEY = {"Id": 123}


def holds(expr, values=None, names=None, item=BIKE):
    return condition(expr, names, values).holds(item)


def apply(expr, values=None, names=None, item=BIKE, key=KEY):
    return update(expr, names, values).apply(item, key)


# --------------------------------------------------------------------------- AWS: conditions
@pytest.mark.parametrize("expr, names, values, want", [
    ("attribute_not_exists(Id)", None, None, False),
    ("attribute_not_exists(Price)", None, None, False),
    ("attribute_exists(#P.#S)", {"#P": "Pictures", "#S": "SideView"}, None, True),
    ("attribute_exists(Pictures.TopView)", None, None, False),
    ("Price > :limit", None, {":limit": 500}, False),
    ("Price >= :limit", None, {":limit": 500}, True),
    ("(ProductCategory IN (:cat1, :cat2)) and (Price between :lo and :hi)", None,
     {":cat1": "Sporting Goods", ":cat2": "Gardening Supplies", ":lo": 500, ":hi": 600}, False),
    ("ProductCategory IN (:cat1, :cat2) and Price between :lo and :hi", None,
     {":cat1": "Bicycle", ":cat2": "Gardening Supplies", ":lo": 500, ":hi": 600}, True),
    ("attribute_type(Color, :v_sub)", None, {":v_sub": "SS"}, True),
    ("attribute_type(Color, :v_sub)", None, {":v_sub": "L"}, False),
    ("begins_with(Pictures.FrontView, :v_sub)", None, {":v_sub": "http://"}, True),
    ("contains(Color, :v_sub)", None, {":v_sub": "Red"}, True),
    ("contains(Color, :v_sub)", None, {":v_sub": "Green"}, False),
    ("contains(Comment, :v_sub)", None, {":v_sub": "summer"}, True),
    ("size(Brand) <= :v_sub", None, {":v_sub": 20}, True),
    ("size(RelatedItems) = :n AND size(Color) = :two", None, {":n": 3, ":two": 2}, True),
    ("#pr.FiveStar[1] = :r", {"#pr": "ProductReviews"},
     {":r": "Do yourself a favor and buy this."}, True),
    ("#sw = :w", {"#sw": "Safety.Warning"}, {":w": "Always wear a helmet"}, True),
    ("Safety.Warning = :w", None, {":w": "Always wear a helmet"}, False),   # a nested path
    ("RelatedItems[0] < RelatedItems[2]", None, None, True),
    ("NOT InStock = :f", None, {":f": False}, True),
    ("QuantityOnHand = :null", None, {":null": None}, True),
    ("attribute_type(QuantityOnHand, :t)", None, {":t": "NULL"}, True),
])
def test_aws_condition_examples(expr, names, values, want):
    assert holds(expr, values, names) is want


# --------------------------------------------------------------------------- AWS: updates
def test_aws_update_examples():
    new = apply("SET ProductCategory = :c, Price = :p", {":c": "Hardware", ":p": 60})
    assert (new["ProductCategory"], new["Price"]) == ("Hardware", 60)
    assert apply("SET Price = Price - :p", {":p": 15})["Price"] == 485
    assert apply("SET Price = Price + :p", {":p": 15})["Price"] == 515
    assert apply("SET #ri = list_append(#ri, :vals)", {":vals": [1, 2]},
                 {"#ri": "RelatedItems"})["RelatedItems"] == [341, 472, 649, 1, 2]
    assert apply("SET #ri = list_append(:vals, #ri)", {":vals": [1]},
                 {"#ri": "RelatedItems"})["RelatedItems"] == [1, 341, 472, 649]
    assert apply("SET Price = if_not_exists(Price, :p)", {":p": 100})["Price"] == 500
    assert apply("SET Discount = if_not_exists(Discount, :p)", {":p": 100})["Discount"] == 100
    gone = apply("REMOVE Brand, InStock, QuantityOnHand")
    assert not {"Brand", "InStock", "QuantityOnHand"} & set(gone)
    assert apply("REMOVE RelatedItems[1], RelatedItems[2]")["RelatedItems"] == [341]
    assert apply("ADD Stock :q", {":q": 5})["Stock"] == 5
    assert apply("ADD Price :q", {":q": -5})["Price"] == 495
    assert apply("ADD Color :c", {":c": {"$SS": ["Orange", "Purple"]}})["Color"] == \
        {"$SS": ["Black", "Orange", "Purple", "Red"]}
    assert apply("DELETE Color :p", {":p": {"$SS": ["Red", "Yellow"]}})["Color"] == \
        {"$SS": ["Black"]}
    assert apply("DELETE Color :p", {":p": {"$SS": ["Red", "Black"]}}).get("Color", "gone") == "gone"
    assert apply("SET RelatedItems[1] = :ri", {":ri": 999})["RelatedItems"] == [341, 999, 649]
    assert apply("SET #pr.FiveStar[0] = :r", {":r": "Meh"},
                 {"#pr": "ProductReviews"})["ProductReviews"]["FiveStar"][0] == "Meh"
    assert apply("SET #pr.ThreeStar = :r3", {":r3": ["ok"]},
                 {"#pr": "ProductReviews"})["ProductReviews"]["ThreeStar"] == ["ok"]


# --------------------------------------------------------------------------- comparisons
def test_types_must_match():
    item = {"n": 1, "s": "1", "t": True, "l": [1], "b": {"$B": "AQ=="}}
    assert holds("n = :v", {":v": 1.0}, item=item) is True          # 1 = 1.0
    assert holds("n = :v", {":v": "1"}, item=item) is False
    assert holds("t = :v", {":v": 1}, item=item) is False            # BOOL is not 1
    assert holds("l = :v", {":v": [True]}, item=item) is False
    assert holds("n < :v", {":v": "2"}, item=item) is False
    assert holds("n <> :v", {":v": "1"}, item=item) is True
    assert holds("b < :v", {":v": {"$B": "Ag=="}}, item=item) is True
    assert holds("s < :v", {":v": "10"}, item=item) is True          # strings by code point


def test_absent_attributes():
    """An absent attribute is equal to nothing, not even another absent one, and <>
    everything; order comparisons with it are false (Alternator: issue 8511, on DynamoDB)."""
    item = {"a": 1}
    assert holds("q = z", item=item) is False
    assert holds("q <> z", item=item) is True
    assert holds("q <> :v", {":v": 1}, item=item) is True
    for op in ("<", "<=", ">", ">="):
        assert holds(f"q {op} z", item=item) is False
    assert holds("q BETWEEN z AND x", item=item) is False
    assert holds("q IN (:v)", {":v": None}, item=item) is False
    assert holds("attribute_not_exists(q)", item=item) is True
    # a missing item has no attributes at all
    assert holds("attribute_not_exists(a)", item=None) is True
    assert holds("a <> :v", {":v": 1}, item=None) is True
    assert holds("a = :v", {":v": 1}, item=None) is False


def test_refused_constants_and_functions():
    """DynamoDB refuses these whatever the item (ValidationException)."""
    for expr, values in [
        ("a < :v", {":v": [1, 2]}), (":v < a", {":v": {"$SS": ["x"]}}),
        ("a BETWEEN :x AND :y", {":x": 1, ":y": "z"}),
        ("a BETWEEN :x AND :y", {":x": 5, ":y": 1}),
        ("begins_with(a, :v)", {":v": 2}),
        ("attribute_type(a, :t)", {":t": "DOG"}),
        ("attribute_type(a, b)", None),
        ("size(:v) > :n", {":v": 123, ":n": 1}),
        ("size(a)", None), ("attribute_exists(a) < :n", {":n": 1}),
        ("if_not_exists(a, :v) = :v", {":v": 1}), ("list_append(a, :v) = :v", {":v": [1]}),
        ("dog(a)", None), ("size(a, a) = :n", {":n": 1}), ("contains(a, a)", None),
        ("attribute_exists(:v)", {":v": 1}),
        ("a = :undefined", None), ("#undefined = :v", {":v": 1}),
        ("a IN (" + ", ".join(f":v{i}" for i in range(101)) + ")",
         {f":v{i}": i for i in range(101)}),
    ]:
        c = condition(expr, None, values)
        assert c.rejected is not None, expr
        assert c.holds(BIKE) is REJECTED
    # the same type checks on item attributes are simply false
    assert holds("Color < :n", {":n": 1}) is False
    assert holds("begins_with(Price, :p)", {":p": "5"}) is False
    assert holds("size(Price) = :n", {":n": 3}) is False           # a number has no size
    assert holds("size(Price) <> :n", {":n": 3}) is True


def test_size_contains_begins_with():
    item = {"s": "hello", "b": {"$B": "aGkgdGhlcmU="}, "l": [2, "dog", {"$NS": [1, 2]}],
            "m": {"x": 1, "y": {"z": 2}}, "ns": {"$NS": [2, 4, 7]}, "bs": {"$BS": ["AA=="]}}
    assert holds("size(s) = :n", {":n": 5}, item=item) is True
    assert holds("size(b) = :n", {":n": 8}, item=item) is True       # bytes
    assert holds("size(m) = :n", {":n": 2}, item=item) is True       # top-level entries
    assert holds("size(:v) = :n", {":v": "abc", ":n": 3}, item=item) is True
    assert holds("contains(ns, :v)", {":v": 4}, item=item) is True
    assert holds("contains(ns, :v)", {":v": "4"}, item=item) is False
    assert holds("contains(l, :v)", {":v": {"$NS": [2, 1]}}, item=item) is True
    assert holds("contains(b, :v)", {":v": {"$B": "dGhlcmU="}}, item=item) is True
    assert holds("contains(bs, :v)", {":v": {"$B": "AA=="}}, item=item) is True
    assert holds("begins_with(b, :v)", {":v": {"$B": "aGk="}}, item=item) is True
    assert holds("begins_with(s, :v)", {":v": {"$B": "aGk="}}, item=item) is False
    assert holds("begins_with(s, s)", item=item) is True


def test_size_of_non_ascii_strings_is_unknown():
    """Whether DynamoDB's size() counts characters or UTF-8 bytes is not established."""
    assert holds("size(s) = :n", {":n": 2}, item={"s": "日本"}) is UNKNOWN
    assert holds("size(s) = :n OR a = a", {":n": 2}, item={"s": "日本", "a": 1}) is True
    assert holds("size(s) = :n AND a <> a", {":n": 2}, item={"s": "日本", "a": 1}) is False
    assert holds("size(:v) = :n", {":v": "é", ":n": 1}, item={}) is UNKNOWN


# --------------------------------------------------------------------------- grammar
@pytest.mark.parametrize("expr", [
    "a = :v", "a=:v", "a  =  :v", "A = :v and b = :v", "NOT a = :v", "not a = :v",
    "a between :v and :v", "a in (:v)", "(a = :v)", "((a = :v) and a = :v)",
    "attribute_exists (a)", "#x.#y[2].z[0] = :v", "a.b.c <> :v", "Alpha_Numeric_123 = :v",
    "NOT (a = :v OR a <> :v)",
])
def test_grammar_accepts(expr):
    c = condition(expr, {"#x": "x", "#y": "y"}, {":v": 1})
    assert c.rejected is None, (expr, c.rejected)


@pytest.mark.parametrize("expr", [
    "", "a", ":v", "NOT a", "a AND :v", "a = :v OR NOT :v", "((a = :v))", "a = = :v",
    "a IN ()", "_a = :v", "1a = :v", "a-b = :v", "a[:v] = :v", "a[#x] = :v", "a = :",
    "a = :v :v", "a BETWEEN :v", "a.1 = :v", "a = :v)", "(a = :v", "hi$there = :v",
    "ATTRIBUTE_EXISTS(a)", "a = :v AND",
])
def test_grammar_refuses(expr):
    assert condition(expr, {"#x": "x"}, {":v": 1}).holds({"a": 1}) is REJECTED


def test_precedence():
    """NOT binds tighter than AND, AND tighter than OR; BETWEEN's AND is its own."""
    item = {"a": 1, "b": 2}
    assert holds("a = :one OR a = :two AND b = :one", {":one": 1, ":two": 2}, item=item) is True
    assert holds("(a = :one OR a = :two) AND b = :one", {":one": 1, ":two": 2}, item=item) is False
    assert holds("NOT a = :two AND b = :two", {":two": 2}, item=item) is True
    assert holds("NOT (a = :one AND b = :one)", {":one": 1}, item=item) is True
    assert holds("a BETWEEN :one AND :two AND b = :two", {":one": 1, ":two": 2}, item=item) is True


def test_parse_is_cached():
    exprparse.parse_condition.cache_clear()
    for v in range(50):
        condition("a = :v AND b < :w", None, {":v": v, ":w": v})
    info = exprparse.parse_condition.cache_info()
    assert (info.misses, info.hits) == (1, 49)


# --------------------------------------------------------------------------- updates
def test_update_semantics():
    item = {"pk": "k", "a": [2, 3, 4, 5, 6, 7], "n": 1, "s": "x", "m": {"b": 1}}
    key = {"pk": "k"}
    # positions are those before the update, whatever the order of the actions
    assert apply("REMOVE a[1] SET a[3] = :v", {":v": 17}, item=item, key=key)["a"] == [2, 4, 17, 6, 7]
    assert apply("SET a[3] = :v REMOVE a[1]", {":v": 17}, item=item, key=key)["a"] == [2, 4, 17, 6, 7]
    # past the end: appended, in index order
    assert apply("SET a[84] = :x, a[37] = :y", {":x": "x", ":y": "y"}, item=item,
                 key=key)["a"][-2:] == ["y", "x"]
    assert apply("REMOVE a[17]", item=item, key=key)["a"] == item["a"]
    assert apply("REMOVE m.b", item=item, key=key)["m"] == {}
    # every value is read from the item before the update
    assert apply("SET n = :v, c = n", {":v": 5}, item=item, key=key)["c"] == 1
    assert apply("SET x = :v, y = x", {":v": 4}, item=item, key=key) is REJECTED
    # ADD and DELETE
    assert apply("ADD n :v", {":v": 2}, item=item, key=key)["n"] == 3
    assert apply("ADD s :v", {":v": 2}, item=item, key=key) is REJECTED
    assert apply("ADD z :v", {":v": {"$NS": [1]}}, item=item, key=key)["z"] == {"$NS": [1]}
    assert apply("DELETE z :v", {":v": {"$NS": [1]}}, item=item, key=key) == item
    # a missing item starts as its key attributes
    assert apply("SET n = :v", {":v": 1}, item=None, key=key) == {"pk": "k", "n": 1}
    assert apply("REMOVE q.r", item=None, key=key) == {"pk": "k"}
    assert apply("SET n = :v", {":v": 1}, item=None, key=None) is UNKNOWN


@pytest.mark.parametrize("expr, values", [
    ("SET q = z", None),                                   # reads a missing attribute
    ("SET b = b + :v", {":v": 1}),
    ("SET a = list_append(b, :v)", {":v": [1]}),
    ("SET s = s + :v", {":v": 1}),                          # s is a string
    ("SET s.c = :v", {":v": 1}), ("SET q.c = :v", {":v": 1}), ("SET s[0] = :v", {":v": 1}),
    ("REMOVE s.c", None), ("REMOVE q.c", None), ("REMOVE m[0]", None),
    ("SET pk = :v", {":v": 1}), ("REMOVE pk", None), ("ADD pk :v", {":v": 1}),
    ("SET n = n + :big", {":big": 10 ** 38}),               # 39 significant digits
    ("SET n = :a + :b", {":a": Decimal("9e125"), ":b": Decimal("9e125")}),   # overflow
    ("SET n = :a - :b", {":a": Decimal("1e50"), ":b": 1}),  # 50 digits: never rounded
])
def test_updates_dynamodb_refuses_on_this_item(expr, values):
    item = {"pk": "k", "n": 1, "s": "x", "m": {"b": 1}}
    assert update(expr, None, values).rejected is None
    assert apply(expr, values, item=item, key={"pk": "k"}) is REJECTED


@pytest.mark.parametrize("expr, values", [
    ("SET a = :v SET b = :v", {":v": 1}), ("SET a = :v REMOVE a", {":v": 1}),
    ("SET a = :v, a.b = :v", {":v": 1}), ("SET a.b = :v, a[1] = :v", {":v": 1}),
    ("SET #a = :v, #b = :v", {":v": 1}), ("SET a = :v + :v + :v", {":v": 1}),
    ("SET a = :s + :v", {":s": "x", ":v": 1}), ("SET a = list_append(:v, :v)", {":v": 1}),
    ("SET a = list_append(list_append(:l, :l), :l)", {":l": [1]}),
    ("SET a = if_not_exists(:v, :v)", {":v": 1}), ("SET a = if_not_exists(a, :v + :v)", {":v": 1}),
    ("SET a = f(b)", None), ("SET a = LIST_APPEND(:l, :l)", {":l": [1]}),
    ("ADD a :v", {":v": "x"}), ("ADD a :v", {":v": [1]}), ("DELETE a :v", {":v": 1}),
    ("ADD a b", None), ("", None), ("HELLO a", None), ("SET :a = :v", {":a": 1, ":v": 1}),
    ("SET a = size(b)", None), ("SET a = :undefined", None),
])
def test_updates_dynamodb_refuses_always(expr, values):
    u = update(expr, {"#a": "a", "#b": "a"}, values)
    assert u.rejected is not None, expr
    assert u.apply({"pk": "k"}, {"pk": "k"}) is REJECTED


def test_update_results_are_exact():
    key = {"pk": "k"}
    big = 12345678901234567890123456789012345678      # 38 digits
    assert apply("SET n = n - :one", {":one": 1}, item={"pk": "k", "n": big}, key=key)["n"] == big - 1
    assert apply("SET n = :a + :b", {":a": 0.1, ":b": 0.2}, item=None, key=key)["n"] == 0.3
    assert apply("ADD n :v", {":v": Decimal("1e-130")}, item={"pk": "k", "n": Decimal("-1e-130")},
                 key=key)["n"] == 0


# --------------------------------------------------------------------------- rule 11
def test_short_form_means_its_expression():
    item = {"a": 1, "b": "x"}
    assert short_condition({"a": 1, "b": "x"}).holds(item) is True
    assert short_condition({"a": 1.0}).holds(item) is True
    assert short_condition({"a": 2}).holds(item) is False
    assert short_condition({"c": None}).holds(item) is True
    assert short_condition({"a": None}).holds(item) is False
    assert short_condition({}).holds(item) is True
    # on a missing item: attribute_not_exists holds, comparisons do not, {} does not
    assert short_condition({"a": None}).holds(None) is True
    assert short_condition({"a": 1}).holds(None) is False
    assert short_condition({}).holds(None) is False
    # the item spec (model and register) reads it so
    def goes_through(item, cond):
        return step(item, Request("delete", "k", None, cond))[1]
    assert goes_through(None, {"a": None}) is True
    assert goes_through(None, {}) is False
    assert goes_through({"a": True}, {"a": 1}) is False             # typed equality
    assert short_condition({"a": {"$B": 5}}).holds(item) is REJECTED


# --------------------------------------------------------------------------- laws
@given(condition_cases())
@settings(max_examples=300, deadline=None)
def test_three_valued_logic(case):
    """NOT, AND and OR follow Kleene's logic over the answers of their parts, and
    parentheses change nothing."""
    from gtcheck.kernel import attrvalues as av
    item = av.item_to_json(case.item)
    values = {k: av.to_json(v) for k, v in case.values.items()}
    whole = condition(case.text, case.names, values).holds(item)
    group = case.text if case.tree[0] == "paren" else f"({case.text})"   # never ((...))
    neg = condition(f"NOT {group}", case.names, values).holds(item)
    if whole is REJECTED:
        assert neg is REJECTED
    elif whole is UNKNOWN:
        assert neg is UNKNOWN
    else:
        assert neg is (not whole)
    both = condition(f"{group} AND attribute_exists(pk)", case.names, values).holds(item)
    exists = item is not None
    if whole is REJECTED:
        assert both is REJECTED
    elif not exists:
        assert both is False
    else:
        assert both is whole


@pytest.mark.parametrize("text", ["NOT " * 3000 + "a = :v", "(a = :v AND " * 800 + "b = :v" + ")" * 800,
                                  "size(" * 2000 + "a" + ")" * 2000 + " = :v"])
def test_an_expression_nested_past_the_limit_is_a_syntax_error_not_a_crash(text):
    """The parser recurses; past MAX_NESTING levels it refuses the text (found by the emulator
    fuzzer: a RecursionError, a 500 in the emulator). It is gtcheck's limit, not DynamoDB's
    grammar, so a history's condition or update so deep is unknown, never rejected."""
    with pytest.raises(exprparse.ExprTooDeep, match="nests more than"):
        exprparse.parse_condition(text)
    c = condition(text, values={":v": 1})
    assert c.rejected is None and c.holds({"a": 1}) is UNKNOWN and c.holds(None) is UNKNOWN
    u = update("SET a = " + "f(" * 3000 + ":v" + ")" * 3000, values={":v": 1})
    assert u.rejected is None and u.apply({"a": 1}, {"k": 1}) is UNKNOWN


def test_an_expression_nested_up_to_the_limit_parses():
    depth = exprparse.MAX_NESTING
    assert exprparse.parse_condition("NOT " * depth + "a = :v")
    assert exprparse.parse_condition("(" * (depth - 1) + "a = :v AND b = :v" + " AND c = :v)" * (depth - 1))
    assert exprparse.parse_update("SET a = " + "f(" * depth + ":v" + ")" * depth)
