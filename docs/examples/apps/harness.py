"""gtcheck's side of the two example applications: recorded boto3 clients per region, the
emulator's fault control (each fault also written into the history), the final phase.

Both run against a local emulator started first:

    gtcheck emulate --regions us-east-1,eu-west-1,ap-southeast-2 --port 8000 \\
        --delay 'uniform(50ms, 150ms)' --global-tables all &

Each isolates one region (``--isolate``, default eu-west-1) and slows replication between
the others (``--delay``, default 300ms) while it works; then it heals, waits for
replication to drain (``Control.wait_quiet()``), takes the final reads, writes the history
(``--history``) and prints its own audit as JSON, naming the writes it saw lost by their
invocation's index in the history (``lost_writes``), for comparison with what gtcheck
names.

The applications themselves (``reservations.py``, ``inventory.py``) are plain boto3; this
module is what you add around an application to have gtcheck judge what it saw:

    harness = Harness("http://127.0.0.1:8000", REGIONS, "out/app.jsonl", "my-app")
    ddb = harness.client("us-east-1")          # one recorded client per thread
    harness.isolate("eu-west-1")               # faults through the emulator's control
    ...                                        # the application's own work
    harness.settle()                           # heal, wait for replication, final reads
    harness.close()                            # writes the history; `gtcheck check` it
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable

from gtcheck.realworld.control import Control
from gtcheck.realworld.recorder import Recorder
from gtcheck.realworld.runner import make_clients

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def arguments(app: str, doc: str, argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=f"python docs/examples/apps/{app}.py", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint-url", default="http://127.0.0.1:8000",
                   help="a running `gtcheck emulate --global-tables all` (default %(default)s)")
    p.add_argument("--regions", default=",".join(REGIONS), help="the emulator's regions (default %(default)s)")
    p.add_argument("--history", default=f"out/{app}.jsonl", help="where to write the history (default %(default)s)")
    p.add_argument("--isolate", default="eu-west-1", help="the region cut off while the application works")
    p.add_argument("--delay", default="300ms", help="extra replication delay between the other regions")
    p.add_argument("--seed", type=int, default=1, help="the application's own random choices")
    return p.parse_args(argv)


class Harness:
    """Recorded clients, faults and the final phase around an application's run."""

    def __init__(self, endpoint: str, regions: list[str], history: str, app: str) -> None:
        self.endpoint = endpoint
        self.regions = list(regions)
        os.makedirs(os.path.dirname(os.path.abspath(history)), exist_ok=True)
        self.recorder = Recorder(history, self.regions, metadata={"source": app, "endpoint": endpoint})
        self.control = Control(endpoint)
        self.clients = {r: self.client(r) for r in self.regions}

    def client(self, region: str) -> Any:
        """A new recorded boto3 DynamoDB client of ``region`` (one per thread)."""
        return self.recorder.attach(make_clients([region], self.endpoint)[region][0])

    def isolate(self, region: str) -> None:
        self.control.isolate(region)
        self.recorder.nemesis("partition", {"isolate": [region]})

    def delay(self, extra: str, source: str, target: str) -> None:
        self.control.delay(extra, source, target)
        self.recorder.nemesis("replication-delay", {"from": source, "to": target, "extra": extra})

    def faults(self, isolate: str, delay: str) -> list[str]:
        """The run's faults: ``isolate`` cut off, and ``delay`` more replication delay both
        ways between the first two other regions; returns the other regions."""
        self.isolate(isolate)
        others = [r for r in self.regions if r != isolate]
        if len(others) >= 2:
            self.delay(delay, others[0], others[1])
            self.delay(delay, others[1], others[0])
        return others

    def wait_quiet(self, timeout: float = 30.0) -> None:
        if not self.control.wait_quiet(timeout=timeout):
            raise RuntimeError(f"replication did not drain within {timeout} s")

    def settle(self, timeout: float = 30.0) -> None:
        """Heal every fault, wait until nothing is in flight, then every region reads every
        key the history touched (the final reads)."""
        self.control.heal_all()
        self.recorder.nemesis("heal", {"all": True})
        self.wait_quiet(timeout)
        self.recorder.final_reads(self.clients)

    def close(self) -> str:
        return self.recorder.close() or ""


def index(call: list[dict[str, Any]], key: str | None = None) -> int | None:
    """The history index of a recorded call's invocation (of ``key`` when the call wrote
    several items); final once the recorder is closed."""
    for ev in call:
        if key is None or ev["key"] == key:
            return ev.get("index")
    return None


def ensure_table(ddb: Any, table: str, key: str) -> None:
    """A table with a string hash key, global in every region (the emulator's
    ``--global-tables all``); nothing when it exists."""
    try:
        ddb.create_table(TableName=table, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    except ddb.exceptions.ResourceInUseException:
        pass


def cli(app: str, doc: str, run: Callable[..., dict[str, Any]], argv: list[str] | None) -> int:
    """Parse the command line, run the application, print its audit."""
    a = arguments(app, doc.split("\n\n")[0], argv)
    audit = run(a.endpoint_url, a.regions.split(","), a.history, a.isolate, a.delay, a.seed)
    print(json.dumps(audit, indent=2, sort_keys=True))
    return 0
