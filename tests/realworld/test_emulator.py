"""End to end on the local emulator (issue 10), each on a free loopback port, started and
stopped by the test: a workload through an isolation converges with bounded staleness; with
replication to one region switched off it does not; fidelity against the model; the
gtcheck_emulator fixture; nothing left running."""

from __future__ import annotations

import json
import socket
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import boto3  # noqa: E402,F401  (the test extra installs it: no skip)
import moto  # noqa: E402,F401

from gtcheck.model.scenario import scenario_from_dict  # noqa: E402
from gtcheck.pytest_plugin import EmulatorProcess, GtcheckEmulator  # noqa: E402
from gtcheck.realworld.control import Control  # noqa: E402
from gtcheck.realworld.runner import RunConfig, check_and_report, make_clients, run_workload  # noqa: E402
from tests.nethelp import free_port  # noqa: E402

pytest_plugins = ["pytester"]
if not any(ep.name == "gtcheck" for ep in entry_points(group="pytest11")):
    pytest_plugins.append("gtcheck.pytest_plugin")   # not installed with its entry point (yet)

pytestmark = pytest.mark.emulator

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
MS = 1_000_000

pytestmark = pytest.mark.emulator


def _scenario(faults=()):
    return scenario_from_dict({
        "name": "e2e", "regions": {"names": REGIONS},
        "workload": {"keys": 6, "processes_per_region": 2, "rate": 120, "duration": "3s",
                     "mix": {"read": 0.5, "write": 0.2, "update": 0.1, "increment": 0.05, "cas": 0.05,
                             "delete": 0.05, "transaction": 0.05}},
        "faults": list(faults)})


def _run(emu, tmp_path, scenario, bound_ns=None, duration_ms=3000):
    cfg = RunConfig(regions=REGIONS, table="orders", scenario=scenario, duration_ns=duration_ms * MS,
                    out_dir=tmp_path, endpoint_url=emu.endpoint, settle_ns=5000 * MS,
                    staleness_bound_ns=bound_ns)
    result = run_workload(cfg)
    return check_and_report(result, bound_ns, html=False)


def test_isolation_heals_converges_and_staleness_is_bounded(tmp_path):
    # replication delay at most 150 ms; eu-west-1 cut off for 1 s: no read may be staler
    # than the isolation plus the largest delay plus 1 s of slack for request latency and a
    # loaded machine (reads without an isolation stay under the delay: see the report)
    bound = (1000 + 150 + 1000) * MS
    with EmulatorProcess(REGIONS, delay="uniform(50ms, 150ms)") as emu:
        res = _run(emu, tmp_path, _scenario([{"kind": "isolate", "region": "eu-west-1", "at": "1s",
                                              "duration": "1s"}]), bound)
    s = res.summary
    assert s["convergence"]["valid"] is True, s["convergence"]
    assert s["integrity"]["valid"] is True
    assert s["staleness"]["valid"] is True, s["staleness"]
    assert s["convergence"]["figures"]["final_reads"] >= 3 * 6
    text = Path(res.history).read_text()
    assert '"f":"partition"' in text and '"f":"heal"' in text
    assert '"ts":' in text and '"origin":"eu-west-1"' in text   # the emulator's stamps, recorded
    # not vacuous, however slow the machine: eu-west-1's clients worked while it was cut off
    # (a count of operations, the test's old guard, depends on the machine's speed)
    events = [json.loads(line) for line in text.splitlines()[1:]]
    cut = next(e["time"] for e in events if e.get("f") == "partition")
    healed = next(e["time"] for e in events if e.get("f") == "heal")
    assert any(e["type"] == "invoke" and e.get("region") == "eu-west-1" and cut <= e["time"] < healed
               for e in events if e.get("process") != "nemesis")


def test_replication_switched_off_to_one_region_is_non_convergent(tmp_path):
    with EmulatorProcess(REGIONS, delay="uniform(20ms, 60ms)") as emu:
        Control(emu.endpoint).replication("ap-southeast-2", False)
        res = _run(emu, tmp_path, _scenario(), duration_ms=1200)
    conv = res.summary["convergence"]
    assert conv["valid"] is False
    names = {a["name"] for a in conv["anomalies"]}
    assert names & {"divergent-final-state", "wrong-winner"}
    assert res.exit_code == 1


def _put(c, key, **attrs):
    item = {"pk": {"S": key}, **{k: {"S": v} for k, v in attrs.items()}}
    return c.put_item(TableName="t", Item=item)


def _create(c):
    c.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")


def _final(clients, key):
    return {r: c.get_item(TableName="t", Key={"pk": {"S": key}}, ConsistentRead=True).get("Item")
            for r, c in clients.items()}


