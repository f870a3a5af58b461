"""Multi-region strong consistency in the emulator (issue 20), driven by unmodified boto3: created
the way AWS creates it, shown by DescribeTable, run by the model's strong-mode rules; a recorded
workload passes `gtcheck check` with linearizability valid, and the same workload on an
eventual-mode table shows stale reads.

Each test starts its own emulator in this process on a free loopback port and stops it."""

from __future__ import annotations

import threading
import time

import pytest

import boto3  # noqa: E402  (the test extra installs it and moto: no skip)
import moto  # noqa: E402,F401
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from gtcheck.realworld.control import Control  # noqa: E402
from gtcheck.realworld.emulator import serve  # noqa: E402

pytestmark = pytest.mark.emulator

US = ["us-east-1", "us-east-2", "us-west-2"]
ONE_TRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=30)


def _clients(server, regions, config=ONE_TRY):
    kw = dict(endpoint_url=server.endpoint, aws_access_key_id="x", aws_secret_access_key="y", config=config)
    return {r: boto3.client("dynamodb", region_name=r, **kw) for r in regions}


def _create(c, name="t"):
    c.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")


def _strong(c, others, name="t", witness=None):
    kw = {"GlobalTableWitnessUpdates": [{"Create": {"RegionName": witness}}]} if witness else {}
    return c.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": r}} for r in others],
                          MultiRegionConsistency="STRONG", **kw)["TableDescription"]


def _get(c, key, consistent=True, name="t"):
    return c.get_item(TableName=name, Key={"pk": {"S": key}}, ConsistentRead=consistent).get("Item")


def _code(exc_info):
    return exc_info.value.response["Error"]["Code"]


@pytest.fixture
def mrsc():
    """Three US regions, async replication slow (10 s) so that only the strong rules can make a
    read in another region current; a round trip of 50 ms."""
    server = serve(US, delay="constant(10s)", round_trip="constant(50ms)", strong_timeout_ns=1_000_000_000)
    try:
        clients = _clients(server, US)
        _create(clients["us-east-1"])
        desc = _strong(clients["us-east-1"], ["us-east-2", "us-west-2"])
        yield server, clients, desc
    finally:
        server.stop()


def test_created_by_update_table_and_shown_by_describe_table(mrsc):
    server, clients, desc = mrsc
    assert desc["MultiRegionConsistency"] == "STRONG"
    assert desc["GlobalTableVersion"] == "2019.11.21"
    assert {r["RegionName"] for r in desc["Replicas"]} == {"us-east-2", "us-west-2"}
    for region, c in clients.items():
        t = c.describe_table(TableName="t")["Table"]
        assert t["MultiRegionConsistency"] == "STRONG"
        assert {r["RegionName"] for r in t["Replicas"]} == set(US) - {region}
        assert "GlobalTableWitnesses" not in t
    assert Control(server.endpoint).status()["global_tables"]["t"] == {"regions": US, "consistency": "STRONG"}


def test_a_write_is_read_strongly_everywhere_at_once_and_eventually_later(mrsc):
    server, clients, _ = mrsc
    t0 = time.monotonic()
    out = clients["us-east-1"].put_item(TableName="t", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    took = time.monotonic() - t0
    assert took >= 0.05                     # acknowledged after a round trip to a second region
    assert "x-gtcheck-versions" in out["ResponseMetadata"]["HTTPHeaders"]
    for region in ("us-east-2", "us-west-2"):
        assert _get(clients[region], "a") == {"pk": {"S": "a"}, "v": {"N": "1"}}, region
    # the asynchronous copy behind an eventually consistent read is 10 s behind: not there yet
    # (a strong read above brought its own region up to date, so ask a fresh item)
    clients["us-west-2"].put_item(TableName="t", Item={"pk": {"S": "b"}, "v": {"N": "2"}})
    assert _get(clients["us-east-2"], "b", consistent=False) is None
    assert _get(clients["us-east-2"], "b") == {"pk": {"S": "b"}, "v": {"N": "2"}}
    # a conditional write is judged against the latest version, whatever region holds it
    with pytest.raises(ClientError) as e:
        clients["us-east-2"].put_item(TableName="t", Item={"pk": {"S": "b"}},
                                      ConditionExpression="attribute_not_exists(pk)")
    assert _code(e) == "ConditionalCheckFailedException"


@pytest.fixture
def slow_mrsc():
    """MRSC with a 3 s round trip and a 20 s timeout: wide windows, whatever the machine's load."""
    server = serve(US, delay="constant(2s)", round_trip="constant(3s)", strong_timeout_ns=20_000_000_000)
    try:
        clients = _clients(server, US, Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                              read_timeout=120))
        _create(clients["us-east-1"])
        _strong(clients["us-east-1"], ["us-east-2", "us-west-2"])
        yield server, clients
    finally:
        server.stop()


