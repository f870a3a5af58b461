"""Judging gtcheck's expression evaluator against moto, case by case.

:func:`judge` runs one generated case through both and returns the category it falls in:

* ``"agree:<answer>"``: both give the same answer (True, False, rejected, or an equal
  item);
* ``"moto-no-answer:<name>"``: moto failed with a Python exception of its own (it orders
  values of different types with Python's operators, takes ``size`` of nothing...), so
  there is nothing to compare; the name says which documented gap it was;
* ``"difference:<name>"``: the answers differ in exactly one of the documented ways below
  (for a condition: every primitive condition on which they differ is one of the
  documented differences, and putting moto's answers for those primitives into the
  condition's AND/OR/NOT gives moto's answer for the whole);
* ``"gtcheck-unknown:<reason>"``: gtcheck answers UNKNOWN for a documented reason.

Anything else raises AssertionError naming the case: an undocumented difference is a
failure, never skipped.

Each documented difference has a one-line reason. Where moto is wrong about DynamoDB the
reason says what DynamoDB does and where that is established (the AWS documentation, or
behaviour checked against DynamoDB by ScyllaDB's Alternator test suite, which runs the
same tests against both).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any, Callable

from gtcheck.kernel import attrvalues as av
from gtcheck.kernel.attrvalues import BinSet, NumSet, StrSet
from gtcheck.kernel.expressions import REJECTED, UNKNOWN, condition, update
from gtcheck.kernel.exprparse import parse_update
from tests.kernel.exprgen import MISSING, Case

Answer = Any     # True / False / "rejected" / "unknown" / ("crash", name) / item


def ours(case: Case) -> tuple[Answer, str | None]:
    """gtcheck's answer for the case (normalised) and its reason when refused/unknown."""
    item = av.item_to_json(case.item)
    values = {k: av.to_json(v) for k, v in case.values.items()}
    if case.kind == "condition":
        c = condition(case.text, case.names, values)
        return _norm(c.holds(item)), c.rejected
    r, why = update(case.text, case.names, values).explain(item, {"pk": "k"})
    return (av.item_from_json(r) if isinstance(r, dict) else _norm(r)), why


def _norm(a: Any) -> Answer:
    if a is REJECTED:
        return "rejected"
    if a is UNKNOWN:
        return "unknown"
    if isinstance(a, tuple) and a and a[0] == "rejected":
        return "rejected"
    return a


def same(a: Answer, b: Answer) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return av.equal(a, b)
    if isinstance(a, dict) or isinstance(b, dict):
        return False
    return a == b and type(a) is type(b)


# --------------------------------------------------------------------------- descriptors
def _val(d: tuple) -> Any:
    """A leaf operand's value (MISSING when absent, or the size of something sizeless)."""
    if d[0] == "size":
        inner = _val(d[1])
        if isinstance(inner, (str, bytes, list, dict, frozenset)):
            return Decimal(len(inner))
        return MISSING
    return d[1]


def _py(v: Any) -> Any:
    """A value as moto holds it (sets as Python sets; absent and NULL both None)."""
    if v is MISSING or v is None:
        return None
    if type(v) in (StrSet, NumSet, BinSet):
        return set(v)
    if type(v) is list:
        return [_py(x) for x in v]
    if type(v) is dict:
        return {k: _py(x) for k, x in v.items()}
    return v


_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
          ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _moto_python(kind: str, ops: tuple) -> Answer:
    """moto's answer for a primitive condition: Python's operators on Python values."""
    v = [_py(_val(d)) for d in ops]
    try:
        if kind == "=":
            return v[0] == v[1]
        if kind == "<>":
            return v[0] != v[1]
        if kind == "in":
            return any(v[0] == x for x in v[1:])
        if kind in _ORDER:
            return False if v[0] is None or v[1] is None else bool(_ORDER[kind](v[0], v[1]))
        if kind == "between":
            return v[0] is not None and bool(v[1] <= v[0] <= v[2])
        if kind == "contains" and type(_val(ops[0])) is list:
            return v[1] in v[0]
    except TypeError:
        return ("crash", "TypeError")
    return None


