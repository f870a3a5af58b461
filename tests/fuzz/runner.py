"""Run fuzzed inputs through the real ``gtcheck`` entry point, judge what happened, tally it.

Each input runs in a worker process that calls ``gtcheck.cli.main`` in-process through
tests/clihelp.run_cli, the way a user's shell would run it. The worker is forked once and
warmed up (every command run once); each input then runs in a fork of it, so that no
state one run leaves in the process reaches another (runs compared with each other get
a fork each). Bounds:

* memory bounded by ``RLIMIT_AS`` (``GTCHECK_FUZZ_MEM_MB``, default 3000 MB): running out
  is a MemoryError inside gtcheck (an internal error) or the worker's death, both reported;
* a per-input deadline for hang detection only (``GTCHECK_FUZZ_DEADLINE``, default 20 s):
  past it the worker's process group is killed and the stack faulthandler dumped just
  before is kept as the hang's place. No speed is asserted.

What is judged (``judge``), per command run:

* the exit code is one of 0, 1, 2, 254; never 255, never a signal;
* no Python traceback in what it printed (stdout, stderr, and the file descriptors that
  worker processes of ``--jobs 2`` write to);
* a 254 names the input file, and for a gt history that the reference validator refuses
  at a line, a line of the file (``in.jsonl:N``);
* for gt histories, the verdict of ``gtcheck validate`` (and the accept/refuse of check,
  report and convert) agrees with tests/refvalidator.py, both ways;
* ``check --jobs 1`` and ``--jobs 2`` give the same exit code, verdicts, cited anomalies
  and staleness figures; so do a check run twice in one process, a history and its
  twin spelled differently (tests/fuzz/strategies.py, metamorphic), and a history and
  its round trip through EDN;
* a check or report never copies a script from the input into the HTML raw;
* a scenario's 254 names the file and a field or line; a NaN argument is refused;
* what ``simulate`` writes is accepted by ``gtcheck validate`` and the reference
  validator, and the same scenario and seed write the same bytes.

An internal error is rerun with ``GTCHECK_DEBUG=1`` to find the innermost gtcheck frame,
which with the exception type names the failure class.
"""

from __future__ import annotations

import collections
import contextlib
import faulthandler
import io
import json
import multiprocessing
import os
import re
import resource
import shutil
import signal
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests import refvalidator
from tests.fuzz.strategies import IN, FuzzInput
from tests.specialfiles import NULL, device
from tests.specialfiles import fingerprint as node_fingerprint

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = float(os.environ.get("GTCHECK_FUZZ_DEADLINE", "20"))
MEM_MB = int(os.environ.get("GTCHECK_FUZZ_MEM_MB", "3000"))
OK_CODES = {0, 1, 2, 254}
TRACEBACK = "Traceback (most recent call last)"
XSS_NEEDLE = "<script>alert(1)</script>"   # a key the strategies may give; never raw in HTML

DELAY_FILES = {
    "delays.txt": b"# ok\n1ms\n2ms\n250ms\n",
    "delays-bad.txt": b"1ms\nnan\n\xff\xfe\n1e400s\n-5ms\n" + b"9" * 500 + b"ms\n",
    "delays-empty.txt": b"",
}


# ---------------------------------------------------------------------------------------
# special files at output paths (tests/fuzz/surfaces.py, output_inputs)

def _null_target() -> str:
    """The null device the symlinks point to: our own (made as root), else /dev/null."""
    return "null-dev" if os.path.exists("null-dev") else str(device(Path(".")))


def make_special(name: str, kind: str) -> None:
    """Make ``name`` the kind of thing a command is then asked to write to. Never the
    machine's /dev/null itself as a target: as root a private null device is made with
    mknod (tests/specialfiles.device), so a bug that replaced it would replace only that."""
    if kind == "fifo":
        os.mkfifo(name)
    elif kind == "symlink-file":
        with open("target.dat", "wb") as fh:
            fh.write(b"old\n")
        os.symlink("target.dat", name)
    elif kind == "symlink-missing":
        os.symlink("missing-target.dat", name)
    elif kind == "symlink-null":
        os.symlink(os.path.abspath(_null_target()), name)
    elif kind == "device":
        if os.geteuid() == 0:
            os.mknod(name, stat.S_IFCHR | 0o666, os.makedev(1, NULL))
        else:
            os.symlink("/dev/null", name)          # not root: /dev/null, which must stay as it is
    elif kind == "directory":
        os.mkdir(name)
    elif kind == "symlink-loop":
        os.symlink(name, name)
    elif kind == "regular":
        with open(name, "wb") as fh:
            fh.write(b"old\n")


