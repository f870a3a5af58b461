"""Streams a history (and its ground-truth sidecar) to disk as it is produced.

Events are written in the order they happen, each numbered with ``index``; nothing is
held back, so a run of millions of operations needs memory only for what is in flight.
orjson keeps insertion order, so the same events give the same bytes.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Any

import orjson
from mypy_extensions import mypyc_attr

from gtcheck.kernel.errors import UserError


def open_output(path: str | Path | IO[bytes]) -> tuple[Any, bool]:
    """A binary stream for ``path`` (``.gz`` compresses); bool: whether we must close it."""
    if not isinstance(path, (str, Path)):
        return path, False
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.suffix == ".gz":
            # mtime=0 keeps compressed output byte-identical across runs
            return gzip.GzipFile(p, "wb", mtime=0), True
        return open(p, "wb", buffering=1 << 20), True
    except OSError as exc:
        raise UserError(f"cannot write the output: {exc.strerror}", where=str(p))


@mypyc_attr(allow_interpreted_subclasses=True)
class Sink:
    """Where the simulator sends JSON objects (history events, ground truth), in order."""

    def write(self, obj: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


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
    """Streams objects to ``path`` (or a binary stream) as JSON Lines."""

    def __init__(self, path: str | Path | IO[bytes]):
        self._out, self._close = open_output(path)
        self._buf: list[bytes] = []

    def write(self, obj: dict[str, Any]) -> None:
        self._buf.append(orjson.dumps(obj))
        if len(self._buf) >= 4096:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            self._buf.append(b"")
            self._out.write(b"\n".join(self._buf))
            self._buf = []

    def close(self) -> None:
        self._flush()
        if self._close:
            self._out.close()
        else:
            self._out.flush()


class HistoryWriter(JsonLinesWriter):
    """A JSON Lines writer that starts with the history's header (line 1)."""

    def __init__(self, path: str | Path | IO[bytes], header: dict[str, Any]):
        super().__init__(path)
        self.write(header)
