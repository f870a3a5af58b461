"""Streams a history (and its ground-truth sidecar) to disk as it is produced.

The writer is the kernel's (``gtcheck.kernel.jsonlines``), the one every history and
ground-truth file of gtcheck goes through: events are written in the order they happen,
each numbered with ``index``; nothing is held back, so a run of millions of operations
needs memory only for what is in flight. orjson keeps insertion order, so the same events
give the same bytes (compressed too: gzip with mtime=0).
"""

from __future__ import annotations

from gtcheck.kernel.jsonlines import HistoryWriter, JsonLinesWriter, ListSink, Sink, open_output

__all__ = ["HistoryWriter", "JsonLinesWriter", "ListSink", "Sink", "open_output"]
