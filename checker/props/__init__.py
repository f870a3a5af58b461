"""The registry of properties: every property a history is judged by, one module each,
behind one interface (``checker.props.base``).

The built-in properties are the modules of this folder (every module but ``base``), found
by listing the folder, in the order their ``ORDER`` gives. Everything that lists
properties or anomaly kinds -- the summary, the text/JSON/JUnit outputs, the report,
``gtcheck search --property``, the pytest fixtures, the help texts -- asks this registry,
so adding a property touches its module, its docs and its tests, nothing else.

A property defined elsewhere (a plugin; a test) joins with :func:`register` and leaves
with :func:`unregister`. Worker processes forked after a registration inherit it.

The registry loads lazily (on the first question), so modules that only need an anomaly
kind (``from gtcheck.checker.props.staleness import STALE_READ``) do not import every
property's machinery.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from gtcheck.checker.anomalies import AnomalyKind

REQUIRED = ("NAME", "TITLE", "DESCRIPTION", "ORDER", "ANOMALIES",
            "judge_key", "merge", "verdict", "summary_line")
_NOT_PROPERTIES = {"base"}

_registry: dict[str, ModuleType] | None = None
_ordered: tuple[ModuleType, ...] = ()
_kinds: dict[str, AnomalyKind] = {}


def _load() -> dict[str, ModuleType]:
    global _registry
    if _registry is None:
        _registry = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if info.name in _NOT_PROPERTIES or info.name.startswith("_"):
                continue
            _add(importlib.import_module(f"{__name__}.{info.name}"))
    return _registry


def _check(module: ModuleType) -> None:
    missing = [a for a in REQUIRED if not hasattr(module, a)]
    if missing:
        raise TypeError(f"{module.__name__} is not a property: it lacks {', '.join(missing)} "
                        "(see checker/props/base.py)")
    for kind in module.ANOMALIES:
        if not isinstance(kind, AnomalyKind) or kind.property != module.NAME:
            raise TypeError(f"{module.__name__}: anomaly kind {kind!r} must be an AnomalyKind "
                            f"of property {module.NAME!r}")


def _add(module: ModuleType) -> None:
    global _ordered
    assert _registry is not None
    _check(module)
    if module.NAME in _registry and _registry[module.NAME] is not module:
        raise ValueError(f"a property named {module.NAME!r} is already registered "
                         f"({_registry[module.NAME].__name__})")
    for kind in module.ANOMALIES:
        known = _kinds.get(kind.name)
        if known is not None and known is not kind:
            raise ValueError(f"anomaly kind {kind.name!r} is declared twice "
                             f"({known.property} and {kind.property})")
    _registry[module.NAME] = module
    for kind in module.ANOMALIES:
        _kinds[kind.name] = kind
    _ordered = tuple(sorted(_registry.values(), key=lambda m: (m.ORDER, m.NAME)))


def register(module: ModuleType) -> ModuleType:
    """Add a property (a module with the interface of ``checker.props.base``)."""
    _load()
    _add(module)
    return module


def unregister(name: str) -> None:
    """Remove the property ``name`` and its anomaly kinds (tests use it to clean up)."""
    global _ordered
    reg = _load()
    module = reg.pop(name)
    for kind in module.ANOMALIES:
        _kinds.pop(kind.name, None)
    _ordered = tuple(sorted(reg.values(), key=lambda m: (m.ORDER, m.NAME)))


def properties() -> tuple[ModuleType, ...]:
    """Every property module, in report order."""
    _load()
    return _ordered


def names() -> tuple[str, ...]:
    """Every property's name, in report order."""
    return tuple(m.NAME for m in properties())


def get(name: str) -> ModuleType:
    """The property called ``name`` (KeyError when there is none)."""
    return _load()[name]


def anomaly_kinds() -> tuple[AnomalyKind, ...]:
    """Every anomaly kind, property by property, each in its property's order."""
    return tuple(kind for m in properties() for kind in m.ANOMALIES)


def anomaly_kind(name: str) -> AnomalyKind | None:
    """The kind called ``name``, or None."""
    _load()
    return _kinds.get(name)


def needs_bound(name: str) -> bool:
    """Whether property ``name`` fails only over a staleness bound."""
    return bool(getattr(get(name), "NEEDS_BOUND", False))


STAGES = ("candidates", "order")


def plan(header: Any, options: Any) -> dict[str, str | None]:
    """Which properties a check computes: name -> ``None`` (computed) or the reason it is
    not (not selected with ``--property``, or nothing to judge in such a history: the
    property's ``applies``). ``options`` is a ``checker.shard.CheckOptions``."""
    selected = getattr(options, "properties", None)
    out: dict[str, str | None] = {}
    for m in properties():
        if selected is not None and m.NAME not in selected:
            out[m.NAME] = "not selected (--property)"
            continue
        applies = getattr(m, "applies", None)
        out[m.NAME] = applies(header, options) if applies is not None else None
    return out


def needs(active: Any) -> frozenset[str]:
    """The per-key stages (``STAGES``) the computed properties ``active`` (names) need."""
    out: set[str] = set()
    for name in active:
        out.update(getattr(get(name), "NEEDS", STAGES))
    return frozenset(out)


def fail_on_names() -> tuple[str, ...]:
    """The findings ``--fail-on`` accepts (each property's optional ``FAIL_ON``)."""
    return tuple(m.FAIL_ON for m in properties() if getattr(m, "FAIL_ON", None))


def describe(names_: Any = None) -> str:
    """``integrity, convergence, ...``: property names for help texts and error hints."""
    return ", ".join(names_ if names_ is not None else names())
