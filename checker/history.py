"""Read, validate and pair a history file (format: shared HISTORY-FORMAT.md, version 1).

A history is JSON Lines: a header on line 1, then one event per line in real-time order.
This module streams it: memory holds the operations in flight, the keys, the exact
(ts, origin) and canonical value of each ok write (to find the repeats that make a history
ambiguous) and, only if indices stop increasing, a bitmap of the indices seen; never the
whole file. Lines are read with orjson when that is exact, else exactly
(:mod:`gtcheck.kernel.exactjson`): integers of any size stay integers, numbers are equal
by exact decimal value, a repeated field name is refused.

    with open_history("histories/run.jsonl") as reader:
        print(reader.header.regions)
        for op in reader.operations():   # Operation objects, as they complete
            ...
        print(reader.stats)

Every problem is collected with its line, field, what was expected and how to fix it
(:mod:`checker.event_checks` words each one, out of the hot loop); when the file has been
read to the end, :class:`~gtcheck.kernel.errors.ManyUserErrors` is raised with all of them
(the first 50 are kept). A bad header is raised at once by
:func:`open_history`. Operations yielded before that exception should be discarded.

Besides ``.jsonl`` and ``.jsonl.gz`` (recognised by content, not by name), the reader
accepts Jepsen histories (EDN files and text logs): they are converted in memory by
:mod:`kernel.jepsen` and then validated like any other history.
"""

from __future__ import annotations

import os
import zlib
from typing import Any, Callable, Iterable, Iterator

import orjson

from gtcheck.checker.event_checks import (MAX_SHOWN_ERRORS, MISSING, NEMESIS_TYPED, EventProblems,
                                          Problems, kind, not_json)
from gtcheck.kernel.files import detect_format, open_binary
from gtcheck.checker.operations import (FUNCTIONS, NEMESIS_FUNCTIONS, Header, NemesisEvent,
                                        Operation)
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import JSONProblem, canon, parse_line, same
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.jsonlines import HistoryWriter, history_header

__all__ = [
    "HistoryReader", "open_history", "validate_file", "write_history", "header_to_dict",
    "FORMAT_NAME", "FORMAT_VERSION", "MAX_SHOWN_ERRORS", "EVENT_FIELDS",
]

FORMAT_NAME = "gt-history"
FORMAT_VERSION = 1
MODES = ("eventual", "strong")
TYPES = ("invoke", "ok", "fail", "info")
# The fields the format defines on events; any other field is kept in Operation.extra.
EVENT_FIELDS = frozenset(
    ("index", "type", "process", "region", "f", "key", "value", "consistent", "time",
     "ts", "origin"))

_FUNCTIONS = frozenset(FUNCTIONS)
_NEMESIS = frozenset(NEMESIS_FUNCTIONS)
_HEADER_EXAMPLE = (
    '{"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"], '
    '"mode": "eventual"}'
)
_BIG_INDEX = 1 << 31  # indices at or above this are tracked in a set, not the bitmap


class _IndexSet:
    """Which event indices were used: a bitmap for ordinary ones, a set for huge ones."""

    __slots__ = ("bits", "big")

    def __init__(self) -> None:
        self.bits = bytearray()
        self.big: set[int] = set()

    def add(self, idx: int) -> bool:
        """Mark ``idx``; False when it was already marked."""
        if idx >= _BIG_INDEX:
            if idx in self.big:
                return False
            self.big.add(idx)
            return True
        byte = idx >> 3
        bits = self.bits
        if byte >= len(bits):
            bits.extend(bytes(max(byte + 1 - len(bits), len(bits), 4096)))
        mask = 1 << (idx & 7)
        if bits[byte] & mask:
            return False
        bits[byte] |= mask
        return True


def _nothing() -> None:
    """Closes nothing (lines already in memory)."""


