"""One module per ``gtcheck`` subcommand; each exposes a click command."""
