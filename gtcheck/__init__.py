"""gtcheck: an executable model of DynamoDB global tables and a consistency checker.

The package ``gtcheck`` holds what both sides share (errors, the command line);
``model`` produces histories and ``checker`` judges them. Data flows one way:
scenario -> model -> history -> checker -> verdict -> report.
"""

__version__ = "0.1.0"
