"""``gtcheck emulate``: a local multi-region DynamoDB endpoint with replication lag and
last-writer-wins; ``gtcheck emulator ...``: fault control of a running one."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any

import click

from gtcheck.kernel.errors import UserError

EPILOG = """\b
Example:
  gtcheck emulate --regions us-east-1,eu-west-1,ap-southeast-2 --port 8000 \\
      --delay 'lognormal(250ms, 0.5)' --global-tables all
  # then point any DynamoDB client at http://127.0.0.1:8000 with region_name set;
  # while it runs (as the same user: the control token is found):
  gtcheck emulator isolate eu-west-1 --port 8000
  gtcheck emulator heal --port 8000
  # multi-region strong consistency, as on AWS: CreateTable (empty), then UpdateTable with
  # MultiRegionConsistency=STRONG and ReplicaUpdates Create for two more regions (or one,
  # and GlobalTableWitnessUpdates Create for a witness); docs/emulator.md has the rules

\b
Stops cleanly on Ctrl-C or SIGTERM (exit 0), leaving no port or process behind.
"""


def _regions(text: str) -> list[str]:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise UserError("no regions given", where="--regions", hint="e.g. us-east-1,eu-west-1")
    return regions


def _offsets(values: tuple[str, ...]) -> dict[str, int]:
    from gtcheck.realworld.emulator import signed_duration

    out = {}
    for v in values:
        if "=" not in v:
            raise UserError(f"expected REGION=OFFSET, got {v!r}", where="--clock-offset", hint="e.g. eu-west-1=+40ms")
        region, off = v.split("=", 1)
        out[region.strip()] = signed_duration(off.strip(), "--clock-offset")
    return out


@click.command(epilog=EPILOG)
@click.option("--regions", default="us-east-1,eu-west-1,ap-southeast-2", show_default=True,
              help="Comma-separated regions the endpoint serves and replicates.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (0: a free one, printed on the first line).")
@click.option("--delay", default="lognormal(250ms, 0.5)", show_default=True,
              help="Replication delay distribution: lognormal(MEDIAN, SIGMA), uniform(LOW, HIGH), "
                   "exponential(MEAN), constant(D) or a duration.")
@click.option("--round-trip", "round_trip", default="lognormal(30ms, 0.3)", show_default=True,
              help="Multi-region strong consistency: one synchronous round trip between two regions "
                   "(the model's replication.round_trip).")
@click.option("--strong-timeout", "strong_timeout", default="1s", show_default=True,
              help="Multi-region strong consistency: how long a write or strong read waits for a second "
                   "region before it fails with InternalServerError (the model's regions.timeout).")
@click.option("--global-tables", "global_tables", type=click.Choice(["explicit", "all"]), default="explicit",
              show_default=True, help="all: every table created anywhere is global in every region.")
@click.option("--clock-offset", "clock_offset", multiple=True, metavar="REGION=OFFSET",
              help="A region's clock offset, e.g. eu-west-1=+40ms (repeatable).")
@click.option("--unlisted-regions", "unlisted", type=click.Choice(["moto", "refuse"]), default="moto",
              show_default=True, help="A region not in --regions: a plain moto region (not replicated), or refused "
                                      "with UnrecognizedClientException.")
@click.option("--unsigned", default="refuse", show_default=True, metavar="refuse|REGION",
              help="A DynamoDB request without a SigV4 signature names no region: refuse it "
                   "(MissingAuthenticationTokenException, as AWS), or serve it as a request to REGION.")
@click.option("--stream-records", "stream_records", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="DynamoDB Streams: records kept per table and region (besides the 24-hour retention).")
@click.option("--ttl-interval", "ttl_interval", default="1s", show_default=True,
              help="How often the TTL sweeper looks for expired items (0: never).")
@click.option("--seed", type=int, default=None, help="Seed of the replication delays and round trips.")
def emulate(regions: str, port: int, delay: str, round_trip: str, strong_timeout: str, global_tables: str,
            clock_offset: tuple[str, ...], unlisted: str, unsigned: str, stream_records: int, ttl_interval: str,
            seed: int | None) -> int:
    """Serve a DynamoDB-compatible endpoint on 127.0.0.1 for every listed region, with global
    tables in both modes: replicated asynchronously by the model's rules (eventual), or by the
    model's strong-mode rules (MultiRegionConsistency STRONG). Built on moto: any other call
    behaves as moto's server. Prints the endpoint, then the control token (also written where
    `gtcheck emulator ...` finds it)."""
    from gtcheck.kernel.units import parse_duration
    from gtcheck.realworld.emulator import Emulator, Server, parse_delay

    t0 = time.monotonic()
    emu = Emulator(_regions(regions), delay=parse_delay(delay), round_trip=parse_delay(round_trip, "--round-trip"),
                   global_tables=global_tables, clock_offsets_ns=_offsets(clock_offset), seed=seed,
                   unlisted=unlisted, unsigned=unsigned.strip(),
                   strong_timeout_ns=parse_duration(strong_timeout, where="--strong-timeout"),
                   stream_records=stream_records,
                   ttl_interval_s=parse_duration(ttl_interval, where="--ttl-interval") / 1e9)
    try:
        server = Server(emu, port)
    except OSError as exc:
        emu.close()
        raise UserError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", where="--port") from None
    done = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    server.start()
    click.echo(f"gtcheck emulator listening on {server.endpoint} (regions {', '.join(emu.regions)}; "
               f"delay {emu.delay.describe()}; started in {time.monotonic() - t0:.2f} s)")
    click.echo(f"gtcheck emulator control token: {server.token} ({server.token_file})")
    sys.stdout.flush()
    try:
        while not done.wait(0.05):
            pass
    finally:
        t_stop = time.monotonic()
        server.stop()
        for s, h in old.items():
            signal.signal(s, h)
        click.echo(f"gtcheck emulator stopped ({time.monotonic() - t_stop:.2f} s)", err=True)
    # Everything the emulator holds is in memory and the port and the token file are already
    # released: skip the interpreter's teardown, which frees every moto object one by one
    # (seconds after a long run), and exit at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _control(port: int, endpoint_url: str | None, token: str | None) -> Any:
    from gtcheck.realworld.control import Control
    return Control(endpoint_url or f"http://127.0.0.1:{port}", token=token)


_endpoint = [click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True),
             click.option("--endpoint-url", default=None, help="Instead of --port: http://127.0.0.1:PORT"),
             click.option("--token", default=None, envvar="GTCHECK_EMULATOR_TOKEN", show_envvar=True,
                          help="The control token `gtcheck emulate` printed (default: the one it wrote for "
                               "its port, readable by the user who started it).")]


def _with_endpoint(f):
    for opt in reversed(_endpoint):
        f = opt(f)
    return f


@click.group()
def emulator() -> None:
    """Fault control of a running `gtcheck emulate` (isolate, heal, stop, start, delay,
    replication, clock, ttl, status). State-changing commands send the emulator's control
    token: --token, $GTCHECK_EMULATOR_TOKEN, or the file the emulator wrote for its port.

    \b
    Example:
      gtcheck emulator isolate eu-west-1 --port 8000
      gtcheck emulator delay 2s --from us-east-1 --to eu-west-1
      gtcheck emulator heal
      gtcheck emulator status
    """


def _show(status: dict) -> None:
    click.echo(json.dumps(status, indent=2, sort_keys=True))


@emulator.command()
@_with_endpoint
def status(port: int, endpoint_url: str | None, token: str | None) -> None:
    """Print the emulator's faults and replication counters."""
    _show(_control(port, endpoint_url, token).status())


