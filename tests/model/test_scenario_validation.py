"""Hostile scenarios are refused before anything is simulated (issue 12): exit 254 naming
the file and the field, bounded memory and time, never a traceback or an internal error.

Every numeric field goes through one check (gtcheck.kernel.units.check_number: finite and
within its documented range), so NaN, infinity and absurd magnitudes are refused wherever
they are written; durations must fit in 64 bits and a scenario allows at most a week."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from gtcheck.kernel.errors import UserError
from gtcheck.kernel.units import MAX_DURATION_NS, check_number, parse_duration
from gtcheck.model import scenario as scenario_mod
from gtcheck.model.scenario import load_scenario
from tests.clihelp import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _simulate(tmp_path: Path, capsys, text: str | bytes) -> tuple[int, str]:
    path = tmp_path / "bad.toml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    out = tmp_path / "h.jsonl"
    code, _, err = run_cli(["simulate", "--scenario", path, "-o", out, "--no-truth", "--no-progress"], capsys)
    assert "Traceback" not in err and "internal error" not in err
    assert not out.exists(), "nothing is simulated for a bad scenario"
    if code == 254:
        assert str(path) in err, "the message names the file"
    return code, err


# every numeric field: NaN, infinity and huge magnitudes (TOML writes them nan, inf, 1e308)
NUMERIC_FIELDS = [
    ("[regions]\ncopies = {v}\n", "regions.copies"),
    ("[regions]\nwrite_quorum = {v}\n", "regions.write_quorum"),
    ("[clocks.us-east-1]\ndrift_ppm = {v}\n", "clocks.us-east-1.drift_ppm"),
    ("[replication]\ncoalesce = {v}\n", "replication.coalesce"),
    ("[workload]\nkeys = {v}\n", "workload.keys"),
    ("[workload]\nzipf = {v}\n", "workload.zipf"),
    ("[workload]\nprocesses_per_region = {v}\n", "workload.processes_per_region"),
    ("[workload]\nrate = {v}\n", "workload.rate"),
    ("[workload]\nstrong_reads = {v}\n", "workload.strong_reads"),
    ("[workload]\ntransaction_size = {v}\n", "workload.transaction_size"),
    ("[workload.mix]\nread = {v}\n", "workload.mix.read"),
    ("[workload.ttl]\nshare = {v}\n", "workload.ttl.share"),
    ("[random_faults]\ncount = {v}\n", "random_faults.count"),
    ("[replication]\ndelay = {{dist = \"lognormal\", median = \"1s\", sigma = {v}}}\n", "replication.delay.sigma"),
]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "-1e308"])
@pytest.mark.parametrize("template,field", NUMERIC_FIELDS, ids=[f for _, f in NUMERIC_FIELDS])
def test_every_numeric_field_refuses_nan_infinity_and_absurd_magnitudes(tmp_path, capsys, template, field, value):
    code, err = _simulate(tmp_path, capsys, template.format(v=value))
    assert code == 254, err
    assert field in err


@pytest.mark.parametrize("field", ["strong_reads", "zipf"])
def test_nan_does_not_pass_a_range_check(tmp_path, field):
    # NaN compares false with everything: `nan < 0 or nan > 1` is False. Before the fix the
    # scenario loaded and the header said "strong_reads": null.
    path = tmp_path / "s.toml"
    path.write_text(f"[workload]\n{field} = nan\n")
    with pytest.raises(UserError, match=f"workload.{field}: expected a finite number"):
        load_scenario(path)


def test_check_number_is_the_one_numeric_check():
    assert check_number(0.5, "x", low=0, high=1) == 0.5
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(UserError, match="finite"):
            check_number(bad, "x", low=0, high=1)
    with pytest.raises(UserError, match="greater than 0"):
        check_number(0, "x", low=0, low_open=True)
    with pytest.raises(UserError, match="expected an integer"):
        check_number(1.0, "x", integer=True)
    with pytest.raises(UserError, match="expected a number"):
        check_number(True, "x")
    with pytest.raises(UserError, match="between 0 and 10,000,000"):
        check_number(10**30, "x", low=0, high=10_000_000)


def test_a_tiny_rate_is_refused(tmp_path, capsys):
    # 1e-300 requests/s passed "> 0" and crashed the simulator (an infinite think time)
    code, err = _simulate(tmp_path, capsys, "[workload]\nrate = 1e-300\n")
    assert code == 254 and "workload.rate: must be between 0.001 and 1,000,000" in err


@pytest.mark.parametrize("text,field", [
    ('[workload]\nduration = "99999999999999999999s"\n', "workload.duration"),
    ('[workload]\nduration = "18446744073709551616"\n', "workload.duration"),
    ('[clocks.us-east-1]\noffset = "-99999999999999999999s"\n', "clocks.us-east-1.offset"),
    ('[final]\nsettle = "9999999999999h"\n', "final.settle"),
    ('[replication]\ndelay = "99999999999999999999s"\n', "replication.delay"),
    ('[replication]\ndelay = {dist = "uniform", low = "0s", high = "99999999999999999999s"}\n',
     "replication.delay.high"),
])
def test_durations_past_64_bits_are_refused(tmp_path, capsys, text, field):
    code, err = _simulate(tmp_path, capsys, text)
    assert code == 254 and field in err and "64 bits" in err


def test_parse_duration_refuses_past_64_bits():
    assert parse_duration(str(MAX_DURATION_NS)) == MAX_DURATION_NS
    for text in (str(MAX_DURATION_NS + 1), "1000000000000h", MAX_DURATION_NS + 1):
        with pytest.raises(UserError, match="64 bits"):
            parse_duration(text, where="x")
    with pytest.raises(UserError, match="characters"):
        parse_duration("1" * 5000 + "s", where="x")


@pytest.mark.parametrize("text,field", [
    ('[workload]\nduration = "200h"\n', "workload.duration"),
    ('[[faults]]\nkind = "clock-jump"\nregion = "us-east-1"\nat = "1s"\nby = "-9000h"\n', "faults[0].by"),
    ('[regions]\ntimeout = "1000h"\n', "regions.timeout"),
])
def test_scenario_durations_are_at_most_a_week(tmp_path, capsys, text, field):
    code, err = _simulate(tmp_path, capsys, text)
    assert code == 254 and field in err and "7 days" in err


def test_a_scenario_that_is_not_utf8(tmp_path, capsys):
    code, err = _simulate(tmp_path, capsys, b'name = "caf\xe9"\n')
    assert code == 254 and "not UTF-8" in err and "line 1" in err


def test_nesting_deeper_than_tomllib_recurses(tmp_path, capsys):
    code, err = _simulate(tmp_path, capsys, "name = 'x'\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    assert code == 254 and "bad.toml: line 2: arrays or inline tables nested too deeply" in err


def test_a_scenario_file_that_never_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_mod, "MAX_SCENARIO_BYTES", 1024)
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * 2000 + "\n")
    with pytest.raises(UserError, match="larger than"):
        load_scenario(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_the_scenario(tmp_path, capsys):
    code, _, err = run_cli(["simulate", "--scenario", "/dev/zero", "-o", tmp_path / "h.jsonl"], capsys)
    assert code == 254 and "/dev/zero" in err and "larger than 16 MiB" in err


def test_random_faults_without_kinds(tmp_path, capsys):
    code, err = _simulate(tmp_path, capsys, "[random_faults]\ncount = 3\nkinds = []\n")
    assert code == 254 and "random_faults.kinds" in err and "no kind" in err


def test_random_faults_without_kinds_but_no_count_is_fine(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[random_faults]\ncount = 0\nkinds = []\n")
    assert load_scenario(path).random_faults.count == 0


def test_random_faults_count_has_a_cap(tmp_path, capsys):
    start = time.monotonic()
    code, err = _simulate(tmp_path, capsys, "[random_faults]\ncount = 1000000\n")
    assert code == 254 and "random_faults.count: must be between 0 and 10,000" in err
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("text,field", [
    ("[workload]\nrate = 1000000\nduration = \"168h\"\n", "workload.rate"),
    ("[workload]\nkeys = 10000000\n[regions]\nnames = [" + ", ".join(f'"r{i}"' for i in range(10)) + "]\n",
     "workload.keys"),
    ("[regions]\nnames = [" + ", ".join(f'"r{i}"' for i in range(101)) + "]\n", "regions.names"),
    ("[regions]\nnames = [" + ", ".join(f'"r{i}"' for i in range(20)) + "]\n[workload]\nprocesses_per_region = 100000\n",
     "workload.processes_per_region"),
])
def test_the_size_of_a_run_has_a_cap(tmp_path, capsys, text, field):
    code, err = _simulate(tmp_path, capsys, text)
    assert code == 254 and field in err


def _empirical(tmp_path: Path, name: str) -> str:
    return f'[replication]\ndelay = {{dist = "empirical", file = "{name}"}}\n'


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_empirical_file_that_never_ends(tmp_path, capsys):
    start = time.monotonic()
    code, err = _simulate(tmp_path, capsys, _empirical(tmp_path, "/dev/zero"))
    assert code == 254 and "replication.delay.file" in err and "larger than 64 MiB" in err
    assert time.monotonic() - start < 20


def test_an_empirical_file_that_is_not_utf8(tmp_path, capsys):
    (tmp_path / "d.txt").write_bytes(b"5ms\n\xff\xfe\n")
    code, err = _simulate(tmp_path, capsys, _empirical(tmp_path, "d.txt"))
    assert code == 254 and "replication.delay.file" in err and "not UTF-8" in err and "line 2" in err


def test_an_empirical_file_with_a_bad_line_names_the_field_and_the_line(tmp_path, capsys):
    (tmp_path / "d.txt").write_text("5ms\n# measured\n99999999999999999999s\n")
    code, err = _simulate(tmp_path, capsys, _empirical(tmp_path, "d.txt"))
    assert code == 254 and "replication.delay.file" in err and "d.txt:3" in err


@pytest.mark.parametrize("spec", ['{dist = "empirical", file = 5}', '{dist = "empirical", file = ""}',
                                  '{dist = "empirical", file = "a\\u0000b"}', '{dist = ["lognormal"]}'])
def test_a_distribution_with_a_bad_shape(tmp_path, capsys, spec):
    code, err = _simulate(tmp_path, capsys, f"[replication]\ndelay = {spec}\n")
    assert code == 254 and "replication.delay" in err


def test_failback_must_be_a_boolean(tmp_path, capsys):
    code, err = _simulate(tmp_path, capsys, '[failover]\nfailback = "no"\n')
    assert code == 254 and "failover.failback: expected true or false" in err


def test_every_example_scenario_is_within_the_limits():
    for path in sorted((ROOT / "histories" / "scenarios").rglob("*.toml")):
        load_scenario(path)


_SCRIPT = '[[script]]\nat = "1s"\nregion = "us-east-1"\nkey = "x"\n'


@pytest.mark.parametrize("body,field,message", [
    ('f = "write"\nvalue = {a = nan}\n', "script[0].value.a", "finite"),  # was written as null
    ('f = "update"\nadd = {n = inf}\n', "script[0].add.n", "finite"),
    ('f = "update"\nadd = {n = "x"}\n', "script[0].add.n", "ADD takes a number"),
    ('f = "update"\nremove = [1, 2]\n', "script[0].remove", "attribute names"),
    ('f = "write"\nvalue = {a = 1979-05-27}\n', "script[0].value.a", "date or time"),
    ('f = "cas"\nnew = {a = 1}\nexpected = {a = nan}\n', "script[0].expected.a", "finite"),
    ('f = "delete"\ncondition = {rev = -inf}\n', "script[0].condition.rev", "finite"),
    ('f = "write"\nvalue = {a = ' + "[" * 40 + "]" * 40 + '}\n', "script[0].value.a", "32 levels"),
])
def test_scripted_values_are_checked(tmp_path, capsys, body, field, message):
    code, err = _simulate(tmp_path, capsys, _SCRIPT + body)
    assert code == 254 and field in err and message in err


def test_a_scripted_transaction_item_is_checked(tmp_path, capsys):
    code, err = _simulate(tmp_path, capsys, '[[script]]\nat = "1s"\nregion = "us-east-1"\nf = "transaction"\n'
                                            'items = [{f = "write", key = "a", value = {b = [1, {c = -inf}]}}]\n')
    assert code == 254 and "script[0].items[0].value.b[1].c" in err


@pytest.mark.parametrize("text,message", [
    # under the mypyc-compiled model every assignment is type-checked at run time: these two
    # were TypeErrors there (a reused variable typed str; parse_duration typed str | int | float)
    ('[[faults]]\nat = "1s"\nregion = "us-east-1"\n', "faults[0]: missing field 'kind'"),
    ('[[faults]]\nkind = "isolate"\nregion = "us-east-1"\nat = {}\nduration = "1s"\n',
     "faults[0].at: cannot read {} as a duration"),
    ('[workload]\nduration = [1]\n', "workload.duration: cannot read [1] as a duration"),
    ('[clocks.us-east-1]\noffset = {a = 1}\n', "clocks.us-east-1.offset: cannot read {'a': 1} as a duration"),
])
def test_odd_shapes_are_bad_input_also_when_compiled(tmp_path, capsys, text, message):
    code, err = _simulate(tmp_path, capsys, text)
    assert code == 254 and message in err
