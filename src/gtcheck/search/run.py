"""One run of the model, in memory: the history, its ground truth and the final state,
and the properties judged on it (the checker's built-in ones, or application invariants)."""

from __future__ import annotations

import importlib
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import parse_line
from gtcheck.kernel.units import parse_duration
from gtcheck.search.answer import Unknown  # noqa: F401  (users write gtcheck.search.run.Unknown)

ALL = "valid"   # ``--property valid``: every property the checker judges


def builtin_names() -> tuple[str, ...]:
    """The checker's properties as ``--property`` names them (the checker's registry), then
    ``valid``, all of them."""
    from gtcheck.checker.props import names

    return names() + (ALL,)


@dataclass
class Run:
    """What an invariant is given, the same for a run of the model and a recording.

    ``events``: the history (header first); ``final``: key -> region -> the item the region
    holds at the end (None: absent), from the final reads (or the model's final state);
    empty when the history has no final reads. ``established``: what the checker
    established about the history (:class:`gtcheck.search.established.Established`: the
    conflict order per key, the version each read and each region's final reads returned,
    the acknowledged and the lost writes), computed when first asked for.

    Ground truth, only for runs of the model (a recording has none: ``has_truth`` is
    False): ``truth``, the ground-truth records (when each write reached each region);
    ``seen``, exploration's: a write's invoke index -> the invoke indexes of the writes
    that had reached its region when it was written."""

    events: list[dict[str, Any]]
    truth: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenario: Any = None
    seen: dict[int, frozenset[int]] | None = None
    path: str | None = None          # the history's file, when the run was read from one
    _established: Any = field(default=None, repr=False, compare=False)

    @property
    def header(self) -> dict[str, Any]:
        return self.events[0]

    @property
    def has_truth(self) -> bool:
        """Whether the run says which writes reached which region (a run of the model)."""
        return self.seen is not None or any(t.get("kind") == "write" for t in self.truth)

    @property
    def established(self) -> Any:
        """What the checker established about this history
        (:class:`gtcheck.search.established.Established`), computed once."""
        if self._established is None:
            from gtcheck.search.established import establish

            try:
                if self.path is not None:
                    self._established = establish(self.path)
                else:
                    from gtcheck.kernel.exactjson import dumps

                    with history_file(b"".join(dumps(e) + b"\n" for e in self.events)) as path:
                        self._established = establish(path)
            except UserError as exc:
                raise UserError(f"the checker cannot judge this run's history, so an invariant "
                                f"that reads run.established cannot run on it: {exc.message}",
                                hint="an untimed exploration (--untimed) writes histories whose "
                                     "times go backwards; explore timed") from exc
        return self._established

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


def _final_of(run: Run) -> dict[str, dict[str, Any]]:
    final: dict[str, dict[str, Any]] = {}
    for op in run.operations():
        if op["final"] and op["f"] == "read" and op.get("type") == "ok":
            final.setdefault(op["key"], {})[op["region"]] = op["result"]
    return final


def run_from_bytes(history: bytes, truth: bytes, scenario: Any = None) -> Run:
    # exactly (rule 7): integers past 64 bits and decimals no float holds stay what they are
    events = [parse_line(line) for line in history.splitlines() if line.strip()]
    records = [parse_line(line) for line in truth.splitlines() if line.strip()]
    r = Run(events, records, {}, scenario)
    r.final = _final_of(r)
    return r


def run_from_file(path: str) -> Run:
    """A recorded history (any format ``gtcheck check`` reads) as a :class:`Run`: numbers
    exact, no ground truth, ``final`` from its final reads."""
    from gtcheck.checker.history import header_to_dict, open_history

    with open_history(path) as reader:
        header = header_to_dict(reader.header)
        events = [e for _, e in reader.events()]
    r = Run([header] + events, path=os.fspath(path))
    r.final = _final_of(r)
    return r


