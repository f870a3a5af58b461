"""The kernel: what the model, the checker and the command line all share.

The history format's vocabulary, item semantics (rule 8 and the sequential item spec,
``itemspec``, that the model runs and the checker's register replays), errors and units. It imports
nothing else of gtcheck, so every other layer can depend on it without reaching up:

    gtcheck.cli / gtcheck.commands   (the roof: imports everything)
    gtcheck.model   gtcheck.checker  (import only the kernel, never each other)
    gtcheck.kernel                   (imports nothing of ours)

The layers are an import-linter contract (``[tool.importlinter]`` in pyproject.toml),
checked by ``tests/project/test_layers.py``.
"""

# First, before any gtcheck.kernel.* or gtcheck.model.* module is imported: choose, for the
# whole mypyc-compiled group at once, between the compiled extensions and the .py sources.
from gtcheck.kernel import native as _native  # noqa: E402,F401

__version__ = "0.1.0"
