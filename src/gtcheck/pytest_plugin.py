"""gtcheck's pytest plugin (entry point ``pytest11: gtcheck``); the one module that hosts
every gtcheck fixture.

``gtcheck_emulator``: starts the local multi-region emulator (``gtcheck emulate``) in a child
process on a free loopback port, yields a handle with the endpoint, one recorded boto3
client per region, and the fault control; after the test body it settles the table, reads
every touched key in every region, checks the recorded history and **fails the test** when a
property the test asked for does not hold, naming the anomalies and the HTML report.
Configure with a marker::

    @pytest.mark.gtcheck(properties=["integrity", "convergence"], staleness_bound="2s",
                         regions=["us-east-1", "eu-west-1"], delay="lognormal(250ms, 0.5)")
    def test_orders(gtcheck_emulator):
        ddb = gtcheck_emulator.clients["us-east-1"]
        ...

Defaults: every property of the checker that needs no option (all but staleness, which
needs ``staleness_bound``); every table created is global in all regions
(``--global-tables all``). A property with nothing in its scope (e.g. linearizability when
every key is written from several regions) is not checked, and does not fail the test.

Lost writes (rule 12: acknowledged writes last-writer-wins threw away) are always in the
summary and the report, and fail the test only when asked: ``fail_on=("lost-writes",)``
in the marker (or ``gtcheck_emulator.expect(..., fail_on=("lost-writes",))``); the failure
names each lost write and the write it was lost to.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

DEFAULT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def default_properties() -> tuple[str, ...]:
    """The checker's properties that need no option (the checker's registry)."""
    from gtcheck.checker import props

    return tuple(n for n in props.names() if not props.needs_bound(n))


def _known_properties(properties: Any) -> tuple[str, ...]:
    """The marker's ``properties``, each a property of the checker; else a usage error
    that names the marker argument."""
    from gtcheck.checker import props

    if isinstance(properties, str):
        properties = (properties,)
    unknown = [p for p in properties if p not in props.names()]
    if unknown:
        raise ValueError(
            f"@pytest.mark.gtcheck(properties=...): unknown propert{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(map(repr, unknown))}; the checker's properties are {', '.join(props.names())}")
    return tuple(properties)


def _known_findings(fail_on: Any) -> tuple[str, ...]:
    """The marker's ``fail_on``: findings the checker reports (``lost-writes``); else a usage
    error that names the marker argument."""
    from gtcheck.checker import props

    if isinstance(fail_on, str):
        fail_on = (fail_on,)
    unknown = [f for f in fail_on if f not in props.fail_on_names()]
    if unknown:
        raise ValueError(f"@pytest.mark.gtcheck(fail_on=...): {', '.join(map(repr, unknown))} is not a "
                         f"finding of the checker; accepted: {', '.join(props.fail_on_names())}")
    return tuple(fail_on)


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "gtcheck(properties=..., staleness_bound=..., fail_on=('lost-writes',), regions=..., "
                   "delay=..., clock_offsets=..., global_tables='all'): configure the gtcheck_emulator fixture")


class EmulatorProcess:
    """``gtcheck emulate`` in a child process on a free port of 127.0.0.1. Its first two lines
    give the endpoint and the control token; its stderr is collected (``proc_stderr``)."""

    def __init__(self, regions: list[str], delay: str = "lognormal(250ms, 0.5)", global_tables: str = "all",
                 clock_offsets: dict[str, str] | None = None, seed: int | None = None,
                 startup_timeout: float = 30.0, extra_args: list[str] | None = None) -> None:
        import threading

        cmd = [sys.executable, "-W", "ignore", "-m", "gtcheck", "emulate", "--port", "0",
               "--regions", ",".join(regions), "--delay", delay, "--global-tables", global_tables,
               *(extra_args or [])]
        for region, off in (clock_offsets or {}).items():
            cmd += ["--clock-offset", f"{region}={off}"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._stderr: list[str] = []
        # drained all along: a child writing more than a pipe holds must never block
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line}{self.proc_stderr}")
        self.endpoint = line.split("listening on ", 1)[1].split()[0]
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        token_line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "control token: " not in token_line:
            self.stop()
            raise RuntimeError(f"the emulator did not print its control token: {token_line!r}{self.proc_stderr}")
        self.token = token_line.split("control token: ", 1)[1].split()[0]
        self.startup_s = time.monotonic() - t0
        self.regions = regions

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if len(self._stderr) < 10_000:
                self._stderr.append(line)

    @property
    def proc_stderr(self) -> str:
        """What the emulator wrote on stderr so far (all of it once stopped)."""
        return "".join(self._stderr)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self._drain.join(timeout=timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        return self.proc.returncode

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class GtcheckEmulator:
    """What the fixture yields."""

    def __init__(self, emu: EmulatorProcess, history: Path, properties: tuple[str, ...],
                 staleness_bound: str | None, fail_on: tuple[str, ...] = ()) -> None:
        from gtcheck.realworld.control import Control
        from gtcheck.realworld.recorder import Recorder
        from gtcheck.realworld.runner import make_clients

        self.process = emu
        self.endpoint = emu.endpoint
        self.regions = emu.regions
        self.control = Control(emu.endpoint, token=emu.token)
        self.history = history
        self.report: Path | None = None
        self.properties = tuple(properties)
        self.staleness_bound = staleness_bound
        self.fail_on = _known_findings(fail_on)
        self.recorder = Recorder(history, emu.regions, metadata={"source": "pytest"})
        self.clients = {r: self.recorder.attach(cs[0]) for r, cs in make_clients(emu.regions, emu.endpoint).items()}
        self.settled = False
        self.summary: dict[str, Any] | None = None

    def client(self, region: str) -> Any:
        """Another recorded client for ``region`` (e.g. one per thread)."""
        from gtcheck.realworld.runner import make_clients
        return self.recorder.attach(make_clients([region], self.endpoint)[region][0])

    def expect(self, *properties: str, staleness_bound: str | None = None,
               fail_on: tuple[str, ...] | None = None) -> None:
        self.properties = _known_properties(properties)
        if staleness_bound is not None:
            self.staleness_bound = staleness_bound
        if fail_on is not None:
            self.fail_on = _known_findings(fail_on)

    def settle(self, timeout: float = 30.0) -> None:
        """Heal every fault, let the TTL sweeper delete what has expired and pause it (no write
        after the final phase begins), wait for replication to drain, read every touched key
        everywhere."""
        self.control.heal_all()
        self.control.ttl(sweep=True, paused=True)
        self.control.wait_quiet(timeout=timeout)
        self.recorder.final_reads(self.clients)
        self.settled = True

    def verify(self) -> dict[str, Any]:
        """Settle (if not yet), write and check the history; raise AssertionError naming the
        anomalies and the report when a requested property does not hold."""
        from gtcheck.checker.check import check_history
        from gtcheck.checker.report import write_report
        from gtcheck.kernel.units import parse_duration

        if not self.settled and "convergence" in self.properties:
            self.settle()
        self.recorder.close()
        bound = parse_duration(self.staleness_bound) if self.staleness_bound else None
        res = check_history(str(self.history), staleness_bound_ns=bound, jobs=1, timeout_s=10.0,
                            progress=False, keep_reads=True, fail_on=self.fail_on)
        self.summary = res.summary
        self.report = Path(write_report(str(self.history), str(self.history.with_suffix(".html")),
                                        check_result=res, staleness_bound_ns=bound, jobs=1))
        from gtcheck.checker import props

        wanted = set(self.properties) | ({"staleness"} if bound is not None else set())
        wanted |= {p.NAME for p in props.properties() if getattr(p, "FAIL_ON", None) in self.fail_on}
        # a property not checked (nothing in its scope) does not count, as in the verdict
        failed = [p for p in sorted(wanted)
                  if _prop_valid(res.summary, p) is not True and _prop_checked(res.summary, p)]
        if failed:
            lines = [f"gtcheck: {', '.join(failed)} did not hold on the recorded history"]
            for a in _anomalies(res.summary, failed)[:10]:
                lines.append(f"  [{a.get('name') or a.get('kind')}] {a.get('explanation') or a.get('message') or a}")
            lines.append(f"  history: {self.history}")
            lines.append(f"  report: {self.report}")
            raise AssertionError("\n".join(lines))
        return res.summary


def _prop_valid(summary: dict[str, Any], name: str) -> Any:
    p = summary.get(name)
    if isinstance(p, dict):
        return p.get("valid")
    return None


def _prop_checked(summary: dict[str, Any], name: str) -> bool:
    from gtcheck.checker.props.base import counts_in_verdict

    return counts_in_verdict(summary.get(name))


def _anomalies(summary: dict[str, Any], props: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in props:
        p = summary.get(name)
        if isinstance(p, dict):
            out.extend(a for a in p.get("anomalies", []) if isinstance(a, dict))
    return out


@pytest.fixture
def gtcheck_emulator(request: Any, tmp_path: Path) -> Any:
    marker = request.node.get_closest_marker("gtcheck")
    opts = dict(marker.kwargs) if marker else {}
    regions = list(opts.get("regions", DEFAULT_REGIONS))
    emu = EmulatorProcess(regions, delay=opts.get("delay", "lognormal(100ms, 0.5)"),
                          global_tables=opts.get("global_tables", "all"),
                          clock_offsets=opts.get("clock_offsets"), seed=opts.get("seed"))
    try:
        handle = GtcheckEmulator(emu, tmp_path / "gtcheck-history.jsonl",
                                 _known_properties(opts.get("properties", default_properties())),
                                 opts.get("staleness_bound"), opts.get("fail_on", ()))
        request.node._gtcheck_emulator = handle
        yield handle
    finally:
        emu.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    result = yield
    handle = getattr(item, "_gtcheck_emulator", None)
    if handle is not None and handle.summary is None and not handle.recorder.closed:
        handle.verify()
    return result


@pytest.fixture
def gtcheck_model(tmp_path: Path) -> Any:
    """Check a property of the *model* of global tables for your workload under your faults,
    by search (``holds_by_search``) or exhaustive exploration (``holds_by_exploration``); a
    violation fails the test with the shrunk explanation and the counterexample files
    (docs/search.md, "The CI gate")."""
    from gtcheck.search.gate import Gate

    return Gate(tmp_path)