def _moto_between_older(ops: tuple) -> Answer:
    """BETWEEN as moto releases before the NULL-bound check answer it (the same version
    number, 5.2.1, is published in both forms; CI's machine has this one): an absent lower
    bound is no bound, so ``x BETWEEN absent AND y`` is ``x <= y``, and absent is between
    absent and anything."""
    a, lo, hi = (_py(_val(d)) for d in ops)
    try:
        lo_has = lo is not None and (isinstance(lo, Decimal) or bool(lo))
        hi_has = hi is not None and (isinstance(hi, Decimal) or bool(hi))
        if lo_has and a and hi_has:
            return bool(lo <= a <= hi)
        if lo is None and a is None:
            return True
        if lo is None and a and hi:
            return bool(a <= hi)
        return False
    except TypeError:
        return ("crash", "TypeError")


def _has_bool(v: Any) -> bool:
    if type(v) is bool:
        return True
    if type(v) is list:
        return any(_has_bool(x) for x in v)
    if type(v) is dict:
        return any(_has_bool(x) for x in v.values())
    return False


@dataclass(frozen=True)
class LeafDifference:
    name: str
    reason: str
    # (kind, operand descriptors, gtcheck's answer, moto's answer) -> this explains it
    explains: Callable[[str, tuple, Answer, Answer], bool]


def _python_values(cause: str) -> Callable[[str, tuple, Answer, Answer], bool]:
    """moto answered what Python's operators give, for the given cause."""
    def explains(kind: str, ops: tuple, o: Answer, m: Answer) -> bool:
        if o not in (True, False) or m not in (True, False) or _moto_python(kind, ops) != m:
            return False
        vals = [_val(d) for d in ops]
        absent_or_null = any(v is MISSING or v is None for v in vals)
        if cause == "absent-is-null":
            return absent_or_null
        if cause == "bool-is-number":
            return not absent_or_null and any(_has_bool(v) for v in vals)
        return (not absent_or_null and not any(_has_bool(v) for v in vals)
                and kind in (*_ORDER, "between") and not all(av.comparable(v) for v in vals))
    return explains


def _const_type_unchecked(kind: str, ops: tuple, o: Answer, m: Answer) -> bool:
    if o != "rejected" or m not in (True, False):
        return False
    consts = [_val(d) for d in ops if d[0] == "const"]
    if kind in ("<", "<=", ">", ">=", "between"):
        return any(not av.comparable(c) for c in consts) or (
            kind == "between" and ops[1][0] == ops[2][0] == "const"
            and (av.type_of(consts[-2]) != av.type_of(consts[-1])
                 or av.compare(consts[-2], consts[-1]) == 1))
    if kind == "begins_with":
        return any(type(c) not in (str, bytes) for c in consts)
    return False


def _older_between(kind: str, ops: tuple, o: Answer, m: Answer) -> bool:
    return (kind == "between" and o in (True, False) and m in (True, False)
            and _moto_python(kind, ops) != m and _moto_between_older(ops) == m)


def _binary_substring(kind: str, ops: tuple, o: Answer, m: Answer) -> bool:
    if kind not in ("begins_with", "contains"):
        return False
    x, y = (_val(d) for d in ops)
    if type(x) is not bytes or type(y) is not bytes:
        return False
    hit = x.startswith(y) if kind == "begins_with" else y in x
    return hit and o is True and m is False


LAZY_VALIDATION = (
    "lazy-validation",
    "moto checks an operand's type only when it evaluates it, so a refused operand in a "
    "branch that AND/OR skips goes unnoticed; gtcheck refuses the request whatever the "
    "item, since the check concerns only the request's own constants (DynamoDB reports "
    "it as an invalid expression)")

