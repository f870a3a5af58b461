"""The search behind the linearizability register: Wing–Gong–Lowe with just-in-time
linearization of unknown outcomes.

:func:`checker.wgl.check_register` states one key's problem as a :class:`Problem` and
calls :func:`search`. The search is a depth-first walk over *configurations* (the set S of
completed operations linearized so far, the register's state, the set I of
unknown-outcome operations used), memoised as Lowe does (Porcupine's cache of
(linearized set, state)), with these reductions, each of which keeps every answer exact:

* **Real-time order is rule 1's, on any δ.** An operation may be linearized once every
  completed operation *certainly before* it is (a completion certainly before its
  invocation: more than δ earlier, or the same process earlier in the file). With δ > 0
  that order is not an interval order, so no list of call and return entries can encode
  it (Porcupine's list); each operation instead carries ``k`` (how many completed
  operations, counted in completion order, end certainly before it by time) and its
  process's previous completed operation. It is callable when the first ``k`` completions
  and that predecessor are linearized.
* **Completed operations drive the search; unknown outcomes are linearized just in time**
  (Lowe's JIT linearization). An ``info`` operation has no return, so it never forces
  anything: it is linearized only as part of a *run* placed right before the completed
  operation x that the run makes possible (a read that needs another state, a cas that
  needs its expected value, a conditional write whose condition does not hold yet). A
  valid linearization can always be rewritten into that form: a run before an operation
  that is already possible is either overwritten (every completed operation but a read
  sets a state that does not depend on the one before it; an ok update is the write of
  its post-image, rule 3) or, before a read, comes back to the same state, and can be
  dropped (an unknown outcome may never take effect); so can the part of a run after x
  became possible, and the part before an unconditional blind write in it.
* **Runs are searched backwards from what x needs** when x needs one exact state (a read's
  value, a cas's expected value): the last operation of the run must produce it (a write
  of that value, a cas to it, an update whose change can give it: rule 8 run backwards,
  ``checker.inverse``), which fixes what the operation before must produce, and so on
  until the current state fits. So a read of a list built by fifty unknown appends costs
  fifty steps, not the orders of fifty appends. Every run found is replayed forwards
  before it is used. A change the search cannot run backwards, and a condition to make
  true, are searched forwards (minimal runs, memoised).
* **Reads first.** A read that is callable and possible in the current state is linearized
  at once, without trying anything else first: a read changes nothing, so moving it
  earlier keeps any linearization valid.
* **Cheap configurations.** The callable operations not linearized yet are kept per
  configuration and updated as operations are linearized (not recomputed from the
  sets); reads and blind writes are answered by their kind, not by the item spec (only
  guarded operations and changes are replayed, memoised per state); the path to a
  configuration is shared with its parent's (the deepest one is kept without copying).
* **Unknown outcomes are interchangeable when equal**: of several callable ``info``
  operations with the same request, only the first is tried.
* **Subsumption**: a configuration is pruned when a visited one has the same S and state
  and used a subset of its unknown-outcome operations (it has every option this one has).

The result is exact: ``True`` with a linearization found, ``False`` when the walk is
exhausted (with the deepest configuration reached, for the explanation), or ``unknown``
past the CPU budget or the memory budget (memoised configurations).
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import chain
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from gtcheck.checker.inverse import ABSENT, fits
from gtcheck.kernel.exactjson import canon

READ, BLIND, GUARDED, CHANGE = range(4)
"""Kinds of operation, by how their result depends on the state they are applied to: a
read (identity), a blind write (a state of its own, always possible), a guarded one (a
state of its own, possible only in some states: cas, conditional writes), a change (an
update whose post-image is unknown: the result depends on the state)."""

Target = tuple[str, Any]    # ("=", state) or ("~", (value, wild, cons)): see _matches
_UNSEEN = object()          # not in an operation's memo yet


class OutOfBudget(Exception):
    """The search used up its CPU or memory budget (the answer is unknown)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Problem:
    """One key's operations as the search needs them (built by ``checker.wgl``).

    Completed operations are numbered by *rank*, their order of completion; unknown
    outcomes by their order of invocation. Operation ids (``gid``) index ``kind``,
    ``result``, ``guard``, ``sig`` and the ``apply`` function.

    ``apply`` must agree with the kinds, which the search trusts without asking it: a
    ``READ`` completed with an exact state in ``ok_need`` leaves that state unchanged and
    is impossible in any other; a ``BLIND`` operation gives ``result`` in every state
    (tests/checker/test_linearizability_reference.py checks this against the spec)."""

    apply: Callable[[int, Any], Any]        # (gid, state) -> new state or MISSING
    missing: Any                            # the sentinel apply returns
    memo: list[dict[Any, Any]]              # gid -> {state: what apply returned}
    values: dict[Any, Any]                  # state -> item
    kind: list[int]
    result: list[Any]                       # BLIND/GUARDED: the state the operation sets
    guard: list[Any]                        # GUARDED by an exact state (cas): it, else MISSING
    sig: list[Any]                          # equal requests, equal sig
    inverse: list[Any]                      # CHANGE: its inverse (checker.inverse), or None
    ok_gid: list[int]                       # rank -> gid
    ok_k: list[int]                         # rank -> completions certainly before it
    ok_prev: list[int]                      # rank -> rank of its process's previous ok op, -1
    ok_need: list[Any]                      # rank -> exact state it needs (read, cas), MISSING
    info_gid: list[int]                     # info id -> gid (by invocation)
    info_k: list[int]
    info_prev: list[int]


