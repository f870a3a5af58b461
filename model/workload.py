"""What clients ask for: which key, which kind of request, with which payload.

Every item version the model writes carries a unique ``rev`` attribute, so that every
version of a key is distinguishable, as the history format's rule 4 requires; the other
attributes (``a``, ``b``, the counter ``n``) are what the workload changes.
"""

from __future__ import annotations

import bisect
import itertools
import random
from typing import Any

from gtcheck.model.scenario import MIX_KINDS, Workload


class KeyChooser:
    """Uniform or Zipf-skewed choice among ``k0 .. k{n-1}``."""

    def __init__(self, workload: Workload):
        n = workload.keys
        width = len(str(n - 1))
        self.keys = [f"k{i:0{width}d}" for i in range(n)]
        self.cum: list[float] | None = None
        if workload.zipf > 0:
            weights = [1.0 / (i + 1) ** workload.zipf for i in range(n)]
            self.cum = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> str:
        if self.cum is None:
            return self.keys[int(rng.random() * len(self.keys))]
        return self.keys[bisect.bisect_left(self.cum, rng.random() * self.cum[-1])]


class MixChooser:
    def __init__(self, workload: Workload):
        kinds = [k for k in MIX_KINDS if workload.mix.get(k, 0) > 0]
        self.kinds = kinds
        self.cum = list(itertools.accumulate(workload.mix[k] for k in kinds))

    def pick(self, rng: random.Random) -> str:
        return self.kinds[bisect.bisect_left(self.cum, rng.random() * self.cum[-1])]


def below_1000(rng: random.Random) -> int:
    """rng.randrange(1000), inlined (random.py's _randbelow: the same draws)."""
    r = rng.getrandbits(10)
    while r >= 1000:
        r = rng.getrandbits(10)
    return r


def new_item(rev: int, rng: random.Random) -> dict[str, Any]:
    return {"rev": rev, "a": below_1000(rng), "b": below_1000(rng)}


def update_change(rev: int, rng: random.Random) -> dict[str, Any]:
    """A change to some attributes (the rest of the item is kept)."""
    if rng.random() < 0.2:
        return {"set": {"rev": rev}, "remove": ["b"]}
    return {"set": {"rev": rev, "a": below_1000(rng)}}


def increment_change(rev: int) -> dict[str, Any]:
    return {"set": {"rev": rev}, "add": {"n": 1}}


def tag(req: dict[str, Any], rev: int) -> int:
    """Give the item a scripted request writes a fresh ``rev`` (rule 4: versions are
    distinguishable), in place; returns the last revision handed out."""
    f: str = req["f"]
    value: Any = req.get("value")
    if f == "write" and isinstance(value, dict):
        rev += 1
        req["value"] = {**value, "rev": rev}
    elif f == "update":
        rev += 1
        req["value"] = {**value, "set": {**(value.get("set") or {}), "rev": rev}}
    elif f == "cas":
        rev += 1
        req["value"] = [value[0], {**value[1], "rev": rev}]
    return rev