LEAF_DIFFERENCES = [
    LeafDifference(
        "absent-is-null",
        "moto holds an absent attribute and NULL both as Python None, so for it absent = "
        "absent and absent = NULL hold and <> between them fails; DynamoDB: an absent "
        "attribute equals nothing and <> holds (Alternator's suite, checked on DynamoDB)",
        _python_values("absent-is-null")),
    LeafDifference(
        "bool-is-number",
        "moto compares with Python's operators, where true is 1 and false is 0 (also inside "
        "lists and maps); DynamoDB compares types first: a BOOL never equals or orders "
        "against a number (AWS: comparisons of different types are false)",
        _python_values("bool-is-number")),
    LeafDifference(
        "python-ordering-of-collections",
        "moto orders sets and lists with Python's operators (subset, lexicographic); "
        "DynamoDB's <, <=, >, >=, BETWEEN compare only numbers, strings and binaries and are "
        "false for other types (AWS; Alternator's suite)",
        _python_values("python-ordering-of-collections")),
    LeafDifference(
        "constant-type-unchecked",
        "moto does not refuse a constant of the wrong type in <, <=, >, >=, BETWEEN (not N, "
        "S or B; bounds of two types or out of order) or begins_with (not S or B); DynamoDB "
        "refuses the request (ValidationException; AWS, Alternator's suite)",
        _const_type_unchecked),
    LeafDifference(
        "between-by-truthiness",
        "moto releases without the NULL-bound check (5.2.1 is published in both forms) test "
        "BETWEEN's operands by Python truthiness: a zero value under test is false, an absent "
        "lower bound is no bound, absent is between absent and anything; DynamoDB: BETWEEN "
        "is lo <= x <= hi on typed values and false when an operand is absent (AWS)",
        _older_between),
    LeafDifference(
        "binary-substring",
        "moto's begins_with and contains ignore binary values (false); DynamoDB matches "
        "binary prefixes and substrings by bytes (AWS: begins_with and contains take S or B)",
        _binary_substring),
]


def _moto_crash_name(m: Answer) -> str | None:
    if isinstance(m, tuple) and m and m[0] == "crash":
        return {"TypeError": "ordering-across-types",
                "ValueError": "size-of-nothing",
                "AttributeError": "size-of-nothing",
                "InvalidOperation": "number-text"}.get(m[1], f"crash-{m[1]}")
    return None


# --------------------------------------------------------------------------- conditions
_PH = re.compile(r"[#:][A-Za-z0-9_]+")


def _subcase(case: Case, text: str) -> Case:
    used = set(_PH.findall(text))
    return Case(case.kind, case.item, text,
                {k: v for k, v in case.names.items() if k in used},
                {k: v for k, v in case.values.items() if k in used})


def _leaves(tree: tuple) -> list[tuple]:
    if tree[0] == "leaf":
        return [tree]
    return [x for sub in tree[1:] for x in _leaves(sub)]


def _combine(tree: tuple, answer: dict[str, Answer]) -> Answer:
    """moto's answer for the whole from its answers for the leaves: Python's and/or
    short-circuit, a crash in a branch it reaches is a crash."""
    kind = tree[0]
    if kind == "leaf":
        return answer[tree[1]]
    if kind == "paren":
        return _combine(tree[1], answer)
    if kind == "not":
        a = _combine(tree[1], answer)
        return a if isinstance(a, tuple) else (not a)
    a = _combine(tree[1], answer)
    if isinstance(a, tuple):
        return a
    if (kind == "and" and a is False) or (kind == "or" and a is True):
        return a
    return _combine(tree[2], answer)