@dataclass
class Outcome:
    valid: bool | str
    steps: int = 0
    order: list[int] = field(default_factory=list)    # not linearizable: gids of the deepest
                                                       # linearization found
    stuck: int | None = None                           # gid of the operation it stuck at
    stuck_state: Any = None
    reason: str | None = None


class _Budget:
    __slots__ = ("steps", "deadline", "clock", "timeout_s", "max_visited", "visited")

    def __init__(self, deadline: float | None, clock: Callable[[], float],
                 timeout_s: float | None, max_visited: int):
        self.steps = 0
        self.deadline = deadline
        self.clock = clock
        self.timeout_s = timeout_s
        self.max_visited = max_visited
        self.visited = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps & 0x3FF == 0:
            self.check()

    def check(self) -> None:
        if self.deadline is not None and self.clock() > self.deadline:
            raise OutOfBudget(f"the linearizability search ran out of its "
                              f"{self.timeout_s:g} s budget")
        if self.visited > self.max_visited:
            raise OutOfBudget(f"the linearizability search visited more than "
                              f"{self.max_visited:,} states (memory budget)")


def _bits(z: int) -> Iterator[int]:
    while z:
        low = z & -z
        yield low.bit_length() - 1
        z ^= low


class _Search:
    def __init__(self, p: Problem, budget: _Budget):
        self.p = p
        self.budget = budget
        self.n_ok = len(p.ok_gid)
        order = sorted(range(self.n_ok), key=lambda r: (p.ok_k[r], r))
        self.by_k = order                              # k position -> rank
        k_sorted = [p.ok_k[r] for r in order]
        # kend[F + 1]: how many completed operations are callable once the first F
        # completions are linearized (their k is at most F), F = -1 .. n
        self.kend = [bisect_right(k_sorted, F) for F in range(-1, self.n_ok + 1)]
        self.info_k_sorted = p.info_k            # info ids are in k order already
        self.info_has_prev = any(x >= 0 for x in p.info_prev)
        # unknown outcomes whose change the search cannot run backwards
        self.no_inverse = sum(1 << u for u, g in enumerate(p.info_gid)
                              if p.kind[g] == CHANGE and p.inverse[g] is None)

    # ------------------------------------------------------------------ targets
    def _item(self, state: Any) -> Any:
        return None if state is None else self.p.values.get(state)

    def _matches(self, target: Target, state: Any) -> bool:
        tag, t = target
        if tag == "=":
            return state == t
        item = self._item(state)
        return _pattern_holds(t, item if isinstance(item, dict) else {})

    def _produces(self, target: Target, state: Any) -> bool:
        """Whether a blind/guarded operation setting ``state`` gives the target: the
        exact state, or one matching the pattern (a pattern describes the items that
        an update turns into its target; an update's own state is an item)."""
        tag, t = target
        if tag == "=":
            return state == t
        # no item (a delete's) is what an update turns into the same as {} (rule 8), as in
        # _matches; every candidate run is replayed forward before it is taken
        item = self._item(state)
        return _pattern_holds(t, item if isinstance(item, dict) else {})

    def _preimages(self, gid: int, target: Target) -> list[Target]:
        inverse = self.p.inverse[gid]
        tag, t = target
        if tag == "=":
            item = self._item(t)
            if not isinstance(item, dict):
                return []          # an update always leaves an item (a map)
            pats = inverse.preimages((item, frozenset(), ()))
        else:
            pats = inverse.preimages(t)
        return [("~", pat) for pat in pats]

    # ------------------------------------------------------------------ runs
    def _replay(self, chain: tuple[int, ...], state: Any) -> Any:
        apply, gid, missing = self.p.apply, self.p.info_gid, self.p.missing
        for u in chain:
            state = apply(gid[u], state)
            if state is missing:
                return missing
        return state

    def runs(self, x: int, state: Any, avail: int, need: Any) -> Iterator[tuple[tuple, Any]]:
        """Minimal runs of available unknown outcomes after which operation ``x`` (a gid)
        is possible: ``(info ids in order, the state they leave)``."""
        p = self.p
        if need is not p.missing and not avail & self.no_inverse:
            yield from self._backward(x, state, avail, ("=", need))
            return
        apply, missing = p.apply, p.missing
        yield from self._forward(state, avail, lambda st: apply(x, st) is not missing)

    def _backward(self, x: int, state: Any, avail: int, target: Target
                  ) -> Iterator[tuple[tuple, Any]]:
        p = self.p
        apply, missing, tick = p.apply, p.missing, self.budget.tick
        stack: list[tuple[Target, tuple, int]] = [(target, (), 0)]
        while stack:
            tick()
            tgt, chain, used = stack.pop()
            if chain and self._matches(tgt, state):
                st = self._replay(chain, state)
                if st is not missing and apply(x, st) is not missing:
                    yield chain, st
                    continue
            for u in self._distinct(avail & ~used):
                g = p.info_gid[u]
                k = p.kind[g]
                if k == CHANGE:
                    for pre in self._preimages(g, tgt):
                        stack.append((pre, (u,) + chain, used | (1 << u)))
                    continue
                if not self._produces(tgt, p.result[g]):
                    continue
                if k == BLIND:       # what came before it is overwritten
                    cand = (u,) + chain
                    st = self._replay(cand, state)
                    if st is not missing and apply(x, st) is not missing:
                        yield cand, st
                elif p.guard[g] is not missing:            # a cas: its expected state
                    stack.append((("=", p.guard[g]), (u,) + chain, used | (1 << u)))
                else:                                      # a condition to make true
                    rest = avail & ~used & ~(1 << u)
                    if apply(g, state) is not missing:
                        pres: list[tuple] = [()]
                    else:
                        pres = [c for c, _ in self._forward(
                            state, rest, lambda st, g=g: apply(g, st) is not missing)]
                    for pre in pres:
                        cand = pre + (u,) + chain
                        st = self._replay(cand, state)
                        if st is not missing and apply(x, st) is not missing:
                            yield cand, st

    def _distinct(self, avail: int) -> Iterator[int]:
        """The unknown outcomes of ``avail`` (info ids) but the later of equal ones: equal
        requests, both callable, are interchangeable from here on."""
        sig = self.p.sig
        seen: set[Any] = set()
        for u in _bits(avail):
            s = sig[u]
            if s not in seen:
                seen.add(s)
                yield u

    def _forward(self, state: Any, avail: int, goal: Callable[[Any], bool]
                 ) -> Iterator[tuple[tuple, Any]]:
        p = self.p
        apply, missing, tick = p.apply, p.missing, self.budget.tick
        stack: list[tuple[Any, tuple, int]] = [(state, (), 0)]
        seen = {(0, state)}
        while stack:
            tick()
            st, chain, used = stack.pop()
            for u in self._distinct(avail & ~used):
                new = apply(p.info_gid[u], st)
                if new is missing or new == st:
                    continue
                nu = used | (1 << u)
                if (nu, new) in seen:
                    continue
                seen.add((nu, new))
                c2 = chain + (u,)
                if goal(new):
                    yield c2, new
                else:
                    stack.append((new, c2, nu))

    # ------------------------------------------------------------------ the walk
    def _avail(self, S: int, I: int, F: int) -> int:
        p = self.p
        b = bisect_right(self.info_k_sorted, F)
        avail = ~I & ((1 << b) - 1)
        if self.info_has_prev and avail:
            for u in _bits(avail):
                q = p.info_prev[u]
                if q >= 0 and not (S >> q) & 1:
                    avail &= ~(1 << u)
        return avail

    def window(self, F: int, F2: int) -> tuple[int, ...]:
        """The completed operations (ranks) that become callable when the first
        unlinearized completion moves from ``F`` to ``F2`` (those with ``k`` in (F, F2])."""
        return tuple(self.by_k[self.kend[F + 1]:self.kend[F2 + 1]])

    def branches(self, S: int, F: int, win: tuple[int, ...], I: int, state: Any
                 ) -> Iterator[tuple]:
        """The moves from a configuration: ``(rank of the completed operation, the run of
        unknown outcomes before it, the state it meets, the state it leaves)``; rank -1
        moves one unknown outcome alone (only when some callable operation's result
        depends on the state). Operations possible right here come first (a possible read
        alone), earliest completion first; then the runs that make the others possible.

        A read with a value to match and a blind write are not asked of ``apply``: their
        kinds say what it would answer (a read leaves the state as it is when the state is
        the value it read, and is impossible otherwise; a blind write sets its ``result``
        whatever the state). Only guarded operations and changes go through ``apply``."""
        p = self.p
        missing, unseen = p.missing, _UNSEEN
        memo, apply, gids, kinds, prev = p.memo, p.apply, p.ok_gid, p.kind, p.ok_prev
        need, result = p.ok_need, p.result
        now: list[tuple] = []
        later: list[int] = []
        free = False
        for r in win:                      # the callable ones not linearized yet
            q = prev[r]
            if q >= 0 and not (S >> q) & 1:
                continue
            g = gids[r]
            k = kinds[g]
            if k == BLIND:
                now.append((r, (), state, result[g]))
                continue
            if k == READ:
                nd = need[r]
                if nd is not missing:
                    if state == nd:
                        return iter(((r, (), state, state),))
                    later.append(r)
                    continue
            new = memo[g].get(state, unseen)
            if new is unseen:
                new = apply(g, state)
            if new is missing:
                later.append(r)
                continue
            if k == READ:
                return iter(((r, (), state, new),))
            if k == CHANGE:
                free = True
            now.append((r, (), state, new))
        if len(now) > 1:
            now.sort()
        if not later and not free:
            return iter(now)
        if len(later) > 1:
            later.sort()
        return chain(now, self._later(S, I, F, state, later, free))

    def _later(self, S: int, I: int, F: int, state: Any, later: list[int], free: bool
               ) -> Iterator[tuple]:
        p = self.p
        apply, missing = p.apply, p.missing
        avail = self._avail(S, I, F) if p.info_gid else 0
        if not avail:
            return
        for r in later:
            g = p.ok_gid[r]
            for run, st in self.runs(g, state, avail, p.ok_need[r]):
                yield r, run, st, apply(g, st)
        if free:
            for u in _bits(avail):
                new = apply(p.info_gid[u], state)
                if new is not missing and new != state:
                    yield -1, (u,), state, new

    def walk(self, init: Any) -> Outcome:
        p = self.p
        n = self.n_ok
        full = (1 << n) - 1
        if n == 0:
            return Outcome(valid=True)
        budget = self.budget
        window = self.window
        seen: dict[tuple[int, Any], Any] = {}
        # a frame: [S, F (its first unlinearized completion), the callable operations not
        # linearized yet, I, state, branches, the path of moves that led here (the last
        # move (rank, run), the path before it), its last move's size]
        win0 = window(-1, 0)
        stack: list[list[Any]] = [[0, 0, win0, 0, init, self.branches(0, 0, win0, 0, init),
                                   None, 0]]
        best_depth = -1
        best: tuple[Any, Any, int] | None = None
        depth = 0
        steps = visited = 0
        try:
            while stack:
                steps += 1
                if steps & 0x3FF == 0:
                    budget.visited = visited
                    budget.check()
                fr = stack[-1]
                try:
                    r, run, st, new = next(fr[5])
                except StopIteration:
                    if depth > best_depth:
                        best_depth = depth
                        best = (fr[6], fr[4], fr[1])
                    stack.pop()
                    depth -= fr[7]
                    continue
                S, F, win, I = fr[0], fr[1], fr[2], fr[3]
                if r < 0:
                    S2, F2, win2 = S, F, win
                else:
                    S2 = S | (1 << r)
                    i = win.index(r)
                    win2 = win[:i] + win[i + 1:]
                    if r == F:
                        F2 = ((S2 + 1) & ~S2).bit_length() - 1
                        win2 += window(F, F2)
                    else:
                        F2 = F
                key = (S2, new)
                I2 = I
                for u in run:
                    I2 |= 1 << u
                # subsumption: each (S, state) keeps the minimal sets of unknown outcomes
                # used (one int, or a list when several are incomparable); with no unknown
                # outcome every set is 0 and this is Lowe's plain cache
                m = seen.get(key)
                if m is None:
                    seen[key] = I2
                elif m.__class__ is int:
                    if m & ~I2 == 0:
                        continue
                    seen[key] = I2 if I2 & ~m == 0 else [m, I2]
                else:
                    if any(x & ~I2 == 0 for x in m):
                        continue
                    m[:] = [x for x in m if I2 & ~x] + [I2]
                visited += 1
                if S2 == full:
                    return Outcome(valid=True, steps=steps + budget.steps)
                size = len(run) + (r >= 0)
                stack.append([S2, F2, win2, I2, new, self.branches(S2, F2, win2, I2, new),
                              ((r, run), fr[6]), size])
                depth += size
        except OutOfBudget as exc:
            return Outcome(valid="unknown", steps=steps + budget.steps, reason=exc.reason)
        assert best is not None
        path, state, F = best
        moves = []
        while path is not None:
            moves.append(path[0])
            path = path[1]
        moves.reverse()
        return Outcome(valid=False, steps=steps + budget.steps, order=self._gids(moves),
                       stuck=p.ok_gid[F] if F < n else None, stuck_state=state)

    def _gids(self, moves: list) -> list[int]:
        out: list[int] = []
        for r, run in moves:
            out.extend(self.p.info_gid[u] for u in run)
            if r >= 0:
                out.append(self.p.ok_gid[r])
        return out


def _pattern_holds(pat: Any, item: dict) -> bool:
    """Whether ``item`` is in the set ``(value, wild, cons)`` describes (see
    ``checker.inverse``): equal to ``value`` outside the attributes ``wild``, each
    constrained wild attribute absent or of the allowed kind."""
    value, wild, cons = pat
    for k, v in value.items():
        if k in wild:
            continue
        if k not in item or canon(item[k]) != canon(v):
            return False
    for k in item:
        if k not in value and k not in wild:
            return False
    for k, kind in cons:
        if not fits(item.get(k, ABSENT), kind):
            return False
    return True


def search(p: Problem, init: Any, *, deadline: float | None, clock: Callable[[], float],
           timeout_s: float | None, max_visited: int) -> Outcome:
    """Run the search; see the module doc."""
    return _Search(p, _Budget(deadline, clock, timeout_s, max_visited)).walk(init)
