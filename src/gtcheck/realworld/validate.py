"""The emulator's entrance: every DynamoDB request is checked here, once, before moto (or any
part of the emulator) reads it, so that a malformed request gets DynamoDB's 400 and an
exception while handling a well-formed one stays a 500 (a bug the fuzzer must see).

What is checked, walking the request against botocore's own model of the DynamoDB API (the
one boto3 sends with; DynamoDB Streams' for a streams request), and what DynamoDB answers (its
messages, as its API returns them):

| what is wrong | ``__type`` |
| --- | --- |
| an operation the API does not have | ``UnknownOperationException`` |
| a field of the wrong JSON type (``"TableName": 5``, ``{"N": 5}``) | ``SerializationException`` |
| a required field missing or null | ``ValidationException`` (Member must not be null) |
| a transaction item with none or more than one of Put, Update, Delete, ConditionCheck; a batch write request with none or both of PutRequest, DeleteRequest | ``ValidationException`` |
| a null element of a list or value of a map | ``ValidationException`` (Member must not be null) |
| an ``AttributeValue`` with no type, two types, or a key that is no type | ``ValidationException`` |
| a number DynamoDB refuses (not a number, 39 digits, 1E126, 1E-131): the kernel's rule | ``ValidationException`` |
| an empty set, a set holding an element twice, ``NULL`` not ``true``, bad base64 | ``ValidationException`` |
| documents nested more than 32 levels | ``ValidationException`` |
| a key (``Key``, ``Keys``, ``ExclusiveStartKey``) holding a value that is not S, N or B | ``ValidationException`` |
| a condition, filter, key condition or update expression that does not parse (the kernel's grammar) | ``ValidationException`` |
| an expression using a ``:value`` or ``#name`` the request does not define | ``ValidationException`` |

Where DynamoDB drops what it does not know (a null member of a structure, an unknown member),
the emulator lets it through too, and moto ignores it the same way; inside an
``AttributeValue`` an unknown key is refused (gtcheck's decision: DynamoDB would silently drop
it, and moto would not). Value checks that need the table (key names and types, reserved
words, placeholders) stay moto's.
"""

from __future__ import annotations

from typing import Any

from gtcheck.kernel import attrvalues
from gtcheck.kernel.exprparse import ExprSyntaxError, parse_condition, parse_update, tokens
from gtcheck.realworld.wire import WireError

__all__ = ["check", "operations", "MAX_NESTING"]

MAX_NESTING = 32             # DynamoDB: a document nests at most 32 levels
AV_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
KEY_TYPES = frozenset({"S", "N", "B"})
# botocore shape names whose string is an expression, and the grammar it follows
_EXPRESSIONS = {"ConditionExpression": parse_condition, "KeyExpression": parse_condition,
                "UpdateExpression": parse_update}
# structures that hold exactly one of their members (botocore's model does not say so)
_ONE_OF = {"TransactWriteItem": "TransactItems can only contain one of Check, Put, Update or Delete",
           "WriteRequest": "A WriteRequest holds exactly one of PutRequest or DeleteRequest"}
# fields DynamoDB requires that botocore's model leaves optional
_REQUIRED = {"CreateTable": ("AttributeDefinitions", "KeySchema")}
_NUMBER_MESSAGES = {
    "digits": "Attempting to store more than 38 significant digits in a Number",
    "overflow": "Number overflow. Attempting to store a number with magnitude larger than supported range",
    "underflow": "Number underflow. Attempting to store a number with magnitude smaller than supported range",
}
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "blob": (str,), "boolean": (bool,), "integer": (int,), "long": (int,),
    "float": (int, float), "double": (int, float), "timestamp": (int, float, str),
}
_JSON_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
               float: "number", type(None): "null"}


class _Model:
    """botocore's models of the DynamoDB and DynamoDB Streams APIs, each loaded once."""

    models: dict[str, Any] = {}

    @classmethod
    def get(cls, service: str) -> Any:
        if service not in cls.models:
            import botocore.session
            cls.models[service] = botocore.session.get_session().get_service_model(service)
        return cls.models[service]


def operations(service: str = "dynamodb") -> frozenset[str]:
    """The operations of the DynamoDB API (or ``dynamodbstreams``'s)."""
    return frozenset(_Model.get(service).operation_names)