def judge_condition(case: Case, moto: Any) -> str:
    o, why = ours(case)
    m = _norm(moto.run(case))
    if same(o, m):
        return f"agree:{o}"
    if o == "unknown":
        if "size" not in case.notes:
            raise AssertionError(f"gtcheck answers UNKNOWN for {case.text!r} without a "
                                 "size() of a non-ASCII string")
        return "gtcheck-unknown:size-of-non-ascii-string"
    crash = _moto_crash_name(m)
    if crash is not None:
        return f"moto-no-answer:{crash}"
    leaves = _leaves(case.tree)
    per_leaf: dict[str, Answer] = {}
    used: list[str] = []
    lazy_refusal = False
    for leaf in leaves:
        _, text, kind, ops = leaf
        sub = _subcase(case, text)
        lo, _ = ours(sub)
        lm = _norm(moto.run(sub))
        per_leaf[text] = lm
        if same(lo, lm):
            lazy_refusal = lazy_refusal or lo == "rejected"
            continue
        if _moto_crash_name(lm) is not None:
            lazy_refusal = lazy_refusal or lo == "rejected"
            continue          # a branch moto's whole answer may not even reach
        if lo == "unknown" and "size" in case.notes:
            continue          # size() of a non-ASCII string: no answer of gtcheck's to compare
        hit = [d.name for d in LEAF_DIFFERENCES if d.explains(kind, ops, lo, lm)]
        if not hit:
            raise AssertionError(
                f"undocumented difference on {text!r} (item {case.item!r}, names "
                f"{sub.names!r}, values {sub.values!r}): gtcheck {lo!r}, moto {lm!r}; in "
                f"{case.text!r}")
        used.append(hit[0])
    # moto refuses some operands when it parses (the whole is refused) and others only
    # when it evaluates them (a branch that and/or skips goes unnoticed)
    eager: Answer = "rejected" if "rejected" in per_leaf.values() else None
    lazy = _combine(case.tree, {k: (("crash", "rejected") if v == "rejected" else v)
                                for k, v in per_leaf.items()})
    if lazy == ("crash", "rejected"):
        lazy = "rejected"
    if not (same(lazy, m) or (eager is not None and same(eager, m))):
        raise AssertionError(
            f"moto's answer {m!r} for {case.text!r} is not what its answers for the "
            f"primitive conditions give ({lazy!r}; item {case.item!r})")
    if o == "rejected" and m in (True, False) and lazy_refusal:
        used.append(LAZY_VALIDATION[0])
    if not used:
        raise AssertionError(f"gtcheck {o!r} and moto {m!r} differ on {case.text!r} but "
                             f"agree on every primitive condition (item {case.item!r}, "
                             f"values {case.values!r}, leaves {per_leaf!r})")
    return "difference:" + "+".join(sorted(set(used)))


@dataclass(frozen=True)
class UpdateDifference:
    name: str
    reason: str
    # (case, gtcheck's answer, its reason, moto's raw answer) -> this explains it
    explains: Callable[[Case, Answer, str, Any], bool]


def _moto_message(m: Any) -> str:
    return m[1] if isinstance(m, tuple) and m[0] == "rejected" else ""


def _nested_remove(case: Case) -> bool:
    return bool(re.search(r"(?i)\bREMOVE\b[^=]*?[.\[]", case.text))


_MOTO_DECIMALS = Context(prec=28)      # Python's default context, which moto computes in


def _rounded_like_moto(o: Any, m: Any) -> bool:
    """moto's item is gtcheck's with some numbers rounded to 28 significant digits."""
    if type(o) is Decimal and type(m) is Decimal:
        return o != m and _MOTO_DECIMALS.plus(o) == m
    if type(o) is dict and type(m) is dict:
        return o.keys() == m.keys() and any(_rounded_like_moto(o[k], m[k]) for k in o) and all(
            av.equal(o[k], m[k]) or _rounded_like_moto(o[k], m[k]) for k in o)
    if type(o) is list and type(m) is list:
        return len(o) == len(m) and any(_rounded_like_moto(x, y) for x, y in zip(o, m)) and all(
            av.equal(x, y) or _rounded_like_moto(x, y) for x, y in zip(o, m))
    return False


def _numbers(v: Any) -> list[Decimal]:
    if type(v) is Decimal:
        return [v]
    if type(v) is dict:
        return [n for x in v.values() for n in _numbers(x)]
    if type(v) in (list, NumSet):
        return [n for x in v for n in _numbers(x)]
    return []


