"""``gtcheck convert``: translate histories between gt JSON Lines and Jepsen formats."""

from __future__ import annotations

import os

import click

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import check_target, writing

FROM_FORMATS = ("auto", "gt", "edn", "jepsen-log")
TO_FORMATS = ("auto", "gt", "edn")


def _json_option(value: str | None, name: str):
    if value is None:
        return None
    from gtcheck.kernel.exactjson import JSONProblem, parse_line

    try:  # exactly: an integer of any size stays an integer
        return parse_line(value.encode("utf-8", "surrogateescape"))
    except JSONProblem as exc:
        raise UserError(f"{name} takes a JSON value such as 0, null or \"x\"; got {value[:80]!r} "
                        f"({exc.message})",
                        hint="quote strings for the shell: --initial '\"empty\"'") from None


@click.command("convert")
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--from", "from_", type=click.Choice(FROM_FORMATS), default="auto",
              show_default=True, help="Input format (auto: by name and content).")
@click.option("--to", "to", type=click.Choice(TO_FORMATS), default="auto", show_default=True,
              help="Output format (auto: edn when OUT ends in .edn, else gt).")
@click.option("--key", default=None,
              help="Key of the single register of a Jepsen history [default: r].")
@click.option("--initial", default=None, metavar="JSON",
              help="Initial value of the imported register(s), as JSON "
                   "[default: 0 for EDN (Knossos), null for Jepsen logs].")
@click.option("--independent/--no-independent", default=None,
              help="Jepsen values are [key value] tuples (one register per key) "
                   "[default: detected].")
@click.option("--nil-read", type=click.Choice(("auto", "unconstrained", "absent")),
              default="auto", show_default=True,
              help="What a read returning nil means: unconstrained (Knossos: matches any "
                   "value; EDN default) or absent (no such key; Jepsen log default).")
@click.option("--region", default=None,
              help="Region name given to imported Jepsen operations [default: jepsen].")
def convert(source: str, target: str, from_: str, to: str, key: str | None,
            initial: str | None, independent: bool | None, nil_read: str,
            region: str | None) -> None:
    """Convert the history IN into OUT (gt JSON Lines or Jepsen EDN).

    Jepsen histories (Knossos EDN files, Jepsen text logs) become gt histories of one
    register in strong mode; the file order is taken as the real-time order. The result is
    validated before it is written: OUT is only created for a valid history.

    \b
    Examples:
      gtcheck convert knossos/cas-register/good/memstress3-0.edn r.jsonl
      gtcheck convert etcd_000.log etcd.jsonl           # nil reads mean "absent"
      gtcheck convert histories/run.jsonl run.edn       # Jepsen independent [key v] values
      gtcheck convert run.edn again.jsonl               # back, header kept
    """
    from gtcheck.kernel import jepsen
    from gtcheck.kernel.files import detect_format
    from gtcheck.checker.history import header_to_dict, open_history, write_history

    if from_ == "auto":
        if not os.path.exists(source):
            raise UserError("no such file", where=source)
        from_ = detect_format(source)
    if to == "auto":
        to = "edn" if target.lower().endswith((".edn", ".edn.gz")) else "gt"

    options: dict = {}
    if from_ == "gt":
        given = [name for name, v in (("--key", key), ("--initial", initial),
                                      ("--independent", independent), ("--region", region))
                 if v is not None]
        if nil_read != "auto":
            given.append("--nil-read")
        if given:
            raise UserError(f"{', '.join(given)} apply to Jepsen inputs only, not to a gt "
                            "history", hint="leave them out, or use --from edn / jepsen-log")
    else:
        if key is not None:
            options["key"] = key
        if initial is not None:
            options["initial"] = _json_option(initial, "--initial")
        if independent is not None:
            options["independent"] = independent
        if nil_read != "auto":
            options["nil_read"] = nil_read
        if region is not None:
            options["region"] = region

    reader = open_history(source, from_, **options)
    header = reader.header_dict or header_to_dict(reader.header)

    # the one output writer: OUT appears (or is replaced) only when the whole history was
    # valid; a FIFO, a device or a symlink at OUT is written through, never replaced
    check_target(target, "OUT")
    if to == "gt":
        n = write_history(target, header, (ev for _, ev in reader.events()))
    else:
        lines = jepsen.export_edn(header, reader.events(), where=reader.where)
        n = _write_text(target, lines)
    stats = reader.stats
    click.echo(
        f"converted {source} ({from_}) -> {target} ({to}): {n} events, "
        f"{stats['operations']} operations, {stats['keys']} keys", err=True)


def _write_text(path: str, lines) -> int:
    """Write lines of text (``-``: standard output; ``.gz`` compresses); returns the number
    of event lines (all but the header comment and the closing bracket)."""
    n = -2
    with writing(path, text=True) as fh:
        for line in lines:
            fh.write(line + "\n")
            n += 1
    return max(n, 0)