def fingerprint(name: str):
    """What must not change when a command writes to ``name`` (tests/specialfiles'
    fingerprint, and a link's text); a regular file only stays one (it is replaced
    atomically: a new inode)."""
    try:
        st_ = os.lstat(name)
    except OSError:
        return None
    if stat.S_ISREG(st_.st_mode):
        return stat.S_IFREG
    return node_fingerprint(Path(name)), os.readlink(name) if stat.S_ISLNK(st_.st_mode) else None


def _special_names(special: dict) -> list[str]:
    names = list(special)
    if any(k in ("symlink-null", "device") for k in special.values()):
        names += [_null_target()]
    if "symlink-file" in special.values():
        names.append("target.dat")
    return names


class _FifoDrain:
    """Reads every FIFO among the special files, as a consumer would, so that a command
    writing through one is not blocked; stopped once the commands are done."""

    def __init__(self, names: list[str]):
        import threading

        self.names = [n for n in names if stat.S_ISFIFO(os.lstat(n).st_mode)]
        self.stop = False
        self.got = {n: 0 for n in self.names}
        self.threads = [threading.Thread(target=self._drain, args=(n,), daemon=True) for n in self.names]
        for t in self.threads:
            t.start()

    def _drain(self, name: str) -> None:
        while not self.stop:
            fd = os.open(name, os.O_RDONLY)     # blocks until a writer opens it
            try:
                while chunk := os.read(fd, 1 << 16):
                    self.got[name] += len(chunk)
            finally:
                os.close(fd)

    def finish(self) -> None:
        self.stop = True
        for n in self.names:                    # wake a reader still waiting for a writer
            with contextlib.suppress(OSError):
                os.close(os.open(n, os.O_WRONLY | os.O_NONBLOCK))
        for t in self.threads:
            t.join(2)


# ---------------------------------------------------------------------------------------
# the worker

class _FakeCapsys:
    def __init__(self, out: io.StringIO, err: io.StringIO):
        self._out, self._err = out, err

    def readouterr(self):
        res = collections.namedtuple("CaptureResult", "out err")(self._out.getvalue(),
                                                                 self._err.getvalue())
        self._out.seek(0), self._out.truncate()
        self._err.seek(0), self._err.truncate()
        return res


def _innermost_gtcheck_frame(tb_text: str) -> str:
    frames = re.findall(r'File "([^"]+)", line (\d+),? in (\S+)', tb_text)
    if "most recent call first" in tb_text:   # faulthandler writes the innermost first
        frames = frames[::-1]
    mine = [f for f in frames if "/tests/" not in f[0]
            and ("/gtcheck/" in f[0] or "/checker/" in f[0] or "/model/" in f[0])]
    chosen = (mine or frames or [("?", "?", "?")])[-1]
    path = chosen[0]
    for marker in ("/gtcheck/", "/checker/", "/model/"):
        if marker in path:
            path = marker.strip("/") + "/" + path.split(marker, 1)[1]
            break
    return f"{path}:{chosen[1]} in {chosen[2]}"


def _run_once(argv, capfile) -> dict:
    from tests.clihelp import run_cli

    os.ftruncate(capfile.fileno(), 0)
    os.lseek(capfile.fileno(), 0, os.SEEK_SET)
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    faulthandler.dump_traceback_later(max(DEADLINE_S - 2, 1), exit=False, file=capfile)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code, o, e = run_cli(argv, _FakeCapsys(out, err))
    except BaseException as exc:  # noqa: BLE001 - anything past SystemExit is a finding
        import traceback

        code, o, e = "escaped", out.getvalue(), err.getvalue() + "".join(
            traceback.format_exception(exc))
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.perf_counter() - started
    with open(capfile.name, "rb") as fh:
        fd_text = fh.read().decode("utf-8", "replace")
    return {"code": code, "out": o, "err": e, "fd": fd_text, "elapsed": elapsed}


def _worker_main(conn, workdir: str) -> None:
    os.setsid()
    lim = MEM_MB << 20
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    os.environ.pop("GTCHECK_DEBUG", None)
    os.chdir(workdir)
    capfile = open(os.path.join(workdir, "..", "capture.txt"), "w+b", buffering=0)
    os.dup2(capfile.fileno(), 1)
    os.dup2(capfile.fileno(), 2)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _warm_up(workdir, capfile)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        if job == "stats":
            own = resource.getrusage(resource.RUSAGE_SELF)
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)
            conn.send({"worker_peak_rss_mb": round(own.ru_maxrss / 1024, 1),
                       "children_peak_rss_mb": round(kids.ru_maxrss / 1024, 1),
                       "worker_cpu_s": round(own.ru_utime + own.ru_stime, 1),
                       "children_cpu_s": round(kids.ru_utime + kids.ru_stime, 1)})
            continue
        for name in os.listdir(workdir):
            p = os.path.join(workdir, name)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)
        for name, data in DELAY_FILES.items():
            with open(name, "wb") as fh:
                fh.write(data)
        with open(job["name"], "wb") as fh:
            fh.write(job["data"])
        for extra_name, extra_data in job.get("extra", {}).items():
            with open(extra_name, "wb") as fh:
                fh.write(extra_data)
        for special_name, kind in job.get("special", {}).items():
            make_special(special_name, kind)
        if _compares_runs(job["commands"]):
            results = []
            for argv in job["commands"]:
                results += _run_in_child(dict(job, commands=[argv]), capfile)
        else:
            results = _run_in_child(job, capfile)
        conn.send(results)


