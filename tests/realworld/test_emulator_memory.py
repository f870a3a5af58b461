"""Bounded memory (issue 20): moto no longer keeps every object it made, stream records are trimmed to
the retention and the configured cap with DynamoDB's sequence numbers and errors, shard iterators
expire after 15 minutes. (RSS over a long run is measured by `benchmarks/bench_emulator.py --only
soak`, not here: tests do not time or weigh.)"""

from __future__ import annotations

import time

import pytest

import moto  # noqa: E402,F401  (the test extra installs it and boto3: no skip)

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from gtcheck.realworld import streams  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402
from gtcheck.realworld.emulator import serve  # noqa: E402

pytestmark = pytest.mark.emulator

REGIONS = ["us-east-1", "eu-west-1"]
CAP = 50


@pytest.fixture
def emu():
    server = serve(REGIONS, delay="constant(5ms)", stream_records=CAP, global_tables="all")
    kw = dict(endpoint_url=server.endpoint, aws_access_key_id="x", aws_secret_access_key="y")
    ddb = {r: boto3.client("dynamodb", region_name=r, **kw) for r in REGIONS}
    ddbs = {r: boto3.client("dynamodbstreams", region_name=r, **kw) for r in REGIONS}
    ddb["us-east-1"].create_table(
        TableName="tab", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    try:
        yield server, ddb, ddbs
    finally:
        server.stop()


def _shard(ddbs, region):
    arn = ddbs[region].list_streams(TableName="tab")["Streams"][0]["StreamArn"]
    shard = ddbs[region].describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    return arn, shard["ShardId"], int(shard["SequenceNumberRange"]["StartingSequenceNumber"])


def _records(ddbs, region, kind="TRIM_HORIZON", seq=None):
    arn, shard_id, _ = _shard(ddbs, region)
    kw = {"SequenceNumber": str(seq)} if seq is not None else {}
    it = ddbs[region].get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind, **kw)["ShardIterator"]
    return ddbs[region].get_records(ShardIterator=it, Limit=1000)["Records"]


def test_moto_keeps_no_object_and_streams_keep_at_most_the_cap(emu):
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord

    server, ddb, ddbs = emu
    _, _, first = _shard(ddbs, "us-east-1")
    n = 400
    for i in range(n):
        ddb["us-east-1"].put_item(TableName="tab", Item={"pk": {"S": f"k{i % 10}"}, "v": {"N": str(i)}})
    assert Control(server.endpoint).wait_quiet(timeout=20)
    for cls in (Item, StreamRecord, streams.Shard):
        assert len(cls.instances_tracked) == 0, cls
    for region in REGIONS:                      # the replica's stream holds the replicated writes too
        records = _records(ddbs, region)
        assert CAP <= len(records) <= CAP + max(16, CAP // 8)
        seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))       # consecutive, the newest kept
        assert seqs[-1] == first + n - 1                                # numbering unchanged by trimming
        assert records[-1]["dynamodb"]["NewImage"]["v"] == {"N": str(n - 1)}
    _, _, start = _shard(ddbs, "us-east-1")         # DescribeStream's range starts at the oldest kept
    assert start == int(_records(ddbs, "us-east-1")[0]["dynamodb"]["SequenceNumber"]) > first
    with pytest.raises(ClientError) as e:      # a reader behind the trim horizon: DynamoDB's error
        _records(ddbs, "us-east-1", "AT_SEQUENCE_NUMBER", first)
    assert e.value.response["Error"]["Code"] == "TrimmedDataAccessException"


def test_the_table_copies_transactions_make_do_not_stay(emu):
    import gc

    from moto.dynamodb.models.table import Table

    server, ddb, ddbs = emu
    for i in range(30):
        ddb["us-east-1"].transact_write_items(TransactItems=[
            {"Put": {"TableName": "tab", "Item": {"pk": {"S": f"a{i % 5}"}}}},
            {"Put": {"TableName": "tab", "Item": {"pk": {"S": f"b{i % 5}"}}}}])
    assert Control(server.endpoint).wait_quiet(timeout=20)
    gc.collect()
    live = [t for t in gc.get_objects() if isinstance(t, Table) and t.name == "tab"]
    assert len(live) == len(REGIONS), len(live)      # one table per region, no copy left


def test_a_cancelled_transaction_leaves_no_stream_record(emu):
    server, ddb, ddbs = emu
    c = ddb["us-east-1"]
    c.put_item(TableName="tab", Item={"pk": {"S": "a"}})
    before = len(_records(ddbs, "us-east-1"))
    with pytest.raises(ClientError):
        c.transact_write_items(TransactItems=[
            {"Put": {"TableName": "tab", "Item": {"pk": {"S": "b"}}}},
            {"Put": {"TableName": "tab", "Item": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(pk)"}}])
    assert len(_records(ddbs, "us-east-1")) == before
    assert "Item" not in c.get_item(TableName="tab", Key={"pk": {"S": "b"}})
    c.transact_write_items(TransactItems=[{"Put": {"TableName": "tab", "Item": {"pk": {"S": "b"}}}}])
    assert len(_records(ddbs, "us-east-1")) == before + 1
    assert Control(server.endpoint).wait_quiet(timeout=10)
    assert ddb["eu-west-1"].get_item(TableName="tab", Key={"pk": {"S": "b"}})["Item"] == {"pk": {"S": "b"}}


def test_shard_iterators_expire(emu, monkeypatch):
    server, ddb, ddbs = emu
    ddb["us-east-1"].put_item(TableName="tab", Item={"pk": {"S": "a"}})
    arn, shard_id, _ = _shard(ddbs, "us-east-1")
    it = ddbs["us-east-1"].get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(ddbs["us-east-1"].get_records(ShardIterator=it)["Records"]) == 1
    monkeypatch.setattr(streams, "ITERATOR_LIFETIME_S", 0.0)
    time.sleep(0.01)
    with pytest.raises(ClientError) as e:
        ddbs["us-east-1"].get_records(ShardIterator=it)
    assert e.value.response["Error"]["Code"] == "ExpiredIteratorException"


def test_records_older_than_the_retention_go():
    from moto.dynamodb.models import dynamodb_backends

    server = serve(["us-east-1"], delay="constant(5ms)")
    try:
        c = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=server.endpoint, aws_access_key_id="x",
                         aws_secret_access_key="y")
        c.create_table(TableName="tab", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       BillingMode="PAY_PER_REQUEST",
                       StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        c.put_item(TableName="tab", Item={"pk": {"S": "a"}})
        shard = dynamodb_backends["123456789012"]["us-east-1"].tables["tab"].stream_shard
        assert isinstance(shard, streams.Shard) and len(shard.items) == 1
        shard.retention_s = 0.05
        time.sleep(0.1)
        c.put_item(TableName="tab", Item={"pk": {"S": "b"}})
        assert [r.record["dynamodb"]["Keys"]["pk"]["S"] for r in shard.items] == ["b"]
    finally:
        server.stop()
