"""``gtcheck explore``: every run of a small scripted scenario (docs/search.md)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from gtcheck.checker import props as checker_props
from gtcheck.kernel.errors import EXIT_INVALID, EXIT_UNKNOWN, EXIT_VALID
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.outfiles import check_directory, writing

EPILOG = """\b
Examples:
  gtcheck explore --scenario histories/scenarios/behaviours/lost-update.toml
  gtcheck explore --scenario two-writes.toml --format json --max-states 50000 --time-limit 60
  gtcheck explore --scenario s.toml --property no_acknowledged_write_lost -o out/
  gtcheck explore --model docs/examples/lost_update_model.py:LostUpdate

\b
Explores every run of the one transition relation of global tables: every order of
requests at equal times (--untimed: any order), of replication deliveries (per item in
order, per link), follower copies and coalescing; the copy an eventual read reads; fault
events (isolations, outages) and failover; both conflict orders where clock-offset ranges
(offset = { min, max }) allow either. What it cannot enumerate (a random workload, random
faults, TTL) is refused with exit 254, naming it. The first line says what was covered:
"complete: ..." or "INCOMPLETE: stopped by ..." (then no property is said to hold). The
JSON has states, edges, complete, coverage, outcomes (per named [[script]] request: its
distinct results), final_states (per key) and properties (holds, and for a violation the
shortest path, written into -o DIR as a history, the scenario and the path of actions).
Progress on stderr every 2 s (--quiet: none). --model FILE.py:CLASS explores a model of
your own (gtcheck.model.protocol; docs/model.md).

