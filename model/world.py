"""The state of global tables (``World``) and its records, as the one transition relation
(``model/globaltables.py``) changes them, whichever driver runs it.

Everything that decides the future is here, and nothing else: every item's storage copies
and the versions still on their way to some of them (``Item``, ``Flight``), the clients
and the request each has in flight (``Client``, ``Op``), the fault state (which regions
are cut off or down, the next fault event). Observations (the history index, the revision
and transaction counters of the random workload) ride along but are not part of a
state's identity. The timed simulator changes one ``World`` in place; the explorer copies
the parts an action touches (``World.fork``) and shares the rest.
"""

from __future__ import annotations

from typing import Any, Final

from mypy_extensions import mypyc_attr

from gtcheck.model.lww import Version

NEVER: Final = 1 << 62   # a slot a version will never reach (coalesced, dropped)
DONE: Final = -1         # a slot the version has reached

# a client's phase
IDLE: Final = 0          # its next request is not sent yet
SENT: Final = 1          # a request is on its way to its region (it completes, or in strong mode arrives, at ``due``)
WAIT: Final = 2          # strong mode: the request waits for another region (acknowledged at ``due``)
FINISHED: Final = 3      # nothing left to send

# strong mode: how a request that waited for another region ends
OK: Final = 0
FAIL: Final = 1
INFO: Final = 2


class Op:
    """One request as a client sends it: a typed record, never changed once sent.

    ``condition`` None: no condition. ``parts``: a transaction's requests (this record is
    its first). ``latency`` None: drawn. ``at``: a scripted request's time (-1: the
    workload's). ``write_id``: a scripted item's static identity (-1: given when sent).
    ``region``: where a scripted request is sent (its client's home for the others)."""

    __slots__ = ("f", "key", "value", "consistent", "condition", "txn", "parts", "latency", "at", "region",
                 "write_id", "final", "name")

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
        self.at = -1
        self.region = ""
        self.write_id = -1
        self.final = False
        self.name: str | None = None          # a scripted request's name (exploration's outcomes)

    def __repr__(self) -> str:
        return f"Op({self.f} {self.key} {self.value!r})"


class Client:
    """A client: where it lives and calls, what it has sent, what is left to send."""

    __slots__ = ("pid", "ix", "home", "remember", "program", "pc", "finals", "fpc", "phase", "ready", "due",
                 "op", "region", "t0", "inv", "timeout", "outcome", "error", "version", "answer", "last_seen", "enc")

    def __init__(self, pid: int | str, ix: int, home: str):
        self.pid = pid
        self.ix = ix                                # its position in ``World.clients``
        self.home = home
        self.remember = home                        # failover: the region it last called
        self.program: list[Op] | None = None        # a scripted client's requests
        self.pc = 0                                 # the next of them
        self.finals: list[str] | None = None        # keys it reads in the final phase
        self.fpc = 0
        self.phase = IDLE
        self.ready = 0                              # when its previous request completed
        self.due = 0                                # SENT / WAIT: when its next step happens
        # the request in flight
        self.op: Op | None = None
        self.region = home                          # the region it called
        self.t0 = 0                                 # sent at
        self.inv = -1                               # the history index of its invoke event
        self.timeout = False                        # sent to a region that was down
        self.outcome = OK                           # strong mode: how the wait ends
        self.error = ""
        self.version: Version | None = None         # strong mode: the version decided
        self.answer: Any = None
        self.last_seen: dict[str, Any] | None = None   # the random workload's conditions
        self.enc = -1                               # the explorer's hash of it, until it changes (-1: none)

    def copy(self) -> "Client":
        c = Client(self.pid, self.ix, self.home)
        c.remember, c.program, c.pc, c.finals, c.fpc = self.remember, self.program, self.pc, self.finals, self.fpc
        c.phase, c.ready, c.due, c.op, c.region, c.t0 = self.phase, self.ready, self.due, self.op, self.region, self.t0
        c.inv, c.timeout, c.outcome, c.error = self.inv, self.timeout, self.outcome, self.error
        c.version, c.answer = self.version, self.answer
        c.last_seen = None if self.last_seen is None else dict(self.last_seen)
        return c


