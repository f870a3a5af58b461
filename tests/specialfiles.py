"""Special files for output-path tests: FIFOs with a reader, device nodes, sockets, and a
fingerprint that tells whether a path was replaced.

A device node is made with mknod inside the test's own directory when the tests run as
root (a null device, 1:3, or a full one, 1:7, which answers every write with ENOSPC);
otherwise the machine's /dev/null or /dev/full is used, and the tests assert that it is
still the same node afterwards (the bug these tests guard against replaced /dev/null).
"""

from __future__ import annotations

import os
import socket
import stat
import tempfile
import threading
from pathlib import Path

NULL, FULL = 3, 7     # minor numbers of the memory devices (major 1) on Linux


def device(directory: Path, minor: int = NULL) -> Path:
    """A character device that swallows writes (NULL) or refuses them (FULL)."""
    if os.geteuid() == 0:
        path = directory / ("null-dev" if minor == NULL else "full-dev")
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        return path
    return Path("/dev/null" if minor == NULL else "/dev/full")


def fingerprint(path: Path) -> tuple[int, int, int, int]:
    """What identifies the node at ``path`` (without following a symlink): replacing it
    changes the inode or the type."""
    st = os.lstat(path)
    return st.st_dev, st.st_ino, stat.S_IFMT(st.st_mode), st.st_rdev


class FifoReader:
    """A FIFO at ``path`` and a thread reading it whole; ``finish()`` returns what was read."""

    def __init__(self, path: Path):
        self.path = path
        os.mkfifo(path)
        self.data: bytes | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as fh:     # blocks until a writer opens it
            self.data = fh.read()

    def finish(self, timeout: float = 60.0) -> bytes:
        """What came through (b"" when nobody wrote). An empty write end is opened and
        closed first: it releases a reader still waiting for a writer and is harmless
        to one that is reading or done."""
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:      # ENXIO: the reader already closed its end
            pass
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the FIFO's reader hung"
        return self.data if self.data is not None else b""


class UnixSocket:
    """A listening Unix socket (a path nothing can open for writing); close() removes it."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="gts")      # short: socket paths are limited
        self.path = Path(self.dir) / "s"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))

    def close(self) -> None:
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def too_long_name(directory: Path) -> Path:
    """A file name past the file system's limit (NAME_MAX, 255 bytes on Linux)."""
    limit = os.pathconf(directory, "PC_NAME_MAX")
    return directory / ("n" * (limit + 1) + ".jsonl")
