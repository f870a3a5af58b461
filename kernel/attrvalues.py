"""DynamoDB attribute values in their three forms, and the rules that compare them.

A value travels in three forms, and this module is the one place that converts between
them:

* **wire**: DynamoDB's ``AttributeValue`` as the low-level API carries it:
  ``{"S": "x"}``, ``{"N": "1.5"}``, ``{"B": b"..."}`` (or base64 text on raw HTTP),
  ``{"BOOL": true}``, ``{"NULL": true}``, ``{"L": [...]}``, ``{"M": {...}}``,
  ``{"SS": [...]}``, ``{"NS": [...]}``, ``{"BS": [...]}``;
* **history JSON** (the history format's item encoding, gtcheck's decision where the
  contract is silent): S is a JSON string, N a JSON number (exact, never a float's
  approximation), BOOL ``true``/``false``, NULL ``null``, L an array, M an object; B is
  ``{"$B": "<base64>"}``; SS, NS, BS are ``{"$SS": [...]}``, ``{"$NS": [...]}``,
  ``{"$BS": [...]}`` with their elements sorted (strings by code point, which is UTF-8
  byte order; numbers by value; binary by bytes) so that equal sets are equal JSON; a map
  whose only key is one of ``$B $SS $NS $BS $M`` is written ``{"$M": {...}}``. Plain JSON
  items therefore mean what they always meant;
* **evaluator values**, what the expression evaluator computes with: ``str``, exact
  :class:`~decimal.Decimal` numbers, ``bytes``, ``bool``, ``None`` (NULL), ``list``,
  ``dict`` and the frozen sets :class:`StrSet`, :class:`NumSet`, :class:`BinSet`.

It also holds DynamoDB's number rules (what a number may be: up to 38 significant digits,
magnitude between 1E-130 and 9.99...E+125; its normal form, plain decimal without exponent
or needless zeros; exact addition and subtraction that refuse a result DynamoDB cannot
store) and its comparison rules (equality needs equal types; order exists only within
numbers, strings and binaries; strings and binaries compare by bytes).
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation
from typing import Any, Iterable

__all__ = [
    "StrSet", "NumSet", "BinSet", "EncodingProblem", "NumberProblem",
    "TAGS", "MAX_DIGITS", "MAX_ADJUSTED", "MIN_ADJUSTED",
    "parse_number", "normal", "number_problem", "number_text", "add", "subtract",
    "from_json", "to_json", "from_wire", "to_wire", "wire_to_json", "json_to_wire",
    "item_from_json", "item_to_json", "item_from_wire", "item_to_wire",
    "type_of", "equal", "compare", "comparable", "json_problems", "item_json_problems",
]


# --------------------------------------------------------------------------- sets
class StrSet(frozenset):
    """A DynamoDB string set (SS): a non-empty frozen set of ``str``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"StrSet({sorted(self)!r})"


class NumSet(frozenset):
    """A DynamoDB number set (NS): a non-empty frozen set of normal :class:`Decimal`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"NumSet({sorted(self)!r})"


class BinSet(frozenset):
    """A DynamoDB binary set (BS): a non-empty frozen set of ``bytes``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"BinSet({sorted(self)!r})"


_SET_OF_TAG = {"$SS": StrSet, "$NS": NumSet, "$BS": BinSet}
_TAG_OF_SET = {StrSet: "$SS", NumSet: "$NS", BinSet: "$BS"}
TAGS = frozenset({"$B", "$SS", "$NS", "$BS", "$M"})


class EncodingProblem(ValueError):
    """A value that is not a valid attribute value in the form it was given in.

    ``path`` locates it inside the value (``tags``, ``a.b[2]``), empty at the top."""

    def __init__(self, message: str, path: str = "", hint: str | None = None):
        self.message = message
        self.path = path
        self.hint = hint
        super().__init__(f"{path}: {message}" if path else message)


class NumberProblem(ValueError):
    """A number DynamoDB refuses (not a number, too many digits, out of range).

    ``kind`` says which, as DynamoDB's error messages tell them apart: ``"syntax"`` (not a
    number), ``"digits"`` (more than 38 significant digits), ``"overflow"``, ``"underflow"``."""

    def __init__(self, message: str, kind: str = "syntax"):
        super().__init__(message)
        self.kind = kind