@contextmanager
def history_file(history: bytes) -> Iterator[str]:
    """The history written to a temporary file (removed afterwards), for the checker, which
    reads files."""
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".jsonl", prefix="gtcheck-run-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(history)
        yield path
    finally:
        os.unlink(path)


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

        with history_file(history) as path:
            try:
                result = check_history(path, staleness_bound_ns=bound_ns, jobs=1, timeout_s=timeout_s)
            except UserError as exc:    # the run's own history, in a temporary file the user never saw
                raise UserError(f"the checker cannot judge this run's history: {exc.message}",
                                where=names.property,
                                hint="an untimed exploration (--untimed) writes histories whose times go "
                                     "backwards; explore timed to judge a checker property") from None
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


def invariant_spec(spec: str, names: Names = COMMAND_LINE) -> tuple[str, str, str]:
    """``--invariant``'s text as ``(spec, module, function)``: ``module:function`` with a
    dotted module name of identifiers and a function name (``-`` may stand for ``_``), or
    a shipped invariant's bare name (then the module is ``gtcheck.search.invariants``).
    Anything else (``:``, ``:f``, ``.x:f``, ``x:``) is bad input naming the option, before
    anything is imported: the one place every command reads an invariant's name."""
    if ":" not in spec:
        spec = f"gtcheck.search.invariants:{spec}"
    module_name, _, attr = spec.partition(":")
    if not (all(part.isidentifier() for part in module_name.split("."))
            and attr.replace("-", "_").isidentifier()):
        raise UserError(f"{spec!r} is not module:function", where=names.invariant,
                        hint="name a function by its module's dotted name, e.g. "
                             "myapp.checks:balance_never_negative")
    return spec, module_name, attr


def invariant_property(spec: str, names: Names = COMMAND_LINE) -> Property:
    """``module:function``: a function of a ``Run`` returning None/True when it holds, else
    False or a message (or a (message, [indexes]) pair), or :class:`Unknown` when it cannot
    decide on the run. Names without a module are the shipped ones in
    ``gtcheck.search.invariants``. The function raising, or returning anything else, is the
    invariant's author's error: bad input (exit 254) naming it, never gtcheck's."""
    spec, module_name, attr = invariant_spec(spec, names)
    module = import_invariant_module(module_name, names)
    fn = getattr(module, attr.replace("-", "_"), None)
    if not callable(fn):
        raise UserError(f"{module_name} has no function {attr!r}", where=names.invariant)

    def judge(run: Run, history: bytes) -> Verdict:
        try:
            out = fn(run)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 -- the user's code: their error, named
            raise UserError(f"the invariant {spec} raised {type(exc).__name__}: {exc}",
                            where=names.invariant, hint=_raised_where(exc)) from exc
        return verdict_of(out, spec, attr, names)

    judge.__name__ = attr
    return judge


def verdict_of(out: Any, spec: str, attr: str, names: Names = COMMAND_LINE) -> Verdict:
    """An invariant's answer as a :class:`Verdict` (see :func:`invariant_property`)."""
    if out is None or out is True:
        return Verdict(True)
    if isinstance(out, Unknown):
        return Verdict(True, unknown=f"{attr}: {out}")
    if out is False:
        return Verdict(False, f"{attr} does not hold")
    if isinstance(out, str):
        return Verdict(False, out)
    if (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], str)
            and isinstance(out[1], (list, tuple))
            and all(isinstance(i, int) and not isinstance(i, bool) for i in out[1])):
        return Verdict(False, out[0], list(out[1]))
    raise UserError(f"the invariant {spec} returned {_short(out)}, which is not an answer",
                    where=names.invariant,
                    hint="return None (holds), a message or (message, [history indexes]) "
                         "(violated), or gtcheck.search.run.Unknown('why') (cannot tell)")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _raised_where(exc: BaseException) -> str:
    """The innermost frame of the traceback: where in the invariant it raised."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "fix the invariant"
    code = tb.tb_frame.f_code
    return f"raised at {code.co_filename}:{tb.tb_lineno} (in {code.co_name}); fix the invariant"


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
