"""The package's layers and names, on what ships: the wheel.

The folders of the repository are the layers (``kernel/``, ``model/`` and ``checker/``,
``src/gtcheck/``), installed as ``gtcheck.kernel``, ``gtcheck.model``, ``gtcheck.checker``
and ``gtcheck`` (pyproject.toml's package-dir). import-linter reads a package from one
folder, so its contracts run on the wheel that ``pip install .`` would install, built once
per session from the sources (pure Python, in an isolated build environment) and unpacked:
the contract is checked on the very files users get, and no copy of the sources is staged.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MAPPED: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout (GTCHECK_NO_COMPILE=1: no C compiler needed), with
    the setuptools the test extra installs (no build isolation: an isolated build would
    fetch its build requirements from the package index, so the test failed offline)."""
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, GTCHECK_NO_COMPILE="1")
    env.pop("GTCHECK_REQUIRE_COMPILED", None)
    # without build isolation setuptools builds in the checkout (build/, *.egg-info): one
    # build at a time, or two test workers building at once break each other's
    lock = Path(tempfile.gettempdir()) / ("gtcheck-wheel" + str(ROOT).replace("/", "-") + ".lock")
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        run = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                              "-w", str(out), str(ROOT)],
                             cwd=out, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    (built,) = out.glob("gtcheck-*.whl")
    return built


@pytest.fixture()
def unpacked(wheel: Path, tmp_path: Path) -> Path:
    """The wheel unpacked into a folder of its own (a site-packages holding only gtcheck)."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    return site


def _python(site: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=site, env=dict(os.environ, PYTHONPATH=str(site)),
                          capture_output=True, text=True, timeout=300)


def _lint_imports(site: Path) -> subprocess.CompletedProcess:
    """Run pyproject.toml's import-linter contracts over the unpacked wheel."""
    return _python(site, "import sys; from importlinter.cli import lint_imports_command;"
                         f" sys.argv = ['lint-imports', '--config', {str(ROOT / 'pyproject.toml')!r}];"
                         " lint_imports_command()")


def test_import_linter_contract_holds(unpacked: Path) -> None:
    run = _lint_imports(unpacked)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "6 kept, 0 broken" in out, out


@pytest.mark.parametrize("module,line,caught", [
    # a kernel module importing the checker breaks the layers
    ("kernel/units.py", "from gtcheck.checker import operations", "gtcheck.kernel.units -> gtcheck.checker.operations"),
    # the explorer importing the timed simulator breaks the drivers' contracts
    ("search/explore.py", "from gtcheck.model.simulator import Simulator",
     "gtcheck.search.explore -> gtcheck.model.simulator"),
])
def test_a_broken_contract_is_caught(unpacked: Path, module: str, line: str, caught: str) -> None:
    """The contracts are not vacuous: each import they forbid, added, breaks them."""
    bad = unpacked / "gtcheck" / module
    bad.write_text(bad.read_text() + f"\n{line}  # noqa\n")
    run = _lint_imports(unpacked)
    assert run.returncode != 0
    assert caught in run.stdout + run.stderr


def test_the_contracts_name_the_folders() -> None:
    """Every layer the contracts name is a folder of the repository (or a module of
    src/gtcheck), so the tree shows the layers the contracts enforce."""
    layers = [name.strip() for c in PYPROJECT["tool"]["importlinter"]["contracts"]
              for entry in c.get("layers", c.get("modules", [])) + c.get("source_modules", [])
              + c.get("forbidden_modules", []) for name in entry.split("|")]
    for module in layers:
        package = next((p for p in sorted(MAPPED, key=len, reverse=True)
                        if module == p or module.startswith(p + ".")), None)
        assert package is not None, module
        rest = module[len(package):].lstrip(".").replace(".", "/")
        where = ROOT / MAPPED[package] / rest
        assert where.is_dir() or where.with_suffix(".py").is_file(), (module, where)
    assert {MAPPED[p] for p in ("gtcheck.kernel", "gtcheck.model", "gtcheck.checker")} == {"kernel", "model", "checker"}
    assert not (ROOT / "gtcheck").exists(), "no gtcheck/ folder at the root: python3 -m gtcheck must not find it"


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


def test_no_import_cycles(unpacked: Path) -> None:
    """No module reaches back to one that imports it, lazily or not (grimp sees both)."""
    run = _python(unpacked, _CYCLES)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", "import cycles:\n" + run.stdout


def test_no_top_level_kernel_model_or_checker_is_installed() -> None:
    """Whatever way gtcheck was installed, ``import model`` must not find ours."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    for name in ("kernel", "model", "checker"):
        assert not (purelib / name).exists(), f"site-packages/{name} exists"
        probe = subprocess.run(
            [sys.executable, "-c", f"import importlib.util as u; s = u.find_spec({name!r});"
             " print(s.origin if s else None)"],
            cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=60)
        assert probe.stdout.strip() == "None", f"{name} resolves to {probe.stdout.strip()}"


def test_python_m_gtcheck_works_from_the_repository_root() -> None:
    """The checkout's root holds no gtcheck/ folder to shadow the installed package."""
    run = subprocess.run([sys.executable, "-m", "gtcheck", "--version"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gtcheck" in run.stdout


def test_a_wheel_has_only_the_gtcheck_package(wheel: Path) -> None:
    """The wheel holds one top-level package, gtcheck, with the kernel, the model and the
    checker under it and the checker's templates. Compiled extensions are named after the
    same installed paths (tests/model/test_compiled.py checks the installed ones)."""
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"gtcheck"}, top
    assert len(top) == 2, top
    # every source module is in the wheel under its installed name (a sub-package left out of
    # [tool.setuptools] packages works in an editable install and breaks `pip install .`)
    expected = set()
    for package, folder in MAPPED.items():
        prefix = package.replace(".", "/")
        for py in (ROOT / folder).rglob("*.py"):
            rel = py.relative_to(ROOT / folder)
            inner = rel.parts[0] if len(rel.parts) > 1 else None
            if "__pycache__" in rel.parts or (inner and f"{package}.{inner}" in MAPPED):
                continue                       # a mapped sub-package is counted under its own folder
            expected.add(f"{prefix}/{rel.as_posix()}")
    missing = sorted(expected - set(names))
    assert not missing, f"not in the wheel (add their packages to pyproject.toml): {missing}"
    assert any(n.startswith("gtcheck/checker/report/templates/") for n in names)
    assert not any(n.endswith((".so", ".pyd")) for n in names)
