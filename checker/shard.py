"""Partitions: a history split by key, each part checked by a pure function.

Every property is judged per key, so a history partitions cleanly by ``crc32(key) % N``.
Worker ``i`` of ``N`` reads the history itself (the reader validates it as it goes) and
keeps only the operations of part ``i``; then it checks them key by key and returns a
:class:`ShardResult`; the parent merges the results (``checker.check``). Reading in every
worker costs CPU but no serialization at all, and it runs in parallel: with two cores
that is faster than one reader feeding the workers (measured: pickling an operation costs
half as much as reading it). A worker keeps its operations in memory up to
``CheckOptions.memory_budget_ops``; past that it spills them to temporary shard files
(pickled batches of tuples, :class:`ShardWriter`) and checks those one at a time, so
memory stays bounded whatever the history's size.

:func:`check_ops` depends on nothing but its arguments, so parts can run in any order, in
any process, with identical results.

Per key the pipeline is: candidates (rule 3, integrity) -> order (timestamp path, or the
solver path for keys whose ok writes lack ``ts``) -> judge (convergence,
read-after-write, staleness, linearizability: one module each in ``checker.props``).
"""

from __future__ import annotations

import gc
import os
import sys
import time
import zlib
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, Callable, Iterator

from gtcheck.checker.anomalies import Anomaly
from gtcheck.checker.candidates import Clock, key_candidates
from gtcheck.checker.operations import Header, Operation
from gtcheck.checker.ordering.paths import order_key
from gtcheck.checker.ordering.key_order import UNKNOWN, KeyOrder
from gtcheck.checker.judge import KeyJudgement, ReadRecord, WriteRecord, judge_key
from gtcheck.checker.props import STAGES, needs, plan, properties
from gtcheck.checker.props.base import KeyContext
from gtcheck.checker.props.staleness import extend as extend_samples
from gtcheck.checker.txnregister import components
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.exactjson import MAX_DEPTH

_FIELDS = tuple(f.name for f in fields(Operation))
_to_tuple = attrgetter(*_FIELDS)
BATCH = 4096
_RECURSION = 4 * MAX_DEPTH + 1000


@dataclass
class CheckOptions:
    staleness_bound_ns: int | None = None
    timeout_s: float = 10.0          # solver budget per key (solver path only)
    keep_reads: bool = False
    keep_writes: bool = False        # every ok/info write with its rank (gtcheck fit)
    anomaly_limit: int = 1000        # anomalies kept per name (the worst); counts stay exact
    memory_budget_ops: int = 1_500_000   # operations a worker keeps in memory before spilling
    spill_shards: int = 32
    properties: tuple[str, ...] | None = None   # --property: the ones to judge (None: all)
    linearizability_scope: str = "contract"     # --linearizability-scope
    fail_on: tuple[str, ...] = ()     # findings counted in the verdict (--fail-on lost-writes)


def shard_of(key: Any, n: int) -> int:
    """The part of a key. The reader yields operations before it reports bad input at
    the end of the file, so a key that is not a string must not crash this."""
    if n == 1:
        return 0
    return zlib.crc32((key if type(key) is str else repr(key)).encode("utf-8", "surrogatepass")) % n


class ShardWriter:
    """Appends operations to ``n`` shard files under ``directory``."""

    def __init__(self, directory: str, n: int):
        self.n = n
        self.paths = [os.path.join(directory, f"shard-{i:04d}.pkl") for i in range(n)]
        self._files = [open(p, "wb") for p in self.paths]
        self._buf: list[list[tuple]] = [[] for _ in range(n)]
        self.counts = [0] * n

    def add(self, op: Operation) -> None:
        i = shard_of(op.key, self.n)
        buf = self._buf[i]
        buf.append(_to_tuple(op))
        if len(buf) >= BATCH:
            import pickle   # only a history that spills needs it (start-up of every check)
            pickle.dump(buf, self._files[i], protocol=pickle.HIGHEST_PROTOCOL)
            self.counts[i] += len(buf)
            self._buf[i] = []

    def close(self) -> None:
        import pickle
        for i, f in enumerate(self._files):
            if self._buf[i]:
                pickle.dump(self._buf[i], f, protocol=pickle.HIGHEST_PROTOCOL)
                self.counts[i] += len(self._buf[i])
                self._buf[i] = []
            f.close()


def read_shard(path: str) -> Iterator[Operation]:
    import pickle
    with open(path, "rb") as f:
        while True:
            try:
                batch = pickle.load(f)
            except EOFError:
                return
            for t in batch:
                yield Operation(*t)


