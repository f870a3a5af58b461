"""The package's layers and names (issue: model core, packaging).

The repository keeps ``model/`` and ``checker/`` at its top, but they install as
``gtcheck.model`` and ``gtcheck.checker``. import-linter's graph builder reads a package from
its folder, so the test lays the sources out under their installed names in a scratch tree
and runs the contract of ``pyproject.toml`` there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _stage(dest: Path) -> Path:
    pkg = dest / "gtcheck"
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd")
    shutil.copytree(ROOT / "gtcheck", pkg, ignore=ignore)
    shutil.copytree(ROOT / "model", pkg / "model", ignore=ignore)
    shutil.copytree(ROOT / "checker", pkg / "checker", ignore=ignore)
    return dest


def _lint_imports(stage: Path) -> subprocess.CompletedProcess:
    """Run pyproject.toml's import-linter contracts over the staged tree."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         " sys.argv = ['lint-imports', sys.argv[1]]; lint_imports_command()",
         str(ROOT / "pyproject.toml")],
        cwd=stage, env=dict(os.environ, PYTHONPATH=str(stage)), capture_output=True, text=True,
        timeout=300)


def test_import_linter_contract_holds(tmp_path: Path) -> None:
    pytest.importorskip("importlinter", reason="import-linter is in the test extra")
    stage = _stage(tmp_path)
    run = _lint_imports(stage)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "2 kept, 0 broken" in out, out


def test_a_broken_layer_is_caught(tmp_path: Path) -> None:
    """The contract is not vacuous: a kernel module importing the checker breaks it."""
    pytest.importorskip("importlinter", reason="import-linter is in the test extra")
    stage = _stage(tmp_path)
    bad = stage / "gtcheck" / "kernel" / "units.py"
    bad.write_text(bad.read_text() + "\nfrom gtcheck.checker import operations  # noqa\n")
    run = _lint_imports(stage)
    assert run.returncode != 0
    assert "gtcheck.kernel.units -> gtcheck.checker.operations" in run.stdout + run.stderr


_CYCLES = """
import sys, grimp
g = grimp.build_graph("gtcheck")
found = set()
for m in sorted(g.modules):
    for n in sorted(g.find_modules_directly_imported_by(m)):
        chain = g.find_shortest_chain(importer=n, imported=m)
        if chain:
            found.add(" -> ".join((m,) + tuple(chain)))
print("\\n".join(sorted(found)))
"""


def test_no_import_cycles(tmp_path: Path) -> None:
    """No module reaches back to one that imports it, lazily or not (grimp sees both)."""
    pytest.importorskip("grimp", reason="grimp comes with import-linter, in the test extra")
    stage = _stage(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(stage))
    run = subprocess.run([sys.executable, "-c", _CYCLES], cwd=stage, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", "import cycles:\n" + run.stdout


def test_no_top_level_model_or_checker_is_installed() -> None:
    """Whatever way gtcheck was installed, ``import model`` must not find ours."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    for name in ("model", "checker"):
        assert not (purelib / name).exists(), f"site-packages/{name} exists"
        probe = subprocess.run(
            [sys.executable, "-c", f"import importlib.util as u; s = u.find_spec({name!r});"
             " print(s.origin if s else None)"],
            cwd=ROOT / "tests", capture_output=True, text=True, timeout=60)
        assert probe.stdout.strip() == "None", f"{name} resolves to {probe.stdout.strip()}"
    import gtcheck.checker
    import gtcheck.model
    assert Path(gtcheck.model.__file__).parent.name == "model"
    assert Path(gtcheck.checker.__file__).parent.name == "checker"


def test_a_wheel_has_only_the_gtcheck_package(tmp_path: Path) -> None:
    """A wheel built from the sources (pure Python: GTCHECK_NO_COMPILE=1, in an isolated
    build environment as ``pip install .`` does) holds one top-level package, gtcheck, with
    the model and the checker under it and the checker's templates. Compiled extensions are
    named after the same installed paths (tests/test_compiled.py checks the installed ones)."""
    import zipfile

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    import tomllib

    mapped = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"].get("package-dir", {})
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "_compiled.json")
    for folder in {"gtcheck", *(d.split("/")[0] for d in mapped.values())}:
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    env = dict(os.environ, GTCHECK_NO_COMPILE="1")
    env.pop("GTCHECK_REQUIRE_COMPILED", None)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                          str(src)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    (wheel,) = (tmp_path / "dist").glob("gtcheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"gtcheck"}, top
    assert len(top) == 2, top
    # every source module is in the wheel under its installed name (a sub-package left out of
    # [tool.setuptools] packages works in an editable install and breaks `pip install .`)
    installed_as = {"gtcheck": "gtcheck", **{d: pkg.replace(".", "/") for pkg, d in mapped.items()}}
    expected = {f"{prefix}/{py.relative_to(ROOT / folder).as_posix()}"
                for folder, prefix in installed_as.items()
                for py in (ROOT / folder).rglob("*.py") if "__pycache__" not in py.parts}
    missing = sorted(expected - set(names))
    assert not missing, f"not in the wheel (add their packages to pyproject.toml): {missing}"
    assert any(n.startswith("gtcheck/checker/templates/") for n in names)
    assert not any(n.endswith((".so", ".pyd")) for n in names)
