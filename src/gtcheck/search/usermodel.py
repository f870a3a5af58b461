"""``gtcheck explore --model FILE.py:CLASS`` (or ``module:CLASS``): explore a model a user
wrote against the protocol (``gtcheck.model.protocol``) with the same explorer that runs
global tables, and report what it found: the "complete" line, each property's verdict,
and for a violation the shortest path, labelled by the model's ``label``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Callable

from gtcheck.kernel.errors import UserError
from gtcheck.model.explorer import Result, coverage_line, explore
from gtcheck.model.protocol import Model


def load_model(spec: str) -> Model:
    """``FILE.py:CLASS`` or ``module:CLASS`` -> an instance of the class (no arguments)."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise UserError(f"expected FILE.py:CLASS or module:CLASS, got {spec!r}", where="--model")
    try:
        if where.endswith(".py") or "/" in where:
            path = Path(where)
            if not path.is_file():
                raise UserError(f"no such file {where!r}", where="--model")
            unit = importlib.util.spec_from_file_location(f"gtcheck_user_model_{path.stem}", path)
            if unit is None or unit.loader is None:
                raise UserError(f"cannot load {where!r} as Python", where="--model")
            module = importlib.util.module_from_spec(unit)
            sys.modules[unit.name] = module
            unit.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except UserError:
        raise
    except Exception as exc:   # the user's module failed to import: say so, no traceback
        raise UserError(f"cannot import {where!r}: {type(exc).__name__}: {exc}", where="--model") from None
    cls = getattr(module, name, None)
    if cls is None:
        raise UserError(f"{where} has no {name!r}", where="--model")
    try:
        model = cls()
    except Exception as exc:
        raise UserError(f"{name}() failed: {type(exc).__name__}: {exc}", where="--model") from None
    if not all(callable(getattr(model, m, None)) for m in ("init", "actions", "next", "fingerprint")):
        raise UserError(f"{name} is not a model: it needs init, actions, next and fingerprint",
                        where="--model", hint="subclass gtcheck.model.protocol.Model (docs/model.md)")
    missing = model.uncovered() if callable(getattr(model, "uncovered", None)) else []
    if missing:
        raise UserError("gtcheck explore cannot cover " + "; ".join(missing), where="--model")
    return model


def report(model: Model, result: Result) -> dict[str, Any]:
    """The exploration as JSON: counts, the coverage line, each property's verdict (never
    ``holds`` when incomplete) with the shortest path to a violation."""
    props: dict[str, Any] = {}
    for p in model.properties():
        if p.kind == "sometimes":
            ex = result.examples.get(p.name)
            props[p.name] = ({"shown": True, "path": [model.label(a) for a in ex.path]} if ex is not None
                             else {"shown": False if result.complete else None})
            continue
        v = result.violations.get(p.name)
        if v is not None:
            props[p.name] = {"holds": False, "message": v.message, "path": [model.label(a) for a in v.path]}
        else:
            props[p.name] = {"holds": True if result.complete else None}
    return {"states": result.states, "edges": result.transitions, "complete": result.complete,
            "coverage": coverage_line(result, model), "properties": props}


def run(spec: str, *, max_states: int, time_limit_s: float | None,
        progress: Callable[[str], None] | None) -> tuple[Model, Result, dict[str, Any]]:
    model = load_model(spec)
    try:
        result = explore(model, max_states=max_states, time_limit_s=time_limit_s, progress=progress)
    except UserError:
        raise
    except Exception as exc:   # the user's model raised: their bug, shown without a traceback
        if os.environ.get("GTCHECK_DEBUG"):
            raise
        raise UserError(f"the model raised {type(exc).__name__}: {exc}", where="--model",
                        hint="rerun with GTCHECK_DEBUG=1 for the traceback") from None
    return model, result, report(model, result)
