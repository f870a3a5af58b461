"""The valid inputs the fuzzer starts from: histories, scenarios, EDN files, Jepsen logs.

Histories come from ``histories/anomalies`` and ``histories/naive-traps`` (those the
reference validator accepts), a few small model runs (with and without ``ts``), and
hand-made ones that use every part of the format (update, cas, delete, nemesis, info,
strong mode, register, integers beyond 64 bits). Scenarios are the example TOML files,
shrunk to a short workload so that one simulation takes well under a second. EDN seeds are
the small files of ``../shared/anchor-data`` (read only) and EDN conversions of the
histories.
"""

from __future__ import annotations

import functools
import io
import json
import re
import tempfile
from pathlib import Path

from tests.anchors import anchor_dir

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = anchor_dir() or ROOT.parent / "shared" / "anchor-data"
SCENARIO_DIR = ROOT / "histories" / "scenarios"

MAX_EDN_BYTES = 6000


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(", ", ": "))


def _hand_made() -> dict[str, bytes]:
    """Valid histories using the parts of the format the examples do not."""
    big = 2 ** 70
    h1 = [
        {"format": "gt-history", "version": 1, "regions": ["us-east-1", "eu-west-1"],
         "mode": "eventual", "clock_uncertainty_ns": 5, "ts_uncertainty_ns": None,
         "settled_after_ns": 1000, "source": "fuzz seed", "seed": big},
        {"type": "invoke", "process": 1, "region": "us-east-1", "f": "write", "key": "a",
         "value": {"v": big}, "time": 10},
        {"type": "ok", "process": 1, "region": "us-east-1", "f": "write", "key": "a",
         "value": {"v": big}, "time": 20, "ts": big, "origin": "us-east-1"},
        {"type": "invoke", "process": "c2", "region": "eu-west-1", "f": "write", "key": "a",
         "value": {"v": big + 1}, "time": 30},
        {"type": "ok", "process": "c2", "time": 40, "ts": big + 1, "origin": "eu-west-1"},
        {"type": "invoke", "process": 1, "region": "us-east-1", "f": "update", "key": "a",
         "value": {"set": {"w": 1}, "remove": ["x"], "add": {"n": 2}}, "time": 50},
        {"type": "ok", "process": 1, "value": {"v": big + 1, "w": 1, "n": 2}, "time": 60,
         "ts": big + 2},
        {"type": "info", "process": "nemesis", "f": "partition", "value": {"isolate": ["eu-west-1"]},
         "time": 65},
        {"type": "invoke", "process": "c2", "region": "eu-west-1", "f": "cas", "key": "b",
         "value": [None, {"v": 1}], "time": 70},
        {"type": "info", "process": "c2", "time": 80, "error": "timeout"},
        {"type": "invoke", "process": "c2", "region": "eu-west-1", "f": "delete", "key": "b",
         "value": None, "time": 90, "condition": {"attribute_exists": "v"}},
        {"type": "fail", "process": "c2", "time": 95, "error": "condition"},
        {"type": "invoke", "process": "ttl", "region": "us-east-1", "f": "delete", "key": "c",
         "time": 96},
        {"type": "ok", "process": "ttl", "time": 97, "ts": -5},
        {"type": "info", "process": "nemesis", "f": "heal", "value": None, "time": 99},
        {"type": "invoke", "process": 3, "region": "eu-west-1", "f": "read", "key": "a",
         "consistent": True, "time": 1000},
        {"type": "ok", "process": 3, "value": {"v": big + 1, "w": 1, "n": 2}, "time": 1001},
        {"type": "invoke", "process": 4, "region": "us-east-1", "f": "read", "key": "b",
         "value": None, "consistent": False, "time": 1002},
        {"type": "ok", "process": 4, "value": None, "time": 1003},
        {"type": "invoke", "process": 5, "region": "us-east-1", "f": "write", "key": "z",
         "value": "pending", "time": 10},
    ]
    # the last invocation is out of time order: fix it by putting it before settling
    h1[-1]["time"] = 1003
    h1[-1]["f"] = "read"
    h1[-1]["value"] = None
    h2 = [
        {"format": "gt-history", "version": 1, "regions": ["r1"], "mode": "strong",
         "register": True, "initial": 0},
        {"index": 5, "type": "invoke", "process": 0, "region": "r1", "f": "write", "key": "r",
         "value": 1, "time": 0},
        {"index": 3, "type": "ok", "process": 0, "time": 1},
        {"index": 9, "type": "invoke", "process": 1, "region": "r1", "f": "write", "key": "r",
         "value": 1, "time": 1},
        {"index": 0, "type": "ok", "process": 1, "time": 1},
        {"index": 1, "type": "invoke", "process": 0, "region": "r1", "f": "cas", "key": "r",
         "value": [1, 2], "time": 2},
        {"index": 2, "type": "ok", "process": 0, "value": [1, 2], "time": 3},
        {"index": 4, "type": "invoke", "process": 0, "region": "r1", "f": "read", "key": "r",
         "time": 4},
        {"index": 6, "type": "ok", "process": 0, "value": 2, "time": 5},
    ]
    # exact numbers: 1.5 and 15e-1 are one value, so they are written to different keys;
    # 2**64 and 2**64 + 1 are different values of one key
    h3 = [
        {"format": "gt-history", "version": 1, "regions": ["a", "b"], "settled_after_ns": 100},
        {"type": "invoke", "process": 0, "region": "a", "f": "write", "key": "k", "value": 2 ** 64,
         "time": 1},
        {"type": "ok", "process": 0, "time": 2, "ts": 2 ** 64},
        {"type": "invoke", "process": 0, "region": "a", "f": "write", "key": "k",
         "value": 2 ** 64 + 1, "time": 3},
        {"type": "ok", "process": 0, "time": 4, "ts": 2 ** 64 + 1},
        {"type": "invoke", "process": 1, "region": "b", "f": "write", "key": "m", "value": "F15",
         "time": 5},
        {"type": "ok", "process": 1, "time": 6, "ts": -1},
        {"type": "invoke", "process": 1, "region": "b", "f": "write", "key": "m",
         "value": {"ü": "ĳ \u2028 ☃ 😀"}, "time": 7},
        {"type": "ok", "process": 1, "time": 8, "ts": -2},
        {"type": "invoke", "process": 2, "region": "a", "f": "read", "key": "k", "time": 100},
        {"type": "ok", "process": 2, "value": 2 ** 64 + 1, "time": 101},
        {"type": "invoke", "process": 2, "region": "b", "f": "read", "key": "m", "time": 102},
        {"type": "ok", "process": 2, "value": {"ü": "ĳ \u2028 ☃ 😀"}, "time": 103},
    ]
    out = {}
    for name, lines in (("features", h1), ("register", h2), ("exact", h3)):
        text = "\n".join(_dumps(x) for x in lines) + "\n"
        out[f"hand/{name}.jsonl"] = text.replace('"F15"', "1.5").encode()
    return out


