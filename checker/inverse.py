"""Updates run backwards: which items an update could have been applied to, to give an item.

The linearizability search (``checker.linsearch``) looks for the unknown-outcome updates
that turned one state into the state a read returned by going backwards from that read:
the last update must be able to produce it, and what it was applied to is the next target.
An *inverse* here answers, for one update and a target, the set of items it may have been
applied to, as patterns ``(value, wild, cons)`` (the items equal
to ``value`` outside the attributes ``wild``, with the constraints ``cons``). An inverse may
answer more than the truth (the search replays every run it finds forwards before using
it), never less.

Two kinds of change have one:

* rule 8's ``{"set", "remove", "add"}`` (:func:`rule8_preimages`);
* the UpdateExpression ``SET P = list_append(P, :c)`` and ``SET P = list_append(
  if_not_exists(P, :e), :c)``, with ``P`` one top-level attribute (what Porcupine's kv
  appends become, ``kernel.porcupine_kv``): the target's list at ``P`` must end with
  ``:c``'s elements, and the item before had the rest (or, with ``if_not_exists``, no ``P``
  when the rest is ``:e``).

Any other change has none (:func:`inverse_of` answers None) and the search runs forwards
through it.
"""

from __future__ import annotations

from typing import Any, Callable

from gtcheck.kernel.exactjson import canon
from gtcheck.kernel.items import Unknown, apply_change, exact, is_number, subtract_numbers

# A set of items is described by (value, wild, cons): the items equal to ``value`` outside
# the attributes ``wild``, with anything on them except that each (attribute, kind) of
# ``cons`` (a wild attribute) is absent or not a number (``nonnum``) / not a list
# (``nonlist``).
Pattern = tuple[dict, frozenset, tuple]
RULE8 = frozenset(("set", "remove", "add"))


class Inverse:
    """One update's change run backwards.

    ``preimages(pattern)``: the patterns of the items it may have been applied to, to give
    an item of ``pattern``. ``touches``: the attributes it may change. ``index``: an
    ``(attribute, kind, canonical value)`` that every item it produces has (``("=", v)``:
    the attribute equals v; ``("last", v)``: the attribute is a list ending with v), or None;
    see :func:`index_keys`. ``agrees(item)``: a quick necessary test that it produced
    ``item`` from some item."""

    __slots__ = ("preimages", "touches", "index", "agrees")

    def __init__(self, preimages: Callable[[Pattern], list[Pattern]], touches: frozenset,
                 index: tuple | None, agrees: Callable[[dict], bool]):
        self.preimages = preimages
        self.touches = touches
        self.index = index
        self.agrees = agrees


def index_keys(value: dict, wild: frozenset = frozenset()) -> set[tuple]:
    """The ``index`` entries an item (of a pattern) may be the product of."""
    out: set[tuple] = set()
    for k, v in value.items():
        if k in wild:
            continue
        out.add((k, "=", canon(v)))
        if isinstance(v, list) and v:
            out.add((k, "last", canon(v[-1])))
    return out


def inverse_of(change: Any) -> Inverse | None:
    """The inverse of an update's change (its invocation's value), or None."""
    if not isinstance(change, dict):
        return None
    if set(change) <= RULE8:
        return _rule8(change)
    if "expression" in change and set(change) <= {"expression", "names", "values"}:
        return _list_append(change)
    return None


def _rule8(change: dict) -> Inverse:
    sets = change.get("set")
    index = None
    later = set(change.get("remove") or ()) | set(change.get("add") or {})
    if isinstance(sets, dict):
        for k, v in sets.items():
            if k not in later:             # what set put there stays in every product
                index = (k, "=", canon(v))
                break
    return Inverse(lambda pat: rule8_preimages(pat[0], pat[1], pat[2], change),
                   frozenset(touched(change)), index,
                   lambda item: agrees_with_change(item, change))


