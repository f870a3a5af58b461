"""The recorder on the emulator (a child process on a free loopback port, started and
stopped here): every call kind and every ReturnValues value across regions; writes carry
the emulator's stamps; updates carry their post-images; the history is valid and a
correct application's history has no anomaly."""

from __future__ import annotations

from pathlib import Path

import pytest

import boto3  # noqa: E402,F401  (the test extra installs it: no skip)
import moto  # noqa: E402,F401

from gtcheck.checker.check import check_history  # noqa: E402
from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402
from gtcheck.realworld.recorder import Recorder, UnrecordableCall  # noqa: E402
from gtcheck.realworld.runner import make_clients  # noqa: E402
from gtcheck.realworld.translate import item_json  # noqa: E402

pytestmark = pytest.mark.emulator

REGIONS = ["us-east-1", "eu-west-1"]
ASKED = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec") / "h.jsonl"
    with EmulatorProcess(REGIONS, delay="uniform(20ms, 60ms)", seed=3) as emu:
        ctl = Control(emu.endpoint)
        rec = Recorder(out, REGIONS)
        raw = make_clients(REGIONS, emu.endpoint)
        us, eu = (rec.attach(raw[r][0]) for r in REGIONS)
        plain = make_clients(["us-east-1"], emu.endpoint)["us-east-1"][0]      # not recorded
        us.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "N"}])
        answers = {}

        def key(sk, pk="p"):
            return {"pk": {"S": pk}, "sk": {"N": str(sk)}}
        for i in range(6):
            us.put_item(TableName="t", Item={**key(i), "n": {"N": "10"}, "m": {"M": {"a": {"S": "x"}}}})
        us.put_item(TableName="t", Item={**key(0, "solo")}, ConditionExpression="attribute_not_exists(pk)")
        for i, asked in enumerate(ASKED):
            answers[asked] = us.update_item(
                TableName="t", Key=key(i), UpdateExpression="SET m.a = :v, n = n - :one",
                ConditionExpression="n >= :one", ReturnValues=asked,
                ExpressionAttributeValues={":v": {"S": asked}, ":one": {"N": "1"}}).get("Attributes")
            answers[asked, "item"] = plain.get_item(TableName="t", Key=key(i), ConsistentRead=True)["Item"]
        us.delete_item(TableName="t", Key=key(5), ReturnValues="ALL_OLD")
        us.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": key(0), "UpdateExpression": "SET n = n - :one",
                        "ConditionExpression": "n >= :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": "t", "Item": key(0, "order")}},
            {"ConditionCheck": {"TableName": "t", "Key": key(1), "ConditionExpression": "attribute_exists(pk)"}}])
        us.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key(0)}}])
        us.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": key(7)}}, {"DeleteRequest": {"Key": key(4)}}]})
        us.batch_get_item(RequestItems={"t": {"Keys": [key(7), key(4)], "ConsistentRead": True}})
        pages = [len(p["Items"]) for p in us.get_paginator("query").paginate(
            TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}, Limit=3)]
        us.scan(TableName="t")
        with pytest.raises(UnrecordableCall):
            us.execute_statement(Statement="DELETE FROM t WHERE pk = 'p' AND sk = 1")
        assert ctl.wait_quiet(timeout=30)
        eu.get_item(TableName="t", Key=key(0), ConsistentRead=True)
        eu.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
        rec.final_reads({"us-east-1": us, "eu-west-1": eu})
        rec.close()
    return rec, answers, pages, out


def _ops(rec):
    open_, out = {}, []
    for ev in rec.events:
        if ev["type"] == "invoke":
            open_[ev["process"]] = ev
        elif ev["process"] != "nemesis":
            out.append((open_.pop(ev["process"]), ev))
    return out


def test_writes_carry_the_emulators_stamps_and_updates_their_post_images(recorded):
    rec, answers, pages, _ = recorded
    ops = _ops(rec)
    writes = [(i, c) for i, c in ops if i["f"] != "read"]
    assert writes and all(c["type"] == "ok" and c["origin"] == "us-east-1" and c["ts"] > 0 for _, c in writes)
    updates = [(i, c) for i, c in writes if i["f"] == "update"]
    assert len(updates) == len(ASKED) + 1
    for (inv, comp), asked in zip(updates, ASKED):
        assert comp["value"] == item_json(answers[asked, "item"]), asked
        assert inv["value"]["expression"].endswith("m.a = :v, n = n - :one")
        assert inv["condition"] == {"expression": "n >= :one", "values": {":one": 1}}
    txn_update = updates[-1]
    assert txn_update[0]["txn_checks"] == [{"key": "t/p/1", "condition": {"expression": "attribute_exists(pk)"}}]
    assert txn_update[1]["value"]["n"] == 8            # p/0: 10, less one (ReturnValues NONE), less one (the txn)


def test_each_return_value_is_what_the_application_asked(recorded):
    _, answers, _, _ = recorded
    assert answers["NONE"] is None
    assert answers["ALL_OLD"]["m"] == {"M": {"a": {"S": "x"}}} and answers["ALL_OLD"]["n"] == {"N": "10"}
    assert answers["UPDATED_OLD"] == {"m": {"M": {"a": {"S": "x"}}}, "n": {"N": "10"}}
    assert answers["ALL_NEW"]["m"] == {"M": {"a": {"S": "ALL_NEW"}}} and "gt_token" in answers["ALL_NEW"]
    assert answers["UPDATED_NEW"] == {"m": {"M": {"a": {"S": "UPDATED_NEW"}}}, "n": {"N": "9"}}


def test_pages_and_the_other_region(recorded):
    rec, _, pages, _ = recorded
    assert pages == [3, 2]                       # p/0..p/3 and p/7 (p/5 and p/4 were deleted)
    reads = [(i, c) for i, c in _ops(rec) if i["f"] == "read" and i["region"] == "eu-west-1"]
    assert reads and all(c["type"] == "ok" for _, c in reads)
    seen = {i["key"]: c["value"] for i, c in reads}
    assert seen["t/p/0"]["n"] == 8 and seen["t/p/4"] is None and seen["t/p/5"] is None


def test_the_history_is_valid_and_has_no_anomaly(recorded):
    *_, path = recorded
    s = check_history(str(path), jobs=1, timeout_s=30.0, progress=False).summary
    for prop in ("integrity", "convergence", "read_after_write", "linearizability"):
        assert not s[prop].get("anomalies"), (prop, s[prop]["anomalies"][:3])
    assert s["convergence"]["valid"] is True
    assert Path(path).read_text().count('"f":"read"') > 20


def test_the_docs_recorder_example_copied_literally_converges(tmp_path, monkeypatch):
    """docs/emulator.md's recorder example, run as written against an emulator (its endpoint
    and file name substituted): it waits for replication before the final reads, so the
    history converges."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text()
    code = doc.split("## The recorder\n\n```python\n", 1)[1].split("```", 1)[0]
    assert "wait_quiet()" in code and code.index("wait_quiet()") < code.index("final_reads")
    monkeypatch.chdir(tmp_path)
    with EmulatorProcess(REGIONS, delay="uniform(100ms, 200ms)") as emu:
        exec(compile(code.replace("http://127.0.0.1:8000", emu.endpoint), "docs/emulator.md", "exec"), {})
    s = check_history(str(tmp_path / "run.jsonl"), jobs=1, progress=False).summary
    assert s["convergence"]["valid"] is True and s["valid"] is True, s["convergence"]
