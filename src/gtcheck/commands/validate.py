"""``gtcheck validate``: check that history files follow the history format."""

from __future__ import annotations

import click

from gtcheck.kernel.errors import ManyUserErrors, UserError

FORMATS = ("auto", "gt", "edn", "jepsen-log")


def _summary(path: str, stats: dict) -> str:
    regions = ", ".join(stats["regions"])
    extra = []
    if stats.get("pending"):
        extra.append(f"{stats['pending']} never completed")
    if stats.get("nemesis"):
        extra.append(f"{stats['nemesis']} nemesis events")
    if stats.get("format") not in (None, "gt"):
        extra.append(f"converted from {stats['format']}")
    tail = f" ({'; '.join(extra)})" if extra else ""
    return (f"ok  {path}: {stats['events']} events, {stats['operations']} operations, "
            f"{stats['keys']} keys, regions {regions}, mode {stats['mode']}{tail}")


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Input format; auto recognises gt histories (.jsonl, .jsonl.gz), Jepsen "
                   "EDN files and Jepsen text logs by their content.")
@click.option("-q", "--quiet", is_flag=True, help="Print problems only, not the ok lines.")
def validate(files: tuple[str, ...], fmt: str, quiet: bool) -> None:
    """Check that each FILE is a well-formed history; list every problem found.

    A valid file prints one summary line. A file with problems prints each of them with
    its line, field, what was expected and how to fix it; the exit code is then 254.
    Files of Jepsen histories (EDN, text logs) are converted in memory and checked as
    gt histories (see `gtcheck convert`).

    \b
    Example: this history
      {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"]}
      {"type": "invoke", "process": 0, "region": "us-east-1", "f": "write", "key": "k", "value": 1, "time": 10}
      {"type": "ok",     "process": 0, "time": 5}
    \b
    gives
      $ gtcheck validate h.jsonl
      error: h.jsonl:3: line 3, field "time": expected at least 10 (the time of
        line 2; times never decrease down the file), got 5
        hint: events must be written in the order they happened
      error: 1 of 1 file has problems (listed above)
      (exit code 254)
    \b
    and once fixed ("time": 15):
      $ gtcheck validate h.jsonl
      ok  h.jsonl: 2 events, 1 operations, 1 keys, regions us-east-1, eu-west-1, mode eventual

    The format itself is described in docs/history-format.md.
    """
    from gtcheck.checker.history import validate_file

    failed = 0
    for path in files:
        try:
            stats = validate_file(path, fmt)
        except ManyUserErrors as exc:
            failed += 1
            for err in exc.errors:
                click.echo(f"error: {err.render()}", err=True)
            continue
        except UserError as exc:
            failed += 1
            click.echo(f"error: {exc.render()}", err=True)
            continue
        if not quiet:
            click.echo(_summary(path, stats))
    if failed:
        raise UserError(
            f"{failed} of {len(files)} file{'s' if len(files) > 1 else ''} "
            f"{'have' if failed > 1 else 'has'} problems (listed above)",
            hint="fix them, or see docs/history-format.md for the format")
