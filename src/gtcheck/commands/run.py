"""``gtcheck run``: drive a scenario's workload against real endpoints, record, check, report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gtcheck.kernel.errors import UserError
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
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
def run(regions: str, table: str, endpoint_url: str | None, scenario_path: Path | None, duration: str,
        settle: str, max_ops: int | None, clients_per_region: int | None, staleness_bound: str | None,
        seed: int, no_create_table: bool, out_dir: Path, progress: bool | None) -> int:
    """Run a scenario's workload against DynamoDB (or the local emulator) with the recorder,
    apply its faults through the emulator, settle, read every key everywhere, check, report."""
    import dataclasses

    from gtcheck.model.scenario import default_scenario, load_scenario
    from gtcheck.realworld.runner import RunConfig, check_and_report, run_workload

    region_list = [r.strip() for r in regions.split(",") if r.strip()]
    if not region_list:
        raise UserError("no regions given", where="--regions")
    scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
    scenario = dataclasses.replace(scenario, regions=tuple(region_list))
    faults = tuple(f for f in scenario.faults if f.region is None or f.region in region_list)
    scenario = dataclasses.replace(scenario, faults=faults)
    if endpoint_url and not endpoint_url.startswith(("http://127.0.0.1", "http://localhost", "https://")):
        raise UserError(f"unexpected endpoint {endpoint_url}", where="--endpoint-url")
    cfg = RunConfig(regions=region_list, table=table, scenario=scenario,
                    duration_ns=parse_duration(duration, where="--duration"), out_dir=out_dir,
                    endpoint_url=endpoint_url, settle_ns=parse_duration(settle, where="--settle"), seed=seed,
                    max_ops=max_ops, clients_per_region=clients_per_region, create_table=not no_create_table,
                    staleness_bound_ns=parse_duration(staleness_bound, where="--staleness-bound")
                    if staleness_bound else None)
    if progress is None:
        progress = sys.stderr.isatty()
    bar = click.progressbar(length=1000, label="running", file=sys.stderr) if progress else None
    last = [0]

    def tick(frac: float) -> None:
        if bar is not None:
            n = int(frac * 1000)
            bar.update(n - last[0])
            last[0] = n
    try:
        result = run_workload(cfg, tick)
    finally:
        if bar is not None:
            bar.render_finish()
    click.echo(f"wrote {result.history}: {result.operations} operations in {result.wall_s:.1f} s"
               + (" (interrupted)" if result.interrupted else ""), err=True)
    if result.interrupted:
        return 130
    check_and_report(result, cfg.staleness_bound_ns)
    click.echo((result.history.parent / "check.txt").read_text(encoding="utf-8"), nl=False)
    click.echo(f"report: {result.report}", err=True)
    return result.exit_code
