"""DynamoDB's ConditionExpression and UpdateExpression grammars: text -> syntax tree.

A hand-written recursive-descent parser (no parser-generator runtime). It knows only the
grammar: which placeholders exist, what values they hold and what an item contains are
the evaluator's business (``kernel/expressions.py``). A text that does not parse raises
:class:`ExprSyntaxError`; DynamoDB answers such a request with a ValidationException.

The grammar, as DynamoDB accepts it (keywords case-insensitive, function names
case-sensitive, whitespace free)::

    condition  := or
    or         := and (OR and)*
    and        := not (AND not)*
    not        := NOT not | primary
    primary    := '(' condition ')'                     -- '((c))' is refused as redundant
                | call                                  -- a boolean function
                | operand comparator operand
                | operand BETWEEN operand AND operand
                | operand IN '(' operand (',' operand)* ')'
    comparator := '=' | '<>' | '<' | '<=' | '>' | '>='
    operand    := path | ':value' | call                -- in conditions only size() is a value
    call       := NAME '(' [operand (',' operand)*] ')'
    path       := element ('.' element | '[' DIGITS ']')*
    element    := NAME | '#name'                        -- NAME: a letter, then letters, digits, _

    update     := clause+                               -- each of SET/REMOVE/ADD/DELETE once
    clause     := SET path '=' value (',' path '=' value)*
                | REMOVE path (',' path)*
                | ADD path operand (',' path operand)*
                | DELETE path operand (',' path operand)*
    value      := operand [('+' | '-') operand]         -- one '+' or '-' at most

Syntax trees are tuples (cheap to build, to walk and to cache):

* a path is ``("path", (step, ...))`` with steps ``("name", text)``, ``("ph", "#n")`` or
  ``("idx", int)``;
* a value placeholder ``("val", ":v")``; a call ``("call", name, (arg, ...))``;
* conditions ``("cmp", op, a, b)``, ``("between", a, lo, hi)``, ``("in", a, (b, ...))``,
  ``("and", x, y)``, ``("or", x, y)``, ``("not", x)``, ``("fn", call)``;
* updates ``("update", sets, removes, adds, deletes)`` with ``sets`` a tuple of
  ``(path, value)`` where a value is an operand or ``("+" | "-", a, b)``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["ExprSyntaxError", "ExprTooDeep", "parse_condition", "parse_update", "tokens"]

CACHE_SIZE = 4096     # distinct expression texts kept parsed (per process)
# parentheses, NOT and function calls nest at most this deep (gtcheck's limit: the parser and
# the evaluator recurse, and DynamoDB's expressions, 4 KB at most, never need more)
MAX_NESTING = 100


class ExprSyntaxError(ValueError):
    """The text is not a DynamoDB expression (DynamoDB: ValidationException)."""

    def __init__(self, message: str, position: int | None = None):
        self.message = message
        self.position = position
        super().__init__(message if position is None else f"{message} (at character {position + 1})")


class ExprTooDeep(ExprSyntaxError):
    """The text nests deeper than MAX_NESTING: gtcheck's limit, not DynamoDB's grammar (an
    evaluator says unknown; the emulator refuses the request)."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<name>\#[A-Za-z0-9_]+)
  | (?P<value>:[A-Za-z0-9_]+)
  | (?P<ident>[A-Za-z][A-Za-z0-9_]*)
  | (?P<int>[0-9]+)
  | (?P<op><>|<=|>=|[=<>()\[\],.+\-])
