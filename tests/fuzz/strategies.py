"""Hypothesis strategies that mutate valid inputs into hostile ones.

Every strategy draws a valid seed (tests/fuzz/seeds.py) and applies 0 to 4 mutations; with 0
the input stays valid, which checks that valid input is never refused. A drawn input is a
``FuzzInput``: the bytes, what kind of file they are, the seed's name, the mutations (in
words, for the report) and the command lines to run on it (``{IN}`` stands for the file).

Mutations, on histories (JSON Lines):
  lines      drop, duplicate, swap, move, blank or whitespace lines, truncation
  fields     delete a field, change its type, set it to an interesting value, add one,
             repeat a field name in one object (raw text, so the repetition survives)
  numbers    replace a number token with 2^64, 2^70, -2^70, 2^70+1, 1e400, NaN, Infinity,
             an equal number in another spelling (5 -> 5.0, 5e0) or a 5,000-digit integer
  nesting    a value nested 10 to 100,000 levels deep (lists and objects)
  text       unicode (emoji, U+2028, combining marks, RTL), escapes of NUL and lone
             surrogates, raw control characters
  encoding   BOM, CRLF / CR line ends, invalid UTF-8 bytes, UTF-16, gzip
  bytes      bit flips, byte replacement, insertion, deletion
  semantics  two ok writes of a key given one value or one (ts, origin); distinct huge
             values and timestamps that a float or a hash would confuse; keys reordered,
             whitespace changed, unknown fields added (valid-preserving)
Scenarios (TOML) and EDN get the line, byte and encoding mutations plus their own value
replacements (NaN, inf, absurd magnitudes, empty kinds, empirical delay files; EDN
ratios, radix numbers, ##NaN, tagged literals, deep nesting, broken keywords).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field

from hypothesis import strategies as st

from tests.fuzz import seeds as seedmod

IN = "{IN}"


@dataclass
class FuzzInput:
    kind: str                    # "history", "scenario", "edn", "log"
    seed: str
    data: bytes
    mutations: list[str] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    ext: str = ".jsonl"
    extra: dict = field(default_factory=dict)   # more files beside it (name -> bytes)
    special: dict = field(default_factory=dict)  # special files the runner makes (name -> kind)

    def describe(self) -> str:
        return f"{self.kind} from {self.seed}: {'; '.join(self.mutations) or 'unchanged'}"


# ---------------------------------------------------------------------------------------
# generic byte and line mutations (every kind of file)

def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


def m_drop_line(draw, data):
    lines = _lines(data)
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    del lines[i:i + 1]
    return _join(lines), f"drop line {i + 1}"


def m_dup_line(draw, data):
    lines = _lines(data)
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    j = draw(st.integers(0, len(lines)))
    lines.insert(j, lines[i] if lines else b"")
    return _join(lines), f"copy line {i + 1} to {j + 1}"


def m_swap_lines(draw, data):
    lines = _lines(data)
    if len(lines) < 2:
        return data, "swap (too short)"
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return _join(lines), f"swap lines {i + 1} and {j + 1}"


def m_blank_line(draw, data):
    lines = _lines(data)
    j = draw(st.integers(0, len(lines)))
    blank = draw(st.sampled_from([b"", b" ", b"\t", b"\r", b"  \t ", b"\x0b", b"\x0c", b"\xc2\xa0",
                                  b"\xe2\x80\xa8"]))
    lines.insert(j, blank)
    return _join(lines), f"blank line {blank!r} at {j + 1}"


def m_truncate(draw, data):
    n = draw(st.integers(0, max(len(data) - 1, 0)))
    return data[:n], f"truncate at byte {n}"


def m_bitflip(draw, data):
    if not data:
        return data, "bitflip (empty)"
    i = draw(st.integers(0, len(data) - 1))
    bit = draw(st.integers(0, 7))
    b = bytearray(data)
    b[i] ^= 1 << bit
    return bytes(b), f"flip bit {bit} of byte {i}"


def m_byte_set(draw, data):
    if not data:
        return data, "byte set (empty)"
    i = draw(st.integers(0, len(data) - 1))
    v = draw(st.integers(0, 255))
    b = bytearray(data)
    b[i] = v
    return bytes(b), f"byte {i} := {v:#04x}"


def m_byte_insert(draw, data):
    i = draw(st.integers(0, len(data)))
    v = draw(st.binary(min_size=1, max_size=4))
    return data[:i] + v + data[i:], f"insert {v!r} at byte {i}"


def m_byte_delete(draw, data):
    if not data:
        return data, "delete (empty)"
    i = draw(st.integers(0, len(data) - 1))
    n = draw(st.integers(1, 8))
    return data[:i] + data[i + n:], f"delete {n} bytes at {i}"


BAD_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80",
            b"\xe2\x82"]


def m_non_utf8(draw, data):
    i = draw(st.integers(0, len(data)))
    v = draw(st.sampled_from(BAD_UTF8))
    return data[:i] + v + data[i:], f"invalid UTF-8 {v!r} at byte {i}"


def m_transcode(draw, data):
    enc = draw(st.sampled_from(["utf-16", "utf-16-le", "latin-1", "utf-32"]))
    try:
        return data.decode("utf-8").encode(enc, "replace"), f"re-encoded as {enc}"
    except UnicodeDecodeError:
        return data, "transcode (not UTF-8)"


def m_bom(draw, data):
    where = draw(st.sampled_from(["start", "line", "double"]))
    bom = b"\xef\xbb\xbf"
    if where == "start":
        return bom + data, "BOM at start"
    if where == "double":
        return bom + bom + data, "two BOMs at start"
    lines = _lines(data)
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if lines:
        lines[i] = bom + lines[i]
    return _join(lines), f"BOM at line {i + 1}"


def m_line_ends(draw, data):
    how = draw(st.sampled_from(["crlf", "cr", "one-crlf", "lfcr"]))
    if how == "crlf":
        return data.replace(b"\n", b"\r\n"), "CRLF line ends"
    if how == "cr":
        return data.replace(b"\n", b"\r"), "CR line ends"
    if how == "lfcr":
        return data.replace(b"\n", b"\n\r"), "LF CR line ends"
    lines = _lines(data)
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if lines:
        lines[i] += b"\r"
    return _join(lines), f"CR at end of line {i + 1}"


def m_gzip(draw, data):
    return gzip.compress(data, mtime=0), "gzip"


BYTE_OPS = [m_bitflip, m_byte_set, m_byte_insert, m_byte_delete]
LINE_OPS = [m_drop_line, m_dup_line, m_swap_lines, m_blank_line]
ENCODING_OPS = [m_non_utf8, m_transcode, m_bom, m_line_ends, m_truncate]


# ---------------------------------------------------------------------------------------
# JSON-level mutations of histories

BIG = 2 ** 70
RAW_NUMBERS = [
    "1180591620717411303424", "-1180591620717411303424", "1180591620717411303425",
    "18446744073709551616", "18446744073709551615", "9223372036854775808", "-9223372036854775809",
    "9007199254740993", "1e400", "-1e400", "1E2", "1e-400", "-0", "0.0", "-0.0", "1.0", "1e0",
    "100000000000000000000000000000000000001", "3.4028236692093846346337460743176821145e38",
    "NaN", "Infinity", "-Infinity", "nan", "inf", "1" * 5000, "0x10", "01", "+1", ".5", "1.",
]
RAW_VALUES = ["null", "true", "false", '""', "[]", "{}", '"x"', "[null, null]", "[1]", "[1, 2, 3]",
              '{"v": null}', '"nemesis"', '"ttl"', '"\\u0000"', '"\\ud800"', '"\\udc00\\ud800"',
              '"\\ud83d\\ude00"', "-1", "0", "1", "1.5", "tru", "nul", "'x'", "undefined", "[1,]",
              '{"a":1,}', '{"a" 1}']
PY_VALUES = [None, True, False, 0, 1, -1, 1.5, "", "x", [], {}, [1, 2], {"a": 1}, [None, 1],
             BIG, -BIG, BIG + 1, 2 ** 63, -(2 ** 63) - 1, 2 ** 64, "us-east-1", "eu-west-1",
             "nemesis", "ttl", "read", "write", "invoke", "ok", "info", "partition", ["us-east-1"],
             {"set": {"a": 1}}, [None, {"v": 1}], "ü☃😀", "a\u2028b", "\u202e\u0301"]
KNOWN_FIELDS = ["time", "process", "type", "f", "key", "region", "value", "ts", "origin", "index",
                "consistent", "txn", "condition", "error"]
HEADER_FIELDS = ["format", "version", "regions", "mode", "clock_uncertainty_ns",
                 "ts_uncertainty_ns", "settled_after_ns", "initial", "register", "seed"]
UNICODE = ["😀", "\u2028", "\u2029", "\u0301", "\u202e", "\ufeff", "\ufffe", "\U0010ffff", "é", "\x85",
           "ĳ", "\u00a0", "\ud7ff"]
RAW_TEXT_INSERTS = ["\\u0000", "\\ud800", "\\udfff", "\\u00", "\\x41", "\\", "\t", "\x00", "\x01",
                    "\x1f", "\x7f", "\n"]

_PH = "\u0000PH{}\u0000"


class _Raw:
    """A placeholder for raw JSON text that json.dumps cannot write (NaN tokens, depth)."""

    def __init__(self):
        self.items: list[str] = []

    def add(self, text: str) -> str:
        self.items.append(text)
        return _PH.format(len(self.items) - 1)

    def apply(self, text: str) -> str:
        for i, raw in enumerate(self.items):
            text = text.replace(json.dumps(_PH.format(i)), raw)
        return text


def _deep(draw) -> str:
    depth = draw(st.sampled_from([10, 100, 300, 900, 1000, 2000, 5000, 100_000]))
    kind = draw(st.sampled_from(["list", "object", "mixed"]))
    if kind == "list":
        return "[" * depth + "1" + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '[{"a":' * (depth // 2) + "1" + "}]" * (depth // 2)


def _parse_line(line: bytes):
    try:
        obj = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _dump(obj, draw, raw: _Raw) -> bytes:
    style = draw(st.sampled_from(["spaced", "compact", "ascii"]))
    if style == "compact":
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    elif style == "ascii":
        text = json.dumps(obj)
    else:
        text = json.dumps(obj, ensure_ascii=False)
    return raw.apply(text).encode("utf-8", "surrogatepass")


def _pick_object_line(draw, lines, allow_header=True):
    """A line holding a JSON object (tries a few drawn lines, then scans)."""
    lo = 0 if allow_header or len(lines) < 2 else 1
    if not lines:
        return None, None
    for _ in range(4):
        i = draw(st.integers(lo, len(lines) - 1))
        obj = _parse_line(lines[i])
        if obj is not None:
            return i, obj
    for i in range(lo, len(lines)):
        obj = _parse_line(lines[i])
        if obj is not None:
            return i, obj
    return None, None


def _interesting(draw, raw: _Raw):
    kind = draw(st.sampled_from(["py", "py", "raw-number", "raw-value", "deep", "str"]))
    if kind == "py":
        return draw(st.sampled_from(PY_VALUES))
    if kind == "raw-number":
        return raw.add(draw(st.sampled_from(RAW_NUMBERS)))
    if kind == "raw-value":
        return raw.add(draw(st.sampled_from(RAW_VALUES)))
    if kind == "deep":
        return raw.add(_deep(draw))
    return draw(st.text(max_size=8))


def m_delete_field(draw, data):
    lines = _lines(data)
    i, obj = _pick_object_line(draw, lines)
    if obj is None or not obj:
        return data, "delete field (no object)"
    name = draw(st.sampled_from(sorted(obj)))
    del obj[name]
    raw = _Raw()
    lines[i] = _dump(obj, draw, raw)
    return _join(lines), f"line {i + 1}: delete {name!r}"


def m_set_field(draw, data):
    lines = _lines(data)
    i, obj = _pick_object_line(draw, lines)
    if obj is None:
        return data, "set field (no object)"
    names = sorted(set(obj) | set(HEADER_FIELDS if i == 0 else KNOWN_FIELDS))
    name = draw(st.sampled_from(names))
    raw = _Raw()
    value = _interesting(draw, raw)
    nested = draw(st.booleans()) and isinstance(obj.get(name), dict) and obj[name]
    if nested:
        inner = draw(st.sampled_from(sorted(obj[name])))
        obj[name][inner] = value
        what = f"{name}.{inner}"
    else:
        obj[name] = value
        what = name
    lines[i] = _dump(obj, draw, raw)
    shown = raw.apply(json.dumps(value))
    return _join(lines), f"line {i + 1}: {what} := {shown[:40]}"


def m_dup_key(draw, data):
    """Repeat a field name in one object, in the raw text (json.dumps would merge them)."""
    lines = _lines(data)
    i, obj = _pick_object_line(draw, lines)
    if obj is None:
        return data, "dup key (no object)"
    names = sorted(obj) or ["time"]
    name = draw(st.sampled_from(names))
    raw = _Raw()
    value = obj.get(name) if draw(st.booleans()) else _interesting(draw, raw)
    same = draw(st.booleans())
    piece = f"{json.dumps(name)}: {raw.apply(json.dumps(value))}"
    text = lines[i].decode("utf-8", "surrogatepass")
    if same or not isinstance(obj.get("value"), dict) or not obj["value"]:
        text = text.replace("{", "{" + piece + ", ", 1) if draw(st.booleans()) else \
            text[: text.rstrip().rfind("}")] + ", " + piece + "}"
        where = "top level"
    else:
        # inside the nested value object
        inner = sorted(obj["value"])[0]
        piece = f"{json.dumps(inner)}: 0"
        key = '"value": {'
        text = text.replace(key, key + piece + ", ", 1)
        where = "in value"
    lines[i] = text.encode("utf-8", "surrogatepass")
    return _join(lines), f"line {i + 1}: repeat field {name!r} ({where})"


_NUMBER_TOKEN = re.compile(rb"(?<![\w.\"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.\"])")


def m_number_token(draw, data):
    spans = [m.span() for m in _NUMBER_TOKEN.finditer(data)]
    if not spans:
        return data, "number (none)"
    a, b = draw(st.sampled_from(spans))
    old = data[a:b]
    how = draw(st.sampled_from(["raw", "raw", "equal", "plus-big"]))
    if how == "equal" and re.fullmatch(rb"-?\d+", old):
        new = draw(st.sampled_from([old + b".0", old + b"e0", old + b".000", old + b"0e-1",
                                    old + b"E+0"]))
    elif how == "plus-big" and re.fullmatch(rb"-?\d+", old):
        new = str(int(old) + draw(st.sampled_from([2 ** 64, 2 ** 70, -(2 ** 70), 2 ** 61 - 1]))).encode()
    else:
        new = draw(st.sampled_from(RAW_NUMBERS)).encode()
    return data[:a] + new + data[b:], f"number {old[:20]!r} -> {new[:24]!r}"


def m_deep(draw, data):
    lines = _lines(data)
    i, obj = _pick_object_line(draw, lines, allow_header=False)
    if obj is None:
        return data, "deep (no object)"
    raw = _Raw()
    name = draw(st.sampled_from(["value", "value", "key", "process", "origin", "ts", "extra"]))
    deep = _deep(draw)
    obj[name] = raw.add(deep)
    lines[i] = _dump(obj, draw, raw)
    return _join(lines), f"line {i + 1}: {name} nested {deep.count('[') + deep.count('{')} deep"


_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')


def m_unicode(draw, data):
    spans = [m.span() for m in _STRING.finditer(data)]
    if not spans:
        return data, "unicode (no string)"
    a, b = draw(st.sampled_from(spans))
    if draw(st.booleans()):
        ins = draw(st.sampled_from(UNICODE)).encode("utf-8", "surrogatepass")
    else:
        ins = draw(st.sampled_from(RAW_TEXT_INSERTS)).encode()
    pos = draw(st.integers(a + 1, b - 1))
    return data[:pos] + ins + data[pos:], f"insert {ins!r} into string at byte {pos}"


def _ok_writes(lines):
    """(line index, process, f, key) of ok completions whose invocation is a write."""
    inflight, out = {}, []
    for i, ln in enumerate(lines[1:], start=1):
        ev = _parse_line(ln)
        if ev is None:
            continue
        p = json.dumps(ev.get("process"))
        if ev.get("type") == "invoke":
            inflight[p] = (i, ev)
        elif p in inflight:
            j, inv = inflight.pop(p)
            if ev.get("type") == "ok" and inv.get("f") in ("write", "update", "delete", "cas"):
                out.append((j, i, inv, ev))
    return out


def m_collide(draw, data):
    """Give two ok writes of one key one value, or one (ts, origin), or values a float
    or a hash would confuse."""
    lines = _lines(data)
    writes = [w for w in _ok_writes(lines) if w[2].get("f") == "write"]
    by_key: dict = {}
    for w in writes:
        by_key.setdefault(json.dumps(w[2].get("key")), []).append(w)
    pairs = [ws for ws in by_key.values() if len(ws) >= 2]
    if not pairs:
        return data, "collide (no two writes of a key)"
    ws = draw(st.sampled_from(pairs))
    a = draw(st.sampled_from(ws))
    b = draw(st.sampled_from([w for w in ws if w is not a]))
    how = draw(st.sampled_from(["same-value", "same-value-spelled", "same-ts", "big-values",
                                "big-ts", "neg-ts"]))
    raw = _Raw()
    inv_a, inv_b, ok_a, ok_b = a[2], b[2], a[3], b[3]
    if how == "same-value":
        inv_b["value"] = inv_a.get("value")
        ok_b.pop("value", None)
    elif how == "same-value-spelled":
        inv_a["value"] = {"v": raw.add("7")}
        inv_b["value"] = {"v": raw.add(draw(st.sampled_from(["7.0", "7e0", "70e-1", "0.7E1"])))}
        ok_a.pop("value", None)
        ok_b.pop("value", None)
    elif how == "same-ts":
        ok_a["ts"] = ok_b["ts"] = draw(st.sampled_from([5, BIG, -1]))
        origin = draw(st.sampled_from([inv_a.get("region"), inv_b.get("region")]))
        ok_a["origin"] = ok_b["origin"] = origin
    elif how == "big-values":
        base = draw(st.sampled_from([BIG, 2 ** 64, 2 ** 53, -(2 ** 70), 10 ** 38]))
        inv_a["value"] = {"v": base}
        inv_b["value"] = {"v": base + draw(st.sampled_from([1, 2 ** 61 - 1, -1]))}
        ok_a.pop("value", None)
        ok_b.pop("value", None)
    elif how == "big-ts":
        base = draw(st.sampled_from([BIG, 2 ** 64, 2 ** 63 - 1]))
        ok_a["ts"], ok_b["ts"] = base, base + draw(st.sampled_from([1, 2 ** 61 - 1]))
    else:
        ok_a["ts"], ok_b["ts"] = -1, -2
    for (inv_i, ok_i, inv, ok) in (a, b):
        lines[inv_i] = _dump(inv, draw, raw)
        lines[ok_i] = _dump(ok, draw, raw)
    return _join(lines), f"{how}: writes of lines {a[0] + 1} and {b[0] + 1}"


def m_preserve(draw, data):
    """A change that keeps a history valid: keys reordered, spacing, an unknown field."""
    lines = _lines(data)
    i, obj = _pick_object_line(draw, lines)
    if obj is None:
        return data, "preserve (no object)"
    how = draw(st.sampled_from(["reorder", "spacing", "extra"]))
    raw = _Raw()
    if how == "reorder":
        items = list(obj.items())
        items = draw(st.permutations(items))
        obj = dict(items)
        lines[i] = _dump(obj, draw, raw)
    elif how == "spacing":
        lines[i] = (" \t " + json.dumps(obj, indent=None, separators=(" ,\t", " :  ")) + " \t").encode()
    else:
        obj[draw(st.sampled_from(["note", "txn", "error", "x-ü", ""]))] = draw(
            st.sampled_from([None, 1, "x", [BIG], {"deep": [1, {"a": -BIG}]}]))
        lines[i] = _dump(obj, draw, raw)
    return _join(lines), f"line {i + 1}: {how} (valid)"


def m_semantic(draw, data):
    """Structurally valid changes that stress check and report rather than validation:
    outcomes flipped, reads of other values, timestamps moved or dropped, times tied,
    header parameters changed, processes and keys renamed to odd names."""
    lines = _lines(data)
    events = [(i, _parse_line(ln)) for i, ln in enumerate(lines)]
    events = [(i, e) for i, e in events if e is not None]
    if len(events) < 2:
        return data, "semantic (too short)"
    how = draw(st.sampled_from(["outcome", "read-value", "ts", "drop-ts", "tie-times", "header",
                                "rename-process", "rename-key", "drop-completion"]))
    raw = _Raw()
    header_i, header = events[0]
    body = events[1:]
    if how == "outcome":
        cands = [(i, e) for i, e in body if e.get("type") in ("ok", "fail", "info")
                 and e.get("process") != "nemesis"]
        if not cands:
            return data, "semantic outcome (none)"
        i, e = draw(st.sampled_from(cands))
        e["type"] = draw(st.sampled_from(["ok", "fail", "info"]))
        lines[i] = _dump(e, draw, raw)
    elif how == "read-value":
        cands = [(i, e) for i, e in body if e.get("type") == "ok" and "value" in e]
        if not cands:
            return data, "semantic read-value (none)"
        i, e = draw(st.sampled_from(cands))
        e["value"] = draw(st.sampled_from([None, {"v": BIG}, {"v": BIG + 1}, {"v": 1.0}, {"name": "a", "v": 2},
                                           {"a": 1, "n": 2 ** 64}, [None, {"v": 1}], "x", 0, -BIG]))
        lines[i] = _dump(e, draw, raw)
    elif how in ("ts", "drop-ts"):
        cands = [(i, e) for i, e in body if e.get("type") in ("ok", "info") and e.get("process") != "nemesis"]
        if not cands:
            return data, "semantic ts (none)"
        for i, e in draw(st.lists(st.sampled_from(cands), min_size=1, max_size=4)):
            if how == "drop-ts":
                e.pop("ts", None)
            else:
                e["ts"] = draw(st.sampled_from([0, -1, 1, BIG, -BIG, 2 ** 63, 2 ** 64 + 7])) + draw(
                    st.integers(-3, 3))
            lines[i] = _dump(e, draw, raw)
    elif how == "tie-times":
        t = max((e.get("time") for _, e in body if isinstance(e.get("time"), int)), default=0)
        lo = draw(st.integers(1, len(body)))
        for i, e in body[lo - 1:]:
            if isinstance(e.get("time"), int) and (header.get("settled_after_ns") is None):
                e["time"] = t
                lines[i] = _dump(e, draw, raw)
    elif how == "header":
        name = draw(st.sampled_from(["clock_uncertainty_ns", "ts_uncertainty_ns", "settled_after_ns",
                                     "mode", "register", "initial", "regions"]))
        if name == "mode":
            header[name] = draw(st.sampled_from(["eventual", "strong"]))
        elif name == "register":
            header[name] = draw(st.booleans())
        elif name == "initial":
            header[name] = draw(st.sampled_from([None, 0, {"v": 1}, BIG, "x"]))
        elif name == "regions":
            header[name] = list(header.get("regions") or []) + ["zz-extra-ü"]
        else:
            header[name] = draw(st.sampled_from([0, 1, 10 ** 9, BIG, 2 ** 63]))
        lines[header_i] = _dump(header, draw, raw)
    elif how == "rename-process":
        old = draw(st.sampled_from([e.get("process") for _, e in body]))
        new = draw(st.sampled_from([BIG, -1, "", "ü😀", "3", 2 ** 63, "ttl"]))
        for i, e in body:
            if e.get("process") == old and old != "nemesis" and type(e.get("process")) is type(old):
                e["process"] = new
                lines[i] = _dump(e, draw, raw)
    elif how == "rename-key":
        keys = sorted({e.get("key") for _, e in body if isinstance(e.get("key"), str)})
        if not keys:
            return data, "semantic rename-key (none)"
        old = draw(st.sampled_from(keys))
        new = draw(st.sampled_from(["", "ü😀\u2028", "k" * 5000, "<script>alert(1)</script>", "a\"b",
                                    "\u0000"]))
        for i, e in body:
            if e.get("key") == old:
                e["key"] = new
                lines[i] = _dump(e, draw, raw)
    else:
        cands = [(i, e) for i, e in body if e.get("type") in ("ok", "fail", "info")
                 and e.get("process") != "nemesis"]
        if not cands:
            return data, "semantic drop-completion (none)"
        i, _ = draw(st.sampled_from(cands))
        del lines[i]
        return _join(lines), f"drop completion line {i + 1}"
    return _join(lines), f"semantic {how}"


JSON_OPS = [m_delete_field, m_set_field, m_set_field, m_dup_key, m_number_token, m_deep,
            m_unicode, m_collide, m_collide, m_preserve, m_preserve]

HISTORY_OPS = (JSON_OPS * 3 + [m_semantic] * 6 + LINE_OPS * 2 + BYTE_OPS + ENCODING_OPS + [m_gzip])


# ---------------------------------------------------------------------------------------
# scenarios (TOML)

TOML_VALUES = ["nan", "+nan", "-nan", "inf", "-inf", "1e400", "-1e400", "1180591620717411303424",
               "-1180591620717411303424", "9223372036854775807", "-1", "0", "0.0", "-0.0", "1e-320",
               '"NaNms"', '"nan"', '"inf s"', '"1e400s"', '"-5ms"', '"99999999999999999999999h"',
               '"0ns"', '""', '"x"', "[]", "{}", "true", '"1.5"', '[1, "a"]', '"ü😀"',
               '{ dist = "uniform", low = "8ms", high = "2ms" }',
               '{ dist = "lognormal", median = "nan", sigma = nan }',
               '{ dist = "lognormal", median = "250ms", sigma = 1e300, max = "1e300s" }',
               '{ dist = "exponential", mean = "-1ms" }',
               '{ dist = "empirical", file = "delays.txt" }',
               '{ dist = "empirical", file = "delays-bad.txt" }',
               '{ dist = "empirical", file = "delays-empty.txt" }',
               '{ dist = "empirical", file = "missing.txt" }',
               '{ dist = "empirical", file = "." }',
               '{ dist = "nope" }', "[[[[[[[[[[1]]]]]]]]]]", "[" * 2000 + "]" * 2000,
               '"' + "9" * 400 + 'ms"']
TOML_EXTRA = [
    "[random_faults]\ncount = 1000000\n", "[random_faults]\ncount = 3\nkinds = []\n",
    "[random_faults]\ncount = 2\nmax_duration = \"1e30s\"\n",
    "[random_faults]\ncount = -1\n", "[workload]\nzipf = nan\n", "[workload]\nstrong_reads = nan\n",
    "[workload]\nrate = inf\n", "[workload]\nrate = 1e-300\n", "[workload]\nkeys = 1180591620717411303424\n",
    "[workload]\nprocesses_per_region = 1000000000\n", "[workload]\nduration = \"1e25s\"\n",
    "[workload.ttl]\nshare = nan\n", "[workload.mix]\nread = nan\n", "[workload.mix]\nwrite = inf\n",
    "[workload.mix]\nread = 0\nwrite = 0\n", "[replication]\ncoalesce = nan\n",
    "[replication]\ndelay = { dist = \"empirical\", file = \"delays-bad.txt\" }\n",
    "[clocks.us-east-1]\ndrift_ppm = 1e308\n", "[clocks.us-east-1]\noffset = \"-1e20s\"\n",
    "[regions]\nnames = []\n", "[regions]\nnames = [\"a\", \"a\"]\n", "[regions]\ncopies = 0\n",
    "[regions]\nwrite_quorum = 99\n", "[[faults]]\nkind = \"isolate\"\nregion = \"us-east-1\"\n"
    "at = \"1e30s\"\nduration = \"1s\"\n", "[[faults]]\nkind = \"clock-jump\"\nregion = \"mars\"\n",
    "[[script]]\nat = \"nan\"\nregion = \"us-east-1\"\nf = \"write\"\nkey = \"x\"\nvalue = { a = nan }\n",
    "[[script]]\nat = \"1ms\"\nregion = \"us-east-1\"\nf = \"cas\"\nkey = \"x\"\nexpected = 1180591620717411303424\nnew = 1.5\n",
    "[final]\nsettle = \"1e30s\"\n", "[failover]\npolicy = \"map\"\n", "[unknown]\nx = 1\n",
    "name = 1\n", "x = [\n",
]
_TOML_ASSIGN = re.compile(rb"^(\s*[A-Za-z0-9_.\"' -]+?\s*=\s*)(.+)$")


def m_toml_value(draw, data):
    lines = _lines(data)
    idx = [i for i, ln in enumerate(lines) if _TOML_ASSIGN.match(ln)]
    if not idx:
        return data, "toml value (no assignment)"
    i = draw(st.sampled_from(idx))
    m = _TOML_ASSIGN.match(lines[i])
    new = draw(st.sampled_from(TOML_VALUES)).encode()
    lines[i] = m.group(1) + new
    return _join(lines), f"line {i + 1}: {m.group(1).strip()[:30]!r} {new[:40]!r}"


def m_toml_extra(draw, data):
    extra = draw(st.sampled_from(TOML_EXTRA)).encode()
    return data + b"\n" + extra, f"append {extra[:60]!r}"


def m_toml_dev_zero(draw, data):
    return (data + b'\n[replication]\ndelay = { dist = "empirical", file = "/dev/zero" }\n',
            "empirical delays from /dev/zero")


SCENARIO_OPS = ([m_toml_value] * 6 + [m_toml_extra] * 4 + LINE_OPS * 2 + BYTE_OPS
                + [m_non_utf8, m_bom, m_line_ends, m_truncate, m_transcode])


# ---------------------------------------------------------------------------------------
# EDN

EDN_TOKENS = ["1/0", "0/0", "-3/0", "1/2", "1N", "2M", "##NaN", "##Inf", "##-Inf", "1180591620717411303424",
              "-1180591620717411303424", "8r9", "36rZZ", "2r102", "0x1F", "0xZZ", "1e400", "1.5",
              ":8read", ":", "::x", ":a/b/c", "#inst \"2020-01-01\"", "#uuid \"x\"", "#{1 2}",
              "#{1 1}", "{:a 1 :a 2}", "{:a}", "\"\\ud800\"", "\"\\ud800\\udc00\"", "\"\\x\"",
              "\\newline", "\\u12", "\\", "#_", "#_ 1", "#foo 1", "#", "nil", "true", "\"x\"", "[1 2]",
              "(1 2)", "[" * 3000 + "]" * 3000, "{:a " * 1500 + "1" + "}" * 1500,
              "\"" + "😀" * 3 + "\"", "; comment", "\"unterminated", "]", "}", "[", ")"]
_EDN_ATOM = re.compile(rb":[\w-]+|-?\d+|nil|\"[^\"\n]*\"")


def m_edn_token(draw, data):
    spans = [m.span() for m in _EDN_ATOM.finditer(data)]
    if not spans:
        return data, "edn token (none)"
    a, b = draw(st.sampled_from(spans))
    new = draw(st.sampled_from(EDN_TOKENS)).encode()
    return data[:a] + new + data[b:], f"{data[a:b][:20]!r} -> {new[:24]!r}"


def m_edn_drop_key(draw, data):
    keys = [m.span() for m in re.finditer(rb":(?:process|type|f|value|time|index)\s+[^,}]+,?\s*", data)]
    if not keys:
        return data, "edn drop key (none)"
    a, b = draw(st.sampled_from(keys))
    return data[:a] + data[b:], f"drop {data[a:b][:24]!r}"


EDN_OPS = [m_edn_token] * 6 + [m_edn_drop_key] * 2 + LINE_OPS * 2 + BYTE_OPS + [
    m_non_utf8, m_bom, m_line_ends, m_truncate]


# ---------------------------------------------------------------------------------------
# commands and inputs

HISTORY_COMMANDS = [
    ["check", "--jobs", "1", "--timeout", "2", IN],
    ["check", "--jobs", "1", "--timeout", "2", IN],
    ["check", "--jobs", "1", "--timeout", "2", "--format", "json", IN],
    ["check", "--jobs", "1", "--timeout", "2", "--format", "junit", "--staleness-bound", "1ms", IN],
    ["check", "--jobs", "2", "--timeout", "2", IN],
    ["report", "--jobs", "1", "-o", "out.html", IN],
    ["check", "--jobs", "1", "--timeout", "2", "--html", "out.html", IN],
    ["convert", IN, "out.edn"],
    ["validate", IN],
]
ODD_TIMEOUTS = ["nan", "NaN", "inf", "-inf", "1e-300", "1e400", "0", "-1", "x", "1e-9", "", "0x10"]
ODD_BOUNDS = ["nan", "1e400s", "-1ms", "99999999999999999999999h", "", "1.5", "0", "infs", "9223372036854775807",
              "9223372036854775808", "1e3ms", "NaNms", "0.5ns", "1 s", "ü"]
JOBS_PAIR = "jobs-pair"   # check --format json with --jobs 1 and --jobs 2, results compared
ROUNDTRIP = "roundtrip"   # gt -> EDN -> gt, then both checked: the verdicts must agree
REPEAT = "repeat"         # check twice in one process: the same result


MAX_INPUT_BYTES = 16 << 20      # past this size an input is mutated no further


def _mutate(draw, data: bytes, ops, max_mutations: int) -> tuple[bytes, list[str]]:
    """Up to ``max_mutations`` of ``ops``; an input grown past MAX_INPUT_BYTES is not grown
    further (mutations that repeat parts of it compound)."""
    n = draw(st.integers(0, max_mutations))
    done = []
    for _ in range(n):
        if len(data) > MAX_INPUT_BYTES:
            done.append("(no more mutations: the input is large)")
            break
        op = draw(st.sampled_from(ops))
        data, what = op(draw, data)
        done.append(what)
    return data, done


@st.composite
def history_inputs(draw, max_mutations: int = 4) -> FuzzInput:
    name, data = draw(st.sampled_from(seedmod.history_seeds()))
    # one input in six stays valid, so that "valid is never refused" is checked on each seed
    if draw(st.integers(0, 5)) == 0:
        data, done = _mutate(draw, data, [m_preserve, m_collide, m_semantic, m_semantic], 3)
    else:
        data, done = _mutate(draw, data, HISTORY_OPS, max_mutations)
    commands = [["validate", "--format", "gt", IN]]
    extra = draw(st.sampled_from(HISTORY_COMMANDS + [JOBS_PAIR, ROUNDTRIP, REPEAT]))
    if extra == REPEAT:
        commands.append(["@twice", "check", "--jobs", "1", "--timeout", "10", "--format", "json", IN])
    elif extra == ROUNDTRIP:
        commands += [["convert", IN, "rt.edn"], ["convert", "rt.edn", "rt.jsonl"],
                     ["check", "--jobs", "1", "--timeout", "2", "--format", "json", IN],
                     ["check", "--jobs", "1", "--timeout", "2", "--format", "json", "rt.jsonl"]]
    elif extra == JOBS_PAIR:
        commands += [["check", "--jobs", "1", "--timeout", "2", "--format", "json", IN],
                     ["check", "--jobs", "2", "--timeout", "2", "--format", "json", IN]]
    else:
        if extra[0] == "check" and draw(st.integers(0, 9)) == 0:
            # odd arguments: bad ones are refused (254), never a crash or a silent NaN
            extra = list(extra)
            if draw(st.booleans()):
                extra[extra.index("--timeout") + 1] = draw(st.sampled_from(ODD_TIMEOUTS))
            else:
                extra[-1:-1] = ["--staleness-bound", draw(st.sampled_from(ODD_BOUNDS))]
        commands.append(extra)
    return FuzzInput("history", name, data, done, commands, ".jsonl")


@st.composite
def scenario_inputs(draw, max_mutations: int = 3, dev_zero: bool = False) -> FuzzInput:
    name, data = draw(st.sampled_from(seedmod.scenario_seeds()))
    ops = SCENARIO_OPS + ([m_toml_dev_zero] if dev_zero else [])
    data, done = _mutate(draw, data, ops, max_mutations)
    seed = draw(st.integers(0, 5))
    cmd = ["simulate", "--scenario", IN, "--seed", str(seed), "-o", "sim.jsonl"]
    if draw(st.booleans()):
        cmd.append("--no-truth")
    # what the model writes must be a valid history (gtcheck validate and the reference
    # validator both accept it), and the same scenario and seed write the same bytes
    commands = [cmd, ["validate", "--format", "gt", "sim.jsonl"]]
    if draw(st.integers(0, 3)) == 0:
        commands.append(cmd[:-1 if cmd[-1] == "--no-truth" else None][:-1] + ["sim2.jsonl"])
    return FuzzInput("scenario", name, data, done, commands, ".toml")


@st.composite
def edn_inputs(draw, max_mutations: int = 3) -> FuzzInput:
    if draw(st.integers(0, 7)) == 7 and seedmod.log_seeds():
        name, data = draw(st.sampled_from(seedmod.log_seeds()))
        kind, ext = "log", ".log"
    else:
        name, data = draw(st.sampled_from(seedmod.edn_seeds()))
        kind, ext = "edn", ".edn"
    data, done = _mutate(draw, data, EDN_OPS, max_mutations)
    cmd = draw(st.sampled_from([
        ["convert", IN, "out.jsonl"], ["convert", IN, "out.jsonl"],
        ["check", "--jobs", "1", "--timeout", "2", IN], ["check", "--jobs", "2", "--timeout", "2", IN],
        ["validate", IN], ["convert", IN, "out.edn"]]))
    return FuzzInput(kind, name, data, done, [cmd], ext)


# ---------------------------------------------------------------------------------------
# metamorphic: one history spelled two ways the format says are the same

TWIN = "twin.jsonl"


def _respell_numbers(value, draw, raw: _Raw):
    """Integers inside a value written as equal numbers with a fraction or exponent."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if draw(st.booleans()):
            forms = [f"{value}.0", f"{value}e0", f"{value}.000", f"{value}E+0"]
            if value != 0:   # "00e-1" would not be JSON
                forms.append(f"{value}0e-1")
            return raw.add(draw(st.sampled_from(forms)))
        return value
    if isinstance(value, list):
        return [_respell_numbers(v, draw, raw) for v in value]
    if isinstance(value, dict):
        return {k: _respell_numbers(v, draw, raw) for k, v in value.items()}
    return value


