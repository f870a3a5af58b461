"""``python -m gtcheck``: the same as the ``gtcheck`` command."""

from gtcheck.cli import main

main()
