"""Global tables (version 2019.11.21) in the emulator: which regions replicate a table, and the
table-level requests that AWS applies to every replica.

- **CreateTable** in a region makes a one-region table; with ``--global-tables all`` it is
  replayed in every listed region at once.
- **UpdateTable ``ReplicaUpdates``**: ``Create`` replays the table's shape (its CreateTable,
  then the GSI and TTL changes made since) in the new region and copies the items; ``Delete``
  stops replication to the region and deletes its replica table; ``Update`` (per-replica
  settings) is accepted and changes nothing. ``MultiRegionConsistency: STRONG`` (with
  ``GlobalTableWitnessUpdates`` for a witness) makes a multi-region strongly consistent table
  (``strong.py``), under AWS's conditions: the table is empty and not yet global, has no TTL,
  and ends with three replicas, or two and a witness. A malformed or impossible update is
  refused with DynamoDB's ``ValidationException`` and changes nothing.
- **GSIs added, changed or deleted later** (UpdateTable ``GlobalSecondaryIndexUpdates``) and
  **TTL settings** (UpdateTimeToLive) on a global table are applied to every replica, as AWS
  does; other settings (throughput, streams, deletion protection) stay per replica.
- **DescribeTable** shows ``GlobalTableVersion``, ``Replicas`` (the other regions),
  ``MultiRegionConsistency`` and, for a witness, ``GlobalTableWitnesses``.
- **DeleteTable** in one region removes that replica from the table.
"""

from __future__ import annotations

import json
from typing import Any

from gtcheck.realworld import wire
from gtcheck.realworld.regions import EVENTUAL, STRONG, Group, Regions
from gtcheck.realworld.wire import Response, WireError

GLOBAL_TABLE_VERSION = "2019.11.21"


def _invalid(message: str) -> WireError:
    return WireError(400, "ValidationException", message)


