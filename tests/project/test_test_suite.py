"""The test suite a newcomer runs: its markers are declared and applied, and "offline" is
detected rather than assumed (README "Tests")."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.nethelp import free_port
from tests.realworld.thirdparty import unreachable

ROOT = Path(__file__).resolve().parents[2]
PYTEST = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]

# what a test module does -> the marker it must carry
NEEDS = {
    "emulator": re.compile(r"EmulatorProcess\(|ThreadedMotoServer\(|\[\"emulate\"|gtcheck_emulator\b"),
    "browser": re.compile(r"CHROMIUM\b|chromedriver"),
    "network": re.compile(r"pip\", \"download\"|\"download\","),
}


def test_the_markers_are_declared_and_unknown_ones_refused():
    declared = {m.split(":")[0] for m in PYTEST["markers"]}
    assert {"slow", "network", "emulator", "browser"} <= declared
    assert "--strict-markers" in PYTEST["addopts"] and "not slow" in PYTEST["addopts"]


def test_every_module_that_needs_a_marker_carries_it():
    missing = []
    seen = {marker: 0 for marker in NEEDS}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.parent.name == "project":
            continue
        text = path.read_text()
        for marker, pattern in NEEDS.items():
            if pattern.search(text):
                seen[marker] += 1
                if f"pytest.mark.{marker}" not in text:
                    missing.append(f"{path.relative_to(ROOT)}: {marker}")
    assert all(seen.values()), f"a pattern found no module (test would be vacuous): {seen}"
    assert not missing, "modules without the marker of what they need:\n" + "\n".join(missing)


def test_offline_is_detected_not_assumed():
    """The probe behind the network tests' skip: a port nothing listens on cannot be
    reached, and the reason says so (this test needs no network)."""
    why = unreachable("127.0.0.1", free_port(), timeout=5)
    assert why is not None and "cannot be reached" in why


def test_no_module_skips_for_want_of_what_the_test_extra_installs():
    """``pip install -e '.[test]'`` installs every package a test imports (boto3, moto,
    networkx, numpy, ...): a module that skips when one is missing would turn a broken
    install into a green run. What may be absent (chromium, the network) is probed and
    skipped with a reason, never by ``importorskip``."""
    skips = re.compile(r"importorskip\(\s*[\"']([A-Za-z0-9_.]+)")
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.parent.name == "project":
            continue
        found += [f"{path.relative_to(ROOT)}: {m}" for m in skips.findall(path.read_text())]
    assert not found, "modules that skip without a test-extra package:\n" + "\n".join(found)
