"""The compiled build (mypyc): it is what the install built, it gives the same bytes as the
interpreted source, ``GTCHECK_PURE_PYTHON=1`` really runs the source, and an edited source is
never shadowed by a stale compiled module.

``setup.py`` compiles ``model/*.py`` and the kernel's hot helpers into one group and writes
``kernel/_compiled.json``; ``kernel/native.py`` chooses at import time. The
compiled-vs-interpreted comparisons run each implementation in a child process of its own
(``GTCHECK_PURE_PYTHON`` is read once, at import).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest

from gtcheck.kernel import native

ROOT = Path(__file__).resolve().parents[2]
NO_COMPILE = os.environ.get("GTCHECK_NO_COMPILE", "") not in ("", "0")
needs_compiled = pytest.mark.skipif(NO_COMPILE, reason="GTCHECK_NO_COMPILE is set: this install is pure Python")

MODEL_MODULES = sorted(f"gtcheck.model.{p.stem}" for p in (ROOT / "model").glob("*.py") if p.stem != "__init__")
KERNEL_MODULES = ["gtcheck.kernel.items", "gtcheck.kernel.itemspec", "gtcheck.kernel.units",
                  "gtcheck.kernel.jsonlines"]   # setup.py's KERNEL_COMPILED
SEEDS = (1, 4, 9)            # the goldens use 1, 2, 7: these add coverage
BUG_SEEDS = (1, 3)


def _env(implementation: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GTCHECK_PURE_PYTHON"}
    if implementation == "interpreted":
        env["GTCHECK_PURE_PYTHON"] = "1"
    return env


def _child(code: str, implementation: str, *args: str, cwd: Path | None = None,
           env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd or tempfile.gettempdir(),
                         env=env if env is not None else _env(implementation),
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr
    return run


# ------------------------------------------------------------------ what was built

_WHAT_RUNS = """
import json, sys, importlib
import gtcheck.model as m
mods = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}
print(json.dumps({"implementation": m.implementation(), "reason": m.REASON, "files": mods,
                  "group_loaded": "gtcheck.native__mypyc" in sys.modules}))
"""


def _what_runs(implementation: str) -> dict[str, Any]:
    run = _child(_WHAT_RUNS, implementation, *MODEL_MODULES, *KERNEL_MODULES)
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@needs_compiled
def test_the_install_is_compiled() -> None:
    """The install compiled every model module and the kernel's hot helpers, and a process
    without GTCHECK_PURE_PYTHON runs them (in CI, GTCHECK_REQUIRE_COMPILED=1 already made a
    failed compile fail the install)."""
    manifest = json.loads(native.MANIFEST.read_text()) if native.MANIFEST.exists() else None
    assert manifest is not None, ("no kernel/_compiled.json: the install did not compile the model "
                                  "(reinstall with `pip install -e .`; GTCHECK_REQUIRE_COMPILED=1 shows why)")
    assert sorted(manifest["modules"]) == sorted(MODEL_MODULES + KERNEL_MODULES)
    what = _what_runs("compiled")
    assert what["implementation"] == "compiled", what["reason"]
    for name, file in what["files"].items():
        assert file.endswith(".so") or file.endswith(".pyd"), f"{name} loaded from {file}"
    assert what["group_loaded"]


@needs_compiled
def test_compiled_modules_have_their_installed_names() -> None:
    """mypyc names an extension after its source path: the build must present model/x.py
    as gtcheck.model.x, never as a top-level model.x (nor the group as a top-level name)."""
    what = _what_runs("compiled")
    for name, file in what["files"].items():
        leaf = name.rsplit(".", 1)[1]
        assert Path(file).name.startswith(leaf + "."), (name, file)
    probe = _child("import importlib.util as u, sys; "
                   "print([n for n in ('model', 'checker', 'native__mypyc') if u.find_spec(n)])", "compiled")
    assert probe.stdout.strip() == "[]"
    import gtcheck
    group = [p.name for p in Path(gtcheck.__file__).parent.glob("native__mypyc*")]
    assert group, "the shared library of the compiled group is not in the gtcheck package"


def test_pure_python_env_loads_the_source() -> None:
    what = _what_runs("interpreted")
    assert what["implementation"] == "interpreted"
    assert what["reason"] == "GTCHECK_PURE_PYTHON is set"
    for name, file in what["files"].items():
        assert file.endswith(".py"), f"{name} loaded from {file} despite GTCHECK_PURE_PYTHON=1"
    assert not what["group_loaded"]


# ------------------------------------------------------------------ same bytes

_HASHES = """
import hashlib, io, json, random, sys
from pathlib import Path
import gtcheck.model as m
from gtcheck.model.scenario import load_scenario
from gtcheck.model.simulator import simulate
from gtcheck.model.globaltables import GlobalTables
args = json.loads(sys.argv[1])
out = {"implementation": m.implementation(), "reason": m.REASON}
for path, seed, bug in args["runs"]:
    history, truth = io.BytesIO(), io.BytesIO()
    simulate(load_scenario(Path(path)), seed, history, truth, bug=bug)
    out[f"{path}@{seed}:{bug}"] = [hashlib.sha256(history.getvalue()).hexdigest(),
                                   hashlib.sha256(truth.getvalue()).hexdigest()]
