"""Fuzzing the command line: hostile histories, scenarios and EDN files never crash gtcheck,
and valid histories are never refused.

What is generated and what is judged: tests/fuzz/strategies.py and tests/fuzz/runner.py.
The CI part runs a few hundred inputs with a fixed seed (the same inputs each run);
``-m slow`` runs ``GTCHECK_FUZZ_N`` inputs (default 20,000) from a random or given seed
(``GTCHECK_FUZZ_SEED``). Each prints a summary (inputs, runs by command and exit code,
internal errors, tracebacks, hangs, distinct failure classes with their smallest input);
``GTCHECK_FUZZ_OUT=FILE`` also writes it as JSON, and ``GTCHECK_FUZZ_FOUND=DIR`` writes each
failure class's input (minimised) into DIR with a manifest.

Where ``gtcheck validate`` and the reference validator (tests/refvalidator.py) are allowed
to differ, and why:

* the reference's ``limit`` answer: a line nested more than 510 levels (gtcheck refuses
  more than 512, docs/history-format.md "How gtcheck reads JSON"), a number of more than
  4,000 digits (gtcheck: 4,300) or with an exponent past 10^17 (gtcheck refuses "a number
  whose exponent does not fit"). RFC 8259 §6 and §9 let a parser limit the range of
  numbers and the depth of nesting, so either answer of gtcheck is accepted there, but
  never a crash;
* ``convert IN out.edn`` refusing a value nested more than 97 levels ("more than an EDN
  history may"): the documented limit of the EDN writer, so that its reader (100 levels)
  can read back everything it writes;
* runs given odd ``--timeout`` / ``--staleness-bound`` values that are refused as bad
  arguments (their 254 need not name the file), except that a NaN must be refused;
* nothing else. Checks that are written in docs/history-format.md but not in the contract's
  rule 7 (a read invocation's value is null, the ``ttl`` process only deletes, ``index``
  is non-negative, the shapes of an update's ``set``/``remove``/``add`` and post-image, an ok
  write repeating its invocation's item) are in the reference too, tagged ``docs``, so a
  disagreement on them is reported like any other.

``check``, ``report`` and ``convert`` read a history with the same validation, so their
accept/refuse is compared with the reference as well (a refusal is exit 254; every other
exit code means the history was read).

Beyond accept/refuse, three properties compare gtcheck with itself: ``check --jobs 1`` and
``--jobs 2`` give the same exit code and verdicts; a history converted to EDN and back
gets the same verdict; and a history spelled differently but equal by the format's rules
(key order, whitespace, ``\\u`` escapes, CRLF, blank lines, gzip, unknown fields, numbers
such as ``7`` written ``7.0`` or ``70e-1``) gets the same verdict (metamorphic twins); so does an EDN file with other whitespace,
commas, comments and discarded forms. What ``simulate`` writes from a (mutated) scenario must
be accepted by both ``gtcheck validate`` and the reference validator, and the same scenario
and seed must write the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from tests import refvalidator
from tests.fuzz import seeds as seedmod
from tests.fuzz.runner import FuzzRunner
from tests.fuzz.strategies import (FuzzInput, edn_inputs, edn_twin_inputs, history_inputs,
                                   metamorphic_inputs, scenario_inputs)
from tests.fuzz.surfaces import SHARES, model_inputs, output_inputs, path_inputs

FOUND = Path(__file__).parents[1] / "data" / "fuzz-found"
CI_COUNTS = {"history": 200, "metamorphic": 50, "scenario": 50, "edn": 80, "edn-twin": 20,
             "model": 10, "path": 25, "output": 40}
STRATEGIES = {"history": history_inputs, "metamorphic": metamorphic_inputs,
              "scenario": scenario_inputs, "edn": edn_inputs, "edn-twin": edn_twin_inputs,
              "model": model_inputs, "path": path_inputs, "output": output_inputs}
EMULATOR_CI = 150           # requests in CI; the slow run sends GTCHECK_FUZZ_EMULATOR_N (default 3,000)
@pytest.fixture
def runner():
    r = FuzzRunner()
    yield r
    r.close()


@pytest.fixture(scope="module")
def shared_runner():
    """One worker for the single-input tests below (starting a worker costs a warm-up)."""
    r = FuzzRunner()
    yield r
    r.close()


def _explore(runner: FuzzRunner, strategy, n: int, seed_value: int | None) -> None:
    @settings(max_examples=n, deadline=None, database=None, derandomize=seed_value is None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(strategy)
    def explore(inp: FuzzInput) -> None:
        runner.run(inp)

    if seed_value is not None:
        explore = seed(seed_value)(explore)
    explore()


def _finish(runner: FuzzRunner, label: str) -> None:
    text = runner.format_summary()
    print(f"\n[{label}] {text}")
    out = os.environ.get("GTCHECK_FUZZ_OUT")
    if out:
        Path(out).write_text(json.dumps(runner.summary(), indent=1, ensure_ascii=False))
    found = os.environ.get("GTCHECK_FUZZ_FOUND")
    if found and runner.classes:
        runner.save_examples(found, minimize=True)
    assert not runner.classes, f"{len(runner.classes)} failure classes:\n{text}"


@pytest.mark.parametrize("kind", sorted(CI_COUNTS))
def test_fuzz_ci(kind, runner):
    """A few hundred inputs, the same each run: every class of failure is a bug."""
    _explore(runner, STRATEGIES[kind](), CI_COUNTS[kind], None)
    _finish(runner, f"ci {kind}")


@pytest.mark.slow
def test_fuzz_slow(runner):
    """GTCHECK_FUZZ_N inputs (default 20,000) in the proportions of SHARES: histories and
    their twins, scenarios, EDN and Jepsen logs and their twins, explore/search/predict runs,
    path files, output paths."""
    total = int(os.environ.get("GTCHECK_FUZZ_N", "20000"))
    seed_value = int(os.environ.get("GTCHECK_FUZZ_SEED", "0")) or None
    if seed_value is None:
        seed_value = int.from_bytes(os.urandom(4), "big")
    print(f"\nfuzz seed {seed_value} (GTCHECK_FUZZ_SEED to repeat)")
    for i, (kind, share) in enumerate(SHARES.items()):
        strategy = scenario_inputs(dev_zero=True) if kind == "scenario" else STRATEGIES[kind]()
        _explore(runner, strategy, max(1, int(total * share)), seed_value + i)
    _finish(runner, "slow")


# ---------------------------------------------------------------------------------------
# the harness itself: inputs stay bounded, a run always ends with its summary

def test_the_huge_path_mutation_stays_bounded_when_applied_twice():
    """A path file's "huge" mutation applied twice made 56 million actions (a 20 GB input):
    the kernel killed the slow run's process without a word (2026-12, seed 20261209)."""
    import json as json_

    from tests.fuzz.surfaces import HUGE_ACTIONS, m_action_list, path_seeds

    def draw(strategy):          # always "huge", always the first action
        return "huge" if "sampled_from" in repr(strategy) else 0

    _, data, _ = max(path_seeds(), key=lambda s: len(json_.loads(s[1])["actions"]))
    once, _ = m_action_list(draw, data)
    twice, what = m_action_list(draw, once)
    n0, n1, n2 = (len(json_.loads(d)["actions"]) for d in (data, once, twice))
    assert what.startswith("actions: huge") and n0 < n1 <= n2 <= HUGE_ACTIONS, (n0, n1, n2)


