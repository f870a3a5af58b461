"""Porcupine's key-value logs (``test_data/kv/*.txt``) as gt register histories.

Porcupine tests its checker on logs of a key-value store with ``get``, ``put`` and
``append`` of strings, one EDN op map a line::

    {:process 6, :type :invoke, :f :append, :key "0", :value "x 6 0 y"}
    {:process 11, :type :ok, :f :get, :key "7", :value "x 3 0 yx 11 1 y"}

Its model (``kvModel`` in ``porcupine_test.go``): each key holds a string, initially
``""``; ``get`` returns it, ``put`` replaces it, ``append`` concatenates to it. The history
format has no strings that grow, so the import keeps each key's string as the list of the
strings written into it: the item ``{"value": [s1, s2, ...]}``, the concatenation of its
elements being Porcupine's string. So:

* ``put s`` is a ``write`` of ``{"value": [s]}`` (``[]`` for ``""``);
* ``append s`` is an ``update`` whose change is DynamoDB's ``SET #v = list_append(#v, :s)``
  (rule 11: an UpdateExpression; rule 8's list ``add`` would drop an element already
  present, and the logs do append equal strings). Its completion is ``info`` when it does
  not record the post-image, which is always so in these logs: the update may have taken
  effect at any time after its invocation, or never;
* ``get`` is a ``read``: the string it returned, cut into strings that some put or append of
  the key wrote (the only way they can be put together). A string that cannot be cut so is
  kept whole (a read of a value no operation produced), and one that can be cut in two ways
  is refused (exit 254): gtcheck could not tell which list it read;
* the header says ``"register": true`` and ``"initial": {"value": []}``; every key starts
  as Porcupine's ``""``.

An invocation with no completion is pending (unknown) to the end, as in Porcupine's parser.
"""

from __future__ import annotations

import os
from typing import Any

from gtcheck.kernel.errors import UserError

KV_FUNCTIONS = ("get", "put", "append")
ATTRIBUTE = "value"
APPEND = {"expression": "SET #v = list_append(#v, :s)", "names": {"#v": ATTRIBUTE}}
SOURCE = "porcupine-kv"


def looks_like_kv(ops: list[Any]) -> bool:
    """Every client op is a get/put/append with a ``:key`` (Porcupine's kv logs)."""
    seen = False
    for op in ops:
        if op.process == "nemesis":
            continue
        if op.f not in KV_FUNCTIONS or "key" not in op.extra:
            return False
        seen = True
    return seen


def segments(s: str, atoms: set[str], lengths: list[int]) -> tuple[int, list[str] | None]:
    """How many ways (0, 1, or 2 meaning "several") ``s`` is a concatenation of ``atoms``,
    and one such cutting."""
    n = len(s)
    ways = [0] * (n + 1)       # ways[i]: cuttings of s[i:] (capped at 2)
    nxt: list[int] = [-1] * (n + 1)
    ways[n] = 1
    for i in range(n - 1, -1, -1):
        total = 0
        for L in lengths:
            j = i + L
            if j <= n and ways[j] and s[i:j] in atoms:
                if total == 0:
                    nxt[i] = j
                total += ways[j]
                if total >= 2:
                    break
        ways[i] = min(total, 2)
    if ways[0] == 0:
        return 0, None
    out = []
    i = 0
    while i < n:
        j = nxt[i]
        out.append(s[i:j])
        i = j
    return ways[0], out


def kv_to_gt(ops: list[Any], *, where: str, region: str = "porcupine"
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Porcupine kv ops (``kernel.jepsen.JepsenOp``) as a gt (header, events)."""
    from gtcheck.kernel.edn import to_json

    def text(op: Any, v: Any) -> str:
        if v is None:
            return ""
        if not isinstance(v, str):
            raise UserError(f"operation {op.place}: a kv value is a string, got {v!r}",
                            where=f"{where}:{op.lineno}")
        return v

    def key_of(op: Any) -> str:
        k = to_json(op.extra["key"])
        return k if isinstance(k, str) else str(k)

    # the strings written to each key: what a get's string is made of
    atoms: dict[str, set[str]] = {}
    for op in ops:
        if op.process != "nemesis" and op.type == "invoke" and op.f in ("put", "append"):
            s = text(op, op.value)
            if s:
                atoms.setdefault(key_of(op), set()).add(s)
    lengths = {k: sorted({len(a) for a in v}) for k, v in atoms.items()}

    events: list[dict[str, Any]] = []
    inflight: dict[Any, tuple[Any, dict[str, Any]]] = {}
    for op in ops:
        if op.process == "nemesis":
            continue
        if op.type == "invoke":
            if op.process in inflight:
                raise UserError(f"operation {op.place}: process {op.process} invokes again while "
                                "its last operation has not completed", where=f"{where}:{op.lineno}")
            key = key_of(op)
            ev: dict[str, Any] = {"type": "invoke", "process": op.process, "region": region,
                                  "key": key}
            if op.f == "get":
                ev.update(f="read", value=None)
            elif op.f == "put":
                s = text(op, op.value)
                ev.update(f="write", value={ATTRIBUTE: [s] if s else []})
            else:
                s = text(op, op.value)
                ev.update(f="update", value=dict(APPEND, values={":s": [s] if s else []}))
            inflight[op.process] = (op, ev)
            events.append(ev)
            continue
        if op.type not in ("ok", "fail", "info"):
            raise UserError(f"operation {op.place}: unknown :type :{op.type}",
                            where=f"{where}:{op.lineno}")
        started = inflight.pop(op.process, None)
        if started is None:
            raise UserError(f"operation {op.place}: a :{op.type} of process {op.process} "
                            "completes nothing (no invocation in flight)",
                            where=f"{where}:{op.lineno}")
        inv_op, inv = started
        if op.f != inv_op.f:
            raise UserError(f"operation {op.place}: completes a :{inv_op.f} with :f :{op.f}",
                            where=f"{where}:{op.lineno}")
        done: dict[str, Any] = {"type": op.type, "process": op.process}
        if inv["f"] == "update" and op.type == "ok":
            done["type"] = "info"            # its post-image is not recorded
            done["porcupine_type"] = "ok"
        elif inv["f"] == "read" and op.type == "ok":
            s = text(op, op.value)
            key = inv["key"]
            n, cut = segments(s, atoms.get(key, set()), lengths.get(key, []))
            if n > 1:
                raise UserError(
                    f"operation {op.place}: the string this get returned can be cut into the "
                    f"strings put or appended to key {key!r} in more than one way, so gtcheck "
                    "cannot tell which list of them it read", where=f"{where}:{op.lineno}",
                    hint="make every string put or appended to a key distinct from every "
                         "concatenation of the others")
            done["value"] = {ATTRIBUTE: cut if cut is not None else [s]}
        elif inv["f"] == "write" and op.type == "ok":
            done["value"] = inv["value"]
        events.append(done)
    for pos, ev in enumerate(events):
        ev["index"] = pos
        ev["time"] = pos
    header = {"format": "gt-history", "version": 1, "regions": [region], "mode": "strong",
              "register": True, "source": SOURCE, "initial": {ATTRIBUTE: []},
              "source_file": os.path.basename(where)}
    return header, events
