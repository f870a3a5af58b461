"""The properties a history is judged by, one module each, behind one interface
(``checker.props.base``). ``PROPERTIES`` is the registry, in report order."""

from __future__ import annotations

from types import ModuleType

from gtcheck.checker.props import convergence, integrity, linearizability, read_after_write, staleness

PROPERTIES: tuple[ModuleType, ...] = (integrity, convergence, read_after_write, linearizability,
                                      staleness)
BY_NAME = {p.NAME: p for p in PROPERTIES}
