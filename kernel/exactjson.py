"""Exact JSON: numbers read, compared and written exactly, duplicate names refused.

The history format (rule 7) says numbers are exact: integers of any size are integers,
never floats, and two numbers are equal when their exact decimal values are (``1``,
``1.0`` and ``1e0`` are one number; ``2**70`` and ``2**70 + 1`` are two). It also says a
line that repeats a field name, in any of its objects, is invalid. orjson is fast but
reads integers beyond 64 bits as floats and keeps the last of two equal names, so:

* :func:`parse_line` reads a line with orjson and accepts the result only when orjson's
  own rendering of it is the line itself (up to whitespace): then no name was repeated
  (the rendering would have fewer colons: every key has one, and a ``\u003a`` escape
  would not survive the comparison) and every number was read exactly (an integer beyond
  64 bits, or a decimal that no float renders back to, reads differently). Any other
  line (a few per million in practice) is read again by :func:`loads_exact`, the standard
  library's parser with hooks that keep integers as ``int``, keep a decimal as ``float``
  only when the float's shortest rendering has the same decimal value (``0.1``,
  ``1e300``) and as :class:`decimal.Decimal` otherwise, refuse ``NaN``/``Infinity``,
  repeated names, lone surrogates and nesting deeper than :data:`MAX_DEPTH`.
* :func:`canon` gives the identity of a value: equal bytes exactly when the values are
  equal by rule 7 (object keys sorted, numbers by exact decimal value).
* :func:`dumps` writes JSON with orjson when it can and exactly otherwise (integers
  beyond 64 bits, ``Decimal``, nesting beyond orjson's 255 levels).

A float here always stands for the decimal its shortest rendering shows (``0.1`` is one
tenth, not the binary fraction nearest to it).
"""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import orjson

__all__ = [
    "JSONProblem", "MAX_DEPTH", "MAX_DIGITS", "parse_line", "loads_exact", "canon",
    "dumps", "number_text", "is_exact_number", "same",
]

MAX_DEPTH = 512        # objects and lists nested deeper are refused (DynamoDB allows 32)
MAX_DIGITS = 4300      # Python's limit for integer <-> text conversion

_loads = orjson.loads
_dumps = orjson.dumps
_SORT = orjson.OPT_SORT_KEYS
_WS = b" \t\r\n"
_DecodeError = orjson.JSONDecodeError


class JSONProblem(ValueError):
    """A line that is not JSON gtcheck can read exactly. ``field`` is a dotted path
    (``value.v``, ``value[2]``) when the problem sits at one, else None."""

    def __init__(self, message: str, field: str | None = None, hint: str | None = None):
        self.message = message
        self.field = field
        self.hint = hint
        super().__init__(message)


# --------------------------------------------------------------------------- reading
def parse_line(raw: bytes) -> Any:
    """Parse one line of JSON exactly (see the module doc); raises :class:`JSONProblem`.

    The caller handles blank lines (they are not JSON)."""
    try:
        obj = _loads(raw)
        d = _dumps(obj)
    except _DecodeError as exc:
        msg = str(exc)
        if "infinity" in msg or "depth" in msg:   # a huge number, or deep nesting
            return loads_exact(raw)
        raise JSONProblem(_orjson_message(exc)) from None
    except TypeError:                 # orjson cannot write it back (nesting beyond 255)
        return loads_exact(raw)
    # orjson read the whole line as one value: when it starts with the rendering of an
    # object or list, it is that rendering and whitespace
    if d[-1:] in b"}]" and (raw.startswith(d) or raw.translate(None, _WS) in (
            d, d.translate(None, _WS))):
        return obj
    return loads_exact(raw)


def _orjson_message(exc: Exception) -> str:
    """orjson's complaint without its line/char position (always within one line here)."""
    msg = getattr(exc, "msg", None) or str(exc)
    if "end of data" in msg:
        return "the line ends before the JSON value does"
    if getattr(exc, "lineno", 1) == 1 and getattr(exc, "colno", 0):
        return f"{msg} at column {exc.colno}"
    return msg


class _Repeated(dict):
    """An object in which a name was repeated (``repeated`` is that name)."""

    __slots__ = ("repeated",)


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        name = ""
        for k, _ in pairs:
            if k in seen:
                name = k
                break
            seen.add(k)
        d = _Repeated(pairs)
        d.repeated = name
    return d


def _float(text: str) -> float | Decimal:
    """A decimal literal: a float when the float's shortest rendering has the same decimal
    value (``0.1``, ``1e300``), else the exact Decimal (``1e400``, ``1e-400``, 17 digits
    that no float renders)."""
    f = float(text)
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise JSONProblem(f"the number {text[:40]} has an exponent out of range") from None
    if math.isfinite(f) and d == Decimal(repr(f)):
        return f
    return d


def _constant(name: str) -> Any:
    raise JSONProblem(f"{name} is not a JSON number",
                      hint="JSON has no NaN or Infinity; write null or leave the field out")