class RepeatedWrites:
    """The ok writes of each key seen so far, to find the repeats that make a history
    ambiguous (bad input): two with one (ts, origin) (rule 2; ``origin`` defaults to the
    region), or, where versions must be distinguishable (eventual mode, not a register
    history: rule 4), two with equal values. Kept exactly (never a hash: distinct values
    may share one). The reader of a whole file asks it for every ok write; the partitioned
    check (``checker.partitioned``), whose readers see some processes each, asks it once
    the writes are grouped by key."""

    __slots__ = ("check_values", "ts_seen", "value_seen")

    def __init__(self, header: Header):
        self.check_values = not (header.mode == "strong" or header.meta.get("register") is True)
        self.ts_seen: dict[tuple[str, int, str], Any] = {}
        self.value_seen: dict[tuple[str, bytes], Any] = {}

    def bad(self, problems: EventProblems, line_no: int, key: str, ts: int | None,
            origin: str | None, region: str, value: Any, at: Any = None) -> bool:
        """Remember the ok write completed on ``line_no``; report (and return True) when
        an earlier one repeats it. ``at`` is how a later repeat names this write (its
        line by default)."""
        at = line_no if at is None else at
        bad = False
        if ts is not None:
            o = origin if origin is not None else region
            first = self.ts_seen.setdefault((key, ts, o), at)
            if first is not at:
                bad = problems.repeated_ts(line_no, key, ts, o, first)
        if self.check_values and value is not None:
            first = self.value_seen.setdefault((key, canon(value)), at)
            if first is not at:
                bad = problems.repeated_value(line_no, key, value, first)
        return bad


def duplicate_index(problems: Problems, line_no: int, idx: int, first: Any,
                    explicit: bool) -> None:
    """Report an event whose ``index`` an earlier event (on line ``first``) used."""
    problems.add(
        line_no, f'line {line_no}, field "index": expected an index no other event '
        f"uses, got {idx}, already used on line {first}"
        + ("" if explicit else " (this event has no index: its position among events is "
           "its index)"),
        "give every event a unique index, or leave index out on all of them")


# --------------------------------------------------------------------------- the reader

