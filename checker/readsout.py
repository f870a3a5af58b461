"""Per-read results as data: ``gtcheck check --reads-out FILE``.

One row per judged read, from the records the checker keeps with ``keep_reads``
(:class:`~gtcheck.checker.props.base.ReadRecord`, built by ``checker.judge`` and given their
anomaly kinds by ``checker.shard``): this module only writes them, so the file says exactly
what the verdict was computed from. The columns and their types are :data:`COLUMNS`
(docs/reads.md). The format follows the file's name:

* ``.jsonl`` / ``.ndjson`` (``.gz`` after either compresses): JSON lines, always available;
* ``.parquet``: Apache Parquet through pyarrow (``pip install 'gtcheck[parquet]'``); without
  pyarrow the command exits 254 saying so, before any history is read.

Rows are written in history order (by ``index``) in batches, so a Parquet file has row
groups of :data:`BATCH_ROWS` rows.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

from gtcheck.checker.props.base import ReadRecord
from gtcheck.kernel.errors import UserError

BATCH_ROWS = 65_536
JSON_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
PARQUET_SUFFIXES = (".parquet",)
INSTALL_PARQUET = "pip install 'gtcheck[parquet]' (or pip install pyarrow)"

# (column, Arrow type name, meaning): the one schema both formats write, in this order
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("index", "int64", "the read's history index (its invocation event)"),
    ("key", "string", "the key read"),
    ("region", "string", "the region whose endpoint was called"),
    ("consistent", "bool", "a strongly consistent read"),
    ("time_ns", "int64", "the read's invocation time"),
    ("complete_ns", "int64?", "the read's completion time"),
    ("saw", "int64?", "index of the write whose version it returned; null: the initial state"),
    ("staleness_ns", "int64", "its staleness under the chosen order (0: current)"),
    ("superseded_by", "int64?", "index of the first write ranked above the version it "
                                "returned that completed certainly before it began; null when current"),
    ("writer_region", "string", "the region pair it is counted in: region of superseded_by; for "
                                "a current read the region of saw, or \"initial\""),
    ("final", "bool", "invoked at or after settled_after_ns (a final read, for convergence)"),
    ("anomalies", "list<string>", "kinds of the anomalies whose operations cite this read, "
                                  "sorted; empty when none"),
)
NAMES = tuple(c[0] for c in COLUMNS)


def format_of(path: str) -> str:
    """``"jsonl"`` or ``"parquet"`` from the file's name; anything else is bad input (254).
    Called before the check, so a wrong name or a missing pyarrow fails at once."""
    low = os.fspath(path).lower()
    if low.endswith(PARQUET_SUFFIXES):
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise UserError("--reads-out: writing Parquet needs pyarrow, which is not installed",
                            where=path, hint=f"{INSTALL_PARQUET}, or name a .jsonl file "
                            "to write JSON lines") from None
        return "parquet"
    if low.endswith(JSON_SUFFIXES):
        return "jsonl"
    raise UserError("--reads-out: the file's name says its format and this one says none",
                    where=path, hint="end it in .parquet (Parquet, needs pyarrow) or .jsonl / "
                    ".ndjson (JSON lines; .gz after either compresses)")


def row(r: ReadRecord) -> dict[str, Any]:
    """One read's row: the record's fields named by :data:`COLUMNS`, in that order."""
    return {name: cell(r, name) for name in NAMES}


def write_reads(path: str, records: Iterable[ReadRecord]) -> int:
    """Write the rows to ``path`` in the format its name says, through the kernel's one
    output writer (atomic for a regular file; OS errors are bad input naming the path);
    return the number of rows."""
    from gtcheck.kernel.outfiles import writing

    fmt = format_of(path)
    with writing(path, compress=None if fmt == "jsonl" else False) as fh:
        if fmt == "parquet":
            return _write_parquet(fh, path, records)
        return _write_jsonl(fh, records)


def _write_jsonl(fh: Any, records: Iterable[ReadRecord]) -> int:
    from gtcheck.kernel.exactjson import dumps

    n = 0
    lines: list[bytes] = []
    for r in records:
        lines.append(dumps(row(r)))
        n += 1
        if len(lines) >= 4096:
            fh.write(b"\n".join(lines) + b"\n")
            lines.clear()
    if lines:
        fh.write(b"\n".join(lines) + b"\n")
    return n


def arrow_schema() -> Any:
    """:data:`COLUMNS` as a pyarrow schema (``?`` marks a nullable column)."""
    import pyarrow as pa

    types = {"int64": pa.int64(), "string": pa.string(), "bool": pa.bool_(),
             "list<string>": pa.list_(pa.string())}
    return pa.schema([pa.field(name, types[t.rstrip("?")], nullable=t.endswith("?"))
                      for name, t, _ in COLUMNS])


def _write_parquet(fh: Any, path: str, records: Iterable[ReadRecord]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()
    n = 0
    with pq.ParquetWriter(fh, schema) as writer:
        batch: list[ReadRecord] = []

        def flush() -> None:
            cols = {name: [cell(r, name) for r in batch] for name in NAMES}
            try:
                writer.write_table(pa.table(cols, schema=schema))
            except (pa.ArrowInvalid, OverflowError) as exc:
                raise UserError(f"--reads-out: a value does not fit Parquet's column type: {exc}",
                                where=path, hint="write JSON lines (.jsonl), which keeps "
                                "integers of any size") from None
            batch.clear()

        for r in records:
            batch.append(r)
            n += 1
            if len(batch) >= BATCH_ROWS:
                flush()
        if batch or n == 0:
            flush()
    return n


def cell(r: ReadRecord, name: str) -> Any:
    """One cell: the record's field (the anomaly kinds as a list)."""
    v = getattr(r, name)
    return list(v) if name == "anomalies" else v
