"""A third-party DynamoDB client library's OWN integration tests against the emulator (issue 10).

The library is aiodynamo (an asyncio DynamoDB client). Its integration tests
(``tests/integration/`` with their ``conftest.py``) ship in its sdist on PyPI, not in its wheel,
and read the endpoint from ``DYNAMODB_URL``. Nothing is vendored here: at test time the sdist of
the *installed* version (pinned in the ``test`` extra) is fetched with ``pip download`` into a
temporary folder, unpacked, and its integration folder is run with pytest in a subprocess, once
against moto's own server (``ThreadedMotoServer``) and once against ``gtcheck emulate
--global-tables all`` (three regions, real replication lag), each on a free loopback port.

The emulator must give exactly the outcome moto's server gives, test by test (moto's own gaps
fail in both: e.g. a projection that does not name the range key still returns it), with at
least ``MIN_PASSED`` tests passing, so the comparison cannot hold vacuously; and the emulator
must really have replicated the suite's writes to the other regions.

It needs the network (marker ``network``): offline (PyPI cannot be reached) it skips, saying
why, and ``GTCHECK_OFFLINE=1`` skips it without trying; when PyPI answers but the download
fails, it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

import boto3  # noqa: E402,F401  (the test extra installs it: no skip)
import moto  # noqa: E402,F401

from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402
from tests.realworld.thirdparty import (  # noqa: E402
    assert_no_worse, moto_server, need_network, run_suite, summary)

pytestmark = [pytest.mark.network, pytest.mark.emulator]

LIBRARY = "aiodynamo"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
MIN_PASSED = 100        # aiodynamo 26.4 passes 120 of its 126 integration tests on moto 5.2
SUITE_TIMEOUT_S = 180


def _need(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        pytest.fail(f"{dist} is not installed: this test needs the test extra "
                    f"(pip install -e '.[test]'), which installs aiodynamo[httpx,aiohttp] and pytest-asyncio")


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    """The installed aiodynamo version's own sdist, unpacked; its root (pytest config inside)."""
    if os.environ.get("GTCHECK_OFFLINE") == "1":
        pytest.skip("GTCHECK_OFFLINE=1: the third-party suite is fetched from PyPI at test time")
    need_network()
    ver = _need(LIBRARY)
    for dist in ("pytest-asyncio", "httpx", "aiohttp"):
        _need(dist)
    dest = tmp_path_factory.mktemp("thirdparty")
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
           "--no-binary", ":all:", f"{LIBRARY}=={ver}", "-d", str(dest)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(cmd)}` timed out: PyPI unreachable? (GTCHECK_OFFLINE=1 skips this test)")
    sdists = sorted(dest.glob(f"{LIBRARY}-{ver}.tar.gz"))
    if res.returncode != 0 or not sdists:
        pytest.fail(f"could not download the sdist of {LIBRARY}=={ver} (network?), so its own integration "
                    f"tests cannot run; set GTCHECK_OFFLINE=1 to skip this test.\n$ {' '.join(cmd)}\n"
                    f"{res.stdout[-2000:]}{res.stderr[-2000:]}")
    with tarfile.open(sdists[0]) as tar:
        tar.extractall(dest, filter="data")
    root = dest / f"{LIBRARY}-{ver}"
    assert (root / "tests" / "integration" / "conftest.py").is_file(), \
        f"the sdist of {LIBRARY}=={ver} has no tests/integration/conftest.py any more"
    return root


def _run_suite(root: Path, endpoint: str, name: str) -> dict[str, str]:
    """Run the sdist's tests/integration against ``endpoint``; outcome by test."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "DYNAMODB_", "PYTEST_", "TEST_ON_AWS"))}
    env.update(DYNAMODB_URL=endpoint, DYNAMODB_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_CONFIG_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true", PYTHONDONTWRITEBYTECODE="1")
    # cwd is the sdist's root, so its own pytest configuration (asyncio_mode = "auto") applies;
    # the installed aiodynamo is imported (src/ layout: the sdist's copy is not on the path)
    return run_suite(sys.executable, "tests/integration", root, env, name, LIBRARY, SUITE_TIMEOUT_S)


def test_aiodynamo_integration_suite_same_on_emulator_as_on_moto_server(suite):
    with moto_server() as endpoint:
        on_moto = _run_suite(suite, endpoint, "moto")
    assert summary(on_moto).get("passed", 0) >= MIN_PASSED, \
        f"{LIBRARY}'s suite passed too few tests on moto's server to compare: {summary(on_moto)}"

    with EmulatorProcess(REGIONS, global_tables="all") as emu:
        on_emulator = _run_suite(suite, emu.endpoint, "emulator")
        applied = Control(emu.endpoint).status()["applied"]
    # and `gtcheck emulate` with its default options (tables one-region until made global)
    with EmulatorProcess(REGIONS, global_tables="explicit") as emu:
        on_default = _run_suite(suite, emu.endpoint, "emulator-default")
    assert_no_worse(LIBRARY, on_moto, on_default, "gtcheck emulate (default options)")

    print(f"{LIBRARY} {version(LIBRARY)} integration tests: moto's server {summary(on_moto)}, "
          f"emulator {summary(on_emulator)}, versions replicated {applied}")
    differ = {t: (on_moto.get(t), on_emulator.get(t)) for t in sorted(on_moto.keys() | on_emulator.keys())
              if on_moto.get(t) != on_emulator.get(t)}
    assert not differ, (f"{LIBRARY}'s integration tests differ between moto's server and the emulator "
                        f"(test: (moto, emulator)): {differ}")
    assert summary(on_emulator).get("passed", 0) >= MIN_PASSED
    # the suite's writes went to the other regions too (it only calls CreateTable: --global-tables all)
    assert applied > 0, "the emulator replicated none of the suite's writes"
