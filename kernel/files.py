"""Opening history files and telling their format (gt JSON Lines, gzip or not; Jepsen EDN;
Jepsen text logs), for every reader: the checker's history reader and the Jepsen importers
(``kernel.jepsen``) both need these."""

from __future__ import annotations

import gzip

from gtcheck.kernel.errors import UserError

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(head: bytes) -> bool:
    """Whether bytes that begin a file are gzip's (its magic number)."""
    return head[:2] == _GZIP_MAGIC


def open_binary(path: str):
    """Open a history file for reading bytes, decompressing gzip (found by its magic)."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise UserError("no such file", where=str(path),
                        hint="check the path; histories are usually under histories/") from None
    except IsADirectoryError:
        raise UserError("is a directory, not a history file", where=str(path)) from None
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    if hasattr(fh, "peek") and is_gzip(fh.peek(2)):
        return gzip.GzipFile(fileobj=fh, mode="rb")
    return fh


def detect_format(path: str) -> str:
    """Guess a file's format: ``gt``, ``edn`` or ``jepsen-log``."""
    lower = str(path).lower()
    if lower.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz")):
        return "gt"
    if lower.endswith((".edn", ".edn.gz")):
        return "edn"
    with open_binary(path) as fh:
        head = fh.read(65536)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] == b"{":
        # a JSON object names its fields in quotes; an EDN op map (one a line, as in
        # Porcupine's kv logs) by keywords
        return "edn" if text[1:].lstrip()[:1] == b":" else "gt"
    if text[:1] in (b"[", b"(", b";", b"#"):
        return "edn"
    if b"jepsen.util" in head:
        return "jepsen-log"
    return "gt"
