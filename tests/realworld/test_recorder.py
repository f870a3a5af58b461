"""The boto3 recorder against moto in process (issue 10): every API call and every error
class becomes the right events, and recorded histories pass the validator."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError  # noqa: E402

from gtcheck.realworld.recorder import Recorder, classify_error, parse_update  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        yield


def _client(region="us-east-1"):
    return boto3.client("dynamodb", region_name=region, config=Config(retries={"max_attempts": 1}))


def _table(c, name="t"):
    c.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")


def _validate(path: Path) -> None:
    from gtcheck.cli import main
    with pytest.raises(SystemExit) as e:
        main(["validate", str(path)])
    assert e.value.code == 0


def _ops(rec):
    """(f, invoke type, completion type, completion) per operation, in invoke order."""
    open_ = {}
    out = []
    for ev in rec.events:
        if ev["process"] == "nemesis":
            continue
        if ev["type"] == "invoke":
            open_[ev["process"]] = ev
        else:
            inv = open_.pop(ev["process"])
            out.append((inv["f"], ev["type"], inv, ev))
    return out


def test_every_call_maps_to_its_events(aws, tmp_path):
    rec = Recorder(tmp_path / "h.jsonl", REGIONS)
    c = rec.attach(_client())
    _table(c)
    k = {"pk": {"S": "a"}}
    c.put_item(TableName="t", Item={**k, "n": {"N": "1"}})
    c.put_item(TableName="t", Item={"pk": {"S": "b"}}, ConditionExpression="attribute_not_exists(pk)")
    c.update_item(TableName="t", Key=k, UpdateExpression="SET x = :x ADD n :one REMOVE y",
                  ExpressionAttributeValues={":x": {"S": "v"}, ":one": {"N": "2"}})
    r = c.get_item(TableName="t", Key=k, ConsistentRead=True)
    c.get_item(TableName="t", Key={"pk": {"S": "none"}})
    c.delete_item(TableName="t", Key={"pk": {"S": "b"}})
    c.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}}}},
                                          {"Delete": {"TableName": "t", "Key": k}}])
    c.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": {"pk": {"S": "c"}}}}])
    c.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {"pk": {"S": "d"}}}},
                                           {"DeleteRequest": {"Key": {"pk": {"S": "c"}}}}]})
    c.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "d"}}, {"pk": {"S": "zz"}}]}})
    rec.close()
    ops = _ops(rec)
    assert [(f, t) for f, t, _, _ in ops] == [
        ("write", "ok"), ("cas", "ok"), ("update", "ok"), ("read", "ok"), ("read", "ok"), ("delete", "ok"),
        ("write", "ok"), ("delete", "ok"), ("read", "ok"), ("write", "ok"), ("delete", "ok"),
        ("read", "ok"), ("read", "ok")]
    put, cas, upd, read, miss = (o[3] for o in ops[:5])
    assert put["value"]["pk"] == "a" and put["value"]["gt_token"]
    assert "ts" not in put and "origin" not in put     # only the gtcheck emulator says its stamps
    assert cas["value"][0] is None and cas["value"][1]["pk"] == "b"
    # UpdateItem: the change parsed, the whole new item on ok (ALL_NEW), hidden from the caller
    assert ops[2][2]["value"] == {"set": {"pk": "a", "gt_token": upd["value"]["gt_token"], "x": "v"}, "add": {"n": 2},
                                  "remove": ["y"]}
    assert upd["value"]["n"] == 3 and upd["value"]["x"] == "v"
    assert read["value"] == upd["value"] and ops[3][2]["consistent"] is True
    assert "Item" in r
    assert miss["value"] is None and ops[4][2]["consistent"] is False
    # the transaction's operations share a txn id and each has the call's whole window
    txn = [o[2] for o in ops[6:8]]
    assert txn[0]["txn"] == txn[1]["txn"] and txn[0]["time"] == txn[1]["time"]
    assert ops[8][2]["txn"] != txn[0]["txn"] and ops[8][2]["consistent"] is True
    assert ops[11][3]["value"]["pk"] == "d" and ops[12][3]["value"] is None
    _validate(tmp_path / "h.jsonl")


def test_update_item_return_values_kept_as_the_caller_asked(aws, tmp_path):
    rec = Recorder(tmp_path / "h.jsonl", REGIONS)
    c = rec.attach(_client())
    _table(c)
    r = c.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET x = :x",
                      ExpressionAttributeValues={":x": {"S": "v"}})
    assert "Attributes" not in r          # the caller did not ask: the recorder's ALL_NEW is hidden
    r = c.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET x = :x",
                      ExpressionAttributeValues={":x": {"S": "w"}}, ReturnValues="ALL_NEW")
    assert r["Attributes"]["x"] == {"S": "w"}
    r = c.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET x = :x",
                      ExpressionAttributeValues={":x": {"S": "z"}}, ReturnValues="UPDATED_OLD")
    assert r["Attributes"]["x"] == {"S": "w"}
    rec.close()
    assert [t for _, t, _, _ in _ops(rec)] == ["ok", "ok", "info"]   # UPDATED_OLD: post-image unknown
    _validate(tmp_path / "h.jsonl")


def test_error_classes(aws, tmp_path):
    rec = Recorder(tmp_path / "h.jsonl", REGIONS)
    c = rec.attach(_client())
    _table(c)
    c.put_item(TableName="t", Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        c.put_item(TableName="t", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError, match="TransactionCanceled"):
        c.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}}])
    with pytest.raises(ClientError, match="ValidationException"):
        c.put_item(TableName="t", Item={"pk": {"N": "1"}})
    c.get_item(TableName="t", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    c.delete_item(TableName="t", Key={"pk": {"S": "a"}}, ConditionExpression="attribute_exists(pk)")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        c.put_item(TableName="missing", Item={"pk": {"S": "a"}})

    def answer(status, code):
        def handler(request, **kw):
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": code}).encode()
            raw = type("Raw", (), {"stream": lambda self, **k: iter([body]), "read": lambda self, *a: body})()
            return AWSResponse(request.url, status, {"x-amzn-ErrorType": code}, raw)
        return handler

    def boom(exc):
        def handler(request, **kw):
            raise exc
        return handler

    injected = [
        (answer(400, "ProvisionedThroughputExceededException"), "fail"),
        (answer(400, "ThrottlingException"), "fail"),
        (answer(500, "InternalServerError"), "info"),
        (answer(503, "ServiceUnavailable"), "info"),
        (boom(ReadTimeoutError(endpoint_url="http://x")), "info"),
        (boom(EndpointConnectionError(endpoint_url="http://x")), "info"),
    ]
    for handler, _ in injected:
        c.meta.events.register_first("before-send.dynamodb.PutItem", handler)
        with pytest.raises(Exception):
            c.put_item(TableName="t", Item={"pk": {"S": "z"}})
        c.meta.events.unregister("before-send.dynamodb.PutItem", handler)
    rec.close()
    kinds = [(f, t, c.get("error")) for f, t, _, c in _ops(rec)]
    assert kinds[:2] == [("write", "ok", None), ("cas", "fail", "ConditionalCheckFailedException")]
    assert kinds[2][1] == kinds[3][1] == "fail" and kinds[2][2] == "TransactionCanceledException"
    assert kinds[4] == ("write", "fail", "ValidationException")
    assert kinds[5][1] == "ok" and kinds[6][1] == "ok"       # the read and the conditional delete
    assert kinds[7] == ("write", "fail", "ResourceNotFoundException")
    assert [t for _, t, _ in kinds[8:]] == [want for _, want in injected]
    _validate(tmp_path / "h.jsonl")


def test_classify_error():
    def ce(code, status):
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem")
    assert classify_error(ce("ConditionalCheckFailedException", 400)) == "fail"
    assert classify_error(ce("RequestLimitExceeded", 400)) == "fail"
    assert classify_error(ce("TransactionInProgressException", 400)) == "info"
    assert classify_error(ce("InternalServerError", 500)) == "info"
    assert classify_error(RuntimeError("?")) == "info"


def test_token_can_be_switched_off(aws, tmp_path):
    rec = Recorder(tmp_path / "h.jsonl", REGIONS, token_attribute=None)
    c = rec.attach(_client())
    _table(c)
    c.put_item(TableName="t", Item={"pk": {"S": "a"}, "version": {"N": "1"}})
    c.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET version = :v",
                  ExpressionAttributeValues={":v": {"N": "2"}})
    item = rec.detach(c).get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]
    assert item == {"pk": {"S": "a"}, "version": {"N": "2"}}
    rec.close()
    _validate(tmp_path / "h.jsonl")


def test_threads_regions_and_a_settled_history(aws, tmp_path):
    rec = Recorder(tmp_path / "h.jsonl", REGIONS, clock_uncertainty_ns=1000)
    clients = {r: rec.attach(_client(r)) for r in REGIONS}
    for c in clients.values():
        _table(c)

    def work(region, i):
        c = clients[region]
        for j in range(25):
            k = {"pk": {"S": f"k{j % 5}"}}
            c.put_item(TableName="t", Item={**k, "w": {"S": f"{region}-{i}-{j}"}})
            c.get_item(TableName="t", Key=k, ConsistentRead=bool(j % 2))

    threads = [threading.Thread(target=work, args=(r, i)) for r in REGIONS for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec.nemesis("partition", {"isolate": ["eu-west-1"]})
    rec.final_reads(clients)
    path = rec.close()
    lines = Path(path).read_text().splitlines()
    header = json.loads(lines[0])
    assert header["settled_after_ns"] > 0 and header["clock_uncertainty_ns"] == 1000
    events = [json.loads(x) for x in lines[1:]]
    assert [e["index"] for e in events] == list(range(len(events)))
    assert all(a["time"] <= b["time"] for a, b in zip(events, events[1:]))
    assert len({e["process"] for e in events if e["process"] != "nemesis"}) == 8   # one per (thread, client): 6 workers + 2 final readers
    assert {e["region"] for e in events if "region" in e} == set(REGIONS)
    _validate(Path(path))


def test_parse_update():
    assert parse_update("SET #a = :a, b = if_not_exists(b, :z) REMOVE c, d ADD n :n",
                        {"#a": "alpha"}, {":a": {"S": "x"}, ":n": {"N": "5"}, ":z": {"N": "0"}}) == \
        {"set": {"alpha": "x"}, "remove": ["c", "d"], "add": {"n": 5}}
    assert parse_update(None, None, None) == {}
