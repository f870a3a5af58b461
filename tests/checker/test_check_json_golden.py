"""``gtcheck check --format json`` (timing stripped) stays byte-identical to what
``tests/golden/check-json/`` recorded: the shared test histories and a simulated one, with
and without a staleness bound. A deliberate change re-records them
(``python tests/golden/check-json/make_check_json.py``) in a commit of its own saying why."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1] / "golden" / "check-json"
sys.path.insert(0, str(HERE))
import make_check_json  # noqa: E402

CASES = make_check_json.cases()


@pytest.fixture(scope="module")
def simdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("check-json-sim")


@pytest.mark.parametrize("name,path,bound", CASES, ids=[c[0] for c in CASES])
def test_check_json_is_golden(name: str, path: str, bound: int | None, simdir: Path) -> None:
    want = (HERE / f"{name}.json").read_text()
    got = make_check_json.render_case(path, bound, simdir)
    assert got == want


def test_every_golden_file_is_a_case() -> None:
    recorded = {p.stem for p in HERE.glob("*.json")}
    assert recorded == {c[0] for c in CASES}
