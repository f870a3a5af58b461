"""The one way gtcheck writes a file the user named (every command's output goes here).

Why one writer: an output path may name something that is not a regular file. The user
who types ``gtcheck convert run.jsonl /dev/null`` or ``-o fifo`` wants the bytes sent
there, and a symlink ``out.jsonl -> /data/out.jsonl`` means "write /data/out.jsonl".
Writing a temporary file and renaming it onto such a path would replace the device, the
FIFO or the link with a regular file (as root, ``/dev/null`` itself). So:

- ``-`` is standard output;
- a symlink is followed to its final target (the link itself is never replaced);
- a regular file, or a path that does not exist yet, is written atomically: a temporary
  file in the same directory, flushed and fsynced, then renamed onto the target; readers
  see the old file or the whole new one, never half of it, and a run that fails leaves
  the old file as it was (a new file keeps the permissions of the one it replaces);
- anything else (FIFO, character or block device, ...) is opened and written through;
- missing parent directories are created; a parent that is not a directory, a target
  that is a directory, and every OS error while opening, writing or renaming (no space
  left, file size limit, name too long, permission denied, ...) are bad input
  (:class:`UserError`, exit 254) naming the path and the error.
"""

from __future__ import annotations

import codecs
import errno
import gzip
import io
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Union

from gtcheck.kernel.errors import UserError

PathLike = Union[str, "os.PathLike[str]"]

# how to fix the commonest errors, by errno
_HINTS = {
    errno.ENOSPC: "free space on that file system, or write elsewhere",
    errno.EDQUOT: "the disk quota is used up: free space, or write elsewhere",
    errno.EFBIG: "the output passes the file size limit (ulimit -f) or the file system's",
    errno.ENAMETOOLONG: "use a shorter file name",
    errno.EACCES: "choose a path you may write to",
    errno.EPERM: "choose a path you may write to",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EISDIR: "give a file name, not a directory",
    errno.ENOTDIR: "a component of the path is a file, not a directory",
    errno.ENXIO: "nothing can be written there (a socket, or a device with no driver)",
    errno.ELOOP: "the path has a symlink loop",
}


def os_error(exc: OSError, where: str, doing: str = "cannot write the output") -> UserError:
    """The bad-input error for an OS error on ``where``: the error's own words and a hint."""
    reason = exc.strerror or str(exc)
    return UserError(f"{doing}: {reason}", where=where, hint=_HINTS.get(exc.errno or 0))


def resolve(path: PathLike) -> str:
    """The path that is really written: symlinks followed (a dangling link's target will
    be created), ``-`` kept."""
    p = os.fspath(path)
    if p == "-":
        return p
    return os.path.realpath(p)


def check_target(path: PathLike, what: str = "output") -> None:
    """Refuse, before any long work, an output path that can never be written: a
    directory, or one whose parent is a file. (OS errors that only writing reveals are
    refused when they happen.)"""
    p = os.fspath(path)
    if p == "-":
        return
    if p == "" or p.endswith(os.sep):
        raise UserError(f"the {what} path names a directory", where=p or "''",
                        hint="give a file name")
    real = resolve(p)
    try:
        st = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        _check_parent(p, real)
        return
    except OSError as exc:
        raise os_error(exc, p) from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(f"the {what} path is a directory", where=p, hint="give a file name")


def check_directory(path: PathLike, what: str = "output directory") -> None:
    """Refuse an output directory path that is an existing non-directory (or under one)."""
    p = os.fspath(path)
    real = resolve(p)
    try:
        st = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        _check_parent(p, real, f"cannot create the {what}")
        return
    except OSError as exc:
        raise os_error(exc, p, f"cannot use the {what}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise UserError(f"the {what} exists and is not a directory", where=p,
                        hint="give the name of a directory (it is created when missing)")


def _check_parent(shown: str, real: str, doing: str = "cannot write the output") -> None:
    """The nearest existing ancestor of ``real`` must be a directory."""
    parent = os.path.dirname(real)
    while parent and not os.path.lexists(parent):
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    if parent and os.path.exists(parent) and not os.path.isdir(parent):
        raise UserError(f"{doing}: {parent} is not a directory", where=shown,
                        hint=_HINTS[errno.ENOTDIR])


def make_directory(path: PathLike, what: str = "output directory") -> Path:
    """Create the output directory ``path`` (and its parents) or refuse with 254."""
    p = os.fspath(path)
    check_directory(p, what)
    try:
        os.makedirs(resolve(p), exist_ok=True)
    except OSError as exc:
        raise os_error(exc, p, f"cannot create the {what}") from None
    return Path(p)


