"""Every file of ../shared/anchor-data/ gets its published verdict (VERDICTS.tsv) from the
linearizability property of ``check_history``: the 120 Knossos cas-register EDN files
(register initial value 0, a nil read unconstrained) and the 51 Porcupine etcd logs (nil =
absent; ``:info`` ops pending forever; process ids growing after timeouts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtcheck.checker.check import check_history
from tests.anchors import ANCHOR_DATA, needs_anchor_data

ANCHOR = ANCHOR_DATA or Path("/nonexistent")
VERDICTS = ANCHOR / "VERDICTS.tsv"


def _rows() -> list[tuple[str, str]]:
    if not VERDICTS.exists():
        return []
    lines = VERDICTS.read_text().splitlines()[1:]
    return [tuple(line.split("\t")[:2]) for line in lines if line.strip()]  # type: ignore[misc]


ROWS = _rows()
pytestmark = needs_anchor_data


def test_all_anchor_files_are_listed() -> None:
    assert len(ROWS) == 171
    on_disk = {p.relative_to(ANCHOR).as_posix() for p in ANCHOR.rglob("*")
               if p.suffix in (".edn", ".log")}
    assert on_disk == {f for f, _ in ROWS}


@pytest.mark.parametrize("rel,expected", ROWS, ids=[r[0] for r in ROWS])
def test_anchor_verdict(rel: str, expected: str) -> None:
    res = check_history(ANCHOR / rel, jobs=1, timeout_s=60)
    lin = res.summary["linearizability"]
    # a history with no client operation at all (mongodb-v0-ack-rollback-.edn) has no key
    assert lin["figures"]["keys_checked"] == min(1, res.summary["history"]["counts"]["keys"])
    want = expected == "linearizable"
    if lin["figures"]["keys_checked"] == 0:
        # nothing in its scope: not checked (never "valid" over 0 keys); the verdict, with
        # nothing that fails, is valid as upstream says
        assert want and lin["checked"] is False and lin["valid"] == "unknown"
        assert res.valid is True and res.exit_code == 0
        return
    assert lin["valid"] is want, lin["anomalies"][:1]
    if want:
        assert lin["anomalies"] == []
        # convergence is not checked on a register import (no final reads): it does not
        # make the verdict unknown, so a linearizable file exits 0 as upstream says
        assert res.summary["convergence"]["checked"] is False
        assert res.valid is True and res.exit_code == 0
    else:
        (a,) = lin["anomalies"]
        assert a["name"] == "not-linearizable" and a["key"] == "r"
        assert f"#{a['details']['stuck']}" in a["explanation"]
        assert res.valid is False and res.exit_code == 1