def _escape_ascii(text: str, draw) -> str:
    """Write some ASCII letters of JSON strings as \\u escapes (the same strings)."""
    def one_string(m):
        parts = []
        for tok in re.finditer(r'\\u[0-9a-fA-F]{4}|\\.|.', m.group(0)[1:-1], re.S):
            t = tok.group(0)
            if len(t) == 1 and t.isascii() and t.isalpha() and draw(st.integers(0, 3)) == 0:
                t = f"\\u{ord(t):04x}"
            parts.append(t)
        return '"' + "".join(parts) + '"'

    return re.sub(r'"(?:[^"\\]|\\.)*"', one_string, text)


TRANSFORMS = ["spacing", "reorder", "escapes", "crlf", "blank-lines", "gzip", "unknown-fields",
              "respell-read-numbers", "respell-all-numbers"]


@st.composite
def metamorphic_inputs(draw) -> FuzzInput:
    """A valid history and its twin, spelled differently but equal by the format's rules;
    check must give both the same exit code and verdicts."""
    name, data = draw(st.sampled_from(seedmod.history_seeds()))
    data, done = _mutate(draw, data, [m_semantic, m_semantic, m_collide], 2)
    transforms = draw(st.lists(st.sampled_from(TRANSFORMS), min_size=1, max_size=3, unique=True))
    lines = data.decode("utf-8").split("\n")
    out = []
    for n, line in enumerate(lines):
        if not line.strip():
            out.append(line)
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        raw = _Raw()
        if isinstance(obj, dict):
            if "reorder" in transforms:
                obj = dict(draw(st.permutations(list(obj.items()))))
            if "unknown-fields" in transforms and n > 0:
                obj["x-note"] = draw(st.sampled_from([None, 1, "ü", [2 ** 70], {"a": {"b": [1.5]}}]))
            respell = ("respell-all-numbers" in transforms and n > 0) or (
                "respell-read-numbers" in transforms and n > 0 and obj.get("type") == "ok"
                and "ts" not in obj)
            if respell and "value" in obj:
                obj["value"] = _respell_numbers(obj["value"], draw, raw)
        if "spacing" in transforms:
            text = json.dumps(obj, separators=(" ,  ", " :\t"), ensure_ascii=False)
        else:
            text = json.dumps(obj, ensure_ascii=draw(st.booleans()))
        text = raw.apply(text)
        if "escapes" in transforms:
            text = _escape_ascii(text, draw)
        out.append(text)
        if "blank-lines" in transforms and draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(["", "  ", "\t"])))
    twin = "\n".join(out).encode("utf-8")
    if "crlf" in transforms:
        twin = twin.replace(b"\n", b"\r\n")
    if "gzip" in transforms:
        twin = gzip.compress(twin, mtime=0)
    check = ["check", "--jobs", draw(st.sampled_from(["1", "1", "2"])), "--timeout", "5", "--format", "json"]
    commands = [["validate", "--format", "gt", IN], check + [IN], check + [TWIN]]
    return FuzzInput("history", name, data, done + [f"twin: {', '.join(transforms)}"], commands,
                     ".jsonl", {TWIN: twin})


