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
    assert doc["__type"].startswith("com.amazonaws.dynamodb.v20120810#"), doc
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
])
def test_malformed_requests_get_dynamodbs_json_errors(emu, case, expected):
    status, name, message = _error(_raw(emu.port, **case))
    assert (status, name) == expected, message
    assert message


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
