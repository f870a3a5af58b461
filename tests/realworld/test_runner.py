"""`gtcheck run` (issue 20): progress on stderr when it is not a terminal (each phase, then a line
every few seconds), none with --no-progress; Ctrl-C (SIGINT) and SIGTERM end it promptly in every
phase (starting, running, settling, final reads, checking, reporting) with exit 130 and the history
of what was done written.

Each test waits for the phase to show on stderr before it signals, so a loaded machine only makes
it slower; the timeouts are hang guards. The phases that last by themselves are interrupted
mid-work: starting (an endpoint that never answers), running (a 60 s workload), settling (versions
in flight for 10 s), final reads (3,000 keys per region). Checking and reporting take well under a
second on a small history, so the run is held at their start (GTCHECK_RUN_HOLD, a hook for tests)."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import boto3  # noqa: E402,F401  (the test extra installs it: no skip)
import moto  # noqa: E402,F401

from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402

pytestmark = pytest.mark.emulator

REGIONS = "us-east-1,eu-west-1"
HANG_GUARD_S = 180


def scenario_file(tmp_path: Path, keys: int = 20) -> Path:
    """A two-region scenario for `gtcheck run` (60 s of workload unless --duration says less)."""
    path = tmp_path / "scenario.toml"
    path.write_text(f"""name = "runner-test"
[regions]
names = ["us-east-1", "eu-west-1"]
[workload]
keys = {keys}
processes_per_region = 2
rate = 200
duration = "60s"
""")
    return path


def _start(args: list[str], env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, "queue.Queue[str]"]:
    env = dict(os.environ, **(env_extra or {}))
    proc = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "gtcheck", "run", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put("")
    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def _wait_for(lines: "queue.Queue[str]", needle: str, seen: list[str]) -> None:
    end = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if line == "":
            break
        if needle in line:
            return
    pytest.fail(f"never saw {needle!r} on stderr:\n{''.join(seen)}")


def _rest(lines: "queue.Queue[str]", seen: list[str]) -> str:
    while True:
        try:
            line = lines.get(timeout=HANG_GUARD_S)
        except queue.Empty:
            break
        if line == "":
            break
        seen.append(line)
    return "".join(seen)


@pytest.fixture(scope="module")
def emulator():
    with EmulatorProcess(REGIONS.split(","), delay="constant(20ms)", global_tables="all") as emu:
        yield emu


def test_progress_lines_on_stderr_when_not_a_terminal_and_none_with_no_progress(emulator, tmp_path):
    scenario = scenario_file(tmp_path)
    proc, lines = _start(["--regions", REGIONS, "--table", "progress", "--endpoint-url", emulator.endpoint,
                          "--scenario", scenario, "--duration", "6s", "--settle", "5s", "-o", tmp_path / "a"])
    seen: list[str] = []
    err = _rest(lines, seen)
    out, _ = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 0, out + err
    reported = [line.split("] ", 1)[1] for line in err.splitlines() if line.startswith("gtcheck run [")]
    phases = [r.split(":")[0].strip() for r in reported]
    assert list(dict.fromkeys(phases)) == ["starting", "running", "settling", "final reads", "checking",
                                           "reporting"], err
    assert any(r.startswith("running: ") and " operations" in r for r in reported), err   # a line every 5 s
    assert "VALID" in out
    proc, lines = _start(["--regions", REGIONS, "--table", "quiet", "--endpoint-url", emulator.endpoint,
                          "--scenario", scenario, "--duration", "1s", "--settle", "5s", "-o", tmp_path / "b",
                          "--no-progress"])
    err = _rest(lines, [])
    out, _ = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 0 and "gtcheck run [" not in err, err
    assert "wrote " in err and "report: " in err


def _never_answers() -> tuple[socket.socket, str]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)                  # accepts connections (the kernel does), never reads or answers
    return s, f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("phase", ["starting", "running", "settling", "final reads", "checking", "reporting"])
def test_a_signal_ends_the_run_promptly_in_every_phase(emulator, tmp_path, phase, sig, capsys):
    from tests.clihelp import run_cli

    table = f"t-{phase.replace(' ', '-')}-{sig.name}"
    out_dir = tmp_path / "out"
    env = {"GTCHECK_RUN_HOLD": phase} if phase in ("checking", "reporting") else {}
    scenario = scenario_file(tmp_path, keys=3000 if phase == "final reads" else 20)
    dead = own = None
    if phase == "starting":
        dead, endpoint = _never_answers()
    elif phase == "settling":
        own = EmulatorProcess(REGIONS.split(","), delay="constant(10s)", global_tables="all")
        endpoint = own.endpoint
    else:
        endpoint = emulator.endpoint
    duration = "60s" if phase == "running" else "1s"
    try:
        proc, lines = _start(["--regions", REGIONS, "--table", table, "--endpoint-url", endpoint, "--scenario",
                              scenario, "--duration", duration, "--settle", "60s", "-o", out_dir], env)
        seen: list[str] = []
        _wait_for(lines, f"] {phase}", seen)
        if phase == "running":
            _wait_for(lines, "running: ", seen)        # the workload is under way (a line every 5 s)
        proc.send_signal(sig)
        t0 = time.monotonic()
        err = _rest(lines, seen)
        proc.communicate(timeout=HANG_GUARD_S)
        took = time.monotonic() - t0
    finally:
        if dead is not None:
            dead.close()
        if own is not None:
            own.stop()
    assert proc.returncode == 130, err
    history = out_dir / "history.jsonl"
    assert history.exists(), err
    code, out, _ = run_cli(["validate", history], capsys)
    assert code == 0 and "ok" in out
    text = history.read_text()
    if phase in ("running", "settling", "final reads", "checking", "reporting"):
        assert '"type":"invoke"' in text
    if phase in ("checking", "reporting"):
        assert "settled_after_ns" in text.splitlines()[0]
    print(f"{phase} {sig.name}: exit 130 {took:.2f} s after the signal")
