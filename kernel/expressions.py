"""DynamoDB's ConditionExpression and UpdateExpression, evaluated exactly as DynamoDB does.

One evaluator for every layer: the model's conditions, the checker's rules 8 and 11 and
its linearizability register, and (rule 12) the base of each write all ask it.

* ``condition(expr, names, values)`` -> :class:`Condition`, whose ``holds(item)`` answers
  ``True``, ``False``, :data:`UNKNOWN` (gtcheck cannot tell: both outcomes are possible)
  or :data:`REJECTED` (DynamoDB refuses the request with a ValidationException whatever
  the item: a syntax error, an undefined placeholder, an operand of the wrong type).
* ``update(expr, names, values)`` -> :class:`Update`, whose ``apply(item, key)`` answers
  the new item, :data:`REJECTED` (DynamoDB refuses the request on this item: ``ADD`` to a
  string, ``SET a = b + :v`` with ``b`` missing, a result beyond 38 digits, a path
  through something that is not a map or list, a key attribute changed...) or
  :data:`UNKNOWN`.
* ``short_condition({ATTR: VALUE, ...})`` -> the :class:`Condition` that the history's
  short form means (rule 11): ``ATTR = VALUE AND ...``, ``{ATTR: null}`` is
  ``attribute_not_exists(ATTR)``, ``{}`` is "the item exists".

Items are history JSON (``kernel/attrvalues.py``): an object of attributes, or ``None``
for no item. A missing item has no attributes: ``attribute_not_exists`` holds on it and
comparisons do not. An update applied to a missing item starts from its key attributes
(``key``; ``None`` when they are unknown, which makes the result :data:`UNKNOWN`).

The values of ``values`` are in the history's encoding by default (``encoding="wire"``
takes DynamoDB AttributeValues, ``"value"`` evaluator values). Numbers are exact
decimals throughout; ``+``, ``-`` and ``ADD`` give the exact result or refuse the request
(more than 38 significant digits, or out of DynamoDB's range), as DynamoDB does.

Where DynamoDB's behaviour is not known to gtcheck the answer is :data:`UNKNOWN`, never a
guess: ``size()`` of a string with non-ASCII characters (characters or UTF-8 bytes?),
``ADD``/``DELETE`` on a list element past the end, ``DELETE`` emptying a set held in a
list, ``if_not_exists`` on a path through a value that is not a map or list. ``docs/expressions.md`` lists what is supported.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from gtcheck.kernel import attrvalues as av
from gtcheck.kernel.attrvalues import BinSet, EncodingProblem, NumSet, StrSet
from gtcheck.kernel.exprparse import ExprSyntaxError, ExprTooDeep, parse_condition, parse_update

__all__ = ["UNKNOWN", "REJECTED", "Condition", "Update", "condition", "update",
           "short_condition", "is_expression_form", "history_condition", "history_update",
           "form_problems", "EXPRESSION_FIELDS"]


class _Verdict:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        raise TypeError(f"{self.name} is neither true nor false: test it with `is`")


UNKNOWN: Any = _Verdict("UNKNOWN")
REJECTED: Any = _Verdict("REJECTED")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()       # an attribute the item does not have


class _Refused(Exception):
    """DynamoDB refuses the request (ValidationException); ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class _Unsure(Exception):
    """gtcheck does not know what DynamoDB does here."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"})
_MAX_IN = 100            # IN takes at most 100 operands in its list


# --------------------------------------------------------------------------- context
class _Context:
    """Placeholders of one request, resolved while compiling."""

    __slots__ = ("names", "values", "encoding")

    def __init__(self, names: dict[str, str] | None, values: dict[str, Any] | None,
                 encoding: str):
        self.names = names or {}
        self.values = values or {}
        self.encoding = encoding

    def name(self, ph: str) -> str:
        try:
            n = self.names[ph]
        except KeyError:
            raise _Refused(f"an expression attribute name used in the document path is "
                           f"not defined; attribute name: {ph}") from None
        if not isinstance(n, str):
            raise _Refused(f"ExpressionAttributeNames[{ph!r}] is not a string")
        return n

    def value(self, ph: str) -> Any:
        try:
            raw = self.values[ph]
        except KeyError:
            raise _Refused(f"an expression attribute value used in expression is not "
                           f"defined; attribute value: {ph}") from None
        try:
            if self.encoding == "json":
                return av.from_json(raw)
            if self.encoding == "wire":
                return av.from_wire(raw)
        except EncodingProblem as exc:
            raise _Refused(f"ExpressionAttributeValues[{ph!r}]: {exc}") from None
        return raw

    def path(self, node: tuple) -> tuple:
        out: list[str | int] = []
        for kind, x in node[1]:
            out.append(x if kind in ("name", "idx") else self.name(x))
        return tuple(out)


def _show(path: tuple) -> str:
    text = ""
    for s in path:
        text += f"[{s}]" if isinstance(s, int) else (f".{s}" if text else s)
    return text


# --------------------------------------------------------------------------- lookups
def _json_child(node: Any, step: str | int) -> Any:
    """One step down a history-JSON value, decoding tags only as far as needed."""
    if isinstance(step, str):
        if type(node) is not dict:
            return _MISSING
        if len(node) == 1:
            (tag, inner), = node.items()
            if tag == "$M":
                node = inner
                if type(node) is not dict:
                    return _MISSING
            elif tag in av.TAGS:
                return _MISSING           # binary or a set: no attributes
        return node.get(step, _MISSING)
    if type(node) is not list or step >= len(node):
        return _MISSING
    return node[step]


def _json_lookup(item: dict[str, Any] | None, path: tuple) -> Any:
    """The evaluator value at ``path`` in a history item, or _MISSING."""
    if item is None:
        return _MISSING
    if type(item) is not dict:
        raise _Unsure("the version is not an item (an object of attributes)")
    node = item.get(path[0], _MISSING)
    for step in path[1:]:
        if node is _MISSING:
            return _MISSING
        node = _json_child(node, step)
    if node is _MISSING:
        return _MISSING
    try:
        return av.from_json(node)
    except EncodingProblem as exc:
        raise _Unsure(f"the item's attribute {_show(path)} is not valid: {exc}") from None


def _value_lookup(item: dict[str, Any], path: tuple) -> Any:
    """The value at ``path`` in an item of evaluator values, or _MISSING."""
    node = item.get(path[0], _MISSING)
    for step in path[1:]:
        t = type(node)
        if isinstance(step, str):
            if t is not dict:
                return _MISSING
            node = node.get(step, _MISSING)
        else:
            if t is not list or step >= len(node):
                return _MISSING
            node = node[step]
    return node


def _through_non_container(item: dict[str, Any], path: tuple) -> bool:
    """Whether ``path`` is missing because a step meets a value that is not a map (for a
    name) or a list (for an index), rather than because something is absent. Walks the
    prefixes with :func:`_value_lookup` (one walking rule); only asked on a missing value."""
    for i in range(1, len(path)):
        parent = _value_lookup(item, path[:i])
        if parent is _MISSING:
            return False
        if type(parent) is not (dict if isinstance(path[i], str) else list):
            return True
    return False


# --------------------------------------------------------------------------- conditions
Getter = Callable[[Any], Any]
Test = Callable[[Any], Any]           # item -> True | False | UNKNOWN


class _Operand:
    """A compiled operand: ``kind`` is "path", "const" or "size"; ``get(item)`` gives its
    value or _MISSING (may raise _Unsure)."""

    __slots__ = ("kind", "get", "const", "path")

    def __init__(self, kind: str, get: Getter, const: Any = _MISSING, path: tuple = ()):
        self.kind = kind
        self.get = get
        self.const = const
        self.path = path


def _size_of(v: Any, from_item: bool) -> Any:
    t = type(v)
    if t is str:
        if not v.isascii():
            raise _Unsure("size() of a string with non-ASCII characters (DynamoDB may count "
                          "characters or UTF-8 bytes)")
        return Decimal(len(v))
    if t is bytes or t is list or t is dict or t is StrSet or t is NumSet or t is BinSet:
        return Decimal(len(v))
    if from_item:
        return _MISSING                   # no size: every comparison with it is false
    raise _Refused(f"incorrect operand type for operator or function; operator or "
                   f"function: size, operand type: {av.type_of(v)}")


def _path_operand(path: tuple) -> _Operand:
    def get(item: Any) -> Any:
        return _json_lookup(item, path)
    return _Operand("path", get, path=path)


def _const_operand(v: Any) -> _Operand:
    def get(item: Any) -> Any:
        return v
    return _Operand("const", get, const=v)


def _unsure(reason: str) -> Getter:
    def get(item: Any) -> Any:
        raise _Unsure(reason)
    return get


def _compile_operand(node: tuple, ctx: _Context) -> _Operand:
    kind = node[0]
    if kind == "path":
        return _path_operand(ctx.path(node))
    if kind == "val":
        return _const_operand(ctx.value(node[1]))
    name, args = node[1], node[2]
    if name != "size":
        if name in ("attribute_exists", "attribute_not_exists", "attribute_type",
                    "begins_with", "contains"):
            raise _Refused(f"the function is not allowed to be used this way in an "
                           f"expression; function: {name}")
        if name in ("if_not_exists", "list_append"):
            raise _Refused(f"the function is not allowed in a condition expression; "
                           f"function: {name}")
        raise _Refused(f"invalid function name; function: {name}")
    if len(args) != 1:
        raise _Refused(f"incorrect number of operands for operator or function; operator "
                       f"or function: size, number of operands: {len(args)}")
    arg = args[0]
    if arg[0] == "call":
        raise _Refused("incorrect operand type for operator or function; operator or "
                       "function: size, operand type: N")
    inner = _compile_operand(arg, ctx)
    if inner.kind == "const":
        try:
            n = _size_of(inner.const, False)
        except _Unsure as exc:
            return _Operand("size", _unsure(exc.reason))
        return _Operand("size", _const_operand(n).get)
    get = inner.get

    def size(item: Any) -> Any:
        v = get(item)
        return _MISSING if v is _MISSING else _size_of(v, True)
    return _Operand("size", size)


def _need_comparable(op: _Operand, what: str) -> None:
    if op.kind == "const" and not av.comparable(op.const):
        raise _Refused(f"incorrect operand type for operator or function; operator or "
                       f"function: {what}, operand type: {av.type_of(op.const)}")


def _guard(test: Callable[[Any], bool]) -> Test:
    """A primitive test that answers UNKNOWN where gtcheck cannot tell."""
    def run(item: Any) -> Any:
        try:
            return test(item)
        except _Unsure:
            return UNKNOWN
    return run


def _compile_cmp(op: str, a: _Operand, b: _Operand) -> Test:
    ga, gb = a.get, b.get
    if op == "=":
        def eq(item: Any) -> bool:
            x, y = ga(item), gb(item)
            return x is not _MISSING and y is not _MISSING and av.equal(x, y)
        return _guard(eq)
    if op == "<>":
        def ne(item: Any) -> bool:
            x, y = ga(item), gb(item)
            return x is _MISSING or y is _MISSING or not av.equal(x, y)
        return _guard(ne)
    _need_comparable(a, op)
    _need_comparable(b, op)
    want = {"<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (1, 0)}[op]

    def order(item: Any) -> bool:
        x, y = ga(item), gb(item)
        if x is _MISSING or y is _MISSING:
            return False
        return av.compare(x, y) in want
    return _guard(order)


def _compile_between(v: _Operand, lo: _Operand, hi: _Operand) -> Test:
    for op in (v, lo, hi):
        _need_comparable(op, "BETWEEN")
    if lo.kind == "const" and hi.kind == "const":
        if av.type_of(lo.const) != av.type_of(hi.const):
            raise _Refused("BETWEEN requires the same type for its lower and upper bound")
        if av.compare(lo.const, hi.const) == 1:
            raise _Refused("BETWEEN requires the lower bound to be less than or equal to "
                           "the upper bound")
    gv, gl, gh = v.get, lo.get, hi.get

    def between(item: Any) -> bool:
        x, a, b = gv(item), gl(item), gh(item)
        if x is _MISSING or a is _MISSING or b is _MISSING:
            return False
        lo_cmp = av.compare(a, b)
        if lo_cmp is None or lo_cmp == 1:
            return False
        c1 = av.compare(a, x)
        c2 = av.compare(x, b)
        return c1 is not None and c2 is not None and c1 <= 0 and c2 <= 0
    return _guard(between)


def _compile_in(v: _Operand, items: list[_Operand]) -> Test:
    if len(items) > _MAX_IN:
        raise _Refused(f"IN takes at most {_MAX_IN} operands in its list")
    gv = v.get
    gets = [o.get for o in items]

    def inside(item: Any) -> bool:
        x = gv(item)
        if x is _MISSING:
            return False
        for g in gets:
            y = g(item)
            if y is not _MISSING and av.equal(x, y):
                return True
        return False
    return _guard(inside)


def _compile_function(call: tuple, ctx: _Context) -> Test:
    name, args = call[1], call[2]
    arity = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
             "begins_with": 2, "contains": 2}
    if name not in arity:
        if name == "size":
            raise _Refused("the function is not allowed to be used this way in an "
                           "expression; function: size")
        if name in ("if_not_exists", "list_append"):
            raise _Refused(f"the function is not allowed in a condition expression; "
                           f"function: {name}")
        raise _Refused(f"invalid function name; function: {name}")
    if len(args) != arity[name]:
        raise _Refused(f"incorrect number of operands for operator or function; operator "
                       f"or function: {name}, number of operands: {len(args)}")
    ops = [_compile_operand(a, ctx) for a in args]
    if name in ("attribute_exists", "attribute_not_exists"):
        if ops[0].kind != "path":
            raise _Refused(f"operator or function requires a document path; operator or "
                           f"function: {name}")
        g = ops[0].get
        if name == "attribute_exists":
            return _guard(lambda item: g(item) is not _MISSING)
        return _guard(lambda item: g(item) is _MISSING)
    a, b = ops
    if name == "attribute_type":
        if b.kind != "const" or type(b.const) is not str:
            raise _Refused("attribute_type's second operand must be an expression attribute "
                           "value holding a type name")
        if b.const not in _TYPES:
            raise _Refused(f"invalid attribute type name found in type: {b.const}; valid "
                           "types: N, S, B, NS, SS, BS, L, M, NULL, BOOL")
        want, ga = b.const, a.get

        def typed(item: Any) -> bool:
            x = ga(item)
            return x is not _MISSING and av.type_of(x) == want
        return _guard(typed)
    ga, gb = a.get, b.get
    if name == "begins_with":
        for op in (a, b):
            if op.kind == "const" and type(op.const) not in (str, bytes):
                raise _Refused(f"incorrect operand type for operator or function; operator "
                               f"or function: begins_with, operand type: "
                               f"{av.type_of(op.const)}")

        def begins(item: Any) -> bool:
            x, y = ga(item), gb(item)
            if x is _MISSING or y is _MISSING or type(x) is not type(y):
                return False
            return type(x) in (str, bytes) and x.startswith(y)
        return _guard(begins)
    # contains
    if a.kind == "path" and b.kind == "path" and a.path == b.path:
        raise _Refused("contains() cannot take one attribute as both operands")

    def contains(item: Any) -> bool:
        x, y = ga(item), gb(item)
        if x is _MISSING or y is _MISSING:
            return False
        tx = type(x)
        if tx is str or tx is bytes:
            return type(y) is tx and y in x
        if tx is StrSet:
            return type(y) is str and y in x
        if tx is NumSet:
            return type(y) is Decimal and y in x
        if tx is BinSet:
            return type(y) is bytes and y in x
        if tx is list:
            return any(av.equal(e, y) for e in x)
        return False
    return _guard(contains)


def _junction(x: Test, y: Test, decisive: bool) -> Test:
    """AND (``decisive`` False) or OR (True) in Kleene's logic: one decisive answer
    decides, two of the other kind give the other, anything else is UNKNOWN."""
    def run(item: Any) -> Any:
        a = x(item)
        if a is decisive:
            return decisive
        b = y(item)
        if b is decisive:
            return decisive
        return (not decisive) if (a is not UNKNOWN and b is not UNKNOWN) else UNKNOWN
    return run


def _and(x: Test, y: Test) -> Test:
    return _junction(x, y, False)


def _or(x: Test, y: Test) -> Test:
    return _junction(x, y, True)


def _not(x: Test) -> Test:
    def negate(item: Any) -> Any:
        a = x(item)
        return UNKNOWN if a is UNKNOWN else (not a)
    return negate


def _compile_condition(node: tuple, ctx: _Context) -> Test:
    kind = node[0]
    if kind == "and":
        return _and(_compile_condition(node[1], ctx), _compile_condition(node[2], ctx))
    if kind == "or":
        return _or(_compile_condition(node[1], ctx), _compile_condition(node[2], ctx))
    if kind == "not":
        return _not(_compile_condition(node[1], ctx))
    if kind == "cmp":
        return _compile_cmp(node[1], _compile_operand(node[2], ctx),
                            _compile_operand(node[3], ctx))
    if kind == "between":
        return _compile_between(*(_compile_operand(n, ctx) for n in node[1:4]))
    if kind == "in":
        return _compile_in(_compile_operand(node[1], ctx),
                           [_compile_operand(n, ctx) for n in node[2]])
    if kind == "fn":
        return _compile_function(node[1], ctx)
    raise AssertionError(f"unknown condition node {kind}")   # pragma: no cover


class Condition:
    """A compiled condition. ``holds(item)``: True, False, UNKNOWN or REJECTED.

    ``rejected`` says why DynamoDB refuses every request carrying it (None if it does
    not); ``text`` is the expression as given."""

    __slots__ = ("text", "rejected", "_test")

    def __init__(self, text: str, test: Test | None, rejected: str | None = None):
        self.text = text
        self._test = test
        self.rejected = rejected

    def holds(self, item: dict[str, Any] | None) -> Any:
        """Whether the condition holds on ``item`` (history JSON; None: no item)."""
        if self._test is None:
            return REJECTED
        try:
            return self._test(item)
        except _Unsure:
            return UNKNOWN

    def __repr__(self) -> str:
        return f"Condition({self.text!r}{', rejected' if self.rejected else ''})"


def _context(names: Any, values: Any, encoding: str) -> _Context:
    if encoding not in ("json", "wire", "value"):
        raise ValueError(f"unknown encoding {encoding!r}")
    if names is not None and not isinstance(names, dict):
        raise _Refused("ExpressionAttributeNames must be an object")
    if values is not None and not isinstance(values, dict):
        raise _Refused("ExpressionAttributeValues must be an object")
    return _Context(names, values, encoding)


def condition(expr: str, names: dict[str, str] | None = None,
              values: dict[str, Any] | None = None, *, encoding: str = "json") -> Condition:
    """Compile a ConditionExpression with its ExpressionAttributeNames and
    ExpressionAttributeValues (the text's parse is cached; see the module doc)."""
    if not isinstance(expr, str):
        return Condition(repr(expr), None, "the expression is not a string")
    try:
        tree = parse_condition(expr)
        return Condition(expr, _compile_condition(tree, _context(names, values, encoding)))
    except ExprTooDeep as exc:
        return Condition(expr, _never_sure(str(exc)))       # gtcheck's limit: DynamoDB may accept it
    except ExprSyntaxError as exc:
        return Condition(expr, None, f"syntax error: {exc}")
    except _Refused as exc:
        return Condition(expr, None, exc.reason)


def _never_sure(reason: str) -> Test:
    """A condition gtcheck cannot evaluate on any item: always unknown."""
    def test(item: Any) -> bool:
        raise _Unsure(reason)
    return test


def _exists(item: Any) -> bool:
    return item is not None


def _absent(get: Getter) -> Test:
    return _guard(lambda item: get(item) is _MISSING)


def short_condition(cond: dict[str, Any]) -> Condition:
    """Rule 11's short form as the condition it means: ``{ATTR: VALUE, ...}`` is ``ATTR =
    VALUE AND ...`` (ATTR a top-level attribute name, VALUE in the history's encoding),
    ``{ATTR: null}`` is ``attribute_not_exists(ATTR)``, ``{}`` is "the item exists"."""
    if not isinstance(cond, dict):
        return Condition(repr(cond), None, "a short-form condition is an object")
    if not cond:
        return Condition("{}", _exists)
    test: Test | None = None
    try:
        for name, raw in cond.items():
            attr = _path_operand((name,))
            if raw is None:
                part = _absent(attr.get)
            else:
                part = _compile_cmp("=", attr, _const_operand(av.from_json(raw, name)))
            test = part if test is None else _and(test, part)
    except EncodingProblem as exc:
        return Condition(repr(cond), None, f"condition value {exc}")
    return Condition(repr(cond), test)


# --------------------------------------------------------------------------- updates
Value = Callable[[dict[str, Any]], Any]     # evaluator item -> value (may raise _Refused)


def _compile_value(node: tuple, ctx: _Context, inside_append: bool = False) -> tuple[str, Any, Value]:
    """(kind, const, evaluate) for an operand of a SET value."""
    kind = node[0]
    if kind == "path":
        path = ctx.path(node)

        def read(item: dict[str, Any], p: tuple = path) -> Any:
            v = _value_lookup(item, p)
            if v is _MISSING:
                raise _Refused(f"the provided expression refers to an attribute that does "
                               f"not exist in the item ({_show(p)})")
            return v
        return "path", _MISSING, read
    if kind == "val":
        v = ctx.value(node[1])
        return "const", v, (lambda item, v=v: v)
    name, args = node[1], node[2]
    if name == "if_not_exists":
        if len(args) != 2:
            raise _Refused(f"incorrect number of operands for operator or function; operator "
                           f"or function: if_not_exists, number of operands: {len(args)}")
        if args[0][0] != "path":
            raise _Refused("operator or function requires a document path; operator or "
                           "function: if_not_exists")
        path = ctx.path(args[0])
        _, _, other = _compile_value(args[1], ctx)

        def if_not_exists(item: dict[str, Any], p: tuple = path) -> Any:
            v = _value_lookup(item, p)
            if v is _MISSING and _through_non_container(item, p):
                raise _Unsure(f"if_not_exists on a path through something that is not a map "
                              f"or list ({_show(p)}): a missing attribute, or an invalid "
                              "document path?")
            return other(item) if v is _MISSING else v
        return "call", _MISSING, if_not_exists
    if name == "list_append":
        if inside_append:
            raise _Refused("the function is not allowed to be used this way in an "
                           "expression; function: list_append")
        if len(args) != 2:
            raise _Refused(f"incorrect number of operands for operator or function; operator "
                           f"or function: list_append, number of operands: {len(args)}")
        parts = [_compile_value(a, ctx, True) for a in args]
        for k, c, _ in parts:
            if k == "const" and type(c) is not list:
                raise _Refused(f"incorrect operand type for operator or function; operator "
                               f"or function: list_append, operand type: {av.type_of(c)}")
        fa, fb = parts[0][2], parts[1][2]

        def list_append(item: dict[str, Any]) -> Any:
            x, y = fa(item), fb(item)
            if type(x) is not list or type(y) is not list:
                bad = x if type(x) is not list else y
                raise _Refused(f"incorrect operand type for operator or function; operator "
                               f"or function: list_append, operand type: {av.type_of(bad)}")
            return x + y
        return "call", _MISSING, list_append
    if name in ("size", "attribute_exists", "attribute_not_exists", "attribute_type",
                "begins_with", "contains"):
        raise _Refused(f"the function is not allowed in an update expression; function: "
                       f"{name}")
    raise _Refused(f"invalid function name; function: {name}")


def _compile_set_value(node: tuple, ctx: _Context) -> Value:
    if node[0] in ("+", "-"):
        op = node[0]
        parts = [_compile_value(n, ctx) for n in node[1:]]
        for k, c, _ in parts:
            if k == "const" and type(c) is not Decimal:
                raise _Refused(f"incorrect operand type for operator or function; operator "
                               f"or function: {op}, operand type: {av.type_of(c)}")
        fa, fb = parts[0][2], parts[1][2]
        arith = av.add if op == "+" else av.subtract

        def compute(item: dict[str, Any]) -> Any:
            x, y = fa(item), fb(item)
            if type(x) is not Decimal or type(y) is not Decimal:
                raise _Refused("an operand in the update expression has an incorrect data "
                               "type")
            r = arith(x, y)
            if isinstance(r, str):
                raise _Refused(f"number overflow or precision: {r}")
            return r
        return compute
    return _compile_value(node, ctx)[2]


def _overlap(p: tuple, q: tuple) -> str | None:
    n = min(len(p), len(q))
    for i in range(n):
        a, b = p[i], q[i]
        if a == b and type(a) is type(b):
            continue
        if isinstance(a, int) != isinstance(b, int):
            return (f"two document paths conflict with each other; path one: {_show(p)}, "
                    f"path two: {_show(q)}")
        return None
    return (f"two document paths overlap with each other; path one: {_show(p)}, path two: "
            f"{_show(q)}")


def _copy(v: Any) -> Any:
    t = type(v)
    if t is dict:
        return {k: _copy(x) for k, x in v.items()}
    if t is list:
        return [_copy(x) for x in v]
    return v                              # immutable: str, Decimal, bytes, bool, None, sets


class _Apply:
    """One application of an update to one item (evaluator values, copied)."""

    def __init__(self, item: dict[str, Any], missing_item: bool):
        self.item = item
        self.missing_item = missing_item
        self.appends: dict[int, tuple[list, list[tuple[int, Any]]]] = {}
        self.removals: dict[int, tuple[list, list[int]]] = {}

    def parent(self, path: tuple, action: str) -> Any:
        """The container holding ``path``'s last step, or raise."""
        node: Any = self.item
        for step in path[:-1]:
            t = type(node)
            if isinstance(step, str):
                node = node.get(step, _MISSING) if t is dict else _MISSING
            else:
                node = node[step] if t is list and step < len(node) else _MISSING
            if node is _MISSING:
                raise _Refused(f"the document path provided in the update expression is "
                               f"invalid for update ({action} {_show(path)})")
        last = path[-1]
        if (isinstance(last, str) and type(node) is not dict) or \
                (isinstance(last, int) and type(node) is not list):
            raise _Refused(f"the document path provided in the update expression is invalid "
                           f"for update ({action} {_show(path)})")
        return node

    def set(self, path: tuple, value: Any) -> None:
        box = self.parent(path, "SET")
        last = path[-1]
        if isinstance(last, str):
            box[last] = value
        elif last < len(box):
            box[last] = value
        else:
            self.appends.setdefault(id(box), (box, []))[1].append((last, value))

    def remove(self, path: tuple) -> None:
        try:
            box = self.parent(path, "REMOVE")
        except _Refused:
            if self.missing_item:
                return                    # DynamoDB ignores any REMOVE on a missing item
            raise
        last = path[-1]
        if isinstance(last, str):
            box.pop(last, None)
        elif last < len(box):
            self.removals.setdefault(id(box), (box, []))[1].append(last)

    def target(self, path: tuple, action: str) -> tuple[Any, Any]:
        try:
            box = self.parent(path, action)
        except _Refused:
            if action == "DELETE":        # not known: refused like SET, or ignored?
                raise _Unsure(f"DELETE through a path whose parent is missing or not a "
                              f"map or list ({_show(path)})") from None
            raise
        last = path[-1]
        if isinstance(last, str):
            return box, box.get(last, _MISSING)
        if last >= len(box):
            raise _Unsure(f"{action} on a list element past the end of the list "
                          f"({_show(path)})")
        return box, box[last]

    def add(self, path: tuple, value: Any) -> None:
        box, old = self.target(path, "ADD")
        last = path[-1]
        if old is _MISSING:
            box[last] = value
            return
        t = type(value)
        if t is Decimal and type(old) is Decimal:
            r = av.add(old, value)
            if isinstance(r, str):
                raise _Refused(f"number overflow or precision: {r}")
            box[last] = r
        elif t in (StrSet, NumSet, BinSet) and type(old) is t:
            box[last] = t(old | value)
        else:
            raise _Refused("an operand in the update expression has an incorrect data type")

    def delete(self, path: tuple, value: Any) -> None:
        box, old = self.target(path, "DELETE")
        last = path[-1]
        if old is _MISSING:
            return
        t = type(value)
        if type(old) is not t:
            raise _Refused("an operand in the update expression has an incorrect data type")
        rest = old - value
        if rest:
            box[last] = t(rest)
        elif isinstance(last, str):
            del box[last]
        else:
            raise _Unsure(f"DELETE emptying a set held in a list ({_show(path)})")

    def finish(self) -> None:
        """The list operations that change positions, by the original positions."""
        for box, idxs in self.removals.values():
            for i in sorted(set(idxs), reverse=True):
                del box[i]
        for box, adds in self.appends.values():
            box.extend(v for _, v in sorted(adds, key=lambda a: a[0]))


class Update:
    """A compiled UpdateExpression. ``apply(item, key)``: the new item (history JSON),
    REJECTED or UNKNOWN. ``rejected`` says why DynamoDB refuses every request carrying it
    (None if it does not)."""

    __slots__ = ("text", "rejected", "sets", "removes", "adds", "deletes", "targets")

    def __init__(self, text: str, rejected: str | None = None):
        self.text = text
        self.rejected = rejected
        self.sets: list[tuple[tuple, Value]] = []
        self.removes: list[tuple] = []
        self.adds: list[tuple[tuple, Any]] = []
        self.deletes: list[tuple[tuple, Any]] = []
        self.targets: list[tuple] = []

    def apply(self, item: dict[str, Any] | None, key: dict[str, Any] | None = None) -> Any:
        """The item after this update (history JSON), REJECTED or UNKNOWN.

        ``item`` is the version the update is applied to (None: no item); ``key`` the
        item's key attributes (history JSON): a missing item starts as them, and an
        update that changes one is refused. ``key=None`` means they are unknown: then
        the result on a missing item is UNKNOWN, and changes to key attributes are not
        detected."""
        return self.explain(item, key)[0]

    def explain(self, item: dict[str, Any] | None, key: dict[str, Any] | None = None
                ) -> tuple[Any, str | None]:
        """``(apply's answer, why)``: why is the reason for REJECTED or UNKNOWN."""
        if self.rejected is not None:
            return REJECTED, self.rejected
        if key:
            for p in self.targets:
                if p[0] in key:
                    return REJECTED, (f"cannot update attribute {p[0]}: this attribute is "
                                      "part of the key")
        if item is None:
            if key is None:
                return UNKNOWN, "an update of a missing item whose key attributes are unknown"
            source: Any = key
        else:
            source = item
        try:
            base = av.item_from_json(source) or {}
        except EncodingProblem as exc:
            return UNKNOWN, f"the item is not valid: {exc}"
        try:
            values = [(p, f(base)) for p, f in self.sets]
            run = _Apply(_copy(base), item is None)
            for p, v in values:
                run.set(p, v)
            for p in self.removes:
                run.remove(p)
            for p, v in self.adds:
                run.add(p, v)
            for p, v in self.deletes:
                run.delete(p, v)
            run.finish()
        except _Refused as exc:
            return REJECTED, exc.reason
        except _Unsure as exc:
            return UNKNOWN, exc.reason
        return av.item_to_json(run.item), None

    def __repr__(self) -> str:
        return f"Update({self.text!r}{', rejected' if self.rejected else ''})"


def _compile_update(u: Update, tree: tuple, ctx: _Context) -> None:
    _, sets, removes, adds, deletes = tree
    for path_node, value_node in sets:
        p = ctx.path(path_node)
        u.sets.append((p, _compile_set_value(value_node, ctx)))
        u.targets.append(p)
    for path_node in removes:
        p = ctx.path(path_node)
        u.removes.append(p)
        u.targets.append(p)
    for clause, pairs, out in (("ADD", adds, u.adds), ("DELETE", deletes, u.deletes)):
        for path_node, operand in pairs:
            p = ctx.path(path_node)
            if operand[0] != "val":
                raise _Refused(f"{clause} takes an expression attribute value (:name) as its "
                               "operand")
            v = ctx.value(operand[1])
            t = type(v)
            ok = t in (StrSet, NumSet, BinSet) or (clause == "ADD" and t is Decimal)
            if not ok:
                raise _Refused(f"incorrect operand type for operator or function; operator: "
                               f"{clause}, operand type: {av.type_of(v)}")
            out.append((p, v))
            u.targets.append(p)
    ts = u.targets
    for i in range(len(ts)):
        for j in range(i + 1, len(ts)):
            why = _overlap(ts[i], ts[j])
            if why is not None:
                raise _Refused(why)


def update(expr: str, names: dict[str, str] | None = None,
           values: dict[str, Any] | None = None, *, encoding: str = "json") -> Update:
    """Compile an UpdateExpression with its ExpressionAttributeNames and
    ExpressionAttributeValues (the text's parse is cached; see the module doc)."""
    if not isinstance(expr, str):
        return Update(repr(expr), "the expression is not a string")
    u = Update(expr)
    try:
        _compile_update(u, parse_update(expr), _context(names, values, encoding))
    except ExprTooDeep as exc:
        u = Update(expr)                                    # gtcheck's limit: DynamoDB may accept it
        u.sets.append((("path", ()), _unsure(str(exc))))
    except ExprSyntaxError as exc:
        return Update(expr, f"syntax error: {exc}")
    except _Refused as exc:
        return Update(expr, exc.reason)
    return u



# --------------------------------------------------------------------------- the history's forms
EXPRESSION_FIELDS = frozenset({"expression", "names", "values"})


def is_expression_form(obj: Any) -> bool:
    """Whether a history ``condition`` (or an update's invoke ``value``) is written as a
    DynamoDB expression: an object with ``expression`` and at most ``names`` and
    ``values`` (rule 11). Any other object is a short-form condition (or a set/remove/add
    change)."""
    return type(obj) is dict and "expression" in obj and EXPRESSION_FIELDS.issuperset(obj)


def history_condition(obj: Any) -> Condition:
    """The condition a history's ``condition`` field means: an expression, or the short
    form (rule 11); a bare string is an expression without names or values (what earlier
    recorders wrote). Call :func:`form_problems` first to refuse malformed shapes."""
    if type(obj) is str:               # a bare expression: {"expression": obj}
        return condition(obj)
    if is_expression_form(obj):
        return condition(obj["expression"], obj.get("names"), obj.get("values"))
    return short_condition(obj)


def history_update(value: Any) -> Update | None:
    """The UpdateExpression an update's invoke ``value`` carries, or None when the value is
    a set/remove/add change (rule 8)."""
    if type(value) is dict and "expression" in value:
        return update(value["expression"], value.get("names"), value.get("values"))
    return None


def form_problems(obj: Any, what: str) -> list[tuple[str, str, Any, str | None]]:
    """Why ``obj`` is not a well-formed rule-11 ``condition`` (``what="condition"``) or
    update expression (``what="update"``): ``(field suffix, expected, got, hint)`` per
    problem, empty when well formed. An expression that does not parse is well formed
    (it is evaluated as unknown), as is one DynamoDB would refuse."""
    out: list[tuple[str, str, Any, str | None]] = []
    if what == "condition" and type(obj) is str:
        return out                     # a bare expression, without names or values
    if type(obj) is not dict:
        out.append(("", "an object: {\"expression\": ..., \"names\": {...}, \"values\": "
                    "{...}}" + (" or the short form {ATTR: VALUE, ...}"
                                if what == "condition" else ""), obj,
                    "write DynamoDB's expression with its ExpressionAttributeNames and "
                    "ExpressionAttributeValues"))
        return out
    if what == "update" or is_expression_form(obj):
        extra = [k for k in obj if k not in EXPRESSION_FIELDS]
        if extra:
            out.append(("", 'an object with only "expression", "names" and "values"', obj,
                        f"remove {', '.join(map(repr, extra))} (a change is written either as "
                        "set/remove/add or as an expression, not both)"))
        e = obj.get("expression")
        if type(e) is not str:
            out.append((".expression", "the expression's text (a string)", e, None))
        names = obj.get("names", {})
        if type(names) is not dict or not all(
                type(k) is str and k.startswith("#") and type(v) is str
                for k, v in names.items()):
            out.append((".names", 'an object of "#placeholder": "attribute name"', names,
                        "DynamoDB's ExpressionAttributeNames, as sent"))
        values = obj.get("values", {})
        if type(values) is not dict or not all(
                type(k) is str and k.startswith(":") for k in values):
            out.append((".values", 'an object of ":placeholder": value', values,
                        "DynamoDB's ExpressionAttributeValues, in the history's item encoding"))
        else:
            for k, v in values.items():
                for p in av.json_problems(v):
                    out.append((f".values.{k}" + (f".{p.path}" if p.path else ""),
                                "a value in the history's item encoding", v,
                                p.message + (f"; {p.hint}" if p.hint else "")))
        return out
    for name, v in obj.items():
        if v is None:
            continue
        for p in av.json_problems(v):
            out.append((f".{name}" + (f".{p.path}" if p.path else ""),
                        "a value in the history's item encoding", v,
                        p.message + (f"; {p.hint}" if p.hint else "")))
    return out
