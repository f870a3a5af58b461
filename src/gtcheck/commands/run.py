"""``gtcheck run``: drive a scenario's workload against real endpoints, record, check, report."""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import click

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import check_directory
from gtcheck.kernel.units import parse_duration

EPILOG = """\b
Example (with `gtcheck emulate --port 8000` running):
  gtcheck run --regions us-east-1,eu-west-1,ap-southeast-2 --table orders \\
      --endpoint-url http://127.0.0.1:8000 --scenario histories/scenarios/isolation.toml \\
      --duration 30s -o reports/run1
  # writes reports/run1/history.jsonl, check.txt, check.json, report.html

\b
Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 internal error, 130 interrupted
(the history of what was done is written all the same).
"""


@click.command(epilog=EPILOG)
@click.option("--regions", required=True, help="Comma-separated regions (one client group per region).")
@click.option("--table", required=True, help="The global table (created with hash key pk when missing).")
@click.option("--endpoint-url", default=None, help="The endpoint (the emulator); default: AWS itself.")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help="Scenario TOML: its workload (clients per region, rate, mix, keys) and faults.")
@click.option("--duration", default="30s", show_default=True, help="How long the workload runs.")
@click.option("--settle", default="10s", show_default=True,
              help="At most this long for replication to drain before the final reads.")
@click.option("--max-ops", type=click.IntRange(min=1), default=None, help="Stop after this many operations.")
@click.option("--clients-per-region", type=click.IntRange(min=1), default=None,
              help="Override the scenario's processes_per_region.")
@click.option("--staleness-bound", default=None, help="Fail staleness above this bound.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--no-create-table", is_flag=True, help="Do not create the table (it must exist, global).")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Report each phase and, every few seconds, how far the run is, on stderr (a bar on a "
                   "terminal, a line every 5 s otherwise).")
def run(regions: str, table: str, endpoint_url: str | None, scenario_path: Path | None, duration: str,
        settle: str, max_ops: int | None, clients_per_region: int | None, staleness_bound: str | None,
        seed: int, no_create_table: bool, out_dir: Path, progress: bool) -> int:
    """Run a scenario's workload against DynamoDB (or the local emulator) with the recorder,
    apply its faults through the emulator, settle, read every key everywhere, check, report.
    Ctrl-C or SIGTERM ends it promptly in any phase (exit 130), the history of what was done
    written."""
    import dataclasses

    from gtcheck.model.scenario import default_scenario, load_scenario
    from gtcheck.realworld.runner import RunConfig, check_and_report, run_workload

    check_directory(out_dir, "-o/--output directory")    # before any request is sent
    region_list = [r.strip() for r in regions.split(",") if r.strip()]
    if not region_list:
        raise UserError("no regions given", where="--regions")
    scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
    scenario = dataclasses.replace(scenario, regions=tuple(region_list))
    faults = tuple(f for f in scenario.faults if f.region is None or f.region in region_list)
    scenario = dataclasses.replace(scenario, faults=faults)
    if endpoint_url and not endpoint_url.startswith(("http://127.0.0.1", "http://localhost", "https://")):
        raise UserError(f"unexpected endpoint {endpoint_url}", where="--endpoint-url")
    interrupts = Interrupts()
    cfg = RunConfig(regions=region_list, table=table, scenario=scenario,
                    duration_ns=parse_duration(duration, where="--duration"), out_dir=out_dir,
                    endpoint_url=endpoint_url, settle_ns=parse_duration(settle, where="--settle"), seed=seed,
                    max_ops=max_ops, clients_per_region=clients_per_region, create_table=not no_create_table,
                    staleness_bound_ns=parse_duration(staleness_bound, where="--staleness-bound")
                    if staleness_bound else None, stop_event=interrupts.stop, shield=interrupts.shield)
    report = StderrProgress(cfg.duration_ns / 1e9) if progress else None
    history = Path(out_dir) / "history.jsonl"
    with interrupts:
        try:
            result = run_workload(cfg, report)
            with interrupts.shield():
                click.echo(f"wrote {result.history}: {result.operations} operations in {result.wall_s:.1f} s"
                           + (" (interrupted)" if result.interrupted else ""), err=True)
            if result.interrupted or interrupts.stop.is_set():
                return 130
            check_and_report(result, cfg.staleness_bound_ns, progress=report, stop=interrupts.stop)
        except KeyboardInterrupt:
            with interrupts.shield():
                click.echo(f"interrupted while {report.current if report else 'checking'}; the history is "
                           f"{history}", err=True)
            return 130
        finally:
            if report is not None:
                report.done()
    click.echo((result.history.parent / "check.txt").read_text(encoding="utf-8"), nl=False)
    click.echo(f"report: {result.report}", err=True)
    return result.exit_code


class Interrupts:
    """SIGINT and SIGTERM during a run: set ``stop`` and, the first time, raise
    KeyboardInterrupt in the main thread (whatever it is doing: a call in flight, the check),
    except inside ``shield()``, where the history is being written."""

    def __init__(self) -> None:
        import threading

        self.stop = threading.Event()
        self.raised = False
        self.shielded = 0
        self.old: dict[int, Any] = {}

    def handler(self, signum: int, frame: Any) -> None:
        self.stop.set()
        if not self.raised and not self.shielded:
            self.raised = True
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def shield(self) -> Iterator[None]:
        self.shielded += 1
        try:
            yield
        finally:
            self.shielded -= 1

    def __enter__(self) -> "Interrupts":
        self.old = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc: Any) -> None:
        for s, h in self.old.items():
            signal.signal(s, h)


class StderrProgress:
    """The run's progress on stderr: a bar while the workload runs on a terminal, else a line
    when each phase starts and every ``EVERY_S`` seconds."""

    EVERY_S = 5.0

    def __init__(self, duration_s: float) -> None:
        self.tty = sys.stderr.isatty()
        self.duration_s = duration_s
        self.current = "starting"
        self.t0 = time.monotonic()
        self.last = 0.0
        self.bar: Any = None
        self.shown = 0

    def _line(self, text: str) -> None:
        click.echo(f"gtcheck run [{time.monotonic() - self.t0:6.1f} s] {text}", err=True)

    def phase(self, name: str, detail: str = "") -> None:
        self._close_bar()
        self.current = name
        self.last = time.monotonic()
        self._line(f"{name}" + (f": {detail}" if detail else ""))
        if name == "running" and self.tty:
            self.bar = click.progressbar(length=1000, label="running", file=sys.stderr)

    def tick(self, done: float, operations: int) -> None:
        if self.bar is not None:
            n = int(done * 1000)
            self.bar.update(n - self.shown)
            self.shown = n
            return
        now = time.monotonic()
        if now - self.last >= self.EVERY_S:
            self.last = now
            self._line(f"running: {done * self.duration_s:.0f} of {self.duration_s:g} s, {operations} operations")

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None

    def done(self) -> None:
        self._close_bar()
