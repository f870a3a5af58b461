"""The two shipped example applications (docs/examples/apps/), recorded on the emulator with
an isolation and a replication delay: their audits agree with their histories, the
histories are valid, and gtcheck finds no anomaly of integrity, convergence,
read-after-write or linearizability in them (the applications are correct code; what they
lose is last-writer-wins, which the lost-writes finding names). The emulator runs in a
child process on a free loopback port, started and stopped here."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

import boto3  # noqa: E402,F401  (the test extra installs it: no skip)
import moto  # noqa: E402,F401

from gtcheck.checker.check import check_history  # noqa: E402
from gtcheck.kernel.exactjson import loads_exact  # noqa: E402
from gtcheck.pytest_plugin import EmulatorProcess  # noqa: E402

pytestmark = pytest.mark.emulator

APPS = Path(__file__).resolve().parents[2] / "docs" / "examples" / "apps"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
JUDGED = ("integrity", "convergence", "read_after_write", "linearizability")


def _app(name):
    if str(APPS) not in sys.path:
        sys.path.insert(0, str(APPS))
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both applications run as the README runs them (their command line, the audit read
    from what they print), one after the other on one emulator (each its own table)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("apps")
    got = {}
    with EmulatorProcess(REGIONS, delay="uniform(50ms, 150ms)", seed=7) as emu:
        for app in ("reservations", "inventory"):
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                assert _app(app).main(["--endpoint-url", emu.endpoint, "--history", str(out / f"{app}.jsonl")]) == 0
            got[app] = (out / f"{app}.jsonl", json.loads(printed.getvalue()))
    return got


def _events(path):
    lines = Path(path).read_text().splitlines()
    return loads_exact(lines[0]), [loads_exact(x) for x in lines[1:]]


def _completion(events, invoke):
    for ev in events[invoke["index"] + 1:]:
        if ev["process"] == invoke["process"]:
            return ev
    return None


def test_reservations_audit_matches_its_history(runs):
    path, audit = runs["reservations"]
    _, events = _events(path)
    acked = [e for e in events if e["type"] == "invoke" and e["f"] == "cas"
             and _completion(events, e)["type"] == "ok"]
    assert sorted(e["index"] for e in acked) == audit["acknowledged_writes"]
    assert audit["acknowledged"] == len(acked)
    # eu-west-1 was cut off the whole time: its users and the others' reserved some names twice
    assert audit["double_reservations"], audit
    lost = set(audit["lost_writes"])
    for d in audit["double_reservations"]:
        survivors = [o for o in d["owners"] if o == d["final_owner"]]
        assert len(survivors) == 1 and len(d["lost"]) == len(d["owners"]) - 1
        for w in d["lost"]:
            inv = events[w["write"]]
            assert inv["key"] == f"usernames/{d['name']}" and inv["value"][1]["owner"] == w["owner"]
            assert w["write"] in lost
    # every final read of a name shows its surviving owner, in every region
    finals = [e for e in events if e["type"] == "ok" and e.get("f") == "read"]
    assert finals and all(e["value"] is None or e["value"]["owner"] for e in finals)


def test_inventory_audit_matches_its_history(runs):
    path, audit = runs["inventory"]
    _, events = _events(path)
    views = audit["views"]
    assert views["acknowledged"] == 30 and views["lost_increments"] == 30 - views["counted"] > 0
    # every acknowledged view is an ok update that carries its post-image, though the
    # application asked ReturnValues=UPDATED_NEW (so its staleness can be measured)
    for i in views["acknowledged_writes"]:
        comp = _completion(events, events[i])
        assert events[i]["f"] == "update" and comp["type"] == "ok" and comp["value"]["views"] >= 1
    # one region's last unit was sold twice and one restock vanished, whichever region won
    assert len(audit["double_sales"]) == 1 and len(audit["lost_restocks"]) == 1
    assert len(audit["product"]["final_trail"]) == 2
    for w in audit["double_sales"] + audit["lost_restocks"]:
        inv = events[w["write"]]
        comp = _completion(events, inv)
        assert inv["key"] == "inventory/product#widget" and inv["f"] == "update"
        assert comp["type"] == "ok" and w["op"] in comp["value"]["ops"]       # post-image known
        assert "ts" in comp and comp["origin"] == w["region"]
    assert audit["lost_writes"] == sorted(w["write"] for w in audit["double_sales"] + audit["lost_restocks"])
    # the purchase's order and its stock update are one transaction
    purchases = [e for e in events if e["type"] == "invoke" and e.get("txn")]
    assert {e["f"] for e in purchases} == {"update", "cas"}


@pytest.mark.parametrize("app", ["reservations", "inventory"])
def test_histories_of_correct_applications_have_no_anomaly(runs, app):
    path, _ = runs[app]
    res = check_history(str(path), jobs=1, timeout_s=30.0, progress=False, keep_reads=True)
    s = res.summary
    for prop in JUDGED:
        assert not s[prop].get("anomalies"), json.dumps(s[prop]["anomalies"][:3], indent=1, default=str)
    assert s["convergence"]["valid"] is True
    # the reads during the run are judged too, and the staleness of reads that returned an
    # update's version is measured (the updates' post-images are known whatever they asked)
    _, events = _events(path)
    during = [r for r in res.reads if not r.final]
    assert during
    if app == "inventory":
        of_updates = [r for r in during if r.saw is not None and events[r.saw]["f"] == "update"]
        assert of_updates and all(r.staleness_ns >= 0 for r in of_updates)


def _checker_lost(path, fail_on=()):
    s = check_history(str(path), jobs=1, timeout_s=30.0, progress=False, fail_on=fail_on).summary
    return s, {a["details"]["write"]: a["details"]["lost_to"] for a in s["lost_writes"]["anomalies"]}


def test_the_checker_lists_exactly_the_writes_the_audits_saw_lost(runs):
    """The issue's done-when: gtcheck check lists every write each application's own audit
    saw lost, no more and no fewer. The reservations and the product's writes are compared
    as sets of invocation indexes; the page views by count (the audit can count lost
    increments, not name them: every increment leaves the same kind of counter), their
    indexes among the acknowledged views. The brute-force reference of rule 12
    (tests/checker/rule12_brute.py) names the same writes."""
    from tests.checker.rule12_brute import lost_writes as brute

    path, audit = runs["reservations"]
    s, lost = _checker_lost(path)
    assert sorted(lost) == audit["lost_writes"]
    assert lost == brute(path)
    assert s["lost_writes"]["figures"]["lost_writes"] == len(audit["lost_writes"])
    assert s["valid"] is True                  # reported, not counted...
    s, _ = _checker_lost(path, fail_on=("lost-writes",))
    assert s["valid"] is False                 # ...unless the user asks

    path, audit = runs["inventory"]
    _, events = _events(path)
    s, lost = _checker_lost(path)
    assert lost == brute(path)
    product = sorted(i for i in lost if events[i]["key"] == "inventory/product#widget")
    views = [i for i in lost if events[i]["key"] == "inventory/views#widget"]
    assert product == audit["lost_writes"]
    assert len(views) == audit["views"]["lost_increments"]
    assert set(views) <= set(audit["views"]["acknowledged_writes"])
    assert len(lost) == len(product) + len(views) == s["lost_writes"]["figures"]["lost_writes"]
    assert s["lost_writes"]["figures"]["keys_inferred"] == 0   # the emulator records ts


def test_the_shipped_invariants_on_the_recordings_find_what_the_audits_saw(runs, capsys):
    """Item 4 of the issue: the invariants gtcheck search runs on the model, run by gtcheck
    check on the two recordings (no ground truth): the double reservations (every owner's
    create, by index), the lost increments (the count the audit counted), the product's
    stock, and the writes lost (the audits' indexes); what the applications did not break
    holds."""
    from gtcheck.search import recorded
    from tests.clihelp import run_cli

    every = recorded.invariant_list(("create_at_most_once", "counter_matches_increments",
                                     "no_acknowledged_write_lost", "converges", "monotonic_reads",
                                     "read_your_writes", "money_conserved", "optimistic_locking"))
    path, audit = runs["reservations"]
    got = recorded.judge(str(path), every)
    doubles = audit["double_reservations"]
    created = got["create_at_most_once"]
    assert created["valid"] is False
    for d in doubles:
        assert f"conditional create of usernames/{d['name']} succeeded {len(d['owners'])} times" in created["message"]
    _, events = _events(path)
    assert created["cited"] == sorted(i for i in audit["acknowledged_writes"]
                                      if events[i]["key"] in {f"usernames/{d['name']}" for d in doubles})
    assert got["no_acknowledged_write_lost"]["valid"] is False
    assert got["no_acknowledged_write_lost"]["cited"] == audit["lost_writes"]
    held = ("counter_matches_increments", "converges", "monotonic_reads", "read_your_writes",
            "money_conserved", "optimistic_locking")
    assert {n: got[n]["valid"] for n in held} == dict.fromkeys(held, True), got

    path, audit = runs["inventory"]
    got = recorded.judge(str(path), every)
    _, events = _events(path)
    views = audit["views"]
    counter = got["counter_matches_increments"]
    assert counter["valid"] is False
    assert (f"counter inventory/views#widget: {views['acknowledged']} increments acknowledged" in counter["message"]
            and f"ends at {views['counted']}: {views['lost_increments']} lost" in counter["message"])
    assert f"but ap-southeast-2 ends at {audit['product']['final_stock']}" in counter["message"]
    lost = got["no_acknowledged_write_lost"]
    assert lost["valid"] is False
    assert [i for i in lost["cited"] if events[i]["key"] == "inventory/product#widget"] == audit["lost_writes"]
    assert len([i for i in lost["cited"] if events[i]["key"] == "inventory/views#widget"]) == views["lost_increments"]
    held = ("create_at_most_once", "converges", "monotonic_reads", "read_your_writes", "money_conserved",
            "optimistic_locking")
    assert {n: got[n]["valid"] for n in held} == dict.fromkeys(held, True), got
    # the command line: the verdict counts them (lost writes alone would not)
    code, out, _ = run_cli(["check", str(path), "--no-progress", "--invariant", "counter_matches_increments"],
                           capsys)
    assert code == 1 and out.startswith("INVALID: invariant counter_matches_increments failed")