def _list_append(change: dict) -> Inverse | None:
    from gtcheck.kernel.exprparse import ExprSyntaxError, parse_update

    expr, names, values = change.get("expression"), change.get("names") or {}, \
        change.get("values") or {}
    if not (isinstance(expr, str) and isinstance(names, dict) and isinstance(values, dict)):
        return None
    try:
        tree = parse_update(expr)
    except ExprSyntaxError:
        return None
    _, sets, removes, adds, deletes = tree
    if len(sets) != 1 or removes or adds or deletes:
        return None
    (target, value), = sets
    attr = _attribute(target, names)
    if attr is None or value[0] != "call" or value[1] != "list_append":
        return None
    first, second = value[2]
    if second[0] != "val" or not isinstance(values.get(second[1]), list):
        return None
    tail = values[second[1]]
    default: Any = _NONE
    if first[0] == "call" and first[1] == "if_not_exists":
        inner, dflt = first[2]
        if _attribute(inner, names) != attr or dflt[0] != "val" or \
                not isinstance(values.get(dflt[1]), list):
            return None
        default = values[dflt[1]]
    elif _attribute(first, names) != attr:
        return None
    tail_c = [canon(x) for x in tail]
    n = len(tail)

    def inverse(pat: Pattern) -> list[Pattern]:
        value, wild, cons = pat
        if attr in wild:
            return [pat]                      # anything there before: still anything
        got = value.get(attr)
        if not isinstance(got, list) or len(got) < n or \
                [canon(x) for x in got[len(got) - n:]] != tail_c:
            return []
        rest = got[:len(got) - n]
        out = [(dict(value, **{attr: rest}), wild, cons)]
        if default is not _NONE and canon(rest) == canon(default):
            out.append(({k: v for k, v in value.items() if k != attr}, wild, cons))
        return out

    def agrees(item: dict) -> bool:
        got = item.get(attr)
        return isinstance(got, list) and len(got) >= n and \
            [canon(x) for x in got[len(got) - n:]] == tail_c

    index = (attr, "last", tail_c[-1]) if tail else None
    return Inverse(inverse, frozenset((attr,)), index, agrees)


_NONE = object()


def _attribute(node: tuple, names: dict) -> str | None:
    """The attribute name of a path of one top-level name (``#v`` resolved), else None."""
    if node[0] != "path" or len(node[1]) != 1:
        return None
    kind, x = node[1][0]
    if kind == "name":
        return x
    if kind == "ph":
        name = names.get(x)
        return name if isinstance(name, str) else None
    return None

# --------------------------------------------------------------------------- rule 8
ABSENT = object()       # an attribute the item does not have
_NONNUM, _NONLIST = "nonnum", "nonlist"   # wildcards: absent, or anything but a number / list


def fits(v: Any, kind: str) -> bool:
    if v is ABSENT:
        return True
    return not is_number(v) if kind == _NONNUM else not isinstance(v, list)


