"""A correct application on a global table, recorded on the emulator with an isolation and
a replication delay: every write goes to one home region (the usual cure for
last-writer-wins), readers read everywhere. gtcheck check --invariant finds no violation of
any shipped invariant on its recording: conditional creates, ADD counters (asking
ReturnValues=UPDATED_NEW) and optimistic locking on a version attribute, written with
plain boto3 as a user would. The emulator runs in a child process on a free loopback port,
started and stopped here."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

import boto3  # noqa: F401  (the test extra installs it: no skip)

from gtcheck.pytest_plugin import EmulatorProcess
from tests.clihelp import run_cli

pytestmark = pytest.mark.emulator

APPS = Path(__file__).resolve().parents[2] / "docs" / "examples" / "apps"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
HOME = REGIONS[0]
TABLE = "careful"


def _careful_app(endpoint: str, history: str) -> None:
    if str(APPS) not in sys.path:
        sys.path.insert(0, str(APPS))
    from harness import Harness, ensure_table

    h = Harness(endpoint, REGIONS, history, "careful")
    home = h.clients[HOME]
    ensure_table(home, TABLE, "pk")
    h.wait_quiet()
    h.faults("eu-west-1", "200ms")

    def writer(n: int) -> None:
        ddb = h.client(HOME)
        for i in range(4):
            name = f"name{(n + i) % 3}"
            try:
                ddb.put_item(TableName=TABLE, Item={"pk": {"S": name}, "owner": {"S": f"w{n}"}},
                             ConditionExpression="attribute_not_exists(pk)")
            except ddb.exceptions.ConditionalCheckFailedException:
                pass
            ddb.update_item(TableName=TABLE, Key={"pk": {"S": "views"}}, UpdateExpression="ADD #v :one",
                            ExpressionAttributeNames={"#v": "views"},
                            ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_NEW")
            doc = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "doc"}}, ConsistentRead=True).get("Item")
            ver = int(doc["ver"]["N"]) if doc else 0
            try:
                if doc is None:
                    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "doc"}, "ver": {"N": "1"}, "by": {"S": f"w{n}"}},
                                 ConditionExpression="attribute_not_exists(pk)")
                else:
                    ddb.update_item(TableName=TABLE, Key={"pk": {"S": "doc"}},
                                    UpdateExpression="SET ver = :new, #b = :me",
                                    ConditionExpression="ver = :old", ExpressionAttributeNames={"#b": "by"},
                                    ExpressionAttributeValues={":new": {"N": str(ver + 1)}, ":old": {"N": str(ver)},
                                                               ":me": {"S": f"w{n}"}})
            except ddb.exceptions.ConditionalCheckFailedException:
                pass

    def reader(region: str) -> None:
        ddb = h.client(region)
        for _ in range(6):
            for key in ("views", "doc", "name0"):
                ddb.get_item(TableName=TABLE, Key={"pk": {"S": key}})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=reader, args=(r,)) for r in REGIONS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    h.settle()
    h.close()


def test_a_correct_application_breaks_no_shipped_invariant(tmp_path, capsys):
    from gtcheck.search.invariants import SHIPPED

    history = tmp_path / "careful.jsonl"
    with EmulatorProcess(REGIONS, delay="uniform(50ms, 150ms)", seed=3) as emu:
        _careful_app(emu.endpoint, str(history))
    args = ["check", str(history), "--no-progress", "--format", "json"]
    for name in SHIPPED:
        args += ["--invariant", name]
    code, out, _ = run_cli(args, capsys)
    doc = json.loads(out)
    assert {n: e["valid"] for n, e in doc["invariants"].items()} == dict.fromkeys(SHIPPED, True), \
        doc["invariants"]
    assert code == 0 and doc["valid"] is True
    # it did what the invariants judge: creates that failed, increments, version bumps
    events = [json.loads(x) for x in history.read_text().splitlines()[1:]]
    kinds = {(e["f"], e["type"]) for e in events if e.get("process") != "nemesis"}
    assert {("cas", "fail"), ("update", "ok")} <= kinds or {("write", "fail"), ("update", "ok")} <= kinds, kinds
    assert doc["lost_writes"]["figures"]["lost_writes"] == 0
    # and the counter was judged, not skipped: one region's final read one short fails it
    settled = json.loads(history.read_text().splitlines()[0])["settled_after_ns"]
    lines = [json.loads(x) for x in history.read_text().splitlines()]
    invoked = {e["index"]: e for e in lines[1:] if e["type"] == "invoke"}
    for e in lines[1:]:
        inv = next((i for i in reversed(list(invoked.values())) if i["process"] == e.get("process")
                    and i["index"] < e["index"]), None)
        if (e["type"] == "ok" and inv is not None and inv["f"] == "read" and inv["key"].endswith("/views")
                and inv["time"] >= settled):
            e["value"]["views"] -= 1
            break
    else:
        raise AssertionError("no final read of the counter")
    short = tmp_path / "short.jsonl"
    short.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, out, _ = run_cli(["check", str(short), "--no-progress", "--format", "json",
                            "--invariant", "counter_matches_increments"], capsys)
    entry = json.loads(out)["invariants"]["counter_matches_increments"]
    assert code == 1 and entry["valid"] is False and "increments acknowledged" in entry["message"], entry