class GlobalTables:
    """The table-level requests; the registry of groups is the core's (``Regions.groups``)."""

    def __init__(self, emu: Regions, global_all: bool) -> None:
        self.emu = emu
        self.global_all = global_all

    # -- requests -------------------------------------------------------------------------------
    def handle(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], op: str, region: str) -> Response | None:
        if op == "CreateTable":
            return self._create(environ, body, doc, region)
        if op == "UpdateTable":
            if any(k in doc for k in ("ReplicaUpdates", "MultiRegionConsistency", "GlobalTableWitnessUpdates")):
                return self._replica_updates(environ, doc, region)
            return self._update(environ, body, doc, region)
        if op == "DescribeTable":
            status, headers, data = self.emu.local_call(environ, body, region)
            if status.startswith("200"):
                data = self._with_replicas(data, region)
                headers = wire.fix_length(headers, data)
            return status, headers, data
        if op == "DeleteTable":
            return self._delete(environ, body, doc, region)
        if op == "UpdateTimeToLive":
            return self._ttl(environ, body, doc, region)
        return None

    def _done_here(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any],
                   region: str) -> tuple[Response, str | None]:
        """Carry a table-level request out in ``region``; its answer, and the table's account
        when it succeeded (its shard installed: a stream switched on gets a new one)."""
        emu = self.emu
        response = emu.local_call(environ, body, region)
        if not response[0].startswith("200"):
            return response, None
        account = emu.account_of(region, doc["TableName"])
        if account is not None:
            emu.ensure_shards(account, region, [doc["TableName"]])
        return response, account

    def _create(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], region: str) -> Response:
        emu = self.emu
        response, account = self._done_here(environ, body, doc, region)
        if account is None:
            return response
        name = doc["TableName"]
        group = Group(account, name, {region}, [("CreateTable", body)])
        with emu.state:
            self.emu.groups[(account, name)] = group
        if self.global_all:
            for other in emu.regions:
                if other != region:
                    self._add_replica(environ, group, region, other)
        return response

    def _update(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], region: str) -> Response:
        response, account = self._done_here(environ, body, doc, region)
        group = self.emu.group(account, doc["TableName"]) if account else None
        if group is not None and doc.get("GlobalSecondaryIndexUpdates"):
            replay = {k: doc[k] for k in ("TableName", "AttributeDefinitions", "GlobalSecondaryIndexUpdates") if k in doc}
            self._everywhere(environ, group, region, "UpdateTable", json.dumps(replay).encode())
        return response

    def _ttl(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], region: str) -> Response:
        emu = self.emu
        name = doc["TableName"]
        account = emu.account_of(region, name)
        group = self.emu.group(account, name) if account else None
        if group is not None and group.consistency == STRONG:
            raise _invalid("Time to Live is not supported on a table with multi-Region strong consistency "
                           "(MultiRegionConsistency STRONG)")
        status, headers, data = emu.local_call(environ, body, region)
        if status.startswith("200") and group is not None:
            self._everywhere(environ, group, region, "UpdateTimeToLive", body)
        return status, headers, data

    def _everywhere(self, environ: dict[str, Any], group: Group, region: str, op: str, body: bytes) -> None:
        """A table-level change done in ``region``: replay it in the other replicas, and in any
        replica created later."""
        with self.emu.state:
            group.shape.append((op, body))
            others = sorted(group.regions - {region})
        for other in others:
            self.emu.local_call(environ, body, other, op=op)
            self.emu.ensure_shards(group.account, other, [group.table])

    def _delete(self, environ: dict[str, Any], body: bytes, doc: dict[str, Any], region: str) -> Response:
        emu = self.emu
        name = doc.get("TableName")
        account = emu.account_of(region, name) if isinstance(name, str) else None
        status, headers, data = emu.local_call(environ, body, region)
        if status.startswith("200") and account is not None:
            self._drop_replica(account, name, region)
        return status, headers, data

    def _drop_replica(self, account: str, table: str, region: str) -> None:
        emu = self.emu
        with emu.state:
            g = emu.groups.get((account, table))
            if g is not None:
                g.regions.discard(region)
                if not g.regions:
                    del emu.groups[(account, table)]
        with emu.lock(region):
            versions = emu.versions.get(region, {})
            for ident in [i for i in versions if i[0] == account and i[1] == table]:
                del versions[ident]
        emu.replicator.forget(region, account, table)

    # -- replicas ---------------------------------------------------------------------------------
    def _add_replica(self, environ: dict[str, Any], group: Group, source: str, target: str) -> None:
        emu = self.emu
        for op, body in list(group.shape):
            status, _, data = emu.local_call(environ, body, target, op=op)
            if not status.startswith("200") and op == "CreateTable":
                raise _invalid(f"creating the replica in {target} failed: {data[:300].decode(errors='replace')}")
        first, second = sorted((source, target))
        with emu.lock(first), emu.lock(second):
            src = emu.backend(group.account, source).get_table(group.table)
            dst = emu.backend(group.account, target).get_table(group.table)
            for item in list(src.all_items()):
                attrs = item.to_json()["Attributes"]
                dst.put_item(attrs, overwrite=True)
                ident = (group.account, group.table, emu.item_key(src, attrs))
                v = emu.versions[source].get(ident)
                if v is not None:
                    emu.versions[target][ident] = v
            emu.ensure_shards(group.account, target, [group.table])
            with emu.state:
                group.regions.add(target)

    def _replica_updates(self, environ: dict[str, Any], doc: dict[str, Any], region: str) -> Response:
        emu = self.emu
        name = doc["TableName"]
        account = emu.account_of(region, name)
        if account is None:
            raise WireError(400, "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
        group = self.emu.group(account, name)
        if group is None:
            raise _invalid(f"table {name} was not created through this emulator's CreateTable, so it cannot become "
                           f"a global table here")
        creates, deletes = self._plan(doc, group, region)
        consistency = doc.get("MultiRegionConsistency")
        witness = self._plan_strong(doc, group, region, creates, deletes, account, name)
        for target in creates:
            self._add_replica(environ, group, region, target)
        for target in deletes:
            with emu.lock(target):
                emu.call(environ, json.dumps({"TableName": name}).encode(), region=target, op="DeleteTable")
            self._drop_replica(account, name, target)
        if consistency == STRONG:          # strong.py serves it from now on
            with emu.state:
                group.consistency, group.witness = STRONG, witness
        rest = {k: v for k, v in doc.items()
                if k not in ("ReplicaUpdates", "MultiRegionConsistency", "GlobalTableWitnessUpdates")}
        if len(rest) > 1:
            status, headers, data = emu.local_call(environ, json.dumps(rest).encode(), region, op="UpdateTable")
            if not status.startswith("200"):
                return status, headers, data
        status, headers, data = emu.local_call(environ, json.dumps({"TableName": name}).encode(), region,
                                               op="DescribeTable")
        desc = json.loads(self._with_replicas(data, region))
        return wire.json_response({"TableDescription": desc["Table"]}, headers)

    def _plan(self, doc: dict[str, Any], group: Group, region: str) -> tuple[list[str], list[str]]:
        """The replica creates and deletes asked, checked as a whole before any is done."""
        emu = self.emu
        updates = doc.get("ReplicaUpdates") or []
        creates: list[str] = []
        deletes: list[str] = []
        for i, update in enumerate(updates):
            actions = [k for k in ("Create", "Update", "Delete") if update.get(k) is not None]
            if len(actions) != 1:
                raise _invalid(f"ReplicaUpdates[{i}] must have exactly one of Create, Update, Delete, "
                               f"not {sorted(update) or 'none'}")
            target = update[actions[0]]["RegionName"]
            if actions[0] == "Create":
                if target in group.regions or target in creates:
                    raise _invalid(f"ReplicaUpdates[{i}]: {target} already holds a replica of {group.table}")
                if target not in emu.regions:
                    raise _invalid(f"ReplicaUpdates[{i}]: region {target} is not served by this emulator "
                                   f"(its regions: {', '.join(emu.regions)})")
                if emu.table(group.account, target, group.table) is not None:
                    raise _invalid(f"ReplicaUpdates[{i}]: a table {group.table} already exists in {target}")
                creates.append(target)
            elif target not in group.regions or target in deletes:
                raise _invalid(f"ReplicaUpdates[{i}]: {target} holds no replica of {group.table}")
            elif actions[0] == "Delete":
                if target == region:
                    raise _invalid(f"ReplicaUpdates[{i}]: the replica in {region}, the region asked, cannot be "
                                   f"deleted from itself; ask another replica's region, or use DeleteTable")
                deletes.append(target)
        if (creates or deletes) and group.consistency == STRONG:
            raise _invalid(f"{group.table} is a multi-Region strongly consistent table: the emulator does not "
                           f"change its replicas")
        return creates, deletes

    def _plan_strong(self, doc: dict[str, Any], group: Group, region: str, creates: list[str], deletes: list[str],
                     account: str, name: str) -> str | None:
        """Check ``MultiRegionConsistency`` and ``GlobalTableWitnessUpdates``; the witness."""
        consistency = doc.get("MultiRegionConsistency")
        witness_updates = doc.get("GlobalTableWitnessUpdates") or []
        if consistency is not None and consistency not in (EVENTUAL, STRONG):
            raise _invalid(f"MultiRegionConsistency must be EVENTUAL or STRONG, not {consistency!r}")
        if consistency is not None and not creates:
            raise _invalid("MultiRegionConsistency is only valid with Create actions in ReplicaUpdates "
                           "(it is chosen when a table becomes global and cannot be changed)")
        if witness_updates and consistency != STRONG:
            raise _invalid("GlobalTableWitnessUpdates is only valid for a multi-Region strongly consistent table "
                           "(MultiRegionConsistency STRONG)")
        if consistency != STRONG:
            return None
        witness = None
        for i, w in enumerate(witness_updates):
            if w.get("Delete") is not None or w.get("Create") is None or witness is not None:
                raise _invalid(f"GlobalTableWitnessUpdates[{i}]: one Create of a witness is expected")
            witness = w["Create"]["RegionName"]
        regions = group.regions | set(creates)
        if group.is_global:
            raise _invalid(f"{name} is already a global table: its consistency mode cannot be changed")
        if deletes:
            raise _invalid("a table cannot lose replicas while it becomes multi-Region strongly consistent")
        if witness is not None and witness in regions:
            raise _invalid(f"the witness {witness} cannot also hold a replica")
        if not ((len(regions) == 3 and witness is None) or (len(regions) == 2 and witness is not None)):
            raise _invalid(f"multi-Region strong consistency needs exactly three replicas, or two replicas and a "
                           f"witness; this update leaves {len(regions)} replica(s)"
                           f"{' and a witness' if witness else ' and no witness'}")
        table = self.emu.backend(account, region).get_table(name)
        if len(list(table.all_items())) > 0:
            raise _invalid(f"{name} must be empty to become a multi-Region strongly consistent table")
        if (table.ttl or {}).get("TimeToLiveStatus") == "ENABLED":
            raise _invalid(f"{name} has Time to Live enabled, which multi-Region strong consistency does not support")
        return witness

    def _with_replicas(self, data: bytes, region: str) -> bytes:
        doc = json.loads(data)
        t = doc.get("Table")
        if not t:
            return data
        account = self.emu.account_of(region, t["TableName"])
        g = self.emu.group(account, t["TableName"]) if account else None
        if g is not None and g.is_global:
            with self.emu.state:
                t["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
                t["Replicas"] = [{"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in self.emu.regions
                                 if r in g.regions and r != region]
                t["MultiRegionConsistency"] = g.consistency
                if g.witness:
                    t["GlobalTableWitnesses"] = [{"RegionName": g.witness, "WitnessStatus": "ACTIVE"}]
        return json.dumps(doc).encode()
