"""The simulator's output, byte for byte, as recorded before the model core was rebuilt.

Every example and behaviour scenario on three seeds, and each injected bug once: the
history and its ground truth must hash to what ``tests/golden/hashes.json`` holds. A change
of the model's behaviour on purpose re-records them (``python tests/golden/make_golden.py``)
in a commit of its own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))
import make_golden  # noqa: E402

RECORDED = json.loads(make_golden.GOLDEN.read_text())
ROOT = make_golden.ROOT / "histories" / "scenarios"


def _case(name: str) -> tuple[Path, int, str | None]:
    bug = None
    if name.startswith("bug="):
        bug, name = name[4:].split(":", 1)
    rel, seed = name.rsplit("@", 1)
    return ROOT / rel, int(seed), bug


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_simulator_output_is_golden(name: str) -> None:
    path, seed, bug = _case(name)
    assert make_golden.hashes_for(path, seed, bug) == RECORDED[name]


def test_every_scenario_has_a_golden() -> None:
    names = {make_golden.name_of(p) for p in make_golden.scenario_files()}
    recorded = {n.rsplit("@", 1)[0] for n in RECORDED if not n.startswith("bug=")}
    assert names == recorded
