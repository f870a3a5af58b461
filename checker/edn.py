"""A small reader and writer for EDN, the data notation of Clojure and Jepsen histories.

Reading covers what Jepsen and Knossos files hold: vectors ``[...]``, lists ``(...)``,
maps ``{...}`` (keys in any order, spread over any number of lines), sets ``#{...}``,
keywords ``:type``, symbols, strings with escapes, characters ``\\a``, integers (with an
optional ``N``), floats (with an optional ``M``), ratios, ``nil``/``true``/``false``,
``;`` comments, ``#_`` discards, metadata ``^...`` (dropped) and tagged values
``#inst "..."`` (kept as :class:`Tagged`). Commas are whitespace.

Python shapes: vector -> ``list``, list -> :class:`EdnList` (a ``list`` subclass), map ->
``dict``, set -> ``frozenset``, keyword -> :class:`Keyword`, symbol -> :class:`Symbol`,
``nil`` -> ``None``. Map keys and set elements that are vectors or maps are turned into
tuples so they can be hashed.

Errors are :class:`EdnError` (a :class:`gtcheck.kernel.errors.UserError`) naming the line and
column.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from gtcheck.kernel.errors import UserError

__all__ = [
    "EdnError", "EdnList", "Keyword", "Symbol", "Tagged",
    "loads", "loads_all", "load", "dumps", "kw", "from_json", "to_json",
]


class EdnError(UserError):
    """The text is not valid EDN (or uses a form this reader does not know)."""


class Keyword:
    """An EDN keyword such as ``:ok`` (``name`` is ``"ok"``; namespaced ``:a/b`` -> ``"a/b"``)."""

    __slots__ = ("name",)
    _interned: dict[str, "Keyword"] = {}

    def __new__(cls, name: str) -> "Keyword":
        found = cls._interned.get(name)
        if found is None:
            found = object.__new__(cls)
            found.name = name
            cls._interned[name] = found
        return found

    def __repr__(self) -> str:
        return ":" + self.name

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Keyword) and other.name == self.name)

    def __hash__(self) -> int:
        return hash((Keyword, self.name))

    def __reduce__(self):
        return (Keyword, (self.name,))


def kw(name: str) -> Keyword:
    """The keyword ``:name``."""
    return Keyword(name)


class Symbol:
    """An EDN symbol (a bare word that is not nil/true/false)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Symbol) and other.name == self.name

    def __hash__(self) -> int:
        return hash((Symbol, self.name))


class Tagged:
    """A tagged value ``#tag value`` (``#inst``, ``#uuid``, records...), kept as read."""

    __slots__ = ("tag", "value")

    def __init__(self, tag: str, value: Any):
        self.tag = tag
        self.value = value

    def __repr__(self) -> str:
        return f"#{self.tag} {dumps(self.value)}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tagged) and (other.tag, other.value) == (self.tag, self.value)

    def __hash__(self) -> int:
        return hash((Tagged, self.tag, _hashable(self.value)))


class EdnList(list):
    """An EDN list ``( ... )``; behaves as a Python list, written back with parentheses."""


# --------------------------------------------------------------------------- reading

_INT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)N?\Z")
_HEXOCT = re.compile(r"([+-]?)0([xX][0-9a-fA-F]+|[0-7]+)N?\Z")
_RADIX = re.compile(r"([+-]?)([0-9]+)[rR]([0-9a-zA-Z]+)\Z")
_FLOAT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?M?\Z")
_RATIO = re.compile(r"([+-]?[0-9]+)/([0-9]+)\Z")
_STRING_ESCAPES = {
    '"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/",
}
_CHAR_NAMES = {
    "newline": "\n", "space": " ", "tab": "\t", "return": "\r", "backspace": "\b",
    "formfeed": "\f",
}
_CLOSE = {"[": "]", "(": ")", "{": "}"}


