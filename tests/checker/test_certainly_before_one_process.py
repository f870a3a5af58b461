"""Rule 1 with δ > 0: one process's events are ordered by file position whatever δ is.

Every property that uses *certainly before* is checked on a history whose events are
closer together than δ: read-after-write (a write completed before the read began),
staleness (superseded by a write completed before the read began), rule 2's same-region
order of writes without ``ts`` (and rule 10 with ``ts``), and linearizability. Done by one
process, the order is certain and the anomaly is found; the same events split between two
processes are concurrent under δ and nothing is found.
"""

from __future__ import annotations

from typing import Any

import pytest

from gtcheck.checker.check import check_operations
from gtcheck.checker.operations import Header, Operation

DELTA = 1_000          # ns; the events below are 10 ns apart
R = "us-east-1"


def _op(line: int, f: str, t: int, value: Any, *, process: Any, consistent: bool = True,
        ts: int | None = None, region: str = R) -> Operation:
    """An ok operation invoked at ``t`` (line ``line``) and completed at ``t + 5`` (the next
    line)."""
    return Operation(index=line, process=process, region=region, f=f, key="k",
                     invoke_value=value if f != "read" else None, value=value, outcome="ok",
                     invoke_time=t, complete_time=t + 5, end_time=t + 5,
                     complete_index=line + 1, consistent=consistent, ts=ts, origin=None,
                     line=line, complete_line=line + 1)


def _check(ops: list[Operation], **header: Any) -> dict[str, Any]:
    h = Header(regions=[R, "eu-west-1"], mode=header.pop("mode", "eventual"),
               clock_uncertainty_ns=DELTA, settled_after_ns=header.pop("settled", None))
    return check_operations(h, ops, staleness_bound_ns=0).summary


@pytest.mark.parametrize("ts", [False, True], ids=["solver", "ts"])
def test_read_after_write_and_staleness(ts: bool) -> None:
    # process 1 writes v1, then v2, then reads v1 (strongly consistent): 10 ns apart
    writes = [_op(1, "write", 0, {"v": 1}, process=1, ts=1 if ts else None),
              _op(3, "write", 10, {"v": 2}, process=1, ts=2 if ts else None)]
    one = _check(writes + [_op(5, "read", 20, {"v": 1}, process=1)])
    assert one["read_after_write"]["anomaly_counts"] == {"lost-own-write": 1}
    assert one["staleness"]["anomaly_counts"] == {"stale-read": 1}
    assert one["staleness"]["smallest_bound_ns"] == 20 - 15
    # another process's read of v1 is concurrent with the second write under δ
    two = _check(writes + [_op(5, "read", 20, {"v": 1}, process=2)])
    assert two["read_after_write"]["anomaly_counts"] == {}
    assert two["staleness"]["anomaly_counts"] == {}


def test_rule2_same_region_order_of_writes_without_ts() -> None:
    # one process writes v1 then v2 within δ: v2 is the later version, so final reads of v1
    # name a wrong winner; split between two processes either order is admissible
    settled = 1_000_000
    finals = [_op(11, "read", settled + 10, {"v": 1}, process=9),
              _op(13, "read", settled + 20, {"v": 1}, process=8, region="eu-west-1")]
    one = [_op(1, "write", 0, {"v": 1}, process=1), _op(3, "write", 10, {"v": 2}, process=1)]
    s = _check(one + finals, settled=settled)
    assert s["convergence"]["anomaly_counts"] == {"wrong-winner": 1}
    two = [_op(1, "write", 0, {"v": 1}, process=1), _op(3, "write", 10, {"v": 2}, process=2)]
    s = _check(two + finals, settled=settled)
    assert s["convergence"]["valid"] is True


def test_rule10_one_process_inversion_within_delta() -> None:
    # the later write of one process carries the smaller ts: an inversion, however close
    one = [_op(1, "write", 0, {"v": 1}, process=1, ts=2),
           _op(3, "write", 10, {"v": 2}, process=1, ts=1)]
    assert _check(one)["read_after_write"]["anomaly_counts"] == {"ts-inversion": 1}
    two = [_op(1, "write", 0, {"v": 1}, process=1, ts=2),
           _op(3, "write", 10, {"v": 2}, process=2, ts=1)]
    assert _check(two)["read_after_write"]["anomaly_counts"] == {}


def test_linearizability_in_strong_mode() -> None:
    ops = [_op(1, "write", 0, {"v": 1}, process=1), _op(3, "write", 10, {"v": 2}, process=1)]
    one = _check(ops + [_op(5, "read", 20, {"v": 1}, process=1)], mode="strong")
    assert one["linearizability"]["valid"] is False
    two = _check(ops + [_op(5, "read", 20, {"v": 1}, process=2)], mode="strong")
    assert two["linearizability"]["valid"] is True
