"""The kernel: what the model, the checker and the command line all share.

The history format's vocabulary, item semantics (rule 8), errors and units. It imports
nothing else of gtcheck, so every other layer can depend on it without reaching up:

    gtcheck.cli / gtcheck.commands   (the roof: imports everything)
    gtcheck.model   gtcheck.checker  (import only the kernel, never each other)
    gtcheck.kernel                   (imports nothing of ours)

The layers are an import-linter contract (``[tool.importlinter]`` in pyproject.toml),
checked by ``tests/test_layers.py``.
"""

__version__ = "0.1.0"
