"""What a DynamoDB low-level request means in the history's terms.

The recorder (:mod:`gtcheck.realworld.recorder`) sends the application's request almost
unchanged and writes what it meant. This module holds the translations it needs, each in
one place:

* **expressions as the history carries them** (format rule 11): ``{"expression": E,
  "names": {...}, "values": {...}}``, the expression verbatim with only the placeholders
  it uses, values in the history's item encoding (:mod:`gtcheck.kernel.attrvalues`);
* **the legacy parameters as the equivalent expression**: ``Expected`` (with
  ``ConditionalOperator``) and ``KeyConditions`` become a ConditionExpression,
  ``AttributeUpdates`` an UpdateExpression, following the AWS documentation of each
  legacy operator;
* **the version token**: the attribute the recorder adds to every write so that versions
  of a key are distinguishable (rule 4), put into an Item, an UpdateExpression or
  AttributeUpdates;
* **ReturnValues projections**: ``UPDATED_OLD``/``UPDATED_NEW`` are the paths the update
  expression's actions name (as the kernel's evaluator reads them), projected onto the old
  or new item as DynamoDB does (nested maps keep their hierarchy, list elements keep their
  index order; a path the item does not have is left out);
* **keys**: the history's key text of an item, and its exact identity for matching the
  items of a batch answer to the items asked.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from gtcheck.kernel.attrvalues import EncodingProblem, from_wire, item_from_wire, item_to_json, number_text, wire_to_json
from gtcheck.kernel.expressions import update

NAME_PLACEHOLDER = re.compile(r"#[A-Za-z0-9_]+")
VALUE_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")
TOKEN_NAME, TOKEN_VALUE = "#gtcheck_tok", ":gtcheck_tok"

Wire = dict[str, Any]                         # a wire AttributeValue or item
Expression = tuple[str, dict[str, str], dict[str, Wire]]   # (text, names, values) as sent


# --------------------------------------------------------------------------- values, keys
def item_json(item: Wire | None) -> dict[str, Any] | None:
    """A wire item as the history's item (``None``: no item)."""
    return item_to_json(item_from_wire(item))


def key_identity(item: Wire, names: list[str]) -> tuple[Any, ...]:
    """The exact identity of an item's key (numbers by value, binary by bytes)."""
    return tuple(from_wire(item[n]) if n in item else None for n in names)


def key_text(table: str, item: Wire, names: list[str]) -> str:
    """The history's key of an item: ``<table>/<hash>`` or ``<table>/<hash>/<range>``
    (numbers in DynamoDB's normal text, binary as base64, ``?`` for a missing part)."""
    parts = []
    for n in names:
        av = item.get(n)
        if av is None:
            parts.append("?")
            continue
        if not isinstance(av, dict) or len(av) != 1:
            raise EncodingProblem("an AttributeValue is an object with exactly one type key", n)
        (t, v), = av.items()
        if t == "N":
            parts.append(_number_key(v))
        elif t == "B":
            parts.append(wire_to_json(av)["$B"])
        else:
            parts.append(str(v))
    return table + "/" + "/".join(parts)


@functools.lru_cache(maxsize=65536)
def _number_key(text: str) -> str:
    """A key's number in DynamoDB's normal text (keys repeat: cached)."""
    return number_text(from_wire({"N": text}))


# --------------------------------------------------------------------------- expressions
def record(text: str, names: dict[str, str] | None, values: dict[str, Wire] | None) -> dict[str, Any]:
    """An expression as the history carries it: verbatim, with the placeholders it uses
    (an UpdateItem's names and values are shared by its condition and its update; each
    keeps its own). Raises the kernel's ``EncodingProblem`` for a value it cannot encode."""
    names = names or {}
    values = values or {}
    out: dict[str, Any] = {"expression": text}
    used_names = {n: names[n] for n in dict.fromkeys(NAME_PLACEHOLDER.findall(text)) if n in names}
    used_values = {v: wire_to_json(values[v]) for v in dict.fromkeys(VALUE_PLACEHOLDER.findall(text))
                   if v in values}
    if used_names:
        out["names"] = used_names
    if used_values:
        out["values"] = used_values
    return out


