"""The optional extra this package needs, checked before any work (exit 254 when absent)."""

from __future__ import annotations

import importlib

from gtcheck.kernel.errors import UserError

INSTALL = "pip install 'gtcheck[forecast]'"
NEEDED = ("numpy", "scipy")


def require(command: str) -> None:
    """Raise a UserError (exit 254) naming what ``command`` needs and how to install it."""
    missing = []
    for name in NEEDED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise UserError(f"{command} needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                        "not installed", hint=f"install the forecast extra: {INSTALL}")
