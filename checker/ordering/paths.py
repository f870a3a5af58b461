"""Which path orders a key: the timestamp path when every ok write has a ``ts``, else the
solver path."""

from __future__ import annotations

import time
from collections import Counter

from gtcheck.checker.candidates import Candidates, Clock
from gtcheck.checker.operations import Header, Operation
from gtcheck.checker.ordering.key_order import KeyOrder
from gtcheck.checker.ordering.timestamps import has_all_ts, order_key_ts


def order_key(header: Header, ops: list[Operation], cands: Candidates, clock: Clock,
              timing: Counter, *, timeout_s: float,
              staleness_bound_ns: int | None) -> KeyOrder:
    """The timestamp path when every ok write of the key has a ``ts``, else the solver
    path (which answers ``unknown`` when its ``timeout_s`` of CPU runs out). Adds the CPU
    seconds to ``timing["order_s"]`` or ``timing["solve_s"]``."""
    if has_all_ts(ops):
        t = time.process_time()
        order = order_key_ts(header, ops, cands, clock)
        timing["order_s"] += time.process_time() - t
        return order
    from gtcheck.checker.ordering.solver.infer import infer_order   # z3 loads only if needed

    t = time.process_time()
    try:
        order = infer_order(header, ops, cands, timeout_s=timeout_s,
                            staleness_bound_ns=staleness_bound_ns)
    finally:
        timing["solve_s"] += time.process_time() - t
    timing["solver_keys"] += 1
    return order
