"""Bounded memory for moto's DynamoDB and DynamoDB Streams state, and one hook that sees every
item change moto makes.

moto keeps, for its dashboard, a reference to every model object it ever created (every
``Item`` of every write, every stream record), and every stream record of a table for ever:
about 6.5 MB per 1,000 puts on a table with a stream and 1.6 MB without, on a fixed set of
keys (measured in process on moto 5.2). The emulator, which runs for hours under load:

- stops that tracking for the DynamoDB and DynamoDB Streams model classes (``untrack``); the
  only cost is that moto's dashboard (``/moto-api/``) lists no DynamoDB objects;
- replaces each table's stream shard with a ``Shard`` that keeps records only while the
  table's stream is on, drops records older than DynamoDB's 24-hour retention and, past a
  cap (``--stream-records``), the oldest, with sequence numbers unchanged (a reader behind the
  trim horizon gets DynamoDB's ``TrimmedDataAccessException``);
- expires shard iterators 15 minutes after they were handed out, as DynamoDB does
  (``ExpiredIteratorException``), instead of keeping every one.

The ``Shard`` is also the one place every item change of a table passes (moto calls it from
PutItem, UpdateItem, DeleteItem, transactions, batches and PartiQL alike), so the emulator
learns which items a request changed without parsing the request (``hook``).
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any, Callable

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models.table import StreamShard

STREAM_RETENTION_S = 24 * 3600          # DynamoDB Streams keeps a record 24 hours
ITERATOR_LIFETIME_S = 15 * 60           # a shard iterator expires 15 minutes after it is returned
DEFAULT_STREAM_RECORDS = 10_000         # records kept per table and region, past which the oldest go

Hook = Callable[[Any, Any, Any], None]   # (table, old Item or None, new Item or None)


class _Untracked(list):  # type: ignore[type-arg]
    """Stands in for moto's ``instances_tracked`` list and keeps nothing."""

    def append(self, item: Any) -> None:
        pass


def untrack() -> None:
    """Stop moto keeping every DynamoDB and DynamoDB Streams model object it creates."""
    import moto.dynamodb.models  # noqa: F401 - registers its classes
    import moto.dynamodbstreams.models  # noqa: F401
    from moto.core.model_instances import model_data

    for service in ("dynamodb", "dynamodbstreams"):
        for cls in model_data.get(service, {}).values():
            cls.instances_tracked = _Untracked()  # type: ignore[attr-defined]
    # moto's metaclass gives every subclass a tracking list of its own, ours too: every shard
    # of every table copy moto deep-copies for a transaction, and so the copy, would stay
    Shard.instances_tracked = _Untracked()  # type: ignore[attr-defined]