WARM_HISTORY = (b'{"format": "gt-history", "version": 1, "regions": ["a", "b"], "settled_after_ns": 100}\n'
                b'{"type": "invoke", "process": 0, "region": "a", "f": "write", "key": "k", "value": {"v": 1}, "time": 1}\n'
                b'{"type": "ok", "process": 0, "time": 2}\n'
                b'{"type": "invoke", "process": 1, "region": "b", "f": "read", "key": "k", "time": 100}\n'
                b'{"type": "ok", "process": 1, "value": {"v": 1}, "time": 101}\n')


def _warm_up(workdir: str, capfile) -> None:
    """Import and exercise every command once in the worker, so that the forked child of
    each input starts warm (and from the same state)."""
    with open("warm.jsonl", "wb") as fh:
        fh.write(WARM_HISTORY)
    with open("warm.toml", "wb") as fh:
        fh.write(b'[workload]\nduration = "100ms"\nrate = 50\n[final]\nsettle = "1s"\n')
    for argv in (["validate", "warm.jsonl"], ["check", "--jobs", "1", "--format", "json", "warm.jsonl"],
                 ["check", "--jobs", "1", "--format", "junit", "warm.jsonl"],
                 ["report", "--jobs", "1", "-o", "warm.html", "warm.jsonl"],
                 ["convert", "warm.jsonl", "warm.edn"], ["convert", "warm.edn", "warm2.jsonl"],
                 ["simulate", "--scenario", "warm.toml", "-o", "warm-sim.jsonl"]):
        _run_once(argv, capfile)


TWICE = "@twice"   # a command given as [TWICE, *argv] runs twice in one process


def _compares_runs(commands) -> bool:
    """Whether the judge compares runs of this input with each other (--jobs 1 and 2,
    twins, round trips, repeats): then each run gets its own fresh fork."""
    checks = [c for c in commands if c and c[0] in ("check", TWICE)]
    return len(checks) > 1 or any(c and c[0] == TWICE for c in commands)


def _run_job(job, capfile) -> list[dict]:
    results = []
    commands = []
    for argv in job["commands"]:
        argv = [job["name"] if a == IN else a for a in argv]
        times = 1
        while argv and argv[0] == TWICE:     # each leading @twice doubles the runs
            argv, times = argv[1:], times * 2
        commands += [argv] * times
    special = _special_names(job.get("special", {}))
    before = {n: fingerprint(n) for n in special}
    drain = _FifoDrain(special) if special else None
    for argv in commands:
        res = _run_once(argv, capfile)
        if res["code"] == 255:
            os.environ["GTCHECK_DEBUG"] = "1"
            try:
                again = _run_once(argv, capfile)
            finally:
                os.environ.pop("GTCHECK_DEBUG", None)
            res["frame"] = _innermost_gtcheck_frame(again["err"] + again["fd"])
        res["argv"] = argv
        if argv[0] == "simulate" and res["code"] == 0 and not job.get("special"):
            out = argv[argv.index("-o") + 1]
            if os.path.exists(out) and os.path.getsize(out) <= 8 << 20:
                with open(out, "rb") as fh:
                    res["history"] = fh.read()
        for html in ("out.html",):
            if os.path.exists(html) and html not in job.get("special", {}):
                with open(html, "rb") as fh:
                    res["xss"] = XSS_NEEDLE.encode() in fh.read()
                os.unlink(html)
        results.append(res)
    if drain is not None:
        drain.finish()
    changed = [f"{n} ({job['special'].get(n, 'beside')})" for n in special if fingerprint(n) != before[n]]
    if changed and results:
        results[-1]["replaced"] = changed
    return results