@pytest.mark.gtcheck(properties=["integrity", "convergence", "read_after_write"], delay="constant(100ms)",
                     clock_offsets={"eu-west-1": "+5s"}, regions=REGIONS)
def test_fidelity_against_the_model(gtcheck_emulator):
    """What the model predicts (docs/model.md), on the emulator; the fixture then checks the
    recorded history: every one of these is allowed by global tables, so it is valid. The
    concurrent requests run while one side is isolated, so that no machine load can let
    replication get in between them."""
    clients, ctl = gtcheck_emulator.clients, gtcheck_emulator.control
    use, euw, aps = clients["us-east-1"], clients["eu-west-1"], clients["ap-southeast-2"]
    _create(use)
    assert {r["RegionName"] for r in euw.describe_table(TableName="t")["Table"]["Replicas"]} == \
        {"us-east-1", "ap-southeast-2"}
    _put(use, "upd", base="x")
    assert ctl.wait_quiet(timeout=120)   # a hang guard, not a speed bound
    ctl.isolate("ap-southeast-2")
    # 1. a conditional create in two regions succeeds in both (each checks its own replica)
    for c, who in ((use, "use"), (aps, "aps")):
        c.put_item(TableName="t", Item={"pk": {"S": "create"}, "who": {"S": who}},
                   ConditionExpression="attribute_not_exists(pk)")
    # 2. concurrent updates of different attributes: last writer wins keeps one whole item
    use.update_item(TableName="t", Key={"pk": {"S": "upd"}}, UpdateExpression="SET a = :v",
                    ExpressionAttributeValues={":v": {"S": "1"}})
    aps.update_item(TableName="t", Key={"pk": {"S": "upd"}}, UpdateExpression="SET b = :v",
                    ExpressionAttributeValues={":v": {"S": "2"}})
    ctl.heal()
    # 3. eu-west-1's clock is 5 s ahead: its earlier write beats us-east-1's later one
    ctl.isolate("eu-west-1")
    _put(euw, "skew", who="euw-earlier")
    time.sleep(0.05)
    _put(use, "skew", who="use-later")
    ctl.heal()
    assert ctl.wait_quiet(timeout=120)   # a hang guard, not a speed bound
    final = {k: _final(clients, k) for k in ("create", "upd", "skew")}
    for key, items in final.items():
        assert len({str(i) for i in items.values()}) == 1, (key, items)   # converged
    assert final["create"]["us-east-1"]["who"]["S"] in ("use", "aps")
    upd = final["upd"]["us-east-1"]
    assert ("a" in upd) != ("b" in upd), upd        # one update lost, silently
    assert final["skew"]["us-east-1"]["who"]["S"] == "euw-earlier"
    assert ctl.status()["lost"] >= 2


def test_the_fixture_names_anomalies_and_the_report(tmp_path):
    with EmulatorProcess(["us-east-1", "eu-west-1"], delay="constant(30ms)") as emu:
        handle = GtcheckEmulator(emu, tmp_path / "h.jsonl", ("convergence",), None)
        handle.control.replication("eu-west-1", False)
        c = handle.clients["us-east-1"]
        _create(c)
        _put(c, "k", v="1")
        with pytest.raises(AssertionError) as e:
            handle.verify()
    msg = str(e.value)
    assert "convergence did not hold" in msg and "divergent-final-state" in msg
    assert str(tmp_path / "h.html") in msg and (tmp_path / "h.html").exists()


def _lose_an_increment(handle, table):
    """Two regions add to one counter while eu-west-1 is cut off: both increments are
    acknowledged, last-writer-wins keeps one."""
    us, eu = handle.clients["us-east-1"], handle.clients["eu-west-1"]
    us.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST")
    handle.control.wait_quiet(timeout=120)
    us.put_item(TableName=table, Item={"pk": {"S": "views"}, "n": {"N": "0"}, "by": {"S": "init"}})
    handle.control.wait_quiet(timeout=120)
    handle.control.isolate("eu-west-1")
    for who, c in (("us", us), ("eu", eu)):
        c.update_item(TableName=table, Key={"pk": {"S": "views"}},
                      UpdateExpression="SET #by = :who ADD n :one",
                      ExpressionAttributeNames={"#by": "by"},
                      ExpressionAttributeValues={":who": {"S": who}, ":one": {"N": "1"}})


