"""Failover of scripted requests (``[failover]`` with ``[[script]]``): a scripted request's
region is its client's home for it, and the region the client called last carries over
while its requests keep that home, as a workload client's does. So ``failback = false``
keeps a client that failed over where it went after its home recovers, and ``true`` brings
it back; the timed simulator and the explorer (one relation) agree."""

from __future__ import annotations

from typing import Any

import pytest

from gtcheck.model.globaltables import GlobalTables
from gtcheck.model.history_writer import ListSink
from gtcheck.model.scenario import scenario_from_dict
from gtcheck.model.simulator import Simulator

US, EU = "us-east-1", "eu-west-1"


def _scenario(failback: bool, third_region: str = US) -> Any:
    """alice writes in us-east-1 before its outage (10 ms to 1 s), during it (after the
    failover, 100 ms) and after it (2 s)."""
    def write(at: str, v: int, region: str = US) -> dict[str, Any]:
        return {"at": at, "region": region, "f": "write", "key": "x", "value": {"v": v}, "process": "alice"}
    return scenario_from_dict({
        "name": "scripted-failback", "regions": {"names": [US, EU], "copies": 1, "write_quorum": 1,
                                                 "timeout": "50ms"},
        "failover": {"policy": "next", "after": "100ms", "failback": failback},
        "faults": [{"kind": "outage", "region": US, "at": "10ms", "duration": "990ms"}],
        "final": {"reads": False},
        "script": [write("0ms", 1), write("200ms", 2), write("2s", 3, third_region)]})


def _called_by_simulator(sc: Any) -> list[str]:
    out = ListSink()
    Simulator(sc, 1, out).run()
    return [e["region"] for e in out.items[1:] if e["type"] == "invoke" and e["process"] == "alice"]


def _called_by_explorer(sc: Any) -> list[str]:
    """The regions alice calls on one path of the explorer's graph (where a request goes
    does not depend on the path: requests are taken in time order)."""
    m = GlobalTables(sc)
    state = m.init()[0]
    called = []
    while True:
        actions = m.actions(state)
        if not actions:
            return called
        state, events = m.next(state, actions[-1])
        called += [e["region"] for e in events if e["type"] == "invoke" and e["process"] == "alice"]


@pytest.mark.parametrize("called", [_called_by_simulator, _called_by_explorer])
def test_failback_false_keeps_a_scripted_client_where_it_failed_over(called):
    assert called(_scenario(failback=False)) == [US, EU, EU]


@pytest.mark.parametrize("called", [_called_by_simulator, _called_by_explorer])
def test_failback_true_brings_a_scripted_client_home(called):
    assert called(_scenario(failback=True)) == [US, EU, US]


@pytest.mark.parametrize("called", [_called_by_simulator, _called_by_explorer])
def test_a_request_to_another_region_starts_afresh(called):
    """A request naming another region is the client's home for it: what the client
    remembered from requests homed elsewhere does not move it."""
    assert called(_scenario(failback=False, third_region=EU)) == [US, EU, EU]
    sc = _scenario(failback=False)
    script = [dict(e) for e in sc.source["script"]]
    script.insert(2, {"at": "1500ms", "region": EU, "f": "read", "key": "x", "process": "alice"})
    data = dict(sc.source, script=script)
    assert called(scenario_from_dict(data)) == [US, EU, EU, US]
