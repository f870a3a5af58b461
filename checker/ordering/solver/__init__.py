"""Conflict-order inference for keys whose writes lack timestamps (rules 2 and 5).

:func:`.infer.infer_order` picks, for one key, an admissible conflict order of the writes
and what each read saw, choosing by rule 5 of the history format: (a) convergence if any
order gives it, then (b) read-after-write if any such order gives it, then (c) the smallest
largest staleness. It never guesses: a solver timeout makes the key ``unknown``.

The modules, bottom up:

* :mod:`.context` -- the key as the solver sees it: writes, reads, candidates, rule 1 and
  rule 2 predicates, writes sorted by completion;
* :mod:`.segments` -- the key split into independent segments, each with the auxiliary
  "max" nodes of its prefix sequences and sparse tables;
* :mod:`.graphs` -- topological sort, conflicting guard sets, strongly connected
  components, one cycle;
* :mod:`.engines` -- the two z3 engines (full integer encoding; lazy, with the precedence
  graph as theory);
* :mod:`.requirements` -- a segment's requirements under one convergence mode, the
  questions asked of them and the staleness search;
* :mod:`.explain` -- contradictions in words; :mod:`.infer` -- the driver.

Encoding (docs/solver.md describes it for users)
------------------------------------------------
Every requirement is a precedence "u below v" between *nodes*: the writes, plus auxiliary
"max" nodes standing for a set of writes (a prefix or a range of the writes sorted by
completion time). An aux node ``M`` gets ``pos[w] <= pos[M]`` for each member ``w``;
"every write of the set is below ``c``" is then the single constraint ``pos[M] < pos[c]``.
Prefix nodes form a chain (``P_k >= P_{k-1}``, ``P_k >= w_k``) and ranges use a lazily
built sparse table, so no requirement ever costs more than a few constraints and nothing
is quadratic. Each requirement is an *item* ``(u, v, tag, guards)``: it holds when all its
guard literals hold. Guards are the read's choice among its candidates (``x``), an info
write taking effect (``eff``), the convergence target (``conv``) and per-property
assumption literals (``raw``, ``st``) used to obtain unsat cores.

* When no read has a choice left (after dominance pruning), the items form a plain
  precedence graph: a topological sort decides it and a cycle *is* the contradiction.
* Otherwise z3 decides it. Small segments use the full encoding: integer ``pos`` per node
  (difference logic), Booleans for the guards, one ``check`` with assumptions per question,
  staleness bounds pushed/popped. Large segments (more than ``engines.INT_NODE_LIMIT``
  nodes, where z3's arithmetic needs minutes) use the lazy engine: z3 searches the Booleans
  only, each proposal is checked by a topological sort of the precedence graph, and each
  cycle found comes back as a learned clause; it answers the same questions with the same
  cores.

The largest staleness is minimised by binary search over bounds ``B``: a bound adds, for
every read ``r`` and every ok write ``w`` completed certainly before ``r`` with
``r.invoke - w.complete > B``, the item "w below saw(r) unless w is saw(r)". Each
satisfiable probe yields an order whose actual largest staleness (computed exactly) becomes
the new upper bound; each unsatisfiable probe moves the lower bound to the next distinct
gap value, so the search only visits values that matter.

Rule 10: real-time constraints that the recorded timestamps contradict (a chain of them
from a timestamped write to one with a smaller ``(ts, origin)`` through untimed writes) are
found first (:mod:`gtcheck.checker.ordering.inversions`) and left out: the writes they
start from ("tainted") are kept out of the shared prefix sequences and get their remaining
constraints one by one, and dominance pruning then relies on timestamps only.
"""
