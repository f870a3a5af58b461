"""What the checker established about a history: the facts an application invariant may
rely on when there is no ground truth.

A run of the model comes with its ground truth (which writes reached which region, and
when); a recording of a real application has none. Both have a history, and the checker
judges any history the same way, so an invariant written against what the checker
established runs unchanged in ``gtcheck search``/``explore`` (model runs) and in
``gtcheck check --invariant`` (recordings). :class:`Established` holds those facts:

* ``order``: per key, the writes that took effect, in the conflict order the checker chose
  (rule 5: ``ts`` order, or the solver's where writes lack ``ts``); keys it could not order
  are in ``unordered`` and absent from ``order``;
* ``rank``: each of those writes' place in its key's order (larger wins);
* ``acknowledged``: every ``ok`` write (also the ones of unordered keys);
* ``saw``: for each read the checker judged, the write whose version it returned (``None``:
  the initial state, or no write the checker could name);
* ``final_versions``: per key and region, the write whose version the region's final reads
  returned (``None``: absent); only for histories with final reads (``settled_after_ns``);
* ``lost``: the acknowledged writes rule 12 names lost, each with the write it was lost to;
  ``lost_undecided``: how many keys' surviving chains rule 12 could not follow to the end
  (an expression it cannot evaluate): writes on those keys may be lost unnamed.

Everything comes from one check of the history (``check_history`` with ``keep_reads`` and
``keep_writes``), so the facts are the verdict's own, never a second opinion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gtcheck.checker.check import CheckResult, check_history
from gtcheck.checker.props.base import REGISTER_HISTORY

ANOMALY_LIMIT = 1 << 62      # every lost write named, not the first thousand
NEEDED = ("convergence", "lost_writes")    # order, final versions, reads' versions, rule 12


@dataclass(frozen=True)
class Write:
    """An acknowledged or possibly applied write: its invocation's index, key, region, real
    times and place in the key's conflict order (``None``: took no effect, or the key could
    not be ordered)."""

    index: int
    key: str
    region: str
    process: Any
    invoke_ns: int
    complete_ns: int | None
    ok: bool
    rank: int | None


@dataclass(frozen=True)
class Lost:
    """A write rule 12 names lost: ``write`` survives nowhere, because ``lost_to`` was
    applied to ``base`` (``None``: the initial state), a version older than it."""

    key: str
    write: int
    lost_to: int
    base: int | None
    write_region: str
    lost_to_region: str
    inferred: bool            # the key's order was inferred (writes without ts)
    reconstructed: bool       # equal values: which write is named is a reconstruction


@dataclass
class Established:
    order: dict[str, list[int]] = field(default_factory=dict)
    unordered: set[str] = field(default_factory=set)
    rank: dict[int, int] = field(default_factory=dict)
    writes: dict[int, Write] = field(default_factory=dict)
    saw: dict[int, int | None] = field(default_factory=dict)
    final_versions: dict[str, dict[str, int | None]] = field(default_factory=dict)
    lost: list[Lost] = field(default_factory=list)
    lost_undecided: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def acknowledged(self) -> list[Write]:
        """The ``ok`` writes, by invocation index."""
        return [w for _, w in sorted(self.writes.items()) if w.ok]

    def lost_on(self, key: str) -> list[Lost]:
        return [lw for lw in self.lost if lw.key == key]

    def version_rank(self, read_index: int, result: Any) -> int | None:
        """The rank of the version a read returned: its write's rank, ``-1`` for the initial
        state (a read that returned nothing and saw no write), ``None`` when not known."""
        if read_index not in self.saw:
            return None
        w = self.saw[read_index]
        if w is None:
            return -1 if result is None else None
        return self.rank.get(w)


def from_result(result: CheckResult) -> Established | None:
    """The facts of a check made with ``keep_reads``, ``keep_writes`` and lost writes judged
    with no limit on the anomalies kept; ``None`` when ``result`` lacks any of them."""
    s = result.summary
    lw = s.get("lost_writes") or {}
    if result.writes is None or result.reads is None:
        return None
    if lw.get("checked") is False and lw.get("reason") != REGISTER_HISTORY:
        return None          # not judged in this check (another --property was asked for)
    figures = lw.get("figures") or {}
    anomalies = lw.get("anomalies") or []
    if len(anomalies) != figures.get("lost_writes", 0):
        return None          # the anomaly limit cut the list: not every lost write is named
    out = Established(summary=s)
    out.unordered = {u["key"] for u in s.get("unknown_keys") or ()}
    for w in result.writes:
        rank = None if w.key in out.unordered else w.rank
        out.writes[w.index] = Write(w.index, w.key, w.region, w.process, w.invoke_ns, w.complete_ns,
                                    w.outcome == "ok", rank)
        if rank is not None:
            out.rank[w.index] = rank
    by_key: dict[str, list[int]] = {}
    for i, r in sorted(out.rank.items(), key=lambda kv: kv[1]):
        by_key.setdefault(out.writes[i].key, []).append(i)
    out.order = dict(sorted(by_key.items()))
    for r in result.reads:
        out.saw[r.index] = r.saw
    out.final_versions = dict(result.final_state or {})
    for a in anomalies:
        d = a.get("details") or {}
        out.lost.append(Lost(a["key"], d["write"], d["lost_to"], d.get("base"),
                             d.get("write_region", ""), d.get("lost_to_region", ""),
                             bool(d.get("inferred")), bool(d.get("reconstructed"))))
    out.lost.sort(key=lambda lw: lw.write)
    out.lost_undecided = int(figures.get("chains_stopped_undecided", 0) or 0)
    return out


def establish(path: str, *, timeout_s: float = 30.0) -> Established:
    """Check the history at ``path`` for the facts (the properties they come from only)."""
    result = check_history(path, jobs=1, timeout_s=timeout_s, keep_reads=True, keep_writes=True,
                           anomaly_limit=ANOMALY_LIMIT, properties=NEEDED)
    out = from_result(result)
    assert out is not None, "a check made for the facts has them all"
    return out
