"""What the third-party suites share: is PyPI reachable, moto's own server on a free port, a
suite's outcome test by test from its JUnit XML, and the comparison of two runs."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import pytest


def unreachable(host: str = "pypi.org", port: int = 443, timeout: float = 5.0) -> str | None:
    """Why pip cannot reach ``host`` (no network, no name resolution, refused): a TCP
    connection to its port; None when it answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port} cannot be reached ({exc})"


def pypi_reachable(timeout: float = 5.0) -> bool:
    """Whether pip can reach PyPI (a TCP connection to pypi.org's HTTPS port)."""
    return unreachable(timeout=timeout) is None


def need_network() -> None:
    why = unreachable()
    if why is not None:
        pytest.skip(f"offline: {why}; the third-party suite is fetched from PyPI at test time "
                    "(marker network)")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Bare moto_server (moto's ThreadedMotoServer) on a free loopback port: its endpoint."""
    from moto.server import ThreadedMotoServer

    werkzeug_log = logging.getLogger("werkzeug")     # one line per request of the suite otherwise
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_log.setLevel(level)


def junit_outcomes(junit: Path) -> dict[str, str]:
    """passed, failed, skipped or xfailed, by test, from a pytest JUnit XML file."""
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        child = {c.tag: c for c in case}
        if "failure" in child or "error" in child:
            outcomes[test] = "failed"
        elif "skipped" in child:
            outcomes[test] = "xfailed" if child["skipped"].get("type") == "pytest.xfail" else "skipped"
        else:
            outcomes[test] = "passed"
    return outcomes


def summary(outcomes: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes.values():
        counts[o] = counts.get(o, 0) + 1
    return counts


def assert_no_worse(name: str, on_moto: dict[str, str], on_emulator: dict[str, str], where: str) -> None:
    """Every test that passes on moto's server passes on the emulator too."""
    lost = sorted(t for t, o in on_moto.items() if o == "passed" and on_emulator.get(t) != "passed")
    assert not lost, f"{name}'s tests that pass on moto's server but not on {where}: {lost}"
    assert summary(on_emulator).get("passed", 0) >= summary(on_moto).get("passed", 0)


def run_suite(python: str, tests: str, root: Path, env: dict[str, str], name: str, library: str,
              timeout_s: float) -> dict[str, str]:
    """Run a library's own tests (``tests``, from its sdist's ``root``, whose pytest configuration
    then applies) with ``python``; outcome by test. Fails when they cannot run at all."""
    junit = root.parent / f"junit-{name}.xml"
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:gtcheck", "-p", "no:randomly",
           "-o", "addopts=", f"--junitxml={junit}", tests]
    try:
        res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{library}'s tests against {name} took over {timeout_s} s")
    if res.returncode not in (0, 1) or not junit.is_file():
        pytest.fail(f"{library}'s tests could not run against {name} (exit {res.returncode}):\n"
                    f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return junit_outcomes(junit)