""", re.X)

_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_CLAUSES = frozenset({"SET", "REMOVE", "ADD", "DELETE"})

Token = tuple[str, str, int]     # (kind, text, position)


def tokens(text: str) -> list[Token]:
    """The tokens of ``text`` (whitespace dropped); raises :class:`ExprSyntaxError` on a
    character no token starts with."""
    out: list[Token] = []
    pos = 0
    n = len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            raise ExprSyntaxError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokens(text)
        self.i = 0
        self.depth = 0

    def nest(self) -> None:
        """One level deeper (a parenthesis, NOT, a call); refused past MAX_NESTING."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            t = self.peek()
            raise ExprTooDeep(f"the expression nests more than {MAX_NESTING} levels deep "
                                  "(parentheses, NOT, function calls)", t[2] if t else len(self.text))

    # -- token helpers
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at_op(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t[0] == "op" and t[1] == text

    def at_keyword(self, word: str) -> bool:
        t = self.peek()
        return t is not None and t[0] == "ident" and t[1].upper() == word

    def fail(self, what: str) -> ExprSyntaxError:
        t = self.peek()
        if t is None:
            return ExprSyntaxError(f"{what}, but the expression ends", len(self.text))
        return ExprSyntaxError(f"{what}, found {t[1]!r}", t[2])

    def expect_op(self, text: str) -> None:
        if not self.at_op(text):
            raise self.fail(f"expected {text!r}")
        self.i += 1

    def end(self) -> None:
        if self.peek() is not None:
            raise self.fail("expected the end of the expression")

    # -- operands
    def path(self) -> tuple:
        t = self.peek()
        if t is None or t[0] not in ("ident", "name"):
            raise self.fail("expected an attribute name or #name")
        steps: list[tuple] = [("ph", t[1]) if t[0] == "name" else ("name", t[1])]
        self.i += 1
        while True:
            if self.at_op("."):
                self.i += 1
                t = self.peek()
                if t is None or t[0] not in ("ident", "name"):
                    raise self.fail("expected an attribute name or #name after '.'")
                steps.append(("ph", t[1]) if t[0] == "name" else ("name", t[1]))
                self.i += 1
            elif self.at_op("["):
                self.i += 1
                t = self.peek()
                if t is None or t[0] != "int":
                    raise self.fail("expected a list index (digits) after '['")
                steps.append(("idx", int(t[1])))
                self.i += 1
                self.expect_op("]")
            else:
                return ("path", tuple(steps))

    def operand(self) -> tuple:
        t = self.peek()
        if t is None:
            raise self.fail("expected an operand")
        if t[0] == "value":
            self.i += 1
            return ("val", t[1])
        if t[0] == "ident" and self.at_op("(", 1):
            return self.call()
        if t[0] in ("ident", "name"):
            if t[0] == "ident" and t[1].upper() in ("AND", "OR", "NOT", "BETWEEN", "IN"):
                raise self.fail("expected an operand")
            return self.path()
        raise self.fail("expected an operand")

    def call(self) -> tuple:
        name = self.toks[self.i][1]
        self.i += 2                       # the name and '('
        args: list[tuple] = []
        if self.at_op(")"):
            self.i += 1
            return ("call", name, ())
        self.nest()
        while True:
            args.append(self.operand())
            if self.at_op(","):
                self.i += 1
                continue
            self.expect_op(")")
            self.depth -= 1
            return ("call", name, tuple(args))

    # -- conditions
    def condition(self) -> tuple[tuple, bool]:
        """(tree, is_a_parenthesised_group_alone)."""
        node, paren = self.conjunction()
        while self.at_keyword("OR"):
            self.i += 1
            rhs, _ = self.conjunction()
            node, paren = ("or", node, rhs), False
        return node, paren

    def conjunction(self) -> tuple[tuple, bool]:
        node, paren = self.negation()
        while self.at_keyword("AND"):
            self.i += 1
            rhs, _ = self.negation()
            node, paren = ("and", node, rhs), False
        return node, paren

    def negation(self) -> tuple[tuple, bool]:
        if self.at_keyword("NOT"):
            self.i += 1
            self.nest()
            node, _ = self.negation()
            self.depth -= 1
            return ("not", node), False
        return self.primary()

    def primary(self) -> tuple[tuple, bool]:
        if self.at_op("("):
            start = self.peek()
            self.i += 1
            self.nest()
            node, paren = self.condition()
            if paren:
                raise ExprSyntaxError("the expression has redundant parentheses",
                                      start[2] if start else None)
            self.expect_op(")")
            self.depth -= 1
            return node, True
        lhs = self.operand()
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] in _COMPARATORS:
            self.i += 1
            return ("cmp", t[1], lhs, self.operand()), False
        if self.at_keyword("BETWEEN"):
            self.i += 1
            lo = self.operand()
            if not self.at_keyword("AND"):
                raise self.fail("expected AND in BETWEEN")
            self.i += 1
            return ("between", lhs, lo, self.operand()), False
        if self.at_keyword("IN"):
            self.i += 1
            self.expect_op("(")
            items = [self.operand()]
            while self.at_op(","):
                self.i += 1
                items.append(self.operand())
            self.expect_op(")")
            return ("in", lhs, tuple(items)), False
        if lhs[0] == "call":
            return ("fn", lhs), False
        raise self.fail("expected a comparator, BETWEEN or IN after an operand")

    # -- updates
    def update(self) -> tuple:
        seen: set[str] = set()
        parts: dict[str, list[Any]] = {c: [] for c in _CLAUSES}
        if self.peek() is None:
            raise ExprSyntaxError("the expression can not be empty", 0)
        while self.peek() is not None:
            t = self.peek()
            word = t[1].upper() if t is not None and t[0] == "ident" else ""
            if word not in _CLAUSES:
                raise self.fail("expected SET, REMOVE, ADD or DELETE")
            if word in seen:
                raise ExprSyntaxError(f'the "{word}" section can only be used once in an '
                                      "update expression", t[2] if t else None)
            seen.add(word)
            self.i += 1
            while True:
                parts[word].append(self.action(word))
                if not self.at_op(","):
                    break
                self.i += 1
        return ("update", tuple(parts["SET"]), tuple(parts["REMOVE"]),
                tuple(parts["ADD"]), tuple(parts["DELETE"]))

    def action(self, clause: str) -> Any:
        path = self.path()
        if clause == "REMOVE":
            return path
        if clause == "SET":
            self.expect_op("=")
            a = self.operand()
            if self.at_op("+") or self.at_op("-"):
                op = self.toks[self.i][1]
                self.i += 1
                return (path, (op, a, self.operand()))
            return (path, a)
        return (path, self.operand())


@lru_cache(maxsize=CACHE_SIZE)
def parse_condition(text: str) -> tuple:
    """The syntax tree of a ConditionExpression (cached per distinct text)."""
    p = _Parser(text)
    if p.peek() is None:
        raise ExprSyntaxError("the expression can not be empty", 0)
    node, _ = p.condition()
    p.end()
    return node


@lru_cache(maxsize=CACHE_SIZE)
def parse_update(text: str) -> tuple:
    """The syntax tree of an UpdateExpression (cached per distinct text)."""
    p = _Parser(text)
    node = p.update()
    p.end()
    return node
