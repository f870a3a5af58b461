"""Jepsen histories in and out: EDN files, Jepsen text logs, and export to EDN.

Importing turns a Jepsen history into a gt history (a header dict and a list of event
dicts, see HISTORY-FORMAT.md) that :mod:`gtcheck.checker.history` then validates like any other:

* EDN (Knossos register files, ``[{:process 0, :type :invoke, :f :read, :value nil} ...]``)
  and Jepsen text logs (``INFO  jepsen.util - 2	:invoke	:cas	[2 4]``) describe one
  register. It becomes key ``"r"`` (``key=``) in one region ``"jepsen"`` (``region=``);
  the header says ``"mode": "strong"``, ``"register": true`` and the register's
  ``initial`` value (0 for EDN, as Knossos checks these files; null for logs).
* The order of the file is the real-time order: ``time`` is the position of the event
  (``:time`` values, not in file order in some files, are kept as ``jepsen_time``).
* Nemesis operations are skipped, unless they are ``:info`` events of a gt nemesis
  function (what :func:`export_edn` writes).
* ``:fail`` is fail, ``:info`` is unknown, and an invocation with no completion stays
  pending (unknown) to the end.
* A read completing with ``nil``: in Knossos's register model it matches any state
  (``nil_read="unconstrained"``, the EDN default), so it becomes an ``info`` completion
  with ``"unconstrained": true``: a read that constrains nothing. In etcd logs it means
  "no such key" (``nil_read="absent"``, the log default): an ok read of null.
* Jepsen "independent" histories (``:value [key v]``, what :func:`export_edn` writes)
  carry one register per key; they are recognised automatically or with
  ``independent=True``.

Exporting writes one EDN vector of op maps in the independent convention, preceded by a
``; gt-history {...}`` comment line carrying the JSON header, so that importing the file
again gives back an equivalent gt history (same events, times, indices and header).
"""

from __future__ import annotations

import os
import re
import stat
from typing import Any, Callable, Iterable, Iterator

from gtcheck.kernel import edn
from gtcheck.kernel.edn import Keyword
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import JSONProblem, parse_line
from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.files import is_gzip
from gtcheck.kernel.files import detect_format
from gtcheck.kernel.jsonlines import history_header
from gtcheck.kernel.vocabulary import NEMESIS_FUNCTIONS

__all__ = [
    "import_history", "import_edn", "import_log", "parse_log", "read_edn_ops",
    "jepsen_to_gt", "export_edn", "detect_format", "JepsenOp", "DEFAULT_REGION",
    "DEFAULT_KEY", "GT_HEADER_PREFIX",
]

DEFAULT_REGION = "jepsen"
DEFAULT_KEY = "r"
GT_HEADER_PREFIX = "; gt-history "
_CLIENT_F = ("read", "write", "cas", "update", "delete")
_TYPES = ("invoke", "ok", "fail", "info")
_GT_FIELDS = ("region", "key", "consistent", "ts", "origin")
_LOG_LINE = re.compile(
    r"jepsen\.util\s+-\s+(?P<process>\S+)\s+:(?P<type>invoke|ok|fail|info)\s+"
    r":(?P<f>[^\s]+)(?:\s+(?P<value>.*?))?\s*$")
_KW_NEMESIS = Keyword("nemesis")


class JepsenOp:
    """One Jepsen operation map, normalised: strings for keyword fields, EDN values."""

    __slots__ = ("process", "type", "f", "value", "has_value", "extra", "line", "_place", "locate")

    def __init__(self, process: Any, type_: str, f: str, value: Any, extra: dict[str, Any],
                 line: int, has_value: bool = True, place: str | None = None,
                 locate: Callable[[int], tuple[int, int]] | None = None):
        # ``line``: the line of a log, or the position in the vector of an EDN file, whose
        # line and column ``locate(position)`` finds when an error needs them
        self._place = place
        self.locate = locate
        self.process = process
        self.type = type_
        self.f = f
        self.value = value
        self.has_value = has_value
        self.extra = extra
        self.line = line

    @property
    def lineno(self) -> int:
        """The line of the file where this op starts."""
        return self.locate(self.line)[0] if self.locate is not None else self.line

    @property
    def place(self) -> str:
        if self.locate is not None:
            line, col = self.locate(self.line)
            return f"#{self.line + 1} (line {line}, column {col})"
        return self._place or f"line {self.line}"

    def __repr__(self) -> str:
        return (f"JepsenOp({self.process!r}, {self.type!r}, {self.f!r}, {self.value!r}, "
                f"line={self.line})")


