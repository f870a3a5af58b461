"""Fuzzing the emulator's HTTP endpoint (issue 18, item 4): ``gtcheck emulate`` runs in a
child process on a free loopback port (tests start and stop it); mutated DynamoDB requests
go to it over raw sockets, so that malformed bodies and headers reach it as written.

Seeds are valid requests of every operation the applications use (CreateTable, PutItem,
GetItem, UpdateItem with expressions, DeleteItem with a condition, Query, Scan, the batch
and transaction calls, DescribeTable, ListTables, and DynamoDB Streams' ListStreams,
DescribeStream, GetShardIterator and GetRecords on the table's real stream); mutations change a field to an odd value
or type, delete one, repeat a name, nest deeply, flip bytes, truncate the body, or change
the headers (the target, the region in the signature, Content-Length, Content-Type).

Judged per request: an answer within the deadline; never a 5xx; an error is DynamoDB's JSON
(``__type``, ``message``), never an HTML page or a traceback. After the run: the emulator is
alive and printed no traceback on stderr.
"""

from __future__ import annotations

import collections
import http.client
import json
import re
import socket
import time
from dataclasses import dataclass, field

from hypothesis import strategies as st

TABLE = "fuzz"
AUTH = ("AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/dynamodb/aws4_request, SignedHeaders=host, "
        "Signature=00")
REGIONS = ["us-east-1", "eu-west-1"]
DEADLINE_S = 20.0