def condition_of(body: dict[str, Any]) -> Expression | None:
    """A write's condition as an expression: its ConditionExpression, or the legacy
    ``Expected`` translated; None when it has neither."""
    if not (body.get("ConditionExpression") or body.get("Expected")):
        return None
    names = dict(body.get("ExpressionAttributeNames") or {})
    values = dict(body.get("ExpressionAttributeValues") or {})
    if body.get("ConditionExpression"):
        return body["ConditionExpression"], names, values
    if body.get("Expected"):
        text, n, v = legacy_condition(body["Expected"], body.get("ConditionalOperator"), "e")
        return text, {**names, **n}, {**values, **v}
    return None


def update_of(body: dict[str, Any]) -> Expression:
    """An UpdateItem's change as an UpdateExpression: its own, or ``AttributeUpdates``
    translated (an empty expression when it has neither)."""
    names = dict(body.get("ExpressionAttributeNames") or {})
    values = dict(body.get("ExpressionAttributeValues") or {})
    if body.get("UpdateExpression") or "AttributeUpdates" not in body:
        return body.get("UpdateExpression") or "", names, values
    text, n, v = legacy_update(body["AttributeUpdates"])
    return text, {**names, **n}, {**values, **v}


_COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}


def legacy_condition(conditions: dict[str, Any], operator: str | None, tag: str) -> Expression:
    """``Expected`` / ``KeyConditions`` / ``QueryFilter`` as the ConditionExpression AWS
    documents as its equivalent: ``Value`` alone or with ``Exists: true`` is ``=``,
    ``Exists: false`` is ``attribute_not_exists``; ``ComparisonOperator`` EQ NE LE LT GE GT
    are the comparators, NULL / NOT_NULL ``attribute_not_exists`` / ``attribute_exists``,
    CONTAINS / NOT_CONTAINS ``contains`` / ``NOT contains``, BEGINS_WITH ``begins_with``,
    IN and BETWEEN themselves; joined by ``ConditionalOperator`` (AND by default)."""
    parts: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Wire] = {}
    for i, (attr, spec) in enumerate(conditions.items()):
        n = f"#gtcheck_{tag}{i}"
        names[n] = attr
        spec = spec or {}

        def val(j: int, av: Wire) -> str:
            p = f":gtcheck_{tag}{i}_{j}"
            values[p] = av
            return p

        op = spec.get("ComparisonOperator")
        args = list(spec.get("AttributeValueList") or [])
        if op is None:
            if spec.get("Exists") is False:
                parts.append(f"attribute_not_exists({n})")
            elif "Value" in spec:
                parts.append(f"{n} = {val(0, spec['Value'])}")
            else:
                parts.append(f"attribute_exists({n})")
        elif op in _COMPARATORS and args:
            parts.append(f"{n} {_COMPARATORS[op]} {val(0, args[0])}")
        elif op == "NULL":
            parts.append(f"attribute_not_exists({n})")
        elif op == "NOT_NULL":
            parts.append(f"attribute_exists({n})")
        elif op == "CONTAINS" and args:
            parts.append(f"contains({n}, {val(0, args[0])})")
        elif op == "NOT_CONTAINS" and args:
            parts.append(f"NOT contains({n}, {val(0, args[0])})")
        elif op == "BEGINS_WITH" and args:
            parts.append(f"begins_with({n}, {val(0, args[0])})")
        elif op == "IN" and args:
            parts.append(f"{n} IN ({', '.join(val(j, a) for j, a in enumerate(args))})")
        elif op == "BETWEEN" and len(args) == 2:
            parts.append(f"{n} BETWEEN {val(0, args[0])} AND {val(1, args[1])}")
        else:                         # DynamoDB refuses it; an expression that says so
            parts.append(f"{op}({n})")
    joiner = " OR " if (operator or "AND").upper() == "OR" else " AND "
    return joiner.join(f"({p})" if len(parts) > 1 else p for p in parts), names, values


def legacy_update(updates: dict[str, Any]) -> Expression:
    """``AttributeUpdates`` as its UpdateExpression: PUT is ``SET``, DELETE without a value
    ``REMOVE``, DELETE with a value (a set) ``DELETE``, ADD ``ADD``."""
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    names: dict[str, str] = {}
    values: dict[str, Wire] = {}
    for i, (attr, u) in enumerate(updates.items()):
        n, v = f"#gtcheck_u{i}", f":gtcheck_u{i}"
        names[n] = attr
        action = (u or {}).get("Action", "PUT")
        if action == "DELETE" and "Value" not in u:
            clauses["REMOVE"].append(n)
            continue
        values[v] = u.get("Value")
        if action == "PUT":
            clauses["SET"].append(f"{n} = {v}")
        else:
            clauses[action if action in ("ADD", "DELETE") else "SET"].append(f"{n} {v}")
    text = " ".join(f"{kw} {', '.join(acts)}" for kw, acts in clauses.items() if acts)
    return text, names, {k: x for k, x in values.items() if x is not None}