def _name(value: Any) -> Any:
    """A keyword's or symbol's name; anything else unchanged."""
    if isinstance(value, (Keyword, edn.Symbol)):
        return value.name
    return value


# --------------------------------------------------------------------------- detection



# --------------------------------------------------------------------------- EDN

def _op_from_map(m: Any, where: str, position: int,
                 locate: Callable[[int], tuple[int, int]] | None = None) -> JepsenOp:
    def place() -> tuple[str, str]:  # where the error points, and how the message cites it
        if locate is None:
            return where, f"{position + 1}"
        line, col = locate(position)
        return f"{where}:{line}", f"#{position + 1} (line {line}, column {col})"

    if not isinstance(m, dict):
        here, at = place()
        raise UserError(
            f"operation {at}: expected an op map {{:process ..., :type ..., :f ..., "
            f":value ...}}, got {edn.dumps(m)[:80]}", where=here)
    fields: dict[str, Any] = {}
    for k, v in m.items():
        name = _name(k) if isinstance(k, (Keyword, edn.Symbol, str)) else edn.dumps(k)
        if name in fields:
            here, at = place()
            raise UserError(f"operation {at}: the op map names the field {name!r} twice "
                            f"(as {edn.dumps(k)[:40]} and another key)", where=here,
                            hint="an op map names each field once")
        fields[name] = v
    missing = [name for name in ("process", "type", "f") if name not in fields]
    if missing:
        here, at = place()
        raise UserError(
            f"operation {at}: the op map has no {', '.join(':' + n for n in missing)}",
            where=here, hint="every Jepsen op map has :process, :type, :f and :value")
    process = fields.pop("process")
    type_ = _name(fields.pop("type"))
    f = _name(fields.pop("f"))
    has_value = "value" in fields
    value = fields.pop("value", None)
    if isinstance(process, Keyword):
        process = process.name
    return JepsenOp(process, type_, f, value, fields, position, has_value,
                    place=f"#{position + 1} (counting from 1 in the vector)", locate=locate)


MAX_STREAM_BYTES = 256 << 20
"""How much is read from something that is not a regular file (a pipe, ``/dev/zero``), and
decompressed from a gzip file (a small file can inflate without end)."""


def _read_bounded(path: str) -> bytes:
    """The bytes of a history file. A regular file is read whole; anything else (a pipe,
    a device such as ``/dev/zero`` that never ends) at most :data:`MAX_STREAM_BYTES`."""
    try:
        with open(path, "rb") as fh:
            if stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return fh.read()
            data = fh.read(MAX_STREAM_BYTES + 1)
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", where=path) from None
    if len(data) > MAX_STREAM_BYTES:
        raise UserError(f"more than {MAX_STREAM_BYTES >> 20} MiB from something that is not a "
                        "regular file", where=path, hint="save the history to a file first")
    return data


