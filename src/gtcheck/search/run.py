"""One run of the model, in memory: the history, its ground truth and the final state,
and the properties judged on it (the checker's built-in ones, or application invariants)."""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable


from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import parse_line
from gtcheck.kernel.units import parse_duration

ALL = "valid"   # ``--property valid``: every property the checker judges


def builtin_names() -> tuple[str, ...]:
    """The checker's properties as ``--property`` names them (the checker's registry), then
    ``valid``, all of them."""
    from gtcheck.checker.props import names

    return names() + (ALL,)


@dataclass
class Run:
    """What an invariant is given. ``events``: the history (header first); ``truth``: the
    ground-truth records (may be empty: exploration has none); ``final``: key -> region ->
    the item the region holds at the end (None: absent)."""

    events: list[dict[str, Any]]
    truth: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenario: Any = None
    # exploration's ground truth: a write's invoke index -> the invoke indexes of the writes
    # that had reached its region when it was written (None: a timed run; see ``truth``)
    seen: dict[int, frozenset[int]] | None = None

    @property
    def header(self) -> dict[str, Any]:
        return self.events[0]

    def operations(self) -> list[dict[str, Any]]:
        """Invocations joined with their completions (``type``, ``result``, ``start``,
        ``end``, ``ts``, ``origin``); nemesis events left out; final reads marked ``final``."""
        settled = self.header.get("settled_after_ns")
        open_: dict[Any, dict[str, Any]] = {}
        out = []
        for e in self.events[1:]:
            if e.get("process") == "nemesis":
                continue
            if e["type"] == "invoke":
                op = dict(e)
                op["start"] = e["time"]
                op["final"] = settled is not None and e["time"] >= settled
                open_[e["process"]] = op
                out.append(op)
            else:
                op = open_.pop(e["process"], None)
                if op is None:
                    continue
                op["type"] = e["type"]
                op["result"] = e.get("value")
                op["end"] = e["time"]
                op["ts"] = e.get("ts")
                op["origin"] = e.get("origin")
                op["index_end"] = e["index"]
        return out


def run_from_bytes(history: bytes, truth: bytes, scenario: Any = None) -> Run:
    # exactly (rule 7): integers past 64 bits and decimals no float holds stay what they are
    events = [parse_line(line) for line in history.splitlines() if line.strip()]
    records = [parse_line(line) for line in truth.splitlines() if line.strip()]
    r = Run(events, records, {}, scenario)
    for op in r.operations():
        if op["final"] and op["f"] == "read" and op.get("type") == "ok":
            r.final.setdefault(op["key"], {})[op["region"]] = op["result"]
    return r


# --------------------------------------------------------------------------- properties
@dataclass
class Verdict:
    """A property on one run. ``holds`` is False for a violation; a property the checker
    could not decide on the run (unknown, or nothing in its scope) holds=True with
    ``unknown`` saying why: not a counterexample, and not shown to hold either."""

    holds: bool
    message: str = ""
    cited: list[int] = field(default_factory=list)     # history indexes the message cites
    unknown: str | None = None


Property = Callable[[Run, bytes], Verdict]


@dataclass(frozen=True)
class Names:
    """How the caller names the three inputs in an error: the command line's options, or
    the pytest fixture's arguments."""

    property: str
    invariant: str
    bound: str


COMMAND_LINE = Names("--property", "--invariant", "--staleness-bound")
FIXTURE = Names("property=", "invariant=", "staleness_bound=")


def parse_bound(text: str | None, names: Names = COMMAND_LINE) -> int | None:
    return None if text is None else parse_duration(text, names.bound)