# --------------------------------------------------------------------------- numbers
MAX_DIGITS = 38            # significant decimal digits DynamoDB keeps
MAX_ADJUSTED = 125         # the largest magnitude: 9.99...E+125 (adjusted exponent 125)
MIN_ADJUSTED = -130        # the smallest non-zero magnitude: 1E-130

# DynamoDB's number syntax: an optional sign, digits with an optional point (digits on
# at least one side), an optional exponent. No spaces, no NaN or Infinity.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
# a context wide enough that adding two numbers never overflows the context itself;
# precision one digit beyond DynamoDB's, so a sum with more digits than DynamoDB keeps is
# flagged Inexact instead of computed at full length
_ARITH = Context(prec=MAX_DIGITS + 1, Emax=MAX_EMAX, Emin=MIN_EMIN,
                 traps=[InvalidOperation])
_ZERO = Decimal(0)


def normal(d: Decimal) -> Decimal:
    """The normal form of a finite decimal: no trailing zeros in the coefficient, zero
    without sign or exponent. Equal numbers have equal normal forms (as tuples), and the
    value never changes (no context, no rounding)."""
    sign, digits, exp = d.as_tuple()
    if not any(digits):
        return _ZERO
    n = len(digits)
    end = n
    while digits[end - 1] == 0:
        end -= 1
    if end == n:
        return d
    assert isinstance(exp, int)
    return Decimal((sign, digits[:end], exp + n - end))


def number_problem(d: Decimal) -> str | None:
    """Why DynamoDB would refuse to store ``d``, or None if it can."""
    problem = _number_problem(d)
    return None if problem is None else problem[1]


def _number_problem(d: Decimal) -> tuple[str, str] | None:
    """(kind, why) DynamoDB would refuse to store ``d`` (kinds: :class:`NumberProblem`)."""
    if not d.is_finite():
        return "syntax", "not a finite number"
    n = normal(d)
    if not n:
        return None
    digits = len(n.as_tuple().digits)
    if digits > MAX_DIGITS:
        return "digits", f"more than {MAX_DIGITS} significant digits ({digits})"
    adj = n.adjusted()
    if adj > MAX_ADJUSTED:
        return "overflow", "magnitude larger than 9.9999999999999999999999999999999999999E+125 (overflow)"
    if adj < MIN_ADJUSTED:
        return "underflow", "magnitude smaller than 1E-130 (underflow)"
    return None


def parse_number(text: str) -> Decimal:
    """A wire number (DynamoDB's ``N`` text) as its exact normal :class:`Decimal`.

    Accepts what DynamoDB accepts (``+3``, ``.5``, ``001.23``, ``1e+5``) and raises
    :class:`NumberProblem` for what it refuses (``NaN``, ``Infinity``, spaces, 39
    significant digits, ``1e126``, ``1e-131``)."""
    if not isinstance(text, str) or not _NUMBER.match(text):
        raise NumberProblem(f"{text!r} is not a DynamoDB number")
    d = normal(Decimal(text))
    problem = _number_problem(d)
    if problem is not None:
        raise NumberProblem(f"{text!r}: {problem[1]}", problem[0])
    return d


def number_text(d: Decimal) -> str:
    """DynamoDB's rendering of a number: plain decimal, never an exponent, no leading or
    trailing zeros, no plus sign, zero as ``0`` (what DynamoDB returns for any way of
    writing the number)."""
    n = normal(d)
    return "0" if not n else format(n, "f")


def _arith(a: Decimal, b: Decimal, subtract_b: bool) -> Decimal | str:
    """``a + b`` (or ``a - b``) exactly, as DynamoDB computes it: the exact result, or the
    reason DynamoDB refuses the request (a result it cannot store exactly)."""
    flags = _ARITH.copy()
    r = flags.subtract(a, b) if subtract_b else flags.add(a, b)
    if flags.flags[Inexact]:
        return f"the result has more than {MAX_DIGITS} significant digits"
    r = normal(r)
    why = number_problem(r)
    return r if why is None else f"the result has {why}"


def add(a: Decimal, b: Decimal) -> Decimal | str:
    """``a + b`` exactly, or (a ``str``) why DynamoDB would refuse the request."""
    return _arith(a, b, False)


def subtract(a: Decimal, b: Decimal) -> Decimal | str:
    """``a - b`` exactly, or (a ``str``) why DynamoDB would refuse the request."""
    return _arith(a, b, True)


