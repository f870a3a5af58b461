"""An independent structural validator of gt histories, written from the contract alone.

Source: ``../shared/HISTORY-FORMAT.md`` (file rules; header; rule 7, plus the
duplicate ``(ts, origin)`` of rule 2, the equal values of rule 4 and "no write invoked
after ``settled_after_ns``" of rule 6), and, where the contract leaves a type open, the
field table of ``docs/history-format.md``. It deliberately does NOT import or copy
anything from ``gtcheck.checker``: the fuzzer compares ``gtcheck validate`` with it, so
that both "accepted" and "refused" are checked.

It answers, for the bytes of a file:

* ``accept``;
* ``refuse`` with the first refused line (1-based, as an editor counts, blank lines
  included; ``None`` for whole-file problems), the field, the reason and the rule;
* ``limit``: the input is beyond what this validator reads, or near a limit gtcheck sets:
  a line nested more than ``MAX_DEPTH`` (510) levels deep (gtcheck refuses lines nested
  more than 512 deep, with a message naming the line and field), a number with more
  than ``MAX_DIGITS`` digits (gtcheck: 4,300) or an exponent beyond ``MAX_EXPONENT``
  (gtcheck refuses "a number whose exponent does not fit", such as
  1e99999999999999999999). RFC 8259 §6 and §9 let a parser limit the range of numbers
  and the depth of nesting, so either answer of gtcheck is acceptable there; only a
  crash is not.

Each check carries the rule it comes from (``rule`` attribute): ``file``, ``header``,
``R2`` (duplicate (ts, origin)), ``R4`` (equal values), ``R5`` (one operation at a time /
completion follows invocation), ``R6`` (write after settled), ``R7`` (types and shapes),
``docs`` (a requirement written in docs/history-format.md but not in the contract's
rule 7: the read invocation's null value, the ``ttl`` process, ``index`` non-negative,
the shape of an update's change and post-image, an ok write repeating its item, an ok
cas repeating its pair or its new item, and an event without ``index`` taking its
position among the events as index, which must not collide with another's).

Rule 11 (``R11``) and the item encoding of docs/history-format.md (``docs``): a write's
``condition`` is a string (an expression alone), ``{"expression", "names", "values"}`` or
the short form ``{ATTR: VALUE}``; a read carries none; an update's value may be an
UpdateExpression object; ``key_attributes`` is an object; the values that are items (a
write's, a cas's, an update's set/add attributes, what an ok read, update or cas returned)
hold only well-formed tags (``$B`` base64; ``$SS``/``$NS``/``$BS`` non-empty, each element
once, in canonical order; ``$M`` an object). Written here again from those documents,
not from gtcheck's code.

Choices where the contract is silent (each written down in tests/checker/test_refvalidator.py):

* a UTF-8 byte order mark is refused, at the start as anywhere else: RFC 8259 §8.1 says
  JSON text must not be written with one (a parser may ignore it; gtcheck refuses it
  with a hint, and so does this validator);
* a "blank" line is one holding only ASCII whitespace (space, tab, CR, and also VT and FF,
  C's isspace; "blank lines are ignored" does not say which); other spaces (U+00A0,
  U+3000, U+2028) make a line that is not JSON. Lines are split at LF only, so CRLF files
  are read as JSON Lines allows, and U+2028 or U+0085 inside a string is just text;
* blank lines before the header are ignored too ("blank lines are ignored anywhere");
* a string holding a lone UTF-16 surrogate escape (``"\\ud800"``) is refused: it
  cannot be written in UTF-8, the file's encoding (RFC 8259 §8.2, RFC 7493 §2.1);
* "integer" means a JSON number written without fraction or exponent (``1.5e9`` and
  ``1.0`` are not integers, as docs/history-format.md says: "integers, not 1.5e9"),
  while values are equal when their exact decimal values are (``1 = 1.0 = 1e0``);
* a write is "invoked after settled_after_ns" when its invocation time is >= it
  (docs: "at or after"; the contract's "after it" read the same way);
* rule 4 applies in ``eventual`` mode to histories that are not ``"register": true``;
* header fields must have their types when present: ``null`` is allowed only for
  ``ts_uncertainty_ns`` (the docs say so) and for free metadata; region names are
  non-empty strings ("a non-empty list of distinct names");
* every ``region`` and ``origin`` in the file is one of the header's regions, on any
  event (nemesis events included: docs, "every region and origin in the file"), and
  ``key``, ``consistent``, ``ts``, ``index`` are type-checked on every event they
  appear on (contract rule 7: "a field that is present must have its type").
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from decimal import Decimal
from dataclasses import dataclass

MAX_DIGITS = 4000          # longest number token this validator reads exactly
MAX_EXPONENT = 10 ** 17    # larger exponents are "limit": gtcheck refuses 1e99999999999999999999
MAX_DEPTH = 510            # deeper lines are "limit": gtcheck refuses lines nested over 512
MAX_GZIP_BYTES = 64 << 20  # a decompressed file larger than this is "limit"

OP_FS = ("read", "write", "update", "delete", "cas")
WRITE_FS = ("write", "update", "delete", "cas")
NEMESIS_FS = ("partition", "heal", "region-down", "region-up", "clock-skew", "replication-delay")
TYPES = ("invoke", "ok", "fail", "info")
COMPLETIONS = ("ok", "fail", "info")
BLANK = " \t\r\x0b\x0c"


@dataclass(frozen=True)
class Verdict:
    verdict: str                # "accept", "refuse" or "limit"
    line: int | None = None     # first refused line (1-based)
    field: str | None = None
    reason: str = ""
    rule: str = ""

    @property
    def accepted(self) -> bool:
        return self.verdict == "accept"

    def __str__(self) -> str:
        if self.verdict == "accept":
            return "accept"
        where = f"line {self.line}" if self.line else "file"
        fld = f", field {self.field!r}" if self.field else ""
        return f"{self.verdict} ({self.rule}) {where}{fld}: {self.reason}"


class _Refuse(Exception):
    def __init__(self, field, reason, rule):
        super().__init__(reason)
        self.field, self.reason, self.rule = field, reason, rule


class _Limit(Exception):
    pass


# ---------------------------------------------------------------------------------------
# exact numbers

class JInt(int):
    """A JSON number written as an integer (no fraction, no exponent)."""


class JFloat:
    """A JSON number written with a fraction or an exponent, kept exactly."""

    __slots__ = ("text", "key")

    def __init__(self, text: str):
        self.text = text
        self.key = _decimal_key(text)

    def __eq__(self, other):
        return isinstance(other, JFloat) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"JFloat({self.text})"


_NUM = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?\Z")


def _decimal_key(text: str) -> str:
    """The exact value of a JSON number as a canonical string: equal values, equal keys."""
    if len(text) > MAX_DIGITS:
        raise _Limit(f"number of {len(text)} characters")
    m = _NUM.match(text)
    if m is None:  # pragma: no cover - json only hands over numbers of this grammar
        raise _Limit(f"number {text!r}")
    sign, whole, frac, exp = m.groups()
    digits = (whole + (frac or "")).lstrip("0")
    e = int(exp or "0") - len(frac or "")
    if abs(e) > MAX_EXPONENT:
        raise _Limit(f"number with exponent {e}")
    if not digits:
        return "0"
    stripped = digits.rstrip("0")
    e += len(digits) - len(stripped)
    return f"{sign}{stripped}e{e}"


def _parse_int(text: str) -> JInt:
    if len(text) > MAX_DIGITS:
        raise _Limit(f"integer of {len(text)} digits")
    return JInt(text)


def _is_int(v) -> bool:
    return type(v) is JInt


def _is_number(v) -> bool:
    return type(v) is JInt or type(v) is JFloat


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class _DuplicateKey(ValueError):
    pass


def _pairs(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise _DuplicateKey(k)
        obj[k] = v
    return obj


_SURROGATE = re.compile("[\ud800-\udfff]")

_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_int=_parse_int,
                            parse_float=JFloat, parse_constant=_reject_constant, strict=True)


def _loads(text: str):
    """One JSON value from one line (JSON whitespace around it allowed)."""
    return _DECODER.decode(text)


def canonical(value) -> str:
    """Canonical text of a JSON value: sorted object keys, exact numbers (iterative)."""
    out: list[str] = []
    stack = [("v", value)]
    while stack:
        kind, item = stack.pop()
        if kind == "s":
            out.append(item)
            continue
        v = item
        if v is None:
            out.append("null")
        elif v is True:
            out.append("true")
        elif v is False:
            out.append("false")
        elif type(v) is JInt:
            out.append("n" + _decimal_key(str(int(v))))
        elif type(v) is JFloat:
            out.append("n" + v.key)
        elif isinstance(v, str):
            out.append(json.dumps(v))
        elif isinstance(v, list):
            stack.append(("s", "]"))
            for i, x in enumerate(reversed(v)):
                stack.append(("v", x))
                if i < len(v) - 1:
                    stack.append(("s", ","))
            out.append("[")
        elif isinstance(v, dict):
            items = sorted(v.items())
            stack.append(("s", "}"))
            for i, (k, x) in enumerate(reversed(items)):
                stack.append(("v", x))
                stack.append(("s", json.dumps(k) + ":"))
                if i < len(items) - 1:
                    stack.append(("s", ","))
            out.append("{")
        else:  # pragma: no cover
            raise TypeError(type(v))
    return "".join(out)


def _has_surrogate(value) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return True
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                if _SURROGATE.search(k):
                    return True
                stack.append(x)
    return False


def _depth(value) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def _show(v) -> str:
    if type(v) is JInt:
        text = str(int(v)) if len(str(int(v))) < 100 else "a long integer"
    elif type(v) is JFloat:
        text = v.text
    else:
        text = canonical(v) if not isinstance(v, str) else json.dumps(v)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------------------
# the validator

def validate_file(path) -> Verdict:
    with open(path, "rb") as fh:
        return validate_bytes(fh.read())


def validate_bytes(data: bytes) -> Verdict:
    if data[:2] == b"\x1f\x8b":
        # one or more gzip members, nothing after them
        raw, rest = b"", data
        try:
            while rest:
                if rest[:2] != b"\x1f\x8b":
                    raise EOFError(f"{len(rest)} bytes after the gzip data")
                d = zlib.decompressobj(wbits=31)
                raw += d.decompress(rest, MAX_GZIP_BYTES)
                if d.unconsumed_tail or len(raw) > MAX_GZIP_BYTES:
                    return Verdict("limit", reason="gzip content over the size limit", rule="file")
                if not d.eof:
                    raise EOFError("truncated gzip stream")
                rest = d.unused_data
            data = raw
        except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
            return Verdict("refuse", None, None, f"not a readable gzip file: {exc}", "file")
    if data.startswith(b"\xef\xbb\xbf"):
        return Verdict("refuse", 1, None, "starts with a UTF-8 byte order mark", "file")
    state = _State()
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Verdict("refuse", number, None, f"not UTF-8: {exc.reason}", "file")
        if line.strip(BLANK) == "":
            continue
        try:
            try:
                obj = _loads(line)
            except _DuplicateKey as exc:
                raise _Refuse(str(exc), f"field name {str(exc)!r} repeated in one object", "R7")
            except RecursionError:
                raise _Limit("JSON nested deeper than this validator reads")
            except ValueError as exc:
                raise _Refuse(None, f"not valid JSON: {exc}", "file")
            if _depth(obj) > MAX_DEPTH:
                raise _Limit(f"nested more than {MAX_DEPTH} levels deep")
            if _has_surrogate(obj):
                raise _Refuse(None, "a string holds a lone UTF-16 surrogate (not UTF-8 text)", "file")
            state.line(number, obj)
        except _Refuse as exc:
            return Verdict("refuse", number, exc.field, exc.reason, exc.rule)
        except _Limit as exc:
            return Verdict("limit", number, None, str(exc), "limit")
        except RecursionError:
            return Verdict("limit", number, None, "nested deeper than this validator reads", "limit")
    if state.header is None:
        return Verdict("refuse", None, None, "no header: the file holds no JSON line", "header")
    return Verdict("accept")


class _State:
    def __init__(self):
        self.header = None
        self.regions: set[str] = set()
        self.settled = None
        self.eventual_values = True  # rule 4 applies
        self.prev_time = None
        self.in_flight: dict = {}       # process key -> invocation dict
        self.indices: set = set()      # every event's index, given or implicit
        self.explicit: set = set()     # the indices given in the file
        self.events = 0
        self.ts_seen: dict = {}         # (key, ts, origin) -> line
        self.values_seen: dict = {}     # (key, canonical value) -> line

    # -- header ---------------------------------------------------------------------
    def line(self, number: int, obj) -> None:
        if self.header is None:
            self._header(obj)
            self.header = obj
        else:
            self._event(number, obj)

    def _header(self, h) -> None:
        if not isinstance(h, dict):
            raise _Refuse(None, "the header must be a JSON object", "header")
        if h.get("format") != "gt-history":
            raise _Refuse("format", f'expected "gt-history", got {_show(h.get("format"))}', "header")
        if "version" not in h or not _is_int(h["version"]) or h["version"] != 1:
            raise _Refuse("version", f"expected the integer 1, got {_show(h.get('version'))}", "header")
        regions = h.get("regions")
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r
                                                                   for r in regions):
            # docs: "a non-empty list of distinct names"; "" is taken as no name
            raise _Refuse("regions", "expected a non-empty list of region names", "header")
        if len(set(regions)) != len(regions):
            raise _Refuse("regions", "region names repeat", "header")
        self.regions = set(regions)
        if "mode" in h and h["mode"] not in ("eventual", "strong"):
            raise _Refuse("mode", f'expected "eventual" or "strong", got {_show(h["mode"])}', "header")
        for name, nullable in (("clock_uncertainty_ns", False), ("ts_uncertainty_ns", True)):
            if name in h:
                v = h[name]
                if v is None and nullable:
                    continue
                if not _is_int(v) or v < 0:
                    raise _Refuse(name, f"expected a non-negative integer, got {_show(v)}", "header")
        if "settled_after_ns" in h:
            v = h["settled_after_ns"]
            if not _is_int(v) or v < 0:
                raise _Refuse("settled_after_ns", f"expected a non-negative integer, got {_show(v)}",
                              "header")
            self.settled = v
        if "register" in h and not isinstance(h["register"], bool):
            raise _Refuse("register", f"expected true or false, got {_show(h['register'])}", "header")
        self.eventual_values = h.get("mode", "eventual") == "eventual" and h.get("register") is not True

    # -- events ---------------------------------------------------------------------
    def _region(self, ev, name) -> None:
        if name in ev:
            v = ev[name]
            if not isinstance(v, str) or v not in self.regions:
                raise _Refuse(name, f"expected one of the header's regions, got {_show(v)}", "R7")

    def _event(self, number: int, ev) -> None:
        if not isinstance(ev, dict):
            raise _Refuse(None, "an event must be a JSON object", "R7")
        # time, process, type: always
        if "time" not in ev:
            raise _Refuse("time", "missing", "R7")
        t = ev["time"]
        if not _is_int(t) or t < 0:
            raise _Refuse("time", f"expected a non-negative integer, got {_show(t)}", "R7")
        if self.prev_time is not None and t < self.prev_time:
            raise _Refuse("time", f"decreases (previous {self.prev_time})", "R7")
        self.prev_time = t
        if "process" not in ev:
            raise _Refuse("process", "missing", "R7")
        p = ev["process"]
        if not (_is_int(p) or isinstance(p, str)):
            raise _Refuse("process", f"expected an integer or a string, got {_show(p)}", "R7")
        pkey = ("i", int(p)) if _is_int(p) else ("s", p)
        if "type" not in ev:
            raise _Refuse("type", "missing", "R7")
        typ = ev["type"]
        if typ not in TYPES or not isinstance(typ, str):
            raise _Refuse("type", f"expected one of {TYPES}, got {_show(typ)}", "R7")
        # fields with a type wherever they appear
        position = self.events
        self.events += 1
        if "index" in ev:
            i = ev["index"]
            if not _is_int(i):
                raise _Refuse("index", f"expected an integer, got {_show(i)}", "R7")
            if i < 0:
                raise _Refuse("index", f"expected a non-negative integer, got {i}", "docs")
            if int(i) in self.indices:
                raise _Refuse("index", f"{i} already used", "R7" if int(i) in self.explicit
                              else "docs")
            self.indices.add(int(i))
            self.explicit.add(int(i))
        else:
            # docs: an event without index is named by its position among the events; a
            # mix must not give two events one number
            if position in self.indices:
                raise _Refuse("index", f"this event's position {position} is already the index "
                              "of an earlier event", "docs")
            self.indices.add(position)
        if "key" in ev and not isinstance(ev["key"], str):
            raise _Refuse("key", f"expected a string, got {_show(ev['key'])}", "R7")
        self._region(ev, "region")
        self._region(ev, "origin")
        if "consistent" in ev and not isinstance(ev["consistent"], bool):
            raise _Refuse("consistent", f"expected true or false, got {_show(ev['consistent'])}", "R7")
        if "ts" in ev and not _is_int(ev["ts"]):
            raise _Refuse("ts", f"expected an integer, got {_show(ev['ts'])}", "R7")

        if p == "nemesis":
            if typ != "info":
                raise _Refuse("type", f'nemesis events are "info", got {_show(typ)}', "R7")
            if ev.get("f") not in NEMESIS_FS or not isinstance(ev.get("f"), str):
                raise _Refuse("f", f"expected a nemesis function, got {_show(ev.get('f'))}", "R7")
            return

        if typ == "invoke":
            self._invoke(number, ev, p, pkey, t)
        else:
            self._complete(number, ev, p, pkey, typ)

    def _invoke(self, number, ev, p, pkey, t) -> None:
        if pkey in self.in_flight:
            raise _Refuse("process", f"{_show(p)} invokes while its operation of line "
                          f"{self.in_flight[pkey]['line']} is in flight", "R5")
        f = ev.get("f")
        if "f" not in ev:
            raise _Refuse("f", "missing on an invocation", "R7")
        if not isinstance(f, str) or f not in OP_FS:
            raise _Refuse("f", f"expected one of {OP_FS}, got {_show(f)}", "R7")
        if "key" not in ev:
            raise _Refuse("key", "missing on an invocation", "R7")
        if "region" not in ev:
            raise _Refuse("region", "missing on an invocation", "R7")
        value = ev.get("value")
        if f == "write" and value is None:
            raise _Refuse("value", "a write's value is not null", "R7")
        if f == "cas" and not (isinstance(value, list) and len(value) == 2 and value[1] is not None):
            raise _Refuse("value", f"expected [expected, new] with new not null, got {_show(value)}", "R7")
        if "condition" in ev:
            _check_condition(f, ev["condition"])
        if "key_attributes" in ev:
            k = ev["key_attributes"]
            if not isinstance(k, dict):
                raise _Refuse("key_attributes", f"expected an object, got {_show(k)}", "R11")
            _check_item(k, "key_attributes")
        if f == "update" and isinstance(value, dict) and "expression" in value:
            _check_expression(value, "value")
        elif f == "update":
            if not isinstance(value, dict) or not set(value) <= {"set", "remove", "add"}:
                raise _Refuse("value", f'expected an object with only "set", "remove", "add", '
                              f"got {_show(value)}", "R7")
            if "set" in value and not isinstance(value["set"], dict):
                raise _Refuse("value", "set: expected an object of attributes", "docs")
            if "remove" in value and not (isinstance(value["remove"], list)
                                          and all(isinstance(a, str) for a in value["remove"])):
                raise _Refuse("value", "remove: expected a list of attribute names", "docs")
            if "add" in value and not (isinstance(value["add"], dict) and all(
                    _is_number(x) or isinstance(x, list) for x in value["add"].values())):
                raise _Refuse("value", "add: expected an object of numbers or lists", "docs")
            for part in ("set", "add"):
                if isinstance(value.get(part), dict):
                    _check_item(value[part], "value")
        if f == "write":
            _check_item(value, "value")
        if f == "cas":
            for x in value:
                _check_item(x, "value")
        if f == "read" and value is not None:
            raise _Refuse("value", f"a read's invocation carries null, got {_show(value)}", "docs")
        if p == "ttl" and f != "delete":
            raise _Refuse("f", f'the process "ttl" may only delete, got {_show(f)}', "docs")
        if self.settled is not None and f in WRITE_FS and t >= self.settled:
            raise _Refuse("time", f"a {f} invoked at {t}, at or after settled_after_ns "
                          f"{self.settled}", "R6")
        self.in_flight[pkey] = {"line": number, "ev": ev}

    def _complete(self, number, ev, p, pkey, typ) -> None:
        inv = self.in_flight.pop(pkey, None)
        if inv is None:
            raise _Refuse("type", f"a completion of process {_show(p)}, which has no "
                          "operation in flight", "R5")
        iev = inv["ev"]
        for name in ("f", "key", "region"):
            if name in ev and ev[name] != iev[name]:
                raise _Refuse(name, f"expected {_show(iev[name])} as invoked on line "
                              f"{inv['line']}, got {_show(ev[name])}", "R7")
        f = iev["f"]
        if typ != "ok":
            return
        if f in ("read", "update", "cas") and "value" not in ev:
            raise _Refuse("value", f"the ok of a {f} carries value", "R7")
        if f == "write" and "value" in ev:
            if ev["value"] is None:
                raise _Refuse("value", "a write's value is not null", "R7")
            if canonical(ev["value"]) != canonical(iev["value"]):
                raise _Refuse("value", "an ok write repeats the item of its invocation", "docs")
        if f == "cas" and canonical(ev["value"]) not in (canonical(iev["value"]),
                                                        canonical(iev["value"][1])):
            raise _Refuse("value", "the ok of a cas repeats its [expected, new] pair or its new "
                          f"item, got {_show(ev['value'])}", "docs")
        if f in ("read", "update"):
            _check_item(ev["value"], "value")
        if f == "cas":
            for x in (ev["value"] if isinstance(ev["value"], list) else [ev["value"]]):
                _check_item(x, "value")
        if f == "update" and not (ev["value"] is None or isinstance(ev["value"], dict)):
            raise _Refuse("value", f"an update's post-image is an object or null, got "
                          f"{_show(ev['value'])}", "docs")
        if f not in WRITE_FS:
            return
        key = iev["key"]
        if "ts" in ev:
            origin = ev.get("origin", ev.get("region", iev["region"]))
            k = (key, int(ev["ts"]), origin)
            if k in self.ts_seen:
                raise _Refuse("ts", f"(ts, origin) = ({ev['ts']}, {origin!r}) already used by the "
                              f"ok write of line {self.ts_seen[k]}", "R2")
            self.ts_seen[k] = number
        if not self.eventual_values:
            return
        if f == "write":
            written = iev["value"]
        elif f == "cas":
            written = iev["value"][1]
        elif f == "update":
            written = ev["value"]
            if written is None:
                return
        else:
            return
        c = canonical(written)
        if (key, c) in self.values_seen:
            raise _Refuse("value", f"value already written to key {key!r} by the ok write of line "
                          f"{self.values_seen[(key, c)]}", "R4")
        self.values_seen[(key, c)] = number


# ---------------------------------------------------------------------------------------
# rule 11 and the item encoding (docs/history-format.md)

_TAGS = ("$B", "$SS", "$NS", "$BS", "$M")


def _check_condition(f, cond) -> None:
    if f == "read":
        raise _Refuse("condition", "a read carries no condition", "docs")
    if isinstance(cond, str):
        return                                   # an expression without names or values
    if not isinstance(cond, dict):
        raise _Refuse("condition", f"expected an expression or a short-form object, got "
                      f"{_show(cond)}", "R11")
    if "expression" in cond and set(cond) <= {"expression", "names", "values"}:
        _check_expression(cond, "condition")
        return
    for v in cond.values():                      # the short form: ATTR -> VALUE or null
        if v is not None:
            _check_value(v, "condition")


def _check_expression(obj, field) -> None:
    if not set(obj) <= {"expression", "names", "values"}:
        raise _Refuse(field, "an expression object holds only expression, names, values",
                      "R11")
    if not isinstance(obj.get("expression"), str):
        raise _Refuse(field, "the expression is a string", "R11")
    names = obj.get("names", {})
    if not isinstance(names, dict) or any(
            not k.startswith("#") or not isinstance(v, str) for k, v in names.items()):
        raise _Refuse(field, f"names: expected {{'#name': 'attribute'}}, got {_show(names)}",
                      "R11")
    values = obj.get("values", {})
    if not isinstance(values, dict) or any(not k.startswith(":") for k in values):
        raise _Refuse(field, f"values: expected {{':name': value}}, got {_show(values)}",
                      "R11")
    for v in values.values():
        _check_value(v, field)


def _check_item(item, field) -> None:
    """An item's attributes (its top level is never a tag); other values are not items."""
    if isinstance(item, dict):
        for v in item.values():
            _check_value(v, field)


