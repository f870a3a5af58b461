"""Generating counterexamples: a shrinking search (``search``), a bounded exhaustive
explorer (``explore``), the application invariants they check (``invariants``) and the
Hypothesis strategies they draw runs from (``strategies``, public). This layer sits
between the command line and the model and checker: it is the one place that uses both.
See docs/search.md."""
