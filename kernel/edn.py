"""A small reader and writer for EDN, the data notation of Clojure and Jepsen histories.

Reading covers what Jepsen and Knossos files hold: vectors ``[...]``, lists ``(...)``,
maps ``{...}`` (keys in any order, spread over any number of lines), sets ``#{...}``,
keywords ``:type``, symbols, strings with escapes, characters ``\\a``, integers (with an
optional ``N``), floats (with an optional ``M``), ratios, ``nil``/``true``/``false``,
``;`` comments, ``#_`` discards, metadata ``^...`` (dropped) and tagged values
``#inst "..."`` (kept as :class:`Tagged`). Commas are whitespace.

Python shapes: a float with ``M`` (BigDecimal) -> ``decimal.Decimal`` (exact), vector -> ``list``, list -> :class:`EdnList` (a ``list`` subclass), map ->
``dict``, set -> ``frozenset``, keyword -> :class:`Keyword`, symbol -> :class:`Symbol`,
``nil`` -> ``None``. Map keys and set elements that are vectors or maps are turned into
tuples so they can be hashed.

Errors are :class:`EdnError` (a :class:`gtcheck.kernel.errors.UserError`) naming the line and
column.

What a history cannot hold is refused, with its line and column, rather than turned into
something else: ``##NaN``, ``##Inf`` and floats too large for a double (a gt history is JSON,
whose numbers are finite), a ratio with a zero denominator, a radix outside 2..36 or digits
the radix does not have, a ``\\uD800``-style escape that is half of a surrogate pair (a pair
of escapes is joined into its character), a map with a repeated key or a set with a repeated
element, and nesting deeper than :data:`MAX_DEPTH`. Integers of any size are exact, read and
written (those beyond 64 bits are written with Clojure's ``N``).
"""

from __future__ import annotations

import bisect
import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable

from gtcheck.kernel.errors import UserError

__all__ = [
    "EdnError", "EdnList", "Keyword", "Symbol", "Tagged",
    "loads", "loads_all", "loads_all_located", "load", "dumps", "kw", "from_json", "to_json",
]


MAX_DEPTH = 100
"""How deeply collections may nest (a Jepsen op map is at depth 2 of its history)."""