_KEY = {"pk": {"S": "a"}}
SEEDS = [
    ("CreateTable", {"TableName": TABLE, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                     "BillingMode": "PAY_PER_REQUEST"}),
    ("PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "l": {"L": [{"S": "x"}]},
                                              "m": {"M": {"b": {"BOOL": True}}}, "s": {"SS": ["p", "q"]}}}),
    ("PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "b"}, "v": {"N": "12345678901234567890.5"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}),
    ("GetItem", {"TableName": TABLE, "Key": _KEY, "ConsistentRead": True}),
    ("GetItem", {"TableName": TABLE, "Key": _KEY, "ProjectionExpression": "#n, l[0], m.b",
                 "ExpressionAttributeNames": {"#n": "n"}}),
    ("UpdateItem", {"TableName": TABLE, "Key": _KEY,
                    "UpdateExpression": "SET #n = #n + :one, l = list_append(l, :l) REMOVE m.b ADD s :s",
                    "ConditionExpression": "attribute_exists(pk) AND #n < :max",
                    "ExpressionAttributeNames": {"#n": "n"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":l": {"L": [{"N": "2"}]},
                                                  ":s": {"SS": ["r"]}, ":max": {"N": "100"}},
                    "ReturnValues": "ALL_NEW"}),
    ("DeleteItem", {"TableName": TABLE, "Key": {"pk": {"S": "b"}}, "ConditionExpression": "v > :z",
                    "ExpressionAttributeValues": {":z": {"N": "0"}}, "ReturnValues": "ALL_OLD"}),
    ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p",
               "ExpressionAttributeValues": {":p": {"S": "a"}}, "Limit": 5}),
    ("Scan", {"TableName": TABLE, "FilterExpression": "size(l) > :z", "ExpressionAttributeValues": {":z": {"N": "0"}}}),
    ("BatchWriteItem", {"RequestItems": {TABLE: [{"PutRequest": {"Item": {"pk": {"S": "c"}}}},
                                                 {"DeleteRequest": {"Key": {"pk": {"S": "d"}}}}]}}),
    ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [_KEY, {"pk": {"S": "c"}}]}}}),
    ("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "t1"}, "n": {"N": "0"}}}},
        {"Update": {"TableName": TABLE, "Key": _KEY, "UpdateExpression": "SET n = :v",
                    "ExpressionAttributeValues": {":v": {"N": "5"}}}},
        {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "c"}}, "ConditionExpression": "attribute_exists(pk)"}}]}),
    ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": TABLE, "Key": _KEY}}]}),
    ("DescribeTable", {"TableName": TABLE}),
    ("ListTables", {}),
    # DynamoDB Streams (the table's stream is enabled at warm-up; the fuzzer puts the real
    # stream ARN and shard id where these stand)
    ("Streams.ListStreams", {"TableName": TABLE, "Limit": 5}),
    ("Streams.DescribeStream", {"StreamArn": "__STREAM_ARN__"}),
    ("Streams.GetShardIterator", {"StreamArn": "__STREAM_ARN__", "ShardId": "__SHARD_ID__",
                                  "ShardIteratorType": "TRIM_HORIZON"}),
    ("Streams.GetShardIterator", {"StreamArn": "__STREAM_ARN__", "ShardId": "__SHARD_ID__",
                                  "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "1"}),
    ("Streams.GetRecords", {"ShardIterator": "__SHARD_ITERATOR__", "Limit": 10}),
]
STREAM_ON = ("UpdateTable", {"TableName": TABLE, "StreamSpecification": {"StreamEnabled": True,
                                                                       "StreamViewType": "NEW_AND_OLD_IMAGES"}})

ODD_VALUES = [None, True, 0, -1, 1.5, 2 ** 70, "", "ü😀", "x" * 5000, [], {}, [1, "a"], {"S": 5}, {"N": "nan"},
              {"N": "1e400"}, {"N": "1" * 50}, {"S": ""}, {"B": "!!"}, {"SS": []}, {"NS": ["1", "1"]},
              {"L": [{"X": 1}]}, {"M": {"": {"S": "x"}}}, {"NULL": False}, {"S": "a", "N": "1"},
              "SET", "attribute_exists(", "#x = :y", ":undefined", "ALL_NEW", "NONE", "us-east-1",
              "NOT " * 300 + "attribute_exists(pk)", "size(l) > :z AND n < :one", {"S": "a", "X": 1}, {"L": [None]},
              {"N": " 1"}, {"N": "-0"}, {"N": "1E-130"}, {"BS": ["AA==", "AA=="]}, "#n = :one OR m.b IN (:one, :z)"]
TARGETS = ["DynamoDB_20120810.Nope", "", "DynamoDB_20120810.", "DynamoDB_20120810", "Kinesis_20131202.PutRecord",
           "DynamoDB_20120810.UpdateTable", "DynamoDB_20120810.DeleteTable", "DynamoDB_20120810.CreateTable",
           "DynamoDB_20120810.TagResource", "DynamoDB_20120810.DescribeContinuousBackups",
           "DynamoDBStreams_20120810.GetRecords", "DynamoDBStreams_20120810.GetShardIterator",
           "DynamoDBStreams_20120810.DescribeStream", "DynamoDBStreams_20120810.ListStreams",
           "DynamoDB_20120810.UpdateTimeToLive", "DynamoDB_20120810.ExecuteStatement"]


@dataclass
class Request:
    target: str | None
    body: bytes
    region: str | None = "us-east-1"
    headers: dict = field(default_factory=dict)
    mutations: list = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.target} {'; '.join(self.mutations) or 'unchanged'} body={self.body[:120]!r}"


def _target(op: str) -> str:
    return f"DynamoDBStreams_20120810.{op[8:]}" if op.startswith("Streams.") else f"DynamoDB_20120810.{op}"