class HistoryReader:
    """A history being read. Create it with :func:`open_history`.

    ``header`` is parsed and validated on creation. :meth:`events` and
    :meth:`operations` read the file from the start each time they are called (each call
    refills ``nemesis`` and ``stats``) and raise :class:`ManyUserErrors` at the end when
    any event was bad.
    """

    def __init__(self, path: str | os.PathLike, fmt: str = "auto", **import_options: Any):
        self.path = str(path)
        self.where = self.path
        self.format = fmt if fmt != "auto" else detect_format(self.path)
        self._lines: list[bytes] | None = None  # converted histories live in memory
        if self.format in ("edn", "jepsen-log"):
            from gtcheck.kernel import jepsen

            header, events = jepsen.import_history(self.path, self.format, **import_options)
            self._lines = [exact_dumps(header)] + [exact_dumps(e) for e in events]
            self.where = f"{self.path} [converted from {self.format}]"
        elif self.format != "gt":
            raise UserError(f"unknown history format {fmt!r}",
                            hint="use one of auto, gt, edn, jepsen-log")
        elif import_options:
            names = ", ".join(k.replace("_", "-") for k in import_options)
            raise UserError(f"the import options {names} apply to Jepsen histories only, "
                            "not to a gt history", where=self.path)
        self.header_line = 0
        self.header_dict: dict[str, Any] = {}
        self.header: Header = self._read_header()
        # some of a history's lines (``of_lines``): (line, raw) in file order, and the
        # position (implicit index) of a line; None when the reader reads the whole file
        self._numbered: Iterable[tuple[int, bytes]] | None = None
        self._position: Callable[[int], int] | None = None
        self.nemesis: list[NemesisEvent] = []
        self.stats: dict[str, Any] = {}
        self.problems: Problems = Problems(self.where)

    @classmethod
    def of_lines(cls, path: str, header_line: int, header_raw: bytes,
                 numbered: Iterable[tuple[int, bytes]],
                 position: Callable[[int], int]) -> "HistoryReader":
        """A reader of some of a history's lines: the lines of some processes, each
        ``(line number in the file, raw line)`` in file order (``checker.partitioned``
        routes every process's lines to one reader). It validates each event and pairs
        each process's operations exactly as a reader of the whole file does; what only
        the whole file can tell is left to its caller: times never decreasing, indices
        unique, and repeated writes of one key (:class:`RepeatedWrites`: a key's writes
        may come from any process). ``position(line)`` is the position among events of an
        event without ``index`` (blank lines elsewhere in the file do not count)."""
        self = cls.__new__(cls)
        self.path = self.where = path
        self.format = "gt"
        self._lines = [header_raw]
        self.header_dict = {}
        self.header = self._read_header()
        self.header_line = header_line
        self._lines = None
        self._numbered = numbered
        self._position = position
        self.nemesis = []
        self.stats = {}
        self.problems = Problems(self.where)
        return self

    # -- plumbing
    def _raw_lines(self) -> tuple[Iterable[bytes], Callable[[], None]]:
        if self._lines is not None:
            return iter(self._lines), lambda: None
        fh = open_binary(self.path)
        return fh, fh.close

    def __enter__(self) -> "HistoryReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Nothing stays open between calls; kept for the context-manager protocol."""

    # -- header
    def _read_header(self) -> Header:
        lines, close = self._raw_lines()
        problems = Problems(self.where)
        try:
            line_no = 0
            raw = b""
            for raw in lines:
                line_no += 1
                if raw.strip():
                    break
            else:
                raise UserError(
                    "the file is empty: a history starts with a header line",
                    where=self.where if self._lines is None else self.path,
                    hint=f"the first line should look like {_HEADER_EXAMPLE}")
            self._first_time = None  # for the stats: the time of the first event
            for nxt in lines:
                if nxt.strip():
                    try:
                        first = parse_line(nxt)
                    except JSONProblem:
                        break
                    if type(first) is dict and type(first.get("time")) is int:
                        self._first_time = first["time"]
                    break
        except (OSError, EOFError, zlib.error) as exc:   # zlib: a corrupt .gz
            raise UserError(f"cannot read the file: {exc}", where=self.path,
                            hint="is the file truncated or corrupt? a .gz file must be "
                            "complete") from None
        finally:
            close()
        self.header_line = line_no
        p = problems
        try:
            hdr = parse_line(raw)
        except JSONProblem as exc:
            if exc.field is None:
                exc.hint = f"the first line should be a JSON object like {_HEADER_EXAMPLE}"
                if raw.lstrip()[:1] in (b"[", b"(", b";"):
                    exc.hint = ("this looks like a Jepsen EDN history: read it with --format "
                                "edn or convert it with `gtcheck convert`")
            not_json(p, line_no, exc, "the header, a JSON object")
            raise p.error() from None
        if not isinstance(hdr, dict):
            p.field(line_no, "header", "a JSON object", hdr,
                    f"the first line should look like {_HEADER_EXAMPLE}", show=kind)
            raise p.error()
        if "format" not in hdr and ("type" in hdr or "process" in hdr):
            p.add(line_no, f"line {line_no}: expected the header, got an event (the header "
                  "is missing)", f"add a first line like {_HEADER_EXAMPLE}")
            raise p.error()
        fmt = hdr.get("format", MISSING)
        if fmt != FORMAT_NAME:
            p.field(line_no, "format", f'"{FORMAT_NAME}"', fmt,
                    f'the header must say "format": "{FORMAT_NAME}"')
        version = hdr.get("version", MISSING)
        if version != FORMAT_VERSION or type(version) is not int:
            p.field(line_no, "version", str(FORMAT_VERSION), version,
                    "this gtcheck reads version 1 of the history format")
        regions = hdr.get("regions", MISSING)
        if (type(regions) is not list or not regions
                or not all(type(r) is str and r for r in regions)):
            p.field(line_no, "regions", "a non-empty list of region names (strings)", regions,
                    'e.g. "regions": ["us-east-1", "eu-west-1"]')
            regions = []
        elif len(set(regions)) != len(regions):
            dups = sorted({r for r in regions if regions.count(r) > 1})
            p.field(line_no, "regions", "unique region names", regions,
                    f"remove the repeated {', '.join(dups)}")
        mode = hdr.get("mode", "eventual")
        if mode not in MODES:
            p.field(line_no, "mode", '"eventual" or "strong"', mode)
        numbers: dict[str, int | None] = {}
        # absent means the default; null is a value only where the format says so (ε)
        for name, default, nullable in (("clock_uncertainty_ns", 0, False),
                                        ("ts_uncertainty_ns", None, True),
                                        ("settled_after_ns", None, False)):
            v = hdr.get(name, MISSING)
            if v is MISSING:
                numbers[name] = default
            elif v is None and nullable:
                numbers[name] = None
            elif type(v) is not int or v < 0:
                p.field(line_no, name, "a non-negative integer (nanoseconds)", v,
                        f"{name} is a whole number of nanoseconds, e.g. 0"
                        + ("" if not nullable else "; leave it out when unknown"))
                numbers[name] = default
            else:
                numbers[name] = v
        register = hdr.get("register", False)
        if type(register) is not bool:
            p.field(line_no, "register", "true or false", register)
        err = p.error()
        if err:
            raise err
        self.header_dict = hdr
        return Header(
            regions=list(regions),
            mode=mode,
            clock_uncertainty_ns=numbers["clock_uncertainty_ns"],
            ts_uncertainty_ns=numbers["ts_uncertainty_ns"],
            settled_after_ns=numbers["settled_after_ns"],
            initial=hdr.get("initial"),
            meta=hdr,
        )

    # -- public iteration
    def events(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(line_no, event)`` for every valid event, in file order."""
        return self._scan(events=True)

    def operations(self, key_filter: Callable[[str], bool] | None = None
                   ) -> Iterator[Operation]:
        """Yield an :class:`Operation` when its completion is read; at the end, every
        invocation left without completion as outcome ``info`` (``complete_time=None``).

        ``key_filter``, if given, is called with each operation's key: operations whose
        key it rejects are validated and counted in ``stats`` but not built nor yielded
        (cheaper for a reader that handles one shard of the keys).
        """
        return self._scan(operations=True, key_filter=key_filter)

    # -- the scan (validation and pairing in one pass)
    def _scan(self, *, events: bool = False, operations: bool = False,
              key_filter: Callable[[str], bool] | None = None
              ) -> Iterator[Any]:  # noqa: C901 - one hot loop on purpose
        """Validate and pair in one pass, yielding ``(line_no, event)`` for each valid event
        with ``events``, :class:`Operation` with ``operations``, nothing with neither
        (validation only).

        The hot path is written for speed (millions of events): every check is one cheap
        test on the common case; when it fails, one call to ``problems`` (a
        :class:`checker.event_checks.EventProblems`) words the problem, out of the loop.
        """
        header = self.header
        region_list = header.regions
        regions = frozenset(region_list)
        settled = header.settled_after_ns
        self.problems = problems = EventProblems(self.where, region_list)
        self.nemesis = nemesis = []
        loads = orjson.loads
        dumps = orjson.dumps
        decode_error = orjson.JSONDecodeError
        ws = b" \t\r\n"
        startswith = bytes.startswith
        missing = MISSING
        same_ = same
        functions = _FUNCTIONS
        event_fields = EVENT_FIELDS
        want_ops = operations
        want_events = events

        # pending invocations: process -> (event, line, index, f, key, region, extra?)
        inflight: dict[Any, tuple] = {}
        max_idx = -1
        indices: _IndexSet | None = None  # built only once indices stop increasing
        dup_indices: list[tuple[int, int]] = []  # (line, index) named at the end
        whole = self._numbered is None
        repeats = RepeatedWrites(header) if whole else None
        position = self._position
        keys: set[str] = set()
        keys_add = keys.add
        processes: set[Any] = set()
        counts: dict[Any, dict[str, int]] = {
            f: {"ok": 0, "fail": 0, "info": 0} for f in (*FUNCTIONS, None)}
        last_time = 0
        last_time_line = 0
        n_ops = 0
        n_invalid = 0  # lines that are not JSON objects
        blanks = 0     # blank lines after the header
        # the position of an event among events (its implicit index) is
        # line_no - base - blanks: blank lines do not count, every other line does
        base = self.header_line + 1
        line_no = self.header_line
        first_time = self._first_time

        if whole:
            lines, close = self._raw_lines()
            it = iter(lines)
            numbered: Iterable[tuple[int, bytes]] = enumerate(it, base)
            skip = self.header_line
        else:
            close, it, skip = _nothing, iter(()), 0
            numbered = self._numbered  # type: ignore[assignment]
        try:
            for _ in range(skip):
                next(it)
            for line_no, raw in numbered:
                # orjson, accepted when its rendering of what it read is the line itself
                # (then no name was repeated and every number was read exactly); any other
                # line is read again exactly (kernel.exactjson.parse_line)
                # (orjson read the whole line as one value, so a line that starts with the
                # rendering of an object is that rendering and whitespace)
                try:
                    ev = loads(raw)
                    d = dumps(ev)
                    if not startswith(raw, d):     # not compact: compare without whitespace
                        t = raw.translate(None, ws)
                        if t != d and t != d.translate(None, ws):
                            ev = parse_line(raw)
                except (decode_error, TypeError, JSONProblem):
                    if raw.isspace() or not raw:
                        blanks += 1
                        continue  # blank lines are ignored
                    try:
                        ev = parse_line(raw)
                    except JSONProblem as exc:
                        n_invalid += 1
                        not_json(problems, line_no, exc, "a JSON object")
                        continue
                if type(ev) is not dict:
                    n_invalid += 1
                    problems.not_an_object(line_no, ev)
                    continue
                bad = False
                tagged = b'"$' in raw or b"\\u" in raw   # a tagged value may occur (rare)
                get = ev.get
                try:  # subscripts are cheaper than get(); a missing field is the rare case
                    t = ev["time"]
                    p = ev["process"]
                    ty = ev["type"]
                except KeyError:
                    t = get("time", MISSING)
                    p = get("process", MISSING)
                    ty = get("type", MISSING)

                # time: a non-negative integer, never decreasing
                if type(t) is int and t >= last_time:
                    last_time = t
                    last_time_line = line_no
                elif type(t) is not int or t < 0:
                    bad = problems.bad_time(line_no, t)
                    t = None
                elif whole:
                    bad = problems.time_goes_back(line_no, t, last_time, last_time_line)

                # process
                tp = type(p)
                if tp is not int and tp is not str:
                    problems.bad_process(line_no, p)
                    continue

                # index: unique; absent means the position among events
                idx = get("index", missing)
                if type(idx) is int and idx > max_idx and indices is None:
                    max_idx = idx  # the common case: indices increase, nothing to remember
                else:
                    if idx is missing:
                        idx = line_no - base - blanks if position is None else position(line_no)
                    elif type(idx) is not int or idx < 0:
                        bad = problems.bad_index(line_no, idx)
                        idx = -1
                    if idx > max_idx and indices is None:
                        max_idx = idx
                    elif idx >= 0 and whole:
                        if indices is None:  # indices stopped increasing: track them all
                            indices = self._indices_before(line_no)
                        if not indices.add(idx):
                            dup_indices.append((line_no, idx))

                # fault events
                if tp is str and p == "nemesis":
                    if ty != "info":
                        bad = problems.nemesis_type(line_no, ty)
                    f = get("f")
                    if type(f) is not str or f not in _NEMESIS:
                        bad = problems.nemesis_f(line_no, f if "f" in ev else missing)
                    if problems.check_typed_fields(line_no, ev, NEMESIS_TYPED):
                        bad = True
                    if not bad:
                        nemesis.append(NemesisEvent(idx, f, get("value"), t, line_no))
                        if want_events:
                            yield line_no, ev
                    continue

                if ty == "invoke":
                    try:
                        f = ev["f"]
                        key = ev["key"]
                        region = ev["region"]
                    except KeyError:
                        f = get("f", missing)
                        key = get("key", missing)
                        region = get("region", missing)
                    if type(f) is not str or f not in functions:
                        bad = problems.bad_f(line_no, f)
                        f = None
                    if type(key) is str:
                        keys_add(key)
                    else:
                        bad = problems.bad_key(line_no, key)
                        key = None
                    if type(region) is not str or region not in regions:
                        bad = problems.bad_region(line_no, region)
                        region = None
                    if f == "read":
                        if get("value") is not None:
                            bad = problems.read_with_value(line_no, ev["value"])
                    elif f == "write":
                        if get("value") is None:
                            bad = problems.write_without_value(
                                line_no, None if "value" in ev else missing)
                    elif f == "cas":
                        v = get("value")
                        if type(v) is not list or len(v) != 2 or v[1] is None:
                            bad = problems.bad_cas(line_no, v if "value" in ev else missing)
                    elif f == "update":
                        bad = problems.check_update(line_no, get("value")) or bad
                    if "condition" in ev or "key_attributes" in ev:
                        bad = problems.check_rule11(line_no, ev, f) or bad
                    if tagged and (f == "write" or f == "cas" or f == "update"):
                        bad = problems.check_encoding(line_no, f, True, get("value")) or bad
                    c = get("consistent", False)
                    if c is not True and c is not False:
                        bad = problems.bad_consistent(line_no, c)
                    if "ts" in ev or "origin" in ev:
                        if problems.check_ts_origin(line_no, ev)[0]:
                            bad = True
                    if settled is not None and f != "read" and f is not None \
                            and t is not None and t >= settled:
                        bad = problems.write_after_settled(line_no, f, t, settled)
                    if tp is str and p == "ttl" and f is not None and f != "delete":
                        bad = problems.ttl_not_delete(line_no, f)
                    entry = (ev, line_no, idx, f, key, region, t, bad)
                    prev = inflight.setdefault(p, entry)
                    if prev is not entry:
                        bad = problems.in_flight(line_no, p, prev[1])
                        inflight[p] = entry
                        if want_ops and not prev[7] and (key_filter is None
                                                         or key_filter(prev[4])):
                            yield self._pending_op(prev)
                        counts[prev[3]]["info"] += 1
                        n_ops += 1
                    else:
                        processes.add(p)
                    if want_events and not bad:
                        yield line_no, ev
                    continue

                if ty != "ok" and ty != "fail" and ty != "info":
                    problems.bad_type(line_no, ty)
                    continue

                # a completion: it completes the process's invocation in flight
                pend = inflight.pop(p, None)
                if pend is None:
                    problems.nothing_in_flight(line_no, p, ty)
                    continue
                # an invalid invocation (already reported) makes its operation invalid
                inv, inv_line, inv_idx, f, key, region, inv_t, bad = pend
                # f, key and region may be left out, but if present they are the invocation's
                v = get("f", missing)
                if v is not missing and v != f and f is not None:
                    bad = problems.not_as_invoked(line_no, "f", f, inv_line, v)
                v = get("key", missing)
                if v is not missing and v != key and key is not None:
                    bad = problems.not_as_invoked(line_no, "key", key, inv_line, v)
                v = get("region", missing)
                if v is not missing and v != region and region is not None:
                    bad = problems.not_as_invoked(line_no, "region", region, inv_line, v)
                ts = get("ts", missing)
                origin = get("origin", missing)
                if (ts is missing or type(ts) is int) and (origin is missing or (
                        type(origin) is str and origin in regions)):
                    if ts is missing:
                        ts = None
                    if origin is missing:
                        origin = None
                else:   # reported by the one check of ts and origin
                    bad, ts, origin = problems.check_ts_origin(line_no, ev)
                if "consistent" in ev:
                    v = ev["consistent"]
                    if v is not True and v is not False:
                        bad = problems.bad_consistent(line_no, v)
                ok = ty == "ok"
                if tagged and ok and (f == "read" or f == "update" or f == "cas"):
                    bad = problems.check_encoding(line_no, f, False, get("value")) or bad
                # what the operation produced or returned
                if f == "read":
                    value = get("value", missing) if ok else None
                    if value is missing:
                        bad = problems.read_without_value(line_no)
                        value = None
                elif f == "write":
                    value = inv.get("value")
                    if ok and "value" in ev:
                        v = ev["value"]
                        if not same_(v, value):
                            bad = problems.not_the_value_written(line_no, inv_line, value, v)
                elif f == "cas":
                    v = inv.get("value")
                    value = v[1] if type(v) is list and len(v) == 2 else None
                    if ok:
                        # Jepsen's form repeats the pair; a recorder may give the item written
                        cv = get("value", missing)
                        if cv is missing or not (same_(cv, v) or (
                                value is not None and same_(cv, value))):
                            bad = problems.not_the_cas(line_no, inv_line, v, cv)
                elif f == "update":
                    if ok:
                        value = get("value", missing)
                        if value is not None and type(value) is not dict:
                            bad = problems.update_not_an_item(line_no, value)
                            value = None
                    else:
                        value = None
                else:  # delete (or an invalid f, already reported)
                    value = None

                if ok and whole and f is not None and f != "read" and type(key) is str:
                    if repeats.bad(problems, line_no, key, ts, origin, region, value):  # type: ignore[union-attr]
                        bad = True

                counts[f][ty] += 1
                n_ops += 1
                if bad:
                    continue
                if want_ops:
                    if key_filter is not None and not key_filter(key):
                        continue
                    extra = None
                    if not event_fields.issuperset(inv):
                        extra = {k: v for k, v in inv.items() if k not in event_fields}
                    if not event_fields.issuperset(ev):
                        if extra is None:
                            extra = {}
                        extra.update((k, v) for k, v in ev.items() if k not in event_fields)
                    no_ts = ty == "fail" or f == "read"  # a ts means nothing there
                    yield Operation(
                        inv_idx, p, region, f, key, inv.get("value"), value,
                        ty, inv_t, t if ty != "info" else None, t, idx,
                        inv.get("consistent") is True,
                        None if no_ts else ts, None if no_ts else origin,
                        inv_line, extra, line_no,
                    )
                elif want_events:
                    yield line_no, ev
        except (OSError, EOFError, zlib.error) as exc:   # zlib: a corrupt .gz
            problems.unreadable(line_no, exc)
        finally:
            close()

        pending = list(inflight.values())
        for pend in pending:
            counts[pend[3]]["info"] += 1
            n_ops += 1
            # an invalid invocation (reported) is never built: its key may be anything
            if want_ops and not pend[7] and (key_filter is None or key_filter(pend[4])):
                yield self._pending_op(pend)

        per_f = {f: c for f, c in counts.items() if f is not None and any(c.values())}
        n_events = line_no - self.header_line - blanks - n_invalid
        self.stats = {
            "file": self.path,
            "format": self.format,
            "events": n_events,
            "operations": n_ops,
            "pending": len(pending),
            "keys": len(keys),
            "processes": len(processes),
            "regions": list(region_list),
            "mode": header.mode,
            "nemesis": len(nemesis),
            "per_f": dict(sorted(per_f.items())),
            "first_time": first_time,
            "last_time": last_time if n_events else None,
        }
        self.processes_seen = processes
        if dup_indices:
            self._report_duplicate_indices(dup_indices)
        err = problems.error()
        if err is not None:
            raise err

    def _reread(self, stop_line: int | None = None) -> Iterator[tuple[int, dict, int]]:
        """Read the file again from the start (error and rare paths only), yielding
        ``(line_no, event, position)`` for every line after the header that is a JSON
        object; ``position`` is the event's 0-based place, the default ``index``."""
        lines, close = self._raw_lines()
        try:
            position = 0
            for line_no, raw in enumerate(lines, 1):
                if stop_line is not None and line_no >= stop_line:
                    break
                if line_no <= self.header_line or raw.isspace() or not raw:
                    continue
                pos = position
                position += 1
                try:
                    ev = parse_line(raw)
                except JSONProblem:
                    continue
                if type(ev) is dict:
                    yield line_no, ev, pos
        finally:
            close()

    def _indices_before(self, stop_line: int) -> _IndexSet:
        """The indices of the events before ``stop_line`` (read again from the start).

        Used once, when indices stop increasing: until then uniqueness needs no memory.
        """
        indices = _IndexSet()
        for _line_no, ev, pos in self._reread(stop_line):
            if "process" in ev:
                idx = ev.get("index", pos)
                if type(idx) is int and idx >= 0:
                    indices.add(idx)
        return indices

    def _pending_op(self, pend: tuple) -> Operation:
        inv, inv_line, inv_idx, f = pend[:4]
        inv_value = inv.get("value")
        if f == "write":
            value = inv_value
        elif f == "cas" and type(inv_value) is list and len(inv_value) == 2:
            value = inv_value[1]
        else:
            value = None
        extra = None
        if not EVENT_FIELDS.issuperset(inv):
            extra = {k: v for k, v in inv.items() if k not in EVENT_FIELDS}
        return Operation(
            inv_idx, inv.get("process"), inv.get("region"), f, inv.get("key"), inv_value,
            value, "info", inv.get("time"), None, None, None,
            inv.get("consistent") is True, None, None, inv_line, extra,
        )

    def _report_duplicate_indices(self, dups: list[tuple[int, int]]) -> None:
        """Name, for each repeated index, the line that used it first (a second read of
        the file, on the error path only)."""
        shown = dups[:MAX_SHOWN_ERRORS]
        wanted = {idx for _, idx in shown}
        dup_lines = {line for line, _ in shown}
        first: dict[int, int] = {}
        explicit: set[int] = set()
        try:
            for line_no, ev, pos in self._reread():
                idx = ev.get("index", pos)
                if line_no in dup_lines and "index" in ev:
                    explicit.add(line_no)
                if type(idx) is int and idx in wanted and idx not in first:
                    first[idx] = line_no
        except (OSError, EOFError, zlib.error):
            pass
        for line_no, idx in dups:
            duplicate_index(self.problems, line_no, idx, first.get(idx, "?"),
                            line_no in explicit or line_no not in dup_lines)


# --------------------------------------------------------------------------- helpers

def open_history(path: str | os.PathLike, fmt: str = "auto", **import_options: Any
                 ) -> HistoryReader:
    """Open a history and check its header (raises :class:`UserError` at once if bad).

    ``fmt`` is ``auto`` (by content), ``gt``, ``edn`` or ``jepsen-log``; the last two are
    converted in memory (``import_options`` go to :func:`checker.jepsen.import_history`).
    """
    return HistoryReader(path, fmt, **import_options)


def validate_file(path: str | os.PathLike, fmt: str = "auto", **import_options: Any
                  ) -> dict[str, Any]:
    """Read and check a whole history; return its stats or raise :class:`ManyUserErrors`."""
    with open_history(path, fmt, **import_options) as reader:
        for _ in reader._scan():
            pass
        return reader.stats


def header_to_dict(header: Header) -> dict[str, Any]:
    """The header line for ``header`` (``kernel.jsonlines.history_header``): its typed
    fields, then the rest of its ``meta``."""
    meta = dict(header.meta)
    if header.initial is not None or "initial" in meta:
        meta["initial"] = header.initial
    return history_header(header.regions, mode=header.mode,
                          clock_uncertainty_ns=header.clock_uncertainty_ns,
                          ts_uncertainty_ns=header.ts_uncertainty_ns,
                          settled_after_ns=header.settled_after_ns, meta=meta)


def write_history(path: str | os.PathLike, header: dict[str, Any] | Header,
                  events: Iterable[dict[str, Any]]) -> int:
    """Write a history as JSON Lines through the kernel's one writer
    (``kernel.jsonlines.JsonLinesWriter``: gzip with mtime=0 when ``path`` ends in ``.gz``,
    so the bytes are reproducible; ``-`` is stdout). Returns the number of events written.
    The caller is responsible for their validity (read the file back with
    :func:`validate_file` to be sure)."""
    if isinstance(header, Header):
        header = header_to_dict(header)
    writer = HistoryWriter(os.fspath(path) if not isinstance(path, str) else path, header)
    try:
        for ev in events:
            writer.write(ev)
    except BaseException:
        writer.abort()        # an error while the events are produced leaves no file behind
        raise
    writer.close()
    return writer.count - 1