@dataclass
class ShardResult:
    keys: int = 0
    anomalies: dict[str, list[Anomaly]] = field(default_factory=dict)   # name -> worst first
    counts: Counter = field(default_factory=Counter)                    # name -> exact count
    samples: dict[tuple[str, str], array] = field(default_factory=dict)
    figures: Counter = field(default_factory=Counter)                   # additive figures
    maxima: dict[str, int] = field(default_factory=dict)                # max figures
    unknown_keys: list[dict[str, Any]] = field(default_factory=list)
    unknown_props: Counter = field(default_factory=Counter)
    timing: Counter = field(default_factory=Counter)
    records: list[ReadRecord] = field(default_factory=list)
    writes: list[WriteRecord] = field(default_factory=list)
    final_state: dict[str, dict[str, int | None]] = field(default_factory=dict)
    bad_input: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)   # property name -> its own findings
    # while one key is judged with keep_reads: every anomaly added for it, whatever the
    # limit keeps (its kinds go on the key's read records: _accumulate); not merged
    key_log: list[Anomaly] | None = None

    def add_anomaly(self, a: Anomaly, limit: int) -> None:
        if self.key_log is not None:
            self.key_log.append(a)
        self.counts[a.name] += 1
        lst = self.anomalies.setdefault(a.name, [])
        lst.append(a)
        if len(lst) > 2 * limit:
            lst.sort(key=Anomaly.sort_key)
            del lst[limit:]

    def finish(self, limit: int) -> "ShardResult":
        for lst in self.anomalies.values():
            lst.sort(key=Anomaly.sort_key)
            del lst[limit:]
        return self

    def merge(self, other: "ShardResult", limit: int) -> None:
        self.keys += other.keys
        for name, lst in other.anomalies.items():
            mine = self.anomalies.setdefault(name, [])
            mine.extend(lst)
            mine.sort(key=Anomaly.sort_key)
            del mine[limit:]
        self.counts.update(other.counts)
        for pair, arr in other.samples.items():
            if pair in self.samples:
                self.samples[pair] = extend_samples(self.samples[pair], arr)
            else:
                self.samples[pair] = extend_samples(array("q"), arr)
        self.figures.update(other.figures)
        for k, v in other.maxima.items():
            self.maxima[k] = max(self.maxima.get(k, 0), v)
        self.unknown_keys.extend(other.unknown_keys)
        self.unknown_props.update(other.unknown_props)
        self.timing.update(other.timing)
        self.records.extend(other.records)
        self.writes.extend(other.writes)
        self.final_state.update(other.final_state)
        self.bad_input.extend(other.bad_input)
        for prop in properties():
            if prop.NAME in other.extra:
                if prop.NAME in self.extra:
                    self.extra[prop.NAME] = prop.merge(self.extra[prop.NAME], other.extra[prop.NAME])
                else:
                    self.extra[prop.NAME] = other.extra[prop.NAME]


def check_key(header: Header, ops: list[Operation], options: CheckOptions,
              clock: Clock | None = None, timing: Counter | None = None,
              needs: frozenset[str] = frozenset(STAGES)
              ) -> tuple[list[Anomaly], KeyOrder, KeyJudgement]:
    """Candidates, order and judgement of one key's operations (sorted by invocation), as
    far as ``needs`` asks (the stages the computed properties need: ``checker.props``)."""
    clock = clock or Clock(header.clock_uncertainty_ns)
    timing = timing if timing is not None else Counter()
    key = ops[0].key
    if not needs:
        return [], KeyOrder(key=key), KeyJudgement(key=key)
    t = time.process_time()
    cands, integrity = key_candidates(header, ops, clock)
    timing["candidates_s"] += time.process_time() - t
    if "order" not in needs:
        return integrity, KeyOrder(key=key), KeyJudgement(key=key)
    order = order_key(header, ops, cands, clock, timing, timeout_s=options.timeout_s,
                      staleness_bound_ns=options.staleness_bound_ns)
    t = time.process_time()
    j = judge_key(header, ops[0].key, ops, cands, order,
                  staleness_bound_ns=options.staleness_bound_ns, clock=clock,
                  keep_reads=options.keep_reads, keep_writes=options.keep_writes)
    timing["judge_s"] += time.process_time() - t
    return integrity, order, j


def check_ops(header: Header, ops: Iterator[Operation] | list[Operation],
              options: CheckOptions, res: ShardResult | None = None,
              progress: Callable[[int], None] | None = None) -> ShardResult:
    """Check any collection of operations (all keys it holds) into one ShardResult."""
    by_key: dict[str, list[Operation]] = defaultdict(list)
    for op in ops:
        by_key[op.key].append(op)
    return check_groups(header, by_key, options, res, progress)