# --------------------------------------------------------------------------- types
def type_of(v: Any) -> str:
    """DynamoDB's type descriptor of an evaluator value: S, N, B, BOOL, NULL, L, M, SS,
    NS, BS."""
    t = type(v)
    if t is str:
        return "S"
    if t is Decimal:
        return "N"
    if t is bool:
        return "BOOL"
    if v is None:
        return "NULL"
    if t is dict:
        return "M"
    if t is list:
        return "L"
    if t is bytes:
        return "B"
    if t is StrSet:
        return "SS"
    if t is NumSet:
        return "NS"
    if t is BinSet:
        return "BS"
    raise TypeError(f"not an evaluator value: {type(v).__name__}")


def equal(a: Any, b: Any) -> bool:
    """DynamoDB's ``=``: equal types and equal values, all the way down (``true`` is not
    ``1``; a number set equals another with the same numbers in any order)."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        return False
    if ta is dict:
        if a.keys() != b.keys():
            return False
        return all(equal(x, b[k]) for k, x in a.items())
    if ta is list:
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    return bool(a == b)      # str, Decimal (by value), bytes, bool, None, the sets


def comparable(v: Any) -> bool:
    """Whether ``<``, ``<=``, ``>``, ``>=`` and BETWEEN apply to ``v`` (N, S or B)."""
    t = type(v)
    return t is Decimal or t is str or t is bytes


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 when ``a`` and ``b`` are both numbers (by value), both strings or both
    binaries (by their bytes: UTF-8 order is code point order); None otherwise (an order
    comparison between them is false)."""
    ta = type(a)
    if ta is not type(b) or not (ta is Decimal or ta is str or ta is bytes):
        return None
    return -1 if a < b else (1 if a > b else 0)


# --------------------------------------------------------------------------- JSON
def _json_number(x: Any) -> Decimal:
    """A history JSON number (int, float standing for its shortest rendering, Decimal)."""
    t = type(x)
    if t is int:
        return Decimal(x)
    if t is float:
        if x != x or x in (float("inf"), float("-inf")):
            raise EncodingProblem("not a finite number")
        return normal(Decimal(repr(x)))
    return normal(x)


def _is_json_number(x: Any) -> bool:
    t = type(x)
    return t is int or t is float or t is Decimal


def _b64decode(text: Any, path: str) -> bytes:
    if not isinstance(text, str):
        raise EncodingProblem("binary must be base64 text", path,
                              'write binary as {"$B": "<base64>"}')
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise EncodingProblem(f"{text[:40]!r} is not base64", path,
                              "standard base64 (A-Z a-z 0-9 + /) with = padding") from None


