"""Username reservations on a global table, and the application's own audit of what it lost.

The application (plain boto3): a user looks a name up (a strongly consistent ``GetItem``)
and, when it is free, reserves it with ``PutItem`` conditioned on
``attribute_not_exists`` of the name, which DynamoDB guarantees *within one region*. On a
global table two regions may each accept a reservation of the same name before either
sees the other's; last-writer-wins then keeps one owner and silently throws the other away,
although both users were told "reserved".

Run it against the local emulator (see harness.py for starting one):

    python docs/examples/apps/reservations.py --endpoint-url http://127.0.0.1:8000 \\
        --history out/reservations.jsonl
    gtcheck check out/reservations.jsonl

It isolates one region (``--isolate``) and slows replication between the others
(``--delay``) while users in every region reserve names, heals, waits for replication to
drain (``Control.wait_quiet()``), takes the final reads and prints its audit as JSON: every
acknowledged reservation, and every name with two acknowledged owners, naming the owner
that survived and the reservations lost to last-writer-wins by their invocation's index in
the history (``lost_writes``), for comparison with what gtcheck names.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Harness, cli, ensure_table, index  # noqa: E402

TABLE = "usernames"
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank"]


# -- the application: plain boto3 -------------------------------------------------------------
def reserve(ddb: Any, name: str, owner: str) -> bool:
    """Reserve ``name`` for ``owner``: True when DynamoDB acknowledged it."""
    try:
        ddb.put_item(TableName=TABLE, Item={"name": {"S": name}, "owner": {"S": owner}},
                     ConditionExpression="attribute_not_exists(#n)", ExpressionAttributeNames={"#n": "name"})
        return True
    except ddb.exceptions.ConditionalCheckFailedException:
        return False


def owner_of(ddb: Any, name: str) -> str | None:
    item = ddb.get_item(TableName=TABLE, Key={"name": {"S": name}}, ConsistentRead=True).get("Item")
    return item["owner"]["S"] if item else None


# -- the run and its audit ---------------------------------------------------------------------------
def run(endpoint: str, regions: list[str], history: str, isolate: str = "eu-west-1", delay: str = "300ms",
        seed: int = 1) -> dict[str, Any]:
    harness = Harness(endpoint, regions, history, "reservations")
    ddb = harness.clients[regions[0]]
    ensure_table(ddb, TABLE, "name")
    harness.wait_quiet()
    harness.faults(isolate, delay)
    rng = random.Random(seed)
    plans = []
    for region in regions:
        for user in range(2):
            wanted = rng.sample(NAMES, 3)
            plans.append((region, f"{region}/user{user}", wanted, rng.random()))
    acknowledged: list[dict[str, Any]] = []
    lock = threading.Lock()

    def user(region: str, owner: str, wanted: list[str], jitter: float) -> None:
        client = harness.client(region)
        time.sleep(0.05 * jitter)
        for name in wanted:
            if owner_of(client, name) is not None:      # taken, as far as this region knows
                continue
            if reserve(client, name, owner):
                with lock:
                    acknowledged.append({"name": name, "owner": owner, "region": region,
                                         "call": harness.recorder.last_call()})
            time.sleep(0.02)

    threads = [threading.Thread(target=user, args=plan) for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    final = {name: owner_of(harness.clients[regions[0]], name) for name in NAMES}
    harness.close()
    return audit(acknowledged, final)


def audit(acknowledged: list[dict[str, Any]], final: dict[str, str | None]) -> dict[str, Any]:
    """Two acknowledged owners of one name is a double reservation; every acknowledged
    owner that is not the name's final owner was lost to last-writer-wins."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for a in acknowledged:
        by_name.setdefault(a["name"], []).append(a)
    doubles, lost = [], []
    for name, owners in sorted(by_name.items()):
        gone = [a for a in owners if a["owner"] != final.get(name)]
        lost.extend(index(a["call"]) for a in gone)
        if len(owners) > 1:
            doubles.append({"name": name, "final_owner": final.get(name),
                            "owners": sorted(a["owner"] for a in owners),
                            "lost": [{"owner": a["owner"], "region": a["region"], "write": index(a["call"])}
                                     for a in sorted(gone, key=lambda a: a["owner"])]})
    return {"app": "reservations", "acknowledged": len(acknowledged),
            "acknowledged_writes": sorted(index(a["call"]) for a in acknowledged),
            "double_reservations": doubles, "lost_writes": sorted(lost)}


def main(argv: list[str] | None = None) -> int:
    return cli("reservations", __doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