def check(op: str, doc: dict[str, Any], service: str = "dynamodb") -> None:
    """Raise :class:`WireError` (DynamoDB's 400) for everything wrong with the request
    ``doc`` of operation ``op`` (of ``service``: ``dynamodb`` or ``dynamodbstreams``) that
    the table is not needed to tell."""
    model = _Model.get(service)
    if op not in model.operation_names:
        raise WireError(400, "UnknownOperationException", f"unknown operation {op!r}")
    shape = model.operation_model(op).input_shape
    if shape is not None:
        _check(shape, doc, "")
    for name in _REQUIRED.get(op, ()):
        if doc.get(name) is None:
            raise _null(name)


def _check(shape: Any, value: Any, path: str) -> None:
    kind = shape.type_name
    where = path or "the request"
    if shape.name == "AttributeValue":
        _attribute_value(value, where, 0)
        return
    if kind == "structure":
        if not isinstance(value, dict):
            raise _type_error(where, "an object", value)
        for name in shape.required_members:
            if value.get(name) is None:
                raise _null(_join(path, name))
        members = shape.members
        given = 0
        for name, sub in value.items():
            if name in members and sub is not None:
                given += 1
                _check(members[name], sub, _join(path, name))
        if shape.name in _ONE_OF and given != 1:
            raise _invalid(_ONE_OF[shape.name])
        if "ExpressionAttributeNames" in members or "ExpressionAttributeValues" in members:
            _placeholders(value, members)
    elif kind == "list":
        for sub, at in _children(value, where, list):
            _check(shape.member, sub, at)
    elif kind == "map":
        for sub, at in _children(value, where, dict):
            _check(shape.value, sub, at)
        if shape.name == "Key":
            _key(value)
    else:
        allowed = _JSON_TYPES.get(kind)
        if allowed is not None and (not isinstance(value, allowed)
                                    or (isinstance(value, bool) and bool not in allowed)):
            raise _type_error(where, f"a {kind}", value)
        parse = _EXPRESSIONS.get(shape.name)
        if parse is not None:
            _expression(parse, value, path.rsplit(".", 1)[-1])


def _children(value: Any, where: str, container: type) -> list[tuple[Any, str]]:
    """The elements of a JSON array (``container`` list) or the values of an object (dict),
    each with its place; refuses another type, and a null element or value."""
    if not isinstance(value, container):
        raise _type_error(where, "an array" if container is list else "an object", value)
    pairs = (((sub, f"{where}.{i + 1}") for i, sub in enumerate(value)) if container is list
             else ((sub, f"{where}.{key}") for key, sub in value.items()))
    out = []
    for sub, at in pairs:
        if sub is None:
            raise _null(at)
        out.append((sub, at))
    return out


def _attribute_value(av: Any, where: str, depth: int) -> None:
    """One ``AttributeValue`` (and what it holds), by DynamoDB's rules; numbers by the
    kernel's one number rule."""
    if not isinstance(av, dict):
        raise _type_error(where, "an object", av)
    present = [t for t, v in av.items() if v is not None]
    unknown = [t for t in present if t not in AV_TYPES]
    if unknown:
        raise _invalid(f"Supplied AttributeValue has an unknown datatype {unknown[0][:40]!r}, must contain exactly "
                       "one of the supported datatypes")
    if not present:
        raise _invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
    if len(present) > 1:
        raise _invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
                       "supported datatypes")
    t = present[0]
    v = av[t]
    at = f"{where}.{t}"
    if t in ("S", "N", "B"):
        if not isinstance(v, str):
            raise _type_error(at, "a string", v)
        if t == "N":
            _number(v)
        elif t == "B":
            _binary(v, at)
    elif t in ("BOOL", "NULL"):
        if not isinstance(v, bool):
            raise _type_error(at, "a boolean", v)
        if t == "NULL" and v is not True:
            raise _invalid("One or more parameter values were invalid: Null attribute value types must have the "
                           "value of true")
    elif t in ("SS", "NS", "BS"):
        _set(t, v, at)
    else:
        if depth >= MAX_NESTING:
            raise _invalid("Nesting Levels have exceeded supported limits")
        for sub, sub_at in _children(v, at, list if t == "L" else dict):
            _attribute_value(sub, sub_at, depth + 1)