def rule8_preimages(value: dict, wild: frozenset, cons: tuple, change: dict) -> list[Pattern]:
    """Rule 8 backwards: the items X with ``apply_change(X, change)`` in the set described by
    ``(value, wild, cons)``, as a list of such descriptions; empty when the change cannot
    have produced any of them.

    Exact for ``set``, ``remove``, list ``add`` and numeric ``add`` (exact decimals: the
    earlier value is the exact difference); a sum too long to compute makes the
    attribute's earlier value a wildcard, as does a constrained wildcard that the change
    touches: both only ever accept more."""
    sets = change.get("set") or {}
    removes = change.get("remove") or ()
    adds = change.get("add") or {}
    if not (isinstance(sets, dict) and isinstance(adds, dict)):
        return []
    overwritten = set(sets) | set(removes)
    try:
        fixed = apply_change({}, {"set": sets, "remove": list(removes),
                                  "add": {k: v for k, v in adds.items() if k in overwritten}})
    except Unknown:            # a sum too long to compute: what it fixes is not known
        return [({k: v for k, v in value.items() if k not in overwritten | set(adds)},
                 frozenset(wild) | overwritten | set(adds),
                 tuple(sorted((k, c) for k, c in cons if k not in overwritten | set(adds))))]
    touched = overwritten | set(adds)
    cons_of = dict(cons)
    # what the change fixes, whatever X was
    for k in overwritten:
        want = fixed.get(k, ABSENT)
        if k in wild:
            if k in cons_of and not fits(want, cons_of[k]):
                return []
            continue
        got = value.get(k, ABSENT)
        if (want is ABSENT) != (got is ABSENT) or \
                (want is not ABSENT and canon(want) != canon(got)):
            return []
    base = {k: v for k, v in value.items() if k not in touched}
    new_wild = set(wild) | overwritten
    new_cons = {k: c for k, c in cons_of.items() if k not in touched}
    options: list[list[tuple[str, Any]]] = [[]]      # per branch: pinned attributes of X
    for k, a in adds.items():
        if k in overwritten:
            continue
        if k in wild:
            kind = cons_of.get(k)
            if (kind == _NONNUM and is_number(a)) or (kind == _NONLIST and isinstance(a, list)):
                return []                  # the add leaves a number / a list there
            new_wild.add(k)
            continue
        got = value.get(k, ABSENT)
        if is_number(a):
            if got is ABSENT or not is_number(got):
                return []                  # a numeric add always leaves a number
            try:                           # exact for every number (items.add_numbers)
                branch = [(k, subtract_numbers(got, a))]
            except Unknown:
                new_wild.add(k)            # too long to compute: the earlier value is not pinned
                continue
            if exact(got) == exact(a):     # also from no number at all (counts as 0)
                options = [o + br for o in options for br in ([(k, 0)], [(k, _NONNUM)])]
                continue
            options = [o + branch for o in options]
        elif isinstance(a, list):
            if not isinstance(got, list):
                return []
            branches: list[tuple[str, Any]] = []
            for p in range(len(got) + 1):
                prefix = list(got[:p])
                grown = list(prefix)
                grown.extend(x for x in a if x not in grown)
                if canon(grown) == canon(got):
                    branches.append((k, prefix))
                    if p == 0:             # also from no list at all
                        branches.append((k, _NONLIST))
            if not branches:
                return []
            options = [o + [b] for o in options for b in branches]
        else:                              # apply_change ignores such an add
            if got is not ABSENT:
                base[k] = got
    out = []
    for o in options:
        x = dict(base)
        w = set(new_wild)
        c = dict(new_cons)
        for k, v in o:
            if v is _NONNUM or v is _NONLIST:
                w.add(k)
                c[k] = v
            else:
                x[k] = v
        out.append((x, frozenset(w), tuple(sorted(c.items()))))
    return out


def touched(change: Any) -> set[str]:
    if not isinstance(change, dict):
        return set()
    out: set[str] = set()
    for part in ("set", "add"):
        v = change.get(part)
        if isinstance(v, dict):
            out.update(v)
    v = change.get("remove")
    if isinstance(v, (list, tuple)):
        out.update(k for k in v if isinstance(k, str))
    return out


def agrees_with_change(value: Any, change: dict) -> bool:
    """True when ``value`` could be ``change`` applied to some version (see module doc)."""
    if not isinstance(value, dict) or not isinstance(change, dict):
        return False
    for k, v in (change.get("set") or {}).items():
        if k not in value or value[k] != v:
            return False
    for k in change.get("remove") or ():
        if k in value:
            return False
    for k, v in (change.get("add") or {}).items():
        if k not in value:
            return False
        cur = value[k]
        if is_number(v):
            if not is_number(cur):
                return False
        elif isinstance(v, list):
            if not isinstance(cur, list) or any(e not in cur for e in v):
                return False
    return True
