"""The one JSON-lines writer and header builder (``kernel.jsonlines``): the model's sink and
the checker's ``write_history`` write through it, byte for byte the same; gzip output is
reproducible (mtime 0); numbers are never rounded."""

from __future__ import annotations

import gzip
import json
import os
import time

from hypothesis import given
from hypothesis import strategies as st

from gtcheck.checker.history import open_history, write_history
from gtcheck.kernel.jsonlines import JsonLinesWriter, history_header
from gtcheck.model.history_writer import JsonLinesWriter as ModelWriter

HEADER = history_header(["us-east-1", "eu-west-1"], settled_after_ns=10_000)
EVENTS = [
    {"index": 0, "type": "invoke", "process": 1, "region": "us-east-1", "f": "write",
     "key": "k", "value": {"v": 2**70}, "time": 1},
    {"index": 1, "type": "ok", "process": 1, "region": "us-east-1", "f": "write",
     "key": "k", "value": {"v": 2**70}, "time": 2, "ts": 1},
]


def test_the_model_and_the_checker_write_the_same_bytes(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    w = ModelWriter(str(a))
    for obj in [HEADER, *EVENTS]:
        w.write(obj)
    w.close()
    assert write_history(b, HEADER, EVENTS) == 2
    assert a.read_bytes() == b.read_bytes()
    assert b"1180591620717411303424" in a.read_bytes()          # 2**70, exactly
    with open_history(b) as r:
        (op,) = list(r.operations())
    assert op.value == {"v": 2**70}


def test_gzip_output_is_reproducible(tmp_path):
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    write_history(a, HEADER, EVENTS)
    time.sleep(1.1)                          # a different second: gzip would stamp it
    write_history(b, HEADER, EVENTS)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes()[4:8] == b"\0\0\0\0"    # the gzip header's mtime
    write_history(tmp_path / "plain.jsonl", HEADER, EVENTS)
    assert gzip.decompress(a.read_bytes()) == (tmp_path / "plain.jsonl").read_bytes()


def test_header_puts_the_typed_fields_first_and_leaves_unknowns_out():
    h = history_header(["r1"], mode="strong", clock_uncertainty_ns=None,
                       meta={"source": "x", "regions": ["ignored"], "initial": 0})
    assert list(h) == ["format", "version", "regions", "mode", "source", "initial"]
    assert h["regions"] == ["r1"] and h["format"] == "gt-history" and h["version"] == 1
    h = history_header(["r1"], ts_uncertainty_ns=5, settled_after_ns=7)
    assert list(h) == ["format", "version", "regions", "mode", "clock_uncertainty_ns",
                       "ts_uncertainty_ns", "settled_after_ns"]


@given(st.lists(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5),
                                max_size=4), max_size=20))
def test_every_object_reads_back_equal(objs):
    import io
    buf = io.BytesIO()
    w = JsonLinesWriter(buf)
    for o in objs:
        w.write(o)
    w.close()
    lines = buf.getvalue().splitlines()
    assert [json.loads(x) for x in lines] == objs and w.count == len(objs)


def test_dash_is_standard_output(capfdbinary):
    write_history("-", HEADER, EVENTS[:1])
    out = capfdbinary.readouterr().out
    assert out.splitlines()[0] == json.dumps(HEADER, separators=(",", ":")).encode()
    assert not os.path.exists("-")
