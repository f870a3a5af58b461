"""Hostile EDN is refused with its line (issue 12): `convert` and `check` on an .edn file
exit 254 naming the file and the line, never 255 or a traceback; big integers are exact
both ways (reading, and `convert --to edn` writing)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from gtcheck.kernel import edn, jepsen
from gtcheck.kernel.edn import EdnError, kw
from gtcheck.kernel.errors import UserError
from tests.clihelp import run_cli

BIG = 123456789012345678901234567890


def _edn_file(tmp_path: Path, text: str | bytes, name: str = "h.edn") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def _history(value: str) -> str:
    """A small history whose third line carries ``value`` as a write's value."""
    return ("[{:process 0, :type :invoke, :f :read, :value nil}\n"
            " {:process 0, :type :ok, :f :read, :value 0}\n"
            f" {{:process 1, :type :invoke, :f :write, :value {value}}}\n"
            " {:process 1, :type :ok, :f :write, :value 1}]\n")


@pytest.mark.parametrize("value,message", [
    ("1/0", "a ratio's denominator cannot be 0"),
    ("8read", "'ead' is not a number in base 8"),   # one bit flip of :read
    ("37r1", "a radix is between 2 and 36"),
    ("0r0", "a radix is between 2 and 36"),
    ("##NaN", "##NaN cannot be read into a history"),
    ("##Inf", "##Inf cannot be read into a history"),
    ("##-Inf", "##-Inf cannot be read into a history"),
    ("1e400", "too large for a double"),
    ("1e999999999999999999999M", "exponent out of range"),
    ('"a\\ud800b"', "half of a surrogate pair"),
    ('"\\udc00"', "half of a surrogate pair"),
    ("\\ud800", "half of a surrogate pair"),
    ("9" * 5000, "is too long"),
    ("0x" + "f" * 5000, "is too long"),
    ("{:a 1 :a 2}", "repeats the key :a"),
    ("#{1 1}", "repeats the element 1"),
    ("[" * 200 + "]" * 200, "nested more than 100 levels"),
    ("#{" * 200 + "}" * 200, "nested more than 100 levels"),
])
@pytest.mark.parametrize("command", ["convert", "check"])
def test_bad_edn_is_refused_with_its_line(tmp_path, capsys, value, message, command):
    src = _edn_file(tmp_path, _history(value))
    args = ["convert", src, tmp_path / "out.jsonl"] if command == "convert" else ["check", src, "--jobs", "1"]
    code, _, err = run_cli(args, capsys)
    assert code == 254, err
    assert "Traceback" not in err and "internal error" not in err
    assert message in err
    assert f"{src}:3" in err and "EDN line 3" in err


def test_edn_reader_errors_name_line_and_column():
    with pytest.raises(EdnError) as info:
        edn.loads("[1\n  2 8read]", source="f.edn")
    assert info.value.message.startswith("EDN line 2, column 5:") and info.value.where == "f.edn:2"


def test_a_surrogate_pair_of_escapes_is_one_character():
    assert edn.loads('"\\ud83d\\ude00"') == "\U0001F600"
    assert edn.loads('"x\\uD83D\\uDE00y"') == "x\U0001F600y"


def test_big_integers_are_read_exactly():
    assert edn.loads(f"{BIG}N") == BIG and type(edn.loads(f"{BIG}N")) is int
    assert edn.loads(str(BIG)) == BIG and edn.loads(f"-{BIG}") == -BIG
    assert edn.loads(f"{BIG}/1") == BIG
    assert edn.loads(f"[{2**70} {2**70 + 1}]") == [2**70, 2**70 + 1]
    assert edn.loads("1.00000000000000000001M") == Decimal("1.00000000000000000001")


def test_big_integers_are_written_exactly():
    # beyond 64 bits with Clojure's N, as Clojure prints a BigInt; within, plain
    assert edn.dumps([BIG, -BIG, 2**63 - 1, -2**63, 2**63]) == (
        f"[{BIG}N -{BIG}N 9223372036854775807 -9223372036854775808 9223372036854775808N]")
    assert edn.dumps(Decimal("1.00000000000000000001")) == "1.00000000000000000001M"
    for v in (BIG, -BIG, 2**64, Decimal("0.1000000000000000000001")):
        assert edn.loads(edn.dumps(v)) == v


def test_big_integers_survive_the_import_exactly(tmp_path):
    src = _edn_file(tmp_path, "[{:process 0 :type :invoke :f :write :value 123456789012345678901234567890N}\n"
                              " {:process 0 :type :ok :f :write :value 123456789012345678901234567890N}\n"
                              " {:process 1 :type :invoke :f :read :value nil}\n"
                              " {:process 1 :type :ok :f :read :value 123456789012345678901234567891}]\n")
    _, events = jepsen.import_edn(src)
    assert [e.get("value") for e in events] == [BIG, BIG, None, BIG + 1]
    assert type(events[3]["value"]) is int