class Flight:
    """A version on its way: ``due[slot]`` (slot = region * copies + copy) is when it reaches
    that copy (a time, >= 0: still to come; ``DONE``; ``NEVER``). The timed simulator puts
    real arrival times there; the explorer puts 0 (any time: delivery is an action).
    ``applied``: when it reached each region's leader copy (the ground truth's record)."""

    __slots__ = ("version", "origin", "due", "left", "next_due", "applied", "enc")

    def __init__(self, version: Version, origin: int, due: list[int], n_regions: int):
        self.version = version
        self.origin = origin
        self.due = due
        self.left = 0
        first = NEVER
        for a in due:
            if a != NEVER and a != DONE:
                self.left += 1
                if a < first:
                    first = a
        self.next_due = first
        self.applied: list[int | None] = [None] * n_regions
        self.enc = -1                 # the explorer's hash of it, until it changes (-1: none)

    def copy(self) -> "Flight":
        f = Flight(self.version, self.origin, [], 0)
        f.due, f.left, f.next_due, f.applied = list(self.due), self.left, self.next_due, list(self.applied)
        return f

    def pending(self, slot: int) -> bool:
        a = self.due[slot]
        return a != DONE and a != NEVER


class ItemLog:
    """Strong mode: one item's log, the versions a majority of regions holds, in the order
    they were acknowledged. ``head``: the latest acknowledged one; ``pending``: versions
    decided but not yet acknowledged, with their acknowledgement times (increasing). The
    relation acknowledges a version by an action (``acknowledge``); the emulator, which runs
    in real time, by the clock (``at``). The conflict rule reads it: ``rules.strong_admit``."""

    __slots__ = ("head", "pending")

    def __init__(self) -> None:
        self.head: Version | None = None
        self.pending: list[tuple[int, Version]] = []

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
        """``v`` is decided, to be acknowledged at ``ack``."""
        self.pending.append((ack, v))

    def acknowledge(self, v: Version) -> None:
        """The oldest decided version, ``v``, is acknowledged: it becomes the head."""
        ack, first = self.pending.pop(0)
        if first is not v:
            raise AssertionError("a region's writes of an item are acknowledged in order")
        self.head = v

    def copy(self) -> "ItemLog":
        log = ItemLog()
        log.head, log.pending = self.head, list(self.pending)
        return log


class Item:
    """One item in every region and copy: ``slots[region * copies + copy]`` (each the LWW
    join of the versions that reached it), the versions on their way (``flights``, in the
    conflict order), and in strong mode the item's log (``log``). Only when a driver asks
    for them (``observe``):
    ``reached``, per slot, the write ids of the versions that reached it (as bits), and
    ``written``, every version installed. ``enc``: the explorer's hash of it (-1: none
    yet), kept until the item changes (an item is copied before it changes:
    ``World.own_item``)."""

    __slots__ = ("key", "slots", "flights", "log", "log_shared", "reached", "written", "enc", "svids", "checked")

    def __init__(self, key: str, n_slots: int, observe: bool = False, log: ItemLog | None = None):
        self.key = key
        self.slots: list[Version | None] = [None] * n_slots
        self.flights: list[Flight] = []
        self.log = ItemLog() if log is None else log
        self.log_shared = log is not None       # another item's: copied before it changes (``own_log``)
        self.reached: list[int] | None = [0] * n_slots if observe else None
        self.written: tuple[Version, ...] | None = () if observe else None
        self.enc = -1
        # the explorer's number for the version each slot holds (-1: to look up again;
        # None: none yet, as in the timed simulator, which never asks)
        self.svids: list[int] | None = None
        self.checked = False

    def copy(self) -> "Item":
        """A copy to change: its own slots and list of flights (the flights themselves are
        shared: copy one before changing it, ``own_flight``; so is the log: ``own_log``)."""
        it = Item(self.key, 0, False, self.log)
        it.slots, it.flights = list(self.slots), list(self.flights)
        it.reached = None if self.reached is None else list(self.reached)
        it.written = self.written
        it.svids = None if self.svids is None else list(self.svids)
        return it

    def put(self, slot: int, version: Version | None) -> None:
        """Copy ``slot`` holds ``version`` now (the explorer's number for it is stale)."""
        self.slots[slot] = version
        if self.svids is not None:
            self.svids[slot] = -1

    def own_log(self) -> ItemLog:
        """The item's log, to change: a copy if it is still shared with the item this one was
        copied from (``copy``; the timed simulator, which never copies, changes it in place)."""
        if self.log_shared:
            self.log = self.log.copy()
            self.log_shared = False
        return self.log

    def own_flight(self, write_id: int) -> Flight | None:
        """The flight of version ``write_id``, copied for this item to change."""
        flights = self.flights
        for i in range(len(flights)):
            if flights[i].version.write_id == write_id:
                f = flights[i] = flights[i].copy()
                return f
        return None

    def settled(self) -> bool:
        """Nothing on its way and nothing waiting for its acknowledgement."""
        return not self.flights and not self.log.pending