# One token, after any whitespace, commas and comments. The last alternatives (any single
# non-blank character, or the end of the text) make every match start where the previous
# one ended, so nothing is skipped silently and comments are never read as code.
_TOKEN = re.compile(
    r"""(?:[\s,]|;[^\n]*)*("""
    r""""(?:[^"\\]|\\.)*\""""                      # string
    r"""|\#\{|\#_|\#\#(?:Inf|-Inf|NaN)"""          # set, discard, symbolic floats
    r"""|\#"(?:[^"\\]|\\.)*\""""                   # regex literal
    r"""|\#[^\s,;()\[\]{}"\\^]+"""                 # tag
    r"""|\\(?:u[0-9a-fA-F]{4}|newline|space|tab|return|backspace|formfeed|.)"""  # char
    r"""|[^\s,;()\[\]{}"\\^\#][^\s,;()\[\]{}"\\^]*"""  # atom: number, keyword, symbol
    r"""|[\[\](){}^]|[^\s,]|\Z)""",
    re.S,
)
_STRING_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_DISCARD = object()
_META = object()
_SPECIAL_FLOATS = {"##Inf": math.inf, "##-Inf": -math.inf, "##NaN": math.nan}


class _Frame:
    __slots__ = ("kind", "items", "token", "prefixes")

    def __init__(self, kind: str, token: int):
        self.kind = kind
        self.items: list = EdnList() if kind == "(" else []
        self.token = token
        self.prefixes: list = []


