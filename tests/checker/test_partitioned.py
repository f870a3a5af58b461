"""A history checked in pieces (``checker.partitioned``): read in blocks, shuffled by process
to pair, by key to judge. Run in this process (the local engine's way with a history in
parts), with blocks and buckets made tiny so that every history is cut into many of each:
the same summary, reads and refusals as the reader of the whole file; histories in parts."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from gtcheck.checker import partitioned
from gtcheck.checker.check import check_history
from gtcheck.kernel.errors import UserError
from tests.simulated import simulate_small

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = ROOT / "histories"


SHIPPED = {"BLOCK_BYTES": partitioned.BLOCK_BYTES, "BUCKET_BYTES": partitioned.BUCKET_BYTES}


@pytest.fixture(autouse=True)
def tiny_pieces(monkeypatch):
    """Blocks of 2 kB, buckets of 4 kB, chunks of 1 kB, operations packed a few at a
    time: a few hundred lines of history make many of each."""
    monkeypatch.setattr(partitioned, "BLOCK_BYTES", 2048)
    monkeypatch.setattr(partitioned, "BUCKET_BYTES", 4096)
    monkeypatch.setattr(partitioned, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(partitioned, "PACK_OPS", 64)


def comparable(summary: dict) -> dict:
    """The summary without how it was run (timing, jobs) and where it was read from."""
    s = copy.deepcopy(summary)
    s.pop("timing")
    s["options"].pop("jobs")
    s["history"].pop("path")
    return s


def as_parts(src: Path, directory: Path, n: int = 1, delta: int | None = None) -> Path:
    """The history ``src`` as ``n`` part files (each process's events in one part, fault
    events in the first, every event with its index), with ``delta`` as its clock
    uncertainty; returns the directory."""
    directory.mkdir()
    lines = src.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    if delta is not None:
        header["clock_uncertainty_ns"] = delta
    files = [[json.dumps(header)] for _ in range(n)]
    procs: dict = {}
    for i, line in enumerate(lines[1:]):
        if not line.strip():
            continue
        ev = json.loads(line)
        ev.setdefault("index", i)
        p = 0 if ev["process"] == "nemesis" else procs.setdefault(ev["process"], len(procs) % n)
        files[p].append(json.dumps(ev))
    for k, part in enumerate(files):
        (directory / f"host-{k}.jsonl").write_text("\n".join(part) + "\n", encoding="utf-8")
    return directory


def with_delta(src: Path, dst: Path, delta: int) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["clock_uncertainty_ns"] = delta
    dst.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    return dst


def _examples() -> list[Path]:
    return sorted((HISTORIES / "anomalies").glob("*.jsonl")) + \
        sorted(p for p in (HISTORIES / "catalogue").glob("*.jsonl")
               if not p.name.endswith(".truth.jsonl")) + \
        sorted((HISTORIES / "lost-writes").glob("*.jsonl"))


def check_both(whole: Path, pieces: Path, **kw):
    """The whole-file reader's answer and the pieces' one (or both refusals)."""
    kw = dict(keep_reads=True, staleness_bound_ns=500_000_000) | kw
    try:
        local = check_history(whole, jobs=1, **kw)
    except UserError as exc:
        with pytest.raises(UserError) as info:
            check_history(pieces, **kw)
        return exc, info.value
    return local, check_history(pieces, **kw)


@pytest.mark.parametrize("hist", _examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_one_part_in_many_blocks_gives_the_readers_answer(tmp_path, hist):
    d = tmp_path / "one"
    d.mkdir()
    (d / hist.name).write_bytes(hist.read_bytes())
    local, pieces = check_both(hist, d)
    if isinstance(local, UserError):
        assert str(pieces) == str(local).replace(str(hist), str(d / hist.name))
        return
    assert comparable(pieces.summary) == comparable(local.summary)
    assert pieces.reads == local.reads and pieces.final_state == local.final_state
    assert pieces.summary["timing"]["shards"] >= 2


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("gen")
    return [simulate_small(d, "eventual", 3), simulate_small(d, "strong", 4)]


def test_generated_histories_in_three_parts(tmp_path, generated):
    for hist in generated:
        whole = with_delta(hist, tmp_path / f"d-{hist.name}", 2_000_000)
        d = as_parts(hist, tmp_path / f"parts-{hist.stem}", 3, delta=2_000_000)
        assert len(list(d.iterdir())) == 3
        local, pieces = check_both(whole, d, staleness_bound_ns=100_000_000)
        assert comparable(pieces.summary) == comparable(local.summary)
        assert pieces.reads == local.reads
        assert local.summary["history"]["counts"]["operations"] > 500
        assert len(pieces.nemesis) == len(local.nemesis) > 0


def test_a_gzip_part_is_read_like_a_plain_one(tmp_path, generated):
    d = tmp_path / "gz"
    d.mkdir()
    (d / "run.jsonl.gz").write_bytes(gzip.compress(generated[0].read_bytes()))
    local, pieces = check_both(generated[0], d)
    assert comparable(pieces.summary) == comparable(local.summary)


def _edit(src: Path, dst: Path, line_no: int, **fields) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    ev = json.loads(lines[line_no - 1])
    ev.update(fields)
    lines[line_no - 1] = json.dumps(ev)
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


@pytest.mark.parametrize("what", ["time-goes-back", "index-twice", "implicit-index",
                                  "in-flight", "repeated-ts", "blank-lines"])
def test_bad_input_is_refused_in_the_readers_words(tmp_path, generated, what):
    """What only the whole file can tell (times, indices), what a process tells (an
    operation in flight) and what a key tells (a repeated write) are found with the
    history cut into pieces, and worded as the reader of the whole file words them."""
    src = generated[0]
    lines = src.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    if what == "time-goes-back":       # far from the start: in a later block
        _edit(src, bad, 400, time=json.loads(lines[10])["time"])
    elif what == "index-twice":
        _edit(src, bad, 500, index=json.loads(lines[20])["index"])
    elif what == "implicit-index":     # an event without index: its position, used before
        lines[600] = json.dumps({k: v for k, v in json.loads(lines[600]).items() if k != "index"})
        lines[50] = json.dumps(json.loads(lines[50]) | {"index": 600 - 1})
        bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif what == "in-flight":          # a completion turned into a second invocation
        i = next(i for i in range(200, 400) if json.loads(lines[i])["type"] == "ok"
                 and json.loads(lines[i])["process"] != "nemesis")
        _edit(src, bad, i + 1, type="invoke", key=json.loads(lines[i]).get("key", "k"),
              f="read", value=None)
    elif what == "repeated-ts":        # two ok writes of one key, far apart, with one ts
        writes = [i for i, line in enumerate(lines[1:], 1) if '"ts"' in line]
        first = json.loads(lines[writes[0]])
        j = next(i for i in writes[1:] if json.loads(lines[i]).get("key") == first.get("key"))
        _edit(src, bad, j + 1, ts=first["ts"], origin=first.get("origin", first["region"]))
    else:                              # blank lines shift positions, not indices
        lines = [lines[0]] + [x for line in lines[1:] for x in (line, "")]
        bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    d = tmp_path / "one"
    d.mkdir()
    (d / "bad.jsonl").write_bytes(bad.read_bytes())
    local, pieces = check_both(bad, d)
    if what == "blank-lines":
        assert comparable(pieces.summary) == comparable(local.summary)
        return
    assert isinstance(local, UserError), what
    assert local.exit_code == pieces.exit_code == 254
    assert str(pieces) == str(local).replace(str(bad), str(d / "bad.jsonl"))


def test_parts_must_agree(tmp_path, generated):
    src = generated[0]
    d = as_parts(src, tmp_path / "delta0", 2)            # the simulator's header: delta 0
    with pytest.raises(UserError, match="clock_uncertainty_ns above 0"):
        check_history(d)
    d = as_parts(src, tmp_path / "headers", 2, delta=1000)
    part = d / "host-1.jsonl"
    lines = part.read_text().splitlines()
    lines[0] = json.dumps(json.loads(lines[0]) | {"seed": 99})
    part.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match="header differs .* in seed"):
        check_history(d)
    d = as_parts(src, tmp_path / "shared", 2, delta=1000)
    one, two = (d / "host-0.jsonl"), (d / "host-1.jsonl")
    proc = json.loads(two.read_text().splitlines()[1])["process"]
    moved = [json.loads(x) for x in two.read_text().splitlines()[1:]]
    first = next(e for e in moved if e["process"] == proc and e["type"] == "invoke")
    done = next(e for e in moved if e["process"] == proc and e["index"] > first["index"])
    last_time = json.loads(one.read_text().splitlines()[-1])["time"]
    with open(one, "a") as f:     # the process's first operation again, later, in part 0
        for e in (first, done):
            f.write(json.dumps(e | {"index": e["index"] + 10**9, "time": last_time}) + "\n")
    with pytest.raises(UserError, match=f"process {proc!r} has events in two parts"):
        check_history(d)


def test_parts_without_indices_collide(tmp_path, generated):
    d = tmp_path / "noindex"
    d.mkdir()
    lines = generated[0].read_text().splitlines()
    header = json.dumps(json.loads(lines[0]) | {"clock_uncertainty_ns": 1000})
    evs = [{k: v for k, v in json.loads(x).items() if k != "index"} for x in lines[1:]]
    procs = sorted({str(e["process"]) for e in evs})
    for k in range(2):
        mine = [e for e in evs if (procs.index(str(e["process"])) % 2) == k]
        (d / f"p{k}.jsonl").write_text("\n".join([header] + [json.dumps(e) for e in mine]) + "\n")
    with pytest.raises(UserError, match="already used on line .* of .*p0.jsonl"):
        check_history(d)


def test_an_empty_directory_is_bad_input(tmp_path):
    with pytest.raises(UserError, match="holds no part file"):
        check_history(tmp_path)


# --------------------------------------------------------------------------- the plan
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_lines = st.lists(st.text(alphabet='{}"ab \t\ré', max_size=12).map(str.encode), max_size=30)


@settings(max_examples=300, deadline=None)
@given(lines=_lines, newline_at_end=st.booleans(), cuts=st.lists(st.integers(0, 400), max_size=6),
       chunk=st.integers(1, 40), gz=st.booleans())
def test_every_line_is_in_exactly_one_range(tmp_path_factory, lines, newline_at_end, cuts,
                                            chunk, gz):
    """The law of ``read_range``: the ranges of any cut, read in order, give the file's
    lines once each and in order, each in the range its first byte is in, whatever the
    chunk size; a gzip file read whole gives the same lines."""
    import pytest as _pytest

    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    path = tmp_path_factory.mktemp("range") / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(data) if gz else data)
    with _pytest.MonkeyPatch.context() as mp:
        mp.setattr(partitioned, "CHUNK_BYTES", chunk)
        if gz:
            edges = [0, None]
        else:
            edges = sorted({0, len(data), *(c for c in cuts if c < len(data))})
        got: list[bytes] = []
        for start, end in zip(edges, edges[1:]):
            text = b"".join(partitioned.read_range(str(path), start, end))
            starts = [start] if text else []
            starts += [start + i + 1 for i, c in enumerate(text[:-1]) if c == 10]
            assert all(end is None or s < end for s in starts)    # each line begins here
            got.append(text)
    assert b"".join(got) == data


def _part(size: int, gz: bool = False) -> partitioned.Part:
    return partitioned.Part("p", 1, b"{}", None, gz, size)


@settings(max_examples=300, deadline=None)
@given(sizes=st.lists(st.integers(0, 2 << 40), min_size=1, max_size=5),
       workers=st.integers(1, 64), gz=st.lists(st.booleans(), min_size=5, max_size=5))
def test_the_plan_balances_and_bounds_the_tasks(sizes, workers, gz):
    """Buckets and shards: at least four per worker, multiples of the workers; shards at
    least the history's size over BUCKET_BYTES until the pieces would pass MAX_PIECES;
    blocks of a plain part about block_bytes (never below half of BLOCK_BYTES unless the
    part is smaller), covering it; pieces within MAX_PIECES unless the least buckets and
    shards alone pass it."""
    parts = [_part(s, g) for s, g in zip(sizes, gz)]
    cut = partitioned.plan(parts, workers)
    least = partitioned.BUCKETS_PER_WORKER * workers
    assert cut.buckets >= least and cut.buckets % workers == 0
    assert cut.shards >= least and cut.shards % workers == 0
    blocks = 0
    for part in parts:
        ranges = cut.ranges(part)
        blocks += len(ranges)
        if part.gzip or part.size == 0:
            assert ranges == [(0, None)]
            continue
        assert ranges[0][0] == 0 and ranges[-1][1] == part.size
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
        assert all(end - start <= 2 * cut.block_bytes for start, end in ranges)
    plain = sum(p.size for p in parts if not p.gzip)
    if plain:
        assert cut.block_bytes >= min(partitioned.BLOCK_BYTES, plain) // 2
    total = sum(p.size * (partitioned.GZIP_RATIO if p.gzip else 1) for p in parts)
    pieces = cut.buckets * (blocks + cut.shards)
    if pieces <= partitioned.MAX_PIECES:     # shards of BUCKET_BYTES, unless they make too many
        wanted = -(-max(least, -(-total // partitioned.BUCKET_BYTES)) // workers) * workers
        assert cut.shards >= wanted or least * (blocks + wanted) > partitioned.MAX_PIECES
    else:
        assert pieces <= 2 * partitioned.MAX_PIECES or cut.buckets == cut.shards == least


def test_the_plan_at_the_cost_models_sizes(monkeypatch):
    """The figures the README's cost model uses (the shipped sizes): 2.7 GB on 2 workers
    keeps the smallest pieces; 130 GB (1B events) on 32 workers grows the blocks and has
    fewer buckets to stay within MAX_PIECES; its shards are 126 MB (64 MB ones would make
    too many pieces even with the least buckets)."""
    for name, value in SHIPPED.items():
        monkeypatch.setattr(partitioned, name, value)
    small = partitioned.plan([_part(2_681_004_492)], 2)
    assert small.buckets == small.shards == 40 and small.block_bytes <= partitioned.BLOCK_BYTES
    big = partitioned.plan([_part(130 << 30)], 32)
    blocks = len(big.ranges(_part(130 << 30)))
    assert big.buckets * (blocks + big.shards) <= partitioned.MAX_PIECES
    assert big.block_bytes > partitioned.BLOCK_BYTES and big.buckets % 32 == 0
    assert (130 << 30) / big.shards <= 2 * partitioned.BUCKET_BYTES
    assert big.buckets < big.shards
