"""A history checked in pieces: read in blocks of lines, shuffled by process to pair its
operations, shuffled by key to judge them; no process ever holds the whole history.

The Dask engine (``checker.dask_engine``) runs these stages as tasks on a cluster; the
local engine runs them in its own process for a history in several parts. Every stage is
a pure function of its arguments:

1. :func:`route_block`: a block of whole lines of one part file (a byte range aligned to
   lines). Each line is parsed once for its ``process``, and goes to the bucket
   ``crc32(process) % P``; what only the whole file can tell is summed up in the block's
   :class:`BlockFacts` (its times never decrease, its indices increase).
2. :func:`pair_bucket`: every line of some processes, in file order. The history reader
   (``HistoryReader.of_lines``) validates each event and pairs each process's
   operations (rule 5: a process has one operation in flight) exactly as it does reading
   the whole file; the operations go to the key shard ``crc32(key) % K``
   (``checker.shard.shard_of``, the local engine's own partition).
3. :func:`judge_shard`: every operation of some keys. Repeated writes of one key
   (``history.RepeatedWrites``) are looked for here, where a key's writes from every
   process meet; then the keys are judged by ``checker.shard.check_groups``, the local
   engine's judging, and the result merged as the local engine merges its parts.

What only the whole file can tell is decided from the blocks' facts: times never
decrease and indices are unique when every block's times and explicit indices increase
and the blocks follow each other; otherwise (bad input, or indices left implicit in
several parts) :func:`whole_file_problems` reads the files once more, streaming, with a
bitmap of the indices seen. The header, parsed once, goes to every task; fault events
are kept by the bucket of the process ``nemesis`` and returned to the caller, which
annotates the anomalies with them (``checker.faults``), as the local engine does.

A history in several parts (``docs/history-format.md``, "Histories in parts"): each part
is a history file of its own (the same header), a recorder per machine writing its own
processes; the parts' events together are the history. Line numbers and positions are
each part's own; indices must be unique across the parts; a process lives in one part.
"""

from __future__ import annotations

import gc
import gzip
import operator
import os
import time
import zlib
from array import array
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import orjson

from gtcheck.checker.event_checks import EventProblems, Problems
from gtcheck.checker.operations import Header, NemesisEvent, Operation
from gtcheck.checker.shard import (CheckOptions, PartResult, ShardResult, _to_tuple,
                                   check_groups, shard_of)
from gtcheck.kernel.errors import ManyUserErrors, UserError
from gtcheck.kernel.exactjson import JSONProblem, parse_line

BLOCK_BYTES = 32 << 20
"""Bytes per block of a plain part file (at least; :func:`plan`): many blocks spread the
reading over the workers; each costs a task per bucket."""
PACK = 1
"""zlib level of what waits between stages (a block's lines per bucket, a bucket's
operations per shard): every block is routed before any bucket is paired, so a worker
holds its share of the whole history for a while; level 1 makes it about 5 times smaller
(JSON lines) for about 6 % more CPU."""
BUCKET_BYTES = 64 << 20
"""Bytes of history per process bucket and per key shard (their number: the history's
size over this, at least :data:`BUCKETS_PER_WORKER` per worker; see :func:`plan`)."""
BUCKETS_PER_WORKER = 4
"""At least this many buckets (and shards) per worker: a stage's tasks are of unequal
size, and with a few per worker the last one ends soon after the others."""
MAX_BLOCK_BYTES = 512 << 20
"""The largest block :func:`plan` makes (a block streams: its size costs no memory)."""
MAX_PIECES = 250_000
"""The most pieces the two exchanges may make (one task each; Dask's scheduler spends
about a millisecond per task)."""
CHUNK_BYTES = 8 << 20
"""Bytes a block's task reads at a time."""
PACK_OPS = 200_000
"""Operations a bucket's task keeps, over all its shards, before it packs them (pickled,
compressed): a shard's list is packed when it reaches this over the shards, so the
task's memory does not grow with the bucket."""
GZIP_RATIO = 8
"""The history bytes assumed per byte of a gzip part (JSON lines compress 6 to 10 times)."""