class _Reader:
    """Reads forms from one regex tokenisation and an explicit stack (no recursion).

    Positions are not tracked while reading (that halves the time on large files); an
    error finds the line and column of its token by tokenising again.
    """

    __slots__ = ("text", "source", "atoms")

    def __init__(self, text: str, source: str | None):
        self.text = text
        self.source = source
        self.atoms: dict[str, Any] = {}

    def token_pos(self, index: int) -> int:
        for i, m in enumerate(_TOKEN.finditer(self.text)):
            if i == index:
                return m.start(1)
        return len(self.text)

    def fail(self, message: str, token: int | None = None, pos: int | None = None,
             hint: str | None = None) -> EdnError:
        if pos is None:
            pos = self.token_pos(token) if token is not None else 0
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return EdnError(
            f"EDN line {line}, column {col}: {message}",
            where=f"{self.source}:{line}" if self.source else None,
            hint=hint,
        )

    def read_all(self) -> list:
        """Every top-level form of the text, in order."""
        tokens = _TOKEN.findall(self.text)
        top = _Frame("top", 0)
        stack = [top]
        frame = top
        atoms = self.atoms
        for ti, tok in enumerate(tokens):
            if not tok:  # the end of the text (after trailing blanks or comments)
                continue
            c = tok[0]
            if c == "[" or c == "(" or c == "{":
                frame = _Frame(c, ti)
                stack.append(frame)
                continue
            if c == "]" or c == ")" or c == "}":
                if frame is top:
                    raise self.fail(f"unexpected {c!r}: nothing is open here", ti)
                want = _CLOSE[frame.kind[-1]]
                if c != want:
                    raise self.fail(
                        f"{c!r} does not close the {frame.kind!r} opened at "
                        f"{self.place(self.token_pos(frame.token))}: {want!r} was expected", ti)
                if frame.prefixes:
                    raise self.fail("a form was expected before this closing bracket", ti)
                stack.pop()
                items = frame.items
                if frame.kind == "{":
                    if len(items) % 2:
                        raise self.fail(
                            "a map needs an even number of forms (key value pairs)", frame.token)
                    value = {}
                    for i in range(0, len(items), 2):
                        k = items[i]
                        if isinstance(k, (list, dict)):
                            k = _hashable(k)
                        value[k] = items[i + 1]
                elif frame.kind == "#{":
                    value = frozenset(_hashable(x) for x in items)
                else:
                    value = items
                frame = stack[-1]
            elif c == '"':
                if len(tok) < 2 or tok[-1] != '"':
                    raise self.fail("unclosed string opened here", ti)
                value = self.string(tok, ti)
            elif c == "#":
                if tok == "#{":
                    frame = _Frame("#{", ti)
                    stack.append(frame)
                    continue
                if tok == "#_":
                    frame.prefixes.append(_DISCARD)
                    continue
                if tok in _SPECIAL_FLOATS:
                    value = _SPECIAL_FLOATS[tok]
                elif tok.startswith('#"'):
                    if len(tok) < 3 or tok[-1] != '"':
                        raise self.fail("unclosed regex literal opened here", ti)
                    value = Tagged("regex", self.string(tok[1:], ti))
                elif len(tok) == 1:
                    raise self.fail("a tag name, '{' or '_' was expected after '#'", ti)
                elif tok[1] == ":":  # namespaced map #:ns{...}: keep the map as is
                    continue
                else:
                    frame.prefixes.append(tok[1:])
                    continue
            elif c == "^":
                frame.prefixes.append(_META)
                continue
            elif c == "\\":
                body = tok[1:]
                if len(body) == 1:
                    value = body
                elif body in _CHAR_NAMES:
                    value = _CHAR_NAMES[body]
                elif body.startswith("u") and len(body) == 5:
                    value = chr(int(body[1:], 16))
                else:
                    raise self.fail("a character was expected after '\\'", ti)
            else:
                try:
                    value = atoms[tok]
                except KeyError:
                    if len(tok) == 1 and not (tok.isalnum() or tok in "*+!-_?<>=./"):
                        raise self.fail(f"unexpected character {tok!r}", ti) from None
                    value = atoms[tok] = self.atom(tok, ti)
            # a complete value: apply pending prefixes, then add it to the open collection
            prefixes = frame.prefixes
            if prefixes:
                keep = True
                while prefixes:
                    p = prefixes.pop()
                    if p is _DISCARD or p is _META:
                        keep = False
                        break
                    value = Tagged(p, value)
                if not keep:
                    continue
            frame.items.append(value)
        if frame is not top:
            want = _CLOSE[frame.kind[-1]]
            raise self.fail(
                f"unclosed {frame.kind!r} opened here: {want!r} was expected before the end",
                frame.token)
        if top.prefixes:
            raise self.fail("unexpected end of input: a form was expected", pos=len(self.text))
        return top.items

    def place(self, pos: int) -> str:
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return f"line {line}, column {col}"

    def string(self, tok: str, token: int) -> str:
        body = tok[1:-1]
        if "\\" not in body:
            return body

        def unescape(m: re.Match) -> str:
            esc = m.group(1)
            if esc in _STRING_ESCAPES:
                return _STRING_ESCAPES[esc]
            if esc[0] == "u" and len(esc) == 5:
                return chr(int(esc[1:], 16))
            raise self.fail(f"unknown escape \\{esc} in string", token)

        return _STRING_ESCAPE.sub(unescape, body)

    def atom(self, tok: str, token: int) -> Any:
        if tok[0] == ":":
            if len(tok) == 1:
                raise self.fail("a keyword needs a name after ':'", token)
            return Keyword(tok[2:] if tok.startswith("::") else tok[1:])
        if tok == "nil":
            return None
        if tok == "true":
            return True
        if tok == "false":
            return False
        c = tok[0]
        if c.isdigit() or (c in "+-" and len(tok) > 1 and tok[1].isdigit()):
            if _INT.match(tok):
                return int(tok.rstrip("N"))
            m = _HEXOCT.match(tok)
            if m:
                base = 16 if m.group(2)[0] in "xX" else 8
                digits = m.group(2)[1:] if base == 16 else m.group(2)
                value = int(digits, base)
                return -value if m.group(1) == "-" else value
            m = _RADIX.match(tok)
            if m:
                value = int(m.group(3), int(m.group(2)))
                return -value if m.group(1) == "-" else value
            if _FLOAT.match(tok):
                return float(tok.rstrip("M"))
            m = _RATIO.match(tok)
            if m:
                ratio = Fraction(int(m.group(1)), int(m.group(2)))
                return ratio.numerator if ratio.denominator == 1 else float(ratio)
            raise self.fail(f"bad number {tok!r}", token)
        return Symbol(tok)