def creates_only(cond: Expression, key_names: list[str]) -> bool:
    """Whether a condition says exactly "the item does not exist": one
    ``attribute_not_exists`` of a key attribute, or several joined by AND (every item has
    its key attributes, so it exists exactly when they do)."""
    text, names, _ = cond
    if not key_names:
        return False
    for part in re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE):
        m = re.fullmatch(r"\s*attribute_not_exists\s*\(\s*(#?[A-Za-z0-9_]+)\s*\)\s*", part)
        if not m or names.get(m.group(1), m.group(1)) not in key_names:
            return False
    return True


# --------------------------------------------------------------------------- the token
_SET_CLAUSE = re.compile(r"(?<![#:\w.])SET(?![\w])", re.IGNORECASE)


def with_token_update(body: dict[str, Any], attr: str, token: str) -> dict[str, Any]:
    """An UpdateItem (or a transaction's Update) that also sets the version token: one
    more ``SET`` action (or a ``PUT`` in legacy ``AttributeUpdates``)."""
    body = dict(body)
    if "AttributeUpdates" in body and not body.get("UpdateExpression"):
        body["AttributeUpdates"] = {**body["AttributeUpdates"], attr: {"Value": {"S": token}, "Action": "PUT"}}
        return body
    body["ExpressionAttributeNames"] = {**(body.get("ExpressionAttributeNames") or {}), TOKEN_NAME: attr}
    body["ExpressionAttributeValues"] = {**(body.get("ExpressionAttributeValues") or {}), TOKEN_VALUE: {"S": token}}
    text = body.get("UpdateExpression") or ""
    m = _SET_CLAUSE.search(text)
    action = f"{TOKEN_NAME} = {TOKEN_VALUE}"
    if m:
        text = f"{text[:m.end()]} {action},{text[m.end():]}"
    else:
        text = f"SET {action} {text}".strip()
    body["UpdateExpression"] = text
    return body


# --------------------------------------------------------------------------- ReturnValues
Path = tuple[Any, ...]       # attribute name, then map keys (str) and list indexes (int)


def update_paths(text: str, names: dict[str, str] | None, values: dict[str, Wire] | None) -> list[Path] | None:
    """The document paths an UpdateExpression's actions name (the attributes
    ``UPDATED_OLD``/``UPDATED_NEW`` return), read by the kernel's evaluator; None when
    DynamoDB would refuse the expression."""
    u = update(text, names or {}, values or {}, encoding="wire")
    return None if u.rejected is not None else list(u.targets)


def project(item: Wire | None, paths: list[Path]) -> Wire:
    """The parts of a wire item that ``paths`` name, in their hierarchy (DynamoDB's
    projection: a map keeps only the named keys, a list only the named elements, in
    index order); paths the item does not have are left out."""
    tree: dict[Any, Any] = {}
    for path in paths:
        cur: Any = {"M": item or {}}
        ok = True
        for step in path:
            if isinstance(step, int):
                lst = cur.get("L") if isinstance(cur, dict) else None
                if lst is None or step >= len(lst):
                    ok = False
                    break
                cur = lst[step]
            else:
                mp = cur.get("M") if isinstance(cur, dict) else None
                if mp is None or step not in mp:
                    ok = False
                    break
                cur = mp[step]
        if ok:
            _insert(tree, path, cur)
    return {k: _render(v) for k, v in tree.items()}


class _Node(dict):
    """A node of a projection being built: children by map key or list index."""


def _insert(tree: dict[Any, Any], path: Path, value: Wire) -> None:
    node = tree
    for step in path[:-1]:
        child = node.get(step)
        if not isinstance(child, _Node):
            if child is not None:      # a whole value already projected holds this one
                return
            child = node[step] = _Node()
        node = child
    node[path[-1]] = value


def _render(x: Any) -> Wire:
    if not isinstance(x, _Node):
        return x
    if all(isinstance(k, int) for k in x):
        return {"L": [_render(x[k]) for k in sorted(x)]}
    return {"M": {k: _render(v) for k, v in x.items()}}