def _run_in_child(job, capfile) -> list[dict]:
    """Each command runs in a fork of the warmed-up worker, so that no state a run leaves
    in the process (caches, the solver's global context) reaches the next run: results
    compared with each other (--jobs 1 and 2, twins, EDN round trips) start alike. A
    [TWICE, ...] command runs twice in one child, which is how state kept between runs in
    one process is caught."""
    import pickle

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            payload = pickle.dumps(_run_job(job, capfile))
        except BaseException as exc:  # noqa: BLE001
            payload = pickle.dumps([{"argv": job["commands"][0], "code": "died", "out": "", "err": "",
                                     "fd": "", "why": f"harness: {exc!r}", "elapsed": 0}])
        with os.fdopen(w, "wb") as fh:
            fh.write(payload)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        payload = fh.read()
    _, status = os.waitpid(pid, 0)
    if payload:
        return pickle.loads(payload)
    why = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
           else f"exit status {os.WEXITSTATUS(status)}")
    return [{"argv": [job["name"] if a == IN else a for a in job["commands"][0] if a != TWICE], "code": "died",
             "out": "", "err": "", "fd": "", "why": why, "elapsed": 0}]


# ---------------------------------------------------------------------------------------
# judging

def _norm(text: str, limit: int = 110) -> str:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "S", text)
    text = re.sub(r"'(?:[^'\\]|\\.)*'", "S", text)
    text = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:limit]


def command_name(argv) -> str:
    name = argv[0]
    if name == "check":
        jobs = argv[argv.index("--jobs") + 1] if "--jobs" in argv else "?"
        fmt = argv[argv.index("--format") + 1] if "--format" in argv else "text"
        return f"check -j{jobs}" + ("" if fmt == "text" else f" {fmt}")
    if name == "validate" and "--format" in argv:
        return "validate --format gt"
    if name == "convert":
        return f"convert ->{Path(argv[2]).suffix}"
    return name


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if line.startswith(("error:", "internal error:")) or "error:" in line[:12]:
            return line
    return text.strip().splitlines()[0] if text.strip() else ""


def _gt_error_key(text: str, name: str) -> str:
    line = _first_error(text)
    line = line.split(f"{name}:", 1)[-1]
    m = re.search(r'field "([^"]*)"', line)
    return (f'field {m.group(1)}: ' if m else "") + _norm(line.split(":", 2)[-1] if m else line)


def _verdicts(json_text: str):
    """What a check result says, without its timings and options: the verdicts, the
    anomalies (kind and cited events) and the staleness figures."""
    try:
        doc = json.loads(json_text)
    except ValueError:
        return None
    props = {}
    for name in ("integrity", "convergence", "read_after_write", "staleness", "linearizability"):
        p = doc.get(name) or {}
        anomalies = sorted(json.dumps({k: v for k, v in a.items() if k in ("kind", "type", "name", "key", "events", "ops", "indices")},
                                      sort_keys=True) for a in (p.get("anomalies") or []) if isinstance(a, dict))
        props[name] = (p.get("valid"), json.dumps(p.get("anomaly_counts"), sort_keys=True), anomalies)
    st = doc.get("staleness") or {}
    figures = json.dumps({"smallest": st.get("smallest_bound_ns"),
                          "pairs": {k: v.get("max_ns") for k, v in (st.get("pairs") or {}).items()}},
                         sort_keys=True)
    return doc.get("valid"), props, figures


def _differs(a: dict, b: dict) -> str:
    va, vb = _verdicts(a["out"]), _verdicts(b["out"])
    if va == vb:
        return ""
    if va is None or vb is None:
        return "output not JSON"
    if va[0] != vb[0]:
        return f"valid {va[0]} vs {vb[0]}"
    for name in va[1]:
        if va[1][name][:2] != vb[1][name][:2]:
            return f"{name} {va[1][name][:2]} vs {vb[1][name][:2]}"
        if va[1][name][2] != vb[1][name][2]:
            return f"{name}: anomalies cite other events"
    return "staleness figures differ"


@dataclass
class Failure:
    key: str
    detail: str


def _file_arg(argv) -> str:
    if argv[0] == "convert":
        return argv[1]
    if "--replay" in argv:
        return argv[argv.index("--replay") + 1]
    if argv[0] in ("simulate", "explore", "search", "predict") and "--scenario" in argv:
        return argv[argv.index("--scenario") + 1]
    return argv[-1]


_OUTPUT_OPTIONS = ("-o", "--html", "--reads-out")


def _outputs(argv) -> list[str]:
    """The output paths a command line names."""
    out = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in _OUTPUT_OPTIONS]
    if argv[0] == "convert" and len(argv) > 2:
        out.append(argv[2])
    return out


# a 254 about an option names it (explore, search and predict runs are given odd values)
_OPTION_NAMED = re.compile(r"--[a-z][a-z-]+|Invalid value|No such option|requires an argument")


_SCENARIO_PLACE = re.compile(r"in\.toml: (line \d+|not valid TOML.*\(at (line \d+|end of document)|"
                             r"[A-Za-z_][\w.\[\]\"' >-]*:)")


