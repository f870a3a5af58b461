"""An inventory on a global table, and the application's own audit of what it lost.

The application (plain boto3):

* a product page reads the product (an eventually consistent ``GetItem``) and counts the
  view with ``ADD views :one`` (``ReturnValues=UPDATED_NEW`` shows the count);
* a restock is ``ADD stock :qty`` on the product;
* a purchase is one ``TransactWriteItems``: a conditional ``SET stock = stock - :one``
  (condition ``stock >= :one``) on the product, and a ``Put`` of the order.

Every write of the product also appends its own id to the product's ``ops`` attribute
(``list_append``): an audit trail, so that the application can tell afterwards which of
its acknowledged writes the product still reflects.

On a global table each region applies these to its own copy, and last-writer-wins keeps
one version of each item: concurrent increments in two regions count once, two regions
can each sell the last unit (two orders, one unit), and a restock can vanish under a
concurrent purchase. DynamoDB acknowledged all of them.

Run it against the local emulator (see harness.py for starting one):

    python docs/examples/apps/inventory.py --endpoint-url http://127.0.0.1:8000 \\
        --history out/inventory.jsonl
    gtcheck check out/inventory.jsonl

It isolates one region (``--isolate``) and slows replication between the others
(``--delay``) while clients in every region view the product page and one region
restocks while two regions buy the last unit; then it heals, waits for replication to
drain (``Control.wait_quiet()``), takes the final reads and prints its audit as JSON: lost
increments (acknowledged minus counted), double sales of the last unit (purchases whose
decrement the product no longer reflects) and lost restocks, the last two by their
invocation's index in the history (``lost_writes``), for comparison with what gtcheck names.
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

TABLE = "inventory"
PRODUCT = "product#widget"
VIEWS = "views#widget"


# -- the application: plain boto3 -------------------------------------------------------------
def add_product(ddb: Any, stock: int) -> None:
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": PRODUCT}, "stock": {"N": str(stock)}, "ops": {"L": []}})


def view(ddb: Any) -> int:
    """Count one page view; returns the count the page shows."""
    r = ddb.update_item(TableName=TABLE, Key={"pk": {"S": VIEWS}}, UpdateExpression="ADD #v :one",
                        ExpressionAttributeNames={"#v": "views"}, ExpressionAttributeValues={":one": {"N": "1"}},
                        ReturnValues="UPDATED_NEW")
    return int(r["Attributes"]["views"]["N"])


def restock(ddb: Any, qty: int, op: str) -> None:
    ddb.update_item(TableName=TABLE, Key={"pk": {"S": PRODUCT}},
                    UpdateExpression="ADD stock :qty SET ops = list_append(ops, :me)",
                    ExpressionAttributeValues={":qty": {"N": str(qty)}, ":me": {"L": [{"S": op}]}})


def purchase(ddb: Any, order: str, buyer: str) -> bool:
    """Buy one unit: True when the order was placed, False when out of stock."""
    try:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": PRODUCT}},
                        "UpdateExpression": "SET stock = stock - :one, ops = list_append(ops, :me)",
                        "ConditionExpression": "stock >= :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":me": {"L": [{"S": order}]}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"order#{order}"}, "buyer": {"S": buyer}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}])
        return True
    except ddb.exceptions.TransactionCanceledException:
        return False


def show_product(ddb: Any) -> dict[str, Any] | None:
    """What a product page reads: an eventually consistent GetItem, as pages usually do."""
    return ddb.get_item(TableName=TABLE, Key={"pk": {"S": PRODUCT}}).get("Item")


def product(ddb: Any) -> dict[str, Any]:
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": PRODUCT}}, ConsistentRead=True)["Item"]
    return {"stock": int(item["stock"]["N"]), "ops": [x["S"] for x in item["ops"]["L"]]}


def views(ddb: Any) -> int:
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": VIEWS}}, ConsistentRead=True).get("Item")
    return int(item["views"]["N"]) if item else 0


# -- the run and its audit ---------------------------------------------------------------------------
def run(endpoint: str, regions: list[str], history: str, isolate: str = "eu-west-1", delay: str = "300ms",
        seed: int = 1, views_per_client: int = 5) -> dict[str, Any]:
    harness = Harness(endpoint, regions, history, "inventory")
    first = harness.clients[regions[0]]
    ensure_table(first, TABLE, "pk")
    add_product(first, stock=1)
    harness.wait_quiet()                       # every region has the product and its last unit
    others = harness.faults(isolate, delay)
    rng = random.Random(seed)
    done: list[dict[str, Any]] = []
    lock = threading.Lock()

    def note(kind: str, op: str, region: str, call: list[dict[str, Any]], key: str) -> None:
        with lock:
            done.append({"kind": kind, "op": op, "region": region, "write": call, "key": key})

    def viewer(region: str, pause: float) -> None:
        client = harness.client(region)
        for _ in range(views_per_client):
            show_product(client)                 # the page shows the product (an eventual read)
            view(client)
            note("view", "", region, harness.recorder.last_call(), f"{TABLE}/{VIEWS}")
            time.sleep(pause)

    def shop(region: str, steps: list[tuple[str, str]]) -> None:
        """A region's buyers and stock keepers, one after the other."""
        client = harness.client(region)
        for kind, op in steps:
            if kind == "purchase":
                if purchase(client, op, f"buyer-in-{region}"):
                    note("purchase", op, region, harness.recorder.last_call(), f"{TABLE}/{PRODUCT}")
            else:
                restock(client, 5, op)
                note("restock", op, region, harness.recorder.last_call(), f"{TABLE}/{PRODUCT}")
            time.sleep(0.1)

    # the isolated region buys the last unit and restocks; another region buys the last unit
    # too, and restocks later: one of the two regions' product versions will win
    shops = {isolate: [("purchase", "order-1"), ("restock", "restock-1")],
             others[0]: [("purchase", "order-2"), ("restock", "restock-2")]}
    threads = [threading.Thread(target=viewer, args=(r, 0.02 + 0.03 * rng.random())) for r in regions for _ in range(2)]
    threads += [threading.Thread(target=shop, args=(r, steps)) for r, steps in shops.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    harness.settle()
    final = {"product": product(first), "views": views(first)}
    harness.close()
    return audit(done, final)


def audit(done: list[dict[str, Any]], final: dict[str, Any]) -> dict[str, Any]:
    """Lost increments: acknowledged views minus the final count (the audit can count them,
    not name them). Every acknowledged purchase or restock missing from the product's
    final trail was lost: a lost purchase sold a unit the product no longer shows as sold
    (a double sale), a lost restock added stock that is not there."""
    acknowledged_views = sum(1 for d in done if d["kind"] == "view")
    kept = set(final["product"]["ops"])
    gone = [d for d in done if d["kind"] != "view" and d["op"] not in kept]

    def named(ds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"op": d["op"], "region": d["region"], "write": index(d["write"], d["key"])}
                for d in sorted(ds, key=lambda d: d["op"])]
    return {
        "app": "inventory",
        "views": {"acknowledged": acknowledged_views, "counted": final["views"],
                  "lost_increments": acknowledged_views - final["views"],
                  "acknowledged_writes": sorted(index(d["write"]) for d in done if d["kind"] == "view")},
        "product": {"final_stock": final["product"]["stock"], "final_trail": final["product"]["ops"],
                    "acknowledged": named([d for d in done if d["kind"] != "view"])},
        "double_sales": named([d for d in gone if d["kind"] == "purchase"]),
        "lost_restocks": named([d for d in gone if d["kind"] == "restock"]),
        "lost_writes": sorted(index(d["write"], d["key"]) for d in gone),
    }


def main(argv: list[str] | None = None) -> int:
    return cli("inventory", __doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
