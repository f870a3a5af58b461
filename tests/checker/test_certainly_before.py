"""Rule 1 of the history format, certainly before: events at equal times are ordered by
their place in the file, never by ``index``. Each test fails on a checker that departs
from the rule."""

from __future__ import annotations

import pytest

from gtcheck.checker.check import check_history
from tests.checker.handmade import MS, ev, names, write


def _tie_history(ts: bool) -> list[dict]:
    """Write #10 completes at 300 ms on the line just before strongly consistent read #5 is
    invoked at 300 ms, in the same region: it completed before the read began (rule 1), but
    its completion's index (21) is larger than the read's (5)."""
    extra = (lambda n: {"ts": n}) if ts else (lambda n: {})
    return [
        ev(0, "invoke", 1, "write", 0, value={"v": 1}),
        ev(1, "ok", 1, "write", 100 * MS, value={"v": 1}, **extra(1)),
        ev(10, "invoke", 2, "write", 200 * MS, value={"v": 2}),
        ev(21, "ok", 2, "write", 300 * MS, value={"v": 2}, **extra(2)),
        ev(5, "invoke", 3, "read", 300 * MS, consistent=True),
        ev(6, "ok", 3, "read", 400 * MS, value={"v": 1}),
    ]


@pytest.mark.parametrize("ts", [True, False], ids=["ts-path", "solver-path"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_rule1_equal_times_ordered_by_file_position_not_index(tmp_path, ts, jobs):
    s = check_history(write(tmp_path, _tie_history(ts)), jobs=jobs).summary
    assert s["read_after_write"]["valid"] is False
    assert names(s) == [("lost-own-write", [5, 0, 10])]


def test_rule1_read_invoked_on_a_later_line_than_a_tied_completion_only(tmp_path):
    """The mirror case: the read's invocation comes first in the file, so the write had not
    completed before it began, whatever the indices say."""
    ev = _tie_history(True)
    ev[3], ev[4] = ev[4], ev[3]
    ev[3]["index"], ev[4]["index"] = 5, 4
    s = check_history(write(tmp_path, ev), jobs=1).summary
    assert s["read_after_write"]["valid"] is True, names(s)


