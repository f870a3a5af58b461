"""Strategies for the surfaces the first campaigns did not reach (issue 18, item 4).

* ``model_inputs``: scripted scenarios of both modes and every scripted feature (writes,
  updates of every kind, cas, conditions, transactions, consistent reads, clock-offset
  ranges, faults, a witness), mutated like any scenario, run through ``explore`` and
  ``search`` with ordinary and odd options (``--max-states``, ``--time-limit``,
  ``--budget``, ``--shrink-runs 0``, ``--invariant`` specs good and bad, a user's
  invariant that raises or answers in the wrong shape) and forecast scenarios through
  ``predict``;
* ``path_inputs``: counterexample path files written by ``explore -o`` (compact and as
  written), mutated (JSON fields and numbers, action fields of the wrong type, unknown
  fields and kinds, dropped, repeated and swapped actions, offsets), given back to
  ``explore --replay`` with the scenario written beside them;
* ``output_inputs``: every command that writes a file, aimed at a FIFO, a symlink (to a
  file, to nothing, to a null device, in a loop), a character device, missing parent
  directories, a regular file as parent, a directory, a name over NAME_MAX, or ``-``;
  the runner checks that no special file was replaced (type and inode unchanged).

What is judged is the runner's (tests/fuzz/runner.py): exit codes, tracebacks, hangs,
254s that name the file or the option, and special files left as they were. The emulator's
HTTP endpoint has its own harness (tests/fuzz/emulator.py).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz import seeds as seedmod
from tests.fuzz.strategies import (BYTE_OPS, IN, JSON_OPS, LINE_OPS, SCENARIO_OPS, FuzzInput, _mutate,
                                   m_truncate)

ROOT = Path(__file__).resolve().parents[2]

# the slow run's mix of GTCHECK_FUZZ_N inputs (tests/cli/test_fuzz.py and python -m tests.fuzz)
SHARES = {"history": 0.36, "metamorphic": 0.08, "scenario": 0.12, "edn": 0.20, "edn-twin": 0.04,
          "model": 0.07, "path": 0.06, "output": 0.07}

# ---------------------------------------------------------------------------------------
# scripted scenarios: both modes, every scripted feature

STRONG_SCRIPT = b'''name = "strong-script"
mode = "strong"
[regions]
names = ["us-east-1", "us-east-2", "us-west-2"]
request_latency = "2ms"
[replication]
delay = "100ms"
round_trip = "20ms"
[clocks.us-east-2]
offset = { min = "-5ms", max = "5ms" }
[[script]]
at = "10ms"
region = "us-east-1"
f = "write"
key = "x"
value = { n = 1, tag = "a" }
[[script]]
at = "11ms"
region = "us-east-2"
f = "update"
key = "x"
add = { n = 2 }
condition = { tag = "a" }
[[script]]
at = "12ms"
region = "us-west-2"
f = "cas"
key = "x"
expected = { n = 1, tag = "a" }
new = { n = 9 }
[[script]]
at = "40ms"
region = "us-east-2"
f = "read"
key = "x"
consistent = true
name = "strong-read"
[[script]]
at = "41ms"
region = "us-west-2"
f = "read"
key = "x"
name = "eventual-read"
[[faults]]
kind = "isolate"
region = "us-west-2"
at = "5ms"
duration = "20ms"
'''

WITNESS_SCRIPT = b'''name = "witness-script"
mode = "strong"
[regions]
names = ["us-east-1", "us-east-2"]
witness = "us-west-2"
request_latency = "1ms"
[replication]
round_trip = "10ms"
[[script]]
at = "1ms"
region = "us-east-1"
f = "write"
key = "k"
value = { v = 1 }
[[script]]
at = "2ms"
region = "us-east-2"
f = "delete"
key = "k"
condition = { v = 1 }
[[script]]
at = "30ms"
region = "us-east-1"
f = "read"
key = "k"
consistent = true
'''

EVENTUAL_FEATURES = b'''name = "eventual-features"
[regions]
names = ["us-east-1", "eu-west-1"]
copies = 2
write_quorum = 1
request_latency = "1ms"
copy_lag = "3ms"
[replication]
delay = "50ms"
coalesce = 0.5
[clocks.eu-west-1]
offset = { min = "-20ms", max = "20ms" }
[[script]]
at = "1ms"
region = "us-east-1"
f = "transaction"
items = [ { f = "write", key = "a", value = { n = 1 } }, { f = "update", key = "b", add = { n = 1 } } ]
[[script]]
at = "2ms"
region = "eu-west-1"
f = "update"
key = "a"
set = { s = "x" }
remove = ["n"]
process = "p"
[[script]]
at = "3ms"
region = "eu-west-1"
f = "write"
key = "a"
value = { big = 123456789012345678901234567890, f = 0.1 }
condition = { s = "x" }
process = "p"
[[script]]
at = "100ms"
region = "us-east-1"
f = "read"
key = "a"
name = "r"
[[faults]]
kind = "replication-delay"
from = "us-east-1"
to = "eu-west-1"
at = "0ms"
duration = "50ms"
extra = "20ms"
'''


@functools.lru_cache(maxsize=None)
def scripted_seeds() -> tuple[tuple[str, bytes], ...]:
    seeds = [("hand/strong-script.toml", STRONG_SCRIPT), ("hand/witness-script.toml", WITNESS_SCRIPT),
             ("hand/eventual-features.toml", EVENTUAL_FEATURES)]
    for path in sorted((ROOT / "histories" / "scenarios" / "behaviours").glob("*.toml")):
        if path.stat().st_size <= 4000:          # the long scripted ones explode in states
            seeds.append((f"behaviours/{path.name}", path.read_bytes()))
    return tuple(seeds)


@functools.lru_cache(maxsize=None)
def forecast_seeds() -> tuple[tuple[str, bytes], ...]:
    folder = ROOT / "histories" / "scenarios"
    return tuple((str(p.relative_to(folder)), p.read_bytes())
                 for p in sorted(folder.glob("forecast/*.toml")) + sorted(folder.glob("pbs/*.toml")))


# a user's invariants, written beside the input (the current directory is on the
# invariant's search path): a good one, one that raises, ones of the wrong shape
USER_INVARIANTS = b'''
def fine(run):
    return None

def found(run):
    return ("a message", [1, 2])

def boom(run):
    raise KeyError("no such account")

def shape(run):
    return 5

def pair(run):
    return ("bad", "not a list")

def arity(a, b):
    return None

def slow_import_free(run):
    return len(run.events) < 0 and "never"

def message(run):
    return "balance went negative"

CALLS = []

def counted(run):
    CALLS.append(1)
    raise ValueError(f"call {len(CALLS)}")
'''

INVARIANT_SPECS = ["userinv:fine", "userinv:found", "userinv:boom", "userinv:shape", "userinv:pair",
                   "userinv:arity", "userinv:nope", "userinv:slow_import_free", "converges",
                   "counter_matches_increments", ":", ":f", ".x:f", "x:", "a..b:f", "1x:f", "os:get-cwd()",
                   "no_such_module_anywhere:f", "os:getcwd", "gtcheck.search.invariants:nope", "",
                   "userinv:fine:extra", "ü:f"]
PROPERTIES = ["valid", "integrity", "convergence", "read_after_write", "staleness", "linearizability",
              "no_acknowledged_write_lost", "lost_writes", "nope", ""]
ODD = {
    "--max-states": ["1", "2", "50", "0", "-1", "nan", "1e9", "100000001", "x"],
    "--time-limit": ["0.5", "3", "0", "nan", "-1", "inf", "1e-9", "1e400", "x"],
    "--budget": ["1", "2", "3", "0", "-1", "nan", "1000001"],
    "--shrink-runs": ["0", "1", "5", "-1", "10000001", "nan"],
    "--max-requests": ["1", "2", "4", "0", "1001"],
    "--max-keys": ["1", "2", "0", "1001"],
    "--seed": ["0", "1", "7", "-1", "18446744073709551617", "x"],
    "--staleness-bound": ["500ms", "1s", "nan", "-1ms", "1e400s", ""],
    "--trials": ["1000", "2000", "999", "0", "nan", "100000001"],
    "--at": ["100ms", "1s", "nan", "-1ms", ""],
}
USUAL = {"--max-states": "20000", "--time-limit": "5", "--budget": "2", "--shrink-runs": "3",
         "--max-requests": "3", "--max-keys": "1", "--seed": "1", "--trials": "1000"}


def _opt(draw, name: str) -> list[str]:
    """An option with its usual value, or (one time in five) an odd one."""
    odd = draw(st.integers(0, 4)) == 0
    value = draw(st.sampled_from(ODD[name])) if odd or name not in USUAL else USUAL[name]
    return [name, value]


def _properties(draw, explore: bool) -> list[str]:
    out: list[str] = []
    for _ in range(draw(st.integers(0 if explore else 1, 2))):
        if draw(st.booleans()):
            out += ["--invariant", draw(st.sampled_from(INVARIANT_SPECS))]
        else:
            out += ["--property", draw(st.sampled_from(PROPERTIES))]
    if "staleness" in out and draw(st.integers(0, 3)) > 0:
        out += _opt(draw, "--staleness-bound")
    return out


@st.composite
def model_inputs(draw, max_mutations: int = 2) -> FuzzInput:
    which = draw(st.integers(0, 9))
    extra = {"userinv.py": USER_INVARIANTS}
    if which == 0 and forecast_seeds():
        name, data = draw(st.sampled_from(forecast_seeds()))
        data, done = _mutate(draw, data, SCENARIO_OPS, max_mutations)
        cmd = ["predict", "--scenario", IN, *_opt(draw, "--trials"), *_opt(draw, "--seed")]
        if draw(st.booleans()):
            cmd += ["--at", draw(st.sampled_from(ODD["--at"]))]
        if draw(st.booleans()):
            cmd += ["--format", "json"]
        return FuzzInput("model", name, data, done, [cmd], ".toml", extra)
    name, data = draw(st.sampled_from(scripted_seeds()))
    # one input in three stays valid: explore and search must accept every seed
    if draw(st.integers(0, 2)) > 0:
        data, done = _mutate(draw, data, SCENARIO_OPS, max_mutations)
    else:
        done = []
    if which <= 6:
        cmd = ["explore", "--scenario", IN, *_opt(draw, "--max-states"), *_opt(draw, "--time-limit"),
               "--quiet", *_properties(draw, True)]
        if draw(st.integers(0, 3)) == 0:
            cmd.append("--untimed")
        if draw(st.booleans()):
            cmd += ["--format", "json"]
        cmd += ["-o", "cx"]
    else:
        cmd = ["search", "--scenario", IN, *_opt(draw, "--budget"), *_opt(draw, "--shrink-runs"),
               *_opt(draw, "--seed"), *_opt(draw, "--max-requests"), *_opt(draw, "--max-keys"),
               *_properties(draw, False), "--no-report", "-o", "cx"]
    return FuzzInput("model", name, data, done, [cmd], ".toml", extra)


# ---------------------------------------------------------------------------------------
# counterexample path files

PATH_SOURCES = [("behaviours/lost-update.toml", "no_acknowledged_write_lost"),
                ("behaviours/double-create.toml", "no_acknowledged_write_lost"),
                ("behaviours/lost-increment.toml", "counter_matches_increments"),
                ("hand/strong-script.toml", "userinv:found"),
                ("hand/eventual-features.toml", "userinv:found")]


@functools.lru_cache(maxsize=None)
def path_seeds() -> tuple[tuple[str, bytes, bytes], ...]:
    """(name, path file, scenario it replays on): written by gtcheck explore -o itself."""
    from gtcheck.cli import main

    scenarios = dict(scripted_seeds())
    out = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        Path("userinv.py").write_bytes(USER_INVARIANTS)
        for name, prop in PATH_SOURCES:
            if name not in scenarios:
                continue
            Path("s.toml").write_bytes(scenarios[name])
            opt = "--invariant" if ":" in prop or prop == "counter_matches_increments" else "--property"
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                try:
                    main(["explore", "--scenario", "s.toml", opt, prop, "--quiet", "--max-states", "50000",
                          "-o", "cx", "--format", "json"])
                except SystemExit:
                    pass
            for pfile in sorted(Path("cx").glob("*.path.json")):
                scen = Path("cx") / pfile.name.replace(".path.json", ".toml")
                out.append((f"{name}:{pfile.name}", pfile.read_bytes(), scen.read_bytes()))
            for f in Path("cx").glob("*") if Path("cx").exists() else []:
                f.unlink()
    return tuple(out)


HUGE_ACTIONS = 40_000      # the most actions the "huge" mutation makes
ACTION_VALUES = [0, 1, -1, 2, 99, 2 ** 64, -2 ** 70, 1.5, True, None, "0", "", "us-east-1", "x", "deliver",
                 "copy", "invoke", "complete", "arrive", "nemesis", "coalesce", "teleport", [], {}, "ü" * 3]


def _path_doc(data: bytes):
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):     # not JSON, or nested deeper than json can read
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("actions"), list) else None


def m_action_field(draw, data):
    doc = _path_doc(data)
    if doc is None or not doc["actions"]:
        return data, "action field (no actions)"
    i = draw(st.integers(0, len(doc["actions"]) - 1))
    a = doc["actions"][i]
    if not isinstance(a, dict):
        return data, "action field (not an object)"
    name = draw(st.sampled_from(["kind", "client", "copy", "durable", "key", "write", "region", "speed"]))
    a[name] = draw(st.sampled_from(ACTION_VALUES))
    return json.dumps(doc).encode(), f"actions[{i}].{name} := {json.dumps(a[name])[:30]}"


def m_action_list(draw, data):
    doc = _path_doc(data)
    if doc is None or not doc["actions"]:
        return data, "action list (no actions)"
    acts = doc["actions"]
    how = draw(st.sampled_from(["drop", "repeat", "swap", "reverse", "first only", "empty", "not a list",
                                "offsets", "no offsets", "offset value", "huge"]))
    i = draw(st.integers(0, len(acts) - 1))
    j = draw(st.integers(0, len(acts) - 1))
    if how == "drop":
        del acts[i]
    elif how == "repeat":
        acts.insert(j, acts[i])
    elif how == "swap":
        acts[i], acts[j] = acts[j], acts[i]
    elif how == "reverse":
        acts.reverse()
    elif how == "first only":
        del acts[1:]
    elif how == "empty":
        acts.clear()
    elif how == "not a list":
        doc["actions"] = {"0": acts[0]}
    elif how == "offsets":
        doc["offsets"] = draw(st.sampled_from([[1], {"mars-1": 5}, {"us-east-1": 1.5}, {"us-east-1": 2 ** 80},
                                               {"us-east-1": "5ms"}, None, {"": 0}]))
    elif how == "no offsets":
        doc.pop("offsets", None)
    elif how == "offset value":
        doc["offsets"] = {r: draw(st.sampled_from([0, -10 ** 9, 10 ** 18, 7])) for r in doc.get("offsets") or {}}
    elif how == "huge":
        # many actions, never more than HUGE_ACTIONS: applied twice, a plain "* 2000" made
        # 56 million (a 20 GB input: the kernel killed the fuzzer, silently, in 2026-12)
        doc["actions"] = acts * max(1, min(2000, HUGE_ACTIONS // len(acts)))
    return json.dumps(doc).encode(), f"actions: {how} ({i}, {j})"


PATH_OPS = [m_action_field] * 4 + [m_action_list] * 3 + JSON_OPS + BYTE_OPS + [m_truncate]


@st.composite
def path_inputs(draw, max_mutations: int = 3) -> FuzzInput:
    seeds = path_seeds()
    name, data, scenario = draw(st.sampled_from(seeds))
    compact = draw(st.integers(0, 3)) > 0
    if compact:            # one line: the JSON mutations work on lines
        data = json.dumps(json.loads(data)).encode()
    data, done = _mutate(draw, data, PATH_OPS if compact else BYTE_OPS + [m_truncate], max_mutations)
    extra = {"scen.toml": scenario}
    if draw(st.integers(0, 9)) == 0:       # the path against another scenario
        other = draw(st.sampled_from(seeds))
        extra["scen.toml"] = other[2]
        done.append(f"scenario of {other[0]}")
    cmd = ["explore", "--scenario", "scen.toml", "--replay", IN]
    if draw(st.integers(0, 4)) == 0:
        cmd.append("--untimed")
    return FuzzInput("path", name, data, done, [cmd], ".path.json", extra)


# ---------------------------------------------------------------------------------------
# output paths

# what the runner makes at OUT before the commands run (tests/fuzz/runner.py, SPECIAL)
TARGETS = ["fifo", "symlink-file", "symlink-missing", "symlink-null", "device", "missing-dirs",
           "file-parent", "directory", "long-name", "symlink-loop", "stdout", "regular"]


def _out_path(target: str, suffix: str) -> str:
    return {"missing-dirs": f"a/b/c/out{suffix}", "file-parent": f"plain.txt/out{suffix}",
            "long-name": "n" * 300 + suffix, "stdout": "-", "directory": "adir"}.get(target, f"out{suffix}")


@st.composite
def output_inputs(draw) -> FuzzInput:
    target = draw(st.sampled_from(TARGETS))
    history = dict(seedmod.history_seeds())
    small = sorted((k for k, v in history.items() if len(v) < 4000 and not k.endswith("-nots.jsonl")))
    writer = draw(st.sampled_from(["convert-edn", "convert-jsonl", "report", "check-html", "check-o",
                                   "check-reads", "simulate", "simulate-truth", "explore", "search",
                                   "predict"]))
    extra: dict[str, bytes] = {}
    if writer in ("simulate", "simulate-truth", "explore", "search", "predict"):
        name, data = ("hand/eventual-features.toml", EVENTUAL_FEATURES) if writer != "predict" else \
            draw(st.sampled_from(forecast_seeds()))
        ext = ".toml"
    else:
        name = draw(st.sampled_from(small))
        data, ext = history[name], ".jsonl"
    out = _out_path(target, {"convert-edn": ".edn", "report": ".html", "check-html": ".html"}.get(writer, ".jsonl"))
    made = target not in ("stdout", "missing-dirs", "long-name")        # something the runner makes
    special = {"plain.txt": "regular"} if target == "file-parent" else {out: target} if made else {}
    if writer == "simulate-truth" and made and target != "file-parent":
        out, special = "h.jsonl", {"h.truth.jsonl": target}    # the ground truth goes beside the history
    cmd = {
        "convert-edn": ["convert", IN, out], "convert-jsonl": ["convert", IN, out],
        "report": ["report", "--jobs", "1", "-o", out, IN],
        "check-html": ["check", "--jobs", "1", "--html", out, IN],
        "check-o": ["check", "--jobs", "1", "--format", "json", "-o", out, IN],
        "check-reads": ["check", "--jobs", "1", "--reads-out", out, IN],
        "simulate": ["simulate", "--scenario", IN, "--seed", "1", "-o", out],
        "simulate-truth": ["simulate", "--scenario", IN, "--seed", "1", "-o", out],
        "explore": ["explore", "--scenario", IN, "--quiet", "--invariant", "userinv:found", "-o", out],
        "search": ["search", "--scenario", IN, "--budget", "2", "--invariant", "userinv:found", "--no-report",
                   "-o", out],
        "predict": ["predict", "--scenario", IN, "--trials", "1000", "-o", out],
    }[writer]
    if writer in ("explore", "search"):
        extra["userinv.py"] = USER_INVARIANTS
    return FuzzInput("output", f"{name} -> {target}", data, [f"{writer} to {target}"], [cmd], ext, extra,
                     special=special)