def read_edn_ops(path: str | os.PathLike) -> tuple[list[JepsenOp], dict[str, Any] | None]:
    """The ops of an EDN history file, and the gt header of a file written by export_edn."""
    path = str(path)
    data = _read_bounded(path)
    if is_gzip(data):
        import gzip
        import io
        import zlib

        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(MAX_STREAM_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise UserError(f"cannot decompress the gzip file: {exc}", where=path) from None
        if len(data) > MAX_STREAM_BYTES:
            raise UserError(f"the gzip file inflates to more than {MAX_STREAM_BYTES >> 20} MiB",
                            where=path, hint="decompress it first (gunzip) to read it whole")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserError(f"line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
                        where=f"{path}:{line}", hint="save the history as UTF-8") from None
    gt_header = None
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    if first_line.startswith(GT_HEADER_PREFIX):
        try:
            gt_header = parse_line(first_line[len(GT_HEADER_PREFIX):].encode("utf-8"))
        except JSONProblem as exc:
            raise UserError(f"the gt-history header comment is not valid JSON ({exc})",
                            where=f"{path}:1") from None
        if not isinstance(gt_header, dict):
            raise UserError("the gt-history header comment is not a JSON object",
                            where=f"{path}:1", hint="it is written by `gtcheck convert --to edn`; "
                            "remove the line to read the file as a plain Jepsen history")
    forms, locate = edn.loads_all_located(text, source=path)
    if len(forms) == 1 and isinstance(forms[0], list):
        items = forms[0]
    elif all(isinstance(x, dict) for x in forms):  # a bare sequence of maps
        items = forms
    else:
        # the first top-level form that does not fit: a second vector, or a non-map
        i = next((j for j, x in enumerate(forms) if not isinstance(x, dict)), 0)
        if isinstance(forms[i], list) and i == 0 and len(forms) > 1:
            i = 1
        line, col = locate(i) if forms else (1, 1)
        what = f"{len(forms)} top-level forms" if len(forms) != 1 else "one form that is not a vector"
        raise UserError(
            f"line {line}, column {col}: expected one vector of operation maps, e.g. "
            f"[{{:process 0, :type :invoke, :f :read, :value nil}} ...], but the file holds {what}",
            where=f"{path}:{line}")
    return [_op_from_map(m, path, i, locate) for i, m in enumerate(items)], gt_header


def import_edn(path: str | os.PathLike, **options: Any
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An EDN history as (gt header, gt events). See :func:`jepsen_to_gt` for options."""
    ops, gt_header = read_edn_ops(path)
    if gt_header is None and not options:
        from gtcheck.kernel import porcupine_kv

        if porcupine_kv.looks_like_kv(ops):          # Porcupine's kv logs: get/put/append
            return porcupine_kv.kv_to_gt(ops, where=str(path))
    options.setdefault("source", "jepsen-edn")
    return jepsen_to_gt(ops, where=str(path), gt_header=gt_header, **options)


# --------------------------------------------------------------------------- text logs

def parse_log(text: str, where: str = "<log>") -> tuple[list[JepsenOp], int]:
    """The ops of a Jepsen text log, and how many lines were skipped (not ops).

    A line is an op when it holds ``jepsen.util - PROCESS :TYPE :F VALUE`` (anything may
    come before ``jepsen.util``, such as a timestamp or ``INFO``).
    """
    ops: list[JepsenOp] = []
    skipped = 0
    for line_no, line in enumerate(text.splitlines(), 1):
        m = _LOG_LINE.search(line)
        if not m:
            if line.strip():
                skipped += 1
            continue
        proc_text = m.group("process")
        if re.fullmatch(r"-?\d{1,30}", proc_text):
            process: Any = int(proc_text)
        elif proc_text.startswith(":"):
            process = proc_text[1:]
        else:
            process = proc_text
        value_text = m.group("value") or ""
        if process == "nemesis":
            value: Any = value_text
        elif value_text:
            try:
                value = edn.loads(value_text)
            except UserError as exc:
                raise UserError(f"line {line_no}: the value {value_text[:60]!r} is not EDN "
                                f"({exc.message})", where=f"{where}:{line_no}") from None
        else:
            value = None
        ops.append(JepsenOp(process, m.group("type"), m.group("f"), value, {}, line_no,
                            bool(value_text)))
    return ops, skipped


def import_log(path: str | os.PathLike, **options: Any
               ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A Jepsen text log as (gt header, gt events). See :func:`jepsen_to_gt` for options."""
    path = str(path)
    text = _read_bounded(path).decode("utf-8", errors="replace")
    ops, skipped = parse_log(text, where=path)
    if not ops:
        raise UserError(
            "no operation lines found in this Jepsen log",
            where=path, hint="op lines look like `INFO  jepsen.util - 2\t:invoke\t:cas\t[2 4]`")
    options.setdefault("source", "jepsen-log")
    options.setdefault("initial", None)
    options.setdefault("nil_read", "absent")
    header, events = jepsen_to_gt(ops, where=path, **options)
    header["skipped_lines"] = skipped
    return header, events


def import_history(path: str | os.PathLike, fmt: str = "auto", **options: Any
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Import an EDN file or a Jepsen log (``fmt``: ``auto``, ``edn``, ``jepsen-log``)."""
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "edn":
        return import_edn(path, **options)
    if fmt == "jepsen-log":
        return import_log(path, **options)
    raise UserError(f"cannot import format {fmt!r} as a Jepsen history", where=str(path))


# --------------------------------------------------------------------------- conversion

def _looks_independent(ops: list[JepsenOp]) -> bool:
    """True when every client op's value is a ``[key v]`` tuple (Jepsen independent)."""
    seen = False
    for op in ops:
        if op.process == "nemesis" or op.f not in _CLIENT_F:
            continue
        v = op.value
        if not (isinstance(v, list) and len(v) == 2):
            return False
        if op.f == "read" and op.type == "invoke" and v[1] is not None:
            return False
        if op.f == "cas" and not (isinstance(v[1], list) and len(v[1]) == 2):
            return False
        seen = True
    return seen


def _key_text(k: Any) -> str:
    k = edn.to_json(k)
    return k if isinstance(k, str) else exact_dumps(k).decode()


def jepsen_to_gt(
    ops: list[JepsenOp],
    *,
    where: str = "<jepsen>",
    gt_header: dict[str, Any] | None = None,
    key: str | None = None,
    initial: Any = 0,
    independent: bool | None = None,
    nil_read: str | None = None,
    region: str | None = None,
    source: str = "jepsen-edn",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Turn Jepsen ops into a gt (header, events).

    ``key``: the key of a single register (default ``"r"``). ``initial``: the register's
    initial value written to the header. ``independent``: values are ``[key v]`` (``None``
    detects it). ``nil_read``: ``"unconstrained"`` (Knossos) or ``"absent"`` (etcd logs);
    default unconstrained, or absent for a file written by :func:`export_edn`.
    ``region``: the one region of an imported history (default ``"jepsen"``).
    ``gt_header``: the header of a file written by :func:`export_edn`; its ``:time``,
    ``:index``, ``:region`` and other fields are then taken as gt fields.
    """
    gt_mode = gt_header is not None
    if independent is None:
        independent = True if gt_mode else _looks_independent(ops)
    if nil_read is None:
        nil_read = "absent" if gt_mode else "unconstrained"
    if nil_read not in ("unconstrained", "absent"):
        raise UserError(f"nil_read must be unconstrained or absent, not {nil_read!r}")
    if gt_mode:
        if key is not None or region is not None:
            raise UserError("--key and --region do not apply to a file exported by gtcheck "
                            "(its keys and regions are recorded in it)", where=where)
        header = dict(gt_header)
        regions = header.get("regions") or [DEFAULT_REGION]
        default_region = regions[0] if isinstance(regions, list) and regions else DEFAULT_REGION
    else:
        default_region = region or DEFAULT_REGION
        header = history_header([default_region], mode="strong", clock_uncertainty_ns=None,
                                meta={"register": True, "source": source,
                                      "initial": edn.to_json(initial), "nil_read": nil_read,
                                      "source_file": os.path.basename(where)})
    single_key = key or DEFAULT_KEY

    # keep client ops and gt nemesis events; pair completions with their invocations
    kept: list[JepsenOp] = []
    for op in ops:
        if op.type not in _TYPES:
            raise UserError(f"operation {_place(op)}: unknown :type :{op.type}", where=_at(where, op),
                            hint="Jepsen op types are :invoke, :ok, :fail and :info")
        if op.process == "nemesis" or op.process is _KW_NEMESIS:
            if op.type == "info" and op.f in NEMESIS_FUNCTIONS:
                kept.append(op)
            continue
        if op.f not in _CLIENT_F and not (op.f == "txn" and not gt_mode):
            raise UserError(
                f"operation {_place(op)}: cannot import :f "
                f"{':' + op.f if isinstance(op.f, str) else edn.dumps(op.f)}; gtcheck reads "
                "register histories with :read, :write and :cas (and :update, :delete from "
                "gtcheck), and Knossos multi-register transactions (:txn of [:read k v] "
                "and [:write k v])",
                where=_at(where, op))
        if isinstance(op.process, bool) or not isinstance(op.process, (int, str)):
            raise UserError(f"operation {_place(op)}: :process must be an integer or a name, "
                            f"got {edn.dumps(op.process)}", where=_at(where, op))
        kept.append(op)
    completion_of: dict[int, int] = {}
    inflight: dict[Any, int] = {}
    for i, op in enumerate(kept):
        if op.process == "nemesis":
            continue
        if op.type == "invoke":
            if op.process in inflight:
                raise UserError(
                    f"operation {_place(op)}: process {op.process} invokes again while its "
                    f"operation {_place(kept[inflight[op.process]])} has not completed",
                    where=_at(where, op))
            inflight[op.process] = i
        else:
            j = inflight.pop(op.process, None)
            if j is None:
                raise UserError(
                    f"operation {_place(op)}: a :{op.type} of process {op.process} completes "
                    "nothing (no invocation in flight)", where=_at(where, op))
            if kept[j].f != op.f:
                raise UserError(
                    f"operation {_place(op)}: completes a :{kept[j].f} ({_place(kept[j])}) "
                    f"with :f :{op.f}", where=_at(where, op))
            completion_of[j] = i

    def split(op: JepsenOp) -> tuple[str, Any]:
        if not independent or op.process == "nemesis":
            return single_key, op.value
        v = op.value
        if not (isinstance(v, list) and len(v) == 2):
            raise UserError(
                f"operation {_place(op)}: expected an independent value [key value], got "
                f"{edn.dumps(v)[:80]}", where=_at(where, op),
                hint="import single-register histories with --no-independent")
        return _key_text(v[0]), v[1]

    # the value of each invocation and completion, in gt terms
    events: list[dict[str, Any]] = [{} for _ in kept]
    current: JepsenOp | None = None
    try:
        for i, op in enumerate(kept):
            current = op
            if op.process == "nemesis":
                ev = {"type": "info", "process": "nemesis", "f": op.f,
                      "value": edn.to_json(op.value)}
                _add_extra(ev, op, gt_mode)
                events[i] = ev
                continue
            if op.type != "invoke":
                continue
            j = completion_of.get(i)
            comp = kept[j] if j is not None else None
            if op.f == "txn":
                opening, closing = _txn_events(op, comp, i, nil_read, default_region, where)
                if j is not None:
                    events[i], events[j] = opening, closing
                else:                       # never completed: every part of it unknown
                    events[i] = opening + closing
                continue
            k, inv_v = split(op)
            comp_v = split(comp)[1] if comp is not None else None
            if comp is not None and independent:
                ck = split(comp)[0]
                if ck != k and comp.value[0] is not None:
                    raise UserError(f"operation {_place(comp)}: completes key {ck!r} but its "
                                    f"invocation {_place(op)} is for key {k!r}", where=_at(where, comp))
            inv = {"type": "invoke", "process": op.process, "f": op.f, "key": k}
            done: dict[str, Any] | None = None
            if comp is not None:
                done = {"type": comp.type, "process": comp.process}
                if gt_mode:  # Jepsen completions name f and key: keep them (they must match)
                    done["f"] = op.f
                    done["key"] = k
            if gt_mode:
                # a file written by export_edn: values are gt values; every map has a :value,
                # so nil on a completion means "none" unless it is meaningful (an ok read of
                # nothing, an ok update that left no item)
                inv["value"] = edn.to_json(inv_v)
                if done is not None and (comp_v is not None or (
                        comp.type == "ok" and op.f in ("read", "update"))):
                    done["value"] = edn.to_json(comp_v)
            elif op.f == "read":
                inv["value"] = None
                if done is not None:
                    if comp.type == "ok":
                        if comp_v is None and nil_read == "unconstrained":
                            done["type"] = "info"
                            done["unconstrained"] = True
                            done["value"] = None
                        else:
                            done["value"] = edn.to_json(comp_v)
                    else:
                        done["value"] = None
            elif op.f in ("write", "cas"):
                # an ok completion's value is the one that took effect (Knossos completes the
                # invocation with it); otherwise the invocation's value stands
                v = comp_v if (comp is not None and comp.type == "ok" and comp.has_value) else inv_v
                v = edn.to_json(v)
                if op.f == "cas" and not (isinstance(v, list) and len(v) == 2):
                    raise UserError(f"operation {_place(op)}: a cas value must be [expected new], "
                                    f"got {edn.dumps(inv_v)[:80]}", where=_at(where, op))
                if op.f == "cas" and v[1] is None:
                    raise UserError(
                        f"operation {_place(op)}: a cas to nil cannot be represented (the gt "
                        "format has delete for that)", where=_at(where, op))
                inv["value"] = v
                if done is not None:
                    done["value"] = v
                    if comp.type != "ok" and comp.has_value and edn.to_json(comp_v) != v:
                        # e.g. `:info :write :timed-out` in a log: the reason, not a value
                        reason = "jepsen_value" if "error" in comp.extra else "error"
                        done[reason] = edn.to_json(comp_v)
            else:
                raise UserError(f"operation {_place(op)}: :f :{op.f} is only read from files "
                                "written by gtcheck (with their ; gt-history header line)",
                                where=_at(where, op))
            _add_extra(inv, op, gt_mode)
            inv.setdefault("region", default_region)
            events[i] = inv
            if done is not None:
                _add_extra(done, comp, gt_mode)
                events[j] = done
    except edn.EdnError as exc:  # a value gtcheck cannot represent (see edn.to_json)
        assert current is not None
        raise UserError(f"operation {_place(current)} (or its completion): {exc.message}",
                        where=_at(where, current), hint=exc.hint) from None

    # a transaction's events stand in its invocation's and completion's places
    if any(isinstance(ev, list) for ev in events):
        flat: list[dict[str, Any]] = []
        for pos, ev in enumerate(events):
            for e in (ev if isinstance(ev, list) else [ev]):
                e["time"] = pos
                flat.append(e)
        for idx, ev in enumerate(flat):
            ev["index"] = idx
        return header, [_ordered(ev) for ev in flat]
    # times and indices: the position in the file, unless the file came from gtcheck
    for pos, ev in enumerate(events):
        if gt_mode:
            t = ev.get("time")
            if not isinstance(t, int) or isinstance(t, bool):
                ev["time"] = pos if pos == 0 else max(pos, events[pos - 1]["time"])
        else:
            ev["time"] = pos
            ev["index"] = pos
    return header, [_ordered(ev) for ev in events]


_ORDER = ("index", "type", "process", "region", "f", "key", "value", "consistent", "time",
          "ts", "origin")
_TXN_F = ("read", "write")


def _txn_events(op: JepsenOp, comp: JepsenOp | None, txn: int, nil_read: str, region: str,
                where: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A Knossos multi-register transaction (``:f :txn``, value ``[[:read :x nil] [:write :y
    2]]``) as one gt operation per read and write, sharing the ``txn`` id (its invocation's
    position): the first is invoked where the transaction is, the others follow its
    completion one after the other, each completing as the transaction did (ok, fail, info;
    pending: info), reads with the values of the completion (a ``nil`` read constrains
    nothing, as in Knossos). ``checker.txnregister`` judges them as one atomic operation."""
    micro = op.value
    if not (isinstance(micro, list) and micro and all(
            isinstance(m, list) and len(m) == 3 and _name(m[0]) in _TXN_F for m in micro)):
        raise UserError(
            f"operation {_place(op)}: a :txn value must be a list of [:read k v] and "
            f"[:write k v], got {edn.dumps(micro)[:80]}", where=_at(where, op),
            hint="gtcheck imports Knossos multi-register transactions of reads and writes")
    done_value = comp.value if comp is not None and comp.type == "ok" and comp.has_value else None
    if done_value is not None and not (isinstance(done_value, list) and len(done_value) == len(micro)):
        raise UserError(f"operation {_place(comp)}: the completion of a :txn must list as many "
                        f"[f k v] as its invocation ({len(micro)})", where=_at(where, comp))
    kind = comp.type if comp is not None else "info"
    opening: list[dict[str, Any]] = []
    closing: list[dict[str, Any]] = []
    for n, m in enumerate(micro):
        f, key = _name(m[0]), _key_text(m[1])
        inv: dict[str, Any] = {"type": "invoke", "process": op.process, "region": region, "f": f,
                               "key": key, "txn": txn}
        done: dict[str, Any] = {"type": kind, "process": op.process, "txn": txn}
        if f == "write":
            v = edn.to_json(m[2])
            if v is None:
                raise UserError(f"operation {_place(op)}: a write of nil cannot be represented",
                                where=_at(where, op))
            inv["value"] = done["value"] = v
        else:
            inv["value"] = None
            got = done_value[n][2] if done_value is not None else None
            if kind == "ok":
                if got is None and nil_read == "unconstrained":
                    done.update(type="info", unconstrained=True, value=None)
                else:
                    done["value"] = edn.to_json(got)
            else:
                done["value"] = None
        (opening if n == 0 else closing).append(inv)
        closing.append(done)
    return opening, closing



def _ordered(ev: dict[str, Any]) -> dict[str, Any]:
    out = {k: ev[k] for k in _ORDER if k in ev}
    for k, v in ev.items():
        if k not in out:
            out[k] = v
    return out


def _place(op: JepsenOp) -> str:
    return op.place


def _at(where: str, op: JepsenOp) -> str:
    """The file and the line of ``op``: where an error about it points."""
    return f"{where}:{op.lineno}"


def _add_extra(ev: dict[str, Any], op: JepsenOp, gt_mode: bool) -> None:
    """Carry the op map's other fields: as gt fields for a gtcheck export, else renamed
    away from gt field names (``:time`` -> ``jepsen_time``, ``:index`` -> ``jepsen_index``)."""
    for name, v in op.extra.items():
        if gt_mode:
            if name != "key" and (name not in ev or name in _GT_FIELDS):
                ev[name] = edn.to_json(v)
        else:
            target = name
            if name in ("time", "index", "process", "type", "f", "value") or name in _GT_FIELDS:
                target = "jepsen_" + name
            if target not in ev:
                ev[target] = edn.to_json(v)


# --------------------------------------------------------------------------- export

_EDN_KEY_ORDER = ("process", "type", "f", "value", "time", "index", "region", "consistent",
                  "ts", "origin")


def _field_key(name: str) -> Any:
    if re.fullmatch(r"[A-Za-z*+!_?<>=\-][A-Za-z0-9*+!_?<>=.\-]*", name) and edn.can_write(Keyword(name)):
        return Keyword(name)
    return name


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists or objects more than ``limit`` levels (iteratively)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, tuple)):
            items = v
        elif isinstance(v, dict):
            items = v.values()
        else:
            continue
        if d > limit:
            return True
        stack.extend((x, d + 1) for x in items)
    return False


def export_edn(header: dict[str, Any], events: Iterable[Any], where: str | None = None
               ) -> Iterator[str]:
    """EDN text lines for a gt history (Jepsen independent convention, ``:value [key v]``).

    ``events`` are event dicts, or ``(line, event)`` pairs (then an event that cannot be
    written is refused naming ``where`` and its line). The first line is a
    ``; gt-history {JSON header}`` comment, so that importing the file again restores the
    header and takes ``:time``, ``:index``, ``:region``... as the gt fields they came from.
    """
    yield GT_HEADER_PREFIX + exact_dumps(header).decode()
    first = True
    # a completion may omit f and key: Jepsen completions carry them, take the invocation's
    inflight: dict[Any, tuple[Any, Any]] = {}
    # an op map sits at depth 2 of the file and its value [key v] at 3: what the reader reads
    depth_left = edn.MAX_DEPTH - 3
    for n, item in enumerate(events, 1):
        line, ev = item if isinstance(item, tuple) else (None, item)
        if any(_too_deep(v, depth_left) for v in ev.values()):
            raise UserError(
                f"event {n}: a value nests lists or objects more than {depth_left} levels deep, "
                f"more than an EDN history may ({edn.MAX_DEPTH} levels in all)",
                where=f"{where}:{line}" if where and line else where,
                hint="DynamoDB items nest at most 32 levels")
        m: dict[Any, Any] = {}
        process = ev.get("process")
        nemesis = process == "nemesis"
        key = ev.get("key")
        f = ev.get("f")
        if not nemesis:
            if ev.get("type") == "invoke":
                inflight[process] = (f, key)
            else:
                inv_f, inv_key = inflight.pop(process, (f, key))
                key = inv_key if key is None else key
                f = inv_f if f is None else f
        m[Keyword("process")] = Keyword("nemesis") if nemesis else process
        m[Keyword("type")] = Keyword(ev["type"])
        m[Keyword("f")] = Keyword(f) if isinstance(f, str) and edn.can_write(Keyword(f)) else f
        value = edn.from_json(ev.get("value"))
        if nemesis:
            m[Keyword("value")] = value
        else:
            m[Keyword("value")] = [key, value]
        for name in _EDN_KEY_ORDER[4:]:
            if name in ev:
                m[Keyword(name)] = edn.from_json(ev[name])
        for name, v in ev.items():
            if name not in _EDN_KEY_ORDER and name != "key":
                m[_field_key(name)] = edn.from_json(v)
        yield ("[" if first else " ") + edn.dumps(m)
        first = False
    yield "]" if not first else "[]"