def judge(inp: FuzzInput, name: str, results: list[dict], ref) -> tuple[list[Failure], dict]:
    """The failures of one input's runs, and facts for the tally."""
    fails: list[Failure] = []
    facts: dict = {"line_agrees": None}
    for res in results:
        cmd = command_name(res["argv"])
        code = res["code"]
        text = res["out"] + res["err"] + res["fd"]
        target = _file_arg(res["argv"])
        if code == "hang":
            fails.append(Failure(f"hang [{cmd}] at {res.get('frame', '?')}",
                                 f"no exit after {DEADLINE_S:.0f} s"))
            continue
        if code == "died":
            fails.append(Failure(f"worker died [{cmd}]: {res.get('why')}", res.get("why", "")))
            continue
        if code == 255:
            msg = _first_error(res["err"])
            exc = re.match(r"internal error: (\w+)", msg)
            fails.append(Failure(
                f"exit 255 [{cmd}] {exc.group(1) if exc else '?'} at {res.get('frame', '?')}", msg))
        elif code not in OK_CODES:
            fails.append(Failure(f"exit {code} [{cmd}]", _first_error(text)))
        if TRACEBACK in text and code != 255:
            frame = _innermost_gtcheck_frame(text)
            fails.append(Failure(f"traceback printed [{cmd}] at {frame}", ""))
        if res.get("replaced"):
            fails.append(Failure(f"a special file was replaced [{cmd}]: {', '.join(res['replaced'])}",
                                 inp.describe()))
        if res.get("xss"):
            fails.append(Failure(f"raw script from the input in the HTML [{cmd}]", XSS_NEEDLE))
        # an argument refused (these runs give odd --timeout / --staleness-bound values)
        arg_error = code == 254 and re.search(r"--staleness-bound|--timeout|Invalid value", text)
        if inp.kind in ("model", "path", "output") and code == 254:
            arg_error = bool(_OPTION_NAMED.search(text)) or any(o in text for o in _outputs(res["argv"]))
        # a documented limit of the EDN writer (docs/history-format.md, "Writing EDN")
        edn_limit = code == 254 and cmd == "convert ->.edn" and "more than an EDN history may" in text
        if code == 254 and not arg_error:
            if target not in text:
                fails.append(Failure(f"254 does not name the file [{cmd}]", _first_error(text)))
            elif inp.kind == "scenario" and res["argv"][0] == "simulate" \
                    and not _SCENARIO_PLACE.search(text):
                fails.append(Failure(f"254 names no field or line of the scenario [{cmd}]",
                                     _first_error(text)))
            elif inp.kind in ("edn", "log") and target == name:
                facts["edn_line"] = bool(re.search(re.escape(name) + r":\d+|line \d+", text))
                facts["edn_message"] = _first_error(text)
            elif inp.kind == "history" and target == name and ref is not None \
                    and ref.verdict == "refuse" and ref.line:
                lines = {int(n) for n in re.findall(re.escape(name) + r":(\d+)", text)}
                if not lines:
                    fails.append(Failure(f"254 without a line [{cmd}] ({ref.rule} {ref.field})",
                                         _first_error(text)))
                elif cmd == "validate --format gt":
                    facts["line_agrees"] = ref.line in lines
                    facts["gt_lines"] = sorted(lines)[:5]
                    if ref.field and ref.line in lines:
                        named = re.findall(re.escape(f"{name}:{ref.line}:") + r'[^\n]*?field "([^"]*)"', text)
                        facts["gt_first"] = next((ln for ln in text.splitlines()
                                                  if f"{name}:{ref.line}:" in ln), "")[:200]
                        facts["field"] = ("field named as the reference does" if any(
                            f == ref.field or f.endswith("." + ref.field) for f in named)
                            else "field named differently" if named else "no field named")
        # arguments: a NaN is never a meaningful number or duration
        odd = [a for a in res["argv"][1:] if a.lower() in ("nan", "nanms")]
        if odd and code != 254:
            fails.append(Failure(f"a NaN argument is accepted [{cmd} {odd[0]}]", f"exit {code}"))
        # structure, compared with the reference validator (gt histories)
        if inp.kind == "history" and ref is not None and ref.verdict != "limit" and target == name \
                and not arg_error and not edn_limit \
                and code in OK_CODES and res["argv"][0] in ("validate", "check", "report", "convert"):
            if ref.accepted and code == 254:
                fails.append(Failure(f"valid input refused [{cmd}]: {_gt_error_key(text, name)}",
                                     _first_error(text)))
            elif not ref.accepted and code != 254:
                fails.append(Failure(
                    f"invalid input accepted [{cmd}]: {ref.rule} field {ref.field}: {_norm(ref.reason, 60)}",
                    str(ref)))
    # the model writes valid histories, the same for the same scenario and seed
    sims = [r for r in results if r["argv"][0] == "simulate" and r["code"] == 0 and "history" in r]
    if sims:
        written = refvalidator.validate_bytes(sims[0]["history"])
        if written.verdict == "refuse":
            fails.append(Failure(f"the model wrote a history the reference refuses: {written.rule} "
                                 f"field {written.field}: {_norm(written.reason, 60)}", str(written)))
        check = [r for r in results if r["argv"][0] == "validate" and r["argv"][-1] == "sim.jsonl"]
        if check and check[0]["code"] != 0:
            fails.append(Failure(f"gtcheck refuses what the model wrote: "
                                 f"{_gt_error_key(check[0]['err'], 'sim.jsonl')}", _first_error(check[0]["err"])))
        if len(sims) == 2 and sims[0]["history"] != sims[1]["history"]:
            fails.append(Failure("the same scenario and seed simulate different histories", ""))
    # --jobs must not change a result
    pair = [r for r in results if r["argv"][0] == "check" and "json" in r["argv"]
            and _file_arg(r["argv"]) == name]
    if len(pair) == 2 and all(r["code"] in OK_CODES for r in pair):
        a, b = pair
        if a["code"] != b["code"]:
            fails.append(Failure(f"--jobs changes the exit code: {a['code']} with 1, {b['code']} with 2",
                                 _first_error(a["err"]) + " / " + _first_error(b["err"])))
        elif a["code"] != 254 and _differs(a, b):
            fails.append(Failure("--jobs changes the result", _differs(a, b)))
    # the same command twice in one process: the same result (no state kept between runs)
    seen: dict = {}
    for r in results:
        if r["argv"][0] == "check" and "json" in r["argv"] and r["code"] in OK_CODES:
            key = tuple(r["argv"])
            if key in seen and seen[key]["code"] == r["code"] != 254 and _differs(seen[key], r):
                fails.append(Failure("a second run in the same process gives another result",
                                     f"{' '.join(key)}: {_differs(seen[key], r)}"))
            seen.setdefault(key, r)
    # one history spelled two ways the format calls equal: the same verdict
    twin_name = next((n for n in inp.extra if n.startswith("twin.")), None)
    if twin_name:
        a = [r for r in results if r["argv"][0] == "check" and r["argv"][-1] == name]
        b = [r for r in results if r["argv"][0] == "check" and r["argv"][-1] == twin_name]
        if a and b and a[0]["code"] in OK_CODES and b[0]["code"] in OK_CODES:
            how = inp.mutations[-1] if inp.mutations else ""
            if a[0]["code"] != b[0]["code"]:
                fails.append(Failure(f"an equal spelling changes the exit code ({a[0]['code']} -> "
                                     f"{b[0]['code']}): {_gt_error_key(b[0]['err'], twin_name)}",
                                     how + " / " + _first_error(b[0]["err"])))
            elif a[0]["code"] != 254 and _differs(a[0], b[0]) and not (
                    len(a) > 1 and _differs(a[0], a[1])):
                fails.append(Failure("an equal spelling changes the result",
                                     f"{how}: {_differs(a[0], b[0])}"))
    # gt -> EDN -> gt gives an equivalent history
    by_argv = {tuple(r["argv"]): r for r in results}
    there = by_argv.get(("convert", name, "rt.edn"))
    back = by_argv.get(("convert", "rt.edn", "rt.jsonl"))
    if there and back and there["code"] == 0:
        if back["code"] != 0:
            fails.append(Failure(f"EDN written by convert is not read back: exit {back['code']}: "
                                 f"{_gt_error_key(back['err'], 'rt.edn')}", _first_error(back["err"])))
        else:
            a = [r for r in results if r["argv"][0] == "check" and r["argv"][-1] == name]
            b = [r for r in results if r["argv"][0] == "check" and r["argv"][-1] == "rt.jsonl"]
            if a and b and (a[0]["code"] != b[0]["code"] or _differs(a[0], b[0])):
                fails.append(Failure("gt -> EDN -> gt changes the verdict",
                                     f"exit {a[0]['code']} before, {b[0]['code']} after"))
    return fails, facts


