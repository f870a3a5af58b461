"""Hypothesis strategies for DynamoDB condition and update expressions, with the item they
are evaluated on and the ExpressionAttributeNames/Values they use.

Expressions are built as text, the way applications write them: literal names and
``#name`` placeholders, ``:value`` placeholders, nested paths into the item (mostly
paths that exist, some that do not), every comparator, BETWEEN, IN, every function,
AND/OR/NOT with parentheses, random keyword case and spacing; updates with SET (``+``,
``-``, ``if_not_exists``, ``list_append``), REMOVE (list elements too), ADD and DELETE on
numbers and sets. Only placeholders the expression uses are defined (DynamoDB refuses
unused ones; gtcheck, which sees a request's condition and update apart, does not).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from gtcheck.kernel.attrvalues import BinSet, NumSet, StrSet, normal
from tests.kernel.strategies import numbers

KEY = "pk"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()       # a path the item does not have
NAMES = ["a", "b", "c", "n", "s", "l", "m", "x", "y"]        # literal-safe attribute names
ODD_NAMES = ["a.b", "my attr", "3d", "#x", "Status", ":v"]     # only through #placeholders


@lru_cache(maxsize=None)
def _texts() -> st.SearchStrategy[str]:
    return st.sampled_from(["", "a", "ab", "abc", "b", "ba", "x", "hello", "hell", "é", "日本"])


@lru_cache(maxsize=None)
def _bins() -> st.SearchStrategy[bytes]:
    return st.sampled_from([b"", b"a", b"ab", b"\x00", b"\x7f", b"\x80\x01", b"\xff"])


@lru_cache(maxsize=None)
def _nums() -> st.SearchStrategy[Decimal]:
    small = st.integers(-3, 12).map(Decimal)
    return st.one_of(small, small, st.sampled_from(
        [Decimal("0.5"), Decimal("-2.25"), Decimal("1e30"), Decimal("9.9e125"),
         Decimal("1e-130"), Decimal(10 ** 37)]).map(normal), numbers())


@lru_cache(maxsize=None)
def scalar() -> st.SearchStrategy[Any]:
    return st.one_of(_nums(), _texts(), _bins(), st.booleans(), st.none())


@lru_cache(maxsize=None)
def a_set() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.frozensets(_texts(), min_size=1, max_size=3).map(StrSet),
        st.frozensets(st.integers(-2, 6).map(Decimal), min_size=1, max_size=3).map(NumSet),
        st.frozensets(_bins(), min_size=1, max_size=3).map(BinSet))


@lru_cache(maxsize=None)
def value(depth: int = 2) -> st.SearchStrategy[Any]:
    if depth <= 0:
        return st.one_of(scalar(), a_set())
    inner = value(depth - 1)
    return st.one_of(scalar(), scalar(), a_set(),
                     st.lists(inner, max_size=3),
                     st.dictionaries(st.sampled_from(NAMES[:4] + ["x", "y"]), inner, max_size=3))


@lru_cache(maxsize=None)
def item() -> st.SearchStrategy[dict[str, Any] | None]:
    """An item (evaluator values) with key attribute ``pk``, or None (no such item)."""
    body = st.dictionaries(st.sampled_from(NAMES + ODD_NAMES[:3]), value(), max_size=6)
    return st.one_of(st.none(), body.map(lambda d: {KEY: "k", **d}), body.map(
        lambda d: {KEY: "k", **d}))


@dataclass
class Case:
    """One generated expression with everything needed to evaluate it."""

    kind: str                        # "condition" or "update"
    item: dict[str, Any] | None      # evaluator values; None: no item
    text: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)   # evaluator values
    notes: set[str] = field(default_factory=set)           # constructs used (for differences)
    tree: tuple = ()           # conditions: how the text parses, down to its primitive leaves


_SPACES = st.sampled_from([" ", " ", "  ", ""])
_CASES = {w: st.sampled_from([w, w.lower(), w.capitalize()])
          for w in ("AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE")}
_INTS = {n: st.integers(0, n) for n in range(13)}


class _Builder:
    def __init__(self, draw: Any, item: dict[str, Any] | None, kind: str):
        self.draw = draw
        self.case = Case(kind, item, "")
        self.targets: list[tuple] = []

    # -- placeholders
    def name_ref(self, name: str) -> str:
        safe = name in NAMES
        if safe and not self.draw(_INTS[3]) == 0:
            return name
        for ph, n in self.case.names.items():
            if n == name and self.draw(st.booleans()):
                return ph
        ph = f"#n{len(self.case.names)}"
        self.case.names[ph] = name
        return ph

    def value_ref(self, v: Any) -> str:
        ph = f":v{len(self.case.values)}"
        self.case.values[ph] = v
        return ph

    def kw(self, word: str) -> str:
        return self.draw(_CASES[word])

    def sp(self) -> str:
        return self.draw(_SPACES)

    # -- paths
    def existing_paths(self) -> list[tuple]:
        out: list[tuple] = []
        it = self.case.item or {}

        def walk(v: Any, path: tuple) -> None:
            out.append(path)
            if len(path) >= 4:
                return
            if type(v) is dict:
                for k, x in v.items():
                    walk(x, path + (k,))
            elif type(v) is list:
                for i, x in enumerate(v):
                    walk(x, path + (i,))
        for k, v in it.items():
            walk(v, (k,))
        return out

    def path(self, *, allow_key: bool = True) -> tuple:
        paths = [p for p in self.existing_paths() if allow_key or p[0] != KEY]
        choice = self.draw(_INTS[9])
        if paths and choice < 6:
            p = self.draw(st.sampled_from(paths))
            if choice == 5:           # one step further, into what may not exist
                p = p + (self.draw(st.sampled_from(["x", 0, 5])),)
            return p
        n = self.draw(st.sampled_from(NAMES + ODD_NAMES))
        if self.draw(_INTS[3]) == 0:
            return (n, self.draw(st.sampled_from(["x", "y", 0, 1])))
        return (n,)

    def render_path(self, p: tuple) -> str:
        out = self.name_ref(p[0])
        for s in p[1:]:
            out += f"[{s}]" if isinstance(s, int) else "." + self.name_ref(s)
        return out

    # -- values
    def some_value(self, near: Any = None) -> Any:
        """A value for a placeholder: often one the item holds (or close to it)."""
        if near is not None and near is not MISSING and self.draw(_INTS[2]) > 0:
            if type(near) is Decimal and self.draw(st.booleans()):
                return normal(near + self.draw(st.sampled_from([-1, 1])))
            return near
        return self.draw(value(1))

    def lookup(self, p: tuple) -> Any:
        """The value at ``p`` in the item, or MISSING."""
        v: Any = self.case.item or {}
        for s in p:
            if isinstance(s, str) and type(v) is dict and s in v:
                v = v[s]
            elif isinstance(s, int) and type(v) is list and s < len(v):
                v = v[s]
            else:
                return MISSING
        return v

    def operand(self, near: Any = None) -> tuple[str, Any, tuple]:
        """(text, a value it might be close to, its descriptor): descriptors are
        ("path", value or MISSING), ("const", value) or ("size", inner descriptor)."""
        k = self.draw(_INTS[9])
        if k < 5:
            p = self.path()
            v = self.lookup(p)
            return self.render_path(p), v, ("path", v)
        if k < 9:
            v = self.some_value(near)
            return self.value_ref(v), v, ("const", v)
        self.case.notes.add("size")
        if self.draw(_INTS[4]) == 0:
            v = self.draw(st.one_of(_texts(), st.lists(scalar(), max_size=2), a_set()))
            return f"size({self.value_ref(v)})", None, ("size", ("const", v))
        sized = [q for q in self.existing_paths()
                 if isinstance(self.lookup(q), (str, bytes, list, dict, frozenset))]
        p = self.draw(st.sampled_from(sized)) if sized and self.draw(_INTS[4]) else self.path()
        target = self.lookup(p)
        n = Decimal(len(target)) if isinstance(target, (str, bytes, list, dict, frozenset)) else None
        return (f"size({self.sp()}{self.render_path(p)}{self.sp()})", n,
                ("size", ("path", target)))

    def leaf(self) -> tuple[str, tuple]:
        """A primitive condition: (text, ("leaf", text, kind, operand descriptors))."""
        k = self.draw(_INTS[8])
        if k <= 3:
            a, near, da = self.operand()
            b, _, db = self.operand(near)
            op = self.draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
            text = f"{a}{self.sp()}{op}{self.sp()}{b}"
            return text, ("leaf", text, op, (da, db))
        if k == 4:
            self.case.notes.add("between")
            a, near, da = self.operand()
            lo, _, dl = self.operand(near)
            hi, _, dh = self.operand(near)
            text = f"{a} {self.kw('BETWEEN')} {lo} {self.kw('AND')} {hi}"
            return text, ("leaf", text, "between", (da, dl, dh))
        if k == 5:
            self.case.notes.add("in")
            a, near, da = self.operand()
            items = [self.operand(near) for _ in range(self.draw(st.integers(1, 3)))]
            text = f"{a} {self.kw('IN')}{self.sp()}({', '.join(t for t, _, _ in items)})"
            return text, ("leaf", text, "in", (da,) + tuple(d for _, _, d in items))
        if k == 6:
            fn = self.draw(st.sampled_from(["attribute_exists", "attribute_not_exists"]))
            self.case.notes.add(fn)
            p = self.path()
            text = f"{fn}({self.render_path(p)})"
            return text, ("leaf", text, fn, (("path", self.lookup(p)),))
        if k == 7:
            self.case.notes.add("attribute_type")
            p = self.path()
            t = self.draw(st.sampled_from(["S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"]))
            text = f"attribute_type({self.render_path(p)}, {self.value_ref(t)})"
            return text, ("leaf", text, "attribute_type", (("path", self.lookup(p)), ("const", t)))
        fn = self.draw(st.sampled_from(["begins_with", "contains"]))
        self.case.notes.add(fn)
        p = self.path()
        target = self.lookup(p)
        near: Any = None
        if isinstance(target, (str, bytes)) and target:
            near = target[: self.draw(st.integers(0, len(target)))]
        elif isinstance(target, (list, frozenset)) and target:
            near = self.draw(st.sampled_from(sorted(target, key=repr)))
        v = self.some_value(near)
        text = f"{fn}({self.render_path(p)}, {self.value_ref(v)})"
        return text, ("leaf", text, fn, (("path", target), ("const", v)))

    def condition(self, depth: int) -> tuple[str, tuple]:
        """(text, tree): the tree mirrors how the text parses (AND above OR is
        parenthesised, NOT's operand too when it is AND/OR), so leaves can be judged
        one by one."""
        k = self.draw(_INTS[4 if depth > 0 else 0])
        if k == 0:
            return self.leaf()
        if k in (1, 2):
            word = self.kw("AND" if k == 1 else "OR")
            self.case.notes.add("logic")
            parts = [self.condition(depth - 1) for _ in range(2)]
            if k == 1:
                parts = [self.wrap(t, n) if n[0] == "or" else (t, n) for t, n in parts]
            (ta, na), (tb, nb) = parts
            return f"{ta} {word} {tb}", ("and" if k == 1 else "or", na, nb)
        if k == 3:
            self.case.notes.add("logic")
            t, n = self.condition(depth - 1)
            if n[0] in ("and", "or"):
                t, n = self.wrap(t, n)
            return f"{self.kw('NOT')} {t}", ("not", n)
        t, n = self.condition(depth - 1)
        return (t, n) if n[0] == "paren" else self.wrap(t, n)

    def wrap(self, text: str, node: tuple) -> tuple[str, tuple]:
        return f"({self.sp()}{text}{self.sp()})", ("paren", node)

    # -- updates
    def set_operand(self) -> tuple[str, Any]:
        k = self.draw(_INTS[9])
        if k < 4:
            paths = self.existing_paths()
            p = self.draw(st.sampled_from(paths)) if paths and k < 3 else self.path()
            return self.render_path(p), self.lookup(p)
        if k < 8:
            v = self.some_value()
            return self.value_ref(v), v
        if k == 8:
            self.case.notes.add("if_not_exists")
            p = self.path()
            other, _ = self.set_operand() if self.draw(st.booleans()) else \
                (self.value_ref(self.some_value()), None)
            return f"if_not_exists({self.render_path(p)}, {other})", self.lookup(p)
        self.case.notes.add("list_append")
        parts = []
        for _ in range(2):
            if self.draw(st.booleans()):
                parts.append(self.render_path(self.path()))
            else:
                parts.append(self.value_ref(self.draw(st.lists(scalar(), max_size=2))))
        return f"list_append({parts[0]}, {parts[1]})", None

    def update_path(self) -> tuple:
        """Where an update writes: an attribute the item has, a new top-level one, a new
        key of a map it has, an element of a list it has (or past its end), or (now and
        then) any path, valid or not."""
        paths = [p for p in self.existing_paths() if p[0] != KEY]
        k = self.draw(_INTS[9])
        if paths and k < 4:
            return self.draw(st.sampled_from(paths))
        if k < 7:
            return (self.draw(st.sampled_from(NAMES + ODD_NAMES)),)
        maps = [p for p in paths if type(self.lookup(p)) is dict]
        lists = [p for p in paths if type(self.lookup(p)) is list]
        if k == 7 and maps:
            return self.draw(st.sampled_from(maps)) + (self.draw(st.sampled_from(["x", "y", "n"])),)
        if k == 8 and lists:
            return self.draw(st.sampled_from(lists)) + (self.draw(st.sampled_from([0, 1, 4])),)
        return self.path(allow_key=False)

    def target(self) -> tuple:
        """An update's target path, mostly one that overlaps no earlier target."""
        for _ in range(4):
            p = self.update_path()
            if self.draw(_INTS[9]) == 0 or not any(
                    q[:len(p)] == p[:len(q)] for q in self.targets):
                break
        self.targets.append(p)
        return p

    def number_operand(self) -> str:
        """A SET operand that is usually a number: a number path, if_not_exists, :num."""
        nums = [p for p in self.existing_paths() if type(self.lookup(p)) is Decimal]
        k = self.draw(_INTS[5])
        if nums and k < 2:
            return self.render_path(self.draw(st.sampled_from(nums)))
        if k == 2:
            self.case.notes.add("if_not_exists")
            p = self.draw(st.sampled_from(nums)) if nums and self.draw(st.booleans()) else self.path()
            return f"if_not_exists({self.render_path(p)}, {self.value_ref(self.draw(_nums()))})"
        if k == 3:
            return self.set_operand()[0]
        return self.value_ref(self.draw(_nums()))

    def set_action(self) -> str:
        target = self.render_path(self.target())
        if self.draw(_INTS[2]) == 0:
            self.case.notes.add("arith")
            op = self.draw(st.sampled_from(["+", "-"]))
            a, b = self.number_operand(), self.number_operand()
            return f"{target}{self.sp()}={self.sp()}{a}{self.sp()}{op}{self.sp()}{b}"
        a, _ = self.set_operand()
        return f"{target}{self.sp()}={self.sp()}{a}"

    def add_action(self) -> str:
        """ADD, usually of what fits the target (a number to a number, a set to a set of
        its type, either to nothing), sometimes of what does not."""
        p = self.target()
        current = self.lookup(p)
        k = self.draw(_INTS[7])
        if k == 7:
            v: Any = self.draw(st.one_of(scalar(), a_set()))
        elif isinstance(current, frozenset):
            v = type(current)(self.draw(st.frozensets(_elems_like(current), min_size=1,
                                                      max_size=2)))
        elif type(current) is Decimal or (current is MISSING and k < 4):
            v = self.draw(_nums())
        else:
            v = self.draw(a_set())
        return f"{self.render_path(p)} {self.value_ref(v)}"

    def delete_action(self) -> str:
        """DELETE of some elements of the target set (and one it lacks), sometimes of a set
        of another type or of a scalar."""
        p = self.target()
        current = self.lookup(p)
        k = self.draw(_INTS[7])
        if isinstance(current, frozenset) and k < 6:
            pool = sorted(current, key=repr)
            elems = self.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
            if k == 5:
                elems.append(self.draw(_elems_like(current)))
            v: Any = type(current)(elems)
        elif k < 7:
            v = self.draw(a_set())
        else:
            v = self.draw(scalar())
        return f"{self.render_path(p)} {self.value_ref(v)}"

    def update(self) -> str:
        clauses = self.draw(st.lists(st.sampled_from(["SET", "REMOVE", "ADD", "DELETE"]),
                                     min_size=1, max_size=3, unique=True))
        out = []
        for c in clauses:
            self.case.notes.add(c)
            n = self.draw(st.integers(1, 2))
            if c == "SET":
                acts = [self.set_action() for _ in range(n)]
            elif c == "REMOVE":
                acts = [self.render_path(self.target()) for _ in range(n)]
            elif c == "ADD":
                acts = [self.add_action() for _ in range(n)]
            else:
                acts = [self.delete_action() for _ in range(n)]
            out.append(f"{self.kw(c)} {', '.join(acts)}")
        return " ".join(out)


def _elems_like(s: frozenset) -> st.SearchStrategy[Any]:
    if type(s) is StrSet:
        return _texts()
    if type(s) is NumSet:
        return st.integers(-2, 6).map(Decimal)
    return _bins()


@st.composite
def condition_cases(draw: Any) -> Case:
    b = _Builder(draw, draw(item()), "condition")
    b.case.text, b.case.tree = b.condition(draw(st.integers(0, 2)))
    return b.case


@st.composite
def update_cases(draw: Any) -> Case:
    b = _Builder(draw, draw(item()), "update")
    b.case.text = b.update()
    return b.case