\b
Exit codes: 0 every property holds and the exploration is complete; 1 a property is
violated; 2 no violation, but --max-states or --time-limit stopped the exploration, or the
checker could not decide a property on some run (e.g. convergence: explored runs have no
final reads); 254 bad input or a feature the explorer cannot cover."""


@click.command(epilog=EPILOG)
@click.option("--scenario", "scenario_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="A scripted scenario ([[script]] requests) of global tables.")
@click.option("--model", "model_spec", default=None, metavar="FILE.py:CLASS",
              help="Instead of a scenario: a model of your own (gtcheck.model.protocol; docs/model.md), "
                   "as FILE.py:CLASS or module:CLASS.")
@click.option("--max-states", type=click.IntRange(1, 100_000_000), default=200_000, show_default=True,
              help="Stop after this many distinct states (then the exploration is incomplete).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--property", "props", multiple=True, metavar="PROP",
              help="A shipped invariant or a checker property (" + ", ".join(checker_props.names())
                   + ") checked at the end of every run (repeatable); the model's own "
                   "invariants (every copy the LWW join of what reached it, convergence) are always checked.")
@click.option("--staleness-bound", "bound", default=None, metavar="DURATION",
              help="The bound of --property staleness (the checker's, judged on every complete run's history).")
@click.option("--invariant", "invariants", multiple=True, metavar="MODULE:FUNCTION",
              help="An application invariant over a finished run (repeatable).")
@click.option("-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("explore-counterexamples"), show_default=True,
              help="Directory for counterexamples (written only on a violation).")
@click.option("--untimed", is_flag=True,
              help="Let scripted requests and fault events run in any order, not their scripted times'.")
@click.option("--time-limit", "time_limit", type=click.FloatRange(min=0.001), default=None, metavar="SECONDS",
              help="Stop after this much wall time (then the exploration is incomplete: exit 2).")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("--replay", "replay_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Replay a counterexample's NAME.path.json and print its history instead of exploring.")
def explore(scenario_path: Path | None, model_spec: str | None, max_states: int, fmt: str, props: tuple[str, ...], bound: str | None,
            invariants: tuple[str, ...],
            out: Path, untimed: bool, time_limit: float | None, quiet: bool, replay_path: Path | None) -> int:
    """Explore every run of a scripted scenario; report outcomes, final states, properties."""
    from gtcheck.model.scenario import load_scenario
    from gtcheck.search import explore as ex_mod

    from gtcheck.kernel.errors import UserError
    from gtcheck.model.explorer import stderr_progress

    if time_limit is not None and not math.isfinite(time_limit):
        raise UserError(f"--time-limit must be a finite number of seconds, got {time_limit}", where="--time-limit")
    if (scenario_path is None) == (model_spec is None):
        raise UserError("give --scenario FILE or --model FILE.py:CLASS (one of them)", where="--scenario")
    if model_spec is not None:
        return _user_model(model_spec, max_states, time_limit, quiet, fmt)
    sc = load_scenario(scenario_path)
    check_directory(out, "-o/--output directory")    # before the exploration's long work
    if replay_path is not None:
        m, state, events = ex_mod.replay_file(sc, replay_path, timed=not untimed)
        with writing("-") as fh:
            for e in [m.header(state)] + events:
                fh.write(exact_dumps(e) + b"\n")
        return EXIT_VALID
    from gtcheck.search.run import parse_bound, property_list

    checks = property_list(props, invariants, parse_bound(bound))
    result = ex_mod.explore(sc, max_states=max_states, invariants=checks, timed=not untimed,
                            time_limit_s=time_limit, progress=None if quiet else stderr_progress)
    if not result.holds:
        ex_mod.write_counterexamples(result, sc, out)
    if fmt == "json":
        with writing("-") as fh:
            fh.write(exact_dumps(result.to_json(), indent=True) + b"\n")
    else:
        click.echo(f"{result.coverage} ({result.wall_s:.2f} s wall, {result.cpu_s:.2f} s CPU)")
        for name, values in result.outcomes.items():
            click.echo(f"  {name}: " + " | ".join(exact_dumps(v).decode() for v in values))
        for key, states in result.final_states.items():
            click.echo(f"  final {key}: {len(states)} distinct final state{'s' if len(states) != 1 else ''}")
        for name, p in result.properties.items():
            _echo_property(name, p, [f"{role}: {path}" for role, path in (p.get("counterexample") or {}).items()])
    if not result.holds:
        return EXIT_INVALID
    return EXIT_VALID if result.complete and result.decided else EXIT_UNKNOWN


def _echo_property(name: str, p: dict[str, Any], details: list[str]) -> None:
    """One property's line (holds, not a proof, or violated with ``details`` below it)."""
    if p["holds"] is True and "undecided" in p:
        click.echo(f"  {name}: UNDECIDED on some run ({p['undecided']})")
    elif p["holds"] is True:
        click.echo(f"  {name}: holds")
    elif p["holds"] is None:
        click.echo(f"  {name}: no violation in the part explored (not a proof: incomplete)")
    else:
        click.echo(f"  {name}: VIOLATED in {len(p['path'])} steps: {p['message']}")
        for line in details:
            click.echo(f"    {line}")


def _user_model(spec: str, max_states: int, time_limit: float | None, quiet: bool, fmt: str) -> int:
    from gtcheck.model.explorer import stderr_progress
    from gtcheck.search.usermodel import run

    model, result, doc = run(spec, max_states=max_states, time_limit_s=time_limit,
                             progress=None if quiet else stderr_progress)
    if fmt == "json":
        with writing("-") as fh:
            fh.write(exact_dumps(doc, indent=True) + b"\n")
    else:
        click.echo(f"{doc['coverage']} ({result.wall_s:.2f} s wall, {result.cpu_s:.2f} s CPU)")
        for name, p in doc["properties"].items():
            if "shown" in p:
                click.echo(f"  {name}: " + ("shown in " + str(len(p["path"])) + " steps" if p["shown"]
                                            else "never shown" if p["shown"] is False
                                            else "not shown in the part explored (incomplete)"))
            else:
                _echo_property(name, p, p.get("path") or [])
    if any(p.get("holds") is False for p in doc["properties"].values()):
        return EXIT_INVALID
    return EXIT_VALID if result.complete else EXIT_UNKNOWN