class World:
    """The whole state. ``cut``/``down`` count, per region (and witness), the isolation and
    outage windows open; ``since``: when its current outage began (failover). These three
    lists are replaced, never changed in place: forks share them."""

    __slots__ = ("items", "clients", "nemesis", "cut", "down", "since", "vector", "index", "rev", "txn")

    def __init__(self, clients: list[Client], n_names: int, vector: int = 0):
        self.items: dict[str, Item] = {}
        self.clients = clients
        self.nemesis = 0                 # the next fault event
        self.cut = [0] * n_names
        self.down = [0] * n_names
        self.since = [0] * n_names
        self.vector = vector             # which clock offsets (the explorer's choice of range ends)
        # observations
        self.index = 0                   # the next history index
        self.rev = 0                     # the random workload's last revision
        self.txn = 0                     # and its last transaction id

    def fork(self) -> "World":
        """A copy that shares every item and client with this one (copy those you change:
        ``own_item``, ``own_client``)."""
        w = World(list(self.clients), 0, self.vector)
        w.items = dict(self.items)
        # the fault state changes only at a fault event, which replaces the lists
        # (``GlobalTables.nemesis``): shared until then
        w.nemesis, w.cut, w.down, w.since = self.nemesis, self.cut, self.down, self.since
        w.index, w.rev, w.txn = self.index, self.rev, self.txn
        return w

    def own_item(self, key: str) -> Item | None:
        it = self.items.get(key)
        if it is not None:
            it = self.items[key] = it.copy()
        return it

    def own_client(self, ix: int) -> Client:
        c = self.clients[ix] = self.clients[ix].copy()
        return c


@mypyc_attr(allow_interpreted_subclasses=True)
class Driver:
    """What the relation asks of the driver running it, besides the action itself: the
    times at which a new version reaches each copy (and whether a queued version is
    coalesced on the way), and the observations the driver records (the ground truth,
    TTL sweeps to schedule). The explorer's driver is this class as it is: arrival "any
    time" (0), no coalescing decided here (it is an action), nothing recorded."""

    def arrivals(self, item: Item, version: Version, origin: int, t: int, quorum: int) -> list[int]:
        """Per slot, when ``version`` (stamped at ``origin`` at ``t``) reaches it; the origin's
        first ``quorum`` copies have it at ``t`` already (the relation marks them)."""
        return [0] * len(item.slots)

    def touch(self, item: Item, t: int) -> None:
        """The relation is about to read or change ``item`` at ``t``: the timed driver first
        delivers every version due there by then (the explorer delivers by actions)."""

    def coalesce(self, item: Item, older: Flight, target: int, t: int) -> bool:
        """Whether ``older``, still queued to ``target`` when a newer version of its item
        from its origin is sent, is dropped for it."""
        return False

    def written(self, key: str, region: str, version: Version, t: int) -> None:
        """A version took effect at its origin (the timed driver schedules TTL sweeps)."""

    def invoked(self, write_id: int, index: int) -> None:
        """A scripted write item was sent: its static id and its invoke's history index."""

    def read(self, index: int, version: Version | None, copy: int) -> None:
        """A read (history index of its invoke) returned ``version`` from ``copy``."""

    def no_effect(self, index: int, key: str, region: str) -> None:
        """A write (history index of its invoke) had no effect."""

    def flight_done(self, key: str, flight: Flight) -> None:
        """A version has reached every copy it will ever reach."""

    def completed(self, f: str, final: bool) -> None:
        """A request completed (the timed driver counts them)."""