def _float_subtraction(c: Case, o: Any, why: str, m: Any) -> bool:
    """moto's ``a - b`` is computed in binary floating point when an operand has a decimal
    point (its DynamoType.__sub__ converts to float): the result may differ from the exact
    one by the rounding of the operands and of the difference, at most a few units in the
    53rd bit of the largest operand."""
    if "-" not in c.text or type(o) is not dict or type(m) is not dict or o.keys() != m.keys():
        return False
    scale = max((abs(n) for n in _numbers(c.values) + _numbers(c.item or {}) + _numbers(o)),
                default=Decimal(0))
    tol = scale * Decimal(2) ** -50
    diff = False
    for k in o:
        if av.equal(o[k], m[k]):
            continue
        if type(o[k]) is not Decimal or type(m[k]) is not Decimal or abs(o[k] - m[k]) > tol:
            return False
        diff = True
    return diff


def _resolve(path_node: tuple, names: dict[str, str]) -> tuple:
    return tuple(names.get(x, x) if k == "ph" else x for k, x in path_node[1])


def _moto_aliasing(case: Case, o: dict) -> dict | None:
    """moto's item when it copies by reference: after ``SET c = b`` (or ``c =
    if_not_exists(b, ...)`` with ``b`` present), an ADD or DELETE on the set ``b``, or an
    action inside the map or list ``b``, in the same expression changes ``c`` too (``b`` a
    top-level attribute, ``c`` any path)."""
    tree = parse_update(case.text)
    # what moto changes in place: a set by ADD or DELETE, a map or list by an action on a
    # path inside it
    changed = {_resolve(p, case.names) for p, _ in tree[3] + tree[4]}
    inside = [_resolve(p, case.names) for p in
              [t for t, _ in tree[1]] + list(tree[2]) + [t for t, _ in tree[3] + tree[4]]]
    changed |= {p[:1] for p in inside if len(p) > 1}
    item = case.item or {}

    def source(node: tuple) -> tuple | None:
        """The attribute whose object a SET value hands over as it is."""
        if node[0] == "path":
            return _resolve(node, case.names)
        if node[0] == "call" and node[1] == "if_not_exists" and len(node[2]) == 2:
            p = _resolve(node[2][0], case.names)
            return p if len(p) == 1 and p[0] in item else source(node[2][1])
        return None

    pred = copy.deepcopy(o)
    hit = False
    for target, value in tree[1]:
        t = _resolve(target, case.names)
        src = source(value)
        if src is None or len(src) != 1 or src not in changed:
            continue
        box: Any = pred
        for step in t[:-1]:
            box = box.get(step) if isinstance(box, dict) else (
                box[step] if isinstance(box, list) and isinstance(step, int)
                and step < len(box) else None)
        last = t[-1]
        if isinstance(box, dict) or (isinstance(box, list) and isinstance(last, int)
                                     and last < len(box)):
            hit = True
            if src[0] in o:
                box[last] = o[src[0]]
            elif isinstance(box, dict):
                box.pop(last, None)       # the set was emptied: moto's copy is empty too
    return pred if hit else None


def _aliased(c: Case, o: Any, why: str, m: Any) -> bool:
    if not isinstance(o, dict):
        return False
    moto_item = m[1] if isinstance(m, tuple) and m[0] == "empty-set-kept" else m
    pred = _moto_aliasing(c, o)
    return isinstance(moto_item, dict) and pred is not None and av.equal(pred, moto_item)


_CALL_IN_IF_NOT_EXISTS = re.compile(r"if_not_exists\([^(),]*,\s*[A-Za-z_]+\s*\(")

_CLAUSE = re.compile(r"(?i)(?<![#:\w])(SET|REMOVE|ADD|DELETE)(?!\w)")


def _clauses(text: str) -> list[str]:
    """The update expression's clauses as written (``REMOVE a[0]``, ``ADD b :v``), in order."""
    starts = [m.start() for m in _CLAUSE.finditer(text)]
    return [text[a:b].strip() for a, b in zip(starts, starts[1:] + [len(text)])]


