"""The one output writer (kernel/outfiles.py): regular files atomically, everything else
written through and never replaced, every OS error bad input naming the path."""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from gtcheck.kernel import outfiles
from gtcheck.kernel.errors import UserError
from gtcheck.kernel.outfiles import Output, check_directory, check_target, write_bytes, write_text, writing
from tests.specialfiles import FULL, NULL, FifoReader, UnixSocket, device, fingerprint, too_long_name


def leftovers(directory) -> list[str]:
    return sorted(p for p in os.listdir(directory) if ".gtcheck-" in p)


def test_a_new_regular_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "hello")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").read_text() == "hello"
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_replacing_a_file_keeps_its_permissions_and_is_a_rename(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    os.chmod(target, 0o604)
    before = os.stat(target).st_ino
    write_text(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o604
    assert os.stat(target).st_ino != before          # a new file renamed into place


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.jsonl"
    target.write_text("old\n")
    with pytest.raises(KeyError):
        with writing(target) as fh:
            fh.write(b"half of the new\n")
            raise KeyError("the producer failed")
    assert target.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_an_output_never_committed_is_not_created(tmp_path):
    out = Output(tmp_path / "x.jsonl")
    out.write(b"abc")
    out.abort()
    assert os.listdir(tmp_path) == []


def test_gzip_output_is_the_same_bytes_every_time(tmp_path):
    for name in ("a.jsonl.gz", "b/a.jsonl.gz"):
        with writing(tmp_path / name) as fh:
            fh.write(b'{"x":1}\n')
    assert gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes()) == b'{"x":1}\n'
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b" / "a.jsonl.gz").read_bytes()


def test_text_mode_writes_utf8_with_plain_newlines(tmp_path):
    with writing(tmp_path / "t.txt", text=True) as fh:
        fh.write("é\n")
    assert (tmp_path / "t.txt").read_bytes() == "é\n".encode()


def test_missing_parent_directories_are_created(tmp_path):
    write_text(tmp_path / "a" / "b" / "c.txt", "x")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "x"


def test_a_symlink_is_followed_and_stays_a_symlink(tmp_path):
    real = tmp_path / "data" / "real.jsonl"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    chain = tmp_path / "chain.jsonl"
    chain.symlink_to(link)
    write_text(chain, "new")
    assert chain.is_symlink() and link.is_symlink()
    assert real.read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "target.txt")
    write_text(link, "x")
    assert link.is_symlink() and (tmp_path / "target.txt").read_text() == "x"


def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = FifoReader(tmp_path / "fifo")
    before = fingerprint(fifo.path)
    with writing(fifo.path) as fh:
        fh.write(b"through the pipe\n")
    assert fifo.finish() == b"through the pipe\n"
    assert fingerprint(fifo.path) == before and stat.S_ISFIFO(os.lstat(fifo.path).st_mode)


def test_a_null_device_is_written_through_not_replaced(tmp_path):
    dev = device(tmp_path, NULL)
    before = fingerprint(dev)
    write_bytes(dev, b"x" * 100_000)
    with writing(dev) as fh:     # .gz-less name: written raw
        fh.write(b"y")
    assert fingerprint(dev) == before and stat.S_ISCHR(os.lstat(dev).st_mode)
    assert leftovers(dev.parent) == []


def test_a_symlink_to_a_device_writes_the_device(tmp_path):
    dev = device(tmp_path, NULL)
    before = fingerprint(dev)
    link = tmp_path / "out.jsonl"
    link.symlink_to(dev)
    write_text(link, "x")
    assert link.is_symlink() and fingerprint(dev) == before


def test_a_full_device_is_bad_input_naming_the_path(tmp_path):
    dev = device(tmp_path, FULL)
    before = fingerprint(dev)
    with pytest.raises(UserError) as info:
        write_bytes(dev, b"x" * 10)
    assert str(dev) in info.value.render() and "No space left on device" in info.value.render()
    assert fingerprint(dev) == before


def test_a_socket_is_bad_input(tmp_path):
    sock = UnixSocket()
    try:
        with pytest.raises(UserError) as info:
            write_text(sock.path, "x")
        assert str(sock.path) in info.value.render()
        assert stat.S_ISSOCK(os.lstat(sock.path).st_mode)
    finally:
        sock.close()


@pytest.mark.parametrize("make", ["parent-is-file", "under-parent-file", "is-dir", "trailing-slash",
                                  "name-too-long"])
def test_paths_that_cannot_be_written_are_bad_input(tmp_path, make):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    path = {"parent-is-file": tmp_path / "file" / "out.txt",
            "under-parent-file": tmp_path / "file" / "deeper" / "out.txt",
            "is-dir": tmp_path / "dir",
            "trailing-slash": str(tmp_path / "new") + "/",
            "name-too-long": too_long_name(tmp_path)}[make]
    with pytest.raises(UserError) as info:
        write_text(path, "x")
    assert os.fspath(path) in info.value.render() or str(tmp_path / "file") in info.value.render()
    assert (tmp_path / "file").read_text() == "x"
    assert sorted(os.listdir(tmp_path)) == ["dir", "file"]


def test_check_target_refuses_early_what_writing_would_refuse(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    for bad in (tmp_path / "file" / "x", tmp_path / "dir", tmp_path / "file" / "a" / "b"):
        with pytest.raises(UserError):
            check_target(bad)
    check_target(tmp_path / "new" / "x.txt")
    check_target("-")
    with pytest.raises(UserError, match="not a directory"):
        check_directory(tmp_path / "file")
    check_directory(tmp_path / "dir")
    check_directory(tmp_path / "new" / "sub")


def test_a_file_size_limit_is_bad_input_and_leaves_nothing(tmp_path):
    """RLIMIT_FSIZE in a child process: the write fails with EFBIG (Python ignores
    SIGXFSZ), which must be a UserError naming the path, the old file untouched."""
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        from gtcheck.kernel.errors import UserError
        from gtcheck.kernel.outfiles import write_bytes
        try:
            write_bytes({str(target)!r}, b"x" * 100_000)
        except UserError as e:
            print(e.render())
            sys.exit(7)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 7, proc.stderr
    assert str(target) in proc.stdout and "File too large" in proc.stdout and "ulimit" in proc.stdout
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_standard_output(capfdbinary):
    write_bytes("-", b"to stdout\n")
    assert capfdbinary.readouterr().out == b"to stdout\n"


def test_os_error_hints_name_the_error():
    err = outfiles.os_error(OSError(28, "No space left on device"), "x.jsonl")
    assert err.render().startswith("x.jsonl: cannot write the output: No space left on device")
    assert "free space" in err.render()
