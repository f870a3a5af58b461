"""What can be wrong with a history's lines, in words.

Every problem is collected with its line, field, what was expected and how to fix it
(:class:`Problems`: all counted, the first ``MAX_SHOWN_ERRORS`` kept, raised together as
:class:`~gtcheck.kernel.errors.ManyUserErrors` once the file has been read).

The reader's hot loop (``checker.history``) tests each field once, cheaply, on the common
case; when a test fails it calls one method of :class:`EventProblems`, which words the
problem. The words live here, out of the loop, one method per problem.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from gtcheck.checker.operations import NEMESIS_FUNCTIONS
from gtcheck.kernel.attrvalues import item_json_problems
from gtcheck.kernel.errors import ManyUserErrors, UserError
from gtcheck.kernel.exactjson import JSONProblem, is_exact_number
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.expressions import form_problems, is_expression_form

MAX_SHOWN_ERRORS = 50
MISSING = object()     # a field that is not there
UPDATE_PARTS = frozenset(("set", "remove", "add"))
# fields the format types that a nemesis event may carry (its f, type, value are checked
# or free; these must have their type when present)
NEMESIS_TYPED = ("region", "key", "consistent", "ts", "origin")


def show(value: Any) -> str:
    """A short JSON rendering of a value for error messages."""
    if value is MISSING:
        return "nothing (the field is missing)"
    try:
        text = exact_dumps(value).decode("utf-8", "replace")
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def kind(value: Any) -> str:
    if value is MISSING:
        return "nothing (the field is missing)"
    names = {bool: "a boolean", int: "an integer", float: "a number", Decimal: "a number",
             str: "a string", list: "a list", dict: "an object", type(None): "null"}
    return f"{names.get(type(value), type(value).__name__)} {show(value)}"


class Problems:
    """The problems of one file: counted all, the first MAX_SHOWN_ERRORS kept."""

    __slots__ = ("where", "kept", "count")

    def __init__(self, where: str):
        self.where = where
        self.kept: list[tuple[int, UserError]] = []
        self.count = 0

    def add(self, line: int, message: str, hint: str | None = None) -> bool:
        """Record a problem; returns True (so callers can write ``bad = add(...)``)."""
        self.count += 1
        if len(self.kept) < MAX_SHOWN_ERRORS:
            self.kept.append(
                (line, UserError(message, where=f"{self.where}:{line}", hint=hint)))
        return True

    def field(self, line: int, name: str, expected: str, got: Any,
              hint: str | None = None, show: Callable[[Any], str] = show) -> bool:
        return self.add(
            line, f'line {line}, field "{name}": expected {expected}, got {show(got)}', hint)

    def error(self) -> ManyUserErrors | None:
        if not self.count:
            return None
        kept = [e for _, e in sorted(self.kept, key=lambda p: p[0])]
        if self.count > len(kept):
            kept.append(UserError(
                f"... and {self.count - len(kept)} more problems "
                f"({self.count} in all; the first {len(kept)} are shown)",
                where=self.where))
        return ManyUserErrors(kept, limit=MAX_SHOWN_ERRORS + 1)


def not_json(problems: Problems, line_no: int, exc: JSONProblem, what: str) -> bool:
    """Report a line that is not JSON gtcheck can read exactly (see kernel.exactjson)."""
    if exc.field is not None:
        return problems.add(line_no, f'line {line_no}, field "{exc.field}": {exc.message}',
                            exc.hint)
    return problems.add(line_no, f"line {line_no}: expected {what}, but the line is not "
                        f"valid JSON ({exc.message})",
                        exc.hint or "each line holds one complete JSON object; blank lines "
                        "are allowed")


class EventProblems(Problems):
    """The problems of the events of one file, one method per problem: each records it and
    returns True (``bad = problems.bad_time(...)``)."""

    __slots__ = ("regions", "region_list")

    def __init__(self, where: str, region_list: list[str]):
        super().__init__(where)
        self.region_list = region_list
        self.regions = frozenset(region_list)

    # -- any event
    def not_an_object(self, line: int, ev: Any) -> bool:
        return self.field(line, "event", "a JSON object", ev, show=kind)

    def bad_time(self, line: int, t: Any) -> bool:
        return self.field(line, "time", "a non-negative integer (nanoseconds)", t,
                          "time is a whole number of nanoseconds on the recorder's clock")

    def time_goes_back(self, line: int, t: int, last_time: int, last_line: int) -> bool:
        return self.add(line, f'line {line}, field "time": expected at least {last_time} (the '
                        f"time of line {last_line}; times never decrease down the file), got "
                        f"{t}", "events must be written in the order they happened")

    def bad_process(self, line: int, p: Any) -> bool:
        return self.field(line, "process", "an integer or a string", p)

    def bad_index(self, line: int, idx: Any) -> bool:
        return self.field(line, "index", "a non-negative integer", idx,
                          "leave index out to number events by their position")

    def bad_type(self, line: int, ty: Any) -> bool:
        return self.field(line, "type", 'one of "invoke", "ok", "fail", "info"', ty)

    def unreadable(self, line: int, exc: Exception) -> bool:
        return self.add(line + 1, f"line {line + 1}: the file cannot be read past line {line} "
                        f"({exc})", "is the file truncated? a .gz file must be complete")

    # -- fault events
    def nemesis_type(self, line: int, ty: Any) -> bool:
        return self.field(line, "type", '"info" (nemesis events are info events)', ty)

    def nemesis_f(self, line: int, f: Any) -> bool:
        return self.field(line, "f", "a nemesis function: " + ", ".join(NEMESIS_FUNCTIONS), f)

    # -- invocations
    def bad_f(self, line: int, f: Any) -> bool:
        return self.field(line, "f", 'one of "read", "write", "update", "delete", "cas"', f)

    def bad_key(self, line: int, key: Any) -> bool:
        return self.field(line, "key", "a string (the item's primary key)", key)

    def bad_region(self, line: int, region: Any) -> bool:
        return self.field(line, "region", "one of the header's regions: "
                          + ", ".join(self.region_list), region)

    def read_with_value(self, line: int, value: Any) -> bool:
        return self.field(line, "value", "null (a read's invocation carries no value)", value,
                          "put the value read on the read's ok completion")

    def write_without_value(self, line: int, value: Any) -> bool:
        return self.field(line, "value", "the item written (not null)", value,
                          "a write writes an item; to remove one use delete")

    def bad_cas(self, line: int, value: Any) -> bool:
        return self.field(line, "value", "[expected, new] with new not null", value,
                          "expected null means the item must not exist; to remove an item "
                          "use delete")

    def bad_consistent(self, line: int, c: Any) -> bool:
        return self.field(line, "consistent", "true or false", c)

    def write_after_settled(self, line: int, f: str, t: int, settled: int) -> bool:
        return self.add(line, f'line {line}, field "time": expected a write invoked before '
                        f"settled_after_ns = {settled}, got a {f} invoked at {t}",
                        "after settled_after_ns only reads may run (they are the final reads); "
                        "move the write earlier or settled_after_ns later")

    def ttl_not_delete(self, line: int, f: Any) -> bool:
        return self.field(line, "f", '"delete" (process "ttl" only expires items)', f)

    def in_flight(self, line: int, p: Any, prev_line: int) -> bool:
        return self.add(line, f'line {line}, field "process": expected a process with no '
                        f"operation in flight, got process {show(p)}, whose invocation on "
                        f"line {prev_line} has not completed",
                        "a process runs one operation at a time: complete the earlier one "
                        "(ok, fail or info) before invoking again")

    # -- completions
    def nothing_in_flight(self, line: int, p: Any, ty: Any) -> bool:
        return self.add(line, f'line {line}, field "type": expected "invoke" (process {show(p)} '
                        f"has no operation in flight), got {show(ty)}",
                        "every ok/fail/info completes the previous invoke of the same process; "
                        "is its invocation missing, or on another process?")

    def not_as_invoked(self, line: int, name: str, invoked: Any, inv_line: int, got: Any) -> bool:
        """A completion's f, key or region differs from its invocation's."""
        return self.field(line, name, f"{show(invoked)} (as invoked on line {inv_line}) or no "
                          f"{name}", got)

    def read_without_value(self, line: int) -> bool:
        return self.field(line, "value", "the item read, or null for no item", MISSING,
                          "an ok read says what it read")

    def not_the_value_written(self, line: int, inv_line: int, value: Any, got: Any) -> bool:
        return self.field(line, "value", f"the value written on line {inv_line}, {show(value)}, "
                          "or no value", got)

    def not_the_cas(self, line: int, inv_line: int, pair: Any, got: Any) -> bool:
        return self.field(line, "value", f"the value of the cas on line {inv_line}, "
                          f"{show(pair)}, or its new item", got,
                          "an ok cas carries its [expected, new] pair (or the new item)")

    def update_not_an_item(self, line: int, value: Any) -> bool:
        return self.field(line, "value", "the whole item after the update (an object, or null "
                          "if the item does not exist)", value,
                          "an ok update carries the item as DynamoDB returns it with "
                          "ReturnValues=ALL_NEW")

    def repeated_ts(self, line: int, key: str, ts: int, origin: str, first: int) -> bool:
        return self.add(line, f'line {line}, field "ts": expected a (ts, origin) no other ok '
                        f"write of key {show(key)} has, got ({ts}, {show(origin)}), already "
                        f"used on line {first}",
                        "two writes of one key cannot carry the same replication timestamp "
                        "and origin: the history is ambiguous")

    def repeated_value(self, line: int, key: str, value: Any, first: int) -> bool:
        return self.add(line, f'line {line}, field "value": expected a value no other ok write '
                        f"of key {show(key)} wrote, got {show(value)}, already written on line "
                        f"{first}",
                        "in eventual mode every version of a key must be distinguishable: add "
                        "a version counter or a unique attribute to each write")

    # -- fields that need a closer look
    def check_update(self, line_no: int, value: Any) -> bool:
        """Check an update's change; True when something was wrong."""
        fld = self.field
        if type(value) is dict and "expression" in value:      # rule 11: an UpdateExpression
            bad = False
            for suffix, expected, got, hint in form_problems(value, "update"):
                bad = fld(line_no, "value" + suffix, expected, got, hint)
            return bad
        if type(value) is not dict:
            return fld(line_no, "value", 'the change, an object with "set", "remove" and/or "add"',
                       value, 'e.g. {"set": {"name": "b"}, "remove": ["tmp"], "add": {"count": 1}}')
        bad = False
        unknown = [k for k in value if k not in UPDATE_PARTS]
        if unknown:
            bad = fld(line_no, "value", 'an update change with only "set", "remove", "add"', value,
                      f"move {', '.join(repr(k) for k in unknown)} into \"set\" (or remove it)")
        s = value.get("set", None)
        if s is not None and type(s) is not dict:
            bad = fld(line_no, "value.set", "an object of attribute -> new value", s)
        r = value.get("remove", None)
        if r is not None and (type(r) is not list or not all(type(a) is str for a in r)):
            bad = fld(line_no, "value.remove", "a list of attribute names (strings)", r)
        a = value.get("add", None)
        if a is not None and type(a) is not dict:
            bad = fld(line_no, "value.add", "an object of attribute -> number or list to add", a)
        elif a is not None:
            for name, v in a.items():
                if not (is_exact_number(v) or type(v) is list):
                    bad = fld(line_no, f"value.add.{name}", "a number to add or a list whose new "
                              "elements to append", v, "to set an attribute to a value use set")
                    break
        return bad

    def check_rule11(self, line_no: int, ev: dict, f: str | None) -> bool:
        """Rule 11: a write's ``condition`` (an expression or the short form) and an update's
        ``key_attributes`` (gtcheck's field: the key attributes a missing item starts as);
        True when something was wrong. An expression that does not parse is not bad input:
        it is evaluated as unknown."""
        fld = self.field
        bad = False
        if "condition" in ev:
            if f == "read":
                bad = fld(line_no, "condition", "no condition (a read has none)", ev["condition"])
            else:
                for suffix, expected, got, hint in form_problems(ev["condition"], "condition"):
                    bad = fld(line_no, "condition" + suffix, expected, got, hint)
        if "key_attributes" in ev:
            k = ev["key_attributes"]
            if type(k) is not dict:
                bad = fld(line_no, "key_attributes", "an object of the item's key attributes", k,
                          'e.g. {"pk": "user#7"}: what UpdateItem starts a missing item from')
            else:
                for p in item_json_problems(k):
                    bad = fld(line_no, f"key_attributes.{p.path}", "a value in the history's "
                              "item encoding", k, p.message)
        return bad

    def check_encoding(self, line_no: int, f: str, invoke: bool, v: Any) -> bool:
        """The item values of an event are in the history's encoding: tagged values ($B,
        $SS, $NS, $BS, $M) well formed, sets in canonical order (a set out of order would
        make equal items unequal JSON). The values that are items: a write's, a cas's, an
        update's set/add attributes, and what an ok read, update or cas returned. True when
        something was wrong. Called only for lines whose text can hold a tag."""
        if v is None:
            return False
        if f == "cas" and type(v) is list:                  # [expected, new]
            found = [(f"[{i}].{p.path}", p) for i, x in enumerate(v) for p in item_json_problems(x)]
        elif f == "update" and invoke:
            if type(v) is not dict or is_expression_form(v):
                return False                  # an expression's values are checked with it
            found = [(f".{part}.{p.path}", p) for part in ("set", "add")
                     if type(v.get(part)) is dict for p in item_json_problems(v[part])]
        else:
            found = [(f".{p.path}", p) for p in item_json_problems(v)]
        bad = False
        for where, p in found[:5]:
            bad = self.field(line_no, "value" + where, "a value in the history's item encoding",
                             v, p.message + (f"; {p.hint}" if p.hint else ""))
        return bad

    def check_typed_fields(self, line_no: int, ev: dict, names: tuple[str, ...]) -> bool:
        """Check the fields of ``names`` that ``ev`` carries against their type (rule 7: a
        present field has its type); True when something was wrong."""
        bad = False
        for name in names:
            if name not in ev:
                continue
            v = ev[name]
            if name == "region":
                if type(v) is not str or v not in self.regions:
                    bad = self.field(line_no, "region", "one of the header's regions: "
                                     + ", ".join(self.region_list), v)
            elif name == "key":
                if type(v) is not str:
                    bad = self.field(line_no, "key", "a string (the item's primary key)", v)
            elif name == "consistent":
                if v is not True and v is not False:
                    bad = self.field(line_no, "consistent", "true or false", v)
        if "ts" in names and ("ts" in ev or "origin" in ev):
            bad = self.check_ts_origin(line_no, ev)[0] or bad
        return bad

    def check_ts_origin(self, line_no: int, ev: dict) -> tuple[bool, int | None, str | None]:
        """Check the optional ``ts`` and ``origin`` of an event (present means of its type:
        null is neither an integer nor a region). Returns ``(bad, ts, origin)``, each of the
        two None when absent or wrong."""
        bad = False
        ts = ev.get("ts", MISSING)
        if ts is MISSING:
            ts = None
        elif type(ts) is not int:
            bad = self.field(line_no, "ts", "an integer (the replication timestamp)", ts,
                             "leave ts out when it is not known")
            ts = None
        origin = ev.get("origin", MISSING)
        if origin is MISSING:
            origin = None
        elif type(origin) is not str or origin not in self.regions:
            bad = self.field(line_no, "origin", "one of the header's regions: "
                             + ", ".join(self.region_list), origin,
                             "leave origin out to mean the event's region")
            origin = None
        return bad, ts, origin
