"""Writing JSON Lines: one writer for every history and ground-truth file gtcheck writes,
and the one builder of a history's header line.

The model streams its events through :class:`JsonLinesWriter` (a :class:`Sink`, the
interface the simulator writes to), and ``checker.history.write_history`` (conversions,
tests, tools) writes through the same class, so both write the same bytes for the same
objects: orjson's rendering, or the exact writer's (``kernel.exactjson``) for what orjson
refuses (integers beyond 64 bits, exact decimals, deep nesting), never a rounded number.
A ``.gz`` path is gzip-compressed with no time and no name in the gzip header: the same
events give the same bytes, compressed or not. Files are opened through the one output
writer (``kernel.outfiles``).

This module is compiled with the model (mypyc); the readable source is the specification.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, Final

import orjson
from mypy_extensions import mypyc_attr

from gtcheck.kernel.exactjson import dumps as exact_dumps
from gtcheck.kernel.outfiles import Output, gzip_stream, gzipped
from gtcheck.kernel.vocabulary import FORMAT_NAME, FORMAT_VERSION

FLUSH_BYTES: Final = 1 << 20     # bytes gathered per write to the output
_DUMPS: Final = orjson.dumps     # module attributes read once (the compiled build keeps them in C statics)
_NEWLINE: Final = orjson.OPT_APPEND_NEWLINE


def open_output(path: str | Path | IO[bytes]) -> tuple[Any, Any, Any]:
    """A binary stream for ``path`` (``.gz`` compresses; ``-`` is standard output) through
    the kernel's one output writer (``kernel.outfiles``: atomic for a regular file, written
    through for a FIFO or a device, OS errors bad input naming the path); also the gzip
    layer to close (or None) and the Output to commit (None: a stream given, used as is)."""
    if not isinstance(path, (str, Path)):
        return path, None, None
    out = Output(path)
    if gzipped(path, None):
        gz = gzip_stream(out)
        return gz, gz, out
    return out, None, out


@mypyc_attr(allow_interpreted_subclasses=True)
class Sink:
    """Where the simulator sends JSON objects (history events, ground truth), in order."""

    def write(self, obj: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """The run failed: leave no output behind (a file it would replace stays as it was)."""


class ListSink(Sink):
    """Keeps the objects in memory (tests, explorers)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.closed = False

    def write(self, obj: dict[str, Any]) -> None:
        self.items.append(obj)

    def close(self) -> None:
        self.closed = True


class JsonLinesWriter(Sink):
    """Streams objects to ``path`` (or a binary stream) as JSON Lines, in order; nothing is
    held back but the current batch, so a run of millions of events needs little memory."""

    def __init__(self, path: str | Path | IO[bytes]):
        self._out, self._gz, self._file = open_output(path)
        self._buf = bytearray()
        self.count = 0

    def write(self, obj: dict[str, Any]) -> None:
        # Each line is appended to one buffer as soon as it is rendered (orjson adds the
        # newline), so the output is written in large blocks without a list of lines to
        # join; the exact writer takes what orjson refuses.
        try:
            line = _DUMPS(obj, None, _NEWLINE)
        except TypeError:
            line = exact_dumps(obj) + b"\n"
        buf = self._buf
        buf += line
        self.count += 1
        if len(buf) >= FLUSH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            self._out.write(self._buf)
            self._buf = bytearray()       # a new buffer: the stream may still hold the last one

    def close(self) -> None:
        """Finish: the output appears whole (a regular file is renamed into place)."""
        self._flush()
        if self._gz is not None:
            self._gz.close()
        if self._file is not None:
            self._file.commit()
        else:
            self._out.flush()

    def abort(self) -> None:
        if self._file is not None:
            self._file.abort()


class HistoryWriter(JsonLinesWriter):
    """A JSON Lines writer that starts with the history's header (line 1)."""

    def __init__(self, path: str | Path | IO[bytes], header: dict[str, Any]):
        super().__init__(path)
        self.write(header)


_TYPED = ("regions", "mode", "clock_uncertainty_ns", "ts_uncertainty_ns", "settled_after_ns")


def history_header(regions: list[str], *, mode: str = "eventual",
                   clock_uncertainty_ns: int | None = 0,
                   ts_uncertainty_ns: int | None = None, settled_after_ns: int | None = None,
                   meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A history's header line (HISTORY-FORMAT): ``format`` and ``version``, then the typed
    fields in the format's order (left out when None: ``clock_uncertainty_ns`` then means
    the default 0, ``ts_uncertainty_ns`` unknown, ``settled_after_ns`` no settled phase), then the other fields of ``meta`` as given
    (``source``, ``initial``, ``register``, ``description``, ...). A typed field of
    ``meta`` is overridden by the argument."""
    out: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
                           "regions": list(regions), "mode": mode}
    if clock_uncertainty_ns is not None:
        out["clock_uncertainty_ns"] = clock_uncertainty_ns
    if ts_uncertainty_ns is not None:
        out["ts_uncertainty_ns"] = ts_uncertainty_ns
    if settled_after_ns is not None:
        out["settled_after_ns"] = settled_after_ns
    if meta:
        for name, value in meta.items():
            if name not in out and name not in _TYPED and name != "format" and name != "version":
                out[name] = value
    return out