for path, seed in args["walks"]:   # the relation as the explorer walks it: a seeded random walk
    h = hashlib.sha256()
    try:
        model, rng = GlobalTables(load_scenario(Path(path)), observe=True), random.Random(seed)
        state, history = model.init()[0], []
        for _ in range(300):
            actions = model.actions(state)
            if not actions:
                break
            state, events = model.next(state, actions[rng.randrange(len(actions))])
            history += events
            h.update(repr(model.encode(state)).encode())
        h.update(json.dumps(history, sort_keys=True).encode())
    except Exception as e:
        h.update(repr(e).encode())
    out[f"walk {path}@{seed}"] = h.hexdigest()
print(json.dumps(out))
"""


def _scenarios() -> list[Path]:
    base = ROOT / "histories" / "scenarios"
    return (sorted(base.glob("*.toml")) + sorted((base / "behaviours").glob("*.toml"))
            + sorted((base / "forecast").glob("pareto*.toml")))      # the Pareto and mixture families


def _hashes(implementation: str, runs: list[Any], walks: list[Any]) -> dict[str, Any]:
    run = _child(_HASHES, implementation, json.dumps({"runs": runs, "walks": walks}))
    result: dict[str, Any] = json.loads(run.stdout)
    reason = result.pop("reason")
    assert result.pop("implementation") == implementation, reason
    return result


@needs_compiled
def test_compiled_and_interpreted_give_identical_bytes() -> None:
    """Every example and behaviour scenario on several seeds, every mutant, and seeded walks
    of the relation as the explorer takes it: the histories, ground truth and state
    encodings are the same bytes."""
    scenarios = _scenarios()
    assert len(scenarios) >= 10
    runs: list[Any] = [[str(p), s, None] for p in scenarios for s in SEEDS]
    from gtcheck.model.simulator import BUGS
    bug_scenario = ROOT / "histories" / "scenarios" / "isolation.toml"
    runs += [[str(bug_scenario), s, b] for b in BUGS for s in BUG_SEEDS]
    walks: list[Any] = [[str(p), s] for p in scenarios if "behaviours" in p.parts for s in SEEDS]
    compiled = _hashes("compiled", runs, walks)
    interpreted = _hashes("interpreted", runs, walks)
    assert len(compiled) == len(runs) + len(walks)
    differ = sorted(k for k in compiled if compiled[k] != interpreted[k])
    assert not differ, f"compiled and interpreted differ on {len(differ)} runs: {differ[:5]}"


# ------------------------------------------------------------------ never a stale compiled module

SUFFIX = native.importlib.machinery.EXTENSION_SUFFIXES[0]   # this interpreter's, e.g. .cpython-311-...so


def _fake_build(tmp_path: Path, source: str = "X = 1\n") -> tuple[Path, Path]:
    """A package ``fake`` whose module ``mod`` was 'compiled' from ``source``."""
    pkg = tmp_path / "fake"
    pkg.mkdir()
    (pkg / "mod.py").write_text(source)
    (pkg / f"mod{SUFFIX}").write_bytes(b"")
    manifest = tmp_path / "_compiled.json"
    manifest.write_text(json.dumps({"mypy": "1.19.1", "modules": {
        "fake.mod": hashlib.sha256(source.encode()).hexdigest()}}))
    return pkg, manifest


def _decide(manifest: Path, pkg: Path, environ: dict[str, str] | None = None) -> tuple[bool, str]:
    return native._decide(manifest, lambda package: [str(pkg)] if package == "fake" else [], environ or {})


def test_native_decides_compiled_when_sources_match(tmp_path: Path) -> None:
    pkg, manifest = _fake_build(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _decide(manifest, pkg) == (True, "compiled with mypyc 1.19.1")


def test_native_refuses_an_edited_source(tmp_path: Path) -> None:
    pkg, manifest = _fake_build(tmp_path)
    (pkg / "mod.py").write_text("X = 2\n")
    with pytest.warns(RuntimeWarning, match="older than their source") as caught:
        compiled, reason = _decide(manifest, pkg)
    assert not compiled and str(pkg / "mod.py") in reason and "interpreted" in reason
    assert len(caught) == 1


def test_native_other_reasons_for_the_source(tmp_path: Path) -> None:
    pkg, manifest = _fake_build(tmp_path)
    assert _decide(manifest, pkg, {"GTCHECK_PURE_PYTHON": "1"}) == (False, "GTCHECK_PURE_PYTHON is set")
    assert _decide(manifest, pkg, {"GTCHECK_PURE_PYTHON": "0"})[0]
    assert _decide(tmp_path / "missing.json", pkg) == (False, "not compiled (no kernel/_compiled.json)")
    (pkg / f"mod{SUFFIX}").unlink()
    assert _decide(manifest, pkg) == (False, "no compiled extension for fake.mod")
    manifest.write_text("{")
    assert not _decide(manifest, pkg)[0]
    manifest.write_text(json.dumps({"failed": "CompileError: command 'gcc' failed", "modules": {}}))
    assert _decide(manifest, pkg) == (False, "not compiled: the install could not compile "
                                             "(CompileError: command 'gcc' failed)")


_RUN_COPY = """
import io, json, hashlib, sys, warnings
warnings.simplefilter("default")
import gtcheck.model as m, gtcheck.model.lww as lww
from gtcheck.model.scenario import load_scenario
from gtcheck.model.simulator import simulate
history = io.BytesIO()
simulate(load_scenario(sys.argv[1]), 1, history, None)
print(json.dumps({"implementation": m.implementation(), "lww": lww.__file__, "model": m.__file__,
                  "sha": hashlib.sha256(history.getvalue()).hexdigest()}))
