"""What search, explore and the pytest fixture accept as properties, and how they refuse:
an ``--invariant`` module is found in the current directory (as pytest finds a test's),
or the error says where it looked and how to fix it; the fixture takes what the commands
take and its errors name its arguments; a property the checker could not decide is not
reported as holding; networkx is optional."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gtcheck.kernel.errors import UserError
from gtcheck.search.gate import PropertyViolated, holds_by_exploration, holds_by_search
from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "histories" / "scenarios" / "behaviours" / "lost-update.toml"
TWO_CREATES = {"name": "two", "regions": {"names": ["us-east-1", "eu-west-1"], "copies": 1,
                                          "write_quorum": 1},
               "script": [{"at": "0s", "region": r, "f": "cas", "key": "k", "new": {"owner": r}}
                          for r in ("us-east-1", "eu-west-1")]}
# the installed command as a user runs it: the current directory is NOT on its path
# (-I: isolated, as a console script is), so only gtcheck's own lookup can find myapp
GTCHECK = [sys.executable, "-I", "-W", "ignore", "-c", "from gtcheck.cli import main; main()"]


def _project(tmp_path: Path) -> Path:
    app = tmp_path / "myapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "checks.py").write_text(textwrap.dedent('''
        def never_two_owners(run):
            owners = [o for o in run.operations() if o["f"] == "cas" and o.get("type") == "ok"]
            return None if len(owners) <= 1 else ("two creates succeeded", [o["index"] for o in owners])
    '''))
    return tmp_path


def test_an_invariant_module_in_the_current_directory_is_found(tmp_path):
    proj = _project(tmp_path)
    scenario = proj / "two.toml"
    scenario.write_text(SCENARIO.read_text())
    res = subprocess.run([*GTCHECK, "explore", "--scenario", str(scenario), "--invariant",
                          "myapp.checks:never_two_owners", "-o", str(proj / "out")],
                         cwd=proj, capture_output=True, text=True, timeout=600)
    assert res.returncode in (0, 1), res.stderr
    assert "myapp.checks:never_two_owners" in res.stdout


def test_an_invariant_module_nowhere_says_where_it_looked_and_how_to_fix_it(tmp_path):
    res = subprocess.run([*GTCHECK, "search", "--scenario", str(SCENARIO), "--invariant",
                          "nosuchapp.checks:f", "-o", str(tmp_path / "out")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert res.returncode == 254, res.stderr
    assert "Traceback" not in res.stderr
    assert "--invariant" in res.stderr and str(tmp_path) in res.stderr
    assert "PYTHONPATH=" in res.stderr and "nosuchapp/" in res.stderr


def test_the_fixture_takes_a_checker_property_and_names_its_arguments(tmp_path):
    # explore with the checker's integrity: every run's history is judged
    ex = holds_by_exploration(TWO_CREATES, prop="integrity", out=tmp_path / "a")
    assert ex.complete and ex.properties["integrity"]["holds"]
    with pytest.raises(UserError) as err:
        holds_by_exploration(TWO_CREATES, prop="no_such_property", out=tmp_path / "b")
    assert err.value.where == "property=" and "invariant= module:function" in err.value.render()
    with pytest.raises(UserError) as err:
        holds_by_search(SCENARIO, prop="staleness", out=tmp_path / "c")
    assert "needs staleness_bound=" in str(err.value) and "--" not in err.value.render()
    with pytest.raises(UserError) as err:
        holds_by_search(SCENARIO, prop="staleness", staleness_bound="soon", out=tmp_path / "d")
    assert err.value.where == "staleness_bound="
    with pytest.raises(UserError) as err:
        holds_by_exploration(TWO_CREATES, invariant="nosuchapp:f", out=tmp_path / "e")
    assert err.value.where == "invariant="


def test_a_property_the_checker_cannot_decide_is_not_shown_to_hold(tmp_path, capsys):
    """Explored runs have no final reads, so the checker's convergence is unknown on each:
    exploring cannot show it holds (exit 2, and the fixture fails), though no run breaks it."""
    with pytest.raises(PropertyViolated, match="could not decide"):
        holds_by_exploration(TWO_CREATES, prop="convergence", out=tmp_path / "a")
    scenario = tmp_path / "two.toml"
    scenario.write_text(SCENARIO.read_text())
    code, out, _ = run_cli(["explore", "--scenario", scenario, "--property", "convergence",
                            "-o", tmp_path / "out"], capsys)
    assert code == 2 and "convergence: UNDECIDED" in out


def test_explore_needs_no_networkx_and_keeping_the_graph_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    """The explorer keeps fingerprints, not a graph: it runs without networkx; asking the
    API for the graph (keep_graph) without networkx is bad input naming the extra."""
    from gtcheck.model.scenario import load_scenario
    from gtcheck.search.explore import explore

    monkeypatch.setitem(sys.modules, "networkx", None)     # import networkx now fails
    scenario = tmp_path / "two.toml"
    scenario.write_text(SCENARIO.read_text())
    code, out, err = run_cli(["explore", "--scenario", scenario], capsys)
    assert code == 0 and out.startswith("complete"), err
    with pytest.raises(UserError, match="networkx") as e:
        explore(load_scenario(scenario), keep_graph=True)
    assert "pip install 'gtcheck[explore]'" in str(e.value.hint)
