"""Build gtcheck, compiling the model and some kernel helpers with mypyc when possible.

Environment:
  GTCHECK_NO_COMPILE=1        build pure Python (no mypyc, no C compiler needed)
  GTCHECK_REQUIRE_COMPILED=1  make any mypyc/C failure fatal (use in CI)
Without a working compiler (or if mypyc fails) the build prints one warning and
installs the pure-Python package; kernel/native.py then runs the .py sources.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
LINKS = Path("build") / "mypyc-links"     # the installed layout as links to the folders (no copies)
C_DIR = Path("build") / "mypyc-c"          # generated C
GROUP = "gtcheck.native"                   # shared library -> gtcheck/native__mypyc.*.so
MANIFEST = "_compiled.json"                # written into the gtcheck.kernel package
# The kernel's hot helpers, compiled with the model (an explicit list: the rest of the
# kernel, e.g. exactjson, is the checker's and stays interpreted). jsonlines: the writer
# the simulator streams every event through.
KERNEL_COMPILED = ("items", "itemspec", "units", "jsonlines")


def package_dir(dist: Distribution, package: str) -> Path:
    parts = package.split(".")
    for i in range(len(parts), 0, -1):     # longest mapped prefix wins, as in build_py
        prefix = ".".join(parts[:i])
        if prefix in dist.package_dir:
            return ROOT / dist.package_dir[prefix] / Path(*parts[i:])
    return ROOT / Path(*parts)


def compiled_modules(dist: Distribution) -> dict[str, Path]:
    """Installed module name -> source file in this checkout, for the modules the group
    compiles: the whole model and the kernel's hot helpers."""
    model = package_dir(dist, "gtcheck.model")
    mods = {f"gtcheck.model.{p.stem}": p for p in sorted(model.glob("*.py")) if p.name != "__init__.py"}
    for name in KERNEL_COMPILED:
        mods[f"gtcheck.kernel.{name}"] = package_dir(dist, "gtcheck.kernel") / f"{name}.py"
    return mods


def link_installed_layout(dist: Distribution) -> Path:
    """build/mypyc-links/gtcheck/ with links to src/gtcheck/__init__.py and to the kernel/
    and model/ folders. mypy names a module after the folders above its file, so through
    these links it reads model/rules.py as gtcheck.model.rules, as installed. Links, not
    copies: every source exists once."""
    shutil.rmtree(LINKS, ignore_errors=True)
    top = LINKS / "gtcheck"
    top.mkdir(parents=True)
    (top / "__init__.py").symlink_to(package_dir(dist, "gtcheck") / "__init__.py")
    for sub in ("kernel", "model"):
        (top / sub).symlink_to(package_dir(dist, f"gtcheck.{sub}"), target_is_directory=True)
    return LINKS


class Distribution_(Distribution):
    def has_ext_modules(self) -> bool:     # extensions are made lazily in build_ext
        return os.environ.get("GTCHECK_NO_COMPILE", "") in ("", "0")


_MODS: dict[str, str] | None = None       # module -> sha256 of the source compiled; set once per process
_MYPYC_S = 0.0
_FAILED = ""                               # why the compile was given up, for the manifest


class BuildExt(build_ext):
    """mypycify lazily (only when extensions are really built) and never fail the build
    unless GTCHECK_REQUIRE_COMPILED=1."""

    def finalize_options(self) -> None:
        global _MODS, _MYPYC_S
        dist = self.distribution   # build_ext may be re-initialized (editable_wheel does)
        metadata_only = set(dist.commands) <= {"egg_info", "dist_info", "sdist"}
        if dist.has_ext_modules() and _MODS is None and not metadata_only:
            t0 = time.monotonic()
            _MODS = {}
            try:
                # the hashes are taken before mypy reads the sources: a source edited
                # during the build is then seen as stale by gtcheck.kernel.native
                hashes = {m: hashlib.sha256(p.read_bytes()).hexdigest()
                          for m, p in compiled_modules(dist).items()}
                from mypyc.build import mypycify
                linked = link_installed_layout(dist)
                dist.ext_modules = mypycify(
                    ["--follow-imports=silent", "--ignore-missing-imports",
                     f"--cache-dir={Path('build') / 'mypy-cache'}",
                     *(str(linked / (m.replace(".", "/") + ".py")) for m in hashes)],
                    group_name=GROUP, target_dir=str(C_DIR),
                    opt_level=os.environ.get("GTCHECK_MYPYC_OPT", "3"))
                _MODS = hashes
            except (Exception, SystemExit) as e:   # mypyc sys.exit()s on type errors
                self._give_up(e)
            _MYPYC_S = time.monotonic() - t0
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def _give_up(self, e: BaseException) -> None:
        global _MODS, _FAILED
        if os.environ.get("GTCHECK_REQUIRE_COMPILED", "") not in ("", "0"):
            raise e
        why = ("mypy found type errors (above)" if isinstance(e, SystemExit)
               else f"{type(e).__name__}: {e}".splitlines()[0][:300])
        print(f"WARNING: gtcheck: could not compile the model with mypyc ({why}); "
              "installing pure Python (GTCHECK_REQUIRE_COMPILED=1 makes this an error).", file=sys.stderr)
        _MODS, _FAILED = {}, why
        self.extensions = self.distribution.ext_modules = []

    def run(self) -> None:
        manifest = ((package_dir(self.distribution, "gtcheck.kernel") if self.inplace
                     else Path(self.build_lib) / "gtcheck" / "kernel") / MANIFEST)
        manifest.unlink(missing_ok=True)
        if not _MODS:
            self._record_failure(manifest)
            return
        t0 = time.monotonic()
        try:
            super().run()
        except (Exception, SystemExit) as e:       # no compiler, compile/link error
            for ext in self.extensions:            # drop partial outputs (in build_lib)
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            self._give_up(e)
            self._record_failure(manifest)
            return
        import mypy.version
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(
            {"mypy": mypy.version.__version__, "group": GROUP,
             "modules": _MODS}, indent=1, sort_keys=True) + "\n")
        print(f"gtcheck: mypyc compiled {len(_MODS)} modules in "
              f"{_MYPYC_S:.1f}s + C {time.monotonic() - t0:.1f}s -> {manifest}",
              file=sys.stderr)


    @staticmethod
    def _record_failure(manifest: Path) -> None:
        """pip hides a build's output: leave the reason where gtcheck.model.REASON shows it."""
        if _FAILED:
            manifest.parent.mkdir(parents=True, exist_ok=True)
            manifest.write_text(json.dumps({"failed": _FAILED, "modules": {}}) + "\n")


setup(distclass=Distribution_, cmdclass={"build_ext": BuildExt})