def test_the_fixture_fails_on_lost_writes_only_when_asked(tmp_path):
    """Correct code passes (losing a write to last-writer-wins is DynamoDB's documented
    behaviour, so lost writes are reported, not counted); with fail_on=("lost-writes",)
    the same application fails, its lost increment named with the write it was lost to."""
    with EmulatorProcess(["us-east-1", "eu-west-1"], delay="constant(30ms)") as emu:
        with pytest.raises(ValueError, match="accepted: lost-writes"):
            GtcheckEmulator(emu, tmp_path / "x.jsonl", ("integrity",), None, fail_on=("lost-write",))
        quiet = GtcheckEmulator(emu, tmp_path / "a.jsonl", ("integrity", "convergence"), None)
        _lose_an_increment(quiet, "views_a")
        summary = quiet.verify()
        assert summary["valid"] is True and summary["lost_writes"]["figures"]["lost_writes"] == 1
        strict = GtcheckEmulator(emu, tmp_path / "b.jsonl", ("integrity", "convergence"), None,
                                 fail_on=("lost-writes",))
        _lose_an_increment(strict, "views_b")
        with pytest.raises(AssertionError) as e:
            strict.verify()
    msg = str(e.value)
    assert "lost_writes did not hold" in msg and "[lost-write]" in msg
    assert "ok update #" in msg and "was lost to update #" in msg
    assert str(tmp_path / "b.html") in msg
    # docs/emulator.md shows this failure as this run prints it: the same text, up to the
    # times, indexes and temporary paths, which vary from run to run
    assert _shape(msg.replace(str(tmp_path), "/tmp/pytest/test")) == _shape(_documented_failure()), msg


def _shape(text):
    """A message with its numbers and durations blanked (they vary between runs)."""
    import re

    text = re.sub(r"\d+(\.\d+)?( ?(ns|µs|ms|s))?\b", "N", text)
    return [line.rstrip() for line in text.strip().splitlines()]


def _documented_failure():
    """The fixture's lost-writes failure as docs/emulator.md shows it."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "emulator.md").read_text()
    block = doc.split("`gtcheck_emulator.expect(..., fail_on=(\"lost-writes\",))`. The failure names each one:", 1)[1]
    block = block.split("```", 2)[1]
    return block.removeprefix("\n").removeprefix("AssertionError: ")


def _port_free(port):
    """Nothing listens on ``port`` any more. SO_REUSEADDR: the server's closed connections
    may linger in TIME_WAIT for a minute (more often on a loaded machine); they hold no
    listener, and only a listener makes the bind fail."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_emulator_stops_cleanly_and_leaves_nothing(tmp_path):
    emu = EmulatorProcess(REGIONS, delay="constant(10ms)")
    assert emu.startup_s < 10
    assert not _port_free(emu.port)
    c = make_clients(REGIONS, emu.endpoint)["eu-west-1"][0]
    assert c.list_tables()["TableNames"] == []
    assert Control(emu.endpoint).status()["regions"] == REGIONS
    rc = emu.stop()
    assert rc == 0                       # SIGTERM: clean shutdown, exit 0
    assert emu.proc.poll() is not None
    assert _port_free(emu.port)


def test_cli_control_and_stopped_regions(tmp_path, capsys):
    """`gtcheck emulator stop/start/isolate` by port or endpoint; a stopped region answers 503;
    a whole `gtcheck run` against the emulator writes its four files. (Interrupting a run:
    tests/realworld/test_runner.py; regions not listed: test_emulator_wire.py.)"""
    from botocore.config import Config
    from botocore.exceptions import ClientError
    import boto3

    from tests.clihelp import run_cli
    from tests.realworld.test_runner import scenario_file

    with EmulatorProcess(["us-east-1", "eu-west-1"], delay="constant(10ms)") as emu:
        code, out, _ = run_cli(["emulator", "stop", "eu-west-1", "--port", emu.port], capsys)
        assert code == 0 and '"stopped": [\n    "eu-west-1"' in out
        c = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=emu.endpoint,
                         aws_access_key_id="x", aws_secret_access_key="y",
                         config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        with pytest.raises(ClientError, match="ServiceUnavailable"):
            c.list_tables()
        assert run_cli(["emulator", "start", "eu-west-1", "--endpoint-url", emu.endpoint], capsys)[0] == 0
        assert c.list_tables()["TableNames"] == []
        code, _, err = run_cli(["emulator", "isolate", "mars-1", "--port", emu.port], capsys)
        assert code == 254 and "unknown region" in err
        code, out, err = run_cli(["run", "--regions", "us-east-1,eu-west-1", "--table", "cli",
                                  "--endpoint-url", emu.endpoint, "--scenario", scenario_file(tmp_path),
                                  "--duration", "1s", "--max-ops", "40",
                                  "--settle", "2s", "-o", tmp_path / "run", "--no-progress"], capsys)
        assert code == 0, out + err
        assert "VALID" in out and "report:" in err
        for name in ("history.jsonl", "check.txt", "check.json", "report.html"):
            assert (tmp_path / "run" / name).exists()
        assert sum(1 for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()
                   if '"invoke"' in line) >= 40


