"""The answer an application invariant gives when it cannot decide (its own module: the
invariants and the run that judges them both need it, and neither imports the other)."""

from __future__ import annotations


class Unknown(str):
    """What an invariant returns when it cannot decide on this run (it needs something the
    history does not give: a recording has no ground truth, a history without final reads
    no final state): ``return Unknown("why")``. Not a violation, and not shown to hold."""
