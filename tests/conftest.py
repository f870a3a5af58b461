"""Settings every test shares.

Hypothesis: no deadline. A deadline is a speed assumption, and the suite must pass with
every core busy (README "Tests"): a single example that takes 300 ms on a loaded machine is
not a failure. Hang guards stay where a test needs one (subprocess timeouts, solver
budgets). ``--hypothesis-profile`` still selects another profile."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("gtcheck", deadline=None)
settings.load_profile("gtcheck")
