"""The exhaustive enumeration the tests' brute-force linearizability references share.

A history is linearizable when all of its completed operations and some subset of its
unknown-outcome ones can be put in one order its sequential specification accepts. Each
reference (a register, Porcupine's strings, an atomic multi-register) writes its own
``legal`` (real-time order and specification); the enumeration is written once, here.
"""

from __future__ import annotations

import itertools
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")


def some_order(must: Sequence[T], maybe: Sequence[T],
               legal: Callable[[tuple[T, ...]], bool]) -> bool:
    """Whether ``legal`` accepts some order of ``must`` plus some subset of ``maybe``."""
    for r in range(len(maybe) + 1):
        for extra in itertools.combinations(maybe, r):
            for seq in itertools.permutations([*must, *extra]):
                if legal(seq):
                    return True
    return False
