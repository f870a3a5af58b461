"""The timed simulator's state, as one explicit object (``SimState``), and the typed
records it holds: clients (``Process``) and requests (``Op``)."""

from __future__ import annotations

from typing import Any

from gtcheck.model.lww import Version
from gtcheck.model.storage import ItemStore


class Op:
    """One request as a client sends it (a typed record, not a dict: the hot path).

    ``condition`` None: no condition. ``parts``: a transaction's requests (this record
    is its first). ``latency`` None: drawn. ``injected``: a mutant's own request."""

    __slots__ = ("f", "key", "value", "consistent", "condition", "txn", "parts", "latency", "region",
                 "index", "timeout", "final", "injected")

    def __init__(self, f: str, key: str, value: Any = None, consistent: bool = False,
                 condition: dict[str, Any] | None = None):
        self.f = f
        self.key = key
        self.value = value
        self.consistent = consistent
        self.condition = condition
        self.txn = 0                         # 0: not part of a transaction
        self.parts: list[Op] | None = None
        self.latency: int | None = None
        self.region = ""
        self.index = -1
        self.timeout = False
        self.final = False
        self.injected = False

    @staticmethod
    def from_request(req: dict[str, Any]) -> "Op":
        """A scripted request (``scenario.ScriptedOp.request``) as a record."""
        op = Op(req["f"], req["key"], req.get("value"), bool(req.get("consistent", False)), req.get("condition"))
        if "parts" in req:
            op.parts = [Op.from_request(p) for p in req["parts"]]
        return op

    def copy(self) -> "Op":
        op = Op(self.f, self.key, self.value, self.consistent, self.condition)
        op.txn, op.latency, op.region, op.index = self.txn, self.latency, self.region, self.index
        op.timeout, op.final, op.injected = self.timeout, self.final, self.injected
        op.parts = None if self.parts is None else [p.copy() for p in self.parts]
        return op


class Process:
    """A client: where it lives, where it currently calls, what it has in flight."""

    __slots__ = ("pid", "home", "region", "op", "last_seen", "final_keys", "queue")

    def __init__(self, pid: int | str, home: str, scripted: bool = False):
        self.pid = pid
        self.queue: list[Op] | None = [] if scripted else None   # scripted clients only
        self.home = home
        self.region = home
        self.op: Op | None = None                  # the request in flight
        self.last_seen: dict[str, Any] = {}        # key -> item last read (for conditions)
        self.final_keys: list[str] | None = None


class ItemLog:
    """Strong mode: one item's log, the versions a majority of regions holds, in the order
    they were acknowledged. ``pending``: versions decided but not yet acknowledged, with
    their acknowledgement times (increasing); ``head``: the latest acknowledged one, as of
    the last ``at``; ``busy_until``, ``busy_origin``: when the last decided write is
    acknowledged and which region wrote it (the conflict rule, ``rules.strong_admit``)."""

    __slots__ = ("head", "pending", "busy_until", "busy_origin")

    def __init__(self) -> None:
        self.head: Version | None = None
        self.pending: list[tuple[int, Version]] = []
        self.busy_until = -1
        self.busy_origin = ""

    def at(self, t: int) -> Version | None:
        """The latest version acknowledged at or before ``t`` (times only move forward)."""
        pending = self.pending
        while pending and pending[0][0] <= t:
            self.head = pending.pop(0)[1]
        return self.head

    def latest(self) -> Version | None:
        """The latest version decided, acknowledged or not: what the next write builds on."""
        return self.pending[-1][1] if self.pending else self.head

    def decide(self, ack: int, v: Version) -> None:
        self.pending.append((ack, v))
        self.busy_until = ack
        self.busy_origin = v.origin


class SimState:
    """Everything the timed simulator changes while it runs."""

    def __init__(self, processes: list[Process]):
        self.items: dict[str, ItemStore] = {}
        self.logs: dict[str, ItemLog] = {}    # strong mode only: per item, its log
        self.processes = processes
        self.script_procs: dict[int | str, Process] = {}
        self.heap: list[tuple[int, int, int, Any]] = []   # (time, seq, kind, payload)
        self.seq = 0            # insertion order: breaks ties in the event queue
        self.index = 0          # the next history index
        self.rev = 0            # the last item revision handed out
        self.txn = 0            # the last transaction id
        self.auto_pid = 0       # the last automatic scripted client name
        self.max_arrival = 0    # the latest time any version reaches any copy
        self.now = 0
        self.operations = 0
        self.writes = 0
        self.reads = 0
        self.final_reads = 0