def _model_histories() -> dict[str, bytes]:
    from gtcheck.model.scenario import scenario_from_dict
    from gtcheck.model.simulator import simulate

    specs = {
        "model/isolate": ({"workload": {"keys": 3, "rate": 100, "duration": "400ms"},
                           "faults": [{"kind": "isolate", "region": "eu-west-1", "at": "100ms",
                                       "duration": "200ms"}],
                           "final": {"settle": "1s"}}, 1),
        "model/mix": ({"regions": {"names": ["us-east-1", "eu-west-1"]},
                       "workload": {"keys": 2, "rate": 150, "duration": "300ms",
                                    "mix": {"read": 1, "write": 1, "update": 1, "delete": 1,
                                            "cas": 1, "increment": 1, "transaction": 1}},
                       "final": {"settle": "1s"}}, 2),
        # about 800 operations on 5 keys, a skewed clock and an isolation: enough for
        # the solver to have real work when ts is dropped
        "model/medium": ({"workload": {"keys": 5, "rate": 300, "duration": "3s"},
                          "faults": [{"kind": "isolate", "region": "eu-west-1", "at": "1s",
                                      "duration": "1s"}],
                          "clocks": {"us-east-1": {"offset": "30ms"}},
                          "final": {"settle": "1s"}}, 3),
    }
    out = {}
    for name, (data, seed) in specs.items():
        buf = io.BytesIO()
        simulate(scenario_from_dict(data, name=name.split("/")[1]), seed, buf, False)
        text = buf.getvalue()
        out[f"{name}.jsonl"] = text
        # the same without ts: the z3 path
        lines = text.decode().splitlines()
        stripped = [lines[0]]
        for line in lines[1:]:
            ev = json.loads(line)
            ev.pop("ts", None)
            stripped.append(json.dumps(ev))
        out[f"{name}-nots.jsonl"] = ("\n".join(stripped) + "\n").encode()
    return out