def test_concurrent_writes_from_two_regions_conflict(slow_mrsc):
    server, clients = slow_mrsc
    barrier = threading.Barrier(2)
    outcome = {}

    def write(region, v):
        barrier.wait()
        if region == "us-west-2":
            time.sleep(0.5)           # second, most likely; either way well inside the first's 3 s round trip
        try:
            clients[region].put_item(TableName="t", Item={"pk": {"S": "k"}, "v": {"N": v}})
            outcome[region] = "ok"
        except ClientError as exc:
            outcome[region] = (exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"])
    threads = [threading.Thread(target=write, args=a) for a in (("us-east-1", "1"), ("us-west-2", "2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(map(str, outcome.values())) == ["('ReplicatedWriteConflictException', 409)", "ok"], outcome
    winner = "1" if outcome["us-east-1"] == "ok" else "2"
    assert _get(clients["us-east-2"], "k")["v"] == {"N": winner}      # the conflicting write had no effect
    # writes of one item from one region do not conflict: they queue behind each other
    barrier = threading.Barrier(2)
    queued = {}

    def write_own(v):
        barrier.wait()
        clients["us-west-2"].put_item(TableName="t", Item={"pk": {"S": "k"}, "v": {"N": v}})
        queued[v] = time.monotonic()
    threads = [threading.Thread(target=write_own, args=(v,)) for v in ("3", "4")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert set(queued) == {"3", "4"}                    # both acknowledged, none refused
    last = max(queued, key=queued.get)
    assert _get(clients["us-east-1"], "k")["v"] == {"N": last}
    assert Control(server.endpoint).status()["strong"]["conflicts"] == 1


def test_a_write_waiting_for_a_peer_goes_on_when_the_isolation_heals(slow_mrsc):
    server, clients = slow_mrsc
    ctl = Control(server.endpoint)
    ctl.isolate("us-east-1")
    threading.Timer(0.5, ctl.heal).start()
    t0 = time.monotonic()
    clients["us-east-1"].put_item(TableName="t", Item={"pk": {"S": "j"}})
    assert time.monotonic() - t0 < 20                 # before the timeout: it waited for the heal, not for ever
    assert _get(clients["us-west-2"], "j") == {"pk": {"S": "j"}}


def test_a_log_keeps_only_what_is_not_yet_acknowledged(mrsc):
    server, clients, _ = mrsc
    for i in range(20):                                      # writes only: no strong read trims the log
        clients["us-east-1"].put_item(TableName="t", Item={"pk": {"S": "w"}, "v": {"N": str(i)}})
    (st,) = server.emulator.strong.tables.values()
    (log,) = st.logs.values()
    assert len(log.pending) <= 1 and log.latest().value["v"] == {"N": "19"}


def test_transactions_ttl_and_partiql_writes_are_refused(mrsc):
    _, clients, _ = mrsc
    c = clients["us-east-1"]
    for call in (lambda: c.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "x"}}}}]),
                 lambda: c.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": {"pk": {"S": "x"}}}}]),
                 lambda: c.update_time_to_live(TableName="t", TimeToLiveSpecification={"Enabled": True,
                                                                                       "AttributeName": "exp"}),
                 lambda: c.execute_statement(Statement="INSERT INTO t VALUE {'pk': 'x'}")):
        with pytest.raises(ClientError) as e:
            call()
        assert _code(e) == "ValidationException"
    assert _get(c, "x") is None


