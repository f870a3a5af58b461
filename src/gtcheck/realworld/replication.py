"""Asynchronous replication between the emulator's regions: versions in flight, held while a
link is cut, applied on arrival by the model's last-writer-wins.

One worker thread pops versions in arrival order (a heap). A version whose link is cut when
it arrives is held and resent with a fresh delay when the link heals (as the model's
``rules.link_arrival`` queues it); one sent to a region whose replication is switched off
is dropped (a broken table, for testing the checker). Per link and item, versions arrive in
the order they were sent (``rules.fifo_arrival``).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from gtcheck.model import lww, rules

Ident = tuple[str, str, str]      # (account, table, key as canonical JSON)


@dataclass(order=True)
class Flight:
    arrival_ns: int
    seq: int
    source: str = field(compare=False)
    target: str = field(compare=False)
    ident: Ident = field(compare=False)
    version: lww.Version = field(compare=False)


class Replicator:
    """The versions in flight between regions and the thread that delivers them."""

    def __init__(self, draw: Callable[[str, str], int], cut: Callable[[str, str], bool],
                 dropped: Callable[[str], bool], apply: Callable[[Flight], None]) -> None:
        self._draw, self._cut, self._dropped, self._apply = draw, cut, dropped, apply
        self.cv = threading.Condition()
        self.heap: list[Flight] = []
        self.held: list[Flight] = []
        self.last_arrival: dict[tuple[str, str, Ident], int] = {}   # per link and item, while any is queued
        self.queued: dict[tuple[str, str, Ident], int] = {}
        self.seq = itertools.count()
        self.running = True
        self.dropped = 0
        self.worker = threading.Thread(target=self._loop, name="gtcheck-replication", daemon=True)
        self.worker.start()

    def send(self, source: str, target: str, ident: Ident, version: lww.Version, sent_ns: int) -> None:
        """``version`` leaves ``source`` for ``target`` at ``sent_ns`` (monotonic)."""
        arrival = sent_ns + self._draw(source, target)
        with self.cv:
            link = (source, target, ident)
            arrival = rules.fifo_arrival(self.last_arrival.get(link, 0), arrival)
            self.last_arrival[link] = arrival
            self.queued[link] = self.queued.get(link, 0) + 1
            heapq.heappush(self.heap, Flight(arrival, next(self.seq), source, target, ident, version))
            self.cv.notify()

    def release(self) -> None:
        """Resend held versions whose link is whole again (fresh delay, per-item order kept)."""
        now = time.monotonic_ns()
        with self.cv:
            keep, go = [], []
            for f in self.held:
                (keep if self._cut(f.source, f.target) else go).append(f)
            self.held = keep
        for f in sorted(go):
            self.send(f.source, f.target, f.ident, f.version, now)

    def forget(self, target: str, account: str, table: str) -> None:
        """Drop every version on its way to ``target``'s copy of ``table`` (the replica is gone)."""
        with self.cv:
            def gone(f: Flight) -> bool:
                return f.target == target and f.ident[:2] == (account, table)
            for f in self.heap:
                if gone(f):
                    link = (f.source, f.target, f.ident)
                    self.queued.pop(link, None)
                    self.last_arrival.pop(link, None)
            self.heap = [f for f in self.heap if not gone(f)]
            heapq.heapify(self.heap)
            self.held = [f for f in self.held if not gone(f)]

    def clear(self) -> None:
        with self.cv:
            self.heap.clear()
            self.held.clear()
            self.last_arrival.clear()
            self.queued.clear()

    def in_flight(self) -> int:
        with self.cv:
            return len(self.heap) + len(self.held)

    def counts(self) -> tuple[int, int]:
        with self.cv:
            return len(self.heap), len(self.held)

    def close(self) -> None:
        with self.cv:
            self.running = False
            self.cv.notify_all()
        self.worker.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self.cv:
                while self.running and (not self.heap or self.heap[0].arrival_ns > time.monotonic_ns()):
                    timeout = None if not self.heap else (self.heap[0].arrival_ns - time.monotonic_ns()) / 1e9
                    self.cv.wait(timeout=timeout if timeout is None else max(timeout, 0.0005))
                if not self.running:
                    return
                flight = heapq.heappop(self.heap)
                link = (flight.source, flight.target, flight.ident)
                left = self.queued.pop(link, 1) - 1
                if left > 0:
                    self.queued[link] = left
                else:
                    self.last_arrival.pop(link, None)   # nothing of this item left on the link
                if self._dropped(flight.target):
                    self.dropped += 1
                    continue
                if self._cut(flight.source, flight.target):
                    self.held.append(flight)
                    continue
            self._apply(flight)
