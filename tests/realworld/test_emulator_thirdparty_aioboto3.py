"""A second third-party DynamoDB client library's own integration tests against the emulator (issue
20): aioboto3 (boto3's asyncio library: its DynamoDB resource, Table, batch writer, query and scan).

aioboto3's tests (``tests/test_dynamo.py`` and its ``conftest.py``) ship in its sdist on PyPI.
Nothing is vendored: at test time the sdist is fetched with ``pip download`` and aioboto3 is
installed with its own test dependencies (pytest, pytest-asyncio < 1, as its pyproject asks)
into a throwaway virtualenv, because aioboto3 pins aiobotocore, which pins a botocore other than
the one gtcheck's test extra brings. The suite starts moto's server itself from
``tests/mock_server.py`` (a ``moto_server`` fixture on a fixed port); that file is replaced by one
whose fixture yields the endpoint under test, the only change.

The same suite runs against bare moto_server, against `gtcheck emulate` with its default options
(its tests use eu-central-1, a region the default emulator does not list: a plain moto region),
and against `gtcheck emulate --regions eu-central-1,eu-west-1 --global-tables all` (where every
table the suite creates is a global table and its writes replicate). Each emulator run passes at
least every test moto's server passes (aioboto3 15.5.0 on moto 5.2: 7 of 7).

Marker ``network``; skipped, saying why, when PyPI cannot be reached.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import venv
from pathlib import Path

import pytest

import boto3  # noqa: E402,F401  (the test extra installs it: no skip)
import moto  # noqa: E402,F401

from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402
from tests.realworld.thirdparty import assert_no_worse, moto_server, need_network, run_suite, summary  # noqa: E402

pytestmark = [pytest.mark.network, pytest.mark.emulator]

LIBRARY, VERSION = "aioboto3", "15.5.0"
TEST_DEPS = ["pytest<9", "pytest-asyncio<1"]
MIN_PASSED = 7
SUITE_TIMEOUT_S = 300

ENDPOINT_FIXTURE = '''"""Replaced by gtcheck's test: the endpoint under test, not a moto server started here."""
import os

import pytest


@pytest.fixture(scope="session")
def moto_server():
    yield os.environ["GTCHECK_ENDPOINT"]
'''


def _pip(python: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> tuple[Path, Path]:
    """(the interpreter of a virtualenv with aioboto3 and its test dependencies, the sdist's root)."""
    need_network()
    base = tmp_path_factory.mktemp("aioboto3")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    res = _pip(python, "install", "-q", f"{LIBRARY}=={VERSION}", *TEST_DEPS)
    if res.returncode != 0:
        pytest.fail(f"could not install {LIBRARY}=={VERSION} into a virtualenv:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    res = _pip(python, "download", "-q", "--no-deps", "--no-binary", ":all:", f"{LIBRARY}=={VERSION}", "-d", str(base))
    sdists = sorted(base.glob(f"{LIBRARY}-{VERSION}.tar.gz"))
    if res.returncode != 0 or not sdists:
        pytest.fail(f"could not download the sdist of {LIBRARY}=={VERSION}:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    with tarfile.open(sdists[0]) as tar:
        tar.extractall(base, filter="data")
    root = base / f"{LIBRARY}-{VERSION}"
    mock = root / "tests" / "mock_server.py"
    assert (root / "tests" / "test_dynamo.py").is_file() and mock.is_file(), \
        f"the sdist of {LIBRARY}=={VERSION} no longer has tests/test_dynamo.py and tests/mock_server.py"
    assert "def moto_server" in mock.read_text(), "aioboto3's tests no longer get their server from moto_server"
    mock.write_text(ENDPOINT_FIXTURE)
    return python, root


def _run(suite: tuple[Path, Path], endpoint: str, name: str) -> dict[str, str]:
    python, root = suite
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_", "GTCHECK_", "VIRTUAL_ENV"))}
    env.update(GTCHECK_ENDPOINT=endpoint, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true", PYTHONDONTWRITEBYTECODE="1")
    # aioboto3's own pytest configuration (its pyproject) applies: cwd is the sdist's root
    return run_suite(str(python), "tests/test_dynamo.py", root, env, name, LIBRARY, SUITE_TIMEOUT_S)


def test_aioboto3_dynamodb_suite_passes_on_the_emulator_wherever_it_passes_on_moto_server(suite):
    with moto_server() as endpoint:
        on_moto = _run(suite, endpoint, "moto")
    assert summary(on_moto).get("passed", 0) >= MIN_PASSED, \
        f"{LIBRARY}'s suite passed too few tests on moto's server to compare: {summary(on_moto)}"
    with EmulatorProcess(["us-east-1", "eu-west-1", "ap-southeast-2"], global_tables="explicit") as emu:
        on_default = _run(suite, emu.endpoint, "emulator-default")
        assert emu.stop() == 0
        assert "Traceback" not in emu.proc_stderr
    with EmulatorProcess(["eu-central-1", "eu-west-1"], delay="constant(20ms)", global_tables="all") as emu:
        on_global = _run(suite, emu.endpoint, "emulator-global")
        applied = Control(emu.endpoint).status()["applied"]
    print(f"{LIBRARY} {VERSION} tests/test_dynamo.py: moto's server {summary(on_moto)}, emulator (defaults) "
          f"{summary(on_default)}, emulator (eu-central-1 global) {summary(on_global)}, versions replicated {applied}")
    assert_no_worse(LIBRARY, on_moto, on_default, "gtcheck emulate (default options)")
    assert_no_worse(LIBRARY, on_moto, on_global, "gtcheck emulate --global-tables all")
    assert applied > 0, "the suite's writes in eu-central-1 were not replicated to eu-west-1"