def _b64(text, field) -> bytes:
    if not isinstance(text, str):
        raise _Refuse(field, f"binary is base64 text, got {_show(text)}", "docs")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _Refuse(field, f"not base64: {_show(text)}", "docs") from None


def _number_value(v) -> Decimal:
    return Decimal(int(v)) if type(v) is JInt else Decimal(v.text)


def _check_value(value, field) -> None:
    """Every tagged object in a value is well formed, and every set in canonical order."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            if len(v) == 1 and next(iter(v)) in _TAGS:
                tag, inner = next(iter(v.items()))
                if tag == "$M":
                    if not isinstance(inner, dict):
                        raise _Refuse(field, "$M holds an object", "docs")
                    stack.extend(inner.values())
                elif tag == "$B":
                    _b64(inner, field)
                else:
                    _check_set(tag, inner, field)
            else:
                stack.extend(v.values())


def _check_set(tag, elems, field) -> None:
    if not isinstance(elems, list) or not elems:
        raise _Refuse(field, f"{tag} holds a non-empty list", "docs")
    if tag == "$SS":
        if not all(isinstance(e, str) for e in elems):
            raise _Refuse(field, "$SS holds strings", "docs")
        keys = list(elems)
    elif tag == "$NS":
        if not all(_is_number(e) for e in elems):
            raise _Refuse(field, "$NS holds numbers", "docs")
        keys = [_number_value(e) for e in elems]
    else:
        keys = [_b64(e, field) for e in elems]
    if any(a >= b for a, b in zip(keys, keys[1:])):
        raise _Refuse(field, f"{tag}: each element once, in canonical order", "docs")