def _number(text: str) -> Any:
    try:
        return attrvalues.parse_number(text)
    except attrvalues.NumberProblem as exc:
        message = _NUMBER_MESSAGES.get(exc.kind)
        if message is None:
            message = "The parameter cannot be converted to a numeric value" + (f": {text[:100]}" if text else "")
        raise _invalid(message) from None


def _binary(text: str, where: str) -> bytes:
    try:
        return attrvalues.from_wire({"B": text})
    except attrvalues.EncodingProblem as exc:
        raise WireError(400, "SerializationException", f"{where}: {exc.message}") from None


def _set(t: str, v: Any, at: str) -> None:
    if not isinstance(v, list):
        raise _type_error(at, "an array", v)
    if not v:
        raise _invalid("One or more parameter values were invalid: An AttributeValue may not contain an empty set.")
    for i, x in enumerate(v):
        if not isinstance(x, str):
            raise _type_error(f"{at}.{i + 1}", "a string", x)
    if t == "NS":
        elements: list[Any] = [_number(x) for x in v]
    elif t == "BS":
        elements = [_binary(x, f"{at}.{i + 1}") for i, x in enumerate(v)]
    else:
        elements = list(v)
    if len(set(elements)) != len(elements):
        shown = "[" + ", ".join(x[:40] for x in v[:10]) + (", ..." if len(v) > 10 else "") + "]"
        raise _invalid(f"One or more parameter values were invalid: Input collection {shown} of type {t} "
                       "contains duplicates.")


def _key(key: dict[str, Any]) -> None:
    """A primary key holds only strings, numbers and binaries (whatever the table's schema)."""
    for av in key.values():
        if next(t for t, v in av.items() if v is not None) not in KEY_TYPES:
            raise _invalid("The provided key element does not match the schema")


def _expression(parse: Any, text: str, name: str) -> None:
    if not text.strip():
        raise _invalid(f"Invalid {name}: The expression can not be empty;")
    try:
        parse(text)
    except ExprSyntaxError as exc:
        raise _invalid(f"Invalid {name}: Syntax error; {exc}") from None


def _placeholders(request: dict[str, Any], members: Any) -> None:
    """Every ``:value`` and ``#name`` an expression of ``request`` uses is defined in its
    ExpressionAttributeValues / ExpressionAttributeNames (DynamoDB refuses the request
    otherwise; moto fails on it)."""
    values = request.get("ExpressionAttributeValues") or {}
    names = request.get("ExpressionAttributeNames") or {}
    for member, text in request.items():
        if not isinstance(text, str) or member not in members:
            continue
        kind = members[member].name
        if kind in _EXPRESSIONS:
            used = _used(_EXPRESSIONS[kind](text))
        elif kind == "ProjectionExpression":
            try:
                used = {("ph", t[1]) for t in tokens(text) if t[0] == "name"}
            except ExprSyntaxError:
                continue                   # moto judges a projection's syntax
        else:
            continue
        for tag, placeholder in sorted(used):
            if tag == "val" and placeholder not in values:
                raise _invalid(f"Invalid {member}: An expression attribute value used in expression is not "
                               f"defined; attribute value: {placeholder}")
            if tag == "ph" and placeholder not in names:
                raise _invalid(f"Invalid {member}: An expression attribute name used in the document path is "
                               f"not defined; attribute name: {placeholder}")


def _used(tree: Any) -> set[tuple[str, str]]:
    """The placeholders (``("val", ":v")``, ``("ph", "#n")``) of a kernel syntax tree."""
    out: set[tuple[str, str]] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            if len(node) == 2 and node[0] in ("val", "ph") and isinstance(node[1], str):
                out.add((node[0], node[1]))
            else:
                stack.extend(node)
    return out


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _null(where: str) -> WireError:
    return _invalid(f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: "
                    "Member must not be null")


def _invalid(message: str) -> WireError:
    return WireError(400, "ValidationException", message)


def _type_error(where: str, wanted: str, value: Any) -> WireError:
    got = _JSON_NAMES.get(type(value), type(value).__name__)
    return WireError(400, "SerializationException", f"{where} must be {wanted}, not a JSON {got}")
