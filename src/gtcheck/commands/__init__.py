"""One module per ``gtcheck`` subcommand; each exposes a click command."""

from __future__ import annotations

from typing import Any, Callable

import click


class EpilogFromRegistry(click.Command):
    """A command whose epilog is written when help is shown, by a function: help texts
    that list the checker's properties ask the registry then, so a property registered
    after the command was imported is listed too."""

    def __init__(self, *args: Any, epilog_of: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._epilog_of = epilog_of

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = self._epilog_of()
        super().format_epilog(ctx, formatter)