# --------------------------------------------------------------------------- the parts

@dataclass
class Part:
    """One part file of a history: its path and what its header told."""

    path: str
    header_line: int            # the line the header is on (blank lines may precede it)
    header_raw: bytes
    first_time: int | None
    gzip: bool
    size: int


def open_parts(paths: Sequence[str]) -> tuple[Header, list[Part]]:
    """The parts' common header, and each part (254 when a header is bad, or when the
    parts' headers differ: they are one history)."""
    from gtcheck.checker.history import open_history
    from gtcheck.kernel.files import open_binary

    parts: list[Part] = []
    header: Header | None = None
    first_dict: dict[str, Any] | None = None
    for path in paths:
        with open_history(path) as reader:
            if reader.format != "gt":
                raise UserError("a history checked in pieces must be gt-history JSON lines "
                                f"(this is {reader.format})", where=path,
                                hint="convert it first: gtcheck convert")
            if first_dict is None:
                header, first_dict = reader.header, reader.header_dict
            elif reader.header_dict != first_dict:
                differ = sorted(k for k in set(first_dict) | set(reader.header_dict)
                                if first_dict.get(k) != reader.header_dict.get(k))
                raise UserError(f"the header differs from the first part's ({paths[0]}) in "
                                f"{', '.join(differ)}", where=f"{path}:{reader.header_line}",
                                hint="the parts of one history carry the same header line")
            with open_binary(path) as fh:
                gz = isinstance(fh, gzip.GzipFile)      # open_binary decompresses gzip
                raw = b""
                for _ in range(reader.header_line):
                    raw = fh.readline()
            parts.append(Part(path, reader.header_line, raw, reader._first_time, gz,
                              os.path.getsize(path)))
    assert header is not None
    if len(parts) > 1 and not header.clock_uncertainty_ns:
        raise UserError("a history in several parts needs clock_uncertainty_ns above 0 in its "
                        "header: its parts were stamped by different clocks, so events of "
                        "different parts are ordered by time alone (rule 1)",
                        where=f"{parts[0].path}:{parts[0].header_line}",
                        hint="give the largest difference between the recorders' clocks, "
                        "e.g. \"clock_uncertainty_ns\": 5000000; or check one file")
    return header, parts


