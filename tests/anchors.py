"""Where the shared anchor data is (Knossos and Porcupine histories with their published
verdicts, HISTORY-FORMAT's companion, kept beside the repository): ``GTCHECK_ANCHOR_DATA``,
else ``../shared/anchor-data`` next to this checkout, else ``/work/shared/anchor-data``.
Tests that need it skip, saying so, when it is in none of these places."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parents[1]


def anchor_dir() -> Path | None:
    for cand in (os.environ.get("GTCHECK_ANCHOR_DATA"), _HERE.parent / "shared" / "anchor-data",
                 Path("/work/shared/anchor-data")):
        if cand and Path(cand, "VERDICTS.tsv").exists():
            return Path(cand)
    return None


ANCHOR_DATA = anchor_dir()
needs_anchor_data = pytest.mark.skipif(
    ANCHOR_DATA is None, reason="the shared anchor data is not present (set GTCHECK_ANCHOR_DATA "
                                "to its folder, or put it at ../shared/anchor-data)")
