"""The ``gtcheck`` command: a click group whose subcommands live in ``gtcheck.commands``.

Every failure reaches the user as a message and an exit code (Jepsen's convention):
0 valid, 1 invalid, 2 unknown, 254 bad input or arguments, 255 internal error.
Tracebacks are shown only with ``GTCHECK_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from gtcheck import __version__
from gtcheck.kernel.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, UserError

# name -> "module:attribute"; imported lazily so `gtcheck --help` stays fast and a
# broken optional part cannot take the whole command down.
COMMANDS = {
    "simulate": "gtcheck.commands.simulate:simulate",
    "validate": "gtcheck.commands.validate:validate",
    "convert": "gtcheck.commands.convert:convert",
    "check": "gtcheck.commands.check:check",
    "report": "gtcheck.commands.report:report",
    "demo": "gtcheck.commands.demo:demo",
    "emulate": "gtcheck.commands.emulate:emulate",
    "emulator": "gtcheck.commands.emulate:emulator",
    "run": "gtcheck.commands.run:run",
    "search": "gtcheck.commands.search:search",
    "explore": "gtcheck.commands.explore:explore",
    "predict": "gtcheck.commands.predict:predict",
    "fit": "gtcheck.commands.fit:fit",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        return getattr(module, attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gtcheck")
def cli() -> None:
    """Model DynamoDB global tables and check what their histories show.

    \b
    Quick start:
      gtcheck demo                      # simulate, check and report on defaults
      gtcheck simulate --scenario histories/scenarios/isolation.toml --seed 1 -o histories/run.jsonl
      gtcheck check histories/run.jsonl --staleness-bound 750ms

    Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 internal error.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the group and turn every failure into an exit code."""
    try:
        rv = cli.main(args=argv, prog_name="gtcheck", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):   # click turns Ctrl-C into Abort
            click.echo("interrupted", err=True)
            sys.exit(130)
        click.echo("aborted", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as exc:  # usage errors: bad option, missing file
        exc.show()
        sys.exit(EXIT_BAD_INPUT)
    except UserError as exc:
        if os.environ.get("GTCHECK_DEBUG") and exc.__cause__ is not None:
            import traceback     # where the user's own code (an invariant) failed

            traceback.print_exception(exc.__cause__)
        click.echo(f"error: {exc.render()}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("GTCHECK_DEBUG"):
            import traceback     # only on this path: it costs start-up time on every run

            traceback.print_exc()
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in gtcheck; rerun with GTCHECK_DEBUG=1 for a traceback and report it",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