@dataclass(frozen=True)
class Plan:
    """How a history is cut: the bytes of a block of a plain part file, the number of
    process buckets and the number of key shards."""

    block_bytes: int
    buckets: int
    shards: int

    def ranges(self, part: Part) -> list[tuple[int, int | None]]:
        """The part's blocks as byte ranges ``[start, end)``: a block holds the lines that
        start in it. A gzip part is one block (``end`` None: to the end), as it cannot be
        entered anywhere but at its start: its worker decompresses it, streaming."""
        if part.gzip or part.size == 0:
            return [(0, None)]
        n = max(1, round(part.size / self.block_bytes))
        edges = [part.size * i // n for i in range(n + 1)]
        return list(zip(edges, edges[1:]))


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def plan(parts: Sequence[Part], workers: int) -> Plan:
    """Blocks, buckets and shards for ``parts`` on ``workers`` workers.

    Balance: at least :data:`BUCKETS_PER_WORKER` buckets and shards per worker, their
    numbers and the blocks' (when there are more blocks than workers) multiples of the
    workers, so that each stage ends with the workers equally loaded. Memory: a shard
    holds about :data:`BUCKET_BYTES` of history, whose operations its task builds as
    objects (some 4 to 5 times the bytes); a block and a bucket stream (a block's task
    holds one :data:`CHUNK_BYTES` chunk, a bucket's task a few operations per shard, and
    both their compressed output). Scheduler: the two exchanges make ``buckets * (blocks
    + shards)`` pieces, each a task; past :data:`MAX_PIECES` the blocks grow first (up to
    :data:`MAX_BLOCK_BYTES`), then the buckets become fewer (down to the least), and only
    then the shards grow, so that the tasks grow linearly with the history rather than
    as its square while a shard's memory stays put as long as it can (README, "cost on
    paper")."""
    plain = sum(p.size for p in parts if not p.gzip)
    total = sum(p.size * (GZIP_RATIO if p.gzip else 1) for p in parts)
    gz = sum(1 for p in parts if p.gzip)
    least = BUCKETS_PER_WORKER * workers
    block, shard = BLOCK_BYTES, BUCKET_BYTES
    while True:
        blocks = _ceil(plain, block)
        if blocks > workers:
            blocks = _ceil(blocks, workers) * workers
        shards = _ceil(max(least, _ceil(total, shard)), workers) * workers
        buckets = shards
        if buckets * (blocks + gz + shards) <= MAX_PIECES:
            break
        if block < MAX_BLOCK_BYTES:
            block *= 2
            continue
        fit = MAX_PIECES // (blocks + gz + shards) // workers * workers
        buckets = max(least, fit)
        if buckets * (blocks + gz + shards) <= MAX_PIECES or shards <= least:
            break
        shard *= 2
    return Plan(max(1, _ceil(plain, blocks)) if blocks else block, buckets, shards)


# --------------------------------------------------------------------------- stage 1

@dataclass
class BlockFacts:
    """What one block tells about its part file as a whole."""

    lines: int = 0                      # lines in the block (the header's included)
    blanks: array = field(default_factory=lambda: array("q"))   # its blank lines (local)
    invalid: int = 0                    # lines that are not JSON objects
    events: int = 0                     # events: lines after the header, not blank
    t_max: int = -1                     # the largest valid time, and the last line with it
    t_max_line: int = 0
    t_min: int | None = None            # the smallest valid time
    times_increase: bool = True         # no time below an earlier one of the block
    idx_first: int | None = None        # explicit indices: first, largest
    idx_max: int = -1
    idx_increase: bool = True           # every event has an index, each above the last
    implicit: int = 0                   # events without an index
    bytes: int = 0
    cpu_s: float = 0.0


def _process_of(raw: bytes) -> tuple[Any, Any, Any] | None:
    """(process, time, index) of a line, or None when it is not a JSON object."""
    try:
        ev = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            ev = parse_line(raw)
        except JSONProblem:
            return None
    if type(ev) is not dict:
        return None
    return ev.get("process"), ev.get("time"), ev.get("index", _NO_INDEX)


_NO_INDEX = object()


def bucket_of(process: Any, n: int) -> int:
    """The bucket of a process: every event of a process goes to one reader."""
    tp = type(process)
    if tp is not int and tp is not str:
        return 0            # bad input: bucket 0's reader reports it
    return zlib.crc32(repr(process).encode("utf-8", "surrogatepass")) % n


def read_range(path: str, start: int, end: int | None) -> Iterator[bytes]:
    """The lines that start in ``[start, end)`` of the file (decompressed; ``end`` None:
    to its end), in chunks of whole lines of about :data:`CHUNK_BYTES`, read streaming.
    Every line belongs to one range: the one its first byte is in."""
    from gtcheck.kernel.files import open_binary

    with open_binary(path) as fh:
        pos = 0
        if start:
            fh.seek(start - 1)
            pos = start - 1 + len(fh.readline())    # the rest of the line begun before
        while end is None or pos < end:
            data = fh.read(CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - pos))
            if not data:
                return
            if not data.endswith(b"\n"):
                data += fh.readline()
            pos += len(data)
            yield data


