"""The workload runner: a scenario's workload against real endpoints, recorded, with the
scenario's faults applied through the emulator's control plane, then a settle time, a
final-read phase (``settled_after_ns``), the check and the report.

A run goes through named phases, reported as it enters each (``Progress``): ``starting``
(clients, the table), ``running`` (the workload, bounded by ``duration`` and ``max_ops``),
``settling`` (faults healed, replication drained, at most ``settle``), ``final reads``
(every region reads every key), then, in ``check_and_report``, ``checking`` and
``reporting``. Whatever the phase, setting ``stop_event`` or a ``KeyboardInterrupt`` (the
command turns SIGINT and SIGTERM into both) ends the run promptly: the clients stop (an
operation cut off has no completion, which counts as ``info``), and the history of what was
done is written all the same, under ``RunConfig.shield`` so that a second signal cannot cut
the file short.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager

from gtcheck.kernel.outfiles import make_directory, write_text
from gtcheck.model.distributions import Constant, Distribution, Exponential, LogNormal, Uniform
from gtcheck.model.scenario import Fault, Scenario
from gtcheck.model.workload import KeyChooser, MixChooser
from gtcheck.realworld.control import Control
from gtcheck.realworld.recorder import Recorder

SECOND = 1_000_000_000


@dataclass
class RunConfig:
    regions: list[str]
    table: str
    scenario: Scenario
    duration_ns: int
    out_dir: Path
    endpoint_url: str | None = None
    settle_ns: int = 10 * SECOND
    seed: int = 1
    max_ops: int | None = None
    clients_per_region: int | None = None
    create_table: bool = True
    staleness_bound_ns: int | None = None
    control: bool | None = None          # apply faults through the emulator (default: when the endpoint is loopback)
    stop_event: threading.Event = field(default_factory=threading.Event)
    shield: Callable[[], ContextManager[Any]] = contextlib.nullcontext   # no interrupt while the history is written


PHASES = ("starting", "running", "settling", "final reads", "checking", "reporting")
WORKER_JOIN_S = 2.0      # how long an interrupted run waits for its clients' calls in flight, in all
HOLD_ENV = "GTCHECK_RUN_HOLD"   # tests only: hold at the start of this phase until interrupted


class Progress:
    """What the run reports: each phase as it starts, and how far it is (``tick``). The
    command prints it; the default reports nothing."""

    def phase(self, name: str, detail: str = "") -> None:
        pass

    def tick(self, done: float, operations: int) -> None:
        pass


def enter(progress: Progress, name: str, detail: str, stop: threading.Event) -> None:
    """Announce ``name``; with ``GTCHECK_RUN_HOLD`` naming it (tests), stay there until stopped."""
    progress.phase(name, detail)
    if os.environ.get(HOLD_ENV) == name:
        end = time.monotonic() + 600
        while not stop.is_set() and time.monotonic() < end:
            time.sleep(0.05)
        if stop.is_set():
            raise KeyboardInterrupt


@dataclass
class RunResult:
    history: Path
    operations: int
    wall_s: float
    interrupted: bool
    summary: dict[str, Any] | None = None
    report: Path | None = None
    exit_code: int = 0
    workload_ops: int = 0
    workload_s: float = 0.0


def dist_text(d: Distribution | None) -> str | None:
    """A model distribution as the emulator's ``--delay`` text."""
    if d is None:
        return None
    if isinstance(d, Constant):
        return f"constant({d.value}ns)"
    if isinstance(d, LogNormal):
        return f"lognormal({d.median}ns, {d.sigma})"
    if isinstance(d, Uniform):
        return f"uniform({d.low}ns, {d.high}ns)"
    if isinstance(d, Exponential):
        return f"exponential({d.mean}ns, {d.minimum}ns)"
    return f"constant({d.sample(random.Random(0))}ns)"