def _paths(obj, prefix=()):
    """Every (path) of a JSON value: dict keys and list indexes."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value):
    cur = obj
    for p in path[:-1]:
        cur = cur[p]
    if value is _DELETE:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value


_DELETE = object()


@st.composite
def emulator_requests(draw) -> Request:
    op, body = draw(st.sampled_from(SEEDS))
    body = json.loads(json.dumps(body))
    req = Request(_target(op), b"")
    deep: list[str] = []          # raw text of deeply nested values (json.dumps would recurse)
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["value", "value", "value", "delete", "deep", "target", "region",
                                    "length", "type", "bytes", "truncate", "duplicate", "unsigned"]))
        paths = [p for p in _paths(body) if p]
        if how == "value" and paths:
            p = draw(st.sampled_from(paths))
            v = json.loads(json.dumps(draw(st.sampled_from(ODD_VALUES))))   # a copy: later steps change it
            _set(body, p, v)
            req.mutations.append(f"{'.'.join(map(str, p))} := {json.dumps(v)[:30]}")
        elif how == "delete" and paths:
            p = draw(st.sampled_from(paths))
            _set(body, p, _DELETE)
            req.mutations.append(f"delete {'.'.join(map(str, p))}")
        elif how == "deep" and paths:
            p = draw(st.sampled_from(paths))
            depth = draw(st.sampled_from([50, 500, 5000]))
            opens = "".join('{"M": {"a": ' if draw(st.booleans()) else '{"L": [' for _ in range(min(depth, 64)))
            opens *= max(depth // 64, 1)
            closes = "".join("}}" if o == "M" else "]}" for o in re.findall(r'"([ML])"', opens)[::-1])
            deep.append(opens + '{"S": "x"}' + closes)
            _set(body, p, f"__DEEP{len(deep) - 1}__")
            req.mutations.append(f"{'.'.join(map(str, p))} nested {depth}")
        elif how == "target":
            req.target = draw(st.sampled_from(TARGETS + [None]))
            req.mutations.append(f"target {req.target!r}")
        elif how == "region":
            req.region = draw(st.sampled_from(["ap-south-1", "", "us-east-1/x", "ü", None, "eu-west-1"]))
            req.mutations.append(f"region {req.region!r}")
        elif how == "unsigned":
            req.headers["Authorization"] = draw(st.sampled_from(["", "AWS4-HMAC-SHA256", "Bearer x",
                                                                 "AWS4-HMAC-SHA256 Credential=/", "x" * 9000]))
            req.mutations.append("authorization odd")
        elif how == "type":
            req.headers["Content-Type"] = draw(st.sampled_from(["text/html", "", "application/json; charset=latin1",
                                                                "application/x-amz-json-1.1", "multipart/form-data"]))
            req.mutations.append(f"content-type {req.headers['Content-Type']!r}")
        elif how == "length":
            # never more than the body holds: the server would rightly wait for the rest
            req.headers["Content-Length"] = draw(st.sampled_from(["-1", "x", "0", "1e3", "", "0x1"]))
            req.mutations.append(f"content-length {req.headers['Content-Length']!r}")
        elif how == "duplicate":
            req.mutations.append("a repeated name")
            req.body = b"dup"
        elif how in ("bytes", "truncate"):
            req.mutations.append(how)
            req.body = b"raw:" + how.encode()
    text = json.dumps(body)
    for i, raw in enumerate(deep):
        text = text.replace(f'"__DEEP{i}__"', raw)
    text = text.encode()
    if req.body == b"dup":
        text = text[:-1] + b', "TableName": "other"}' if text.endswith(b"}") and len(text) > 2 else text
    elif req.body == b"raw:truncate":
        text = text[:draw(st.integers(0, max(len(text) - 1, 0)))]
    elif req.body == b"raw:bytes":
        data = bytearray(text)
        for _ in range(draw(st.integers(1, 4))):
            if data:
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        text = bytes(data)
    req.body = text
    return req


def send(port: int, req: Request, timeout: float = DEADLINE_S) -> tuple[object, bytes]:
    """One request over a raw socket: (status or 'hang' / 'closed: ...', body)."""
    head = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/x-amz-json-1.0"}
    if req.target is not None:
        head["X-Amz-Target"] = req.target
    if req.region is not None:
        head["Authorization"] = AUTH.format(region=req.region)
    head["Content-Length"] = str(len(req.body))
    head.update(req.headers)
    raw = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "Connection: close\r\n\r\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(raw.encode("utf-8", "surrogateescape") + req.body)
            resp = http.client.HTTPResponse(s)
            resp.begin()
            return resp.status, resp.read()
    except socket.timeout:
        return "hang", b""
    except (http.client.HTTPException, ConnectionError, OSError) as exc:
        return f"closed: {type(exc).__name__}", b""


def judge(status: object, body: bytes, req: Request) -> str | None:
    """The failure class of one answer, or None."""
    if status == "hang":
        return "no answer within the deadline"
    if not isinstance(status, int):
        # a request line and headers as the HTTP grammar allows must get an answer
        odd_header = any(k in req.headers for k in ("Content-Length",))
        return None if odd_header else f"connection {status}"
    if b"Traceback" in body:
        return f"traceback in a {status} answer"
    if status >= 500:
        kind = _error_type(body) or "not JSON"
        try:
            said = re.sub(r"'[^']*'", "S", str(json.loads(body).get("message", "")))[:80]
        except (ValueError, AttributeError):
            said = ""
        return f"HTTP {status} ({kind}: {said})"
    if status >= 400:
        if _error_type(body) is None:
            return f"HTTP {status} is not a DynamoDB JSON error"
    return None


def _error_type(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("__type"), str) and "message" in {k.lower() for k in doc}:
        return doc["__type"].split("#", 1)[-1]
    return None


class EmulatorFuzzer:
    """Starts ``gtcheck emulate`` on a free loopback port, sends requests, tallies answers."""

    def __init__(self) -> None:
        from gtcheck.pytest_plugin import EmulatorProcess

        self.emu = EmulatorProcess(REGIONS, delay="constant(5ms)", global_tables="all")
        self.port = self.emu.port
        self.codes: collections.Counter = collections.Counter()
        self.classes: dict[str, list] = {}
        self.requests = 0
        self.started = time.time()
        for op, body in SEEDS[:2] + [STREAM_ON]:    # the table, an item and its stream exist: requests reach deep
            send(self.port, Request(_target(op), json.dumps(body).encode()))
        self.stream = self._stream()

    def _stream(self) -> dict[bytes, bytes]:
        """The real stream ARN, shard id and a shard iterator, for the seeds' placeholders."""
        def call(op, body):
            status, data = send(self.port, Request(_target(op), json.dumps(body).encode()))
            assert status == 200, (op, status, data)
            return json.loads(data)
        arn = call("Streams.ListStreams", {"TableName": TABLE})["Streams"][0]["StreamArn"]
        shard = call("Streams.DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = call("Streams.GetShardIterator", {"StreamArn": arn, "ShardId": shard,
                                                     "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        return {b"__STREAM_ARN__": arn.encode(), b"__SHARD_ID__": shard.encode(),
                b"__SHARD_ITERATOR__": iterator.encode()}

    def run(self, req: Request) -> str | None:
        for placeholder, real in self.stream.items():
            if placeholder in req.body:
                req.body = req.body.replace(placeholder, real)
        status, body = send(self.port, req)
        self.requests += 1
        self.codes[str(status)] += 1
        bad = judge(status, body, req)
        if bad is not None:
            c = self.classes.setdefault(bad, [0, req, body[:300]])
            c[0] += 1
            if len(req.body) < len(c[1].body):
                c[1], c[2] = req, body[:300]
        return bad

    def close(self) -> None:
        alive = self.emu.proc.poll() is None
        self.emu.stop()
        if not alive:
            self.classes.setdefault("the emulator died", [1, None, b""])
        err = self.emu.proc_stderr
        for start in [m.start() for m in re.finditer("Traceback", err)]:
            tail = err[start:start + 4000]
            raised = re.search(r"^([\w.]+(?:Error|Exception|Exit|Interrupt)\b)", tail, re.M)
            key = f"traceback on the emulator's stderr: {raised.group(1).rsplit('.', 1)[-1] if raised else '?'}"
            c = self.classes.setdefault(key, [0, None, tail[-1500:].encode()])
            c[0] += 1

    def summary(self) -> dict:
        return {"requests": self.requests, "answers": dict(self.codes), "wall_s": round(time.time() - self.started, 1),
                "failure_classes": {k: {"count": c[0], "example": c[1].describe() if c[1] else "",
                                        "answer": c[2].decode("utf-8", "replace")[:1500]} for k, c in self.classes.items()}}

    def format_summary(self) -> str:
        s = self.summary()
        out = [f"emulator fuzz: {s['requests']} requests, {s['wall_s']} s; answers {s['answers']}; "
               f"failure classes: {len(s['failure_classes'])}"]
        for k, c in s["failure_classes"].items():
            out.append(f"  - [{c['count']}x] {k}\n      e.g. {c['example'][:300]}\n      answer {c['answer'][:1500]}")
        return "\n".join(out)
