"""The model interface every driver runs: a transition system, Stateright/Porcupine-sized.

A model says four things, and nothing else is asked of it:

- ``init()``: its initial states;
- ``actions(state)``: the actions enabled in ``state`` (an empty list: the run is over);
- ``next(state, action)``: the state ``action`` leads to and the events it produced
  (history events, as dicts), without changing ``state``;
- ``fingerprint(state)``: a hashable digest, equal for states with the same future.

and, optionally, the properties its states must have (``properties()``). The explorer
(``gtcheck explore``, ``gtcheck.search.explore``) walks every path of any such model;
global tables (``gtcheck.model.globaltables.GlobalTables``) is one implementation, which
the timed simulator (``gtcheck.model.simulator``) also runs, choosing among the same
actions by time with seeded choices. A complete example a user writes, checked by
``gtcheck explore --model FILE:CLASS``: ``docs/examples/lost_update_model.py``.

States must be treated as values: ``next`` returns a new state (it may share unchanged
parts with the old one) and never changes the one it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable

from mypy_extensions import mypyc_attr

# The kinds of property, as Stateright names them.
ALWAYS = "always"          # holds in every reachable state (an invariant)
AT_END = "at_end"          # holds in every state where no action is enabled (a run's end)
SOMETIMES = "sometimes"    # holds in some reachable state (an example, not a safety property)
KINDS = (ALWAYS, AT_END, SOMETIMES)


@dataclass(frozen=True)
class Property:
    """``check(model, state)`` returns None when the property holds in ``state``, else a
    message saying why not (for ``sometimes``: None when ``state`` is an example)."""

    name: str
    kind: str
    check: Callable[[Any, Any], str | None]

    @staticmethod
    def always(name: str, check: Callable[[Any, Any], str | None]) -> "Property":
        return Property(name, ALWAYS, check)

    @staticmethod
    def at_end(name: str, check: Callable[[Any, Any], str | None]) -> "Property":
        return Property(name, AT_END, check)

    @staticmethod
    def sometimes(name: str, check: Callable[[Any, Any], str | None]) -> "Property":
        return Property(name, SOMETIMES, check)


@mypyc_attr(allow_interpreted_subclasses=True)
class Model:
    """Subclass it and give the four methods (and ``properties`` if the model has any)."""

    def init(self) -> list[Any]:
        raise NotImplementedError

    def actions(self, state: Any) -> list[Any]:
        raise NotImplementedError

    def next(self, state: Any, action: Any) -> tuple[Any, list[dict[str, Any]]]:
        raise NotImplementedError

    def fingerprint(self, state: Any) -> Hashable:
        """Default: the state itself (it must then be hashable, e.g. a tuple)."""
        return state     # type: ignore[no-any-return]

    def properties(self) -> list[Property]:
        return []

    # ---- optional: what an explorer may use to go faster or say more
    def ample(self, state: Any, actions: list[Any]) -> list[Any]:
        """A subset of ``actions`` that is enough to explore from ``state`` (partial-order
        reduction): the model guarantees that exploring only these loses no reachable end
        state, no property verdict and no outcome it reports. Default: all of them."""
        return actions

    def label(self, action: Any) -> str:
        """How an action is printed in a counterexample path."""
        return str(action)

    def uncovered(self) -> list[str]:
        """What of the model's configuration an explorer cannot cover (a random workload,
        say): an explorer refuses to run, naming each, instead of ignoring it."""
        return []

    def coverage(self) -> list[str]:
        """What an exploration of this model covers, one phrase each (for the "complete"
        line: which choices were enumerated and which were fixed)."""
        return []