def route_block(path: str, start: int, end: int | None, header_line: int, n_buckets: int
                ) -> tuple[BlockFacts, list[tuple[list[bytes], array]]]:
    """Split a block (the lines starting in bytes ``[start, end)`` of the part file at
    ``path``, read here, streaming) into its buckets' lines; ``header_line`` is the line
    of the header in this block (0: the block holds no header). Returns the block's facts
    and, per bucket, its lines with their line numbers in the block: the lines of each
    chunk read joined by newlines and compressed (:data:`PACK`), so that the task holds
    one chunk and the compressed rest, whatever the block's size."""
    c0 = time.process_time()
    facts = BlockFacts()
    segments: list[list[bytes]] = [[] for _ in range(n_buckets)]
    nums = [array("I") for _ in range(n_buckets)]     # a block holds fewer than 2**32 lines
    crc = zlib.crc32
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    t_max, t_max_line, t_min = -1, 0, None
    idx_last = -1
    line_no = 0
    for data in read_range(path, start, end):
        facts.bytes += len(data)
        raw_lines = data.split(b"\n")
        if not raw_lines[-1]:
            raw_lines.pop()                 # after the last newline (the file may lack it)
        out: list[list[bytes]] = [[] for _ in range(n_buckets)]
        for raw in raw_lines:
            line_no += 1
            if line_no <= header_line:
                continue
            if not raw or raw.isspace():
                facts.blanks.append(line_no)
                continue
            facts.events += 1
            try:
                ev = loads(raw)
            except decode_error:
                try:
                    ev = parse_line(raw)
                except JSONProblem:
                    ev = None
            if type(ev) is not dict:
                facts.invalid += 1
                out[0].append(raw)           # its reader reports it
                nums[0].append(line_no)
                continue
            t = ev.get("time")
            if type(t) is int and t >= 0:
                if t >= t_max:
                    t_max, t_max_line = t, line_no
                else:
                    facts.times_increase = False
                if t_min is None or t < t_min:
                    t_min = t
            p = ev.get("process")
            tp = type(p)
            if tp is int or tp is str:
                b = crc(repr(p).encode("utf-8", "surrogatepass")) % n_buckets
                idx = ev.get("index", _NO_INDEX)
                if idx is _NO_INDEX:
                    facts.implicit += 1
                elif type(idx) is int and idx > idx_last:
                    if facts.idx_first is None:
                        facts.idx_first = idx
                    idx_last = idx
                else:
                    facts.idx_increase = False
            else:
                b = 0
            out[b].append(raw)
            nums[b].append(line_no)
        for b, lines in enumerate(out):
            if lines:
                segments[b].append(zlib.compress(b"\n".join(lines), PACK))
    facts.lines = line_no
    facts.t_max, facts.t_max_line, facts.t_min = t_max, t_max_line, t_min
    facts.idx_max = idx_last
    facts.cpu_s = time.process_time() - c0
    return facts, list(zip(segments, nums))


def block_facts(routed: tuple[BlockFacts, list]) -> BlockFacts:
    return routed[0]


def block_bucket(routed: tuple[BlockFacts, list], bucket: int) -> tuple[list[bytes], array]:
    return routed[1][bucket]


@dataclass
class Layout:
    """Where each block's lines fall in its part: computed from every block's facts."""

    offsets: dict[tuple[int, int], int]        # (part, block) -> lines before the block
    blanks: dict[int, array]                   # part -> its blank lines after the header
    header_lines: dict[int, int]

    def position(self, part: int) -> Callable[[int], int]:
        """An event's position among the part's events (its implicit index), by line."""
        base = self.header_lines[part] + 1
        blanks = self.blanks[part]
        if not blanks:
            return lambda line: line - base
        return lambda line: line - base - bisect_right(blanks, line)


def layout(parts: list[Part], facts: dict[tuple[int, int], BlockFacts]) -> Layout:
    offsets: dict[tuple[int, int], int] = {}
    blanks: dict[int, array] = {}
    for (p, b) in sorted(facts):
        before = offsets.get((p, b - 1), 0) + facts[(p, b - 1)].lines if b else 0
        offsets[(p, b)] = before
        arr = blanks.setdefault(p, array("q"))
        arr.extend(before + x for x in facts[(p, b)].blanks)
    return Layout(offsets, blanks, {i: part.header_line for i, part in enumerate(parts)})