def test_cli_bad_input(capsys):
    from tests.clihelp import run_cli

    code, _, err = run_cli(["emulate", "--delay", "weird(1)", "--port", "0"], capsys)
    assert code == 254 and "--delay" in err
    code, _, err = run_cli(["emulate", "--clock-offset", "eu-west-1", "--port", "0"], capsys)
    assert code == 254 and "REGION=OFFSET" in err
    port = free_port()
    code, _, err = run_cli(["emulator", "status", "--port", port], capsys)
    assert code == 254 and "no emulator answers" in err


EXAMPLE_APP_TEST = '''
import pytest

def create_orders(ddb):
    ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")

def place_order(ddb, order_id, region):
    ddb.put_item(TableName="orders", Item={"pk": {"S": order_id}, "placed_in": {"S": region}})

@pytest.mark.gtcheck(properties=["integrity", "convergence"], regions=["us-east-1", "eu-west-1"],
                     delay="constant(20ms)")
def test_orders_converge(gtcheck_emulator):
    create_orders(gtcheck_emulator.clients["us-east-1"])
    for region, ddb in gtcheck_emulator.clients.items():
        place_order(ddb, "o-1", region)

@pytest.mark.gtcheck(properties=["convergence"], regions=["us-east-1", "eu-west-1"], delay="constant(20ms)")
def test_orders_with_a_broken_link(gtcheck_emulator):
    gtcheck_emulator.control.replication("eu-west-1", False)
    create_orders(gtcheck_emulator.clients["us-east-1"])
    place_order(gtcheck_emulator.clients["us-east-1"], "o-2", "us-east-1")
'''


def test_the_fixture_gates_an_application_test(pytester):
    """An application's test using the fixture passes when the properties hold and fails,
    naming the anomaly and the report, when they do not."""
    pytester.makepyfile(test_app=EXAMPLE_APP_TEST)
    args = [] if any(ep.name == "gtcheck" for ep in entry_points(group="pytest11")) else ["-p", "gtcheck.pytest_plugin"]
    result = pytester.runpytest_inprocess(*args, "-p", "no:cacheprovider", "-W", "ignore")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "convergence did not hold" in out and "divergent-final-state" in out
    assert "gtcheck-history.html" in out


def test_explicit_global_table_through_replica_updates_in_process():
    """CreateTable, then UpdateTable ReplicaUpdates Create (version 2019.11.21), with the
    emulator's Python API in this process."""
    import boto3

    from gtcheck.realworld.emulator import parse_delay, serve

    assert parse_delay("lognormal(250ms, 0.5)").describe().startswith("lognormal median 250000000")
    assert parse_delay("uniform(1ms, 2ms)").describe() == "uniform [1000000, 2000000] ns"
    assert parse_delay("30ms").describe() == "constant 30000000 ns"
    # 2 s of replication delay: long enough to see the version in flight on any machine
    server = serve(["us-east-1", "eu-west-1", "ap-southeast-2"], delay="constant(2s)")
    try:
        kw = dict(endpoint_url=server.endpoint, aws_access_key_id="x", aws_secret_access_key="y")
        use = boto3.client("dynamodb", region_name="us-east-1", **kw)
        euw = boto3.client("dynamodb", region_name="eu-west-1", **kw)
        _create(use)
        _put(use, "before", v="1")
        assert "Replicas" not in use.describe_table(TableName="t")["Table"]
        with pytest.raises(Exception, match="not found|ResourceNotFound"):
            euw.describe_table(TableName="t")
        out = use.update_table(TableName="t", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
        assert out["TableDescription"]["GlobalTableVersion"] == "2019.11.21"
        assert [r["RegionName"] for r in out["TableDescription"]["Replicas"]] == ["eu-west-1"]
        assert euw.get_item(TableName="t", Key={"pk": {"S": "before"}})["Item"]["v"] == {"S": "1"}
        _put(euw, "after", v="2")
        assert server.emulator.in_flight() >= 1
        assert Control(server.endpoint).wait_quiet(timeout=120)   # a hang guard
        assert use.get_item(TableName="t", Key={"pk": {"S": "after"}})["Item"]["v"] == {"S": "2"}
        # ap-southeast-2 is not a replica: nothing reaches it
        aps = boto3.client("dynamodb", region_name="ap-southeast-2", **kw)
        assert aps.list_tables()["TableNames"] == []
    finally:
        server.stop()
    assert _port_free(server.port)