@functools.lru_cache(maxsize=None)
def history_seeds() -> tuple[tuple[str, bytes], ...]:
    from tests.refvalidator import validate_bytes

    seeds: dict[str, bytes] = {}
    for folder in ("anomalies", "naive-traps"):
        for path in sorted((ROOT / "histories" / folder).glob("*.jsonl")):
            seeds[f"{folder}/{path.name}"] = path.read_bytes()
    seeds.update(_hand_made())
    seeds.update(_model_histories())
    # only valid inputs are seeds (ambiguous-version.jsonl is refused by design)
    return tuple((k, v) for k, v in seeds.items() if validate_bytes(v).accepted)


_TABLE = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")


def shrink_scenario(text: str) -> str:
    """Make a scenario quick to simulate: a workload of at most 3 s at a low rate, faults
    inside it (scripted behaviours, already short, keep their times)."""
    out, table = [], ""
    for line in text.splitlines():
        m = _TABLE.match(line)
        if m:
            table = m.group(1)
        key = line.split("=", 1)[0].strip() if "=" in line and not m else None
        if table == "workload" and key == "duration":
            seconds = _seconds(line.split("=", 1)[1])
            if "[[script]]" not in text and (seconds is None or seconds > 10):
                line = 'duration = "3s"'
        elif table == "workload" and key == "rate":
            line = "rate = 100"
        elif table == "workload" and key == "keys":
            line = "keys = 20"
        elif table == "faults" and key == "at":
            line = 'at = "1s"'
        elif table == "faults" and key == "duration":
            line = 'duration = "1s"'
        elif table == "random_faults" and key in ("min_duration", "max_duration"):
            line = f'{key} = "{200 if key == "min_duration" else 800}ms"'
        elif table == "final" and key == "settle":
            line = 'settle = "1s"'
        out.append(line)
    return "\n".join(out) + "\n"


def _seconds(value: str):
    m = re.match(r'\s*"(\d+(?:\.\d+)?)(ms|s|m)"', value)
    if not m:
        return None
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


@functools.lru_cache(maxsize=None)
def scenario_seeds() -> tuple[tuple[str, bytes], ...]:
    seeds = []
    for path in sorted(SCENARIO_DIR.glob("*.toml")) + sorted(SCENARIO_DIR.glob("behaviours/*.toml")):
        seeds.append((str(path.relative_to(SCENARIO_DIR)), shrink_scenario(path.read_text()).encode()))
    return tuple(seeds)


@functools.lru_cache(maxsize=None)
def edn_seeds() -> tuple[tuple[str, bytes], ...]:
    seeds = []
    for path in sorted(ANCHOR.glob("knossos-cas-register/*/*.edn")):
        if path.stat().st_size <= MAX_EDN_BYTES:
            seeds.append((str(path.relative_to(ANCHOR)), path.read_bytes()))
    # EDN written by gtcheck itself (independent [key value] values, header comment),
    # through the command line; a history gtcheck cannot convert yet is left out
    import contextlib

    from gtcheck.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        for name, data in history_seeds():
            if not name.startswith(("model/", "anomalies/valid", "hand/")):
                continue
            src, dst = Path(tmp) / "h.jsonl", Path(tmp) / "h.edn"
            src.write_bytes(data)
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                try:
                    main(["convert", str(src), str(dst)])
                except SystemExit as exc:
                    code = exc.code
            if code == 0 and dst.stat().st_size <= 4 * MAX_EDN_BYTES:
                seeds.append((f"gt-to-edn/{name}.edn", dst.read_bytes()))
    return tuple(seeds)


@functools.lru_cache(maxsize=None)
def log_seeds() -> tuple[tuple[str, bytes], ...]:
    seeds = []
    for name in ("etcd_002.log", "etcd_039.log"):
        path = ANCHOR / "porcupine-etcd" / name
        if path.exists():
            lines = path.read_bytes().splitlines(keepends=True)[:60]
            seeds.append((f"porcupine-etcd/{name}", b"".join(lines)))
    return tuple(seeds)