def whole_file_ok(parts: list[Part], facts: dict[tuple[int, int], BlockFacts]) -> bool:
    """True when the blocks' facts prove what only the whole file can tell: in each part
    times never decrease, and indices are unique across the parts. False means: ask
    :func:`whole_file_problems` (it may still find none)."""
    for p in range(len(parts)):
        t = -1
        for b in range(len([k for k in facts if k[0] == p])):
            f = facts[(p, b)]
            if not f.times_increase or (f.t_min is not None and f.t_min < t):
                return False
            t = max(t, f.t_max)
    all_facts = list(facts.values())
    if all(f.implicit == 0 for f in all_facts):
        spans = sorted((f.idx_first, f.idx_max) for f in all_facts if f.idx_first is not None)
        if not all(f.idx_increase for f in all_facts):
            return False
        return all(a[1] < b[0] for a, b in zip(spans, spans[1:]))
    # implicit positions are unique within one part when no event gives an index
    return len(parts) == 1 and all(f.idx_first is None and f.idx_increase for f in all_facts)


def whole_file_problems(parts: list[Part], header: Header) -> list[tuple[int, int, UserError]]:
    """Times that go back and indices used twice, read from the files themselves (one
    streaming pass, a bitmap of indices: no event is kept), worded as the reader words
    them. Returns ``(part, line, problem)``."""
    from gtcheck.checker.history import _IndexSet, duplicate_index

    seen = _IndexSet()
    dups: list[tuple[int, int, int, bool]] = []
    out: list[tuple[int, int, UserError]] = []
    for p, part in enumerate(parts):
        problems = EventProblems(part.path, header.regions)
        last, last_line = 0, 0
        position = 0
        for line_no, raw in _numbered_lines(part):
            if line_no <= part.header_line:
                continue
            if not raw or raw.isspace():
                continue
            pos, position = position, position + 1
            got = _process_of(raw)
            if got is None:
                continue
            proc, t, idx = got
            if type(t) is int and t >= 0:
                if t >= last:
                    last, last_line = t, line_no
                else:
                    problems.time_goes_back(line_no, t, last, last_line)
            if type(proc) is not int and type(proc) is not str:
                continue
            explicit = idx is not _NO_INDEX
            if not explicit:
                idx = pos
            if type(idx) is int and idx >= 0 and not seen.add(idx):
                dups.append((p, line_no, idx, explicit))
        out.extend((p, line, e) for line, e in problems.kept)
    if dups:
        wanted = {idx for _, _, idx, _ in dups}
        first: dict[int, tuple[int, int]] = {}
        for p, part in enumerate(parts):
            position = 0
            for line_no, raw in _numbered_lines(part):
                if line_no <= part.header_line or not raw or raw.isspace():
                    continue
                pos, position = position, position + 1
                got = _process_of(raw)
                if got is None or (type(got[0]) is not int and type(got[0]) is not str):
                    continue
                idx = pos if got[2] is _NO_INDEX else got[2]
                if type(idx) is int and idx in wanted and idx not in first:
                    first[idx] = (p, line_no)
        for p, line_no, idx, explicit in dups:
            problems = Problems(parts[p].path)
            fp, fl = first.get(idx, (p, "?"))
            duplicate_index(problems, line_no, idx,
                            fl if fp == p else f"{fl} of {parts[fp].path}", explicit)
            out.extend((p, line, e) for line, e in problems.kept)
    return out


def _numbered_lines(part: Part) -> Iterator[tuple[int, bytes]]:
    from gtcheck.kernel.files import open_binary

    with open_binary(part.path) as fh:
        yield from enumerate(fh, 1)


# --------------------------------------------------------------------------- stage 2

@dataclass
class BucketFacts:
    """What the readers of one bucket tell: the summed stats, the fault events, the
    problems (``(part, line, problem)``, the first of each reader), the processes."""

    operations: int = 0
    pending: int = 0
    processes: int = 0
    per_f: dict[str, Counter] = field(default_factory=dict)
    nemesis: list[tuple[int, NemesisEvent]] = field(default_factory=list)
    problems: list[tuple[int, int, UserError]] = field(default_factory=list)
    problem_count: int = 0
    cpu_s: float = 0.0