class Output(io.RawIOBase):
    """A binary file being written to the user's path; :meth:`commit` makes it the
    output, :meth:`abort` leaves the target as it was (when it is a regular file).

    Every OS error from opening to renaming is raised as :class:`UserError` naming the
    path the user gave. Use :func:`writing` unless the writes span other code's calls
    (the simulator streams into one for the whole run).
    """

    def __init__(self, path: PathLike, *, buffering: int = 1 << 20):
        super().__init__()
        self.shown = os.fspath(path)       # the path as the user gave it, for messages
        self.target = resolve(self.shown)  # the file really written
        self.tmp: str | None = None
        self._done = False
        self._stdout = self.shown == "-"
        check_target(self.shown)
        if self.shown == "-":
            self._fh: IO[bytes] = _stdout_bytes()
            return
        try:
            st: os.stat_result | None = os.stat(self.target)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise os_error(exc, self.shown) from None
        try:
            if st is not None and not stat.S_ISREG(st.st_mode):
                # a FIFO, a device, ...: written through, never replaced
                self._fh = open(self.target, "wb", buffering=0)
                return
            parent = os.path.dirname(self.target)
            os.makedirs(parent, exist_ok=True)
            name = os.path.basename(self.target)
            # a short name of its own: the target's name may already be at the limit
            self.tmp = os.path.join(parent, f".{name[:40]}.gtcheck-{os.urandom(4).hex()}.tmp")
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                         0o666)   # the umask applies, as for any new file
            if st is not None:    # replacing a file: keep its permissions (and owner if we may)
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                if hasattr(os, "fchown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                    try:
                        os.fchown(fd, st.st_uid, st.st_gid)
                    except OSError:
                        pass
            self._fh = open(fd, "wb", buffering=buffering)
        except OSError as exc:
            self._discard()
            raise os_error(exc, self.shown) from None

    # io.RawIOBase protocol: a GzipFile or a TextIOWrapper can sit on top
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        if self._done:   # abandoned: what still comes (a GzipFile's trailer on cleanup) is dropped
            return len(data)
        try:
            n = self._fh.write(data)
        except OSError as exc:
            self._failed(exc)
        return len(data) if n is None else n

    def flush(self) -> None:
        if self._done or self.closed:
            return
        try:
            self._fh.flush()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError):
        """Abandon the output and raise the bad-input error (a closed standard output is
        the reader's choice, not an error: it propagates as BrokenPipeError)."""
        self.abort()
        if isinstance(exc, BrokenPipeError) and self.shown == "-":
            raise exc
        raise os_error(exc, self.shown) from None

    def commit(self) -> str:
        """Finish: flush, fsync and rename a regular file into place. Returns the path
        as given. Calling it twice is harmless."""
        if self._done:
            return self.shown
        try:
            self._fh.flush()
            if self.tmp is None:
                if not self._stdout:
                    self._fh.close()
            else:
                os.fsync(self._fh.fileno())
                self._fh.close()
                os.replace(self.tmp, self.target)
                self.tmp = None
                _fsync_dir(os.path.dirname(self.target))
        except OSError as exc:
            self._failed(exc)
        self._done = True
        super().close()
        return self.shown

    def abort(self) -> None:
        """Give up: the temporary file is removed, the target left as it was."""
        if self._done:
            return
        self._done = True
        if not self._stdout:
            try:
                self._fh.close()
            except OSError:
                pass
        self._discard()
        super().close()

    def close(self) -> None:
        """Closing without :meth:`commit` aborts (a GzipFile closes what it wraps only
        when it opened it, so this is reached only by explicit calls)."""
        if not self._done:
            self.abort()

    def _discard(self) -> None:
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


class _TextStdout(io.RawIOBase):
    """Standard output when it is a text stream without bytes underneath (a test's or an
    embedding program's StringIO): bytes decoded as UTF-8 as they come."""

    def __init__(self, text: IO[str]):
        super().__init__()
        self._text = text
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._text.write(self._decoder.decode(bytes(data)))
        return len(data)

    def flush(self) -> None:
        self._text.flush()


def _stdout_bytes() -> IO[bytes]:
    buffer = getattr(sys.stdout, "buffer", None)
    return buffer if buffer is not None else _TextStdout(sys.stdout)  # type: ignore[return-value]


def _fsync_dir(directory: str) -> None:
    """Make the rename durable (best effort: some file systems refuse a directory fsync)."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def gzip_stream(raw: Any, compresslevel: int = 9) -> gzip.GzipFile:
    """A gzip layer over ``raw`` whose bytes depend on the data only: no modification time
    (mtime=0) and no file name in the gzip header. Closing it does not close ``raw``."""
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=compresslevel)


def gzipped(path: PathLike, compress: bool | None) -> bool:
    """Whether output to ``path`` is compressed (``None``: when the name ends in ``.gz``)."""
    return os.fspath(path).endswith(".gz") if compress is None else compress


@contextmanager
def writing(path: PathLike, *, text: bool = False, compress: bool | None = None,
            compresslevel: int = 9) -> Iterator[IO]:
    """``with writing(path) as fh:`` a binary (or UTF-8 text) stream for ``path``,
    gzip-compressed when it ends in ``.gz`` (header time 0: the same bytes every run).
    The output is committed when the block ends normally and abandoned when it raises."""
    out = Output(path)
    gz = wrapper = None
    try:
        stream: IO = out  # type: ignore[assignment]
        if gzipped(path, compress):
            gz = gzip_stream(out, compresslevel)
            stream = gz  # type: ignore[assignment]
        if text:
            wrapper = io.TextIOWrapper(stream, encoding="utf-8", newline="\n", write_through=False)  # type: ignore[arg-type]
            stream = wrapper
        yield stream
        if wrapper is not None:
            wrapper.flush()
            wrapper.detach()
        if gz is not None:
            gz.close()
        out.commit()
    except BaseException:
        out.abort()
        for layer in (wrapper, gz):   # let them finish into the abandoned output, quietly
            if layer is not None:
                try:
                    layer.close()
                except Exception:  # noqa: BLE001 - the first error is the one reported
                    pass
        raise


def write_bytes(path: PathLike, data: bytes) -> str:
    """Write ``data`` to ``path`` as :func:`writing` does; returns the path."""
    with writing(path, compress=False) as fh:
        fh.write(data)
    return os.fspath(path)


def write_text(path: PathLike, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` as :func:`writing` does; returns the path."""
    return write_bytes(path, text.encode("utf-8"))