"""


@needs_compiled
def test_an_edited_copy_of_the_installed_package_falls_back(tmp_path: Path) -> None:
    """End to end, on a copy of the installed package (the repository is not touched): the
    copy runs compiled; once a compiled module's source is edited, it warns once and runs
    the source, with the same output."""
    import importlib

    import gtcheck
    copy = tmp_path / "site" / "gtcheck"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(Path(gtcheck.__file__).parent, copy, ignore=ignore)
    for sub in ("kernel", "model", "checker"):    # packages installed from other folders
        shutil.rmtree(copy / sub, ignore_errors=True)
        where = Path(importlib.import_module(f"gtcheck.{sub}").__file__).parent
        shutil.copytree(where, copy / sub, ignore=ignore)
    env = dict(_env("compiled"), PYTHONPATH=str(tmp_path / "site"))
    scenario = str(ROOT / "histories" / "scenarios" / "isolation.toml")

    before = json.loads(_child(_RUN_COPY, "compiled", scenario, cwd=tmp_path, env=env).stdout)
    assert before["implementation"] == "compiled"
    assert Path(before["model"]).is_relative_to(copy) and before["lww"].endswith(".so")

    lww = copy / "model" / "lww.py"
    lww.write_text(lww.read_text() + "\n# edited after compiling\n")
    run = _child(_RUN_COPY, "compiled", scenario, cwd=tmp_path, env=env)
    after = json.loads(run.stdout)
    assert after["implementation"] == "interpreted"
    assert after["lww"] == str(lww)
    assert after["sha"] == before["sha"]
    warned = [line for line in run.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and str(lww) in warned[0] and "older than their source" in warned[0], run.stderr