def builtin_property(name: str, bound_ns: int | None, *, timeout_s: float = 30.0,
                     names: Names = COMMAND_LINE) -> Property:
    """A property the checker judges (``valid``: all of them)."""
    from gtcheck.checker import props as registry

    if name not in builtin_names():
        raise UserError(f"unknown property {name!r}", where=names.property,
                        hint="use one of: " + ", ".join(builtin_names())
                        + f", or {names.invariant} module:function")
    if name != ALL and registry.needs_bound(name) and bound_ns is None:
        raise UserError(f"the {name} property needs {names.bound}", where=names.property)

    def judge(run: Run, history: bytes) -> Verdict:
        from gtcheck.checker.check import check_history
        from gtcheck.checker.props.base import counts_in_verdict

        fd, path = tempfile.mkstemp(suffix=".jsonl", prefix="gtcheck-search-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(history)
            result = check_history(path, staleness_bound_ns=bound_ns, jobs=1, timeout_s=timeout_s)
        finally:
            os.unlink(path)
        props = [p for p in registry.names() if name in (ALL, p) and p in result.summary]
        for p in props:
            section = result.summary[p]
            # under "valid", a finding the verdict does not count (lost writes) is no violation
            if section["valid"] is False and (name != ALL or counts_in_verdict(section)):
                anomalies = section.get("anomalies") or []
                first = anomalies[0] if anomalies else {}
                cited = _cited(first)
                text = first.get("explanation") or first.get("message") or first.get("name") or p
                return Verdict(False, f"{p}: {first.get('name', 'violated')}: {text}", cited)
        for p in props:
            section = result.summary[p]
            # under valid, a property with nothing in its scope does not apply; asked for by
            # name, it was not checked, so it is not shown to hold
            if section["valid"] == "unknown" and (name != ALL or section.get("checked") is not False):
                what = "not checked" if section.get("checked") is False else "unknown"
                return Verdict(True, unknown=f"{p}: {what}: {section.get('reason', '')}")
        return Verdict(True)

    judge.__name__ = name
    return judge


def _cited(anomaly: dict[str, Any]) -> list[int]:
    out: list[int] = []
    for k in ("op", "read", "write", "index", "ops", "writes", "reads"):
        v = anomaly.get(k)
        if isinstance(v, int):
            out.append(v)
        elif isinstance(v, dict) and isinstance(v.get("index"), int):
            out.append(v["index"])
        elif isinstance(v, list):
            out.extend(x if isinstance(x, int) else x.get("index") for x in v
                       if isinstance(x, int) or (isinstance(x, dict) and isinstance(x.get("index"), int)))
    return out


def import_invariant_module(module_name: str, names: Names = COMMAND_LINE) -> Any:
    """Import the module of ``--invariant module:function`` as pytest would find a test's
    module: from the Python path, else from the current directory (``myapp/checks.py``
    or ``myapp.py`` there). When it is in neither, the error says where it looked and how
    to make the module importable (exit 254)."""
    top = module_name.split(".")[0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name not in (top, module_name) and not module_name.startswith(f"{exc.name}."):
            raise UserError(f"importing {module_name!r} failed: {exc}", where=names.invariant,
                            hint="the module was found, but it imports something missing") from exc
        here = os.getcwd()
        if here not in sys.path and (os.path.isdir(os.path.join(here, top))
                                     or os.path.isfile(os.path.join(here, top + ".py"))):
            sys.path.insert(0, here)          # as pytest's rootdir: the project's own modules
            importlib.invalidate_caches()
            try:
                return importlib.import_module(module_name)
            except ModuleNotFoundError as again:
                exc = again
        raise UserError(
            f"cannot import {module_name!r}: no module {exc.name!r} on the Python path or in "
            f"the current directory ({here})", where=names.invariant,
            hint=f"run from the folder that holds {top}/ (or {top}.py), or add that folder to "
                 f"the path: PYTHONPATH=/path/to/project gtcheck ...") from None
    except ImportError as exc:
        raise UserError(f"cannot import {module_name!r}: {exc}", where=names.invariant) from exc


def invariant_property(spec: str, names: Names = COMMAND_LINE) -> Property:
    """``module:function``: a function of a ``Run`` returning None/True when it holds,
    else False or a message (or a (message, [indexes]) pair). Names without a module are
    the shipped ones in ``gtcheck.search.invariants``."""
    if ":" not in spec:
        spec = f"gtcheck.search.invariants:{spec}"
    module_name, _, attr = spec.partition(":")
    module = import_invariant_module(module_name, names)
    fn = getattr(module, attr.replace("-", "_"), None)
    if not callable(fn):
        raise UserError(f"{module_name} has no function {attr!r}", where=names.invariant)

    def judge(run: Run, history: bytes) -> Verdict:
        out = fn(run)
        if out is None or out is True:
            return Verdict(True)
        if out is False:
            return Verdict(False, f"{attr} does not hold")
        if isinstance(out, tuple):
            return Verdict(False, str(out[0]), list(out[1]))
        return Verdict(False, str(out))

    judge.__name__ = attr
    return judge


def combined(props: list[tuple[str, Property]]) -> Property:
    """Every one of ``props`` must hold; the first broken one is the verdict."""

    def judge(run: Run, history: bytes) -> Verdict:
        for name, p in props:
            v = p(run, history)
            if not v.holds:
                return v
        return Verdict(True)

    return judge


def property_list(props: tuple[str, ...], invariants: tuple[str, ...], bound_ns: int | None,
                  names: Names = COMMAND_LINE) -> list[tuple[str, Property]]:
    """``--property`` (a checker property or a shipped invariant's name) and ``--invariant
    module:function`` (or a shipped invariant's name), each a named property: what search,
    explore and the pytest fixtures all accept."""
    from gtcheck.search import invariants as shipped

    out: list[tuple[str, Property]] = []
    for n in props:
        if n.replace("-", "_") in shipped.SHIPPED:
            out.append((n, invariant_property(n.replace("-", "_"), names)))
        else:
            out.append((n, builtin_property(n, bound_ns, names=names)))
    for spec in invariants:
        out.append((spec, invariant_property(spec, names)))
    return out


def properties(props: tuple[str, ...], invariants: tuple[str, ...], bound_ns: int | None,
               names: Names = COMMAND_LINE) -> tuple[str, Property]:
    """The properties given, as one named property (every one must hold)."""
    from gtcheck.search import invariants as shipped

    out = property_list(props, invariants, bound_ns, names)
    if not out:
        raise UserError(f"give a property to search for: {names.property} NAME or "
                        f"{names.invariant} module:function",
                        hint="properties: " + ", ".join(builtin_names() + shipped.SHIPPED))
    name = " and ".join(n for n, _ in out)
    return name, out[0][1] if len(out) == 1 else combined(out)