def reset_moto() -> None:
    """Empty moto's DynamoDB and DynamoDB Streams state in this process (every account, region)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    for backends in (dynamodb_backends, dynamodbstreams_backends):
        for account in list(backends.keys()):
            backends[account].reset()


class TrimmedDataAccess(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("TrimmedDataAccessException",
                         "The operation attempted to read past the oldest stream record in a shard.")


class ExpiredIterator(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("ExpiredIteratorException", "Iterator expired: the shard iterator is older than 15 minutes.")


class Shard(StreamShard):
    """A table's stream shard: every change goes through ``hook``; records kept while the
    stream is on, within ``retention_s`` and ``cap``."""

    def __init__(self, account_id: str, table: Any, hook: Hook, cap: int = DEFAULT_STREAM_RECORDS,
                 retention_s: float = STREAM_RETENTION_S, previous: StreamShard | None = None) -> None:
        super().__init__(account_id, table)
        self.hook, self.cap, self.retention_s = hook, cap, retention_s
        self.times: list[float] = []
        if previous is not None:       # keep the stream's identity and what it holds
            self.id = previous.id
            self.starting_sequence_number = previous.starting_sequence_number
            self.created_on = previous.created_on
            self.items = list(previous.items)
            self.times = list(getattr(previous, "times", [time.monotonic()] * len(previous.items)))
            self._trim()

    def add(self, old: Any, new: Any) -> None:
        self.hook(self.table, old, new)
        spec = self.table.stream_specification
        if spec and spec.get("StreamEnabled") and spec.get("StreamViewType"):
            super().add(old, new)
            self.times.extend([time.monotonic()] * (len(self.items) - len(self.times)))
            del self.times[len(self.items):]     # a Lambda mapping may have taken the records
            self._trim()

    def _trim(self) -> None:
        items, times = self.items, self.times
        drop = len(items) - self.cap if len(items) > self.cap + max(16, self.cap // 8) else 0
        horizon = time.monotonic() - self.retention_s
        while drop < len(times) and times[drop] < horizon:
            drop += 1
        if drop > 0:
            del items[:drop]
            del times[:drop]
            self.starting_sequence_number += drop

    def get(self, start: int, quantity: int) -> list[dict[str, Any]]:
        if start < self.starting_sequence_number:
            raise TrimmedDataAccess()
        return super().get(start, quantity)

    def __deepcopy__(self, memo: dict[int, Any]) -> "Shard":
        # moto deep-copies a table before a transaction, to roll back to: share the records
        # (never changed once made), copy the lists that hold them
        new = copy.copy(self)
        memo[id(self)] = new
        new.table = copy.deepcopy(self.table, memo)
        new.items = list(self.items)
        new.times = list(self.times)
        return new


def install(table: Any, account_id: str, hook: Hook, cap: int, retention_s: float = STREAM_RETENTION_S) -> None:
    """Give ``table`` a ``Shard`` (keeping what its current shard holds), unless it has one."""
    shard = table.stream_shard
    if isinstance(shard, Shard):
        return
    table.stream_shard = Shard(account_id, table, hook, cap, retention_s, previous=shard)


class ExpiringIterators(dict):  # type: ignore[type-arg]
    """moto's shard-iterator registry, forgetting iterators older than 15 minutes."""

    def __init__(self, existing: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.born: dict[str, float] = {}
        for k, v in (existing or {}).items():
            self[k] = v

    def __setitem__(self, key: str, value: Any) -> None:
        now = time.monotonic()
        if len(self.born) % 64 == 0:
            for k in [k for k, t in self.born.items() if now - t > ITERATOR_LIFETIME_S]:
                self.born.pop(k, None)
                dict.pop(self, k, None)
        self.born[key] = now
        super().__setitem__(key, value)

    def __getitem__(self, key: str) -> Any:
        born = self.born.get(key)
        if born is None or time.monotonic() - born > ITERATOR_LIFETIME_S:
            raise ExpiredIterator()
        return super().__getitem__(key)


def bound_iterators(region: str | None = None) -> None:
    """Swap every DynamoDB Streams backend's iterator registry for an expiring one (the
    default account's backend of ``region`` is made first, so a request to a region no
    streams request went to before finds its registry wrapped too)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    if region is not None:
        _ = dynamodbstreams_backends[DEFAULT_ACCOUNT_ID][region]

    for account in list(dynamodbstreams_backends.keys()):
        per_account = dynamodbstreams_backends[account]
        for region in list(per_account.keys()):
            backend = per_account[region]
            if not isinstance(backend.shard_iterators, ExpiringIterators):
                backend.shard_iterators = ExpiringIterators(backend.shard_iterators)


_STREAM_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[^:]*:(\d{12}):table/([^/]+)/stream/(.+)\Z")
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def check_request(table_of: Callable[[str, str], Any], op: str, doc: dict[str, Any]) -> None:
    """Refuse a DynamoDB Streams request whose stream or shard does not exist, as DynamoDB
    does (moto fails on them: IndexError, AssertionError, KeyError, a 500). ``doc`` has the
    API's shapes already (``validate.check``); ``table_of(account, name)`` is the moto table
    of the request's region, or None. A disabled stream counts as missing (DynamoDB still
    describes it for 24 hours: gtcheck's decision, moto cannot)."""
    from gtcheck.realworld.wire import WireError

    arn = doc.get("StreamArn")
    if op not in ("DescribeStream", "GetShardIterator") or not isinstance(arn, str):
        return
    m = _STREAM_ARN.match(arn)
    if m is None:
        raise WireError(400, "ValidationException", f"Invalid StreamArn: {arn[:200]}")
    account, name, label = m.groups()
    table = table_of(account, name)
    spec = getattr(table, "stream_specification", None) or {}
    if (table is None or getattr(table, "latest_stream_label", None) != label or "StreamViewType" not in spec
            or getattr(table, "stream_shard", None) is None):
        raise WireError(400, "ResourceNotFoundException", f"Requested resource not found: Stream: {arn[:200]} not found")
    if op == "GetShardIterator":
        shard = doc["ShardId"]
        if shard != table.stream_shard.id:
            raise WireError(400, "ResourceNotFoundException",
                            f"Requested resource not found: Shard: {shard[:100]} in Stream: {arn[:200]} not found")
        kind = doc["ShardIteratorType"]
        if kind not in ITERATOR_TYPES:
            raise WireError(400, "ValidationException",
                            f"1 validation error detected: Value '{kind[:100]}' at 'shardIteratorType' failed to satisfy "
                            f"constraint: Member must satisfy enum value set: [{', '.join(ITERATOR_TYPES)}]")
        seq = doc.get("SequenceNumber")
        if kind.endswith("SEQUENCE_NUMBER") and not (isinstance(seq, str) and seq.isdigit() and len(seq) <= 40):
            raise WireError(400, "ValidationException",
                            f"Invalid SequenceNumber {str(seq)[:60]!r} for ShardIteratorType {kind}: "
                            "a sequence number is 1 to 40 digits")
