"""What AWS replicates, the emulator replicates (issue 20): TTL deletes (stamped and replicated like any
write, listed for the recorder) and TTL settings, GSIs added later, PartiQL writes, replicas removed
by ReplicaUpdates Delete; malformed ReplicaUpdates refused with DynamoDB's ValidationException.

Each test serves its own emulator in this process on a free loopback port and stops it."""

from __future__ import annotations

import time

import pytest

import moto  # noqa: E402,F401  (the test extra installs it and boto3: no skip)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, ParamValidationError  # noqa: E402

from gtcheck.realworld.control import Control  # noqa: E402
from gtcheck.realworld.emulator import serve  # noqa: E402

pytestmark = pytest.mark.emulator

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@pytest.fixture
def emu():
    server = serve(REGIONS, delay="constant(30ms)", ttl_interval_s=0.1)
    kw = dict(endpoint_url=server.endpoint, aws_access_key_id="x", aws_secret_access_key="y",
              config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    clients = {r: boto3.client("dynamodb", region_name=r, **kw) for r in REGIONS}
    try:
        yield server, clients, Control(server.endpoint)
    finally:
        server.stop()


def _create(c, name="t", **kw):
    c.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST", **kw)


def _global(clients, name="t", regions=REGIONS[1:]):
    clients["us-east-1"].update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": r}} for r in regions])


def _global_with_ttl(clients):
    """Table ``t`` in every region, TTL on attribute ``exp`` (set in us-east-1)."""
    _create(clients["us-east-1"])
    _global(clients)
    clients["us-east-1"].update_time_to_live(TableName="t", TimeToLiveSpecification={"Enabled": True,
                                                                                      "AttributeName": "exp"})


def _item(c, key, name="t", consistent=True):
    return c.get_item(TableName=name, Key={"pk": {"S": key}}, ConsistentRead=consistent).get("Item")


def _wait(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_ttl_settings_and_ttl_deletes_replicate(emu):
    server, clients, ctl = emu
    use, euw = clients["us-east-1"], clients["eu-west-1"]
    _global_with_ttl(clients)
    for c in clients.values():        # the setting reached every replica
        assert c.describe_time_to_live(TableName="t")["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    now = int(time.time())
    euw.put_item(TableName="t", Item={"pk": {"S": "old"}, "exp": {"N": str(now - 3600)}})   # expired an hour ago
    use.put_item(TableName="t", Item={"pk": {"S": "soon"}, "exp": {"N": str(now + 2)}})
    use.put_item(TableName="t", Item={"pk": {"S": "ancient"}, "exp": {"N": str(now - 6 * 365 * 86400)}})
    use.put_item(TableName="t", Item={"pk": {"S": "keep"}, "exp": {"S": "not a number"}})
    assert _wait(lambda: all(_item(c, "old") is None for c in clients.values()))
    assert _wait(lambda: all(_item(c, "soon") is None for c in clients.values()), timeout=30)
    for c in clients.values():        # DynamoDB ignores expiry more than five years back, and non-numbers
        assert _item(c, "ancient") is not None and _item(c, "keep") is not None
    deletes = ctl.ttl_deletes()
    by_key = {d["key"]["pk"]["S"]: d for d in deletes}
    assert set(by_key) == {"old", "soon"}          # one delete per expiry: only the origin sweeps it
    assert by_key["old"]["region"] == by_key["old"]["origin"] == "eu-west-1"
    assert by_key["soon"]["region"] == "us-east-1"
    for d in deletes:
        assert d["ts"] > 0 and d["start_ns"] <= d["end_ns"] and d["table"] == "t"
    assert ctl.ttl_deletes(since=max(d["seq"] for d in deletes)) == []
    assert ctl.status()["ttl_deletes"] == 2


def test_a_ttl_delete_loses_to_a_newer_write_and_a_stopped_region_does_not_sweep(emu):
    server, clients, ctl = emu
    use, aps = clients["us-east-1"], clients["ap-southeast-2"]
    _global_with_ttl(clients)
    ctl.ttl(paused=True)
    ctl.isolate("us-east-1")
    use.put_item(TableName="t", Item={"pk": {"S": "k"}, "exp": {"N": str(int(time.time()) - 10)}})
    swept = ctl.ttl(sweep=True)["swept"]                 # us-east-1 deletes it, but cannot tell anyone yet
    assert [(d["region"], d["key"]["pk"]["S"]) for d in swept] == [("us-east-1", "k")]
    assert _item(use, "k") is None
    aps.put_item(TableName="t", Item={"pk": {"S": "k"}, "v": {"S": "newer"}})
    ctl.heal()
    assert ctl.wait_quiet(timeout=10)
    for c in clients.values():                           # last writer wins: the newer put survives everywhere
        assert _item(c, "k") == {"pk": {"S": "k"}, "v": {"S": "newer"}}
    ctl.stop("us-east-1")
    use_ok = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=server.endpoint,
                          aws_access_key_id="x", aws_secret_access_key="y")
    use_ok.put_item(TableName="t", Item={"pk": {"S": "z"}, "exp": {"N": str(int(time.time()) - 5)}})
    ctl.start("us-east-1")
    ctl.ttl(sweep=True, paused=False)
    assert _wait(lambda: _item(clients["ap-southeast-2"], "z") is None)


def test_gsis_added_changed_and_deleted_later_reach_every_replica(emu):
    server, clients, ctl = emu
    use = clients["us-east-1"]
    _create(use)
    _global(clients, regions=["eu-west-1"])
    use.update_table(TableName="t", AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by_g", "KeySchema": [
                         {"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}}])
    use.put_item(TableName="t", Item={"pk": {"S": "a"}, "g": {"S": "red"}})
    assert ctl.wait_quiet(timeout=10)
    got = clients["eu-west-1"].query(TableName="t", IndexName="by_g", KeyConditionExpression="g = :g",
                                     ExpressionAttributeValues={":g": {"S": "red"}})["Items"]
    assert got == [{"pk": {"S": "a"}, "g": {"S": "red"}}]
    # a replica made later gets the index too
    use.update_table(TableName="t", ReplicaUpdates=[{"Create": {"RegionName": "ap-southeast-2"}}])
    aps = clients["ap-southeast-2"].describe_table(TableName="t")["Table"]
    assert [i["IndexName"] for i in aps["GlobalSecondaryIndexes"]] == ["by_g"]
    use.update_table(TableName="t", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_g"}}])
    for c in clients.values():
        assert not c.describe_table(TableName="t")["Table"].get("GlobalSecondaryIndexes")


def test_partiql_writes_replicate(emu):
    server, clients, ctl = emu
    use, euw = clients["us-east-1"], clients["eu-west-1"]
    _create(use)
    _global(clients)
    out = use.execute_statement(Statement="INSERT INTO t VALUE {'pk': 'p', 'v': 1}")
    assert out["ResponseMetadata"]["HTTPHeaders"].get("x-gtcheck-versions")
    use.execute_statement(Statement="UPDATE t SET v = ? WHERE pk = ?", Parameters=[{"N": "2"}, {"S": "p"}])
    use.batch_execute_statement(Statements=[{"Statement": "INSERT INTO t VALUE {'pk': 'q'}"}])
    assert ctl.wait_quiet(timeout=10)
    assert _item(euw, "p") == {"pk": {"S": "p"}, "v": {"N": "2"}}
    assert _item(clients["ap-southeast-2"], "q") == {"pk": {"S": "q"}}
    euw.execute_statement(Statement="DELETE FROM t WHERE pk = 'p'")
    assert ctl.wait_quiet(timeout=10)
    assert _item(use, "p") is None


def test_replica_delete_removes_the_replica_table_and_stops_replication(emu):
    server, clients, ctl = emu
    use, euw = clients["us-east-1"], clients["eu-west-1"]
    _create(use)
    _global(clients)
    use.put_item(TableName="t", Item={"pk": {"S": "a"}})
    ctl.isolate("eu-west-1")                               # a version for eu-west-1 waits, held
    use.put_item(TableName="t", Item={"pk": {"S": "b"}})
    out = use.update_table(TableName="t", ReplicaUpdates=[{"Delete": {"RegionName": "eu-west-1"}}])
    assert [r["RegionName"] for r in out["TableDescription"]["Replicas"]] == ["ap-southeast-2"]
    ctl.heal()
    with pytest.raises(ClientError) as e:
        euw.describe_table(TableName="t")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert euw.list_tables()["TableNames"] == []
    use.put_item(TableName="t", Item={"pk": {"S": "c"}})
    assert ctl.wait_quiet(timeout=10)
    assert _item(clients["ap-southeast-2"], "c") == {"pk": {"S": "c"}}
    assert ctl.status()["global_tables"]["t"]["regions"] == ["ap-southeast-2", "us-east-1"]
    assert euw.list_tables()["TableNames"] == []           # nothing recreated it


@pytest.mark.parametrize("updates, message", [
    ([{"Create": {"RegionName": "eu-west-1"}, "Delete": {"RegionName": "ap-southeast-2"}}], "exactly one of"),
    ([{}], "exactly one of"),
    ([{"Create": {"RegionName": "us-east-1"}}], "already holds a replica"),
    ([{"Create": {"RegionName": "eu-west-1"}}, {"Create": {"RegionName": "eu-west-1"}}], "already holds a replica"),
    ([{"Create": {"RegionName": "mars-1"}}], "not served by this emulator"),
    ([{"Delete": {"RegionName": "eu-west-1"}}], "holds no replica"),
    ([{"Delete": {"RegionName": "us-east-1"}}], "cannot be deleted from itself"),
    ([{"Update": {"RegionName": "ap-southeast-2"}}], "holds no replica"),
])
def test_malformed_replica_updates_are_refused_and_change_nothing(emu, updates, message):
    server, clients, ctl = emu
    use = clients["us-east-1"]
    _create(use)
    with pytest.raises(ClientError) as e:
        use.update_table(TableName="t", ReplicaUpdates=updates)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert message in e.value.response["Error"]["Message"]
    assert ctl.status()["global_tables"]["t"]["regions"] == ["us-east-1"]
    assert clients["eu-west-1"].list_tables()["TableNames"] == []


def test_replica_updates_of_the_wrong_shape_get_dynamodbs_errors(emu):
    """What boto3 would refuse itself, sent as raw JSON: DynamoDB's JSON errors, never a 500."""
    import json
    import urllib.request

    server, clients, ctl = emu
    _create(clients["us-east-1"])
    auth = "AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
    for body, name in (({"TableName": "t", "ReplicaUpdates": "x"}, "SerializationException"),
                       ({"TableName": "t", "ReplicaUpdates": ["x"]}, "SerializationException"),
                       ({"TableName": "t", "ReplicaUpdates": [{"Create": {}}]}, "ValidationException"),
                       ({"TableName": "t", "ReplicaUpdates": [{"Create": {"RegionName": 3}}]},
                        "SerializationException"),
                       ({"TableName": "nope", "ReplicaUpdates": [{"Create": {"RegionName": "eu-west-1"}}]},
                        "ResourceNotFoundException")):
        req = urllib.request.Request(server.endpoint + "/", data=json.dumps(body).encode(), method="POST", headers={
            "X-Amz-Target": "DynamoDB_20120810.UpdateTable", "Content-Type": "application/x-amz-json-1.0",
            "Authorization": auth})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=30)
        assert e.value.code == 400
        doc = json.loads(e.value.read())
        assert doc["__type"].endswith("#" + name), (body, doc)
    assert ctl.status()["global_tables"]["t"]["regions"] == ["us-east-1"]
    with pytest.raises(ParamValidationError):            # and boto3 itself refuses the same shapes
        clients["us-east-1"].update_table(TableName="t", ReplicaUpdates="x")