def _clauses_in_order(c: Case, o: Any, why: str, m: Any) -> bool:
    """moto applies the clauses one after another as written, so after ``REMOVE a[0]`` the
    index of a later clause's ``a[1]`` is counted in the shortened list: moto's item is
    gtcheck's evaluator applying the clauses one at a time, in the order written (where that
    leaves an ADD's list index past the end, moto appends the value, as SET does; a
    DELETE's, it does nothing). gtcheck's answer may be a refusal: DynamoDB judges the
    operand against the element before the update (a number there, for DELETE of a set)."""
    if not isinstance(m, dict):
        return False
    parts = _clauses(c.text)
    removes = [i for i, p in enumerate(parts) if p.upper().startswith("REMOVE") and "[" in p]
    if not removes or removes[0] == len(parts) - 1:
        return False           # no list element removed before another clause
    item = c.item
    for p in parts:
        r, why_step = ours(Case("update", item, p, c.names, c.values))
        if r == "unknown" and "past the end" in (why_step or "") and p.upper().startswith("ADD"):
            # the REMOVE left the index past the end: moto's ADD there appends, as SET does
            add = re.fullmatch(r"(?i)ADD\s+(\S+)\s+(:\w+)", p)
            if add is None:
                return False
            r, _ = ours(Case("update", item, f"SET {add[1]} = {add[2]}", c.names, c.values))
        elif r == "unknown" and "past the end" in (why_step or "") and p.upper().startswith("DELETE"):
            r = item           # and its DELETE there does nothing
        if not isinstance(r, dict):
            return False
        item = r
    return av.equal(item, m)



UPDATE_DIFFERENCES = [
    UpdateDifference(
        "clauses-applied-in-order",
        "moto applies an update's clauses one after another as written, so after REMOVE a[0] "
        "a later clause's a[1] is counted in the shortened list; DynamoDB resolves every "
        "action against the item as it was before the update, list indexes included "
        "(Alternator's suite, checked on DynamoDB: REMOVE a[1] SET a[3] = :val on "
        "[2, 3, 4, 5, 6, 7] gives [2, 4, 17, 6, 7] whichever clause comes first; AWS: "
        "'DynamoDB evaluates every action against the item's attribute values as they were "
        "before the update')",
        _clauses_in_order),
    UpdateDifference(
        "dotted-name-overlaps",
        "moto takes an attribute named through #n as 'a.b' for the path a.b when it looks for "
        "overlapping paths, and refuses; DynamoDB reads such a name as one attribute whose "
        "name holds a dot (Alternator's suite, checked on DynamoDB)",
        lambda c, o, why, m: (o != "rejected" and "overlap" in _moto_message(m)
                              and any("." in n for n in c.names.values()))),
    UpdateDifference(
        "call-inside-if-not-exists",
        "moto's grammar takes no function call as if_not_exists's second operand (a syntax "
        "error); DynamoDB's does: if_not_exists(b, if_not_exists(c, :v)) works there "
        "(Alternator's suite, checked on DynamoDB)",
        lambda c, o, why, m: (o != "rejected" and bool(_CALL_IN_IF_NOT_EXISTS.search(c.text))
                              and 'Syntax error; token: "("' in _moto_message(m))),
    UpdateDifference(
        "aliasing",
        "moto copies a set, map or list by reference: after SET c = b, an ADD or DELETE on "
        "b, or an action inside b, in the same expression changes c too; DynamoDB evaluates "
        "every operand on the item as it was "
        "before the update (Alternator's suite: values are read before the SET writes); the "
        "copy of a set the DELETE emptied is left empty, which DynamoDB never stores",
        _aliased),
    UpdateDifference(
        "decimal-rounding",
        "moto computes + and - on decimals in Python's 28-digit context and rounds; "
        "DynamoDB computes exactly up to 38 significant digits (Alternator's suite: "
        "1 + 1e22 is exact on DynamoDB)",
        lambda c, o, why, m: isinstance(o, dict) and _rounded_like_moto(o, m)),
    UpdateDifference(
        "float-subtraction",
        "moto computes a - b in binary floating point when an operand has a decimal point "
        "(0.5 - 1E+16 gives -1E+16); DynamoDB computes exactly up to 38 significant digits",
        _float_subtraction),
    UpdateDifference(
        "remove-on-missing-item",
        "moto refuses REMOVE a.b on a missing item; DynamoDB ignores it (any REMOVE on a "
        "missing item is a no-op; Alternator's suite, checked on DynamoDB)",
        lambda c, o, why, m: (c.item is None and isinstance(o, dict) and _nested_remove(c)
                              and "document path" in _moto_message(m))),
    UpdateDifference(
        "key-read-is-key-write",
        "moto refuses an update that reads a key attribute (SET a = pk) as if it wrote it; "
        "DynamoDB allows reading key attributes (Alternator's suite, checked on DynamoDB)",
        lambda c, o, why, m: (isinstance(o, dict) and "part of the key" in _moto_message(m)
                              and "pk" in c.names.values())),
    UpdateDifference(
        "number-precision-unchecked",
        "moto computes + and ADD with Python ints or 28-digit decimals and stores the result "
        "whatever its size; DynamoDB refuses a result with more than 38 significant digits "
        "or outside 1E-130..9.99E+125 (ValidationException; Alternator's suite)",
        lambda c, o, why, m: (o == "rejected" and why.startswith("number overflow or precision")
                              and (isinstance(m, dict) or m == ("crash", "EncodingProblem")))),
    UpdateDifference(
        "path-through-non-container",
        "moto silently ignores SET/ADD a.b when a is not a map (or a[i] when a is not a "
        "list); DynamoDB refuses the request: the document path is invalid for update "
        "(Alternator's suite, checked on DynamoDB)",
        lambda c, o, why, m: (o == "rejected" and "document path provided" in why
                              and isinstance(m, dict))),
    UpdateDifference(
        "overlapping-paths-unchecked",
        "moto applies two actions on overlapping document paths (a and a.b, or one path "
        "named twice through #placeholders); DynamoDB refuses them (ValidationException: "
        "two document paths overlap; Alternator's suite)",
        lambda c, o, why, m: (o == "rejected" and why.startswith("two document paths")
                              and isinstance(m, dict))),
]


