"""Monte Carlo of the model's visibility: when does a read see a write?

For one write, completed at time 0 in region A, and one read invoked at t >= 0 in region
B, the model decides the read's outcome by a race between the write's arrival at the copy
(or copies) that serve the read and the read's arrival there. Each trial of this module
draws every latency of that race once and returns the read's *visibility threshold* V:
the read is fresh (returns the write, or something newer) exactly when t >= V. So
P(fresh at t) = P(V <= t), the t for a probability p is V's p-quantile (at least 0), and
one vector of thresholds answers every t at once.

Two in-region models, the scenario's choice:

* **the simulator's** (no ``[regions.messages]``), exactly as ``model/simulator.py``
  carries it out: the write is held by its region's leader and ``write_quorum - 1``
  followers when it completes, and by each other follower ``copy_lag`` later (capped at
  1 s); another region's leader receives it ``replication.delay`` (that link's; capped at
  15 s) after completion and each follower there ``copy_lag`` later. The read reaches its
  region ``request_latency`` after it is invoked and is served by the leader (strongly
  consistent) or by a copy chosen uniformly (eventually consistent). In strong mode a
  strongly consistent read returns the latest acknowledged write: always fresh.
* **PBS's WARS** (``[regions.messages]``): the write's coordinator sends it to every copy
  (W) and completes when ``write_quorum`` acknowledgements (A) are back; the read's
  coordinator asks every copy (R) and uses the first ``read_quorum`` answers (S), or
  ``copies - write_quorum + 1`` for a strongly consistent read (a quorum that meets every
  write quorum); the read is fresh when one of the copies it uses held the write when
  the read reached it. Another region's coordinator receives the write
  ``replication.delay`` after completion and sends it to its copies (W). The client sits
  at the coordinator, as in PBS (``request_latency`` is not used).

What no trial models (the simulator does): other writes of the item (per-link order,
coalescing), faults, clock offsets. Forecasts describe a healthy table and one write at
a time; docs/forecast.md says when that matters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gtcheck.forecast.sampling import capped, draw
from gtcheck.model.choices import MAX_COPY_LAG_NS, MAX_REPLICATION_DELAY_NS
from gtcheck.model.scenario import Scenario

EVENTUAL, STRONG = "eventual", "strong"
KINDS = (EVENTUAL, STRONG)
ALWAYS = -np.inf          # a threshold below every t: the read is always fresh
CHUNK = 1 << 17           # trials drawn at once (bounds memory with many copies)


@dataclass(frozen=True)
class Case:
    """One curve: the table's mode, the write's region, the read's region and kind."""

    mode: str
    writer: str
    reader: str
    kind: str

    @property
    def label(self) -> str:
        return f"{self.writer} -> {self.reader}, {self.kind} read, {self.mode} mode"


def thresholds(scenario: Scenario, case: Case, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` visibility thresholds (ns, float64; ``-inf``: always fresh) for ``case``."""
    if case.mode == STRONG and case.kind == STRONG:
        return np.full(n, ALWAYS)     # MRSC: a strong read returns the latest acknowledged write
    one = _classic if scenario.messages is None else _wars_scenario
    parts = []
    left = n
    while left > 0:
        k = min(CHUNK, left)
        parts.append(one(scenario, case, k, rng))
        left -= k
    return np.concatenate(parts) if parts else np.empty(0)


def _lag(scenario: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
    return capped(scenario.copy_lag, rng, n, MAX_COPY_LAG_NS)


def _classic(scenario: Scenario, case: Case, n: int, rng: np.random.Generator) -> np.ndarray:
    copies, quorum = scenario.copies, scenario.write_quorum
    latency = draw(scenario.request_latency, rng, n)            # invocation -> served
    if case.writer == case.reader:
        if case.kind == STRONG:
            return np.full(n, ALWAYS)                            # the leader holds it
        copy = rng.integers(0, copies, n)
        held = _lag(scenario, rng, n)                            # a follower outside the quorum
        return np.where(copy < quorum, ALWAYS, held - latency)
    delay = capped(scenario.delay(case.writer, case.reader), rng, n, MAX_REPLICATION_DELAY_NS)
    if case.kind == STRONG:
        return delay - latency
    copy = rng.integers(0, copies, n)
    follower = _lag(scenario, rng, n)
    return delay + np.where(copy == 0, 0.0, follower) - latency


def _per_copy(dist, rng: np.random.Generator, n: int, copies: int) -> np.ndarray:
    return draw(dist, rng, n * copies).reshape(n, copies)


def _wars_scenario(scenario: Scenario, case: Case, n: int, rng: np.random.Generator) -> np.ndarray:
    m = scenario.messages
    assert m is not None
    c, wq = scenario.copies, scenario.write_quorum
    if case.writer == case.reader:
        held = commit_wars(_per_copy(m.write, rng, n, c), _per_copy(m.ack, rng, n, c), wq)
    else:
        delay = capped(scenario.delay(case.writer, case.reader), rng, n, MAX_REPLICATION_DELAY_NS)
        held = delay[:, None] + _per_copy(m.write, rng, n, c)
    rq = scenario.read_quorum if case.kind == EVENTUAL else c - wq + 1
    return wars(held, _per_copy(m.read, rng, n, c), _per_copy(m.response, rng, n, c), rq)


def wars(held: np.ndarray, read: np.ndarray, response: np.ndarray, read_quorum: int) -> np.ndarray:
    """PBS's read rule, per trial (rows) over copies (columns): ``held[i, c]`` is when copy
    c holds the write (relative to its completion), ``read``/``response`` the read's two
    messages. The read uses the ``read_quorum`` copies that answer first (by read +
    response) and is fresh at t when one of them held the write when the read reached it:
    ``held <= t + read``. The threshold is the smallest such t."""
    first = np.argsort(read + response, axis=1, kind="stable")[:, :read_quorum]
    return np.take_along_axis(held - read, first, axis=1).min(axis=1)


def commit_wars(write: np.ndarray, ack: np.ndarray, write_quorum: int) -> np.ndarray:
    """When each copy holds the write, relative to its completion: the completion is the
    ``write_quorum``-th acknowledgement back at the coordinator (write + ack)."""
    committed = np.sort(write + ack, axis=1)[:, write_quorum - 1]
    return write - committed[:, None]