_INT64 = (-(1 << 63), (1 << 63) - 1)


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
_SURROGATE_PAIR = re.compile(r"[\ud800-\udbff][\udc00-\udfff]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DISCARD = object()
_META = object()
_SPECIAL_FLOATS = {"##Inf": math.inf, "##-Inf": -math.inf, "##NaN": math.nan}
_NOT_FINITE_HINT = ("a gt history is JSON, whose numbers are finite: write the value as a "
                    "string or leave it out")


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

    __slots__ = ("text", "source", "atoms", "starts", "_positions", "_newlines")

    def __init__(self, text: str, source: str | None):
        self.text = text
        self.source = source
        self.atoms: dict[str, Any] = {}
        # the first token of each element of the top-level vector (or of each top-level
        # form, for a file that is a bare sequence of maps): for errors that cite an op
        self.starts: list[int] = []
        self._positions: list[int] | None = None
        self._newlines: list[int] = []

    def token_pos(self, index: int) -> int:
        if self._positions is not None:
            return self._positions[index] if index < len(self._positions) else len(self.text)
        for i, m in enumerate(_TOKEN.finditer(self.text)):
            if i == index:
                return m.start(1)
        return len(self.text)

    def element_place(self, i: int) -> tuple[int, int]:
        """(line, column) where element ``i`` of the top-level vector starts: computed
        only when an error needs it (one more pass over the text, then a lookup)."""
        if self._positions is None:
            self._positions = [m.start(1) for m in _TOKEN.finditer(self.text)]
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        pos = self.token_pos(self.starts[i]) if i < len(self.starts) else len(self.text)
        line = bisect.bisect_left(self._newlines, pos)  # newlines before pos
        return line + 1, pos - (self._newlines[line - 1] + 1 if line else 0) + 1

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
        starts = self.starts
        top_starts: list[int] = []
        for ti, tok in enumerate(tokens):
            if not tok:  # the end of the text (after trailing blanks or comments)
                continue
            c = tok[0]
            if c == "[" or c == "(" or c == "{":
                frame = _Frame(c, ti)
                stack.append(frame)
                if len(stack) > MAX_DEPTH + 1:
                    raise self.fail(f"collections nested more than {MAX_DEPTH} levels deep", ti,
                                    hint="a Jepsen history nests a few levels; check for a "
                                         "runaway or unbalanced bracket")
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
                    if len(value) * 2 != len(items):
                        raise self.fail(f"the map repeats the key {_repeated(items[::2])}", frame.token,
                                        hint="an EDN map has each key once")
                elif frame.kind == "#{":
                    value = frozenset(_hashable(x) for x in items)
                    if len(value) != len(items):
                        raise self.fail(f"the set repeats the element {_repeated(items)}", frame.token,
                                        hint="an EDN set has each element once")
                else:
                    value = items
                vstart = frame.token
                frame = stack[-1]
            elif c == '"':
                vstart = ti
                if len(tok) < 2 or tok[-1] != '"':
                    raise self.fail("unclosed string opened here", ti)
                value = self.string(tok, ti)
            elif c == "#":
                if tok == "#{":
                    frame = _Frame("#{", ti)
                    stack.append(frame)
                    if len(stack) > MAX_DEPTH + 1:
                        raise self.fail(f"collections nested more than {MAX_DEPTH} levels deep", ti)
                    continue
                if tok == "#_":
                    frame.prefixes.append(_DISCARD)
                    continue
                vstart = ti
                if tok in _SPECIAL_FLOATS:
                    raise self.fail(f"{tok} cannot be read into a history", ti, hint=_NOT_FINITE_HINT)
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
                vstart = ti
                body = tok[1:]
                if len(body) == 1:
                    value = body
                elif body in _CHAR_NAMES:
                    value = _CHAR_NAMES[body]
                elif body.startswith("u") and len(body) == 5:
                    value = chr(int(body[1:], 16))
                    if 0xD800 <= ord(value) <= 0xDFFF:
                        raise self.fail(f"the character \\{body} is half of a surrogate pair, "
                                        "not a character", ti)
                else:
                    raise self.fail("a character was expected after '\\'", ti)
            else:
                vstart = ti
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
            depth = len(stack)
            if depth == 2:
                starts.append(vstart)
            elif depth == 1:
                top_starts.append(vstart)
            frame.items.append(value)
        if frame is not top:
            want = _CLOSE[frame.kind[-1]]
            raise self.fail(
                f"unclosed {frame.kind!r} opened here: {want!r} was expected before the end",
                frame.token)
        if top.prefixes:
            raise self.fail("unexpected end of input: a form was expected", pos=len(self.text))
        if len(top.items) != 1 or not isinstance(top.items[0], list):
            self.starts = top_starts  # a bare sequence of forms: cite those
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

        text = _STRING_ESCAPE.sub(unescape, body)
        if _LONE_SURROGATE.search(text):
            # EDN strings are UTF-16 (Java): a pair of \uD83D\uDE00 escapes is one
            # character; half a pair is no character and no history can hold it
            text = _SURROGATE_PAIR.sub(
                lambda m: chr(0x10000 + ((ord(m[0][0]) - 0xD800) << 10) + (ord(m[0][1]) - 0xDC00)), text)
            lone = _LONE_SURROGATE.search(text)
            if lone:
                raise self.fail(f"the string holds \\u{ord(lone[0]):04X}, half of a surrogate pair "
                                "without its other half: not a character", token,
                                hint="a character beyond U+FFFF is written as two escapes, "
                                     "e.g. \\uD83D\\uDE00, or as itself in UTF-8")
        return text

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
            try:
                value = self.number(tok, token)
                if type(value) is int and value.bit_length() > 14_000:  # about 4300 digits
                    raise ValueError
                return value
            except ValueError:  # Python reads at most 4300 digits of an integer
                raise self.fail(f"the number {tok[:40]!r}... ({len(tok)} characters) is too long", token,
                                hint="integers of up to 4300 digits are read exactly") from None
        return Symbol(tok)

    def number(self, tok: str, token: int) -> Any:
        """An integer (exact, any size), a float, a ratio; ValueError past 4300 digits."""
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
            radix = int(m.group(2))
            if not 2 <= radix <= 36:
                raise self.fail(f"bad number {tok[:40]!r}: a radix is between 2 and 36, not {radix}", token)
            try:
                value = int(m.group(3), radix)
            except ValueError:
                raise self.fail(f"bad number {tok[:40]!r}: {m.group(3)[:40]!r} is not a number in base {radix}",
                                token) from None
            return -value if m.group(1) == "-" else value
        if _FLOAT.match(tok):
            if tok[-1] == "M":  # a BigDecimal: exact, as Decimal
                try:
                    return Decimal(tok[:-1])
                except ArithmeticError:  # an exponent beyond what Decimal holds
                    raise self.fail(f"the number {tok[:40]!r} has an exponent out of range", token) from None
            value = float(tok)
            if math.isinf(value):
                raise self.fail(f"the number {tok[:40]!r} is too large for a double", token,
                                hint=_NOT_FINITE_HINT)
            return value
        m = _RATIO.match(tok)
        if m:
            if int(m.group(2)) == 0:
                raise self.fail(f"bad number {tok[:40]!r}: a ratio's denominator cannot be 0", token)
            ratio = Fraction(int(m.group(1)), int(m.group(2)))
            if ratio.denominator == 1:
                return ratio.numerator
            try:
                return float(ratio)
            except OverflowError:
                raise self.fail(f"the ratio {tok[:40]!r} is too large for a double", token,
                                hint=_NOT_FINITE_HINT) from None
        raise self.fail(f"bad number {tok[:40]!r}", token)


def _repeated(items: list) -> str:
    """The first item equal to an earlier one, as EDN (for an error message)."""
    seen = set()
    for x in items:
        h = _hashable(x)
        if h in seen:
            return dumps(x)[:60]
        seen.add(h)
    return "?"


def _hashable(value: Any) -> Any:
    """Vectors and maps used as map keys or set elements become tuples."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((_hashable(k), _hashable(v)) for k, v in value.items())
    return value


def _prepare(text: str | bytes, source: str | None = None) -> str:
    if isinstance(text, (bytes, bytearray, memoryview)):
        data = bytes(text)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:   # bad input, at its line and column
            line = data.count(b"\n", 0, exc.start) + 1
            column = len(data[data.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")) + 1
            raise EdnError(f"EDN line {line}, column {column}: byte 0x{data[exc.start]:02x} is not UTF-8",
                           where=source, hint="EDN text is UTF-8: re-encode the file") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def loads(text: str | bytes, source: str | None = None) -> Any:
    """Read exactly one EDN form from ``text`` (comments and whitespace around it allowed)."""
    text = _prepare(text, source)
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
    return _Reader(_prepare(text, source), source).read_all()


def loads_all_located(text: str | bytes, source: str | None = None
                      ) -> tuple[list[Any], Callable[[int], tuple[int, int]]]:
    """Every top-level form, and a function giving the (line, column) where element ``i``
    starts: of the single top-level vector, or of the top-level forms when there are
    several. Positions are found only when asked (for error messages)."""
    reader = _Reader(_prepare(text, source), source)
    return reader.read_all(), reader.element_place


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
        out.append(_name_text(value, ":" + value.name))
    elif isinstance(value, str):
        out.append(_dump_string(value))
    elif isinstance(value, int):
        # exact at any size; beyond 64 bits with Clojure's N, as Clojure prints a BigInt
        out.append(str(value) if _INT64[0] <= value <= _INT64[1] else f"{value}N")
    elif isinstance(value, float):
        out.append(_dump_float(value))
    elif isinstance(value, Decimal):  # an exact decimal: a BigDecimal, as Clojure writes it
        if not value.is_finite():
            raise TypeError(f"cannot write {value} as EDN")
        out.append(f"{value}M")
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
        out.append(_name_text(value, value.name))
    elif isinstance(value, Tagged):
        out.append("#" + value.tag + " ")
        _dump(value.value, out)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as EDN")


_READS_BACK: dict[tuple[type, str], bool] = {}   # (Keyword/Symbol, name) -> its text reads back


def can_write(value: Keyword | Symbol) -> bool:
    """Whether a keyword or symbol has an EDN text that this reader reads back as it (the
    reader is the one rule of what a name may hold: ``::x``, ``:a b`` or a symbol ``nil``
    have no EDN text of their own)."""
    key = (type(value), value.name)
    ok = _READS_BACK.get(key)
    if ok is None:
        text = (":" if type(value) is Keyword else "") + value.name
        try:
            back = _Reader(text, None).read_all()
            ok = len(back) == 1 and type(back[0]) is type(value) and back[0] == value
        except EdnError:
            ok = False
        if len(_READS_BACK) > 100_000:
            _READS_BACK.clear()
        _READS_BACK[key] = ok
    return ok


def _name_text(value: Any, text: str) -> str:
    """``text``, the EDN of a keyword or symbol, when it reads back (:func:`can_write`)."""
    if not can_write(value):
        raise ValueError(f"cannot write the {type(value).__name__.lower()} {value.name!r} as EDN: "
                         f"{text!r} would not read back as it")
    return text


# --------------------------------------------------------------------------- JSON bridge

def to_json(value: Any) -> Any:
    """EDN data -> JSON-shaped data: keywords and symbols become their names, sets and
    lists become lists, map keys become strings, tagged values become their value."""
    if value is None or isinstance(value, (bool, int, float, str, Decimal)):
        return value
    if isinstance(value, Keyword):
        return value.name
    if isinstance(value, dict):
        out = {_json_key(k): to_json(v) for k, v in value.items()}
        if len(out) != len(value):  # e.g. :a and "a", or 1 and "1": one would be lost
            names: dict[str, Any] = {}
            for k in value:
                if _json_key(k) in names:
                    raise EdnError(f"the map keys {dumps(names[_json_key(k)])[:40]} and {dumps(k)[:40]} "
                                   f"both become the JSON name {_json_key(k)!r}",
                                   hint="a JSON object names each field once: rename one key")
                names[_json_key(k)] = k
        return out
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
    if isinstance(key, (int, float, Decimal)):
        return str(key)
    return dumps(key)


def from_json(value: Any) -> Any:
    """JSON-shaped data -> EDN data: objects become maps with string keys, arrays vectors."""
    if isinstance(value, dict):
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value
