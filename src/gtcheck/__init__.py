"""gtcheck: an executable model of DynamoDB global tables and a consistency checker.

``gtcheck.kernel`` holds what every layer shares (format vocabulary, item semantics,
errors, units); ``gtcheck.model`` produces histories and ``gtcheck.checker`` judges them;
``gtcheck.cli`` and ``gtcheck.commands`` are the command line, the only layer that imports
the others. Data flows one way: scenario -> model -> history -> checker -> verdict -> report.
"""

from gtcheck.kernel import __version__

__all__ = ["__version__"]
