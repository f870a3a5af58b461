"""A request slower than the client's timeout (request_latency up to the documented 7
days, or a scripted request's latency): the client gives up at the timeout (info) and the
request is lost on the way, as when its region is down. Before, the write landed after
the settle period and the simulator stopped on an internal assertion (exit 255)."""

from __future__ import annotations

import pytest

from gtcheck.checker.check import check_history
from gtcheck.checker.history import validate_file
from tests.simhelp import run

SECOND = 1_000_000_000


@pytest.mark.parametrize("mode", ["eventual", "strong"])
def test_a_week_long_request_latency_times_out_every_request(tmp_path, mode):
    r = run({"name": f"slow-{mode}", "mode": mode,
             "regions": {"request_latency": "168h", "timeout": "2s"},
             "workload": {"duration": "3s", "keys": 1}}, seed=3, tmp=tmp_path)
    assert validate_file(r.path) is not None
    assert r.ops, "no request was made"
    for op in r.ops.values():
        assert op["outcome"] == "info" and op["end"] - op["time"] == 2 * SECOND, op
    assert not [t for t in r.of("write") if t["took_effect"]]
    assert check_history(r.path, jobs=1).summary["valid"] is not False


def test_only_the_requests_slower_than_the_timeout_give_up(tmp_path):
    r = run({"name": "scripted", "regions": {"names": ["us-east-1", "eu-west-1"], "timeout": "1s"},
             "script": [{"at": "0s", "region": "us-east-1", "f": "write", "key": "k", "value": {"v": 1},
                         "latency": "999ms"},
                        {"at": "5s", "region": "us-east-1", "f": "write", "key": "k", "value": {"v": 2},
                         "latency": "1001ms"}]}, seed=1, tmp=tmp_path)
    writes = sorted((op for op in r.ops.values() if op["f"] == "write"), key=lambda op: op["time"])
    assert [op["outcome"] for op in writes] == ["ok", "info"]
    assert writes[1]["end"] - writes[1]["time"] == SECOND
    assert {t["index"]: t["took_effect"] for t in r.of("write")} == {writes[0]["index"]: True,
                                                                  writes[1]["index"]: False}
    assert check_history(r.path, jobs=1).summary["valid"] is True