def test_big_integers_round_trip_through_convert(tmp_path, capsys):
    src = _edn_file(tmp_path, "[{:process 0 :type :invoke :f :write :value [7 123456789012345678901234567890N]}\n"
                              " {:process 0 :type :ok :f :write :value [7 123456789012345678901234567890N]}\n"
                              " {:process 1 :type :invoke :f :read :value [7 nil]}\n"
                              " {:process 1 :type :ok :f :read :value [7 123456789012345678901234567890]}]\n")
    gt = tmp_path / "h.jsonl"
    code, _, err = run_cli(["convert", src, gt], capsys)
    assert code == 0, err
    assert str(BIG) in gt.read_text() and "e+29" not in gt.read_text()
    back = tmp_path / "back.edn"
    code, _, err = run_cli(["convert", gt, back], capsys)
    assert code == 0, err
    assert f"{BIG}N" in back.read_text()
    _, events = jepsen.import_edn(back)
    assert [e["value"] for e in events] == [BIG, BIG, None, BIG]


@pytest.mark.parametrize("text,line,message", [
    ("[{:process 0 :type :invoke :f :read :value nil}\n\n  {:process 0 :type :ok :f :add :value 1}]",
     3, "operation #2 (line 3, column 3)"),
    ("[{:process 0 :type :invoke :f :read :value nil}\n {:process 0 :type :invoke :f :read :value nil}]",
     2, "invokes again"),
    ("; a comment\n[{:process 0 :type :invoke :f :read :value nil}\n 5]", 3, "expected an op map"),
    ("[{:process 0 :type :invoke :f :read :value nil}\n {:type :ok :f :read :value 1}]", 2, "has no :process"),
    ("{:process 1 :type :invoke :f :read :value nil}\n{:process 0 :type :ok :f :read :value 1}", 2,
     "completes nothing"),  # a bare sequence of maps: the top-level forms are cited
    ("[{:process 0 :type :invoke :f :read :value nil}\n {:process 1 :type :invoke :f :bogus :value 1}]", 2,
     "cannot import :f :bogus"),
    ("[{:process 0 :type :invoke :f :read :value nil}\n #inst \"x\"]", 2, "expected an op map"),
])
def test_import_errors_cite_the_edn_line(tmp_path, text, line, message):
    src = _edn_file(tmp_path, text)
    with pytest.raises(UserError) as info:
        jepsen.import_edn(src)
    assert message in info.value.message
    assert info.value.where == f"{src}:{line}"


def test_the_place_is_computed_only_for_errors(tmp_path):
    # the happy path never tokenises twice: the located reader keeps token indices only
    forms, locate = edn.loads_all_located("[{:a 1}\n  {:b 2}\n\n {:c 3}]")
    assert [locate(i) for i in range(3)] == [(1, 2), (2, 3), (4, 2)]


def test_non_utf8_edn_cites_the_line(tmp_path, capsys):
    src = _edn_file(tmp_path, b"[{:process 0 :type :invoke :f :read :value nil}\n {:process 0 \xff}]")
    code, _, err = run_cli(["convert", src, tmp_path / "o.jsonl"], capsys)
    assert code == 254 and f"{src}:2" in err and "not UTF-8" in err


def test_a_corrupt_gzip_is_bad_input(tmp_path, capsys):
    src = _edn_file(tmp_path, b"\x1f\x8b\x08\x00garbage", name="h.edn.gz")
    code, _, err = run_cli(["convert", src, tmp_path / "o.jsonl"], capsys)
    assert code == 254 and "gzip" in err


def test_a_header_comment_that_is_not_an_object(tmp_path, capsys):
    src = _edn_file(tmp_path, "; gt-history [1, 2]\n[]\n")
    code, _, err = run_cli(["convert", src, tmp_path / "o.jsonl"], capsys)
    assert code == 254 and "not a JSON object" in err and f"{src}:1" in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_stream_that_never_ends_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(jepsen, "MAX_STREAM_BYTES", 1 << 20)
    with pytest.raises(UserError, match="not a regular file"):
        jepsen.import_edn("/dev/zero")


def test_a_log_with_a_huge_process_number(tmp_path, capsys):
    src = _edn_file(tmp_path, "INFO  jepsen.util - " + "9" * 5000 + "\t:invoke\t:read\tnil\n", name="h.log")
    code, _, err = run_cli(["convert", "--from", "jepsen-log", src, tmp_path / "o.jsonl"], capsys)
    assert code in (0, 254) and "internal error" not in err