def make_clients(regions: list[str], endpoint_url: str | None, n: int = 1) -> dict[str, list[Any]]:
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=10,
                 max_pool_connections=max(10, n))
    kw: dict[str, Any] = {"config": cfg}
    if endpoint_url:
        kw["endpoint_url"] = endpoint_url
        if endpoint_url.startswith(("http://127.0.0.1", "http://localhost")):
            kw.update(aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "gtcheck"),
                      aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "gtcheck"))
    session = boto3.session.Session()
    return {r: [session.client("dynamodb", region_name=r, **kw) for _ in range(n)] for r in regions}


def ensure_global_table(client: Any, table: str, regions: list[str]) -> None:
    """Create ``table`` (hash key ``pk``, a string) in the first region and add the other
    regions as replicas (global tables version 2019.11.21), unless it exists."""
    from botocore.exceptions import ClientError

    try:
        client.describe_table(TableName=table)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    client.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST",
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    others = [r for r in regions if r != client.meta.region_name]
    existing = {r["RegionName"] for r in client.describe_table(TableName=table)["Table"].get("Replicas", [])}
    todo = [{"Create": {"RegionName": r}} for r in others if r not in existing]
    if todo:
        client.update_table(TableName=table, ReplicaUpdates=todo)


class Worker(threading.Thread):
    def __init__(self, client: Any, table: str, scenario: Scenario, rate: float, seed: int,
                 deadline: float, stop: threading.Event, budget: "Budget") -> None:
        super().__init__(daemon=True)
        self.client, self.table, self.scenario = client, table, scenario
        self.rng = random.Random(seed)
        self.rate, self.deadline, self.stop, self.budget = rate, deadline, stop, budget
        self.keys = KeyChooser(scenario.workload)
        self.mix = MixChooser(scenario.workload)
        self.n = 0

    def run(self) -> None:
        while not self.stop.is_set() and time.monotonic() < self.deadline and self.budget.take():
            try:
                self.one()
            except Exception:  # noqa: BLE001 - recorded as fail/info; keep going
                pass
            self.n += 1
            if self.rate > 0:
                pause = self.rng.expovariate(self.rate)
                if self.stop.wait(min(pause, max(0.0, self.deadline - time.monotonic()))):
                    return

    def _key(self) -> dict[str, Any]:
        return {"pk": {"S": self.keys.pick(self.rng)}}

    def one(self) -> None:
        kind = self.mix.pick(self.rng)
        c, t, key, rng = self.client, self.table, self._key(), self.rng
        num = {"N": str(rng.randrange(1000))}
        if kind == "read":
            c.get_item(TableName=t, Key=key, ConsistentRead=rng.random() < self.scenario.workload.strong_reads)
        elif kind == "write":
            c.put_item(TableName=t, Item={**key, "a": num, "b": {"N": "100"}})
        elif kind == "update":
            c.update_item(TableName=t, Key=key, UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": num})
        elif kind == "increment":
            c.update_item(TableName=t, Key=key, UpdateExpression="ADD n :one",
                          ExpressionAttributeValues={":one": {"N": "1"}})
        elif kind == "delete":
            c.delete_item(TableName=t, Key=key)
        elif kind == "cas":
            c.put_item(TableName=t, Item={**key, "a": num}, ConditionExpression="attribute_not_exists(pk)")
        elif kind == "conditional_update":
            c.update_item(TableName=t, Key=key, UpdateExpression="SET b = :b",
                          ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":b": num})
        elif kind == "conditional_delete":
            c.delete_item(TableName=t, Key=key, ConditionExpression="attribute_exists(pk)")
        elif kind == "transaction":
            keys = {self.keys.pick(rng) for _ in range(self.scenario.workload.transaction_size)}
            c.transact_write_items(TransactItems=[
                {"Put": {"TableName": t, "Item": {"pk": {"S": k}, "a": {"N": str(rng.randrange(1000))}}}}
                for k in sorted(keys)])
        else:
            c.get_item(TableName=t, Key=key)


class Budget:
    def __init__(self, limit: int | None) -> None:
        self.left = limit
        self.lock = threading.Lock()

    def take(self) -> bool:
        if self.left is None:
            return True
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