EDN_TWIN = "twin.edn"


@st.composite
def edn_twin_inputs(draw) -> FuzzInput:
    """An EDN history and its twin with other whitespace, commas and comments (EDN treats
    commas as whitespace): converting and checking both must give the same verdict."""
    name, data = draw(st.sampled_from(seedmod.edn_seeds()))
    text = data.decode("utf-8")
    how = draw(st.lists(st.sampled_from(["commas", "comments", "newlines", "crlf", "discard"]),
                        min_size=1, max_size=3, unique=True))
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        if "commas" in how and not line.lstrip().startswith(";"):
            line = re.sub(r", ", draw(st.sampled_from([" ", ",,, ", " ,", "\t"])), line)
        if "newlines" in how and not line.lstrip().startswith(";") and '"' not in line:
            line = line.replace(" :", "\n  :", draw(st.integers(0, 3)))
        out.append(line)
        if "comments" in how and i > 0 and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(["; a comment", ";; {:process 9, :type :ok}", "  ;"])))
        if "discard" in how and i > 0 and draw(st.integers(0, 5)) == 0 and line.rstrip().endswith("}"):
            out.append("#_{:process 99, :type :invoke, :f :write, :value 1}")
    twin = "\n".join(out)
    if "crlf" in how:
        twin = twin.replace("\n", "\r\n")
    jobs = draw(st.sampled_from(["1", "2"]))
    check = ["check", "--jobs", jobs, "--timeout", "5", "--format", "json"]
    return FuzzInput("edn", name, data, [f"twin: {', '.join(how)}"],
                     [check + [IN], check + [EDN_TWIN]], ".edn", {EDN_TWIN: twin.encode("utf-8")})
