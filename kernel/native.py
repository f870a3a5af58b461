"""Choose between the mypyc-compiled modules and their Python source.  Never compiled.

``setup.py`` compiles some modules (the model, a few kernel helpers) with mypyc into one
group and writes ``kernel/_compiled.json``: module name -> sha256 of the source it
compiled.  Compiled modules call each other natively (past ``sys.modules``), so the
choice is all or nothing: the compiled group is used only if every listed module's
``.py`` beside it still has the recorded hash and ``GTCHECK_PURE_PYTHON`` is not set.
Otherwise a meta-path finder placed ahead of ``PathFinder`` loads every module of those
packages from its ``.py`` with ``SourceFileLoader``, so no ``.so`` is ever imported.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Callable, Mapping, Sequence

try:    # CPython's own SHA-256 (hashlib's fallback), not OpenSSL's, whose loading costs every
    # gtcheck command about 2 ms of start-up: 3.12 and later call it _sha2, 3.11 _sha256
    from _sha2 import sha256 as _sha256_of   # type: ignore[import-not-found]
except ImportError:
    try:
        from _sha256 import sha256 as _sha256_of   # type: ignore[import-not-found,no-redef]
    except ImportError:
        from hashlib import sha256 as _sha256_of   # type: ignore[assignment]

MANIFEST = Path(__file__).with_name("_compiled.json")
PACKAGES = ("gtcheck.model", "gtcheck.kernel")   # packages that hold compiled modules
ENV = "GTCHECK_PURE_PYTHON"


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return _sha256_of(f.read()).hexdigest()


def _package_dirs(package: str) -> list[str]:
    spec = importlib.util.find_spec(package)     # locates it without executing it
    return list(spec.submodule_search_locations or []) if spec else []


def _decide(manifest_path: Path = MANIFEST,
            package_dirs: Callable[[str], list[str]] = _package_dirs,
            environ: Mapping[str, str] = os.environ) -> tuple[bool, str]:
    """(use the compiled group?, why). Warns (RuntimeWarning) when a source was edited
    after it was compiled. The arguments are for the tests."""
    if environ.get(ENV, "") not in ("", "0"):
        return False, f"{ENV} is set"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        modules: dict[str, str] = manifest["modules"]
    except FileNotFoundError:
        return False, "not compiled (no kernel/_compiled.json)"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return False, f"unreadable {manifest_path.name}: {e}"
    if manifest.get("failed"):
        return False, f"not compiled: the install could not compile ({manifest['failed']})"
    stale: list[str] = []
    for module, digest in sorted(modules.items()):
        package, _, leaf = module.rpartition(".")
        dirs = package_dirs(package)
        if not any(os.path.isfile(os.path.join(d, leaf + s))
                   for d in dirs for s in importlib.machinery.EXTENSION_SUFFIXES):
            return False, f"no compiled extension for {module}"
        source = next((os.path.join(d, leaf + ".py") for d in dirs
                       if os.path.isfile(os.path.join(d, leaf + ".py"))), None)
        if source is not None and _sha256(source) != digest:   # edited since it was compiled
            stale.append(source)
    if stale:
        reason = ("compiled modules are older than their source (" + ", ".join(stale) +
                  "); using the interpreted Python source. Rebuild with "
                  "`pip install -e .` to compile again.")
        warnings.warn(f"gtcheck: {reason}", RuntimeWarning, stacklevel=3)
        return False, reason
    return True, "compiled with mypyc " + manifest.get("mypy", "?")


class SourceFinder:
    """Loads the modules of PACKAGES from ``.py`` even when a ``.so`` sits beside it.

    A meta-path finder needs only ``find_spec`` (the import system asks nothing else); it
    does not subclass ``importlib.abc.MetaPathFinder``, whose module imports
    ``importlib.resources`` and through it ``tempfile``, ``shutil``, ``random``, all at
    the start-up of every ``gtcheck`` command."""

    def invalidate_caches(self) -> None:
        """Nothing cached (``importlib.invalidate_caches`` calls it when present)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        package, _, leaf = fullname.rpartition(".")
        if package not in PACKAGES or not path:
            return None
        for d in path:
            source = os.path.join(d, leaf + ".py")
            if os.path.isfile(source):
                loader = importlib.machinery.SourceFileLoader(fullname, source)
                return importlib.util.spec_from_file_location(fullname, source, loader=loader)
        return None


COMPILED, REASON = _decide()
if not COMPILED and not any(isinstance(f, SourceFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, SourceFinder())


def implementation() -> str:
    """'compiled' or 'interpreted': what this process runs."""
    return "compiled" if COMPILED else "interpreted"
