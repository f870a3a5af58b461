"""A third-party DynamoDB client library against the emulator (issue 10): PynamoDB.

PynamoDB's own integration tests (``tests/integration/`` in its repository) are not shipped
in its wheel or sdist-installed package, and expect a DynamoDB Local at a fixed URL, so this
is a faithful subset written here, not a copy: the operations its model and transaction
integration tests exercise (a table with a range key, a local and a global secondary index,
save/refresh, number sets, a version attribute with optimistic locking, batch write/get,
query with a range-key condition and on both indexes, scan, update with add and a condition,
transactions with a failing condition, delete) run once against moto's own server and once
against the emulator, and must give the same results. On the emulator the items are then
read back through PynamoDB from another region, replicated.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

import moto  # noqa: E402,F401  (the test extra installs both: no skip)
import pynamodb  # noqa: E402

from pynamodb.attributes import (  # noqa: E402
    BinaryAttribute, NumberAttribute, NumberSetAttribute, UnicodeAttribute, UTCDateTimeAttribute,
    VersionAttribute)
from pynamodb.connection import Connection  # noqa: E402
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError  # noqa: E402
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex  # noqa: E402
from pynamodb.models import Model  # noqa: E402
from pynamodb.transactions import TransactGet, TransactWrite  # noqa: E402

from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402
from tests.nethelp import free_port  # noqa: E402

EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)

pytestmark = pytest.mark.emulator


def _models(host, region="us-east-1"):
    class ViewIndex(LocalSecondaryIndex):
        class Meta:
            projection = AllProjection()
        forum = UnicodeAttribute(hash_key=True)
        view = NumberAttribute(range_key=True)

    class EpochIndex(GlobalSecondaryIndex):
        class Meta:
            projection = AllProjection()
            read_capacity_units = 1
            write_capacity_units = 1
        epoch = UTCDateTimeAttribute(hash_key=True)

    class Thread(Model):
        class Meta:
            table_name = "pynamodb-ci"
        forum = UnicodeAttribute(hash_key=True)
        thread = UnicodeAttribute(range_key=True)
        view = NumberAttribute(default=0)
        view_index = ViewIndex()
        epoch_index = EpochIndex()
        epoch = UTCDateTimeAttribute(default=lambda: EPOCH)
        content = BinaryAttribute(null=True, legacy_encoding=False)
        scores = NumberSetAttribute(null=True)
        version = VersionAttribute()

    class Account(Model):
        class Meta:
            table_name = "pynamodb-accounts"
        user = UnicodeAttribute(hash_key=True)
        balance = NumberAttribute(default=0)

    for m in (Thread, Account):
        m.Meta.host = host
        m.Meta.region = region
        for idx in (getattr(m, "view_index", None), getattr(m, "epoch_index", None)):
            if idx is not None:
                idx.Meta.host, idx.Meta.region = host, region
        m._connection = None
    return Thread, Account


def scenario(host):
    """The subset; returns what it observed, to compare between endpoints."""
    Thread, Account = _models(host)
    seen = {}
    Thread.create_table(read_capacity_units=1, write_capacity_units=1, wait=False)
    Account.create_table(read_capacity_units=1, write_capacity_units=1, wait=False)
    seen["exists"] = Thread.exists()
    t = Thread("1", "2")
    t.save()
    t.refresh()
    seen["version"] = t.version
    t.view = 5
    t.save()
    stale = Thread.get("1", "2")
    stale.version = 1
    with pytest.raises(PutError):
        stale.save()                    # optimistic locking: the version moved on
    s = Thread("setitem", "setrange", scores={1, 2.5}, content=b"bin")
    s.save()
    s.refresh()
    seen["scores"] = sorted(s.scores)
    seen["content"] = s.content
    with Thread.batch_write() as batch:
        for x in range(10):
            batch.save(Thread(f"hash-{x}", f"{x}"))
    seen["batch_get"] = sorted((i.forum, i.thread) for i in Thread.batch_get([(f"hash-{x}", f"{x}") for x in range(10)]))
    seen["query"] = [i.thread for i in Thread.query("setitem", Thread.thread.startswith("set"))]
    with Thread.batch_write() as batch:
        for x in range(10):
            batch.delete(Thread(f"hash-{x}", f"{x}"))
    seen["scan"] = sorted((i.forum, i.thread) for i in Thread.scan())
    q = Thread("foo", "query_thread")
    q.save()
    q.update(actions=[Thread.view.add(1)])
    seen["gsi"] = sorted(i.thread for i in Thread.epoch_index.query(EPOCH))
    seen["lsi"] = [(i.thread, i.view) for i in Thread.view_index.query("foo", Thread.view > 0)]
    q.update(actions=[Thread.view.add(1)], condition=Thread.forum.exists())
    with pytest.raises(UpdateError):
        q.update(actions=[Thread.view.add(1)], condition=Thread.view > 100)
    seen["view"] = Thread.get("foo", "query_thread").view
    # transactions
    conn = Connection(host=host, region="us-east-1")
    Account("alice", balance=10).save()
    Account("bob", balance=0).save()
    with TransactWrite(connection=conn) as tw:
        tw.update(Account("alice"), actions=[Account.balance.add(-7)], condition=Account.balance >= 7)
        tw.update(Account("bob"), actions=[Account.balance.add(7)])
    with pytest.raises(TransactWriteError):
        with TransactWrite(connection=conn) as tw:
            tw.update(Account("alice"), actions=[Account.balance.add(-7)], condition=Account.balance >= 7)
            tw.update(Account("bob"), actions=[Account.balance.add(7)])
    with TransactGet(connection=conn) as tg:
        a, b = tg.get(Account, "alice"), tg.get(Account, "bob")
    seen["balances"] = (a.get().balance, b.get().balance)
    Thread.get("1", "2").delete()
    seen["deleted"] = Thread.count("1")
    return seen


@pytest.fixture
def creds(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "gtcheck")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "gtcheck")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_pynamodb_subset_same_on_moto_server_and_emulator(creds):
    from moto.server import ThreadedMotoServer

    port = free_port()
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto_server.start()
    try:
        on_moto = scenario(f"http://127.0.0.1:{port}")
    finally:
        moto_server.stop()
    with EmulatorProcess(["us-east-1", "eu-west-1"], delay="constant(20ms)") as emu:
        on_emulator = scenario(emu.endpoint)
        assert Control(emu.endpoint).wait_quiet(timeout=120)   # a hang guard, not a speed bound
        Thread, Account = _models(emu.endpoint, region="eu-west-1")
        replicated = Thread.get("foo", "query_thread")
        assert replicated.view == on_emulator["view"]
        assert Account.get("alice").balance == on_emulator["balances"][0]
    assert on_emulator == on_moto
    assert on_moto["balances"] == (3, 7) and on_moto["view"] == 2
