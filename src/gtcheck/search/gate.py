"""The CI gate (pytest plugin, ``gtcheck_model`` fixture): "this property holds for my
workload under these faults", by search or by exploration, in a few lines of a test.

    def test_counter_is_safe(gtcheck_model):
        gtcheck_model.holds_by_search("scenarios/counter.toml", invariant="counter_matches_increments",
                                      budget=200)

    def test_two_writers(gtcheck_model):
        gtcheck_model.holds_by_exploration("scenarios/two-writers.toml", invariant="myapp.checks:one_owner")

On a violation the test fails with the shrunk explanation and the paths of the
counterexample files (written under the test's ``tmp_path``, or ``out``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gtcheck.model.scenario import Scenario, load_scenario, scenario_from_dict


class PropertyViolated(AssertionError):
    pass


def _scenario(scenario: str | Path | dict[str, Any] | Scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario, name=scenario.get("name", "test"))
    return load_scenario(scenario)


def _names(prop: str | None, invariant: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return ((prop,) if prop else ()), ((invariant,) if invariant else ())


# The fixture takes what the commands take: property= is --property (a checker property,
# valid, or a shipped invariant), invariant= is --invariant (module:function, found on the
# path or in the current directory, or a shipped name), staleness_bound= is
# --staleness-bound; errors name these arguments.


def holds_by_search(scenario: Any, *, prop: str | None = None, invariant: str | None = None,
                    staleness_bound: str | None = None, budget: int = 100, seed: int = 0,
                    max_requests: int = 6, out: str | Path = "gtcheck-counterexample") -> Any:
    """Search ``scenario``'s runs for one breaking the property; raise ``PropertyViolated``
    (an AssertionError) with the explanation and the counterexample's files if found."""
    __tracebackhide__ = True
    from gtcheck.search.run import FIXTURE, parse_bound, properties
    from gtcheck.search.search import search, write_counterexample

    bound = parse_bound(staleness_bound, FIXTURE)
    name, judge = properties(*_names(prop, invariant), bound, FIXTURE)
    result = search(_scenario(scenario), judge, budget=budget, seed=seed, max_requests=max_requests)
    if result.found is not None:
        files = write_counterexample(result, Path(out), name, bound_ns=bound)
        raise PropertyViolated(
            f"{name} does not hold: a counterexample of {result.requests} client request(s) "
            f"(shrunk; found at run {result.runs_to_find} of {result.runs}).\n{result.explanation}\n"
            + "\n".join(f"  {role}: {path}" for role, path in files.items()))
    return result


def holds_by_exploration(scenario: Any, *, prop: str | None = None, invariant: str | None = None,
                         staleness_bound: str | None = None, max_states: int = 100_000,
                         out: str | Path = "gtcheck-counterexample",
                         require_complete: bool = True) -> Any:
    """Explore every run of a scripted ``scenario``; raise ``PropertyViolated`` on a
    violation (with the shortest path's files) or, with ``require_complete``, when
    ``max_states`` stopped the exploration or a property could not be decided on some run
    (the property was then not shown to hold)."""
    __tracebackhide__ = True
    from gtcheck.search.explore import explore, write_counterexamples
    from gtcheck.search.run import FIXTURE, parse_bound, property_list

    checks = property_list(*_names(prop, invariant), parse_bound(staleness_bound, FIXTURE),
                           FIXTURE)
    sc = _scenario(scenario)
    ex = explore(sc, max_states=max_states, invariants=checks)
    if not ex.holds:
        write_counterexamples(ex, sc, Path(out))
        lines = []
        for pname, p in ex.properties.items():
            if not p["holds"]:
                lines.append(f"{pname} does not hold: {p['message']}")
                lines.append("  shortest path: " + "; ".join(p["path"]))
                lines += [f"  {role}: {path}" for role, path in (p["counterexample"] or {}).items()]
        raise PropertyViolated("\n".join(lines))
    if require_complete and not ex.complete:
        raise PropertyViolated(f"the exploration stopped at {max_states} states before it was complete "
                               f"(raise max_states): the property was not shown to hold")
    if require_complete and not ex.decided:
        why = "; ".join(f"{n}: {p['undecided']}" for n, p in ex.properties.items()
                        if "undecided" in p)
        raise PropertyViolated(f"the checker could not decide the property on some run ({why}): "
                               "it was not shown to hold")
    return ex


class Gate:
    """What the ``gtcheck_model`` fixture gives: the two checks, writing under ``base``."""

    def __init__(self, base: Path):
        self.base = base
        self.n = 0

    def _out(self) -> Path:
        self.n += 1
        return self.base / f"counterexample-{self.n}"

    def holds_by_search(self, scenario: Any, property: str | None = None, **kw: Any) -> Any:  # noqa: A002
        __tracebackhide__ = True
        kw.setdefault("out", self._out())
        return holds_by_search(scenario, prop=property, **kw)

    def holds_by_exploration(self, scenario: Any, property: str | None = None, **kw: Any) -> Any:  # noqa: A002
        __tracebackhide__ = True
        kw.setdefault("out", self._out())
        return holds_by_exploration(scenario, prop=property, **kw)