def check_groups(header: Header, by_key: dict[str, list[Operation]], options: CheckOptions,
                 res: ShardResult | None = None,
                 progress: Callable[[int], None] | None = None) -> ShardResult:
    """Check operations already grouped by key (each list is sorted here, in place)."""
    res = res if res is not None else ShardResult()
    clock = Clock(header.clock_uncertainty_ns)
    limit = options.anomaly_limit
    active = tuple(m for m in properties() if plan(header, options)[m.NAME] is None)
    stages = needs(m.NAME for m in active)
    # in a register history, a property judged per transaction (TRANSACTIONS) judges the
    # keys that transactions join together at once (checker.txnregister)
    joint = tuple(m for m in active if getattr(m, "TRANSACTIONS", False)) \
        if header.meta.get("register") is True else ()
    parts = [p for p in components(by_key) if len(p) > 1] if joint else []
    joined = {k for p in parts for k in p}
    alone = tuple(m for m in active if m not in joint)
    done = 0
    for key in sorted(by_key):
        key_ops = by_key[key]
        key_ops.sort(key=lambda o: (o.invoke_time, o.index))
        res.keys += 1
        try:
            integrity, order, j = check_key(header, key_ops, options, clock, res.timing, stages)
        except UserError as exc:
            res.bad_input.append(exc.render())
            continue
        _accumulate(res, KeyContext(header, key, key_ops, integrity, order, j, options,
                                    res.timing), alone if key in joined else active)
    for part in parts:
        name = " + ".join(part)
        ops = sorted((op for k in part for op in by_key[k]), key=lambda o: (o.invoke_time, o.index))
        ctx = KeyContext(header, name, ops, [], KeyOrder(key=name), KeyJudgement(key=name),
                         options, res.timing)
        for prop in joint:
            prop.judge_key(ctx, res)
        done += 1
        if progress is not None and done % 256 == 0:
            progress(256)
    if progress is not None and done % 256:
        progress(done % 256)
    return res.finish(limit)


class OpBuffer:
    """A worker's operations, grouped by key in memory; spilled to shard files once there
    are more than ``budget`` of them."""

    def __init__(self, budget: int, n_spill: int = 32):
        self.budget = budget
        self.n_spill = n_spill
        self.n = 0
        self.by_key: dict[str, list[Operation]] | None = defaultdict(list)
        self.writer: ShardWriter | None = None
        self._tmp: Any = None                     # a tempfile.TemporaryDirectory once spilled

    def add(self, op: Operation) -> None:
        self.n += 1
        if self.writer is not None:
            self.writer.add(op)
            return
        self.by_key[op.key].append(op)  # type: ignore[index]
        if self.n > self.budget:
            import tempfile      # only a history too big for memory spills

            self._tmp = tempfile.TemporaryDirectory(prefix="gtcheck-spill-")
            self.writer = ShardWriter(self._tmp.name, self.n_spill)
            for lst in self.by_key.values():  # type: ignore[union-attr]
                for o in lst:
                    self.writer.add(o)
            self.by_key = None

    @property
    def spilled(self) -> bool:
        return self.writer is not None

    def groups(self) -> Iterator[dict[str, list[Operation]]]:
        """Yield the operations grouped by key, one spill shard at a time."""
        if self.writer is None:
            yield self.by_key or {}
            return
        self.writer.close()
        try:
            for path in self.writer.paths:
                by_key: dict[str, list[Operation]] = defaultdict(list)
                for op in read_shard(path):
                    by_key[op.key].append(op)
                os.unlink(path)
                yield by_key
        finally:
            self.close()

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


@dataclass
class PartResult:
    """What one worker returns: its ShardResult, and the reader's stats and nemesis (part 0)."""

    result: ShardResult | None = None
    header: Header | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    nemesis: list = field(default_factory=list)
    read_s: float = 0.0
    read_cpu_s: float = 0.0
    check_cpu_s: float = 0.0
    ops: int = 0
    spilled: bool = False
    error: str | None = None
    error_exit: int = 254


_progress_queue = None


def set_progress_queue(queue) -> None:
    """Pool initializer: progress messages go to ``queue`` (inherited, not pickled)."""
    global _progress_queue
    _progress_queue = queue