def loads_exact(raw: bytes | str) -> Any:
    """Parse JSON exactly (see the module doc); raises :class:`JSONProblem`."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONProblem(f"the line is not UTF-8 (byte {exc.start + 1})") from None
    else:
        text = raw
    old = sys.getrecursionlimit()
    need = MAX_DEPTH * 2 + 200
    if old < need:
        sys.setrecursionlimit(need)
    try:
        obj = json.loads(text, object_pairs_hook=_pairs, parse_float=_float,
                         parse_constant=_constant)
    except JSONProblem:
        raise
    except json.JSONDecodeError as exc:
        raise JSONProblem(f"{exc.msg} at column {exc.colno}") from None
    except RecursionError:
        _too_deep("")
    except ValueError as exc:        # an integer beyond Python's conversion limit
        if "digits" in str(exc):
            raise JSONProblem(f"a number has more than {MAX_DIGITS} digits") from None
        raise JSONProblem(str(exc)) from None
    finally:
        if old < need:
            sys.setrecursionlimit(old)
    _inspect(obj)
    return obj


def _path(parent: str, step: Any) -> str:
    if isinstance(step, int):
        return f"{parent}[{step}]"
    return f"{parent}.{step}" if parent else str(step)


def _inspect(obj: Any) -> None:
    """Refuse repeated names, lone surrogates and nesting beyond MAX_DEPTH, naming the
    place (in document order) of the first one."""
    stack: list[tuple[Any, str, int]] = [(obj, "", 1)]
    while stack:
        o, where, depth = stack.pop()
        t = type(o)
        if t is str:
            _check_str(o, where)
        elif t is dict or t is _Repeated:
            if depth > MAX_DEPTH:
                _too_deep(where)
            if t is _Repeated:
                name = o.repeated
                raise JSONProblem(f'the name "{name}" appears twice in one object',
                                  _path(where, name),
                                  "a JSON object names each field once: remove one of them")
            items = list(o.items())
            for k, v in reversed(items):
                _check_str(k, _path(where, k))
                stack.append((v, _path(where, k), depth + 1))
        elif t is list:
            if depth > MAX_DEPTH:
                _too_deep(where)
            for i in range(len(o) - 1, -1, -1):
                stack.append((o[i], _path(where, i), depth + 1))


def _too_deep(where: str) -> None:
    top = where.split(".", 1)[0].split("[", 1)[0] or None
    raise JSONProblem(f"the line nests objects or lists more than {MAX_DEPTH} deep", top,
                      "DynamoDB items nest at most 32 levels")


def _check_str(s: str, where: str) -> None:
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            raise JSONProblem("a string holds a lone surrogate (an unpaired \\ud800-\\udfff "
                              "escape), which is not text", where or None) from None


# --------------------------------------------------------------------------- numbers
def is_exact_number(x: Any) -> bool:
    """int (not bool), float or Decimal."""
    t = type(x)
    return t is int or t is float or t is Decimal


def _decimal_canon(d: Decimal) -> str:
    """The canonical text of a finite decimal: integers as their digits, other numbers as
    ``<digits>e<exponent>`` with no trailing zeros in the digits, except a value some float
    renders, written as orjson writes that float (so ``Decimal("0.10")`` is ``0.1``)."""
    sign, digits, exp = d.as_tuple()
    if not isinstance(exp, int):          # NaN / Infinity: not JSON, never read
        return "null"
    ds = "".join(map(str, digits)).lstrip("0")
    if not ds:
        return "0"
    stripped = ds.rstrip("0")
    exp += len(ds) - len(stripped)
    minus = "-" if sign else ""
    if exp >= 0 and len(stripped) + exp <= MAX_DIGITS:
        return minus + stripped + "0" * exp           # what str() gives for the int
    if exp < 0 and len(stripped) <= 17 and -350 < exp + len(stripped) < 310:
        f = float(d)                  # a decimal some float renders: written as orjson does
        if Decimal(repr(f)) == d:
            return _dumps(f).decode()
    return f"{minus}{stripped}e{exp}"


def number_text(x: Any) -> str:
    """The canonical text of a number (int, float or Decimal): equal numbers give equal
    text (``1``, ``1.0``, ``1e0`` all give ``1``)."""
    t = type(x)
    if t is int:
        try:
            return str(x)
        except ValueError:                # beyond the conversion limit: still exact
            return "0x" + format(x, "x")
    if t is float:
        if not math.isfinite(x):
            return "null"
        if not x.is_integer():
            return _dumps(x).decode()     # as orjson writes it (canon's fast path)
        if abs(x) < 2 ** 53:
            return str(int(x))
        return _decimal_canon(Decimal(repr(x)))
    return _decimal_canon(x)


def canon(value: Any) -> bytes:
    """The identity of a JSON value: equal bytes exactly when the values are equal (object
    keys sorted; numbers equal by exact decimal value, so ``1 == 1.0`` and ``2**70 !=
    2**70 + 1``)."""
    try:
        b = _dumps(value, option=_SORT)
    except TypeError:                     # big ints, Decimal, deep nesting, surrogates
        return _write(value, sort_keys=True, canonical=True)
    # orjson writes an integral float as "1.0" or "1e+16": such a float must read as the
    # integer it equals; any other float orjson writes as the exact writer does
    if b.find(b".0") >= 0 or b.find(b"e+") >= 0:
        return _write(value, sort_keys=True, canonical=True)
    return b"%b" % b          # a compact copy: orjson's bytes keep a 4 KB buffer


def same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are equal JSON values (rule 7; cheaper than comparing canons when
    orjson writes both the same way, which then settles it)."""
    if a is b:
        return True
    try:
        if _dumps(a) == _dumps(b):
            return True
    except TypeError:
        pass
    return canon(a) == canon(b)