def pair_bucket(parts: list[Part], lay: Layout, n_shards: int, blocks: list[tuple[int, int]],
                *pieces: tuple[list[bytes], array]) -> tuple[BucketFacts, list[list[bytes]]]:
    """Validate and pair the lines of one bucket (``pieces``: the bucket's lines of each
    block, the blocks ``(part, block)`` in ``blocks``); per key shard, its operations as
    tuples (the fields, then the part), pickled here, a few at a time (:data:`PACK_OPS`):
    building millions of objects while the garbage collector runs (as Dask would,
    unpickling a task's arguments) costs ten times more than with it paused."""
    from gtcheck.checker.history import HistoryReader

    c0 = time.process_time()
    was = gc.isenabled()
    gc.disable()
    try:
        facts = BucketFacts()
        shards: list[list[tuple]] = [[] for _ in range(n_shards)]
        packed: list[list[bytes]] = [[] for _ in range(n_shards)]
        pack_at = max(1, PACK_OPS // n_shards)
        owner: dict[Any, int] = {}
        by_part: dict[int, list] = defaultdict(list)
        for (p, b), piece in zip(blocks, pieces):
            by_part[p].append((b, piece))
        for p in sorted(by_part):
            part = parts[p]
            reader = HistoryReader.of_lines(part.path, part.header_line, part.header_raw,
                                            _lines_of(lay, p, by_part[p]), lay.position(p))
            try:
                for op in reader.operations():
                    k = shard_of(op.key, n_shards)
                    lst = shards[k]
                    lst.append(_to_tuple(op) + (p,))
                    if len(lst) >= pack_at:
                        packed[k].append(_pack(lst))
                        shards[k] = []
            except UserError:
                pass                                   # its problems are in reader.problems
            stats = reader.stats
            facts.operations += stats["operations"]
            facts.pending += stats["pending"]
            facts.processes += stats["processes"]
            for f, c in stats["per_f"].items():
                facts.per_f.setdefault(f, Counter()).update(c)
            facts.nemesis.extend((p, ev) for ev in reader.nemesis)
            facts.problems.extend((p, line, e) for line, e in reader.problems.kept)
            facts.problem_count += reader.problems.count
            if len(by_part) > 1:
                for proc in reader.processes_seen:
                    if owner.setdefault(proc, p) != p:
                        problems = Problems(part.path)
                        problems.add(0, f"process {proc!r} has events in two parts, "
                                     f"{parts[owner[proc]].path} and {part.path}",
                                     "each recorder writes its own processes: give the "
                                     "processes of different machines different names")
                        facts.problems.extend((p, 0, e) for _, e in problems.kept)
                        facts.problem_count += 1
        for k, lst in enumerate(shards):
            if lst:
                packed[k].append(_pack(lst))
        facts.cpu_s = time.process_time() - c0
        return facts, packed
    finally:
        if was:
            gc.enable()


def _lines_of(lay: Layout, p: int, blocks: list[tuple[int, tuple[list[bytes], array]]]
              ) -> Iterator[tuple[int, bytes]]:
    for b, (segments, nums) in sorted(blocks, key=operator.itemgetter(0)):
        off = lay.offsets[(p, b)]
        numbers = iter(nums)
        for blob in segments:
            for raw, n in zip(zlib.decompress(blob).split(b"\n"), numbers):
                yield off + n, raw


def _pack(ops: list[tuple]) -> bytes:
    import pickle   # only the pieces path: a plain check's start-up stays without it

    return zlib.compress(pickle.dumps(ops, protocol=pickle.HIGHEST_PROTOCOL), PACK)


def bucket_facts(paired: tuple[BucketFacts, list]) -> BucketFacts:
    return paired[0]


def bucket_shard(paired: tuple[BucketFacts, list], shard: int) -> list[bytes]:
    return paired[1][shard]


# --------------------------------------------------------------------------- stage 3

@dataclass
class ShardFacts:
    keys: int = 0
    ops: int = 0
    problems: list[tuple[int, int, UserError]] = field(default_factory=list)
    problem_count: int = 0
    cpu_s: float = 0.0


def judge_shard(parts: list[Part], header: Header, options: CheckOptions,
                *lists: list[bytes]) -> tuple[ShardFacts, ShardResult | None]:
    """Judge the keys of one shard (``lists``: its operations from every bucket, in
    pickled (zlib) lists of tuples of the operation's fields and its part): first the repeated writes of
    each key, then ``checker.shard.check_groups``, the local engine's judging."""
    import pickle   # only the pieces path: a plain check's start-up stays without it
    from gtcheck.checker.history import RepeatedWrites

    c0 = time.process_time()
    was = gc.isenabled()
    gc.disable()
    try:
        facts = ShardFacts()
        by_key: dict[str, list[Operation]] = defaultdict(list)
        part_of: dict[int, int] = {}
        several = len(parts) > 1
        for blob in (blob for segments in lists for blob in segments):
            for t in pickle.loads(zlib.decompress(blob)):
                op = Operation(*t[:-1])
                by_key[op.key].append(op)
                if several:
                    part_of[id(op)] = t[-1]
        facts.ops = sum(len(v) for v in by_key.values())
        facts.keys = len(by_key)
        repeats = RepeatedWrites(header)
        problems = [EventProblems(part.path, header.regions) for part in parts]
        for key in sorted(by_key):
            writes = [(part_of.get(id(op), 0), op.complete_line, op) for op in by_key[key]
                      if op.outcome == "ok" and op.f != "read" and op.complete_line]
            writes.sort(key=operator.itemgetter(0, 1))
            for p, line, op in writes:
                at = f"{line} of {parts[p].path}" if several else None
                repeats.bad(problems[p], line, key, op.ts, op.origin, op.region, op.value, at=at)
        for p, pr in enumerate(problems):
            facts.problems.extend((p, line, e) for line, e in pr.kept)
            facts.problem_count += pr.count
        if facts.problem_count:
            facts.cpu_s = time.process_time() - c0
            return facts, None
        res = check_groups(header, by_key, options)
        facts.cpu_s = time.process_time() - c0
        return facts, res
    finally:
        if was:
            gc.enable()


def shard_facts(judged: tuple[ShardFacts, ShardResult | None]) -> ShardFacts:
    return judged[0]


# --------------------------------------------------------------------------- the run

class Inline:
    """Runs each stage at once in this process (the local engine, for a history in parts)."""

    workers = 1

    def submit(self, fn: Callable, *args: Any) -> Any:
        return fn(*args)

    def submit_on(self, turn: int, fn: Callable, *args: Any) -> Any:
        return fn(*args)

    def gather(self, handles: list) -> list:
        return list(handles)

    def cancel(self, handles: Any) -> None:
        """Nothing runs later: nothing to cancel."""


def run(parts: list[Part], header: Header, options: CheckOptions, ex: Any,
        progress: Callable[[str], None] | None = None) -> list[PartResult]:
    """Check the history made of ``parts`` through the executor ``ex`` (:class:`Inline`,
    or ``checker.dask_engine.Tasks``); the parts' results, for ``checker.check`` to merge
    as it merges the local engine's. Bad input raises :class:`ManyUserErrors` (254)."""
    t0, c0 = time.perf_counter(), time.process_time()
    say = progress or (lambda _msg: None)
    cut = plan(parts, ex.workers)
    n_buckets = cut.buckets
    n_shards = 1 if header.meta.get("register") is True else cut.shards
    routed: dict[tuple[int, int], Any] = {}
    for p, part in enumerate(parts):
        for b, (start, end) in enumerate(cut.ranges(part)):
            routed[(p, b)] = ex.submit(route_block, part.path, start, end,
                                       part.header_line if b == 0 else 0, n_buckets)
    say(f"reading {len(parts)} file(s) in {len(routed)} blocks, {n_buckets} process buckets")
    keys = list(routed)
    facts = dict(zip(keys, ex.gather([ex.submit(block_facts, routed[k]) for k in keys])))
    lay = layout(parts, facts)
    paired = []
    for j in range(n_buckets):
        pieces = [ex.submit(block_bucket, routed[k], j) for k in keys]
        paired.append(ex.submit_on(j, pair_bucket, parts, lay, n_shards, keys, *pieces))
    del routed            # the blocks' data is dropped once their buckets are paired
    whole_ok = whole_file_ok(parts, facts)
    bfacts: list[BucketFacts] = ex.gather([ex.submit(bucket_facts, h) for h in paired])
    t_read = time.perf_counter() - t0
    say(f"pairing done: {sum(f.operations for f in bfacts):,} operations; judging "
        f"{n_shards} key shards")
    judged = [ex.submit_on(k, judge_shard, parts, header, options,
                           *[ex.submit(bucket_shard, h, k) for h in paired])
              for k in range(n_shards)]
    del paired
    problems = [q for f in bfacts for q in f.problems]
    count = sum(f.problem_count for f in bfacts)
    if not whole_ok:
        more = whole_file_problems(parts, header)
        problems += more
        count += len(more)
    results = ex.gather(judged) if not count else []
    for sf, _ in results:
        problems += sf.problems
        count += sf.problem_count
    if count:
        ex.cancel(judged)
        raise _problems_error(parts, problems, count)
    out = [PartResult(result=res, check_cpu_s=sf.cpu_s, ops=sf.ops) for sf, res in results]
    first = out[0]
    first.header = header
    first.nemesis = [ev for _, ev in sorted(
        ((p, ev) for f in bfacts for p, ev in f.nemesis), key=lambda pe: (pe[0], pe[1].line))]
    first.stats = _stats(parts, header, facts, bfacts, sum(sf.keys for sf, _ in results),
                         len(first.nemesis))
    first.read_s = t_read
    stages = {"route": sum(f.cpu_s for f in facts.values()),
              "pair": sum(f.cpu_s for f in bfacts),
              "judge": sum(p.check_cpu_s for p in out),
              "client": time.process_time() - c0}
    first.stats["stages_cpu_s"] = {k: round(v, 3) for k, v in stages.items()}
    first.read_cpu_s = stages["route"] + stages["pair"]
    return out


def _stats(parts: list[Part], header: Header, facts: dict[tuple[int, int], BlockFacts],
           bfacts: list[BucketFacts], keys: int, nemesis: int) -> dict[str, Any]:
    """The reader's ``stats`` of the whole history, summed from its pieces."""
    per_f: dict[str, dict[str, int]] = {}
    for f in bfacts:
        for name, c in f.per_f.items():
            mine = per_f.setdefault(name, {"ok": 0, "fail": 0, "info": 0})
            for k, v in c.items():
                mine[k] += v
    events = sum(f.events - f.invalid for f in facts.values())
    firsts = [p.first_time for p in parts if p.first_time is not None]
    return {
        "file": parts[0].path if len(parts) == 1 else os.path.dirname(parts[0].path),
        "format": "gt",
        "events": events,
        "operations": sum(f.operations for f in bfacts),
        "pending": sum(f.pending for f in bfacts),
        "keys": keys,
        "processes": sum(f.processes for f in bfacts),
        "regions": list(header.regions),
        "mode": header.mode,
        "nemesis": nemesis,
        "per_f": dict(sorted(per_f.items())),
        "first_time": min(firsts) if firsts else None,
        "last_time": max(f.t_max for f in facts.values()) if events else None,
    }


def _problems_error(parts: list[Part], problems: list[tuple[int, int, UserError]],
                    count: int) -> ManyUserErrors:
    """Every piece's problems as one error, in file order, the first ones shown."""
    from gtcheck.checker.event_checks import MAX_SHOWN_ERRORS

    problems.sort(key=operator.itemgetter(0, 1))
    kept = [e for _, _, e in problems[:MAX_SHOWN_ERRORS]]
    if count > len(kept):
        kept.append(UserError(f"... and {count - len(kept)} more problems ({count} in all; "
                              f"the first {len(kept)} are shown)", where=parts[0].path))
    return ManyUserErrors(kept, limit=MAX_SHOWN_ERRORS + 1)