def _b64encode(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _sub(path: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{path}[{step}]"
    return f"{path}.{step}" if path else step


def from_json(j: Any, path: str = "") -> Any:
    """A history JSON value as an evaluator value; raises :class:`EncodingProblem` (with
    the place) for a malformed tagged object: ``{"$B": 5}``, an empty or repeated set, a
    set of the wrong element type. Numbers keep their exact value (a number DynamoDB
    could not store, e.g. 50 digits, is kept exactly: a history may come from any
    system). Set elements may come in any order here; :func:`json_problems` also insists
    on the canonical order."""
    t = type(j)
    if t is str or t is bool or j is None:
        return j
    if t is int or t is float or t is Decimal:
        return _json_number(j)
    if t is list:
        return [from_json(x, _sub(path, i)) for i, x in enumerate(j)]
    if t is dict or isinstance(j, dict):
        if len(j) == 1:
            (tag, inner), = j.items()
            if tag in TAGS:
                return _from_tagged(tag, inner, path)
        return {k: from_json(x, _sub(path, k)) for k, x in j.items()}
    raise EncodingProblem(f"not a JSON value: {type(j).__name__}", path)


def _from_tagged(tag: str, inner: Any, path: str) -> Any:
    where = _sub(path, tag)
    if tag == "$B":
        return _b64decode(inner, where)
    if tag == "$M":
        if not isinstance(inner, dict):
            raise EncodingProblem("$M must hold an object (the map's attributes)", where)
        return {k: from_json(x, _sub(where, k)) for k, x in inner.items()}
    cls = _SET_OF_TAG[tag]
    if not isinstance(inner, list):
        raise EncodingProblem(f"{tag} must hold a list of elements", where)
    if not inner:
        raise EncodingProblem("a DynamoDB set is never empty", where,
                              "an empty set is no attribute: leave the attribute out")
    elems: list[Any] = []
    for i, x in enumerate(inner):
        at = _sub(where, i)
        if cls is StrSet:
            if type(x) is not str:
                raise EncodingProblem("a string set holds strings only", at)
            elems.append(x)
        elif cls is NumSet:
            if not _is_json_number(x) or type(x) is bool:
                raise EncodingProblem("a number set holds numbers only", at)
            elems.append(_json_number(x))
        else:
            elems.append(_b64decode(x, at))
    s = cls(elems)
    if len(s) != len(elems):
        raise EncodingProblem("a set holds each element once", where,
                              "remove the repeated element")
    return s


def _json_of_number(d: Decimal) -> Any:
    """A number as the exact JSON reader gives it back: an int when integral, a float when
    the float's shortest rendering is exactly this decimal, else the Decimal itself."""
    n = normal(d)
    sign, digits, exp = n.as_tuple()
    assert isinstance(exp, int)
    if exp >= 0:
        return int(n)
    if len(digits) <= 17 and -350 < exp + len(digits) < 310:
        f = float(n)
        if Decimal(repr(f)) == n:
            return f
    return n


def _sorted_elems(s: frozenset) -> list[Any]:
    """A set's elements in canonical order: numbers by value, strings by code point (which
    is UTF-8 byte order), binaries by bytes (unsigned); one set holds one type."""
    return sorted(s)


def to_json(v: Any) -> Any:
    """An evaluator value as canonical history JSON (sets sorted, numbers as the exact
    reader would give them back, maps escaped with ``$M`` when their only key is a tag)."""
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if t is Decimal:
        return _json_of_number(v)
    if t is dict:
        out = {k: to_json(x) for k, x in v.items()}
        if len(v) == 1 and next(iter(v)) in TAGS:
            return {"$M": out}
        return out
    if t is list:
        return [to_json(x) for x in v]
    if t is bytes:
        return {"$B": _b64encode(v)}
    if t is StrSet:
        return {"$SS": _sorted_elems(v)}
    if t is NumSet:
        return {"$NS": [_json_of_number(x) for x in _sorted_elems(v)]}
    if t is BinSet:
        return {"$BS": [_b64encode(x) for x in _sorted_elems(v)]}
    raise TypeError(f"not an evaluator value: {type(v).__name__}")


def json_problems(j: Any, path: str = "") -> list[EncodingProblem]:
    """Every way ``j`` breaks the history's item encoding, canonical set order included
    (a set written out of order would make equal items unequal JSON). Empty when ``j`` is
    valid. Walks the whole value; a caller with many values can skip those whose text
    holds no ``"$`` (no tag can occur there)."""
    out: list[EncodingProblem] = []
    stack: list[tuple[Any, str]] = [(j, path)]
    while stack:
        x, where = stack.pop()
        t = type(x)
        if t is list:
            stack.extend((y, _sub(where, i)) for i, y in enumerate(x))
        elif t is dict or isinstance(x, dict):
            if len(x) == 1:
                (tag, inner), = x.items()
                if tag in TAGS:
                    try:
                        v = _from_tagged(tag, inner, where)
                    except EncodingProblem as exc:
                        out.append(exc)
                        continue
                    if tag == "$M":
                        stack.extend((y, _sub(_sub(where, tag), k)) for k, y in inner.items())
                    elif tag != "$B" and list(inner) != to_json(v)[tag]:
                        out.append(EncodingProblem(
                            "set elements must be in canonical order", _sub(where, tag),
                            "sort strings by code point, numbers by value and binaries "
                            "by their bytes, so that equal sets are equal JSON"))
                    continue
            stack.extend((y, _sub(where, k)) for k, y in x.items())
    return out


def item_json_problems(item: Any) -> list[EncodingProblem]:
    """:func:`json_problems` for a history item: its top level is a map of attributes,
    never a tag (an item may have an attribute named ``$B``)."""
    if not isinstance(item, dict):
        return []
    out: list[EncodingProblem] = []
    for k, x in item.items():
        out.extend(json_problems(x, k))
    return out


# --------------------------------------------------------------------------- wire
def from_wire(av: Any, path: str = "") -> Any:
    """A wire ``AttributeValue`` as an evaluator value (numbers parsed and checked by
    DynamoDB's rules; binary as bytes or base64 text); raises :class:`EncodingProblem`."""
    if not isinstance(av, dict) or len(av) != 1:
        raise EncodingProblem("an AttributeValue is an object with exactly one type key",
                              path)
    (t, v), = av.items()
    try:
        if t == "S":
            if not isinstance(v, str):
                raise EncodingProblem("S holds a string", path)
            return v
        if t == "N":
            return parse_number(v)
        if t == "BOOL":
            if type(v) is not bool:
                raise EncodingProblem("BOOL holds true or false", path)
            return v
        if t == "NULL":
            if v is not True:
                raise EncodingProblem("NULL holds true", path)
            return None
        if t == "B":
            return _wire_bytes(v, path)
        if t == "L":
            return [from_wire(x, _sub(path, i)) for i, x in enumerate(_seq(v, t, path))]
        if t == "M":
            if not isinstance(v, dict):
                raise EncodingProblem("M holds an object", path)
            return {k: from_wire(x, _sub(path, k)) for k, x in v.items()}
        if t in ("SS", "NS", "BS"):
            elems = list(_seq(v, t, path))
            if not elems:
                raise EncodingProblem("a DynamoDB set is never empty", path)
            if t == "SS":
                if any(type(x) is not str for x in elems):
                    raise EncodingProblem("SS holds strings", path)
                s: frozenset = StrSet(elems)
            elif t == "NS":
                s = NumSet(parse_number(x) for x in elems)
            else:
                s = BinSet(_wire_bytes(x, path) for x in elems)
            if len(s) != len(elems):
                raise EncodingProblem("a set holds each element once", path)
            return s
    except NumberProblem as exc:
        raise EncodingProblem(str(exc), path) from None
    raise EncodingProblem(f"unknown AttributeValue type {t!r}", path)


def _seq(v: Any, t: str, path: str) -> Iterable[Any]:
    if not isinstance(v, (list, tuple)):
        raise EncodingProblem(f"{t} holds a list", path)
    return v


def _wire_bytes(v: Any, path: str) -> bytes:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    return _b64decode(v, path)


def to_wire(v: Any, *, binary: str = "bytes") -> dict[str, Any]:
    """An evaluator value as a wire ``AttributeValue`` (numbers in DynamoDB's normal text,
    sets in canonical order). ``binary="base64"`` gives binary as base64 text (raw HTTP
    JSON) instead of bytes (boto3's low-level client)."""
    enc = (lambda b: b) if binary == "bytes" else _b64encode
    t = type(v)
    if t is str:
        return {"S": v}
    if t is Decimal:
        return {"N": number_text(v)}
    if t is bool:
        return {"BOOL": v}
    if v is None:
        return {"NULL": True}
    if t is dict:
        return {"M": {k: to_wire(x, binary=binary) for k, x in v.items()}}
    if t is list:
        return {"L": [to_wire(x, binary=binary) for x in v]}
    if t is bytes:
        return {"B": enc(v)}
    if t is StrSet:
        return {"SS": _sorted_elems(v)}
    if t is NumSet:
        return {"NS": [number_text(x) for x in _sorted_elems(v)]}
    if t is BinSet:
        return {"BS": [enc(x) for x in _sorted_elems(v)]}
    raise TypeError(f"not an evaluator value: {type(v).__name__}")


def wire_to_json(av: Any) -> Any:
    """A wire ``AttributeValue`` as canonical history JSON."""
    return to_json(from_wire(av))


def json_to_wire(j: Any, *, binary: str = "bytes") -> dict[str, Any]:
    """History JSON as a wire ``AttributeValue``."""
    return to_wire(from_json(j), binary=binary)


# --------------------------------------------------------------------------- items
def item_from_json(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A history item (an object of attributes, or None for no item) as evaluator values.
    The item's own attributes are never read as a tag: an item is always a map."""
    if item is None:
        return None
    if not isinstance(item, dict):
        raise EncodingProblem("a DynamoDB item is an object of attributes")
    return {k: from_json(x, k) for k, x in item.items()}


def item_to_json(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Evaluator attributes as a history item (the top level is never ``$M``-escaped)."""
    if item is None:
        return None
    return {k: to_json(x) for k, x in item.items()}


def item_from_wire(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A wire item (attribute name -> AttributeValue) as evaluator values."""
    if item is None:
        return None
    return {k: from_wire(x, k) for k, x in item.items()}


def item_to_wire(item: dict[str, Any] | None, *, binary: str = "bytes"
                 ) -> dict[str, Any] | None:
    """Evaluator attributes as a wire item."""
    if item is None:
        return None
    return {k: to_wire(x, binary=binary) for k, x in item.items()}