@emulator.command()
@click.argument("region")
@_with_endpoint
def isolate(region: str, port: int, endpoint_url: str | None, token: str | None) -> None:
    """Cut REGION's replication both ways (its clients keep working)."""
    _show(_control(port, endpoint_url, token).isolate(region))


@emulator.command()
@click.argument("region", required=False)
@_with_endpoint
def heal(region: str | None, port: int, endpoint_url: str | None, token: str | None) -> None:
    """Heal REGION's isolation (every isolation without REGION)."""
    _show(_control(port, endpoint_url, token).heal(region))


@emulator.command()
@click.argument("region")
@_with_endpoint
def stop(region: str, port: int, endpoint_url: str | None, token: str | None) -> None:
    """REGION's endpoint answers 503 and nothing replicates to or from it."""
    _show(_control(port, endpoint_url, token).stop(region))


@emulator.command()
@click.argument("region")
@_with_endpoint
def start(region: str, port: int, endpoint_url: str | None, token: str | None) -> None:
    """Bring a stopped REGION back."""
    _show(_control(port, endpoint_url, token).start(region))


@emulator.command()
@click.argument("extra", required=False)
@click.option("--from", "source", default="*", show_default=True)
@click.option("--to", "target", default="*", show_default=True)
@_with_endpoint
def delay(extra: str | None, source: str, target: str, port: int, endpoint_url: str | None, token: str | None) -> None:
    """Add EXTRA (a duration or distribution) to replication FROM -> TO; no EXTRA clears it."""
    _show(_control(port, endpoint_url, token).delay(extra, source, target))


@emulator.command()
@click.argument("target")
@click.argument("state", type=click.Choice(["on", "off"]))
@_with_endpoint
def replication(target: str, state: str, port: int, endpoint_url: str | None, token: str | None) -> None:
    """Switch replication to TARGET on or off (off drops versions: a broken table, for tests)."""
    _show(_control(port, endpoint_url, token).replication(target, state == "on"))


@emulator.command()
@click.argument("region")
@click.argument("offset")
@_with_endpoint
def clock(region: str, offset: str, port: int, endpoint_url: str | None, token: str | None) -> None:
    """Set REGION's clock offset (e.g. +40ms, -2s) used to stamp its writes."""
    _show(_control(port, endpoint_url, token).clock(region, offset))


@emulator.command()
@click.argument("what", type=click.Choice(["pause", "resume", "sweep"]))
@_with_endpoint
def ttl(what: str, port: int, endpoint_url: str | None, token: str | None) -> None:
    """Pause or resume the TTL sweeper, or run one sweep now."""
    ctl = _control(port, endpoint_url, token)
    _show(ctl.ttl(sweep=True) if what == "sweep" else ctl.ttl(paused=what == "pause"))