# ---------------------------------------------------------------------------------------
# the runner and its tally

@dataclass
class FailureClass:
    key: str
    count: int = 0
    example: FuzzInput | None = None
    detail: str = ""
    codes: list = field(default_factory=list)


class FuzzRunner:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="gtcheck-fuzz-")
        self.workdir = os.path.join(self.base, "w")
        os.mkdir(self.workdir)
        self.proc = None
        self.conn = None
        self.inputs = collections.Counter()
        self.runs = collections.Counter()
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.ref = collections.Counter()
        self.lines = collections.Counter()
        self.line_samples: list[str] = []
        self.line_examples: list[FuzzInput] = []
        self.edn_lines = collections.Counter()
        self.fields = collections.Counter()
        self.field_samples: list[str] = []
        self._field_kinds: set = set()
        self.edn_samples: list[str] = []
        self.classes: dict[str, FailureClass] = {}
        self.internal_errors = 0
        self.tracebacks = 0
        self.hangs = 0
        self.restarts = -1   # the first start is not a restart
        self.started = time.time()
        self.max_elapsed = (0.0, "")

    # -- worker management ---------------------------------------------------------
    def _start(self):
        self.restarts += 1
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, self.workdir), daemon=False)
        self.proc.start()
        child.close()

    def _kill(self):
        if self.proc is not None and self.proc.pid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.join(5)
        self.proc = None

    def worker_stats(self) -> dict:
        """Peak memory and CPU of the current worker (and of its --jobs children)."""
        if self.proc is None or not self.proc.is_alive():
            return {}
        try:
            self.conn.send("stats")
            return self.conn.recv() if self.conn.poll(10) else {}
        except (OSError, EOFError):     # the worker went away meanwhile: no figures
            return {}

    def close(self):
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.conn.close()
            self.proc.join(5)
            self._kill()
        shutil.rmtree(self.base, ignore_errors=True)

    def execute(self, inp: FuzzInput) -> tuple[str, list[dict]]:
        name = "in" + inp.ext
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send({"name": name, "data": inp.data, "commands": inp.commands, "extra": inp.extra,
                        "special": inp.special})
        budget = DEADLINE_S * len(inp.commands) + 2
        if self.conn.poll(budget):
            try:
                return name, self.conn.recv()
            except EOFError:
                pass
        alive = self.proc.is_alive()
        self._kill()
        cap = Path(self.base, "capture.txt")
        dump = cap.read_text("utf-8", "replace") if cap.exists() else ""
        frame = _innermost_gtcheck_frame(dump) if "File" in dump else "?"
        # which command: the dump does not say; blame them all (usually one)
        why = "hang" if alive else "died"
        res = [{"argv": [name if a == IN else a for a in argv if a != TWICE], "code": why, "out": "", "err": "",
                "fd": "", "frame": frame, "why": f"exitcode {self.proc.exitcode if self.proc else '?'}",
                "elapsed": budget} for argv in inp.commands[:1]]
        return name, res

    # -- one input -------------------------------------------------------------------
    def run(self, inp: FuzzInput) -> list[Failure]:
        name, results = self.execute(inp)
        ref = refvalidator.validate_bytes(inp.data) if inp.kind == "history" else None
        fails, facts = judge(inp, name, results, ref)
        self.inputs[inp.kind] += 1
        if ref is not None:
            self.ref[ref.verdict] += 1
        for res in results:
            cmd = command_name(res["argv"])
            self.runs[cmd] += 1
            self.codes[cmd][str(res["code"])] += 1
            if res["code"] == 255:
                self.internal_errors += 1
            if res["code"] == "hang":
                self.hangs += 1
            if TRACEBACK in res["out"] + res["err"] + res["fd"] and res["code"] != 255:
                self.tracebacks += 1
            if res.get("elapsed", 0) > self.max_elapsed[0]:
                self.max_elapsed = (res["elapsed"], cmd)
        if facts.get("field"):
            self.fields[facts["field"]] += 1
            kind = (ref.rule, ref.field, facts["field"])
            if facts["field"] != "field named as the reference does" and len(self.field_samples) < 12 \
                    and kind not in self._field_kinds:
                self._field_kinds.add(kind)
                self.field_samples.append(f"ref {ref} / gtcheck: {facts.get('gt_first', '')}")
        if facts.get("edn_line") is not None:
            self.edn_lines["254 with a line" if facts["edn_line"] else "254 without a line"] += 1
            if not facts["edn_line"] and len(self.edn_samples) < 6:
                self.edn_samples.append(facts["edn_message"][:200])
        if facts.get("line_agrees") is not None:
            self.lines["first refused line among gtcheck's" if facts["line_agrees"]
                       else "first refused line not named by gtcheck"] += 1
            if not facts["line_agrees"] and len(self.line_samples) < 8:
                self.line_samples.append(f"ref {ref} / gtcheck lines {facts.get('gt_lines')}")
                self.line_examples.append(inp)
        for f in fails:
            c = self.classes.setdefault(f.key, FailureClass(f.key))
            c.count += 1
            if c.example is None or len(inp.data) < len(c.example.data):
                c.example, c.detail = inp, f.detail
                c.codes = [r["code"] for r in results]
        return fails

    # -- minimising a failure ------------------------------------------------------------
    def minimize(self, key: str, budget: int = 60) -> FuzzInput:
        """Drop lines (then halve the longest line) while the input still fails with ``key``."""
        inp = self.classes[key].example
        if inp.extra:   # a twin is spelled from the whole input: cut one and the pair breaks
            return inp

        def still(data: bytes) -> bool:
            trial = FuzzInput(inp.kind, inp.seed, data, inp.mutations, inp.commands, inp.ext, inp.extra)
            name, results = self.execute(trial)
            ref = refvalidator.validate_bytes(data) if inp.kind == "history" else None
            return any(f.key == key for f in judge(trial, name, results, ref)[0])

        data = inp.data
        sep = b"\n"
        lines = data.split(sep)
        i = len(lines) - 1
        tries = 0
        while i >= 0 and tries < budget:
            if len(lines) > 1:
                cand = lines[:i] + lines[i + 1:]
                tries += 1
                if still(sep.join(cand)):
                    lines = cand
            i -= 1
        result = sep.join(lines)
        return FuzzInput(inp.kind, inp.seed, result, inp.mutations + ["minimised"], inp.commands,
                         inp.ext, inp.extra)

    # -- reporting --------------------------------------------------------------------
    def summary(self) -> dict:
        stats = self.worker_stats()
        if stats:
            self.last_stats = stats
        return {
            "worker": getattr(self, "last_stats", {}), "worker_restarts": self.restarts,
            "memory_limit_mb": MEM_MB, "deadline_s": DEADLINE_S,
            "inputs": dict(self.inputs), "inputs_total": sum(self.inputs.values()),
            "runs": dict(self.runs), "runs_total": sum(self.runs.values()),
            "exit_codes": {k: dict(v) for k, v in sorted(self.codes.items())},
            "reference_validator": dict(self.ref),
            "internal_errors": self.internal_errors, "tracebacks": self.tracebacks,
            "hangs": self.hangs,
            "first_line_agreement": dict(self.lines), "line_samples": self.line_samples,
            "field_agreement": dict(self.fields), "field_samples": self.field_samples,
            "edn_254_lines": dict(self.edn_lines), "edn_254_without_line": self.edn_samples,
            "slowest_run_s": [round(self.max_elapsed[0], 2), self.max_elapsed[1]],
            "wall_s": round(time.time() - self.started, 1),
            "failure_classes": {k: {"count": c.count, "detail": c.detail[:300],
                                    "example": c.example.describe() if c.example else "",
                                    "commands": c.example.commands if c.example else [],
                                    "codes": [str(x) for x in c.codes],
                                    "example_bytes": len(c.example.data) if c.example else 0}
                                for k, c in sorted(self.classes.items())},
        }

    def format_summary(self) -> str:
        s = self.summary()
        out = [f"fuzz: {s['inputs_total']} inputs {s['inputs']}, {s['runs_total']} runs, "
               f"{s['wall_s']} s; internal errors {s['internal_errors']}, tracebacks "
               f"{s['tracebacks']}, hangs {s['hangs']}; reference validator {s['reference_validator']}",
               f"  worker (memory limit {s['memory_limit_mb']} MB, deadline {s['deadline_s']:g} s, "
               f"restarts {s['worker_restarts']}): {s['worker']}; slowest run {s['slowest_run_s']}"]
        for cmd, codes in s["exit_codes"].items():
            out.append(f"  {cmd:24} " + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())))
        if s["first_line_agreement"]:
            out.append(f"  254 lines vs reference: {s['first_line_agreement']}")
            out.append(f"  254 fields vs reference (same line): {s['field_agreement']}")
        if s["edn_254_lines"]:
            out.append(f"  EDN/log 254s: {s['edn_254_lines']}")
        out.append(f"  failure classes: {len(s['failure_classes'])}")
        for k, c in s["failure_classes"].items():
            out.append(f"  - [{c['count']}x] {k}\n      e.g. {c['example'][:300]} ({c['example_bytes']} bytes)")
        return "\n".join(out)

    def save_examples(self, folder: str | Path, minimize: bool = False) -> None:
        """Write each failure class's smallest input (and a manifest) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {}
        for n, (k, c) in enumerate(sorted(self.classes.items())):
            inp = self.minimize(k) if minimize else c.example
            fname = f"{n:03d}-{re.sub(r'[^a-z0-9]+', '-', k.lower())[:60].strip('-')}{inp.ext}"
            (folder / fname).write_bytes(inp.data)
            for extra_name, extra_data in inp.extra.items():
                (folder / f"{fname}.{extra_name}").write_bytes(extra_data)
            manifest[fname] = {"class": k, "kind": inp.kind, "commands": inp.commands, "seed": inp.seed,
                               "mutations": inp.mutations, "detail": c.detail[:300]}
        for n, inp in enumerate(self.line_examples):
            (folder / f"line-differs-{n}{inp.ext}").write_bytes(inp.data)
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