class FaultDriver(threading.Thread):
    """Applies the scenario's timed faults through the control endpoint, recording each."""

    def __init__(self, control: Control, recorder: Recorder, faults: tuple[Fault, ...], t0: float,
                 duration_s: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.control, self.recorder, self.stop, self.t0 = control, recorder, stop, t0
        self.offsets: dict[str, int] = {}
        plan: list[tuple[float, int, Callable[[], None]]] = []
        for i, f in enumerate(faults):
            at = f.at_ns / SECOND
            if at >= duration_s:
                continue
            end = min(f.end_ns / SECOND, duration_s) if f.duration_ns else None
            plan.extend(self._actions(i, f, at, end))
        self.plan = sorted(plan, key=lambda p: (p[0], p[1]))

    def _actions(self, i: int, f: Fault, at: float, end: float | None) -> list[tuple[float, int, Callable[[], None]]]:
        c, rec = self.control, self.recorder
        r = f.region
        if f.kind == "isolate" and r:
            return [(at, i, lambda: (c.isolate(r), rec.nemesis("partition", {"isolate": [r]}))),
                    (end or at, i, lambda: (c.heal(r), rec.nemesis("heal", {"isolate": [r]})))]
        if f.kind == "outage" and r:
            return [(at, i, lambda: (c.stop(r), rec.nemesis("region-down", {"region": r}))),
                    (end or at, i, lambda: (c.start(r), rec.nemesis("region-up", {"region": r})))]
        if f.kind == "replication-delay":
            text = dist_text(f.extra)
            return [(at, i, lambda: (c.delay(text, f.source, f.target),
                                     rec.nemesis("replication-delay", {"from": f.source, "to": f.target, "extra": text}))),
                    (end or at, i, lambda: (c.delay(None, f.source, f.target),
                                            rec.nemesis("replication-delay", {"from": f.source, "to": f.target, "extra": None})))]
        if f.kind == "clock-jump" and r:
            def jump() -> None:
                self.offsets[r] = self.offsets.get(r, 0) + f.by_ns
                c.clock(r, self.offsets[r])
                rec.nemesis("clock-skew", {"region": r, "offset_ns": self.offsets[r]})
            return [(at, i, jump)]
        return []

    def run(self) -> None:
        for at, _, action in self.plan:
            wait = self.t0 + at - time.monotonic()
            if wait > 0 and self.stop.wait(wait):
                return
            try:
                action()
            except Exception:  # noqa: BLE001 - a fault that cannot be applied is skipped
                pass


def run_workload(cfg: RunConfig, progress: Progress | None = None) -> RunResult:
    """Phases ``starting`` to ``final reads``; the history is written whatever happens."""
    progress = progress or Progress()
    out = make_directory(cfg.out_dir, "-o/--output directory")
    history = out / "history.jsonl"
    wl = cfg.scenario.workload
    stop = cfg.stop_event
    rec = Recorder(history, cfg.regions, key_schema={cfg.table: ["pk"]},
                   metadata={"table": cfg.table, "scenario": cfg.scenario.name, "seed": cfg.seed,
                             "endpoint": cfg.endpoint_url or "aws"})
    per_region = cfg.clients_per_region or wl.processes_per_region
    n_clients = per_region * len(cfg.regions)
    workers: list[Worker] = []
    halt = threading.Event()          # the clients and the fault driver stop
    interrupted = False
    workload_ops, workload_s = 0, 0.0
    t0 = time.monotonic()
    try:
        enter(progress, "starting", f"{n_clients} clients, table {cfg.table}", stop)
        clients = make_clients(cfg.regions, cfg.endpoint_url, per_region)
        use_control = cfg.control if cfg.control is not None else bool(
            cfg.endpoint_url and cfg.endpoint_url.startswith(("http://127.0.0.1", "http://localhost")))
        control = Control(cfg.endpoint_url) if use_control and cfg.endpoint_url else None
        if cfg.create_table:
            ensure_global_table(clients[cfg.regions[0]][0], cfg.table, cfg.regions)
        for region_clients in clients.values():
            for c in region_clients:
                rec.attach(c)
        budget = Budget(cfg.max_ops)
        duration_s = cfg.duration_ns / SECOND
        enter(progress, "running", f"{duration_s:g} s" + (f", at most {cfg.max_ops} operations" if cfg.max_ops else ""),
              stop)
        t_run = time.monotonic()
        deadline = t_run + duration_s
        rate = wl.rate / n_clients if wl.rate > 0 else 0.0
        workers = [Worker(c, cfg.table, cfg.scenario, rate, cfg.seed * 1000 + i, deadline, halt, budget)
                   for i, c in enumerate(c for r in cfg.regions for c in clients[r])]
        faults = FaultDriver(control, rec, cfg.scenario.faults, t_run, duration_s, halt) if control else None
        if faults:
            faults.start()
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers):
            if stop.wait(0.1):
                raise KeyboardInterrupt
            progress.tick(min(1.0, (time.monotonic() - t_run) / duration_s), sum(w.n for w in workers))
        workload_s = time.monotonic() - t_run
        workload_ops = sum(w.n for w in workers)
        halt.set()
        if faults:
            faults.join(timeout=5)
        # settle: heal everything, let replication drain, then every region reads every key
        enter(progress, "settling", f"at most {cfg.settle_ns / SECOND:g} s", stop)
        if control:
            control.heal_all()
            rec.nemesis("heal", {"all": True})
            control.wait_quiet(timeout=cfg.settle_ns / SECOND, stop=stop)
        else:
            stop.wait(cfg.settle_ns / SECOND)
        if stop.is_set():
            raise KeyboardInterrupt
        keys = KeyChooser(wl).keys
        enter(progress, "final reads", f"{len(cfg.regions)} regions x {len(keys)} keys", stop)
        rec.mark_settled()
        for r in cfg.regions:
            c = clients[r][0]
            for k in keys:
                if stop.is_set():
                    raise KeyboardInterrupt
                try:
                    c.get_item(TableName=cfg.table, Key={"pk": {"S": k}}, ConsistentRead=True)
                except Exception:  # noqa: BLE001 - recorded
                    pass
    except KeyboardInterrupt:
        interrupted = True
    finally:
        with cfg.shield():
            halt.set()
            end = time.monotonic() + WORKER_JOIN_S
            for w in workers:
                w.join(timeout=max(0.0, end - time.monotonic()))
            if not workload_ops:
                workload_ops = sum(w.n for w in workers)
            rec.close()
    wall = time.monotonic() - t0
    ops = sum(1 for e in rec.events if e["type"] == "invoke")
    return RunResult(history, ops, wall, interrupted, workload_ops=workload_ops, workload_s=workload_s)


def check_and_report(result: RunResult, staleness_bound_ns: int | None, html: bool = True,
                     progress: Progress | None = None, stop: threading.Event | None = None) -> RunResult:
    """Phases ``checking`` and ``reporting``: check the recorded history; write check.txt,
    check.json and report.html next to it."""
    from gtcheck.checker.check import check_history, exit_code_for
    from gtcheck.checker.output import render

    progress = progress or Progress()
    stop = stop or threading.Event()
    out = result.history.parent
    enter(progress, "checking", f"{result.operations} operations", stop)
    res = check_history(str(result.history), staleness_bound_ns=staleness_bound_ns, jobs=1,
                        timeout_s=10.0, progress=False, keep_reads=html)
    write_text(out / "check.txt", render(res.summary, "text"))
    write_text(out / "check.json", render(res.summary, "json"))
    result.summary = res.summary
    result.exit_code = exit_code_for(res.summary["valid"], False)
    if html:
        from gtcheck.checker.report import write_report
        enter(progress, "reporting", str(out / "report.html"), stop)
        result.report = Path(write_report(str(result.history), str(out / "report.html"), check_result=res,
                                          staleness_bound_ns=staleness_bound_ns, jobs=1))
    return result