# where gtcheck's evaluator answers UNKNOWN for an update (docs/expressions.md): DynamoDB's
# behaviour there is not established, so there is nothing to compare
UPDATE_UNKNOWNS = [
    ("DELETE through a path", "delete-through-missing-parent"),
    ("ADD on a list element past the end", "add-past-the-end-of-a-list"),
    ("DELETE on a list element past the end", "delete-past-the-end-of-a-list"),
    ("DELETE emptying a set held in a list", "delete-emptying-a-set-in-a-list"),
    ("if_not_exists on a path through", "if-not-exists-through-a-non-container"),
]


def judge_update(case: Case, moto: Any) -> str:
    o, why = ours(case)
    raw = moto.run(case)
    m = _norm(raw)
    if same(o, m):
        return "agree:item" if isinstance(o, dict) else f"agree:{o}"
    if o == "unknown":
        for prefix, name in UPDATE_UNKNOWNS:
            if why and why.startswith(prefix):
                return f"gtcheck-unknown:{name}"
        raise AssertionError(f"gtcheck answers UNKNOWN for {case.text!r} for an "
                             f"undocumented reason: {why}")
    hit = [d.name for d in UPDATE_DIFFERENCES if d.explains(case, o, why or "", raw)]
    if hit:
        return f"difference:{hit[0]}"
    crash = _moto_crash_name(m)
    if crash is not None and crash != "crash-EncodingProblem":
        return f"moto-no-answer:{crash}"
    raise AssertionError(f"undocumented difference on {case.text!r} (item {case.item!r}, "
                         f"names {case.names!r}, values {case.values!r}): gtcheck {o!r} "
                         f"({why}), moto {moto.run(case)!r}")


def judge(case: Case, moto: Any) -> str:
    if case.kind == "condition":
        return judge_condition(case, moto)
    return judge_update(case, moto)
