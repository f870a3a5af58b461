"""A small TOML writer for the scenarios gtcheck writes (the counterexamples of search and
exploration, the scenarios gtcheck fit writes): tables of strings, integers, finite floats,
booleans, arrays and inline tables. Python's standard library reads TOML but does not write
it. In the kernel because two independent layer-2 packages write scenarios.

Kept rather than a dependency (tomli-w) for one feature: it is 90 lines, knows nothing of
scenarios (a table holding tables is written as sections, one holding only values
inline), and ``tests/search/test_tomlout.py`` proves it on arbitrary documents and on
generated scenarios: written, read back by ``tomllib``, equal."""

from __future__ import annotations

import math
import re
from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: str) -> str:
    # fullmatch: "$" would also match before a trailing newline, writing "0\n" bare
    return k if _BARE.fullmatch(k) else _string(k)


def _string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("TOML cannot hold nan or inf here")
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {value(x)}" for k, x in v.items()) + " }" if v else "{}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def dumps(doc: dict[str, Any], comment: str = "") -> str:
    """``doc``: top-level scalars, then tables (dicts of scalars or inline values), then
    arrays of tables (lists of dicts, written ``[[name]]``)."""
    lines = [f"# {line}" if line else "#" for line in comment.splitlines()]
    scalars = [(k, v) for k, v in doc.items() if not isinstance(v, dict) and not _is_aot(v)]
    tables = [(k, v) for k, v in doc.items() if isinstance(v, dict)]
    aots = [(k, v) for k, v in doc.items() if _is_aot(v)]
    for k, v in scalars:
        lines.append(f"{_key(k)} = {value(v)}")
    for k, v in tables:
        _table(lines, [k], v)
    for k, v in aots:
        for entry in v:
            lines.append("")
            lines.append(f"[[{_key(k)}]]")
            for ek, ev in entry.items():
                lines.append(f"{_key(ek)} = {value(ev)}")
    return "\n".join(lines) + "\n"


def _is_aot(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(lines: list[str], path: list[str], t: dict[str, Any]) -> None:
    plain = [(k, v) for k, v in t.items() if not _is_section(v)]
    sub = [(k, v) for k, v in t.items() if _is_section(v)]
    lines.append("")
    lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for k, v in plain:
        lines.append(f"{_key(k)} = {value(v)}")
    for k, v in sub:
        _table(lines, path + [k], v)


def _is_section(v: Any) -> bool:
    """A table that holds tables reads better as a section of its own (region clocks,
    replication pairs); one that holds only values (a distribution) reads better inline."""
    return isinstance(v, dict) and any(isinstance(x, dict) for x in v.values())
