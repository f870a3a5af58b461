"""Every command that writes a file, pointed at paths that are not plain new files: a
symlink (its target is written, the link stays), a FIFO (written through), a device
(written through, never replaced: the bug this guards against replaced /dev/null when
run as root), a device that is full, a regular file as parent, a name past the file
system's limit, a directory. Each is either written where the user meant or refused with
254 naming the path; never exit 255, never a special file replaced."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clihelp import run_cli
from tests.specialfiles import FULL, NULL, FifoReader, device, fingerprint, too_long_name

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "histories" / "anomalies" / "valid.jsonl"
SMALL = ROOT / "tests" / "data" / "search" / "heals.toml"
PREDICT = """[regions]
names = ["us-east-1", "eu-west-1"]
request_latency = "5ms"
[replication]
delay = "100ms"
"""

# command -> argv for an output path (the scenario of predict is written by the test)
WRITERS = {
    "convert": lambda out, tmp: ["convert", VALID, out],
    "convert-edn": lambda out, tmp: ["convert", VALID, out, "--to", "edn"],
    "check -o": lambda out, tmp: ["check", VALID, "--no-progress", "-j", "1", "-o", out],
    "check --html": lambda out, tmp: ["check", VALID, "--no-progress", "-j", "1", "--html", out],
    "report": lambda out, tmp: ["report", VALID, "-j", "1", "-o", out],
    "simulate": lambda out, tmp: ["simulate", "--scenario", SMALL, "--no-truth", "--no-progress", "-o", out],
    "predict -o": lambda out, tmp: ["predict", "--scenario", _predict_scenario(tmp), "--trials", "1000",
                                    "--no-progress", "-o", out],
}


def _predict_scenario(tmp: Path) -> Path:
    p = tmp / "predict.toml"
    p.write_text(PREDICT)
    return p


def run(argv, capsys):
    return run_cli(argv, capsys)


@pytest.mark.parametrize("command", list(WRITERS))
def test_a_symlink_is_followed_and_kept(tmp_path, capsys, command):
    real = tmp_path / "data" / "real.out"
    real.parent.mkdir()
    link = tmp_path / "link.out"
    link.symlink_to(real)
    code, _, err = run(WRITERS[command](link, tmp_path), capsys)
    assert code == 0, err
    assert link.is_symlink() and real.stat().st_size > 0


@pytest.mark.parametrize("command", list(WRITERS))
def test_a_fifo_is_written_through(tmp_path, capsys, command):
    fifo = FifoReader(tmp_path / "out.fifo")
    before = fingerprint(fifo.path)
    code, _, err = run(WRITERS[command](fifo.path, tmp_path), capsys)
    data = fifo.finish()
    assert code == 0, err
    assert data, "nothing came through the FIFO"
    assert fingerprint(fifo.path) == before


@pytest.mark.parametrize("minor", [NULL, FULL], ids=["null", "full"])
@pytest.mark.parametrize("command", list(WRITERS))
def test_a_device_is_written_through_never_replaced(tmp_path, capsys, command, minor):
    """A null device swallows the output (exit 0); a full one answers ENOSPC (254 naming
    the path): the disk-full case. Either way the node is the same afterwards."""
    dev = device(tmp_path, minor)
    before = fingerprint(dev)
    code, _, err = run(WRITERS[command](dev, tmp_path), capsys)
    if minor == NULL:
        assert code == 0, err
    else:
        assert code == 254 and str(dev) in err and "No space left on device" in err, err
    assert fingerprint(dev) == before and stat.S_ISCHR(os.lstat(dev).st_mode)
    assert not [p for p in os.listdir(dev.parent) if ".gtcheck-" in p]


@pytest.mark.parametrize("kind", ["parent-is-file", "name-too-long", "directory"])
@pytest.mark.parametrize("command", list(WRITERS))
def test_unwritable_paths_are_bad_input(tmp_path, capsys, command, kind):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    out = {"parent-is-file": tmp_path / "file" / "out.jsonl", "name-too-long": too_long_name(tmp_path),
           "directory": tmp_path / "dir"}[kind]
    code, _, err = run(WRITERS[command](out, tmp_path), capsys)
    assert code == 254, err
    assert "internal error" not in err and "Traceback" not in err
    assert str(out) in err
    assert (tmp_path / "file").read_text() == "x"
    assert not [p for p in os.listdir(tmp_path) if ".gtcheck-" in p]


def test_check_html_into_a_file_s_subdirectory_is_refused_before_checking(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, out, err = run(["check", VALID, "--no-progress", "-j", "1", "--html", tmp_path / "file" / "r.html"],
                         capsys)
    assert code == 254 and "is not a directory" in err and out == ""


def test_simulate_truth_beside_a_device_is_written_through(tmp_path, capsys):
    """The ground truth goes beside the history; a FIFO there is written through too."""
    fifo = FifoReader(tmp_path / "h.truth.jsonl")
    code, _, err = run(["simulate", "--scenario", SMALL, "--no-progress", "-o", tmp_path / "h.jsonl"], capsys)
    assert code == 0, err
    assert fifo.finish().startswith(b'{"kind":"header"')
    assert stat.S_ISFIFO(os.lstat(fifo.path).st_mode)


def test_simulate_past_the_file_size_limit_is_bad_input(tmp_path):
    """RLIMIT_FSIZE in the child: EFBIG while streaming the history, 254 naming the path,
    no temporary file left and no earlier history destroyed."""
    out = tmp_path / "h.jsonl"
    out.write_text("earlier\n")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000)); "
            "from gtcheck.cli import main; main(sys.argv[1:])")
    proc = subprocess.run([sys.executable, "-c", code, "simulate", "--scenario", str(SMALL), "--no-progress",
                           "--no-truth", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 254, proc.stderr
    assert str(out) in proc.stderr and "File too large" in proc.stderr
    assert out.read_text() == "earlier\n"
    assert sorted(os.listdir(tmp_path)) == ["h.jsonl"]


@pytest.mark.parametrize("special", ["fifo", "device", "file"])
def test_search_and_explore_refuse_an_output_directory_that_is_not_one(tmp_path, capsys, special):
    if special == "fifo":
        target = tmp_path / "fifo"
        os.mkfifo(target)
    elif special == "device":
        target = device(tmp_path, NULL)
    else:
        target = tmp_path / "file"
        target.write_text("x")
    before = fingerprint(target)
    commands = [
        ["search", "--scenario", SMALL, "--property", "converges", "--budget", "1", "-o", target],
        ["explore", "--scenario", ROOT / "histories" / "scenarios" / "behaviours" / "lost-update.toml",
         "-o", target],
        ["demo", "--out", target],
    ]
    for argv in commands:
        code, _, err = run(argv, capsys)
        assert code == 254, (argv, err)
        assert ("is not a directory" in err or "is a file" in err) and str(target) in err
    assert fingerprint(target) == before


def test_report_to_standard_output(capsys):
    """``report -o -`` writes the page to standard output (it asked the file's size, and
    there is none: exit 255, found by the fuzzer)."""
    code, out, err = run(["report", VALID, "-j", "1", "-o", "-"], capsys)
    assert code == 0, err
    assert out.startswith("<!DOCTYPE html>") and "standard output" in err
