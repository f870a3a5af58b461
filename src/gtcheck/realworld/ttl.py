"""Time to Live in the emulator: a sweeper that deletes expired items, as DynamoDB's does.

Every ``interval`` seconds, for each table with TTL enabled in each running listed region, the
sweeper deletes the items whose TTL attribute (a number: seconds since the epoch) is in the
past, and not more than five years in the past (DynamoDB ignores those). On a global table
an item is swept by the region whose write carried its current version, as in the model (a
replica that received it by replication waits for the delete to arrive), so one expiry is
one delete. The delete is a write like any other: stamped by ``rules.stamp``, replicated, and
applied by last writer wins (a newer write elsewhere survives it). A stopped region does not
sweep; an isolated one does, and its deletes replicate when it heals.

Each delete is kept (the latest ``FEED_SIZE``) for the recorder, which records it as an
operation of process ``"ttl"`` (the history format's convention), at the monotonic times the
sweeper began and ended it: ``/__gtcheck/ttl-deletes?since=N``.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from gtcheck.realworld.regions import Regions

FIVE_YEARS_S = 5 * 365 * 24 * 3600
FEED_SIZE = 100_000


def expired(item_attrs: dict[str, Any], attribute: str, now_s: float) -> bool:
    """DynamoDB's rule: a number of epoch seconds in the past, but not more than five years."""
    av = item_attrs.get(attribute)
    if not isinstance(av, dict) or "N" not in av:
        return False
    try:
        at = Decimal(av["N"])
    except (InvalidOperation, TypeError):
        return False
    return now_s - FIVE_YEARS_S <= at <= now_s


class Sweeper:
    def __init__(self, emu: Regions, interval_s: float) -> None:
        self.emu = emu
        self.interval_s = interval_s
        self.deleted = 0
        self.seq = 0
        self.feed: collections.deque[dict[str, Any]] = collections.deque(maxlen=FEED_SIZE)
        self.feed_lock = threading.Lock()
        self.stop_event = threading.Event()
        self.paused = False
        self.thread = threading.Thread(target=self._loop, name="gtcheck-ttl", daemon=True)
        if interval_s > 0:
            self.thread.start()

    def close(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def since(self, seq: int) -> list[dict[str, Any]]:
        with self.feed_lock:
            return [e for e in self.feed if e["seq"] > seq]

    def _loop(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            if not self.paused:
                try:
                    self.sweep()
                except Exception:  # noqa: BLE001 - a table deleted mid-sweep; the next pass goes on
                    self.emu.errors += 1

    def sweep(self) -> list[dict[str, Any]]:
        """One pass over every listed region; the deletes it made (as the feed lists them)."""
        from moto.dynamodb.models import dynamodb_backends

        emu = self.emu
        done: list[dict[str, Any]] = []
        for region in emu.regions:
            if region in emu.stopped:
                continue
            for account in list(dynamodb_backends.keys()):
                if region not in dynamodb_backends[account].keys():
                    continue
                for name, table in list(dynamodb_backends[account][region].tables.items()):
                    ttl = table.ttl or {}
                    if ttl.get("TimeToLiveStatus") == "ENABLED" and ttl.get("AttributeName"):
                        done += self._sweep_table(account, region, name, ttl["AttributeName"])
        return done

    def _sweep_table(self, account: str, region: str, name: str, attribute: str) -> list[dict[str, Any]]:
        emu = self.emu
        done: list[dict[str, Any]] = []
        with emu.lock(region):
            table = emu.table(account, region, name)
            if table is None:
                return done
            now_s = time.time()
            stamped = emu.known(account, name)
            for item in list(table.all_items()):
                attrs = item.to_json()["Attributes"]
                if not expired(attrs, attribute, now_s):
                    continue
                key_json = emu.item_key(table, attrs)
                ident = (account, name, key_json)
                held = emu.versions[region].get(ident)
                if held is not None and held.origin != region:
                    continue              # its origin sweeps it; the delete reaches us by replication
                start = time.monotonic_ns()
                emu.put_local(account, region, name, key_json, None)
                v = emu.stamp_and_send(region, ident, None, start) if stamped else None
                end = time.monotonic_ns()
                with self.feed_lock:
                    self.seq += 1
                    entry = {"seq": self.seq, "region": region, "table": name, "key": json.loads(key_json),
                             "start_ns": start, "end_ns": end, "ts": v.ts if v else None,
                             "origin": v.origin if v else None}
                    self.feed.append(entry)
                    self.deleted += 1
                done.append(entry)
        return done