def _hashable(value: Any) -> Any:
    """Vectors and maps used as map keys or set elements become tuples."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((_hashable(k), _hashable(v)) for k, v in value.items())
    return value


def _prepare(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def loads(text: str | bytes, source: str | None = None) -> Any:
    """Read exactly one EDN form from ``text`` (comments and whitespace around it allowed)."""
    text = _prepare(text)
    reader = _Reader(text, source)
    forms = reader.read_all()
    if not forms:
        raise reader.fail("the input holds no EDN form (it is empty or only comments)", pos=0)
    if len(forms) > 1:
        raise EdnError(
            f"the input holds {len(forms)} top-level forms where one was expected",
            where=source,
            hint="a Jepsen history is a single vector: put all operations inside one [ ... ]",
        )
    return forms[0]


def loads_all(text: str | bytes, source: str | None = None) -> list[Any]:
    """Read every top-level form (for files that hold a sequence of maps, not one vector)."""
    return _Reader(_prepare(text), source).read_all()


def load(path: str, source: str | None = None) -> Any:
    """Read the single EDN form of a file."""
    with open(path, "rb") as fh:
        return loads(fh.read(), source=source or str(path))


# --------------------------------------------------------------------------- writing

def _dump_string(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    out = out.replace("\t", "\\t").replace("\r", "\\r")
    return '"' + out + '"'


def _dump_float(f: float) -> str:
    if math.isnan(f):
        return "##NaN"
    if math.isinf(f):
        return "##Inf" if f > 0 else "##-Inf"
    text = repr(f)
    if "." not in text and "e" not in text and "E" not in text:
        text += ".0"
    return text


def dumps(value: Any) -> str:
    """Write ``value`` as EDN text on one line.

    ``dict`` -> map, ``list`` -> vector, :class:`EdnList` and ``tuple`` -> list (``tuple``
    as a vector, since JSON-shaped data has no lists), ``set``/``frozenset`` -> set,
    ``None`` -> nil, :class:`Keyword` -> ``:name``, ``str`` -> string.
    """
    parts: list[str] = []
    _dump(value, parts)
    return "".join(parts)


def _dump_seq(opening: str, items: Any, closing: str, out: list[str]) -> None:
    """A list, vector or set: its elements separated by spaces between the brackets."""
    out.append(opening)
    for i, v in enumerate(items):
        if i:
            out.append(" ")
        _dump(v, out)
    out.append(closing)


def _dump(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("nil")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Keyword):
        out.append(":" + value.name)
    elif isinstance(value, str):
        out.append(_dump_string(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_dump_float(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for k, v in value.items():
            if not first:
                out.append(", ")
            first = False
            _dump(k, out)
            out.append(" ")
            _dump(v, out)
        out.append("}")
    elif isinstance(value, EdnList):
        _dump_seq("(", value, ")", out)
    elif isinstance(value, (list, tuple)):
        _dump_seq("[", value, "]", out)
    elif isinstance(value, (set, frozenset)):
        _dump_seq("#{", sorted(value, key=repr), "}", out)
    elif isinstance(value, Symbol):
        out.append(value.name)
    elif isinstance(value, Tagged):
        out.append("#" + value.tag + " ")
        _dump(value.value, out)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as EDN")


# --------------------------------------------------------------------------- JSON bridge

def to_json(value: Any) -> Any:
    """EDN data -> JSON-shaped data: keywords and symbols become their names, sets and
    lists become lists, map keys become strings, tagged values become their value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Keyword):
        return value.name
    if isinstance(value, dict):
        return {_json_key(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [to_json(v) for v in sorted(value, key=repr)]
    if isinstance(value, Symbol):
        return value.name
    if isinstance(value, Tagged):
        return to_json(value.value)
    return str(value)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (Keyword, Symbol)):
        return key.name
    if key is None:
        return "nil"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return str(key)
    return dumps(key)


def from_json(value: Any) -> Any:
    """JSON-shaped data -> EDN data: objects become maps with string keys, arrays vectors."""
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value