def test_an_isolated_region_times_out_and_the_majority_goes_on(mrsc):
    server, clients, _ = mrsc
    ctl = Control(server.endpoint)
    ctl.isolate("us-east-1")
    t0 = time.monotonic()
    with pytest.raises(ClientError) as e:
        clients["us-east-1"].put_item(TableName="t", Item={"pk": {"S": "i"}})
    assert _code(e) == "InternalServerError" and time.monotonic() - t0 >= 1.0   # after --strong-timeout
    with pytest.raises(ClientError):
        _get(clients["us-east-1"], "i")                                         # no strong read either
    assert _get(clients["us-east-1"], "i", consistent=False) is None            # eventual reads are served
    clients["us-east-2"].put_item(TableName="t", Item={"pk": {"S": "i"}, "by": {"S": "east-2"}})
    assert _get(clients["us-west-2"], "i")["by"] == {"S": "east-2"}
    ctl.heal()
    assert _get(clients["us-east-1"], "i")["by"] == {"S": "east-2"}            # the timed-out write had no effect


def test_two_replicas_and_a_witness():
    server = serve(["us-east-1", "us-east-2"], delay="constant(2s)", round_trip="constant(20ms)",
                   strong_timeout_ns=500_000_000)
    try:
        clients = _clients(server, ["us-east-1", "us-east-2"])
        _create(clients["us-east-1"])
        desc = _strong(clients["us-east-1"], ["us-east-2"], witness="us-west-2")
        assert desc["GlobalTableWitnesses"] == [{"RegionName": "us-west-2", "WitnessStatus": "ACTIVE"}]
        assert clients["us-east-2"].describe_table(TableName="t")["Table"]["GlobalTableWitnesses"][0][
            "RegionName"] == "us-west-2"
        ctl = Control(server.endpoint)
        ctl.isolate("us-east-2")              # the witness alone acknowledges us-east-1's writes
        clients["us-east-1"].put_item(TableName="t", Item={"pk": {"S": "w"}})
        ctl.isolate("us-west-2")              # now us-east-1 has no one
        with pytest.raises(ClientError) as e:
            clients["us-east-1"].put_item(TableName="t", Item={"pk": {"S": "w2"}})
        assert _code(e) == "InternalServerError"
        ctl.heal()
        assert _get(clients["us-east-2"], "w") == {"pk": {"S": "w"}}
        assert _get(clients["us-east-2"], "w2") is None
    finally:
        server.stop()


@pytest.mark.parametrize("setup, message", [
    ({"others": ["us-east-2"]}, "exactly three replicas"),
    ({"others": ["us-east-2", "us-west-2"], "witness": "us-west-1"}, "exactly three replicas"),
    ({"others": ["us-east-2"], "witness": "us-east-2"}, "witness us-east-2 cannot also hold a replica"),
    ({"others": ["us-east-2", "us-west-2"], "item": True}, "must be empty"),
    ({"others": ["us-east-2", "us-west-2"], "ttl": True}, "Time to Live"),
    ({"others": ["us-east-2", "us-west-2"], "consistency": "STRONGER"}, "EVENTUAL or STRONG"),
    ({"others": None, "consistency": "STRONG"}, "only valid with Create"),
    ({"others": ["us-east-2"], "consistency": "EVENTUAL", "witness": "us-west-2"}, "GlobalTableWitnessUpdates"),
])
def test_impossible_strong_tables_are_refused(setup, message):
    server = serve(US, delay="constant(10ms)")
    try:
        c = _clients(server, US)["us-east-1"]
        _create(c)
        if setup.get("item"):
            c.put_item(TableName="t", Item={"pk": {"S": "x"}})
        if setup.get("ttl"):
            c.update_time_to_live(TableName="t", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        kw = {"MultiRegionConsistency": setup.get("consistency", "STRONG")}
        if setup.get("witness"):
            kw["GlobalTableWitnessUpdates"] = [{"Create": {"RegionName": setup["witness"]}}]
        if setup["others"] is not None:
            kw["ReplicaUpdates"] = [{"Create": {"RegionName": r}} for r in setup["others"]]
        with pytest.raises(ClientError) as e:
            c.update_table(TableName="t", **kw)
        assert _code(e) == "ValidationException" and message in e.value.response["Error"]["Message"]
        # nothing changed: still a one-region table
        assert "Replicas" not in c.describe_table(TableName="t")["Table"]
        assert Control(server.endpoint).status()["global_tables"]["t"]["regions"] == ["us-east-1"]
    finally:
        server.stop()


def test_an_eventual_global_table_cannot_become_strong():
    server = serve(US, delay="constant(10ms)")
    try:
        clients = _clients(server, US)
        _create(clients["us-east-1"])
        clients["us-east-1"].update_table(TableName="t", ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}])
        with pytest.raises(ClientError) as e:
            _strong(clients["us-east-1"], ["us-west-2"])
        assert "already a global table" in e.value.response["Error"]["Message"]
        assert clients["us-east-2"].describe_table(TableName="t")["Table"]["MultiRegionConsistency"] == "EVENTUAL"
    finally:
        server.stop()