def check_part(path: str, part: int, nparts: int, options: CheckOptions) -> PartResult:
    """Read the history at ``path``, keep the keys of ``part`` (of ``nparts``), check them.

    The cyclic garbage collector is paused meanwhile: operations form no cycles, and
    collecting over a million live objects again and again costs seconds."""
    was_enabled = gc.isenabled()
    gc.disable()
    # values may nest up to MAX_DEPTH levels: comparing and pickling them (the result goes
    # back to the parent) recurses about twice per level
    if sys.getrecursionlimit() < _RECURSION:
        sys.setrecursionlimit(_RECURSION)
    try:
        return _check_part(path, part, nparts, options)
    finally:
        if was_enabled:
            gc.enable()


def _check_part(path: str, part: int, nparts: int, options: CheckOptions) -> PartResult:
    from gtcheck.checker.history import open_history

    q = _progress_queue
    t0 = time.perf_counter()
    c0 = time.process_time()
    buf = OpBuffer(options.memory_budget_ops, options.spill_shards)
    out = PartResult()
    try:
        with open_history(path) as reader:
            header = reader.header
            n = 0
            add = buf.add
            mine = None
            if nparts > 1:
                def mine(key: str) -> bool:
                    # the reader still validates every event, but builds only this part's ops
                    return shard_of(key, nparts) == part
            for op in reader.operations(key_filter=mine):
                n += 1
                add(op)
                if q is not None and n % 100_000 == 0:
                    q.put(("read", part, 100_000))
            if part == 0:
                out.header = header
                out.stats = dict(reader.stats)
                out.nemesis = list(reader.nemesis)
    except UserError as exc:
        buf.close()
        out.error = exc.render()
        out.error_exit = exc.exit_code
        return out
    except OSError as exc:
        buf.close()
        out.error = UserError(f"cannot read the history: {exc.strerror or exc}", where=path).render()
        return out
    out.read_s = time.perf_counter() - t0
    out.read_cpu_s = time.process_time() - c0
    out.ops = buf.n
    out.spilled = buf.spilled
    if q is not None:
        q.put(("read", part, n % 100_000))
        q.put(("keys_total", part, len(buf.by_key) if buf.by_key is not None else -1))
        progress = lambda k: q.put(("keys", part, k))  # noqa: E731
    else:
        progress = None
    res = ShardResult()
    c1 = time.process_time()
    for groups in buf.groups():
        check_groups(header, groups, options, res, progress)
    out.check_cpu_s = time.process_time() - c1
    out.result = res
    return out


def check_shard(header: Header, shard: str | list[Operation], options: CheckOptions) -> ShardResult:
    """Check one shard: a shard file written by :class:`ShardWriter`, or a list of ops."""
    t = time.process_time()
    ops = list(read_shard(shard)) if isinstance(shard, str) else shard
    load = time.process_time() - t
    res = check_ops(header, ops, options)
    res.timing["load_s"] += load
    return res


def _accumulate(res: ShardResult, ctx: KeyContext, active: tuple = ()) -> None:
    """Add one key's findings to the part's accumulator: each computed property (``active``)
    judges the key (``checker.props``); what is not a property (kept reads, final state) is
    added here."""
    j, order = ctx.judgement, ctx.order
    if order.status == UNKNOWN:
        # first, so that a property that also gives up on the key adds itself to this entry
        res.unknown_keys.append({"key": j.key, "reason": j.unknown_reason,
                                 "properties": list(j.unknown_affects)})
        for p in j.unknown_affects:
            res.unknown_props[p] += 1
    res.key_log = [] if j.records else None
    try:
        for prop in active:
            prop.judge_key(ctx, res)
        log = res.key_log or []
    finally:
        res.key_log = None
    if order.status == UNKNOWN:
        return
    fig = res.figures
    fig["reads_judged"] += len(j.samples)
    fig["info_writes_took_effect"] += order.stats.get("info_took_effect", 0)
    if j.records:
        res.records.extend(with_anomaly_kinds(j.records, log))
    if j.writes:
        res.writes.extend(j.writes)
    if j.final_state:
        res.final_state[j.key] = j.final_state


def with_anomaly_kinds(records: list[ReadRecord], anomalies: list[Anomaly]) -> list[ReadRecord]:
    """The key's read records, each with the kinds (sorted, once each) of the anomalies
    whose operations cite it: the one definition of a read's ``anomalies`` column
    (``--reads-out``, docs/reads.md)."""
    if not anomalies:
        return records
    kinds: dict[int, set[str]] = defaultdict(set)
    for a in anomalies:
        for i in a.ops:
            kinds[i].add(a.name)
    return [r._replace(anomalies=tuple(sorted(kinds[r.index]))) if r.index in kinds else r
            for r in records]