def test_writing_edn_refuses_values_deeper_than_the_reader_reads(tmp_path):
    deep: object = 1
    for _ in range(edn.MAX_DEPTH):
        deep = [deep]
    events = [(2, {"type": "invoke", "process": 0, "f": "write", "key": "k", "value": deep, "time": 0,
                   "index": 0, "region": "r"})]
    with pytest.raises(UserError, match="more than 97 levels") as info:
        list(jepsen.export_edn({"format": "gt-history", "version": 1}, events, where="h.jsonl"))
    assert info.value.where == "h.jsonl:2"


def test_exported_edn_reads_back_at_the_depth_limit():
    value: object = 1
    for _ in range(edn.MAX_DEPTH - 3):
        value = [value]
    lines = list(jepsen.export_edn({"format": "gt-history", "version": 1},
                                       [{"type": "invoke", "process": 0, "f": "write", "key": "k",
                                         "value": value, "time": 0, "index": 0}]))
    forms = edn.loads("\n".join(lines[1:]))
    assert forms[0][kw("value")][1] == value


def test_exact_decimals_and_big_integers_round_trip_gt_to_edn_and_back(tmp_path, capsys):
    gt = tmp_path / "h.jsonl"
    value = '{"n":0.10000000000000000001,"b":123456789012345678901234567890}'
    gt.write_text('{"format":"gt-history","version":1,"regions":["r"]}\n'
                  f'{{"index":0,"type":"invoke","process":0,"region":"r","f":"write","key":"k","value":{value},"time":1}}\n'
                  f'{{"index":1,"type":"ok","process":0,"region":"r","f":"write","key":"k","value":{value},"time":2}}\n')
    out = tmp_path / "h.edn"
    code, _, err = run_cli(["convert", gt, out], capsys)
    assert code == 0, err
    text = out.read_text()
    assert "0.10000000000000000001M" in text and "123456789012345678901234567890N" in text
    back = tmp_path / "back.jsonl"
    code, _, err = run_cli(["convert", out, back], capsys)
    assert code == 0, err
    assert back.read_text().count(value) == 2


@pytest.mark.parametrize("text,message", [
    # two keys of one map that become one JSON name: one value would be silently lost
    ('[{:process 0 :type :invoke :f :write :value {:a 1 "a" 2}}\n {:process 0 :type :ok :f :write :value {:a 1 "a" 2}}]',
     "both become the JSON name 'a'"),
    ('[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :ok :f :write :value 1 "value" 2}]',
     "names the field 'value' twice"),
])
def test_keys_that_collide_in_json_are_refused(tmp_path, capsys, text, message):
    src = _edn_file(tmp_path, text)
    code, _, err = run_cli(["convert", src, tmp_path / "o.jsonl"], capsys)
    assert code == 254 and message in err and f"{src}:" in err


def test_initial_option_is_read_exactly(tmp_path, capsys):
    src = _edn_file(tmp_path, _history("1"))
    out = tmp_path / "o.jsonl"
    code, _, err = run_cli(["convert", "--initial", str(BIG), src, out], capsys)
    assert code == 0, err
    assert f'"initial":{BIG}' in out.read_text().splitlines()[0]
    code, _, err = run_cli(["convert", "--initial", '{"a":1,"a":2}', src, out], capsys)
    assert code == 254 and "--initial" in err and "twice" in err


@pytest.mark.parametrize("text,line", [("[{:a 1}]\n[{:b 2}]", 2), ("{:process 0}\n\n 5", 3), ("; c\n\"x\"", 2)])
def test_a_file_that_is_not_one_vector_of_ops_cites_the_line(tmp_path, text, line):
    src = _edn_file(tmp_path, text)
    with pytest.raises(UserError, match="expected one vector of operation maps") as info:
        jepsen.import_edn(src)
    assert info.value.where == f"{src}:{line}"


def test_a_gzip_that_inflates_without_end_is_bounded(tmp_path, monkeypatch):
    import gzip

    monkeypatch.setattr(jepsen, "MAX_STREAM_BYTES", 1 << 20)
    src = tmp_path / "bomb.edn.gz"
    src.write_bytes(gzip.compress(b"[" + b" " * (4 << 20) + b"]"))
    with pytest.raises(UserError, match="inflates to more than 1 MiB"):
        jepsen.import_edn(src)
    small = tmp_path / "ok.edn.gz"
    small.write_bytes(gzip.compress(b"[{:process 0 :type :invoke :f :read :value nil}]"))
    assert len(jepsen.read_edn_ops(small)[0]) == 1
