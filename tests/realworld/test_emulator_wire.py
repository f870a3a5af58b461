"""The emulator is a superset of moto's server (issue 20): a malformed request gets DynamoDB's JSON
error (``__type``, ``message``), never werkzeug's HTML page nor a traceback on stderr; a region not
listed is a plain moto region (or refused, if asked); a request without a signature is refused, or
served as a request to the region the user named, through the same routing (a stopped region
refuses it, a global table replicates it).

The emulator runs as `gtcheck emulate` in a child process on a free loopback port, so that its
stderr can be read after it stops."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

import moto  # noqa: E402,F401  (the test extra installs it and boto3: no skip)

import boto3  # noqa: E402
from botocore import UNSIGNED  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402

pytestmark = pytest.mark.emulator

REGIONS = ["us-east-1", "eu-west-1"]
AUTH = ("AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/dynamodb/aws4_request, SignedHeaders=host, "
        "Signature=00")
CORAL = {"SerializationException", "UnknownOperationException", "MissingAuthenticationTokenException",
         "UnrecognizedClientException"}      # DynamoDB's front end answers these, in its namespace
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def _raw(port, body=b"{}", target="DynamoDB_20120810.ListTables", region="us-east-1", headers=None,
         content_length=None):
    """One request over a raw socket (so that malformed headers reach the server as written)."""
    head = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        head["X-Amz-Target"] = target
    if region is not None:
        head["Authorization"] = AUTH.format(region=region)
    head.update(headers or {})
    head["Content-Length"] = str(len(body)) if content_length is None else content_length
    raw = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(raw.encode() + body)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        return resp.status, resp.read()


def _error(status_body):
    status, body = status_body
    doc = json.loads(body)
    assert set(doc) == {"__type", "message"}, doc
    name = doc["__type"].split("#", 1)[1]
    namespace = "com.amazon.coral.service#" if name in CORAL else "com.amazonaws.dynamodb.v20120810#"
    assert doc["__type"] == namespace + name, doc
    return status, doc["__type"].split("#", 1)[1], doc["message"]


def _client(emu, region, **kw):
    return boto3.client("dynamodb", region_name=region, endpoint_url=emu.endpoint, aws_access_key_id="x",
                        aws_secret_access_key="y", **{"config": NO_RETRY, **kw})


@pytest.fixture(scope="module")
def emu():
    e = EmulatorProcess(REGIONS, delay="constant(20ms)", global_tables="all")
    yield e
    e.stop()


@pytest.mark.parametrize("case, expected", [
    ({"body": b"{bad json"}, (400, "SerializationException")),
    ({"body": b"[1, 2]"}, (400, "SerializationException")),
    ({"body": b"\xff\xfe"}, (400, "SerializationException")),
    ({"target": "DynamoDB_20120810.CreateTable", "body": b'{"TableName": 5}'}, (400, "SerializationException")),
    ({"target": "DynamoDB_20120810.PutItem", "body": b'{"TableName": "t", "Item": "s"}'},
     (400, "SerializationException")),
    ({"target": "DynamoDB_20120810.PutItem", "body": b'{"TableName": "t", "Item": {"pk": {"N": 5}}}'},
     (400, "SerializationException")),
    ({"target": "DynamoDB_20120810.PutItem", "body": b'{"TableName": "t"}'}, (400, "ValidationException")),
    ({"target": "DynamoDB_20120810.NoSuchOperation"}, (400, "UnknownOperationException")),
    ({"target": "DynamoDB_Bogus"}, (400, "UnknownOperationException")),
    ({"content_length": "abc"}, (400, "SerializationException")),
    ({"content_length": "-5"}, (400, "SerializationException")),
    ({"content_length": str(10 ** 12)}, (413, "RequestEntityTooLargeException")),
    ({"region": None}, (400, "MissingAuthenticationTokenException")),
    # found by the emulator fuzzer (tests/data/fuzz-found/emulator-500s.json): were 500s
    ({"target": None}, (400, "UnknownOperationException")),
    ({"target": ""}, (400, "UnknownOperationException")),
    ({"target": "Kinesis_20131202.PutRecord"}, (400, "UnknownOperationException")),
    ({"region": "mars-north-9"}, (400, "UnrecognizedClientException")),
    ({"body": b"[" * 5000 + b"]" * 5000}, (400, "ValidationException")),
    ({"target": "DynamoDB_20120810.GetItem", "body": b'{"TableName": "t", "Key": {"pk": {}}}'},
     (400, "ValidationException")),
    ({"target": "DynamoDB_20120810.PutItem", "body": b'{"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "x"}}}'},
     (400, "ValidationException")),
    ({"target": "DynamoDB_20120810.BatchWriteItem", "body": b'{"RequestItems": {"t": [{}]}}'},
     (400, "ValidationException")),
])
def test_malformed_requests_get_dynamodbs_json_errors(emu, case, expected):
    status, name, message = _error(_raw(emu.port, **case))
    assert (status, name) == expected, message
    assert message


def test_order_comparisons_between_types_are_false_not_500(emu):
    """moto raises TypeError on ``n > :s`` with a number and a string (a 500); DynamoDB's rule,
    mended in the emulator (motogaps.py): the comparison is false, the item does not match;
    comparisons within one type are moto's own, unchanged."""
    c = _client(emu, "us-east-1")
    c.create_table(TableName="cmp", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    c.put_item(TableName="cmp", Item={"pk": {"S": "a"}, "n": {"N": "5"}, "l": {"L": [{"S": "x"}]}, "b": {"B": b"x"}})

    def count(expr, value):
        return c.scan(TableName="cmp", FilterExpression=expr, ExpressionAttributeValues={":z": value})["Count"]

    for expr, value in [("n > :z", {"S": "x"}), ("size(l) > :z", {"S": ""}), ("n < :z", {"B": b"x"}),
                        ("b >= :z", {"S": "x"}), ("n BETWEEN :z AND :z", {"S": "x"}), ("l <= :z", {"N": "1"}),
                        ("size(l) BETWEEN :z AND :z", {"S": "x"})]:
        assert count(expr, value) == 0, expr
    for expr, value, n in [("n > :z", {"N": "4"}, 1), ("n > :z", {"N": "5"}, 0), ("size(l) >= :z", {"N": "1"}, 1),
                           ("b < :z", {"B": b"y"}, 1), ("n BETWEEN :z AND :z", {"N": "5"}, 1)]:
        assert count(expr, value) == n, expr


def test_the_emulator_keeps_serving_and_never_printed_a_traceback(emu):
    """After every malformed request above (the module's emulator), it still serves, the control
    plane still answers, and stderr holds no traceback (read at the end, when it stops)."""
    c = _client(emu, "us-east-1")
    c.create_table(TableName="after", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    c.put_item(TableName="after", Item={"pk": {"S": "a"}})
    assert Control(emu.endpoint, token=emu.token).wait_quiet(timeout=10)
    assert _client(emu, "eu-west-1").get_item(TableName="after", Key={"pk": {"S": "a"}})["Item"]
    status = Control(emu.endpoint).status()
    assert status["internal_errors"] == 0
    emu.stop()
    err = emu.proc_stderr
    assert "Traceback" not in err and "<!doctype html>" not in err.lower(), err[-3000:]


def test_unlisted_regions_are_plain_moto_regions_or_refused():
    with EmulatorProcess(REGIONS, delay="constant(10ms)", global_tables="all") as emu:
        other = _client(emu, "sa-east-1")
        other.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                           BillingMode="PAY_PER_REQUEST")
        other.put_item(TableName="t", Item={"pk": {"S": "x"}})
        assert other.get_item(TableName="t", Key={"pk": {"S": "x"}})["Item"] == {"pk": {"S": "x"}}
        assert "Replicas" not in other.describe_table(TableName="t")["Table"]        # not replicated
        for region in REGIONS:
            assert _client(emu, region).list_tables()["TableNames"] == []
    with EmulatorProcess(REGIONS, delay="constant(10ms)", extra_args=["--unlisted-regions", "refuse"]) as emu:
        with pytest.raises(ClientError) as e:
            _client(emu, "sa-east-1").list_tables()
        assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
        assert "not served" in e.value.response["Error"]["Message"]


def test_unsigned_requests_are_refused_or_routed_by_the_rule_given():
    unsigned = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1, "mode": "standard"})
    with EmulatorProcess(REGIONS, delay="constant(10ms)", global_tables="all") as emu:
        with pytest.raises(ClientError) as e:
            boto3.client("dynamodb", region_name="us-east-1", endpoint_url=emu.endpoint, config=unsigned).list_tables()
        assert e.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    with EmulatorProcess(REGIONS, delay="constant(10ms)", global_tables="all",
                         extra_args=["--unsigned", "eu-west-1"]) as emu:
        anon = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=emu.endpoint, config=unsigned)
        _client(emu, "us-east-1").create_table(
            TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        out = anon.put_item(TableName="t", Item={"pk": {"S": "anon"}})
        assert json.loads(out["ResponseMetadata"]["HTTPHeaders"]["x-gtcheck-versions"])[0][1] == "eu-west-1"
        assert Control(emu.endpoint).wait_quiet(timeout=10)
        assert _client(emu, "us-east-1").get_item(TableName="t", Key={"pk": {"S": "anon"}})["Item"]   # replicated
        Control(emu.endpoint).stop("eu-west-1")
        with pytest.raises(ClientError) as e:
            anon.list_tables()
        assert e.value.response["Error"]["Code"] == "ServiceUnavailable"                         # and stopped


def test_bad_emulate_arguments(capsys):
    from tests.clihelp import run_cli

    for args, where in ((["--unsigned", "mars-1"], "--unsigned"), (["--round-trip", "weird(1)"], "--round-trip"),
                        (["--regions", "us-east-1,us-est-1"], "--regions"),
                        (["--strong-timeout", "soon"], "--strong-timeout"),
                        (["--clock-offset", "mars-1=+1s"], "--clock-offset")):
        code, _, err = run_cli(["emulate", "--port", "0", *args], capsys)
        assert code == 254 and where in err, err


def _table(name, key="pk"):
    return {"TableName": name, "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}


def test_a_version_for_a_replica_made_again_with_another_key_is_dropped_without_a_traceback():
    """Found by the emulator fuzzer: a table deleted in one region and created there again with
    another key, then written in another region; the version arriving had no place in the new
    table and moto's refusal was a traceback in the replication thread. It is lost (counted)."""
    with EmulatorProcess(REGIONS, delay="constant(5ms)", global_tables="all") as emu:
        def call(op, body, region):
            return _raw(emu.port, json.dumps(body).encode(), f"DynamoDB_20120810.{op}", region)[0]
        assert call("CreateTable", _table("t"), "us-east-1") == 200
        assert call("DeleteTable", {"TableName": "t"}, "eu-west-1") == 200
        call("CreateTable", _table("t", "other"), "eu-west-1")       # refused or not, the table is there
        assert call("PutItem", {"TableName": "t", "Item": {"pk": {"S": "x"}}}, "us-east-1") == 200
        assert Control(emu.endpoint, token=emu.token).wait_quiet(timeout=10)
        assert Control(emu.endpoint).status()["internal_errors"] == 0
        emu.stop()
        assert "Traceback" not in emu.proc_stderr, emu.proc_stderr[-3000:]


def test_streams_requests_for_streams_and_shards_that_do_not_exist_get_dynamodbs_errors():
    """moto fails on these (IndexError, KeyError, AssertionError, a 500); DynamoDB answers 400."""
    with EmulatorProcess(REGIONS, delay="constant(5ms)", global_tables="all") as emu:
        def call(op, body, region="us-east-1"):
            return _raw(emu.port, json.dumps(body).encode(), f"DynamoDBStreams_20120810.{op}", region)
        assert _raw(emu.port, json.dumps(_table("t")).encode(), "DynamoDB_20120810.CreateTable")[0] == 200
        no_stream = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000000"
        assert _error(call("DescribeStream", {"StreamArn": "x"}))[:2] == (400, "ValidationException")
        assert _error(call("DescribeStream", {"StreamArn": no_stream}))[:2] == (400, "ResourceNotFoundException")
        spec = {"TableName": "t", "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}}
        assert _raw(emu.port, json.dumps(spec).encode(), "DynamoDB_20120810.UpdateTable")[0] == 200
        status, body = call("ListStreams", {"TableName": "t"})
        arn = json.loads(body)["Streams"][0]["StreamArn"]
        shard = json.loads(call("DescribeStream", {"StreamArn": arn})[1])["StreamDescription"]["Shards"][0]["ShardId"]
        for body, name in [({"StreamArn": arn, "ShardId": "nope", "ShardIteratorType": "LATEST"}, "ResourceNotFoundException"),
                           ({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "SOON"}, "ValidationException"),
                           ({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "AT_SEQUENCE_NUMBER"},
                            "ValidationException"),
                           ({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                             "SequenceNumber": "x1"}, "ValidationException")]:
            assert _error(call("GetShardIterator", body))[:2] == (400, name), body
        status, it = call("GetShardIterator", {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})
        assert status == 200
        # an iterator of us-east-1 read in a region no streams request went to before
        status, body = call("GetRecords", {"ShardIterator": json.loads(it)["ShardIterator"]}, "ap-south-1")
        assert status == 400 and b"ExpiredIteratorException" in body, body
        emu.stop()
        assert "Traceback" not in emu.proc_stderr, emu.proc_stderr[-3000:]