def test_a_stopped_run_still_prints_its_summary_naming_the_input():
    """SIGTERM (as an OOM guard's MemoryError, an exception, Ctrl-C) ends ``python -m
    tests.fuzz`` with a line saying why and which input it was on, then the summary."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz", "--n", "2000", "--kinds", "output", "--seed", "3"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("fuzz seed 3"), first
        time.sleep(3)                      # some inputs run
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, out[-2000:]
    assert "fuzz STOPPED after" in out and "by Stopped: SIGTERM, while" in out and "output input" in out, out[-2000:]
    assert "failure classes:" in out, out[-2000:]


# ---------------------------------------------------------------------------------------
# the seeds are valid: both validators accept them, the model runs every scenario

@pytest.mark.parametrize("name", [n for n, _ in seedmod.history_seeds()])
def test_history_seed_is_valid(name, shared_runner):
    runner = shared_runner
    data = dict(seedmod.history_seeds())[name]
    assert refvalidator.validate_bytes(data).accepted
    inp = FuzzInput("history", name, data, [], [["validate", "--format", "gt", "{IN}"]])
    _, results = runner.execute(inp)
    assert results[0]["code"] == 0, results[0]["err"]


@pytest.mark.parametrize("name", [n for n, _ in seedmod.scenario_seeds()])
def test_scenario_seed_simulates(name, shared_runner):
    runner = shared_runner
    data = dict(seedmod.scenario_seeds())[name]
    inp = FuzzInput("scenario", name, data, [],
                    [["simulate", "--scenario", "{IN}", "-o", "sim.jsonl", "--no-truth"]], ".toml")
    _, results = runner.execute(inp)
    assert results[0]["code"] == 0, results[0]["err"]


# ---------------------------------------------------------------------------------------
# the inputs the fuzzer found, kept as regression tests

def _found():
    manifest = FOUND / "manifest.json"
    if not manifest.exists():
        return []
    return sorted(json.loads(manifest.read_text()).items())


@pytest.mark.parametrize("name,entry", _found(), ids=[n for n, _ in _found()])
def test_fuzz_found(name, entry, shared_runner):
    runner = shared_runner
    """Each reproducer in tests/data/fuzz-found/ now passes every judgement."""
    ext = "".join(Path(name).suffixes[-1:])
    kind = entry.get("kind") or {".jsonl": "history", ".toml": "scenario", ".log": "log"}.get(ext, "edn")
    inp = FuzzInput(kind, entry.get("seed", "?"), (FOUND / name).read_bytes(),
                    entry.get("mutations", []), entry["commands"], ext)
    fails = runner.run(inp)
    assert not fails, f"{entry['class']}: {[f.key for f in fails]}"


# ---------------------------------------------------------------------------------------
# the emulator's HTTP endpoint (tests/fuzz/emulator.py)

def _fuzz_emulator(n: int, seed_value: int | None) -> None:
    from tests.fuzz.emulator import EmulatorFuzzer, emulator_requests

    fuzzer = EmulatorFuzzer()
    try:
        @settings(max_examples=n, deadline=None, database=None, derandomize=seed_value is None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        @given(emulator_requests())
        def explore(req) -> None:
            fuzzer.run(req)

        if seed_value is not None:
            explore = seed(seed_value)(explore)
        explore()
    finally:
        fuzzer.close()
    text = fuzzer.format_summary()
    print(f"\n{text}")
    out = os.environ.get("GTCHECK_FUZZ_EMULATOR_OUT")
    if out:
        Path(out).write_text(json.dumps(fuzzer.summary(), indent=1, ensure_ascii=False))
    assert not fuzzer.classes, f"{len(fuzzer.classes)} failure classes:\n{text}"


@pytest.mark.emulator
def test_fuzz_ci_emulator():
    """A few hundred requests, the same each run: every class of failure is a bug."""
    _fuzz_emulator(EMULATOR_CI, None)


@pytest.mark.slow
@pytest.mark.emulator
def test_fuzz_slow_emulator():
    n = int(os.environ.get("GTCHECK_FUZZ_EMULATOR_N", "3000"))
    seed_value = int(os.environ.get("GTCHECK_FUZZ_SEED", "0")) or int.from_bytes(os.urandom(4), "big")
    print(f"\nemulator fuzz seed {seed_value}")
    _fuzz_emulator(n, seed_value)


@pytest.fixture(scope="module")
def emulator_fuzzer():
    from tests.fuzz.emulator import EmulatorFuzzer

    f = EmulatorFuzzer()
    yield f
    f.close()


def _emulator_500s() -> list[dict]:
    path = FOUND / "emulator-500s.json"
    return [c for c in json.loads(path.read_text()) if c["target"] is not None or c["body"]] if path.exists() else []


@pytest.mark.emulator
@pytest.mark.parametrize("case", _emulator_500s(), ids=[c["class"][48:100] for c in _emulator_500s()])
def test_emulator_500_reproducer(case, emulator_fuzzer):
    """Each request the fuzzer found answered with a 500 now gets DynamoDB's answer: 400 for a
    malformed one, 200 for a valid one moto failed on (``now`` in the file)."""
    from tests.fuzz.emulator import Request, judge, send

    req = Request(case["target"], case["body"].encode(), case["region"], case["headers"])
    status, body = send(emulator_fuzzer.port, req)
    assert judge(status, body, req) is None, (status, body)
    assert status == case["now"], (status, body)


@pytest.mark.emulator
@pytest.mark.parametrize("target,region", [(None, "us-east-1"), ("DynamoDB_20120810.ListTables", "\u00fc"),
                                           ("Kinesis_20131202.PutRecord", "us-east-1")],
                         ids=["no X-Amz-Target", "a non-ASCII region", "another service's target"])
def test_emulator_request_routing(emulator_fuzzer, target, region):
    """A request signed for DynamoDB without a DynamoDB operation, or for a region no one
    serves, is refused with 400 (it was a 500: moto's KeyError, OperationNotFoundError)."""
    from tests.fuzz.emulator import Request, judge, send

    req = Request(target, b"{}", region=region)
    status, body = send(emulator_fuzzer.port, req)
    assert judge(status, body, req) is None, (status, body)
    assert status == 400, (status, body)


@pytest.mark.emulator
def test_emulator_replicates_only_valid_numbers():
    """An update whose number is not numeric is refused at the entrance (it was accepted by
    moto, and its replication raised in the replication thread: a traceback on stderr)."""
    from tests.fuzz.emulator import SEEDS, Request, send
    from gtcheck.pytest_plugin import EmulatorProcess

    emu = EmulatorProcess(["us-east-1", "eu-west-1"], delay="constant(5ms)", global_tables="all")
    try:
        for op, body in SEEDS[:2]:
            send(emu.port, Request(f"DynamoDB_20120810.{op}", json.dumps(body).encode()))
        bad = {"TableName": "fuzz", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = :v",
               "ExpressionAttributeValues": {":v": {"N": "nope"}}}
        status, body = send(emu.port, Request("DynamoDB_20120810.UpdateItem", json.dumps(bad).encode()))
        import time

        time.sleep(0.5)                     # replication: 5 ms
    finally:
        emu.stop()
    assert "Traceback" not in emu.proc_stderr, emu.proc_stderr[-1500:]
    assert status == 400, (status, body)