# -- the recorded workload: linearizable in strong mode, stale reads in eventual mode ----------------

MIN_CALLS = 40          # per key: enough for the figures asserted below on any machine
HANG_GUARD_S = 300


def _workload(server, tmp_path, mode, seconds=2.5):
    """Two clients per region writing and strongly reading three keys, recorded; then the final reads
    and the check. Returns the check's summary."""
    from gtcheck.checker.check import check_history
    from gtcheck.realworld.recorder import Recorder

    history = tmp_path / f"{mode}.jsonl"
    rec = Recorder(history, US, metadata={"mode": mode, "source": "test_emulator_mrsc"})
    base = _clients(server, US)
    _create(base["us-east-1"])
    if mode == "strong":
        _strong(base["us-east-1"], ["us-east-2", "us-west-2"])
    else:
        base["us-east-1"].update_table(TableName="t", ReplicaUpdates=[{"Create": {"RegionName": r}}
                                                                      for r in ("us-east-2", "us-west-2")])
    stop = time.monotonic() + seconds
    # at least `seconds`, and on a loaded machine until every key has had MIN_CALLS calls
    # (a fixed duration assumed a machine fast enough to make them; HANG_GUARD_S is a guard)
    calls = [0, 0, 0]
    guard = time.monotonic() + HANG_GUARD_S

    def more() -> bool:
        now = time.monotonic()
        return now < guard and (now < stop or min(calls) < MIN_CALLS)

    def client_loop(region, i):
        import random
        rng = random.Random(f"{mode}/{region}/{i}")
        c = rec.attach(_clients(server, [region])[region])
        while more():
            k = rng.randrange(3)
            calls[k] += 1
            key = {"pk": {"S": f"k{k}"}}
            try:
                if rng.random() < 0.5:
                    c.put_item(TableName="t", Item={**key, "v": {"N": str(rng.randrange(100))}})
                else:
                    c.get_item(TableName="t", Key=key, ConsistentRead=True)
            except ClientError:
                pass                                   # recorded (a conflict fails, a timeout is info)
    threads = [threading.Thread(target=client_loop, args=(r, i)) for r in US for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=HANG_GUARD_S + 60)
    assert min(calls) >= MIN_CALLS, f"calls per key {calls} after the hang guard"
    assert Control(server.endpoint).wait_quiet(timeout=120)
    rec.final_reads({r: rec.attach(c) for r, c in _clients(server, US).items()})
    rec.close()
    return check_history(str(history), staleness_bound_ns=1_000_000, jobs=1, timeout_s=60).summary, history


def test_recorded_strong_workload_is_linearizable_and_eventual_twin_is_stale(tmp_path):
    server = serve(US, delay="constant(300ms)", round_trip="lognormal(15ms, 0.3)")
    try:
        strong, strong_history = _workload(server, tmp_path, "strong")
    finally:
        server.stop()
    server = serve(US, delay="constant(300ms)", round_trip="lognormal(15ms, 0.3)")
    try:
        eventual, _ = _workload(server, tmp_path, "eventual")
    finally:
        server.stop()
    assert '"mode":"strong"' in strong_history.read_text().splitlines()[0]
    lin = strong["linearizability"]
    assert lin["valid"] is True, lin
    assert lin["figures"]["keys_checked"] == 3 and lin["figures"]["operations_checked"] >= 100, lin["figures"]
    for prop in ("integrity", "convergence", "read_after_write"):
        assert strong[prop]["valid"] is True, (prop, strong[prop])
    assert strong["staleness"]["valid"] is True             # strong reads are never stale
    # the eventual twin: strongly consistent reads in other regions return superseded versions
    assert eventual["staleness"]["valid"] is False
    assert any(a["name"] == "stale-read" for a in eventual["staleness"]["anomalies"])
    assert eventual["integrity"]["valid"] is True and eventual["convergence"]["valid"] is True
    # and the strong history passes `gtcheck check` on the command line (exit 0)
    import subprocess
    import sys
    res = subprocess.run([sys.executable, "-m", "gtcheck", "check", str(strong_history)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "linearizability" in res.stdout