# --------------------------------------------------------------------------- writing
def dumps(value: Any, *, indent: bool = False, sort_keys: bool = False,
          default: Callable[[Any], Any] | None = None) -> bytes:
    """JSON bytes of ``value``: orjson's when it can, else the exact writer (same layout)."""
    opt = orjson.OPT_NON_STR_KEYS
    if indent:
        opt |= orjson.OPT_INDENT_2
    if sort_keys:
        opt |= _SORT
    try:
        return _dumps(value, option=opt, default=_refuse_decimal if default is None else
                      _chain(default))
    except TypeError:
        return _write(value, sort_keys=sort_keys, indent=indent, default=default)


def _refuse_decimal(obj: Any) -> Any:
    raise TypeError("exact writer needed")


def _chain(default: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def hook(obj: Any) -> Any:
        if type(obj) is Decimal:
            raise TypeError("exact writer needed")
        return default(obj)
    return hook


def _str_bytes(s: str) -> bytes:
    try:
        return _dumps(s)
    except TypeError:                     # a lone surrogate: escape it
        return json.dumps(s).encode()


def _key_text(k: Any) -> str:
    if isinstance(k, str):
        return k
    if k is None or isinstance(k, bool):
        return {None: "null", True: "true", False: "false"}[k]
    if is_exact_number(k):
        return number_text(k) if type(k) is not float else repr(k)
    return str(k)


def _write(value: Any, *, sort_keys: bool = False, indent: bool = False,
           canonical: bool = False, default: Callable[[Any], Any] | None = None) -> bytes:
    """An iterative JSON writer for what orjson cannot write: integers of any size,
    Decimal (as a JSON number), any depth. ``canonical`` writes every number by
    :func:`number_text` (the identity of values, see :func:`canon`)."""
    out: list[bytes] = []
    # the stack holds things to emit: bytes as they are, or (value, level) to write
    stack: list[Any] = [(value, 0)]
    nl = b"\n"
    while stack:
        item = stack.pop()
        if type(item) is bytes:
            out.append(item)
            continue
        v, level = item
        t = type(v)
        if v is None:
            out.append(b"null")
        elif v is True:
            out.append(b"true")
        elif v is False:
            out.append(b"false")
        elif t is str or isinstance(v, str):
            out.append(_str_bytes(str(v)))
        elif t is Decimal:
            out.append((number_text(v) if canonical else _decimal_text(v)).encode())
        elif isinstance(v, int):
            out.append(number_text(int(v)).encode())
        elif t is float:
            if canonical:
                out.append(number_text(v).encode())
            elif math.isfinite(v):
                out.append(_dumps(v))
            else:
                out.append(b"null")
        elif isinstance(v, dict):
            items = [(_key_text(k), x) for k, x in v.items()]
            if sort_keys:
                items.sort(key=lambda kv: kv[0])
            if not items:
                out.append(b"{}")
                continue
            pad = (nl + b"  " * (level + 1)) if indent else b""
            sep = b": " if indent else b":"
            parts: list[Any] = [b"{"]
            for i, (k, x) in enumerate(items):
                parts.append((b"," if i else b"") + pad + _str_bytes(k) + sep)
                parts.append((x, level + 1))
            parts.append(((nl + b"  " * level) if indent else b"") + b"}")
            stack.extend(reversed(parts))
        elif isinstance(v, (list, tuple, set, frozenset)):
            seq = list(v)
            if not seq:
                out.append(b"[]")
                continue
            pad = (nl + b"  " * (level + 1)) if indent else b""
            parts = [b"["]
            for i, x in enumerate(seq):
                parts.append((b"," if i else b"") + pad)
                parts.append((x, level + 1))
            parts.append(((nl + b"  " * level) if indent else b"") + b"]")
            stack.extend(reversed(parts))
        else:
            if default is None:
                out.append(_str_bytes(repr(v)))
            else:
                stack.append((default(v), level))
    return b"".join(out)


def _decimal_text(d: Decimal) -> str:
    """A Decimal as a JSON number literal, as exact as it was read (``1E+400`` is JSON)."""
    return str(d) if d.is_finite() else "null"
