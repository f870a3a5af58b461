"""EDN reading/writing, Jepsen importers, `gtcheck convert` and round trips."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtcheck.kernel import edn, jepsen
from gtcheck.kernel.edn import EdnError, EdnList, Keyword, Symbol, Tagged, kw
from gtcheck.checker.history import open_history, validate_file, write_history
from gtcheck.kernel.errors import EXIT_BAD_INPUT, UserError
from tests.clihelp import run_cli as run


from tests.anchors import ANCHOR_DATA as ANCHOR  # noqa: E402
from tests.anchors import needs_anchor_data as needs_anchor  # noqa: E402


# --------------------------------------------------------------------------- EDN reader

def test_edn_scalars():
    assert edn.loads("nil") is None
    assert edn.loads("true") is True and edn.loads("false") is False
    assert edn.loads("42") == 42 and edn.loads("-7") == -7 and edn.loads("+3") == 3
    assert edn.loads("12345678901234567890N") == 12345678901234567890
    assert edn.loads("1.5") == 1.5 and edn.loads("2.5M") == 2.5 and edn.loads("1e3") == 1000.0
    assert edn.loads("0x1F") == 31 and edn.loads("1/2") == 0.5 and edn.loads("2r101") == 5
    assert edn.loads(":ok") is kw("ok") and edn.loads(":ok") == Keyword("ok")
    assert edn.loads(":jepsen.a/b").name == "jepsen.a/b"
    assert edn.loads("foo") == Symbol("foo")
    assert edn.loads(r'"a \"q\" \\ \n \t \u00e9"') == 'a "q" \\ \n \t \u00e9'
    assert edn.loads(r"\a") == "a" and edn.loads(r"\newline") == "\n"


def test_edn_collections_comments_and_layout():
    text = """
    ; a Knossos-style history
    [{:process 0, :type :invoke, :f :read, :value nil}   ; trailing comment
     {:type :ok
      :value 3,
      :process 0 :f :read}
     (1 2) #{:a :b} #inst "2020-01-01" #_ {:skipped true} [[1 2] {:x [3]}]]
    """
    value = edn.loads(text)
    assert value[0] == {kw("process"): 0, kw("type"): kw("invoke"), kw("f"): kw("read"),
                        kw("value"): None}
    assert value[1][kw("value")] == 3 and value[1][kw("f")] is kw("read")
    assert isinstance(value[2], EdnList) and value[2] == [1, 2]
    assert value[3] == frozenset({kw("a"), kw("b")})
    assert value[4] == Tagged("inst", "2020-01-01")
    assert value[5] == [[1, 2], {kw("x"): [3]}]
    assert len(value) == 6


def test_edn_map_keys_that_are_vectors_become_tuples():
    assert edn.loads("{[1 2] :a}") == {(1, 2): kw("a")}


@pytest.mark.parametrize("text,message", [
    ("[1 2", "unclosed '['"),
    ("[1 2}", "'}' does not close the '['"),
    ("{:a}", "even number of forms"),
    ('"abc', "unclosed string"),
    ("1 2", "2 top-level forms"),
    ("", "no EDN form"),
    ("; only a comment", "no EDN form"),
    ("]", "nothing is open here"),
    ("[1 @]", "unexpected character '@'"),
    ("[12abc]", "bad number"),
    ('["x\\q"]', "unknown escape"),
])
def test_edn_errors_name_line_and_column(text, message):
    with pytest.raises(EdnError) as info:
        edn.loads(text, source="f.edn")
    assert message in info.value.message
    assert isinstance(info.value, UserError)


def test_edn_error_position_is_on_the_right_line():
    with pytest.raises(EdnError) as info:
        edn.loads("[{:a 1}\n {:b 2}\n {:c 3 :d}]", source="f.edn")
    assert info.value.message.startswith("EDN line 3, column 2:")
    assert info.value.where == "f.edn:3"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.integers(-10**40, 10**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_edn_round_trips_json_data(value):
    text = edn.dumps(edn.from_json(value))
    assert edn.to_json(edn.loads(text)) == value


def test_edn_dumps_shapes():
    assert edn.dumps({kw("a"): [1, None, True], "s": EdnList([2.0])}) == '{:a [1 nil true], "s" (2.0)}'
    assert edn.dumps(frozenset({1})) == "#{1}"
    assert edn.dumps(Tagged("inst", "x")) == '#inst "x"'
    with pytest.raises(TypeError):
        edn.dumps(object())


# --------------------------------------------------------------------------- importers

def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_knossos_import_rules(tmp_path):
    src = write_text(tmp_path / "k.edn", """[
      {:process 0, :type :invoke, :f :write, :value 1}
      {:process :nemesis, :type :info, :f :start, :value nil}
      {:process 1, :type :invoke, :f :read, :value 7}
      {:process 0, :type :ok, :f :write, :value 1, :time 99}
      {:process 1, :type :ok, :f :read, :value nil}
      {:process 2, :type :invoke, :f :cas, :value [1 2]}
      {:process 2, :type :info, :f :cas, :value [1 2], :error :timeout}
      {:process 3, :type :invoke, :f :read, :value nil}
      {:process 3, :type :fail, :f :read, :value nil}
      {:process 4, :type :invoke, :f :write, :value 3}
    ]""")
    header, events = jepsen.import_edn(src)
    assert header == {"format": "gt-history", "version": 1, "regions": ["jepsen"],
                      "mode": "strong", "register": True, "source": "jepsen-edn",
                      "initial": 0, "nil_read": "unconstrained", "source_file": "k.edn"}
    # nemesis dropped; time is the position; :time kept aside
    assert [ev["time"] for ev in events] == list(range(9))
    assert [ev["index"] for ev in events] == list(range(9))
    assert events[2]["jepsen_time"] == 99
    # a read's invocation carries null whatever Jepsen wrote
    assert events[1]["value"] is None and events[1]["f"] == "read"
    # Knossos: a nil read is unconstrained -> an info completion that says so
    assert events[3]["type"] == "info" and events[3]["unconstrained"] is True
    assert events[5] == {"index": 5, "type": "info", "process": 2, "value": [1, 2], "time": 5,
                         "jepsen_error": "timeout"} or events[5]["error"] == "timeout"
    with open_history(src) as reader:
        ops = {op.index: op for op in reader.operations()}
    assert ops[0].outcome == "ok" and ops[0].value == 1 and ops[0].key == "r"
    assert ops[1].outcome == "info" and ops[1].extra == {"unconstrained": True}
    assert ops[4].outcome == "info" and ops[4].value == 2
    assert ops[6].outcome == "fail"
    assert ops[8].outcome == "info" and ops[8].complete_time is None  # never completed


def test_edn_key_initial_and_region_options(tmp_path):
    src = write_text(tmp_path / "k.edn", "[{:process 0 :type :invoke :f :write :value 1}]")
    header, events = jepsen.import_edn(src, key="reg", initial=None, region="dc1",
                                           nil_read="absent")
    assert header["initial"] is None and header["regions"] == ["dc1"]
    assert events[0]["key"] == "reg" and events[0]["region"] == "dc1"


def test_etcd_log_import_rules(tmp_path):
    src = write_text(tmp_path / "e.log", "\n".join([
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil",
        "some other log output",
        "INFO  jepsen.util - 0\t:ok\t:read\tnil",
        "INFO  jepsen.util - 1\t:invoke\t:write\t4",
        "INFO  jepsen.util - :nemesis\t:info\t:start\tnil",
        "INFO  jepsen.util - 1\t:info\t:write\t:timed-out",
        "2017-01-01 INFO  jepsen.util - 7\t:invoke\t:cas\t[4 2]",
        "INFO  jepsen.util - 7\t:fail\t:cas\t[4 2]",
    ]) + "\n")
    header, events = jepsen.import_log(src)
    assert header["initial"] is None and header["nil_read"] == "absent"
    assert header["source"] == "jepsen-log" and header["skipped_lines"] == 1
    assert len(events) == 6
    assert events[1] == {"index": 1, "type": "ok", "process": 0, "value": None, "time": 1}
    assert events[3]["type"] == "info" and events[3]["value"] == 4
    assert events[3]["error"] == "timed-out"
    assert events[4]["value"] == [4, 2] and events[5]["type"] == "fail"
    with open_history(src) as reader:
        ops = list(reader.operations())
    assert [(o.f, o.outcome) for o in ops] == [("read", "ok"), ("write", "info"), ("cas", "fail")]


def test_import_errors_are_user_errors(tmp_path):
    bad_f = write_text(tmp_path / "a.edn", "[{:process 0 :type :invoke :f :add :value 1}]")
    with pytest.raises(UserError, match="cannot import :f :add"):
        jepsen.import_edn(bad_f)
    orphan = write_text(tmp_path / "b.edn", "[{:process 0 :type :ok :f :read :value 1}]")
    with pytest.raises(UserError, match="completes nothing"):
        jepsen.import_edn(orphan)
    twice = write_text(tmp_path / "c.edn", "[{:process 0 :type :invoke :f :read :value nil}"
                                           " {:process 0 :type :invoke :f :read :value nil}]")
    with pytest.raises(UserError, match="invokes again"):
        jepsen.import_edn(twice)
    broken = write_text(tmp_path / "d.edn", "[{:process 0 :type :invoke\n :f :read :value nil]")
    with pytest.raises(EdnError, match="EDN line 2"):
        jepsen.import_edn(broken)
    empty_log = write_text(tmp_path / "e.log", "nothing here\n")
    with pytest.raises(UserError, match="no operation lines"):
        jepsen.import_log(empty_log)


def test_independent_values_are_detected(tmp_path):
    src = write_text(tmp_path / "i.edn", """[
      {:process 0 :type :invoke :f :write :value [5 1]}
      {:process 1 :type :invoke :f :read :value [6 nil]}
      {:process 0 :type :ok :f :write :value [5 1]}
      {:process 1 :type :ok :f :read :value [6 2]}
      {:process 2 :type :invoke :f :cas :value [5 [1 3]]}
    ]""")
    _, events = jepsen.import_edn(src)
    assert [ev.get("key") for ev in events] == ["5", "6", None, None, "5"]
    assert events[3]["value"] == 2 and events[4]["value"] == [1, 3]
    # a plain register whose cas values look like pairs is not independent
    plain = write_text(tmp_path / "p.edn", "[{:process 0 :type :invoke :f :cas :value [1 2]}"
                                           " {:process 1 :type :invoke :f :read :value nil}]")
    _, events = jepsen.import_edn(plain)
    assert events[0]["key"] == "r" and events[0]["value"] == [1, 2]


# --------------------------------------------------------------------------- round trips

def generated_history(n_ops: int = 40):
    regions = ["us-east-1", "eu-west-1"]
    header = {"format": "gt-history", "version": 1, "regions": regions, "mode": "eventual",
              "settled_after_ns": 10_000, "seed": 7, "source": "test"}
    events = []
    t = 0
    for i in range(n_ops):
        p = i % 3 if i % 5 else "ttl"
        region = regions[i % 2]
        key = f"user#{i % 4}"
        t += 10
        if p == "ttl":
            events.append({"type": "invoke", "process": p, "region": region, "f": "delete",
                           "key": key, "value": None, "time": t})
            events.append({"type": "ok", "process": p, "time": t + 1, "ts": t, "origin": region})
        elif i % 3 == 0:
            events.append({"type": "invoke", "process": p, "region": region, "f": "read",
                           "key": key, "value": None, "consistent": bool(i % 2), "time": t})
            events.append({"type": "ok", "process": p, "value": {"v": i, "tags": ["x"]},
                           "time": t + 2})
        elif i % 3 == 1:
            events.append({"type": "invoke", "process": p, "region": region, "f": "update",
                           "key": key, "value": {"set": {"v": i}, "remove": ["tmp"]},
                           "time": t, "txn": "t1"})
            events.append({"type": "ok", "process": p, "region": region, "f": "update",
                           "key": key, "value": {"v": i, "n": 1.5}, "time": t + 3, "ts": t})
        else:
            events.append({"type": "invoke", "process": p, "region": region, "f": "cas",
                           "key": key, "value": [None, {"v": i, "s": "a \"q\""}], "time": t,
                           "condition": {"attribute_not_exists": "id"}})
            events.append({"type": "info", "process": p, "time": t + 4,
                           "error": "timeout"})
        if i == 20:
            events.append({"type": "info", "process": "nemesis", "f": "partition",
                           "value": {"isolate": ["eu-west-1"]}, "time": t + 5})
    # an ok write whose completion omits the value (it is the invocation's)
    events.append({"type": "invoke", "process": 9, "region": "eu-west-1", "f": "write",
                   "key": "user#1", "value": {"v": "last"}, "time": t + 10})
    events.append({"type": "ok", "process": 9, "time": t + 11})
    return header, events


def operations_of(path, fmt="auto"):
    with open_history(path, fmt) as reader:
        return list(reader.operations()), reader.nemesis, reader.header


def test_gt_to_edn_and_back_is_equivalent(tmp_path, capsys):
    header, events = generated_history()
    src = write_history(tmp_path / "h.jsonl", header, events) and tmp_path / "h.jsonl"
    code, _, err = run(["convert", str(src), str(tmp_path / "h.edn")], capsys)
    assert code == 0, err
    text = (tmp_path / "h.edn").read_text()
    assert text.startswith("; gt-history {")
    assert ':value ["user#1" {"set" {"v" 1}, "remove" ["tmp"]}]' in text
    assert "{:process :nemesis, :type :info, :f :partition" in text
    code, _, err = run(["convert", str(tmp_path / "h.edn"), str(tmp_path / "back.jsonl")], capsys)
    assert code == 0, err
    before = operations_of(src)
    after = operations_of(tmp_path / "back.jsonl")
    assert after == before
    assert after[2].meta == header


def test_gt_to_edn_and_back_preserves_the_file_when_completions_name_f_and_key(tmp_path):
    header, events = generated_history(12)
    for ev in events:  # completions that repeat f, key and region, as the model writes them
        if ev["type"] != "invoke" and ev.get("process") != "nemesis":
            ev.setdefault("f", None)
    inflight = {}
    for ev in events:
        if ev.get("process") == "nemesis":
            continue
        if ev["type"] == "invoke":
            inflight[ev["process"]] = ev
        else:
            inv = inflight.pop(ev["process"])
            ev.update(f=inv["f"], key=inv["key"], region=inv["region"])
    src = tmp_path / "h.jsonl"
    write_history(src, header, events)
    lines = list(jepsen.export_edn(header, events))
    (tmp_path / "h.edn").write_text("\n".join(lines) + "\n")
    h2, ev2 = jepsen.import_edn(tmp_path / "h.edn")
    assert h2 == header

    def norm(ev):  # EDN always has a :value, so a completion without one comes back null
        if ev["type"] != "invoke" and ev.get("value", 0) is None:
            ev = {k: v for k, v in ev.items() if k != "value"}
        return dict(sorted(ev.items()))

    assert [norm(e) for e in ev2] == [norm(e) for e in events]


def test_edn_to_gt_to_edn_keeps_operations(tmp_path, capsys):
    src = write_text(tmp_path / "k.edn", """[
      {:process 0, :type :invoke, :f :write, :value 1}
      {:process 0, :type :ok, :f :write, :value 1}
      {:process 1, :type :invoke, :f :read, :value nil}
      {:process 1, :type :ok, :f :read, :value 1}]""")
    assert run(["convert", str(src), str(tmp_path / "a.jsonl")], capsys)[0] == 0
    assert run(["convert", str(tmp_path / "a.jsonl"), str(tmp_path / "b.edn")], capsys)[0] == 0
    assert run(["convert", str(tmp_path / "b.edn"), str(tmp_path / "c.jsonl")], capsys)[0] == 0
    assert (tmp_path / "a.jsonl").read_bytes().splitlines()[0] == \
        (tmp_path / "c.jsonl").read_bytes().splitlines()[0]
    assert operations_of(tmp_path / "a.jsonl")[0] == operations_of(tmp_path / "c.jsonl")[0]


# --------------------------------------------------------------------------- the command

def test_convert_options_and_errors(tmp_path, capsys):
    src = write_text(tmp_path / "k.edn", "[{:process 0 :type :invoke :f :read :value nil}"
                                         " {:process 0 :type :ok :f :read :value nil}]")
    out = tmp_path / "o.jsonl"
    code, _, err = run(["convert", str(src), str(out), "--key", "x", "--initial", "null",
                        "--nil-read", "absent"], capsys)
    assert code == 0, err
    header = orjson.loads(out.read_bytes().splitlines()[0])
    assert header["initial"] is None and header["nil_read"] == "absent"
    ops = operations_of(out)[0]
    assert ops[0].key == "x" and ops[0].outcome == "ok" and ops[0].value is None
    code, _, err = run(["convert", str(src), str(out), "--initial", "{bad"], capsys)
    assert code == EXIT_BAD_INPUT and "--initial takes a JSON value" in err
    code, _, err = run(["convert", str(out), str(tmp_path / "p.jsonl"), "--key", "y"], capsys)
    assert code == EXIT_BAD_INPUT and "apply to Jepsen inputs only" in err
    code, _, err = run(["convert", str(tmp_path / "missing.edn"), str(out)], capsys)
    assert code == EXIT_BAD_INPUT and "no such file" in err


def test_convert_of_invalid_history_writes_nothing(tmp_path, capsys):
    src = Path(__file__).parents[1] / "data" / "malformed" / "equal_values.jsonl"
    out = tmp_path / "o.edn"
    code, _, err = run(["convert", str(src), str(out)], capsys)
    assert code == EXIT_BAD_INPUT and 'line 5, field "value"' in err
    assert list(tmp_path.iterdir()) == []


def test_convert_to_stdout(tmp_path, capsys):
    src = write_text(tmp_path / "k.edn", "[{:process 0 :type :invoke :f :write :value 2}]")
    code, out, err = run(["convert", str(src), "-"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert json.loads(lines[0])["format"] == "gt-history" and len(lines) == 2
    assert "1 events, 1 operations" in err


@needs_anchor
def test_all_anchor_files_convert_and_validate(tmp_path):
    files = sorted(ANCHOR.glob("knossos-cas-register/*/*.edn")) + sorted(
        ANCHOR.glob("porcupine-etcd/*.log"))
    assert len(files) == 171
    verdicts = {}
    for line in (ANCHOR / "VERDICTS.tsv").read_text().splitlines()[1:]:
        name, verdict = line.split("\t")[:2]
        verdicts[name] = verdict
    assert len(verdicts) == 171
    totals = {"events": 0, "info": 0}
    for path in files:
        header, events = jepsen.import_history(path)
        out = tmp_path / (path.stem + ".jsonl")
        write_history(out, header, events)
        stats = validate_file(out)
        assert stats["keys"] <= 1 and stats["mode"] == "strong"
        totals["events"] += stats["events"]
        totals["info"] += sum(c["info"] for c in stats["per_f"].values())
    assert totals["events"] > 40_000
    assert totals["info"] > 1000  # the etcd timeouts stay unknown, not dropped


@needs_anchor
def test_anchor_traps(tmp_path):
    # :fail stays fail (immediate-failure must not pass by treating it as maybe-happened)
    with open_history(ANCHOR / "knossos-cas-register/bad/immediate-failure.edn") as reader:
        ops = list(reader.operations())
    assert [(o.f, o.outcome, o.value) for o in ops] == [
        ("write", "fail", 3), ("read", "ok", 3)]
    assert reader.header.initial == 0
    # :time out of file order is ignored for ordering
    with open_history(ANCHOR / "knossos-cas-register/bad/rethink-fail-smaller.edn") as reader:
        ops = list(reader.operations())
    assert all(o.extra and "jepsen_time" in o.extra for o in ops)
    # etcd: nil reads are "absent", timeouts are info writes/cas that never complete
    with open_history(ANCHOR / "porcupine-etcd/etcd_000.log") as reader:
        ops = list(reader.operations())
    assert reader.header.initial is None
    assert any(o.f == "read" and o.outcome == "ok" and o.value is None for o in ops)


def test_unwritable_target_is_bad_input(tmp_path):
    import subprocess, sys
    src = tmp_path / "h.edn"
    src.write_text("[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok :f :write :value 1}]\n")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "gtcheck", "convert", str(src), str(blocker / "out.jsonl")],
                          capture_output=True, text=True)
    assert proc.returncode == 254 and "cannot write the output" in proc.stderr
